/* unit.h - what the Check unit tests share: a snprintf that must not
 * truncate, a temporary root per test, and running a suite. Header only;
 * include it after <check.h>. */
#ifndef GUST_TESTS_UNIT_H
#define GUST_TESTS_UNIT_H

#include <check.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>

/* snprintf that must not truncate */
#define FMT(buf, ...) ck_assert_int_lt(snprintf(buf, sizeof buf, __VA_ARGS__), (int)sizeof buf)

/* A fresh directory $TMPDIR/gust-<tag>.XXXXXX in root. */
static inline void unit_mkroot(char root[PATH_MAX], const char *tag)
{
	const char *tmp = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
	ck_assert_int_lt(snprintf(root, PATH_MAX, "%s/gust-%s.XXXXXX", tmp, tag), PATH_MAX);
	ck_assert_ptr_nonnull(mkdtemp(root));
}

/* Remove root and all in it (nothing when root is ""), and forget it. */
static inline void unit_rmroot(char root[PATH_MAX])
{
	char cmd[PATH_MAX + 16];
	if (!root[0])
		return;
	FMT(cmd, "rm -rf '%s'", root);
	ck_assert_int_eq(system(cmd), 0);
	root[0] = '\0';
}

/* Run suite s: the exit status of a test program. */
static inline int unit_run(Suite *s)
{
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

#endif
