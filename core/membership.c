/* membership.c - which processes belong to which tree: the scans of
 * /proc that attribute each process to the tree whose reaper its parent
 * chain reaches (or whose cgroup holds it, or that knew it by pid and
 * start time), the views that let a scan read only what was created
 * since an earlier one, and the search for a child no scan saw. */
#include "config.h"

#include "ptree-internal.h"

#include "loop.h"

#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define LOST_MS                                                                                    \
	50u                   /* a reaper outliving its known members this long                    \
	                         had a child no scan saw: read all of /proc */
#define REFRESH_LAST_MS 4000u /* ...doubling while nothing changes, up to this: then none */
#define INFLIGHT_MS 2000u     /* a fork is never this long between pid and /proc */
#define COALESCE_MS 250u      /* views closer than this share a slot */
#define FULL_EVERY_MS 60000u  /* all of /proc at least this often */

static struct member *member_find(struct gust_tree *t, pid_t pid, unsigned long long start)
{
	for (size_t i = 0; i < t->nm; i++)
		if (t->m[i].pid == pid && t->m[i].start == start)
			return &t->m[i];
	return NULL;
}

/* Attribution of one scanned process; memo: 0 unvisited, 1 busy, 2 done. */
struct attr {
	struct ptree_mgr *mgr;
	const struct snap *s;
	struct gust_tree **own;
	unsigned char *st;
};

/* The live tree whose reaper is pid. */
struct gust_tree *membership_reaper_of(struct ptree_mgr *mgr, pid_t pid)
{
	for (struct gust_tree *t = mgr->trees; t; t = t->next)
		if (ptree_live(t) && ptree_reaper_alive(t) && t->reaper == pid)
			return t;
	return NULL;
}

/* A child of gust that is no reaper and no known member was orphaned by a
 * reaper that was killed (nothing else of gust's forks): it is the newest
 * such tree's. */
static struct gust_tree *stray_owner(struct ptree_mgr *mgr)
{
	for (struct gust_tree *t = mgr->trees; t; t = t->next)
		if (ptree_live(t) && t->reaper_lost)
			return t;
	return NULL;
}

static struct gust_tree *member_of(struct ptree_mgr *mgr, pid_t pid, unsigned long long start)
{
	for (struct gust_tree *t = mgr->trees; t; t = t->next)
		if (ptree_live(t) && member_find(t, pid, start))
			return t;
	return NULL;
}

/* A process is a tree's when it was a member (same pid and start time), or
 * its parent is the tree's reaper, or its parent is the tree's. */
static struct gust_tree *attribute(struct attr *a, size_t i)
{
	if (a->st[i] == 2)
		return a->own[i];
	if (a->st[i] == 1)
		return NULL;
	a->st[i] = 1;
	const struct pinfo *p = &a->s->p[i];
	struct ptree_mgr *mgr = a->mgr;
	struct gust_tree *found = NULL;
	if (p->pid == mgr->self || membership_reaper_of(mgr, p->pid))
		goto done;
	found = member_of(mgr, p->pid, p->start);
	if (!found)
		found = membership_reaper_of(mgr, p->ppid);
	if (!found && p->ppid == mgr->self)
		found = stray_owner(mgr);
	if (!found) {
		long j = procfs_snap_find(a->s, p->ppid);
		if (j >= 0)
			found = attribute(a, (size_t)j);
	}
done:
	a->st[i] = 2;
	a->own[i] = found;
	return found;
}

/* Re-read the known members, dropping the ones that are gone. */
static void refresh_known(struct ptree_mgr *mgr)
{
	for (struct gust_tree *t = mgr->trees; t; t = t->next) {
		size_t k = 0;
		for (size_t i = 0; ptree_live(t) && i < t->nm; i++) {
			struct member *m = &t->m[i];
			struct pinfo pi;
			if (procfs_stat(m->pid, &pi) < 0 || pi.start != m->start)
				continue;
			m->ppid = pi.ppid;
			m->pgrp = pi.pgrp;
			m->state = pi.state;
			t->m[k++] = *m;
		}
		if (ptree_live(t))
			t->nm = k;
	}
}

/* After a scan: a changed membership goes to the state file and brings
 * the refresh back to REFRESH_MS; an unchanged one backs it off, and past
 * REFRESH_LAST_MS ends it (0) until the next change: a tree that has
 * settled is not looked at again until something tells of a change. */
