/* ptree.c - process trees: spawn, graceful stop with escalation, sweep of
 * escaped descendants, reaping, and recovery after a SIGKILLed gust.
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
 * from inside a ptree_* call, so owners may free or spawn trees from them. */
#include "config.h"

#include "ptree.h"

#include "log.h"
#include "loop.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>
#ifdef HAVE_SYS_PRCTL_H
#include <sys/prctl.h>
#endif
#ifdef __linux__
#include <sys/vfs.h>
#endif
#ifdef HAVE_SYS_PROCCTL_H
#include <sys/procctl.h>
#endif

extern char **environ;

#define RESCAN_MIN_MS 5u
#define RESCAN_MAX_MS 50u
#define REFRESH_MS 2000u      /* membership refresh while runs are up... */
#define REFRESH_MAX_MS 16000u /* ...backing off to this while nothing changes */
#define SYNC_KILL_MS 5000u    /* bound of the synchronous kill at teardown */
#define TXTBSY_MAX_MS 1000u   /* retry exec this long while ETXTBSY */
#define RECOVER_MS 3000u
#define LOST_MS                                                                                    \
	50u                       /* a reaper outliving its known members this long                \
	                             had a child no scan saw: read all of /proc */
#define REAPER_DEATH_SIG SIGUSR1  /* gust died: kept blocked, waited for */
#define CG_ENV "GUST_CGROUP"      /* documented override of the cgroup parent */
#define CGROUP2_MAGIC 0x63677270L /* statfs f_type of cgroup2 */

/* One process as seen in /proc. */
struct pinfo {
	pid_t pid, ppid, pgrp;
	unsigned long long start;
	char state;
};

struct member {
	pid_t pid, ppid, pgrp;
	unsigned long long start;
	char state;
	bool signalled; /* got the stop signal */
	bool killed;    /* got SIGKILL */
};

enum phase { PH_RUN = 0, PH_TERM, PH_KILL, PH_DONE };

struct gust_tree {
	struct ptree_mgr *mgr;
	struct gust_tree *next;
	unsigned long serial;
	pid_t pid;
	unsigned long long start;
	const struct gust_tree_events *ev;
	void *arg;
	bool root_reaped;
	int root_status;
	bool exit_pending;
	bool stopped_pending;
	enum phase phase;
	int sig;
	uint64_t kill_at;
	unsigned rescan_ms;
	uint64_t kill_started;
	bool warned;
	struct member *m;
	size_t nm;
	/* The reaper (0 with GUST_SPAWN_PIDNS, where the root is the
	 * namespace's init): gust's child, so its pid names it until reaped. */
	pid_t reaper;
	unsigned long long reaper_start;
	bool reaper_gone;     /* reaped: exited once the tree was empty */
	bool reaper_lost;     /* killed: its orphans are now gust's own */
	int report_fd;        /* the reaper's reports (the root's exit), or -1 */
	uint64_t empty_since; /* stopping, no member known, reaper alive */
	int tty_fd;           /* GUST_SPAWN_FOREGROUND: the terminal we must take back */
	char *cg;             /* GUST_SPAWN_CGROUP: the tree's cgroup directory, until removed */
	bool cg_warned;
};

/* What tells whether processes were created: the last pid allocated in
 * gust's pid namespace and the number of threads (/proc/loadavg, proc(5)),
 * the forks since boot in all namespaces (the "processes" line of
 * /proc/stat) and the kernel's pid_max. */
struct counters {
	long last_pid, threads, pid_max;
	unsigned long long forks;
};

/* The counters read just before a scan that left the membership complete. */
struct view {
	uint64_t at; /* loop_now_ms() */
	struct counters c;
};
#define HIST 16
#define INFLIGHT_MS 2000u    /* a fork is never this long between pid and /proc */
#define COALESCE_MS 250u     /* views closer than this share a slot */
#define FULL_EVERY_MS 60000u /* all of /proc at least this often */

struct ptree_mgr {
	struct loop *loop;
	char *state_path;
	int state_fd;     /* open on state_path once written, else -1 */
	char *state_last; /* what state_fd holds (malloc'd), or NULL */
	bool quitting;    /* said in the state file: a new gust waits for us */
	size_t state_last_len;
	pid_t self;
	unsigned long long self_start;
	struct gust_tree *trees; /* newest first */
	unsigned long next_serial;
	uint64_t timer;
	uint64_t timer_due;
	bool state_warned;
	/* Views: the counters read just before each recent complete scan,
	 * oldest first (see scan()). */
	struct view hist[HIST];
	size_t nhist;
	uint64_t last_full;  /* when all of /proc was last read */
	bool want_full;      /* the next scan reads all of /proc */
	unsigned refresh_ms; /* PH_RUN refresh interval, REFRESH_MS.. */
	unsigned long full_scans, delta_scans, quick_scans; /* for the tests and -vv */
	void *child_stack; /* fork_fast()'s, CHILD_STACK bytes, mapped once */
};

/* ---- /proc ---- */

static int read_small(const char *path, char *buf, size_t len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	ssize_t n;
	do
		n = read(fd, buf, len - 1);
	while (n < 0 && errno == EINTR);
	int e = errno;
	close(fd);
	if (n < 0)
		return -e;
	buf[n] = '\0';
	return (int)n;
}

/* The forks since boot. The kernel counts a fork in the same locked step
 * that makes the new process visible in /proc (copy_process()), so an
 * unchanged count means nothing appeared in between. */
static int read_forks(unsigned long long *forks)
{
	FILE *f = fopen("/proc/stat", "re");
	if (!f)
		return -1;
	char *line = NULL;
	size_t cap = 0;
	int r = -1;
	while (getline(&line, &cap, f) > 0)
		if (sscanf(line, "processes %llu", forks) == 1) {
			r = 0;
			break;
		}
	free(line);
	fclose(f);
	return r;
}

/* forks: the count if just read (first, as scan() does: the 300 pids of
 * slack in the wrap bound cover the forks between the two reads), or NULL */
static int read_counters(struct counters *c, const unsigned long long *forks)
{
	char buf[256];
	long run, thr, last;
	if (read_small("/proc/loadavg", buf, sizeof buf) <= 0 ||
	    sscanf(buf, "%*s %*s %*s %ld/%ld %ld", &run, &thr, &last) != 3 || last <= 0)
		return -1;
	c->last_pid = last;
	c->threads = thr;
	if (read_small("/proc/sys/kernel/pid_max", buf, sizeof buf) <= 0 ||
	    sscanf(buf, "%ld", &c->pid_max) != 1)
		return -1;
	if (forks) {
		c->forks = *forks;
		return 0;
	}
	return read_forks(&c->forks);
}

static int proc_stat(pid_t pid, struct pinfo *pi)
{
	char path[64], buf[1024];
	snprintf(path, sizeof path, "/proc/%ld/stat", (long)pid);
	int r = read_small(path, buf, sizeof buf);
	if (r < 0)
		return r;
	/* comm may hold spaces and parentheses: parse after the last ')' */
	char *p = strrchr(buf, ')');
	if (!p)
		return -EINVAL;
	int ppid, pgrp;
	char state;
	unsigned long long start;
	if (sscanf(p + 1,
	           " %c %d %d %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %llu",
	           &state, &ppid, &pgrp, &start) != 4)
		return -EINVAL;
	pi->pid = pid;
	pi->ppid = ppid;
	pi->pgrp = pgrp;
	pi->state = state;
	pi->start = start;
	return 0;
}

struct snap {
	struct pinfo *p;
	size_t n, cap;
};

static int cmp_pinfo(const void *a, const void *b)
{
	pid_t x = ((const struct pinfo *)a)->pid, y = ((const struct pinfo *)b)->pid;
	return x < y ? -1 : x > y;
}

static int snap_take(struct snap *s)
{
	s->n = 0;
	DIR *d = opendir("/proc");
	if (!d)
		return -errno;
	struct dirent *de;
	while ((de = readdir(d))) {
		const char *c = de->d_name;
		if (*c < '1' || *c > '9')
			continue;
		char *end;
		long pid = strtol(c, &end, 10);
		if (*end)
			continue;
		struct pinfo pi;
		if (proc_stat((pid_t)pid, &pi) < 0)
			continue;
		if (s->n == s->cap) {
			size_t cap = s->cap ? s->cap * 2 : 512;
			struct pinfo *np = realloc(s->p, cap * sizeof *np);
			if (!np) {
				closedir(d);
				return -ENOMEM;
			}
			s->p = np;
			s->cap = cap;
		}
		s->p[s->n++] = pi;
	}
	closedir(d);
	if (s->n > 1)
		qsort(s->p, s->n, sizeof *s->p, cmp_pinfo);
	return 0;
}

static long snap_find(const struct snap *s, pid_t pid)
{
	size_t lo = 0, hi = s->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (s->p[mid].pid == pid)
			return (long)mid;
		if (s->p[mid].pid < pid)
			lo = mid + 1;
		else
			hi = mid;
	}
	return -1;
}

/* ---- signalling by (pid, start time) ---- */

static int sys_pidfd_open(pid_t pid)
{
#if HAVE_DECL_SYS_PIDFD_OPEN
	return (int)syscall(SYS_pidfd_open, pid, 0);
#else
	(void)pid;
	errno = ENOSYS;
	return -1;
#endif
}

static int sys_pidfd_signal(int fd, int sig)
{
#if HAVE_DECL_SYS_PIDFD_SEND_SIGNAL
	return (int)syscall(SYS_pidfd_send_signal, fd, sig, NULL, 0);
#else
	(void)fd;
	(void)sig;
	errno = ENOSYS;
	return -1;
#endif
}

