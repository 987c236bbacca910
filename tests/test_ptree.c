/* Process trees: real fork/exec of tests/helpers/shape in the shapes that
 * escape a group kill, the real event loop, real signals, real /proc. Each
 * test runs in its own Check fork, which becomes the subreaper. */
#include "config.h"

#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "loop.h"
#include "ptree.h"

struct rec {
	int exited, stopped;
	int status;
	uint64_t stopped_at;
	const char *marker; /* checked when stopped arrives */
	bool marker_at_stop;
};

static void on_exited(struct gust_tree *t, int status, void *arg)
{
	struct rec *r = arg;
	(void)t;
	r->exited++;
	r->status = status;
}

static void on_stopped(struct gust_tree *t, void *arg)
{
	struct rec *r = arg;
	(void)t;
	r->stopped++;
	r->stopped_at = loop_now_ms();
	if (r->marker)
		r->marker_at_stop = access(r->marker, F_OK) == 0;
}

static const struct gust_tree_events events = { sizeof(struct gust_tree_events), on_exited,
	                                        on_stopped };

struct fx {
	char dir[256];
	char state[300];
	char pids[300];
	char shape[512];
	struct loop *loop;
	struct ptree_mgr *mgr;
	char err[1024];
};

static void fx_init(struct fx *f)
{
	snprintf(f->dir, sizeof f->dir, "%s/t.XXXXXX", getenv("TEST_TREE_DIR"));
	ck_assert_ptr_nonnull(mkdtemp(f->dir));
	snprintf(f->state, sizeof f->state, "%s/gust.state", f->dir);
	snprintf(f->pids, sizeof f->pids, "%s/pids", f->dir);
	const char *h = getenv("GUST_HELPERS");
	ck_assert_msg(h != NULL, "GUST_HELPERS is set by make check");
	snprintf(f->shape, sizeof f->shape, "%s/shape", h);
	setenv("SHAPE_PIDS", f->pids, 1);
	f->loop = loop_new();
	ck_assert_ptr_nonnull(f->loop);
	f->mgr = ptree_mgr_new(f->loop, f->state, f->err, sizeof f->err);
	ck_assert_msg(f->mgr != NULL, "%s", f->err);
}

static void fx_fini(struct fx *f)
{
	ptree_mgr_free(f->mgr);
	ck_assert_int_ne(access(f->state, F_OK), 0); /* state file removed */
	loop_free(f->loop);
	char cmd[400];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", f->dir);
	ck_assert_int_eq(system(cmd), 0);
}

static bool run_until(struct loop *loop, const int *flag, unsigned ms)
{
	uint64_t deadline = loop_now_ms() + ms;
	while (!*flag && loop_now_ms() < deadline)
		ck_assert_int_eq(loop_once(loop, 20), 0);
	return *flag;
}

static struct gust_tree *spawn(struct fx *f, const char *const *argv, const char *const *env,
                               struct rec *r)
{
	struct gust_spawn sp = { .size = sizeof sp,
		                 .argv = argv,
		                 .env = env,
		                 .cwd = NULL,
		                 .stdin_fd = -1,
		                 .stdout_fd = -1,
		                 .stderr_fd = -1,
		                 .flags = 0 };
	struct gust_tree *t = ptree_spawn(f->mgr, &sp, &events, r, f->err, sizeof f->err);
	ck_assert_msg(t != NULL, "spawn failed: %s", f->err);
	return t;
}

/* The pids shape noted, once there are n of them. */
static int wait_pids(struct fx *f, pid_t *out, int n)
{
	uint64_t deadline = loop_now_ms() + 5000;
	int got = 0;
	while (loop_now_ms() < deadline) {
		FILE *fp = fopen(f->pids, "r");
		got = 0;
		long p;
		/* "PID START" from shape, or a bare pid */
		while (fp && got < 32 && fscanf(fp, "%ld%*[^\n]", &p) == 1)
			out[got++] = (pid_t)p;
		if (fp)
			fclose(fp);
		if (got >= n)
			return got;
		loop_once(f->loop, 10);
	}
	return got;
}

static bool gone(pid_t pid)
{
	char p[64];
	snprintf(p, sizeof p, "/proc/%ld", (long)pid);
	return access(p, F_OK) != 0; /* a zombie still has its /proc entry */
}

static char proc_state(pid_t pid)
{
	char p[64], buf[512];
	snprintf(p, sizeof p, "/proc/%ld/stat", (long)pid);
	FILE *fp = fopen(p, "r");
	if (!fp)
		return 0;
	size_t n = fread(buf, 1, sizeof buf - 1, fp);
	fclose(fp);
	buf[n] = '\0';
	char *c = strrchr(buf, ')');
	return c && c[1] ? c[2] : 0;
}

START_TEST(test_exit_status_then_stop)
{
	struct fx f;
	fx_init(&f);
	struct rec r = { 0 };
	const char *argv[] = { f.shape, "exit", "3", NULL };
	struct gust_tree *t = spawn(&f, argv, NULL, &r);
	ck_assert_int_gt(ptree_pid(t), 0);
	ck_assert(run_until(f.loop, &r.exited, 5000));
	ck_assert(WIFEXITED(r.status) && WEXITSTATUS(r.status) == 3);
	ck_assert(ptree_alive(t)); /* until stopped */
	ck_assert_int_eq(r.stopped, 0);
	ck_assert_int_eq(ptree_stop(t, SIGTERM, 2000), 0);
	ck_assert(run_until(f.loop, &r.stopped, 2000));
	ck_assert(!ptree_alive(t));
	ck_assert_int_eq(ptree_stop(t, SIGTERM, 2000), -ESRCH);
	for (int i = 0; i < 5; i++)
		loop_once(f.loop, 10);
	ck_assert_int_eq(r.stopped, 1);
	ck_assert_int_eq(r.exited, 1);
	ptree_free(t);
	fx_fini(&f);
}
END_TEST

START_TEST(test_exec_failures_are_reported)
{
	struct fx f;
	fx_init(&f);
	struct rec r = { 0 };
	struct gust_spawn sp = { .size = sizeof sp,
		                 .argv = NULL,
		                 .env = NULL,
		                 .cwd = NULL,
		                 .stdin_fd = -1,
		                 .stdout_fd = -1,
		                 .stderr_fd = -1,
		                 .flags = 0 };

	const char *a1[] = { "/nonexistent/prog", NULL };
	sp.argv = a1;
	ck_assert_ptr_null(ptree_spawn(f.mgr, &sp, &events, &r, f.err, sizeof f.err));
	ck_assert_str_eq(f.err, "cannot execute \"/nonexistent/prog\": No such file or directory");

	const char *a2[] = { "gust-no-such-program", NULL };
	sp.argv = a2;
	ck_assert_ptr_null(ptree_spawn(f.mgr, &sp, &events, &r, f.err, sizeof f.err));
	ck_assert_msg(strstr(f.err, "\"gust-no-such-program\"") &&
	                  strstr(f.err, "not found in PATH"),
	              "%s", f.err);

	char plain[400];
	snprintf(plain, sizeof plain, "%s/not-executable", f.dir);
	FILE *fp = fopen(plain, "w");
	ck_assert_ptr_nonnull(fp);
	fputs("#!/bin/sh\n", fp);
	fclose(fp);
	const char *a3[] = { plain, NULL };
	sp.argv = a3;
	ck_assert_ptr_null(ptree_spawn(f.mgr, &sp, &events, &r, f.err, sizeof f.err));
	ck_assert_msg(strstr(f.err, "not-executable\": Permission denied") != NULL, "%s", f.err);

	const char *a4[] = { f.shape, "exit", "0", NULL };
	sp.argv = a4;
	sp.cwd = "/nonexistent-dir";
	ck_assert_ptr_null(ptree_spawn(f.mgr, &sp, &events, &r, f.err, sizeof f.err));
	ck_assert_str_eq(
	    f.err, "cannot change to directory \"/nonexistent-dir\": No such file or directory");

	/* no child of ours is left over (all were reaped by ptree_spawn) */
	ck_assert_int_eq(waitpid(-1, NULL, WNOHANG), -1);
	ck_assert_int_eq(r.exited + r.stopped, 0);
	fx_fini(&f);
}
END_TEST

/* A copy of shape held open for writing by another process for hold_ms. */
static pid_t hold_open(const char *src, const char *dst, unsigned hold_ms)
{
	char cmd[1200];
	snprintf(cmd, sizeof cmd, "cp '%s' '%s' && chmod 755 '%s'", src, dst, dst);
	ck_assert_int_eq(system(cmd), 0);
	int p[2];
	ck_assert_int_eq(pipe(p), 0);
	pid_t pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		int fd = open(dst, O_WRONLY);
		(void)!write(p[1], "x", 1);
		struct timespec ts = { hold_ms / 1000, (long)(hold_ms % 1000) * 1000000L };
		nanosleep(&ts, NULL);
		close(fd);
		_exit(0);
	}
	close(p[1]);
	char c;
	ck_assert_int_eq(read(p[0], &c, 1), 1);
	close(p[0]);
	return pid;
}

