/* test_probe.c - readiness checks on the real loop, against real
 * listeners on loopback that appear only after the probe started. */
#include "config.h"

#include <arpa/inet.h>
#include <check.h>
#include <stdbool.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "curlfn.h"
#include "unit.h"

#include "loop.h"
#include "probe.h"

struct outcome {
	bool done;
	enum probe_result result;
	char what[200];
	struct probe *free_me; /* freed from inside the callback */
};

static void on_done(void *arg, enum probe_result r, const char *what)
{
	struct outcome *o = arg;
	o->done = true;
	o->result = r;
	snprintf(o->what, sizeof o->what, "%s", what ? what : "");
	if (o->free_me)
		probe_free(o->free_me);
}

static bool run_until(struct loop *loop, const bool *flag, unsigned ms)
{
	uint64_t end = loop_now_ms() + ms;
	while (!*flag && loop_now_ms() < end)
		loop_once(loop, 10);
	return *flag;
}

static int parse(struct probe_spec *spec, const char *ready, const char *timeout, char *err,
                 size_t errlen)
{
	json_t *r = ready ? json_loads(ready, JSON_DECODE_ANY, NULL) : NULL;
	json_t *t = timeout ? json_loads(timeout, JSON_DECODE_ANY, NULL) : NULL;
	int rc = probe_spec_parse(spec, r, t, "runner", err, errlen);
	json_decref(r);
	json_decref(t);
	return rc;
}

START_TEST(test_parse)
{
	struct probe_spec s;
	char err[256];
	ck_assert_int_eq(parse(&s, NULL, NULL, err, sizeof err), 0);
	ck_assert_int_eq(s.kind, PROBE_LISTEN);
	ck_assert_uint_eq(s.timeout_ms, 30000);
	ck_assert_int_eq(parse(&s, "false", "250", err, sizeof err), 0);
	ck_assert_int_eq(s.kind, PROBE_OFF);
	ck_assert_uint_eq(s.timeout_ms, 250);
	ck_assert_int_eq(parse(&s, "{\"tcp\": \"[::1]:8080\"}", NULL, err, sizeof err), 0);
	ck_assert_int_eq(s.kind, PROBE_TCP);
	ck_assert_str_eq(s.host, "::1");
	ck_assert_uint_eq(s.port, 8080);
	probe_spec_fini(&s);
	ck_assert_int_eq(
	    parse(&s, "{\"http\": \"http://localhost/healthz\"}", NULL, err, sizeof err), 0);
	ck_assert_uint_eq(s.port, 80);
	probe_spec_fini(&s);
	static const struct {
		const char *ready, *timeout, *want;
	} bad[] = {
		{ "{\"tcp\": \"example.com:80\"}", NULL, "runner.ready.tcp: expected HOST:PORT" },
		{ "{\"tcp\": \"127.0.0.1:0\"}", NULL, "runner.ready.tcp: expected HOST:PORT" },
		{ "{\"http\": \"https://127.0.0.1/\"}", NULL,
		  "runner.ready.http: expected http://" },
		{ "{\"http\": \"http://example.com/\"}", NULL,
		  "runner.ready.http: expected http://" },
		{ "{\"log\": \"(\"}", NULL, "runner.ready.log: invalid regex" },
		{ "{\"log\": \"\"}", NULL, "runner.ready.log: expected a non-empty string" },
		{ "{\"listen\": 1}", NULL, "runner.ready.listen: expected true or false" },
		{ "{\"port\": 1}", NULL, "runner.ready: unknown check" },
		{ "{\"tcp\": \"127.0.0.1:1\", \"log\": \"x\"}", NULL,
		  "runner.ready: give exactly one" },
		{ "\"yes\"", NULL, "runner.ready: expected true, false or an object" },
		{ NULL, "0", "runner.ready_timeout_ms: expected an integer" },
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		err[0] = '\0';
		ck_assert_int_eq(parse(&s, bad[i].ready, bad[i].timeout, err, sizeof err), -1);
		ck_assert_msg(strstr(err, bad[i].want), "%s: got \"%s\"", bad[i].want, err);
	}
}
END_TEST

