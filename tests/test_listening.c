/* test_listening.c - listening sockets found through /proc, held by real
 * child processes. */
#include "config.h"

#include <arpa/inet.h>
#include <check.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "unit.h"

#include "listening.h"

enum what { TCP_LISTEN, TCP_CLIENT, UDP_BOUND, UNIX_LISTEN, TCP6_LISTEN };

struct child {
	pid_t pid;
	int hold;       /* closing it ends the child */
	char addr[128]; /* what the child bound, as listening_find prints it */
};

static char sockpath[108];

/* In the child: make the socket, tell the parent its address, wait. */
static void child_main(enum what w, int report, int hold)
{
	char addr[128] = "";
	int fd = -1;
	if (w == TCP_LISTEN || w == TCP_CLIENT || w == UDP_BOUND) {
		struct sockaddr_in a = { .sin_family = AF_INET,
			                 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
		socklen_t len = sizeof a;
		int lst = -1;
		if (w == TCP_CLIENT) { /* connect to a listener, then drop it */
			lst = socket(AF_INET, SOCK_STREAM, 0);
			if (bind(lst, (struct sockaddr *)&a, sizeof a) || listen(lst, 1) ||
			    getsockname(lst, (struct sockaddr *)&a, &len))
				_exit(2);
		}
		fd = socket(AF_INET, w == UDP_BOUND ? SOCK_DGRAM : SOCK_STREAM, 0);
		if (w == TCP_CLIENT) {
			if (connect(fd, (struct sockaddr *)&a, sizeof a))
				_exit(2);
			close(lst);
		} else if (bind(fd, (struct sockaddr *)&a, sizeof a) ||
		           (w == TCP_LISTEN && listen(fd, 1)) ||
		           getsockname(fd, (struct sockaddr *)&a, &len)) {
			_exit(2);
		}
		snprintf(addr, sizeof addr, "127.0.0.1:%u", ntohs(a.sin_port));
	} else if (w == TCP6_LISTEN) {
		struct sockaddr_in6 a = { .sin6_family = AF_INET6,
			                  .sin6_addr = IN6ADDR_LOOPBACK_INIT };
		socklen_t len = sizeof a;
		fd = socket(AF_INET6, SOCK_STREAM, 0);
		if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof a) || listen(fd, 1) ||
		    getsockname(fd, (struct sockaddr *)&a, &len))
			_exit(3); /* no IPv6 loopback here */
		snprintf(addr, sizeof addr, "[::1]:%u", ntohs(a.sin6_port));
	} else {
		struct sockaddr_un un = { .sun_family = AF_UNIX };
		snprintf(un.sun_path, sizeof un.sun_path, "%s", sockpath);
		fd = socket(AF_UNIX, SOCK_STREAM, 0);
		if (bind(fd, (struct sockaddr *)&un, sizeof un) || listen(fd, 1))
			_exit(2);
		snprintf(addr, sizeof addr, "%s", sockpath);
	}
	if (write(report, addr, strlen(addr) + 1) < 0)
		_exit(2);
	close(report);
	char c;
	while (read(hold, &c, 1) > 0)
		;
	_exit(0);
}

/* Start a child holding one socket; 0, or -1 when the child could not
 * (3: no IPv6 loopback). */
static int start(struct child *c, enum what w)
{
	int rep[2], hold[2];
	ck_assert_int_eq(pipe(rep), 0);
	ck_assert_int_eq(pipe(hold), 0);
	c->pid = fork();
	ck_assert_int_ge(c->pid, 0);
	if (c->pid == 0) {
		close(rep[0]);
		close(hold[1]);
		child_main(w, rep[1], hold[0]);
	}
	close(rep[1]);
	close(hold[0]);
	c->hold = hold[1];
	ssize_t n = read(rep[0], c->addr, sizeof c->addr); /* blocks until it is bound */
	close(rep[0]);
	return n > 0 ? 0 : -1;
}

