/* host.c - the host table: what the core offers plugins, each call routed
 * through the caller's gust_ctx to the app, the loop, the filter, the
 * config and the process-tree service. */
#include "config.h"

#include "app.h"
#include "filter.h"
#include "host.h"
#include "loop.h"
#include "options.h"
#include "ptree.h"
#include "rules.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

/* Declared with their format: they pass it on as a va_list. */
static void h_log(struct gust_ctx *ctx, enum gust_log_level level, const char *fmt, ...)
    GUST_PRINTF(3, 4);
static void h_set_error(struct gust_ctx *ctx, const char *fmt, ...) GUST_PRINTF(2, 3);

static void h_log(struct gust_ctx *ctx, enum gust_log_level level, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	/* A watcher's info lines (what it watches) are detail, shown with -v;
	 * plugins' debug lines need -vv; warnings and errors always show. */
	int v = log_verbosity();
	bool show =
	    level <= GUST_LOG_WARN ||
	    (level == GUST_LOG_INFO && (v >= 1 || (v == 0 && ctx->kind != GUST_KIND_WATCHER))) ||
	    (level == GUST_LOG_DEBUG && v >= 2);
	if (show)
		log_vmsg(level == GUST_LOG_DEBUG ? GUST_LOG_INFO : level, ctx->stage,
		         ctx->kind == GUST_KIND_HOOK ? ctx->plugin.desc->name : NULL, fmt, ap);
	va_end(ap);
}

static void h_set_error(struct gust_ctx *ctx, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(ctx->err, sizeof ctx->err, fmt, ap);
	va_end(ap);
}

/* A watcher's fds are paced: in a storm its events are read in batches. */
static int h_io_add(struct gust_ctx *ctx, int fd, unsigned events, gust_io_cb cb, void *arg)
{
	int r = loop_io_add(ctx->app->loop, fd, events, cb, arg);
	if (r == 0 && ctx->kind == GUST_KIND_WATCHER)
		loop_io_pace(ctx->app->loop, fd);
	return r;
}

static int h_io_mod(struct gust_ctx *ctx, int fd, unsigned events)
{
	return loop_io_mod(ctx->app->loop, fd, events);
}

static int h_io_del(struct gust_ctx *ctx, int fd)
{
	return loop_io_del(ctx->app->loop, fd);
}

static uint64_t h_timer_add(struct gust_ctx *ctx, unsigned ms, gust_timer_cb cb, void *arg)
{
	return loop_timer_add(ctx->app->loop, ms, cb, arg);
}

static void h_timer_cancel(struct gust_ctx *ctx, uint64_t id)
{
	loop_timer_cancel(ctx->app->loop, id);
}

static int h_child_watch(struct gust_ctx *ctx, pid_t pid, gust_exit_cb cb, void *arg)
{
	return loop_child_watch(ctx->app->loop, pid, cb, arg);
}

static bool h_is_ignored(struct gust_ctx *ctx, const char *path, bool is_dir)
{
	/* a directory is walked when the watch section or a rule wants it */
	struct app *app = ctx->app;
	return app->filter && filter_ignored(app->filter, path, is_dir) &&
	       (!is_dir || !app->rules || rules_dir_ignored(app->rules, path));
}

static const char *h_root(struct gust_ctx *ctx)
{
	return ctx->app->cfg->root;
}

static bool h_follow_symlinks(struct gust_ctx *ctx)
{
	return ctx->app->cfg->watch.follow_symlinks;
}

/* A runner's section also holds the keys the core reads for every runner
 * (readiness): the plugin's own list is extended with them. */
static int h_opt_check_keys(struct gust_ctx *ctx, const struct gust_opts *o,
                            const char *const *known)
{
	static const char *const core_keys[] = { READY_RUNNER_KEYS, NULL };
	if (ctx->kind != GUST_KIND_RUNNER)
		return config_opt_check_keys(o, known, ctx->err, sizeof ctx->err);
	size_t n = 0, k = 0;
	while (known && known[n])
		n++;
	const char **all = calloc(n + sizeof core_keys / sizeof *core_keys, sizeof *all);
	if (!all) {
		snprintf(ctx->err, sizeof ctx->err, "out of memory");
		return -ENOMEM;
	}
	for (size_t i = 0; i < n; i++)
		all[k++] = known[i];
	for (size_t i = 0; core_keys[i]; i++)
		all[k++] = core_keys[i];
	int r = config_opt_check_keys(o, all, ctx->err, sizeof ctx->err);
	free(all);
	return r;
}

static int h_opt_string(struct gust_ctx *ctx, const struct gust_opts *o, const char *key,
                        const char *def, const char **out)
{
	return config_opt_string(o, key, def, out, ctx->err, sizeof ctx->err);
}

