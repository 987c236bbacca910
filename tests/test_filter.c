/* test_filter.c - the change filter: a table of rules, paths and verdicts;
 * .gitignore verdicts checked against `git check-ignore` on the same tree. */
#include "config.h"

#include <check.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "unit.h"

#include "conf.h"
#include "confre.h"
#include "filter.h"

#define L(...) ((char **)(const char *[]){ __VA_ARGS__, NULL })
static const char *none_v[] = { NULL };
static const char *go_v[] = { "go", NULL };
#define NONE ((char **)none_v)


static char tmproot[PATH_MAX];

static void mkroot(void)
{
	unit_mkroot(tmproot, "filter");
}

static void rmroot(void)
{
	unit_rmroot(tmproot);
}

/* Write a file (creating its directories) under dir. */
static void put(const char *dir, const char *rel, const char *text)
{
	char path[PATH_MAX];
	FILE *fp;

	FMT(path, "%s/%s", dir, rel);
	for (char *p = path + strlen(dir) + 1; (p = strchr(p, '/')); p++) {
		*p = '\0';
		mkdir(path, 0755);
		*p = '/';
	}
	fp = fopen(path, "w");
	ck_assert_msg(fp != NULL, "cannot create %s", path);
	fputs(text, fp);
	fclose(fp);
}

static void mkdirs(const char *dir, const char *rel)
{
	char path[PATH_MAX];
	FMT(path, "%s/%s/", dir, rel);
	for (char *p = path + strlen(dir) + 1; (p = strchr(p, '/')); p++) {
		*p = '\0';
		mkdir(path, 0755);
		*p = '/';
	}
}

static void base_cfg(struct config *c, const char *root)
{
	static char tmp[PATH_MAX];
	memset(c, 0, sizeof *c);
	c->root = (char *)root;
	FMT(tmp, "%s/tmp", root);
	c->tmp_dir = tmp;
	c->watch.include_ext = (char **)go_v;
	c->watch.include_dir = NONE;
	c->watch.include_file = NONE;
	c->watch.exclude_dir = NONE;
	c->watch.exclude_file = NONE;
	c->watch.exclude_regex = NONE;
}

/* ------------------------------------------------------- the rule table */

struct rules {
	char **ext, **idir, **ifile, **xdir, **xfile, **xre;
};

static const struct rules R0 = {
	L("go", ".md", "tar.gz"),
	NONE,
	L("Makefile", "config/*.yaml"),
	L("node_modules", "web/build", "vendor/**/gen", "*.egg-info", "/gen2/", "**/testdata"),
	L("*_test.go", "docs/**/*.md", "gen/*.go", "[ab]z.go", "q?.go"),
	L("^mocks?/", "_gen\\.go$"),
};
static const struct rules R1 = { L("*"), L("cmd", "internal/api"), NONE, NONE, NONE, NONE };
static const struct rules R2 = { L("go"), NONE, L(".config/app.yaml"), NONE, NONE, NONE };
static const struct rules R3 = { L("*"), L(".github"), NONE, NONE, NONE, NONE };
static const struct rules R4 = { NONE, NONE, NONE, L("build*", "a/*/c"), NONE, NONE };

struct fcase {
	const struct rules *r;
	const char *path; /* "@" is replaced by the root */
	bool is_dir;
	bool ignored;
};

