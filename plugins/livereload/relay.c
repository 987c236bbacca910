/* relay.c - after the app answered an upgrade (a WebSocket, say) with 101:
 * bytes relayed as they are between the browser's socket (handed over by
 * libmicrohttpd) and the app's (libcurl reads it, delivering what the app
 * sends as the "body" of the 101; the relay writes to it directly). Each
 * direction holds at most LR_BUF_MAX bytes: past that, reading from the
 * other side stops until the bytes went out. Either side closing ends the
 * relay once what it sent has been passed on.
 */
#include "config.h"

#include "lr.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

static void flush_to_app(struct lr_req *r);
static void flush_to_client(struct lr_req *r);

/* End the relay: both sockets closed, the request freed if libmicrohttpd
 * is already done with it. Never from inside a libcurl callback (it
 * removes the transfer): those defer it with close_soon(). */
static void relay_close(struct lr_req *r)
{
	struct lr_server *s = r->s;
	if (!r->relay_open)
		return;
	r->relay_open = false;
	s->host->timer_cancel(s->ctx, r->relay_timer);
	r->relay_timer = 0;
	if (r->client_fd >= 0)
		s->host->io_del(s->ctx, r->client_fd);
	if (r->app_fd != CURL_SOCKET_BAD)
		lr_curl_want_write(s->curl, r->app_fd, false, NULL, NULL);
	if (r->easy) {
		lr_curl_remove(s->curl, r->easy);
		curl_easy_cleanup(r->easy);
		r->easy = NULL;
	}
	r->app_fd = CURL_SOCKET_BAD;
	r->client_fd = -1;
	MHD_upgrade_action(r->urh, MHD_UPGRADE_ACTION_CLOSE);
	lr_server_kick(s); /* libmicrohttpd closes the browser's socket */
	if (r->gone) {
		lr_proxy_end(r);
		lr_req_free(r);
	}
}

static void on_close_timer(void *arg)
{
	struct lr_req *r = arg;
	r->relay_timer = 0;
	relay_close(r);
}

static void close_soon(struct lr_req *r)
{
	if (!r->relay_timer)
		r->relay_timer = r->s->host->timer_add(r->s->ctx, 0, on_close_timer, r);
}

/* Whether the relay has nothing more to do: both sides said all. */
static bool finished(const struct lr_req *r)
{
	return (r->app_eof && !r->down.len) || (r->client_eof && r->app_eof);
}

static void watch_client(struct lr_req *r)
{
	unsigned ev = (r->client_eof || r->up.len >= LR_BUF_MAX ? 0 : GUST_IO_READ) |
	              (r->down.len ? GUST_IO_WRITE : 0);
	r->s->host->io_mod(r->s->ctx, r->client_fd, ev);
}

static void on_app_writable(void *arg)
{
	flush_to_app(arg);
}

static void flush_to_app(struct lr_req *r)
{
	while (r->up.len && r->app_fd != CURL_SOCKET_BAD) {
		ssize_t n =
		    send(r->app_fd, lr_buf_data(&r->up), r->up.len, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n > 0) {
			lr_buf_take(&r->up, (size_t)n);
			continue;
		}
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			lr_curl_want_write(r->s->curl, r->app_fd, true, on_app_writable, r);
			return;
		}
		if (n < 0 && errno == EINTR)
			continue;
		close_soon(r);
		return;
	}
	if (r->app_fd != CURL_SOCKET_BAD) {
		lr_curl_want_write(r->s->curl, r->app_fd, false, NULL, NULL);
		if (r->client_eof)
			shutdown(r->app_fd, SHUT_WR);
	}
	watch_client(r);
}

static void flush_to_client(struct lr_req *r)
{
	while (r->down.len) {
		ssize_t n = send(r->client_fd, lr_buf_data(&r->down), r->down.len,
		                 MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n > 0) {
			lr_buf_take(&r->down, (size_t)n);
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		close_soon(r);
		return;
	}
	if (r->down_paused && r->down.len < LR_BUF_MAX / 2 && r->easy && !r->done) {
		r->down_paused = false;
		curl_easy_pause(r->easy, CURLPAUSE_CONT);
		lr_curl_kick(r->s->curl);
	}
	if (finished(r))
		close_soon(r);
	else
		watch_client(r);
}

static void on_client(int fd, unsigned events, void *arg)
{
	struct lr_req *r = arg;
	if (events & GUST_IO_WRITE)
		flush_to_client(r);
	if (!r->relay_open || !(events & GUST_IO_READ) || r->client_eof)
		return;
	char buf[16384];
	size_t room = LR_BUF_MAX - (r->up.len < LR_BUF_MAX ? r->up.len : LR_BUF_MAX);
	ssize_t n = recv(fd, buf, room < sizeof buf ? room : sizeof buf, MSG_DONTWAIT);
	if (n > 0) {
		if (lr_buf_put(&r->up, buf, (size_t)n) < 0)
			close_soon(r);
		else
			flush_to_app(r);
	} else if (n == 0) {
		r->client_eof = true;
		flush_to_app(r);
		if (finished(r))
			close_soon(r);
	} else if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
		close_soon(r);
	}
}

void lr_relay_upgraded(void *cls, struct MHD_Connection *conn, void *req_cls, const char *extra_in,
                       size_t extra_in_size, MHD_socket sock, struct MHD_UpgradeResponseHandle *urh)
{
	(void)conn;
	(void)req_cls;
	struct lr_req *r = cls;
	r->urh = urh;
	if (r->s->stopping) {
		/* the 101 went out in the last run before the stop: no relay
		 * may outlive libmicrohttpd */
		MHD_upgrade_action(urh, MHD_UPGRADE_ACTION_CLOSE);
		return;
	}
	r->client_fd = sock;
	r->relay_open = true;
	fcntl(sock, F_SETFL, fcntl(sock, F_GETFL) | O_NONBLOCK);
	if (r->s->host->io_add(r->s->ctx, sock, GUST_IO_READ, on_client, r) < 0 ||
	    lr_buf_put(&r->up, extra_in, extra_in_size) < 0) {
		close_soon(r);
		return;
	}
	flush_to_app(r);
	flush_to_client(r);
}

size_t lr_relay_from_app(struct lr_req *r, const char *data, size_t n)
{
	if (r->down.len >= LR_BUF_MAX) {
		r->down_paused = true;
		return CURL_WRITEFUNC_PAUSE;
	}
	if (lr_buf_put(&r->down, data, n) < 0)
		return 0;
	if (r->relay_open)
		flush_to_client(r);
	return n;
}

void lr_relay_app_done(struct lr_req *r)
{
	r->app_eof = true;
	r->app_fd = CURL_SOCKET_BAD; /* libcurl closed it with the transfer */
	if (r->relay_open)
		flush_to_client(r);
}

void lr_relay_end(struct lr_req *r)
{
	relay_close(r);
}
