/* sysfail - run a program with some system calls refused, as an older or
 * exhausted kernel would refuse them (the fault-injection tests).
 *
 *   sysfail enosys NAME[,NAME...] PROG ARGS...
 *       the named calls fail with ENOSYS, for PROG and everything it starts
 *       (a kernel before 5.3 has no pidfd_open)
 *   sysfail eagain-while FILE NAME[,NAME...] PROG ARGS...
 *       the named calls fail with EAGAIN while FILE exists, and succeed
 *       otherwise (fork under an exhausted RLIMIT_NPROC or pid space); each
 *       refusal appends "PID" to FILE.denied
 *
 *   sysfail try pidfd_open|fork
 *       make that call (pidfd_open of itself; fork and reap): exit 0 if it
 *       worked, else print the error and exit 1 (do the filters work here?)
 *
 * NAME: pidfd_open, pidfd_send_signal, pidfd_getfd, clone, clone3, fork,
 * vfork. PROG is exec'd in this process (its pid is the caller's).
 *
 * enosys is a plain seccomp filter (prctl(PR_SET_SECCOMP) after
 * PR_SET_NO_NEW_PRIVS). eagain-while needs a decision per call, so the
 * filter hands those calls to a supervisor (SECCOMP_RET_USER_NOTIF, Linux
 * 5.5 or later): a grandchild forked before the filter exists (so it is
 * neither filtered nor PROG's child) receives the filter's listener over a
 * socket, answers each call "continue" or EAGAIN, and exits once no
 * process uses the filter any more (POLLHUP).
 *
 * Exit 77 where this cannot work (not Linux, an unknown architecture,
 * seccomp refused): the tests skip. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#if defined(__linux__) && defined(__has_include)
#if __has_include(<linux/seccomp.h>) && __has_include(<linux/filter.h>)
#define SYSFAIL_LINUX 1
#endif
#endif

#ifdef SYSFAIL_LINUX
#include <fcntl.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <poll.h>
#include <stddef.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>

#if defined(__x86_64__)
#define ARCH AUDIT_ARCH_X86_64
#elif defined(__aarch64__)
#define ARCH AUDIT_ARCH_AARCH64
#elif defined(__i386__)
#define ARCH AUDIT_ARCH_I386
#elif defined(__riscv) && __riscv_xlen == 64
#define ARCH AUDIT_ARCH_RISCV64
#endif

#define MAXCALLS 8

/* A call this architecture lacks (fork and vfork on aarch64) is -1. */
#ifndef __NR_pidfd_open
#define __NR_pidfd_open -1
#endif
#ifndef __NR_pidfd_send_signal
#define __NR_pidfd_send_signal -1
#endif
#ifndef __NR_pidfd_getfd
#define __NR_pidfd_getfd -1
#endif
#ifndef __NR_clone3
#define __NR_clone3 -1
#endif
#ifndef __NR_fork
#define __NR_fork -1
#endif
#ifndef __NR_vfork
#define __NR_vfork -1
#endif

static const struct call {
	const char *name;
	long nr;
} calls[] = {
	{ "pidfd_open", __NR_pidfd_open },
	{ "pidfd_send_signal", __NR_pidfd_send_signal },
	{ "pidfd_getfd", __NR_pidfd_getfd },
	{ "clone", __NR_clone },
	{ "clone3", __NR_clone3 },
	{ "fork", __NR_fork },
	{ "vfork", __NR_vfork },
};

/* NAME[,NAME...] -> the syscall numbers this architecture has. */
static int parse_names(char *list, long *nr, int *n)
{
	*n = 0;
	for (char *name = strtok(list, ","); name; name = strtok(NULL, ",")) {
		size_t i = 0;
		while (i < sizeof calls / sizeof *calls && strcmp(calls[i].name, name) != 0)
			i++;
		if (i == sizeof calls / sizeof *calls || *n == MAXCALLS) {
			fprintf(stderr, "sysfail: unknown system call \"%s\"\n", name);
			return -1;
		}
		if (calls[i].nr >= 0)
			nr[(*n)++] = calls[i].nr;
	}
	return 0;
}

/* The filter: the listed calls of this architecture get action, the rest
 * of the calls run. */
static int install(const long *nr, int n, unsigned action, unsigned flags)
{
	struct sock_filter f[4 + 2 * MAXCALLS];
	int k = 0;
	f[k++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
	                                      offsetof(struct seccomp_data, arch));
	f[k++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, ARCH, 1, 0);
	f[k++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
	f[k++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
	                                      offsetof(struct seccomp_data, nr));
	for (int i = 0; i < n; i++) {
		f[k++] =
		    (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (unsigned)nr[i], 0, 1);
		f[k++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, action);
	}
	f[k++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
	struct sock_fprog prog = { (unsigned short)k, f };
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return -1;
	if (!flags)
		return prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog, 0, 0);
	return (int)syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, flags, &prog);
}