START_TEST(test_etxtbsy_is_retried)
{
	struct fx f;
	fx_init(&f);
	char prog[400];
	snprintf(prog, sizeof prog, "%s/prog", f.dir);
	pid_t holder = hold_open(f.shape, prog, 200);
	struct rec r = { 0 };
	const char *argv[] = { prog, "exit", "7", NULL };
	uint64_t t0 = loop_now_ms();
	struct gust_tree *t = spawn(&f, argv, NULL, &r);
	ck_assert_uint_ge(loop_now_ms() - t0, 100); /* it did have to wait */
	ck_assert(run_until(f.loop, &r.exited, 5000));
	ck_assert_int_eq(WEXITSTATUS(r.status), 7);
	ptree_free(t);
	waitpid(holder, NULL, 0);

	/* held longer than the retry window: the real reason comes back */
	holder = hold_open(f.shape, prog, 3000);
	struct gust_spawn sp = { .size = sizeof sp,
		                 .argv = argv,
		                 .env = NULL,
		                 .cwd = NULL,
		                 .stdin_fd = -1,
		                 .stdout_fd = -1,
		                 .stderr_fd = -1,
		                 .flags = 0 };
	ck_assert_ptr_null(ptree_spawn(f.mgr, &sp, &events, &r, f.err, sizeof f.err));
	ck_assert_msg(strstr(f.err, "Text file busy") != NULL, "%s", f.err);
	kill(holder, SIGKILL);
	waitpid(holder, NULL, 0);
	fx_fini(&f);
}
END_TEST

/* Every shape: a TERM stop ends with every noted process gone and reaped,
 * without waiting for the kill delay. */
static const struct {
	const char *stages[4];
	int nproc;
} shapes[] = {
	{ { NULL }, 1 },
	{ { "grandchild" }, 2 },
	{ { "setsid" }, 2 },
	{ { "setsid", "setsid" }, 3 },
	{ { "daemon" }, 3 },
	{ { "thread-fork" }, 2 },
	{ { "setpgid" }, 1 },
	{ { "grandchild", "setpgid" }, 2 },
	{ { "thread-fork", "daemon" }, 4 },
};

START_TEST(test_shapes_leave_nothing)
{
	struct fx f;
	fx_init(&f);
	const char *argv[8];
	int k = 0;
	argv[k++] = f.shape;
	for (int i = 0; i < 4 && shapes[_i].stages[i]; i++)
		argv[k++] = shapes[_i].stages[i];
	argv[k++] = "pause";
	argv[k] = NULL;
	struct rec r = { 0 };
	struct gust_tree *t = spawn(&f, argv, NULL, &r);
	pid_t pids[32];
	int n = wait_pids(&f, pids, shapes[_i].nproc);
	ck_assert_int_eq(n, shapes[_i].nproc);
	uint64_t t0 = loop_now_ms();
	ck_assert_int_eq(ptree_stop(t, SIGTERM, 5000), 0);
	ck_assert(run_until(f.loop, &r.stopped, 8000));
	ck_assert_uint_lt(r.stopped_at - t0, 2500); /* no need for SIGKILL */
	for (int i = 0; i < n; i++)
		ck_assert_msg(gone(pids[i]), "shape %d: pid %ld survives (state %c)", _i,
		              (long)pids[i], proc_state(pids[i]));
	ck_assert_uint_eq(ptree_mgr_count(f.mgr), 0);
	ptree_free(t);
	fx_fini(&f);
}
END_TEST

/* ptree_members (the host's tree_pids): right after the processes appear,
 * without waiting for a membership refresh, it lists exactly the ones shape
 * noted (root, a child and a grandchild in sessions of their own), not the
 * reaper; it counts beyond max; nothing once the tree is gone. */
START_TEST(test_members_are_the_processes_now)
{
	struct fx f;
	fx_init(&f);
	const char *argv[] = { f.shape, "setsid", "setsid", "pause", NULL };
	struct rec r = { 0 };
	struct gust_tree *t = spawn(&f, argv, NULL, &r);
	pid_t noted[32], got[32];
	ck_assert_int_eq(wait_pids(&f, noted, 3), 3);
	size_t n = ptree_members(t, got, 32);
	ck_assert_uint_eq(n, 3);
	for (int i = 0; i < 3; i++) {
		bool found = false;
		for (size_t j = 0; j < n; j++)
			found |= got[j] == noted[i];
		ck_assert_msg(found, "pid %ld not among the members", (long)noted[i]);
	}
	ck_assert_uint_eq(ptree_members(t, NULL, 0), 3);
	got[1] = -1;
	ck_assert_uint_eq(ptree_members(t, got, 1), 3);
	ck_assert_int_eq(got[1], -1); /* nothing past max */
	ck_assert_int_eq(ptree_stop(t, SIGKILL, 0), 0);
	ck_assert(run_until(f.loop, &r.stopped, 8000));
	ck_assert_uint_eq(ptree_members(t, got, 32), 0);
	ptree_free(t);
	fx_fini(&f);
}
END_TEST

/* Once gust reads only what was created since an earlier scan, a process
 * that escapes the group after that is still found and stopped. */
/* Scans happen when trees are freed: free short ones until two views are
 * INFLIGHT_MS apart and scans can be incremental. */
static void await_incremental(struct fx *f)
{
	const char *pause_argv[] = { f->shape, "pause", NULL };
	uint64_t deadline = loop_now_ms() + 20000;
	while (!ptree_mgr_incremental(f->mgr) && loop_now_ms() < deadline) {
		struct rec rb = { 0 };
		ptree_free(spawn(f, pause_argv, NULL, &rb));
		loop_once(f->loop, 250);
	}
	ck_assert(ptree_mgr_incremental(f->mgr));
}

START_TEST(test_incremental_scan_finds_late_escapes)
{
	struct fx f;
	fx_init(&f);
	char go[300];
	snprintf(go, sizeof go, "%s/go", f.dir);
	const char *argv[] = { f.shape, "await", go, "setsid", "setsid", "pause", NULL };
	struct rec r = { 0 };
	struct gust_tree *t = spawn(&f, argv, NULL, &r);
	await_incremental(&f);
	unlink(f.pids); /* only the tree's own pids from here */
	/* counted from before they escape: a refresh while we wait for them
	 * may be the delta scan that finds them, and the stop's scan then
	 * only re-reads the members (no fork since) */
	unsigned long full0, delta0, full1, delta1;
	ptree_mgr_scans(f.mgr, &full0, &delta0);
	int fd = open(go, O_WRONLY | O_CREAT, 0644);
	ck_assert_int_ge(fd, 0);
	close(fd);
	pid_t pids[32];
	ck_assert_int_eq(wait_pids(&f, pids, 2), 2); /* the two setsid'd ones */
	ck_assert_int_eq(ptree_stop(t, SIGTERM, 5000), 0);
	ck_assert(run_until(f.loop, &r.stopped, 8000));
	for (int i = 0; i < 2; i++)
		ck_assert_msg(gone(pids[i]), "pid %ld survives (state %c)", (long)pids[i],
		              proc_state(pids[i]));
	ptree_mgr_scans(f.mgr, &full1, &delta1);
	ck_assert_uint_eq(full1, full0); /* not by reading all of /proc */
	ck_assert_uint_gt(delta1, delta0);
	ptree_free(t);
	fx_fini(&f);
}
END_TEST

/* Bug: a process in the middle of an exec shows an empty
 * /proc/PID/environ for a moment. An orphan met then (its parent, the root,
 * gone; in a session of its own; its tag unreadable) was taken as no
 * tree's, and the stop ended with it alive. Each round the root starts an
 * orphan that execs itself 20 times, and exits at once; the stop must
 * leave nothing. */
START_TEST(test_orphan_met_mid_exec_is_stopped)
{
	struct fx f;
	fx_init(&f);
	char esc[300], cmd[1024];
	snprintf(esc, sizeof esc, "%s/esc.sh", f.dir);
	FILE *fp = fopen(esc, "w");
	ck_assert_ptr_nonnull(fp);
	/* 20 execs in a row, then the sleep */
	fprintf(fp, "n=${1:-0}; [ $n -lt 20 ] && exec sh '%s' $((n + 1)); exec sleep 30\n", esc);
	ck_assert_int_eq(fclose(fp), 0);
	snprintf(cmd, sizeof cmd,
	         "setsid sh '%s' </dev/null >/dev/null 2>&1 & echo $! >'%s'; exit 0", esc, f.pids);
	const char *argv[] = { "/bin/sh", "-c", cmd, NULL };
	for (int round = 0; round < 100; round++) {
		struct rec r = { 0 };
		unlink(f.pids);
		struct gust_tree *t = spawn(&f, argv, NULL, &r);
		ck_assert(run_until(f.loop, &r.exited, 8000));
		ck_assert_int_eq(ptree_stop(t, SIGTERM, 5000), 0);
		ck_assert(run_until(f.loop, &r.stopped, 8000));
		pid_t pid[1];
		ck_assert_int_eq(wait_pids(&f, pid, 1), 1);
		char st = proc_state(pid[0]);
		bool g = gone(pid[0]);
		if (!g)
			kill(pid[0], SIGKILL); /* not left behind by a failing test */
		ck_assert_msg(g, "round %d: the orphan %ld survives the stop (state %c)", round,
		              (long)pid[0], st);
		ptree_free(t);
	}
	fx_fini(&f);
}
END_TEST

