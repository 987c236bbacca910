/* test_sockets.c - the runner's listening sockets (plugins/lib/sockets.c) on
 * real loopback addresses and real unix sockets under a temporary root. */
#include "config.h"

#include <arpa/inet.h>
#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "unit.h"

#include "sockets.h"

static char root[256];

static void setup(void)
{
	snprintf(root, sizeof root, "%s/gust-sockets.XXXXXX",
	         getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	ck_assert_ptr_nonnull(mkdtemp(root));
}

static void teardown(void)
{
	char cmd[300];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", root);
	ck_assert_int_eq(system(cmd), 0);
}

static int open_fds(void)
{
	int n = 0;
	DIR *d = opendir("/proc/self/fd");
	for (struct dirent *e; d && (e = readdir(d));)
		n += e->d_name[0] != '.';
	closedir(d);
	return n;
}

/* A loopback port nobody listens on right now. */
static int free_port(void)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof a;
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
	ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&a, &len), 0);
	close(fd);
	return ntohs(a.sin_port);
}

static int connect_tcp(int port)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = { .sin_family = AF_INET,
		                 .sin_port = htons((uint16_t)port),
		                 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	int r = connect(fd, (struct sockaddr *)&a, sizeof a);
	close(fd);
	return r;
}

static int listen_tcp(int port)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = { .sin_family = AF_INET,
		                 .sin_port = htons((uint16_t)port),
		                 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
	ck_assert_int_eq(listen(fd, 4), 0);
	return fd;
}

START_TEST(test_tcp_listens_above_the_passed_range)
{
	int p1 = free_port(), p2 = free_port();
	char a[64], b[64], err[512];
	snprintf(a, sizeof a, "tcp:127.0.0.1:%d", p1);
	snprintf(b, sizeof b, "web=tcp:localhost:%d", p2);
	const char *specs[] = { a, b };
	struct socks s;
	ck_assert_msg(socks_open(&s, specs, 2, root, err, sizeof err) == 0, "%s", err);
	ck_assert_uint_eq(s.n, 2);
	for (size_t i = 0; i < 2; i++) {
		ck_assert_int_ge(s.fds[i], 5); /* never one of 3, 4: the targets */
		ck_assert_int_eq(fcntl(s.fds[i], F_GETFD) & FD_CLOEXEC, FD_CLOEXEC);
	}
	ck_assert_int_eq(connect_tcp(p1), 0); /* in the backlog, unanswered */
	ck_assert_int_eq(connect_tcp(p2), 0);
	int c = accept(s.fds[0], NULL, NULL);
	ck_assert_int_ge(c, 0);
	close(c);
	char want[128];
	snprintf(want, sizeof want, "LISTEN_FDNAMES=tcp-%d:web", p1);
	ck_assert_str_eq(s.fdnames, want);
	ck_assert_str_eq(s.fdcount, "LISTEN_FDS=2");
	socks_close(&s);
	ck_assert_int_ne(connect_tcp(p1), 0);
}
END_TEST

START_TEST(test_ipv6_loopback)
{
	int probe = socket(AF_INET6, SOCK_STREAM, 0);
	struct sockaddr_in6 a = { .sin6_family = AF_INET6, .sin6_addr = IN6ADDR_LOOPBACK_INIT };
	int have6 = probe >= 0 && bind(probe, (struct sockaddr *)&a, sizeof a) == 0;
	socklen_t len = sizeof a;
	int port =
	    have6 && getsockname(probe, (struct sockaddr *)&a, &len) == 0 ? ntohs(a.sin6_port) : 0;
	if (probe >= 0)
		close(probe);
	char spec[64], err[512];
	snprintf(spec, sizeof spec, "tcp:[::1]:%d", port ? port : 8080);
	const char *specs[] = { spec };
	struct socks s;
	int r = socks_open(&s, specs, 1, root, err, sizeof err);
	if (!have6) { /* no IPv6 loopback here: the reason must say so */
		ck_assert_int_eq(r, -1);
		ck_assert_msg(strstr(err, "sockets[0]") && strstr(err, "cannot"), "%s", err);
		return;
	}
	ck_assert_msg(r == 0, "%s", err);
	struct sockaddr_in6 got;
	len = sizeof got;
	ck_assert_int_eq(getsockname(s.fds[0], (struct sockaddr *)&got, &len), 0);
	ck_assert_int_eq(got.sin6_family, AF_INET6);
	ck_assert_int_eq(ntohs(got.sin6_port), port);
	socks_close(&s);
}
END_TEST

START_TEST(test_port_in_use_is_named_and_nothing_is_kept)
{
	int p1 = free_port(), p2 = free_port();
	int other = listen_tcp(p2);
	char a[64], b[64], err[512];
	snprintf(a, sizeof a, "tcp:127.0.0.1:%d", p1);
	snprintf(b, sizeof b, "tcp:127.0.0.1:%d", p2);
	const char *specs[] = { a, b };
	int before = open_fds();
	struct socks s;
	ck_assert_int_eq(socks_open(&s, specs, 2, root, err, sizeof err), -1);
	ck_assert_msg(strstr(err, "sockets[1]") && strstr(err, b) &&
	                  strstr(err, "another process has it"),
	              "%s", err);
	ck_assert_int_eq(open_fds(), before); /* the first socket is closed again */
	ck_assert_int_ne(connect_tcp(p1), 0); /* and no longer listens */
	close(other);
}
END_TEST

