/* ptree.c - process trees, the service's public face (ptree.h): the
 * manager and its timer, the spawn entry, graceful stop with escalation,
 * the sweep that signals what a scan found, reaping, and teardown.
 *
 * Each tree has a reaper: a small process gust forks, a child subreaper
 * (PR_SET_CHILD_SUBREAPER), whose child is the program. Every orphan of
 * the tree re-parents to it, so a process belongs to a tree exactly when
 * its parent chain reaches the tree's reaper, whatever it did to its
 * environment, argv, group or session; and the reaper, which reaps them,
 * has no child left exactly when the tree is gone, when it exits. Nothing
 * a process can overwrite is read. Membership is recomputed from /proc
 * along those chains, and remembered by pid and start time; signals go
 * through pidfds opened after checking the start time, so a recycled pid
 * is never signalled. Callbacks run only from the manager's timer, never
 * from inside a ptree_* call, so owners may free or spawn trees from them.
 *
 * The other files, one concern each (ptree-internal.h joins them):
 * procfs.c reads /proc and signals by pid and start time; membership.c
 * scans and attributes; cgroup.c is containment "cgroup"; spawn.c starts
 * a tree (child set-up, PID namespace init); reaper.c is the reaper
 * process and its reports; statefile.c is the state file and the
 * recovery after a killed gust. */
#include "config.h"

#include "ptree-internal.h"

#include "log.h"
#include "loop.h"

#include <errno.h>
#include <stddef.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>
#ifdef HAVE_SYS_PRCTL_H
#include <sys/prctl.h>
#endif
#ifdef HAVE_SYS_PROCCTL_H
#include <sys/procctl.h>
#endif

#define RESCAN_MIN_MS 5u
#define RESCAN_MAX_MS 50u
#define SYNC_KILL_MS 5000u /* bound of the synchronous kill at teardown */

static void mgr_tick(void *arg);

void ptree_arm(struct ptree_mgr *mgr, unsigned ms)
{
	uint64_t due = loop_now_ms() + ms;
	if (mgr->timer && mgr->timer_due <= due)
		return;
	if (mgr->timer)
		loop_timer_cancel(mgr->loop, mgr->timer);
	mgr->timer = loop_timer_add(mgr->loop, ms, mgr_tick, mgr);
	mgr->timer_due = due;
}

/* A running tree that records its members (ptree_records_members()) is
 * refreshed after a change only (a spawn, a scan that found one, a
 * member's exit: exitwatch.c), until it settled (membership_settled()):
 * no kernel interface reports forks to an unprivileged process (see
 * docs/DESIGN.md). A kept tree is refreshed anyway: its end is found by a
 * scan that removes its cgroup, which may still be busy when its reaper
 * exits. */
static void reschedule(struct ptree_mgr *mgr)
{
	uint64_t now = loop_now_ms();
	long best = -1;
	for (struct gust_tree *t = mgr->trees; t; t = t->next) {
		long d;
		if (t->exit_pending || t->stopped_pending)
			d = 0;
		else if (t->phase == PH_RUN && (!ptree_records_members(t) || !mgr->refresh_ms))
			continue;
		else if (t->phase == PH_RUN)
			d = mgr->refresh_ms;
		else if (t->phase == PH_KEPT)
			d = mgr->refresh_ms ? mgr->refresh_ms : REFRESH_KEPT_MS;
		else if (t->phase == PH_TERM) {
			d = t->kill_at <= now ? 0 : (long)(t->kill_at - now);
			if (d > (long)t->rescan_ms)
				d = t->rescan_ms;
		} else if (t->phase == PH_KILL)
			d = t->rescan_ms;
		else
			continue;
		if (best < 0 || d < best)
			best = d;
	}
	if (best < 0) {
		if (mgr->timer)
			loop_timer_cancel(mgr->loop, mgr->timer);
		mgr->timer = 0;
		return;
	}
	ptree_arm(mgr, (unsigned)best);
}

