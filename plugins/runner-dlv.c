/* runner-dlv.c - run the program under Delve:
 *
 *   dlv exec --headless --continue --accept-multiclient --listen ADDR
 *       --api-version 2 [--log [--log-output X]] [extra_args] BIN -- ARGS
 *
 * The lifecycle is runcmd's (shared with runner-plain). What is particular
 * to dlv (measured with dlv 1.20.2 on Linux; README "Debugging with Delve"):
 *   - dlv starts the debuggee in a process group of its own, so a group
 *     kill of dlv never reaches it; the tree stop finds it anyway.
 *   - SIGTERM/SIGINT: dlv kills the debuggee itself and exits 0 after
 *     about 0.35-0.6 s. SIGHUP and SIGKILL kill dlv at once and leave the
 *     debuggee running, detached, re-parented to the tree's reaper.
 *     Hence reap_tree_on_exit: whenever dlv dies, what it leaves goes too.
 *   - dlv refuses --continue without --headless, and headless --continue
 *     without --accept-multiclient: rejected here, before anything runs.
 *   - ":2345" makes dlv listen on every interface; gust means loopback.
 *   - When the program exits by itself, headless dlv keeps running and
 *     waiting for clients (RPCServer.State answers "Process N has exited
 *     with status S"), and a SIGTERM then takes dlv ~1.7 s. So (option
 *     exit_with_program, default true): the debuggee is found among dlv's
 *     children, watched with a pidfd (or polled where there is none), and
 *     when it is gone dlv is asked for the status, dlv is killed (no
 *     debuggee is left to lose), the rest of the tree stopped as in any
 *     stop, and the status is the run's exit. A debuggee that dlv restarts
 *     (a client's "restart") is found again.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/types.h>
#include <time.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gust/plugin.h>

#include "pathsearch.h"
#include "runcmd.h"

#define DLV_NOT_FOUND                                                                              \
	"dlv not found on PATH; install Delve (apt-get install delve) or set runner.dlv"

struct dlv {
	struct runcmd rc;
	const struct gust_host *host;
	struct gust_ctx *ctx;
	char *dlv_path;   /* owned, absolute or as found on PATH */
	const char *bin;  /* borrowed from the options */
	char listen[300]; /* normalised HOST:PORT */
	char api[16];
	struct sockaddr_storage addr; /* listen, resolved: checked before start */
	socklen_t addrlen;
	const char **argv;  /* owned array; strings borrowed or above */
	char bin_abs[4096]; /* the debuggee's argv[0] as dlv passes it */
	pid_t pid;          /* dlv's pid in the current run */
	/* exit_with_program: the debuggee of the current run (see below) */
	bool exit_with_program;
	int phase;                  /* W_* */
	uint64_t timer;             /* the next look, poll or question */
	unsigned delay_ms;          /* W_FIND: backing off */
	unsigned tries;             /* W_FIND: looks so far */
	int pidfd;                  /* W_WATCH: -1 when polled instead */
	pid_t debuggee;             /* 0 until found */
	unsigned answered, refused; /* W_GONE: answers without an exit, refusals */
	uint64_t gone_ms;           /* W_GONE: when it went (monotonic ms) */
	dev_t bin_dev;              /* the program file when the run started */
	ino_t bin_ino;
	int ask_fd; /* a question to dlv under way, or -1 */
	bool ask_sent;
	uint64_t ask_timer;
	size_t ask_len;
	char ask_buf[4096];
};

static const char *const known_keys[] = { "bin",        "args",
	                                  "listen",     "api_version",
	                                  "headless",   "accept_multiclient",
	                                  "continue",   "log",
	                                  "log_output", "dlv",
	                                  "extra_args", "exit_with_program",
	                                  "sockets",    RUNCMD_COMMON_KEYS,
	                                  NULL };

