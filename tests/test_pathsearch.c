/* test_pathsearch.c - the one PATH search (common/
 * pathsearch.c) on a real tree: entries in order, empty entries (the
 * working directory, as execvp), relative entries (from the working
 * directory), files without execute permission and directories named like
 * the program passed over, PATH unset. */
#include "config.h"

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "unit.h"

#include "pathsearch.h"


static char dir[PATH_MAX];

/* dir/rel, made with mode (a directory when mode has S_IFDIR). */
static void make(const char *rel, mode_t mode)
{
	char p[PATH_MAX];
	FMT(p, "%s/%s", dir, rel);
	if (S_ISDIR(mode)) {
		ck_assert_int_eq(mkdir(p, mode & 07777), 0);
		return;
	}
	int fd = open(p, O_WRONLY | O_CREAT | O_EXCL, mode);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, "#!/bin/sh\n", 10), 10);
	ck_assert_int_eq(close(fd), 0);
	ck_assert_int_eq(chmod(p, mode), 0);
}

static void setup(void)
{
	unit_mkroot(dir, "pathsearch");
	make("a", S_IFDIR | 0755);
	make("b", S_IFDIR | 0755);
	make("b/rel", S_IFDIR | 0755);
	make("a/prog", 0755);
	make("b/prog", 0755);
	make("b/rel/prog", 0755);
	make("prog", 0755);              /* in the working directory */
	make("a/noexec", 0644);          /* not executable here ... */
	make("b/noexec", 0755);          /* ... but there */
	make("a/isdir", S_IFDIR | 0755); /* a directory named like it ... */
	make("b/isdir", 0755);           /* ... and the program */
}

static void teardown(void)
{
	unit_rmroot(dir);
}

/* name searched in path (entries given relative to dir with "@/") from
 * dir: the result relative to dir ("" when not found). */
static void expect(const char *name, const char *path_tmpl, const char *want)
{
	char path[4 * PATH_MAX], wantabs[PATH_MAX];
	size_t o = 0;
	for (const char *t = path_tmpl; *t; t++) {
		if (t[0] == '@' && t[1] == '/') {
			o += (size_t)snprintf(path + o, sizeof path - o, "%s", dir);
			continue;
		}
		ck_assert_uint_lt(o + 1, sizeof path);
		path[o++] = *t;
	}
	path[o] = '\0';
	errno = 0;
	char *got = path_search(name, path, dir);
	if (!*want) {
		ck_assert_msg(!got, "%s in \"%s\": found %s", name, path_tmpl, got);
		ck_assert_int_eq(errno, ENOENT);
		return;
	}
	FMT(wantabs, "%s/%s", dir, want);
	ck_assert_msg(got != NULL, "%s in \"%s\": not found", name, path_tmpl);
	ck_assert_str_eq(got, wantabs);
	free(got);
}

START_TEST(test_order)
{
	setup();
	expect("prog", "@/a:@/b", "a/prog");
	expect("prog", "@/b:@/a", "b/prog");
	expect("prog", "/nonexistent:@/b", "b/prog");
	expect("nothere", "@/a:@/b", "");
	teardown();
}
END_TEST

START_TEST(test_empty_entries)
{
	/* an empty entry anywhere is the working directory */
	setup();
	expect("prog", ":@/a", "prog");
	expect("prog", "/nonexistent:", "prog");
	expect("prog", "/nonexistent::@/a", "prog");
	expect("prog", "@/a::", "a/prog");
	expect("prog", "", "prog"); /* PATH set but empty: one empty entry */
	/* not in the working directory: an empty entry finds nothing */
	expect("noexec", ":", "");
	teardown();
}
END_TEST

START_TEST(test_relative_entries)
{
	/* taken from the working directory (where the program will run) */
	setup();
	expect("prog", "b/rel:@/a", "b/rel/prog");
	expect("prog", "./b:@/a", "./b/prog");
	expect("prog", "nonexistent:b", "b/prog");
	expect("prog", ".", "./prog");
	teardown();
}
END_TEST

START_TEST(test_passed_over)
{
	setup();
	/* a file without execute permission, as execvp's EACCES */
	expect("noexec", "@/a:@/b", "b/noexec");
	expect("noexec", "@/a", "");
	/* a directory named like the program */
	expect("isdir", "@/a:@/b", "b/isdir");
	expect("isdir", "@/a", "");
	/* a name with a slash or an empty name is not searched */
	expect("a/prog", ":@/", "");
	expect("", "@/a", "");
	teardown();
}
END_TEST

START_TEST(test_unset)
{
	/* PATH unset: the core's default list, in its order */
	static const char *const dirs[] = { "/usr/local/bin", "/usr/bin", "/bin" };
	char want[PATH_MAX] = "";
	for (size_t i = 0; i < 3 && !*want; i++) {
		FMT(want, "%s/sh", dirs[i]);
		if (!path_is_exec(want))
			want[0] = '\0';
	}
	ck_assert_msg(*want, "no sh in the default PATH");
	char *got = path_search("sh", NULL, "/");
	ck_assert_ptr_nonnull(got);
	ck_assert_str_eq(got, want);
	free(got);
	ck_assert_str_eq(PATH_SEARCH_DEFAULT, "/usr/local/bin:/usr/bin:/bin");
}
END_TEST

START_TEST(test_is_exec)
{
	char p[PATH_MAX];
	setup();
	FMT(p, "%s/a/prog", dir);
	ck_assert(path_is_exec(p));
	FMT(p, "%s/a/noexec", dir);
	ck_assert(!path_is_exec(p));
	FMT(p, "%s/a/isdir", dir);
	ck_assert(!path_is_exec(p));
	FMT(p, "%s/a/missing", dir);
	ck_assert(!path_is_exec(p));
	teardown();
}
END_TEST

/* The core's form (cwd NULL): every candidate in PATH order, left
 * relative to the working directory at exec time, an empty entry as the
 * name alone; with a cwd, each from it but the absolute ones. */
static void expect_candidates(const char *path, const char *cwd, const char *const *want)
{
	char **got = path_candidates("prog", path, cwd);
	size_t i = 0;
	ck_assert_ptr_nonnull(got);
	for (; want[i]; i++) {
		ck_assert_msg(got[i] != NULL, "\"%s\": candidate %zu missing", path, i);
		ck_assert_str_eq(got[i], want[i]);
	}
	ck_assert_ptr_null(got[i]);
	path_candidates_free(got);
}

START_TEST(test_candidates)
{
	expect_candidates(":rel::/abs/", NULL,
	                  (const char *const[]){ "prog", "rel/prog", "prog", "/abs//prog", NULL });
	expect_candidates("", NULL, (const char *const[]){ "prog", NULL });
	expect_candidates(
	    NULL, NULL,
	    (const char *const[]){ "/usr/local/bin/prog", "/usr/bin/prog", "/bin/prog", NULL });
	expect_candidates(":rel:/abs", "/w",
	                  (const char *const[]){ "/w/prog", "/w/rel/prog", "/abs/prog", NULL });
}
END_TEST

static Suite *pathsearch_suite(void)
{
	Suite *s = suite_create("pathsearch");
	TCase *tc = tcase_create("search");

	tcase_add_test(tc, test_order);
	tcase_add_test(tc, test_empty_entries);
	tcase_add_test(tc, test_relative_entries);
	tcase_add_test(tc, test_passed_over);
	tcase_add_test(tc, test_unset);
	tcase_add_test(tc, test_is_exec);
	tcase_add_test(tc, test_candidates);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return unit_run(pathsearch_suite());
}