static bool group_present(const struct gust_tree *t)
{
	for (size_t i = 0; i < t->nm; i++)
		if (t->m[i].pgrp == t->pid && t->m[i].state != 'Z')
			return true;
	return false;
}

void ptree_tty_release(struct gust_tree *t)
{
	if (t->tty_fd < 0)
		return;
	/* A background gust would be stopped by SIGTTOU; a blocked SIGTTOU
	 * lets tcsetpgrp() through. */
	sigset_t set, old;
	sigemptyset(&set);
	sigaddset(&set, SIGTTOU);
	sigprocmask(SIG_BLOCK, &set, &old);
	if (tcgetpgrp(t->tty_fd) == t->pid)
		(void)tcsetpgrp(t->tty_fd, getpgrp());
	sigprocmask(SIG_SETMASK, &old, NULL);
	close(t->tty_fd);
	t->tty_fd = -1;
}

static void enter_kill(struct gust_tree *t)
{
	t->phase = PH_KILL;
	t->rescan_ms = RESCAN_MIN_MS;
	t->kill_started = loop_now_ms();
}

/* Signal what the last scan found, according to the tree's phase. While a
 * keep list applies, nothing is signalled as a group (the group or the
 * cgroup may hold a kept process): each member that is not kept is. */
static void sweep(struct gust_tree *t)
{
	bool keeping = ptree_keeping(t);
	keep_mark(t);
	if (t->phase == PH_TERM) {
		bool first = !keeping;
		for (size_t i = 0; i < t->nm; i++)
			first &= !t->m[i].signalled;
		if (first && group_present(t))
			(void)killpg(t->pid, t->sig);
		for (size_t i = 0; i < t->nm; i++) {
			struct member *m = &t->m[i];
			if (m->signalled || (keeping && m->kept))
				continue;
			if (!(first && m->pgrp == t->pid))
				(void)procfs_signal(m->pid, m->start, t->sig);
			/* a stopped process handles nothing until continued */
			if (m->state == 'T')
				(void)procfs_signal(m->pid, m->start, SIGCONT);
			m->signalled = true;
		}
	} else if (t->phase == PH_KILL) {
		if (t->cg && !keeping)
			(void)cgroup_kill(t->cg); /* atomic: nothing forks past it */
		if (!keeping && group_present(t))
			(void)killpg(t->pid, SIGKILL);
		for (size_t i = 0; i < t->nm; i++) {
			struct member *m = &t->m[i];
			if (keeping && m->kept)
				continue;
			if (!m->killed && m->state != 'Z')
				(void)procfs_signal(m->pid, m->start, SIGKILL);
			m->killed = true;
		}
	}
}

/* Is nothing of the tree left? With a reaper: exactly when it exited by
 * itself, which it does once it has no child left (it is a subreaper: a
 * descendant is a child or below one). Without one (a PID namespace, or a
 * reaper that was killed): when the scans find no member. */
static bool ptree_empty(struct gust_tree *t)
{
	if (t->reaper && !t->reaper_lost)
		return t->reaper_gone;
	return t->nm == 0;
}

/* A stop with a keep list is complete once only kept processes are left,
 * as a full read of /proc confirms (a scan since the stop began may have
 * missed a process created in between). */
static bool keep_done(struct gust_tree *t, uint64_t now)
{
	if (!ptree_keeping(t) || !keep_only_kept(t)) {
		t->keep_full_at = 0;
		return false;
	}
	if (t->keep_full_at && t->mgr->last_full >= t->keep_full_at)
		return true;
	if (!t->keep_full_at)
		t->keep_full_at = now;
	t->mgr->want_full = true;
	return false;
}

