/* test_glob.c - the glob matcher of include/exclude rules and .gitignore
 * lines: a table of verdicts, patterns that take exponential time in a
 * backtracking matcher (each under a short timeout), and a differential test
 * against a backtracking reference on many random small patterns and paths. */
#include "config.h"

#include <check.h>
#include <fnmatch.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "unit.h"

#include "gitignore.h"
#include "glob.h"

/* A hostile pattern must be judged in well under this many seconds; a
 * backtracking matcher takes minutes to years. */
#define HOSTILE_TIMEOUT 5

/* ----------------------------------------------- the reference matcher */

/* The backtracking matcher gust used before (exponential in the number of
 * stars), kept here only as the reference for the differential test: it
 * tries every way to split the path between the stars. */
static size_t ref_bracket(const char *p, char c, bool *hit)
{
	const char *j = p + 1;
	char buf[256];
	size_t n;
	char s[2] = { c, '\0' };

	if (*j == '!' || *j == '^')
		j++;
	if (*j == ']')
		j++;
	while (*j && *j != ']') {
		if (j[0] == '[' && (j[1] == ':' || j[1] == '.' || j[1] == '=')) {
			const char *e = strchr(j + 2, j[1]);
			while (e && e[1] != ']')
				e = strchr(e + 1, j[1]);
			if (!e)
				return 0;
			j = e + 2;
			continue;
		}
		if (*j == '\\' && j[1])
			j++;
		j++;
	}
	if (*j != ']')
		return 0;
	n = (size_t)(j - p) + 1;
	if (n >= sizeof buf)
		return 0;
	memcpy(buf, p, n);
	buf[n] = '\0';
	if (buf[1] == '^')
		buf[1] = '!';
	*hit = c != '/' && fnmatch(buf, s, 0) == 0;
	return n;
}

static bool ref_at(const char *start, const char *p, const char *s)
{
	for (;;) {
		char c = *p;

		if (c == '\0')
			return *s == '\0';
		if (c == '*') {
			if (p[1] == '*' && (p == start || p[-1] == '/') &&
			    (p[2] == '/' || p[2] == '\0')) {
				if (p[2] == '\0')
					return true;
				if (ref_at(start, p + 3, s))
					return true;
				for (; *s; s++)
					if (*s == '/' && ref_at(start, p + 3, s + 1))
						return true;
				return false;
			}
			while (*p == '*')
				p++;
			if (*p == '\0')
				return strchr(s, '/') == NULL;
			for (;;) {
				if (ref_at(start, p, s))
					return true;
				if (*s == '\0' || *s == '/')
					return false;
				s++;
			}
		}
		if (c == '?') {
			if (*s == '\0' || *s == '/')
				return false;
			p++;
			s++;
			continue;
		}
		if (c == '[') {
			bool hit = false;
			size_t n = *s ? ref_bracket(p, *s, &hit) : 0;
			if (n) {
				if (!hit)
					return false;
				p += n;
				s++;
				continue;
			}
			if (!*s)
				return false;
		}
		if (c == '\\' && p[1])
			c = *++p;
		if (c != *s)
			return false;
		p++;
		s++;
	}
}

static bool ref_match(const char *p, const char *s)
{
	return ref_at(p, p, s);
}

/* ----------------------------------------------------------- verdicts */

static const struct {
	const char *pat, *path;
	bool match;
} cases[] = {
	{ "", "", true },
	{ "", "a", false },
	{ "a", "a", true },
	{ "a", "ab", false },
	{ "*", "", true },
	{ "*", "abc", true },
	{ "*", "a/b", false },
	{ "a*c", "abbbc", true },
	{ "a*c", "ab/c", false },
	{ "a**c", "abc", true },
	{ "a**c", "a/c", false },
	{ "?", "a", true },
	{ "?", "/", false },
	{ "?", "", false },
	{ "[ab]", "b", true },
	{ "[!ab]", "c", true },
	{ "[!ab]", "a", false },
	{ "[^ab]", "c", true },
	{ "[!a]", "/", false },
	{ "[]]", "]", true },
	{ "[[:digit:]]x", "7x", true },
	{ "[[:digit:]]x", "ax", false },
	{ "[a-c]", "b", true },
	{ "[a", "[a", true }, /* no closing "]": a literal "[" */
	{ "[a", "a", false },
	{ "\\*", "*", true },
	{ "\\*", "a", false },
	{ "a\\", "a\\", true },
	{ "**", "", true },
	{ "**", "a/b/c", true },
	{ "a/**", "a/b/c", true },
	{ "a/**", "a", false },
	{ "a/**", "b/c", false },
	{ "**/b", "b", true },
	{ "**/b", "a/b", true },
	{ "**/b", "a/x/b", true },
	{ "**/b", "ab", false },
	{ "a/**/b", "a/b", true },
	{ "a/**/b", "a/x/y/b", true },
	{ "a/**/b", "ab", false },
	{ "a/**/b", "a/xb", false },
	{ "**/**/b", "b", true },
	{ "**/**/b", "x/y/z/b", true },
	{ "a/***/b", "a/x/b", true }, /* "***" is not a "**" component */
	{ "a/***/b", "a/x/y/b", false },
	{ "x**/b", "xy/b", true },
	{ "x**/b", "x/y/b", false },
};

