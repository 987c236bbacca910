/* changes.c - pending changed paths and their debounce (see changes.h).
 *
 * The pending paths are deduplicated through an open-addressing set of
 * indexes into the list, so a storm of n events costs O(n). */
#include "config.h"

#include "changes.h"

#include "loop.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

struct changes {
	struct loop *loop;
	unsigned debounce_ms, max_ms;
	void (*ready)(void *arg);
	void *arg;
	char **pending; /* NULL-terminated when not NULL */
	size_t npending, cappending;
	size_t *pendset; /* index + 1 into pending, 0 empty */
	size_t capset;   /* a power of two */
	uint64_t timer;
	uint64_t first_change_ms;
};

static uint64_t path_hash(const char *s)
{
	uint64_t h = 14695981039346656037ull; /* FNV-1a */
	while (*s)
		h = (h ^ (unsigned char)*s++) * 1099511628211ull;
	return h;
}

static bool pending_has(const struct changes *c, const char *path, size_t *slot)
{
	size_t mask = c->capset - 1;
	size_t i = (size_t)path_hash(path) & mask;
	while (c->pendset[i]) {
		if (strcmp(c->pending[c->pendset[i] - 1], path) == 0)
			return true;
		i = (i + 1) & mask;
	}
	*slot = i;
	return false;
}

/* Index c->pending afresh into the set. */
static void fill_set(struct changes *c)
{
	size_t cap = c->capset, *set = c->pendset;
	memset(set, 0, cap * sizeof *set);
	for (size_t k = 0; k < c->npending; k++) {
		size_t i = (size_t)path_hash(c->pending[k]) & (cap - 1);
		while (set[i])
			i = (i + 1) & (cap - 1);
		set[i] = k + 1;
	}
}

static int grow_set(struct changes *c)
{
	size_t cap = c->capset ? c->capset * 2 : 64;
	size_t *set = calloc(cap, sizeof *set);
	if (!set)
		return -ENOMEM;
	free(c->pendset);
	c->pendset = set;
	c->capset = cap;
	fill_set(c);
	return 0;
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
	changes_disarm(c);
	for (size_t i = 0; i < c->npending; i++)
		free(c->pending[i]);
	free(c->pending);
	free(c->pendset);
	free(c);
}

void changes_add(struct changes *c, const char *path)
{
	size_t slot;
	if ((c->npending + 1) * 2 > c->capset && grow_set(c) < 0)
		return;
	if (pending_has(c, path, &slot))
		return;
	if (c->npending + 1 >= c->cappending) {
		size_t cap = c->cappending ? c->cappending * 2 : 16;
		char **n = realloc(c->pending, cap * sizeof *n);
		if (!n)
			return;
		c->pending = n;
		c->cappending = cap;
	}
	char *dup = strdup(path);
	if (!dup)
		return;
	c->pending[c->npending++] = dup;
	c->pending[c->npending] = NULL;
	c->pendset[slot] = c->npending;
}

static void on_window(void *arg)
{
	struct changes *c = arg;
	c->timer = 0;
	c->ready(c->arg);
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
	uint64_t wait = c->debounce_ms;
	if (c->max_ms && now + wait > cap_at)
		wait = cap_at > now ? cap_at - now : 0;
	c->timer = loop_timer_add(c->loop, (unsigned)wait, on_window, c);
}

void changes_disarm(struct changes *c)
{
	if (c->timer) {
		loop_timer_cancel(c->loop, c->timer);
		c->timer = 0;
	}
}

bool changes_pending(const struct changes *c, const char *path)
{
	size_t slot;
	return c->capset && pending_has(c, path, &slot);
}

size_t changes_count(const struct changes *c)
{
	return c->npending;
}

size_t changes_drop_if(struct changes *c, bool (*drop)(const char *path, void *arg), void *arg)
{
	size_t k = 0, dropped;
	for (size_t i = 0; i < c->npending; i++) {
		if (drop(c->pending[i], arg)) {
			free(c->pending[i]);
			continue;
		}
		c->pending[k++] = c->pending[i];
	}
	dropped = c->npending - k;
	if (dropped) {
		c->npending = k;
		c->pending[k] = NULL;
		fill_set(c);
	}
	return dropped;
}

char **changes_take(struct changes *c, size_t *n)
{
	char **list = c->pending;
	if (!list && !(list = calloc(1, sizeof *list)))
		return NULL;
	*n = c->npending;
	c->pending = NULL;
	c->npending = c->cappending = 0;
	if (c->pendset)
		memset(c->pendset, 0, c->capset * sizeof *c->pendset);
	return list;
}