static int listener(int port) /* port 0: any; the fd, listening */
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	int one = 1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	struct sockaddr_in a = { .sin_family = AF_INET,
		                 .sin_port = htons((uint16_t)port),
		                 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
	ck_assert_int_eq(listen(fd, 8), 0);
	return fd;
}

static int port_of(int fd)
{
	struct sockaddr_in a;
	socklen_t len = sizeof a;
	ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&a, &len), 0);
	return ntohs(a.sin_port);
}

static int free_port(void)
{
	int fd = listener(0), port = port_of(fd);
	close(fd);
	return port;
}

struct late {
	int port, fd;
};

static void open_late(void *arg)
{
	struct late *l = arg;
	l->fd = listener(l->port);
}

START_TEST(test_tcp_waits_for_the_listener)
{
	struct loop *loop = loop_new();
	struct late late = { free_port(), -1 };
	char ready[64], err[256];
	snprintf(ready, sizeof ready, "{\"tcp\": \"127.0.0.1:%d\"}", late.port);
	struct probe_spec spec;
	ck_assert_int_eq(parse(&spec, ready, "5000", err, sizeof err), 0);
	struct outcome o = { 0 };
	struct probe *p = probe_start(loop, &spec, NULL, NULL, on_done, &o);
	ck_assert_ptr_nonnull(p);
	loop_timer_add(loop, 60, open_late, &late); /* refused until then */
	ck_assert(run_until(loop, &o.done, 6000));
	ck_assert_int_eq(o.result, PROBE_READY);
	ck_assert_int_ge(late.fd, 0); /* not ready before it listened */
	ck_assert_msg(strstr(o.what, "tcp connect"), "%s", o.what);
	probe_free(p);
	probe_spec_fini(&spec);
	close(late.fd);
	loop_free(loop);
}
END_TEST

START_TEST(test_tcp_times_out)
{
	struct loop *loop = loop_new();
	char ready[64], err[256];
	snprintf(ready, sizeof ready, "{\"tcp\": \"127.0.0.1:%d\"}", free_port());
	struct probe_spec spec;
	ck_assert_int_eq(parse(&spec, ready, "150", err, sizeof err), 0);
	struct outcome o = { 0 };
	struct probe *p = probe_start(loop, &spec, NULL, NULL, on_done, &o);
	o.free_me = p;
	ck_assert(run_until(loop, &o.done, 5000));
	ck_assert_int_eq(o.result, PROBE_TIMEOUT);
	probe_spec_fini(&spec);
	loop_free(loop);
}
END_TEST

/* A test-side HTTP responder on the loop: 503 to the first request, then
 * 200; it counts the requests. It never parses: it waits for the blank
 * line, then answers. */
struct server {
	struct loop *loop;
	int lfd, requests;
};

static void on_client(int fd, unsigned events, void *arg)
{
	struct server *s = arg;
	char buf[2048];
	ssize_t n = recv(fd, buf, sizeof buf - 1, 0);
	if (n > 0) {
		buf[n] = '\0';
		if (!strstr(buf, "\r\n\r\n"))
			return;
		const char *r = s->requests++ == 0
		                    ? "HTTP/1.1 503 Busy\r\nContent-Length: 0\r\n\r\n"
		                    : "HTTP/1.1 204 Ok\r\nContent-Length: 0\r\n\r\n";
		ck_assert_int_eq(send(fd, r, strlen(r), 0), (ssize_t)strlen(r));
	}
	loop_io_del(s->loop, fd);
	close(fd);
}

static void on_accept(int fd, unsigned events, void *arg)
{
	struct server *s = arg;
	int c = accept4(fd, NULL, NULL, SOCK_CLOEXEC);
	if (c >= 0)
		loop_io_add(s->loop, c, GUST_IO_READ, on_client, s);
}

