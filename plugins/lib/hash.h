/* hash.h - the one hash of the plugins' shared library: XXH3 (xxHash),
 * for names, identifiers and stat stamps alike. Not for security: a
 * hash of what the file system says, in tables gust keeps for itself. */
#ifndef GUST_PLUG_HASH_H
#define GUST_PLUG_HASH_H

#include <stddef.h>
#include <stdint.h>

uint64_t hash_bytes(const void *p, size_t n);

#endif
