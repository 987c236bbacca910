/* loop.c - one poll(2) loop: fds, one-shot timers on the monotonic clock,
 * signals through a self-pipe, and reaping of every child. Portable POSIX
 * so the same loop runs on Linux and the BSDs. */
#include "config.h"

#include "loop.h"

#include <errno.h>
#include <limits.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

struct loop_io {
	int fd;
	unsigned events;
	gust_io_cb cb;
	void *arg;
	bool dead;        /* removed during dispatch; compacted afterwards */
	bool paced;       /* loop_io_pace(): read at most once per pace */
	uint64_t next_us; /* paced: not polled before this */
};

struct loop_timer {
	uint64_t id;
	uint64_t due;      /* us on the monotonic clock */
	uint64_t delay_us; /* what it was set for */
	gust_timer_cb cb;
	void *arg;
	struct loop_timer *next; /* sorted by due, then id */
};

struct loop_child {
	pid_t pid;
	gust_exit_cb cb;
	void *arg;
	struct loop_child *next;
};

struct loop {
	struct loop_io *io;
	size_t nio, capio;
	struct pollfd *pfd;
	size_t cappfd;
	bool dispatching;
	struct loop_timer *timers;
	uint64_t next_timer_id;
	struct loop_child *children;
	gust_exit_cb reap_hook;
	void *reap_arg;
	void (*signal_cb)(int sig, void *arg);
	void *signal_arg;
	int sigpipe[2];
	bool quit;
	int quit_code;
	struct sigaction old[5];
	uint64_t pace_us; /* loop_set_pace() */
};

/* The unavoidable signal state: the handler writes the signal number into
 * the self-pipe of the one live loop. */
static volatile sig_atomic_t signal_fd = -1;

static const int handled_signals[] = { SIGCHLD, SIGINT, SIGTERM, SIGHUP };

static void on_signal(int sig)
{
	int saved = errno;
	unsigned char b = (unsigned char)sig;
	if (signal_fd >= 0)
		(void)!write(signal_fd, &b, 1);
	errno = saved;
}

/* Timers keep microseconds: a debounce of 20 ms ends 20 ms after the last
 * event, not up to a millisecond later. */
static uint64_t now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

uint64_t loop_now_ms(void)
{
	return now_us() / 1000u;
}

static int set_cloexec_nonblock(int fd)
{
	int fl = fcntl(fd, F_GETFL);
	if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0)
		return -errno;
	fl = fcntl(fd, F_GETFD);
	if (fl < 0 || fcntl(fd, F_SETFD, fl | FD_CLOEXEC) < 0)
		return -errno;
	return 0;
}

struct loop *loop_new(void)
{
	struct loop *loop = calloc(1, sizeof *loop);
	if (!loop)
		return NULL;
	loop->next_timer_id = 1;
	if (pipe(loop->sigpipe) < 0) {
		free(loop);
		return NULL;
	}
	if (set_cloexec_nonblock(loop->sigpipe[0]) < 0 ||
	    set_cloexec_nonblock(loop->sigpipe[1]) < 0) {
		int e = errno;
		close(loop->sigpipe[0]);
		close(loop->sigpipe[1]);
		free(loop);
		errno = e;
		return NULL;
	}
	signal_fd = loop->sigpipe[1];
	for (size_t i = 0; i < sizeof handled_signals / sizeof *handled_signals; i++) {
		struct sigaction sa;
		memset(&sa, 0, sizeof sa);
		sa.sa_handler = on_signal;
		sigemptyset(&sa.sa_mask);
		sa.sa_flags = SA_RESTART | (handled_signals[i] == SIGCHLD ? SA_NOCLDSTOP : 0);
		sigaction(handled_signals[i], &sa, &loop->old[i]);
	}
	/* A dead pipe reader must give EPIPE, not kill gust. */
	struct sigaction ign;
	memset(&ign, 0, sizeof ign);
	ign.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &ign, &loop->old[4]);
	/* A gust started in the background may have inherited a blocked mask. */
	sigset_t set;
	sigemptyset(&set);
	for (size_t i = 0; i < sizeof handled_signals / sizeof *handled_signals; i++)
		sigaddset(&set, handled_signals[i]);
	sigprocmask(SIG_UNBLOCK, &set, NULL);
	return loop;
}