static int threads(void)
{
	FILE *f = fopen("/proc/self/status", "r");
	char line[256];
	int n = -1;
	while (f && fgets(line, sizeof line, f))
		sscanf(line, "Threads: %d", &n);
	if (f)
		fclose(f);
	return n;
}

START_TEST(test_http_retries_until_below_500)
{
	struct loop *loop = loop_new();
	struct server s = { loop, listener(0), 0 };
	loop_io_add(loop, s.lfd, GUST_IO_READ, on_accept, &s);
	char ready[96], err[256];
	snprintf(ready, sizeof ready, "{\"http\": \"http://localhost:%d/healthz\"}",
	         port_of(s.lfd));
	struct probe_spec spec;
	ck_assert_int_eq(parse(&spec, ready, "5000", err, sizeof err), 0);
	struct outcome o = { 0 };
	struct probe *p = probe_start(loop, &spec, NULL, NULL, on_done, &o);
	int most = 0;
	uint64_t end = loop_now_ms() + 6000;
	while (!o.done && loop_now_ms() < end) {
		loop_once(loop, 10);
		most = threads() > most ? threads() : most;
	}
	ck_assert(o.done);
	ck_assert_int_eq(o.result, PROBE_READY);
	ck_assert_int_eq(s.requests, 2); /* the 503 did not count */
	ck_assert_msg(strstr(o.what, "HTTP 204"), "%s", o.what);
	ck_assert_int_eq(most, 1); /* libcurl ran on this loop, no thread */
	probe_free(p);
	probe_spec_fini(&spec);
	loop_io_del(loop, s.lfd);
	close(s.lfd);
	loop_free(loop);
}
END_TEST

/* PROBE_LISTEN: a child that listens only when told to. With skip, the
 * test listens first, the child keeps that socket (no exec), and the
 * probe is told that the test's sockets do not count: a debugger in
 * front of the program, between the program's fork and exec. */
struct child {
	pid_t pid;
	int go;     /* write a byte: listen now */
	pid_t skip; /* the process whose sockets do not count, or 0 */
};

static size_t child_pids(void *arg, pid_t *out, size_t max, pid_t *skip)
{
	struct child *c = arg;
	out[0] = c->pid;
	*skip = c->skip;
	return 1;
}

static void tell_child(void *arg)
{
	struct child *c = arg;
	ck_assert_int_eq(write(c->go, "x", 1), 1);
}

START_TEST(test_listen_finds_the_tree_listening)
{
	bool skip = _i == 1;
	int own = skip ? listener(0) : -1; /* the child inherits it */
	struct loop *loop = loop_new();
	int pfd[2];
	ck_assert_int_eq(pipe(pfd), 0);
	struct child c = { fork(), pfd[1], skip ? getpid() : 0 };
	if (c.pid == 0) {
		char x;
		close(pfd[1]);
		if (read(pfd[0], &x, 1) != 1)
			_exit(1);
		int fd = listener(0);
		while (read(pfd[0], &x, 1) > 0) /* until the test closes the pipe */
			;
		close(fd);
		_exit(0);
	}
	close(pfd[0]);
	struct probe_spec spec;
	char err[256];
	ck_assert_int_eq(parse(&spec, NULL, "5000", err, sizeof err), 0);
	struct outcome o = { 0 };
	struct probe *p = probe_start(loop, &spec, child_pids, &c, on_done, &o);
	loop_timer_add(loop, 60, tell_child, &c);
	ck_assert(run_until(loop, &o.done, 6000));
	ck_assert_int_eq(o.result, PROBE_READY);
	char want[64];
	snprintf(want, sizeof want, "(tcp, pid %ld)", (long)c.pid);
	ck_assert_msg(strstr(o.what, want), "%s", o.what);
	if (skip) {
		snprintf(want, sizeof want, "127.0.0.1:%d ", port_of(own));
		ck_assert_msg(!strstr(o.what, want), "the skipped process's socket: %s", o.what);
		close(own);
	}
	probe_free(p);
	close(c.go);
	int st;
	ck_assert_int_eq(waitpid(c.pid, &st, 0), c.pid);
	loop_free(loop);
}
END_TEST

