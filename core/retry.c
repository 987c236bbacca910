/* retry.c - starts the system refused for now, tried again later (see
 * retry.h). */
#include "config.h"

#include "loop.h"
#include "retry.h"

#include <errno.h>
#include <stdio.h>

/* The first delay, and the most it doubles to. */
#define RETRY_FIRST_MS 100u
#define RETRY_MAX_MS 5000u

/* fork's EAGAIN (RLIMIT_NPROC, a full pid space, a cgroup's pids.max) and
 * ENOMEM pass with time; any other reason to fail does not. */
static bool transient(int err)
{
	return err == -EAGAIN || err == -ENOMEM;
}

void retry_init(struct retry *rt, struct loop *loop, void (*again)(void *arg), void *arg)
{
	rt->loop = loop;
	rt->again = again;
	rt->arg = arg;
	rt->timer = 0;
	rt->delay_ms = 0;
}

static void fire(void *arg)
{
	struct retry *rt = arg;
	rt->timer = 0;
	rt->again(rt->arg);
}

void retry_cancel(struct retry *rt)
{
	if (rt->timer)
		loop_timer_cancel(rt->loop, rt->timer);
	rt->timer = 0;
}

enum gust_log_level retry_later(struct retry *rt, int err, bool final, char *note, size_t len)
{
	bool first = rt->delay_ms == 0;
	note[0] = '\0';
	retry_cancel(rt);
	if (!transient(err) || final)
		return GUST_LOG_ERROR;
	unsigned d = first ? RETRY_FIRST_MS : rt->delay_ms;
	if (!(rt->timer = loop_timer_add(rt->loop, d, fire, rt)))
		return GUST_LOG_ERROR;
	rt->delay_ms = d * 2 < RETRY_MAX_MS ? d * 2 : RETRY_MAX_MS;
	snprintf(note, len, "; trying again in %u ms%s", d, first ? ", then less often" : "");
	return first ? GUST_LOG_ERROR : GUST_LOG_DEBUG;
}

void retry_reset(struct retry *rt)
{
	retry_cancel(rt);
	rt->delay_ms = 0;
}
