/* spawn.c - starting a tree: the child plan decided before forking, the
 * child's async-signal-safe set-up up to execve(), the init of a PID
 * namespace, the fork of the reaper (or the clone into a new namespace),
 * and the first report that says whether the program runs. */
#include "config.h"

#include "ptree-internal.h"

#include "log.h"
#include "loop.h"
#include "pathsearch.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <sys/resource.h>
#ifdef __linux__
#include <linux/close_range.h>
#endif
#include <unistd.h>
#ifdef HAVE_SYS_PRCTL_H
#include <sys/prctl.h>
#endif

extern char **environ;

#define TXTBSY_MAX_MS 1000u /* retry exec this long while ETXTBSY */

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
void spawn_close_fds_but(int keep)
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
	spawn_close_fds_but(-1);
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

/* The child's stdin, stdout and stderr as planned. Async-signal-safe. */
static void child_stdio(const struct child_plan *pl)
{
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
}

/* Nothing from fd `from` up reaches the program: an fd gust inherited
 * without close-on-exec (a shell's, a terminal's) gets it now, so that only
 * stdio and the passed fds cross the exec (the report pipe still works
 * until then). Async-signal-safe. */
static void child_cloexec_from(int from)
{
#if defined(SYS_close_range) && defined(CLOSE_RANGE_CLOEXEC)
	if (syscall(SYS_close_range, (unsigned)from, ~0u, CLOSE_RANGE_CLOEXEC) == 0)
		return;
#endif
	struct rlimit rl;
	int max =
	    getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < 65536 ? (int)rl.rlim_cur : 65536;
	for (int fd = from; fd < max; fd++)
		(void)fcntl(fd, F_SETFD, FD_CLOEXEC);
}

/* The fds passed to the program become 3, 4, ...: each source is first
 * copied above the targets, so no dup2 clobbers a source not yet moved;
 * dup2 clears close-on-exec on the target. The report pipe, if it sits
 * among the targets, is moved above them first (*report: where it is
 * now). Async-signal-safe. */
static void child_pass_fds(const struct child_plan *pl, int *report)
{
	int top = 3 + (int)pl->npass, src[SPAWN_PASS_MAX];
	if (pl->npass == 0) {
		child_cloexec_from(top);
		return;
	}
	if (*report >= 3 && *report < top)
		*report = fcntl(*report, F_DUPFD_CLOEXEC, top);
	for (size_t i = 0; i < pl->npass; i++)
		if ((src[i] = fcntl(pl->pass[i], F_DUPFD_CLOEXEC, top)) < 0)
			child_fail(pl, ST_STDIO, errno);
	for (size_t i = 0; i < pl->npass; i++)
		if (dup2(src[i], 3 + (int)i) < 0)
			child_fail(pl, ST_STDIO, errno);
	child_cloexec_from(top);
}

/* LISTEN_PID=<this process's pid>, written into the environment's own
 * slot (reserved by build_env) without allocating. Async-signal-safe. */
static void child_listen_pid(const struct child_plan *pl)
{
	if (!pl->listen_pid)
		return;
	char digits[24];
	int n = 0;
	for (unsigned long v = (unsigned long)getpid(); v || n == 0; v /= 10)
		digits[n++] = (char)('0' + v % 10);
	for (int i = 0; i < n; i++)
		pl->listen_pid[i] = digits[n - 1 - i];
	pl->listen_pid[n] = '\0';
}

/* Every signal to its default disposition, none blocked: the program
 * starts as from a fresh shell. Async-signal-safe. */
static void child_reset_signals(void)
{
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
}

/* execve() the first of pl->paths that runs, retrying while the file is
 * still being written (ETXTBSY); report the failure that tells most.
 * Async-signal-safe; never returns. */