START_TEST(test_verdicts)
{
	const char *pat = cases[_i].pat, *path = cases[_i].path;

	ck_assert_msg(glob_match(pat, path) == cases[_i].match, "\"%s\" on \"%s\": want %s", pat,
	              path, cases[_i].match ? "match" : "no match");
	ck_assert_msg(ref_match(pat, path) == cases[_i].match, "reference: \"%s\" on \"%s\"", pat,
	              path);
	/* compiled once, run twice: the same verdict, its scratch reused */
	struct glob *g = glob_compile(pat);
	ck_assert_ptr_nonnull(g);
	for (int k = 0; k < 2; k++)
		ck_assert_msg(glob_run(g, path) == cases[_i].match, "compiled: \"%s\" on \"%s\"",
		              pat, path);
	glob_free(g);
}
END_TEST

/* A pattern of more than 64 tokens (the matcher's state set spans words);
 * its 100 stars are hostile too. */
START_TEST(test_long_pattern)
{
	char pat[256], s[256];

	memset(pat, '?', 150);
	pat[150] = '\0';
	memset(s, 'x', 150);
	s[150] = '\0';
	ck_assert(glob_match(pat, s));
	s[149] = '\0';
	ck_assert(!glob_match(pat, s));
	s[149] = '/';
	ck_assert(!glob_match(pat, s));

	/* "x*x*...x*" then "y" */
	for (int i = 0; i < 100; i++)
		memcpy(pat + 2 * i, "x*", 2);
	strcpy(pat + 200, "y");
	memset(s, 'x', 200);
	s[200] = '\0';
	ck_assert(!glob_match(pat, s));
	strcpy(s + 99, "y");
	ck_assert(!glob_match(pat, s)); /* needs 100 "x" before the "y" */
	strcpy(s + 99, "xy");
	ck_assert(glob_match(pat, s));
	strcpy(s + 99, "xaxy");
	ck_assert(glob_match(pat, s));
	strcpy(s + 99, "x/xy");
	ck_assert(!glob_match(pat, s));

	/* the same 201 tokens compiled: state sets of four words, reused */
	struct glob *g = glob_compile(pat);
	ck_assert_ptr_nonnull(g);
	ck_assert(!glob_run(g, s));
	strcpy(s + 99, "xaxy");
	ck_assert(glob_run(g, s));
	strcpy(s + 99, "y");
	ck_assert(!glob_run(g, s));
	glob_free(g);
}
END_TEST

/* ---------------------------------------------------------- hostile */

/* n copies of unit, then tail, into buf */
static const char *rep(char *buf, size_t size, const char *unit, int n, const char *tail)
{
	size_t len = 0, ul = strlen(unit), tl = strlen(tail);

	ck_assert_uint_lt((size_t)n * ul + tl, size);
	for (int i = 0; i < n; i++, len += ul)
		memcpy(buf + len, unit, ul);
	memcpy(buf + len, tail, tl + 1);
	return buf;
}

START_TEST(test_hostile_stars)
{
	char s[512];

	/* a backtracking matcher tries every placement of 7 stars in 300
	 * characters before it can say no */
	ck_assert(!glob_match("*a*a*a*a*a*a*a*b", rep(s, sizeof s, "a", 300, "")));
	ck_assert(glob_match("*a*a*a*a*a*a*a*b", rep(s, sizeof s, "a", 300, "b")));
	ck_assert(!glob_match("*a*a*a*a*a*a*a*b", rep(s, sizeof s, "a", 300, "b/")));
	ck_assert(!glob_match("*?*?*?*?*?*?*?*?*b", rep(s, sizeof s, "a", 300, "")));
	ck_assert(!glob_match("*[a]*[a]*[a]*[a]*[a]*[a]*[a]*b", rep(s, sizeof s, "a", 300, "")));
}
END_TEST