static void stop_complete(struct gust_tree *t, enum phase to)
{
	t->phase = to;
	if (to == PH_DONE)
		t->nm = 0;
	t->stopped_pending = true;
	ptree_tty_release(t);
	if (to == PH_KEPT) {
		size_t n = 0;
		for (size_t i = 0; i < t->nm; i++)
			n += t->m[i].kept;
		log_msg(GUST_LOG_DEBUG, STAGE_RUN, "pid %ld's tree: %zu kept process(es) stay",
		        (long)t->pid, n);
	}
}

/* Kept processes that ended by themselves: the tree is gone; one its owner
 * already freed is the manager's to free. */
static void service_kept(struct ptree_mgr *mgr)
{
	for (struct gust_tree **pp = &mgr->trees; *pp;) {
		struct gust_tree *t = *pp;
		if (t->phase == PH_KEPT && ptree_empty(t) && cgroup_remove(t) != -EBUSY) {
			t->phase = PH_DONE;
			t->nm = 0;
		}
		if (t->detached && t->phase == PH_DONE) {
			*pp = t->next;
			ptree_release(t);
			statefile_write(mgr);
			continue;
		}
		pp = &t->next;
	}
}

static void service(struct ptree_mgr *mgr)
{
	bool stopping = false;
	for (struct gust_tree *t = mgr->trees; t; t = t->next)
		stopping |= t->phase == PH_TERM || t->phase == PH_KILL || t->phase == PH_KEPT;
	(void)membership_scan(mgr);
	uint64_t now = loop_now_ms();
	for (struct gust_tree *t = mgr->trees; t && stopping; t = t->next) {
		if (t->phase != PH_TERM && t->phase != PH_KILL)
			continue;
		if (ptree_empty(t) && cgroup_remove(t) != -EBUSY) {
			stop_complete(t, PH_DONE);
			continue;
		}
		if (keep_done(t, now)) {
			stop_complete(t, PH_KEPT);
			continue;
		}
		membership_look_for_unseen(t, now);
		if (t->phase == PH_TERM && now >= t->kill_at)
			enter_kill(t);
		sweep(t);
		if (t->phase == PH_KILL && !t->warned && !ptree_keeping(t) &&
		    now - t->kill_started > SYNC_KILL_MS) {
			t->warned = true;
			log_msg(GUST_LOG_WARN, STAGE_RUN,
			        "%zu process(es) of pid %ld's tree survive SIGKILL "
			        "(uninterruptible sleep?); still waiting",
			        t->nm, (long)t->pid);
		}
		t->rescan_ms = t->rescan_ms * 2 > RESCAN_MAX_MS ? RESCAN_MAX_MS : t->rescan_ms * 2;
	}
	if (stopping)
		service_kept(mgr);
}

static void mgr_tick(void *arg)
{
	struct ptree_mgr *mgr = arg;
	mgr->timer = 0;
	service(mgr);
	/* Deliver events one at a time; a callback may free or spawn trees,
	 * so start over after each. */
	for (;;) {
		struct gust_tree *t;
		for (t = mgr->trees; t; t = t->next)
			if (t->exit_pending || t->stopped_pending)
				break;
		if (!t)
			break;
		if (t->exit_pending) {
			t->exit_pending = false;
			ptree_tty_release(t);
			if (t->ev && t->ev->exited)
				t->ev->exited(t, t->root_status, t->arg);
		} else {
			t->stopped_pending = false;
			if (t->ev && t->ev->stopped)
				t->ev->stopped(t, t->arg);
		}
	}
	reschedule(mgr);
}

static void on_reap(pid_t pid, int status, void *arg)
{
	struct ptree_mgr *mgr = arg;
	bool wake = false;
	for (struct gust_tree *t = mgr->trees; t; t = t->next) {
		if (ptree_reaper_alive(t) && t->reaper == pid) {
			reaper_reaped(t, status);
			wake = true;
		} else if (!t->reaper && !t->root_reaped && t->pid == pid) {
			t->root_reaped = true;
			t->root_status = status;
			t->exit_pending = true;
			wake = true;
		}
		wake |= t->phase == PH_TERM || t->phase == PH_KILL;
	}
	if (wake)
		ptree_arm(mgr, 0);
}