static int finish(struct child *c)
{
	int st;
	close(c->hold);
	ck_assert_int_eq(waitpid(c->pid, &st, 0), c->pid);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

START_TEST(test_tcp_listener_found)
{
	struct child c;
	ck_assert_int_eq(start(&c, TCP_LISTEN), 0);
	pid_t pids[] = { getpid(), c.pid };
	struct listening l;
	ck_assert_int_eq(listening_find(pids, 2, NULL, 0, &l), 1);
	ck_assert_int_eq(l.pid, c.pid);
	ck_assert_str_eq(l.kind, "tcp");
	ck_assert_str_eq(l.addr, c.addr);
	ck_assert_int_eq(finish(&c), 0);
	pid_t gone[] = { c.pid };
	ck_assert_int_eq(listening_find(gone, 1, NULL, 0, &l), 0);
}
END_TEST

START_TEST(test_connected_socket_is_not_listening)
{
	struct child c;
	ck_assert_int_eq(start(&c, TCP_CLIENT), 0);
	pid_t pids[] = { c.pid };
	struct listening l;
	ck_assert_int_eq(listening_find(pids, 1, NULL, 0, &l), 0);
	ck_assert_int_eq(finish(&c), 0);
}
END_TEST

START_TEST(test_udp_bound_found)
{
	struct child c;
	ck_assert_int_eq(start(&c, UDP_BOUND), 0);
	pid_t pids[] = { c.pid };
	struct listening l;
	ck_assert_int_eq(listening_find(pids, 1, NULL, 0, &l), 1);
	ck_assert_str_eq(l.kind, "udp");
	ck_assert_str_eq(l.addr, c.addr);
	ck_assert_int_eq(finish(&c), 0);
}
END_TEST

START_TEST(test_unix_listener_found)
{
	snprintf(sockpath, sizeof sockpath, "%s/gust-listening-%ld.sock",
	         getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp", (long)getpid());
	unlink(sockpath);
	struct child c;
	ck_assert_int_eq(start(&c, UNIX_LISTEN), 0);
	pid_t pids[] = { c.pid };
	struct listening l;
	ck_assert_int_eq(listening_find(pids, 1, NULL, 0, &l), 1);
	ck_assert_str_eq(l.kind, "unix");
	ck_assert_str_eq(l.addr, sockpath);
	ck_assert_int_eq(finish(&c), 0);
	ck_assert_int_eq(unlink(sockpath), 0);
}
END_TEST

START_TEST(test_tcp6_listener_found)
{
	struct child c;
	if (start(&c, TCP6_LISTEN) < 0) {
		ck_assert_int_eq(finish(&c), 3); /* only for want of ::1 */
		return;
	}
	pid_t pids[] = { c.pid };
	struct listening l;
	ck_assert_int_eq(listening_find(pids, 1, NULL, 0, &l), 1);
	ck_assert_str_eq(l.kind, "tcp6");
	ck_assert_str_eq(l.addr, c.addr);
	ck_assert_int_eq(finish(&c), 0);
}
END_TEST

/* A listens on S and forks B, which keeps S (no exec) and, with own, also
 * listens on S2 of its own: a tool in front of the program, between the
 * program's fork and exec. */
struct pair {
	pid_t a, b;
	int hold; /* closing it ends both */
	char s[64], s2[64];
};

/* A TCP socket listening on the loopback, its address in addr. */
static int tcp_listener(char *addr, size_t len)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t alen = sizeof a;
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof a) || listen(fd, 1) ||
	    getsockname(fd, (struct sockaddr *)&a, &alen))
		_exit(2);
	snprintf(addr, len, "127.0.0.1:%u", ntohs(a.sin_port));
	return fd;
}

static void pair_start(struct pair *p, bool own)
{
	int rep[2], hold[2];
	ck_assert_int_eq(pipe(rep), 0);
	ck_assert_int_eq(pipe(hold), 0);
	memset(p, 0, sizeof *p);
	p->a = fork();
	ck_assert_int_ge(p->a, 0);
	if (p->a == 0) {
		close(rep[0]);
		close(hold[1]);
		(void)tcp_listener(p->s, sizeof p->s);
		if ((p->b = fork()) < 0)
			_exit(2);
		if (p->b == 0) {
			p->b = getpid();
			if (own)
				(void)tcp_listener(p->s2, sizeof p->s2);
			if (write(rep[1], p, sizeof *p) != (ssize_t)sizeof *p)
				_exit(2);
		}
		close(rep[1]);
		char c;
		while (read(hold[0], &c, 1) > 0)
			;
		if (p->b > 0)
			(void)waitpid(p->b, NULL, 0);
		_exit(0);
	}
	close(rep[1]);
	close(hold[0]);
	pid_t a = p->a;
	ck_assert_int_eq(read(rep[0], p, sizeof *p), (ssize_t)sizeof *p); /* both listen */
	close(rep[0]);
	p->a = a;
	p->hold = hold[1];
}

static void pair_finish(struct pair *p)
{
	int st;
	close(p->hold);
	ck_assert_int_eq(waitpid(p->a, &st, 0), p->a);
	ck_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0);
}

START_TEST(test_skipped_parent_socket_does_not_count)
{
	struct pair p;
	struct listening l;
	pair_start(&p, true);
	pid_t b[] = { p.b }, a[] = { p.a };
	ck_assert_int_eq(listening_find(b, 1, a, 1, &l), 1);
	ck_assert_int_eq(l.pid, p.b);
	ck_assert_str_eq(l.addr, p.s2);
	pair_finish(&p);

	pair_start(&p, false);
	b[0] = p.b;
	a[0] = p.a;
	ck_assert_int_eq(listening_find(b, 1, NULL, 0, &l), 1); /* B does hold S */
	ck_assert_str_eq(l.addr, p.s);
	ck_assert_int_eq(listening_find(b, 1, a, 1, &l), 0);
	pair_finish(&p);
}
END_TEST

START_TEST(test_no_pids_and_no_sockets)
{
	struct listening l;
	ck_assert_int_eq(listening_find(NULL, 0, NULL, 0, &l), 0);
	pid_t self[] = { getpid() }; /* the test itself listens nowhere */
	ck_assert_int_eq(listening_find(self, 1, NULL, 0, &l), 0);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("listening");
	TCase *tc = tcase_create("listening");
	tcase_add_test(tc, test_tcp_listener_found);
	tcase_add_test(tc, test_connected_socket_is_not_listening);
	tcase_add_test(tc, test_udp_bound_found);
	tcase_add_test(tc, test_unix_listener_found);
	tcase_add_test(tc, test_tcp6_listener_found);
	tcase_add_test(tc, test_skipped_parent_socket_does_not_count);
	tcase_add_test(tc, test_no_pids_and_no_sockets);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return unit_run(suite());
}
