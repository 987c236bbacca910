/* probe.h - is the new run ready? One readiness check, driven by the
 * core's loop (no thread, no blocking call): a process of the run's tree
 * listens (the default), a TCP connect succeeds, an HTTP request gets a
 * response below 500 (libcurl's multi-socket API on gust's loop), or a
 * line of the program's output matches a regex. Failed attempts are
 * retried with a backoff (5 ms doubling up to 200 ms); after timeout_ms
 * the probe gives up.
 *
 * The "ready" value of the runner section:
 *   true | {"listen": true}   the default: any listening socket of the tree
 *   false | {"listen": false} never checked: ready when started
 *   {"tcp": "HOST:PORT"}      HOST numeric or "localhost"
 *   {"http": "http://HOST:PORT/PATH"}
 *   {"log": "REGEX"}          POSIX extended regex on each output line
 * and "ready_timeout_ms" (default 30000) beside it.
 */
#ifndef GUST_PROBE_H
#define GUST_PROBE_H

#include <jansson.h>
#include <regex.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

struct loop;

enum probe_kind { PROBE_OFF, PROBE_LISTEN, PROBE_TCP, PROBE_HTTP, PROBE_LOG };

struct probe_spec {
	enum probe_kind kind;
	char *target; /* "HOST:PORT", the URL, or the regex's text */
	regex_t re;   /* PROBE_LOG */
	char host[64];
	unsigned port;
	unsigned timeout_ms;
};

enum probe_result { PROBE_READY, PROBE_TIMEOUT };

/* The pids of the run's tree, for PROBE_LISTEN: at most max in out; and
 * *skip, unless 0, a process whose sockets do not count even where a pid
 * of out holds them (a tool in front of the program, whose sockets its
 * child holds from fork to exec). */
typedef size_t (*probe_pids_fn)(void *arg, pid_t *out, size_t max, pid_t *skip);
/* Called once from the loop; what: "127.0.0.1:8080 (tcp)", the status
 * line, the matching line... The owner may free the probe from here. */
typedef void (*probe_done_fn)(void *arg, enum probe_result result, const char *what);

/* Parse the "ready" value (NULL: the default) and "ready_timeout_ms"
 * (NULL: 30000). 0, or -1 with a one-line reason in err that names the
 * key under section (e.g. "runner.ready.tcp"). */
int probe_spec_parse(struct probe_spec *spec, const json_t *ready, const json_t *timeout,
                     const char *section, char *err, size_t errlen);
void probe_spec_fini(struct probe_spec *spec);

struct probe;
/* Start checking now. spec is copied where needed and may go after the
 * call, except spec->re, which must outlive the probe. NULL on ENOMEM. */
struct probe *probe_start(struct loop *loop, const struct probe_spec *spec, probe_pids_fn pids,
                          void *pids_arg, probe_done_fn done, void *arg);
/* A line of the program's output (PROBE_LOG; ignored otherwise). */
void probe_line(struct probe *p, const char *line, size_t len);
/* How many times the loop woke up for this probe so far (timers and fd
 * events): what detecting readiness costs. */
unsigned long probe_wakeups(const struct probe *p);
/* Stop checking (no callback) and free. NULL is fine. */
void probe_free(struct probe *p);

#endif
