/* probe.c - readiness checks on the core's loop. */
#include "config.h"

#include "probe.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "curlfn.h"
#include "listening.h"
#include "loop.h"

#define BACKOFF_MIN_MS 5u
#define BACKOFF_MAX_MS 200u
#define BACKOFF_SHARE 4u /* ...or a quarter of the time waited, if longer */
#define TIMEOUT_DEFAULT_MS 30000u
#define HTTP_ATTEMPT_MS 2000L /* one request's bound; then it is retried */
#define MAX_PIDS 256

struct probe {
	struct loop *loop;
	struct probe_spec spec; /* target and re borrowed from the caller's */
	probe_pids_fn pids;
	void *pids_arg;
	probe_done_fn done;
	void *arg;
	unsigned backoff;
	uint64_t started; /* loop_now_ms() at probe_start() */
	uint64_t retry_timer, deadline_timer;
	int fd; /* PROBE_TCP: the connect in progress, or -1 */
	/* PROBE_HTTP */
	CURLM *multi;
	CURL *easy;
	uint64_t curl_timer;
	struct curl_slist *resolve;
	char status[128];
	unsigned long wakeups; /* callbacks of the loop spent on this probe */
};

/* ---- parsing the "ready" option ---- */

static int bad(char *err, size_t errlen, const char *section, const char *key, const char *why)
{
	snprintf(err, errlen, "%s.%s: %s", section, key, why);
	return -1;
}

/* "HOST:PORT" with HOST numeric (v4, or v6 in brackets) or localhost. */
static int parse_hostport(const char *s, char *host, size_t hostlen, unsigned *port)
{
	const char *colon = s[0] == '[' ? strstr(s, "]:") : strrchr(s, ':');
	if (!colon)
		return -1;
	const char *h = s[0] == '[' ? s + 1 : s;
	size_t hl = (size_t)(colon - h);
	if (hl == 0 || hl >= hostlen)
		return -1;
	memcpy(host, h, hl);
	host[hl] = '\0';
	const char *p = colon + (s[0] == '[' ? 2 : 1);
	char *end;
	long v = strtol(p, &end, 10);
	if (!*p || *end || v < 1 || v > 65535)
		return -1;
	*port = (unsigned)v;
	unsigned char buf[16];
	if (!strcmp(host, "localhost"))
		return 0;
	return inet_pton(s[0] == '[' ? AF_INET6 : AF_INET, host, buf) == 1 ? 0 : -1;
}

/* An http:// URL whose host is numeric or localhost: never a DNS query
 * (libcurl would resolve on a thread of its own). */
static int parse_url(const char *url, char *host, size_t hostlen, unsigned *port)
{
	if (strncmp(url, "http://", 7))
		return -1;
	const char *a = url + 7, *slash = strchr(a, '/');
	char hp[128];
	size_t len = slash ? (size_t)(slash - a) : strlen(a);
	if (len == 0 || len >= sizeof hp)
		return -1;
	memcpy(hp, a, len);
	hp[len] = '\0';
	if (!strchr(hp, ':') || (hp[0] == '[' && !strstr(hp, "]:"))) {
		size_t n = strlen(hp);
		if (n + 3 >= sizeof hp)
			return -1;
		memcpy(hp + n, ":80", 4);
	}
	return parse_hostport(hp, host, hostlen, port);
}

static int parse_object(struct probe_spec *spec, const json_t *ready, const char *section,
                        char *err, size_t errlen)
{
	if (json_object_size(ready) != 1)
		return bad(err, errlen, section, "ready",
		           "give exactly one of \"listen\", \"tcp\", \"http\", \"log\"");
	const char *key = json_object_iter_key(json_object_iter((json_t *)ready));
	const json_t *v = json_object_iter_value(json_object_iter((json_t *)ready));
	char where[64];
	snprintf(where, sizeof where, "ready.%s", key);
	if (!strcmp(key, "listen")) {
		if (!json_is_boolean(v))
			return bad(err, errlen, section, where, "expected true or false");
		spec->kind = json_is_true(v) ? PROBE_LISTEN : PROBE_OFF;
		return 0;
	}
	if (strcmp(key, "tcp") && strcmp(key, "http") && strcmp(key, "log"))
		return bad(err, errlen, section, "ready",
		           "unknown check; expected \"listen\", \"tcp\", \"http\" or \"log\"");
	if (!json_is_string(v) || !*json_string_value(v))
		return bad(err, errlen, section, where, "expected a non-empty string");
	const char *s = json_string_value(v);
	if (!strcmp(key, "tcp")) {
		spec->kind = PROBE_TCP;
		if (parse_hostport(s, spec->host, sizeof spec->host, &spec->port) < 0)
			return bad(err, errlen, section, where,
			           "expected HOST:PORT with a numeric host, [IPV6] or localhost");
	} else if (!strcmp(key, "http")) {
		spec->kind = PROBE_HTTP;
		if (parse_url(s, spec->host, sizeof spec->host, &spec->port) < 0)
			return bad(
			    err, errlen, section, where,
			    "expected http://HOST[:PORT]/PATH with a numeric host, [IPV6] or "
			    "localhost");
		/* loaded here, when configured: never mapped otherwise */
		char why[512];
		if (curlfn_load(NULL, why, sizeof why) < 0)
			return bad(err, errlen, section, where, why);
	} else {
		spec->kind = PROBE_LOG;
		int rc = regcomp(&spec->re, s, REG_EXTENDED | REG_NOSUB);
		if (rc) {
			char why[200] = "invalid regex: ";
			regerror(rc, NULL, why + strlen(why), sizeof why - strlen(why));
			return bad(err, errlen, section, where, why);
		}
	}
	spec->target = strdup(s);
	if (!spec->target)
		return bad(err, errlen, section, where, "out of memory");
	return 0;
}

