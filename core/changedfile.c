/* changedfile.c - the build's list of changed paths as a file (see
 * changedfile.h).
 *
 * Written in place through one descriptor: a tmp file and a rename cost
 * ~150 us on ext4, and so does opening with O_TRUNC (the file is cut only
 * when the new list is shorter). The build that reads it starts only after
 * it is complete, and a cancelled build still reading the old list is
 * being stopped anyway. */
#include "config.h"

#include "changedfile.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* The n paths, one a line, in a malloc'd buffer of *size bytes (NULL: no
 * memory). */
static char *join_lines(char *const *paths, size_t n, size_t *size)
{
	size_t total = 0;
	for (size_t i = 0; i < n; i++)
		total += strlen(paths[i]) + 1;
	char *buf = malloc(total + 1);
	if (!buf)
		return NULL;
	size_t k = 0;
	for (size_t i = 0; i < n; i++) {
		size_t l = strlen(paths[i]);
		memcpy(buf + k, paths[i], l);
		buf[k + l] = '\n';
		k += l + 1;
	}
	*size = total;
	return buf;
}

void changed_file_write(struct changed_file *cf, const char *dir, char *const *paths, size_t n,
                        char *file, size_t len)
{
	file[0] = '\0';
	if (snprintf(file, len, "%s/gust-changed.txt", dir) >= (int)len) {
		file[0] = '\0';
		return;
	}
	size_t size;
	char *buf = join_lines(paths, n, &size);
	if (!buf) {
		file[0] = '\0';
		return;
	}
	struct stat st;
	if (cf->open && (fstat(cf->fd, &st) < 0 || st.st_nlink == 0)) {
		close(cf->fd); /* removed behind our back */
		cf->open = false;
	}
	if (!cf->open) {
		int fd = open(file, O_WRONLY | O_CREAT | O_CLOEXEC, 0666);
		if (fd >= 0) {
			cf->fd = fd;
			cf->open = true;
			cf->len = (size_t)-1; /* whatever it held: cut it */
		}
	}
	bool ok = cf->open && (size == 0 || pwrite(cf->fd, buf, size, 0) == (ssize_t)size) &&
	          (size >= cf->len || ftruncate(cf->fd, (off_t)size) == 0);
	free(buf);
	if (!ok) {
		file[0] = '\0';
		return;
	}
	cf->len = size;
}

void changed_file_close(struct changed_file *cf)
{
	if (cf->open)
		close(cf->fd);
	cf->open = false;
}
