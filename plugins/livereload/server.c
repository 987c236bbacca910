/* server.c - libmicrohttpd on gust's loop: the proxy's listening socket,
 * its epoll fd and timer through the host table, and the dispatch of each
 * browser request to the proxy's own files, the event stream, or the app.
 *
 * libmicrohttpd runs in "external" epoll mode: it owns one epoll fd, which
 * gust's loop watches; MHD_run() does the work, MHD_get_timeout() says when
 * it must run again (never, while nothing is pending: no idle wake-up). A
 * request waiting on something (the app, the browser's next bytes, an
 * event) is suspended; resuming it wakes the epoll fd through MHD's own
 * inter-thread channel, so the loop runs MHD again.
 */
#include "config.h"

#include "assets.h"
#include "lr.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

uint64_t lr_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* While a connection is suspended libmicrohttpd does not read it, so it
 * would not see the browser go away: a closed page's event stream, or a
 * request waiting on an app that does not answer, would keep its socket
 * (and the app's connection) until the next event or the app's answer.
 * The loop watches the socket meanwhile; the browser's end of the stream
 * (EOF or an error, with nothing unread before it) ends the request. */
static void unwatch(struct lr_req *r)
{
	if (r->watch_fd >= 0)
		r->s->host->io_del(r->s->ctx, r->watch_fd);
	r->watch_fd = -1;
}

static void on_hangup(int fd, unsigned events, void *arg)
{
	(void)events;
	struct lr_req *r = arg;
	char c;
	ssize_t n = recv(fd, &c, 1, MSG_PEEK | MSG_DONTWAIT);
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
		return;
	unwatch(r);
	if (n > 0)
		return; /* bytes of a next request: libmicrohttpd reads them later */
	r->hung_up = true;
	lr_req_resume(r);
}

void lr_req_suspend(struct lr_req *r, bool watch)
{
	/* never while stopping: libmicrohttpd must not be stopped with a
	 * suspended connection (it aborts) */
	if (r->suspended || r->gone || r->s->stopping)
		return;
	MHD_suspend_connection(r->conn);
	r->suspended = true;
	const union MHD_ConnectionInfo *ci =
	    watch ? MHD_get_connection_info(r->conn, MHD_CONNECTION_INFO_CONNECTION_FD) : NULL;
	if (ci && r->s->host->io_add(r->s->ctx, ci->connect_fd, GUST_IO_READ, on_hangup, r) == 0)
		r->watch_fd = ci->connect_fd;
}

static void run_mhd(struct lr_server *s);

static void on_kick(void *arg)
{
	struct lr_server *s = arg;
	s->kick = 0;
	run_mhd(s);
}

/* libmicrohttpd acts on a resumed connection (or an upgraded one the relay
 * closed) at its next run, which nothing wakes its epoll fd for in
 * external mode: run it from the loop, once, soon. */
void lr_server_kick(struct lr_server *s)
{
	if (!s->kick && !s->stopping)
		s->kick = s->host->timer_add(s->ctx, 0, on_kick, s);
}

void lr_req_resume(struct lr_req *r)
{
	struct lr_server *s = r->s;
	if (!r->suspended)
		return;
	unwatch(r);
	r->suspended = false;
	MHD_resume_connection(r->conn);
	lr_server_kick(s);
}

/* ---- the loop's side ---- */

static void on_timer(void *arg)
{
	struct lr_server *s = arg;
	s->timer = 0;
	run_mhd(s);
}

static void on_epoll(int fd, unsigned events, void *arg)
{
	(void)fd;
	(void)events;
	run_mhd(arg);
}

static void run_mhd(struct lr_server *s)
{
	MHD_UNSIGNED_LONG_LONG ms;
	MHD_run(s->d);
	s->host->timer_cancel(s->ctx, s->timer);
	s->timer = 0;
	if (MHD_get_timeout(s->d, &ms) == MHD_YES)
		s->timer =
		    s->host->timer_add(s->ctx, ms > 60000 ? 60000 : (unsigned)ms, on_timer, s);
}

/* ---- libmicrohttpd's callbacks ---- */

/* Called first for every request, with the request-target as sent: what
 * it returns is the request's state. The proxy forwards this text byte
 * for byte (libmicrohttpd's url argument is unescaped and without the
 * query string). */
static void *on_uri(void *cls, const char *uri, struct MHD_Connection *conn)
{
	struct lr_server *s = cls;
	struct lr_req *r = calloc(1, sizeof *r);
	if (!r)
		return NULL;
	if (!(r->uri = strdup(uri))) {
		free(r);
		return NULL;
	}
	r->s = s;
	r->conn = conn;
	r->app_fd = CURL_SOCKET_BAD;
	r->client_fd = -1;
	r->watch_fd = -1;
	r->next = s->reqs;
	if (s->reqs)
		s->reqs->prev = r;
	s->reqs = r;
	return r;
}

void lr_req_free(struct lr_req *r)
{
	struct lr_server *s = r->s;
	if (r->prev)
		r->prev->next = r->next;
	else
		s->reqs = r->next;
	if (r->next)
		r->next->prev = r->prev;
	free(r->uri);
	free(r->method);
	free(r);
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **req_cls,
                         enum MHD_RequestTerminationCode why)
{
	(void)cls;
	(void)conn;
	(void)why;
	struct lr_req *r = *req_cls;
	if (!r)
		return;
	*req_cls = NULL;
	unwatch(r);
	r->gone = true;
	r->suspended = false;
	if (r->relay_open)
		return; /* an upgraded request: the relay frees it as it closes */
	if (r->kind == LR_EVENTS)
		lr_events_end(r);
	else if (r->kind == LR_PROXY)
		lr_proxy_end(r);
	lr_req_free(r);
}

/* The path of a request-target, without its query: does it name ours? */
static bool path_is(const char *uri, const char *path)
{
	size_t n = strlen(path);
	return !strncmp(uri, path, n) && (uri[n] == '\0' || uri[n] == '?');
}

enum MHD_Result lr_req_queue(struct lr_req *r, unsigned status, const char *type,
                             struct MHD_Response *resp)
{
	if (!resp)
		return MHD_NO;
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
	enum MHD_Result ret = MHD_queue_response(r->conn, status, resp);
	MHD_destroy_response(resp);
	r->queued = true;
	return ret;
}

static enum MHD_Result send_text(struct lr_req *r, unsigned status, const char *type,
                                 const char *body, size_t len)
{
	return lr_req_queue(
	    r, status, type,
	    MHD_create_response_from_buffer(len, (void *)body, MHD_RESPMEM_PERSISTENT));
}

static enum MHD_Result serve_asset(struct lr_req *r, const char *method)
{
	static const char js[] = "text/javascript; charset=utf-8";
	static const char nope[] = "gust: no such file of the live-reload proxy\n";
	if (strcmp(method, "GET") && strcmp(method, "HEAD"))
		return send_text(r, MHD_HTTP_METHOD_NOT_ALLOWED, "text/plain", "", 0);
	if (path_is(r->uri, "/__gust/livereload.js"))
		return send_text(r, MHD_HTTP_OK, js, lr_client_js, lr_client_js_len);
	if (path_is(r->uri, "/__gust/worker.js"))
		return send_text(r, MHD_HTTP_OK, js, lr_worker_js, lr_worker_js_len);
	return send_text(r, MHD_HTTP_NOT_FOUND, "text/plain; charset=utf-8", nope, sizeof nope - 1);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version, const char *upload,
                                  size_t *upload_size, void **req_cls)
{
	(void)cls;
	(void)conn;
	(void)url;
	(void)version;
	struct lr_req *r = *req_cls;
	if (!r)
		return MHD_NO;
	if (r->kind == LR_NEW) {
		if (!(r->method = strdup(method)))
			return MHD_NO;
		if (path_is(r->uri, "/__gust/events"))
			r->kind = LR_EVENTS;
		else if (!strncmp(r->uri, "/__gust/", 8))
			r->kind = LR_ASSET;
		else
			r->kind = LR_PROXY;
	}
	switch (r->kind) {
	case LR_ASSET:
		if (*upload_size) { /* a body to a file of ours: dropped */
			*upload_size = 0;
			return MHD_YES;
		}
		return r->queued ? MHD_YES : serve_asset(r, method);
	case LR_EVENTS:
		if (*upload_size) {
			*upload_size = 0;
			return MHD_YES;
		}
		return r->queued ? MHD_YES : lr_events(r);
	default:
		return lr_proxy(r, upload, upload_size);
	}
}

/* libmicrohttpd's messages, printf-style: at debug level only. */
__attribute__((format(printf, 2, 0))) static void on_mhd_log(void *cls, const char *fmt, va_list ap)
{
	struct lr_server *s = cls;
	char line[256];
	vsnprintf(line, sizeof line, fmt, ap);
	line[strcspn(line, "\n")] = '\0';
	s->host->log(s->ctx, GUST_LOG_DEBUG, "http: %s", line);
}

/* ---- the listening socket ---- */

static int listen_on(const char *addr, unsigned port, char *err, size_t errlen)
{
	struct sockaddr_storage ss = { 0 };
	socklen_t len;
	struct sockaddr_in *in4 = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;
	if (inet_pton(AF_INET, addr, &in4->sin_addr) == 1) {
		in4->sin_family = AF_INET;
		in4->sin_port = htons((uint16_t)port);
		len = sizeof *in4;
	} else if (inet_pton(AF_INET6, addr, &in6->sin6_addr) == 1) {
		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons((uint16_t)port);
		len = sizeof *in6;
	} else {
		snprintf(err, errlen, "proxy_address \"%s\": not a numeric IPv4 or IPv6 address",
		         addr);
		return -1;
	}
	int one = 1;
	int fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) < 0 ||
	    bind(fd, (struct sockaddr *)&ss, len) < 0 || listen(fd, 128) < 0) {
		snprintf(err, errlen, "proxy_port %u: cannot listen on %s%s%s:%u: %s", port,
		         ss.ss_family == AF_INET6 ? "[" : "", addr,
		         ss.ss_family == AF_INET6 ? "]" : "", port, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

/* The proxy's listening sockets in this process, by address. A config
 * reload creates the new hook before it frees the old one: the new one
 * takes a duplicate of the old one's socket rather than binding the same
 * address again (which fails), so the port never closes and connections
 * waiting in its backlog are answered by the new proxy. */
struct held {
	char key[80];
	int fd; /* the newest server's */
	struct held *next;
};
static struct held *held;

static struct held **held_find(const char *key)
{
	struct held **pp = &held;
	while (*pp && strcmp((*pp)->key, key))
		pp = &(*pp)->next;
	return pp;
}

static int listen_held(struct lr_server *s, const char *addr, unsigned port, char *err,
                       size_t errlen)
{
	snprintf(s->listen_key, sizeof s->listen_key, "%s/%u", addr, port);
	struct held **pp = held_find(s->listen_key);
	if (*pp) {
		int fd = fcntl((*pp)->fd, F_DUPFD_CLOEXEC, 3);
		if (fd < 0)
			snprintf(err, errlen, "proxy_port %u: cannot take over the socket: %s",
			         port, strerror(errno));
		else
			(*pp)->fd = fd;
		return fd;
	}
	struct held *h = calloc(1, sizeof *h);
	int fd = h ? listen_on(addr, port, err, errlen) : -1;
	if (fd < 0) {
		if (!h)
			snprintf(err, errlen, "out of memory");
		free(h);
		return -1;
	}
	snprintf(h->key, sizeof h->key, "%s", s->listen_key);
	h->fd = fd;
	h->next = held;
	held = h;
	return fd;
}

/* The server no longer uses fd: forget it unless a newer one took it. */
static void unhold(struct lr_server *s, int fd)
{
	struct held **pp = held_find(s->listen_key);
	if (*pp && (*pp)->fd == fd) {
		struct held *h = *pp;
		*pp = h->next;
		free(h);
	}
}

int lr_server_start(struct lr_server *s, const char *addr, unsigned port, char *err, size_t errlen)
{
	int fd = listen_held(s, addr, port, err, errlen);
	if (fd < 0)
		return -1;
	s->listen_fd = fd;
	if (!(s->curl = lr_curl_new(s->host, s->ctx))) {
		unhold(s, fd);
		close(fd);
		snprintf(err, errlen, "cannot set up libcurl");
		return -1;
	}
	unsigned flags = MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME | MHD_ALLOW_UPGRADE |
	                 MHD_USE_TURBO | MHD_USE_ERROR_LOG;
	/* the logger first: libmicrohttpd says so for the options after it.
	 * The inactivity timeout ends only what libmicrohttpd itself handles
	 * (a connection between requests, or one sending its request slowly):
	 * a suspended connection (waiting on the app or for an event) never
	 * times out. */
	s->d = MHD_start_daemon(
	    flags, 0, NULL, NULL, on_request, s, MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, s,
	    MHD_OPTION_LISTEN_SOCKET, fd, MHD_OPTION_URI_LOG_CALLBACK, on_uri, s,
	    MHD_OPTION_NOTIFY_COMPLETED, on_completed, s, MHD_OPTION_CONNECTION_TIMEOUT, s->idle_s,
	    MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)(128 * 1024), MHD_OPTION_END);
	const union MHD_DaemonInfo *info =
	    s->d ? MHD_get_daemon_info(s->d, MHD_DAEMON_INFO_EPOLL_FD) : NULL;
	if (!info) {
		snprintf(err, errlen, "cannot start libmicrohttpd on %s:%u", addr, port);
		unhold(s, fd);
		if (s->d)
			MHD_stop_daemon(s->d);
		else
			close(fd);
		s->d = NULL;
		return -1;
	}
	s->epfd = info->epoll_fd;
	if (s->host->io_add(s->ctx, s->epfd, GUST_IO_READ, on_epoll, s) < 0) {
		snprintf(err, errlen, "cannot watch libmicrohttpd's epoll fd");
		unhold(s, fd);
		MHD_stop_daemon(s->d);
		s->d = NULL;
		return -1;
	}
	return 0;
}

void lr_server_stop(struct lr_server *s)
{
	if (s->d) {
		s->stopping = true;
		s->host->io_del(s->ctx, s->epfd);
		s->host->timer_cancel(s->ctx, s->timer);
		s->host->timer_cancel(s->ctx, s->kick);
		/* libmicrohttpd must not be stopped with suspended connections,
		 * nor with upgraded ones the application has not closed */
		for (struct lr_req *r = s->reqs, *next; r; r = next) {
			next = r->next;
			lr_req_resume(r);
			if (r->relay_open)
				lr_relay_end(r);
		}
		MHD_run(s->d);
		unhold(s, s->listen_fd);
		MHD_stop_daemon(s->d); /* closes the listening socket */
		s->d = NULL;
	}
	lr_curl_free(s->curl);
	s->curl = NULL;
}
