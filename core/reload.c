/* reload.c - the config reload (reload.h). The file is watched through its
 * directory (an editor's save may replace it by a rename) with inotify, or
 * with a stat() every second where there is none; a change is judged by
 * content, 50 ms after the last event, so a save in several writes is
 * judged once and the same content is never judged twice: an invalid file
 * is said once, until it changes again. */
#include "config.h"

#include "reload.h"
#include "app.h"
#include "plugins.h"
#include "changes.h"
#include "confread.h"
#include "filter.h"
#include "ledger.h"
#include "loop.h"
#include "rules.h"

#include <errno.h>
#include <jansson.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#ifdef HAVE_SYS_INOTIFY_H
#include <sys/inotify.h>
#endif

#define SETTLE_MS 50u
#define POLL_MS 1000u

/* The sections a reload compares, and what each change does. */
enum {
	S_WATCH = 1u << 0,
	S_RULES = 1u << 1,
	S_WATCHER = 1u << 2,
	S_BUILDER = 1u << 3,
	S_RUNNER = 1u << 4,
	S_HOOKS = 1u << 5,
	S_LIFECYCLE = 1u << 6,
	S_CLEAR = 1u << 7,
	S_LOG = 1u << 8,
	S_FIXED = 1u << 9, /* root, tmp_dir, plugin_path: gust's own set-up */
};

static const struct section {
	const char *key;
	unsigned bit;
} sections[] = {
	{ "watch", S_WATCH },         { "rules", S_RULES },        { "watcher", S_WATCHER },
	{ "builder", S_BUILDER },     { "runner", S_RUNNER },      { "hooks", S_HOOKS },
	{ "lifecycle", S_LIFECYCLE }, { "clear_screen", S_CLEAR }, { "log", S_LOG },
	{ "root", S_FIXED },          { "tmp_dir", S_FIXED },      { "plugin_path", S_FIXED },
};

struct reload {
	struct app *app;
	struct reload_src src;
	char *file; /* as the config names it */
	char *base; /* its name in its directory */
	int fd;     /* inotify, or -1: polled */
	uint64_t timer;
	struct stat st; /* polled: the last stat() */
	char *seen;     /* the content last judged */
	int read_error; /* the last read's -errno, said once */
	size_t seen_len;
	struct config **owned; /* the configs reloads made */
	size_t nowned;
	const struct config *filter_cfg, *rules_cfg; /* what they borrow */
};

/* What the new config brings besides its plugins' sections, made before
 * anything of the running one is touched. */
struct staged {
	struct filter *filter;
	struct rules *rules;
	struct changes *changes;
	struct ledger *ledger;
	struct hooks hooks;
};

/* The whole file, NUL-terminated (config_read_file(): what is not a
 * regular file is refused without being opened, so a named pipe put in its
 * place cannot block gust); NULL when it cannot be read. Gone for the
 * moment of an editor's rename is silent (the next event tells); anything
 * else is said, once until the file reads again. */
static char *read_config(struct reload *r, size_t *len)
{
	char *text = NULL, err[4096 + 128];
	int e = config_read_file(r->file, &text, len, err, sizeof err);
	if (e < 0 && e != -ENOENT && e != r->read_error)
		log_msg(GUST_LOG_ERROR, STAGE_GUST, "%s; keeping the running config", err);
	r->read_error = e < 0 ? e : 0;
	return e < 0 ? NULL : text;
}

static unsigned changed_sections(const struct config *a, const struct config *b)
{
	unsigned what = 0;
	for (size_t i = 0; i < sizeof sections / sizeof *sections; i++)
		if (!json_equal(json_object_get(a->json, sections[i].key),
		                json_object_get(b->json, sections[i].key)) &&
		    (json_object_get(a->json, sections[i].key) ||
		     json_object_get(b->json, sections[i].key)))
			what |= sections[i].bit;
	return what;
}

static bool used(const struct reload *r, const struct config *c)
{
	const struct app *app = r->app;
	if (app->cfg == c || r->filter_cfg == c || r->rules_cfg == c ||
	    app->watcher.opts.cfg == c || app->builder.opts.cfg == c || app->runner.opts.cfg == c)
		return true;
	for (size_t i = 0; i < app->hooks.n; i++)
		if (app->hooks.v[i].opts.cfg == c)
			return true;
	return false;
}

