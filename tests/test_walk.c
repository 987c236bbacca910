/* test_walk.c - the watcher bookkeeping of plugins/lib/ on real trees:
 * the walker (filter, symlinks, unreadable dirs), the ident table, and the
 * snapshot diff that poll and kqueue rely on. The host table is a small
 * one backed by the real filter. */
#include "config.h"

#include <check.h>
#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "unit.h"

#include "conf.h"
#include "filter.h"
#include "idpaths.h"
#include "snap.h"
#include "walk.h"


struct gust_ctx {
	struct filter *filter;
	const char *root;
	bool follow;
	char log[8192];
	size_t loglen;
};

static void h_log(struct gust_ctx *ctx, enum gust_log_level level, const char *fmt, ...)
{
	va_list ap;
	int n;
	(void)level;
	va_start(ap, fmt);
	n = vsnprintf(ctx->log + ctx->loglen, sizeof ctx->log - ctx->loglen, fmt, ap);
	va_end(ap);
	if (n > 0 && ctx->loglen + (size_t)n + 1 < sizeof ctx->log) {
		ctx->loglen += (size_t)n;
		ctx->log[ctx->loglen++] = '\n';
		ctx->log[ctx->loglen] = '\0';
	}
}

static void h_set_error(struct gust_ctx *ctx, const char *fmt, ...)
{
	(void)ctx;
	(void)fmt;
}

static bool h_ignored(struct gust_ctx *ctx, const char *path, bool is_dir)
{
	return filter_ignored(ctx->filter, path, is_dir);
}

static const char *h_root(struct gust_ctx *ctx)
{
	return ctx->root;
}
static bool h_follow(struct gust_ctx *ctx)
{
	return ctx->follow;
}

static const struct gust_host host = {
	.size = sizeof(struct gust_host),
	.abi_version = GUST_ABI_VERSION,
	.log = h_log,
	.set_error = h_set_error,
	.is_ignored = h_ignored,
	.root = h_root,
	.follow_symlinks = h_follow,
};

static char root[PATH_MAX];
static struct gust_ctx ctx;
static struct walker w;
static const char *none_v[] = { NULL };
static const char *all_v[] = { "*", NULL };
static const char *xdir_v[] = { "node_modules", NULL };

static void sh(const char *fmt, ...)
{
	char cmd[2 * PATH_MAX];
	va_list ap;
	int n;
	va_start(ap, fmt);
	n = vsnprintf(cmd, sizeof cmd, fmt, ap);
	va_end(ap);
	ck_assert_int_lt(n, (int)sizeof cmd);
	ck_assert_msg(system(cmd) == 0, "failed: %s", cmd);
}

