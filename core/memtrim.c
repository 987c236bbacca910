/* memtrim.c - malloc tuning and trimming for an idle gust. See memtrim.h.
 * glibc only; elsewhere both are no-ops. */
#include "config.h"

#include "memtrim.h"

#if defined(HAVE_MALLOC_TRIM) && defined(HAVE_MALLOPT)
#include <malloc.h>

/* 64 KiB: what the walk allocates in one piece (the visited set, the
 * watch table as it grows) comes from mmap and goes back at free(). */
#define MMAP_THRESHOLD (64 * 1024)
/* free() returns the top of the heap once this much is free there */
#define TRIM_THRESHOLD (64 * 1024)

void mem_init(void)
{
	mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD);
	mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD);
}

void mem_settle(void)
{
	malloc_trim(0);
}
#else
void mem_init(void)
{
}

void mem_settle(void)
{
}
#endif
