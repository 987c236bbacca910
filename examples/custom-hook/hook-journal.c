/* hook-journal.c - an example hook plugin for gust, built out of tree
 * against the installed SDK (see the Makefile beside it).
 *
 * It appends one line per step of the cycle to a file, says in gust's log
 * how long each new run took to get ready, and can ask gust to restart a
 * program that exited by itself, after a delay:
 *
 *   "hooks": [ { "plugin": "journal", "file": "tmp/journal.log",
 *                "restart_after_ms": 1000 } ]
 *
 * Like every plugin it runs on gust's one thread: event() returns at
 * once, and the delayed request goes through a timer of gust's loop. */
#define _POSIX_C_SOURCE 200809L

#include <gust/plugin.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct journal {
	const struct gust_host *host;
	struct gust_ctx *ctx;
	FILE *f;
	unsigned restart_after_ms; /* 0: never ask */
	uint64_t timer;            /* the pending restart request, or 0 */
};

static const char *event_name(enum gust_event type)
{
	switch (type) {
	case GUST_EVENT_CHANGE:
		return "change";
	case GUST_EVENT_BUILD_START:
		return "build_start";
	case GUST_EVENT_BUILD_DONE:
		return "build_done";
	case GUST_EVENT_RUN_START:
		return "run_start";
	case GUST_EVENT_READY:
		return "ready";
	case GUST_EVENT_RUN_EXIT:
		return "run_exit";
	case GUST_EVENT_STOP_DONE:
		return "stop_done";
	case GUST_EVENT_RELOAD:
		return "reload";
	}
	return "unknown"; /* a type added by a newer core */
}

static void destroy(void *self)
{
	struct journal *j = self;
	if (!j)
		return;
	if (j->timer)
		j->host->timer_cancel(j->ctx, j->timer);
	fclose(j->f);
	free(j);
}

static void *create(const struct gust_host *host, struct gust_ctx *ctx,
                    const struct gust_opts *opts)
{
	static const char *const known[] = { "file", "restart_after_ms", NULL };
	const char *file;
	long long after;
	char path[4096];
	struct journal *j;
	int fd;

	if (host->opt_check_keys(ctx, opts, known) < 0 ||
	    host->opt_string(ctx, opts, "file", NULL, &file) < 0 ||
	    host->opt_int(ctx, opts, "restart_after_ms", 0, 0, 3600000, &after) < 0)
		return NULL;
	if (!file || !*file) {
		host->set_error(ctx, "file: required: where to write the journal");
		return NULL;
	}
	/* request_restart came with ABI 1.1: a 1.0 core has no such member */
	if (after > 0 && !GUST_HAS(host, request_restart)) {
		host->set_error(ctx, "restart_after_ms: this gust takes no requests from hooks");
		return NULL;
	}
	if (file[0] == '/')
		snprintf(path, sizeof path, "%s", file);
	else
		snprintf(path, sizeof path, "%s/%s", host->root(ctx), file);
	/* close-on-exec: the processes gust starts must not inherit it */
	fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	if (fd < 0) {
		host->set_error(ctx, "file: cannot open %s: %s", path, strerror(errno));
		return NULL;
	}
	j = calloc(1, sizeof *j);
	if (!j || !(j->f = fdopen(fd, "a"))) {
		host->set_error(ctx, "out of memory");
		free(j);
		close(fd);
		return NULL;
	}
	setvbuf(j->f, NULL, _IOLBF, 0); /* each line reaches the file at once */
	j->host = host;
	j->ctx = ctx;
	j->restart_after_ms = (unsigned)after;
	return j;
}

static void on_timer(void *arg)
{
	struct journal *j = arg;
	int r;
	j->timer = 0;
	/* acted on from gust's loop after this returns; -EAGAIN before the
	 * first good build, -ESHUTDOWN while gust quits */
	r = j->host->request_restart(j->ctx);
	j->host->log(j->ctx, GUST_LOG_INFO, "asked for a restart: %s",
	             r == 0 ? "ok" : strerror(-r));
}

static void event(void *self, const struct gust_event_info *ev)
{
	struct journal *j = self;
	size_t i;

	fprintf(j->f, "%s status=%d ms=%llu", event_name(ev->type), ev->status,
	        (unsigned long long)ev->duration_ms);
	for (i = 0; ev->paths[i]; i++)
		fprintf(j->f, "%s%s", i ? "," : " paths=", ev->paths[i]);
	if (*ev->detail)
		fprintf(j->f, " detail=%s", ev->detail);
	fputc('\n', j->f);

	if (ev->type == GUST_EVENT_READY && ev->status == 0)
		j->host->log(j->ctx, GUST_LOG_INFO, "ready %llu ms after its start (%s)",
		             (unsigned long long)ev->duration_ms, ev->detail);
	if (ev->type == GUST_EVENT_RUN_START && j->timer) {
		j->host->timer_cancel(j->ctx, j->timer); /* started anyway */
		j->timer = 0;
	}
	if (ev->type == GUST_EVENT_RUN_EXIT && j->restart_after_ms && !j->timer)
		j->timer = j->host->timer_add(j->ctx, j->restart_after_ms, on_timer, j);
}

static const struct gust_hook_ops ops = { sizeof ops, create, event, destroy };

GUST_PLUGIN_DEFINE(hook, "journal", "1.0", ops);