static void setup_tree(bool follow)
{
	struct config cfg;
	char err[256], tmp[PATH_MAX];

	FMT(root, "%s/gust-walk.XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	ck_assert_ptr_nonnull(mkdtemp(root));
	memset(&cfg, 0, sizeof cfg);
	cfg.root = root;
	FMT(tmp, "%s/tmp", root);
	cfg.tmp_dir = tmp;
	cfg.watch.include_ext = (char **)all_v;
	cfg.watch.include_dir = cfg.watch.include_file = (char **)none_v;
	cfg.watch.exclude_file = cfg.watch.exclude_regex = (char **)none_v;
	cfg.watch.exclude_dir = (char **)xdir_v;
	cfg.watch.gitignore = true;
	memset(&ctx, 0, sizeof ctx);
	ctx.filter = filter_new(&cfg, err, sizeof err);
	ck_assert_msg(ctx.filter != NULL, "%s", err);
	ctx.root = root;
	ctx.follow = follow;
	walker_init(&w, &host, &ctx);
}

static void teardown_tree(void)
{
	sh("chmod -R u+rwx '%s'; rm -rf '%s'", root, root);
	filter_free(ctx.filter);
}

/* ------------------------------------------------------------ the walker */

struct seen {
	char text[16384];
	size_t len;
};

static void seen_add(struct seen *s, char tag, const char *rel)
{
	int n =
	    snprintf(s->text + s->len, sizeof s->text - s->len, "%c %s\n", tag, *rel ? rel : ".");
	ck_assert(n > 0 && (size_t)n < sizeof s->text - s->len);
	s->len += (size_t)n;
}

static bool seen_has(const struct seen *s, char tag, const char *rel)
{
	char needle[PATH_MAX + 4];
	const char *p = s->text;
	snprintf(needle, sizeof needle, "%c %s\n", tag, rel);
	if (strncmp(p, needle, strlen(needle)) == 0)
		return true;
	snprintf(needle, sizeof needle, "\n%c %s\n", tag, rel);
	return strstr(p, needle) != NULL;
}

static size_t seen_count(const struct seen *s, char tag)
{
	size_t n = 0;
	for (const char *p = s->text; *p; p = strchr(p, '\n') + 1)
		if (*p == tag)
			n++;
	return n;
}

static int on_dir(void *arg, const struct walk_entry *e, uintptr_t *cookie)
{
	seen_add(arg, 'D', e->rel);
	*cookie = 1;
	return 1;
}

static int on_file(void *arg, const struct walk_entry *e)
{
	seen_add(arg, 'F', e->rel);
	ck_assert_int_eq(e->parent, 1);
	return 0;
}

static const struct walk_ops ops = { on_dir, on_file, true };

START_TEST(test_walk_skips_excluded)
{
	struct seen s = { 0 };

	setup_tree(false);
	sh("cd '%s' && mkdir -p a/b/c node_modules/x/y .git/objects tmp src web/build "
	   "&& touch src/main.go a/b/c/f.go node_modules/x/y/z.js .git/objects/o "
	   "tmp/main web/build/out.js && printf 'web/build/\\n' > .gitignore",
	   root);
	ck_assert_int_eq(walk_tree(&w, "", 0, &ops, &s), 0);
	ck_assert_msg(seen_has(&s, 'D', ".") && seen_has(&s, 'D', "a") &&
	                  seen_has(&s, 'D', "a/b/c") && seen_has(&s, 'D', "src") &&
	                  seen_has(&s, 'D', "web"),
	              "walked:\n%s", s.text);
	ck_assert_msg(!strstr(s.text, "node_modules") && !strstr(s.text, ".git/") &&
	                  !seen_has(&s, 'D', ".git") && !strstr(s.text, "tmp") &&
	                  !strstr(s.text, "web/build"),
	              "walked into an excluded dir:\n%s", s.text);
	ck_assert(seen_has(&s, 'F', "src/main.go"));
	ck_assert(seen_has(&s, 'F', "a/b/c/f.go"));
	ck_assert(seen_has(&s, 'F', ".gitignore"));
	/* a subtree on its own (what inotify does for a new directory) */
	memset(&s, 0, sizeof s);
	ck_assert_int_eq(walk_tree(&w, "a/b", 0, &ops, &s), 0);
	ck_assert_msg(seen_has(&s, 'D', "a/b") && seen_has(&s, 'D', "a/b/c") &&
	                  seen_has(&s, 'F', "a/b/c/f.go") && seen_count(&s, 'D') == 2,
	              "%s", s.text);
	/* an excluded start directory is not walked at all */
	memset(&s, 0, sizeof s);
	ck_assert_int_eq(walk_tree(&w, "node_modules/x", 0, &ops, &s), 0);
	ck_assert_int_eq(s.len, 0);
	teardown_tree();
}
END_TEST

START_TEST(test_walk_symlink_loop)
{
	struct seen s = { 0 };

	setup_tree(true);
	sh("cd '%s' && mkdir -p a/b ext-target && touch a/b/f ext-target/t && "
	   "ln -s .. a/b/up && ln -s ../a a/self && ln -s ../ext-target a/ext",
	   root);
	/* followed: every directory exactly once, the loops cut */
	ck_assert_int_eq(walk_tree(&w, "", 0, &ops, &s), 0);
	ck_assert_msg(seen_count(&s, 'D') == 4, "walked:\n%s", s.text); /* . a a/b ext-target */
	ck_assert(seen_has(&s, 'F', "a/b/f"));
	ck_assert(!strstr(s.text, "up/"));
	ck_assert_int_eq(seen_count(&s, 'F'), 2);
	teardown_tree();

	/* not followed: symlinks are plain entries */
	memset(&s, 0, sizeof s);
	setup_tree(false);
	sh("cd '%s' && mkdir -p a/b && ln -s .. a/b/up && mkdir t && ln -s ../t a/lt", root);
	ck_assert_int_eq(walk_tree(&w, "", 0, &ops, &s), 0);
	ck_assert_msg(seen_has(&s, 'F', "a/b/up") && seen_has(&s, 'F', "a/lt") &&
	                  seen_count(&s, 'D') == 4,
	              "walked:\n%s", s.text);
	teardown_tree();
}
END_TEST

/* Walk as nobody in a child (root reads through mode 000): the child sends
 * back the entries it saw, then the log. */
static void walk_as_nobody(struct seen *s, int scans)
{
	int pfd[2], status;
	pid_t pid;
	FILE *fp;
	char line[PATH_MAX];
	bool in_log = false;

	ck_assert_int_eq(pipe(pfd), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		struct walk_snap *snap = walk_snap_new();
		close(pfd[0]);
		if (geteuid() == 0 &&
		    (setresgid(65534, 65534, 65534) < 0 || setresuid(65534, 65534, 65534) < 0))
			_exit(3);
		if (walk_tree(&w, "", 0, &ops, s) < 0)
			_exit(4);
		for (int i = 0; i < scans; i++)
			if (walk_snap_scan(snap, &w, "", true, NULL, NULL) < 0)
				_exit(5);
		if (write(pfd[1], s->text, s->len) < 0 || write(pfd[1], "--log--\n", 8) < 0 ||
		    write(pfd[1], ctx.log, ctx.loglen) < 0)
			_exit(6);
		_exit(0);
	}
	close(pfd[1]);
	fp = fdopen(pfd[0], "r");
	memset(s, 0, sizeof *s);
	ctx.loglen = 0;
	ctx.log[0] = '\0';
	while (fgets(line, sizeof line, fp)) {
		size_t n = strlen(line);
		if (strcmp(line, "--log--\n") == 0) {
			in_log = true;
		} else if (in_log) {
			ck_assert(ctx.loglen + n < sizeof ctx.log);
			memcpy(ctx.log + ctx.loglen, line, n + 1);
			ctx.loglen += n;
		} else {
			ck_assert(s->len + n < sizeof s->text);
			memcpy(s->text + s->len, line, n + 1);
			s->len += n;
		}
	}
	fclose(fp);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "child status %d", status);
}