START_TEST(test_bad_specs)
{
	static const struct {
		const char *spec, *why;
	} bad[] = {
		{ "udp:127.0.0.1:80", "expected \"tcp:HOST:PORT\"" },
		{ "tcp:127.0.0.1", "expected tcp:HOST:PORT" },
		{ "tcp:127.0.0.1:0", "the port must be" },
		{ "tcp:127.0.0.1:65536", "the port must be" },
		{ "tcp:127.0.0.1:80x", "the port must be" },
		{ "tcp:example.com:80", "not a numeric IPv4 address" },
		{ "tcp:[::1:80", "expected tcp:[IPV6]:PORT" },
		{ "tcp:[127.0.0.1]:80", "not a numeric IPv6 address" },
		{ "my name=tcp:127.0.0.1:80", "the name (before '=')" },
		{ "=tcp:127.0.0.1:80", "the name (before '=')" },
		{ "unix:", "expected unix:PATH" },
		{ "", "expected \"tcp:HOST:PORT\"" },
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		const char *specs[] = { "tcp:127.0.0.1:1", bad[i].spec };
		char err[512], want[256];
		struct socks s;
		int before = open_fds();
		ck_assert_int_eq(socks_open(&s, specs, 2, root, err, sizeof err), -1);
		snprintf(want, sizeof want, "sockets[1] \"%s\": ", bad[i].spec);
		ck_assert_msg(strstr(err, want) && strstr(err, bad[i].why), "%s: %s", bad[i].spec,
		              err);
		ck_assert_int_eq(open_fds(), before); /* parsed before anything is opened */
	}
}
END_TEST

START_TEST(test_same_address_twice)
{
	int p = free_port();
	char a[64], b[64], err[512];
	snprintf(a, sizeof a, "tcp:127.0.0.1:%d", p);
	snprintf(b, sizeof b, "x=tcp:localhost:%d", p);
	const char *specs[] = { a, b };
	struct socks s;
	ck_assert_int_eq(socks_open(&s, specs, 2, root, err, sizeof err), -1);
	ck_assert_msg(strstr(err, "sockets[1]") && strstr(err, "the same address as sockets[0]"),
	              "%s", err);
}
END_TEST

static int connect_unix(const char *path)
{
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);
	struct sockaddr_un un = { .sun_family = AF_UNIX };
	snprintf(un.sun_path, sizeof un.sun_path, "%.100s", path);
	int r = connect(fd, (struct sockaddr *)&un, sizeof un);
	close(fd);
	return r;
}

/* A socket file left by a listener that is gone. */
static void stale_socket(const char *path)
{
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);
	struct sockaddr_un un = { .sun_family = AF_UNIX };
	snprintf(un.sun_path, sizeof un.sun_path, "%.100s", path);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&un, sizeof un), 0);
	close(fd);
}

START_TEST(test_unix_socket_relative_stale_and_removed)
{
	char path[300], err[512];
	snprintf(path, sizeof path, "%s/app.sock", root);
	stale_socket(path);
	ck_assert_int_ne(connect_unix(path), 0);
	const char *specs[] = { "unix:app.sock" };
	struct socks s;
	ck_assert_msg(socks_open(&s, specs, 1, root, err, sizeof err) == 0, "%s", err);
	ck_assert_str_eq(s.fdnames, "LISTEN_FDNAMES=unix-app.sock");
	ck_assert_int_eq(connect_unix(path), 0);
	socks_close(&s);
	ck_assert_int_ne(access(path, F_OK), 0); /* gust's socket is removed */
}
END_TEST

START_TEST(test_unix_path_that_is_not_a_socket_is_left_alone)
{
	char path[300], err[512];
	snprintf(path, sizeof path, "%s/data", root);
	FILE *f = fopen(path, "w");
	fputs("keep me\n", f);
	fclose(f);
	const char *specs[] = { "unix:data" };
	struct socks s;
	ck_assert_int_eq(socks_open(&s, specs, 1, root, err, sizeof err), -1);
	ck_assert_msg(strstr(err, "sockets[0] \"unix:data\"") && strstr(err, "is not a socket"),
	              "%s", err);
	char buf[32] = "";
	f = fopen(path, "r");
	ck_assert_ptr_nonnull(fgets(buf, sizeof buf, f));
	fclose(f);
	ck_assert_str_eq(buf, "keep me\n");
}
END_TEST

START_TEST(test_unix_socket_in_use_is_refused)
{
	char path[300], err[512];
	snprintf(path, sizeof path, "%s/busy.sock", root);
	const char *specs[] = { "unix:busy.sock" };
	struct socks a, b;
	ck_assert_msg(socks_open(&a, specs, 1, root, err, sizeof err) == 0, "%s", err);
	ck_assert_int_eq(socks_open(&b, specs, 1, root, err, sizeof err), -1);
	ck_assert_msg(strstr(err, "another process listens on this socket"), "%s", err);
	ck_assert_int_eq(connect_unix(path), 0); /* the first one still serves */
	socks_close(&a);
}
END_TEST

START_TEST(test_unix_path_too_long)
{
	char spec[200], err[512];
	snprintf(spec, sizeof spec, "unix:%0150d", 0);
	const char *specs[] = { spec };
	struct socks s;
	ck_assert_int_eq(socks_open(&s, specs, 1, root, err, sizeof err), -1);
	ck_assert_msg(strstr(err, "at most 107 bytes"), "%s", err);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("sockets");
	TCase *tc = tcase_create("sockets");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_tcp_listens_above_the_passed_range);
	tcase_add_test(tc, test_ipv6_loopback);
	tcase_add_test(tc, test_port_in_use_is_named_and_nothing_is_kept);
	tcase_add_test(tc, test_bad_specs);
	tcase_add_test(tc, test_same_address_twice);
	tcase_add_test(tc, test_unix_socket_relative_stale_and_removed);
	tcase_add_test(tc, test_unix_path_that_is_not_a_socket_is_left_alone);
	tcase_add_test(tc, test_unix_socket_in_use_is_refused);
	tcase_add_test(tc, test_unix_path_too_long);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return unit_run(suite());
}