static int find_dlv(struct dlv *d, const char *opt)
{
	const struct gust_host *h = d->host;
	if (!opt) {
		d->dlv_path = path_search("dlv", getenv("PATH"), d->rc.cwd);
		if (!d->dlv_path) {
			h->set_error(d->ctx, DLV_NOT_FOUND);
			return -ENOENT;
		}
		return 0;
	}
	if (!*opt) {
		h->set_error(d->ctx, "/runner/dlv: expected a path to the dlv binary, got \"\"");
		return -EINVAL;
	}
	if (!strchr(opt, '/')) {
		d->dlv_path = path_search(opt, getenv("PATH"), d->rc.cwd);
		if (!d->dlv_path) {
			h->set_error(d->ctx,
			             "/runner/dlv: \"%s\" not found on PATH; install Delve "
			             "(apt-get install delve) or give its path",
			             opt);
			return -ENOENT;
		}
		return 0;
	}
	char buf[4096];
	int n = opt[0] == '/' ? snprintf(buf, sizeof buf, "%s", opt)
	                      : snprintf(buf, sizeof buf, "%s/%s", h->root(d->ctx), opt);
	if (n < 0 || (size_t)n >= sizeof buf) {
		h->set_error(d->ctx, "/runner/dlv: path too long");
		return -ENAMETOOLONG;
	}
	struct stat st;
	if (stat(buf, &st) < 0 || access(buf, X_OK) < 0) {
		int e = errno;
		h->set_error(d->ctx, "/runner/dlv: \"%s\": %s", buf, strerror(e));
		return -e;
	}
	if (!S_ISREG(st.st_mode)) {
		h->set_error(d->ctx, "/runner/dlv: \"%s\": not a regular file", buf);
		return -EINVAL;
	}
	d->dlv_path = strdup(buf);
	return d->dlv_path ? 0 : -ENOMEM;
}

static bool is_loopback(const struct sockaddr_storage *ss)
{
	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *in = (const struct sockaddr_in *)ss;
		return (ntohl(in->sin_addr.s_addr) >> 24) == 127;
	}
	if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)ss;
		return IN6_IS_ADDR_LOOPBACK(&in6->sin6_addr);
	}
	return false;
}

/* "HOST:PORT", "[V6]:PORT" or ":PORT" (loopback, not every interface as
 * dlv would take it). Resolves HOST now so start() can test the address. */
static int parse_listen(struct dlv *d, const char *s)
{
	const struct gust_host *h = d->host;
	char host[256];
	const char *port;
	if (s[0] == '[') {
		const char *close = strchr(s, ']');
		if (!close || close[1] != ':' || (size_t)(close - s - 1) >= sizeof host)
			goto bad;
		memcpy(host, s + 1, (size_t)(close - s - 1));
		host[close - s - 1] = '\0';
		port = close + 2;
	} else {
		const char *colon = strrchr(s, ':');
		if (!colon || memchr(s, ':', (size_t)(colon - s)) ||
		    (size_t)(colon - s) >= sizeof host)
			goto bad;
		memcpy(host, s, (size_t)(colon - s));
		host[colon - s] = '\0';
		port = colon + 1;
	}
	if (!*port || strspn(port, "0123456789") != strlen(port) || strlen(port) > 5 ||
	    atoi(port) < 1 || atoi(port) > 65535) {
		h->set_error(d->ctx,
		             "/runner/listen: expected a port from 1 to 65535 in \"%s\" (gust "
		             "restarts dlv, so a random port would move each time)",
		             s);
		return -EINVAL;
	}
	int n;
	if (!*host) {
		snprintf(host, sizeof host, "127.0.0.1");
		n = snprintf(d->listen, sizeof d->listen, "127.0.0.1:%s", port);
	} else {
		n = snprintf(d->listen, sizeof d->listen, "%s", s);
	}
	if (n < 0 || (size_t)n >= sizeof d->listen)
		goto bad;

	struct addrinfo hints = { .ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICSERV };
	struct addrinfo *ai = NULL;
	int r = getaddrinfo(host, port, &hints, &ai);
	if (r != 0 || !ai) {
		h->set_error(d->ctx, "/runner/listen: cannot resolve \"%s\": %s", host,
		             r ? gai_strerror(r) : "no address");
		return -EINVAL;
	}
	/* Go listens on the first address, preferring IPv4; so do we. */
	const struct addrinfo *pick = ai;
	for (const struct addrinfo *a = ai; a; a = a->ai_next)
		if (a->ai_family == AF_INET) {
			pick = a;
			break;
		}
	memcpy(&d->addr, pick->ai_addr, pick->ai_addrlen);
	d->addrlen = pick->ai_addrlen;
	freeaddrinfo(ai);
	if (!is_loopback(&d->addr))
		h->log(d->ctx, GUST_LOG_WARN,
		       "runner.listen \"%s\" is not a loopback address: Delve's API has no "
		       "authentication, anyone who can reach it can run code as you",
		       d->listen);
	return 0;
bad:
	h->set_error(d->ctx, "/runner/listen: expected HOST:PORT, [IPV6]:PORT or :PORT, got \"%s\"",
	             s);
	return -EINVAL;
}

