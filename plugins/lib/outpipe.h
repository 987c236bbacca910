/* outpipe.h - where a spawned step's or run's output goes so that a
 * plugin can read it from the loop: the slave of a fresh pseudo-terminal
 * (programs keep their colours: they test isatty) or a pipe. In the
 * plugins' shared library (hidden visibility). */
#ifndef GUST_OUTPIPE_H
#define GUST_OUTPIPE_H

#include <stdbool.h>

/* pty: try a pseudo-terminal first (not made anyone's controlling
 * terminal, ONLCR off so lines arrive as written, the window size of
 * size_fd when that is a terminal); a pipe when none is to be had.
 * *rd (non-blocking) is the plugin's end, *wr the child's; both
 * close-on-exec. 0 or -errno. */
int outpipe_open(bool pty, int size_fd, int *rd, int *wr);

#endif
