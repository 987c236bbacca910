/* visited.h - the directories (device, inode) a walk or a scan has
 * entered, so that none is entered twice (symlink loops, bind mounts).
 * Zero-initialised is empty. */
#ifndef GUST_VISITED_H
#define GUST_VISITED_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

struct visited_ent;

struct visited {
	struct visited_ent *v;
	size_t n, cap;
};

/* true if newly added; false if already there (or out of memory: then the
 * walk stops descending rather than risk a loop) */
bool visited_add(struct visited *s, dev_t dev, ino_t ino);
void visited_free(struct visited *s);

#endif