/* Nothing of a previous run exists when start() is called, so whoever
 * holds the port now is someone else; dlv would only say "couldn't start
 * listener" after it was started. SO_REUSEADDR as Go sets it, so a port
 * that merely has connections in TIME_WAIT is not taken for busy. */
static int check_listen_free(struct dlv *d)
{
	const struct gust_host *h = d->host;
	int fd = socket(d->addr.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		int e = errno;
		h->set_error(d->ctx, "runner.listen \"%s\": cannot check the address: %s",
		             d->listen, strerror(e));
		return -e;
	}
	int one = 1;
	(void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	int r = bind(fd, (const struct sockaddr *)&d->addr, d->addrlen);
	int e = errno;
	close(fd);
	if (r == 0)
		return 0;
	if (e == EADDRINUSE)
		h->set_error(
		    d->ctx,
		    "runner.listen \"%s\": address already in use by another process (nothing of "
		    "gust's previous run is left); stop it or set runner.listen to a free address",
		    d->listen);
	else
		h->set_error(d->ctx, "runner.listen \"%s\": cannot listen there: %s", d->listen,
		             strerror(e));
	return -e;
}

/* The debuggee's argv[0] as dlv gives it: the absolute, cleaned path of
 * bin (Go's filepath.Abs). Used only to name the orphan in the log. */
static void set_bin_abs(struct dlv *d)
{
	char joined[4096];
	int n = d->bin[0] == '/' ? snprintf(joined, sizeof joined, "%s", d->bin)
	                         : snprintf(joined, sizeof joined, "%s/%s", d->rc.cwd, d->bin);
	d->bin_abs[0] = '\0';
	if (n < 0 || (size_t)n >= sizeof joined)
		return;
	/* Drop "." components and duplicate slashes; ".." is rare enough to
	 * keep as it is (the name then just won't be matched). */
	char *o = d->bin_abs;
	const char *p = joined;
	while (*p) {
		while (*p == '/')
			p++;
		if (!*p)
			break;
		const char *end = strchr(p, '/');
		size_t len = end ? (size_t)(end - p) : strlen(p);
		if (!(len == 1 && p[0] == '.')) {
			if ((size_t)(o - d->bin_abs) + len + 2 >= sizeof d->bin_abs) {
				d->bin_abs[0] = '\0';
				return;
			}
			*o++ = '/';
			memcpy(o, p, len);
			o += len;
		}
		p += len;
	}
	*o = '\0';
}

/* ---- the debuggee's own exit (exit_with_program) ----
 *
 * W_FIND   look for the debuggee among the tree's processes: 20 ms, doubling
 *          to 1 s; from the fourth look on, also ask dlv whether it already
 *          exited (a program that exits at once is never seen).
 * W_WATCH  found: a pidfd (or /proc/PID/stat every 250 ms) says when it is
 *          gone.
 * W_GONE   ask dlv for its status every 20 ms: "has exited with status S"
 *          ends the run with S; a new debuggee (a client's restart) is
 *          watched instead; a plain state for 1 s means a restart too, so
 *          look for it. dlv holds its target lock through a restart, so a
 *          question that times out only means busy: wait, 30 s at most.
 * Questions are asked without blocking the loop: a non-blocking connect,
 * the request, one line back, 500 ms at most. */

enum { W_OFF, W_FIND, W_WATCH, W_GONE };

#define FIND_FIRST_MS 20
#define FIND_MAX_MS 1000
#define POLL_MS 250     /* without a pidfd */
#define ASK_EVERY_MS 20 /* W_GONE */
#define ASK_TIMEOUT_MS 500
#define ANSWERED_MAX 50 /* plain answers after the debuggee went: restarted */
#define REFUSED_MAX 5
#define BUSY_MAX_MS 30000

static void watch_tick(void *arg);

static uint64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static int read_small(const char *path, char *buf, size_t len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	ssize_t n = read(fd, buf, len - 1);
	close(fd);
	if (n < 0)
		return -1;
	buf[n] = '\0';
	return (int)n;
}

/* Is pid the program: does it run the file the run started with (through
 * symlinks and ".."), or is its argv[0] bin_abs, as dlv passes it? */
static bool is_debuggee(const struct dlv *d, long pid)
{
	char path[64], buf[4096];
	struct stat st;
	snprintf(path, sizeof path, "/proc/%ld/exe", pid);
	if (d->bin_ino && stat(path, &st) == 0 && st.st_dev == d->bin_dev &&
	    st.st_ino == d->bin_ino)
		return true;
	snprintf(path, sizeof path, "/proc/%ld/cmdline", pid);
	return read_small(path, buf, sizeof buf) > 0 && strcmp(buf, d->bin_abs) == 0;
}

/* The debuggee among the run's processes (the core's tree_pids: dlv's
 * descendants, and after dlv died what it left, which re-parents to the
 * tree's reaper); dlv itself is skipped. A zombie has neither an exe nor a
 * command line, and tree_pids skips it anyway. 0 if not (yet) there. */
static pid_t find_debuggee(const struct dlv *d)
{
	pid_t pids[256];
	if (!d->rc.tree || !GUST_HAS(d->host, tree_pids))
		return 0;
	size_t n = d->host->tree_pids(d->rc.tree, pids, sizeof pids / sizeof *pids);
	for (size_t i = 0; i < n && i < sizeof pids / sizeof *pids; i++)
		if (pids[i] != d->pid && is_debuggee(d, pids[i]))
			return pids[i];
	return 0;
}

/* Gone, or a zombie dlv has not reaped yet. */
static bool pid_done(pid_t pid)
{
	char path[64], buf[512];
	snprintf(path, sizeof path, "/proc/%ld/stat", (long)pid);
	if (read_small(path, buf, sizeof buf) <= 0)
		return true;
	const char *rp = strrchr(buf, ')');
	return !rp || rp[1] != ' ' || rp[2] == 'Z' || rp[2] == 'X';
}

static void after(struct dlv *d, unsigned ms)
{
	if (!d->timer)
		d->timer = d->host->timer_add(d->ctx, ms, watch_tick, d);
}

static void unwatch_pid(struct dlv *d)
{
	if (d->pidfd >= 0) {
		d->host->io_del(d->ctx, d->pidfd);
		close(d->pidfd);
	}
	d->pidfd = -1;
}

static void ask_close(struct dlv *d)
{
	if (d->ask_fd >= 0) {
		d->host->io_del(d->ctx, d->ask_fd);
		close(d->ask_fd);
	}
	d->ask_fd = -1;
	if (d->ask_timer)
		d->host->timer_cancel(d->ctx, d->ask_timer);
	d->ask_timer = 0;
}

static void watch_end(struct dlv *d)
{
	if (d->timer)
		d->host->timer_cancel(d->ctx, d->timer);
	d->timer = 0;
	unwatch_pid(d);
	ask_close(d);
	d->phase = W_OFF;
	d->debuggee = 0;
}

static bool run_is_up(const struct dlv *d)
{
	return d->rc.tree && !d->rc.stopping && !d->rc.exited && !d->rc.exit_stop;
}

/* Look for the debuggee from now on (a run starts, or dlv restarted it). */
static void watch_begin(struct dlv *d)
{
	watch_end(d);
	if (!d->exit_with_program || !run_is_up(d))
		return;
	d->phase = W_FIND;
	d->tries = 0;
	d->delay_ms = FIND_FIRST_MS;
	after(d, d->delay_ms);
}

/* The run ends with the program's status (known: code from dlv, which
 * gives a death by signal N as -N). */
static void finish(struct dlv *d, bool known, int code)
{
	const struct gust_host *h = d->host;
	char who[48] = "";
	if (d->debuggee)
		snprintf(who, sizeof who, " (pid %ld)", (long)d->debuggee);
	int status;
	if (known && code < 0 && -code < NSIG) {
		status = W_EXITCODE(0, -code);
		h->log(d->ctx, GUST_LOG_INFO,
		       "the program%s was killed by signal %d; dlv stopped with it "
		       "(exit_with_program)",
		       who, -code);
	} else if (known) {
		status = W_EXITCODE(code & 0xff, 0);
		h->log(
		    d->ctx, GUST_LOG_INFO,
		    "the program%s exited with status %d; dlv stopped with it (exit_with_program)",
		    who, code);
	} else {
		status = W_EXITCODE(255, 0);
		h->log(d->ctx, GUST_LOG_WARN,
		       "the program%s exited and dlv does not say how (reported as status 255); "
		       "dlv stopped with it",
		       who);
	}
	watch_end(d);
	int r = runcmd_end(&d->rc, status, true);
	if (r < 0 && r != -EALREADY)
		h->log(d->ctx, GUST_LOG_WARN,
		       "cannot stop dlv after the program exited: %s; the next build stops it",
		       strerror(-r));
}

static void watch_pid(struct dlv *d, pid_t pid);

/* dlv's answer: 1 and code (exited), 0 (a plain state), -1 (refused or
 * garbled), -2 (no answer in time). */
static void answered(struct dlv *d, int r, int code)
{
	ask_close(d);
	if (!run_is_up(d))
		return;
	if (r > 0) {
		finish(d, true, code);
		return;
	}
	if (d->phase != W_GONE)
		return; /* W_FIND: its own timer goes on */
	if (r == 0 && ++d->answered >= ANSWERED_MAX) {
		d->host->log(d->ctx, GUST_LOG_DEBUG,
		             "debuggee pid %ld gone, dlv runs on: looking for the new one",
		             (long)d->debuggee);
		watch_begin(d);
		return;
	}
	if (r == -1 && ++d->refused >= REFUSED_MAX) {
		finish(d, false, 0);
		return;
	}
	if (r == -2 && now_ms() - d->gone_ms >= BUSY_MAX_MS) {
		finish(d, false, 0);
		return;
	}
	after(d, ASK_EVERY_MS);
}

static int parse_answer(const char *buf, int *code)
{
	static const char ex[] = "has exited with status ";
	const char *x = strstr(buf, ex);
	if (x && sscanf(x + sizeof ex - 1, "%d", code) == 1)
		return 1;
	return strstr(buf, "\"id\":1") ? 0 : -1;
}

static void on_ask_io(int fd, unsigned events, void *arg)
{
	static const char req[] =
	    "{\"method\":\"RPCServer.State\",\"params\":[{\"NonBlocking\":true}],\"id\":1}\n";
	struct dlv *d = arg;
	int code = 0;
	(void)events;
	if (!d->ask_sent) {
		int err = 0;
		socklen_t len = sizeof err;
		if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0 || err ||
		    write(fd, req, sizeof req - 1) != (ssize_t)(sizeof req - 1)) {
			answered(d, -1, 0);
			return;
		}
		d->ask_sent = true;
		d->ask_len = 0;
		d->host->io_mod(d->ctx, fd, GUST_IO_READ);
		return;
	}
	ssize_t n = read(fd, d->ask_buf + d->ask_len, sizeof d->ask_buf - 1 - d->ask_len);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n > 0)
		d->ask_len += (size_t)n;
	d->ask_buf[d->ask_len] = '\0';
	if (n > 0 && !memchr(d->ask_buf, '\n', d->ask_len) && d->ask_len < sizeof d->ask_buf - 1)
		return; /* more to come */
	int r = parse_answer(d->ask_buf, &code);
	answered(d, r, code);
}

