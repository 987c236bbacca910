/* proxy.c - a browser's request forwarded to the app through libcurl, the
 * answer streamed back through libmicrohttpd.
 *
 * Both bodies stream with backpressure: each direction holds at most about
 * LR_BUF_MAX bytes; past that the browser's upload is suspended (libcurl
 * drains it), and libcurl's download is paused (the browser drains it).
 * The request-target goes to the app byte for byte (CURLOPT_REQUEST_TARGET),
 * with the browser's Host and every header but the hop-by-hop ones, plus
 * X-Forwarded-For/-Proto/-Host. Navigations (Accept names text/html) ask
 * the app for an uncompressed answer so the reload script can go into it;
 * other encodings pass untouched.
 *
 * While the app is restarting (or not up yet) a request waits, up to
 * wait_ms, and goes out once the new run is ready; one refused, or cut
 * before any answer while it had no body, waits and goes again, so a
 * browser that reloads during a rebuild gets the new page, not an error.
 */
#include "config.h"

#include "headers.h"
#include "inject.h"
#include "lr.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define CONTAINER(x) ((struct lr_req *)((char *)(x)-offsetof(struct lr_req, xfer)))

/* ---- the request toward the app ---- */

struct collect {
	struct lr_req *r;
	struct curl_slist *l;
	const char *connection; /* the browser's Connection header */
	const char *xff;        /* its X-Forwarded-For */
	bool accept_html, had_accept, failed;
};

static void add_header(struct collect *c, const char *name, const char *value)
{
	size_t len = strlen(name) + strlen(value) + 3;
	char *line = malloc(len);
	struct curl_slist *l = NULL;
	if (line) {
		/* "Name;" sends a header with an empty value, "Name:" none */
		if (*value)
			snprintf(line, len, "%s: %s", name, value);
		else
			snprintf(line, len, "%s;", name);
		l = curl_slist_append(c->l, line);
		free(line);
	}
	if (!l)
		c->failed = true;
	else
		c->l = l;
}

/* A line as libcurl takes it: "Name:" alone removes a header of its own. */
static void add_raw(struct collect *c, const char *line)
{
	struct curl_slist *l = curl_slist_append(c->l, line);
	if (!l)
		c->failed = true;
	else
		c->l = l;
}

static enum MHD_Result collect_one(void *cls, enum MHD_ValueKind kind, const char *name,
                                   const char *value)
{
	(void)kind;
	struct collect *c = cls;
	if (!value)
		value = "";
	if (!strcasecmp(name, "accept")) {
		c->had_accept = true;
		c->accept_html = c->accept_html || strstr(value, "text/html");
	}
	if (!strcasecmp(name, "connection"))
		c->connection = value;
	if (!strcasecmp(name, "x-forwarded-for")) {
		c->xff = value;
		return MHD_YES;
	}
	if (lr_hop_by_hop(name) || !strcasecmp(name, "expect") ||
	    !strcasecmp(name, "x-forwarded-proto") || !strcasecmp(name, "x-forwarded-host") ||
	    (c->connection && lr_has_token(c->connection, name)))
		return MHD_YES;
	if (!strcasecmp(name, "accept-encoding"))
		return MHD_YES; /* decided once every header is known */
	add_header(c, name, value);
	return MHD_YES;
}

static void client_address(struct lr_req *r, char *out, size_t len)
{
	const union MHD_ConnectionInfo *ci =
	    MHD_get_connection_info(r->conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	snprintf(out, len, "unknown");
	if (!ci || !ci->client_addr)
		return;
	if (ci->client_addr->sa_family == AF_INET)
		inet_ntop(AF_INET, &((struct sockaddr_in *)ci->client_addr)->sin_addr, out,
		          (socklen_t)len);
	else if (ci->client_addr->sa_family == AF_INET6)
		inet_ntop(AF_INET6, &((struct sockaddr_in6 *)ci->client_addr)->sin6_addr, out,
		          (socklen_t)len);
}

/* The headers the app gets. NULL on a failed allocation. */
static struct curl_slist *request_headers(struct lr_req *r)
{
	struct collect c = { .r = r };
	MHD_get_connection_values(r->conn, MHD_HEADER_KIND, collect_one, &c);
	const char *enc = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, "Accept-Encoding");
	if (enc && !c.accept_html)
		add_header(&c, "Accept-Encoding", enc);
	if (!c.had_accept)
		add_raw(&c, "Accept:"); /* no "Accept: * / *" of libcurl's */
	const char *host = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, "Host");
	char addr[INET6_ADDRSTRLEN + 1], xff[1024];
	client_address(r, addr, sizeof addr);
	snprintf(xff, sizeof xff, "%s%s%s", c.xff ? c.xff : "", c.xff ? ", " : "", addr);
	add_header(&c, "X-Forwarded-For", xff);
	add_header(&c, "X-Forwarded-Proto", "http");
	if (host)
		add_header(&c, "X-Forwarded-Host", host);
	add_raw(&c, "Expect:");
	if (r->upgrade) {
		const char *up = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, "Upgrade");
		add_header(&c, "Connection", "Upgrade");
		add_header(&c, "Upgrade", up ? up : "");
	}
	if (c.failed) {
		curl_slist_free_all(c.l);
		return NULL;
	}
	return c.l;
}

