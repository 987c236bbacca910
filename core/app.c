/* app.c - orchestration. One straight line, driven by the one loop:
 *
 *   watcher --changed--> filter --> debounce --> builder --ok--> runner:
 *   stop the old tree, wait until it is gone (stop_done) --> start the new
 *
 * Invariants: two builds never overlap (a change during a build cancels it
 * and the newest content is built next); the old program keeps serving
 * while a build runs; a new run starts only after stop_done() of the old. */
#include "config.h"

#include "app.h"
#include "changedfile.h"
#include "changes.h"
#include "app-internal.h"
#include "cycle.h"
#include "dispatch.h"
#include "control.h"
#include "filter.h"
#include "ledger.h"
#include "loop.h"
#include "memtrim.h"
#include "plugins.h"
#include "ptree.h"
#include "reload.h"
#include "retry.h"
#include "rules.h"
#include "signames.h"
#include "term.h"
#include "termkeys.h"

#include <errno.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* A run that lived this long resets the restart backoff. */
#define RESTART_RESET_MS 10000u

static void start_run(struct app *app);
static void maybe_quit(struct app *app);
static int swap_runner(struct app *app);

/* The app whose trees the host's tree_free() reports (tree_free takes no
 * context): gust runs one app. */
static struct app *live_app;

static const struct gust_watcher_ops *wops(const struct app *app)
{
	return app->watcher.plugin.desc->ops;
}
static const struct gust_builder_ops *bops(const struct app *app)
{
	return app->builder.plugin.desc->ops;
}
static const struct gust_runner_ops *rops(const struct app *app)
{
	return app->runner.plugin.desc->ops;
}

static void on_signal(int sig, void *arg);
static void on_build_retry(void *arg);
static void on_run_retry(void *arg);
static void on_rules_idle(void *arg);

struct rules *app_rules_new(struct app *app, const struct config *cfg, char *err, size_t errlen)
{
	return rules_new(cfg, app->loop, app->ptrees, on_rules_idle, app, err, errlen);
}

int app_init(struct app *app, const struct config *cfg)
{
	char err[2048];
	memset(app, 0, sizeof *app);
	app->cfg = cfg;
	live_app = app;
	app->restart_delay_ms = cfg->lifecycle.restart_delay_ms;
	if (!(app->loop = loop_new())) {
		log_error("cannot set up the event loop: %s", strerror(errno));
		return -errno;
	}
	loop_set_signal_cb(app->loop, on_signal, app);
	retry_init(&app->build_retry, app->loop, on_build_retry, app);
	retry_init(&app->run_retry, app->loop, on_run_retry, app);
	/* gust writes its state file there before anything starts: without
	 * it a killed gust would leave its processes behind for good, so a
	 * tmp_dir that cannot be written is bad input, like a bad key */
	if (mkdir(cfg->tmp_dir, 0777) < 0 && errno != EEXIST) {
		log_error("tmp_dir \"%s\": cannot create: %s", cfg->tmp_dir, strerror(errno));
		return -EINVAL;
	}
	if (access(cfg->tmp_dir, W_OK | X_OK) < 0) {
		log_error("tmp_dir \"%s\": cannot write there: %s", cfg->tmp_dir, strerror(errno));
		return -EINVAL;
	}
	char state[4096];
	if (snprintf(state, sizeof state, "%s/gust.state", cfg->tmp_dir) >= (int)sizeof state) {
		log_error("tmp_dir \"%s\": path too long", cfg->tmp_dir);
		return -ENAMETOOLONG;
	}
	if (!(app->ptrees = ptree_mgr_new(app->loop, state, err, sizeof err))) {
		log_error("%s", err);
		return -EINVAL;
	}
	char lock[4096];
	snprintf(lock, sizeof lock, "%s/gust.lock", cfg->tmp_dir);
	int r = ptree_mgr_claim(app->ptrees, lock, on_signal, app);
	if (r < 0)
		return r;
	/* the project is this gust's now: a socket left in tmp_dir is stale */
	app->control = control_open(app, app->loop, cfg->tmp_dir);
	if (!(app->filter = filter_new(cfg, err, sizeof err))) {
		log_error("%s", err);
		return -EINVAL;
	}
	if (!(app->rules = app_rules_new(app, cfg, err, sizeof err))) {
		log_error("%s", err);
		return -ENOMEM;
	}
	if (!(app->changes = app_changes_new(app, cfg)) ||
	    (cfg->watch.exclude_unchanged && !(app->ledger = ledger_new(cfg->root)))) {
		log_error("out of memory");
		return -ENOMEM;
	}
	if (!(app->dirs = plugin_search_dirs(cfg->plugin_path))) {
		log_error("out of memory");
		return -ENOMEM;
	}
	if (ready_init(&app->ready, cfg->runner, cfg->file ? cfg->file : "defaults", err,
	               sizeof err) < 0) {
		log_error("%s", err);
		return -EINVAL;
	}
	return plugins_create_all(app);
}