static const struct fcase cases[] = {
	/* the root, outside, forms of the path */
	{ &R0, "", true, false },
	{ &R0, "@", true, false },
	{ &R0, "@/main.go", false, false },
	{ &R0, "/elsewhere/main.go", false, true },
	{ &R0, "@x/main.go", false, true }, /* a sibling sharing the prefix */
	{ &R0, "./main.go", false, false },
	/* include_ext */
	{ &R0, "main.go", false, false },
	{ &R0, "a/b/main.go", false, false },
	{ &R0, "main.c", false, true },
	{ &R0, "README", false, true },
	{ &R0, "go", false, true },
	{ &R0, ".go", false, true },
	{ &R0, "notes.md", false, false },
	{ &R0, "x.tar.gz", false, false },
	{ &R0, "x.gz", false, true },
	{ &R0, ".hidden.go", false, false },   /* hidden files are not excluded */
	{ &R4, "anything.xyz", false, false }, /* empty include_ext: all */
	{ &R4, "Makefile", false, false },
	/* include_file: always matters */
	{ &R0, "Makefile", false, false },
	{ &R0, "sub/Makefile", false, false },
	{ &R0, "config/app.yaml", false, false },
	{ &R0, "config/sub/app.yaml", false, true },
	{ &R0, "app.yaml", false, true },
	/* hidden directories */
	{ &R0, ".git", true, true },
	{ &R0, ".git/config", false, true },
	{ &R0, ".git/x.go", false, true },
	{ &R0, "a/.cache", true, true },
	{ &R0, "a/.cache/x.go", false, true },
	{ &R0, "a/.cache/deeper", true, true },
	/* tmp_dir, anchored */
	{ &R0, "tmp", true, true },
	{ &R0, "tmp/main.go", false, true },
	{ &R0, "a/tmp", true, false },
	{ &R0, "a/tmp/x.go", false, false },
	{ &R0, "tmpx", true, false },
	/* exclude_dir: plain names at any depth */
	{ &R0, "node_modules", true, true },
	{ &R0, "a/b/node_modules", true, true },
	{ &R0, "a/b/node_modules/x.go", false, true },
	{ &R0, "a/b/node_modules/p/q", true, true },
	{ &R0, "node_modules_x", true, false },
	{ &R0, "pkg.egg-info", true, true },
	{ &R0, "a/pkg.egg-info", true, true },
	/* exclude_dir: anchored with a slash */
	{ &R0, "web/build", true, true },
	{ &R0, "web/build/", true, true },
	{ &R0, "web/build/a.go", false, true },
	{ &R0, "x/web/build", true, false },
	{ &R0, "web", true, false },
	{ &R0, "web/x.go", false, false },
	{ &R0, "gen2", true, true },
	{ &R0, "a/gen2", true, false },
	/* exclude_dir: ** */
	{ &R0, "vendor/gen", true, true },
	{ &R0, "vendor/a/b/gen", true, true },
	{ &R0, "vendor/a/gen2", true, false },
	{ &R0, "vendor/a/gen/x.go", false, true },
	{ &R0, "testdata", true, true },
	{ &R0, "a/b/testdata", true, true },
	{ &R0, "a/b/testdata/t.go", false, true },
	{ &R4, "build", true, true },
	{ &R4, "x/build-out", true, true },
	{ &R4, "a/b/c", true, true },
	{ &R4, "a/b/d", true, false },
	{ &R4, "a/b/x/c", true, false },
	/* exclude_file */
	{ &R0, "a_test.go", false, true },
	{ &R0, "x/y/a_test.go", false, true },
	{ &R0, "test.go", false, false },
	{ &R0, "docs/a.md", false, true },
	{ &R0, "docs/x/y/a.md", false, true },
	{ &R0, "a/docs/a.md", false, false },
	{ &R0, "gen/x.go", false, true },
	{ &R0, "gen/sub/x.go", false, false },
	{ &R0, "az.go", false, true },
	{ &R0, "bz.go", false, true },
	{ &R0, "cz.go", false, false },
	{ &R0, "q1.go", false, true },
	{ &R0, "q12.go", false, false },
	{ &R0, "d/q1.go", false, true },
	/* exclude_regex: files, root-relative */
	{ &R0, "mocks/x.go", false, true },
	{ &R0, "mock/x.go", false, true },
	{ &R0, "a/mocks/x.go", false, false },
	{ &R0, "mocks", true, false }, /* regexes judge files only */
	{ &R0, "x_gen.go", false, true },
	{ &R0, "x_gen.go.go", false, false },
	/* include_dir */
	{ &R1, "cmd", true, false },
	{ &R1, "cmd/x/y", true, false },
	{ &R1, "cmd/main.go", false, false },
	{ &R1, "cmd/x/y/z.txt", false, false },
	{ &R1, "main.go", false, true },
	{ &R1, "internal", true, false },
	{ &R1, "internal/x.go", false, true },
	{ &R1, "internal/db", true, true },
	{ &R1, "internal/db/x.go", false, true },
	{ &R1, "internal/api", true, false },
	{ &R1, "internal/api/h.go", false, false },
	{ &R1, "internal/api/v1/h.go", false, false },
	{ &R1, "other", true, true },
	{ &R1, "cmd/.git", true, true },
	{ &R1, "cmdx", true, true },
	{ &R3, ".github", true, false },
	{ &R3, ".github/workflows/ci.yml", false, false },
	{ &R3, "src", true, true },
	{ &R3, ".git", true, true },
	/* include_file under a hidden directory */
	{ &R2, ".config", true, false },
	{ &R2, ".config/app.yaml", false, false },
	{ &R2, ".config/other.go", false, true },
	{ &R2, ".config/sub", true, true },
	{ &R2, ".git", true, true },
	{ &R2, "x.go", false, false },
};