static void on_ask_timeout(void *arg)
{
	struct dlv *d = arg;
	d->ask_timer = 0;
	answered(d, -2, 0);
}

/* Ask dlv RPCServer.State (not blocking) unless a question is out. */
static void ask(struct dlv *d)
{
	const struct gust_host *h = d->host;
	if (d->ask_fd >= 0)
		return;
	int fd = socket(d->addr.ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0) {
		answered(d, -1, 0);
		return;
	}
	if (connect(fd, (const struct sockaddr *)&d->addr, d->addrlen) < 0 &&
	    errno != EINPROGRESS) {
		close(fd);
		answered(d, -1, 0);
		return;
	}
	if (h->io_add(d->ctx, fd, GUST_IO_WRITE, on_ask_io, d) < 0) {
		close(fd);
		answered(d, -1, 0);
		return;
	}
	d->ask_fd = fd;
	d->ask_sent = false;
	d->ask_timer = h->timer_add(d->ctx, ASK_TIMEOUT_MS, on_ask_timeout, d);
}

static void debuggee_gone(struct dlv *d)
{
	unwatch_pid(d);
	d->phase = W_GONE;
	d->answered = d->refused = 0;
	d->gone_ms = now_ms();
	if (d->timer)
		d->host->timer_cancel(d->ctx, d->timer);
	d->timer = 0;
	watch_tick(d);
}

