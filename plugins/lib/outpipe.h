/* outpipe.h - where a spawned step's or run's output goes so that a
 * plugin can read it from the loop: the slave of a fresh pseudo-terminal
 * (programs keep their colours: they test isatty) or a pipe. In the
 * plugins' shared library (hidden visibility). */
#ifndef GUST_OUTPIPE_H
#define GUST_OUTPIPE_H

#include <stdbool.h>
#include <stddef.h>

/* pty: try a pseudo-terminal first (not made anyone's controlling
 * terminal, ONLCR off so lines arrive as written, the window size of
 * size_fd when that is a terminal); a pipe when none is to be had.
 * *rd (non-blocking) is the plugin's end, *wr the child's; both
 * close-on-exec. 0 or -errno. */
int outpipe_open(bool pty, int size_fd, int *rd, int *wr);

/* Read the plugin's end *rd (read again before each read: take may close
 * it), each chunk to take(arg, buf, n). bounded: one chunk, so a chatty
 * child cannot starve the loop (the loop calls back while more is ready);
 * else everything there is now. True at end of file or on a read error
 * (EIO: a pty whose last slave closed): the caller closes *rd. */
bool outpipe_read(const int *rd, bool bounded, void (*take)(void *arg, const char *buf, size_t n),
                  void *arg);
/* Write all of buf to fd, retrying after a signal; gives up on an error
 * (output that cannot be shown is dropped). */
void outpipe_write_all(int fd, const char *buf, size_t len);

#endif
