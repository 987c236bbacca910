/* control.c - the control socket's server (see control.h).
 *
 * Everything is non-blocking and driven by the loop: the listening socket,
 * and each connection with a buffer of one request line and a deadline to
 * send it. The reply is a few hundred bytes, sent with one send() right
 * after the request (a fresh socket's send buffer holds far more), then
 * the connection is closed; a short send only cuts that reply. A quit
 * request's connection is kept open, without reading, until gust exits:
 * the client sees the end of it when gust is done. */
#include "config.h"

#include "control.h"
#include "app.h"
#include "ctlproto.h"
#include "log.h"
#include "loop.h"

#include <errno.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* Connections served at once; more are answered "busy". */
#define CTL_MAX_CONNS 8
/* How long a client has to send its request line. */
#define CTL_DEADLINE_MS 2000u

struct conn {
	struct control *ctl;
	int fd; /* -1: the slot is free */
	uint64_t timer;
	bool held;    /* a quit's connection, closed when gust exits */
	long refused; /* the peer's uid when it is not gust's, else -1 */
	size_t len;
	char buf[CTL_LINE_MAX + 2]; /* the line, a \r, its \n */
};

struct control {
	struct app *app;
	struct loop *loop;
	int fd;
	struct sockaddr_un sa;
	dev_t dev; /* the socket file this gust made */
	ino_t ino;
	struct conn conns[CTL_MAX_CONNS];
};

/* Read what the client sent and nobody will read: a unix socket closed
 * with unread data resets the peer, whose reply is then lost. Bounded: a
 * client that keeps sending gets the reset. */
static void drain(int fd)
{
	char buf[1024];
	for (int i = 0; i < 8 && recv(fd, buf, sizeof buf, MSG_DONTWAIT) > 0; i++)
		;
}

static void conn_close(struct conn *c)
{
	if (c->fd < 0)
		return;
	drain(c->fd);
	if (c->timer)
		loop_timer_cancel(c->ctl->loop, c->timer);
	c->timer = 0;
	if (!c->held)
		loop_io_del(c->ctl->loop, c->fd);
	close(c->fd);
	c->fd = -1;
	c->held = false;
	c->len = 0;
}

/* Send the reply (best effort, see above). */
static void send_text(int fd, const char *text)
{
	(void)!send(fd, text, strlen(text), MSG_NOSIGNAL | MSG_DONTWAIT);
}

GUST_PRINTF(2, 3) static void reply_error(struct conn *c, const char *fmt, ...)
{
	char line[512] = "error: ";
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(line + 7, sizeof line - 8, fmt, ap);
	va_end(ap);
	strcat(line, "\n");
	send_text(c->fd, line);
	conn_close(c);
}

static void reply_ok(struct conn *c, const char *body)
{
	char line[512];
	snprintf(line, sizeof line, "ok\n%s\n", body);
	send_text(c->fd, line);
	conn_close(c);
}

/* ---- status ---- */

static const char *const state_names[] = { "idle", "building", "running", "stopping" };

/* A time on loop_now_ms()'s clock as UTC, ISO 8601 with milliseconds. */
static void wall_time(uint64_t mono_ms, char *buf, size_t len)
{
	struct timespec now;
	clock_gettime(CLOCK_REALTIME, &now);
	int64_t ms =
	    (int64_t)now.tv_sec * 1000 + now.tv_nsec / 1000000 - (int64_t)(loop_now_ms() - mono_ms);
	time_t s = (time_t)(ms / 1000);
	struct tm tm;
	gmtime_r(&s, &tm);
	char date[32];
	strftime(date, sizeof date, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf, len, "%s.%03dZ", date, (int)(ms % 1000));
}

static char *status_json(const struct app_status *st)
{
	char since[64], at[64];
	wall_time(st->since_ms, since, sizeof since);
	json_t *o = json_pack("{s:s, s:s, s:I, s:I}", "state", state_names[st->state], "since",
	                      since, "for_ms", (json_int_t)(loop_now_ms() - st->since_ms),
	                      "gust_pid", (json_int_t)getpid());
	if (!o)
		return NULL;
	json_object_set_new(o, "pid", st->pid ? json_integer(st->pid) : json_null());
	json_object_set_new(o, "ready", json_boolean(st->ready));
	json_t *b = json_null();
	if (st->built) {
		wall_time(st->build_done_ms, at, sizeof at);
		b = json_pack("{s:b, s:s, s:I, s:s}", "ok", st->build_ok, "result",
		              st->build_result, "duration_ms", (json_int_t)st->build_ms, "at", at);
	}
	json_object_set_new(o, "last_build", b);
	char *s = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	return s;
}

