/* poller.c - a full rescan of the snapshot every interval, changes to
 * host->changed (the poll plugin, and the fallback of the event-driven
 * watchers), and the options of that fallback. See poller.h. */
#include "config.h"

#include "poller.h"
#include "snap.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

struct walk_poller {
	struct walker w;
	struct walk_snap *s;
	unsigned interval;
	uint64_t timer;
	bool root_gone;
};

static void poller_emit(void *arg, struct walk_snap *s, uint32_t id, const char *rel,
                        enum gust_change kind, bool is_dir)
{
	struct walk_poller *p = arg;
	(void)s;
	(void)id;
	(void)is_dir;
	walk_report(&p->w, rel, kind);
}

static void poller_tick(void *arg)
{
	struct walk_poller *p = arg;
	int rc;

	p->timer = 0;
	rc = walk_snap_scan(p->s, &p->w, "", true, poller_emit, p);
	if (rc == -ENOENT && !p->root_gone)
		p->w.host->log(p->w.ctx, GUST_LOG_ERROR, "root '%s' is gone", p->w.root);
	else if (rc < 0 && rc != -ENOENT)
		p->w.host->log(p->w.ctx, GUST_LOG_ERROR, "scan failed: %s", strerror(-rc));
	p->root_gone = rc == -ENOENT;
	p->timer = p->w.host->timer_add(p->w.ctx, p->interval, poller_tick, p);
	if (!p->timer)
		p->w.host->log(p->w.ctx, GUST_LOG_ERROR,
		               "cannot arm the poll timer: changes are no longer seen");
}

struct walk_poller *walk_poller_start(const struct walker *w, unsigned interval_ms, bool trust_dirs,
                                      bool log_errors)
{
	struct walk_poller *p = calloc(1, sizeof *p);
	const char *why = NULL;
	int rc;

	if (!p || !(p->s = walk_snap_new())) {
		why = "out of memory";
		goto fail;
	}
	p->w = *w;
	p->interval = interval_ms ? interval_ms : 1;
	walk_snap_set_trust_dirs(p->s, trust_dirs);
	rc = walk_snap_scan(p->s, &p->w, "", true, NULL, NULL);
	if (rc < 0) {
		why = rc == -ENOENT ? "root is not a readable directory" : strerror(-rc);
		goto fail;
	}
	p->timer = w->host->timer_add(w->ctx, p->interval, poller_tick, p);
	if (!p->timer) {
		why = "cannot arm the poll timer";
		goto fail;
	}
	return p;
fail:
	if (log_errors)
		w->host->log(w->ctx, GUST_LOG_ERROR, "poll: %s: %s", w->root, why);
	else
		w->host->set_error(w->ctx, "'%s': %s", w->root, why);
	walk_poller_free(p);
	return NULL;
}

void walk_poller_free(struct walk_poller *p)
{
	if (!p)
		return;
	if (p->timer)
		p->w.host->timer_cancel(p->w.ctx, p->timer);
	walk_snap_free(p->s);
	free(p);
}

int walk_fallback_opts(const struct gust_host *host, struct gust_ctx *ctx,
                       const struct gust_opts *opts, bool *fallback, unsigned *poll_ms)
{
	static const char *const known[] = { "fallback_to_poll", "poll_interval_ms", NULL };
	long long ms;

	if (host->opt_check_keys(ctx, opts, known) < 0 ||
	    host->opt_bool(ctx, opts, "fallback_to_poll", true, fallback) < 0 ||
	    host->opt_int(ctx, opts, "poll_interval_ms", 500, 10, 3600000, &ms) < 0)
		return -EINVAL;
	*poll_ms = (unsigned)ms;
	return 0;
}