START_TEST(test_rule_table)
{
	const struct fcase *c = &cases[_i];
	struct config cfg;
	struct filter *f;
	char err[256] = "", path[PATH_MAX];

	mkroot();
	base_cfg(&cfg, tmproot);
	cfg.watch.include_ext = c->r->ext;
	cfg.watch.include_dir = c->r->idir;
	cfg.watch.include_file = c->r->ifile;
	cfg.watch.exclude_dir = c->r->xdir;
	cfg.watch.exclude_file = c->r->xfile;
	cfg.watch.exclude_regex = c->r->xre;
	/* config_load() compiles them; the filter borrows the result */
	regex_t re[8];
	cfg.watch.exclude_re = re;
	for (cfg.watch.n_exclude_re = 0; c->r->xre && c->r->xre[cfg.watch.n_exclude_re];
	     cfg.watch.n_exclude_re++) {
		ck_assert_uint_lt(cfg.watch.n_exclude_re, 8);
		ck_assert_int_eq(config_regex_compile(c->r->xre[cfg.watch.n_exclude_re],
		                                      &re[cfg.watch.n_exclude_re], err, sizeof err),
		                 0);
	}
	f = filter_new(&cfg, err, sizeof err);
	ck_assert_msg(f != NULL, "filter_new: %s", err);
	if (c->path[0] == '@')
		FMT(path, "%s%s", tmproot, c->path + 1);
	else
		FMT(path, "%s", c->path);
	ck_assert_msg(filter_ignored(f, path, c->is_dir) == c->ignored,
	              "case %d: %s '%s': expected %s", _i, c->is_dir ? "dir" : "file", c->path,
	              c->ignored ? "ignored" : "not ignored");
	filter_free(f);
	for (size_t i = 0; i < cfg.watch.n_exclude_re; i++)
		regfree(&re[i]);
	rmroot();
}
END_TEST

/* ------------------------------------------------- .gitignore vs git */

static const char *const gi_files[][2] = {
	{ ".gitignore", "# a comment\n"
	                "*.log\n"
	                "!keep.log\n"
	                "build/\n"
	                "/rootonly.txt\n"
	                "docs/**/*.tmp\n"
	                "**/gen\n"
	                "a/**/deep.txt\n"
	                "\\#hash.txt\n"
	                "\\!bang.txt\n"
	                "spaced.txt   \n"
	                "foo/*.o\n"
	                "[abc]x.c\n"
	                "lib/**\n"
	                "!lib/keep.c\n"
	                "out/\n"
	                "!out/keep\n"
	                "mid/dle/x\n"
	                "q?.q\n"
	                "\n" },
	{ "sub/.gitignore", "*.tmp\n!important.tmp\n/local.txt\nnested/\n" },
	{ "sub/deeper/.gitignore", "!*.log\n" },
	{ ".git/info/exclude", "info-excluded.txt\n" },
	{ "home/.gitconfig", "[user]\n\tname = x\n[core]\n\texcludesFile = ~/globalignore\n" },
	{ "home/globalignore", "global-ignored.txt\n*.orig\n" },
};

