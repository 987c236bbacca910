/* filter.h - which changes matter: include/exclude rules, .gitignore,
 * unchanged-content skip. The same verdicts for every watcher. */
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

/* exclude_unchanged: true when path's content hash equals the one recorded at
 * the last filter_commit() (or the first time the file was seen), or, while
 * a build of it runs, the one that build started from. A missing file is
 * always a change. */
bool filter_unchanged(struct filter *f, const char *path);
/* exclude_unchanged: true when path's content is exactly what the last
 * build that included it saw (filter_commit()), or what the running build
 * of it started from; false for a file no build has seen, or a missing one. */
bool filter_as_built(struct filter *f, const char *path);
/* Events were lost (a rescan): no recorded hash can be trusted any more;
 * every file's next event is a change, as the first one is. */
void filter_forget(struct filter *f);
/* A build of paths starts: record their hashes now, as what it builds. */
void filter_stage(struct filter *f, const char *const *paths);
/* That build succeeded: its staged hashes become the "built" ones. */
void filter_commit(struct filter *f, const char *const *paths);
/* That build failed or was cancelled: forget its staged hashes. */
void filter_unstage(struct filter *f, const char *const *paths);

#endif