/* The supervisor: answer each notified call until nobody uses the filter. */
static void supervise(int listener, const char *file)
{
	char denied[4096];
	snprintf(denied, sizeof denied, "%s.denied", file);
	struct seccomp_notif_sizes sz;
	if (syscall(SYS_seccomp, SECCOMP_GET_NOTIF_SIZES, 0, &sz) < 0)
		_exit(1);
	struct seccomp_notif *req = calloc(1, sz.seccomp_notif);
	struct seccomp_notif_resp *resp = calloc(1, sz.seccomp_notif_resp);
	if (!req || !resp)
		_exit(1);
	for (;;) {
		struct pollfd p = { listener, POLLIN, 0 };
		if (poll(&p, 1, -1) < 0) {
			if (errno == EINTR)
				continue;
			_exit(1);
		}
		if (p.revents & (POLLHUP | POLLERR | POLLNVAL))
			_exit(0); /* no process uses the filter any more */
		memset(req, 0, sz.seccomp_notif);
		if (ioctl(listener, SECCOMP_IOCTL_NOTIF_RECV, req) < 0)
			continue; /* the caller died meanwhile */
		memset(resp, 0, sz.seccomp_notif_resp);
		resp->id = req->id;
		if (access(file, F_OK) == 0) {
			resp->error = -EAGAIN;
			FILE *d = fopen(denied, "ae");
			if (d) {
				fprintf(d, "%u\n", req->pid);
				fclose(d);
			}
		} else {
			resp->flags = SECCOMP_USER_NOTIF_FLAG_CONTINUE;
		}
		(void)ioctl(listener, SECCOMP_IOCTL_NOTIF_SEND, resp);
	}
}

/* Fork the supervisor (a grandchild: not the program's child), install
 * the notifying filter here and pass its listener over. */
/* One byte and room for one fd (SCM_RIGHTS), to send or receive. */
struct fd_msg {
	struct msghdr mh;
	struct iovec iov;
	char byte;
	union { /* aligned for struct cmsghdr, as CMSG_FIRSTHDR requires */
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} cbuf;
};

static void fd_msg_init(struct fd_msg *m)
{
	memset(m, 0, sizeof *m);
	m->iov.iov_base = &m->byte;
	m->iov.iov_len = 1;
	m->mh.msg_iov = &m->iov;
	m->mh.msg_iovlen = 1;
	m->mh.msg_control = m->cbuf.buf;
	m->mh.msg_controllen = sizeof m->cbuf.buf;
}

static int notify_setup(const long *nr, int n, const char *file)
{
	int sp[2];
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp) < 0)
		return -1;
	pid_t c = fork();
	if (c < 0)
		return -1;
	if (c == 0) {
		if (fork() != 0)
			_exit(0);
		close(sp[0]);
		int null = open("/dev/null", O_RDWR);
		for (int i = 0; i < 3 && null >= 0; i++)
			dup2(null, i);
		struct fd_msg m;
		fd_msg_init(&m);
		if (recvmsg(sp[1], &m.mh, 0) != 1 || !CMSG_FIRSTHDR(&m.mh))
			_exit(1);
		int listener;
		memcpy(&listener, CMSG_DATA(CMSG_FIRSTHDR(&m.mh)), sizeof listener);
		close(sp[1]);
		supervise(listener, file);
	}
	close(sp[1]);
	while (waitpid(c, NULL, 0) < 0 && errno == EINTR)
		;
	int listener = install(nr, n, SECCOMP_RET_USER_NOTIF, SECCOMP_FILTER_FLAG_NEW_LISTENER);
	if (listener < 0)
		return -1;
	struct fd_msg m;
	fd_msg_init(&m);
	struct cmsghdr *cm = CMSG_FIRSTHDR(&m.mh);
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cm), &listener, sizeof listener);
	if (sendmsg(sp[0], &m.mh, 0) != 1)
		return -1;
	close(listener);
	close(sp[0]);
	return 0;
}
#endif /* SYSFAIL_LINUX */

static int usage(void)
{
	fprintf(stderr, "usage: sysfail enosys NAME[,NAME...] PROG ARGS...\n"
	                "       sysfail eagain-while FILE NAME[,NAME...] PROG ARGS...\n"
	                "       sysfail try pidfd_open|fork\n");
	return 2;
}

static int try(const char *name)
{
	long r = -1;
	errno = ENOSYS;
	if (strcmp(name, "fork") == 0) {
		pid_t p = fork();
		if (p == 0)
			_exit(0);
		if (p > 0)
			r = waitpid(p, NULL, 0);
#ifdef SYSFAIL_LINUX
	} else if (strcmp(name, "pidfd_open") == 0 && __NR_pidfd_open >= 0) {
		r = syscall(__NR_pidfd_open, getpid(), 0);
#endif
	} else {
		return usage();
	}
	if (r >= 0)
		return 0;
	printf("%s: %s\n", name, strerror(errno));
	return 1;
}

int main(int argc, char **argv)
{
	if (argc == 3 && strcmp(argv[1], "try") == 0)
		return try(argv[2]);
	int notify = argc > 1 && strcmp(argv[1], "eagain-while") == 0;
	int first = notify ? 4 : 3;
	if (argc <= first || (!notify && strcmp(argv[1], "enosys") != 0))
		return usage();
#if defined(SYSFAIL_LINUX) && defined(ARCH)
	long nr[MAXCALLS];
	int n;
	if (parse_names(argv[first - 1], nr, &n) < 0)
		return 2;
	int r = notify ? notify_setup(nr, n, argv[2])
	               : install(nr, n, SECCOMP_RET_ERRNO | (ENOSYS & SECCOMP_RET_DATA), 0);
	if (r < 0) {
		fprintf(stderr, "sysfail: cannot install the seccomp filter: %s\n",
		        strerror(errno));
		return 77;
	}
	execvp(argv[first], argv + first);
	fprintf(stderr, "sysfail: %s: %s\n", argv[first], strerror(errno));
	return 127;
#else
	fprintf(stderr, "sysfail: seccomp filters are not supported here\n");
	return 77;
#endif
}