/* A process that takes its environment away (env -i) and a daemon that
 * overwrites argv and environ with a title, as nginx does, both orphaned at
 * once in sessions of their own: each is its tree's by its parent chain to
 * the tree's reaper, and a stop ends with both gone. */
START_TEST(test_stripped_orphans_are_stopped)
{
	struct fx f;
	fx_init(&f);
	char cmd[2048];
	snprintf(
	    cmd, sizeof cmd,
	    "env -i '%s' --pids='%s' daemon pause; '%s' daemon title 'nginx: master' pause; exit 0",
	    f.shape, f.pids, f.shape);
	const char *argv[] = { "/bin/sh", "-c", cmd, NULL };
	struct rec r = { 0 };
	struct gust_tree *t = spawn(&f, argv, NULL, &r);
	ck_assert(run_until(f.loop, &r.exited, 8000));
	pid_t pids[32];
	/* each: launcher, middle, daemon */
	ck_assert_int_eq(wait_pids(&f, pids, 6), 6);
	ck_assert_int_eq(ptree_stop(t, SIGTERM, 5000), 0);
	ck_assert(run_until(f.loop, &r.stopped, 8000));
	for (int i = 0; i < 6; i++) {
		bool g = gone(pids[i]);
		if (!g)
			kill(pids[i], SIGKILL); /* not left behind by a failing test */
		ck_assert_msg(g, "pid %ld survives the stop", (long)pids[i]);
	}
	ptree_free(t);
	fx_fini(&f);
}
END_TEST

static pid_t ppid_of(pid_t pid)
{
	char p[64], buf[512];
	snprintf(p, sizeof p, "/proc/%ld/stat", (long)pid);
	FILE *fp = fopen(p, "r");
	if (!fp)
		return -1;
	size_t n = fread(buf, 1, sizeof buf - 1, fp);
	fclose(fp);
	buf[n] = '\0';
	char *c = strrchr(buf, ')');
	int pp = -1;
	if (c)
		sscanf(c + 2, "%*c %d", &pp);
	return (pid_t)pp;
}

/* The only reaper of ours (one tree alive): a child of this process named
 * gust-reaper; -1 if none. The root may be gone already, so its parent
 * cannot tell. */
static pid_t our_reaper(void)
{
	DIR *d = opendir("/proc");
	pid_t found = -1;
	for (struct dirent *e; d && (e = readdir(d));) {
		char path[300], comm[64] = "";
		pid_t pid = (pid_t)atol(e->d_name);
		if (pid <= 0 || ppid_of(pid) != getpid())
			continue;
		snprintf(path, sizeof path, "/proc/%s/comm", e->d_name);
		FILE *fp = fopen(path, "r");
		if (fp && fgets(comm, sizeof comm, fp) && !strcmp(comm, "gust-reaper\n"))
			found = pid;
		if (fp)
			fclose(fp);
	}
	if (d)
		closedir(d);
	return found;
}

/* A reaper killed by someone else (the tree's processes run as the same
 * user): the program dies with it (its parent-death signal), its orphans
 * re-parent to gust, the owner hears of an exit by SIGKILL, and the stop
 * still ends with everything gone. */
START_TEST(test_killed_reaper_leaves_nothing)
{
	struct fx f;
	fx_init(&f);
	const char *argv[] = { f.shape, "setsid", "setsid", "pause", NULL };
	struct rec r = { 0 };
	struct gust_tree *t = spawn(&f, argv, NULL, &r);
	pid_t pids[32];
	ck_assert_int_eq(wait_pids(&f, pids, 3), 3);
	pid_t reaper = ppid_of(ptree_pid(t));
	ck_assert_int_gt(reaper, 1);
	ck_assert_int_ne(reaper, getpid());
	ck_assert_int_eq(kill(reaper, SIGKILL), 0);
	ck_assert(run_until(f.loop, &r.exited, 8000));
	ck_assert(WIFSIGNALED(r.status) && WTERMSIG(r.status) == SIGKILL);
	ck_assert_int_eq(ptree_stop(t, SIGTERM, 5000), 0);
	ck_assert(run_until(f.loop, &r.stopped, 8000));
	for (int i = 0; i < 3; i++) {
		bool g = gone(pids[i]);
		if (!g)
			kill(pids[i], SIGKILL);
		ck_assert_msg(g, "pid %ld survives the stop", (long)pids[i]);
	}
	ptree_free(t);
	fx_fini(&f);
}
END_TEST

/* Bug: a delta scan that found nothing (the members gone, what was created
 * since the base gone too) handed qsort a NULL array; under UBSan gust died
 * with status 1 at the next stop. */
START_TEST(test_incremental_scan_of_nothing)
{
	struct fx f;
	fx_init(&f);
	await_incremental(&f);
	const char *pause_argv[] = { f.shape, "pause", NULL };
	struct rec r = { 0 };
	struct gust_tree *t = spawn(&f, pause_argv, NULL, &r);
	unsigned long full0, delta0, full1, delta1;
	ptree_mgr_scans(f.mgr, &full0, &delta0);
	ck_assert_int_eq(ptree_stop(t, SIGTERM, 5000), 0);
	/* processes created and gone while the stop is under way */
	for (int i = 0; i < 3; i++)
		ck_assert_int_eq(system("exit 0"), 0);
	ck_assert(run_until(f.loop, &r.stopped, 8000));
	ptree_mgr_scans(f.mgr, &full1, &delta1);
	ck_assert_uint_eq(full1, full0);
	ck_assert_uint_gt(delta1, delta0);
	ptree_free(t);
	fx_fini(&f);
}
END_TEST

/* With no fork anywhere since the scan before, a scan re-reads the members
 * only; the stop still ends with the tree gone. Other tests fork while this
 * one runs, so it tries until one stop had such a quiet moment. */
START_TEST(test_quick_scan_without_forks)
{
	struct fx f;
	fx_init(&f);
	const char *pause_argv[] = { f.shape, "pause", NULL };
	uint64_t deadline = loop_now_ms() + 15000;
	unsigned long q0 = ptree_mgr_quick_scans(f.mgr);
	while (ptree_mgr_quick_scans(f.mgr) == q0 && loop_now_ms() < deadline) {
		struct rec r = { 0 };
		struct gust_tree *t = spawn(&f, pause_argv, NULL, &r);
		pid_t pid = ptree_pid(t);
		ck_assert_int_eq(ptree_stop(t, SIGTERM, 5000), 0);
		ck_assert(run_until(f.loop, &r.stopped, 8000));
		ck_assert_msg(gone(pid), "pid %ld survives", (long)pid);
		ptree_free(t);
	}
	ck_assert_uint_gt(ptree_mgr_quick_scans(f.mgr), q0);
	fx_fini(&f);
}
END_TEST

START_TEST(test_sigterm_ignored_gets_sigkill_after_delay)
{
	struct fx f;
	fx_init(&f);
	const char *argv[] = { f.shape, "ignore-term", "setsid", "pause", NULL };
	struct rec r = { 0 };
	struct gust_tree *t = spawn(&f, argv, NULL, &r);
	pid_t pids[32];
	ck_assert_int_eq(wait_pids(&f, pids, 2), 2);
	uint64_t t0 = loop_now_ms();
	ck_assert_int_eq(ptree_stop(t, SIGTERM, 300), 0);
	ck_assert(run_until(f.loop, &r.stopped, 5000));
	ck_assert_uint_ge(r.stopped_at - t0, 300);
	ck_assert_uint_lt(r.stopped_at - t0, 2000);
	ck_assert(gone(pids[0]) && gone(pids[1]));
	ck_assert_int_eq(r.exited, 1);
	ck_assert(WIFSIGNALED(r.status) && WTERMSIG(r.status) == SIGKILL);
	ptree_free(t);
	fx_fini(&f);
}
END_TEST

START_TEST(test_slow_term_is_waited_for)
{
	struct fx f;
	fx_init(&f);
	char marker[400];
	snprintf(marker, sizeof marker, "%s/done", f.dir);
	/* the escaped grandchild is the slow one */
	const char *argv[] = { f.shape, "setsid", "slow-term", "400", marker, "pause", NULL };
	struct rec r = { .marker = marker };
	struct gust_tree *t = spawn(&f, argv, NULL, &r);
	pid_t pids[32];
	ck_assert_int_eq(wait_pids(&f, pids, 2), 2);
	uint64_t t0 = loop_now_ms();
	ck_assert_int_eq(ptree_stop(t, SIGTERM, 5000), 0);
	ck_assert(run_until(f.loop, &r.stopped, 8000));
	ck_assert_uint_ge(r.stopped_at - t0, 400);
	ck_assert_uint_lt(r.stopped_at - t0, 3000);
	ck_assert(r.marker_at_stop);
	ck_assert(gone(pids[1]));
	ptree_free(t);
	fx_fini(&f);
}
END_TEST