/* Signal pid only if it is still the process that started at start. */
static int send_sig(pid_t pid, unsigned long long start, int sig)
{
	struct pinfo pi;
	int fd = sys_pidfd_open(pid);
	if (fd < 0 && errno == ESRCH)
		return -ESRCH;
	/* With a pidfd held, the check below cannot be overtaken by reuse. */
	if (proc_stat(pid, &pi) < 0 || pi.start != start) {
		if (fd >= 0)
			close(fd);
		return -ESRCH;
	}
	int r;
	if (fd >= 0) {
		r = sys_pidfd_signal(fd, sig) < 0 ? -errno : 0;
		close(fd);
		if (r != -ENOSYS)
			return r;
	}
	return kill(pid, sig) < 0 ? -errno : 0;
}

/* ---- cgroups (GUST_SPAWN_CGROUP) ---- */

/* The pids listed in <cg>/cgroup.procs: malloc'd array, *n entries. */
static int cg_pids(const char *cg, pid_t **out, size_t *n)
{
	char path[4200];
	*out = NULL;
	*n = 0;
	if (snprintf(path, sizeof path, "%s/cgroup.procs", cg) >= (int)sizeof path)
		return -ENAMETOOLONG;
	FILE *f = fopen(path, "re");
	if (!f)
		return -errno;
	size_t cap = 0;
	long pid;
	int r = 0;
	while (fscanf(f, "%ld", &pid) == 1) {
		if (*n == cap) {
			size_t nc = cap ? cap * 2 : 16;
			pid_t *np = realloc(*out, nc * sizeof *np);
			if (!np) {
				r = -ENOMEM;
				break;
			}
			*out = np;
			cap = nc;
		}
		(*out)[(*n)++] = (pid_t)pid;
	}
	fclose(f);
	return r;
}

static int cg_write(const char *cg, const char *file, const char *val)
{
	char path[4200];
	if (snprintf(path, sizeof path, "%s/%s", cg, file) >= (int)sizeof path)
		return -ENAMETOOLONG;
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	int r = write(fd, val, strlen(val)) < 0 ? -errno : 0;
	close(fd);
	return r;
}

/* SIGKILL everything in the cgroup at once (Linux >= 5.14); -ENOENT
 * before that, when the caller's per-pid SIGKILL must do. */
static int cg_kill(const char *cg)
{
	return cg_write(cg, "cgroup.kill", "1");
}

/* Where this gust creates its per-tree cgroups: $GUST_CGROUP, or its own
 * cgroup v2 (the "0::" line of /proc/self/cgroup below the cgroup2 mount). */
static int cg_parent(char *out, size_t len)
{
	const char *env = getenv(CG_ENV);
	if (env && *env) {
		if (snprintf(out, len, "%s", env) >= (int)len)
			return -ENAMETOOLONG;
	} else {
		char mnt[4096] = "", rel[4096] = "", *line = NULL;
		size_t cap = 0;
		FILE *f = fopen("/proc/self/mountinfo", "re");
		while (f && !mnt[0] && getline(&line, &cap, f) > 0) {
			char *dash = strstr(line, " - cgroup2 ");
			char mp[4096];
			if (dash && sscanf(line, "%*s %*s %*s %*s %4095s", mp) == 1) {
				/* mountinfo escapes blanks as \040 and so on */
				size_t k = 0;
				for (const char *c = mp; *c && k + 1 < sizeof mnt; c++) {
					if (c[0] == '\\' && c[1] >= '0' && c[1] <= '3' && c[2] &&
					    c[3]) {
						mnt[k++] = (char)((c[1] - '0') * 64 +
						                  (c[2] - '0') * 8 + (c[3] - '0'));
						c += 3;
					} else {
						mnt[k++] = *c;
					}
				}
				mnt[k] = '\0';
			}
		}
		if (f)
			fclose(f);
		f = fopen("/proc/self/cgroup", "re");
		while (f && !rel[0] && getline(&line, &cap, f) > 0) {
			if (strncmp(line, "0::", 3) == 0) {
				line[strcspn(line, "\n")] = '\0';
				snprintf(rel, sizeof rel, "%s", line + 3);
			}
		}
		if (f)
			fclose(f);
		free(line);
		if (!mnt[0] || !rel[0])
			return -ENOENT;
		if (snprintf(out, len, "%s%s", mnt, strcmp(rel, "/") ? rel : "") >= (int)len)
			return -ENAMETOOLONG;
	}
#ifdef __linux__
	struct statfs sf;
	if (statfs(out, &sf) < 0)
		return -errno;
	if ((long)sf.f_type != CGROUP2_MAGIC)
		return -ENOTDIR;
#endif
	return 0;
}

/* Create the tree's cgroup; *fd: its cgroup.procs, open for the child to
 * move itself in before anything else. 0 or -errno with err set. */
static int cg_create(struct ptree_mgr *mgr, struct gust_tree *t, int *fd, char *err, size_t errlen)
{
	char parent[4096], path[4200];
	int r = cg_parent(parent, sizeof parent);
	if (r < 0) {
		const char *where =
		    getenv(CG_ENV) && *getenv(CG_ENV) ? getenv(CG_ENV) : "/proc/self/cgroup";
		snprintf(err, errlen,
		         r == -ENOTDIR
		             ? "containment \"cgroup\": \"%.512s\" is not a cgroup v2 directory%s"
		             : "containment \"cgroup\": no cgroup v2 found from \"%.512s\"%s",
		         r == -ENOTDIR ? parent : where,
		         " (mount cgroup2, set " CG_ENV
		         " to a writable cgroup v2 directory, or use \"auto\" or \"none\")");
		return r == -ENOTDIR ? -ENOTSUP : r;
	}
	if (snprintf(path, sizeof path, "%s/gust-%ld-%lu", parent, (long)mgr->self, t->serial) >=
	    (int)sizeof path) {
		snprintf(err, errlen, "containment \"cgroup\": path too long under \"%.512s\"",
		         parent);
		return -ENAMETOOLONG;
	}
	if (mkdir(path, 0755) < 0 &&
	    (errno != EEXIST || rmdir(path) < 0 || mkdir(path, 0755) < 0)) {
		int e = errno;
		snprintf(err, errlen,
		         "containment \"cgroup\": cannot create \"%.512s\": %s (needs a writable "
		         "cgroup v2 "
		         "directory: run gust under `systemd-run --user --scope -p Delegate=yes`, "
		         "set " CG_ENV " to one, or use \"auto\" or \"none\")",
		         path, strerror(e));
		return -e;
	}
	char procs[4300];
	snprintf(procs, sizeof procs, "%s/cgroup.procs", path);
	*fd = open(procs, O_WRONLY | O_CLOEXEC);
	if (*fd < 0 || !(t->cg = strdup(path))) {
		int e = *fd < 0 ? errno : ENOMEM;
		if (*fd >= 0)
			close(*fd);
		*fd = -1;
		rmdir(path);
		snprintf(err, errlen, "containment \"cgroup\": cannot open \"%.512s\": %s", procs,
		         strerror(e));
		return -e;
	}
	return 0;
}

/* Remove the tree's cgroup once it is empty: 0 (gone), -EBUSY (processes
 * remain) or another -errno. */
static int cg_remove(struct gust_tree *t)
{
	if (!t->cg)
		return 0;
	if (rmdir(t->cg) < 0 && errno != ENOENT) {
		int e = errno;
		if (e == EBUSY)
			return -EBUSY;
		if (!t->cg_warned) {
			t->cg_warned = true;
			log_msg(GUST_LOG_WARN, STAGE_RUN, "cannot remove the cgroup \"%s\": %s",
			        t->cg, strerror(e));
		}
		return -e;
	}
	free(t->cg);
	t->cg = NULL;
	return 0;
}

/* ---- the manager ---- */

static void state_write(struct ptree_mgr *mgr);
static void mgr_tick(void *arg);

static void arm(struct ptree_mgr *mgr, unsigned ms)
{
	uint64_t due = loop_now_ms() + ms;
	if (mgr->timer && mgr->timer_due <= due)
		return;
	if (mgr->timer)
		loop_timer_cancel(mgr->loop, mgr->timer);
	mgr->timer = loop_timer_add(mgr->loop, ms, mgr_tick, mgr);
	mgr->timer_due = due;
}

