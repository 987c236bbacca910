/* saver - writes files the way editors and tools do, each sequence from one
 * process with no pause of its own, so that a test sees the sequence's
 * events as a real save gives them (bb_debounce.sh).
 *
 *   saver vim FILE TEXT        vim's safe write: probe file 4913, rename
 *                              FILE to FILE~, write FILE anew, fsync,
 *                              close, chmod, remove FILE~
 *   saver jetbrains FILE TEXT  JetBrains' safe write: write
 *                              FILE___jb_tmp___, rename FILE to
 *                              FILE___jb_old___, the temporary over FILE,
 *                              chmod, remove the old one
 *   saver temp FILE TEXT       write FILE.tmp, rename it over FILE, chmod
 *   saver burst DIR N TEXT     write N new files DIR/N.go (DIR exists)
 *   saver slowburst DIR N MS TEXT  the same, MS ms apart (a checkout or a
 *                              generator slowed by a busy disk)
 *   saver stream FILE N MS     rewrite FILE N times, MS ms apart, with
 *                              other content each time (a log, a loop)
 *
 * Exits 0, or 1 with a message on the first failed call. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static void must(int r, const char *what, const char *path)
{
	if (r < 0) {
		fprintf(stderr, "saver: %s %s: %s\n", what, path, strerror(errno));
		exit(1);
	}
}

static void write_file(const char *path, const char *text, bool sync)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	must(fd, "open", path);
	size_t n = strlen(text);
	must(write(fd, text, n) == (ssize_t)n ? 0 : -1, "write", path);
	if (sync)
		must(fsync(fd), "fsync", path);
	must(close(fd), "close", path);
}

static char *with(const char *path, const char *suffix)
{
	size_t n = strlen(path) + strlen(suffix) + 1;
	char *s = malloc(n);
	if (!s)
		exit(1);
	snprintf(s, n, "%s%s", path, suffix);
	return s;
}

static void vim(const char *file, const char *text)
{
	char *dup = strdup(file);
	char *probe = with(dirname(dup), "/4913");
	char *backup = with(file, "~");
	int fd = open(probe, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	must(fd, "open", probe);
	must(close(fd), "close", probe);
	must(unlink(probe), "unlink", probe);
	must(rename(file, backup), "rename", file);
	write_file(file, text, true);
	must(chmod(file, 0644), "chmod", file);
	must(unlink(backup), "unlink", backup);
	free(dup);
	free(probe);
	free(backup);
}

static void jetbrains(const char *file, const char *text)
{
	char *tmp = with(file, "___jb_tmp___");
	char *old = with(file, "___jb_old___");
	write_file(tmp, text, true);
	must(rename(file, old), "rename", file);
	must(rename(tmp, file), "rename", tmp);
	must(chmod(file, 0644), "chmod", file);
	must(unlink(old), "unlink", old);
	free(tmp);
	free(old);
}

static void temp(const char *file, const char *text)
{
	char *tmp = with(file, ".tmp");
	write_file(tmp, text, false);
	must(rename(tmp, file), "rename", tmp);
	must(chmod(file, 0644), "chmod", file);
	free(tmp);
}

static void burst(const char *dir, long n, const char *text)
{
	char path[4096];
	for (long i = 0; i < n; i++) {
		snprintf(path, sizeof path, "%s/%ld.go", dir, i);
		write_file(path, text, false);
	}
}

static void pause_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000 };
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

static void slowburst(const char *dir, long n, long ms, const char *text)
{
	char path[4096];
	for (long i = 0; i < n; i++) {
		snprintf(path, sizeof path, "%s/%ld.go", dir, i);
		write_file(path, text, false);
		pause_ms(ms);
	}
}

static void stream(const char *file, long n, long ms)
{
	char text[64];
	for (long i = 0; i < n; i++) {
		snprintf(text, sizeof text, "package main // %ld\n", i);
		write_file(file, text, false);
		pause_ms(ms);
	}
}

int main(int argc, char **argv)
{
	if (argc == 4 && strcmp(argv[1], "vim") == 0)
		vim(argv[2], argv[3]);
	else if (argc == 4 && strcmp(argv[1], "jetbrains") == 0)
		jetbrains(argv[2], argv[3]);
	else if (argc == 4 && strcmp(argv[1], "temp") == 0)
		temp(argv[2], argv[3]);
	else if (argc == 5 && strcmp(argv[1], "burst") == 0)
		burst(argv[2], atol(argv[3]), argv[4]);
	else if (argc == 6 && strcmp(argv[1], "slowburst") == 0)
		slowburst(argv[2], atol(argv[3]), atol(argv[4]), argv[5]);
	else if (argc == 5 && strcmp(argv[1], "stream") == 0)
		stream(argv[2], atol(argv[3]), atol(argv[4]));
	else {
		fprintf(stderr, "usage: saver vim|jetbrains|temp FILE TEXT | burst DIR N TEXT | "
		                "slowburst DIR N MS TEXT | stream FILE N MS\n");
		return 2;
	}
	return 0;
}
