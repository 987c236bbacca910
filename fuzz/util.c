/* util.c - the helpers of fuzz.h. */
#include "config.h"

#include "fuzz.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char dir[PATH_MAX];

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	remove(path);
	return 0;
}

/* Only the process that made the directory removes it: a forked child
 * (Check runs every test in one) exits before the parent is done. */
static pid_t owner;

static void rm_dir(void)
{
	if (dir[0] && getpid() == owner)
		nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

const char *fuzz_dir(void)
{
	if (dir[0])
		return dir;
	const char *tmp = getenv("TMPDIR");
	if (!tmp || !*tmp)
		tmp = "/tmp";
	if (snprintf(dir, sizeof dir, "%s/gust-fuzz-XXXXXX", tmp) >= (int)sizeof dir ||
	    !mkdtemp(dir)) {
		fprintf(stderr, "fuzz: cannot make a directory under \"%s\": %s\n", tmp,
		        strerror(errno));
		abort();
	}
	owner = getpid();
	atexit(rm_dir);
	return dir;
}

void fuzz_path(char *buf, size_t len, const char *rel)
{
	if (snprintf(buf, len, "%s/%s", fuzz_dir(), rel) >= (int)len) {
		fprintf(stderr, "fuzz: path too long: %s/%s\n", fuzz_dir(), rel);
		abort();
	}
}

void fuzz_write(const char *rel, const void *data, size_t len, char *buf, size_t buflen)
{
	fuzz_path(buf, buflen, rel);
	int fd = open(buf, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	const char *p = data;
	size_t done = 0;
	while (fd >= 0 && done < len) {
		ssize_t n = write(fd, p + done, len - done);
		if (n <= 0)
			break;
		done += (size_t)n;
	}
	if (fd < 0 || done < len || close(fd) < 0) {
		fprintf(stderr, "fuzz: cannot write \"%s\": %s\n", buf, strerror(errno));
		abort();
	}
}

char *fuzz_text(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);
	if (!s)
		abort();
	if (size)
		memcpy(s, data, size);
	s[size] = '\0';
	return s;
}

size_t fuzz_sections(char *text, char **sec, size_t max)
{
	size_t n = 1;
	char *p = text;
	sec[0] = text;
	while (n < max && (p = strstr(p, "---")) != NULL) {
		if ((p != text && p[-1] != '\n') || (p[3] != '\n' && p[3] != '\0')) {
			p += 3;
			continue;
		}
		char *next = p[3] ? p + 4 : p + 3;
		if (p > text)
			p[-1] = '\0'; /* the line break that ends the section before */
		*p = '\0';
		sec[n++] = next;
		p = next;
	}
	for (size_t i = n; i < max; i++)
		sec[i] = "";
	return n;
}

void fuzz_check_message(const char *what, const char *msg)
{
	if (!msg[0]) {
		fprintf(stderr, "fuzz: %s: failed without a message\n", what);
		abort();
	}
}
