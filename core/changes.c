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
 * still gives one build. */
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
	QUIET_MIN_MS = 10,  /* the adaptive window of a lone change */
	QUIET_MAX_MS = 200, /* ... and of a storm */
	HEAT_HALF_MS = 50,  /* the half-life of a change's weight */
	STORM_HEAT = 40,    /* a storm: the adaptive window is 50 ms or more */
	STORM_PACE_MS = 5,  /* ... and the watcher is read this often at most */
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
	uint64_t timer;
	uint64_t first_change_ms;
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

void changes_add(struct changes *c, const char *path)
{
	struct pending *p;

	if (changes_pending(c, path))
		return;
	if (!(p = calloc(1, sizeof *p)))
		return;
	if (!(p->path = strdup(path))) {
		free(p);
		return;
	}
	HASH_ADD_KEYPTR(hh, c->set, p->path, strlen(p->path), p);
	if (!p->hh.tbl) {
		free(p->path);
		free(p);
		return;
	}
	c->last = p;
}

static void on_window(void *arg)
{
	struct changes *c = arg;
	c->timer = 0;
	c->ready(c->arg);
}

/* heat halved per HEAT_HALF_MS elapsed, linearly in between */
static double faded(double heat, uint64_t elapsed_ms)
{
	for (; elapsed_ms >= HEAT_HALF_MS; elapsed_ms -= HEAT_HALF_MS)
		if ((heat /= 2) < 0.5)
			return 0;
	return heat - heat * (double)elapsed_ms / (2.0 * HEAT_HALF_MS);
}

/* The quiet window after a change that came at now. */
static unsigned quiet_ms(struct changes *c, uint64_t now)
{
	c->heat = faded(c->heat, now - c->heat_ms) + 1;
	c->heat_ms = now;
	if (c->debounce_ms != CHANGES_ADAPTIVE)
		return c->debounce_ms;
	double q = QUIET_MIN_MS + c->heat;
	return q < QUIET_MAX_MS ? (unsigned)q : QUIET_MAX_MS;
}

void changes_arm(struct changes *c)
{
	uint64_t now = loop_now_ms();
	if (!c->timer)
		c->first_change_ms = now;
	else
		loop_timer_cancel(c->loop, c->timer);
	/* trailing quiet window, capped so a steady stream still builds */
	uint64_t cap_at = c->first_change_ms + c->max_ms;
	uint64_t wait = c->window_ms = quiet_ms(c, now);
	if (c->max_ms && now + wait > cap_at)
		wait = cap_at > now ? cap_at - now : 0;
	c->timer = loop_timer_add(c->loop, (unsigned)wait, on_window, c);
}

unsigned changes_window_ms(const struct changes *c)
{
	return c->window_ms;
}

unsigned changes_pace_ms(const struct changes *c)
{
	return c->heat >= STORM_HEAT ? STORM_PACE_MS : 0;
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
	if (c->last && strcmp(c->last->path, path) == 0)
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
