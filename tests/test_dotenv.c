/* test_dotenv.c - the .env parser behind the runners' env_files
 * (plugins/lib/dotenv.c) against what gust.json(5) promises: KEY=VALUE
 * lines, # comments, single and double quotes with escapes, the export
 * prefix, and one message naming the file and line for a bad one. */
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

#include "dotenv.h"


/* One parse of text: its result, the variables and the message. */
struct parsed {
	int r;
	char **env;
	size_t n;
	char err[512];
};

static struct parsed parse(const char *text)
{
	struct parsed p = { 0 };
	p.r = dotenv_parse(text, strlen(text), "t.env", &p.env, &p.n, p.err, sizeof p.err);
	return p;
}

/* The variables are exactly want (NULL-terminated), in order. */
static void expect_env(const struct parsed *p, const char *const *want)
{
	size_t k = 0;
	ck_assert_msg(p->r == 0, "parse failed (%d): %s", p->r, p->err);
	for (; want[k]; k++) {
		ck_assert_msg(k < p->n, "only %zu variables, expected \"%s\" next", p->n, want[k]);
		ck_assert_str_eq(p->env[k], want[k]);
	}
	ck_assert_uint_eq(p->n, k);
	ck_assert_ptr_null(p->env ? p->env[k] : NULL);
}

static void expect_error(const struct parsed *p, const char *msg)
{
	ck_assert_int_eq(p->r, -EINVAL);
	ck_assert_str_eq(p->err, msg);
}

START_TEST(test_plain)
{
	struct parsed p = parse("A=1\nB_2=two words\n_c=x=y\n");
	expect_env(&p, (const char *const[]){ "A=1", "B_2=two words", "_c=x=y", NULL });
	dotenv_free(p.env);
	/* blanks around the name, the "=" and the value go; none inside */
	p = parse("  A =  1 2  \n\tB=\t3\t\n");
	expect_env(&p, (const char *const[]){ "A=1 2", "B=3", NULL });
	dotenv_free(p.env);
	/* blank lines, CRLF line ends, no newline at the end */
	p = parse("\n   \n\t\nA=1\r\nB=2\r\n\r\nC=3");
	expect_env(&p, (const char *const[]){ "A=1", "B=2", "C=3", NULL });
	dotenv_free(p.env);
	p = parse("");
	expect_env(&p, (const char *const[]){ NULL });
	ck_assert_ptr_null(p.env);
}
END_TEST

START_TEST(test_double_quotes)
{
	struct parsed p = parse("A=\"a  b # not a comment\"\n"
	                        "B=\"x\\ny\\tz\\r\"\n"
	                        "C=\"say \\\"hi\\\" \\\\ \\$HOME \\q\"\n"
	                        "D=\"$HOME 'single'\"\n");
	expect_env(&p,
	           (const char *const[]){ "A=a  b # not a comment", "B=x\ny\tz\r",
	                                  "C=say \"hi\" \\ $HOME q", "D=$HOME 'single'", NULL });
	dotenv_free(p.env);
}
END_TEST

START_TEST(test_single_quotes)
{
	/* taken as they are: no escapes, no variables */
	struct parsed p = parse("A='a\\nb $X \"q\" # c'\nB='\\'\n");
	expect_env(&p, (const char *const[]){ "A=a\\nb $X \"q\" # c", "B=\\", NULL });
	dotenv_free(p.env);
}
END_TEST

START_TEST(test_export)
{
	struct parsed p = parse("export A=1\nexport\tB=2\n  export   C = 3\n"
	                        "export=4\nexportD=5\nexport_E=6\n");
	expect_env(&p, (const char *const[]){ "A=1", "B=2", "C=3", "export=4", "exportD=5",
	                                      "export_E=6", NULL });
	dotenv_free(p.env);
	p = parse("export\n");
	expect_error(&p, "t.env:1: expected NAME=value");
	p = parse("export A\n");
	expect_error(&p, "t.env:1: expected NAME=value");
}
END_TEST

