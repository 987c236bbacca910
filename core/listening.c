/* listening.c - find a listening socket among a set of processes' fds. */
#include "config.h"

#include "listening.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct owned {
	unsigned long inode;
	pid_t pid;
};

struct inodes {
	struct owned *v;
	size_t n, cap;
};

static int add_inode(struct inodes *s, unsigned long inode, pid_t pid)
{
	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 16;
		struct owned *v = realloc(s->v, cap * sizeof *v);
		if (!v)
			return -ENOMEM;
		s->v = v;
		s->cap = cap;
	}
	s->v[s->n++] = (struct owned){ inode, pid };
	return 0;
}

/* The socket inodes among pid's open fds; a pid that is gone is skipped. */
static int socket_inodes(pid_t pid, struct inodes *s)
{
	char path[64], link[64];
	snprintf(path, sizeof path, "/proc/%ld/fd", (long)pid);
	DIR *d = opendir(path);
	if (!d)
		return 0;
	int r = 0;
	for (struct dirent *e; r == 0 && (e = readdir(d));) {
		if (e->d_name[0] == '.')
			continue;
		ssize_t len = readlinkat(dirfd(d), e->d_name, link, sizeof link - 1);
		unsigned long inode;
		if (len <= 0)
			continue;
		link[len] = '\0';
		if (sscanf(link, "socket:[%lu]", &inode) == 1)
			r = add_inode(s, inode, pid);
	}
	closedir(d);
	return r;
}

static const struct owned *owner(const struct inodes *s, unsigned long inode)
{
	for (size_t i = 0; i < s->n; i++)
		if (s->v[i].inode == inode)
			return &s->v[i];
	return NULL;
}

/* "0100007F:1F90" (v4) or 32 hex digits (v6) in the kernel's own byte
 * order, printed as "127.0.0.1:8080" or "[::1]:8080". */
static void format_inet(const char *hex, unsigned port, bool v6, char *out, size_t len)
{
	unsigned char bytes[16];
	char ip[INET6_ADDRSTRLEN] = "?";
	size_t words = v6 ? 4 : 1;
	for (size_t w = 0; w < words; w++) {
		char part[9];
		memcpy(part, hex + 8 * w, 8);
		part[8] = '\0';
		uint32_t v = (uint32_t)strtoul(part, NULL, 16);
		memcpy(bytes + 4 * w, &v, 4);
	}
	inet_ntop(v6 ? AF_INET6 : AF_INET, bytes, ip, sizeof ip);
	snprintf(out, len, v6 ? "[%s]:%u" : "%s:%u", ip, port);
}

/* One of /proc/PID/net/{tcp,tcp6,udp,udp6}: a TCP socket in LISTEN (0A),
 * a UDP socket bound to a port and unconnected (07). */
static int scan_inet(pid_t netpid, const char *kind, const struct inodes *s, struct listening *out)
{
	bool v6 = strchr(kind, '6') != NULL, udp = kind[0] == 'u';
	char path[64], line[512], hex[33];
	snprintf(path, sizeof path, "/proc/%ld/net/%s", (long)netpid, kind);
	FILE *f = fopen(path, "re");
	if (!f)
		return 0;
	int found = 0;
	while (!found && fgets(line, sizeof line, f)) {
		unsigned port, state;
		unsigned long inode;
		if (sscanf(line, " %*u: %32[0-9A-Fa-f]:%x %*s %x %*s %*s %*s %*s %*s %lu", hex,
		           &port, &state, &inode) != 4 ||
		    strlen(hex) != (v6 ? 32u : 8u))
			continue;
		bool listens = udp ? state == 0x07 && port != 0 : state == 0x0A;
		const struct owned *o = listens ? owner(s, inode) : NULL;
		if (o) {
			out->pid = o->pid;
			snprintf(out->kind, sizeof out->kind, "%s", kind);
			format_inet(hex, port, v6, out->addr, sizeof out->addr);
			found = 1;
		}
	}
	fclose(f);
	return found;
}

/* /proc/PID/net/unix: flag __SO_ACCEPTCON (0x10000) marks listen(). */
static int scan_unix(pid_t netpid, const struct inodes *s, struct listening *out)
{
	char path[64], line[512], name[112];
	snprintf(path, sizeof path, "/proc/%ld/net/unix", (long)netpid);
	FILE *f = fopen(path, "re");
	if (!f)
		return 0;
	int found = 0;
	while (!found && fgets(line, sizeof line, f)) {
		unsigned long flags, inode;
		name[0] = '\0';
		if (sscanf(line, "%*s %*s %*s %lx %*s %*s %lu %111s", &flags, &inode, name) < 2)
			continue;
		const struct owned *o = (flags & 0x10000) ? owner(s, inode) : NULL;
		if (o) {
			out->pid = o->pid;
			snprintf(out->kind, sizeof out->kind, "unix");
			snprintf(out->addr, sizeof out->addr, "%s", name);
			found = 1;
		}
	}
	fclose(f);
	return found;
}

/* Drop from s the sockets that ex holds. */
static void exclude(struct inodes *s, const struct inodes *ex)
{
	size_t k = 0;
	for (size_t i = 0; i < s->n; i++)
		if (!owner(ex, s->v[i].inode))
			s->v[k++] = s->v[i];
	s->n = k;
}

int listening_find(const pid_t *pids, size_t n, const pid_t *skip, size_t nskip,
                   struct listening *out)
{
#ifdef __linux__
	struct inodes s = { 0 }, ex = { 0 };
	int r = 0;
	for (size_t i = 0; r == 0 && i < nskip; i++)
		r = socket_inodes(skip[i], &ex);
	for (size_t i = 0; r == 0 && i < n; i++)
		r = socket_inodes(pids[i], &s);
	if (r == 0)
		exclude(&s, &ex);
	free(ex.v);
	if (r == 0 && s.n > 0) {
		/* a tree shares one network namespace: read it through the
		 * first process that holds a socket */
		pid_t netpid = s.v[0].pid;
		static const char *const inet[] = { "tcp", "tcp6" }, *const dgram[] = { "udp",
			                                                                "udp6" };
		for (size_t k = 0; r == 0 && k < 2; k++)
			r = scan_inet(netpid, inet[k], &s, out);
		if (r == 0)
			r = scan_unix(netpid, &s, out);
		for (size_t k = 0; r == 0 && k < 2; k++)
			r = scan_inet(netpid, dgram[k], &s, out);
	}
	free(s.v);
	return r;
#else
	(void)pids;
	(void)n;
	(void)skip;
	(void)nskip;
	(void)out;
	return -ENOSYS;
#endif
}