static void clear_list(char ***list, size_t *n)
{
	for (size_t i = 0; i < *n; i++)
		free((*list)[i]);
	free(*list);
	*list = NULL;
	*n = 0;
}

/* ---- hooks ---- */

/* Tell every hook (hooks.c); not while gust quits (nothing may start then). */
void app_emit(struct app *app, enum gust_event type, int status, uint64_t ms, char *const *paths,
              const char *output, const char *detail)
{
	if (!app->quitting)
		hooks_emit(&app->hooks, type, status, ms, paths, output, detail);
}

/* ---- starts the system refused for now (retry.c) ---- */

static void on_build_retry(void *arg)
{
	struct app *app = arg;
	if (!app->quitting && !app->build_running)
		app_start_build(app);
}

static void on_run_retry(void *arg)
{
	struct app *app = arg;
	if (!app->quitting && app->run == RUN_NONE)
		start_run(app);
}

/* ---- builds ---- */

/* A failed build's paths are still to be built: the next build takes them
 * (a later good build of other files would otherwise leave their records
 * at the content before, and undoing the edit would be "unchanged"). The
 * build took the earlier ones too (app_start_build), so its list is all:
 * it becomes the list. */
static void keep_unbuilt(struct app *app)
{
	clear_list(&app->unbuilt, &app->nunbuilt);
	app->unbuilt = app->building;
	app->nunbuilt = app->nbuilding;
	app->building = NULL;
	app->nbuilding = 0;
}

/* Cancel the running build; its paths still need building. */
static void cancel_build(struct app *app)
{
	bops(app)->cancel(app->builder.self);
	app->build_running = false;
	ledger_unstage(app->ledger, (const char *const *)app->building);
	for (size_t i = 0; i < app->nbuilding; i++)
		changes_add(app->changes, app->building[i]);
}

void app_start_build(struct app *app)
{
	retry_cancel(&app->build_retry); /* this build is the retry */
	if (app->build_running) {
		log_msg(GUST_LOG_INFO, STAGE_BUILD, "newer changes: cancelling the running build");
		cancel_build(app);
	}
	/* what failed builds had is not built yet: build it with this one
	 * (so a success records it), and give it to the build as changed */
	for (size_t i = 0; i < app->nunbuilt; i++)
		changes_add(app->changes, app->unbuilt[i]);
	clear_list(&app->building, &app->nbuilding);
	app->building = changes_take(app->changes, &app->nbuilding);
	if (!app->building)
		return;
	app->cycle[0] = '\0';
	if (app->nbuilding) {
		char what[300];
		cycle_what_changed(what, sizeof what, app->building, app->nbuilding);
		snprintf(app->cycle, sizeof app->cycle, "%s%.60s%s%.180s",
		         app->build_rule ? "rule \"" : "", app->build_rule ? app->build_rule : "",
		         app->build_rule ? "\": " : "", what);
	}
	if (app->cycle[0]) {
		log_msg(GUST_LOG_INFO, STAGE_WATCH, "%s", app->cycle);
		app_emit(app, GUST_EVENT_CHANGE, 0, 0, app->building, NULL, NULL);
	}
	hooks_tail_reset(&app->hooks);
	if (app->cfg->clear_screen)
		term_clear_screen();
	char changed_file[4096];
	changed_file_write(&app->changed, app->cfg->tmp_dir, app->building, app->nbuilding,
	                   changed_file, sizeof changed_file);
	struct gust_build_req req = {
		.size = sizeof req,
		.changed = (const char *const *)app->building,
		.changed_file = changed_file[0] ? changed_file : NULL,
	};
	/* what this build sees: an edit made while it runs is not built */
	ledger_stage(app->ledger, (const char *const *)app->building);
	app->build_started_ms = loop_now_ms();
	app->builder.err[0] = '\0';
	app_emit(app, GUST_EVENT_BUILD_START, 0, 0, app->building, NULL, NULL);
	int r = bops(app)->start(app->builder.self, &req);
	if (r < 0) {
		ledger_unstage(app->ledger, (const char *const *)app->building);
		keep_unbuilt(app); /* not built: the next build (or retry) takes them */
		char note[64];
		enum gust_log_level lv =
		    retry_later(&app->build_retry, r, app->quitting, note, sizeof note);
		log_msg(lv, STAGE_BUILD, "cannot start the build: %s%s",
		        app->builder.err[0] ? app->builder.err : strerror(-r), note);
		app->build_seen = true;
		app->build_status = r;
		app->build_ms = 0;
		app->build_done_ms = app->settled_ms = loop_now_ms();
		app_emit(app, GUST_EVENT_BUILD_DONE, r, 0, NULL, app->builder.err, NULL);
		return;
	}
	retry_reset(&app->build_retry);
	app->build_running = true;
}