START_TEST(test_walk_unreadable)
{
	struct seen s = { 0 };
	const char *first, *last;

	setup_tree(false);
	sh("cd '%s' && chmod 755 . && mkdir -p a secret/inner z && touch a/f secret/inner/g z/h "
	   "&& chmod 000 secret",
	   root);
	/* one walk, and two snapshot scans */
	walk_as_nobody(&s, 2);
	ck_assert_msg(seen_has(&s, 'F', "a/f") && seen_has(&s, 'F', "z/h"), "%s", s.text);
	ck_assert(!strstr(s.text, "secret/inner"));
	first = strstr(ctx.log, "cannot read directory 'secret': Permission denied");
	ck_assert_msg(first != NULL, "log: %s", ctx.log);
	/* the walker warned once, the snapshot once (not on every scan) */
	last = strstr(first + 1, "cannot read directory 'secret'");
	ck_assert_msg(last && !strstr(last + 1, "cannot read directory"), "log: %s", ctx.log);
	teardown_tree();
}
END_TEST

/* ------------------------------------------------------------ ident table */

static void count_under(void *arg, int ident, const char *path)
{
	(void)path;
	(void)ident;
	(*(int *)arg)++;
}

static struct walk_paths *del_target;
static void del_under(void *arg, int ident, const char *path)
{
	(void)arg;
	(void)path;
	walk_paths_del(del_target, ident);
}

START_TEST(test_paths)
{
	struct walk_paths *t = walk_paths_new();
	char p[64];
	int n = 0;

	for (int i = 1; i <= 3000; i++) {
		FMT(p, "d%d/sub%d", i % 7, i);
		ck_assert_int_eq(walk_paths_set(t, i * 13, p), 0);
	}
	ck_assert_uint_eq(walk_paths_count(t), 3000);
	for (int i = 1; i <= 3000; i += 2)
		walk_paths_del(t, i * 13);
	ck_assert_uint_eq(walk_paths_count(t), 1500);
	for (int i = 1; i <= 3000; i++) {
		const char *got = walk_paths_get(t, i * 13);
		if (i % 2) {
			ck_assert_ptr_null(got);
		} else {
			FMT(p, "d%d/sub%d", i % 7, i);
			ck_assert_msg(got && strcmp(got, p) == 0, "ident %d", i * 13);
		}
	}
	ck_assert_int_eq(walk_paths_set(t, 26, "renamed"), 0);
	ck_assert_str_eq(walk_paths_get(t, 26), "renamed");
	walk_paths_set(t, 1, "d3");
	walk_paths_under(t, "d3", count_under, &n);
	/* "d3" itself, and every d3/subN with N even: N % 7 == 3 */
	{
		int want = 1;
		for (int i = 2; i <= 3000; i += 2)
			if (i % 7 == 3 && i != 2)
				want++;
		ck_assert_int_eq(n, want);
	}
	n = 0;
	walk_paths_under(t, "d", count_under, &n);
	ck_assert_int_eq(n, 0); /* "d" is not a prefix component of "d3" */
	del_target = t;
	walk_paths_under(t, "d3", del_under, NULL);
	n = 0;
	walk_paths_under(t, "d3", count_under, &n);
	ck_assert_int_eq(n, 0);
	n = 0;
	walk_paths_under(t, "", count_under, &n);
	ck_assert_int_eq((size_t)n, walk_paths_count(t));
	walk_paths_free(t);
}
END_TEST

/* Adds and deletes in turn (a tree created and removed again and again):
 * the table reclaims what deletes leave, and the paths it keeps stay
 * right through that; a path taken from the table can be set again. */
START_TEST(test_paths_churn)
{
	struct walk_paths *t = walk_paths_new();
	char p[64];
	int next = 100;

	ck_assert_int_eq(walk_paths_set(t, 5, "kept/for/ever"), 0);
	for (int round = 0; round < 50; round++) {
		for (int i = 0; i < 500; i++) {
			FMT(p, "churn/r%d/d%d", round, i);
			ck_assert_int_eq(walk_paths_set(t, next + i, p), 0);
		}
		/* a renamed directory: its new path is an old one's */
		ck_assert_int_eq(walk_paths_set(t, 7, walk_paths_get(t, next + 3)), 0);
		FMT(p, "churn/r%d/d3", round);
		ck_assert_str_eq(walk_paths_get(t, 7), p);
		for (int i = 0; i < 500; i++)
			walk_paths_del(t, next + i);
		next += 500;
		ck_assert_uint_eq(walk_paths_count(t), 2);
		ck_assert_str_eq(walk_paths_get(t, 5), "kept/for/ever");
	}
	ck_assert_ptr_null(walk_paths_get(t, 103));
	walk_paths_free(t);
}
END_TEST

