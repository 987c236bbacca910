/* outpipe.c - a pty or a pipe for a child's output. */
#include "config.h"

#include "outpipe.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

static bool open_pty(int size_fd, int *rd, int *wr)
{
	int m = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
	char name[128];
	if (m >= 0 && grantpt(m) == 0 && unlockpt(m) == 0 && ptsname_r(m, name, sizeof name) == 0) {
		int s = open(name, O_RDWR | O_NOCTTY | O_CLOEXEC);
		if (s >= 0) {
			struct termios tio;
			struct winsize ws;
			if (tcgetattr(s, &tio) == 0) {
				tio.c_oflag &= ~(tcflag_t)ONLCR;
				(void)tcsetattr(s, TCSANOW, &tio);
			}
			if (ioctl(size_fd, TIOCGWINSZ, &ws) == 0)
				(void)ioctl(s, TIOCSWINSZ, &ws);
			*rd = m;
			*wr = s;
			return true;
		}
	}
	if (m >= 0)
		close(m);
	return false;
}

int outpipe_open(bool pty, int size_fd, int *rd, int *wr)
{
	/* no pty to be had: a pipe still works, only without colours */
	if (!pty || !open_pty(size_fd, rd, wr)) {
		int p[2];
		if (pipe2(p, O_CLOEXEC) < 0)
			return -errno;
		*rd = p[0];
		*wr = p[1];
	}
	int fl = fcntl(*rd, F_GETFL);
	if (fl < 0 || fcntl(*rd, F_SETFL, fl | O_NONBLOCK) < 0) {
		int e = errno;
		close(*rd);
		close(*wr);
		return -e;
	}
	return 0;
}

#define READ_CHUNK 65536

bool outpipe_read(const int *rd, bool bounded, void (*take)(void *arg, const char *buf, size_t n),
                  void *arg)
{
	char buf[READ_CHUNK];
	while (*rd >= 0) {
		ssize_t n = read(*rd, buf, sizeof buf);
		if (n > 0) {
			take(arg, buf, (size_t)n);
			if (bounded)
				return false;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return false;
		return true;
	}
	return false;
}

void outpipe_write_all(int fd, const char *buf, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, buf, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return;
		buf += n;
		len -= (size_t)n;
	}
}
