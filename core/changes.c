/* changes.c - pending changed paths and their debounce (see changes.h).
 *
 * The pending paths are a uthash set, which also keeps them in the order
 * they came: a storm of n events costs O(n).
 *
 * The adaptive window (CHANGES_ADAPTIVE) is QUIET_MIN_MS plus one
 * millisecond per unit of "heat": the count of changes seen, each fading
 * with a half-life of HEAT_HALF_MS, so heat is about 72 ms worth of the
 * current event rate. A save (2-3 events) waits ~13 ms; an editor's
 * safe-write (up to ~8 events within a millisecond) ~18 ms; a program
 * writing thousands of files (a checkout, a generator) heats the window to
 * QUIET_MAX_MS within a millisecond or so, which rides over the pauses such
 * a program makes (I/O, a descheduled process on a loaded machine) and
 * still gives one build.
 *
 * The cap (max_ms after the change that opened the window) is what makes a
 * stream that never goes quiet build. A burst that outlasts it (10,000
 * files take ~5 s on a loaded 2-CPU machine) was split by it into a build
 * at the cap and more after, each rebuilding a half-written tree. So the
 * cap tells the two apart by what they bring: a burst brings paths not yet
 * pending, a stream (a log appended to, a file rewritten in a loop) the
 * same ones. "Fresh" is the count of new paths, fading with a half-life of
 * FRESH_HALF_MS (~360 ms worth of their rate, so a writer's pause of a
 * second still leaves a storm's count above the bar); while it is at least
 * FRESH_STORM at the cap, the cap moves CAP_STEP_MS on, up to
 * CAP_HARD_TIMES max_ms after the first change, where it always builds.
 * The quiet window is untouched: debounce_ms means what it did. */
#include "config.h"

#include "changes.h"

#include "loop.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* No exit() in the core: a failed add leaves the element's hh.tbl NULL. */
#define HASH_NONFATAL_OOM 1
#include <uthash.h>

struct pending {
	char *path;
	UT_hash_handle hh;
};

enum {
	QUIET_MIN_MS = 10,      /* the adaptive window of a lone change */
	QUIET_MAX_MS = 200,     /* ... and of a storm */
	HEAT_HALF_MS = 50,      /* the half-life of a change's weight */
	STORM_HEAT = 40,        /* a storm: the adaptive window is 50 ms or more */
	STORM_PACE_MS = 5,      /* ... and the watcher is read this often at most */
	STORM_PACE_MAX_MS = 20, /* ... or, hotter, a tenth of the window, up to this */
	FRESH_HALF_MS = 250,    /* the half-life of a new path's weight */
	FRESH_STORM = 25,       /* new paths still coming: ~70 a second or more */
	CAP_STEP_MS = 250,      /* the cap moves this far while they come ... */
	CAP_HARD_TIMES = 5,     /* ... up to this many times max_ms after the first */
};

struct changes {
	struct loop *loop;
	unsigned debounce_ms, max_ms;
	double heat;        /* adaptive: recent changes, fading */
	uint64_t heat_ms;   /* when heat was last updated */
	unsigned window_ms; /* the quiet window of the last change */
	void (*ready)(void *arg);
	void *arg;
	struct pending *set;  /* uthash, in arrival order */
	struct pending *last; /* the path added or found last, or NULL */
	double fresh;         /* new paths (not yet pending), fading */
	uint64_t fresh_ms;    /* when fresh was last updated */
	uint64_t timer;
	uint64_t first_change_ms;
	uint64_t quiet_end_ms; /* the last change plus its quiet window */
	uint64_t cap_ms;       /* when the cap closes the window; 0: no cap */
};

static void drop(struct changes *c, struct pending *p, bool free_path)
{
	if (c->last == p)
		c->last = NULL;
	HASH_DEL(c->set, p);
	if (free_path)
		free(p->path);
	free(p);
}

struct changes *changes_new(struct loop *loop, unsigned debounce_ms, unsigned max_ms,
                            void (*ready)(void *arg), void *arg)
{
	struct changes *c = calloc(1, sizeof *c);
	if (!c)
		return NULL;
	c->loop = loop;
	c->debounce_ms = debounce_ms;
	c->max_ms = max_ms;
	c->ready = ready;
	c->arg = arg;
	return c;
}

void changes_free(struct changes *c)
{
	if (!c)
		return;
	struct pending *p, *tmp;

	changes_disarm(c);
	HASH_ITER(hh, c->set, p, tmp)
	drop(c, p, true);
	free(c);
}

bool changes_add(struct changes *c, const char *path)
{
	struct pending *p;

	if (changes_pending(c, path))
		return false;
	if (!(p = calloc(1, sizeof *p)))
		return false;
	if (!(p->path = strdup(path))) {
		free(p);
		return false;
	}
	HASH_ADD_KEYPTR(hh, c->set, p->path, strlen(p->path), p);
	if (!p->hh.tbl) {
		free(p->path);
		free(p);
		return false;
	}
	c->last = p;
	return true;
}

bool changes_is_last(const struct changes *c, const char *path)
{
	return c->last && strcmp(c->last->path, path) == 0;
}