static void child_exec(const struct child_plan *pl)
{
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
	child_stdio(pl);
	/* a copy on this stack, in case the report pipe must move */
	struct child_plan own = *pl;
	child_pass_fds(pl, &own.report);
	child_listen_pid(&own);
	if (own.cwd && chdir(own.cwd) < 0)
		child_fail(&own, ST_CHDIR, errno);
	child_reset_signals();
	child_exec(&own);
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
	char **v = calloc(ne + ns + 2, sizeof *v);
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
	if (spec->flags & GUST_SPAWN_LISTEN_PID) {
		/* the digits are written in the child, which knows its pid */
		for (size_t i = 0; i < k; i++)
			if (same_name(v[i], "LISTEN_PID=")) {
				free(v[i]);
				v[i] = v[--k];
				v[k] = NULL;
				break;
			}
		if (!(v[k++] = strdup("LISTEN_PID=0000000000000000000000")))
			goto oom;
	}
	return v;
oom:
	free_strv(v);
	return NULL;
}

/* Where execvp would look for argv0, decided before forking: the one PATH
 * search's candidates (common/pathsearch.c), left relative to the
 * child's working directory; the last PATH in envp counts. */
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
	const char *path = NULL;
	for (char **e = envp; *e; e++)
		if (strncmp(*e, "PATH=", 5) == 0)
			path = *e + 5;
	return path_candidates(argv0, path, NULL);
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
pid_t spawn_fork_fast(struct ptree_mgr *mgr, struct child_plan *pl)
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

void spawn_fini(struct ptree_mgr *mgr)
{
#ifdef CHILD_STACK
	if (mgr->child_stack)
		munmap(mgr->child_stack, CHILD_STACK);
#else
	(void)mgr;
#endif
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

/* What a spawn holds from the plan to the first report. */
struct spawn_job {
	struct child_plan pl;
	char **argv, **envp, **paths; /* the plan's, owned */
	int pfd[2];                   /* the first report's pipe */
	int cgfd;                     /* the tree cgroup's cgroup.procs, or -1 */
	bool contain_try;             /* GUST_SPAWN_CONTAIN_TRY */
};

static void job_free(struct spawn_job *j)
{
	if (j->pfd[0] >= 0)
		close(j->pfd[0]);
	if (j->pfd[1] >= 0)
		close(j->pfd[1]);
	free_strv(j->argv);
	free_strv(j->envp);
	free_strv(j->paths);
	if (j->cgfd >= 0)
		close(j->cgfd);
}

/* The command, copied for the child: argv, the environment, and where
 * argv[0] may be. 0 or -ENOMEM. */
static int job_command(struct spawn_job *j, const struct gust_spawn *spec)
{
	size_t argc = 0;
	while (spec->argv[argc])
		argc++;
	if (!(j->argv = calloc(argc + 1, sizeof *j->argv)))
		return -ENOMEM;
	for (size_t i = 0; i < argc; i++)
		if (!(j->argv[i] = strdup(spec->argv[i])))
			return -ENOMEM;
	if (!(j->envp = build_env(spec)) ||
	    !(j->paths = exec_paths(j->argv[0], j->envp, spec->flags & GUST_SPAWN_NO_PATH)))
		return -ENOMEM;
	return 0;
}

/* The rest of the child plan: containment, stdio, the terminal, the
 * report pipe. 0 or -errno with err set. */
static int job_plan(struct gust_tree *t, struct spawn_job *j, const struct gust_spawn *spec,
                    char *err, size_t errlen)
{
	struct child_plan *pl = &j->pl;
	*pl = (struct child_plan){ .argv = j->argv,
		                   .envp = j->envp,
		                   .paths = j->paths,
		                   .cwd = spec->cwd,
		                   .fd = { -1, -1, -1 },
		                   .tty_fd = -1,
		                   .parent = getpid(),
		                   .report = -1,
		                   .report_rd = -1,
		                   .cg_fd = -1 };
	j->contain_try = spec->flags & GUST_SPAWN_CONTAIN_TRY;
	if (spec->flags & GUST_SPAWN_CGROUP) {
		char why[1024];
		int r = cgroup_create(t->mgr, t, &j->cgfd, why, sizeof why);
		if (r < 0 && !j->contain_try) {
			snprintf(err, errlen, "%s", why);
			return r;
		}
		if (r < 0)
			log_msg(GUST_LOG_DEBUG, STAGE_RUN, "%s; running without a cgroup", why);
		pl->cg_fd = j->cgfd;
	}
	if (spec->flags & GUST_SPAWN_PIDNS) {
		pl->pidns = true;
		pl->userns = geteuid() != 0;
		snprintf(pl->uid_map, sizeof pl->uid_map, "%lu %lu 1", (unsigned long)geteuid(),
		         (unsigned long)geteuid());
		snprintf(pl->gid_map, sizeof pl->gid_map, "%lu %lu 1", (unsigned long)getegid(),
		         (unsigned long)getegid());
	}
	pl->fd[0] = spec->stdin_fd;
	pl->fd[1] = spec->stdout_fd;
	pl->fd[2] = spec->stderr_fd;
	if (spec->size >= GUST_SIZE_THROUGH(struct gust_spawn, nfds) && spec->nfds) {
		if (!spec->fds || spec->nfds > SPAWN_PASS_MAX) {
			snprintf(err, errlen, "tree_spawn: %zu fds to pass (at most %d)",
			         spec->nfds, SPAWN_PASS_MAX);
			return -EINVAL;
		}
		pl->pass = spec->fds;
		pl->npass = spec->nfds;
	}
	for (char **e = j->envp; (spec->flags & GUST_SPAWN_LISTEN_PID) && *e; e++)
		if (!strncmp(*e, "LISTEN_PID=", 11))
			pl->listen_pid = *e + 11;
	if (spec->flags & GUST_SPAWN_FOREGROUND) {
		int tty = open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC);
		if (tty >= 0 && tcgetpgrp(tty) == getpgrp())
			t->tty_fd = tty;
		else if (tty >= 0)
			close(tty); /* gust is not in the foreground itself */
	} else if (spec->stdin_fd < 0) {
		pl->devnull_stdin = true;
	}
	pl->tty_fd = t->tty_fd;
	if (pipe2(j->pfd, O_CLOEXEC) < 0) {
		int e = errno;
		snprintf(err, errlen, "cannot create a pipe: %s", strerror(e));
		return -e;
	}
	pl->report = j->pfd[1];
	pl->report_rd = j->pfd[0];
	return 0;
}