/* ---- libcurl's callbacks ---- */

static size_t on_header(char *line, size_t size, size_t n, void *arg)
{
	struct lr_req *r = arg;
	size_t len = size * n;
	r->got_bytes = true;
	if (r->headers_done || !(len <= 2 && (line[0] == '\r' || line[0] == '\n')))
		return len;
	long code = 0;
	curl_easy_getinfo(r->easy, CURLINFO_RESPONSE_CODE, &code);
	if (code < 200 && !(code == 101 && r->upgrade))
		return len; /* an interim answer (100, 103): the real one follows */
	r->status = code;
	r->headers_done = true;
	struct curl_header *type = NULL, *encoding = NULL;
	curl_easy_header(r->easy, "Content-Type", 0, CURLH_HEADER, -1, &type);
	curl_easy_header(r->easy, "Content-Encoding", 0, CURLH_HEADER, -1, &encoding);
	r->tagged = code >= 200 && code != 204 && code != 304 &&
	            lr_inject_wanted(type ? type->value : NULL, encoding ? encoding->value : NULL);
	/* the body's buffer toward the browser, which puts the tag in */
	if (!(r->inj = r->tagged ? lr_inject_new(r->s->tag, r->s->taglen) : lr_inject_new(NULL, 0)))
		return 0; /* libcurl ends the transfer: a failed write */
	lr_req_resume(r);
	return len;
}

static size_t on_write(char *data, size_t size, size_t n, void *arg)
{
	struct lr_req *r = arg;
	size_t len = size * n;
	r->got_bytes = true;
	if (r->upgrade && r->status == 101)
		return lr_relay_from_app(r, data, len);
	if (lr_inject_ready(r->inj) >= LR_BUF_MAX) {
		r->down_paused = true;
		return CURL_WRITEFUNC_PAUSE;
	}
	int rc = lr_inject_write(r->inj, data, len);
	lr_req_resume(r);
	return rc < 0 ? 0 : len;
}

static size_t on_read(char *buf, size_t size, size_t n, void *arg)
{
	struct lr_req *r = arg;
	size_t max = size * n;
	if (!r->up.len) {
		if (r->up_eof)
			return 0;
		r->up_paused = true;
		return CURL_READFUNC_PAUSE;
	}
	size_t k = r->up.len < max ? r->up.len : max;
	memcpy(buf, lr_buf_data(&r->up), k);
	lr_buf_take(&r->up, k);
	r->up_started = true;
	lr_req_resume(r); /* the browser may send more now */
	return k;
}

static curl_socket_t on_open_socket(void *arg, curlsocktype purpose, struct curl_sockaddr *a)
{
	struct lr_req *r = arg;
	(void)purpose;
	r->app_fd = socket(a->family, a->socktype | SOCK_CLOEXEC, a->protocol);
	return r->app_fd < 0 ? CURL_SOCKET_BAD : r->app_fd;
}

/* ---- the transfer ---- */

static void on_done(struct lr_xfer *x, CURLcode rc);
static void wait_for_app(struct lr_req *r);

static void drop_easy(struct lr_req *r)
{
	if (r->easy) {
		lr_curl_remove(r->s->curl, r->easy);
		curl_easy_cleanup(r->easy);
		r->easy = NULL;
	}
}

