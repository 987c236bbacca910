/* ptree-internal.h - what the files of the process-tree service share
 * (ptree.c, membership.c, procfs.c, cgroup.c, statefile.c, spawn.c,
 * reaper.c): a tree, the manager, a process as /proc shows it, and the
 * functions one file calls in another. Not for the rest of the core,
 * which sees ptree.h only. */
#ifndef GUST_PTREE_INTERNAL_H
#define GUST_PTREE_INTERNAL_H

#include "ptree.h"

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#define REFRESH_MS 2000u       /* membership refresh after a change... */
#define REFRESH_KEPT_MS 16000u /* ...and while only kept processes are left */

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
	bool kept;      /* named in the tree's keep list, or below one that is */
};

/* PH_KEPT: stopped, except what the keep list names, which lives on. */
enum phase { PH_RUN = 0, PH_TERM, PH_KILL, PH_KEPT, PH_DONE };

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
	char **keep;           /* names a stop leaves running (NULL-terminated), or NULL */
	bool keep_off;         /* gust is exiting: keep nothing */
	uint64_t keep_full_at; /* a full scan asked for before PH_KEPT, or 0 */
	bool detached;         /* freed by its owner while PH_KEPT: the manager's now */
	struct exitwatch *ew;  /* exitwatch.c: pidfds on members, EXITWATCH_MAX */
	size_t nw;
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

struct ptree_mgr {
	struct loop *loop;
	char *state_path;
	int state_fd;     /* open on state_path once written, else -1 */
	int lock_fd;      /* ptree_mgr_claim()'s lock, flock'd for gust's life, or -1 */
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
	 * oldest first (see membership_scan()). */
	struct view hist[HIST];
	size_t nhist;
	uint64_t last_full;  /* when all of /proc was last read */
	bool want_full;      /* the next scan reads all of /proc */
	unsigned refresh_ms; /* PH_RUN refresh interval, REFRESH_MS..; 0: settled */
	unsigned long full_scans, delta_scans, quick_scans; /* for the tests and -vv */
	void *child_stack; /* spawn_fork_fast()'s, CHILD_STACK bytes, mapped once */
};

struct snap {
	struct pinfo *p;
	size_t n, cap;
};

/* What a tree's reaper tells gust, over a pipe: that the program started
 * (or why it could not), and later how it exited. A message is shorter
 * than PIPE_BUF, so it is written and read whole. */
enum reaper_kind { RK_STARTED = 1, RK_FAILED, RK_EXITED };

struct reaper_msg {
	int kind;
	int stage, err;           /* RK_FAILED: a child_report */
	int status;               /* RK_EXITED: the program's wait status */
	pid_t pid;                /* RK_STARTED: the program */
	int unused;               /* explicit: no byte of the pipe's message is unset */
	unsigned long long start; /* RK_STARTED: its start time */
};

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
	const int *pass; /* become the program's fds 3, 4, ... (spec->fds) */
	size_t npass;
	char *listen_pid; /* GUST_SPAWN_LISTEN_PID: the digits of "LISTEN_PID=" in envp */
};
/* At most this many fds are passed (the child copies them on its stack). */
#define SPAWN_PASS_MAX 64

static inline bool ptree_live(const struct gust_tree *t)
{
	return t->phase != PH_DONE;
}

static inline bool ptree_reaper_alive(const struct gust_tree *t)
{
	return t->reaper > 0 && !t->reaper_gone;
}

/* Does recovery after a SIGKILL need t's members in the state file?
 * Only with a reaper and no cgroup: a cgroup's line names all of it, and
 * a PID namespace dies with its init, which dies with gust. */
static inline bool ptree_records_members(const struct gust_tree *t)
{
	return !t->cg && t->reaper > 0;
}

static inline bool ptree_keeping(const struct gust_tree *t)
{
	return t->keep && !t->keep_off;
}

/* ---- keep.c: what a stop leaves running ---- */

/* Copy the spec's keep list into t (1.1 specs only); -ENOMEM. */
int keep_init(struct gust_tree *t, const struct gust_spawn *spec);
void keep_free(struct gust_tree *t);
/* Mark the members the keep list names, and everything below them. */
void keep_mark(struct gust_tree *t);
/* Is every member left one that is kept (and is there one)? */
bool keep_only_kept(const struct gust_tree *t);

/* ---- exitwatch.c: a member's exit wakes gust ---- */

/* After a scan: hold a pidfd on each live member of t while it runs and
 * records its members, none otherwise. */
void exitwatch_sync(struct gust_tree *t);
/* Close them all (t is released). */
void exitwatch_clear(struct gust_tree *t);

/* ---- ptree.c: the manager ---- */

/* Free t's own resources (t is out of the manager's list). */
void ptree_release(struct gust_tree *t);
/* Run the manager's timer within ms (sooner if it is due sooner). */
void ptree_arm(struct ptree_mgr *mgr, unsigned ms);
/* Give the terminal back to gust (GUST_SPAWN_FOREGROUND) and close it. */
void ptree_tty_release(struct gust_tree *t);

