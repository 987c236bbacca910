/* watcher-kqueue.c - the BSDs and macOS: EVFILT_VNODE on every directory and
 * file the filter allows (one fd each). kqueue says only "this vnode
 * changed": a write to a directory is turned into creates and removes by
 * rescanning that one directory against the snapshot (lib/snap.c, which the
 * Linux tests exercise); a file deleted or renamed over has its fd closed
 * and its directory rescanned, which reopens the new file. Out of file
 * descriptors: a message and polling (fallback_to_poll). */
#include "config.h"

#ifdef HAVE_SYS_EVENT_H

#include <gust/plugin.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/event.h>
#include <sys/time.h>
#include <sys/types.h>
#include <unistd.h>

#include "poller.h"
#include "snap.h"
#include "vec.h"
#include "walk.h"

#ifdef O_EVTONLY
#define KQ_OPEN_FLAGS O_EVTONLY
#else
#define KQ_OPEN_FLAGS O_RDONLY
#endif

#define KQ_NOTES (NOTE_WRITE | NOTE_DELETE | NOTE_RENAME | NOTE_EXTEND | NOTE_ATTRIB)

struct kq_watcher {
	const struct gust_host *host;
	struct gust_ctx *ctx;
	struct walker w;
	bool fallback;
	unsigned poll_ms;
	int kq;
	bool registered;
	bool report; /* the scan in progress reports what it finds */
	bool out_of_fds;
	struct walk_snap *snap;
	uint32_t *fd_ent; /* fd -> snapshot entry */
	size_t fd_cap;
	struct walk_poller *poller;
};

static void kq_close_entry(struct kq_watcher *kw, uint32_t id)
{
	int fd = walk_snap_user(kw->snap, id);

	if (fd < 0)
		return;
	if ((size_t)fd < kw->fd_cap)
		kw->fd_ent[fd] = WALK_NONE;
	close(fd); /* closing removes its knote */
	walk_snap_set_user(kw->snap, id, -1);
}

static void kq_open_entry(struct kq_watcher *kw, uint32_t id, const char *rel)
{
	char abs[PATH_MAX];
	struct kevent kev;
	int fd;

	if (walk_snap_user(kw->snap, id) >= 0 || kw->out_of_fds ||
	    walk_abs(&kw->w, rel, abs, sizeof abs) < 0)
		return;
	fd = open(abs, KQ_OPEN_FLAGS | O_CLOEXEC | O_NONBLOCK |
	                   (*rel && !kw->w.follow ? O_NOFOLLOW : 0));
	if (fd < 0) {
		if (errno == EMFILE || errno == ENFILE)
			kw->out_of_fds = true;
		return; /* gone, a symlink not followed, or unreadable */
	}
	if ((size_t)fd >= kw->fd_cap) {
		size_t old = kw->fd_cap;
		uint32_t *v = vec_grow(kw->fd_ent, &kw->fd_cap, (size_t)fd + 1, sizeof *v, 256);
		if (!v) {
			close(fd);
			return;
		}
		for (size_t i = old; i < kw->fd_cap; i++)
			v[i] = WALK_NONE;
		kw->fd_ent = v;
	}
	EV_SET(&kev, fd, EVFILT_VNODE, EV_ADD | EV_CLEAR, KQ_NOTES, 0, NULL);
	if (kevent(kw->kq, &kev, 1, NULL, 0, NULL) < 0) {
		close(fd);
		return;
	}
	if (walk_snap_set_user(kw->snap, id, fd) < 0) {
		close(fd); /* closing drops the registration too */
		return;
	}
	kw->fd_ent[fd] = id;
}

static void kq_emit(void *arg, struct walk_snap *s, uint32_t id, const char *rel,
                    enum gust_change kind, bool is_dir)
{
	struct kq_watcher *kw = arg;

	(void)s;
	(void)is_dir;
	if (kind == GUST_CHANGE_REMOVE)
		kq_close_entry(kw, id);
	else
		kq_open_entry(kw, id, rel);
	if (kw->report)
		walk_report(&kw->w, rel, kind);
}

