/* sockets.c - parse socket specs, bind and listen once, keep for life. */
#include "config.h"

#include "sockets.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#define NAME_MAX_LEN 255

/* One parsed spec. */
struct spec {
	char name[NAME_MAX_LEN + 1];
	int family; /* AF_INET, AF_INET6, AF_UNIX */
	struct sockaddr_storage addr;
	socklen_t addrlen;
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)]; /* AF_UNIX */
};

__attribute__((format(printf, 5, 6))) static int fail(char *err, size_t errlen, size_t i,
                                                      const char *spec, const char *fmt, ...)
{
	char why[256];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(why, sizeof why, fmt, ap);
	va_end(ap);
	snprintf(err, errlen, "sockets[%zu] \"%.200s\": %s", i, spec, why);
	return -1;
}

static bool name_ok(const char *s, size_t len)
{
	if (len == 0 || len > NAME_MAX_LEN)
		return false;
	for (size_t i = 0; i < len; i++)
		if (s[i] <= ' ' || s[i] > '~' || s[i] == ':')
			return false;
	return true;
}

/* "HOST:PORT" or "[V6]:PORT" into sp; NULL or the reason. */
static const char *parse_tcp(const char *rest, struct spec *sp)
{
	char host[64];
	const char *colon;
	if (rest[0] == '[') {
		const char *close = strchr(rest, ']');
		if (!close || close[1] != ':')
			return "expected tcp:[IPV6]:PORT";
		if ((size_t)(close - rest - 1) >= sizeof host)
			return "address too long";
		memcpy(host, rest + 1, close - rest - 1);
		host[close - rest - 1] = '\0';
		colon = close + 1;
	} else {
		colon = strrchr(rest, ':');
		if (!colon)
			return "expected tcp:HOST:PORT";
		if ((size_t)(colon - rest) >= sizeof host)
			return "address too long";
		memcpy(host, rest, colon - rest);
		host[colon - rest] = '\0';
	}
	char *end;
	errno = 0;
	long port = strtol(colon + 1, &end, 10);
	if (!colon[1] || *end || errno || port < 1 || port > 65535)
		return "the port must be a number from 1 to 65535";
	memset(&sp->addr, 0, sizeof sp->addr);
	struct sockaddr_in *v4 = (struct sockaddr_in *)&sp->addr;
	struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)&sp->addr;
	if (rest[0] != '[' &&
	    (!strcmp(host, "localhost") || inet_pton(AF_INET, host, &v4->sin_addr) == 1)) {
		if (!strcmp(host, "localhost"))
			v4->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		v4->sin_family = AF_INET;
		v4->sin_port = htons((uint16_t)port);
		sp->family = AF_INET;
		sp->addrlen = sizeof *v4;
	} else if (rest[0] == '[' && inet_pton(AF_INET6, host, &v6->sin6_addr) == 1) {
		v6->sin6_family = AF_INET6;
		v6->sin6_port = htons((uint16_t)port);
		sp->family = AF_INET6;
		sp->addrlen = sizeof *v6;
	} else {
		return rest[0] == '['
		           ? "not a numeric IPv6 address"
		           : "not a numeric IPv4 address or \"localhost\" (IPv6: [ADDR])";
	}
	if (!sp->name[0])
		snprintf(sp->name, sizeof sp->name, "tcp-%ld", port);
	return NULL;
}

static const char *parse_unix(const char *rest, const char *root, struct spec *sp)
{
	if (!*rest)
		return "expected unix:PATH";
	int w = rest[0] == '/' ? snprintf(sp->path, sizeof sp->path, "%s", rest)
	                       : snprintf(sp->path, sizeof sp->path, "%s/%s", root, rest);
	if (w < 0 || (size_t)w >= sizeof sp->path)
		return "the socket's path is too long (a unix socket path has at most 107 bytes)";
	struct sockaddr_un *un = (struct sockaddr_un *)&sp->addr;
	memset(un, 0, sizeof *un);
	un->sun_family = AF_UNIX;
	memcpy(un->sun_path, sp->path, strlen(sp->path) + 1);
	sp->family = AF_UNIX;
	sp->addrlen = sizeof *un;
	if (!sp->name[0]) {
		const char *base = strrchr(sp->path, '/') ? strrchr(sp->path, '/') + 1 : sp->path;
		snprintf(sp->name, sizeof sp->name, "unix-%s", base);
		for (char *c = sp->name; *c; c++)
			if (*c <= ' ' || *c > '~' || *c == ':')
				*c = '_';
	}
	return NULL;
}

static int parse(const char *text, const char *root, struct spec *sp, size_t i, char *err,
                 size_t errlen)
{
	memset(sp, 0, sizeof *sp);
	const char *colon = strchr(text, ':');
	const char *eq = strchr(text, '=');
	const char *scheme = text;
	if (eq && (!colon || eq < colon)) {
		if (!name_ok(text, eq - text))
			return fail(
			    err, errlen, i, text, "%s",
			    "the name (before '=') must be 1-255 printable characters without "
			    "':' or spaces");
		memcpy(sp->name, text, eq - text);
		scheme = eq + 1;
	}
	const char *why;
	if (!strncmp(scheme, "tcp:", 4))
		why = parse_tcp(scheme + 4, sp);
	else if (!strncmp(scheme, "unix:", 5))
		why = parse_unix(scheme + 5, root, sp);
	else
		why = "expected \"tcp:HOST:PORT\", \"tcp:[IPV6]:PORT\" or \"unix:PATH\"";
	return why ? fail(err, errlen, i, text, "%s", why) : 0;
}