/* The runner's stop(). It may call stop_done() from inside (nothing left to
 * stop): app_stop_done() then only notes it, and it is acted on here once
 * stop() has returned, so the runner's start() never runs inside its stop(). */
static int call_stop(struct app *app, bool force)
{
	app->in_stop = true;
	int r = rops(app)->stop(app->runner.self, force);
	app->in_stop = false;
	return r;
}

static void stop_done_from_stop(struct app *app)
{
	if (app->stop_done_in_stop) {
		app->stop_done_in_stop = false;
		app_stop_done(app);
	}
}

static void stop_run(struct app *app, bool force)
{
	if (app->run == RUN_NONE)
		return;
	if (app->run == RUN_STOPPING) {
		if (force) {
			(void)call_stop(app, true);
			stop_done_from_stop(app);
		}
		return;
	}
	if (ready_pending(&app->ready)) {
		ready_cancel(&app->ready);
		if (!app->quitting)
			log_msg(GUST_LOG_INFO, STAGE_RUN, "%s; stopped before it was ready",
			        app->cycle_line);
	}
	app->run = RUN_STOPPING;
	app->stop_started_ms = loop_now_ms();
	app->runner.err[0] = '\0';
	int r = call_stop(app, force);
	if (r < 0) {
		log_msg(GUST_LOG_ERROR, STAGE_RUN, "cannot stop the program: %s",
		        app->runner.err[0] ? app->runner.err : strerror(-r));
	}
	stop_done_from_stop(app);
}

void app_build_done(struct app *app, int status)
{
	if (!app->build_running)
		return;
	app->build_running = false;
	uint64_t ms = loop_now_ms() - app->build_started_ms;
	if (app->quitting) {
		maybe_quit(app);
		return;
	}
	app->build_ms = ms;
	app->build_seen = true;
	app->build_status = status;
	app->build_done_ms = app->settled_ms = loop_now_ms();
	app_emit(app, GUST_EVENT_BUILD_DONE, status, ms, NULL, app->hooks.tail, NULL);
	if (status == 0) {
		log_msg(GUST_LOG_INFO, STAGE_BUILD, "ok in %llu ms", (unsigned long long)ms);
		app->built_ok = true;
		ledger_commit(app->ledger, (const char *const *)app->building);
		/* done with: a storm's paths are not kept until the next build */
		clear_list(&app->building, &app->nbuilding);
		clear_list(&app->unbuilt, &app->nunbuilt); /* they were in it */
		app->restart_delay_ms = app->cfg->lifecycle.restart_delay_ms;
		if (app->restart_timer) {
			loop_timer_cancel(app->loop, app->restart_timer);
			app->restart_timer = 0;
		}
		app->restart_after_exit = false; /* this start is the build's */
		app->restart_requested = false;
		app->restart_rule = NULL;
		if (app->run == RUN_NONE) {
			start_run(app);
		} else {
			app->start_after_stop = true;
			stop_run(app, false);
		}
		return;
	}
	ledger_unstage(app->ledger, (const char *const *)app->building);
	keep_unbuilt(app);
	mem_settle(); /* no run to wait for: the change's work is over */
	char what[128], note[64];
	cycle_status(status, what, sizeof what);
	/* a step the system could not start (status < 0) is tried again */
	enum gust_log_level lv =
	    retry_later(&app->build_retry, status, app->quitting, note, sizeof note);
	log_msg(lv, STAGE_BUILD, "failed (%s) in %llu ms%s%s", what, (unsigned long long)ms,
	        app->run == RUN_UP && !app->cfg->lifecycle.stop_on_build_failure
	            ? "; the previous program keeps running"
	            : "",
	        note);
	if (app->cfg->lifecycle.stop_on_build_failure) {
		app->start_after_stop = false;
		/* stopped for the failure: no restart of the old program */
		if (app->restart_timer) {
			loop_timer_cancel(app->loop, app->restart_timer);
			app->restart_timer = 0;
		}
		stop_run(app, false);
	}
}