START_TEST(test_comments)
{
	struct parsed p = parse("# a comment\n"
	                        "   # an indented one\n"
	                        "#A=1\n"
	                        "B=1 # trailing\n"
	                        "C=1\t# after a tab\n"
	                        "D=a#b\n"
	                        "E=#ff0000\n"
	                        "F= # only a comment\n"
	                        "G=\"q\" # after a quote\n"
	                        "H='q'# right after a quote\n");
	expect_env(&p, (const char *const[]){ "B=1", "C=1", "D=a#b", "E=#ff0000", "F=", "G=q",
	                                      "H=q", NULL });
	dotenv_free(p.env);
}
END_TEST

START_TEST(test_empty_values)
{
	struct parsed p = parse("A=\nB=''\nC=\"\"\nD=   \nE=\"\" # c\n");
	expect_env(&p, (const char *const[]){ "A=", "B=", "C=", "D=", "E=", NULL });
	dotenv_free(p.env);
}
END_TEST

START_TEST(test_invalid)
{
	static const char *const bad[] = { "1A=x", "A-B=x", "A B=x", "=x",   "A",
		                           "A x",  "Ä=x",   "A.B=x", "-A=x", "A:=x" };
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		struct parsed p = parse(bad[i]);
		ck_assert_msg(p.r == -EINVAL, "\"%s\" accepted", bad[i]);
		ck_assert_str_eq(p.err, "t.env:1: expected NAME=value");
		dotenv_free(p.env);
	}
	/* the line is counted with blank lines and comments */
	struct parsed p = parse("A=1\n\n# c\nB C=2\nD=3\n");
	expect_error(&p, "t.env:4: expected NAME=value");
	/* what came before stays for the caller to free; nothing after */
	ck_assert_uint_eq(p.n, 1);
	ck_assert_str_eq(p.env[0], "A=1");
	dotenv_free(p.env);
	p = parse("A=\"abc\nB=1\n");
	expect_error(&p, "t.env:1: unterminated quote");
	dotenv_free(p.env);
	p = parse("A='abc\"\n");
	expect_error(&p, "t.env:1: unterminated quote");
	p = parse("A=\"a\\\"\n");
	expect_error(&p, "t.env:1: unterminated quote");
	p = parse("A=\"a\" b\n");
	expect_error(&p, "t.env:1: unexpected text after the closing quote");
	p = parse("A='a''b'\n");
	expect_error(&p, "t.env:1: unexpected text after the closing quote");
}
END_TEST

/* ------------------------------------------------------------- files */

static char dir[PATH_MAX];

static void setup_dir(void)
{
	unit_mkroot(dir, "dotenv");
}

static void teardown_dir(void)
{
	unit_rmroot(dir);
}

static void write_file(const char *path, const char *text, size_t len)
{
	FILE *f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	ck_assert_uint_eq(fwrite(text, 1, len, f), len);
	ck_assert_int_eq(fclose(f), 0);
}

START_TEST(test_file)
{
	char path[PATH_MAX], err[512], msg[PATH_MAX + 64];
	char **env = NULL;
	size_t n = 0;
	const char text[] = "export A=1\nB='two' # c\n";

	setup_dir();
	FMT(path, "%s/.env", dir);
	write_file(path, text, strlen(text));
	ck_assert_int_eq(dotenv_parse_file(path, &env, &n, err, sizeof err), 0);
	/* a second file appends */
	FMT(path, "%s/b.env", dir);
	write_file(path, "C=3\n\nD=\"x y\"\n", 14);
	ck_assert_int_eq(dotenv_parse_file(path, &env, &n, err, sizeof err), 0);
	ck_assert_uint_eq(n, 4);
	ck_assert_str_eq(env[0], "A=1");
	ck_assert_str_eq(env[1], "B=two");
	ck_assert_str_eq(env[2], "C=3");
	ck_assert_str_eq(env[3], "D=x y");
	ck_assert_ptr_null(env[4]);
	dotenv_free(env);
	/* a bad line names the file and the line */
	env = NULL;
	n = 0;
	write_file(path, "A=1\nB C\n", 8);
	ck_assert_int_eq(dotenv_parse_file(path, &env, &n, err, sizeof err), -EINVAL);
	FMT(msg, "%s:2: expected NAME=value", path);
	ck_assert_str_eq(err, msg);
	dotenv_free(env);
	teardown_dir();
}
END_TEST

