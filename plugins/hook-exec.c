/* hook-exec.c - the "exec" hook: run a command on chosen steps of the
 * cycle.
 *
 * Options (one element of "hooks"):
 *   cmd            string, required: run as /bin/sh -c CMD in the root
 *   on             array of event names, required: change, build_start,
 *                  build_done (either outcome), build_ok, build_failed,
 *                  run_start, ready, not_ready (the readiness timeout),
 *                  run_exit, stop_done, reload (a "reload" rule's paths
 *                  changed: GUST_CHANGED holds them, GUST_DETAIL names the
 *                  rule)
 *   env            object of "NAME": "value" (or array of "NAME=value")
 *   kill_delay_ms  grace between SIGTERM and SIGKILL when gust stops it
 *
 * The command sees GUST_EVENT (the name above), GUST_STATUS (an exit
 * code: a signal N as 128+N; -1 when the build could not run, or when
 * not ready), GUST_DURATION_MS, GUST_DETAIL (what answered, for ready)
 * and GUST_CHANGED (the paths of the latest build, one per line; for
 * reload, the rule's paths).
 *
 * Never overlapping itself: an event that comes while the command still
 * runs is kept (only the latest) and run once the command's whole tree is
 * gone. Its tree is a gust tree like every other: stopped with everything
 * it started when gust quits. */
#include "config.h"

#include <gust/plugin.h>

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#define CHANGED_MAX 32768

enum { EV_NAMES = 11 };
static const char *const ev_names[EV_NAMES] = { "change",    "build_start",  "build_done",
	                                        "build_ok",  "build_failed", "run_start",
	                                        "ready",     "not_ready",    "run_exit",
	                                        "stop_done", "reload" };

struct exec_hook {
	const struct gust_host *host;
	struct gust_ctx *ctx;
	const char *cmd;
	const char *const *env;
	size_t nenv;
	unsigned kill_delay_ms;
	bool on[EV_NAMES];
	char *changed; /* the latest build's paths, one per line */
	struct gust_tree *tree;
	bool stopped; /* the running command's tree is gone */
	uint64_t free_timer;
	/* the event waiting for the command to finish, as its variables */
	bool pending;
	char vars[5][CHANGED_MAX + 32];
};

static int name_index(const char *name)
{
	for (int i = 0; i < EV_NAMES; i++)
		if (!strcmp(ev_names[i], name))
			return i;
	return -1;
}

static void ex_destroy(void *self)
{
	struct exec_hook *x = self;
	if (!x)
		return;
	if (x->free_timer)
		x->host->timer_cancel(x->ctx, x->free_timer);
	if (x->tree)
		x->host->tree_free(x->tree); /* kills what is left, bounded */
	free(x->changed);
	free(x);
}

static void *ex_create(const struct gust_host *host, struct gust_ctx *ctx,
                       const struct gust_opts *opts)
{
	static const char *const keys[] = { "cmd", "on", "env", "kill_delay_ms", NULL };
	const char *const *on;
	size_t non = 0;
	long long delay;
	struct exec_hook *x = calloc(1, sizeof *x);
	if (!x) {
		host->set_error(ctx, "out of memory");
		return NULL;
	}
	x->host = host;
	x->ctx = ctx;
	if (host->opt_check_keys(ctx, opts, keys) < 0 ||
	    host->opt_string(ctx, opts, "cmd", NULL, &x->cmd) < 0 ||
	    host->opt_strv(ctx, opts, "on", &on, &non) < 0 ||
	    host->opt_env(ctx, opts, "env", &x->env, &x->nenv) < 0 ||
	    host->opt_int(ctx, opts, "kill_delay_ms", 2000, 0, 86400000, &delay) < 0)
		goto fail;
	x->kill_delay_ms = (unsigned)delay;
	if (!x->cmd || !*x->cmd) {
		host->set_error(ctx, "cmd: required: the command to run");
		goto fail;
	}
	if (!non) {
		host->set_error(ctx, "on: required: the events to run the command on, e.g. "
		                     "[\"build_failed\", \"ready\"]");
		goto fail;
	}
	for (size_t i = 0; i < non; i++) {
		int k = name_index(on[i]);
		if (k < 0) {
			host->set_error(
			    ctx,
			    "on/%zu: unknown event \"%s\" (expected change, build_start, "
			    "build_done, build_ok, build_failed, run_start, ready, "
			    "not_ready, run_exit, stop_done or reload)",
			    i, on[i]);
			goto fail;
		}
		x->on[k] = true;
	}
	return x;
fail:
	free(x);
	return NULL;
}

static void run_pending(struct exec_hook *x);

static void on_free_timer(void *arg)
{
	struct exec_hook *x = arg;
	x->free_timer = 0;
	x->host->tree_free(x->tree);
	x->tree = NULL;
	if (x->pending)
		run_pending(x);
}

static void on_exited(struct gust_tree *tree, int status, void *arg)
{
	struct exec_hook *x = arg;
	if (status != 0)
		x->host->log(x->ctx, GUST_LOG_WARN, "\"%s\" failed (status 0x%x)", x->cmd,
		             (unsigned)status);
	/* what it left running goes with it before the next one starts */
	if (x->host->tree_stop(tree, SIGTERM, x->kill_delay_ms) < 0 && !x->host->tree_alive(tree) &&
	    !x->free_timer)
		x->free_timer = x->host->timer_add(x->ctx, 0, on_free_timer, x);
}