static int h_opt_int(struct gust_ctx *ctx, const struct gust_opts *o, const char *key,
                     long long def, long long min, long long max, long long *out)
{
	return config_opt_int(o, key, def, min, max, out, ctx->err, sizeof ctx->err);
}

static int h_opt_bool(struct gust_ctx *ctx, const struct gust_opts *o, const char *key, bool def,
                      bool *out)
{
	return config_opt_bool(o, key, def, out, ctx->err, sizeof ctx->err);
}

static int h_opt_strv(struct gust_ctx *ctx, const struct gust_opts *o, const char *key,
                      const char *const **out, size_t *n)
{
	return config_opt_strv(o, key, out, n, ctx->err, sizeof ctx->err);
}

static int h_opt_signal(struct gust_ctx *ctx, const struct gust_opts *o, const char *key, int def,
                        int *out)
{
	return config_opt_signal(o, key, def, out, ctx->err, sizeof ctx->err);
}

static int h_opt_env(struct gust_ctx *ctx, const struct gust_opts *o, const char *key,
                     const char *const **out, size_t *n)
{
	return config_opt_env(o, key, out, n, ctx->err, sizeof ctx->err);
}

static void h_changed(struct gust_ctx *ctx, const char *path, enum gust_change kind)
{
	app_changed(ctx->app, path, kind);
}

static void h_build_done(struct gust_ctx *ctx, int status)
{
	app_build_done(ctx->app, status);
}

static void h_run_exited(struct gust_ctx *ctx, int status)
{
	app_run_exited(ctx->app, status);
}

static void h_stop_done(struct gust_ctx *ctx)
{
	app_stop_done(ctx->app);
}

static struct gust_tree *h_tree_spawn(struct gust_ctx *ctx, const struct gust_spawn *spec,
                                      const struct gust_tree_events *ev, void *arg)
{
	struct gust_tree *t =
	    ptree_spawn(ctx->app->ptrees, spec, ev, arg, ctx->err, sizeof ctx->err);
	if (t && ctx->kind == GUST_KIND_RUNNER)
		ready_tree_spawned(&ctx->app->ready, t, spec->flags); /* the run's tree */
	return t;
}

static void h_tree_free(struct gust_tree *tree)
{
	app_tree_freed(tree);
	ptree_free(tree);
}

/* A builder's lines are the build output's tail for hooks; a runner's go
 * to the "log" readiness check. */
static void h_output_line(struct gust_ctx *ctx, const char *line, size_t len)
{
	if (ctx->kind == GUST_KIND_BUILDER)
		hooks_tail_add(&ctx->app->hooks, line, len);
	else if (ctx->kind == GUST_KIND_RUNNER)
		ready_line(&ctx->app->ready, line, len);
}

static bool h_output_wanted(struct gust_ctx *ctx)
{
	return ctx->kind == GUST_KIND_RUNNER && ready_wants_output(&ctx->app->ready);
}

/* A hook's request, named in the log as hook "NAME". */
static int h_request(struct gust_ctx *ctx, bool rebuild)
{
	char by[96];
	snprintf(by, sizeof by, "hook \"%s\"", ctx->plugin.desc->name);
	return app_request(ctx->app, rebuild, STAGE_HOOK, by);
}

static int h_request_rebuild(struct gust_ctx *ctx)
{
	return h_request(ctx, true);
}

static int h_request_restart(struct gust_ctx *ctx)
{
	return h_request(ctx, false);
}

const struct gust_host app_host = {
	.size = sizeof(struct gust_host),
	.abi_version = GUST_ABI_VERSION,
	.log = h_log,
	.set_error = h_set_error,
	.io_add = h_io_add,
	.io_mod = h_io_mod,
	.io_del = h_io_del,
	.timer_add = h_timer_add,
	.timer_cancel = h_timer_cancel,
	.child_watch = h_child_watch,
	.is_ignored = h_is_ignored,
	.root = h_root,
	.follow_symlinks = h_follow_symlinks,
	.opt_check_keys = h_opt_check_keys,
	.opt_string = h_opt_string,
	.opt_int = h_opt_int,
	.opt_bool = h_opt_bool,
	.opt_strv = h_opt_strv,
	.opt_signal = h_opt_signal,
	.changed = h_changed,
	.build_done = h_build_done,
	.run_exited = h_run_exited,
	.stop_done = h_stop_done,
	.tree_spawn = h_tree_spawn,
	.tree_stop = ptree_stop,
	.tree_kill = ptree_kill,
	.tree_pid = ptree_pid,
	.tree_alive = ptree_alive,
	.tree_free = h_tree_free,
	.opt_env = h_opt_env,
	.tree_pids = ptree_members,
	.output_line = h_output_line,
	.output_wanted = h_output_wanted,
	.request_rebuild = h_request_rebuild,
	.request_restart = h_request_restart,
};