void loop_free(struct loop *loop)
{
	if (!loop)
		return;
	for (size_t i = 0; i < sizeof handled_signals / sizeof *handled_signals; i++)
		sigaction(handled_signals[i], &loop->old[i], NULL);
	sigaction(SIGPIPE, &loop->old[4], NULL);
	signal_fd = -1;
	close(loop->sigpipe[0]);
	close(loop->sigpipe[1]);
	while (loop->timers) {
		struct loop_timer *t = loop->timers;
		loop->timers = t->next;
		free(t);
	}
	while (loop->children) {
		struct loop_child *c = loop->children;
		loop->children = c->next;
		free(c);
	}
	free(loop->io);
	free(loop->pfd);
	free(loop);
}

static struct loop_io *find_io(struct loop *loop, int fd)
{
	for (size_t i = 0; i < loop->nio; i++)
		if (loop->io[i].fd == fd && !loop->io[i].dead)
			return &loop->io[i];
	return NULL;
}

int loop_io_add(struct loop *loop, int fd, unsigned events, gust_io_cb cb, void *arg)
{
	if (fd < 0 || !cb)
		return -EINVAL;
	if (find_io(loop, fd))
		return -EEXIST;
	if (loop->nio == loop->capio) {
		size_t cap = loop->capio ? loop->capio * 2 : 16;
		struct loop_io *n = realloc(loop->io, cap * sizeof *n);
		if (!n)
			return -ENOMEM;
		loop->io = n;
		loop->capio = cap;
	}
	loop->io[loop->nio++] = (struct loop_io){ fd, events, cb, arg, false, false, 0 };
	return 0;
}

int loop_io_pace(struct loop *loop, int fd)
{
	struct loop_io *io = find_io(loop, fd);
	if (!io)
		return -ENOENT;
	io->paced = true;
	return 0;
}

void loop_set_pace(struct loop *loop, unsigned ms)
{
	loop->pace_us = (uint64_t)ms * 1000;
}

int loop_io_mod(struct loop *loop, int fd, unsigned events)
{
	struct loop_io *io = find_io(loop, fd);
	if (!io)
		return -ENOENT;
	io->events = events;
	return 0;
}

static void compact_io(struct loop *loop)
{
	size_t j = 0;
	for (size_t i = 0; i < loop->nio; i++)
		if (!loop->io[i].dead)
			loop->io[j++] = loop->io[i];
	loop->nio = j;
}

int loop_io_del(struct loop *loop, int fd)
{
	struct loop_io *io = find_io(loop, fd);
	if (!io)
		return -ENOENT;
	io->dead = true;
	if (!loop->dispatching)
		compact_io(loop);
	return 0;
}

uint64_t loop_timer_add(struct loop *loop, unsigned ms, gust_timer_cb cb, void *arg)
{
	struct loop_timer *t = calloc(1, sizeof *t);
	if (!t || !cb) {
		free(t);
		return 0;
	}
	t->id = loop->next_timer_id++;
	t->delay_us = (uint64_t)ms * 1000u;
	t->due = now_us() + t->delay_us;
	t->cb = cb;
	t->arg = arg;
	struct loop_timer **pp = &loop->timers;
	while (*pp && (*pp)->due <= t->due)
		pp = &(*pp)->next;
	t->next = *pp;
	*pp = t;
	return t->id;
}

void loop_timer_cancel(struct loop *loop, uint64_t id)
{
	for (struct loop_timer **pp = &loop->timers; *pp; pp = &(*pp)->next) {
		if ((*pp)->id == id) {
			struct loop_timer *t = *pp;
			*pp = t->next;
			free(t);
			return;
		}
	}
}

int loop_child_watch(struct loop *loop, pid_t pid, gust_exit_cb cb, void *arg)
{
	if (pid <= 0 || !cb)
		return -EINVAL;
	struct loop_child *c = calloc(1, sizeof *c);
	if (!c)
		return -ENOMEM;
	c->pid = pid;
	c->cb = cb;
	c->arg = arg;
	c->next = loop->children;
	loop->children = c;
	return 0;
}