static void membership_settled(struct ptree_mgr *mgr, bool changed)
{
	if (changed) {
		mgr->refresh_ms = REFRESH_MS;
		statefile_write(mgr);
	} else if (mgr->refresh_ms) {
		mgr->refresh_ms = mgr->refresh_ms * 2 > REFRESH_LAST_MS ? 0 : mgr->refresh_ms * 2;
	}
}

/* A scan that found nothing new: the members are all there is. */
static void quick_scan(struct ptree_mgr *mgr)
{
	size_t before = 0, after = 0;
	for (struct gust_tree *t = mgr->trees; t; t = t->next)
		before += ptree_live(t) ? t->nm : 0;
	refresh_known(mgr);
	for (struct gust_tree *t = mgr->trees; t; t = t->next)
		after += ptree_live(t) ? t->nm : 0;
	membership_settled(mgr, after != before);
}

/* Is pid among those allocated after base->last_pid, up to now->last_pid,
 * going round at pid_max? */
static bool allocated_since(pid_t pid, const struct counters *base, const struct counters *now)
{
	long from = base->last_pid, to = now->last_pid;
	return from <= to ? pid > from && pid <= to : pid > from || pid <= to;
}

/* The view a scan may take as its base: complete, and older than the
 * newest view by INFLIGHT_MS, so that no fork was half done at it (see
 * membership_scan()); NULL if there is none. */
const struct view *membership_base(const struct ptree_mgr *mgr)
{
	if (!mgr->nhist)
		return NULL;
	uint64_t newest = mgr->hist[mgr->nhist - 1].at;
	for (size_t i = mgr->nhist; i-- > 0;)
		if (mgr->hist[i].at + INFLIGHT_MS <= newest)
			return &mgr->hist[i];
	return NULL;
}

static void membership_view_push(struct ptree_mgr *mgr, uint64_t at, const struct counters *c)
{
	struct view v = { at, *c };
	size_t n = mgr->nhist;
	/* keep the views at least COALESCE_MS apart, but the newest */
	if (n >= 2 && mgr->hist[n - 2].at + COALESCE_MS > at) {
		mgr->hist[n - 1] = v;
	} else {
		if (n == HIST) {
			memmove(mgr->hist, mgr->hist + 1, (HIST - 1) * sizeof *mgr->hist);
			n--;
		}
		mgr->hist[n++] = v;
		mgr->nhist = n;
	}
	/* views older than the base are never needed again */
	const struct view *b = membership_base(mgr);
	size_t drop = b ? (size_t)(b - mgr->hist) : 0;
	if (drop) {
		memmove(mgr->hist, mgr->hist + drop, (mgr->nhist - drop) * sizeof *mgr->hist);
		mgr->nhist -= drop;
	}
}

/* May a scan read only what was created since base, now being the
 * counters read at at? Not past FULL_EVERY_MS since the last complete
 * scan, nor once the allocator may have gone all the way round (see
 * membership_scan()). */
static bool delta_holds(const struct ptree_mgr *mgr, uint64_t at, const struct counters *base,
                        const struct counters *now)
{
	return at < mgr->last_full + FULL_EVERY_MS && now->forks >= base->forks &&
	       2 * (now->forks - base->forks) + (unsigned long long)base->threads + 1 <
	           (unsigned long long)(now->pid_max > 300 ? now->pid_max - 300 : 0);
}

/* A delta scan's snapshot: the members, then whatever was created since
 * the base. 0 or -errno. */
static int snap_since(struct ptree_mgr *mgr, struct snap *s, const struct counters *base,
                      const struct counters *now)
{
	int r = 0;
	for (struct gust_tree *t = mgr->trees; t && r == 0; t = t->next)
		for (size_t i = 0; ptree_live(t) && i < t->nm && r == 0; i++)
			r = procfs_snap_add(s, &(struct pinfo){ t->m[i].pid, t->m[i].ppid,
			                                        t->m[i].pgrp, t->m[i].start,
			                                        t->m[i].state });
	DIR *d = r == 0 ? opendir("/proc") : NULL;
	if (r == 0 && !d)
		r = -errno;
	struct dirent *de;
	while (d && r == 0 && (de = readdir(d))) {
		const char *c = de->d_name;
		if (*c < '1' || *c > '9')
			continue;
		char *end;
		long pid = strtol(c, &end, 10);
		struct pinfo pi;
		if (*end || !allocated_since((pid_t)pid, base, now) ||
		    procfs_stat((pid_t)pid, &pi) < 0 || member_of(mgr, pi.pid, pi.start))
			continue;
		r = procfs_snap_add(s, &pi);
	}
	if (d)
		closedir(d);
	if (r == 0)
		procfs_snap_sort(s);
	return r;
}