/* Fork the tree's first process: the init of a new PID namespace (or,
 * failing that under GUST_SPAWN_CONTAIN_TRY, a reaper after all), or the
 * reaper. Its pid, or -errno with err set. */
static pid_t job_fork(struct gust_tree *t, struct spawn_job *j, char *err, size_t errlen)
{
	struct child_plan *pl = &j->pl;
	/* Nothing may run gust's handlers in the child before they are reset. */
	sigset_t all, old;
	sigfillset(&all);
	sigprocmask(SIG_SETMASK, &all, &old);
	pid_t pid = -1;
	if (pl->pidns) {
		pid = clone_ns(pl);
		if (pid == 0)
			child_main(pl); /* in the new namespace */
		if (pid < 0 && j->contain_try) {
			log_msg(GUST_LOG_DEBUG, STAGE_RUN,
			        "cannot create a pid namespace: %s; running without one",
			        strerror(errno));
			pl->pidns = pl->userns = false;
		}
	}
	if (!pl->pidns) {
		pid_t gust = getpid();
		pid = fork();
		if (pid == 0) {
			close(j->pfd[0]);
			reaper_main(t->mgr, pl, j->pfd[1], gust);
		}
	}
	int e = errno;
	if (pid > 0) {
		(void)setpgid(pid, pid); /* closes the race with the child's own */
		if (t->tty_fd >= 0 && pl->pidns)
			(void)tcsetpgrp(t->tty_fd, pid); /* SIGTTOU is blocked here */
	}
	sigprocmask(SIG_SETMASK, &old, NULL);
	close(j->pfd[1]);
	j->pfd[1] = -1;
	if (j->cgfd >= 0)
		close(j->cgfd);
	j->cgfd = -1;
	if (pid < 0 && pl->pidns)
		snprintf(err, errlen,
		         "containment \"pidns\": cannot create a %spid namespace: %s (needs "
		         "unprivileged "
		         "user namespaces: sysctl user.max_user_namespaces > 0 and, on Debian, "
		         "kernel.unprivileged_userns_clone=1; or use \"none\")",
		         pl->userns ? "user and " : "", strerror(e));
	else if (pid < 0)
		snprintf(err, errlen, "cannot fork: %s", strerror(e));
	return pid < 0 ? -e : pid;
}

