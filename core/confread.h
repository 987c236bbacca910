/* confread.h - reading a config file into memory, refusing what is not a
 * config file: a FIFO, a directory, a device or a socket is refused without
 * being opened for reading, a file over CONFIG_MAX_BYTES is refused, and a
 * pipe gust already holds (-c <(command): /dev/fd/N) is read with a
 * deadline. */
#ifndef GUST_CONFREAD_H
#define GUST_CONFREAD_H

#include <stdbool.h>
#include <stddef.h>

/* The largest config file read: 1 MiB. */
#define CONFIG_MAX_BYTES (1024 * 1024)
/* How long a pipe may take to deliver the whole config: 5 s. */
#define CONFIG_PIPE_TIMEOUT_MS 5000

/* Whether file names a descriptor gust already holds: /dev/fd/N,
 * /proc/self/fd/N or /dev/stdin. Such a pipe is read, and relative paths
 * in it are taken from the current directory, not /dev/fd. */
bool config_fd_path(const char *file);

/* Read file whole into *text (malloc'd, NUL-terminated, *len bytes before
 * the NUL; the caller frees it). 0, or -errno with one line in err:
 *   cannot read "FILE": No such file or directory
 *   cannot read "FILE": not a regular file (a named pipe)
 *   cannot read "FILE": larger than 1 MiB, too large for a config
 *   cannot read "/dev/fd/63": no end of input within 5 s */
int config_read_file(const char *file, char **text, size_t *len, char *err, size_t errlen);

#endif