/* Attribute every process of the snapshot (a->own). A cgroup's members
 * are the tree's, whatever else they did; nothing leaves a cgroup
 * without privileges. In a delta, the members stay what they are. */
static void attribute_all(struct attr *a, bool delta)
{
	struct ptree_mgr *mgr = a->mgr;
	const struct snap *s = a->s;
	for (struct gust_tree *t = mgr->trees; t; t = t->next) {
		pid_t *cp;
		size_t ncp;
		if (!ptree_live(t) || !t->cg || cgroup_pids(t->cg, &cp, &ncp) < 0)
			continue;
		for (size_t k = 0; k < ncp; k++) {
			long i = procfs_snap_find(s, cp[k]);
			if (i >= 0 && cp[k] != mgr->self) {
				a->st[i] = 2;
				a->own[i] = t;
			}
		}
		free(cp);
	}
	for (size_t i = 0; delta && i < s->n; i++) {
		struct gust_tree *t = member_of(mgr, s->p[i].pid, s->p[i].start);
		if (t && !a->st[i]) {
			a->st[i] = 2;
			a->own[i] = t;
		}
	}
	for (size_t i = 0; i < s->n; i++)
		attribute(a, i);
}

/* Make each live tree's members what the attribution found, keeping what
 * was signalled. *changed: a member came or went. 0 or -ENOMEM (that
 * tree keeps its old members). */
static int members_from(struct ptree_mgr *mgr, const struct attr *a, bool *changed)
{
	const struct snap *s = a->s;
	int r = 0;
	for (struct gust_tree *t = mgr->trees; t; t = t->next) {
		if (!ptree_live(t))
			continue;
		size_t n = 0;
		for (size_t i = 0; i < s->n; i++)
			n += a->own[i] == t;
		struct member *m = calloc(n ? n : 1, sizeof *m);
		if (!m) {
			r = -ENOMEM;
			continue;
		}
		size_t k = 0;
		for (size_t i = 0; i < s->n; i++) {
			if (a->own[i] != t)
				continue;
			const struct pinfo *p = &s->p[i];
			struct member *old = member_find(t, p->pid, p->start);
			m[k] = (struct member){ .pid = p->pid,
				                .ppid = p->ppid,
				                .pgrp = p->pgrp,
				                .start = p->start,
				                .state = p->state };
			if (old) {
				m[k].signalled = old->signalled;
				m[k].killed = old->killed;
				m[k].kept = old->kept;
			} else {
				*changed = true;
			}
			k++;
		}
		if (k != t->nm)
			*changed = true;
		free(t->m);
		t->m = m;
		t->nm = k;
	}
	return r;
}

/* Recompute every live tree's membership.
 *
 * Reading the stat of every process on the machine costs ~7 us each, a few
 * ms on a desktop, several times per restart. So gust remembers the
 * counters it read before each complete scan (a view), and a later scan
 * re-reads the known members plus only the pids allocated since a base
 * view: Linux hands out pids in order, going round at pid_max, so every
 * process created since has a pid between the base's last pid and the
 * current one. Two things bound that:
 *  - A fork takes its pid before it shows in /proc, so a scan can miss a
 *    process whose pid is below the counter it read. The base is therefore
 *    a view at least INFLIGHT_MS older than the newest: a process half
 *    forked at any later scan got its pid after the base, and shows in
 *    /proc by now.
 *  - The allocator must not have gone all the way round, which takes at
 *    least pid_max - 300 slots; since the base it moved by one per pid
 *    allocated (at most the forks since, counted across all namespaces)
 *    plus one per pid it skipped as taken (at most the threads alive then
 *    plus the forks since).
 * Without a base, past that bound, once a minute, or when a counter cannot
 * be read, the scan reads all of /proc. */
