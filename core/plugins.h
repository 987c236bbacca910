/* plugins.h - the app's plugin instances: each plugin section of the
 * config loaded (loader.c) and created (its create() with the host table),
 * the watcher "auto" resolved, and destroyed again. */
#ifndef GUST_PLUGINS_H
#define GUST_PLUGINS_H

#include <gust/plugin.h>

#include "conf.h"
#include "loader.h"
#include "log.h"

struct app;
struct json_t;

/* The core's side of one plugin instance. */
struct gust_ctx {
	struct app *app;
	enum gust_kind kind;
	enum log_stage stage;
	struct plugin plugin;
	struct gust_opts opts;
	void *self;     /* what create() returned */
	char err[1024]; /* set_error() */
};

/* Load the plugin that section names for kind (path: the section's JSON
 * path, "/runner"), resolving the watcher "auto", and create an instance
 * into ctx. 0, or -errno with the error printed. */
int plugins_create(struct app *app, struct gust_ctx *ctx, enum gust_kind kind,
                   struct json_t *section, const char *path);
/* The watcher, builder, runner and hooks of app->cfg, in that order. */
int plugins_create_all(struct app *app);
/* Destroy a plugin instance and unload it (a zeroed ctx is fine). */
void plugins_destroy(struct gust_ctx *ctx);

/* For --print-config: create each plugin of cfg once and destroy it at
 * once, so that their option readers note in cfg the defaults they fall
 * back to (config_dump() shows them). Quiet; a plugin that cannot be
 * loaded or created adds what it read until then. */
void plugins_describe(struct config *cfg);

#endif