START_TEST(test_kill_escalates_a_stop)
{
	struct fx f;
	fx_init(&f);
	const char *argv[] = { f.shape, "ignore-term", "daemon", "pause", NULL };
	struct rec r = { 0 };
	struct gust_tree *t = spawn(&f, argv, NULL, &r);
	pid_t pids[32];
	ck_assert_int_eq(wait_pids(&f, pids, 3), 3);
	ck_assert_int_eq(ptree_stop(t, SIGTERM, 60000), 0);
	int dummy = 0;
	run_until(f.loop, &dummy, 100);
	ck_assert_int_eq(r.stopped, 0);
	uint64_t t0 = loop_now_ms();
	ck_assert_int_eq(ptree_kill(t), 0);
	ck_assert(run_until(f.loop, &r.stopped, 5000));
	ck_assert_uint_lt(r.stopped_at - t0, 2000);
	for (int i = 0; i < 3; i++)
		ck_assert(gone(pids[i]));
	ptree_free(t);
	fx_fini(&f);
}
END_TEST

START_TEST(test_free_kills_synchronously)
{
	struct fx f;
	fx_init(&f);
	const char *argv[] = { f.shape, "ignore-term", "thread-fork", "setsid", "pause", NULL };
	struct rec r = { 0 };
	struct gust_tree *t = spawn(&f, argv, NULL, &r);
	pid_t pids[32];
	ck_assert_int_eq(wait_pids(&f, pids, 3), 3);
	ptree_free(t);
	for (int i = 0; i < 3; i++)
		ck_assert_msg(gone(pids[i]), "pid %ld survives ptree_free", (long)pids[i]);
	ck_assert_int_eq(r.exited + r.stopped, 0); /* no callbacks after free */
	fx_fini(&f);
}
END_TEST

START_TEST(test_environment)
{
	struct fx f;
	fx_init(&f);
	char out[400], script[600];
	snprintf(out, sizeof out, "%s/env.out", f.dir);
	snprintf(script, sizeof script, "printf '%%s|%%s' \"$FOO\" \"${HOME-unset}\" >'%s'", out);
	const char *argv[] = { "sh", "-c", script, NULL };
	const char *env[] = { "FOO=1", "FOO=bar", "HOME", NULL };
	struct rec r = { 0 };
	struct gust_tree *t = spawn(&f, argv, env, &r);
	ck_assert(run_until(f.loop, &r.exited, 5000));
	ck_assert_int_eq(r.status, 0);
	char buf[256] = "";
	FILE *fp = fopen(out, "r");
	ck_assert_ptr_nonnull(fp);
	ck_assert_ptr_nonnull(fgets(buf, sizeof buf, fp));
	fclose(fp);
	ck_assert_str_eq(buf, "bar|unset");
	ptree_free(t);
	fx_fini(&f);
}
END_TEST

static unsigned long long status_mask(pid_t pid, const char *key)
{
	char p[64], line[256];
	snprintf(p, sizeof p, "/proc/%ld/status", (long)pid);
	FILE *fp = fopen(p, "r");
	unsigned long long v = ~0ull;
	while (fp && fgets(line, sizeof line, fp))
		if (strncmp(line, key, strlen(key)) == 0)
			v = strtoull(line + strlen(key) + 1, NULL, 16);
	if (fp)
		fclose(fp);
	return v;
}

START_TEST(test_child_gets_clean_signals_group_and_devnull)
{
	struct fx f;
	fx_init(&f);
	/* what a gust started in the background by a shell inherits */
	signal(SIGINT, SIG_IGN);
	signal(SIGQUIT, SIG_IGN);
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	sigprocmask(SIG_BLOCK, &set, NULL);
	const char *argv[] = { f.shape, "pause", NULL };
	struct rec r = { 0 };
	struct gust_tree *t = spawn(&f, argv, NULL, &r);
	pid_t pid = ptree_pid(t);
	pid_t pids[4];
	ck_assert_int_eq(wait_pids(&f, pids, 1), 1);
	ck_assert_int_eq(pids[0], pid);
	ck_assert_uint_eq(status_mask(pid, "SigIgn:"), 0);
	ck_assert_uint_eq(status_mask(pid, "SigBlk:"), 0);
	ck_assert_int_eq(getpgid(pid), pid);
	char p[64], target[256];
	snprintf(p, sizeof p, "/proc/%ld/fd/0", (long)pid);
	ssize_t n = readlink(p, target, sizeof target - 1);
	ck_assert_int_gt(n, 0);
	target[n] = '\0';
	ck_assert_str_eq(target, "/dev/null");
	/* the state file records gust, the reaper (the root's parent, a child
	 * of ours) and the root */
	FILE *fp = fopen(f.state, "r");
	ck_assert_ptr_nonnull(fp);
	long gpid, reaper, rpid;
	ck_assert_int_eq(fscanf(fp, "gust %ld %*u %*s r %ld %*u %ld", &gpid, &reaper, &rpid), 3);
	fclose(fp);
	ck_assert_int_eq(gpid, getpid());
	ck_assert_int_eq(reaper, ppid_of(pid));
	ck_assert_int_eq(ppid_of(reaper), getpid());
	ck_assert_int_eq(rpid, pid);
	ptree_free(t);
	ck_assert(gone(pid));
	fx_fini(&f);
}
END_TEST

static bool gone_or_zombie(pid_t pid)
{
	return gone(pid) || proc_state(pid) == 'Z';
}

/* The reaper recorded in a state file. */
/* The first pid of the state file on a reaper's line ("r PID START") or,
 * not reaper, a member's ("PID START") that is want, or any if want is 0;
 * or 0. */
static pid_t state_line(const char *state, bool reaper, pid_t want)
{
	FILE *fp = fopen(state, "r");
	char line[256];
	long pid = 0;
	while (fp && fgets(line, sizeof line, fp)) {
		const char *at = reaper ? line + 2 : line;
		bool kind = reaper ? !strncmp(line, "r ", 2) : line[0] >= '0' && line[0] <= '9';
		if (kind && sscanf(at, "%ld", &pid) == 1 && (!want || pid == (long)want))
			break;
		pid = 0;
	}
	if (fp)
		fclose(fp);
	return (pid_t)pid;
}

static pid_t state_reaper(const char *state)
{
	return state_line(state, true, 0);
}

/* A "gust" in a child process spawns a tree, records it, and is SIGKILLed.
 * Round 0: its reaper is stopped (SIGSTOP) first, so it cannot act on
 * gust's death: a new manager on the same state file removes exactly what
 * was left, the reaper's children before the reaper. Round 1: the reaper
 * removes the tree itself as soon as gust dies, before any new gust. */
START_TEST(test_recover_after_sigkill)
{
	struct fx f;
	fx_init(&f);
	ptree_mgr_free(f.mgr); /* the test process is not the old gust's reaper */
	f.mgr = NULL;
	int ready[2];
	ck_assert_int_eq(pipe(ready), 0);
	pid_t old = fork();
	ck_assert_int_ge(old, 0);
	if (old == 0) {
		close(ready[0]);
		loop_free(f.loop);
		struct loop *loop = loop_new();
		char err[256];
		struct ptree_mgr *mgr = ptree_mgr_new(loop, f.state, err, sizeof err);
		const char *argv[] = { f.shape, "setsid", "setsid", "pause", NULL };
		struct gust_spawn sp = { .size = sizeof sp,
			                 .argv = argv,
			                 .env = NULL,
			                 .cwd = NULL,
			                 .stdin_fd = -1,
			                 .stdout_fd = -1,
			                 .stderr_fd = -1,
			                 .flags = 0 };
		struct rec r = { 0 };
		if (!mgr || !ptree_spawn(mgr, &sp, &events, &r, err, sizeof err))
			_exit(1);
		/* wait for the 3 noted pids and a scan that records them */
		int dummy = 0;
		for (int i = 0; i < 1000; i++) {
			loop_once(loop, 10);
			FILE *fp = fopen(f.pids, "r");
			int lines = 0, c;
			while (fp && (c = fgetc(fp)) != EOF)
				lines += c == '\n';
			if (fp)
				fclose(fp);
			if (lines >= 3 && ptree_mgr_count(mgr) >= 3)
				break;
			if (lines >= 3)
				run_until(loop, &dummy, 100); /* until the periodic refresh */
		}
		(void)!write(ready[1], "x", 1);
		for (;;)
			pause();
	}
	close(ready[1]);
	char c;
	ck_assert_int_eq(read(ready[0], &c, 1), 1);
	close(ready[0]);
	pid_t pids[32];
	ck_assert_int_eq(wait_pids(&f, pids, 3), 3);

	/* an unrelated process of ours that must be left alone */
	pid_t bystander = fork();
	if (bystander == 0) {
		execl(f.shape, f.shape, "pause", (char *)NULL);
		_exit(127);
	}
	pid_t reaper = state_reaper(f.state);
	ck_assert_int_gt(reaper, 1);
	if (_i == 0)
		ck_assert_int_eq(kill(reaper, SIGSTOP), 0);
	kill(old, SIGKILL);
	waitpid(old, NULL, 0);
	if (_i == 1) {
		uint64_t deadline = loop_now_ms() + 5000;
		bool all = false;
		while (!all && loop_now_ms() < deadline) {
			all = gone_or_zombie(reaper);
			for (int i = 0; i < 3; i++)
				all &= gone_or_zombie(pids[i]);
			struct timespec nap = { 0, 5 * 1000000L };
			nanosleep(&nap, NULL);
		}
		ck_assert_msg(all, "the reaper did not remove its tree when gust died");
	}

	f.mgr = ptree_mgr_new(f.loop, f.state, f.err, sizeof f.err);
	ck_assert_ptr_nonnull(f.mgr);
	char msg[256];
	int n = ptree_mgr_recover(f.mgr, msg, sizeof msg);
	if (_i == 0) {
		ck_assert_msg(n >= 4, "recover returned %d: %s", n, msg); /* 3 and the reaper */
		ck_assert_msg(strstr(msg, "removed") != NULL, "%s", msg);
	} else {
		ck_assert_msg(n >= 0, "recover returned %d: %s", n, msg);
	}
	ck_assert_msg(gone_or_zombie(reaper), "the reaper survives recovery");
	for (int i = 0; i < 3; i++)
		ck_assert_msg(gone_or_zombie(pids[i]), "pid %ld survives recovery", (long)pids[i]);
	ck_assert_int_ne(access(f.state, F_OK), 0);
	ck_assert(!gone(bystander) && proc_state(bystander) != 'Z');
	kill(bystander, SIGKILL);
	waitpid(bystander, NULL, 0);
	/* nothing to do the second time */
	ck_assert_int_eq(ptree_mgr_recover(f.mgr, msg, sizeof msg), 0);
	fx_fini(&f);
}
END_TEST