static void on_pidfd(int fd, unsigned events, void *arg)
{
	(void)fd, (void)events;
	debuggee_gone(arg);
}

static void watch_pid(struct dlv *d, pid_t pid)
{
	const struct gust_host *h = d->host;
	unwatch_pid(d);
	ask_close(d);
	d->phase = W_WATCH;
	d->debuggee = pid;
#ifdef SYS_pidfd_open
	d->pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
#endif
	if (d->pidfd >= 0 && h->io_add(d->ctx, d->pidfd, GUST_IO_READ, on_pidfd, d) < 0) {
		close(d->pidfd);
		d->pidfd = -1;
	}
	if (pid_done(pid)) /* gone before the pidfd was opened */
		debuggee_gone(d);
	else if (d->pidfd < 0)
		after(d, POLL_MS);
}

static void watch_tick(void *arg)
{
	struct dlv *d = arg;
	pid_t pid;
	d->timer = 0;
	if (!run_is_up(d))
		return;
	switch (d->phase) {
	case W_FIND:
		if ((pid = find_debuggee(d))) {
			watch_pid(d, pid);
			return;
		}
		if (++d->tries >= 4)
			ask(d); /* exited before it was ever seen? */
		d->delay_ms = d->delay_ms * 2 > FIND_MAX_MS ? FIND_MAX_MS : d->delay_ms * 2;
		after(d, d->delay_ms);
		return;
	case W_WATCH: /* polled: no pidfd */
		if (pid_done(d->debuggee))
			debuggee_gone(d);
		else
			after(d, POLL_MS);
		return;
	case W_GONE:
		if ((pid = find_debuggee(d)) && pid != d->debuggee) {
			d->host->log(d->ctx, GUST_LOG_DEBUG,
			             "debuggee pid %ld gone, dlv started pid %ld: watching it",
			             (long)d->debuggee, (long)pid);
			watch_pid(d, pid);
			return;
		}
		ask(d);
		return;
	}
}

