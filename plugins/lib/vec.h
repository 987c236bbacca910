/* vec.h - the one growable-array helper of the plugins' shared library. */
#ifndef GUST_VEC_H
#define GUST_VEC_H

#include <stddef.h>

/* Room for need elements of size bytes in array v of capacity *cap
 * elements: v itself when it has that room, else v reallocated to min
 * elements (the first time) doubled until need fits, *cap updated. NULL
 * when out of memory or the size overflows; v and *cap are then as they
 * were. */
void *vec_grow(void *v, size_t *cap, size_t need, size_t size, size_t min);

#endif
