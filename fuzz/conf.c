/* conf.c - fuzz target "conf": the config loader end to end.
 *
 * Input: leading lines "--set KEY=VALUE" (at most 8) are --set texts, the
 * rest is the text of a gust.json (config_load_text(); a relative root is
 * the current directory). Checked:
 *   - loading either succeeds or fails with a message;
 *   - a loaded config's dump, written to a file in the fuzz directory,
 *     loads again with config_load() and dumps the same (what
 *     `gust --print-config` prints is a config gust accepts);
 *   - each section's in-tree plugin (watcher, builder, runner; "auto" is
 *     every watcher built here) is created from it and destroyed, as
 *     plugins_create() does, with a host table whose loop, process and
 *     reporting functions abort: create() must not start anything. A
 *     failed create() must have set a reason.
 * dlv's create() resolves runner.listen with getaddrinfo(): the harness
 * lets it resolve numeric addresses only, so no input sends a DNS query. */
#define _GNU_SOURCE
#include "config.h"

#include "app.h"
#include "conf.h"
#include "fuzz.h"
#include "host.h"

#include <dlfcn.h>
#include <jansson.h>
#include <netdb.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_SETS 8

/* ---- plugins linked in (fuzz/plugin-*.c) ---- */

#if HAVE_SYS_INOTIFY_H
extern const struct gust_plugin_desc fuzz_plugin_inotify;
#endif
#if HAVE_SYS_EVENT_H
extern const struct gust_plugin_desc fuzz_plugin_kqueue;
#endif
extern const struct gust_plugin_desc fuzz_plugin_poll, fuzz_plugin_shell, fuzz_plugin_plain,
    fuzz_plugin_dlv;

static const struct gust_plugin_desc *const plugins[] = {
#if HAVE_SYS_INOTIFY_H
	&fuzz_plugin_inotify,
#endif
#if HAVE_SYS_EVENT_H
	&fuzz_plugin_kqueue,
#endif
	&fuzz_plugin_poll,    &fuzz_plugin_shell, &fuzz_plugin_plain, &fuzz_plugin_dlv, NULL,
};

/* ---- no network: numeric addresses only ---- */

int getaddrinfo(const char *node, const char *service, const struct addrinfo *hints,
                struct addrinfo **res)
{
	static int (*real)(const char *, const char *, const struct addrinfo *, struct addrinfo **);
	if (!real)
		*(void **)&real = dlsym(RTLD_NEXT, "getaddrinfo");
	if (!real)
		abort();
	struct addrinfo h = { 0 };
	if (hints)
		h = *hints;
	h.ai_flags |= AI_NUMERICHOST;
	return real(node, service, &h, res);
}

/* ---- a host table for create() alone ---- */

static void must_not(const char *what)
{
	fprintf(stderr, "fuzz: create() or destroy() called host->%s\n", what);
	abort();
}

static void f_log(struct gust_ctx *ctx, enum gust_log_level level, const char *fmt, ...)
    GUST_PRINTF(3, 4);

static void f_log(struct gust_ctx *ctx, enum gust_log_level level, const char *fmt, ...)
{
	char buf[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof buf, fmt, ap); /* formatted, not shown */
	va_end(ap);
}

static int f_io_add(struct gust_ctx *ctx, int fd, unsigned events, gust_io_cb cb, void *arg)
{
	must_not("io_add");
	return -1;
}

static int f_io_mod(struct gust_ctx *ctx, int fd, unsigned events)
{
	must_not("io_mod");
	return -1;
}

static uint64_t f_timer_add(struct gust_ctx *ctx, unsigned ms, gust_timer_cb cb, void *arg)
{
	must_not("timer_add");
	return 0;
}

static int f_child_watch(struct gust_ctx *ctx, pid_t pid, gust_exit_cb cb, void *arg)
{
	must_not("child_watch");
	return -1;
}

static void f_changed(struct gust_ctx *ctx, const char *path, enum gust_change kind)
{
	must_not("changed");
}

static void f_build_done(struct gust_ctx *ctx, int status)
{
	must_not("build_done");
}

static void f_run_exited(struct gust_ctx *ctx, int status)
{
	must_not("run_exited");
}

static void f_stop_done(struct gust_ctx *ctx)
{
	must_not("stop_done");
}

static struct gust_tree *f_tree_spawn(struct gust_ctx *ctx, const struct gust_spawn *spec,
                                      const struct gust_tree_events *ev, void *arg)
{
	must_not("tree_spawn");
	return NULL;
}

static int f_tree_stop(struct gust_tree *tree, int sig, unsigned kill_delay_ms)
{
	must_not("tree_stop");
	return -1;
}

static int f_tree_kill(struct gust_tree *tree)
{
	must_not("tree_kill");
	return -1;
}