struct ptree_mgr *ptree_mgr_new(struct loop *loop, const char *state_path, char *err, size_t errlen)
{
	struct ptree_mgr *mgr = calloc(1, sizeof *mgr);
	if (!mgr) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	mgr->loop = loop;
	mgr->self = getpid();
	mgr->refresh_ms = REFRESH_MS;
	mgr->state_fd = -1;
	mgr->lock_fd = -1;
	struct pinfo pi;
	int r = procfs_stat(mgr->self, &pi);
	if (r < 0) {
		snprintf(err, errlen, "cannot read /proc/%ld/stat: %s (gust needs /proc mounted)",
		         (long)mgr->self, strerror(-r));
		free(mgr);
		return NULL;
	}
	mgr->self_start = pi.start;
	if (state_path && !(mgr->state_path = strdup(state_path))) {
		free(mgr);
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
#if defined(PR_SET_CHILD_SUBREAPER)
	if (prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) < 0) {
		snprintf(err, errlen, "cannot become a child subreaper: %s", strerror(errno));
		free(mgr->state_path);
		free(mgr);
		return NULL;
	}
#elif defined(HAVE_PROCCTL) && defined(PROC_REAP_ACQUIRE)
	if (procctl(P_PID, getpid(), PROC_REAP_ACQUIRE, NULL) < 0 && errno != EBUSY) {
		snprintf(err, errlen, "cannot become a reaper: %s", strerror(errno));
		free(mgr->state_path);
		free(mgr);
		return NULL;
	}
#endif
	loop_set_reap_hook(loop, on_reap, mgr);
	return mgr;
}

size_t ptree_mgr_count(struct ptree_mgr *mgr)
{
	size_t n = 0;
	for (struct gust_tree *t = mgr->trees; t; t = t->next)
		if (ptree_live(t))
			n += t->nm;
	return n;
}

void ptree_mgr_scans(const struct ptree_mgr *mgr, unsigned long *full, unsigned long *delta)
{
	*full = mgr->full_scans;
	*delta = mgr->delta_scans;
}

unsigned long ptree_mgr_quick_scans(const struct ptree_mgr *mgr)
{
	return mgr->quick_scans;
}

bool ptree_mgr_idle(const struct ptree_mgr *mgr)
{
	return !mgr->timer;
}

bool ptree_mgr_incremental(const struct ptree_mgr *mgr)
{
	return membership_base(mgr) != NULL;
}

/* ---- spawning (the rest is spawn.c's) ---- */

struct gust_tree *ptree_spawn(struct ptree_mgr *mgr, const struct gust_spawn *spec,
                              const struct gust_tree_events *ev, void *arg, char *err,
                              size_t errlen)
{
	if (!spec || spec->size < offsetof(struct gust_spawn, flags) + sizeof spec->flags ||
	    !spec->argv || !spec->argv[0] || !spec->argv[0][0]) {
		snprintf(err, errlen, "tree_spawn: no command given");
		errno = EINVAL;
		return NULL;
	}
	struct gust_tree *t = calloc(1, sizeof *t);
	if (!t) {
		snprintf(err, errlen, "out of memory");
		errno = ENOMEM;
		return NULL;
	}
	t->tty_fd = -1;
	t->report_fd = -1;
	t->mgr = mgr;
	t->ev = ev;
	t->arg = arg;
	t->serial = ++mgr->next_serial;
	int r = keep_init(t, spec);
	if (r == 0 && t->keep && (spec->flags & GUST_SPAWN_PIDNS)) {
		/* the namespace ends with its init: nothing can be kept */
		snprintf(err, errlen,
		         "tree_spawn: a keep list is not possible with a PID namespace");
		r = -EINVAL;
	} else if (r < 0) {
		snprintf(err, errlen, "out of memory");
	}
	if (r == 0)
		r = spawn_start(t, spec, err, errlen);
	if (r < 0) {
		if (t->tty_fd >= 0)
			close(t->tty_fd);
		if (t->cg) {
			(void)rmdir(t->cg);
			free(t->cg);
		}
		keep_free(t);
		free(t);
		errno = -r;
		return NULL;
	}
	t->next = mgr->trees;
	mgr->trees = t;
	mgr->refresh_ms = REFRESH_MS;
	statefile_write(mgr);
	exitwatch_sync(t);
	reschedule(mgr);
	return t;
}

