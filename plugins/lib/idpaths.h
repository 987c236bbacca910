/* idpaths.h - a table from watch identifiers (inotify wd, kqueue fd) to
 * root-relative paths. */
#ifndef GUST_IDPATHS_H
#define GUST_IDPATHS_H

#include <stddef.h>

struct walk_paths;

struct walk_paths *walk_paths_new(void);
void walk_paths_free(struct walk_paths *t);
/* Replace or add; the path is copied. 0 or -ENOMEM. */
int walk_paths_set(struct walk_paths *t, int ident, const char *rel);
/* The path, or NULL. Valid until the next walk_paths_set() of any ident
 * (which may move every path) or walk_paths_free(). */
const char *walk_paths_get(const struct walk_paths *t, int ident);
void walk_paths_del(struct walk_paths *t, int ident);
size_t walk_paths_count(const struct walk_paths *t);
/* Call fn for every ident whose path is rel or lies under it; fn may delete
 * that ident (only that one). */
void walk_paths_under(struct walk_paths *t, const char *rel,
                      void (*fn)(void *arg, int ident, const char *path), void *arg);

#endif