static char *status_text(const struct app_status *st)
{
	char since[64], build[256], pid[32] = "none";
	uint64_t now = loop_now_ms();
	wall_time(st->since_ms, since, sizeof since);
	if (st->pid)
		snprintf(pid, sizeof pid, "%ld", (long)st->pid);
	if (!st->built)
		snprintf(build, sizeof build, "none yet");
	else
		snprintf(build, sizeof build, "%s%s%s in %llu ms, %.1f s ago",
		         st->build_ok ? "" : "failed (", st->build_result, st->build_ok ? "" : ")",
		         (unsigned long long)st->build_ms,
		         (double)(now - st->build_done_ms) / 1000);
	char *s = NULL;
	if (asprintf(&s,
	             "state: %s since %s (%.1f s)\n"
	             "pid: %s\n"
	             "ready: %s\n"
	             "last build: %s",
	             state_names[st->state], since, (double)(now - st->since_ms) / 1000, pid,
	             st->ready      ? "yes"
	             : st->checking ? "no (checking)"
	                            : "no",
	             build) < 0)
		return NULL;
	return s;
}

/* ---- requests ---- */

static void handle(struct conn *c, const char *line, size_t len)
{
	struct app *app = c->ctl->app;
	struct ctl_req req;
	char err[512];
	int r;
	if (c->refused >= 0) {
		reply_error(c, "refused: uid %ld is not gust's (uid %ld)", c->refused,
		            (long)geteuid());
		return;
	}
	if (ctl_parse(line, len, &req, err, sizeof err) < 0) {
		reply_error(c, "%s", err);
		return;
	}
	switch (req.cmd) {
	case CTL_REBUILD:
	case CTL_RESTART:
		r = app_request(app, req.cmd == CTL_REBUILD, STAGE_GUST, "gust ctl");
		if (r == 0)
			reply_ok(c, req.cmd == CTL_REBUILD ? "rebuild requested"
			                                   : "restart requested");
		else if (r == -ESHUTDOWN)
			reply_error(c, "gust is quitting");
		else if (r == -EAGAIN)
			reply_error(c, "nothing to restart: no build succeeded yet");
		else
			reply_error(c, "%s", strerror(-r));
		return;
	case CTL_STATUS: {
		struct app_status st;
		app_status(app, &st);
		char *s = req.json ? status_json(&st) : status_text(&st);
		if (s)
			reply_ok(c, s);
		else
			reply_error(c, "out of memory");
		free(s);
		return;
	}
	case CTL_QUIT:
		/* the reply first: gust may leave its loop inside app_quit() */
		send_text(c->fd,
		          app->quitting ? "ok\nkilling the program at once\n" : "ok\nquitting\n");
		loop_io_del(c->ctl->loop, c->fd);
		loop_timer_cancel(c->ctl->loop, c->timer);
		c->timer = 0;
		c->held = true;
		app_quit(app, "gust ctl quit");
		return;
	}
}

static void on_conn_read(int fd, unsigned events, void *arg)
{
	struct conn *c = arg;
	(void)events;
	ssize_t n = recv(fd, c->buf + c->len, sizeof c->buf - c->len, MSG_DONTWAIT);
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
		return;
	if (n < 0) {
		conn_close(c);
		return;
	}
	if (n == 0) { /* the client is done: what it sent is its line */
		if (c->len)
			handle(c, c->buf, c->len);
		else
			conn_close(c);
		return;
	}
	c->len += (size_t)n;
	const char *nl = memchr(c->buf, '\n', c->len);
	if (nl)
		handle(c, c->buf, (size_t)(nl - c->buf));
	else if (c->len == sizeof c->buf)
		handle(c, c->buf, c->len); /* refused: too long */
}

static void on_conn_deadline(void *arg)
{
	struct conn *c = arg;
	c->timer = 0;
	reply_error(c, "no request line within %u ms", CTL_DEADLINE_MS);
}

/* A new connection. Only gust's own user is served; another's is read
 * like any (so the refusal is not lost to a reset) and refused then. */