int probe_spec_parse(struct probe_spec *spec, const json_t *ready, const json_t *timeout,
                     const char *section, char *err, size_t errlen)
{
	memset(spec, 0, sizeof *spec);
	spec->kind = PROBE_LISTEN;
	spec->timeout_ms = TIMEOUT_DEFAULT_MS;
	if (timeout) {
		if (!json_is_integer(timeout) || json_integer_value(timeout) < 1 ||
		    json_integer_value(timeout) > 3600000)
			return bad(err, errlen, section, "ready_timeout_ms",
			           "expected an integer from 1 to 3600000");
		spec->timeout_ms = (unsigned)json_integer_value(timeout);
	}
	if (!ready || json_is_true(ready))
		return 0;
	if (json_is_false(ready)) {
		spec->kind = PROBE_OFF;
		return 0;
	}
	if (!json_is_object(ready))
		return bad(
		    err, errlen, section, "ready",
		    "expected true, false or an object such as {\"tcp\": \"127.0.0.1:8080\"}");
	int r = parse_object(spec, ready, section, err, errlen);
	if (r < 0)
		probe_spec_fini(spec);
	return r;
}

void probe_spec_fini(struct probe_spec *spec)
{
	if (spec->kind == PROBE_LOG && spec->target)
		regfree(&spec->re);
	free(spec->target);
	memset(spec, 0, sizeof *spec);
}

/* ---- the probe ---- */

static void attempt(void *arg);

/* Report once; the owner may free p inside done(), so nothing after. */
static void finish(struct probe *p, enum probe_result r, const char *what)
{
	probe_done_fn done = p->done;
	p->done = NULL;
	loop_timer_cancel(p->loop, p->retry_timer);
	loop_timer_cancel(p->loop, p->deadline_timer);
	p->retry_timer = p->deadline_timer = 0;
	if (done)
		done(p->arg, r, what);
}

/* The next attempt: 5 ms after the first, doubling to 200 ms, and once
 * the check has waited longer than 800 ms, a quarter of the time waited,
 * so that a program that never gets ready costs a few wake-ups per
 * ready_timeout_ms, not one per 200 ms, and one that does is seen at most
 * a quarter late. */
static void retry_later(struct probe *p)
{
	uint64_t share = (loop_now_ms() - p->started) / BACKOFF_SHARE;
	unsigned ms = share > p->backoff ? (unsigned)share : p->backoff;
	p->retry_timer = loop_timer_add(p->loop, ms, attempt, p);
	p->backoff = p->backoff * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : p->backoff * 2;
}

static void on_deadline(void *arg)
{
	struct probe *p = arg;
	p->deadline_timer = 0;
	finish(p, PROBE_TIMEOUT, NULL);
}

static void check_listen(struct probe *p)
{
	pid_t pids[MAX_PIDS], skip = 0;
	size_t n = p->pids ? p->pids(p->pids_arg, pids, MAX_PIDS, &skip) : 0;
	struct listening l;
	if (listening_find(pids, n, &skip, skip ? 1 : 0, &l) == 1) {
		char what[160];
		snprintf(what, sizeof what, "%s%s(%s, pid %ld)", l.addr, l.addr[0] ? " " : "",
		         l.kind, (long)l.pid);
		finish(p, PROBE_READY, what);
		return;
	}
	retry_later(p);
}

/* ---- PROBE_TCP: a non-blocking connect watched by the loop ---- */

static void tcp_close(struct probe *p)
{
	if (p->fd >= 0) {
		loop_io_del(p->loop, p->fd);
		close(p->fd);
		p->fd = -1;
	}
}