/* ---- stopping ---- */

int ptree_stop(struct gust_tree *t, int sig, unsigned kill_delay_ms)
{
	if (!t)
		return -EINVAL;
	if (t->phase == PH_DONE || t->phase == PH_KEPT)
		return -ESRCH;
	if (t->phase != PH_RUN)
		return 0;
	if (sig <= 0 || sig >= NSIG)
		return -EINVAL;
	struct ptree_mgr *mgr = t->mgr;
	t->sig = sig;
	t->rescan_ms = RESCAN_MIN_MS;
	t->kill_at = loop_now_ms() + kill_delay_ms;
	if (sig == SIGKILL || kill_delay_ms == 0)
		enter_kill(t);
	else
		t->phase = PH_TERM;
	(void)membership_scan(mgr);
	if (t->nm)
		sweep(t);
	ptree_arm(mgr, t->nm ? RESCAN_MIN_MS : 0);
	return 0;
}

int ptree_kill(struct gust_tree *t)
{
	if (!t)
		return -EINVAL;
	if (t->phase == PH_DONE || t->phase == PH_KEPT)
		return -ESRCH;
	if (t->phase == PH_KILL)
		return 0;
	if (t->phase == PH_RUN)
		return ptree_stop(t, SIGKILL, 0);
	enter_kill(t);
	(void)membership_scan(t->mgr);
	sweep(t);
	ptree_arm(t->mgr, t->nm ? RESCAN_MIN_MS : 0);
	return 0;
}

pid_t ptree_pid(const struct gust_tree *t)
{
	return t ? t->pid : 0;
}

/* For its owner, a tree whose stop left only kept processes is gone. */
bool ptree_alive(const struct gust_tree *t)
{
	return t && t->phase != PH_DONE && t->phase != PH_KEPT;
}

/* The host's tree_pids(). */
size_t ptree_members(const struct gust_tree *t, pid_t *out, size_t max)
{
	if (!t || !ptree_live(t))
		return 0;
	/* as of now, not as of the last refresh: mostly a re-read of the
	 * members, reading /proc only for what was created since */
	(void)membership_scan(t->mgr);
	reschedule(t->mgr); /* a change found starts the refresh again */
	size_t n = 0;
	for (size_t i = 0; ptree_live(t) && i < t->nm; i++) {
		if (t->m[i].state == 'Z')
			continue;
		if (n < max)
			out[n] = t->m[i].pid;
		n++;
	}
	return n;
}

/* gust's children that are no live reaper: a stray left by a killed
 * reaper, or a root it left. Teardown kills them (a child not yet reaped
 * is named by its pid) and reaps all it can; true while gust has any
 * child at all, which, gust being a subreaper, is while it has any
 * descendant. */
static bool own_children_left(struct ptree_mgr *mgr)
{
	reaper_kill_children(mgr->self, mgr);
	int st;
	pid_t w;
	while ((w = waitpid(-1, &st, WNOHANG)) > 0)
		on_reap(w, st, mgr);
	return !(w < 0 && errno == ECHILD);
}

/* Teardown only: SIGKILL the live trees (all, or just one), reap what is
 * ours directly, wait in short naps until nothing of them exists; with
 * all of them, until gust has no descendant at all. */
