/* visited.c - the set of directories (device, inode) one walk or scan
 * has entered. See visited.h. */
#include "config.h"

#include "visited.h"
#include "hash.h"

#include <stdlib.h>

struct visited_ent {
	dev_t dev;
	ino_t ino;
	bool used;
};

/* The first slot to try in a table of cap (a power of two) slots. */
static size_t home(dev_t dev, ino_t ino, size_t cap)
{
	const uint64_t k[] = { (uint64_t)dev, (uint64_t)ino };
	return (size_t)hash_bytes(k, sizeof k) & (cap - 1);
}

bool visited_add(struct visited *s, dev_t dev, ino_t ino)
{
	size_t i;

	if ((s->n + 1) * 2 > s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 256;
		struct visited_ent *v = calloc(cap, sizeof *v);
		if (!v)
			return false;
		for (size_t k = 0; k < s->cap; k++) {
			if (!s->v[k].used)
				continue;
			i = home(s->v[k].dev, s->v[k].ino, cap);
			while (v[i].used)
				i = (i + 1) & (cap - 1);
			v[i] = s->v[k];
		}
		free(s->v);
		s->v = v;
		s->cap = cap;
	}
	i = home(dev, ino, s->cap);
	while (s->v[i].used) {
		if (s->v[i].dev == dev && s->v[i].ino == ino)
			return false;
		i = (i + 1) & (s->cap - 1);
	}
	s->v[i].dev = dev;
	s->v[i].ino = ino;
	s->v[i].used = true;
	s->n++;
	return true;
}

void visited_free(struct visited *s)
{
	free(s->v);
	s->v = NULL;
	s->n = s->cap = 0;
}
