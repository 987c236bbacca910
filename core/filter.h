/* filter.h - which changes matter: include/exclude rules and .gitignore.
 * The same verdicts for every watcher. */
#ifndef GUST_FILTER_H
#define GUST_FILTER_H

#include <stdbool.h>
#include <stddef.h>

struct config;
struct filter;

/* Build the filter from cfg->root, cfg->tmp_dir and cfg->watch; the
 * regexes are cfg->watch.exclude_re, compiled by config_load() and borrowed
 * (cfg must outlive the filter). Reads .gitignore files lazily. NULL + err
 * on failure. */
struct filter *filter_new(const struct config *cfg, char *err, size_t errlen);
void filter_free(struct filter *f);

/* path: absolute (under root) or root-relative. For a directory: true if it
 * must not be walked or watched. For a file: true if a change to it does not
 * matter. The root itself is never ignored. */
bool filter_ignored(struct filter *f, const char *path, bool is_dir);

#endif
