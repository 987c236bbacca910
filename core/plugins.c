/* plugins.c - the app's plugin instances (see plugins.h): the section
 * of each kind loaded with the loader, the watcher "auto" resolved, and
 * create()/destroy() called through the kind's vtable. */
#include "config.h"

#include "app.h"
#include "fstype.h"
#include "host.h"
#include "loop.h"
#include "plugins.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>

static const char *const watcher_auto[] = { "inotify", "kqueue", "poll", NULL };

static enum log_stage stage_of(enum gust_kind kind)
{
	switch (kind) {
	case GUST_KIND_WATCHER:
		return STAGE_WATCH;
	case GUST_KIND_BUILDER:
		return STAGE_BUILD;
	case GUST_KIND_RUNNER:
		return STAGE_RUN;
	case GUST_KIND_HOOK:
		return STAGE_HOOK;
	}
	return STAGE_GUST;
}

static int create_instance(struct gust_ctx *ctx)
{
	const struct gust_plugin_desc *d = ctx->plugin.desc;
	void *(*create)(const struct gust_host *, struct gust_ctx *, const struct gust_opts *) =
	    NULL;
	switch (d->kind) {
	case GUST_KIND_WATCHER:
		create = ((const struct gust_watcher_ops *)d->ops)->create;
		break;
	case GUST_KIND_BUILDER:
		create = ((const struct gust_builder_ops *)d->ops)->create;
		break;
	case GUST_KIND_RUNNER:
		create = ((const struct gust_runner_ops *)d->ops)->create;
		break;
	case GUST_KIND_HOOK:
		create = ((const struct gust_hook_ops *)d->ops)->create;
		break;
	}
	ctx->err[0] = '\0';
	ctx->self = create(&app_host, ctx, &ctx->opts);
	if (!ctx->self) {
		/* An option error already names the config file and the JSON
		 * path; anything else is the plugin's own reason. */
		size_t wl = strlen(ctx->opts.where);
		size_t pl = strlen(ctx->opts.path);
		if (strncmp(ctx->err, ctx->opts.where, wl) == 0 &&
		    strncmp(ctx->err + wl, ": /", 3) == 0)
			log_error("%s", ctx->err);
		else if (strncmp(ctx->err, ctx->opts.path, pl) == 0 &&
		         (ctx->err[pl] == '/' || ctx->err[pl] == ':'))
			log_error("%s: %s", ctx->opts.where,
			          ctx->err); /* the plugin named its key */
		else
			log_error("%s: create failed: %s", ctx->plugin.file,
			          ctx->err[0] ? ctx->err : "no reason given");
		return -EINVAL;
	}
	return 0;
}

/* The root, or else the first include_dir, when it is on a network or
 * virtual file system (fstype.h): its path in dir, the file system's name
 * returned. NULL when every one is local (or cannot be told). */
static const char *remote_dir(const struct config *cfg, char *dir, size_t len)
{
	const char *fs = fstype_remote_dir(cfg->root);
	snprintf(dir, len, "%s", cfg->root);
	for (size_t i = 0; !fs && cfg->watch.include_dir && cfg->watch.include_dir[i]; i++) {
		if (snprintf(dir, len, "%s/%s", cfg->root, cfg->watch.include_dir[i]) < (int)len)
			fs = fstype_remote_dir(dir);
	}
	return fs;
}

/* "auto": poll where inotify would miss writes made elsewhere (said once
 * per gust), else the first of watcher_auto that loads. */
static int load_auto_watcher(struct app *app, struct gust_ctx *ctx, char *err, size_t errlen)
{
	char dir[4096];
	const char *fs = remote_dir(app->cfg, dir, sizeof dir);
	if (fs &&
	    plugin_load(&ctx->plugin, GUST_KIND_WATCHER, "poll", app->dirs, err, errlen) == 0) {
		if (!app->auto_poll_said)
			log_msg(
			    GUST_LOG_INFO, STAGE_WATCH,
			    "watcher \"auto\": poll, as %s is on %s, where inotify does not see "
			    "writes made by other machines",
			    dir, fs);
		app->auto_poll_said = true;
		return 0;
	}
	int r = -ENOENT;
	for (size_t i = 0; watcher_auto[i]; i++) {
		r = plugin_load(&ctx->plugin, GUST_KIND_WATCHER, watcher_auto[i], app->dirs, err,
		                errlen);
		if (r == 0)
			break;
	}
	if (r < 0)
		log_error("watcher plugin \"auto\": none of inotify, kqueue, poll could be loaded: "
		          "%s",
		          err);
	return r;
}

