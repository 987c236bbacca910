/* idpaths.c - the table from watch identifiers to paths: a uthash table
 * hashed with the library's one hash. See idpaths.h. */
#include "config.h"

#include "idpaths.h"
#include "hash.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

/* out of memory is reported (the item is not added), never exit() */
#define HASH_NONFATAL_OOM 1
#define HASH_FUNCTION(keyptr, keylen, hashv) ((hashv) = (unsigned)hash_bytes((keyptr), (keylen)))
#include <uthash.h>

struct idpath {
	int ident;
	char *path;
	UT_hash_handle hh;
};

struct walk_paths {
	struct idpath *head;
};

struct walk_paths *walk_paths_new(void)
{
	return calloc(1, sizeof(struct walk_paths));
}

static void drop(struct walk_paths *t, struct idpath *e)
{
	HASH_DEL(t->head, e);
	free(e->path);
	free(e);
}

void walk_paths_free(struct walk_paths *t)
{
	struct idpath *e, *tmp;

	if (!t)
		return;
	HASH_ITER(hh, t->head, e, tmp)
	{
		drop(t, e);
	}
	free(t);
}

static struct idpath *find(const struct walk_paths *t, int ident)
{
	struct idpath *e;
	HASH_FIND_INT(t->head, &ident, e);
	return e;
}

int walk_paths_set(struct walk_paths *t, int ident, const char *rel)
{
	struct idpath *e = find(t, ident);
	char *copy = strdup(rel);

	if (!copy)
		return -ENOMEM;
	if (e) {
		free(e->path);
		e->path = copy;
		return 0;
	}
	e = calloc(1, sizeof *e);
	if (!e) {
		free(copy);
		return -ENOMEM;
	}
	e->ident = ident;
	e->path = copy;
	HASH_ADD_INT(t->head, ident, e);
	if (!e->hh.tbl) { /* the table could not grow: not added */
		free(copy);
		free(e);
		return -ENOMEM;
	}
	return 0;
}

const char *walk_paths_get(const struct walk_paths *t, int ident)
{
	const struct idpath *e = find(t, ident);
	return e ? e->path : NULL;
}

void walk_paths_del(struct walk_paths *t, int ident)
{
	struct idpath *e = find(t, ident);
	if (e)
		drop(t, e);
}

size_t walk_paths_count(const struct walk_paths *t)
{
	return HASH_COUNT(t->head);
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
	struct idpath *e, *tmp;

	/* the iteration holds the next item already: fn may delete e */
	HASH_ITER(hh, t->head, e, tmp)
	{
		if (path_under(e->path, rel, rl))
			fn(arg, e->ident, e->path);
	}
}
