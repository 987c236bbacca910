/* idpaths.c - the table from watch identifiers to paths. See idpaths.h. */
#include "config.h"

#include "idpaths.h"
#include "hash.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

struct pslot {
	int ident;
	char *path; /* NULL: empty */
};

struct walk_paths {
	struct pslot *v;
	size_t n, cap;
};

struct walk_paths *walk_paths_new(void)
{
	return calloc(1, sizeof(struct walk_paths));
}

void walk_paths_free(struct walk_paths *t)
{
	if (!t)
		return;
	for (size_t i = 0; i < t->cap; i++)
		free(t->v[i].path);
	free(t->v);
	free(t);
}

static size_t pslot_home(int ident, size_t cap)
{
	return (size_t)hash_bytes(&ident, sizeof ident) & (cap - 1);
}

static struct pslot *paths_find(const struct walk_paths *t, int ident)
{
	if (!t->cap)
		return NULL;
	for (size_t i = pslot_home(ident, t->cap);; i = (i + 1) & (t->cap - 1)) {
		if (!t->v[i].path)
			return NULL;
		if (t->v[i].ident == ident)
			return &t->v[i];
	}
}

int walk_paths_set(struct walk_paths *t, int ident, const char *rel)
{
	struct pslot *p = paths_find(t, ident);
	char *copy = strdup(rel);
	size_t i;

	if (!copy)
		return -ENOMEM;
	if (p) {
		free(p->path);
		p->path = copy;
		return 0;
	}
	if ((t->n + 1) * 4 > t->cap * 3) {
		size_t cap = t->cap ? t->cap * 2 : 64;
		struct pslot *v = calloc(cap, sizeof *v);
		if (!v) {
			free(copy);
			return -ENOMEM;
		}
		for (size_t k = 0; k < t->cap; k++) {
			if (!t->v[k].path)
				continue;
			i = pslot_home(t->v[k].ident, cap);
			while (v[i].path)
				i = (i + 1) & (cap - 1);
			v[i] = t->v[k];
		}
		free(t->v);
		t->v = v;
		t->cap = cap;
	}
	i = pslot_home(ident, t->cap);
	while (t->v[i].path)
		i = (i + 1) & (t->cap - 1);
	t->v[i].ident = ident;
	t->v[i].path = copy;
	t->n++;
	return 0;
}

const char *walk_paths_get(const struct walk_paths *t, int ident)
{
	const struct pslot *p = paths_find(t, ident);
	return p ? p->path : NULL;
}

void walk_paths_del(struct walk_paths *t, int ident)
{
	struct pslot *p = paths_find(t, ident);
	size_t i, j;

	if (!p)
		return;
	free(p->path);
	p->path = NULL;
	t->n--;
	/* backward-shift deletion keeps probe chains intact */
	i = (size_t)(p - t->v);
	for (j = (i + 1) & (t->cap - 1); t->v[j].path; j = (j + 1) & (t->cap - 1)) {
		size_t h = pslot_home(t->v[j].ident, t->cap);
		/* move j to i if its home is not cyclically in (i, j] */
		if ((j > i && (h <= i || h > j)) || (j < i && (h <= i && h > j))) {
			t->v[i] = t->v[j];
			t->v[j].path = NULL;
			i = j;
		}
	}
}

size_t walk_paths_count(const struct walk_paths *t)
{
	return t->n;
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
	size_t rl = strlen(rel), k = 0;
	int *ids;

	if (!t->n)
		return;
	/* collect first: fn may delete, which shifts slots */
	ids = malloc(t->n * sizeof *ids);
	if (!ids)
		return;
	for (size_t i = 0; i < t->cap; i++)
		if (t->v[i].path && path_under(t->v[i].path, rel, rl))
			ids[k++] = t->v[i].ident;
	for (size_t i = 0; i < k; i++) {
		const char *p = walk_paths_get(t, ids[i]);
		if (p)
			fn(arg, ids[i], p);
	}
	free(ids);
}