static const char *const gi_paths[] = {
	"x.log",
	"keep.log",
	"sub/x.log",
	"sub/deeper/y.log",
	"sub/deeper/more/z.log",
	"build/out.bin",
	"sub/build/o",
	"build2/x",
	"rootonly.txt",
	"sub/rootonly.txt",
	"docs/a.tmp",
	"docs/x/y/b.tmp",
	"other/docs/c.tmp",
	"gen/g.go",
	"sub/gen/g.go",
	"gene/g.go",
	"a/deep.txt",
	"a/b/c/deep.txt",
	"b/a/deep.txt",
	"#hash.txt",
	"!bang.txt",
	"spaced.txt",
	"foo/x.o",
	"foo/bar/x.o",
	"ax.c",
	"dx.c",
	"sub/t.tmp",
	"sub/important.tmp",
	"sub/local.txt",
	"sub/deeper/local.txt",
	"sub/nested/f",
	"sub/deeper/nested",
	"info-excluded.txt",
	"sub/info-excluded.txt",
	"global-ignored.txt",
	"z.orig",
	"normal.go",
	"sub/normal.go",
	"lib/a.c",
	"lib/keep.c",
	"lib/sub/b.c",
	"out/keep",
	"out/x",
	"mid/dle/x",
	"a/mid/dle/x",
	"q1.q",
	"q12.q",
	NULL,
};

static void git_env(const char *root)
{
	char home[PATH_MAX];
	FMT(home, "%s/home", root);
	setenv("HOME", home, 1);
	setenv("XDG_CONFIG_HOME", home, 1);
	setenv("GIT_CONFIG_NOSYSTEM", "1", 1);
}

/* Every path and every directory above it, with git's verdict. */
static void check_against_git(struct filter *f, const char *top, const char *prefix,
                              const char *const *paths)
{
	char list[PATH_MAX], out[PATH_MAX], cmd[3 * PATH_MAX];
	FILE *fp = NULL;
	char *ignored = NULL;
	size_t ilen = 0;
	int checked = 0, status;

	FMT(list, "%s/gust-check-list", tmproot);
	FMT(out, "%s/gust-check-out", tmproot);
	fp = fopen(list, "w");
	ck_assert_ptr_nonnull(fp);
	for (size_t i = 0; paths[i]; i++) {
		char p[PATH_MAX];
		FMT(p, "%s", paths[i]);
		for (char *s = p; (s = strchr(s, '/')); s++) {
			*s = '\0';
			fprintf(fp, "%s%s\n", prefix, p);
			*s = '/';
		}
		fprintf(fp, "%s%s\n", prefix, p);
	}
	fclose(fp);
	FMT(cmd, "cd '%s' && git check-ignore --no-index --stdin < '%s' > '%s'", top, list, out);
	status = system(cmd);
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) <= 1, "git check-ignore failed");
	fp = fopen(out, "r");
	ck_assert_ptr_nonnull(fp);
	{
		char line[PATH_MAX];
		while (fgets(line, sizeof line, fp)) {
			size_t n = strlen(line);
			ignored = realloc(ignored, ilen + n + 2);
			ignored[ilen] = '\n';
			memcpy(ignored + ilen + 1, line, n + 1);
			ilen += n;
		}
	}
	fclose(fp);
	fp = fopen(list, "r");
	{
		char line[PATH_MAX];
		while (fgets(line, sizeof line, fp)) {
			char needle[PATH_MAX + 4];
			char abs[2 * PATH_MAX];
			struct stat st;
			bool git_ign, ours, is_dir;
			line[strcspn(line, "\n")] = '\0';
			FMT(needle, "\n%s\n", line);
			git_ign = ignored && strstr(ignored, needle) != NULL;
			FMT(abs, "%s/%s", top, line);
			ck_assert_int_eq(lstat(abs, &st), 0);
			is_dir = S_ISDIR(st.st_mode);
			ours = filter_ignored(f, line + strlen(prefix), is_dir);
			ck_assert_msg(ours == git_ign, "%s %s: git says %s, filter says %s",
			              is_dir ? "dir" : "file", line,
			              git_ign ? "ignored" : "not ignored",
			              ours ? "ignored" : "not ignored");
			checked++;
		}
	}
	fclose(fp);
	free(ignored);
	ck_assert_int_gt(checked, 8);
}

