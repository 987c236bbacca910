/* walk.h - watcher bookkeeping shared by the inotify, kqueue and poll
 * plugins (in the plugins' shared library, linked into each of them and into
 * tests/test_walk so Linux exercises what kqueue relies on):
 *
 *   - a directory walker that asks the core's filter (host->is_ignored)
 *     before entering a directory, honours follow_symlinks, never walks a
 *     directory twice (symlink loops), and warns about unreadable ones;
 *   - a table from watch identifiers (inotify wd, kqueue fd) to paths;
 *   - a compact snapshot (one entry per path: parent, interned name, a stamp
 *     of mtime/size/inode/type) with a rescan that reports the differences
 *     as create/write/remove events;
 *   - a poller built on the snapshot (the poll plugin, and the fallback of
 *     the inotify plugin).
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

/* ---- ident -> path ---- */

struct walk_paths;

struct walk_paths *walk_paths_new(void);
void walk_paths_free(struct walk_paths *t);
/* Replace or add; the path is copied. 0 or -ENOMEM. */
int walk_paths_set(struct walk_paths *t, int ident, const char *rel);
/* The path, or NULL. Valid until the ident is set or deleted. */
const char *walk_paths_get(const struct walk_paths *t, int ident);
void walk_paths_del(struct walk_paths *t, int ident);
size_t walk_paths_count(const struct walk_paths *t);
/* Call fn for every ident whose path is rel or lies under it; fn may delete
 * that ident (only that one). */
void walk_paths_under(struct walk_paths *t, const char *rel,
                      void (*fn)(void *arg, int ident, const char *path), void *arg);

/* ---- snapshot and diff ---- */

#define WALK_NONE UINT32_MAX

struct walk_snap;

/* A difference found by walk_snap_scan(). id is the entry (valid during the
 * call; for GUST_CHANGE_REMOVE it is deleted right after). Removes of a
 * directory's contents come before the directory's own. */
typedef void (*walk_emit_fn)(void *arg, struct walk_snap *s, uint32_t id, const char *rel,
                             enum gust_change kind, bool is_dir);

struct walk_snap *walk_snap_new(void);
void walk_snap_free(struct walk_snap *s);

/* Rescan directory rel (which must be "" or a directory in the snapshot),
 * updating the snapshot and calling emit (if not NULL) for each change:
 * CREATE for a new path (new directories are scanned whole), WRITE for a
 * non-directory whose stamp changed (mtime, size, inode or type), REMOVE
 * for a path gone (or newly ignored). recursive: rescan the known
 * subdirectories too. 0, -ENOENT if rel is unknown or gone, -ENOMEM.
 *
 * rel is always listed. In a recursive scan a subdirectory whose mtime,
 * ctime, inode, size and link count are those it had when it was last
 * listed holds the same names: its entries are stat'ed by name, without
 * listing it. A listing counts for that only when the directory's mtime and
 * ctime were at least racy_ms (2 s) old when it began, since a change in
 * the same clock tick leaves them as they were; and every directory is
 * listed at least every 16th recursive scan whatever its stamp says. Ignored
 * directories (and ones met twice: symlink loops) are kept as hidden
 * entries, so that one the filter lets in again is found without listing
 * its parent; hidden entries are invisible to every function below. */
int walk_snap_scan(struct walk_snap *s, const struct walker *w, const char *rel, bool recursive,
                   walk_emit_fn emit, void *arg);

/* Re-stat one entry and record its stamp silently (after reporting a write
 * the watcher saw itself, so the next rescan does not report it again).
 * 0, or -ENOENT when it is gone (the parent's rescan will say so). */
int walk_snap_restat(struct walk_snap *s, const struct walker *w, uint32_t id);

/* The entry for rel, or WALK_NONE. 0 is the root. Walks the children of
 * each directory on the way (no index by name is kept): linear in their
 * number. */
uint32_t walk_snap_find(const struct walk_snap *s, const char *rel);
/* The path of an entry into buf; -ENAMETOOLONG or -ENOENT. */
int walk_snap_path(const struct walk_snap *s, uint32_t id, char *buf, size_t len);
bool walk_snap_is_dir(const struct walk_snap *s, uint32_t id);
/* One int of the watcher's own per entry (kqueue: the open fd); -1 when
 * new. Setting one: 0, or -ENOMEM (the first one allocates the table). */
int walk_snap_user(const struct walk_snap *s, uint32_t id);
int walk_snap_set_user(struct walk_snap *s, uint32_t id, int user);
/* Call fn for every entry (the root included). */
void walk_snap_each(struct walk_snap *s, void (*fn)(void *arg, struct walk_snap *s, uint32_t id),
                    void *arg);
size_t walk_snap_count(const struct walk_snap *s);
/* Heap bytes held (for benchmarks). */
size_t walk_snap_bytes(const struct walk_snap *s);
/* Directories listed, and checked without listing, since the snapshot
 * began (for tests and benchmarks). */
void walk_snap_stats(const struct walk_snap *s, uint64_t *listed, uint64_t *skipped);
/* How old a directory's mtime and ctime must be for its listing to be
 * trusted (default 2000 ms; tests shorten it). */
void walk_snap_set_racy_ms(struct walk_snap *s, unsigned ms);
/* false: list every directory at every scan (for file systems that do not
 * keep directory times). Default true. */
void walk_snap_set_trust_dirs(struct walk_snap *s, bool trust);

/* ---- poller: a full rescan every interval, changes to host->changed ---- */

struct walk_poller;

/* Takes the first snapshot silently (warning about unreadable dirs) and
 * arms the timer. NULL with the reason set via host->set_error(), or logged
 * when log_errors (after create(), set_error no longer reaches anyone).
 * trust_dirs: see walk_snap_set_trust_dirs(). */
struct walk_poller *walk_poller_start(const struct walker *w, unsigned interval_ms, bool trust_dirs,
                                      bool log_errors);
void walk_poller_free(struct walk_poller *p);

/* Report kind for root-relative rel as an absolute path. */
void walk_report(const struct walker *w, const char *rel, enum gust_change kind);

/* The options of the event-driven watchers (inotify, kqueue), which fall
 * back to polling: {"fallback_to_poll": bool, "poll_interval_ms": int}.
 * Rejects unknown keys. 0 or -EINVAL with host->set_error() called. */
int walk_fallback_opts(const struct gust_host *host, struct gust_ctx *ctx,
                       const struct gust_opts *opts, bool *fallback, unsigned *poll_ms);

#endif