START_TEST(test_hostile_starstar)
{
	char pat[128], s[512];

	rep(pat, sizeof pat, "**/", 10, "x");
	ck_assert(!glob_match(pat, rep(s, sizeof s, "a/", 100, "y")));
	ck_assert(glob_match(pat, rep(s, sizeof s, "a/", 100, "x")));
	ck_assert(!glob_match(pat, rep(s, sizeof s, "a/", 100, "x/y")));
	rep(pat, sizeof pat, "**/a/", 10, "x");
	ck_assert(!glob_match(pat, rep(s, sizeof s, "a/", 100, "y")));
	ck_assert(glob_match(pat, rep(s, sizeof s, "a/", 100, "x")));
	ck_assert(!glob_match(pat, rep(s, sizeof s, "a/", 9, "x")));
	ck_assert(glob_match(pat, rep(s, sizeof s, "a/", 10, "x")));
}
END_TEST

/* The same patterns as .gitignore lines, judged as a .gitignore file is. */
START_TEST(test_hostile_gitignore)
{
	char text[256], s[512];
	struct gitignore_list *l;
	size_t n;

	n = (size_t)snprintf(text, sizeof text, "*a*a*a*a*a*a*a*b\n%s\n",
	                     rep(s, sizeof s, "**/", 10, "x"));
	l = gitignore_parse(text, n);
	ck_assert_ptr_nonnull(l);
	ck_assert_int_eq(gitignore_list_match(l, rep(s, sizeof s, "a", 300, ""), false), -1);
	ck_assert_int_eq(gitignore_list_match(l, rep(s, sizeof s, "a", 300, "b"), false), 1);
	ck_assert_int_eq(gitignore_list_match(l, rep(s, sizeof s, "a/", 100, "y"), false), -1);
	ck_assert_int_eq(gitignore_list_match(l, rep(s, sizeof s, "a/", 100, "x"), false), 1);
	gitignore_list_free(l);
}
END_TEST

/* ------------------------------------------------------- differential */

static uint64_t rng = 0x9e3779b97f4a7c15u;

static uint32_t rnd(uint32_t n)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)(rng % n);
}

/* Random patterns of up to 6 pieces and paths of up to 8 characters over a
 * small alphabet, so that matches are frequent. */
START_TEST(test_differential)
{
	static const char *const pieces[] = {
		"a",    "b",    "/",    "*",     "**",          "**/", "/**",   "?",
		"[ab]", "[!a]", "[^b]", "[a-b]", "[]a]",        "[/]", "[",     "]",
		"\\",   "\\*",  "\\a",  "***",   "[[:alpha:]]", "[[:", "[\\]]", "a/",
	};
	static const char path_chars[] = "ab/*[]\\";
	long matches = 0;

	for (int round = 0; round < 300000; round++) {
		char pat[128] = "", s[16];
		int np = (int)rnd(7), ns = (int)rnd(9);

		for (int i = 0; i < np; i++)
			strcat(pat, pieces[rnd(sizeof pieces / sizeof pieces[0])]);
		for (int i = 0; i < ns; i++)
			s[i] = path_chars[rnd(sizeof path_chars - 1)];
		s[ns] = '\0';

		bool want = ref_match(pat, s);
		ck_assert_msg(glob_match(pat, s) == want, "\"%s\" on \"%s\": reference says %s",
		              pat, s, want ? "match" : "no match");
		matches += want;
	}
	/* the alphabet is small enough to exercise both verdicts */
	ck_assert_int_gt(matches, 10000);
}
END_TEST

static Suite *glob_suite(void)
{
	Suite *s = suite_create("glob");
	TCase *tc = tcase_create("verdicts");

	tcase_add_loop_test(tc, test_verdicts, 0, (int)(sizeof cases / sizeof cases[0]));
	tcase_add_test(tc, test_differential);
	suite_add_tcase(s, tc);
	tc = tcase_create("hostile");
	tcase_set_timeout(tc, HOSTILE_TIMEOUT);
	tcase_add_test(tc, test_long_pattern);
	tcase_add_test(tc, test_hostile_stars);
	tcase_add_test(tc, test_hostile_starstar);
	tcase_add_test(tc, test_hostile_gitignore);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return unit_run(glob_suite());
}
