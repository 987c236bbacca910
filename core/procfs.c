/* procfs.c - processes as /proc shows them, each named by its pid and
 * start time: one process's stat, the counters that tell whether any
 * process was created (see membership_scan()), a sorted snapshot of all of
 * them, and signalling one exactly (through a pidfd), never a recycled pid. */
#include "config.h"

#include "ptree-internal.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

static int read_small(const char *path, char *buf, size_t len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	ssize_t n;
	do
		n = read(fd, buf, len - 1);
	while (n < 0 && errno == EINTR);
	int e = errno;
	close(fd);
	if (n < 0)
		return -e;
	buf[n] = '\0';
	return (int)n;
}

/* The forks since boot. The kernel counts a fork in the same locked step
 * that makes the new process visible in /proc (copy_process()), so an
 * unchanged count means nothing appeared in between. */
int procfs_forks(unsigned long long *forks)
{
	FILE *f = fopen("/proc/stat", "re");
	if (!f)
		return -1;
	char *line = NULL;
	size_t cap = 0;
	int r = -1;
	while (getline(&line, &cap, f) > 0)
		if (sscanf(line, "processes %llu", forks) == 1) {
			r = 0;
			break;
		}
	free(line);
	fclose(f);
	return r;
}

/* forks: the count if just read (first, as membership_scan() does: the 300 pids of
 * slack in the wrap bound cover the forks between the two reads), or NULL */
int procfs_counters(struct counters *c, const unsigned long long *forks)
{
	char buf[256];
	long run, thr, last;
	if (read_small("/proc/loadavg", buf, sizeof buf) <= 0 ||
	    sscanf(buf, "%*s %*s %*s %ld/%ld %ld", &run, &thr, &last) != 3 || last <= 0)
		return -1;
	c->last_pid = last;
	c->threads = thr;
	if (read_small("/proc/sys/kernel/pid_max", buf, sizeof buf) <= 0 ||
	    sscanf(buf, "%ld", &c->pid_max) != 1)
		return -1;
	if (forks) {
		c->forks = *forks;
		return 0;
	}
	return procfs_forks(&c->forks);
}

int procfs_stat(pid_t pid, struct pinfo *pi)
{
	char path[64], buf[1024];
	snprintf(path, sizeof path, "/proc/%ld/stat", (long)pid);
	int r = read_small(path, buf, sizeof buf);
	if (r < 0)
		return r;
	/* comm may hold spaces and parentheses: parse after the last ')' */
	char *p = strrchr(buf, ')');
	if (!p)
		return -EINVAL;
	int ppid, pgrp;
	char state;
	unsigned long long start;
	if (sscanf(p + 1,
	           " %c %d %d %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %llu",
	           &state, &ppid, &pgrp, &start) != 4)
		return -EINVAL;
	pi->pid = pid;
	pi->ppid = ppid;
	pi->pgrp = pgrp;
	pi->state = state;
	pi->start = start;
	return 0;
}

static int cmp_pinfo(const void *a, const void *b)
{
	pid_t x = ((const struct pinfo *)a)->pid, y = ((const struct pinfo *)b)->pid;
	return x < y ? -1 : x > y;
}

/* s->p is NULL when nothing was found: qsort must not see it */
void procfs_snap_sort(struct snap *s)
{
	if (s->n > 1)
		qsort(s->p, s->n, sizeof *s->p, cmp_pinfo);
}

int procfs_snap_take(struct snap *s)
{
	s->n = 0;
	DIR *d = opendir("/proc");
	if (!d)
		return -errno;
	struct dirent *de;
	while ((de = readdir(d))) {
		const char *c = de->d_name;
		if (*c < '1' || *c > '9')
			continue;
		char *end;
		long pid = strtol(c, &end, 10);
		if (*end)
			continue;
		struct pinfo pi;
		if (procfs_stat((pid_t)pid, &pi) < 0)
			continue;
		if (s->n == s->cap) {
			size_t cap = s->cap ? s->cap * 2 : 512;
			struct pinfo *np = realloc(s->p, cap * sizeof *np);
			if (!np) {
				closedir(d);
				return -ENOMEM;
			}
			s->p = np;
			s->cap = cap;
		}
		s->p[s->n++] = pi;
	}
	closedir(d);
	procfs_snap_sort(s);
	return 0;
}

int procfs_snap_add(struct snap *s, const struct pinfo *pi)
{
	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 64;
		struct pinfo *np = realloc(s->p, cap * sizeof *np);
		if (!np)
			return -ENOMEM;
		s->p = np;
		s->cap = cap;
	}
	s->p[s->n++] = *pi;
	return 0;
}

long procfs_snap_find(const struct snap *s, pid_t pid)
{
	size_t lo = 0, hi = s->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (s->p[mid].pid == pid)
			return (long)mid;
		if (s->p[mid].pid < pid)
			lo = mid + 1;
		else
			hi = mid;
	}
	return -1;
}

/* ---- signalling by (pid, start time) ---- */

static int sys_pidfd_open(pid_t pid)
{
#if HAVE_DECL_SYS_PIDFD_OPEN
	return (int)syscall(SYS_pidfd_open, pid, 0);
#else
	(void)pid;
	errno = ENOSYS;
	return -1;
#endif
}

static int sys_pidfd_signal(int fd, int sig)
{
#if HAVE_DECL_SYS_PIDFD_SEND_SIGNAL
	return (int)syscall(SYS_pidfd_send_signal, fd, sig, NULL, 0);
#else
	(void)fd;
	(void)sig;
	errno = ENOSYS;
	return -1;
#endif
}

int procfs_pidfd(pid_t pid, unsigned long long start)
{
	struct pinfo pi;
	int fd = sys_pidfd_open(pid);
	if (fd < 0)
		return -errno;
	/* With the pidfd held, the check cannot be overtaken by reuse. */
	if (procfs_stat(pid, &pi) < 0 || pi.start != start) {
		close(fd);
		return -ESRCH;
	}
	return fd;
}

/* Signal pid only if it is still the process that started at start. */
int procfs_signal(pid_t pid, unsigned long long start, int sig)
{
	struct pinfo pi;
	int fd = sys_pidfd_open(pid);
	if (fd < 0 && errno == ESRCH)
		return -ESRCH;
	/* With a pidfd held, the check below cannot be overtaken by reuse. */
	if (procfs_stat(pid, &pi) < 0 || pi.start != start) {
		if (fd >= 0)
			close(fd);
		return -ESRCH;
	}
	int r;
	if (fd >= 0) {
		r = sys_pidfd_signal(fd, sig) < 0 ? -errno : 0;
		close(fd);
		if (r != -ENOSYS)
			return r;
	}
	return kill(pid, sig) < 0 ? -errno : 0;
}