/* -------------------------------------------------------------- snapshot */

static void on_change(void *arg, struct walk_snap *s, uint32_t id, const char *rel,
                      enum gust_change kind, bool is_dir)
{
	static const char tags[] = "?CWRNAS";
	char p[PATH_MAX];
	ck_assert_int_eq(walk_snap_path(s, id, p, sizeof p), 0);
	ck_assert_str_eq(p, rel);
	ck_assert(walk_snap_is_dir(s, id) == is_dir);
	seen_add(arg, tags[kind], rel);
}

static void rescan(struct walk_snap *snap, struct seen *s, const char *rel, bool recursive)
{
	memset(s, 0, sizeof *s);
	ck_assert_int_eq(walk_snap_scan(snap, &w, rel, recursive, on_change, s), 0);
}

START_TEST(test_snapshot_diff)
{
	struct walk_snap *snap = walk_snap_new();
	struct seen s;

	setup_tree(false);
	sh("cd '%s' && mkdir -p src/pkg old/x node_modules && printf a > src/main.go "
	   "&& printf b > src/pkg/p.go && touch old/x/y old/z node_modules/m keep",
	   root);
	rescan(snap, &s, "", true);
	ck_assert_msg(seen_has(&s, 'C', "src/main.go") && seen_has(&s, 'C', "src/pkg"), "%s",
	              s.text);
	ck_assert(!strstr(s.text, "node_modules"));
	ck_assert_uint_eq(walk_snap_count(snap), 10); /* root + 9 */
	/* nothing changed: nothing reported */
	rescan(snap, &s, "", true);
	ck_assert_msg(s.len == 0, "spurious: %s", s.text);

	/* create, write (size changes), remove */
	sh("cd '%s' && printf new > src/new.go && printf aa > src/main.go && rm keep", root);
	rescan(snap, &s, "", true);
	ck_assert_msg(seen_has(&s, 'C', "src/new.go") && seen_has(&s, 'W', "src/main.go") &&
	                  seen_has(&s, 'R', "keep") && seen_count(&s, 'C') == 1 &&
	                  seen_count(&s, 'W') == 1 && seen_count(&s, 'R') == 1,
	              "%s", s.text);
	/* a write that keeps the size: the mtime tells */
	sh("cd '%s' && printf bb > src/main.go && touch -d '2001-01-01' src/main.go", root);
	rescan(snap, &s, "", true);
	ck_assert_msg(seen_has(&s, 'W', "src/main.go") && s.len == strlen("W src/main.go\n"), "%s",
	              s.text);
	/* rename within the tree: one remove, one create */
	sh("cd '%s' && mv src/new.go src/pkg/moved.go", root);
	rescan(snap, &s, "", true);
	ck_assert_msg(seen_has(&s, 'R', "src/new.go") && seen_has(&s, 'C', "src/pkg/moved.go") &&
	                  seen_count(&s, 'C') == 1 && seen_count(&s, 'R') == 1,
	              "%s", s.text);
	/* rename over (vim's save): the inode changes */
	sh("cd '%s' && printf bb > src/.main.go.tmp && touch -d '2001-01-01' src/.main.go.tmp "
	   "&& mv src/.main.go.tmp src/main.go",
	   root);
	rescan(snap, &s, "", true);
	ck_assert_msg(seen_has(&s, 'W', "src/main.go") && s.len == strlen("W src/main.go\n"), "%s",
	              s.text);
	/* a deep new tree, and a removed one: contents before the directory */
	sh("cd '%s' && mkdir -p n/a/b/c && touch n/a/b/c/f && rm -rf old", root);
	rescan(snap, &s, "", true);
	ck_assert_msg(seen_has(&s, 'C', "n") && seen_has(&s, 'C', "n/a/b/c") &&
	                  seen_has(&s, 'C', "n/a/b/c/f") && seen_has(&s, 'R', "old") &&
	                  seen_has(&s, 'R', "old/x/y") && seen_has(&s, 'R', "old/z"),
	              "%s", s.text);
	ck_assert(strstr(s.text, "R old/x/y\n") < strstr(s.text, "R old/x\n"));
	ck_assert(strstr(s.text, "R old/x\n") < strstr(s.text, "R old\n"));
	ck_assert_uint_eq(walk_snap_find(snap, "old"), WALK_NONE);
	ck_assert_uint_ne(walk_snap_find(snap, "n/a/b/c/f"), WALK_NONE);
	/* a file replaced by a directory */
	sh("cd '%s' && rm src/main.go && mkdir src/main.go && touch src/main.go/in", root);
	rescan(snap, &s, "", true);
	ck_assert_msg(seen_has(&s, 'R', "src/main.go") && seen_has(&s, 'C', "src/main.go") &&
	                  seen_has(&s, 'C', "src/main.go/in"),
	              "%s", s.text);
	ck_assert(walk_snap_is_dir(snap, walk_snap_find(snap, "src/main.go")));
	/* user data stays with its entry */
	walk_snap_set_user(snap, walk_snap_find(snap, "src/pkg/p.go"), 42);
	rescan(snap, &s, "", true);
	ck_assert_int_eq(walk_snap_user(snap, walk_snap_find(snap, "src/pkg/p.go")), 42);
	ck_assert_int_eq(walk_snap_user(snap, walk_snap_find(snap, "n")), -1);
	walk_snap_free(snap);
	teardown_tree();
}
END_TEST