/* weight halved per half_ms elapsed, linearly in between */
static double faded(double weight, uint64_t elapsed_ms, unsigned half_ms)
{
	for (; elapsed_ms >= half_ms; elapsed_ms -= half_ms)
		if ((weight /= 2) < 0.5)
			return 0;
	return weight - weight * (double)elapsed_ms / (2.0 * half_ms);
}

/* The quiet window after a change that came at now. */
static unsigned quiet_ms(struct changes *c, uint64_t now)
{
	c->heat = faded(c->heat, now - c->heat_ms, HEAT_HALF_MS) + 1;
	c->heat_ms = now;
	if (c->debounce_ms != CHANGES_ADAPTIVE)
		return c->debounce_ms;
	double q = QUIET_MIN_MS + c->heat;
	return q < QUIET_MAX_MS ? (unsigned)q : QUIET_MAX_MS;
}

static void on_window(void *arg);

/* The window closes at the end of the quiet window or at the cap,
 * whichever comes first. */
static void schedule(struct changes *c, uint64_t now)
{
	uint64_t due = c->quiet_end_ms;
	if (c->cap_ms && c->cap_ms < due)
		due = c->cap_ms;
	c->timer = loop_timer_add(c->loop, due > now ? (unsigned)(due - now) : 0, on_window, c);
}

/* At the cap, with the quiet window still open: a burst that is still
 * bringing new paths at a storm's rate (a checkout, a generator, an
 * archive unpacked, slower than the cap on a busy machine) is one change,
 * and building halfway through it only to build again is waste; a stream
 * that keeps touching the same paths (a log, a file rewritten in a loop)
 * brings none and is cut at the cap, so it still builds. The cap moves on
 * in steps, up to CAP_HARD_TIMES the cap from the first change. */
static bool cap_moves(struct changes *c, uint64_t now)
{
	uint64_t hard = c->first_change_ms + (uint64_t)CAP_HARD_TIMES * c->max_ms;
	if (now >= hard || faded(c->fresh, now - c->fresh_ms, FRESH_HALF_MS) < FRESH_STORM)
		return false;
	c->cap_ms = now + CAP_STEP_MS < hard ? now + CAP_STEP_MS : hard;
	return true;
}

static void on_window(void *arg)
{
	struct changes *c = arg;
	uint64_t now = loop_now_ms();
	c->timer = 0;
	if (now < c->quiet_end_ms && c->cap_ms && cap_moves(c, now)) {
		schedule(c, now);
		return;
	}
	c->ready(c->arg);
}

void changes_arm(struct changes *c, bool new_path)
{
	uint64_t now = loop_now_ms();
	if (!c->timer) {
		c->first_change_ms = now;
		c->cap_ms = c->max_ms ? now + c->max_ms : 0;
	} else {
		loop_timer_cancel(c->loop, c->timer);
	}
	if (new_path) {
		c->fresh = faded(c->fresh, now - c->fresh_ms, FRESH_HALF_MS) + 1;
		c->fresh_ms = now;
	}
	/* trailing quiet window, capped so a steady stream still builds */
	c->window_ms = quiet_ms(c, now);
	c->quiet_end_ms = now + c->window_ms;
	schedule(c, now);
}

unsigned changes_window_ms(const struct changes *c)
{
	return c->window_ms;
}

unsigned changes_pace_ms(const struct changes *c)
{
	if (c->heat < STORM_HEAT)
		return 0;
	/* a tenth of the window (or of the heat, the adaptive one's share) */
	double part = (c->window_ms < c->heat ? c->window_ms : c->heat) / 10;
	return part < STORM_PACE_MS       ? STORM_PACE_MS
	       : part > STORM_PACE_MAX_MS ? STORM_PACE_MAX_MS
	                                  : (unsigned)part;
}

void changes_disarm(struct changes *c)
{
	if (c->timer) {
		loop_timer_cancel(c->loop, c->timer);
		c->timer = 0;
	}
}

/* A file's write comes as two or three events in a row (IN_MODIFY,
 * IN_CLOSE_WRITE): the path seen last is compared before the set is
 * searched, whose chains uthash lets grow to about ten entries. */
bool changes_pending(struct changes *c, const char *path)
{
	struct pending *p;
	if (changes_is_last(c, path))
		return true;
	HASH_FIND_STR(c->set, path, p);
	if (p)
		c->last = p;
	return p != NULL;
}

size_t changes_count(const struct changes *c)
{
	return HASH_COUNT(c->set);
}

size_t changes_drop_if(struct changes *c, bool (*drop_it)(const char *path, void *arg), void *arg)
{
	struct pending *p, *tmp;
	size_t dropped = 0;

	HASH_ITER(hh, c->set, p, tmp)
	{
		if (drop_it(p->path, arg)) {
			drop(c, p, true);
			dropped++;
		}
	}
	return dropped;
}

char **changes_take(struct changes *c, size_t *n)
{
	struct pending *p, *tmp;
	char **list = calloc(HASH_COUNT(c->set) + 1, sizeof *list);
	size_t k = 0;

	if (!list)
		return NULL;
	HASH_ITER(hh, c->set, p, tmp)
	{
		list[k++] = p->path;
		drop(c, p, false);
	}
	*n = k;
	return list;
}