void reload_gc(struct reload *r)
{
	size_t k = 0;
	for (size_t i = 0; r && i < r->nowned; i++) {
		if (used(r, r->owned[i])) {
			r->owned[k++] = r->owned[i];
			continue;
		}
		config_free(r->owned[i]);
		free(r->owned[i]);
	}
	if (r)
		r->nowned = k;
}

/* Create a plugin instance from section, as a check, and destroy it. A
 * runner with "sockets" is not checked so: the running one holds them. */
static int check_plugin(struct app *app, enum gust_kind kind, json_t *section, const char *path)
{
	if (kind == GUST_KIND_RUNNER && json_object_get(section, "sockets"))
		return 0;
	struct gust_ctx *ctx = calloc(1, sizeof *ctx);
	if (!ctx) {
		log_error("out of memory");
		return -ENOMEM;
	}
	int r = plugins_create(app, ctx, kind, section, path);
	plugins_destroy(ctx);
	free(ctx);
	return r;
}

static void unstage(struct staged *st)
{
	filter_free(st->filter);
	rules_free(st->rules);
	changes_free(st->changes);
	ledger_free(st->ledger);
	hooks_fini(&st->hooks);
	memset(st, 0, sizeof *st);
}

/* Make and check what cfg changes (what), app->cfg being cfg meanwhile.
 * 0, or -errno with the error printed. */
static int stage_with(struct app *app, const struct config *cfg, unsigned what, struct staged *st)
{
	const struct config *old = app->cfg;
	char err[2048];
	int r;
	if ((what & S_WATCH) && !(st->filter = filter_new(cfg, err, sizeof err))) {
		log_error("%s", err);
		return -EINVAL;
	}
	if ((what & S_RULES) && !(st->rules = app_rules_new(app, cfg, err, sizeof err))) {
		log_error("%s", err);
		return -EINVAL;
	}
	if ((cfg->watch.debounce_ms != old->watch.debounce_ms ||
	     cfg->watch.debounce_max_ms != old->watch.debounce_max_ms) &&
	    !(st->changes = app_changes_new(app, cfg)))
		return -ENOMEM;
	if (cfg->watch.exclude_unchanged && !old->watch.exclude_unchanged &&
	    !(st->ledger = ledger_new(cfg->root)))
		return -ENOMEM;
	if (what & S_RUNNER) {
		struct ready rd;
		if (ready_init(&rd, cfg->runner, cfg->file, err, sizeof err) < 0) {
			log_error("%s", err);
			return -EINVAL;
		}
		ready_fini(&rd);
	}
	if (((what & (S_WATCH | S_RULES | S_WATCHER)) &&
	     (r = check_plugin(app, GUST_KIND_WATCHER, cfg->watcher, "/watcher")) < 0) ||
	    ((what & S_BUILDER) &&
	     (r = check_plugin(app, GUST_KIND_BUILDER, cfg->builder, "/builder")) < 0) ||
	    ((what & S_RUNNER) &&
	     (r = check_plugin(app, GUST_KIND_RUNNER, cfg->runner, "/runner")) < 0) ||
	    ((what & S_HOOKS) && (r = hooks_load(&st->hooks, app)) < 0))
		return r;
	return 0;
}

static int stage(struct app *app, const struct config *cfg, unsigned what, struct staged *st)
{
	const struct config *old = app->cfg;
	app->cfg = cfg;
	int r = stage_with(app, cfg, what, st);
	app->cfg = old;
	return r;
}