/* Wait for the first report: 0 once the program runs (*m: the reaper's
 * word, if any), or -errno with err set once the process that failed
 * (it exits at once) is reaped. */
static int job_started(struct gust_tree *t, struct spawn_job *j, const struct gust_spawn *spec,
                       pid_t pid, struct reaper_msg *m, char *err, size_t errlen)
{
	struct child_report rep;
	if (start_report(j->pfd[0], j->pl.pidns, &rep, m))
		return 0;
	/* the child exits at once; it is ours to reap, not the loop's */
	int st;
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	spawn_error(t, spec, j->argv[0], &rep, err, errlen);
	ptree_tty_release(t);
	return rep.err > 0 ? -rep.err : -EIO;
}

/* The program runs: t's root and reaper (pid: the forked process), the
 * reaper's reports (through the loop from now on), the first member. */
static void job_adopt(struct gust_tree *t, struct spawn_job *j, pid_t pid,
                      const struct reaper_msg *m)
{
	struct pinfo pi;
	if (j->pl.pidns) {
		t->pid = pid;
		close(j->pfd[0]);
	} else {
		t->pid = m->pid;
		t->reaper = pid;
		t->reaper_start = procfs_stat(pid, &pi) == 0 ? pi.start : 0;
		t->report_fd = j->pfd[0];
		(void)fcntl(j->pfd[0], F_SETFL, fcntl(j->pfd[0], F_GETFL) | O_NONBLOCK);
		if (loop_io_add(t->mgr->loop, j->pfd[0], GUST_IO_READ, reaper_on_report, t) < 0)
			log_msg(GUST_LOG_WARN, STAGE_RUN,
			        "cannot watch the reaper of pid %ld: its exit shows when its tree "
			        "is gone",
			        (long)m->pid);
	}
	j->pfd[0] = -1;
	if (procfs_stat(t->pid, &pi) == 0 && (j->pl.pidns || pi.start == m->start)) {
		t->start = pi.start;
		if ((t->m = calloc(1, sizeof *t->m))) {
			t->m[0] = (struct member){ .pid = t->pid,
				                   .ppid = pi.ppid,
				                   .pgrp = pi.pgrp,
				                   .start = pi.start,
				                   .state = pi.state };
			t->nm = 1;
		}
	} else {
		t->start = m->start;
	}
}

int spawn_start(struct gust_tree *t, const struct gust_spawn *spec, char *err, size_t errlen)
{
	struct spawn_job j = { .pfd = { -1, -1 }, .cgfd = -1 };
	struct reaper_msg m = { 0 };
	unsigned long long forks0 = 0;
	bool exact = false;
	pid_t pid;
	int r = job_command(&j, spec);
	if (r < 0) {
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	if ((r = job_plan(t, &j, spec, err, errlen)) < 0)
		goto out;
	if (!j.pl.pidns)
		exact = membership_exact(t->mgr, &forks0);
	if ((pid = job_fork(t, &j, err, errlen)) < 0) {
		r = pid;
		goto out;
	}
	if ((r = job_started(t, &j, spec, pid, &m, err, errlen)) < 0)
		goto out;
	job_adopt(t, &j, pid, &m);
	/* the reaper and the program: two forks */
	if (exact)
		membership_after_spawn(t->mgr, t, forks0 + 2);
out:
	job_free(&j);
	return r;
}