static void make_git_tree(const char *top)
{
	char cmd[PATH_MAX + 64];
	FMT(cmd, "git -C '%s' init -q", top);
	ck_assert_int_eq(system(cmd), 0);
	for (size_t i = 0; i < sizeof gi_files / sizeof gi_files[0]; i++)
		put(top, gi_files[i][0], gi_files[i][1]);
	for (size_t i = 0; gi_paths[i]; i++)
		put(top, gi_paths[i], "x\n");
	mkdirs(top, "emptydir/build");
}

/* cfg watches root (tmproot or below it) with every extension, gitignore
 * on or off. */
static void git_tree_cfg(struct config *cfg, const char *root, bool gitignore)
{
	static const char *all_v[] = { "*", NULL }; /* outlives this call, unlike L() */
	base_cfg(cfg, root);
	cfg->watch.include_ext = (char **)all_v;
	cfg->watch.gitignore = gitignore;
}

/* A fresh tmproot holding the git tree above, as a repository. */
static void git_tree(void)
{
	mkroot();
	git_env(tmproot);
	make_git_tree(tmproot);
}

START_TEST(test_gitignore_vs_git)
{
	struct config cfg;
	struct filter *f;
	char err[256];

	git_tree();
	git_tree_cfg(&cfg, tmproot, true);
	cfg.tmp_dir = NULL;
	f = filter_new(&cfg, err, sizeof err);
	ck_assert_msg(f != NULL, "%s", err);
	check_against_git(f, tmproot, "", gi_paths);
	/* sanity: the interesting verdicts really are what we think */
	ck_assert(filter_ignored(f, "x.log", false));
	ck_assert(!filter_ignored(f, "keep.log", false));
	ck_assert(filter_ignored(f, "global-ignored.txt", false));
	ck_assert(filter_ignored(f, "info-excluded.txt", false));
	ck_assert(filter_ignored(f, "build", true));
	ck_assert(!filter_ignored(f, "sub/deeper/nested", false));
	filter_free(f);
	rmroot();
}
END_TEST

/* The root is a subdirectory of the repository: .gitignore files above it
 * and .git/info/exclude still apply. */
START_TEST(test_gitignore_subroot)
{
	static const char *const sub_paths[] = { "x.log",    "deeper/y.log",      "local.txt",
		                                 "t.tmp",    "important.tmp",     "normal.go",
		                                 "gen/g.go", "info-excluded.txt", "nested/f",
		                                 NULL };
	struct config cfg;
	struct filter *f;
	char err[256], root[PATH_MAX];

	git_tree();
	for (size_t i = 0; sub_paths[i]; i++) {
		char rel[PATH_MAX];
		FMT(rel, "sub/%s", sub_paths[i]);
		put(tmproot, rel, "x\n");
	}
	FMT(root, "%s/sub", tmproot);
	git_tree_cfg(&cfg, root, true);
	cfg.tmp_dir = NULL;
	f = filter_new(&cfg, err, sizeof err);
	ck_assert_msg(f != NULL, "%s", err);
	check_against_git(f, tmproot, "sub/", sub_paths);
	ck_assert(filter_ignored(f, "x.log", false));
	ck_assert(filter_ignored(f, "local.txt", false));
	filter_free(f);
	rmroot();
}
END_TEST

START_TEST(test_gitignore_off)
{
	struct config cfg;
	struct filter *f;
	char err[256];

	git_tree();
	git_tree_cfg(&cfg, tmproot, false);
	f = filter_new(&cfg, err, sizeof err);
	ck_assert_ptr_nonnull(f);
	ck_assert(!filter_ignored(f, "x.log", false));
	ck_assert(!filter_ignored(f, "build", true));
	ck_assert(!filter_ignored(f, "global-ignored.txt", false));
	ck_assert(filter_ignored(f, ".git", true)); /* hidden: still excluded */
	filter_free(f);
	rmroot();
}
END_TEST