/* The new config is the running one from now on. */
static void commit(struct reload *r, const struct config *cfg, unsigned what, struct staged *st)
{
	struct app *app = r->app;
	bool ledger_off = !cfg->watch.exclude_unchanged && app->cfg->watch.exclude_unchanged;
	app->cfg = cfg;
	if (st->filter) {
		filter_free(app->filter);
		app->filter = st->filter;
		r->filter_cfg = cfg;
	}
	if (st->rules) {
		rules_free(app->rules);
		app->rules = st->rules;
		r->rules_cfg = cfg;
		app->build_rule = app->restart_rule = NULL; /* names in the old rules */
	}
	if (st->changes) {
		size_t n;
		char **paths = changes_take(app->changes, &n);
		for (size_t i = 0; paths && i < n; i++) {
			changes_add(st->changes, paths[i]);
			free(paths[i]);
		}
		free(paths);
		changes_free(app->changes);
		app->changes = st->changes;
		if (changes_count(app->changes))
			changes_arm(app->changes, false);
	}
	if (st->ledger || ledger_off) {
		ledger_free(app->ledger);
		app->ledger = st->ledger;
	}
	if (what & S_HOOKS) {
		hooks_fini(&app->hooks);
		app->hooks = st->hooks;
	}
	memset(st, 0, sizeof *st);
	if (what & (S_WATCH | S_RULES | S_WATCHER))
		app_watcher_changed(app);
	if (what & S_BUILDER)
		app_builder_changed(app);
	if (what & S_RUNNER)
		app_runner_changed(app);
	else if (what & S_HOOKS)
		app_hooks_changed(app);
}

/* "watch, runner (the program restarts)" */
static void say(const struct reload *r, unsigned what)
{
	char list[512] = "";
	size_t k = 0;
	for (size_t i = 0; i < sizeof sections / sizeof *sections && k < sizeof list; i++)
		if (what & sections[i].bit)
			k += (size_t)snprintf(list + k, sizeof list - k, "%s%s", k ? ", " : "",
			                      sections[i].key);
	log_msg(GUST_LOG_INFO, STAGE_GUST, "%s reloaded: %s changed%s%s%s", r->file, list,
	        what & S_BUILDER ? "; rebuilding" : "",
	        what & S_RUNNER ? "; restarting the program" : "",
	        what & S_LOG ? "; log takes effect when gust starts again" : "");
}

static void rejected(const struct reload *r, const char *why)
{
	log_msg(GUST_LOG_ERROR, STAGE_GUST, "%s: %s; keeping the running config", r->file, why);
}

/* The file's content changed: load, check, apply. */
static void apply(struct reload *r)
{
	struct app *app = r->app;
	char err[2048];
	struct config *cfg = calloc(1, sizeof *cfg);
	struct config **owned = realloc(r->owned, (r->nowned + 1) * sizeof *owned);
	if (owned)
		r->owned = owned;
	if (!cfg || !owned) {
		free(cfg);
		rejected(r, "out of memory");
		return;
	}
	int e = config_load(cfg, r->file, r->src.sets, err, sizeof err);
	if (e == 0 && (e = config_append_run_args(cfg, r->src.run_args, r->src.nrun_args)) < 0)
		snprintf(err, sizeof err, "-- ARGS: %s", strerror(-e));
	unsigned what = e < 0 ? 0 : changed_sections(app->cfg, cfg);
	struct staged st = { 0 };
	if (e < 0) {
		log_msg(GUST_LOG_ERROR, STAGE_GUST, "%s; keeping the running config", err);
	} else if (what & S_FIXED) {
		rejected(r, "root, tmp_dir and plugin_path cannot change while gust runs (start "
		            "gust again for them)");
		e = -EINVAL;
	} else if (!what) {
		log_msg(GUST_LOG_DEBUG, STAGE_GUST, "%s changed, but nothing in effect did",
		        r->file);
		e = -EALREADY;
	} else if ((e = stage(app, cfg, what, &st)) < 0) {
		rejected(r, "not applied");
		unstage(&st);
	}
	if (e < 0) {
		config_free(cfg);
		free(cfg);
		return;
	}
	r->owned[r->nowned++] = cfg;
	commit(r, cfg, what, &st);
	say(r, what);
	reload_gc(r);
}

static void check(struct reload *r)
{
	size_t len = 0;
	char *text = read_config(r, &len);
	if (!text)
		return;
	if (r->seen && len == r->seen_len && memcmp(text, r->seen, len) == 0) {
		free(text);
		return;
	}
	free(r->seen);
	r->seen = text;
	r->seen_len = len;
	if (!r->app->quitting)
		apply(r);
}

