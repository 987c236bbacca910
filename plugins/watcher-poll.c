/* watcher-poll.c - the portable watcher: a snapshot of the tree (stat only,
 * no content hashing) compared with a fresh scan every interval. The answer
 * for file systems that send no events (Docker bind mounts, NFS, WSL).
 * Directories whose times say nothing was added, removed or renamed in
 * them are not listed again (walk.h); trust_dir_mtime: false lists them
 * all at every scan. */
#include "config.h"

#include <gust/plugin.h>
#include <errno.h>
#include <stdlib.h>

#include "poller.h"
#include "walk.h"

struct poll_watcher {
	const struct gust_host *host;
	struct gust_ctx *ctx;
	struct walker w;
	unsigned interval_ms;
	bool trust_dirs;
	struct walk_poller *poller;
};

static void *poll_create(const struct gust_host *host, struct gust_ctx *ctx,
                         const struct gust_opts *opts)
{
	static const char *const known[] = { "interval_ms", "trust_dir_mtime", NULL };
	struct poll_watcher *p;
	long long ms;
	bool trust;

	if (host->opt_check_keys(ctx, opts, known) < 0 ||
	    host->opt_int(ctx, opts, "interval_ms", 500, 10, 3600000, &ms) < 0 ||
	    host->opt_bool(ctx, opts, "trust_dir_mtime", true, &trust) < 0)
		return NULL;
	p = calloc(1, sizeof *p);
	if (!p) {
		host->set_error(ctx, "out of memory");
		return NULL;
	}
	p->host = host;
	p->ctx = ctx;
	p->interval_ms = (unsigned)ms;
	p->trust_dirs = trust;
	return p;
}

static int poll_start(void *self)
{
	struct poll_watcher *p = self;

	walker_init(&p->w, p->host, p->ctx);
	p->poller = walk_poller_start(&p->w, p->interval_ms, p->trust_dirs, false);
	if (!p->poller)
		return -EIO;
	p->host->log(p->ctx, GUST_LOG_DEBUG, "polling '%s' every %u ms", p->w.root, p->interval_ms);
	return 0;
}

static void poll_destroy(void *self)
{
	struct poll_watcher *p = self;

	if (!p)
		return;
	walk_poller_free(p->poller);
	free(p);
}

static const struct gust_watcher_ops poll_ops = {
	sizeof(struct gust_watcher_ops),
	poll_create,
	poll_start,
	poll_destroy,
};

/* Built with -fvisibility=hidden: the descriptor is the one export. */
GUST_PLUGIN_DEFINE(watcher, "poll", PACKAGE_VERSION, poll_ops);