/* What kqueue does: rescan one directory after it was written to. */
START_TEST(test_snapshot_one_dir)
{
	struct walk_snap *snap = walk_snap_new();
	struct seen s;

	setup_tree(false);
	sh("cd '%s' && mkdir -p d/sub && touch d/f d/sub/g", root);
	rescan(snap, &s, "", true);
	sh("cd '%s' && printf x > d/sub/g && touch d/new && mkdir -p d/nd/deep && touch "
	   "d/nd/deep/h "
	   "&& rm d/f",
	   root);
	rescan(snap, &s, "d", false);
	ck_assert_msg(seen_has(&s, 'C', "d/new") && seen_has(&s, 'C', "d/nd/deep/h") &&
	                  seen_has(&s, 'R', "d/f") && !strstr(s.text, "d/sub/g"),
	              "%s", s.text);
	rescan(snap, &s, "d/sub", false);
	ck_assert_msg(seen_has(&s, 'W', "d/sub/g") && seen_count(&s, 'W') == 1, "%s", s.text);
	/* the directory itself gone: -ENOENT, the parent's rescan removes it */
	sh("rm -rf '%s/d/sub'", root);
	ck_assert_int_eq(walk_snap_scan(snap, &w, "d/sub", false, on_change, &s), -ENOENT);
	rescan(snap, &s, "d", false);
	ck_assert_msg(seen_has(&s, 'R', "d/sub/g") && seen_has(&s, 'R', "d/sub"), "%s", s.text);
	ck_assert_int_eq(walk_snap_scan(snap, &w, "nope", false, on_change, &s), -ENOENT);
	walk_snap_free(snap);
	teardown_tree();
}
END_TEST

/* Wait until ms have passed on the wall clock, so that what was changed
 * before is at least that old for the racy rule of dir_stamp(). */
static void wait_past(unsigned ms)
{
	struct timespec t0, t, d = { 0, 5000000 };
	clock_gettime(CLOCK_REALTIME, &t0);
	for (int i = 0; i < 2000; i++) {
		clock_gettime(CLOCK_REALTIME, &t);
		if ((t.tv_sec - t0.tv_sec) * 1000 + (t.tv_nsec - t0.tv_nsec) / 1000000 >= ms)
			return;
		nanosleep(&d, NULL);
	}
	ck_abort_msg("the clock did not move");
}

static uint64_t listed(const struct walk_snap *snap)
{
	uint64_t l, k;
	walk_snap_stats(snap, &l, &k);
	return l;
}

/* A directory whose stamp is unchanged is not listed: its entries are
 * stat'ed by name. What that must still see, and when it must list. */
START_TEST(test_snapshot_unlisted_dirs)
{
	struct walk_snap *snap = walk_snap_new();
	struct seen s;
	uint64_t l0, k0, k1;

	walk_snap_set_racy_ms(snap, 100);
	setup_tree(false);
	sh("cd '%s' && mkdir -p a/b c && touch a/f a/b/g c/h", root);
	rescan(snap, &s, "", true);
	ck_assert_uint_eq(listed(snap), 4);
	/* listed while their mtimes were recent: listed again */
	rescan(snap, &s, "", true);
	ck_assert_uint_eq(listed(snap), 8);
	wait_past(150);
	rescan(snap, &s, "", true); /* this listing is trusted from now on */
	ck_assert_uint_eq(listed(snap), 12);
	/* 16 scans of an unchanged tree: the root every time, and each of the
	 * three directories exactly once (the periodic listing) */
	l0 = listed(snap);
	walk_snap_stats(snap, &l0, &k0);
	for (int i = 0; i < 16; i++) {
		rescan(snap, &s, "", true);
		ck_assert_msg(s.len == 0, "spurious: %s", s.text);
	}
	walk_snap_stats(snap, &l0, &k1);
	ck_assert_uint_eq(l0, 12 + 16 + 3);
	ck_assert_uint_eq(k1 - k0, 16 * 3 - 3);
	/* a write in place leaves the directory as it was: seen by its stat */
	sh("cd '%s' && printf x > a/b/g", root);
	rescan(snap, &s, "", true);
	ck_assert_msg(s.len == strlen("W a/b/g\n") && seen_has(&s, 'W', "a/b/g"), "%s", s.text);
	/* a new name changes the directory */
	sh("cd '%s' && touch a/b/new", root);
	rescan(snap, &s, "", true);
	ck_assert_msg(s.len == strlen("C a/b/new\n") && seen_has(&s, 'C', "a/b/new"), "%s", s.text);
	/* vim's save: write a temporary file, rename it over */
	wait_past(150);
	rescan(snap, &s, "", true);
	sh("cd '%s' && printf yy > a/b/.g.swp && mv a/b/.g.swp a/b/g", root);
	rescan(snap, &s, "", true);
	ck_assert_msg(seen_has(&s, 'W', "a/b/g") && !seen_has(&s, 'R', "a/b/g"), "%s", s.text);
	/* a directory whose mtime is in the future is listed at every scan:
	 * a change in its clock tick would not move it */
	sh("cd '%s' && touch -d 'now + 1 hour' c", root);
	wait_past(150);
	rescan(snap, &s, "", true);
	l0 = listed(snap);
	rescan(snap, &s, "", true);
	rescan(snap, &s, "", true);
	ck_assert_uint_ge(listed(snap) - l0, 4); /* root and c, twice */
	/* a name gone while the stamp stayed (only a lying clock does that):
	 * the failed stat lists the directory */
	sh("cd '%s' && touch -d '2001-01-01' c", root);
	wait_past(150);
	rescan(snap, &s, "", true);
	rescan(snap, &s, "", true);
	sh("cd '%s' && mv c/h c/h2 && touch -d '2001-01-01' c", root);
	rescan(snap, &s, "", true); /* ctime moved: listed */
	ck_assert_msg(seen_has(&s, 'R', "c/h") && seen_has(&s, 'C', "c/h2"), "%s", s.text);
	walk_snap_free(snap);
	teardown_tree();
}
END_TEST