START_TEST(test_log_and_off)
{
	struct loop *loop = loop_new();
	struct probe_spec spec;
	char err[256];
	ck_assert_int_eq(parse(&spec, "{\"log\": \"listening on [0-9]+\"}", NULL, err, sizeof err),
	                 0);
	struct outcome o = { 0 };
	struct probe *p = probe_start(loop, &spec, NULL, NULL, on_done, &o);
	loop_once(loop, 10);
	probe_line(p, "starting\n", 9);
	ck_assert(!o.done);
	o.free_me = p; /* freeing from inside done() is allowed */
	probe_line(p, "listening on 8080\n", 18);
	ck_assert(o.done);
	ck_assert_int_eq(o.result, PROBE_READY);
	ck_assert_str_eq(o.what, "log line \"listening on 8080\"");
	probe_spec_fini(&spec);

	ck_assert_int_eq(parse(&spec, "false", NULL, err, sizeof err), 0);
	struct outcome off = { 0 };
	p = probe_start(loop, &spec, NULL, NULL, on_done, &off);
	ck_assert(!off.done); /* never from inside probe_start() */
	ck_assert(run_until(loop, &off.done, 1000));
	ck_assert_str_eq(off.what, "started");
	probe_free(p);
	loop_free(loop);
}
END_TEST

/* Is libcurl mapped into this process? */
static bool curl_mapped(void)
{
	FILE *f = fopen("/proc/self/maps", "r");
	char line[512];
	bool found = false;
	while (f && !found && fgets(line, sizeof line, f))
		found = strstr(line, "/libcurl") != NULL;
	if (f)
		fclose(f);
	return found;
}

/* libcurl is loaded only once an "http" check is configured: linked, it
 * and its TLS libraries were most of an idle gust's RSS. */
START_TEST(test_curl_loaded_only_for_http)
{
	struct probe_spec spec;
	char err[256];
	ck_assert_int_eq(parse(&spec, "{\"tcp\": \"127.0.0.1:1\"}", NULL, err, sizeof err), 0);
	probe_spec_fini(&spec);
	ck_assert_int_eq(parse(&spec, NULL, NULL, err, sizeof err), 0);
	probe_spec_fini(&spec);
	ck_assert(!curl_mapped());
	ck_assert_int_eq(parse(&spec, "{\"http\": \"http://127.0.0.1:1/\"}", NULL, err, sizeof err),
	                 0);
	probe_spec_fini(&spec);
	ck_assert(curl_mapped());
}
END_TEST

/* A missing library is one line that names it. */
START_TEST(test_curl_missing_is_named)
{
	char err[256];
	ck_assert_int_eq(curlfn_load("libgust-test-no-such-curl.so.4", err, sizeof err), -1);
	ck_assert_msg(strstr(err, "needs libcurl (libgust-test-no-such-curl.so.4)"), "%s", err);
	ck_assert(!strchr(err, '\n'));
	ck_assert_ptr_null(curlfn);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("probe");
	TCase *tc = tcase_create("probe");
	tcase_add_test(tc, test_parse);
	tcase_add_test(tc, test_tcp_waits_for_the_listener);
	tcase_add_test(tc, test_tcp_times_out);
	tcase_add_test(tc, test_http_retries_until_below_500);
	tcase_add_loop_test(tc, test_listen_finds_the_tree_listening, 0, 2);
	tcase_add_test(tc, test_log_and_off);
	tcase_add_test(tc, test_curl_loaded_only_for_http);
	tcase_add_test(tc, test_curl_missing_is_named);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return unit_run(suite());
}