static void fail(struct lr_req *r, const char *why)
{
	r->fail = why;
	drop_easy(r);
	lr_req_resume(r);
}

static int setup_easy(struct lr_req *r)
{
	CURL *e = r->easy = curl_easy_init();
	if (!e)
		return -1;
	r->xfer.done = on_done;
	curl_easy_setopt(e, CURLOPT_PRIVATE, (char *)&r->xfer);
	curl_easy_setopt(e, CURLOPT_URL, r->s->app_url);
	curl_easy_setopt(e, CURLOPT_REQUEST_TARGET, r->uri);
	curl_easy_setopt(e, CURLOPT_PATH_AS_IS, 1L);
	curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http");
	curl_easy_setopt(e, CURLOPT_NOPROXY, "*");
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1);
	curl_easy_setopt(e, CURLOPT_HTTP_CONTENT_DECODING, 0L);
	curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, 5000L);
	curl_easy_setopt(e, CURLOPT_HTTPHEADER, r->hdrs);
	curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(e, CURLOPT_HEADERDATA, r);
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_write);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, r);
	if (r->head) {
		curl_easy_setopt(e, CURLOPT_NOBODY, 1L);
	} else if (r->has_body) {
		const char *cl = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND,
		                                             MHD_HTTP_HEADER_CONTENT_LENGTH);
		curl_easy_setopt(e, CURLOPT_UPLOAD, 1L);
		curl_easy_setopt(e, CURLOPT_READFUNCTION, on_read);
		curl_easy_setopt(e, CURLOPT_READDATA, r);
		curl_easy_setopt(e, CURLOPT_INFILESIZE_LARGE,
		                 cl ? (curl_off_t)strtoull(cl, NULL, 10) : (curl_off_t)-1);
		curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, r->method);
	} else if (strcmp(r->method, "GET")) {
		curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, r->method);
	}
	/* Connections to the app are kept for the next request: a new one
	 * each time costs a connect here and an accept in the app (measured
	 * with a Go app: more than a third of what the proxy added). An app
	 * that writes an answer in pieces with Nagle's algorithm on does not
	 * stall on them: curlloop.c acknowledges at once what is read. An
	 * upgrade gets a connection of its own, which is not kept: the relay
	 * writes its socket directly. */
	if (r->upgrade) {
		curl_easy_setopt(e, CURLOPT_FORBID_REUSE, 1L);
		curl_easy_setopt(e, CURLOPT_FRESH_CONNECT, 1L);
		curl_easy_setopt(e, CURLOPT_OPENSOCKETFUNCTION, on_open_socket);
		curl_easy_setopt(e, CURLOPT_OPENSOCKETDATA, r);
	}
	return 0;
}

static void start(struct lr_req *r)
{
	r->s->host->log(r->s->ctx, GUST_LOG_DEBUG, "%s %s", r->method, r->uri);
	r->waiting = false;
	r->got_bytes = r->up_paused = false;
	if (setup_easy(r) < 0 || lr_curl_add(r->s->curl, r->easy) < 0)
		fail(r, "cannot start a transfer to the app");
}

/* Whether a transfer that failed before any answer can go again: nothing
 * of the browser's body went out, and the app was not there or went away
 * before it said anything (it was being restarted). */
static bool can_retry(const struct lr_req *r, CURLcode rc)
{
	if (r->up_started || r->got_bytes)
		return false;
	return rc == CURLE_COULDNT_CONNECT || rc == CURLE_GOT_NOTHING || rc == CURLE_RECV_ERROR ||
	       rc == CURLE_SEND_ERROR;
}

static void on_done(struct lr_xfer *x, CURLcode rc)
{
	struct lr_req *r = CONTAINER(x);
	lr_curl_remove(r->s->curl, r->easy);
	if (r->upgrade && r->status == 101) {
		r->done = true;
		lr_relay_app_done(r);
		return;
	}
	if (!r->headers_done) {
		if (can_retry(r, rc) && lr_now_ms() - r->wait_since_ms < r->s->wait_ms) {
			curl_easy_cleanup(r->easy);
			r->easy = NULL;
			wait_for_app(r);
			return;
		}
		fail(r, curl_easy_strerror(rc));
		return;
	}
	r->done = true;
	r->rc = rc;
	if (r->inj && rc == CURLE_OK)
		lr_inject_finish(r->inj);
	lr_req_resume(r);
}