/* ---- procfs.c: /proc ---- */

/* The forks since boot (the "processes" line of /proc/stat). 0 or -1. */
int procfs_forks(unsigned long long *forks);
/* Read the counters; forks: the count if just read, or NULL. 0 or -1. */
int procfs_counters(struct counters *c, const unsigned long long *forks);
/* /proc/<pid>/stat. 0 or -errno. */
int procfs_stat(pid_t pid, struct pinfo *pi);
/* Every process, sorted by pid (s->p malloc'd, reused). 0 or -errno. */
int procfs_snap_take(struct snap *s);
int procfs_snap_add(struct snap *s, const struct pinfo *pi);
void procfs_snap_sort(struct snap *s);
/* Index of pid in a sorted snapshot, or -1. */
long procfs_snap_find(const struct snap *s, pid_t pid);
/* A pidfd (close-on-exec) on pid if it is still the process that started
 * at start, or -errno. */
int procfs_pidfd(pid_t pid, unsigned long long start);
/* Signal pid only if it is still the process that started at start:
 * 0, -ESRCH or another -errno. */
int procfs_signal(pid_t pid, unsigned long long start, int sig);

/* ---- cgroup.c: containment "cgroup" ---- */

/* The pids in cgroup cg: *out malloc'd, *n entries. 0 or -errno. */
int cgroup_pids(const char *cg, pid_t **out, size_t *n);
/* SIGKILL all of cg at once; -ENOENT before Linux 5.14. */
int cgroup_kill(const char *cg);
/* Create t's cgroup (t->cg); *fd: its cgroup.procs, for the child.
 * 0 or -errno with err set. */
int cgroup_create(struct ptree_mgr *mgr, struct gust_tree *t, int *fd, char *err, size_t errlen);
/* Remove t's cgroup once empty: 0, -EBUSY (not empty) or -errno. */
int cgroup_remove(struct gust_tree *t);

/* ---- membership.c: who belongs to which tree ---- */

/* The live tree whose reaper is pid, or NULL. */
struct gust_tree *membership_reaper_of(struct ptree_mgr *mgr, pid_t pid);
/* The view a scan may start from, or NULL (then it reads all of /proc). */
const struct view *membership_base(const struct ptree_mgr *mgr);
/* Before a spawn's fork: could the membership be exact after it? */
bool membership_exact(struct ptree_mgr *mgr, unsigned long long *forks);
/* After the spawn of t, membership_exact() having said so: if the fork
 * count is forks (the spawn's were the only ones), t's root is all of t
 * and the membership is complete: a view. */
void membership_after_spawn(struct ptree_mgr *mgr, const struct gust_tree *t,
                            unsigned long long forks);
/* Recompute every live tree's membership (t->m). 0 or -errno. */
int membership_scan(struct ptree_mgr *mgr);
/* Stopping t: ask for a scan of all of /proc if its reaper outlives its
 * known members by LOST_MS. */
void membership_look_for_unseen(struct gust_tree *t, uint64_t now);

/* ---- statefile.c: the state file ---- */

/* Write what the trees hold to the state file, if it changed. */
void statefile_write(struct ptree_mgr *mgr);
/* Teardown: remove the state file (unless it is another gust's), then
 * let the lock go; free what the state file kept. */
void statefile_close(struct ptree_mgr *mgr);

/* ---- reaper.c: the reaper process and its reports ---- */

/* Stop watching t's report pipe and close it. */
void reaper_report_close(struct gust_tree *t);
/* The loop's callback for a report pipe (arg: the tree). */
void reaper_on_report(int fd, unsigned events, void *arg);
/* t's reaper was reaped with status. */
void reaper_reaped(struct gust_tree *t, int status);
/* SIGKILL every child of parent but the live reapers of mgr (if given). */
void reaper_kill_children(pid_t parent, struct ptree_mgr *mgr);
/* The reaper process, right after gust's fork: starts pl's program,
 * reports to fd report. Never returns. */
void reaper_main(struct ptree_mgr *mgr, struct child_plan *pl, int report, pid_t gust);

/* ---- spawn.c: starting a tree ---- */

/* Close every fd but keep (-1: all). Async-signal-safe. */
void spawn_close_fds_but(int keep);
/* fork() into child_main(pl), sharing gust's memory until the exec. */
pid_t spawn_fork_fast(struct ptree_mgr *mgr, struct child_plan *pl);
/* Start t's first process as spec says, and wait until the program runs:
 * t->pid, its reaper, the first member. 0, or -errno with err set (what t
 * got of its own, tty_fd or cg, is the caller's to release). */
int spawn_start(struct gust_tree *t, const struct gust_spawn *spec, char *err, size_t errlen);
/* Release what spawning keeps in mgr (the child stack). */
void spawn_fini(struct ptree_mgr *mgr);

#endif
