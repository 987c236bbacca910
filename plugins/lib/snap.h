/* snap.h - a compact snapshot of the tree under the root (one entry per
 * path: parent, interned name, a stamp of mtime/size/inode/type) with a
 * rescan that reports the differences as create/write/remove events. */
#ifndef GUST_SNAP_H
#define GUST_SNAP_H

#include "walk.h"

#include <gust/plugin.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

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

#endif