static void on_connect(int fd, unsigned events, void *arg)
{
	struct probe *p = arg;
	p->wakeups++;
	int e = 0;
	socklen_t len = sizeof e;
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &len) < 0)
		e = errno;
	tcp_close(p);
	if (e == 0) {
		char what[96];
		snprintf(what, sizeof what, "%s (tcp connect)", p->spec.target);
		finish(p, PROBE_READY, what);
		return;
	}
	retry_later(p);
}

static void check_tcp(struct probe *p)
{
	struct sockaddr_storage ss = { 0 };
	struct sockaddr_in *v4 = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)&ss;
	socklen_t len;
	if (!strcmp(p->spec.host, "localhost") || inet_pton(AF_INET, p->spec.host, &v4->sin_addr)) {
		if (!strcmp(p->spec.host, "localhost"))
			v4->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		v4->sin_family = AF_INET;
		v4->sin_port = htons((uint16_t)p->spec.port);
		len = sizeof *v4;
	} else {
		inet_pton(AF_INET6, p->spec.host, &v6->sin6_addr);
		v6->sin6_family = AF_INET6;
		v6->sin6_port = htons((uint16_t)p->spec.port);
		len = sizeof *v6;
	}
	p->fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (p->fd < 0) {
		retry_later(p);
		return;
	}
	if (connect(p->fd, (struct sockaddr *)&ss, len) == 0 || errno == EINPROGRESS) {
		if (loop_io_add(p->loop, p->fd, GUST_IO_WRITE, on_connect, p) == 0)
			return;
	}
	close(p->fd);
	p->fd = -1;
	retry_later(p);
}

/* ---- PROBE_HTTP: libcurl's multi-socket API on the loop ---- */

static void curl_drive(struct probe *p, curl_socket_t fd, int mask)
{
	int running;
	curlfn->multi_socket_action(p->multi, fd, mask, &running);
	CURLMsg *m;
	int left;
	while ((m = curlfn->multi_info_read(p->multi, &left)))
		if (m->msg == CURLMSG_DONE) {
			long code = 0;
			curlfn->easy_getinfo(m->easy_handle, CURLINFO_RESPONSE_CODE, &code);
			curlfn->multi_remove_handle(p->multi, p->easy);
			if (m->data.result == CURLE_OK && code > 0 && code < 500) {
				snprintf(p->status, sizeof p->status, "%s (HTTP %ld)",
				         p->spec.target, code);
				finish(p, PROBE_READY, p->status);
				return;
			}
			retry_later(p);
			return;
		}
}

static void on_curl_io(int fd, unsigned events, void *arg)
{
	int mask = ((events & GUST_IO_READ) ? CURL_CSELECT_IN : 0) |
	           ((events & GUST_IO_WRITE) ? CURL_CSELECT_OUT : 0);
	((struct probe *)arg)->wakeups++;
	curl_drive(arg, fd, mask);
}

static int curl_socket_cb(CURL *easy, curl_socket_t s, int what, void *userp, void *socketp)
{
	struct probe *p = userp;
	if (what == CURL_POLL_REMOVE) {
		loop_io_del(p->loop, s);
		curlfn->multi_assign(p->multi, s, NULL);
		return 0;
	}
	unsigned ev =
	    (what & CURL_POLL_IN ? GUST_IO_READ : 0) | (what & CURL_POLL_OUT ? GUST_IO_WRITE : 0);
	if (socketp)
		return loop_io_mod(p->loop, s, ev) == 0 ? 0 : -1;
	curlfn->multi_assign(p->multi, s, p);
	return loop_io_add(p->loop, s, ev, on_curl_io, p) == 0 ? 0 : -1;
}

static void on_curl_timer(void *arg)
{
	struct probe *p = arg;
	p->wakeups++;
	p->curl_timer = 0;
	curl_drive(p, CURL_SOCKET_TIMEOUT, 0);
}

static int curl_timer_cb(CURLM *multi, long ms, void *userp)
{
	struct probe *p = userp;
	loop_timer_cancel(p->loop, p->curl_timer);
	p->curl_timer = ms < 0 ? 0 : loop_timer_add(p->loop, (unsigned)ms, on_curl_timer, p);
	return 0;
}

static size_t discard(char *ptr, size_t size, size_t n, void *arg)
{
	return size * n;
}