static bool ignored_now(struct filter *f, const char *p)
{
	return filter_ignored(f, p, false);
}

/* A filter on every file of tmproot with .gitignore files on. */
static struct filter *gitignore_filter(struct config *cfg)
{
	static const char *all[] = { "*", NULL };
	char err[256];
	struct filter *f;

	base_cfg(cfg, tmproot);
	cfg->watch.include_ext = (char **)all; /* outlives this call */
	cfg->watch.gitignore = true;
	f = filter_new(cfg, err, sizeof err);
	ck_assert_msg(f != NULL, "%s", err);
	return f;
}

START_TEST(test_gitignore_reread)
{
	struct config cfg;
	struct filter *f;
	char gi[PATH_MAX];
	bool seen = false;

	mkroot();
	git_env(tmproot);
	put(tmproot, "sub/x.tmp", "x");
	put(tmproot, "y.tmp", "y");
	f = gitignore_filter(&cfg);
	ck_assert(!ignored_now(f, "sub/x.tmp"));
	/* the watcher reports the .gitignore change: reread at once */
	put(tmproot, "sub/.gitignore", "*.tmp\n");
	FMT(gi, "%s/sub/.gitignore", tmproot);
	filter_ignored(f, gi, false);
	ck_assert(ignored_now(f, "sub/x.tmp"));
	ck_assert(!ignored_now(f, "y.tmp"));
	/* an edit nobody reported is picked up within the recheck interval */
	put(tmproot, ".gitignore", "y.*\n");
	for (int i = 0; i < 200 && !seen; i++) {
		seen = ignored_now(f, "y.tmp");
		if (!seen)
			usleep(10000);
	}
	ck_assert_msg(seen, "root .gitignore edit not seen within 2 s");
	/* and removing it undoes it */
	unlink(gi);
	filter_ignored(f, gi, false);
	ck_assert(!ignored_now(f, "sub/x.tmp"));
	filter_free(f);
	rmroot();
}
END_TEST

/* "a//b" is "a/b", as for git: an anchored rule matches it, and a
 * directory's .gitignore applies across a run of "/". Each "/" of a run
 * was a directory prefix of its own (an empty name): an anchored pattern
 * missed, and a path of hundreds of them cost a gitignore lookup and a
 * match of every rule per "/" (the gitignore fuzz target's 13 s input). */
START_TEST(test_repeated_slashes)
{
	struct config cfg;
	struct filter *f;
	char abs[PATH_MAX * 2];

	mkroot();
	git_env(tmproot);
	put(tmproot, ".gitignore", "sub/x.log\n");
	put(tmproot, "sub/.gitignore", "*.tmp\n");
	f = gitignore_filter(&cfg);
	ck_assert(filter_ignored(f, "sub/x.log", false));
	ck_assert(filter_ignored(f, "sub//x.log", false));
	ck_assert(filter_ignored(f, "sub///y.tmp", false));
	FMT(abs, "%s//sub//x.log", tmproot);
	ck_assert(filter_ignored(f, abs, false));
	ck_assert(!filter_ignored(f, "sub//x.go", false));
	ck_assert(!filter_ignored(f, "other//x.log", false));
	filter_free(f);
	rmroot();
}
END_TEST

static Suite *filter_suite(void)
{
	Suite *s = suite_create("filter");
	TCase *tc = tcase_create("rules");

	tcase_add_loop_test(tc, test_rule_table, 0, (int)(sizeof cases / sizeof cases[0]));
	suite_add_tcase(s, tc);
	tc = tcase_create("gitignore");
	tcase_add_test(tc, test_gitignore_vs_git);
	tcase_add_test(tc, test_gitignore_subroot);
	tcase_add_test(tc, test_gitignore_off);
	tcase_add_test(tc, test_gitignore_reread);
	tcase_add_test(tc, test_repeated_slashes);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return unit_run(filter_suite());
}
