/* walk.h - the directory walker shared by the inotify, kqueue and poll
 * plugins (through the snapshot too): it asks the core's filter
 * (host->is_ignored) before entering a directory, honours follow_symlinks,
 * never walks a directory twice (symlink loops), and warns about unreadable
 * ones. The rest of the watchers' bookkeeping: idpaths.h (watch identifier
 * to path), snap.h (snapshot and diff), poller.h (polling).
 *
 * All paths are root-relative ("" is the root) unless said otherwise. */
#ifndef GUST_WALK_H
#define GUST_WALK_H

#include <gust/plugin.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>

/* What every walk needs: the host (filter, logging) and the root. Borrowed
 * by everything below for its life. */
struct walker {
	const struct gust_host *host;
	struct gust_ctx *ctx;
	const char *root; /* absolute, no trailing slash (host->root()) */
	size_t root_len;
	bool follow; /* follow symlinked directories */
};

void walker_init(struct walker *w, const struct gust_host *host, struct gust_ctx *ctx);

/* root + "/" + rel into buf; -ENAMETOOLONG if it does not fit. */
int walk_abs(const struct walker *w, const char *rel, char *buf, size_t len);
/* dir + "/" + name into buf (dir "" or name "": the other alone; no "/"
 * doubled after a dir ending in one); 0, or -ENAMETOOLONG. */
int walk_join(char *buf, size_t len, const char *dir, const char *name);

/* One entry met by walk_tree(). Everything is valid during the call only. */
struct walk_entry {
	const char *rel;       /* root-relative path */
	const char *name;      /* last component ("" for the root) */
	const struct stat *st; /* NULL for a file when ops->want_stat is off */
	bool is_dir;
	uintptr_t parent; /* the cookie of the directory holding it */
};

struct walk_ops {
	/* A directory the filter allows. Set *cookie (handed to its entries);
	 * return 1 to descend, 0 to skip it, <0 to abort the walk. */
	int (*dir)(void *arg, const struct walk_entry *e, uintptr_t *cookie);
	/* Anything else (files, and symlinks not followed). May be NULL;
	 * <0 aborts. Files are not filtered: the core filters events. */
	int (*file)(void *arg, const struct walk_entry *e);
	bool want_stat; /* stat files too (directories are always stat'ed) */
};

/* Walk directory rel and everything under it that the filter allows;
 * rel itself is passed to ops->dir first (with parent_cookie). An unreadable
 * directory is warned about and skipped. Returns 0, or the first negative
 * value a callback returned. */
int walk_tree(const struct walker *w, const char *rel, uintptr_t parent_cookie,
              const struct walk_ops *ops, void *arg);

/* Report kind for root-relative rel as an absolute path. */
void walk_report(const struct walker *w, const char *rel, enum gust_change kind);

/* For the snapshot, which walks with its own state: append name to path
 * (PATH_MAX bytes, len used; "" is the root), the new length or 0 when it
 * does not fit; open directory name in dfd as the walker does (follows
 * symlinks only with follow); warn once that rel cannot be read. */
size_t walk_path_push(char *path, size_t len, const char *name);
int walk_open_dir_at(const struct walker *w, int dfd, const char *name);
void walk_warn_unreadable(const struct walker *w, const char *rel, int err);

#endif