static void on_settled(void *arg)
{
	struct reload *r = arg;
	r->timer = 0;
	check(r);
}

static void settle(struct reload *r)
{
	if (r->timer)
		loop_timer_cancel(r->app->loop, r->timer);
	r->timer = loop_timer_add(r->app->loop, SETTLE_MS, on_settled, r);
}

#ifdef HAVE_SYS_INOTIFY_H
static void on_inotify(int fd, unsigned events, void *arg)
{
	struct reload *r = arg;
	char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
	bool ours = false;
	ssize_t n;
	(void)events;
	while ((n = read(fd, buf, sizeof buf)) > 0)
		for (char *p = buf; p < buf + n;) {
			const struct inotify_event *ev = (const struct inotify_event *)p;
			if ((ev->mask & IN_Q_OVERFLOW) ||
			    (ev->len && strcmp(ev->name, r->base) == 0))
				ours = true;
			p += sizeof *ev + ev->len;
		}
	if (ours)
		settle(r);
}

/* inotify on the file's directory: 0, or -1 to poll instead. */
static int watch_dir(struct reload *r)
{
	char *copy = strdup(r->file);
	if (!copy)
		return -1;
	const char *dir = dirname(copy);
	r->fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (r->fd >= 0 && (inotify_add_watch(r->fd, dir,
	                                     IN_MODIFY | IN_CLOSE_WRITE | IN_MOVED_TO | IN_CREATE |
	                                         IN_ATTRIB) < 0 ||
	                   loop_io_add(r->app->loop, r->fd, GUST_IO_READ, on_inotify, r) < 0)) {
		close(r->fd);
		r->fd = -1;
	}
	free(copy);
	return r->fd >= 0 ? 0 : -1;
}
#else
static int watch_dir(struct reload *r)
{
	(void)r;
	return -1;
}
#endif

static bool same_stat(const struct stat *a, const struct stat *b)
{
	return a->st_dev == b->st_dev && a->st_ino == b->st_ino && a->st_size == b->st_size &&
	       a->st_mtime == b->st_mtime && a->st_ctime == b->st_ctime;
}

static void on_poll(void *arg)
{
	struct reload *r = arg;
	struct stat st;
	r->timer = loop_timer_add(r->app->loop, POLL_MS, on_poll, r);
	if (stat(r->file, &st) == 0 && !same_stat(&st, &r->st)) {
		r->st = st;
		check(r);
	}
}

struct reload *reload_start(struct app *app, const struct reload_src *src)
{
	const char *file = app->cfg->file;
	struct stat st;
	if (!file)
		return NULL;
	if (stat(file, &st) < 0 || !S_ISREG(st.st_mode)) {
		log_msg(GUST_LOG_INFO, STAGE_GUST,
		        "%s is not a regular file (a pipe?): it is not reloaded when it changes",
		        file);
		return NULL;
	}
	struct reload *r = calloc(1, sizeof *r);
	if (!r || !(r->file = strdup(file))) {
		free(r);
		return NULL;
	}
	r->app = app;
	r->src = *src;
	r->st = st;
	r->fd = -1;
	r->filter_cfg = r->rules_cfg = app->cfg;
	const char *slash = strrchr(r->file, '/');
	r->base = slash ? (char *)slash + 1 : r->file;
	r->seen = read_config(r, &r->seen_len);
	if (watch_dir(r) < 0)
		r->timer = loop_timer_add(app->loop, POLL_MS, on_poll, r);
	return r;
}

void reload_free(struct reload *r)
{
	if (!r)
		return;
	if (r->timer)
		loop_timer_cancel(r->app->loop, r->timer);
	if (r->fd >= 0) {
		loop_io_del(r->app->loop, r->fd);
		close(r->fd);
	}
	for (size_t i = 0; i < r->nowned; i++) {
		config_free(r->owned[i]);
		free(r->owned[i]);
	}
	free(r->owned);
	free(r->seen);
	free(r->file);
	free(r);
}
