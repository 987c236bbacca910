/* hash.h - the hash the plugins' shared library uses. */
#ifndef GUST_PLUG_HASH_H
#define GUST_PLUG_HASH_H

#include <stdint.h>

static inline uint64_t mix64(uint64_t x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdull;
	x ^= x >> 33;
	x *= 0xc4ceb9fe1a85ec53ull;
	x ^= x >> 33;
	return x;
}

#endif
