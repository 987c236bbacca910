/* confread.c - reading a config file into memory (see confread.h). */
#include "config.h"

#include "confread.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int read_all(int fd, char **text, size_t *len)
{
	size_t cap = 4096, n = 0;
	char *buf = malloc(cap);
	if (!buf)
		return -ENOMEM;
	for (;;) {
		if (cap - n < 2) {
			char *b = realloc(buf, cap * 2);
			if (!b) {
				free(buf);
				return -ENOMEM;
			}
			buf = b;
			cap *= 2;
		}
		ssize_t r = read(fd, buf + n, cap - n - 1);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			int e = errno;
			free(buf);
			return -e;
		}
		if (r == 0)
			break;
		n += (size_t)r;
	}
	buf[n] = '\0';
	*text = buf;
	*len = n;
	return 0;
}

int config_read_file(const char *file, char **text, size_t *len, char *err, size_t errlen)
{
	int fd = open(file, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		int e = errno;
		snprintf(err, errlen, "cannot read \"%s\": %s", file, strerror(e));
		return -e;
	}
	struct stat st;
	int r = fstat(fd, &st) == 0 && S_ISDIR(st.st_mode) ? -EISDIR : read_all(fd, text, len);
	close(fd);
	if (r < 0)
		snprintf(err, errlen, "cannot read \"%s\": %s", file, strerror(-r));
	return r;
}