/* ---- runs ---- */

/* The probe's answer: the end of the cycle line. */
static void on_ready(void *arg, enum probe_result result, const char *probe_what)
{
	struct app *app = arg;
	uint64_t ms = loop_now_ms() - app->run_started_ms;
	unsigned long wakeups = ready_wakeups(&app->ready);
	/* what may point into the probe, which ready_cancel() frees */
	char what[256];
	snprintf(what, sizeof what, "%s", probe_what ? probe_what : "");
	ready_cancel(&app->ready);
	mem_settle(); /* the cycle is over: what its changes and builds freed */
	char line[1024];
	cycle_ready(app, result, ms, line, sizeof line);
	if (result == PROBE_TIMEOUT) {
		/* the warning once per gust; later runs just say it */
		log_msg(app->ready_warned ? GUST_LOG_INFO : GUST_LOG_WARN, STAGE_RUN, "%s", line);
		app->ready_warned = true;
		app_emit(app, GUST_EVENT_READY, -ETIMEDOUT, ms, NULL, NULL, NULL);
		return;
	}
	app->run_ready = true;
	snprintf(app->ready_what, sizeof app->ready_what, "%s", what);
	log_msg(GUST_LOG_INFO, STAGE_RUN, "%s", line);
	if (app->ready.kind != PROBE_OFF && log_verbosity() >= 1)
		log_msg(GUST_LOG_INFO, STAGE_RUN, "ready: %s, after %lu wakeups", what, wakeups);
	app_emit(app, GUST_EVENT_READY, 0, ms, NULL, NULL, what);
}

static void start_run(struct app *app)
{
	if (app->quitting)
		return;
	app->runner.err[0] = '\0';
	uint64_t t0 = loop_now_ms();
	ready_run_starting(&app->ready);
	app->run_ready = false;
	retry_cancel(&app->run_retry); /* this start is the retry */
	int r = rops(app)->start(app->runner.self);
	if (r < 0) {
		char note[64];
		enum gust_log_level lv =
		    retry_later(&app->run_retry, r, app->quitting, note, sizeof note);
		log_msg(lv, STAGE_RUN, "cannot start the program: %s%s",
		        app->runner.err[0] ? app->runner.err : strerror(-r), note);
		return;
	}
	retry_reset(&app->run_retry);
	app->run = RUN_UP;
	app->run_started_ms = loop_now_ms();
	app->spawn_ms = app->run_started_ms - t0;
	cycle_prefix(app, t0);
	app->stop_started_ms = 0;
	app->restart_after_exit = false;
	app->restart_requested = false;
	app->restart_rule = NULL;
	app_emit(app, GUST_EVENT_RUN_START, 0, 0, NULL, NULL, NULL);
	/* the change's work is over (its paths, its build): not kept until
	 * the run is ready, which may take ready_timeout_ms or never come */
	mem_settle();
	if (app->run == RUN_UP && ready_start(&app->ready, app->loop, on_ready, app) < 0)
		log_msg(GUST_LOG_INFO, STAGE_RUN, "%s (readiness not checked: out of memory)",
		        app->cycle_line);
}

static void on_restart_timer(void *arg)
{
	struct app *app = arg;
	app->restart_timer = 0;
	if (app->quitting || app->run == RUN_STOPPING || app->run == RUN_UP)
		return;
	app->restart_after_exit = true;
	if (app->run == RUN_EXITED) {
		app->start_after_stop = true;
		stop_run(app, false);
	} else {
		app->stop_started_ms = 0; /* no stop of this restart's to time */
		start_run(app);
	}
}