/* rel under dir cannot be read as a file: -e, "\"path\": reason", nothing
 * appended */
static void expect_unreadable(const char *rel, int e)
{
	char path[PATH_MAX], err[512], msg[PATH_MAX + 64];
	char **env = NULL;
	size_t n = 0;

	FMT(path, "%s/%s", dir, rel);
	ck_assert_int_eq(dotenv_parse_file(path, &env, &n, err, sizeof err), -e);
	FMT(msg, "\"%s\": %s", path, strerror(e));
	ck_assert_str_eq(err, msg);
	ck_assert_ptr_null(env);
	ck_assert_uint_eq(n, 0);
}

START_TEST(test_missing_file)
{
	setup_dir();
	expect_unreadable("nope.env", ENOENT);
	teardown_dir();
}
END_TEST

START_TEST(test_directory)
{
	char path[PATH_MAX];

	/* a directory is no .env file: an error naming it, not an empty file */
	setup_dir();
	FMT(path, "%s/env.d", dir);
	ck_assert_int_eq(mkdir(path, 0700), 0);
	expect_unreadable("env.d", EISDIR);
	teardown_dir();
}
END_TEST

START_TEST(test_long_line)
{
	enum { LEN = 1 << 20 };
	char path[PATH_MAX], err[512];
	char *text = malloc(LEN + 16), **env = NULL;
	size_t n = 0;

	ck_assert_ptr_nonnull(text);
	memcpy(text, "LONG=", 5);
	for (size_t i = 0; i < LEN; i++)
		text[5 + i] = (char)('a' + i % 26);
	memcpy(text + 5 + LEN, "\nB=2\n", 6);
	setup_dir();
	FMT(path, "%s/long.env", dir);
	write_file(path, text, strlen(text));
	ck_assert_int_eq(dotenv_parse_file(path, &env, &n, err, sizeof err), 0);
	ck_assert_uint_eq(n, 2);
	ck_assert_uint_eq(strlen(env[0]), 5 + LEN);
	ck_assert_int_eq(memcmp(env[0], text, 5 + LEN), 0);
	ck_assert_str_eq(env[1], "B=2");
	dotenv_free(env);
	/* the same through the text entry point */
	struct parsed p = parse(text);
	ck_assert_int_eq(p.r, 0);
	ck_assert_uint_eq(p.n, 2);
	ck_assert_int_eq(memcmp(p.env[0], text, 5 + LEN), 0);
	dotenv_free(p.env);
	free(text);
	teardown_dir();
}
END_TEST

START_TEST(test_valid_name)
{
	ck_assert(dotenv_valid_name("A", 1));
	ck_assert(dotenv_valid_name("_a9", 3));
	ck_assert(dotenv_valid_name("AB=", 2));
	ck_assert(!dotenv_valid_name("", 0));
	ck_assert(!dotenv_valid_name("9A", 2));
	ck_assert(!dotenv_valid_name("A-B", 3));
}
END_TEST

static Suite *dotenv_suite(void)
{
	Suite *s = suite_create("dotenv");
	TCase *tc = tcase_create("text");

	tcase_add_test(tc, test_plain);
	tcase_add_test(tc, test_double_quotes);
	tcase_add_test(tc, test_single_quotes);
	tcase_add_test(tc, test_export);
	tcase_add_test(tc, test_comments);
	tcase_add_test(tc, test_empty_values);
	tcase_add_test(tc, test_invalid);
	tcase_add_test(tc, test_valid_name);
	suite_add_tcase(s, tc);
	tc = tcase_create("files");
	tcase_add_test(tc, test_file);
	tcase_add_test(tc, test_missing_file);
	tcase_add_test(tc, test_directory);
	tcase_add_test(tc, test_long_line);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return unit_run(dotenv_suite());
}