static int scan(struct ptree_mgr *mgr)
{
	bool any = false;
	for (struct gust_tree *t = mgr->trees; t; t = t->next)
		any |= ptree_live(t);
	if (!any)
		return 0;
	bool full = mgr->want_full;
	mgr->want_full = false;
	unsigned long long forks;
	bool forks_ok = procfs_forks(&forks) == 0;
	if (forks_ok && !full && mgr->nhist && forks == mgr->hist[mgr->nhist - 1].c.forks &&
	    loop_now_ms() < mgr->last_full + FULL_EVERY_MS) {
		/* Nothing appeared since the newest view: a process that was
		 * half forked then is still invisible, for a later scan to find
		 * as before, and what is left is who exited or moved. */
		struct counters same = mgr->hist[mgr->nhist - 1].c;
		mgr->quick_scans++;
		quick_scan(mgr);
		membership_view_push(mgr, loop_now_ms(), &same);
		return 0;
	}
	struct counters now;
	bool now_ok = forks_ok && procfs_counters(&now, &forks) == 0;
	uint64_t at = loop_now_ms(); /* after: the view is no older than this */
	const struct view *bv = membership_base(mgr);
	const struct counters *base = bv ? &bv->c : NULL;
	bool delta = now_ok && base && !full && delta_holds(mgr, at, base, &now);
	if (delta && now.last_pid == base->last_pid) {
		/* nothing created: the members are all there is */
		mgr->delta_scans++;
		quick_scan(mgr);
		membership_view_push(mgr, at, &now);
		return 0;
	}
	struct snap s = { 0 };
	int r;
	if (delta) {
		mgr->delta_scans++;
		refresh_known(mgr);
		r = snap_since(mgr, &s, base, &now);
	} else {
		mgr->full_scans++;
		mgr->last_full = at;
		r = procfs_snap_take(&s);
	}
	struct attr a = { mgr, &s, NULL, NULL };
	if (r == 0) {
		a.own = calloc(s.n ? s.n : 1, sizeof *a.own);
		a.st = calloc(s.n ? s.n : 1, 1);
		if (!a.own || !a.st)
			r = -ENOMEM;
	}
	if (r < 0) {
		free(a.own);
		free(a.st);
		free(s.p);
		return r;
	}
	attribute_all(&a, delta);
	bool changed = false;
	r = members_from(mgr, &a, &changed);
	free(a.own);
	free(a.st);
	free(s.p);
	/* complete as of the counters read before looking: a process created
	 * while we looked has a later pid, for the next scan to find */
	if (r == 0 && now_ok)
		membership_view_push(mgr, at, &now);
	else
		mgr->nhist = 0;
	membership_settled(mgr, changed);
	return r;
}

int membership_scan(struct ptree_mgr *mgr)
{
	int r = scan(mgr);
	for (struct gust_tree *t = mgr->trees; t; t = t->next)
		if (ptree_live(t))
			exitwatch_sync(t);
	return r;
}

/* Is the membership of every tree exact right now (no tree alive, or
 * nothing appeared since the newest view)? Then it is after a spawn's
 * fork too if the fork was the only one, and the next scan can be quick
 * (membership_after_spawn()). *forks: the count read now. */
bool membership_exact(struct ptree_mgr *mgr, unsigned long long *forks)
{
	bool any = false;
	for (struct gust_tree *o = mgr->trees; o; o = o->next)
		any |= ptree_live(o);
	return procfs_forks(forks) == 0 &&
	       (!any || (mgr->nhist && *forks == mgr->hist[mgr->nhist - 1].c.forks));
}

void membership_after_spawn(struct ptree_mgr *mgr, const struct gust_tree *t,
                            unsigned long long forks)
{
	struct counters c1;
	if (t->nm == 1 && procfs_counters(&c1, NULL) == 0 && c1.forks == forks)
		membership_view_push(mgr, loop_now_ms(), &c1);
}

/* A reaper alive with no member known has a child that no scan saw (its
 * parent's stat was read after the parent died, say): give it LOST_MS to
 * be the reaper's last moment, then read all of /proc. */
void membership_look_for_unseen(struct gust_tree *t, uint64_t now)
{
	if (!ptree_reaper_alive(t) || t->nm) {
		t->empty_since = 0;
	} else if (!t->empty_since) {
		t->empty_since = now;
	} else if (now - t->empty_since >= LOST_MS) {
		t->mgr->want_full = true;
		t->empty_since = now;
	}
}
