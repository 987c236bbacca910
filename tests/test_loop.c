/* The event loop: timers, fds, child exits, signals. Real pipes, real
 * children, real signals. */
#include "config.h"

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#ifdef HAVE_SYS_INOTIFY_H
#include <sys/inotify.h>
#endif
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "unit.h"

#include "loop.h"

struct rec {
	int order[8];
	int n;
	struct loop *loop;
};

static void rec_timer(void *arg)
{
	struct rec *r = arg;
	(void)r;
}

static struct rec *g_rec; /* each Check test runs in its own fork */
static void t1(void *arg)
{
	g_rec->order[g_rec->n++] = (int)(intptr_t)arg;
}

static int run_until(struct loop *loop, int *flag, unsigned ms)
{
	uint64_t deadline = loop_now_ms() + ms;
	while (!*flag && loop_now_ms() < deadline)
		ck_assert_int_eq(loop_once(loop, 50), 0);
	return *flag;
}

START_TEST(test_timers_fire_in_order_and_cancel)
{
	struct loop *loop = loop_new();
	struct rec r = { .n = 0 };
	g_rec = &r;
	ck_assert_ptr_nonnull(loop);
	loop_timer_add(loop, 30, t1, (void *)(intptr_t)3);
	loop_timer_add(loop, 10, t1, (void *)(intptr_t)1);
	uint64_t c = loop_timer_add(loop, 15, t1, (void *)(intptr_t)99);
	loop_timer_add(loop, 20, t1, (void *)(intptr_t)2);
	ck_assert_uint_ne(c, 0);
	loop_timer_cancel(loop, c);
	loop_timer_cancel(loop, 123456); /* unknown: ignored */
	uint64_t start = loop_now_ms();
	while (r.n < 3 && loop_now_ms() - start < 2000)
		loop_once(loop, -1);
	ck_assert_int_eq(r.n, 3);
	ck_assert_int_eq(r.order[0], 1);
	ck_assert_int_eq(r.order[1], 2);
	ck_assert_int_eq(r.order[2], 3);
	ck_assert_uint_ge(loop_now_ms() - start, 30);
	(void)rec_timer;
	loop_free(loop);
}
END_TEST

static int io_hits;
static void on_read(int fd, unsigned ev, void *arg)
{
	struct loop *loop = arg;
	char buf[16];
	ck_assert(ev & GUST_IO_READ);
	ck_assert_int_eq(read(fd, buf, sizeof buf), 1);
	io_hits++;
	/* removing itself from its own callback is allowed */
	ck_assert_int_eq(loop_io_del(loop, fd), 0);
}

START_TEST(test_io_and_del_in_callback)
{
	struct loop *loop = loop_new();
	int p[2];
	ck_assert_int_eq(pipe(p), 0);
	io_hits = 0;
	ck_assert_int_eq(loop_io_add(loop, p[0], GUST_IO_READ, on_read, loop), 0);
	ck_assert_int_eq(loop_io_add(loop, p[0], GUST_IO_READ, on_read, loop), -EEXIST);
	ck_assert_int_eq(write(p[1], "a", 1), 1);
	for (int i = 0; i < 5 && io_hits == 0; i++)
		loop_once(loop, 100);
	ck_assert_int_eq(io_hits, 1);
	/* after io_del, more data calls nothing */
	ck_assert_int_eq(write(p[1], "b", 1), 1);
	for (int i = 0; i < 3; i++)
		loop_once(loop, 10);
	ck_assert_int_eq(io_hits, 1);
	ck_assert_int_eq(loop_io_del(loop, p[0]), -ENOENT);
	close(p[0]);
	close(p[1]);
	loop_free(loop);
}
END_TEST

/* what each paced read got */
static char paced_got[4][8];
static int paced_reads;
static void on_paced(int fd, unsigned ev, void *arg)
{
	(void)arg;
	ck_assert(ev & GUST_IO_READ);
	ck_assert_int_lt(paced_reads, 4);
	ssize_t n = read(fd, paced_got[paced_reads], sizeof paced_got[0] - 1);
	ck_assert_int_gt(n, 0);
	paced_got[paced_reads++][n] = '\0';
}