/* ---- waiting for the app ---- */

static void on_wait_timer(void *arg)
{
	struct lr_req *r = arg;
	r->wait_timer = 0;
	if (lr_now_ms() - r->wait_since_ms >= r->s->wait_ms)
		fail(r, "the app did not answer in time");
	else if (r->s->app_up && r->s->app_url[0])
		start(r);
	else
		wait_for_app(r);
}

/* Wait for the app: until it is up again (lr_proxy_app_up), retrying
 * with a backoff while it is said to be up but refuses, never past
 * wait_ms since the request came. */
static void wait_for_app(struct lr_req *r)
{
	struct lr_server *s = r->s;
	uint64_t waited = lr_now_ms() - r->wait_since_ms;
	uint64_t left = waited < s->wait_ms ? s->wait_ms - waited : 0;
	unsigned ms = (unsigned)left;
	if (s->app_up && s->app_url[0]) {
		r->retry_ms = r->retry_ms ? r->retry_ms * 2 : 50;
		if (r->retry_ms > 1000)
			r->retry_ms = 1000;
		if (r->retry_ms < ms)
			ms = r->retry_ms;
	}
	r->waiting = true;
	s->host->timer_cancel(s->ctx, r->wait_timer);
	r->wait_timer = s->host->timer_add(s->ctx, ms, on_wait_timer, r);
}

void lr_proxy_app_up(struct lr_server *s)
{
	for (struct lr_req *r = s->reqs; r; r = r->next)
		if (r->kind == LR_PROXY && r->waiting && !r->gone) {
			s->host->timer_cancel(s->ctx, r->wait_timer);
			r->wait_timer = 0;
			r->retry_ms = 0;
			start(r);
		}
}

/* ---- the answer toward the browser ---- */

static ssize_t reader(void *cls, uint64_t pos, char *buf, size_t max)
{
	(void)pos;
	struct lr_req *r = cls;
	if (r->s->stopping || r->hung_up)
		return MHD_CONTENT_READER_END_WITH_ERROR;
	size_t n = r->inj ? lr_inject_read(r->inj, buf, max) : 0;
	if (n) {
		if (r->down_paused && lr_inject_ready(r->inj) < LR_BUF_MAX / 2 && r->easy &&
		    !r->done) {
			r->down_paused = false;
			curl_easy_pause(r->easy, CURLPAUSE_CONT);
			lr_curl_kick(r->s->curl);
		}
		return (ssize_t)n;
	}
	if (r->done && r->rc != CURLE_OK)
		return MHD_CONTENT_READER_END_WITH_ERROR;
	if (r->done && (!r->inj || lr_inject_done(r->inj)))
		return MHD_CONTENT_READER_END_OF_STREAM;
	lr_req_suspend(r, true);
	return 0;
}

static void copy_headers(struct lr_req *r, struct MHD_Response *resp)
{
	struct curl_header *h = NULL;
	/* libcurl files a 101's headers as those of an interim answer */
	unsigned origin = r->status == 101 ? CURLH_1XX : CURLH_HEADER;
	while ((h = curl_easy_nextheader(r->easy, origin, -1, h))) {
		if (!strcasecmp(h->name, "upgrade") && r->status == 101)
			MHD_add_response_header(resp, h->name, h->value);
		else if (!lr_hop_by_hop(h->name))
			MHD_add_response_header(resp, h->name, h->value);
	}
}

static enum MHD_Result respond_fail(struct lr_req *r)
{
	char *page = NULL;
	int n = asprintf(&page,
	                 "<!doctype html><title>gust: no answer</title><body><pre>gust: the app at "
	                 "%s did not answer: %s.\nThis page reloads by itself once it does.</pre>"
	                 "%s</body>\n",
	                 r->s->app_url[0] ? r->s->app_url : "(address not known yet)", r->fail,
	                 r->s->tag);
	if (n < 0)
		return MHD_NO;
	struct MHD_Response *resp =
	    MHD_create_response_from_buffer((size_t)n, page, MHD_RESPMEM_MUST_FREE);
	if (!resp)
		free(page);
	return lr_req_queue(r, MHD_HTTP_BAD_GATEWAY, "text/html; charset=utf-8", resp);
}