static void serve(struct control *ctl, int fd)
{
	struct ucred cred = { .pid = 0, .uid = (uid_t)-1, .gid = (gid_t)-1 };
	socklen_t clen = sizeof cred;
	long refused = -1;
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &clen) < 0 || cred.uid != geteuid()) {
		refused = (long)cred.uid;
		log_msg(GUST_LOG_WARN, STAGE_GUST, "gust ctl: refused a connection from uid %ld",
		        refused);
	}
	struct conn *c = NULL;
	for (size_t i = 0; i < CTL_MAX_CONNS && !c; i++)
		if (ctl->conns[i].fd < 0)
			c = &ctl->conns[i];
	if (!c) {
		send_text(fd, "error: busy: too many gust ctl connections at once\n");
		drain(fd);
		close(fd);
		return;
	}
	c->fd = fd;
	c->len = 0;
	c->refused = refused;
	c->timer = loop_timer_add(ctl->loop, CTL_DEADLINE_MS, on_conn_deadline, c);
	if (!c->timer || loop_io_add(ctl->loop, fd, GUST_IO_READ, on_conn_read, c) < 0) {
		c->held = true; /* not in the loop */
		conn_close(c);
	}
}

static void on_accept(int fd, unsigned events, void *arg)
{
	struct control *ctl = arg;
	(void)events;
	/* a bounded batch per wakeup: the loop has other work */
	for (int i = 0; i < CTL_MAX_CONNS; i++) {
		int cfd = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (cfd < 0)
			return; /* EAGAIN, or a client that went away first */
		serve(ctl, cfd);
	}
}

/* ---- the socket ---- */

/* Bind and listen on ctl->sa; -errno. */
static int listen_on(struct control *ctl)
{
	const char *path = ctl->sa.sun_path;
	struct stat st;
	if (lstat(path, &st) == 0) {
		if (!S_ISSOCK(st.st_mode))
			return -EEXIST; /* not ours to remove */
		if (unlink(path) < 0)
			return -errno;
	}
	ctl->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (ctl->fd < 0)
		return -errno;
	/* the file is made 0600 by bind itself: no moment with a wider mode */
	mode_t old = umask(0177);
	int r = bind(ctl->fd, (struct sockaddr *)&ctl->sa, sizeof ctl->sa);
	int e = errno;
	umask(old);
	if (r < 0)
		return -e;
	if (stat(path, &st) < 0 || listen(ctl->fd, CTL_MAX_CONNS) < 0) {
		e = -errno;
		unlink(path);
		return e;
	}
	ctl->dev = st.st_dev;
	ctl->ino = st.st_ino;
	return loop_io_add(ctl->loop, ctl->fd, GUST_IO_READ, on_accept, ctl);
}

struct control *control_open(struct app *app, struct loop *loop, const char *tmp_dir)
{
	struct control *ctl = calloc(1, sizeof *ctl);
	if (!ctl) {
		log_msg(GUST_LOG_WARN, STAGE_GUST, "no control socket (gust ctl): out of memory");
		return NULL;
	}
	ctl->app = app;
	ctl->loop = loop;
	ctl->fd = -1;
	for (size_t i = 0; i < CTL_MAX_CONNS; i++) {
		ctl->conns[i].ctl = ctl;
		ctl->conns[i].fd = -1;
	}
	char err[4096 + 128];
	int r = ctl_sockaddr(tmp_dir, &ctl->sa, err, sizeof err);
	if (r == 0 && (r = listen_on(ctl)) < 0)
		snprintf(err, sizeof err, "control socket \"%s\": %s", ctl->sa.sun_path,
		         r == -EEXIST ? "exists and is not a socket" : strerror(-r));
	if (r < 0) {
		log_msg(GUST_LOG_WARN, STAGE_GUST, "%s; gust ctl cannot reach this gust", err);
		if (ctl->fd >= 0)
			close(ctl->fd);
		free(ctl);
		return NULL;
	}
	log_msg(GUST_LOG_DEBUG, STAGE_GUST, "control socket %s", ctl->sa.sun_path);
	return ctl;
}

void control_close(struct control *ctl)
{
	if (!ctl)
		return;
	/* only the file this gust made: never a next gust's; removed before
	 * the held quit connections end, so their clients find it gone */
	struct stat st;
	if (stat(ctl->sa.sun_path, &st) == 0 && st.st_dev == ctl->dev && st.st_ino == ctl->ino)
		unlink(ctl->sa.sun_path);
	loop_io_del(ctl->loop, ctl->fd);
	close(ctl->fd);
	for (size_t i = 0; i < CTL_MAX_CONNS; i++)
		conn_close(&ctl->conns[i]);
	free(ctl);
}