START_TEST(test_recover_leaves_a_live_gust_alone)
{
	struct fx f;
	fx_init(&f);
	/* the "other gust" is our parent, alive; its recorded child is ours */
	pid_t victim = fork();
	if (victim == 0) {
		execl(f.shape, f.shape, "pause", (char *)NULL);
		_exit(127);
	}
	struct timespec ts = { 0, 50 * 1000000L };
	nanosleep(&ts, NULL);
	char buf[512];
	unsigned long long pstart = 0, vstart = 0;
	char p[64];
	snprintf(p, sizeof p, "/proc/%ld/stat", (long)getppid());
	FILE *fp = fopen(p, "r");
	ck_assert_ptr_nonnull(fp);
	ck_assert_ptr_nonnull(fgets(buf, sizeof buf, fp));
	fclose(fp);
	sscanf(strrchr(buf, ')') + 2,
	       "%*c %*d %*d %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %llu",
	       &pstart);
	snprintf(p, sizeof p, "/proc/%ld/stat", (long)victim);
	fp = fopen(p, "r");
	ck_assert_ptr_nonnull(fp);
	ck_assert_ptr_nonnull(fgets(buf, sizeof buf, fp));
	fclose(fp);
	sscanf(strrchr(buf, ')') + 2,
	       "%*c %*d %*d %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %llu",
	       &vstart);
	fp = fopen(f.state, "w");
	fprintf(fp, "gust %ld %llu %ld.%llu.00\n%ld %llu\n", (long)getppid(), pstart,
	        (long)getppid(), pstart, (long)victim, vstart);
	fclose(fp);
	char msg[256];
	ck_assert_int_eq(ptree_mgr_recover(f.mgr, msg, sizeof msg), -EEXIST);
	ck_assert_msg(strstr(msg, "another gust") != NULL, "%s", msg);
	ck_assert(!gone(victim) && proc_state(victim) != 'Z');

	/* a dead gust, but the recorded start time no longer matches: the pid
	 * was reused, so the process is not touched */
	fp = fopen(f.state, "w");
	fprintf(fp, "gust 999999999 1 999999999.1.00\n%ld %llu\n", (long)victim, vstart + 1);
	fclose(fp);
	ck_assert_int_eq(ptree_mgr_recover(f.mgr, msg, sizeof msg), 0);
	ck_assert(!gone(victim) && proc_state(victim) != 'Z');
	kill(victim, SIGKILL);
	waitpid(victim, NULL, 0);
	fx_fini(&f);
}
END_TEST

/* pid's start time (field 22 of /proc/PID/stat), 0 if unknown. */
static unsigned long long start_of(pid_t pid)
{
	char p[64], buf[1024];
	unsigned long long start = 0;
	snprintf(p, sizeof p, "/proc/%ld/stat", (long)pid);
	FILE *fp = fopen(p, "r");
	if (fp && fgets(buf, sizeof buf, fp) && strrchr(buf, ')'))
		sscanf(strrchr(buf, ')') + 2,
		       "%*c %*d %*d %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s "
		       "%*s %llu",
		       &start);
	if (fp)
		fclose(fp);
	return start;
}

/* A dead gust's state file naming a process that started before that gust
 * did: gust cannot have started it, so it is left alone (a stale file from
 * another boot, or one gust did not write, must not kill the user's
 * processes, and a record of init would make every process a leftover). */
START_TEST(test_recover_ignores_older_processes)
{
	struct fx f;
	fx_init(&f);
	pid_t victim = fork();
	if (victim == 0) {
		execl(f.shape, f.shape, "pause", (char *)NULL);
		_exit(127);
	}
	unsigned long long vstart = 0;
	for (int i = 0; i < 1000 && !(vstart = start_of(victim)); i++) {
		struct timespec ts = { 0, 1000000L };
		nanosleep(&ts, NULL);
	}
	ck_assert_uint_gt(vstart, 0);
	FILE *fp = fopen(f.state, "w");
	ck_assert_ptr_nonnull(fp);
	fprintf(fp, "gust 999999999 %llu 2\n%ld %llu\n", vstart + 1, (long)victim, vstart);
	fclose(fp);
	char msg[256];
	ck_assert_int_eq(ptree_mgr_recover(f.mgr, msg, sizeof msg), 0);
	ck_assert(!gone(victim) && proc_state(victim) != 'Z');
	kill(victim, SIGKILL);
	waitpid(victim, NULL, 0);
	fx_fini(&f);
}
END_TEST

START_TEST(test_two_trees_are_independent)
{
	struct fx f;
	fx_init(&f);
	/* two trees stopped together; the events of both arrive */
	const char *a1[] = { f.shape, "setsid", "pause", NULL };
	const char *a2[] = { f.shape, "grandchild", "pause", NULL };
	struct rec r1 = { 0 }, r2 = { 0 };
	struct gust_tree *t1 = spawn(&f, a1, NULL, &r1);
	struct gust_tree *t2 = spawn(&f, a2, NULL, &r2);
	pid_t pids[32];
	ck_assert_int_eq(wait_pids(&f, pids, 4), 4);
	ck_assert_uint_eq(ptree_mgr_count(f.mgr), 1 + 1); /* only roots known before a scan */
	ck_assert_int_eq(ptree_stop(t1, SIGTERM, 2000), 0);
	ck_assert_int_eq(ptree_stop(t1, SIGTERM, 2000), 0); /* again: nothing changes */
	ck_assert(run_until(f.loop, &r1.stopped, 5000));
	ck_assert(ptree_alive(t2)); /* the other tree was not touched */
	ck_assert_int_eq(r2.exited, 0);
	ptree_free(t1);
	ck_assert_int_eq(ptree_kill(t2), 0);
	ck_assert(run_until(f.loop, &r2.stopped, 5000));
	ptree_free(t2);
	for (int i = 0; i < 4; i++)
		ck_assert(gone(pids[i]));
	fx_fini(&f);
}
END_TEST

/* The runner's pattern: free the stopped tree and start the next one from
 * inside the stopped callback. */
struct chain {
	struct fx *f;
	struct gust_tree *next;
	struct rec r2;
	int stopped;
	const char *const *argv;
};

static void chain_stopped(struct gust_tree *t, void *arg)
{
	struct chain *c = arg;
	ptree_free(t);
	c->next = spawn(c->f, c->argv, NULL, &c->r2);
	c->stopped++;
}

static const struct gust_tree_events chain_events = { sizeof(struct gust_tree_events), NULL,
	                                              chain_stopped };

START_TEST(test_free_and_spawn_from_stopped)
{
	struct fx f;
	fx_init(&f);
	const char *argv[] = { f.shape, "setsid", "pause", NULL };
	struct chain c = { .f = &f, .argv = argv };
	struct gust_spawn sp = { .size = sizeof sp,
		                 .argv = argv,
		                 .env = NULL,
		                 .cwd = NULL,
		                 .stdin_fd = -1,
		                 .stdout_fd = -1,
		                 .stderr_fd = -1,
		                 .flags = 0 };
	struct gust_tree *t = ptree_spawn(f.mgr, &sp, &chain_events, &c, f.err, sizeof f.err);
	ck_assert_ptr_nonnull(t);
	pid_t pids[32];
	ck_assert_int_eq(wait_pids(&f, pids, 2), 2);
	ck_assert_int_eq(ptree_stop(t, SIGTERM, 2000), 0);
	ck_assert(run_until(f.loop, &c.stopped, 5000));
	ck_assert(gone(pids[0]) && gone(pids[1]));
	ck_assert_int_eq(wait_pids(&f, pids, 4), 4);
	ck_assert(ptree_alive(c.next));
	ck_assert_int_eq(ptree_stop(c.next, SIGTERM, 2000), 0);
	ck_assert(run_until(f.loop, &c.r2.stopped, 5000));
	ck_assert(gone(pids[2]) && gone(pids[3]));
	ptree_free(c.next);
	fx_fini(&f);
}
END_TEST