void app_run_exited(struct app *app, int status)
{
	char what[128];
	cycle_status(status, what, sizeof what);
	if (app->run == RUN_STOPPING)
		return; /* the stop we asked for */
	if (app->run == RUN_UP)
		app->run = RUN_EXITED;
	app->run_ready = false;
	app->settled_ms = loop_now_ms();
	if (ready_pending(&app->ready)) {
		ready_cancel(&app->ready);
		log_msg(GUST_LOG_WARN, STAGE_RUN, "%s; program exited (%s) before it was ready",
		        app->cycle_line, what);
	} else {
		log_msg(status == 0 ? GUST_LOG_INFO : GUST_LOG_WARN, STAGE_RUN,
		        "program exited (%s)", what);
	}
	app_emit(app, GUST_EVENT_RUN_EXIT, status, 0, NULL, NULL, NULL);
	if (app->quitting || !app->cfg->lifecycle.restart_on_exit)
		return;
	uint64_t lived = loop_now_ms() - app->run_started_ms;
	if (lived >= RESTART_RESET_MS)
		app->restart_delay_ms = app->cfg->lifecycle.restart_delay_ms;
	unsigned delay = app->restart_delay_ms;
	log_msg(GUST_LOG_INFO, STAGE_RUN, "restarting in %u ms", delay);
	app->restart_timer = loop_timer_add(app->loop, delay, on_restart_timer, app);
	unsigned next = app->restart_delay_ms ? app->restart_delay_ms * 2 : 100;
	if (next > app->cfg->lifecycle.restart_max_delay_ms)
		next = app->cfg->lifecycle.restart_max_delay_ms;
	app->restart_delay_ms = next;
}

void app_stop_done(struct app *app)
{
	if (app->in_stop) {
		app->stop_done_in_stop = true; /* acted on once stop() returns */
		return;
	}
	app->run = RUN_NONE;
	app->run_ready = false;
	app->settled_ms = loop_now_ms();
	if (app->quitting) {
		maybe_quit(app);
		return;
	}
	app_emit(app, GUST_EVENT_STOP_DONE, 0, loop_now_ms() - app->stop_started_ms, NULL, NULL,
	         NULL);
	if (app->runner_changed && swap_runner(app) < 0)
		return;
	if (app->start_after_stop) {
		app->start_after_stop = false;
		start_run(app);
	} else {
		app->stop_started_ms = 0; /* the next start is not this stop's */
		log_msg(GUST_LOG_INFO, STAGE_RUN, "stopped");
	}
}

/* ---- what plugins, hooks, keys and gust ctl ask for ---- */

void app_tree_freed(struct gust_tree *tree)
{
	if (live_app)
		ready_tree_freed(&live_app->ready, tree);
}

/* A restart (a rule's, a request's): the program again, without a build. */
void app_restart_now(struct app *app)
{
	app->restart_requested = true;
	app->restart_after_exit = false;
	if (app->restart_timer) {
		loop_timer_cancel(app->loop, app->restart_timer);
		app->restart_timer = 0;
	}
	if (app->run == RUN_NONE) {
		app->stop_started_ms = 0;
		start_run(app);
		return;
	}
	app->start_after_stop = true;
	stop_run(app, false); /* RUN_STOPPING: the start follows its end */
}

static void on_request(void *arg)
{
	struct app *app = arg;
	app->request_timer = 0;
	if (app->quitting)
		return;
	if (app->want_rebuild) {
		app->want_rebuild = false;
		app->want_restart = false; /* a good build restarts anyway */
		changes_disarm(app->changes);
		log_msg(GUST_LOG_INFO, app->request_stage, "rebuild requested by %s",
		        app->requested_by);
		dispatch_changes(app, true);
	} else if (app->want_restart) {
		app->want_restart = false;
		app->restart_rule = NULL;
		app_restart_now(app);
	}
}

int app_request(struct app *app, bool rebuild, enum log_stage stage, const char *by)
{
	if (app->quitting)
		return -ESHUTDOWN;
	if (!rebuild && !app->built_ok)
		return -EAGAIN;
	*(rebuild ? &app->want_rebuild : &app->want_restart) = true;
	snprintf(app->requested_by, sizeof app->requested_by, "%s", by);
	app->request_stage = stage;
	if (!app->request_timer)
		app->request_timer = loop_timer_add(app->loop, 0, on_request, app);
	return app->request_timer ? 0 : -ENOMEM;
}

/* ---- a reload's new plugins (reload.c) ---- */

