/* retry.h - a start the system refused for now (fork's EAGAIN, ENOMEM),
 * tried again on a timer: after 100 ms, then twice as long each time up
 * to 5 s. The build and the run each have their own, so one refused does
 * not delay the other. */
#ifndef GUST_RETRY_H
#define GUST_RETRY_H

#include <gust/plugin.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct loop;

struct retry {
	struct loop *loop;
	void (*again)(void *arg); /* the start, called from the timer */
	void *arg;
	uint64_t timer;
	unsigned delay_ms; /* the next delay; 0: the last start worked */
};

/* again(arg) is what a retry calls, on loop's timer. */
void retry_init(struct retry *rt, struct loop *loop, void (*again)(void *arg), void *arg);
/* A start failed with err (-errno). When it may work later and final is
 * false (final: gust is quitting, nothing starts again), arm the timer and
 * put "; trying again in N ms" in note; else note is "". The level of the
 * line that says so: an error the first time, then debug (no line per
 * attempt). */
enum gust_log_level retry_later(struct retry *rt, int err, bool final, char *note, size_t len);
/* Drop a pending retry (a start is being made now, or gust quits). */
void retry_cancel(struct retry *rt);
/* The start worked: the next refusal is a first one again. */
void retry_reset(struct retry *rt);

#endif