/* An ignored directory is kept, hidden: when the filter lets it in again
 * it is found even though its parent is not listed. */
START_TEST(test_snapshot_unignored_dir)
{
	struct walk_snap *snap = walk_snap_new();
	struct seen s;
	int i;

	walk_snap_set_racy_ms(snap, 100);
	setup_tree(false);
	sh("cd '%s' && mkdir -p a/gen/deep && touch a/gen/x.go a/gen/deep/y.go a/m.go "
	   "&& printf 'gen/\\n' > a/.gitignore",
	   root);
	ck_assert(filter_ignored(ctx.filter, "a/gen", true));
	rescan(snap, &s, "", true);
	ck_assert_msg(!strstr(s.text, "gen/"), "%s", s.text);
	ck_assert_uint_eq(walk_snap_find(snap, "a/gen"), WALK_NONE);
	ck_assert_uint_eq(walk_snap_count(snap), 4); /* root, a, a/m.go, a/.gitignore */
	wait_past(150);
	rescan(snap, &s, "", true);
	rescan(snap, &s, "", true);
	ck_assert_msg(s.len == 0, "spurious: %s", s.text);
	/* rewritten in place: a keeps its stamp */
	sh("cd '%s' && printf 'nop\\n' > a/.gitignore", root);
	for (i = 0; i < 400 && filter_ignored(ctx.filter, "a/gen", true); i++)
		wait_past(5);
	ck_assert(!filter_ignored(ctx.filter, "a/gen", true));
	rescan(snap, &s, "", true);
	ck_assert_msg(seen_has(&s, 'C', "a/gen") && seen_has(&s, 'C', "a/gen/x.go") &&
	                  seen_has(&s, 'C', "a/gen/deep/y.go") && seen_has(&s, 'W', "a/.gitignore"),
	              "%s", s.text);
	ck_assert_uint_ne(walk_snap_find(snap, "a/gen/deep/y.go"), WALK_NONE);
	/* and ignored again: its contents go */
	sh("cd '%s' && printf 'gen/\\n' > a/.gitignore", root);
	for (i = 0; i < 400 && !filter_ignored(ctx.filter, "a/gen", true); i++)
		wait_past(5);
	rescan(snap, &s, "", true);
	ck_assert_msg(seen_has(&s, 'R', "a/gen") && seen_has(&s, 'R', "a/gen/x.go") &&
	                  seen_has(&s, 'R', "a/gen/deep/y.go"),
	              "%s", s.text);
	ck_assert_uint_eq(walk_snap_find(snap, "a/gen"), WALK_NONE);
	ck_assert_uint_eq(walk_snap_count(snap), 4);
	walk_snap_free(snap);
	teardown_tree();
}
END_TEST

/* Two symlinks to one directory (follow_symlinks): one is shown, the
 * other kept hidden. Scans of an unchanged tree never swap them, whatever
 * order they meet them in (listed or not); when the shown one goes, the
 * other is shown in the same scan. */
START_TEST(test_snapshot_dir_met_twice)
{
	struct walk_snap *snap = walk_snap_new();
	struct seen s;
	char shown[32], other[32], p[64];

	walk_snap_set_racy_ms(snap, 100);
	setup_tree(true);
	sh("cd '%s' && mkdir -p node_modules/x g/p1 g/p2 && touch node_modules/x/f && "
	   "ln -s ../../node_modules/x g/p1/a && ln -s ../../node_modules/x g/p2/b",
	   root);
	rescan(snap, &s, "", true);
	ck_assert_msg(seen_count(&s, 'C') == 5, "%s", s.text); /* g, p1, p2, a|b, f */
	ck_assert((walk_snap_find(snap, "g/p1/a") == WALK_NONE) !=
	          (walk_snap_find(snap, "g/p2/b") == WALK_NONE));
	strcpy(shown, walk_snap_find(snap, "g/p1/a") != WALK_NONE ? "g/p1/a" : "g/p2/b");
	strcpy(other, strcmp(shown, "g/p1/a") == 0 ? "g/p2/b" : "g/p1/a");
	wait_past(150);
	for (int i = 0; i < 40; i++) {
		rescan(snap, &s, "", true);
		ck_assert_msg(s.len == 0, "scan %d: %s", i, s.text);
	}
	ck_assert_uint_ne(walk_snap_find(snap, shown), WALK_NONE);
	sh("rm '%s/%s'", root, shown);
	rescan(snap, &s, "", true);
	FMT(p, "%s/f", other);
	ck_assert_msg(seen_has(&s, 'R', shown) && seen_has(&s, 'C', other) && seen_has(&s, 'C', p),
	              "%s", s.text);
	rescan(snap, &s, "", true);
	ck_assert_msg(s.len == 0, "spurious: %s", s.text);
	walk_snap_free(snap);
	teardown_tree();
}
END_TEST