static enum MHD_Result respond(struct lr_req *r)
{
	struct MHD_Response *resp;
	if (r->upgrade && r->status == 101) {
		resp = MHD_create_response_for_upgrade(lr_relay_upgraded, r);
	} else if (r->done && r->rc == CURLE_OK && !r->head && r->status != 204 &&
	           r->status != 304) {
		/* the whole answer is here (the usual case for a small one):
		 * from a buffer, libmicrohttpd sends head and body in one
		 * write, where a callback's body goes in writes of its own,
		 * each a turn of the loop later */
		size_t n = lr_inject_ready(r->inj);
		char *buf = malloc(n ? n : 1);
		if (!buf)
			return MHD_NO;
		n = lr_inject_read(r->inj, buf, n);
		resp = MHD_create_response_from_buffer(n, buf, MHD_RESPMEM_MUST_FREE);
		if (!resp)
			free(buf);
	} else {
		curl_off_t cl = -1;
		uint64_t size = MHD_SIZE_UNKNOWN;
		curl_easy_getinfo(r->easy, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &cl);
		if (cl >= 0)
			size = (uint64_t)cl + (r->tagged ? r->s->taglen : 0);
		if (r->status == 204 || r->status == 304)
			size = 0;
		resp = MHD_create_response_from_callback(size, 16 * 1024, reader, r, NULL);
	}
	if (!resp)
		return MHD_NO;
	copy_headers(r, resp);
	enum MHD_Result ret = MHD_queue_response(r->conn, (unsigned)r->status, resp);
	MHD_destroy_response(resp);
	r->queued = true;
	return ret;
}

/* ---- libmicrohttpd's side ---- */

static int begin(struct lr_req *r)
{
	const char *cl =
	    MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
	const char *te = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND,
	                                             MHD_HTTP_HEADER_TRANSFER_ENCODING);
	const char *conn =
	    MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONNECTION);
	r->head = !strcmp(r->method, "HEAD");
	r->has_body = cl || te;
	r->upgrade = conn && lr_has_token(conn, "upgrade") &&
	             MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, "Upgrade");
	if (!(r->hdrs = request_headers(r)))
		return -1;
	r->wait_since_ms = lr_now_ms();
	if (r->s->app_up && r->s->app_url[0])
		start(r);
	else
		wait_for_app(r);
	return 0;
}

enum MHD_Result lr_proxy(struct lr_req *r, const char *upload, size_t *upload_size)
{
	if (r->s->stopping || r->hung_up)
		return MHD_NO; /* gust quits, or the browser left: closed */
	if (!r->started) {
		r->started = true;
		return begin(r) < 0 ? MHD_NO : MHD_YES;
	}
	if (*upload_size) {
		if (r->done || r->fail) { /* the answer came: the rest is dropped */
			*upload_size = 0;
			return MHD_YES;
		}
		size_t room = r->up.len < LR_BUF_MAX ? LR_BUF_MAX - r->up.len : 0;
		size_t k = room < *upload_size ? room : *upload_size;
		if (lr_buf_put(&r->up, upload, k) < 0)
			return MHD_NO;
		*upload_size -= k;
		if (k && r->up_paused && r->easy) {
			r->up_paused = false;
			curl_easy_pause(r->easy, CURLPAUSE_CONT);
			lr_curl_kick(r->s->curl);
		}
		if (*upload_size)
			lr_req_suspend(r, false); /* libcurl resumes it as it drains */
		return MHD_YES;
	}
	if (!r->up_eof) {
		r->up_eof = true;
		if (r->up_paused && r->easy) {
			r->up_paused = false;
			curl_easy_pause(r->easy, CURLPAUSE_CONT);
			lr_curl_kick(r->s->curl);
		}
	}
	if (r->queued)
		return MHD_YES;
	if (r->fail)
		return respond_fail(r);
	if (!r->headers_done) {
		lr_req_suspend(r, true);
		return MHD_YES;
	}
	return respond(r);
}

void lr_proxy_end(struct lr_req *r)
{
	struct lr_server *s = r->s;
	s->host->timer_cancel(s->ctx, r->wait_timer);
	lr_relay_end(r);
	drop_easy(r);
	curl_slist_free_all(r->hdrs);
	lr_inject_free(r->inj);
	lr_buf_free(&r->up);
	lr_buf_free(&r->down);
}
