/* watcher-inotify.c - Linux: one inotify watch per directory the filter
 * allows. A new directory is watched first and scanned after, so files
 * created in it before its watch existed are still reported; a lost queue
 * (IN_Q_OVERFLOW) means a rescan and one RESCAN event. Out of watches or
 * instances: a message naming the sysctl, then polling (fallback_to_poll).
 *
 * Writes are reported on IN_MODIFY as well as IN_CLOSE_WRITE: truncate(2)
 * and appenders that never close give only IN_MODIFY; the duplicates cost
 * nothing because the core debounces. */
#include "config.h"

#include <gust/plugin.h>

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <unistd.h>

#include "idpaths.h"
#include "poller.h"
#include "walk.h"

#define DIR_MASK                                                                                   \
	(IN_CREATE | IN_CLOSE_WRITE | IN_MODIFY | IN_ATTRIB | IN_DELETE | IN_MOVED_FROM |          \
	 IN_MOVED_TO | IN_DELETE_SELF | IN_MOVE_SELF | IN_ONLYDIR | IN_EXCL_UNLINK)

struct ino_watcher {
	const struct gust_host *host;
	struct gust_ctx *ctx;
	struct walker w;
	bool fallback;
	unsigned poll_ms;
	int fd;
	bool registered;
	struct walk_paths *wds;
	struct walk_poller *poller;
	bool started;      /* start() returned: errors go to the log */
	bool report;       /* the walk in progress reports what it finds */
	char errmsg[4608]; /* why the last add_watch failed hard */
};

static long read_sysctl(const char *name)
{
	char path[128], buf[32];
	FILE *fp;
	long v = -1;

	if (snprintf(path, sizeof path, "/proc/sys/fs/inotify/%s", name) >= (int)sizeof path)
		return -1;
	fp = fopen(path, "re");
	if (!fp)
		return -1;
	if (fgets(buf, sizeof buf, fp))
		v = strtol(buf, NULL, 10);
	fclose(fp);
	return v;
}

static void limit_message(struct ino_watcher *iw, const char *what, const char *sysctl,
                          long suggest)
{
	snprintf(iw->errmsg, sizeof iw->errmsg,
	         "%s: the inotify limit is reached (fs.inotify.%s = %ld); raise it "
	         "with: sudo sysctl fs.inotify.%s=%ld",
	         what, sysctl, read_sysctl(sysctl), sysctl, suggest);
}

static int add_one(struct ino_watcher *iw, const char *rel)
{
	char abs[PATH_MAX];
	uint32_t mask = DIR_MASK | (*rel && !iw->w.follow ? IN_DONT_FOLLOW : 0);
	int wd;

	if (walk_abs(&iw->w, rel, abs, sizeof abs) < 0)
		return 0;
	wd = inotify_add_watch(iw->fd, abs, mask);
	if (wd < 0) {
		int e = errno;
		char what[PATH_MAX + 32];
		if (e == ENOSPC) {
			snprintf(what, sizeof what, "cannot watch '%s'", *rel ? rel : ".");
			limit_message(iw, what, "max_user_watches", 524288);
			return -ENOSPC;
		}
		if (e == EACCES || e == EPERM)
			iw->host->log(iw->ctx, GUST_LOG_WARN,
			              "cannot watch directory '%s': %s (skipped)", *rel ? rel : ".",
			              strerror(e));
		else if (e != ENOENT && e != ENOTDIR && !*rel) {
			snprintf(iw->errmsg, sizeof iw->errmsg, "cannot watch '%s': %s", iw->w.root,
			         strerror(e));
			return -e;
		}
		return 0; /* gone meanwhile: nothing to watch */
	}
	if (walk_paths_set(iw->wds, wd, rel) < 0) {
		snprintf(iw->errmsg, sizeof iw->errmsg, "out of memory");
		return -ENOMEM;
	}
	return 1;
}

static int on_dir(void *arg, const struct walk_entry *e, uintptr_t *cookie)
{
	struct ino_watcher *iw = arg;
	int rc = add_one(iw, e->rel);

	(void)cookie;
	if (rc > 0 && iw->report && *e->rel)
		walk_report(&iw->w, e->rel, GUST_CHANGE_CREATE);
	return rc;
}