/* A name that cannot be stat'ed for a reason other than ENOENT (here a
 * directory that can be read but not searched) is not known to be gone:
 * no remove, and no create when it can be stat'ed again. As nobody, in a
 * child, since root searches through any mode. */
START_TEST(test_snapshot_stat_error_keeps_entry)
{
	char path[PATH_MAX + 8], text[4096];
	int pfd[2], status;
	ssize_t n;
	pid_t pid;

	setup_tree(false);
	sh("cd '%s' && chmod 755 . && mkdir -p d && touch d/f && chown -R 65534:65534 d", root);
	FMT(path, "%s/d", root);
	ck_assert_int_eq(pipe(pfd), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		struct walk_snap *snap = walk_snap_new();
		static struct seen s;
		close(pfd[0]);
		if (geteuid() == 0 &&
		    (setresgid(65534, 65534, 65534) < 0 || setresuid(65534, 65534, 65534) < 0))
			_exit(3);
		if (walk_snap_scan(snap, &w, "", true, NULL, NULL) < 0 || chmod(path, 0644) < 0 ||
		    walk_snap_scan(snap, &w, "", true, on_change, &s) < 0 ||
		    chmod(path, 0755) < 0 || walk_snap_scan(snap, &w, "", true, on_change, &s) < 0)
			_exit(4);
		if (write(pfd[1], s.text, s.len) < 0)
			_exit(5);
		_exit(0);
	}
	close(pfd[1]);
	n = read(pfd[0], text, sizeof text - 1);
	close(pfd[0]);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "child status %d", status);
	ck_assert_int_ge(n, 0);
	text[n] = '\0';
	ck_assert_msg(n == 0, "reported: %s", text);
	teardown_tree();
}
END_TEST

/* A listing is matched against the children in the order of the listing
 * before, with an index once the orders part: removals, insertions and
 * renames in a large directory, each reported exactly once. */
START_TEST(test_snapshot_listing_order)
{
	struct walk_snap *snap = walk_snap_new();
	struct seen *s = calloc(1, sizeof *s);

	ck_assert_ptr_nonnull(s);
	setup_tree(false);
	sh("cd '%s' && mkdir d && cd d && touch $(seq -f 'f%%03g' 1 300)", root);
	rescan(snap, s, "", true);
	ck_assert_uint_eq(seen_count(s, 'C'), 301);
	rescan(snap, s, "", true);
	ck_assert_msg(s->len == 0, "spurious: %s", s->text);
	/* 100 removed, 60 new, 20 renamed, 5 written */
	sh("cd '%s/d' && rm $(seq -f 'f%%03g' 1 3 300) && touch $(seq -f 'n%%03g' 1 60) && "
	   "for i in $(seq -f '%%03g' 2 3 60); do mv f$i r$i; done && "
	   "for i in 003 006 051 102 300; do printf x >> f$i; done",
	   root);
	memset(s, 0, sizeof *s);
	ck_assert_int_eq(walk_snap_scan(snap, &w, "", true, on_change, s), 0);
	ck_assert_msg(
	    seen_count(s, 'R') == 120 && seen_count(s, 'C') == 80 && seen_count(s, 'W') == 5,
	    "R %zu C %zu W %zu", seen_count(s, 'R'), seen_count(s, 'C'), seen_count(s, 'W'));
	ck_assert(seen_has(s, 'R', "d/f001") && seen_has(s, 'C', "d/n060") &&
	          seen_has(s, 'R', "d/f059") && seen_has(s, 'C', "d/r059") &&
	          seen_has(s, 'W', "d/f300"));
	ck_assert_uint_eq(walk_snap_count(snap), 1 + 1 + 300 - 100 + 60);
	ck_assert_uint_ne(walk_snap_find(snap, "d/r002"), WALK_NONE);
	ck_assert_uint_eq(walk_snap_find(snap, "d/f002"), WALK_NONE);
	memset(s, 0, sizeof *s);
	ck_assert_int_eq(walk_snap_scan(snap, &w, "", true, on_change, s), 0);
	ck_assert_msg(s->len == 0, "spurious: %s", s->text);
	free(s);
	walk_snap_free(snap);
	teardown_tree();
}
END_TEST

