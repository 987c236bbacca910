/* changedfile.h - <tmp_dir>/gust-changed.txt, the build's
 * GUST_CHANGED_FILE: the paths of the build in progress, one a line,
 * written in place through one descriptor kept open while the file
 * exists. */
#ifndef GUST_CHANGEDFILE_H
#define GUST_CHANGEDFILE_H

#include <stdbool.h>
#include <stddef.h>

struct changed_file {
	bool open; /* fd is the file's */
	int fd;
	size_t len; /* what it holds now; (size_t)-1: unknown, cut it */
};

/* Write the n paths to dir/gust-changed.txt; its path into file (len
 * bytes), or "" when it could not be written. */
void changed_file_write(struct changed_file *cf, const char *dir, char *const *paths, size_t n,
                        char *file, size_t len);
/* Close the descriptor (the file stays). */
void changed_file_close(struct changed_file *cf);

#endif