/* A unix path may be taken over only when it is a stale socket. */
static const char *clear_unix_path(const char *path)
{
	struct stat st;
	if (lstat(path, &st) < 0)
		return errno == ENOENT ? NULL : "cannot inspect the path";
	if (!S_ISSOCK(st.st_mode))
		return "the path exists and is not a socket (left as it is)";
	struct sockaddr_un un = { .sun_family = AF_UNIX };
	memcpy(un.sun_path, path, strlen(path) + 1);
	int c = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (c < 0)
		return "cannot create a socket";
	int r = connect(c, (struct sockaddr *)&un, sizeof un);
	int e = errno;
	close(c);
	if (r == 0)
		return "another process listens on this socket";
	if (e != ECONNREFUSED)
		return "the socket exists and cannot be checked";
	return unlink(path) < 0 ? "cannot remove the stale socket" : NULL;
}

/* Bind and listen; the fd is moved to >= lowest. -1 with err set. */
static int open_one(const struct spec *sp, int lowest, const char *text, size_t i, char *err,
                    size_t errlen)
{
	if (sp->family == AF_UNIX) {
		const char *why = clear_unix_path(sp->path);
		if (why)
			return fail(err, errlen, i, text, "%s", why);
	}
	int fd = socket(sp->family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return fail(err, errlen, i, text, "cannot create the socket: %s", strerror(errno));
	int one = 1;
	if (sp->family != AF_UNIX)
		(void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	if (sp->family == AF_INET6)
		(void)setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
	if (bind(fd, (const struct sockaddr *)&sp->addr, sp->addrlen) < 0 ||
	    listen(fd, SOMAXCONN) < 0) {
		int e = errno;
		close(fd);
		return fail(err, errlen, i, text,
		            e == EADDRINUSE ? "cannot listen: %s (another process has it)"
		                            : "cannot listen: %s",
		            strerror(e));
	}
	int moved = fcntl(fd, F_DUPFD_CLOEXEC, lowest);
	int e = errno;
	close(fd);
	if (moved < 0) {
		if (sp->family == AF_UNIX)
			unlink(sp->path);
		return fail(err, errlen, i, text, "cannot keep the socket: %s", strerror(e));
	}
	return moved;
}

/* LISTEN_FDS and LISTEN_FDNAMES for the environment of every run. */
static int make_env(struct socks *s)
{
	size_t len = sizeof "LISTEN_FDNAMES=";
	for (size_t i = 0; i < s->n; i++)
		len += strlen(s->names[i]) + 1;
	s->fdnames = malloc(len);
	s->fdcount = malloc(sizeof "LISTEN_FDS=" + 20);
	if (!s->fdnames || !s->fdcount)
		return -1;
	char *p = s->fdnames + sprintf(s->fdnames, "LISTEN_FDNAMES=");
	for (size_t i = 0; i < s->n; i++)
		p += sprintf(p, "%s%s", i ? ":" : "", s->names[i]);
	sprintf(s->fdcount, "LISTEN_FDS=%zu", s->n);
	return 0;
}

/* Two specs naming one address would make the second bind fail as if
 * another process had it: say what it is. */
static int check_unique(const struct spec *sps, size_t n, const char *const *specs, char *err,
                        size_t errlen)
{
	for (size_t i = 0; i < n; i++)
		for (size_t j = 0; j < i; j++)
			if (sps[i].addrlen == sps[j].addrlen &&
			    !memcmp(&sps[i].addr, &sps[j].addr, sps[i].addrlen)) {
				return fail(err, errlen, i, specs[i],
				            "the same address as sockets[%zu]", j);
			}
	return 0;
}

static int open_all(struct socks *s, const struct spec *sps, const char *const *specs, size_t n,
                    char *err, size_t errlen)
{
	for (size_t i = 0; i < n; i++) {
		int fd = open_one(&sps[i], 3 + (int)n, specs[i], i, err, errlen);
		if (fd < 0)
			return -1;
		s->fds[s->n] = fd;
		s->names[s->n] = strdup(sps[i].name);
		s->unlinks[s->n] = sps[i].family == AF_UNIX ? strdup(sps[i].path) : NULL;
		s->n++;
		if (!s->names[s->n - 1] || (sps[i].family == AF_UNIX && !s->unlinks[s->n - 1])) {
			snprintf(err, errlen, "sockets: out of memory");
			return -1;
		}
	}
	if (make_env(s) < 0) {
		snprintf(err, errlen, "sockets: out of memory");
		return -1;
	}
	return 0;
}

int socks_open(struct socks *s, const char *const *specs, size_t n, const char *root, char *err,
               size_t errlen)
{
	memset(s, 0, sizeof *s);
	size_t cap = n ? n : 1;
	struct spec *sps = calloc(cap, sizeof *sps);
	s->fds = calloc(cap, sizeof *s->fds);
	s->names = calloc(cap, sizeof *s->names);
	s->unlinks = calloc(cap, sizeof *s->unlinks);
	int r = -1;
	if (!sps || !s->fds || !s->names || !s->unlinks) {
		snprintf(err, errlen, "sockets: out of memory");
		goto out;
	}
	for (size_t i = 0; i < n; i++)
		if (parse(specs[i], root, &sps[i], i, err, errlen) < 0)
			goto out;
	if (check_unique(sps, n, specs, err, errlen) < 0)
		goto out;
	r = open_all(s, sps, specs, n, err, errlen);
out:
	free(sps);
	if (r < 0)
		socks_close(s);
	return r;
}

void socks_close(struct socks *s)
{
	for (size_t i = 0; i < s->n; i++) {
		close(s->fds[i]);
		if (s->unlinks[i])
			unlink(s->unlinks[i]);
		free(s->unlinks[i]);
		free(s->names[i]);
	}
	free(s->fds);
	free(s->names);
	free(s->unlinks);
	free(s->fdnames);
	free(s->fdcount);
	memset(s, 0, sizeof *s);
}