/* A paced fd is read at most once per pace: what comes during the rest is
 * read in one batch when it ends. Without a pace (0), at once. */
START_TEST(test_paced_io_reads_in_batches)
{
	struct loop *loop = loop_new();
	int p[2];
	ck_assert_int_eq(pipe(p), 0);
	paced_reads = 0;
	ck_assert_int_eq(loop_io_pace(loop, p[0]), -ENOENT);
	ck_assert_int_eq(loop_io_add(loop, p[0], GUST_IO_READ, on_paced, NULL), 0);
	ck_assert_int_eq(loop_io_pace(loop, p[0]), 0);
	loop_set_pace(loop, 1000);
	ck_assert_int_eq(write(p[1], "a", 1), 1);
	ck_assert(run_until(loop, &paced_reads, 5000));
	ck_assert_str_eq(paced_got[0], "a");
	/* resting: "b" waits, then "c" joins it */
	ck_assert_int_eq(write(p[1], "b", 1), 1);
	for (int i = 0; i < 3; i++)
		ck_assert_int_eq(loop_once(loop, 10), 0);
	ck_assert_int_eq(write(p[1], "c", 1), 1);
	uint64_t deadline = loop_now_ms() + 5000;
	while (paced_reads < 2 && loop_now_ms() < deadline)
		ck_assert_int_eq(loop_once(loop, -1), 0);
	ck_assert_int_eq(paced_reads, 2);
	ck_assert_str_eq(paced_got[1], "bc");
	/* pace 0: read as soon as it comes */
	loop_set_pace(loop, 0);
	ck_assert_int_eq(write(p[1], "d", 1), 1);
	ck_assert_int_eq(loop_once(loop, 5000), 0);
	ck_assert_int_eq(paced_reads, 3);
	ck_assert_str_eq(paced_got[2], "d");
	close(p[0]);
	close(p[1]);
	loop_free(loop);
}
END_TEST

/* how many paced reads there were when the timer ran */
static int reads_at_timer = -1, reads_at_kick = -1;
static void on_timer_reads(void *arg)
{
	(void)arg;
	reads_at_timer = paced_reads;
}
static void on_kick_reads(void *arg)
{
	(void)arg;
	reads_at_kick = paced_reads;
}

/* A timer that comes due while a paced fd rests runs after what the fd
 * holds was read: the debounce's window timer must not close the window on
 * a watcher's events that came during the rest (a checkout's next files,
 * read only after the build began, made a second build). A zero-delay
 * timer (a kick) leaves the fd resting: kicks come often in a storm. */
START_TEST(test_timer_runs_after_a_resting_fd_is_read)
{
	struct loop *loop = loop_new();
	int p[2];
	ck_assert_int_eq(pipe(p), 0);
	paced_reads = 0;
	reads_at_timer = -1;
	ck_assert_int_eq(loop_io_add(loop, p[0], GUST_IO_READ, on_paced, NULL), 0);
	ck_assert_int_eq(loop_io_pace(loop, p[0]), 0);
	loop_set_pace(loop, 60000);
	ck_assert_int_eq(write(p[1], "a", 1), 1);
	ck_assert(run_until(loop, &paced_reads, 5000));
	/* resting for a minute: "b" comes, then the timer is due */
	reads_at_kick = -1;
	ck_assert_int_eq(write(p[1], "b", 1), 1);
	ck_assert_int_ne(loop_timer_add(loop, 0, on_kick_reads, NULL), 0);
	ck_assert_int_ne(loop_timer_add(loop, 30, on_timer_reads, NULL), 0);
	uint64_t deadline = loop_now_ms() + 5000;
	while (reads_at_timer < 0 && loop_now_ms() < deadline)
		ck_assert_int_eq(loop_once(loop, 1000), 0);
	ck_assert_int_eq(reads_at_kick, 1);
	ck_assert_int_eq(reads_at_timer, 2);
	ck_assert_str_eq(paced_got[1], "b");
	close(p[0]);
	close(p[1]);
	loop_free(loop);
}
END_TEST

#ifdef HAVE_SYS_INOTIFY_H
static int writer_done, ino_reads;
static void on_writer_exit(pid_t pid, int status, void *arg)
{
	(void)pid, (void)arg;
	ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	writer_done = 1;
}

