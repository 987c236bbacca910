/* poller.h - polling: a full rescan every interval, changes reported to
 * host->changed; and the options of the event-driven watchers, which fall
 * back to it. */
#ifndef GUST_POLLER_H
#define GUST_POLLER_H

#include "walk.h"

#include <gust/plugin.h>
#include <stdbool.h>

struct walk_poller;

/* Takes the first snapshot silently (warning about unreadable dirs) and
 * arms the timer. NULL with the reason set via host->set_error(), or logged
 * when log_errors (after create(), set_error no longer reaches anyone).
 * trust_dirs: see walk_snap_set_trust_dirs(). */
struct walk_poller *walk_poller_start(const struct walker *w, unsigned interval_ms, bool trust_dirs,
                                      bool log_errors);
void walk_poller_free(struct walk_poller *p);

/* The options of the event-driven watchers (inotify, kqueue), which fall
 * back to polling: {"fallback_to_poll": bool, "poll_interval_ms": int}.
 * Rejects unknown keys. 0 or -EINVAL with host->set_error() called. */
int walk_fallback_opts(const struct gust_host *host, struct gust_ctx *ctx,
                       const struct gust_opts *opts, bool *fallback, unsigned *poll_ms);

#endif
