/* Plugin contract tests: every built plugin loads with RTLD_NOW and exports
 * exactly gust_plugin_desc; fixture plugins are refused with their exact
 * message; a missing plugin names every directory searched. */
#include "config.h"

#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "unit.h"

#include "loader.h"

static const char *env_or_fail(const char *name)
{
	const char *v = getenv(name);
	ck_assert_msg(v && *v, "%s must be set (make check sets it)", name);
	return v;
}

static void fixture(char *buf, size_t len, const char *name)
{
	int n = snprintf(buf, len, "%s/%s.so", env_or_fail("GUST_FIXTURES"), name);
	ck_assert_int_lt(n, (int)len);
}

static int expect_plugin(const char *prefix, enum gust_kind kind, int *count)
{
	const char *dir = env_or_fail("GUST_PLUGIN_PATH");
	DIR *d = opendir(dir);
	ck_assert_msg(d != NULL, "cannot open %s", dir);
	struct dirent *e;
	int seen = 0;
	while ((e = readdir(d))) {
		size_t len = strlen(e->d_name);
		if (len < 4 || strcmp(e->d_name + len - 3, ".so") ||
		    strncmp(e->d_name, prefix, strlen(prefix)))
			continue;
		char file[4096], err[2048];
		snprintf(file, sizeof file, "%s/%s", dir, e->d_name);
		struct plugin p;
		int r = plugin_open_file(&p, file, kind, err, sizeof err);
		ck_assert_msg(r == 0, "%s: %s", file, err);
		ck_assert_uint_eq(p.desc->kind, kind);
		/* file name is <kind>-<name>.so */
		char want[512];
		snprintf(want, sizeof want, "%s%s.so", prefix, p.desc->name);
		ck_assert_str_eq(e->d_name, want);
		plugin_unload(&p);

		/* exactly one exported (defined, global) symbol */
		char cmd[4200];
		snprintf(cmd, sizeof cmd, "nm -D --defined-only '%s'", file);
		FILE *f = popen(cmd, "r");
		ck_assert_ptr_nonnull(f);
		char line[512];
		int globals = 0, desc = 0;
		while (fgets(line, sizeof line, f)) {
			char addr[64], type[8], name[400];
			if (sscanf(line, "%63s %7s %399s", addr, type, name) != 3)
				continue;
			globals++;
			if (strcmp(name, "gust_plugin_desc") == 0)
				desc++;
			else
				ck_abort_msg("%s exports %s besides gust_plugin_desc", file, name);
		}
		ck_assert_int_eq(pclose(f), 0);
		ck_assert_int_eq(desc, 1);
		ck_assert_int_eq(globals, 1);
		seen++;
	}
	closedir(d);
	*count += seen;
	return seen;
}

START_TEST(test_built_plugins_load)
{
	int n = 0;
	ck_assert_int_ge(expect_plugin("watcher-", GUST_KIND_WATCHER, &n), 1);
	ck_assert_int_ge(expect_plugin("builder-", GUST_KIND_BUILDER, &n), 1);
	ck_assert_int_ge(expect_plugin("runner-", GUST_KIND_RUNNER, &n), 2);
}
END_TEST

struct refusal {
	const char *fixture;
	enum gust_kind kind;
	const char *message; /* after "<file>: " */
};

static const struct refusal refusals[] = {
	{ "bad-abi", GUST_KIND_RUNNER,
	  "plugin ABI 2.0 is incompatible with gust's ABI 1.1 (rebuild the plugin against this "
	  "gust)" },
	{ "wrong-kind", GUST_KIND_BUILDER,
	  "plugin \"wrongkind\" is a runner plugin, not a builder plugin" },
	{ "missing-op", GUST_KIND_RUNNER,
	  "runner plugin \"missingop\" lacks the required op \"stop\"" },
	{ "no-symbol", GUST_KIND_RUNNER, "no \"gust_plugin_desc\" symbol: not a gust plugin" },
	{ "short-vtable", GUST_KIND_RUNNER,
	  "runner plugin \"shortvtable\" lacks the required op \"size\"" },
	{ "newer-minor", GUST_KIND_HOOK,
	  "plugin needs ABI 1.2, newer than gust's 1.1 (upgrade gust or rebuild the plugin)" },
};