int plugins_create(struct app *app, struct gust_ctx *ctx, enum gust_kind kind,
                   struct json_t *section, const char *path)
{
	char err[2048];
	const char *spec = json_string_value(json_object_get(section, "plugin"));
	ctx->app = app;
	ctx->kind = kind;
	ctx->stage = stage_of(kind);
	ctx->opts.obj = section;
	ctx->opts.where = app->cfg->file ? app->cfg->file : "defaults";
	ctx->opts.path = path;
	ctx->opts.cfg = (struct config *)app->cfg; /* only its cache is written */
	int r;
	if (kind == GUST_KIND_WATCHER && spec && strcmp(spec, "auto") == 0) {
		if ((r = load_auto_watcher(app, ctx, err, sizeof err)) < 0)
			return r;
	} else {
		/* a path is relative to the root, like every other path in
		 * the config, not to wherever gust was started */
		char file[4096];
		if (spec && strchr(spec, '/') && spec[0] != '/') {
			if (snprintf(file, sizeof file, "%s/%s", app->cfg->root, spec) >=
			    (int)sizeof file) {
				log_error("%s: %s: plugin path too long", ctx->opts.where, path);
				return -ENAMETOOLONG;
			}
			spec = file;
		}
		r = plugin_load(&ctx->plugin, kind, spec, app->dirs, err, sizeof err);
		if (r < 0) {
			log_error("%s", err);
			return r;
		}
	}
	return create_instance(ctx);
}

int plugins_create_all(struct app *app)
{
	const struct config *cfg = app->cfg;
	int r;
	if ((r = plugins_create(app, &app->watcher, GUST_KIND_WATCHER, cfg->watcher, "/watcher")) <
	        0 ||
	    (r = plugins_create(app, &app->builder, GUST_KIND_BUILDER, cfg->builder, "/builder")) <
	        0 ||
	    (r = plugins_create(app, &app->runner, GUST_KIND_RUNNER, cfg->runner, "/runner")) < 0 ||
	    (r = hooks_load(&app->hooks, app)) < 0)
		return r;
	return 0;
}

void plugins_destroy(struct gust_ctx *ctx)
{
	if (!ctx->plugin.desc)
		return;
	if (ctx->self) {
		switch (ctx->kind) {
		case GUST_KIND_WATCHER:
			((const struct gust_watcher_ops *)ctx->plugin.desc->ops)
			    ->destroy(ctx->self);
			break;
		case GUST_KIND_BUILDER:
			((const struct gust_builder_ops *)ctx->plugin.desc->ops)
			    ->destroy(ctx->self);
			break;
		case GUST_KIND_RUNNER:
			((const struct gust_runner_ops *)ctx->plugin.desc->ops)->destroy(ctx->self);
			break;
		case GUST_KIND_HOOK:
			((const struct gust_hook_ops *)ctx->plugin.desc->ops)->destroy(ctx->self);
			break;
		}
	}
	ctx->self = NULL;
	plugin_unload(&ctx->plugin);
}

/* --print-config */

static void describe_one(struct app *app, enum gust_kind kind, json_t *section, const char *path)
{
	struct gust_ctx ctx;
	memset(&ctx, 0, sizeof ctx);
	if (section)
		(void)plugins_create(app, &ctx, kind, section, path);
	plugins_destroy(&ctx);
}

void plugins_describe(struct config *cfg)
{
	struct app app;
	memset(&app, 0, sizeof app);
	app.cfg = cfg;
	/* the runner's sockets are bound in create(): not for a print */
	json_t *runner = json_copy(cfg->runner);
	if ((app.loop = loop_new()) && (app.dirs = plugin_search_dirs(cfg->plugin_path)) &&
	    runner) {
		json_object_del(runner, "sockets");
		log_mute(true);
		describe_one(&app, GUST_KIND_WATCHER, cfg->watcher, "/watcher");
		describe_one(&app, GUST_KIND_BUILDER, cfg->builder, "/builder");
		describe_one(&app, GUST_KIND_RUNNER, runner, "/runner");
		for (size_t i = 0; i < json_array_size(cfg->hooks); i++) {
			char path[32];
			snprintf(path, sizeof path, "/hooks/%zu", i);
			describe_one(&app, GUST_KIND_HOOK, json_array_get(cfg->hooks, i), path);
		}
		log_mute(false);
	}
	json_decref(runner);
	plugin_free_dirs(app.dirs);
	if (app.loop)
		loop_free(app.loop);
}
