/* curlloop.c - libcurl's multi-socket API on gust's loop (see curlloop.h). */
#include "config.h"

#include "curlloop.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <sys/socket.h>

/* A socket libcurl asked the loop to watch, and whether its owner also
 * wants to know when it is writable. */
struct sock {
	curl_socket_t fd;
	unsigned curl_ev;   /* GUST_IO_* libcurl asked for */
	bool want_write;    /* the owner's interest */
	void (*cb)(void *); /* the owner's callback */
	void *arg;
	bool registered;
	bool fresh; /* libcurl set its interest during this drive */
	struct sock *next;
};

struct lr_curl {
	const struct gust_host *host;
	struct gust_ctx *ctx;
	CURLM *multi;
	uint64_t timer;
	struct sock *socks;
};

static struct sock *find(struct lr_curl *c, curl_socket_t fd)
{
	for (struct sock *s = c->socks; s; s = s->next)
		if (s->fd == fd)
			return s;
	return NULL;
}

static void forget(struct lr_curl *c, struct sock *s)
{
	for (struct sock **pp = &c->socks; *pp; pp = &(*pp)->next)
		if (*pp == s) {
			*pp = s->next;
			break;
		}
	if (s->registered)
		c->host->io_del(c->ctx, s->fd);
	free(s);
}

/* Register, change or drop the loop's watch to match both interests. */
static void sync_watch(struct lr_curl *c, struct sock *s);

/* Acknowledge what libcurl read from the app at once, not after the
 * kernel's delayed-ACK timer (40 ms): an app that writes one answer in
 * pieces (Python's http.server: the head, then the body) with Nagle's
 * algorithm on sends the next piece only once the one before is
 * acknowledged, which on a kept-alive connection would stall each answer
 * that long. What may have been read: from the socket the loop reported,
 * and from any socket libcurl (re)armed in this drive (it reads at once
 * after sending a request on a reused connection). */
static void ack_reads(struct lr_curl *c, curl_socket_t fd)
{
	static const int one = 1;
	for (struct sock *s = c->socks; s; s = s->next) {
		if ((s->fresh || s->fd == fd) && (s->curl_ev & GUST_IO_READ))
			setsockopt(s->fd, IPPROTO_TCP, TCP_QUICKACK, &one, sizeof one);
		s->fresh = false;
	}
}

static void drive(struct lr_curl *c, curl_socket_t fd, int mask)
{
	int running, left;
	CURLMsg *m;
	curl_multi_socket_action(c->multi, fd, mask, &running);
	ack_reads(c, fd);
	while ((m = curl_multi_info_read(c->multi, &left)))
		if (m->msg == CURLMSG_DONE) {
			struct lr_xfer *x = NULL;
			CURLcode rc = m->data.result;
			curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&x);
			if (x)
				x->done(x, rc);
		}
}

static void on_io(int fd, unsigned events, void *arg)
{
	struct lr_curl *c = arg;
	struct sock *s = find(c, fd);
	if (s && (events & GUST_IO_WRITE) && s->want_write) {
		s->cb(s->arg);
		s = find(c, fd); /* the owner may have ended the transfer */
	}
	if (!s)
		return;
	int mask =
	    ((events & GUST_IO_READ) && (s->curl_ev & GUST_IO_READ) ? CURL_CSELECT_IN : 0) |
	    ((events & GUST_IO_WRITE) && (s->curl_ev & GUST_IO_WRITE) ? CURL_CSELECT_OUT : 0);
	if (mask)
		drive(c, fd, mask);
}

static void sync_watch(struct lr_curl *c, struct sock *s)
{
	unsigned ev = s->curl_ev | (s->want_write ? GUST_IO_WRITE : 0);
	if (!ev && s->registered) {
		c->host->io_del(c->ctx, s->fd);
		s->registered = false;
	} else if (ev && s->registered) {
		c->host->io_mod(c->ctx, s->fd, ev);
	} else if (ev) {
		s->registered = c->host->io_add(c->ctx, s->fd, ev, on_io, c) == 0;
	}
}

static int socket_cb(CURL *easy, curl_socket_t fd, int what, void *userp, void *socketp)
{
	(void)easy;
	struct lr_curl *c = userp;
	struct sock *s = socketp;
	if (what == CURL_POLL_REMOVE) {
		if (s)
			forget(c, s);
		return 0;
	}
	if (!s) {
		if (!(s = calloc(1, sizeof *s)))
			return -1;
		s->fd = fd;
		s->next = c->socks;
		c->socks = s;
		curl_multi_assign(c->multi, fd, s);
	}
	s->curl_ev =
	    (what & CURL_POLL_IN ? GUST_IO_READ : 0) | (what & CURL_POLL_OUT ? GUST_IO_WRITE : 0);
	s->fresh = true;
	sync_watch(c, s);
	return 0;
}

static void on_timer(void *arg)
{
	struct lr_curl *c = arg;
	c->timer = 0;
	drive(c, CURL_SOCKET_TIMEOUT, 0);
}

static int timer_cb(CURLM *multi, long ms, void *userp)
{
	(void)multi;
	struct lr_curl *c = userp;
	c->host->timer_cancel(c->ctx, c->timer);
	c->timer = ms < 0 ? 0 : c->host->timer_add(c->ctx, (unsigned)ms, on_timer, c);
	return 0;
}

struct lr_curl *lr_curl_new(const struct gust_host *host, struct gust_ctx *ctx)
{
	struct lr_curl *c = calloc(1, sizeof *c);
	if (!c || !(c->multi = curl_multi_init())) {
		free(c);
		return NULL;
	}
	c->host = host;
	c->ctx = ctx;
	curl_multi_setopt(c->multi, CURLMOPT_SOCKETFUNCTION, socket_cb);
	curl_multi_setopt(c->multi, CURLMOPT_SOCKETDATA, c);
	curl_multi_setopt(c->multi, CURLMOPT_TIMERFUNCTION, timer_cb);
	curl_multi_setopt(c->multi, CURLMOPT_TIMERDATA, c);
	/* the idle connections to the app kept for the next requests: by
	 * default libcurl keeps four per transfer ever running at once, so a
	 * burst of 200 browser requests left 200 sockets open for good */
	curl_multi_setopt(c->multi, CURLMOPT_MAXCONNECTS, (long)LR_KEPT_CONNECTIONS);
	return c;
}

int lr_curl_add(struct lr_curl *c, CURL *easy)
{
	return curl_multi_add_handle(c->multi, easy) == CURLM_OK ? 0 : -1;
}

void lr_curl_remove(struct lr_curl *c, CURL *easy)
{
	curl_multi_remove_handle(c->multi, easy);
}

void lr_curl_kick(struct lr_curl *c)
{
	if (!c->timer)
		c->timer = c->host->timer_add(c->ctx, 0, on_timer, c);
}

void lr_curl_want_write(struct lr_curl *c, curl_socket_t fd, bool on, void (*cb)(void *arg),
                        void *arg)
{
	struct sock *s = find(c, fd);
	if (!s)
		return;
	s->want_write = on;
	s->cb = cb;
	s->arg = arg;
	sync_watch(c, s);
}

void lr_curl_free(struct lr_curl *c)
{
	if (!c)
		return;
	c->host->timer_cancel(c->ctx, c->timer);
	curl_multi_cleanup(c->multi);
	while (c->socks)
		forget(c, c->socks);
	free(c);
}