static int on_file(void *arg, const struct walk_entry *e)
{
	struct ino_watcher *iw = arg;

	if (iw->report)
		walk_report(&iw->w, e->rel, GUST_CHANGE_CREATE);
	return 0;
}

static const struct walk_ops add_ops = { on_dir, on_file, false };

/* Watch rel and everything under it; report what is found if report. */
static int add_tree(struct ino_watcher *iw, const char *rel, bool report)
{
	int rc;

	iw->report = report;
	rc = walk_tree(&iw->w, rel, 0,
	               report ? &add_ops : &(struct walk_ops){ on_dir, NULL, false }, iw);
	iw->report = false;
	return rc;
}

static void close_inotify(struct ino_watcher *iw)
{
	if (iw->registered)
		iw->host->io_del(iw->ctx, iw->fd);
	iw->registered = false;
	if (iw->fd >= 0)
		close(iw->fd);
	iw->fd = -1;
	walk_paths_free(iw->wds);
	iw->wds = NULL;
}

/* Switch to polling after a limit was hit. 0, or -errno if that fails too
 * (or is not allowed). */
static int fall_back(struct ino_watcher *iw)
{
	close_inotify(iw);
	if (!iw->fallback) {
		if (iw->started)
			iw->host->log(iw->ctx, GUST_LOG_ERROR, "%s", iw->errmsg);
		else
			iw->host->set_error(iw->ctx, "%s", iw->errmsg);
		return -ENOSPC;
	}
	iw->host->log(iw->ctx, GUST_LOG_WARN, "%s; falling back to polling every %u ms", iw->errmsg,
	              iw->poll_ms);
	iw->poller = walk_poller_start(&iw->w, iw->poll_ms, true, iw->started);
	return iw->poller ? 0 : -EIO;
}

static void drop_watch(void *arg, int wd, const char *path)
{
	struct ino_watcher *iw = arg;

	(void)path;
	inotify_rm_watch(iw->fd, wd);
	walk_paths_del(iw->wds, wd);
}

static void on_event(struct ino_watcher *iw, const struct inotify_event *ev, bool *overflow,
                     bool *failed)
{
	char rel[PATH_MAX];
	const char *dir;
	uint32_t m = ev->mask;

	if (m & IN_Q_OVERFLOW) {
		*overflow = true;
		return;
	}
	dir = walk_paths_get(iw->wds, ev->wd);
	if (!dir)
		return;
	if (m & IN_IGNORED) {
		walk_paths_del(iw->wds, ev->wd);
		return;
	}
	if (!ev->len || !ev->name[0]) {
		/* the directory itself; its parent reports it, except the root */
		if (!*dir && (m & (IN_DELETE_SELF | IN_MOVE_SELF)))
			iw->host->log(iw->ctx, GUST_LOG_ERROR,
			              "the root '%s' was %s: changes are no longer seen",
			              iw->w.root, (m & IN_DELETE_SELF) ? "deleted" : "moved");
		return;
	}
	if (walk_join(rel, sizeof rel, dir, ev->name) < 0)
		return;
	if (m & IN_ISDIR) {
		if (m & (IN_DELETE | IN_MOVED_FROM)) {
			walk_paths_under(iw->wds, rel, drop_watch, iw);
			walk_report(&iw->w, rel,
			            (m & IN_DELETE) ? GUST_CHANGE_REMOVE : GUST_CHANGE_RENAME);
		}
		if (m & (IN_CREATE | IN_MOVED_TO)) {
			if (m & IN_MOVED_TO)
				walk_report(&iw->w, rel, GUST_CHANGE_RENAME);
			if (add_tree(iw, rel, true) == -ENOSPC)
				*failed = true;
		}
		return;
	}
	if (m & IN_CREATE)
		walk_report(&iw->w, rel, GUST_CHANGE_CREATE);
	if (m & (IN_CLOSE_WRITE | IN_MODIFY))
		walk_report(&iw->w, rel, GUST_CHANGE_WRITE);
	if (m & IN_DELETE)
		walk_report(&iw->w, rel, GUST_CHANGE_REMOVE);
	if (m & (IN_MOVED_FROM | IN_MOVED_TO))
		walk_report(&iw->w, rel, GUST_CHANGE_RENAME);
	if (m & IN_ATTRIB)
		walk_report(&iw->w, rel, GUST_CHANGE_ATTRIB);
}