static void on_ino(int fd, unsigned ev, void *arg)
{
	_Alignas(struct inotify_event) char buf[4096];
	(void)arg;
	ck_assert(ev & GUST_IO_READ);
	ck_assert_int_gt(read(fd, buf, sizeof buf), 0);
	ino_reads++;
}

/* Voluntary context switches of this process so far. */
static long switches(void)
{
	struct rusage ru;
	ck_assert_int_eq(getrusage(RUSAGE_SELF, &ru), 0);
	return ru.ru_nvcsw;
}

/* A resting paced fd does not wake the loop: a watcher's events that come
 * while it rests cost no wake-up each. inotify wakes every poller of its fd
 * whatever events it asked for (a pipe does not), so a storm woke gust once
 * per event however it was paced. A child writes 40 files, a millisecond
 * apart, while the loop waits; the loop wakes for the child's exit. */
START_TEST(test_resting_fd_does_not_wake)
{
	struct loop *loop = loop_new();
	const char *tmp = getenv("TMPDIR");
	char tdir[4096];
	snprintf(tdir, sizeof tdir, "%s/test_loop.XXXXXX", tmp && *tmp ? tmp : "/tmp");
	ck_assert_ptr_nonnull(mkdtemp(tdir));
	int fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_ge(inotify_add_watch(fd, tdir, IN_CREATE | IN_MODIFY | IN_CLOSE_WRITE), 0);
	ino_reads = 0;
	writer_done = 0;
	ck_assert_int_eq(loop_io_add(loop, fd, GUST_IO_READ, on_ino, NULL), 0);
	ck_assert_int_eq(loop_io_pace(loop, fd), 0);
	loop_set_pace(loop, 60000);
	char path[4200];
	snprintf(path, sizeof path, "%s/first", tdir);
	int w = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
	ck_assert_int_ge(w, 0);
	close(w);
	ck_assert(run_until(loop, &ino_reads, 5000));
	long before = switches();
	pid_t pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		for (int i = 0; i < 40; i++) {
			struct timespec ms = { 0, 1000000 };
			snprintf(path, sizeof path, "%s/f%d", tdir, i);
			int f = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
			if (f < 0 || write(f, "x", 1) != 1 || close(f) < 0)
				_exit(1);
			nanosleep(&ms, NULL);
		}
		_exit(0);
	}
	ck_assert_int_eq(loop_child_watch(loop, pid, on_writer_exit, NULL), 0);
	uint64_t deadline = loop_now_ms() + 30000;
	while (!writer_done && loop_now_ms() < deadline)
		ck_assert_int_eq(loop_once(loop, 5000), 0);
	ck_assert(writer_done);
	long woke = switches() - before;
	ck_assert_int_eq(ino_reads, 1); /* still resting */
	ck_assert_msg(woke < 10, "the loop woke %ld times for 120 events on a resting fd", woke);
	for (int i = 0; i < 40; i++) {
		snprintf(path, sizeof path, "%s/f%d", tdir, i);
		unlink(path);
	}
	snprintf(path, sizeof path, "%s/first", tdir);
	unlink(path);
	ck_assert_int_eq(rmdir(tdir), 0);
	close(fd);
	loop_free(loop);
}
END_TEST
#endif

static int exited, exit_status, hook_count;
static void on_exit_cb(pid_t pid, int status, void *arg)
{
	(void)pid, (void)arg;
	exited = 1;
	exit_status = status;
}
static void hook(pid_t pid, int status, void *arg)
{
	(void)pid, (void)status, (void)arg;
	hook_count++;
}

START_TEST(test_child_exit_reported_and_reaped)
{
	struct loop *loop = loop_new();
	exited = 0;
	hook_count = 0;
	loop_set_reap_hook(loop, hook, NULL);
	pid_t pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0)
		_exit(7);
	ck_assert_int_eq(loop_child_watch(loop, pid, on_exit_cb, NULL), 0);
	ck_assert(run_until(loop, &exited, 5000));
	ck_assert(WIFEXITED(exit_status));
	ck_assert_int_eq(WEXITSTATUS(exit_status), 7);
	ck_assert_int_eq(hook_count, 1);
	/* reaped: no zombie left */
	ck_assert_int_eq(waitpid(pid, NULL, WNOHANG), -1);
	loop_free(loop);
}
END_TEST

