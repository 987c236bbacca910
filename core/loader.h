/* loader.h - finding, opening and checking plugins. */
#ifndef GUST_LOADER_H
#define GUST_LOADER_H

#include <gust/plugin.h>
#include <stddef.h>
#include <stdio.h>

struct plugin {
	void *handle;
	const struct gust_plugin_desc *desc;
	char *file; /* the file opened, malloc'd */
};

const char *plugin_kind_name(enum gust_kind kind);

/* The search directories, in order: config's plugin_path (may be NULL),
 * each entry of $GUST_PLUGIN_PATH (colon-separated), the compiled-in
 * plugin directory. malloc'd NULL-terminated array of malloc'd strings. */
char **plugin_search_dirs(char *const *config_path);
void plugin_free_dirs(char **dirs);

/* Load the plugin that spec names for kind: a spec containing '/' is a path,
 * otherwise <kind>-<spec>.so is searched along dirs. Checks the symbol, the
 * ABI, the kind and the required ops. 0, or -errno with a one-line message
 * in err (without the "gust: " prefix) naming the file. */
int plugin_load(struct plugin *p, enum gust_kind kind, const char *spec, char *const *dirs,
                char *err, size_t errlen);

/* Open one file and check it; kind 0 accepts any kind. */
int plugin_open_file(struct plugin *p, const char *file, enum gust_kind kind, char *err,
                     size_t errlen);

void plugin_unload(struct plugin *p);

/* Print every plugin found along dirs: kind, name, version, ABI, file; and
 * a line for each file that fails to load, with the reason. Returns the
 * number of plugins found. */
int plugin_list(char *const *dirs, FILE *out);

#endif