static void reschedule(struct ptree_mgr *mgr)
{
	uint64_t now = loop_now_ms();
	long best = -1;
	for (struct gust_tree *t = mgr->trees; t; t = t->next) {
		long d;
		if (t->exit_pending || t->stopped_pending)
			d = 0;
		else if (t->phase == PH_RUN)
			d = mgr->refresh_ms;
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
	arm(mgr, (unsigned)best);
}

static bool live(const struct gust_tree *t)
{
	return t->phase != PH_DONE;
}

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

static bool reaper_alive(const struct gust_tree *t)
{
	return t->reaper > 0 && !t->reaper_gone;
}

/* The live tree whose reaper is pid. */
static struct gust_tree *reaper_of(struct ptree_mgr *mgr, pid_t pid)
{
	for (struct gust_tree *t = mgr->trees; t; t = t->next)
		if (live(t) && reaper_alive(t) && t->reaper == pid)
			return t;
	return NULL;
}

/* A child of gust that is no reaper and no known member was orphaned by a
 * reaper that was killed (nothing else of gust's forks): it is the newest
 * such tree's. */
static struct gust_tree *stray_owner(struct ptree_mgr *mgr)
{
	for (struct gust_tree *t = mgr->trees; t; t = t->next)
		if (live(t) && t->reaper_lost)
			return t;
	return NULL;
}

static struct gust_tree *member_of(struct ptree_mgr *mgr, pid_t pid, unsigned long long start)
{
	for (struct gust_tree *t = mgr->trees; t; t = t->next)
		if (live(t) && member_find(t, pid, start))
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
	if (p->pid == mgr->self || reaper_of(mgr, p->pid))
		goto done;
	found = member_of(mgr, p->pid, p->start);
	if (!found)
		found = reaper_of(mgr, p->ppid);
	if (!found && p->ppid == mgr->self)
		found = stray_owner(mgr);
	if (!found) {
		long j = snap_find(a->s, p->ppid);
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
		for (size_t i = 0; live(t) && i < t->nm; i++) {
			struct member *m = &t->m[i];
			struct pinfo pi;
			if (proc_stat(m->pid, &pi) < 0 || pi.start != m->start)
				continue;
			m->ppid = pi.ppid;
			m->pgrp = pi.pgrp;
			m->state = pi.state;
			t->m[k++] = *m;
		}
		if (live(t))
			t->nm = k;
	}
}

/* After a scan: a changed membership goes to the state file and brings
 * the refresh back to REFRESH_MS; an unchanged one backs it off. */
static void membership_settled(struct ptree_mgr *mgr, bool changed)
{
	if (changed) {
		mgr->refresh_ms = REFRESH_MS;
		state_write(mgr);
	} else if (mgr->refresh_ms < REFRESH_MAX_MS) {
		mgr->refresh_ms *= 2;
	}
}

/* A scan that found nothing new: the members are all there is. */
static void quick_scan(struct ptree_mgr *mgr)
{
	size_t before = 0, after = 0;
	for (struct gust_tree *t = mgr->trees; t; t = t->next)
		before += live(t) ? t->nm : 0;
	refresh_known(mgr);
	for (struct gust_tree *t = mgr->trees; t; t = t->next)
		after += live(t) ? t->nm : 0;
	membership_settled(mgr, after != before);
}

static int snap_add(struct snap *s, const struct pinfo *pi)
{
	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 64;
		struct pinfo *np = realloc(s->p, cap * sizeof *np);
		if (!np)
			return -ENOMEM;
		s->p = np;
		s->cap = cap;
	}
	s->p[s->n++] = *pi;
	return 0;
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
 * scan()); NULL if there is none. */
static const struct view *scan_base(const struct ptree_mgr *mgr)
{
	if (!mgr->nhist)
		return NULL;
	uint64_t newest = mgr->hist[mgr->nhist - 1].at;
	for (size_t i = mgr->nhist; i-- > 0;)
		if (mgr->hist[i].at + INFLIGHT_MS <= newest)
			return &mgr->hist[i];
	return NULL;
}