static void kq_close_all_cb(void *arg, struct walk_snap *s, uint32_t id)
{
	(void)s;
	kq_close_entry(arg, id);
}

static void kq_teardown(struct kq_watcher *kw)
{
	if (kw->registered)
		kw->host->io_del(kw->ctx, kw->kq);
	kw->registered = false;
	if (kw->snap)
		walk_snap_each(kw->snap, kq_close_all_cb, kw);
	walk_snap_free(kw->snap);
	kw->snap = NULL;
	if (kw->kq >= 0)
		close(kw->kq);
	kw->kq = -1;
	free(kw->fd_ent);
	kw->fd_ent = NULL;
	kw->fd_cap = 0;
}

/* Out of fds: say so, then poll (or stop, if not allowed). */
static int kq_fall_back(struct kq_watcher *kw, bool started)
{
	const char *msg = "out of file descriptors (kqueue needs one per watched "
	                  "file and directory); raise the limit with ulimit -n, or "
	                  "use the poll watcher";

	kq_teardown(kw);
	if (!kw->fallback) {
		if (started)
			kw->host->log(kw->ctx, GUST_LOG_ERROR, "%s", msg);
		else
			kw->host->set_error(kw->ctx, "%s", msg);
		return -EMFILE;
	}
	kw->host->log(kw->ctx, GUST_LOG_WARN, "%s; falling back to polling every %u ms", msg,
	              kw->poll_ms);
	kw->poller = walk_poller_start(&kw->w, kw->poll_ms, true, started);
	return kw->poller ? 0 : -EIO;
}

/* Rescan directory rel; if it is gone, its nearest existing ancestor. */
static void kq_rescan(struct kq_watcher *kw, char *rel)
{
	for (;;) {
		int rc;
		kw->report = true;
		rc = walk_snap_scan(kw->snap, &kw->w, rel, false, kq_emit, kw);
		kw->report = false;
		if (rc != -ENOENT || !*rel)
			return;
		char *slash = strrchr(rel, '/');
		if (slash)
			*slash = '\0';
		else
			rel[0] = '\0';
	}
}

static void kq_event(struct kq_watcher *kw, const struct kevent *ev)
{
	char rel[PATH_MAX];
	int fd = (int)ev->ident;
	uint32_t id;
	unsigned fl = (unsigned)ev->fflags;

	if (fd < 0 || (size_t)fd >= kw->fd_cap || kw->fd_ent[fd] == WALK_NONE)
		return;
	id = kw->fd_ent[fd];
	if (walk_snap_user(kw->snap, id) != fd || walk_snap_path(kw->snap, id, rel, sizeof rel) < 0)
		return;
	if (walk_snap_is_dir(kw->snap, id)) {
		if (fl & (NOTE_DELETE | NOTE_RENAME)) {
			kq_close_entry(kw, id);
			if (!*rel) {
				kw->host->log(kw->ctx, GUST_LOG_ERROR,
				              "the root '%s' was %s: changes are no longer seen",
				              kw->w.root, (fl & NOTE_DELETE) ? "deleted" : "moved");
				return;
			}
			char *slash = strrchr(rel, '/');
			if (slash)
				*slash = '\0';
			else
				rel[0] = '\0';
			kq_rescan(kw, rel);
		} else if (fl & (NOTE_WRITE | NOTE_EXTEND)) {
			kq_rescan(kw, rel);
		}
		return;
	}
	if (fl & (NOTE_DELETE | NOTE_RENAME)) {
		/* deleted, or renamed over (an editor's save): the parent's rescan
		 * reports it and opens whatever now has the name */
		kq_close_entry(kw, id);
		walk_report(&kw->w, rel,
		            (fl & NOTE_DELETE) ? GUST_CHANGE_REMOVE : GUST_CHANGE_RENAME);
		char *slash = strrchr(rel, '/');
		if (slash)
			*slash = '\0';
		else
			rel[0] = '\0';
		kq_rescan(kw, rel);
		return;
	}
	if (fl & (NOTE_WRITE | NOTE_EXTEND))
		walk_report(&kw->w, rel, GUST_CHANGE_WRITE);
	else if (fl & NOTE_ATTRIB)
		walk_report(&kw->w, rel, GUST_CHANGE_ATTRIB);
	walk_snap_restat(kw->snap, &kw->w, id);
}