/* Fault injection for what NFS and FUSE mounts do after a readdir cookie
 * reset, which no local file system here does: the listing gives a name
 * twice. readdir() is the real one; only the name named in dup_name, in
 * the stream that gave it, comes a second time. */
static const char *dup_name;

struct dirent *readdir(DIR *d)
{
	static struct dirent *(*real)(DIR *);
	static struct dirent again;
	static DIR *again_dir;
	struct dirent *de;

	if (!real)
		real = (struct dirent * (*)(DIR *)) dlsym(RTLD_NEXT, "readdir");
	if (again_dir && again_dir == d) {
		again_dir = NULL;
		return &again;
	}
	de = real(d);
	if (de && dup_name && strcmp(de->d_name, dup_name) == 0) {
		again.d_ino = de->d_ino;
		again.d_off = de->d_off;
		again.d_reclen = de->d_reclen;
		again.d_type = de->d_type;
		snprintf(again.d_name, sizeof again.d_name, "%s", de->d_name);
		again_dir = d;
	}
	return de;
}

/* A name listed twice is one entry: no remove of a directory's contents,
 * no second entry for a new name, and the next scan ends. */
START_TEST(test_snapshot_name_listed_twice)
{
	struct walk_snap *snap = walk_snap_new();
	struct seen s;

	setup_tree(false);
	sh("cd '%s' && mkdir -p d/sub && touch d/a d/b d/c d/sub/x", root);
	rescan(snap, &s, "", true);
	dup_name = "b";
	rescan(snap, &s, "", true);
	ck_assert_msg(s.len == 0, "spurious: %s", s.text);
	dup_name = "sub";
	rescan(snap, &s, "", true);
	ck_assert_msg(s.len == 0, "spurious: %s", s.text);
	dup_name = NULL;
	rescan(snap, &s, "", true);
	ck_assert_msg(s.len == 0, "spurious: %s", s.text);
	ck_assert_uint_eq(walk_snap_count(snap), 7);
	sh("cd '%s' && touch d/newx", root);
	dup_name = "newx";
	rescan(snap, &s, "", true);
	dup_name = NULL;
	ck_assert_msg(s.len == strlen("C d/newx\n") && seen_has(&s, 'C', "d/newx"), "%s", s.text);
	rescan(snap, &s, "", true);
	ck_assert_msg(s.len == 0, "spurious: %s", s.text);
	ck_assert_uint_eq(walk_snap_count(snap), 8);
	walk_snap_free(snap);
	teardown_tree();
}
END_TEST

/* 5,000 files (file creation is slow on some CI disks): compact, and entries freed by removals are
 * reused. */
START_TEST(test_snapshot_compact)
{
	struct walk_snap *snap = walk_snap_new();
	struct seen s;
	size_t bytes, count;

	setup_tree(false);
	sh("cd '%s' && for d in $(seq 1 100); do mkdir -p dir$d/sub; "
	   "(cd dir$d/sub && touch $(seq -f 'file%%03g.go' 1 50)); done",
	   root);
	ck_assert_int_eq(walk_snap_scan(snap, &w, "", true, NULL, NULL), 0);
	count = walk_snap_count(snap);
	bytes = walk_snap_bytes(snap);
	ck_assert_uint_eq(count, 1 + 200 + 5000);
	ck_assert_msg(bytes / count < 96, "%zu bytes for %zu entries", bytes, count);
	rescan(snap, &s, "", true);
	ck_assert_uint_eq(s.len, 0);
	sh("rm -rf '%s'/dir1* && mkdir -p '%s/again/sub' && cd '%s/again/sub' && "
	   "touch $(seq -f 'other%%04g.go' 1 500)",
	   root, root, root);
	ck_assert_int_eq(walk_snap_scan(snap, &w, "", true, NULL, NULL), 0);
	ck_assert_uint_eq(walk_snap_count(snap), count - 12 * 52 + 502);
	ck_assert_uint_le(walk_snap_bytes(snap), bytes);
	walk_snap_free(snap);
	teardown_tree();
}
END_TEST

static Suite *walk_suite(void)
{
	Suite *s = suite_create("walk");
	TCase *tc = tcase_create("walker");

	tcase_add_test(tc, test_walk_skips_excluded);
	tcase_add_test(tc, test_walk_symlink_loop);
	tcase_add_test(tc, test_walk_unreadable);
	tcase_add_test(tc, test_paths);
	tcase_add_test(tc, test_paths_churn);
	suite_add_tcase(s, tc);
	tc = tcase_create("snapshot");
	tcase_add_test(tc, test_snapshot_diff);
	tcase_add_test(tc, test_snapshot_one_dir);
	tcase_add_test(tc, test_snapshot_compact);
	tcase_add_test(tc, test_snapshot_unlisted_dirs);
	tcase_add_test(tc, test_snapshot_unignored_dir);
	tcase_add_test(tc, test_snapshot_dir_met_twice);
	tcase_add_test(tc, test_snapshot_stat_error_keeps_entry);
	tcase_add_test(tc, test_snapshot_listing_order);
	tcase_add_test(tc, test_snapshot_name_listed_twice);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return unit_run(walk_suite());
}