void loop_child_unwatch(struct loop *loop, pid_t pid)
{
	for (struct loop_child **pp = &loop->children; *pp; pp = &(*pp)->next) {
		if ((*pp)->pid == pid) {
			struct loop_child *c = *pp;
			*pp = c->next;
			free(c);
			return;
		}
	}
}

void loop_set_reap_hook(struct loop *loop, gust_exit_cb cb, void *arg)
{
	loop->reap_hook = cb;
	loop->reap_arg = arg;
}

void loop_set_signal_cb(struct loop *loop, void (*cb)(int sig, void *arg), void *arg)
{
	loop->signal_cb = cb;
	loop->signal_arg = arg;
}

void loop_reap(struct loop *loop)
{
	for (;;) {
		int status;
		pid_t pid = waitpid(-1, &status, WNOHANG);
		if (pid <= 0) {
			if (pid < 0 && errno == EINTR)
				continue;
			return;
		}
		for (struct loop_child **pp = &loop->children; *pp; pp = &(*pp)->next) {
			if ((*pp)->pid == pid) {
				struct loop_child *c = *pp;
				*pp = c->next;
				c->cb(pid, status, c->arg);
				free(c);
				break;
			}
		}
		if (loop->reap_hook)
			loop->reap_hook(pid, status, loop->reap_arg);
	}
}

static void drain_signals(struct loop *loop)
{
	unsigned char buf[64];
	ssize_t n;
	bool chld = false;
	while ((n = read(loop->sigpipe[0], buf, sizeof buf)) > 0) {
		for (ssize_t i = 0; i < n; i++) {
			if (buf[i] == SIGCHLD)
				chld = true;
			else if (loop->signal_cb)
				loop->signal_cb(buf[i], loop->signal_arg);
		}
	}
	if (chld)
		loop_reap(loop);
}

static void run_timers(struct loop *loop)
{
	uint64_t now = now_us();
	/* Only timers due now; timers added by callbacks wait for the next
	 * iteration, so a zero-delay timer cannot starve fds. */
	uint64_t limit = loop->next_timer_id;
	while (loop->timers && loop->timers->due <= now) {
		struct loop_timer *t = loop->timers;
		if (t->id >= limit)
			break;
		loop->timers = t->next;
		gust_timer_cb cb = t->cb;
		void *arg = t->arg;
		free(t);
		cb(arg);
	}
}

/* The callbacks of the fds pfd[1..nio] found ready. */
static void dispatch_io(struct loop *loop, size_t nio)
{
	for (size_t i = 0; i < nio; i++) {
		short re = loop->pfd[i + 1].revents;
		if (!re || loop->io[i].dead || loop->io[i].fd != loop->pfd[i + 1].fd)
			continue;
		unsigned ev = 0;
		if (re & (POLLIN | POLLHUP | POLLERR | POLLNVAL))
			ev |= GUST_IO_READ;
		if ((ev & GUST_IO_READ) && loop->io[i].paced && loop->pace_us)
			loop->io[i].next_us = now_us() + loop->pace_us;
		if (re & POLLOUT)
			ev |= GUST_IO_WRITE;
		ev &= loop->io[i].events | GUST_IO_READ;
		if (re & POLLNVAL) {
			/* closed without io_del: drop it rather than spin */
			loop->io[i].dead = true;
		}
		loop->io[i].cb(loop->io[i].fd, ev, loop->io[i].arg);
	}
}

/* Is io a paced fd that rests at now (read less than a pace ago)? */
static bool resting_at(const struct loop *loop, const struct loop_io *io, uint64_t now)
{
	return loop->pace_us && io->paced && io->next_us > now;
}

/* Is a timer due now that was set for a while (a deadline such as a
 * debounce window), not a zero-delay kick ("run soon": libcurl's,
 * libmicrohttpd's, a builder's), which leaves a resting fd resting? */
static bool deadline_due(const struct loop *loop)
{
	uint64_t now = now_us();
	for (const struct loop_timer *t = loop->timers; t && t->due <= now; t = t->next)
		if (t->delay_us > 0)
			return true;
	return false;
}

/* A deadline is about to run: what the fds that rested hold is read first
 * (one poll that does not wait), so that a debounce window cannot close
 * while the watcher's events wait unread in a resting fd. An fd the main
 * poll reported (one polled for writing too) had its turn already. */
