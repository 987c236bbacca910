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
			i = mix64((uint64_t)s->v[k].ino ^ ((uint64_t)s->v[k].dev << 40)) &
			    (cap - 1);
			while (v[i].used)
				i = (i + 1) & (cap - 1);
			v[i] = s->v[k];
		}
		free(s->v);
		s->v = v;
		s->cap = cap;
	}
	i = mix64((uint64_t)ino ^ ((uint64_t)dev << 40)) & (s->cap - 1);
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