/* GUST_SPAWN_FOREGROUND on a real pseudo-terminal: the program's group
 * gets the terminal, gust gets it back once the tree is gone. */
START_TEST(test_foreground_tty)
{
	int m = posix_openpt(O_RDWR | O_NOCTTY);
	ck_assert_int_ge(m, 0);
	ck_assert_int_eq(grantpt(m), 0);
	ck_assert_int_eq(unlockpt(m), 0);
	char *sname = ptsname(m);
	ck_assert_ptr_nonnull(sname);
	pid_t pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		/* a session with the pty as controlling terminal, like a shell's */
		if (setsid() < 0)
			_exit(10);
		int s = open(sname, O_RDWR);
		if (s < 0 || tcgetpgrp(s) != getpgrp())
			_exit(11);
		struct fx f;
		fx_init(&f);
		const char *argv[] = { f.shape, "pause", NULL };
		struct rec r = { 0 };
		struct gust_spawn sp = { .size = sizeof sp,
			                 .argv = argv,
			                 .env = NULL,
			                 .cwd = NULL,
			                 .stdin_fd = -1,
			                 .stdout_fd = -1,
			                 .stderr_fd = -1,
			                 .flags = GUST_SPAWN_FOREGROUND };
		struct gust_tree *t = ptree_spawn(f.mgr, &sp, &events, &r, f.err, sizeof f.err);
		if (!t)
			_exit(12);
		if (tcgetpgrp(s) != ptree_pid(t))
			_exit(13);
		ptree_stop(t, SIGTERM, 2000);
		if (!run_until(f.loop, &r.stopped, 5000))
			_exit(14);
		if (tcgetpgrp(s) != getpgrp())
			_exit(15);
		ptree_free(t);
		fx_fini(&f);
		_exit(0);
	}
	int st;
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0, "status %d",
	              WIFEXITED(st) ? WEXITSTATUS(st) : -1);
	close(m);
}
END_TEST

/* ---- containment: cgroup and pid namespace ---- */

static struct gust_tree *spawn_flags(struct fx *f, const char *const *argv, unsigned flags,
                                     struct rec *r)
{
	struct gust_spawn sp = { .size = sizeof sp,
		                 .argv = argv,
		                 .env = NULL,
		                 .cwd = NULL,
		                 .stdin_fd = -1,
		                 .stdout_fd = -1,
		                 .stderr_fd = -1,
		                 .flags = flags };
	return ptree_spawn(f->mgr, &sp, &events, r, f->err, sizeof f->err);
}

/* The cgroup v2 directory pid is in, or "" when none. */
static void cgroup_of(pid_t pid, char *out, size_t len)
{
	char mnt[100] = "", line[2048], path[64];
	out[0] = '\0';
	FILE *fp = fopen("/proc/self/mountinfo", "r");
	while (fp && !mnt[0] && fgets(line, sizeof line, fp))
		if (strstr(line, " - cgroup2 "))
			sscanf(line, "%*s %*s %*s %*s %99s", mnt);
	if (fp)
		fclose(fp);
	snprintf(path, sizeof path, "/proc/%ld/cgroup", (long)pid);
	fp = fopen(path, "r");
	while (fp && mnt[0] && fgets(line, sizeof line, fp))
		if (!strncmp(line, "0::", 3)) {
			line[strcspn(line, "\n")] = '\0';
			snprintf(out, len, "%s%.900s", mnt, line + 3);
		}
	if (fp)
		fclose(fp);
}


static bool cgroup_writable(void)
{
	char cg[1024];
	cgroup_of(getpid(), cg, sizeof cg);
	return cg[0] && access(cg, W_OK) == 0;
}

/* A process that clears its environment (exec with env -i), leaves the
 * group and double-forks so its parent is dead before any scan: invisible
 * to the pid/tag/group mechanism, yet inside the cgroup. */
START_TEST(test_cgroup_catches_what_escapes_the_scan)
{
	if (!cgroup_writable()) {
		printf("skip: no writable cgroup v2 here\n");
		return;
	}
	struct fx f;
	fx_init(&f);
	const char *argv[] = { f.shape, "clearenv", "daemon", "pause", NULL };
	struct rec r = { 0 };
	struct gust_tree *t = spawn_flags(&f, argv, GUST_SPAWN_CGROUP, &r);
	ck_assert_msg(t != NULL, "spawn failed: %s", f.err);
	pid_t pids[32];
	ck_assert_int_eq(wait_pids(&f, pids, 3), 3);
	pid_t gc = pids[2];
	/* the tree's cgroup is "gust-<our pid>-<n>" below our own; the root
	 * may already be gone, so the name is checked, not the root's */
	char cg[1024], mine[1024], want[1100];
	cgroup_of(gc, cg, sizeof cg);
	cgroup_of(getpid(), mine, sizeof mine);
	if (mine[0] && mine[strlen(mine) - 1] == '/')
		mine[strlen(mine) - 1] = '\0'; /* the root cgroup, "0::/" */
	snprintf(want, sizeof want, "%s/gust-%ld-", mine, (long)getpid());
	ck_assert_msg(strncmp(cg, want, strlen(want)) == 0, "grandchild in cgroup \"%s\", not %s*",
	              cg, want);
	ck_assert_msg(strchr(cg + strlen(want), '/') == NULL, "grandchild in a sub-cgroup \"%s\"",
	              cg);
	pid_t reaper = our_reaper();
	ck_assert_int_gt(reaper, 1);
	ck_assert(run_until(f.loop, &r.exited, 5000)); /* the root returns */
	uint64_t deadline = loop_now_ms() + 5000;
	while (ppid_of(gc) != reaper && loop_now_ms() < deadline)
		loop_once(f.loop, 10);
	ck_assert_int_eq(ppid_of(gc), reaper); /* orphaned, re-parented to the reaper */
	ck_assert_int_eq(ptree_stop(t, SIGTERM, 5000), 0);
	ck_assert(run_until(f.loop, &r.stopped, 8000));
	for (int i = 0; i < 3; i++)
		ck_assert_msg(gone(pids[i]), "pid %ld survives (state %c)", (long)pids[i],
		              proc_state(pids[i]));
	ck_assert_msg(access(cg, F_OK) != 0, "cgroup \"%s\" is left", cg);
	ptree_free(t);
	fx_fini(&f);
}
END_TEST

/* SIGKILL escalation goes through the cgroup too; ptree_free removes it. */
START_TEST(test_cgroup_kill_and_free)
{
	if (!cgroup_writable()) {
		printf("skip: no writable cgroup v2 here\n");
		return;
	}
	struct fx f;
	fx_init(&f);
	const char *argv[] = { f.shape, "clearenv", "setsid", "ignore-term", "pause", NULL };
	struct rec r = { 0 };
	struct gust_tree *t = spawn_flags(&f, argv, GUST_SPAWN_CGROUP, &r);
	ck_assert_msg(t != NULL, "spawn failed: %s", f.err);
	pid_t pids[32];
	ck_assert_int_eq(wait_pids(&f, pids, 2), 2);
	char cg[1024];
	cgroup_of(pids[1], cg, sizeof cg);
	ck_assert_msg(strstr(cg, "/gust-") != NULL, "child in cgroup \"%s\"", cg);
	ptree_free(t); /* synchronous kill */
	for (int i = 0; i < 2; i++)
		ck_assert_msg(gone(pids[i]), "pid %ld survives (state %c)", (long)pids[i],
		              proc_state(pids[i]));
	ck_assert_msg(access(cg, F_OK) != 0, "cgroup \"%s\" is left", cg);
	fx_fini(&f);
}
END_TEST

/* GUST_CGROUP (documented) names where cgroups are made; a directory that
 * is not cgroup v2 makes "cgroup" fail with one line, and the best-effort
 * flag fall back to none. */
START_TEST(test_cgroup_unavailable)
{
	struct fx f;
	fx_init(&f);
	setenv("GUST_CGROUP", f.dir, 1);
	const char *argv[] = { f.shape, "exit", "0", NULL };
	struct rec r = { 0 };
	struct gust_tree *t = spawn_flags(&f, argv, GUST_SPAWN_CGROUP, &r);
	ck_assert_ptr_null(t);
	ck_assert_msg(strstr(f.err, "is not a cgroup v2 directory") && strstr(f.err, f.dir) &&
	                  !strchr(f.err, '\n'),
	              "error: %s", f.err);
	char missing[400];
	snprintf(missing, sizeof missing, "%s/nonexistent", f.dir);
	setenv("GUST_CGROUP", missing, 1);
	t = spawn_flags(&f, argv, GUST_SPAWN_CGROUP, &r);
	ck_assert_ptr_null(t);
	ck_assert_msg(strstr(f.err, missing) && strstr(f.err, "GUST_CGROUP"), "error: %s", f.err);
	t = spawn_flags(&f, argv, GUST_SPAWN_CGROUP | GUST_SPAWN_CONTAIN_TRY, &r);
	ck_assert_msg(t != NULL, "best effort fails: %s", f.err);
	ck_assert(run_until(f.loop, &r.exited, 5000));
	ck_assert(WIFEXITED(r.status) && WEXITSTATUS(r.status) == 0);
	unsetenv("GUST_CGROUP");
	ptree_free(t);
	fx_fini(&f);
}
END_TEST

