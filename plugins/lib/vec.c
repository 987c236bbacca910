/* vec.c - the growable-array helper. See vec.h. */
#include "config.h"

#include "vec.h"

#include <stdint.h>
#include <stdlib.h>

void *vec_grow(void *v, size_t *cap, size_t need, size_t size, size_t min)
{
	if (need <= *cap)
		return v;
	size_t c = *cap ? *cap : min ? min : 1;
	while (c < need) {
		if (c > SIZE_MAX / 2)
			return NULL;
		c *= 2;
	}
	if (size && c > SIZE_MAX / size)
		return NULL;
	void *nv = realloc(v, c * size);
	if (nv)
		*cap = c;
	return nv;
}