static void on_readable(int fd, unsigned events, void *arg)
{
	struct ino_watcher *iw = arg;
	_Alignas(struct inotify_event) char buf[65536];
	bool overflow = false, failed = false;

	(void)events;
	while (!failed) {
		ssize_t n = read(fd, buf, sizeof buf);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			if (n < 0 && errno != EAGAIN)
				iw->host->log(iw->ctx, GUST_LOG_ERROR, "reading inotify events: %s",
				              strerror(errno));
			break;
		}
		for (char *p = buf; p < buf + n && !failed;) {
			const struct inotify_event *ev = (const struct inotify_event *)p;
			on_event(iw, ev, &overflow, &failed);
			p += sizeof *ev + ev->len;
		}
	}
	if (!failed && overflow) {
		iw->host->log(iw->ctx, GUST_LOG_WARN,
		              "inotify queue overflowed: events were lost; rescanning");
		if (add_tree(iw, "", false) == -ENOSPC)
			failed = true;
		walk_report(&iw->w, "", GUST_CHANGE_RESCAN);
	}
	if (failed) {
		/* iw->fd is closed by fall_back(): nothing below may touch it */
		if (fall_back(iw) == 0)
			walk_report(&iw->w, "", GUST_CHANGE_RESCAN);
	}
}

static void *ino_create(const struct gust_host *host, struct gust_ctx *ctx,
                        const struct gust_opts *opts)
{
	struct ino_watcher *iw;
	bool fallback;
	unsigned ms;

	if (walk_fallback_opts(host, ctx, opts, &fallback, &ms) < 0)
		return NULL;
	iw = calloc(1, sizeof *iw);
	if (!iw) {
		host->set_error(ctx, "out of memory");
		return NULL;
	}
	iw->host = host;
	iw->ctx = ctx;
	iw->fallback = fallback;
	iw->poll_ms = ms;
	iw->fd = -1;
	return iw;
}

static int ino_start(void *self)
{
	struct ino_watcher *iw = self;
	int rc;

	walker_init(&iw->w, iw->host, iw->ctx);
	iw->fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (iw->fd < 0) {
		int e = errno;
		if (e == EMFILE) {
			limit_message(iw, "cannot create an inotify instance", "max_user_instances",
			              1024);
		} else {
			snprintf(iw->errmsg, sizeof iw->errmsg,
			         "cannot create an inotify instance: %s", strerror(e));
			if (!iw->fallback) {
				iw->host->set_error(iw->ctx, "%s", iw->errmsg);
				return -e;
			}
		}
		rc = fall_back(iw);
		iw->started = true;
		return rc;
	}
	iw->wds = walk_paths_new();
	if (!iw->wds) {
		iw->host->set_error(iw->ctx, "out of memory");
		return -ENOMEM;
	}
	rc = add_tree(iw, "", false);
	if (rc == -ENOSPC) {
		rc = fall_back(iw);
		iw->started = true;
		return rc;
	}
	if (rc < 0 || walk_paths_count(iw->wds) == 0) {
		iw->host->set_error(iw->ctx, "%s",
		                    iw->errmsg[0] ? iw->errmsg : "cannot watch the root");
		return rc < 0 ? rc : -EIO;
	}
	rc = iw->host->io_add(iw->ctx, iw->fd, GUST_IO_READ, on_readable, iw);
	if (rc < 0) {
		iw->host->set_error(iw->ctx, "cannot watch the inotify fd: %s", strerror(-rc));
		return rc;
	}
	iw->registered = true;
	iw->started = true;
	iw->host->log(iw->ctx, GUST_LOG_DEBUG, "watching %zu directories under '%s'",
	              walk_paths_count(iw->wds), iw->w.root);
	return 0;
}

static void ino_destroy(void *self)
{
	struct ino_watcher *iw = self;

	if (!iw)
		return;
	close_inotify(iw);
	walk_poller_free(iw->poller);
	free(iw);
}

static const struct gust_watcher_ops ino_ops = {
	sizeof(struct gust_watcher_ops),
	ino_create,
	ino_start,
	ino_destroy,
};

/* Built with -fvisibility=hidden: the descriptor is the one export. */
GUST_PLUGIN_DEFINE(watcher, "inotify", PACKAGE_VERSION, ino_ops);