START_TEST(test_fixture_refused)
{
	const struct refusal *rf = &refusals[_i];
	char file[4096], err[2048], want[8192];
	struct plugin p;
	fixture(file, sizeof file, rf->fixture);
	int r = plugin_open_file(&p, file, rf->kind, err, sizeof err);
	ck_assert_int_lt(r, 0);
	ck_assert_ptr_null(p.handle);
	snprintf(want, sizeof want, "%s: %s", file, rf->message);
	ck_assert_str_eq(err, want);
}
END_TEST

START_TEST(test_dlopen_error_names_file_and_hint)
{
	char file[4096], err[2048];
	struct plugin p;
	fixture(file, sizeof file, "unresolved");
	ck_assert_int_lt(plugin_open_file(&p, file, GUST_KIND_RUNNER, err, sizeof err), 0);
	ck_assert_msg(strncmp(err, file, strlen(file)) == 0,
	              "message does not start with the file: %s", err);
	ck_assert_ptr_nonnull(strstr(err, "cannot load plugin: "));
	ck_assert_ptr_nonnull(strstr(err, "gust_no_such_symbol"));
	ck_assert_ptr_nonnull(strstr(err, "ldd "));
	ck_assert_ptr_null(strchr(err, '\n'));
}
END_TEST

START_TEST(test_by_path)
{
	char file[4096], err[2048];
	struct plugin p;
	fixture(file, sizeof file, "wrong-kind");
	ck_assert_int_eq(plugin_load(&p, GUST_KIND_RUNNER, file, NULL, err, sizeof err), 0);
	ck_assert_str_eq(p.desc->name, "wrongkind");
	ck_assert_str_eq(p.file, file);
	plugin_unload(&p);
	ck_assert_int_eq(
	    plugin_load(&p, GUST_KIND_RUNNER, "/nonexistent/x.so", NULL, err, sizeof err), -ENOENT);
	ck_assert_str_eq(err, "/nonexistent/x.so: runner plugin: No such file or directory");
}
END_TEST

START_TEST(test_not_found_lists_dirs)
{
	char *const dirs[] = { "/nonexistent/a", "/nonexistent/b", NULL };
	char err[2048];
	struct plugin p;
	ck_assert_int_eq(plugin_load(&p, GUST_KIND_RUNNER, "nosuch", dirs, err, sizeof err),
	                 -ENOENT);
	ck_assert_str_eq(err,
	                 "runner plugin \"nosuch\": runner-nosuch.so not found in: /nonexistent/a, "
	                 "/nonexistent/b (set plugin_path in the config or GUST_PLUGIN_PATH)");
}
END_TEST

START_TEST(test_search_order)
{
	char *const cfg[] = { "/from/config", NULL };
	setenv("GUST_PLUGIN_PATH", "/env/one:/env/two", 1);
	char **dirs = plugin_search_dirs(cfg);
	ck_assert_ptr_nonnull(dirs);
	ck_assert_str_eq(dirs[0], "/from/config");
	ck_assert_str_eq(dirs[1], "/env/one");
	ck_assert_str_eq(dirs[2], "/env/two");
	ck_assert_ptr_nonnull(dirs[3]); /* the compiled-in pkglibdir */
	ck_assert_ptr_null(dirs[4]);
	plugin_free_dirs(dirs);
}
END_TEST

START_TEST(test_search_finds_by_name)
{
	char *const dirs[] = { "/nonexistent", (char *)env_or_fail("GUST_PLUGIN_PATH"), NULL };
	char err[2048];
	struct plugin p;
	ck_assert_msg(plugin_load(&p, GUST_KIND_RUNNER, "plain", dirs, err, sizeof err) == 0, "%s",
	              err);
	ck_assert_str_eq(p.desc->name, "plain");
	ck_assert_ptr_nonnull(strstr(p.file, "/runner-plain.so"));
	plugin_unload(&p);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("loader");
	TCase *tc = tcase_create("contract");
	tcase_add_test(tc, test_built_plugins_load);
	tcase_add_loop_test(tc, test_fixture_refused, 0, (int)(sizeof refusals / sizeof *refusals));
	tcase_add_test(tc, test_dlopen_error_names_file_and_hint);
	tcase_add_test(tc, test_by_path);
	tcase_add_test(tc, test_not_found_lists_dirs);
	tcase_add_test(tc, test_search_order);
	tcase_add_test(tc, test_search_finds_by_name);
	suite_add_tcase(s, tc);
	return unit_run(s);
}
