/* idpaths.c - the table from watch identifiers to paths, kept small: one
 * array of (ident, offset) sorted by ident, and every path in one arena of
 * NUL-terminated strings. 8 bytes per entry and the path's length, against
 * two allocations (~110 bytes) per entry in a hash table: gust keeps this
 * for every watched directory for as long as it runs. See idpaths.h.
 *
 * inotify hands out increasing watch descriptors, so an add is an append
 * and a look-up a binary search. A delete leaves its slot (a tombstone,
 * found by the search but not returned) and its bytes in the arena; both
 * are reclaimed by the next add once they are more than the live part,
 * never by a delete, so that walk_paths_under()'s callback may delete. */
#include "config.h"

#include "idpaths.h"

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define DEAD UINT32_MAX /* the offset of a deleted entry */

struct idpath {
	int ident;
	uint32_t off; /* into the arena, or DEAD */
};

struct walk_paths {
	struct idpath *v; /* sorted by ident; tombstones included */
	size_t n, cap, live;
	char *arena;
	size_t used, acap, dead; /* bytes in use (dead ones included), allocated, dead */
};

struct walk_paths *walk_paths_new(void)
{
	return calloc(1, sizeof(struct walk_paths));
}

void walk_paths_free(struct walk_paths *t)
{
	if (!t)
		return;
	free(t->v);
	free(t->arena);
	free(t);
}

/* The index of ident, or where it would go. */
static size_t search(const struct walk_paths *t, int ident)
{
	size_t lo = 0, hi = t->n;

	if (t->n && t->v[t->n - 1].ident < ident)
		return t->n; /* the usual case: a new, larger descriptor */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (t->v[mid].ident < ident)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static struct idpath *find(const struct walk_paths *t, int ident)
{
	size_t i = search(t, ident);
	return i < t->n && t->v[i].ident == ident && t->v[i].off != DEAD ? &t->v[i] : NULL;
}

/* Drop the tombstones and the dead bytes. The new arena is allocated
 * before the old is freed: on failure nothing changes. */
static void compact(struct walk_paths *t)
{
	size_t used = t->used - t->dead, k = 0, at = 0;
	char *a = malloc(used ? used : 1);

	if (!a)
		return;
	for (size_t i = 0; i < t->n; i++) {
		if (t->v[i].off == DEAD)
			continue;
		size_t len = strlen(t->arena + t->v[i].off) + 1;
		memcpy(a + at, t->arena + t->v[i].off, len);
		t->v[k].ident = t->v[i].ident;
		t->v[k++].off = (uint32_t)at;
		at += len;
	}
	free(t->arena);
	t->arena = a;
	t->used = t->acap = at;
	t->dead = 0;
	t->n = k;
}

/* Room for one more entry and len more bytes. */
static int reserve(struct walk_paths *t, size_t len)
{
	if (t->n == t->cap) {
		size_t cap = t->cap ? t->cap + t->cap / 2 : 64;
		struct idpath *v = realloc(t->v, cap * sizeof *v);
		if (!v)
			return -ENOMEM;
		t->v = v;
		t->cap = cap;
	}
	if (t->used + len > t->acap) {
		size_t acap = t->acap ? t->acap + t->acap / 2 : 1024;
		if (acap < t->used + len)
			acap = t->used + len;
		if (acap >= DEAD)
			return -ENOMEM;
		char *a = realloc(t->arena, acap);
		if (!a)
			return -ENOMEM;
		t->arena = a;
		t->acap = acap;
	}
	return 0;
}

static void kill_entry(struct walk_paths *t, struct idpath *e)
{
	t->dead += strlen(t->arena + e->off) + 1;
	e->off = DEAD;
}

int walk_paths_set(struct walk_paths *t, int ident, const char *rel)
{
	size_t len = strlen(rel) + 1, i;
	uintptr_t a = (uintptr_t)t->arena, r = (uintptr_t)rel;
	struct idpath *e;
	char *copy = NULL;

	/* rel may be a path from this table, which compact() and realloc()
	 * move: then copy it first */
	if (t->arena && r >= a && r < a + t->acap) {
		if (!(copy = malloc(len)))
			return -ENOMEM;
		rel = memcpy(copy, rel, len);
	}
	if (t->dead > 4096 && t->dead > t->used - t->dead)
		compact(t);
	if (reserve(t, len) < 0) {
		free(copy);
		return -ENOMEM;
	}
	i = search(t, ident);
	e = &t->v[i];
	if (i < t->n && e->ident == ident) {
		if (e->off != DEAD)
			kill_entry(t, e);
		else
			t->live++;
	} else {
		memmove(e + 1, e, (t->n - i) * sizeof *e);
		t->n++;
		t->live++;
		e->ident = ident;
	}
	memcpy(t->arena + t->used, rel, len);
	free(copy);
	e->off = (uint32_t)t->used;
	t->used += len;
	return 0;
}

const char *walk_paths_get(const struct walk_paths *t, int ident)
{
	const struct idpath *e = find(t, ident);
	return e ? t->arena + e->off : NULL;
}

void walk_paths_del(struct walk_paths *t, int ident)
{
	struct idpath *e = find(t, ident);
	if (e) {
		kill_entry(t, e);
		t->live--;
	}
}

size_t walk_paths_count(const struct walk_paths *t)
{
	return t->live;
}

static bool path_under(const char *path, const char *rel, size_t rl)
{
	if (!rl)
		return true;
	return strncmp(path, rel, rl) == 0 && (path[rl] == '\0' || path[rl] == '/');
}

void walk_paths_under(struct walk_paths *t, const char *rel,
                      void (*fn)(void *arg, int ident, const char *path), void *arg)
{
	size_t rl = strlen(rel);

	/* a delete neither moves the array nor the arena: fn may delete */
	for (size_t i = 0; i < t->n; i++) {
		const struct idpath *e = &t->v[i];
		if (e->off != DEAD && path_under(t->arena + e->off, rel, rl))
			fn(arg, e->ident, t->arena + e->off);
	}
}
