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
