/* cycle.h - the words of the cycle line and of an exit status (see
 * cycle.c). */
#ifndef GUST_CYCLE_H
#define GUST_CYCLE_H

#include "app.h"

#include <stddef.h>
#include <stdint.h>

/* status as a waitpid() status, or -errno for a command that could not
 * run: "exit status 2", "killed by signal 9 (SIGKILL)", "could not run:
 * ...". */
void cycle_status(int status, char *buf, size_t len);
/* "PATH changed" or "PATH and N more changed" (n >= 1). */
void cycle_what_changed(char *buf, size_t len, char *const *paths, size_t n);
/* app->cycle_line up to its outcome: why the run started at t0 and what
 * it took before it did. */
void cycle_prefix(struct app *app, uint64_t t0);
/* The whole cycle line once the run's readiness check answered, ms after
 * the run started: "..., ready in 40 ms", "...; not ready after ...". */
void cycle_ready(const struct app *app, enum probe_result result, uint64_t ms, char *buf,
                 size_t len);

#endif