static int http_setup(struct probe *p)
{
	char entry[128], why[512];
	if (curlfn_load(NULL, why, sizeof why) < 0)
		return -1;
	if (!(p->multi = curlfn->multi_init()) || !(p->easy = curlfn->easy_init()))
		return -1;
	curlfn->multi_setopt(p->multi, CURLMOPT_SOCKETFUNCTION, curl_socket_cb);
	curlfn->multi_setopt(p->multi, CURLMOPT_SOCKETDATA, p);
	curlfn->multi_setopt(p->multi, CURLMOPT_TIMERFUNCTION, curl_timer_cb);
	curlfn->multi_setopt(p->multi, CURLMOPT_TIMERDATA, p);
	/* localhost is pinned so that nothing is ever resolved */
	snprintf(entry, sizeof entry, "localhost:%u:127.0.0.1", p->spec.port);
	p->resolve = curlfn->slist_append(NULL, entry);
	curlfn->easy_setopt(p->easy, CURLOPT_URL, p->spec.target);
	curlfn->easy_setopt(p->easy, CURLOPT_RESOLVE, p->resolve);
	curlfn->easy_setopt(p->easy, CURLOPT_PROTOCOLS_STR, "http");
	curlfn->easy_setopt(p->easy, CURLOPT_NOPROXY, "*");
	curlfn->easy_setopt(p->easy, CURLOPT_NOSIGNAL, 1L);
	curlfn->easy_setopt(p->easy, CURLOPT_TIMEOUT_MS, HTTP_ATTEMPT_MS);
	curlfn->easy_setopt(p->easy, CURLOPT_USERAGENT, "gust-ready/" VERSION);
	curlfn->easy_setopt(p->easy, CURLOPT_WRITEFUNCTION, discard);
	return 0;
}

static void check_http(struct probe *p)
{
	if (curlfn->multi_add_handle(p->multi, p->easy) != CURLM_OK)
		retry_later(p);
}

static void attempt(void *arg)
{
	struct probe *p = arg;
	p->wakeups++;
	p->retry_timer = 0;
	switch (p->spec.kind) {
	case PROBE_LISTEN:
		check_listen(p);
		break;
	case PROBE_TCP:
		check_tcp(p);
		break;
	case PROBE_HTTP:
		check_http(p);
		break;
	case PROBE_OFF:
	case PROBE_LOG:
		break;
	}
}

static void start_now(void *arg)
{
	struct probe *p = arg;
	p->retry_timer = 0;
	if (p->spec.kind == PROBE_OFF)
		finish(p, PROBE_READY, "started");
	else
		attempt(p);
}

struct probe *probe_start(struct loop *loop, const struct probe_spec *spec, probe_pids_fn pids,
                          void *pids_arg, probe_done_fn done, void *arg)
{
	struct probe *p = calloc(1, sizeof *p);
	if (!p)
		return NULL;
	*p = (struct probe){ .loop = loop,
		             .spec = *spec,
		             .pids = pids,
		             .pids_arg = pids_arg,
		             .done = done,
		             .arg = arg,
		             .backoff = BACKOFF_MIN_MS,
		             .started = loop_now_ms(),
		             .fd = -1 };
	if (spec->kind == PROBE_HTTP && http_setup(p) < 0) {
		probe_free(p);
		return NULL;
	}
	if (spec->kind != PROBE_OFF)
		p->deadline_timer = loop_timer_add(loop, spec->timeout_ms, on_deadline, p);
	/* the first check runs from the loop, so done() never runs inside
	 * probe_start() */
	p->retry_timer = loop_timer_add(loop, 0, start_now, p);
	return p;
}

void probe_line(struct probe *p, const char *line, size_t len)
{
	if (!p || !p->done || p->spec.kind != PROBE_LOG)
		return;
	char buf[4096];
	size_t n = len < sizeof buf - 1 ? len : sizeof buf - 1;
	memcpy(buf, line, n);
	buf[n] = '\0';
	if (n && buf[n - 1] == '\n')
		buf[--n] = '\0';
	if (regexec(&p->spec.re, buf, 0, NULL, 0) == 0) {
		char what[160];
		snprintf(what, sizeof what, "log line \"%.120s\"", buf);
		finish(p, PROBE_READY, what);
	}
}

unsigned long probe_wakeups(const struct probe *p)
{
	return p ? p->wakeups : 0;
}

void probe_free(struct probe *p)
{
	if (!p)
		return;
	loop_timer_cancel(p->loop, p->retry_timer);
	loop_timer_cancel(p->loop, p->deadline_timer);
	loop_timer_cancel(p->loop, p->curl_timer);
	tcp_close(p);
	if (p->multi) {
		if (p->easy)
			curlfn->multi_remove_handle(p->multi, p->easy);
		curlfn->multi_cleanup(p->multi);
	}
	if (p->easy)
		curlfn->easy_cleanup(p->easy);
	if (p->resolve)
		curlfn->slist_free_all(p->resolve);
	free(p);
}
