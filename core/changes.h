/* changes.h - the changed paths waiting for a build, and the debounce that
 * decides when they are built: a trailing quiet window (watch.debounce_ms,
 * or by default one that grows with the rate of changes, from 10 ms for a
 * lone save to 200 ms in a storm), capped so that a steady stream of
 * changes still builds at least every watch.debounce_max_ms (a burst of
 * new paths may run past the cap, up to 5 times it). */
#ifndef GUST_CHANGES_H
#define GUST_CHANGES_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>

/* debounce_ms for the adaptive window (watch.debounce_ms not set) */
#define CHANGES_ADAPTIVE UINT_MAX

struct changes;
struct loop;

/* A pending set on loop (borrowed, must outlive it). ready(arg) is called
 * from the loop when the window closes; it takes the paths with
 * changes_take() (or leaves them for the next window). debounce_ms: the
 * fixed quiet window, or CHANGES_ADAPTIVE. max_ms 0: no cap.
 * NULL when out of memory. */
struct changes *changes_new(struct loop *loop, unsigned debounce_ms, unsigned max_ms,
                            void (*ready)(void *arg), void *arg);
/* Cancels the window; frees the pending paths. NULL is fine. */
void changes_free(struct changes *c);

/* Add path (copied) to the pending set, unless it is there already. Starts
 * no window: changes_arm() does (a cancelled build's paths go back here
 * without one). Out of memory: the path is lost. True when it was added. */
bool changes_add(struct changes *c, const char *path);
/* True when path is the pending path changes_add() or changes_pending()
 * saw last: a file's write comes as two or three events in a row, and
 * this costs no search of the set. */
bool changes_is_last(const struct changes *c, const char *path);
/* A change arrived (new_path: to a path that was not pending): the window
 * restarts, to close debounce_ms (or the adaptive window) from now, but no
 * later than max_ms after the change that opened it (the cap). At the cap,
 * a burst still bringing new paths at a storm's rate (about 70 a second or
 * more, recently) moves the cap on, 250 ms at a time, up to 5 times max_ms
 * after the first change: a burst of distinct files is one change however
 * long it takes, while a stream touching the same paths builds at the cap. */
void changes_arm(struct changes *c, bool new_path);
/* The quiet window the last changes_arm() opened, in ms (before the cap):
 * debounce_ms, or what the adaptive window made of the recent changes. */
unsigned changes_window_ms(const struct changes *c);
/* How often, at most, the watcher needs reading, as of the last
 * changes_arm(): in a storm (the rate that makes the adaptive window 50 ms
 * or more, whatever the window) every tenth of the window (5 to 20 ms: 20
 * in a full storm's 200 ms window), its events read in batches, late by
 * much less than the window; otherwise 0, at once. */
unsigned changes_pace_ms(const struct changes *c);
/* Close the window without calling ready() (gust is quitting). */
void changes_disarm(struct changes *c);

bool changes_pending(struct changes *c, const char *path);
size_t changes_count(const struct changes *c);
/* Drop each pending path for which drop_it(path, arg) is true; the rest keep
 * their order. Returns how many were dropped. */
size_t changes_drop_if(struct changes *c, bool (*drop_it)(const char *path, void *arg), void *arg);
/* The pending paths, in the order they first came, NULL-terminated; their
 * number in *n. The caller owns the array and the strings; the set is empty
 * afterwards. NULL when out of memory (the set is kept). */
char **changes_take(struct changes *c, size_t *n);

#endif