static bool pidns_allowed(void)
{
	return system("unshare -Upr --fork true >/dev/null 2>&1") == 0;
}

/* The PID-namespace cases' set-up: f made and true, or false (and a line
 * saying so) where this machine allows no PID namespace. */
static bool pidns_fx_init(struct fx *f)
{
	if (!pidns_allowed()) {
		printf("skip: no pid namespaces here\n");
		return false;
	}
	fx_init(f);
	return true;
}

/* argv spawned in a PID namespace of its own, reporting to r; a failed
 * spawn fails the test. */
static struct gust_tree *pidns_spawn(struct fx *f, const char *const *argv, struct rec *r)
{
	struct gust_tree *t = spawn_flags(f, argv, GUST_SPAWN_PIDNS, r);
	ck_assert_msg(t != NULL, "spawn failed: %s", f->err);
	return t;
}

static bool ns_of(pid_t pid, char *out, size_t len)
{
	char p[64];
	snprintf(p, sizeof p, "/proc/%ld/ns/pid", (long)pid);
	ssize_t n = readlink(p, out, len - 1);
	if (n < 0)
		return false;
	out[n] = '\0';
	return true;
}

/* Processes in the pid namespace ns (SIGKILLed: a failing test leaves
 * nothing), or 0. */
static int ns_members(const char *ns)
{
	int n = 0;
	DIR *d = opendir("/proc");
	struct dirent *de;
	while (d && (de = readdir(d))) {
		char link[128];
		long pid = atol(de->d_name);
		if (pid <= 0 || pid == (long)getpid() || !ns_of((pid_t)pid, link, sizeof link))
			continue;
		if (!strcmp(link, ns) && proc_state((pid_t)pid) != 'Z') {
			kill((pid_t)pid, SIGKILL);
			n++;
		}
	}
	if (d)
		closedir(d);
	return n;
}

/* The program exits at once, its escaped daemon does not outlive it: the
 * namespace dies with its init. */
START_TEST(test_pidns_daemon_dies_with_the_program)
{
	struct fx f;
	if (!pidns_fx_init(&f))
		return;
	const char *argv[] = { f.shape, "clearenv", "daemon", "pause", NULL };
	struct rec r = { 0 };
	struct gust_tree *t = pidns_spawn(&f, argv, &r);
	char ns[128], mine[128];
	ck_assert(ns_of(ptree_pid(t), ns, sizeof ns));
	ck_assert(ns_of(getpid(), mine, sizeof mine));
	ck_assert_str_ne(ns, mine);
	ck_assert(run_until(f.loop, &r.exited, 5000));
	ck_assert_msg(WIFEXITED(r.status) && WEXITSTATUS(r.status) == 0, "status %#x", r.status);
	ck_assert_int_eq(ptree_stop(t, SIGTERM, 5000), 0);
	ck_assert(run_until(f.loop, &r.stopped, 8000));
	ck_assert_int_eq(ns_members(ns), 0);
	ptree_free(t);
	fx_fini(&f);
}
END_TEST

/* A running program without a SIGTERM handler, with an escaped child:
 * SIGTERM ends both at once (the program is pid 2, not pid 1), and
 * nothing of the namespace is left. */
START_TEST(test_pidns_stop_is_graceful)
{
	struct fx f;
	if (!pidns_fx_init(&f))
		return;
	const char *argv[] = { f.shape, "setsid", "clearenv", "pause", NULL };
	struct rec r = { 0 };
	struct gust_tree *t = pidns_spawn(&f, argv, &r);
	char ns[128];
	ck_assert(ns_of(ptree_pid(t), ns, sizeof ns));
	pid_t pids[32];
	ck_assert_int_eq(wait_pids(&f, pids, 2), 2);
	ck_assert_int_eq(pids[0], 2); /* as seen inside: the program is pid 2 */
	uint64_t t0 = loop_now_ms();
	ck_assert_int_eq(ptree_stop(t, SIGTERM, 10000), 0);
	ck_assert(run_until(f.loop, &r.stopped, 15000));
	ck_assert_uint_lt(r.stopped_at - t0, 5000); /* no SIGKILL needed */
	ck_assert_int_eq(ns_members(ns), 0);
	ptree_free(t);
	fx_fini(&f);
}
END_TEST

/* No scan of any kind for 3 s (past REFRESH_MS, when a refresh would
 * have scanned); then t, still alive, stops and is freed with f. */
static void no_scan_then_stop(struct fx *f, struct gust_tree *t, struct rec *r)
{
	unsigned long full0, delta0, full1, delta1;
	ptree_mgr_scans(f->mgr, &full0, &delta0);
	unsigned long q0 = ptree_mgr_quick_scans(f->mgr);
	uint64_t until = loop_now_ms() + 3000;
	while (loop_now_ms() < until)
		loop_once(f->loop, (int)(until - loop_now_ms()));
	ptree_mgr_scans(f->mgr, &full1, &delta1);
	ck_assert_uint_eq(full1, full0);
	ck_assert_uint_eq(delta1, delta0);
	ck_assert_uint_eq(ptree_mgr_quick_scans(f->mgr), q0);
	ck_assert(ptree_alive(t));
	ck_assert_int_eq(ptree_stop(t, SIGTERM, 10000), 0);
	ck_assert(run_until(f->loop, &r->stopped, 15000));
	ptree_free(t);
	fx_fini(f);
}

/* Run the loop until the manager has no timer armed: the refresh after
 * the spawn (2 s, then 4 s later) found nothing new and ended. */
static void wait_settled(struct fx *f)
{
	uint64_t deadline = loop_now_ms() + 12000;
	while (!ptree_mgr_idle(f->mgr) && loop_now_ms() < deadline)
		ck_assert_int_eq(loop_once(f->loop, 50), 0);
	ck_assert_msg(ptree_mgr_idle(f->mgr), "the refresh still runs after 12 s");
}

/* A running tree in containment "reaper" is refreshed after a change
 * only (the state file's members, for recovery), and once it has settled
 * nothing wakes gust for it. Bug: the refresh ran every 2 s, backing off
 * to 16 s, for as long as the tree ran. */
START_TEST(test_reaper_run_settles)
{
	struct fx f;
	fx_init(&f);
	const char *argv[] = { f.shape, "pause", NULL };
	struct rec r = { 0 };
	struct gust_tree *t = spawn(&f, argv, NULL, &r);
	pid_t pids[32];
	ck_assert_int_eq(wait_pids(&f, pids, 1), 1);
	/* 2 s after the spawn, then 4 s later, finding nothing new each time */
	wait_settled(&f);
	no_scan_then_stop(&f, t, &r);
}
END_TEST

/* Is pid a member's line of the state file? */
static bool state_records(const char *state, pid_t pid)
{
	return state_line(state, false, pid) == pid;
}

/* A member's exit re-parents its children to the reaper without a word
 * to gust; the pidfd gust holds on the member wakes it, and the scan
 * records them in the state file, for the recovery after gust and the
 * reaper are both SIGKILLed. Here a settled tree's member (Q) starts a
 * double-forked daemon (R, then D) and exits: D, created after the last
 * scan, is recorded at once. Bug: with the refresh over, D was recorded
 * only at the next change, or never. */
START_TEST(test_member_exit_is_recorded)
{
	struct fx f;
	fx_init(&f);
	char flag[320];
	snprintf(flag, sizeof flag, "%s/go", f.dir);
	/* P (pause, never reaps) and its child Q, which awaits the flag */
	const char *argv[] = {
		"/bin/sh", "-c", "\"$0\" await \"$1\" daemon pause & exec \"$0\" pause",
		f.shape,   flag, NULL
	};
	struct rec r = { 0 };
	struct gust_tree *t = spawn(&f, argv, NULL, &r);
	pid_t pids[32];
	ck_assert_int_eq(wait_pids(&f, pids, 2), 2);
	wait_settled(&f);
	uint64_t deadline;
	FILE *fp = fopen(flag, "w");
	ck_assert_ptr_nonnull(fp);
	fclose(fp);
	ck_assert_int_eq(wait_pids(&f, pids, 4), 4);
	pid_t d = pids[3];
	deadline = loop_now_ms() + 1500; /* under REFRESH_MS */
	while (!state_records(f.state, d) && loop_now_ms() < deadline)
		ck_assert_int_eq(loop_once(f.loop, 20), 0);
	ck_assert_msg(state_records(f.state, d), "the daemon (pid %ld) is not recorded", (long)d);
	ck_assert_int_eq(ptree_stop(t, SIGTERM, 10000), 0);
	ck_assert(run_until(f.loop, &r.stopped, 15000));
	ck_assert(gone_or_zombie(d));
	ptree_free(t);
	fx_fini(&f);
}
END_TEST