static void describe(int status, char *buf, size_t len)
{
	if (WIFEXITED(status)) {
		snprintf(buf, len, "exit status %d", WEXITSTATUS(status));
	} else if (WIFSIGNALED(status)) {
		int sig = WTERMSIG(status);
		const char *name = sig == SIGKILL   ? "SIGKILL"
		                   : sig == SIGTERM ? "SIGTERM"
		                   : sig == SIGHUP  ? "SIGHUP"
		                   : sig == SIGINT  ? "SIGINT"
		                   : sig == SIGSEGV ? "SIGSEGV"
		                   : sig == SIGABRT ? "SIGABRT"
		                   : sig == SIGQUIT ? "SIGQUIT"
		                                    : NULL;
		if (name)
			snprintf(buf, len, "killed by signal %d, %s", sig, name);
		else
			snprintf(buf, len, "killed by signal %d", sig);
	} else {
		snprintf(buf, len, "status 0x%x", (unsigned)status);
	}
}

static void on_dlv_exit(struct runcmd *rc, int status, void *arg)
{
	struct dlv *d = arg;
	(void)rc;
	char what[64];
	watch_end(d);
	describe(status, what, sizeof what);
	pid_t orphan = find_debuggee(d);
	if (orphan)
		d->host->log(d->ctx, GUST_LOG_WARN,
		             "dlv (pid %ld) exited (%s) and left its debuggee running; removing "
		             "the orphaned debuggee pid %ld (%s) and the rest of the run",
		             (long)d->pid, what, (long)orphan, d->bin_abs);
	else
		d->host->log(d->ctx, GUST_LOG_WARN,
		             "dlv (pid %ld) exited (%s); removing whatever is left of the run%s",
		             (long)d->pid, what,
		             WIFEXITED(status) && WEXITSTATUS(status) != 0
		                 ? " (dlv's own message is above)"
		                 : "");
}

static void dlv_destroy(void *self)
{
	struct dlv *d = self;
	if (!d)
		return;
	watch_end(d);
	runcmd_fini(&d->rc);
	free(d->argv);
	free(d->dlv_path);
	free(d);
}