/* A plugin whose section passed the reload's check could not be created
 * in its place after all: gust has none, and quits. */
static bool recreate(struct app *app, struct gust_ctx *ctx, enum gust_kind kind, json_t *section,
                     const char *path)
{
	plugins_destroy(ctx);
	if (plugins_create(app, ctx, kind, section, path) == 0)
		return true;
	app_quit(app, "a plugin of the reloaded config could not be created");
	return false;
}

void app_watcher_changed(struct app *app)
{
	if (!recreate(app, &app->watcher, GUST_KIND_WATCHER, app->cfg->watcher, "/watcher"))
		return;
	app->watcher.err[0] = '\0';
	int r = wops(app)->start(app->watcher.self);
	if (r < 0) {
		log_error("watcher \"%s\": %s", app->watcher.plugin.desc->name,
		          app->watcher.err[0] ? app->watcher.err : strerror(-r));
		app_quit(app, "the watcher of the reloaded config could not start");
	}
}

void app_builder_changed(struct app *app)
{
	if (app->build_running)
		cancel_build(app);
	if (!recreate(app, &app->builder, GUST_KIND_BUILDER, app->cfg->builder, "/builder"))
		return;
	changes_disarm(app->changes); /* this build takes what is pending */
	dispatch_changes(app, true);
}

/* The old runner is done with its program: the new one takes over. */
static int swap_runner(struct app *app)
{
	char err[2048];
	app->runner_changed = false;
	ready_fini(&app->ready);
	if (!recreate(app, &app->runner, GUST_KIND_RUNNER, app->cfg->runner, "/runner"))
		return -EINVAL;
	if (ready_init(&app->ready, app->cfg->runner, app->cfg->file ? app->cfg->file : "defaults",
	               err, sizeof err) < 0) {
		log_error("%s", err); /* checked by the reload: not expected */
		app_quit(app, "the reloaded runner section is not valid");
		return -EINVAL;
	}
	reload_gc(app->reload); /* the old runner's config may be unused now */
	return 0;
}

void app_hooks_changed(struct app *app)
{
	if (app->run == RUN_UP && app->run_ready)
		app_emit(app, GUST_EVENT_READY, 0, 0, NULL, NULL, app->ready_what);
}

void app_runner_changed(struct app *app)
{
	app->runner_changed = true;
	if (app->restart_timer) {
		loop_timer_cancel(app->loop, app->restart_timer);
		app->restart_timer = 0;
	}
	if (app->run == RUN_NONE) {
		if (swap_runner(app) == 0 && app->built_ok && !app->build_running) {
			app->stop_started_ms = 0;
			start_run(app);
		}
		return;
	}
	/* the program again, with the new runner, unless a build is on its way
	 * (its success restarts it anyway) */
	app->restart_requested = true;
	app->restart_after_exit = false;
	app->restart_rule = NULL;
	snprintf(app->requested_by, sizeof app->requested_by, "the config reload");
	app->start_after_stop = app->built_ok;
	stop_run(app, false);
}

/* ---- gust ctl status ---- */

void app_status(const struct app *app, struct app_status *st)
{
	memset(st, 0, sizeof *st);
	if (app->quitting || app->run == RUN_STOPPING) {
		st->state = APP_STOPPING;
		st->since_ms = app->stop_started_ms ? app->stop_started_ms : app->settled_ms;
	} else if (app->build_running) {
		st->state = APP_BUILDING;
		st->since_ms = app->build_started_ms;
	} else if (app->run == RUN_UP) {
		st->state = APP_RUNNING;
		st->since_ms = app->run_started_ms;
	} else {
		st->state = APP_IDLE; /* nothing yet, a failed build, an exited program */
		st->since_ms = app->settled_ms;
	}
	if ((app->run == RUN_UP || app->run == RUN_STOPPING) && app->ready.tree)
		st->pid = ptree_pid(app->ready.tree);
	st->ready = app->run == RUN_UP && app->run_ready;
	st->checking = app->run == RUN_UP && ready_pending(&app->ready);
	if ((st->built = app->build_seen)) {
		st->build_ok = app->build_status == 0;
		if (st->build_ok)
			snprintf(st->build_result, sizeof st->build_result, "ok");
		else
			cycle_status(app->build_status, st->build_result, sizeof st->build_result);
		st->build_ms = app->build_ms;
		st->build_done_ms = app->build_done_ms;
	}
}