static void read_rested(struct loop *loop, size_t nio, uint64_t rest_now)
{
	loop->pfd[0].fd = -1;
	for (size_t i = 0; i < nio; i++) {
		const struct loop_io *io = &loop->io[i];
		bool rested = !io->dead && !loop->pfd[i + 1].revents &&
		              (io->events & GUST_IO_READ) && resting_at(loop, io, rest_now);
		loop->pfd[i + 1] = (struct pollfd){ rested ? io->fd : -1, POLLIN, 0 };
	}
	if (poll(loop->pfd, nio + 1, 0) > 0)
		dispatch_io(loop, nio);
}

int loop_once(struct loop *loop, int timeout_ms)
{
	/* the wait in us: the caller's bound, or the first timer's */
	int64_t wait_us = timeout_ms < 0 ? -1 : (int64_t)timeout_ms * 1000;
	if (loop->timers) {
		uint64_t now = now_us();
		int64_t until = loop->timers->due <= now ? 0 : (int64_t)(loop->timers->due - now);
		if (wait_us < 0 || until < wait_us)
			wait_us = until;
	}
	size_t n = loop->nio + 1;
	if (n > loop->cappfd) {
		struct pollfd *p = realloc(loop->pfd, n * sizeof *p);
		if (!p)
			return -ENOMEM;
		loop->pfd = p;
		loop->cappfd = n;
	}
	loop->pfd[0] = (struct pollfd){ loop->sigpipe[0], POLLIN, 0 };
	size_t nio = loop->nio;
	uint64_t paced_now = loop->pace_us ? now_us() : 0;
	bool rested = false;
	for (size_t i = 0; i < nio; i++) {
		short ev = 0;
		struct loop_io *io = &loop->io[i];
		/* paced and read less than a pace ago: let events gather */
		bool resting = resting_at(loop, io, paced_now);
		rested |= resting && (io->events & GUST_IO_READ);
		if (resting && (wait_us < 0 || (int64_t)(io->next_us - paced_now) < wait_us))
			wait_us = (int64_t)(io->next_us - paced_now);
		if ((loop->io[i].events & GUST_IO_READ) && !resting)
			ev |= POLLIN;
		if (loop->io[i].events & GUST_IO_WRITE)
			ev |= POLLOUT;
		/* An fd polled for no event still wakes the poll at each of its
		 * events (the kernel queues the waiter whatever the mask): a
		 * resting fd is left out (negative fd: poll skips it), or a
		 * storm wakes gust once per event however it is paced. */
		loop->pfd[i + 1] = (struct pollfd){ resting && !ev ? -1 : loop->io[i].fd, ev, 0 };
	}
#ifdef HAVE_PPOLL
	struct timespec ts = { (time_t)(wait_us / 1000000), (long)(wait_us % 1000000) * 1000 };
	int r = ppoll(loop->pfd, nio + 1, wait_us < 0 ? NULL : &ts, NULL);
#else
	int r = poll(loop->pfd, nio + 1,
	             wait_us < 0             ? -1
	             : wait_us > INT_MAX / 2 ? INT_MAX / 2
	                                     : (int)((wait_us + 999) / 1000));
#endif
	if (r < 0 && errno != EINTR)
		return -errno;
	/* From here until every fd's turn is over, io[i] must stay the entry
	 * pfd[i + 1] was polled for: a removal only marks it dead (compacted
	 * after), and an addition goes after nio. The signals' callbacks count:
	 * a child's exit may close an fd and open another with its number. */
	loop->dispatching = true;
	if (r > 0 && loop->pfd[0].revents)
		drain_signals(loop);
	if (r > 0)
		dispatch_io(loop, nio);
	if (rested && deadline_due(loop))
		read_rested(loop, nio, paced_now);
	loop->dispatching = false;
	compact_io(loop);
	run_timers(loop);
	return 0;
}

int loop_run(struct loop *loop)
{
	loop->quit = false;
	while (!loop->quit) {
		int r = loop_once(loop, -1);
		if (r < 0)
			return r;
	}
	return loop->quit_code;
}

void loop_quit(struct loop *loop, int code)
{
	loop->quit = true;
	loop->quit_code = code;
}

bool loop_quitting(const struct loop *loop)
{
	return loop->quit;
}
