/* exitwatch.c - the pidfds gust holds on the members of a running tree
 * in containment "reaper", so that a member's exit wakes gust: the exit
 * re-parents the member's children to the tree's reaper, which nothing
 * else tells gust (the reaper gets no signal for it). The scan it brings
 * records them in the state file at once, for the recovery after gust
 * and the reaper are both SIGKILLed (their parent chain no longer reaches
 * a recorded process). While nothing exits, nothing wakes gust. */
#include "config.h"

#include "ptree-internal.h"

#include "loop.h"

#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

#define EXITWATCH_MAX 64 /* pidfds per tree: the others' exits go unseen */

struct exitwatch {
	pid_t pid;
	unsigned long long start;
	int fd;
};

static void watch_close(struct gust_tree *t, size_t i)
{
	(void)loop_io_del(t->mgr->loop, t->ew[i].fd);
	close(t->ew[i].fd);
	t->ew[i] = t->ew[--t->nw];
}

/* A watched member exited: look at the tree again now. */
static void on_member_exit(int fd, unsigned events, void *arg)
{
	struct gust_tree *t = arg;
	(void)events;
	for (size_t i = 0; i < t->nw; i++) {
		if (t->ew[i].fd == fd) {
			watch_close(t, i); /* readable for good: once is enough */
			break;
		}
	}
	t->mgr->refresh_ms = REFRESH_MS;
	ptree_arm(t->mgr, 0);
}

static bool watched(const struct gust_tree *t, const struct member *m)
{
	for (size_t i = 0; i < t->nw; i++)
		if (t->ew[i].pid == m->pid && t->ew[i].start == m->start)
			return true;
	return false;
}

static bool live_member(const struct gust_tree *t, const struct exitwatch *w)
{
	for (size_t i = 0; i < t->nm; i++)
		if (t->m[i].pid == w->pid && t->m[i].start == w->start)
			return t->m[i].state != 'Z';
	return false;
}

void exitwatch_sync(struct gust_tree *t)
{
	bool want = t->phase == PH_RUN && ptree_records_members(t);
	for (size_t i = 0; i < t->nw;) {
		if (!want || !live_member(t, &t->ew[i]))
			watch_close(t, i);
		else
			i++;
	}
	if (!want)
		return;
	if (!t->ew && !(t->ew = calloc(EXITWATCH_MAX, sizeof *t->ew)))
		return;
	for (size_t i = 0; i < t->nm && t->nw < EXITWATCH_MAX; i++) {
		const struct member *m = &t->m[i];
		if (m->state == 'Z' || watched(t, m))
			continue;
		int fd = procfs_pidfd(m->pid, m->start);
		if (fd < 0)
			continue;
		if (loop_io_add(t->mgr->loop, fd, GUST_IO_READ, on_member_exit, t) < 0) {
			close(fd);
			continue;
		}
		t->ew[t->nw++] = (struct exitwatch){ m->pid, m->start, fd };
	}
}

void exitwatch_clear(struct gust_tree *t)
{
	while (t->nw)
		watch_close(t, 0);
	free(t->ew);
	t->ew = NULL;
}