static void view_push(struct ptree_mgr *mgr, uint64_t at, const struct counters *c)
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
	const struct view *b = scan_base(mgr);
	size_t drop = b ? (size_t)(b - mgr->hist) : 0;
	if (drop) {
		memmove(mgr->hist, mgr->hist + drop, (mgr->nhist - drop) * sizeof *mgr->hist);
		mgr->nhist -= drop;
	}
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
		any |= live(t);
	if (!any)
		return 0;
	bool full = mgr->want_full;
	mgr->want_full = false;
	unsigned long long forks;
	bool forks_ok = read_forks(&forks) == 0;
	if (forks_ok && !full && mgr->nhist && forks == mgr->hist[mgr->nhist - 1].c.forks &&
	    loop_now_ms() < mgr->last_full + FULL_EVERY_MS) {
		/* Nothing appeared since the newest view: a process that was
		 * half forked then is still invisible, for a later scan to find
		 * as before, and what is left is who exited or moved. */
		struct counters same = mgr->hist[mgr->nhist - 1].c;
		mgr->quick_scans++;
		quick_scan(mgr);
		view_push(mgr, loop_now_ms(), &same);
		return 0;
	}
	struct counters now;
	bool now_ok = forks_ok && read_counters(&now, &forks) == 0;
	uint64_t at = loop_now_ms(); /* after: the view is no older than this */
	const struct view *bv = scan_base(mgr);
	const struct counters *base = bv ? &bv->c : NULL;
	bool delta = now_ok && base && !full && at < mgr->last_full + FULL_EVERY_MS &&
	             now.forks >= base->forks &&
	             2 * (now.forks - base->forks) + (unsigned long long)base->threads + 1 <
	                 (unsigned long long)(now.pid_max > 300 ? now.pid_max - 300 : 0);
	if (delta && now.last_pid == base->last_pid) {
		/* nothing created: the members are all there is */
		mgr->delta_scans++;
		quick_scan(mgr);
		view_push(mgr, at, &now);
		return 0;
	}
	struct snap s = { 0 };
	int r = 0;
	if (delta) {
		/* the members, then whatever was created since the base */
		mgr->delta_scans++;
		refresh_known(mgr);
		for (struct gust_tree *t = mgr->trees; t && r == 0; t = t->next)
			for (size_t i = 0; live(t) && i < t->nm && r == 0; i++)
				r = snap_add(&s, &(struct pinfo){ t->m[i].pid, t->m[i].ppid,
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
			if (*end || !allocated_since((pid_t)pid, base, &now) ||
			    proc_stat((pid_t)pid, &pi) < 0 || member_of(mgr, pi.pid, pi.start))
				continue;
			r = snap_add(&s, &pi);
		}
		if (d)
			closedir(d);
		/* s.p is NULL when nothing was found: qsort must not see it */
		if (r == 0 && s.n > 1)
			qsort(s.p, s.n, sizeof *s.p, cmp_pinfo);
	} else {
		mgr->full_scans++;
		mgr->last_full = at;
		r = snap_take(&s);
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
	/* A cgroup's members are the tree's, whatever else they did; nothing
	 * leaves a cgroup without privileges. */
	for (struct gust_tree *t = mgr->trees; t; t = t->next) {
		pid_t *cp;
		size_t ncp;
		if (!live(t) || !t->cg || cg_pids(t->cg, &cp, &ncp) < 0)
			continue;
		for (size_t k = 0; k < ncp; k++) {
			long i = snap_find(&s, cp[k]);
			if (i >= 0 && cp[k] != mgr->self) {
				a.st[i] = 2;
				a.own[i] = t;
			}
		}
		free(cp);
	}
	/* in a delta, the members stay what they are */
	for (size_t i = 0; delta && i < s.n; i++) {
		struct gust_tree *t = member_of(mgr, s.p[i].pid, s.p[i].start);
		if (t && !a.st[i]) {
			a.st[i] = 2;
			a.own[i] = t;
		}
	}
	for (size_t i = 0; i < s.n; i++)
		attribute(&a, i);
	bool changed = false;
	for (struct gust_tree *t = mgr->trees; t; t = t->next) {
		if (!live(t))
			continue;
		size_t n = 0;
		for (size_t i = 0; i < s.n; i++)
			n += a.own[i] == t;
		struct member *m = calloc(n ? n : 1, sizeof *m);
		if (!m) {
			r = -ENOMEM;
			continue;
		}
		size_t k = 0;
		for (size_t i = 0; i < s.n; i++) {
			if (a.own[i] != t)
				continue;
			const struct pinfo *p = &s.p[i];
			struct member *old = member_find(t, p->pid, p->start);
			m[k] = (struct member){ p->pid,   p->ppid, p->pgrp, p->start,
				                p->state, false,   false };
			if (old) {
				m[k].signalled = old->signalled;
				m[k].killed = old->killed;
			} else {
				changed = true;
			}
			k++;
		}
		if (k != t->nm)
			changed = true;
		free(t->m);
		t->m = m;
		t->nm = k;
	}
	free(a.own);
	free(a.st);
	free(s.p);
	/* complete as of the counters read before looking: a process created
	 * while we looked has a later pid, for the next scan to find */
	if (r == 0 && now_ok)
		view_push(mgr, at, &now);
	else
		mgr->nhist = 0;
	membership_settled(mgr, changed);
	return r;
}

static bool group_present(const struct gust_tree *t)
{
	for (size_t i = 0; i < t->nm; i++)
		if (t->m[i].pgrp == t->pid && t->m[i].state != 'Z')
			return true;
	return false;
}

static void tty_release(struct gust_tree *t)
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

/* Signal what the last scan found, according to the tree's phase. */
static void sweep(struct gust_tree *t)
{
	if (t->phase == PH_TERM) {
		bool first = true;
		for (size_t i = 0; i < t->nm; i++)
			first &= !t->m[i].signalled;
		if (first && group_present(t))
			(void)killpg(t->pid, t->sig);
		for (size_t i = 0; i < t->nm; i++) {
			struct member *m = &t->m[i];
			if (m->signalled)
				continue;
			if (!(first && m->pgrp == t->pid))
				(void)send_sig(m->pid, m->start, t->sig);
			/* a stopped process handles nothing until continued */
			if (m->state == 'T')
				(void)send_sig(m->pid, m->start, SIGCONT);
			m->signalled = true;
		}
	} else if (t->phase == PH_KILL) {
		if (t->cg)
			(void)cg_kill(t->cg); /* atomic: nothing forks past it */
		if (group_present(t))
			(void)killpg(t->pid, SIGKILL);
		for (size_t i = 0; i < t->nm; i++) {
			struct member *m = &t->m[i];
			if (!m->killed && m->state != 'Z')
				(void)send_sig(m->pid, m->start, SIGKILL);
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

/* A reaper alive with no member known has a child that no scan saw (its
 * parent's stat was read after the parent died, say): give it LOST_MS to
 * be the reaper's last moment, then read all of /proc. */
static void look_for_unseen(struct gust_tree *t, uint64_t now)
{
	if (!reaper_alive(t) || t->nm) {
		t->empty_since = 0;
	} else if (!t->empty_since) {
		t->empty_since = now;
	} else if (now - t->empty_since >= LOST_MS) {
		t->mgr->want_full = true;
		t->empty_since = now;
	}
}

static void service(struct ptree_mgr *mgr)
{
	bool stopping = false;
	for (struct gust_tree *t = mgr->trees; t; t = t->next)
		stopping |= t->phase == PH_TERM || t->phase == PH_KILL;
	(void)scan(mgr);
	uint64_t now = loop_now_ms();
	for (struct gust_tree *t = mgr->trees; t && stopping; t = t->next) {
		if (t->phase != PH_TERM && t->phase != PH_KILL)
			continue;
		if (ptree_empty(t) && cg_remove(t) != -EBUSY) {
			t->phase = PH_DONE;
			t->nm = 0;
			t->stopped_pending = true;
			tty_release(t);
			continue;
		}
		look_for_unseen(t, now);
		if (t->phase == PH_TERM && now >= t->kill_at)
			enter_kill(t);
		sweep(t);
		if (t->phase == PH_KILL && !t->warned && now - t->kill_started > SYNC_KILL_MS) {
			t->warned = true;
			log_msg(GUST_LOG_WARN, STAGE_RUN,
			        "%zu process(es) of pid %ld's tree survive SIGKILL "
			        "(uninterruptible sleep?); still waiting",
			        t->nm, (long)t->pid);
		}
		t->rescan_ms = t->rescan_ms * 2 > RESCAN_MAX_MS ? RESCAN_MAX_MS : t->rescan_ms * 2;
	}
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
			tty_release(t);
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

/* What a tree's reaper tells gust, over a pipe: that the program started
 * (or why it could not), and later how it exited. A message is shorter
 * than PIPE_BUF, so it is written and read whole. */
enum reaper_kind { RK_STARTED = 1, RK_FAILED, RK_EXITED };
struct reaper_msg {
	int kind;
	int stage, err;           /* RK_FAILED: a child_report */
	int status;               /* RK_EXITED: the program's wait status */
	pid_t pid;                /* RK_STARTED: the program */
	unsigned long long start; /* RK_STARTED: its start time */
};

static void root_exited(struct gust_tree *t, int status)
{
	if (t->root_reaped)
		return;
	t->root_reaped = true;
	t->root_status = status;
	t->exit_pending = true;
	arm(t->mgr, 0);
}

static void report_close(struct gust_tree *t)
{
	if (t->report_fd < 0)
		return;
	(void)loop_io_del(t->mgr->loop, t->report_fd);
	close(t->report_fd);
	t->report_fd = -1;
}

static void report_drain(struct gust_tree *t)
{
	while (t->report_fd >= 0) {
		struct reaper_msg m;
		ssize_t n = read(t->report_fd, &m, sizeof m);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return;
		if (n != (ssize_t)sizeof m) {
			report_close(t); /* the reaper is gone */
			return;
		}
		if (m.kind == RK_EXITED)
			root_exited(t, m.status);
	}
}

static void on_report(int fd, unsigned events, void *arg)
{
	(void)fd;
	(void)events;
	report_drain(arg);
}

/* The reaper exited: by itself (0) once its tree was empty, or killed,
 * and then its orphans re-parented to gust and the program died with it
 * (its parent-death signal is SIGKILL). */
static void reaper_reaped(struct gust_tree *t, int status)
{
	report_drain(t); /* the root's exit, written before */
	report_close(t);
	t->reaper_gone = true;
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return;
	t->reaper_lost = true;
	if (live(t))
		log_msg(GUST_LOG_WARN, STAGE_RUN,
		        "the reaper of pid %ld's tree was killed; what is left of the tree now "
		        "descends from gust itself and is stopped with it",
		        (long)t->pid);
	root_exited(t, SIGKILL); /* a wait status: killed by SIGKILL */
}

static void on_reap(pid_t pid, int status, void *arg)
{
	struct ptree_mgr *mgr = arg;
	bool wake = false;
	for (struct gust_tree *t = mgr->trees; t; t = t->next) {
		if (reaper_alive(t) && t->reaper == pid) {
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
		arm(mgr, 0);
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
	struct pinfo pi;
	int r = proc_stat(mgr->self, &pi);
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
		if (live(t))
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

bool ptree_mgr_incremental(const struct ptree_mgr *mgr)
{
	return scan_base(mgr) != NULL;
}

/* ---- the state file ---- */

/* Rewritten in place through one open descriptor: a tmp file and a
 * rename cost ~150 us on ext4, several times per restart. The header comes
 * first and changes only once (" quitting" added), so a gust killed in the
 * middle leaves it whole; a cut or shifted last line names a start time no
 * process has. */
static void state_write(struct ptree_mgr *mgr)
{
	if (!mgr->state_path)
		return;
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	if (!f)
		goto fail;
	/* the third word is the format: 2 since trees have reapers */
	fprintf(f, "gust %ld %llu 2%s\n", (long)mgr->self, mgr->self_start,
	        mgr->quitting ? " quitting" : "");
	for (struct gust_tree *t = mgr->trees; t; t = t->next) {
		if (reaper_alive(t))
			fprintf(f, "r %ld %llu\n", (long)t->reaper, t->reaper_start);
		for (size_t i = 0; live(t) && i < t->nm; i++)
			fprintf(f, "%ld %llu\n", (long)t->m[i].pid, t->m[i].start);
		if (t->cg)
			fprintf(f, "cgroup %s\n", t->cg);
	}
	if (fclose(f) != 0)
		goto fail;
	/* removed under us (the tmp_dir was cleaned): write a new one */
	struct stat st;
	if (mgr->state_fd >= 0 && (fstat(mgr->state_fd, &st) < 0 || st.st_nlink == 0)) {
		close(mgr->state_fd);
		mgr->state_fd = -1;
	}
	/* the same again (a scan that changed nothing it records): skip */
	if (mgr->state_fd >= 0 && mgr->state_last && mgr->state_last_len == len &&
	    memcmp(mgr->state_last, buf, len) == 0) {
		free(buf);
		return;
	}
	free(mgr->state_last);
	mgr->state_last = NULL;
	if (mgr->state_fd < 0)
		mgr->state_fd = open(mgr->state_path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (mgr->state_fd < 0 || pwrite(mgr->state_fd, buf, len, 0) != (ssize_t)len ||
	    ftruncate(mgr->state_fd, (off_t)len) < 0)
		goto fail;
	mgr->state_last = buf;
	mgr->state_last_len = len;
	return;
fail:
	free(buf);
	if (!mgr->state_warned) {
		mgr->state_warned = true;
		log_msg(GUST_LOG_WARN, STAGE_RUN, "cannot write the state file \"%s\": %s",
		        mgr->state_path, strerror(errno));
	}
}

struct recorded {
	pid_t pid;
	unsigned long long start;
	bool reaper;
};

/* Is s->p[i] a recorded process or a descendant of one? st: as attr's. */
static bool recorded_below(const struct snap *s, const struct recorded *rec, size_t nrec,
                           unsigned char *st, size_t i)
{
	if (st[i] >= 2)
		return st[i] == 3;
	if (st[i] == 1)
		return false;
	st[i] = 1;
	bool ours = false;
	for (size_t j = 0; j < nrec && !ours; j++)
		ours = rec[j].pid == s->p[i].pid && rec[j].start == s->p[i].start;
	long k = ours ? -1 : snap_find(s, s->p[i].ppid);
	if (k >= 0)
		ours = recorded_below(s, rec, nrec, st, (size_t)k);
	st[i] = ours ? 3 : 2;
	return ours;
}

/* Does pid have a child that is not a zombie? */
static bool has_live_child(const struct snap *s, pid_t pid)
{
	for (size_t i = 0; i < s->n; i++)
		if (s->p[i].ppid == pid && s->p[i].state != 'Z')
			return true;
	return false;
}

/* gust's own ancestors are never leftovers, whatever their environment. */
static size_t own_ancestors(pid_t *out, size_t max)
{
	size_t n = 0;
	pid_t p = getppid();
	while (p > 1 && n < max) {
		out[n++] = p;
		struct pinfo pi;
		if (proc_stat(p, &pi) < 0)
			break;
		p = pi.ppid;
	}
	return n;
}

int ptree_mgr_recover(struct ptree_mgr *mgr, char *msg, size_t msglen)
{
	msg[0] = '\0';
	if (!mgr->state_path)
		return 0;
	FILE *f = fopen(mgr->state_path, "re");
	if (!f) {
		if (errno == ENOENT)
			return 0;
		int e = errno;
		snprintf(msg, msglen, "\"%s\": %s", mgr->state_path, strerror(e));
		return -e;
	}
	long opid;
	unsigned long long ostart;
	char oformat[96];
	struct recorded *rec = NULL;
	size_t nrec = 0, caprec = 0;
	int r = 0;
	if (fscanf(f, "gust %ld %llu %95s", &opid, &ostart, oformat) != 3) {
		fclose(f);
		snprintf(msg, msglen, "\"%s\": not a gust state file; removed", mgr->state_path);
		unlink(mgr->state_path);
		return -EINVAL;
	}
	long pid;
	unsigned long long start;
	char *line = NULL, **cgs = NULL;
	size_t lcap = 0, ncg = 0;
	ssize_t llen;
	/* the rest of the header: " quitting" once that gust was asked to */
	bool oquitting = (llen = getline(&line, &lcap, f)) > 0 && strstr(line, "quitting");
	while ((llen = getline(&line, &lcap, f)) > 0) {
		while (llen > 0 && line[llen - 1] == '\n')
			line[--llen] = '\0';
		if (strncmp(line, "cgroup /", 8) == 0) {
			/* only a cgroup that gust named after itself is its own */
			char pre[64];
			snprintf(pre, sizeof pre, "/gust-%ld-", opid);
			const char *base = strrchr(line, '/');
			char **ncgs = strncmp(base, pre, strlen(pre)) == 0 && !strstr(line, "/../")
			                  ? realloc(cgs, (ncg + 1) * sizeof *cgs)
			                  : NULL;
			if (ncgs) {
				cgs = ncgs;
				if ((cgs[ncg] = strdup(line + 7)))
					ncg++;
			}
			continue;
		}
		bool reaper = line[0] == 'r' && line[1] == ' ';
		if (sscanf(line + (reaper ? 2 : 0), "%ld %llu", &pid, &start) != 2)
			continue;
		if (nrec == caprec) {
			size_t cap = caprec ? caprec * 2 : 32;
			struct recorded *n = realloc(rec, cap * sizeof *n);
			if (!n) {
				r = -ENOMEM;
				break;
			}
			rec = n;
			caprec = cap;
		}
		rec[nrec++] = (struct recorded){ (pid_t)pid, start, reaper };
	}
	free(line);
	fclose(f);
	if (r < 0) {
		free(rec);
		for (size_t i = 0; i < ncg; i++)
			free(cgs[i]);
		free(cgs);
		snprintf(msg, msglen, "out of memory");
		return r;
	}
	struct pinfo pi;
	if ((pid_t)opid != mgr->self && proc_stat((pid_t)opid, &pi) == 0 && pi.start == ostart &&
	    pi.state != 'Z') {
		free(rec);
		for (size_t i = 0; i < ncg; i++)
			free(cgs[i]);
		free(cgs);
		if (oquitting) { /* asked to quit, still stopping its run */
			snprintf(msg, msglen, "the previous gust (pid %ld) to finish stopping",
			         opid);
			return -EAGAIN;
		}
		snprintf(msg, msglen, "another gust (pid %ld) is running in this project (\"%s\")",
		         opid, mgr->state_path);
		return -EEXIST;
	}
	/* The old gust is dead: kill what provably was its own, until none is
	 * left: the recorded processes (same pid and start time) and whatever
	 * descends from one. A recorded reaper goes last, once it has no child
	 * left: its orphans would go to init. Its parent-death signal has it
	 * doing the same already; this finishes what it could not. Zombies
	 * hold nothing and are their new parent's to reap. */
	pid_t anc[64];
	size_t nanc = own_ancestors(anc, sizeof anc / sizeof *anc);
	struct recorded *killed = NULL;
	size_t nkilled = 0, capkilled = 0;
	uint64_t deadline = loop_now_ms() + RECOVER_MS;
	size_t left = 0;
	for (;;) {
		struct snap s = { 0 };
		unsigned char *st = NULL;
		if ((r = snap_take(&s)) < 0 || !(st = calloc(s.n ? s.n : 1, 1))) {
			free(s.p);
			r = r < 0 ? r : -ENOMEM;
			break;
		}
		left = 0;
		pid_t *cgp = NULL;
		size_t ncgp = 0;
		for (size_t c = 0; c < ncg; c++) {
			pid_t *one;
			size_t n1;
			if (cg_pids(cgs[c], &one, &n1) < 0)
				continue;
			(void)cg_kill(cgs[c]);
			pid_t *np = n1 ? realloc(cgp, (ncgp + n1) * sizeof *np) : NULL;
			if (np) {
				cgp = np;
				memcpy(cgp + ncgp, one, n1 * sizeof *one);
				ncgp += n1;
			}
			free(one);
			if (n1 > 0 || (rmdir(cgs[c]) < 0 && errno == EBUSY))
				left++; /* empty and removed next round */
		}
		for (size_t i = 0; i < s.n; i++) {
			const struct pinfo *p = &s.p[i];
			bool ours = false, mine = p->pid == mgr->self;
			for (size_t j = 0; j < nanc && !mine; j++)
				mine = anc[j] == p->pid;
			if (p->state == 'Z' || mine)
				continue;
			bool reaper = false;
			for (size_t j = 0; j < nrec; j++)
				reaper |= rec[j].reaper && rec[j].pid == p->pid &&
				          rec[j].start == p->start;
			ours = recorded_below(&s, rec, nrec, st, i);
			for (size_t j = 0; j < ncgp && !ours; j++)
				ours = cgp[j] == p->pid;
			if (!ours)
				continue;
			left++;
			if (!reaper || !has_live_child(&s, p->pid))
				(void)send_sig(p->pid, p->start, SIGKILL);
			bool seen = false;
			for (size_t j = 0; j < nkilled && !seen; j++)
				seen = killed[j].pid == p->pid && killed[j].start == p->start;
			if (!seen) {
				if (nkilled == capkilled) {
					size_t cap = capkilled ? capkilled * 2 : 32;
					struct recorded *n = realloc(killed, cap * sizeof *n);
					if (n) {
						killed = n;
						capkilled = cap;
					}
				}
				if (nkilled < capkilled)
					killed[nkilled++] =
					    (struct recorded){ p->pid, p->start, reaper };
			}
		}
		free(s.p);
		free(st);
		free(cgp);
		if (!left || loop_now_ms() >= deadline)
			break;
		struct timespec ts = { 0, 5 * 1000000L };
		nanosleep(&ts, NULL);
	}
	free(rec);
	free(killed);
	for (size_t i = 0; i < ncg; i++)
		free(cgs[i]);
	free(cgs);
	if (r < 0) {
		snprintf(msg, msglen, "cannot scan /proc: %s", strerror(-r));
		return r;
	}
	if (left) {
		snprintf(msg, msglen,
		         "%zu process(es) left by a killed gust (pid %ld) survive SIGKILL", left,
		         opid);
		return -EBUSY;
	}
	unlink(mgr->state_path);
	if (nkilled)
		snprintf(msg, msglen,
		         "removed %zu process(es) left behind by a killed gust (pid %ld)", nkilled,
		         opid);
	return (int)nkilled;
}

/* ---- spawning ---- */

enum child_stage {
	ST_SETPGID = 1,
	ST_PDEATH,
	ST_STDIO,
	ST_CHDIR,
	ST_EXEC,
	ST_CGROUP,
	ST_USERNS,
	ST_FORK,
	ST_REAPER
};

struct child_report {
	int stage;
	int err;
};

struct child_plan {
	char *const *argv;
	char *const *envp;
	char **paths; /* candidates for argv[0], in PATH order */
	const char *cwd;
	int fd[3]; /* -1: inherit */
	bool devnull_stdin;
	int tty_fd;
	pid_t parent;
	int report;
	int report_rd; /* the parent's end, closed in the child */
	int cg_fd;     /* GUST_SPAWN_CGROUP: the cgroup's cgroup.procs */
	bool pidns;    /* started by clone() as pid 1 of a new namespace */
	bool userns;   /* ... together with a new user namespace */
	char uid_map[32], gid_map[32];
};

static void child_fail(const struct child_plan *pl, int stage, int e)
{
	struct child_report rep = { stage, e };
	(void)!write(pl->report, &rep, sizeof rep);
	_exit(127);
}

static int write_file(const char *path, const char *s)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	size_t len = strlen(s);
	int r = write(fd, s, len) == (ssize_t)len ? 0 : -errno;
	close(fd);
	return r;
}

/* Close every fd but keep (-1: all). Async-signal-safe. */
static void close_fds_but(int keep)
{
#ifdef SYS_close_range
	if ((keep <= 0 || syscall(SYS_close_range, 0u, (unsigned)keep - 1, 0u) == 0) &&
	    syscall(SYS_close_range, (unsigned)(keep + 1), ~0u, 0u) == 0)
		return;
#endif
	for (int fd = 0; fd < 4096; fd++)
		if (fd != keep)
			(void)close(fd);
}

/* The init of a PID namespace: all signals stay blocked (the program gets
 * gust's signals itself, as a member of the group); reap whatever
 * re-parents here; leave with the program, so the kernel kills the rest of
 * the namespace. */
static void ns_init(pid_t prog)
{
	close_fds_but(-1);
	struct sigaction dfl;
	memset(&dfl, 0, sizeof dfl);
	dfl.sa_handler = SIG_DFL;
	(void)sigaction(SIGCHLD, &dfl, NULL);
	for (;;) {
		int st;
		pid_t r = waitpid(-1, &st, 0);
		if (r == prog)
			_exit(WIFEXITED(st) ? WEXITSTATUS(st)
			                    : 128 + (WIFSIGNALED(st) ? WTERMSIG(st) : 0));
		if (r < 0 && errno != EINTR)
			_exit(127);
	}
}

/* After fork: async-signal-safe calls only, no allocation. */
static void child_main(const struct child_plan *pl)
{
	if (pl->report_rd >= 0)
		close(pl->report_rd);
	/* first of all: whatever this process becomes is inside the cgroup */
	if (pl->cg_fd >= 0 && write(pl->cg_fd, "0", 1) < 0)
		child_fail(pl, ST_CGROUP, errno);
	if (setpgid(0, 0) < 0)
		child_fail(pl, ST_SETPGID, errno);
	if (pl->tty_fd >= 0)
		(void)tcsetpgrp(pl->tty_fd, getpid()); /* all signals blocked */
#ifdef PR_SET_PDEATHSIG
	if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0)
		child_fail(pl, ST_PDEATH, errno);
	if (pl->pidns) {
		/* gust is outside the namespace, getppid() is 0: a pipe whose
		 * only reader is gust tells instead */
		struct pollfd pfd = { pl->report, POLLOUT, 0 };
		if (poll(&pfd, 1, 0) > 0 && (pfd.revents & POLLERR))
			_exit(127);
	} else if (getppid() != pl->parent) {
		_exit(127); /* gust died before we could arm the death signal */
	}
#endif
	if (pl->userns) {
		int r = write_file("/proc/self/setgroups", "deny");
		if (r == 0 || r == -ENOENT)
			r = write_file("/proc/self/uid_map", pl->uid_map);
		if (r == 0)
			r = write_file("/proc/self/gid_map", pl->gid_map);
		if (r < 0)
			child_fail(pl, ST_USERNS, -r);
	}
	if (pl->pidns) {
		/* the program runs as pid 2: as pid 1 it would ignore every
		 * signal it has no handler for, SIGTERM included */
		pid_t prog = fork();
		if (prog < 0)
			child_fail(pl, ST_FORK, errno);
		if (prog > 0)
			ns_init(prog);
#ifdef PR_SET_PDEATHSIG
		if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0)
			child_fail(pl, ST_PDEATH, errno);
#endif
	}
	int src[3];
	for (int i = 0; i < 3; i++) {
		src[i] = -1;
		if (i == 0 && pl->devnull_stdin) {
			src[i] = open("/dev/null", O_RDONLY | O_CLOEXEC);
			if (src[i] < 0)
				child_fail(pl, ST_STDIO, errno);
		} else if (pl->fd[i] >= 0) {
			/* above 2 first, so one target never clobbers another's source */
			src[i] = fcntl(pl->fd[i], F_DUPFD_CLOEXEC, 3);
			if (src[i] < 0)
				child_fail(pl, ST_STDIO, errno);
		}
	}
	for (int i = 0; i < 3; i++)
		if (src[i] >= 0 && dup2(src[i], i) < 0)
			child_fail(pl, ST_STDIO, errno);
	if (pl->cwd && chdir(pl->cwd) < 0)
		child_fail(pl, ST_CHDIR, errno);
	struct sigaction dfl;
	memset(&dfl, 0, sizeof dfl);
	dfl.sa_handler = SIG_DFL;
	sigemptyset(&dfl.sa_mask);
	for (int s = 1; s < NSIG; s++) {
		if (s == SIGKILL || s == SIGSTOP)
			continue;
		if (sigaction(s, &dfl, NULL) == 0 || errno != EINVAL)
			continue;
#ifdef SYS_rt_sigaction
		/* libc keeps a few real-time signals for itself and refuses to
		 * touch them, yet an inherited SIG_IGN on them reaches the
		 * program. All-zero is SIG_DFL, no flags, an empty mask, in every
		 * architecture's layout of the kernel's struct sigaction. */
		unsigned long ksa[8] = { 0 };
		(void)syscall(SYS_rt_sigaction, s, ksa, NULL, (size_t)(NSIG - 1) / 8);
#endif
	}
	sigset_t none;
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);

	long waited = 0, nap = 2;
	for (;;) {
		int e = ENOENT;
		bool eacces = false, txtbsy = false;
		for (char **c = pl->paths; *c; c++) {
			execve(*c, pl->argv, pl->envp);
			e = errno;
			if (e == ETXTBSY) {
				txtbsy = true;
				break;
			}
			if (e == EACCES) {
				eacces = true;
				continue;
			}
			if (e == ENOENT || e == ENOTDIR || e == ESTALE || e == ENODEV ||
			    e == ETIMEDOUT)
				continue;
			break;
		}
		if (txtbsy && waited < (long)TXTBSY_MAX_MS) {
			/* the build may still be writing the binary */
			struct timespec ts = { 0, nap * 1000000L };
			nanosleep(&ts, NULL);
			waited += nap;
			nap = nap * 2 > 100 ? 100 : nap * 2;
			continue;
		}
		if (txtbsy)
			e = ETXTBSY;
		else if (eacces && (e == ENOENT || e == ENOTDIR))
			e = EACCES;
		child_fail(pl, ST_EXEC, e);
	}
}

static void free_strv(char **v)
{
	if (!v)
		return;
	for (char **p = v; *p; p++)
		free(*p);
	free(v);
}

static size_t name_len(const char *kv)
{
	const char *eq = strchr(kv, '=');
	return eq ? (size_t)(eq - kv) : strlen(kv);
}

static bool same_name(const char *a, const char *b)
{
	size_t n = name_len(a);
	return n == name_len(b) && strncmp(a, b, n) == 0;
}

/* gust's environment, minus what the spec overrides or removes, plus the
 * spec's "K=V" entries (the last one of a name wins). */
static char **build_env(const struct gust_spawn *spec)
{
	size_t ne = 0, ns = 0;
	while (environ && environ[ne])
		ne++;
	while (spec->env && spec->env[ns])
		ns++;
	char **v = calloc(ne + ns + 1, sizeof *v);
	if (!v)
		return NULL;
	size_t k = 0;
	for (size_t i = 0; i < ne; i++) {
		bool drop = false;
		for (size_t j = 0; j < ns && !drop; j++)
			drop = same_name(environ[i], spec->env[j]);
		if (!drop && !(v[k++] = strdup(environ[i])))
			goto oom;
	}
	for (size_t j = 0; j < ns; j++) {
		if (!strchr(spec->env[j], '='))
			continue;
		bool later = false;
		for (size_t l = j + 1; l < ns && !later; l++)
			later = same_name(spec->env[j], spec->env[l]);
		if (!later && !(v[k++] = strdup(spec->env[j])))
			goto oom;
	}
	return v;
oom:
	free_strv(v);
	return NULL;
}

/* Where execvp would look for argv0, decided before forking. */
static char **exec_paths(const char *argv0, char **envp, bool no_path)
{
	if (no_path || strchr(argv0, '/')) {
		char **v = calloc(2, sizeof *v);
		if (v && !(v[0] = strdup(argv0))) {
			free(v);
			return NULL;
		}
		return v;
	}
	const char *path = "/usr/local/bin:/usr/bin:/bin";
	for (char **e = envp; *e; e++)
		if (strncmp(*e, "PATH=", 5) == 0)
			path = *e + 5;
	size_t n = 1;
	for (const char *p = path; *p; p++)
		n += *p == ':';
	char **v = calloc(n + 1, sizeof *v);
	if (!v)
		return NULL;
	size_t k = 0;
	const char *p = path;
	for (;;) {
		const char *colon = strchr(p, ':');
		size_t len = colon ? (size_t)(colon - p) : strlen(p);
		size_t sz = len + strlen(argv0) + 3;
		char *c = malloc(sz);
		if (!c) {
			free_strv(v);
			return NULL;
		}
		if (len == 0)
			snprintf(c, sz, "%s", argv0); /* empty entry: the cwd */
		else
			snprintf(c, sz, "%.*s/%s", (int)len, p, argv0);
		v[k++] = c;
		if (!colon)
			break;
		p = colon + 1;
	}
	return v;
}

/* fork() into a new PID namespace (and user namespace): the child is its
 * pid 1. Raw clone without CLONE_VM returns in the child like fork(). */
static pid_t clone_ns(struct child_plan *pl)
{
#if defined(__linux__) && defined(SYS_clone) && defined(CLONE_NEWPID) && defined(CLONE_NEWUSER)
	for (;;) {
		unsigned long fl = CLONE_NEWPID | (pl->userns ? CLONE_NEWUSER : 0) | SIGCHLD;
#if defined(__s390__) || defined(__CRIS__)
		long pid = syscall(SYS_clone, 0L, fl, 0L, 0L, 0L);
#else
		long pid = syscall(SYS_clone, fl, 0L, 0L, 0L, 0L);
#endif
		/* root without CAP_SYS_ADMIN (a container): try a user namespace */
		if (pid < 0 && errno == EPERM && !pl->userns) {
			pl->userns = true;
			continue;
		}
		return (pid_t)pid;
	}
#else
	(void)pl;
	errno = ENOSYS;
	return -1;
#endif
}

/* AddressSanitizer cannot follow a child onto another stack: plain fork */
#if defined(__SANITIZE_ADDRESS__)
#define GUST_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define GUST_ASAN 1
#endif
#endif
#if defined(__linux__) && defined(CLONE_VM) && defined(CLONE_VFORK) && !defined(GUST_ASAN)
#define CHILD_STACK (64u * 1024u)
static int child_entry(void *arg)
{
	child_main(arg);
	return 127;
}
#endif

/* fork() as posix_spawn() does it: the child shares gust's memory and gust
 * waits until it has called execve() or exited. No page tables are copied
 * and gust takes no copy-on-write faults afterwards: ~0.1 ms less per
 * start. child_main() allocates nothing, writes only its own stack (a
 * separate one) and errno, and resets its copy of the signal handlers
 * before unblocking signals. gust waited for the exec anyway (the report
 * pipe), so nothing changes for it. */
static pid_t fork_fast(struct ptree_mgr *mgr, struct child_plan *pl)
{
#ifdef CHILD_STACK
	if (!mgr->child_stack) {
		/* the lowest page stays inaccessible: an overflow faults */
		void *st = mmap(NULL, CHILD_STACK, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		long pg = sysconf(_SC_PAGESIZE);
		if (st != MAP_FAILED && pg > 0 && (size_t)pg < CHILD_STACK &&
		    mprotect((char *)st + pg, CHILD_STACK - (size_t)pg, PROT_READ | PROT_WRITE) ==
		        0)
			mgr->child_stack = st;
		else if (st != MAP_FAILED)
			munmap(st, CHILD_STACK);
	}
	if (mgr->child_stack)
		return clone(child_entry, (char *)mgr->child_stack + CHILD_STACK,
		             CLONE_VM | CLONE_VFORK | SIGCHLD, pl);
#endif
	(void)mgr;
	pid_t pid = fork();
	if (pid == 0)
		child_main(pl);
	return pid;
}

/* ---- the reaper: one per tree, the parent of its program ---- */

/* SIGKILL every child of parent (the caller: not reaped yet, so its pid
 * names it), but the live reapers of mgr's trees when mgr is given. */
static void kill_children(pid_t parent, struct ptree_mgr *mgr)
{
	DIR *d = opendir("/proc");
	struct dirent *de;
	while (d && (de = readdir(d))) {
		char *end;
		long pid = strtol(de->d_name, &end, 10);
		struct pinfo pi;
		if (pid > 0 && !*end && proc_stat((pid_t)pid, &pi) == 0 && pi.ppid == parent &&
		    !(mgr && reaper_of(mgr, (pid_t)pid)))
			(void)kill((pid_t)pid, SIGKILL);
	}
	if (d)
		closedir(d);
}

static void reaper_send(int fd, const struct reaper_msg *m)
{
	ssize_t n;
	do
		n = write(fd, m, sizeof *m);
	while (n < 0 && errno == EINTR);
}

/* gust died: kill the tree. The reaper's children are not reaped yet, so
 * their pids name them and kill() is exact; each one's children become
 * the reaper's in turn, so the listing is done again until none is left
 * (what orphans appear between two listings is waited for, 10 ms). */
static void reaper_clear(void)
{
	pid_t self = getpid();
	sigset_t chld;
	sigemptyset(&chld);
	sigaddset(&chld, SIGCHLD);
	for (;;) {
		kill_children(self, NULL);
		struct timespec ts = { 0, 10 * 1000000L };
		(void)sigtimedwait(&chld, NULL, &ts);
		int st;
		pid_t w;
		while ((w = waitpid(-1, &st, WNOHANG)) > 0)
			;
		if (w < 0 && errno == ECHILD)
			_exit(0);
	}
}

/* The reaper, forked by gust with every signal blocked: a child subreaper
 * in a process group of its own, so every orphan of the tree re-parents
 * here and nothing sent to gust's group or the program's reaches it. It
 * starts the program, says so (or why not), reports the program's exit,
 * reaps whatever else ends, and exits once it has no child left: the tree
 * is gone. When gust dies first (its parent-death signal), it kills the
 * tree. It holds no fd of gust's but its report pipe, allocates nothing
 * until gust dies, and never returns. */
static void reaper_main(struct ptree_mgr *mgr, struct child_plan *pl, int report, pid_t gust)
{
	struct reaper_msg m = { RK_FAILED, ST_REAPER, 0, 0, 0, 0 };
	(void)setpgid(0, 0);
#ifdef PR_SET_NAME
	(void)prctl(PR_SET_NAME, "gust-reaper", 0, 0, 0);
#endif
#if defined(PR_SET_CHILD_SUBREAPER) && defined(PR_SET_PDEATHSIG)
	if (prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) < 0 ||
	    prctl(PR_SET_PDEATHSIG, REAPER_DEATH_SIG, 0, 0, 0) < 0) {
		m.err = errno;
		reaper_send(report, &m);
		_exit(127);
	}
#endif
	if (getppid() != gust)
		_exit(127); /* gust died before the death signal was armed */
	int rp[2];
	if (pipe2(rp, O_CLOEXEC) < 0) {
		m.err = errno;
		reaper_send(report, &m);
		_exit(127);
	}
	pl->report = rp[1];
	pl->report_rd = rp[0];
	pl->parent = getpid();
	pid_t prog = fork_fast(mgr, pl);
	m.err = errno;
	close(rp[1]);
	if (prog < 0) {
		m.stage = ST_FORK;
		reaper_send(report, &m);
		_exit(127);
	}
	struct child_report rep;
	ssize_t n;
	do
		n = read(rp[0], &rep, sizeof rep);
	while (n < 0 && errno == EINTR);
	close(rp[0]);
	int st;
	if (n != 0) {
		while (waitpid(prog, &st, 0) < 0 && errno == EINTR)
			;
		if (n != (ssize_t)sizeof rep)
			rep = (struct child_report){ ST_EXEC, EIO };
		m.stage = rep.stage;
		m.err = rep.err;
		reaper_send(report, &m);
		_exit(127);
	}
	/* not reaped yet, so the pid names it: its start time is exact */
	struct pinfo pi;
	m = (struct reaper_msg){
		RK_STARTED, 0, 0, 0, prog, proc_stat(prog, &pi) == 0 ? pi.start : 0
	};
	reaper_send(report, &m);
	close_fds_but(report);
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	sigaddset(&set, REAPER_DEATH_SIG);
	for (;;) {
		pid_t w;
		while ((w = waitpid(-1, &st, WNOHANG)) > 0) {
			if (w != prog)
				continue;
			m = (struct reaper_msg){ RK_EXITED, 0, 0, st, prog, 0 };
			reaper_send(report, &m);
		}
		if (w < 0 && errno == ECHILD)
			_exit(0);
		if (getppid() != gust)
			reaper_clear();
		(void)sigwaitinfo(&set, NULL);
	}
}

/* The first report of a new tree's first process: true when the program
 * runs (*m from a reaper), false with *rep saying why not. */
static bool start_report(int fd, bool direct, struct child_report *rep, struct reaper_msg *m)
{
	ssize_t n;
	if (direct) {
		/* the child itself: EOF once it has exec'd */
		do
			n = read(fd, rep, sizeof *rep);
		while (n < 0 && errno == EINTR);
		if (n != 0 && n != (ssize_t)sizeof *rep)
			*rep = (struct child_report){ ST_EXEC, EIO };
		return n == 0;
	}
	do
		n = read(fd, m, sizeof *m);
	while (n < 0 && errno == EINTR);
	if (n == (ssize_t)sizeof *m && m->kind == RK_STARTED)
		return true;
	if (n == (ssize_t)sizeof *m && m->kind == RK_FAILED)
		*rep = (struct child_report){ m->stage, m->err };
	else
		*rep = (struct child_report){ ST_REAPER, EIO };
	return false;
}

/* The one-line reason a spawn failed. */
static void spawn_error(const struct gust_tree *t, const struct gust_spawn *spec, const char *argv0,
                        const struct child_report *rep, char *err, size_t errlen)
{
	int e = rep->err;
	switch (rep->stage) {
	case ST_CHDIR:
		snprintf(err, errlen, "cannot change to directory \"%s\": %s", spec->cwd,
		         strerror(e));
		break;
	case ST_CGROUP:
		snprintf(err, errlen,
		         "containment \"cgroup\": cannot move the process into \"%s\": %s",
		         t->cg ? t->cg : "?", strerror(e));
		break;
	case ST_USERNS:
		snprintf(
		    err, errlen,
		    "containment \"pidns\": cannot map uid and gid into the user namespace: %s",
		    strerror(e));
		break;
	case ST_REAPER:
		snprintf(err, errlen, "cannot start the reaper of \"%s\"'s tree: %s", argv0,
		         strerror(e));
		break;
	case ST_EXEC:
		snprintf(err, errlen, "cannot execute \"%s\": %s%s", argv0, strerror(e),
		         e == ENOENT && !strchr(argv0, '/') && !(spec->flags & GUST_SPAWN_NO_PATH)
		             ? " (not found in PATH)"
		         : e == ETXTBSY ? " (the file is still being written)"
		                        : "");
		break;
	default:
		snprintf(err, errlen, "cannot set up the process for \"%s\": %s", argv0,
		         strerror(e));
		break;
	}
}

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
	char **argv = NULL, **envp = NULL, **paths = NULL;
	int pfd[2] = { -1, -1 };
	int cgfd = -1;
	int e = ENOMEM;
	if (!t)
		goto oom;
	t->tty_fd = -1;
	t->report_fd = -1;
	t->mgr = mgr;
	t->ev = ev;
	t->arg = arg;
	t->serial = ++mgr->next_serial;
	size_t argc = 0;
	while (spec->argv[argc])
		argc++;
	if (!(argv = calloc(argc + 1, sizeof *argv)))
		goto oom;
	for (size_t i = 0; i < argc; i++)
		if (!(argv[i] = strdup(spec->argv[i])))
			goto oom;
	if (!(envp = build_env(spec)) ||
	    !(paths = exec_paths(argv[0], envp, spec->flags & GUST_SPAWN_NO_PATH)))
		goto oom;

	struct child_plan pl = { argv, envp, paths, spec->cwd, { -1, -1, -1 }, false, -1, getpid(),
		                 -1,   -1,   -1,    false,     false,          "",    "" };
	bool contain_try = spec->flags & GUST_SPAWN_CONTAIN_TRY;
	if (spec->flags & GUST_SPAWN_CGROUP) {
		char why[1024];
		int r = cg_create(mgr, t, &cgfd, why, sizeof why);
		if (r < 0 && !contain_try) {
			e = -r;
			snprintf(err, errlen, "%s", why);
			goto fail;
		}
		if (r < 0)
			log_msg(GUST_LOG_DEBUG, STAGE_RUN, "%s; running without a cgroup", why);
		pl.cg_fd = cgfd;
	}
	if (spec->flags & GUST_SPAWN_PIDNS) {
		pl.pidns = true;
		pl.userns = geteuid() != 0;
		snprintf(pl.uid_map, sizeof pl.uid_map, "%lu %lu 1", (unsigned long)geteuid(),
		         (unsigned long)geteuid());
		snprintf(pl.gid_map, sizeof pl.gid_map, "%lu %lu 1", (unsigned long)getegid(),
		         (unsigned long)getegid());
	}
	pl.fd[0] = spec->stdin_fd;
	pl.fd[1] = spec->stdout_fd;
	pl.fd[2] = spec->stderr_fd;
	if (spec->flags & GUST_SPAWN_FOREGROUND) {
		int tty = open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC);
		if (tty >= 0 && tcgetpgrp(tty) == getpgrp())
			t->tty_fd = tty;
		else if (tty >= 0)
			close(tty); /* gust is not in the foreground itself */
	} else if (spec->stdin_fd < 0) {
		pl.devnull_stdin = true;
	}
	pl.tty_fd = t->tty_fd;
	if (pipe2(pfd, O_CLOEXEC) < 0) {
		e = errno;
		snprintf(err, errlen, "cannot create a pipe: %s", strerror(e));
		goto fail;
	}
	pl.report = pfd[1];
	pl.report_rd = pfd[0];

	/* Is the membership of every tree exact right now (no tree alive, or
	 * nothing appeared since the newest view)? Then it is after the fork
	 * too if the fork was the only one, and the next scan can be quick. */
	unsigned long long forks0 = 0;
	bool exact = false;
	if (!pl.pidns) {
		bool any = false;
		for (struct gust_tree *o = mgr->trees; o; o = o->next)
			any |= live(o);
		exact = read_forks(&forks0) == 0 &&
		        (!any || (mgr->nhist && forks0 == mgr->hist[mgr->nhist - 1].c.forks));
	}

	/* Nothing may run gust's handlers in the child before they are reset. */
	sigset_t all, old;
	sigfillset(&all);
	sigprocmask(SIG_SETMASK, &all, &old);
	pid_t pid = -1;
	if (pl.pidns) {
		pid = clone_ns(&pl);
		if (pid == 0)
			child_main(&pl); /* in the new namespace */
		if (pid < 0 && contain_try) {
			log_msg(GUST_LOG_DEBUG, STAGE_RUN,
			        "cannot create a pid namespace: %s; running without one",
			        strerror(errno));
			pl.pidns = pl.userns = false;
		}
	}
	if (!pl.pidns) {
		pid_t gust = getpid();
		pid = fork();
		if (pid == 0) {
			close(pfd[0]);
			reaper_main(mgr, &pl, pfd[1], gust);
		}
	}
	e = errno;
	if (pid > 0) {
		(void)setpgid(pid, pid); /* closes the race with the child's own */
		if (t->tty_fd >= 0 && pl.pidns)
			(void)tcsetpgrp(t->tty_fd, pid); /* SIGTTOU is blocked here */
	}
	sigprocmask(SIG_SETMASK, &old, NULL);
	close(pfd[1]);
	pfd[1] = -1;
	if (cgfd >= 0)
		close(cgfd);
	cgfd = -1;
	if (pid < 0 && pl.pidns) {
		snprintf(err, errlen,
		         "containment \"pidns\": cannot create a %spid namespace: %s (needs "
		         "unprivileged "
		         "user namespaces: sysctl user.max_user_namespaces > 0 and, on Debian, "
		         "kernel.unprivileged_userns_clone=1; or use \"none\")",
		         pl.userns ? "user and " : "", strerror(e));
		goto fail;
	}
	if (pid < 0) {
		snprintf(err, errlen, "cannot fork: %s", strerror(e));
		goto fail;
	}
	struct child_report rep;
	struct reaper_msg m = { 0 };
	if (!start_report(pfd[0], pl.pidns, &rep, &m)) {
		/* the child exits at once; it is ours to reap, not the loop's */
		int st;
		while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
			;
		spawn_error(t, spec, argv[0], &rep, err, errlen);
		e = rep.err;
		tty_release(t);
		goto fail;
	}
	struct pinfo pi;
	if (pl.pidns) {
		t->pid = pid;
		close(pfd[0]);
	} else {
		/* the reaper's reports come through the loop from now on */
		t->pid = m.pid;
		t->reaper = pid;
		t->reaper_start = proc_stat(pid, &pi) == 0 ? pi.start : 0;
		t->report_fd = pfd[0];
		(void)fcntl(pfd[0], F_SETFL, fcntl(pfd[0], F_GETFL) | O_NONBLOCK);
		if (loop_io_add(mgr->loop, pfd[0], GUST_IO_READ, on_report, t) < 0)
			log_msg(GUST_LOG_WARN, STAGE_RUN,
			        "cannot watch the reaper of pid %ld: its exit shows when its tree "
			        "is gone",
			        (long)m.pid);
	}
	pfd[0] = -1;
	if (proc_stat(t->pid, &pi) == 0 && (pl.pidns || pi.start == m.start)) {
		t->start = pi.start;
		if ((t->m = calloc(1, sizeof *t->m))) {
			t->m[0] = (struct member){ t->pid,   pi.ppid, pi.pgrp, pi.start,
				                   pi.state, false,   false };
			t->nm = 1;
		}
	} else {
		t->start = m.start;
	}
	t->next = mgr->trees;
	mgr->trees = t;
	mgr->refresh_ms = REFRESH_MS;
	struct counters c1;
	/* the reaper and the program: two forks */
	if (exact && t->nm == 1 && read_counters(&c1, NULL) == 0 && c1.forks == forks0 + 2)
		view_push(mgr, loop_now_ms(), &c1);
	free_strv(argv);
	free_strv(envp);
	free_strv(paths);
	state_write(mgr);
	reschedule(mgr);
	return t;
oom:
	snprintf(err, errlen, "out of memory");
fail:
	if (pfd[0] >= 0)
		close(pfd[0]);
	if (pfd[1] >= 0)
		close(pfd[1]);
	free_strv(argv);
	free_strv(envp);
	free_strv(paths);
	if (t && t->tty_fd >= 0)
		close(t->tty_fd);
	if (cgfd >= 0)
		close(cgfd);
	if (t && t->cg) {
		(void)rmdir(t->cg);
		free(t->cg);
	}
	free(t);
	errno = e;
	return NULL;
}

/* ---- stopping ---- */

int ptree_stop(struct gust_tree *t, int sig, unsigned kill_delay_ms)
{
	if (!t)
		return -EINVAL;
	if (t->phase == PH_DONE)
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
	(void)scan(mgr);
	if (t->nm)
		sweep(t);
	arm(mgr, t->nm ? RESCAN_MIN_MS : 0);
	return 0;
}

int ptree_kill(struct gust_tree *t)
{
	if (!t)
		return -EINVAL;
	if (t->phase == PH_DONE)
		return -ESRCH;
	if (t->phase == PH_KILL)
		return 0;
	if (t->phase == PH_RUN)
		return ptree_stop(t, SIGKILL, 0);
	enter_kill(t);
	(void)scan(t->mgr);
	sweep(t);
	arm(t->mgr, t->nm ? RESCAN_MIN_MS : 0);
	return 0;
}

pid_t ptree_pid(const struct gust_tree *t)
{
	return t ? t->pid : 0;
}

bool ptree_alive(const struct gust_tree *t)
{
	return t && t->phase != PH_DONE;
}

/* gust's children that are no live reaper: a stray left by a killed
 * reaper, or a root it left. Teardown kills them (a child not yet reaped
 * is named by its pid) and reaps all it can; true while gust has any
 * child at all, which, gust being a subreaper, is while it has any
 * descendant. */
static bool own_children_left(struct ptree_mgr *mgr)
{
	kill_children(mgr->self, mgr);
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
	for (struct gust_tree *t = mgr->trees; t; t = t->next)
		if (live(t) && (!only || t == only) && t->phase != PH_KILL)
			enter_kill(t);
	for (;;) {
		(void)scan(mgr);
		size_t left = 0;
		for (struct gust_tree *t = mgr->trees; t; t = t->next) {
			if (!live(t) || (only && t != only))
				continue;
			int st;
			if (reaper_alive(t) && waitpid(t->reaper, &st, WNOHANG) == t->reaper)
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
			if (left == before && (reaper_alive(t) || cg_remove(t) == -EBUSY))
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
		if (!live(t) || (only && t != only))
			continue;
		t->phase = PH_DONE;
		t->nm = 0;
		tty_release(t);
	}
}

static void ptree_release(struct gust_tree *t)
{
	tty_release(t);
	report_close(t);
	(void)cg_remove(t);
	free(t->cg);
	free(t->m);
	free(t);
}

void ptree_free(struct gust_tree *t)
{
	if (!t)
		return;
	struct ptree_mgr *mgr = t->mgr;
	if (live(t))
		kill_sync(mgr, t);
	for (struct gust_tree **pp = &mgr->trees; *pp; pp = &(*pp)->next) {
		if (*pp == t) {
			*pp = t->next;
			break;
		}
	}
	ptree_release(t);
	state_write(mgr);
	reschedule(mgr);
}

void ptree_mgr_quitting(struct ptree_mgr *mgr)
{
	mgr->quitting = true;
	state_write(mgr);
}

void ptree_mgr_claim_state(struct ptree_mgr *mgr)
{
	state_write(mgr);
}

void ptree_mgr_leave_state(struct ptree_mgr *mgr)
{
	free(mgr->state_path);
	mgr->state_path = NULL;
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
	if (mgr->state_path)
		unlink(mgr->state_path);
	if (mgr->state_fd >= 0)
		close(mgr->state_fd);
	free(mgr->state_last);
#ifdef CHILD_STACK
	if (mgr->child_stack)
		munmap(mgr->child_stack, CHILD_STACK);
#endif
	free(mgr->state_path);
	free(mgr);
}

/* ---- the host's tree_pids() ---- */

size_t ptree_members(const struct gust_tree *t, pid_t *out, size_t max)
{
	if (!t || !live(t))
		return 0;
	/* as of now, not as of the last refresh: mostly a re-read of the
	 * members, reading /proc only for what was created since */
	(void)scan(t->mgr);
	size_t n = 0;
	for (size_t i = 0; live(t) && i < t->nm; i++) {
		if (t->m[i].state == 'Z')
			continue;
		if (n < max)
			out[n] = t->m[i].pid;
		n++;
	}
	return n;
}
