/*
 * runner-hello.c - a complete gust runner in one file, built outside the
 * gust source tree against the installed <gust/plugin.h> only.
 *
 * It runs "bin" with "args" in the project root, greets in gust's log, and
 * on a stop sends SIGTERM to the whole process tree, waits up to
 * "kill_delay_ms", then SIGKILL: everything through the host table, so it
 * keeps the same lifecycle contract as gust's own runners (the whole tree
 * is gone before the next run starts).
 *
 *   "runner": { "plugin": "hello", "bin": "./tmp/main", "args": ["-v"],
 *               "greeting": "hello", "kill_delay_ms": 2000 }
 *
 * Build and install:  make && make install
 * Select it by name ("plugin": "hello", found as runner-hello.so along
 * plugin_path, $GUST_PLUGIN_PATH and pkg-config's plugindir) or by path
 * ("plugin": "/abs/path/runner-hello.so").
 */
#include <gust/plugin.h>

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

struct hello {
	const struct gust_host *host; /* borrowed: valid for our whole life */
	struct gust_ctx *ctx;         /* borrowed: valid until destroy() returns */
	const char **argv;            /* owned array; strings borrowed from opts */
	const char *greeting;         /* borrowed from opts */
	unsigned kill_delay_ms;
	unsigned runs;
	struct gust_tree *tree; /* the current run, or NULL */
	struct gust_tree *done; /* a stopped tree, freed at the next start */
};

static void on_exited(struct gust_tree *tree, int status, void *arg)
{
	struct hello *h = arg;
	(void)tree;
	/* The root is gone but descendants may live on; the core calls stop()
	 * before the next start, and that sweeps them. */
	h->host->run_exited(h->ctx, status);
}

static void on_stopped(struct gust_tree *tree, void *arg)
{
	struct hello *h = arg;
	/* Keep the handle until we are out of the core's callback. */
	h->done = tree;
	h->tree = NULL;
	h->host->log(h->ctx, GUST_LOG_INFO, "goodbye from run %u", h->runs);
	h->host->stop_done(h->ctx);
}

static const struct gust_tree_events hello_events = { sizeof(struct gust_tree_events), on_exited,
	                                              on_stopped };

static void *hello_create(const struct gust_host *host, struct gust_ctx *ctx,
                          const struct gust_opts *opts)
{
	static const char *const known[] = { "bin", "args", "greeting", "kill_delay_ms", NULL };
	const char *bin, *greeting;
	const char *const *args;
	size_t nargs, i;
	long long delay;
	struct hello *h;

	if (host->opt_check_keys(ctx, opts, known) < 0 ||
	    host->opt_string(ctx, opts, "bin", "./tmp/main", &bin) < 0 ||
	    host->opt_strv(ctx, opts, "args", &args, &nargs) < 0 ||
	    host->opt_string(ctx, opts, "greeting", "hello", &greeting) < 0 ||
	    host->opt_int(ctx, opts, "kill_delay_ms", 2000, 0, 600000, &delay) < 0)
		return NULL; /* the host has recorded why */
	if (bin[0] == '\0') {
		host->set_error(ctx, "/runner/bin: must not be empty");
		return NULL;
	}
	h = calloc(1, sizeof *h);
	if (h)
		h->argv = calloc(nargs + 2, sizeof *h->argv);
	if (!h || !h->argv) {
		free(h);
		host->set_error(ctx, "out of memory");
		return NULL;
	}
	h->host = host;
	h->ctx = ctx;
	h->argv[0] = bin;
	for (i = 0; i < nargs; i++)
		h->argv[i + 1] = args[i];
	h->greeting = greeting;
	h->kill_delay_ms = (unsigned)delay;
	return h;
}

static int hello_start(void *self)
{
	struct hello *h = self;
	struct gust_spawn spec;

	if (h->done) {
		h->host->tree_free(h->done);
		h->done = NULL;
	}
	memset(&spec, 0, sizeof spec);
	spec.size = sizeof spec;
	spec.argv = h->argv;
	spec.cwd = h->host->root(h->ctx); /* so "./tmp/main" means the root's */
	spec.stdin_fd = -1;
	spec.stdout_fd = -1;
	spec.stderr_fd = -1;
	h->tree = h->host->tree_spawn(h->ctx, &spec, &hello_events, h);
	if (!h->tree)
		return -ENOEXEC; /* tree_spawn has recorded why */
	h->runs++;
	h->host->log(h->ctx, GUST_LOG_INFO, "%s from run %u: %s (pid %ld)", h->greeting, h->runs,
	             h->argv[0], (long)h->host->tree_pid(h->tree));
	return 0;
}

static int hello_stop(void *self, bool force)
{
	struct hello *h = self;

	if (!h->tree) {
		/* Nothing left to stop: the stop is complete at once. */
		h->host->stop_done(h->ctx);
		return 0;
	}
	if (force)
		return h->host->tree_kill(h->tree);
	return h->host->tree_stop(h->tree, SIGTERM, h->kill_delay_ms);
}

static void hello_destroy(void *self)
{
	struct hello *h = self;

	if (!h)
		return;
	/* tree_free() kills a tree that is still alive, so nothing survives. */
	if (h->tree)
		h->host->tree_free(h->tree);
	if (h->done)
		h->host->tree_free(h->done);
	free(h->argv);
	free(h);
}

static const struct gust_runner_ops hello_ops = { sizeof(struct gust_runner_ops), hello_create,
	                                          hello_start, hello_stop, hello_destroy };

GUST_PLUGIN_DEFINE(runner, "hello", "1.0", hello_ops);
