/* hash.c - XXH3 from libxxhash's header, compiled here once. See
 * hash.h. */
#include "config.h"

#include "hash.h"

#define XXH_INLINE_ALL
#include <xxhash.h>

uint64_t hash_bytes(const void *p, size_t n)
{
	return XXH3_64bits(p, n);
}