static void kill_sync(struct ptree_mgr *mgr, struct gust_tree *only)
{
	uint64_t deadline = loop_now_ms() + SYNC_KILL_MS;
	long nap = 1;
	for (struct gust_tree *t = mgr->trees; t; t = t->next) {
		if (!only || t == only)
			t->keep_off = true; /* gust exits, or t is freed live: nothing is kept */
		if (ptree_live(t) && (!only || t == only) &&
		    (t->phase != PH_KILL || ptree_keeping(t)))
			enter_kill(t);
	}
	for (;;) {
		(void)membership_scan(mgr);
		size_t left = 0;
		for (struct gust_tree *t = mgr->trees; t; t = t->next) {
			if (!ptree_live(t) || (only && t != only))
				continue;
			int st;
			if (ptree_reaper_alive(t) && waitpid(t->reaper, &st, WNOHANG) == t->reaper)
				reaper_reaped(t, st);
			size_t before = left;
			for (size_t i = 0; i < t->nm; i++) {
				struct member *m = &t->m[i];
				if (m->ppid == mgr->self &&
				    waitpid(m->pid, &st, WNOHANG) == m->pid) {
					if (m->pid == t->pid)
						t->root_reaped = true;
					continue;
				}
				left++;
			}
			sweep(t);
			if (left == before && (ptree_reaper_alive(t) || cgroup_remove(t) == -EBUSY))
				left++;
		}
		if (!only && own_children_left(mgr))
			left++;
		if (!left)
			break;
		if (loop_now_ms() >= deadline) {
			log_msg(GUST_LOG_WARN, STAGE_RUN,
			        "%zu process(es) survive SIGKILL (uninterruptible sleep?); giving "
			        "up on them",
			        left);
			break;
		}
		struct timespec ts = { 0, nap * 1000000L };
		nanosleep(&ts, NULL);
		nap = nap * 2 > 20 ? 20 : nap * 2;
	}
	for (struct gust_tree *t = mgr->trees; t; t = t->next) {
		if (!ptree_live(t) || (only && t != only))
			continue;
		t->phase = PH_DONE;
		t->nm = 0;
		ptree_tty_release(t);
	}
}

/* A tree that ended may still have its reaper in its cgroup for a moment
 * (the reaper leaves once the tree is empty; a zombie does not count):
 * wait for that, bounded, rather than leave an empty cgroup behind. */
static void cgroup_remove_soon(struct gust_tree *t)
{
	for (int i = 0; i < 100 && cgroup_remove(t) == -EBUSY; i++) {
		struct timespec ts = { 0, 2 * 1000000L };
		nanosleep(&ts, NULL);
	}
}

void ptree_release(struct gust_tree *t)
{
	exitwatch_clear(t);
	ptree_tty_release(t);
	reaper_report_close(t);
	cgroup_remove_soon(t);
	keep_free(t);
	free(t->cg);
	free(t->m);
	free(t);
}

void ptree_free(struct gust_tree *t)
{
	if (!t)
		return;
	struct ptree_mgr *mgr = t->mgr;
	if (t->phase == PH_KEPT) {
		/* what is kept lives on, the manager's now (killed at exit) */
		t->detached = true;
		t->ev = NULL;
		t->arg = NULL;
		return;
	}
	if (ptree_live(t))
		kill_sync(mgr, t);
	for (struct gust_tree **pp = &mgr->trees; *pp; pp = &(*pp)->next) {
		if (*pp == t) {
			*pp = t->next;
			break;
		}
	}
	ptree_release(t);
	statefile_write(mgr);
	reschedule(mgr);
}

void ptree_mgr_free(struct ptree_mgr *mgr)
{
	if (!mgr)
		return;
	kill_sync(mgr, NULL);
	while (mgr->trees) {
		struct gust_tree *t = mgr->trees;
		mgr->trees = t->next;
		ptree_release(t);
	}
	if (mgr->timer)
		loop_timer_cancel(mgr->loop, mgr->timer);
	loop_set_reap_hook(mgr->loop, NULL, NULL);
	statefile_close(mgr);
	spawn_fini(mgr);
	free(mgr);
}