/* A child's exit handled in the same wakeup as an fd's event: its callback
 * removes and closes that fd and registers a new one, which gets the same
 * number. The event was the old fd's: the new one's callback must not get
 * it (it would read an empty pipe, or worse a blocking fd). */
static int reuse_old, reuse_new, reuse_fd;
static void reuse_old_cb(int fd, unsigned ev, void *arg)
{
	(void)fd, (void)ev, (void)arg;
	reuse_old++;
}
static void reuse_new_cb(int fd, unsigned ev, void *arg)
{
	(void)fd, (void)ev, (void)arg;
	reuse_new++;
}
static void reuse_exit_cb(pid_t pid, int status, void *arg)
{
	struct loop *loop = arg;
	int p[2];
	(void)pid, (void)status;
	loop_io_del(loop, reuse_fd);
	close(reuse_fd);
	ck_assert_int_eq(pipe(p), 0);
	ck_assert_int_eq(p[0], reuse_fd); /* the lowest free number: the old one */
	ck_assert_int_eq(loop_io_add(loop, p[0], GUST_IO_READ, reuse_new_cb, NULL), 0);
}

START_TEST(test_fd_reused_in_child_callback)
{
	struct loop *loop = loop_new();
	int a[2];
	reuse_old = reuse_new = 0;
	ck_assert_int_eq(pipe(a), 0);
	reuse_fd = a[0];
	ck_assert_int_eq(write(a[1], "x", 1), 1);
	ck_assert_int_eq(loop_io_add(loop, a[0], GUST_IO_READ, reuse_old_cb, NULL), 0);
	pid_t pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0)
		_exit(0);
	ck_assert_int_eq(loop_child_watch(loop, pid, reuse_exit_cb, loop), 0);
	/* a zombie now (not reaped): its SIGCHLD is in the loop's pipe */
	siginfo_t si;
	ck_assert_int_eq(waitid(P_PID, (id_t)pid, &si, WEXITED | WNOWAIT), 0);
	ck_assert_int_eq(loop_once(loop, 1000), 0);
	ck_assert_int_eq(waitpid(pid, NULL, WNOHANG), -1); /* reaped in that wakeup */
	ck_assert_int_eq(reuse_old, 0);                    /* removed before its turn */
	ck_assert_int_eq(reuse_new, 0);                    /* nothing came for it */
	loop_free(loop);
}
END_TEST

static int got_sig;
static void on_sig(int sig, void *arg)
{
	(void)arg;
	got_sig = sig;
}

START_TEST(test_signal_delivered_through_loop)
{
	struct loop *loop = loop_new();
	got_sig = 0;
	loop_set_signal_cb(loop, on_sig, NULL);
	ck_assert_int_eq(kill(getpid(), SIGTERM), 0); /* handled, not fatal */
	ck_assert(run_until(loop, &got_sig, 2000));
	ck_assert_int_eq(got_sig, SIGTERM);
	loop_free(loop);
}
END_TEST

static void quit_cb(void *arg)
{
	loop_quit(arg, 42);
}

START_TEST(test_run_until_quit)
{
	struct loop *loop = loop_new();
	loop_timer_add(loop, 5, quit_cb, loop);
	ck_assert_int_eq(loop_run(loop), 42);
	ck_assert(loop_quitting(loop));
	loop_free(loop);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("loop");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, test_timers_fire_in_order_and_cancel);
	tcase_add_test(tc, test_io_and_del_in_callback);
	tcase_add_test(tc, test_paced_io_reads_in_batches);
	tcase_add_test(tc, test_timer_runs_after_a_resting_fd_is_read);
#ifdef HAVE_SYS_INOTIFY_H
	tcase_add_test(tc, test_resting_fd_does_not_wake);
#endif
	tcase_add_test(tc, test_child_exit_reported_and_reaped);
	tcase_add_test(tc, test_fd_reused_in_child_callback);
	tcase_add_test(tc, test_signal_delivered_through_loop);
	tcase_add_test(tc, test_run_until_quit);
	suite_add_tcase(s, tc);
	return unit_run(s);
}