/* A running tree in a PID namespace wakes gust for nothing: recovery does
 * not need its members recorded (the namespace dies with its init, and the
 * init with gust), so no membership refresh runs while it is up. Bug: the
 * refresh woke gust every 2 s (backing off to 16 s) with any tree up. */
START_TEST(test_pidns_run_needs_no_refresh)
{
	struct fx f;
	if (!pidns_fx_init(&f))
		return;
	const char *argv[] = { f.shape, "setsid", "pause", NULL };
	struct rec r = { 0 };
	struct gust_tree *t = pidns_spawn(&f, argv, &r);
	pid_t pids[32];
	ck_assert_int_eq(wait_pids(&f, pids, 2), 2);
	no_scan_then_stop(&f, t, &r);
}
END_TEST

/* Exit status and exec failures come back as without a namespace. */
START_TEST(test_pidns_status_and_exec_failure)
{
	struct fx f;
	if (!pidns_fx_init(&f))
		return;
	const char *argv[] = { f.shape, "exit", "7", NULL };
	struct rec r = { 0 };
	struct gust_tree *t = pidns_spawn(&f, argv, &r);
	ck_assert(run_until(f.loop, &r.exited, 5000));
	ck_assert_msg(WIFEXITED(r.status) && WEXITSTATUS(r.status) == 7, "status %#x", r.status);
	ptree_free(t);
	const char *bad[] = { "/nonexistent/gust-prog", NULL };
	t = spawn_flags(&f, bad, GUST_SPAWN_PIDNS, &r);
	ck_assert_ptr_null(t);
	ck_assert_msg(strstr(f.err, "cannot execute \"/nonexistent/gust-prog\": No such file"),
	              "error: %s", f.err);
	fx_fini(&f);
}
END_TEST

/* One line from 127.0.0.1:port (5 s at most), or "". */
static void answer_of(int port, char *out, size_t len)
{
	int c = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct timeval tv = { 5, 0 };
	setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
	struct sockaddr_in a = { .sin_family = AF_INET,
		                 .sin_port = htons((uint16_t)port),
		                 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	ssize_t n = connect(c, (struct sockaddr *)&a, sizeof a) == 0 ? read(c, out, len - 1) : -1;
	out[n > 0 ? n : 0] = '\0';
	out[strcspn(out, "\n")] = '\0';
	close(c);
}

/* Socket activation: the passed fd is the program's fd 3, LISTEN_PID is
 * the program's own pid, and nothing else of gust's crosses the exec, not
 * even an fd gust inherited without close-on-exec. */
START_TEST(test_passed_fds_and_listen_pid)
{
	struct fx f;
	fx_init(&f);
	int lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t alen = sizeof a;
	ck_assert_int_eq(bind(lfd, (struct sockaddr *)&a, sizeof a), 0);
	ck_assert_int_eq(listen(lfd, 8), 0);
	ck_assert_int_eq(getsockname(lfd, (struct sockaddr *)&a, &alen), 0);
	int leak = open("/dev/null", O_RDONLY); /* no O_CLOEXEC, on purpose */
	ck_assert_int_ge(leak, 0);
	const char *argv[] = { f.shape, "serve-passed", "hi", NULL };
	const char *env[] = { "LISTEN_FDS=1", "LISTEN_FDNAMES=web", "LISTEN_PID=1", NULL };
	int fds[] = { lfd };
	struct gust_spawn sp = { .size = sizeof sp,
		                 .argv = argv,
		                 .env = env,
		                 .stdin_fd = -1,
		                 .stdout_fd = -1,
		                 .stderr_fd = -1,
		                 .flags = GUST_SPAWN_LISTEN_PID,
		                 .fds = fds,
		                 .nfds = 1 };
	struct rec r = { 0 };
	struct gust_tree *t = ptree_spawn(f.mgr, &sp, &events, &r, f.err, sizeof f.err);
	ck_assert_msg(t != NULL, "spawn failed: %s", f.err);
	char got[256], want[256];
	answer_of(ntohs(a.sin_port), got, sizeof got);
	snprintf(want, sizeof want, "hi pid=%ld fds=0,1,2,3 names=web", (long)ptree_pid(t));
	ck_assert_str_eq(got, want);
	ck_assert_int_eq(ptree_stop(t, SIGTERM, 2000), 0);
	ck_assert(run_until(f.loop, &r.stopped, 5000));
	ptree_free(t);
	close(leak);
	close(lfd);
	fx_fini(&f);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("ptree");
	TCase *tc = tcase_create("ptree");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_exit_status_then_stop);
	tcase_add_test(tc, test_passed_fds_and_listen_pid);
	tcase_add_test(tc, test_exec_failures_are_reported);
	tcase_add_test(tc, test_etxtbsy_is_retried);
	tcase_add_loop_test(tc, test_shapes_leave_nothing, 0,
	                    (int)(sizeof shapes / sizeof *shapes));
	tcase_add_test(tc, test_members_are_the_processes_now);
	tcase_add_test(tc, test_incremental_scan_finds_late_escapes);
	tcase_add_test(tc, test_incremental_scan_of_nothing);
	tcase_add_test(tc, test_orphan_met_mid_exec_is_stopped);
	tcase_add_test(tc, test_stripped_orphans_are_stopped);
	tcase_add_test(tc, test_killed_reaper_leaves_nothing);
	tcase_add_test(tc, test_quick_scan_without_forks);
	tcase_add_test(tc, test_sigterm_ignored_gets_sigkill_after_delay);
	tcase_add_test(tc, test_slow_term_is_waited_for);
	tcase_add_test(tc, test_kill_escalates_a_stop);
	tcase_add_test(tc, test_free_kills_synchronously);
	tcase_add_test(tc, test_environment);
	tcase_add_test(tc, test_child_gets_clean_signals_group_and_devnull);
	tcase_add_loop_test(tc, test_recover_after_sigkill, 0, 2);
	tcase_add_test(tc, test_recover_leaves_a_live_gust_alone);
	tcase_add_test(tc, test_reaper_run_settles);
	tcase_add_test(tc, test_member_exit_is_recorded);
	tcase_add_test(tc, test_recover_ignores_older_processes);
	tcase_add_test(tc, test_two_trees_are_independent);
	tcase_add_test(tc, test_free_and_spawn_from_stopped);
	tcase_add_test(tc, test_foreground_tty);
	suite_add_tcase(s, tc);
	TCase *tcc = tcase_create("containment");
	tcase_set_timeout(tcc, 60);
	tcase_add_test(tcc, test_cgroup_catches_what_escapes_the_scan);
	tcase_add_test(tcc, test_cgroup_kill_and_free);
	tcase_add_test(tcc, test_cgroup_unavailable);
	tcase_add_test(tcc, test_pidns_daemon_dies_with_the_program);
	tcase_add_test(tcc, test_pidns_stop_is_graceful);
	tcase_add_test(tcc, test_pidns_run_needs_no_refresh);
	tcase_add_test(tcc, test_pidns_status_and_exec_failure);
	suite_add_tcase(s, tcc);
	return s;
}

/* Whatever a failed test left running carries the mark: kill it, and count
 * it as a failure of its own. */
static int kill_marked(const char *mark)
{
	int n = 0;
	for (int round = 0; round < 50; round++) {
		DIR *d = opendir("/proc");
		struct dirent *de;
		int found = 0;
		while (d && (de = readdir(d))) {
			const char *name = de->d_name;
			char path[300], buf[65536];
			if (name[0] < '1' || name[0] > '9' || atol(name) == (long)getpid())
				continue;
			snprintf(path, sizeof path, "/proc/%s/environ", name);
			FILE *e = fopen(path, "r");
			size_t len = e ? fread(buf, 1, sizeof buf - 1, e) : 0;
			if (e)
				fclose(e);
			buf[len] = '\0';
			for (size_t i = 0; i < len; i += strlen(buf + i) + 1) {
				if (strcmp(buf + i, mark) == 0) {
					char st[512] = "";
					snprintf(path, sizeof path, "/proc/%s/stat", name);
					if ((e = fopen(path, "r"))) {
						if (!fgets(st, sizeof st, e))
							st[0] = '\0';
						fclose(e);
					}
					printf("leftover: %s", st);
					kill((pid_t)atol(name), SIGKILL);
					found++;
					break;
				}
			}
		}
		if (d)
			closedir(d);
		if (!found)
			break;
		n += round == 0 ? found : 0;
		struct timespec ts = { 0, 20 * 1000000L };
		nanosleep(&ts, NULL);
	}
	return n;
}

int main(void)
{
	const char *tmp = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
	char base[256], mark[64], cmd[300];
	snprintf(base, sizeof base, "%s/gust-tree.XXXXXX", tmp);
	if (!mkdtemp(base))
		return 99;
	setenv("TEST_TREE_DIR", base, 1);
	snprintf(mark, sizeof mark, "TEST_TREE_MARK=%ld", (long)getpid());
	setenv("TEST_TREE_MARK", mark + strlen("TEST_TREE_MARK="), 1);
	SRunner *sr = srunner_create(suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	int left = kill_marked(mark);
	if (left)
		printf("leftover processes killed after the tests: %d\n", left);
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", base);
	if (system(cmd) != 0)
		failed++;
	return failed || left ? EXIT_FAILURE : EXIT_SUCCESS;
}
