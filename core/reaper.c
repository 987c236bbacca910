/* reaper.c - the reaper: one small process per tree, forked by gust, a
 * child subreaper whose child is the program, so that every orphan of the
 * tree re-parents to it; and gust's side of it: its reports (the
 * program's exit) and its own end. */
#include "config.h"

#include "ptree-internal.h"

#include "log.h"
#include "loop.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#ifdef HAVE_SYS_PRCTL_H
#include <sys/prctl.h>
#endif

#define REAPER_DEATH_SIG SIGUSR1 /* gust died: kept blocked, waited for */

/* ---- gust's side: the reports, the reaper's end ---- */

static void root_exited(struct gust_tree *t, int status)
{
	if (t->root_reaped)
		return;
	t->root_reaped = true;
	t->root_status = status;
	t->exit_pending = true;
	ptree_arm(t->mgr, 0);
}

void reaper_report_close(struct gust_tree *t)
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
			reaper_report_close(t); /* the reaper is gone */
			return;
		}
		if (m.kind == RK_EXITED)
			root_exited(t, m.status);
	}
}

void reaper_on_report(int fd, unsigned events, void *arg)
{
	(void)fd;
	(void)events;
	report_drain(arg);
}

/* The reaper exited: by itself (0) once its tree was empty, or killed,
 * and then its orphans re-parented to gust and the program died with it
 * (its parent-death signal is SIGKILL). */
void reaper_reaped(struct gust_tree *t, int status)
{
	report_drain(t); /* the root's exit, written before */
	reaper_report_close(t);
	t->reaper_gone = true;
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return;
	t->reaper_lost = true;
	/* its orphans are gust's children now: a scan made before this was
	 * known saw them as no tree's, and a delta scan looks only at what
	 * is newer, so the next scan reads every process again */
	t->mgr->want_full = true;
	if (ptree_live(t))
		log_msg(GUST_LOG_WARN, STAGE_RUN,
		        "the reaper of pid %ld's tree was killed; what is left of the tree now "
		        "descends from gust itself and is stopped with it",
		        (long)t->pid);
	root_exited(t, SIGKILL); /* a wait status: killed by SIGKILL */
}

/* ---- the reaper: one per tree, the parent of its program ---- */
/* SIGKILL every child of parent (the caller: not reaped yet, so its pid
 * names it), but the live reapers of mgr's trees when mgr is given. */
void reaper_kill_children(pid_t parent, struct ptree_mgr *mgr)
{
	DIR *d = opendir("/proc");
	struct dirent *de;
	while (d && (de = readdir(d))) {
		char *end;
		long pid = strtol(de->d_name, &end, 10);
		struct pinfo pi;
		if (pid > 0 && !*end && procfs_stat((pid_t)pid, &pi) == 0 && pi.ppid == parent &&
		    !(mgr && membership_reaper_of(mgr, (pid_t)pid)))
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
		reaper_kill_children(self, NULL);
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
void reaper_main(struct ptree_mgr *mgr, struct child_plan *pl, int report, pid_t gust)
{
	struct reaper_msg m = { .kind = RK_FAILED, .stage = ST_REAPER };
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
	pid_t prog = spawn_fork_fast(mgr, pl);
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
	m = (struct reaper_msg){ .kind = RK_STARTED,
		                 .pid = prog,
		                 .start = procfs_stat(prog, &pi) == 0 ? pi.start : 0 };
	reaper_send(report, &m);
	spawn_close_fds_but(report);
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	sigaddset(&set, REAPER_DEATH_SIG);
	for (;;) {
		pid_t w;
		while ((w = waitpid(-1, &st, WNOHANG)) > 0) {
			if (w != prog)
				continue;
			m = (struct reaper_msg){ .kind = RK_EXITED, .status = st, .pid = prog };
			reaper_send(report, &m);
		}
		if (w < 0 && errno == ECHILD)
			_exit(0);
		if (getppid() != gust)
			reaper_clear();
		(void)sigwaitinfo(&set, NULL);
	}
}