/* The options that shape dlv's command line, read once by dlv_create. */
struct dlv_cmd {
	const char *listen, *log_output, *dlv_opt;
	const char *const *args, *const *extra;
	size_t nargs, nextra;
	long long api;
	bool headless, multi, cont, log;
};

/* Read the runner's options into d and c; a bad one is reported through
 * the host. */
static int dlv_read_opts(struct dlv *d, const struct gust_opts *opts, struct dlv_cmd *c)
{
	const struct gust_host *host = d->host;
	struct gust_ctx *ctx = d->ctx;

	if (host->opt_string(ctx, opts, "bin", "./tmp/main", &d->bin) < 0 ||
	    host->opt_strv(ctx, opts, "args", &c->args, &c->nargs) < 0 ||
	    host->opt_string(ctx, opts, "listen", "127.0.0.1:2345", &c->listen) < 0 ||
	    host->opt_int(ctx, opts, "api_version", 2, 1, 2, &c->api) < 0 ||
	    host->opt_bool(ctx, opts, "headless", true, &c->headless) < 0 ||
	    host->opt_bool(ctx, opts, "accept_multiclient", true, &c->multi) < 0 ||
	    host->opt_bool(ctx, opts, "continue", true, &c->cont) < 0 ||
	    host->opt_bool(ctx, opts, "log", false, &c->log) < 0 ||
	    host->opt_string(ctx, opts, "log_output", NULL, &c->log_output) < 0 ||
	    host->opt_string(ctx, opts, "dlv", NULL, &c->dlv_opt) < 0 ||
	    host->opt_strv(ctx, opts, "extra_args", &c->extra, &c->nextra) < 0 ||
	    host->opt_bool(ctx, opts, "exit_with_program", true, &d->exit_with_program) < 0)
		return -1;
	/* dlv's own terminal client says the program exited and offers a
	 * restart: the user is there to decide. Without accept_multiclient
	 * dlv serves one client and closes its listener: gust's question
	 * would take that place, or find no one to answer. */
	d->exit_with_program = d->exit_with_program && c->headless && c->multi;
	if (c->log_output && !*c->log_output)
		c->log_output = NULL;
	return 0;
}

/* Refuse what dlv 1.20 refuses only after it is started. */
static int dlv_check_opts(struct dlv *d, const struct dlv_cmd *c)
{
	const struct gust_host *host = d->host;
	struct gust_ctx *ctx = d->ctx;

	if (!*d->bin) {
		host->set_error(ctx,
		                "/runner/bin: expected the path of the built program, got \"\"");
		return -1;
	}
	if (c->cont && !c->headless) {
		host->set_error(ctx, "/runner/continue: dlv runs --continue only with --headless; "
		                     "set runner.headless to true or runner.continue to false");
		return -1;
	}
	if (c->cont && !c->multi) {
		host->set_error(
		    ctx, "/runner/continue: dlv requires --accept-multiclient with --continue; set "
		         "runner.accept_multiclient to true or runner.continue to false");
		return -1;
	}
	if (!c->headless && d->rc.stdin_mode != RUNCMD_STDIN_TTY) {
		host->set_error(ctx,
		                "/runner/headless: dlv's own terminal client needs a terminal; set "
		                "runner.stdin to \"tty\" or runner.headless to true");
		return -1;
	}
	return 0;
}

/* d->argv: dlv exec with c's flags, the program and its arguments. */
static int dlv_build_argv(struct dlv *d, const struct dlv_cmd *c)
{
	/* dlv exec, 3 flags, --listen ADDR, --api-version N, --log,
	 * --log-output WHAT, BIN, --: 14 slots at most, then the extra
	 * arguments, the program's, and the terminator */
	size_t max = 14 + c->nextra + c->nargs + 1, n = 0;
	d->argv = calloc(max, sizeof *d->argv);
	if (!d->argv) {
		d->host->set_error(d->ctx, "out of memory");
		return -1;
	}
	d->argv[n++] = d->dlv_path;
	d->argv[n++] = "exec";
	if (c->headless)
		d->argv[n++] = "--headless";
	if (c->cont)
		d->argv[n++] = "--continue";
	if (c->multi)
		d->argv[n++] = "--accept-multiclient";
	d->argv[n++] = "--listen";
	d->argv[n++] = d->listen;
	d->argv[n++] = "--api-version";
	d->argv[n++] = d->api;
	/* dlv ignores --log-output without --log (with a warning). */
	if (c->log || c->log_output)
		d->argv[n++] = "--log";
	if (c->log_output) {
		d->argv[n++] = "--log-output";
		d->argv[n++] = c->log_output;
	}
	for (size_t i = 0; i < c->nextra; i++)
		d->argv[n++] = c->extra[i];
	d->argv[n++] = d->bin;
	if (c->nargs) {
		d->argv[n++] = "--";
		for (size_t i = 0; i < c->nargs; i++)
			d->argv[n++] = c->args[i];
	}
	d->argv[n] = NULL;
	return 0;
}

