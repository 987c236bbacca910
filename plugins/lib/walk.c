/* walk.c - the directory walker every watcher plugin shares, and the
 * root-relative path helpers the snapshot uses too. See walk.h. */
#include "config.h"

#include "walk.h"
#include "visited.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void walker_init(struct walker *w, const struct gust_host *host, struct gust_ctx *ctx)
{
	w->host = host;
	w->ctx = ctx;
	w->root = host->root(ctx);
	w->root_len = strlen(w->root);
	w->follow = host->follow_symlinks(ctx);
}

/* Without snprintf: a storm joins paths a few times per event. */
int walk_join(char *buf, size_t len, const char *dir, const char *name)
{
	size_t dl = strlen(dir), nl = strlen(name);
	size_t sep = dl && nl && dir[dl - 1] != '/';

	if (dl + sep + nl >= len)
		return -ENAMETOOLONG;
	memcpy(buf, dir, dl);
	buf[dl] = '/';
	memcpy(buf + dl + sep, name, nl + 1);
	return 0;
}

int walk_abs(const struct walker *w, const char *rel, char *buf, size_t len)
{
	return walk_join(buf, len, w->root, rel);
}

void walk_report(const struct walker *w, const char *rel, enum gust_change kind)
{
	char abs[PATH_MAX];

	if (walk_abs(w, rel, abs, sizeof abs) == 0)
		w->host->changed(w->ctx, abs, kind);
}

void walk_warn_unreadable(const struct walker *w, const char *rel, int err)
{
	w->host->log(w->ctx, GUST_LOG_WARN, "cannot read directory '%s': %s (skipped)",
	             *rel ? rel : ".", strerror(err));
}

struct wstate {
	const struct walker *w;
	const struct walk_ops *ops;
	void *arg;
	struct visited vis;
	char path[PATH_MAX];
};

size_t walk_path_push(char *path, size_t len, const char *name)
{
	size_t nl = strlen(name);
	size_t off = len ? len + 1 : 0;

	if (off + nl >= PATH_MAX)
		return 0;
	if (len)
		path[len] = '/';
	memcpy(path + off, name, nl + 1);
	return off + nl;
}

int walk_open_dir_at(const struct walker *w, int dfd, const char *name)
{
	return openat(dfd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC | (w->follow ? 0 : O_NOFOLLOW));
}

static int walk_dir(struct wstate *st, int dfd, size_t len, uintptr_t cookie)
{
	const struct walker *w = st->w;
	DIR *d = fdopendir(dfd);
	struct dirent *de;
	int rc = 0;

	if (!d) {
		close(dfd);
		return 0;
	}
	while (rc >= 0 && (de = readdir(d))) {
		const char *name = de->d_name;
		struct stat sb;
		bool have = false, is_dir;
		size_t nlen;

		if (name[0] == '.' && (!name[1] || (name[1] == '.' && !name[2])))
			continue;
		nlen = walk_path_push(st->path, len, name);
		if (!nlen)
			continue;
		if (de->d_type == DT_DIR) {
			is_dir = true;
		} else if (de->d_type == DT_UNKNOWN || (de->d_type == DT_LNK && w->follow)) {
			if (fstatat(dfd, name, &sb, w->follow ? 0 : AT_SYMLINK_NOFOLLOW) < 0 &&
			    fstatat(dfd, name, &sb, AT_SYMLINK_NOFOLLOW) < 0)
				continue;
			have = true;
			is_dir = S_ISDIR(sb.st_mode);
		} else {
			is_dir = false;
		}
		if (is_dir) {
			struct walk_entry e;
			uintptr_t c2 = 0;
			int cfd;

			if (w->host->is_ignored(w->ctx, st->path, true))
				continue;
			cfd = walk_open_dir_at(w, dfd, name);
			if (cfd < 0) {
				if (errno != ENOENT && errno != ENOTDIR && errno != ELOOP)
					walk_warn_unreadable(w, st->path, errno);
				continue;
			}
			if (fstat(cfd, &sb) < 0 || !visited_add(&st->vis, sb.st_dev, sb.st_ino)) {
				close(cfd);
				continue;
			}
			e = (struct walk_entry){ st->path, name, &sb, true, cookie };
			rc = st->ops->dir(st->arg, &e, &c2);
			if (rc <= 0) {
				close(cfd);
				continue;
			}
			rc = walk_dir(st, cfd, nlen, c2);
		} else if (st->ops->file) {
			struct walk_entry e;
			if (st->ops->want_stat && !have) {
				if (fstatat(dfd, name, &sb, w->follow ? 0 : AT_SYMLINK_NOFOLLOW) <
				        0 &&
				    fstatat(dfd, name, &sb, AT_SYMLINK_NOFOLLOW) < 0)
					continue;
				have = true;
			}
			e = (struct walk_entry){ st->path, name, have ? &sb : NULL, false, cookie };
			rc = st->ops->file(st->arg, &e);
		}
	}
	closedir(d);
	return rc < 0 ? rc : 0;
}

int walk_tree(const struct walker *w, const char *rel, uintptr_t parent_cookie,
              const struct walk_ops *ops, void *arg)
{
	struct wstate *st;
	char abs[PATH_MAX];
	struct stat sb;
	struct walk_entry e;
	uintptr_t cookie = 0;
	const char *name;
	int fd, rc;

	if (*rel && w->host->is_ignored(w->ctx, rel, true))
		return 0;
	if (walk_abs(w, rel, abs, sizeof abs) < 0 || strlen(rel) >= PATH_MAX)
		return 0;
	fd = open(abs, O_RDONLY | O_DIRECTORY | O_CLOEXEC | (*rel && !w->follow ? O_NOFOLLOW : 0));
	if (fd < 0) {
		if (errno != ENOENT && errno != ENOTDIR && errno != ELOOP)
			walk_warn_unreadable(w, rel, errno);
		return 0;
	}
	st = calloc(1, sizeof *st);
	if (!st) {
		close(fd);
		return -ENOMEM;
	}
	st->w = w;
	st->ops = ops;
	st->arg = arg;
	memcpy(st->path, rel, strlen(rel) + 1);
	if (fstat(fd, &sb) < 0 || !visited_add(&st->vis, sb.st_dev, sb.st_ino)) {
		close(fd);
		rc = 0;
		goto out;
	}
	name = strrchr(rel, '/');
	name = name ? name + 1 : rel;
	e = (struct walk_entry){ st->path, name, &sb, true, parent_cookie };
	rc = ops->dir(arg, &e, &cookie);
	if (rc <= 0) {
		close(fd);
		goto out;
	}
	rc = walk_dir(st, fd, strlen(rel), cookie);
out:
	visited_free(&st->vis);
	free(st);
	return rc < 0 ? rc : 0;
}
