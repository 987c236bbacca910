/* starter.h - the starter servers of `gust init` (--sockets, --livereload):
 * which presets have one and so the socket hand-off mode, the address it
 * takes, and the starter server written beside the config
 * (core/starter.c). Each starter serves HTTP on the
 * listening socket gust hands to every run (fd 3 when LISTEN_FDS is set and
 * LISTEN_PID is its own pid: the systemd protocol) and listens on the
 * address itself otherwise, so it runs without gust too. */
#ifndef GUST_STARTER_H
#define GUST_STARTER_H

#include <stdbool.h>
#include <stddef.h>

/* A TCP address for the socket hand-off: a numeric IPv4 host and a port. */
struct starter_addr {
	char host[16];
	unsigned port;
};

/* Parse "PORT" (host 127.0.0.1) or "IPV4:PORT" into a; 0, or -EINVAL with a
 * one-line message in err naming text. */
int starter_parse_addr(const char *text, struct starter_addr *a, char *err, size_t errlen);
/* NULL when preset has a starter server, else a one-line "init: ..."
 * reason it has no socket hand-off mode, written into err. */
const char *starter_refusal(const char *preset, char *err, size_t errlen);
/* Whether preset has a starter server (go, python, node). */
bool starter_offered(const char *preset);
/* Whether the project in the current directory has its own program where
 * preset's starter would go (any .go file; main.py; index.js): then
 * starter_write writes nothing. */
bool starter_kept(const char *preset);
/* Write preset's starter files into the current directory (the program,
 * go.mod for Go, static/style.css for its page), each only where the
 * project has none of its own (never overwriting), the program listening
 * on a by itself; handed: gust holds a and hands it to every run
 * (--sockets), which the message says. 0 with what was done in msg (one
 * line without a final newline), or -errno with a one-line message in
 * err. */
int starter_write(const char *preset, const struct starter_addr *a, bool handed, char *msg,
                  size_t msglen, char *err, size_t errlen);

#endif
