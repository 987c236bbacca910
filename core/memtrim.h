/* memtrim.h - keeping the heap of a long-idle gust small: malloc's
 * thresholds fixed at start, and what start-up or a cycle left free
 * handed back to the kernel once it is over. docs/DESIGN.md, "Memory". */
#ifndef GUST_MEMTRIM_H
#define GUST_MEMTRIM_H

/* Fix malloc's mmap and trim thresholds (glibc raises both after a large
 * block is freed, keeping the walk's peak for good). Before the first
 * allocation that matters. */
void mem_init(void);
/* Return the heap's free pages to the kernel: after the watcher's initial
 * walk and at the end of each cycle, never in a storm. */
void mem_settle(void);

#endif
