/* ledger.h - exclude_unchanged: the content hash of each file as the last
 * good build saw it, so that a save that changes nothing starts no build.
 * Owned by the app; every function takes a NULL ledger as "exclude_unchanged
 * is off": nothing is recorded and nothing is unchanged. */
#ifndef GUST_LEDGER_H
#define GUST_LEDGER_H

#include <stdbool.h>

struct ledger;

/* A ledger for files under root (absolute). NULL when out of memory. */
struct ledger *ledger_new(const char *root);
void ledger_free(struct ledger *l);

/* Paths: absolute (under the root) or root-relative; borrowed. */

/* True when path's content hash equals the one recorded at the last
 * ledger_commit() (or the first time the file was seen), or, while a build
 * of it runs, the one that build started from. A file never seen before is
 * recorded and is a change; a missing or unreadable one (or a directory) is
 * always a change. */
bool ledger_unchanged(struct ledger *l, const char *path);
/* True when path's content is exactly what the last build that included it
 * saw (ledger_commit()), or what the running build of it started from;
 * false for a file no build has seen (not read then), or a missing one. */
bool ledger_as_built(struct ledger *l, const char *path);
/* A pass: from one loop callback (no event can come in between), the
 * decision on the pending paths and the start of their build. Within it,
 * ledger_stage() takes the content that ledger_as_built() read instead of
 * reading each file again. */
void ledger_pass_begin(struct ledger *l);
void ledger_pass_end(struct ledger *l);
/* Events were lost (a rescan): no recorded hash can be trusted any more;
 * every file's next event is a change, as the first one is. */
void ledger_forget(struct ledger *l);
/* A build of paths (NULL-terminated) starts: record their hashes now, as
 * what it builds (in a pass, what ledger_as_built() read in it). */
void ledger_stage(struct ledger *l, const char *const *paths);
/* That build succeeded: its staged hashes become the "built" ones. */
void ledger_commit(struct ledger *l, const char *const *paths);
/* That build failed or was cancelled: forget its staged hashes. */
void ledger_unstage(struct ledger *l, const char *const *paths);

#endif