static void kq_readable(int fd, unsigned events, void *arg)
{
	struct kq_watcher *kw = arg;
	struct kevent evs[64];
	struct timespec zero = { 0, 0 };

	(void)events;
	for (;;) {
		int n = kevent(fd, NULL, 0, evs, 64, &zero);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		for (int i = 0; i < n && kw->snap; i++)
			kq_event(kw, &evs[i]);
		if (!kw->snap || kw->out_of_fds)
			break;
	}
	if (kw->snap && kw->out_of_fds && kq_fall_back(kw, true) == 0)
		walk_report(&kw->w, "", GUST_CHANGE_RESCAN);
}

static void *kq_create(const struct gust_host *host, struct gust_ctx *ctx,
                       const struct gust_opts *opts)
{
	struct kq_watcher *kw;
	bool fallback;
	unsigned ms;

	if (walk_fallback_opts(host, ctx, opts, &fallback, &ms) < 0)
		return NULL;
	kw = calloc(1, sizeof *kw);
	if (!kw) {
		host->set_error(ctx, "out of memory");
		return NULL;
	}
	kw->host = host;
	kw->ctx = ctx;
	kw->fallback = fallback;
	kw->poll_ms = ms;
	kw->kq = -1;
	return kw;
}

static int kq_start(void *self)
{
	struct kq_watcher *kw = self;
	int rc;

	walker_init(&kw->w, kw->host, kw->ctx);
	kw->kq = kqueue();
	if (kw->kq < 0) {
		rc = -errno;
		kw->host->set_error(kw->ctx, "kqueue: %s", strerror(-rc));
		return rc;
	}
	if (fcntl(kw->kq, F_SETFD, FD_CLOEXEC) < 0) {
		rc = -errno;
		kw->host->set_error(kw->ctx, "kqueue: %s", strerror(-rc));
		return rc;
	}
	kw->snap = walk_snap_new();
	if (!kw->snap) {
		kw->host->set_error(kw->ctx, "out of memory");
		return -ENOMEM;
	}
	kq_open_entry(kw, 0, "");
	if (walk_snap_user(kw->snap, 0) < 0) {
		rc = -errno;
		kw->host->set_error(kw->ctx, "cannot watch '%s': %s", kw->w.root, strerror(errno));
		return rc ? rc : -EIO;
	}
	rc = walk_snap_scan(kw->snap, &kw->w, "", true, kq_emit, kw);
	if (rc < 0) {
		kw->host->set_error(kw->ctx, "cannot scan '%s': %s", kw->w.root, strerror(-rc));
		return rc;
	}
	if (kw->out_of_fds)
		return kq_fall_back(kw, false);
	rc = kw->host->io_add(kw->ctx, kw->kq, GUST_IO_READ, kq_readable, kw);
	if (rc < 0) {
		kw->host->set_error(kw->ctx, "cannot watch the kqueue fd: %s", strerror(-rc));
		return rc;
	}
	kw->registered = true;
	kw->host->log(kw->ctx, GUST_LOG_DEBUG, "watching %zu paths under '%s'",
	              walk_snap_count(kw->snap), kw->w.root);
	return 0;
}

static void kq_destroy(void *self)
{
	struct kq_watcher *kw = self;

	if (!kw)
		return;
	kq_teardown(kw);
	walk_poller_free(kw->poller);
	free(kw);
}

static const struct gust_watcher_ops kq_ops = {
	sizeof(struct gust_watcher_ops),
	kq_create,
	kq_start,
	kq_destroy,
};

/* Built with -fvisibility=hidden: the descriptor is the one export. */
GUST_PLUGIN_DEFINE(watcher, "kqueue", PACKAGE_VERSION, kq_ops);

#endif /* HAVE_SYS_EVENT_H */