/* ---- shutdown ---- */

static void maybe_quit(struct app *app)
{
	if (app->run == RUN_NONE && !app->build_running && !rules_busy(app->rules))
		loop_quit(app->loop, app->exit_code);
}

/* The last rule command's tree is gone. */
static void on_rules_idle(void *arg)
{
	struct app *app = arg;
	if (app->quitting)
		maybe_quit(app);
}

/* The first Ctrl-C, SIGTERM, q or gust ctl quit: stop everything, then
 * leave the loop. */
static void begin_quit(struct app *app, const char *why, const char *again)
{
	app->quitting = true;
	ptree_mgr_quitting(app->ptrees); /* a new gust waits for this one */
	log_msg(GUST_LOG_INFO, STAGE_GUST, "%s: stopping%s", why, again);
	changes_disarm(app->changes);
	if (app->restart_timer) {
		loop_timer_cancel(app->loop, app->restart_timer);
		app->restart_timer = 0;
	}
	if (app->request_timer) {
		loop_timer_cancel(app->loop, app->request_timer);
		app->request_timer = 0;
	}
	retry_cancel(&app->build_retry);
	retry_cancel(&app->run_retry);
	if (app->build_running) {
		bops(app)->cancel(app->builder.self);
		app->build_running = false;
	}
	app->start_after_stop = false;
	rules_stop_all(app->rules);
	stop_run(app, false);
	maybe_quit(app);
}

static void kill_at_once(struct app *app)
{
	log_msg(GUST_LOG_WARN, STAGE_GUST, "killing the program at once");
	stop_run(app, true);
}

static void on_signal(int sig, void *arg)
{
	struct app *app = arg;
	app->signals++;
	if (!app->quitting) {
		char why[64];
		snprintf(why, sizeof why, "%s received",
		         config_signal_name(sig) ? config_signal_name(sig) : "signal");
		begin_quit(app, why, sig == SIGINT ? " (Ctrl-C again to kill at once)" : "");
		return;
	}
	if (sig == SIGINT || app->signals > 1)
		kill_at_once(app);
}

void app_quit(struct app *app, const char *why)
{
	if (!app->quitting)
		begin_quit(app, why, app->keys ? " (q again to kill at once)" : "");
	else
		kill_at_once(app);
}

int app_run(struct app *app, const struct reload_src *src)
{
	app->watcher.err[0] = '\0';
	int r = wops(app)->start(app->watcher.self);
	if (r < 0) {
		log_error("watcher \"%s\": %s", app->watcher.plugin.desc->name,
		          app->watcher.err[0] ? app->watcher.err : strerror(-r));
		return 1;
	}
	app->settled_ms = loop_now_ms();
	mem_settle(); /* the walk's peak: its visited set, readdir buffers */
	log_msg(GUST_LOG_INFO, STAGE_GUST, "watching %s (%s watcher, %s builder, %s runner)",
	        app->cfg->root, app->watcher.plugin.desc->name, app->builder.plugin.desc->name,
	        app->runner.plugin.desc->name);
	termkeys_start(app);
	app->reload = reload_start(app, src);
	if (!app->cfg->lifecycle.postpone_first)
		app_start_build(app);
	else
		log_msg(GUST_LOG_INFO, STAGE_GUST, "waiting for the first change");
	r = loop_run(app->loop);
	return r < 0 ? 1 : r;
}

void app_fini(struct app *app)
{
	termkeys_stop(app);
	/* while the lock is held: a next gust cannot have made its own yet */
	control_close(app->control);
	plugins_destroy(&app->watcher);
	plugins_destroy(&app->builder);
	plugins_destroy(&app->runner);
	hooks_fini(&app->hooks);
	rules_free(app->rules);
	ready_fini(&app->ready);
	if (app->ptrees)
		ptree_mgr_free(app->ptrees);
	filter_free(app->filter);
	plugin_free_dirs(app->dirs);
	changes_free(app->changes);
	ledger_free(app->ledger);
	clear_list(&app->building, &app->nbuilding);
	clear_list(&app->unbuilt, &app->nunbuilt);
	changed_file_close(&app->changed);
	reload_free(app->reload); /* the configs reloads made: nothing uses them now */
	loop_free(app->loop);
	memset(app, 0, sizeof *app);
	live_app = NULL;
}