static void on_stopped(struct gust_tree *tree, void *arg)
{
	struct exec_hook *x = arg;
	(void)tree;
	/* the tree is freed outside its own callback */
	if (!x->free_timer)
		x->free_timer = x->host->timer_add(x->ctx, 0, on_free_timer, x);
}

static const struct gust_tree_events tree_events = {
	.size = sizeof(struct gust_tree_events),
	.exited = on_exited,
	.stopped = on_stopped,
};

static void run_pending(struct exec_hook *x)
{
	const char **env = calloc(x->nenv + 6, sizeof *env);
	if (!env) {
		x->host->log(x->ctx, GUST_LOG_ERROR, "out of memory");
		return;
	}
	size_t k = 0;
	for (size_t i = 0; i < x->nenv; i++)
		env[k++] = x->env[i];
	for (size_t i = 0; i < 5; i++)
		env[k++] = x->vars[i];
	const char *argv[] = { "/bin/sh", "-c", x->cmd, NULL };
	struct gust_spawn sp = {
		.size = sizeof sp,
		.argv = argv,
		.env = env,
		.cwd = x->host->root(x->ctx),
		.stdin_fd = -1,
		.stdout_fd = -1,
		.stderr_fd = -1,
		.flags = GUST_SPAWN_NO_PATH,
	};
	x->pending = false;
	x->tree = x->host->tree_spawn(x->ctx, &sp, &tree_events, x);
	if (!x->tree)
		x->host->log(x->ctx, GUST_LOG_ERROR, "cannot run \"%s\"", x->cmd);
	free(env);
}

/* An exit code from a waitpid() status (128+N for signal N), -1 for a
 * negative errno. */
static int exit_code(int status)
{
	if (status < 0)
		return -1;
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return status;
}

static void remember_paths(struct exec_hook *x, const char *const *paths)
{
	size_t n = 0;
	for (size_t i = 0; paths[i]; i++)
		n += strlen(paths[i]) + 1;
	char *s = malloc(n + 1), *p = s;
	if (!s)
		return;
	for (size_t i = 0; paths[i]; i++)
		p += sprintf(p, "%s%s", i ? "\n" : "", paths[i]);
	*p = '\0';
	free(x->changed);
	x->changed = s;
}

static void ex_event(void *self, const struct gust_event_info *ev)
{
	struct exec_hook *x = self;
	int k = -1, also = -1;
	char *build_paths = NULL; /* kept while a reload's paths stand in */
	switch (ev->type) {
	case GUST_EVENT_CHANGE:
		k = 0;
		break;
	case GUST_EVENT_BUILD_START:
		remember_paths(x, ev->paths);
		k = 1;
		break;
	case GUST_EVENT_BUILD_DONE:
		k = ev->status == 0 ? 3 : 4;
		also = 2;
		break;
	case GUST_EVENT_RUN_START:
		k = 5;
		break;
	case GUST_EVENT_READY:
		k = ev->status == 0 ? 6 : 7;
		break;
	case GUST_EVENT_RUN_EXIT:
		k = 8;
		break;
	case GUST_EVENT_STOP_DONE:
		k = 9;
		break;
	case GUST_EVENT_RELOAD:
		build_paths = x->changed;
		x->changed = NULL;
		remember_paths(x, ev->paths);
		k = 10;
		break;
	}
	if (k < 0 || !(x->on[k] || (also >= 0 && x->on[also])))
		goto out;
	int status = ev->type == GUST_EVENT_BUILD_DONE || ev->type == GUST_EVENT_RUN_EXIT
	                 ? exit_code(ev->status)
	             : ev->status < 0 ? -1
	                              : ev->status;
	snprintf(x->vars[0], sizeof x->vars[0], "GUST_EVENT=%s", ev_names[k]);
	snprintf(x->vars[1], sizeof x->vars[1], "GUST_STATUS=%d", status);
	snprintf(x->vars[2], sizeof x->vars[2], "GUST_DURATION_MS=%llu",
	         (unsigned long long)ev->duration_ms);
	snprintf(x->vars[3], sizeof x->vars[3], "GUST_DETAIL=%s", ev->detail);
	snprintf(x->vars[4], sizeof x->vars[4], "GUST_CHANGED=%.*s", CHANGED_MAX,
	         x->changed ? x->changed : "");
	x->pending = true;
	if (!x->tree) /* else it runs once the command before it is gone */
		run_pending(x);
	else
		x->host->log(x->ctx, GUST_LOG_DEBUG, "%s: \"%s\" still runs; it runs after",
		             ev_names[k], x->cmd);
out:
	if (k == 10) {
		free(x->changed);
		x->changed = build_paths;
	}
}

static const struct gust_hook_ops ops = {
	.size = sizeof(struct gust_hook_ops),
	.create = ex_create,
	.event = ex_event,
	.destroy = ex_destroy,
};

GUST_PLUGIN_DEFINE(hook, "exec", VERSION, ops);
