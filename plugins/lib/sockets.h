/* sockets.h - the listening sockets gust holds for a runner's whole life
 * and hands to every run (the systemd socket-activation protocol: fds 3,
 * 4, ... with LISTEN_FDS, LISTEN_PID and LISTEN_FDNAMES).
 *
 * A spec is "[NAME=]tcp:HOST:PORT", "[NAME=]tcp:[V6ADDR]:PORT" or
 * "[NAME=]unix:PATH" (PATH relative to the project root). HOST is a
 * numeric address or "localhost"; nothing is resolved through DNS. NAME
 * goes to LISTEN_FDNAMES (printable ASCII without ':' or spaces, at most
 * 255 bytes); by default "tcp-PORT" or "unix-BASENAME".
 */
#ifndef GUST_SOCKETS_H
#define GUST_SOCKETS_H

#include <stddef.h>

struct socks {
	size_t n;
	int *fds;       /* listening, O_CLOEXEC, numbered >= 3 + n */
	char **names;   /* LISTEN_FDNAMES entries */
	char **unlinks; /* unix paths gust created: removed by socks_close */
	char *fdnames;  /* "LISTEN_FDNAMES=a:b:c" */
	char *fdcount;  /* "LISTEN_FDS=n" */
};

/* Parse and open every spec: bound and listening when it returns 0. On
 * error -1 with a one-line reason in err naming the spec (by index and
 * text), nothing left open or created. A unix path that exists is
 * replaced only when it is a socket nobody listens on (a stale one). */
int socks_open(struct socks *s, const char *const *specs, size_t n, const char *root, char *err,
               size_t errlen);
/* Close every fd, remove the unix sockets gust created, free. */
void socks_close(struct socks *s);

#endif