/* app_host with everything that needs a running app replaced. io_del and
 * timer_cancel stay out too: nothing was registered to remove. */
static struct gust_host host;

static void host_init(void)
{
	host = app_host;
	host.log = f_log;
	host.io_add = f_io_add;
	host.io_mod = f_io_mod;
	host.timer_add = f_timer_add;
	host.child_watch = f_child_watch;
	host.changed = f_changed;
	host.build_done = f_build_done;
	host.run_exited = f_run_exited;
	host.stop_done = f_stop_done;
	host.tree_spawn = f_tree_spawn;
	host.tree_stop = f_tree_stop;
	host.tree_kill = f_tree_kill;
}

/* ---- create and destroy one plugin instance ---- */

static void create_one(struct app *app, const struct gust_plugin_desc *d, json_t *section,
                       const char *path)
{
	void *(*create)(const struct gust_host *, struct gust_ctx *, const struct gust_opts *);
	void (*destroy)(void *);
	switch (d->kind) {
	case GUST_KIND_WATCHER:
		create = ((const struct gust_watcher_ops *)d->ops)->create;
		destroy = ((const struct gust_watcher_ops *)d->ops)->destroy;
		break;
	case GUST_KIND_BUILDER:
		create = ((const struct gust_builder_ops *)d->ops)->create;
		destroy = ((const struct gust_builder_ops *)d->ops)->destroy;
		break;
	default:
		create = ((const struct gust_runner_ops *)d->ops)->create;
		destroy = ((const struct gust_runner_ops *)d->ops)->destroy;
		break;
	}
	struct gust_ctx ctx = {
		.app = app,
		.kind = (enum gust_kind)d->kind,
		.opts = { section, app->cfg->file, path, (struct config *)app->cfg },
	};
	void *self = create(&host, &ctx, &ctx.opts);
	if (!self) {
		fuzz_check_message(d->name, ctx.err);
		return;
	}
	destroy(self);
}

static void create_plugins(const struct config *cfg)
{
	static const struct {
		enum gust_kind kind;
		const char *path;
	} sections[] = {
		{ GUST_KIND_WATCHER, "/watcher" },
		{ GUST_KIND_BUILDER, "/builder" },
		{ GUST_KIND_RUNNER, "/runner" },
	};
	json_t *objs[] = { cfg->watcher, cfg->builder, cfg->runner };
	struct app app = { .cfg = cfg };
	for (size_t s = 0; s < 3; s++) {
		const char *spec = json_string_value(json_object_get(objs[s], "plugin"));
		bool any = spec && sections[s].kind == GUST_KIND_WATCHER && !strcmp(spec, "auto");
		for (size_t i = 0; spec && plugins[i]; i++)
			if (plugins[i]->kind == (uint32_t)sections[s].kind &&
			    (any || !strcmp(spec, plugins[i]->name)))
				create_one(&app, plugins[i], objs[s], sections[s].path);
	}
}

/* ---- the dump loads again, and dumps the same ---- */

static void check_dump(const struct config *cfg)
{
	char *dump = config_dump(cfg);
	if (!dump)
		abort();
	char path[4096], err[2048];
	fuzz_write("dump.json", dump, strlen(dump), path, sizeof path);
	struct config again;
	if (config_load(&again, path, NULL, err, sizeof err) < 0) {
		fprintf(stderr, "fuzz: the dump does not load: %s\n--- dump:\n%s\n", err, dump);
		abort();
	}
	char *dump2 = config_dump(&again);
	if (!dump2 || strcmp(dump, dump2) != 0) {
		fprintf(stderr, "fuzz: the dump of the dump differs:\n%s\n---\n%s\n", dump,
		        dump2 ? dump2 : "(null)");
		abort();
	}
	free(dump2);
	config_free(&again);
	free(dump);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!host.size)
		host_init();
	char *text = fuzz_text(data, size);
	const char *sets[MAX_SETS + 1] = { 0 };
	size_t nsets = 0;
	char *body = text;
	while (nsets < MAX_SETS && strncmp(body, "--set ", 6) == 0) {
		char *nl = strchr(body, '\n');
		sets[nsets++] = body + 6;
		if (!nl) {
			body += strlen(body);
			break;
		}
		*nl = '\0';
		body = nl + 1;
	}
	char err[2048];
	/* the input may hold NUL bytes: the text is all of them */
	struct config cfg;
	if (config_load_text(&cfg, "gust.json", body, size - (size_t)(body - text),
	                     nsets ? sets : NULL, err, sizeof err) < 0) {
		fuzz_check_message("config_load_text", err);
	} else {
		check_dump(&cfg);
		create_plugins(&cfg);
	}
	config_free(&cfg);
	free(text);
	return 0;
}