static void *dlv_create(const struct gust_host *host, struct gust_ctx *ctx,
                        const struct gust_opts *opts)
{
	if (host->opt_check_keys(ctx, opts, known_keys) < 0)
		return NULL;
	const char *const *socks;
	size_t nsocks = 0;
	if (host->opt_strv(ctx, opts, "sockets", &socks, &nsocks) < 0)
		return NULL;
	if (nsocks) {
		/* known, so that the refusal says why instead of "unknown key" */
		host->set_error(ctx, "sockets: not with the dlv runner: dlv starts the program "
		                     "itself, so LISTEN_PID would name dlv; use the plain runner, "
		                     "or let the program listen itself under dlv");
		return NULL;
	}
	struct dlv *d = calloc(1, sizeof *d);
	if (!d) {
		host->set_error(ctx, "out of memory");
		return NULL;
	}
	d->host = host;
	d->ctx = ctx;
	d->pidfd = -1;
	d->ask_fd = -1;
	if (runcmd_init(&d->rc, host, ctx, opts) < 0) {
		free(d);
		return NULL;
	}
	d->rc.reap_tree_on_exit = true;
	/* dlv listens on its own API port: the run is ready when the
	 * debuggee is, whatever dlv does */
	d->rc.ready_skip_root = true;
	d->rc.on_exit = on_dlv_exit;
	d->rc.on_exit_arg = d;

	struct dlv_cmd c = { 0 };
	if (dlv_read_opts(d, opts, &c) < 0 || dlv_check_opts(d, &c) < 0 ||
	    parse_listen(d, c.listen) < 0 || find_dlv(d, c.dlv_opt) < 0)
		goto fail;
	snprintf(d->api, sizeof d->api, "%lld", c.api);
	if (dlv_build_argv(d, &c) < 0)
		goto fail;
	set_bin_abs(d);
	return d;
fail:
	dlv_destroy(d);
	return NULL;
}

static int dlv_start(void *self)
{
	struct dlv *d = self;
	const struct gust_host *h = d->host;
	struct stat st;
	if (d->bin_abs[0] && stat(d->bin_abs, &st) < 0) {
		int e = errno;
		h->set_error(d->ctx,
		             "runner.bin \"%s\": %s (does the build write the program there?)",
		             d->bin_abs, strerror(e));
		return -e;
	}
	d->bin_dev = d->bin_abs[0] ? st.st_dev : 0;
	d->bin_ino = d->bin_abs[0] ? st.st_ino : 0;
	int r = check_listen_free(d);
	if (r < 0)
		return r;
	r = runcmd_start(&d->rc, d->argv);
	if (r < 0)
		return r;
	d->pid = d->rc.tree ? h->tree_pid(d->rc.tree) : 0;
	watch_begin(d);
	h->log(d->ctx, GUST_LOG_INFO,
	       "dlv (pid %ld) serving the debugger API v%s on %s: connect with dlv connect %s",
	       (long)d->pid, d->api, d->listen, d->listen);
	return 0;
}

static int dlv_stop(void *self, bool force)
{
	struct dlv *d = self;
	watch_end(d);
	return runcmd_stop(&d->rc, force);
}

static const struct gust_runner_ops dlv_ops = {
	.size = sizeof(struct gust_runner_ops),
	.create = dlv_create,
	.start = dlv_start,
	.stop = dlv_stop,
	.destroy = dlv_destroy,
};

/* Plugins are built with -fvisibility=hidden: this is the one export. */
GUST_PLUGIN_DEFINE(runner, "dlv", PACKAGE_VERSION, dlv_ops);
