/* confread.c - reading a config file into memory (see confread.h). A named
 * FIFO would block open() until some writer came, and a device such as
 * /dev/zero would be read for ever, so the type is checked by stat() before
 * the open (which is non-blocking, and checked again by fstat() on what was
 * opened), and every read is bounded in size, and for a pipe in time. */
#include "config.h"

#include "confread.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* Error codes of our own, mapped to their lines by read_error(). */
#define E_NOT_REGULAR (-1000)
#define E_TOO_BIG (-1001)
#define E_TIMEOUT (-1002)

static bool all_digits(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (*s < '0' || *s > '9')
			return false;
	return true;
}

bool config_fd_path(const char *file)
{
	static const char *const prefixes[] = { "/dev/fd/", "/proc/self/fd/" };
	if (strcmp(file, "/dev/stdin") == 0)
		return true;
	for (size_t i = 0; i < sizeof prefixes / sizeof *prefixes; i++) {
		size_t l = strlen(prefixes[i]);
		if (strncmp(file, prefixes[i], l) == 0 && all_digits(file + l))
			return true;
	}
	return false;
}

static const char *kind(mode_t m)
{
	return S_ISFIFO(m)                ? "a named pipe"
	       : S_ISSOCK(m)              ? "a socket"
	       : S_ISCHR(m) || S_ISBLK(m) ? "a device"
	                                  : "not a file";
}

/* 0 if a file of mode m may be read: a regular file, or a pipe named by a
 * descriptor gust holds. */
static int check_type(const char *file, mode_t m)
{
	if (S_ISREG(m) || (S_ISFIFO(m) && config_fd_path(file)))
		return 0;
	return S_ISDIR(m) ? -EISDIR : E_NOT_REGULAR;
}

static long long now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Wait until fd (non-blocking) is readable or the deadline passes. */
static int wait_readable(int fd, long long deadline)
{
	for (;;) {
		long long left = deadline - now_ms();
		if (left <= 0)
			return E_TIMEOUT;
		struct pollfd p = { .fd = fd, .events = POLLIN };
		int n = poll(&p, 1, (int)left);
		if (n > 0)
			return 0;
		if (n < 0 && errno != EINTR)
			return -errno;
	}
}

/* Read fd to its end: at most CONFIG_MAX_BYTES, and for a pipe within
 * CONFIG_PIPE_TIMEOUT_MS. */
static int read_all(int fd, bool pipe, char **text, size_t *len)
{
	long long deadline = now_ms() + CONFIG_PIPE_TIMEOUT_MS;
	size_t cap = 4096, n = 0;
	char *buf = malloc(cap);
	int r = 0;
	while (buf) {
		if (cap - n < 2) {
			char *b = cap > CONFIG_MAX_BYTES ? NULL : realloc(buf, cap * 2);
			if (!b) {
				r = cap > CONFIG_MAX_BYTES ? E_TOO_BIG : -ENOMEM;
				break;
			}
			buf = b;
			cap *= 2;
		}
		ssize_t got = read(fd, buf + n, cap - n - 1);
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0 && pipe && errno == EAGAIN) {
			if ((r = wait_readable(fd, deadline)) < 0)
				break;
			continue;
		}
		if (got < 0) {
			r = -errno;
			break;
		}
		if (got == 0)
			break;
		n += (size_t)got;
		if (n > CONFIG_MAX_BYTES) {
			r = E_TOO_BIG;
			break;
		}
	}
	if (!buf)
		return -ENOMEM;
	if (r < 0) {
		free(buf);
		return r;
	}
	buf[n] = '\0';
	*text = buf;
	*len = n;
	return 0;
}

static int read_error(const char *file, int r, mode_t m, char *err, size_t errlen)
{
	if (r == E_NOT_REGULAR)
		snprintf(err, errlen, "cannot read \"%s\": not a regular file (%s)", file, kind(m));
	else if (r == E_TOO_BIG)
		snprintf(err, errlen,
		         "cannot read \"%s\": larger than %d MiB, too large for a config", file,
		         CONFIG_MAX_BYTES / (1024 * 1024));
	else if (r == E_TIMEOUT)
		snprintf(err, errlen, "cannot read \"%s\": no end of input within %d s", file,
		         CONFIG_PIPE_TIMEOUT_MS / 1000);
	else
		snprintf(err, errlen, "cannot read \"%s\": %s", file, strerror(-r));
	switch (r) {
	case E_NOT_REGULAR:
		return -EINVAL;
	case E_TOO_BIG:
		return -EFBIG;
	case E_TIMEOUT:
		return -ETIMEDOUT;
	default:
		return r;
	}
}

int config_read_file(const char *file, char **text, size_t *len, char *err, size_t errlen)
{
	struct stat st;
	if (stat(file, &st) < 0)
		return read_error(file, -errno, 0, err, errlen);
	int r = check_type(file, st.st_mode);
	if (r == 0 && S_ISREG(st.st_mode) && st.st_size > CONFIG_MAX_BYTES)
		r = E_TOO_BIG;
	if (r < 0)
		return read_error(file, r, st.st_mode, err, errlen);
	int fd = open(file, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
	if (fd < 0)
		return read_error(file, -errno, 0, err, errlen);
	/* what was opened may not be what was looked at */
	if (fstat(fd, &st) < 0)
		r = -errno;
	else if ((r = check_type(file, st.st_mode)) == 0)
		r = read_all(fd, S_ISFIFO(st.st_mode), text, len);
	close(fd);
	return r < 0 ? read_error(file, r, st.st_mode, err, errlen) : 0;
}
