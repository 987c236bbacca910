/* The config module: defaults, every error message exactly, --set, the
 * layering of plugin sections, paths, the dump round trip, init and
 * presets, plugin option accessors and signal names. Each test runs in a
 * fresh temporary directory (the fixture chdirs there). */
#include "config.h"

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <jansson.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "unit.h"

#include "conf.h"
#include "confre.h"
#include "options.h"
#include "presets.h"
#include "signames.h"
#include "starter.h"
#include "suggest.h"

static char tdir[PATH_MAX]; /* the test's directory (each test is a fork) */
static char olddir[PATH_MAX];

static void setup(void)
{
	const char *tmp = getenv("TMPDIR");
	snprintf(tdir, sizeof tdir, "%s/gust-conf.XXXXXX", tmp && *tmp ? tmp : "/tmp");
	ck_assert_ptr_nonnull(mkdtemp(tdir));
	/* the canonical name: root is compared with realpath() */
	char real[PATH_MAX];
	ck_assert_ptr_nonnull(realpath(tdir, real));
	snprintf(tdir, sizeof tdir, "%s", real);
	ck_assert_ptr_nonnull(getcwd(olddir, sizeof olddir));
	ck_assert_int_eq(chdir(tdir), 0);
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static void teardown(void)
{
	ck_assert_int_eq(chdir(olddir), 0);
	nftw(tdir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "we");
	ck_assert_msg(f != NULL, "cannot write %s", path);
	fputs(text, f);
	ck_assert_int_eq(fclose(f), 0);
}

static char *read_file(const char *path)
{
	FILE *f = fopen(path, "re");
	ck_assert_msg(f != NULL, "cannot read %s", path);
	static char buf[65536];
	size_t n = fread(buf, 1, sizeof buf - 1, f);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

static void mkdirs(const char *path)
{
	char p[PATH_MAX];
	snprintf(p, sizeof p, "%s", path);
	for (char *s = p + 1; *s; s++) {
		if (*s == '/') {
			*s = '\0';
			mkdir(p, 0777);
			*s = '/';
		}
	}
	mkdir(p, 0777);
}

/* Load text as gust.json (NULL: no file) with sets; expect success. */
static void load_ok(struct config *cfg, const char *text, const char *const *sets)
{
	char err[1024] = "";
	if (text)
		write_file("gust.json", text);
	int r = config_load(cfg, NULL, sets, err, sizeof err);
	ck_assert_msg(r == 0, "config_load failed (%d): %s", r, err);
}

/* Load text as gust.json with sets; expect failure with exactly want. */
static void load_fails(const char *text, const char *const *sets, const char *want)
{
	struct config cfg;
	char err[1024] = "";
	if (text)
		write_file("gust.json", text);
	int r = config_load(&cfg, NULL, sets, err, sizeof err);
	ck_assert_msg(r < 0, "config_load accepted %s", text ? text : "(no file)");
	ck_assert_str_eq(err, want);
	config_free(&cfg);
}

static const char *jstr(json_t *o, const char *k)
{
	return json_string_value(json_object_get(o, k));
}

/* ---- defaults ---- */

START_TEST(test_defaults)
{
	struct config cfg;
	load_ok(&cfg, NULL, NULL);
	ck_assert_ptr_null(cfg.file);
	ck_assert_str_eq(cfg.root, tdir);
	char want[PATH_MAX + 8];
	snprintf(want, sizeof want, "%s/tmp", tdir);
	ck_assert_str_eq(cfg.tmp_dir, want);
	ck_assert_ptr_nonnull(cfg.plugin_path);
	ck_assert_ptr_null(cfg.plugin_path[0]);
	const char *ext[] = { "go", "tpl", "tmpl", "html", NULL };
	for (size_t i = 0; i < 5; i++)
		ck_assert_pstr_eq(cfg.watch.include_ext[i], ext[i]);
	ck_assert_ptr_null(cfg.watch.include_dir[0]);
	ck_assert_ptr_null(cfg.watch.include_file[0]);
	const char *xd[] = { "assets", "tmp", "vendor", "testdata", "node_modules", NULL };
	for (size_t i = 0; i < 6; i++)
		ck_assert_pstr_eq(cfg.watch.exclude_dir[i], xd[i]);
	ck_assert_ptr_null(cfg.watch.exclude_file[0]);
	ck_assert_str_eq(cfg.watch.exclude_regex[0], "_test\\.go$");
	ck_assert_ptr_null(cfg.watch.exclude_regex[1]);
	/* compiled once, here, for the filter */
	ck_assert_uint_eq(cfg.watch.n_exclude_re, 1);
	ck_assert_int_eq(regexec(&cfg.watch.exclude_re[0], "x/a_test.go", 0, NULL, 0), 0);
	ck_assert_int_ne(regexec(&cfg.watch.exclude_re[0], "x/a.go", 0, NULL, 0), 0);
	ck_assert(cfg.watch.gitignore);
	ck_assert(!cfg.watch.follow_symlinks);
	ck_assert(cfg.watch.exclude_unchanged);
	ck_assert(!cfg.watch.allow_any_root);
	ck_assert_uint_eq(cfg.watch.debounce_ms, DEBOUNCE_ADAPTIVE);
	ck_assert_uint_eq(cfg.watch.debounce_max_ms, 2000);
	ck_assert_int_eq(cfg.log.color, COLOR_AUTO);
	ck_assert(!cfg.log.timestamps);
	ck_assert_int_eq(cfg.log.verbosity, 0);
	ck_assert(!cfg.clear_screen);
	ck_assert(!cfg.lifecycle.postpone_first);
	ck_assert(!cfg.lifecycle.stop_on_build_failure);
	ck_assert(!cfg.lifecycle.restart_on_exit);
	ck_assert_uint_eq(cfg.lifecycle.restart_delay_ms, 500);
	ck_assert_uint_eq(cfg.lifecycle.restart_max_delay_ms, 30000);
	ck_assert_str_eq(jstr(cfg.watcher, "plugin"), "auto");
	ck_assert_int_eq(json_object_size(cfg.watcher), 1);
	ck_assert_str_eq(jstr(cfg.builder, "plugin"), "shell");
	ck_assert_str_eq(jstr(cfg.builder, "cmd"), "go build -o ./tmp/main .");
	ck_assert_str_eq(jstr(cfg.runner, "plugin"), "plain");
	ck_assert_str_eq(jstr(cfg.runner, "bin"), "./tmp/main");
	config_free(&cfg);
}
END_TEST

START_TEST(test_file_values)
{
	struct config cfg;
	load_ok(
	    &cfg,
	    "{ \"$schema\": \"x\", \"watch\": { \"include_ext\": \"c\", \"debounce_ms\": 0,"
	    " \"debounce_max_ms\": 0, \"gitignore\": false },"
	    " \"log\": { \"color\": \"never\", \"verbosity\": \"debug\", \"timestamps\": true },"
	    " \"screen\": { \"clear\": true },"
	    " \"lifecycle\": { \"restart_on_exit\": true, \"restart_delay_ms\": 10 } }",
	    NULL);
	ck_assert_str_eq(cfg.file, "gust.json");
	ck_assert_str_eq(cfg.watch.include_ext[0], "c"); /* a string is a one-element list */
	ck_assert_ptr_null(cfg.watch.include_ext[1]);
	ck_assert_str_eq(cfg.watch.exclude_dir[0], "assets"); /* merged, not replaced */
	ck_assert_uint_eq(cfg.watch.debounce_ms, 0);
	ck_assert_uint_eq(cfg.watch.debounce_max_ms, 0);
	ck_assert(!cfg.watch.gitignore);
	ck_assert_int_eq(cfg.log.color, COLOR_NEVER);
	ck_assert_int_eq(cfg.log.verbosity, 2);
	ck_assert(cfg.log.timestamps);
	ck_assert(cfg.clear_screen);
	ck_assert(cfg.lifecycle.restart_on_exit);
	ck_assert_uint_eq(cfg.lifecycle.restart_delay_ms, 10);
	config_free(&cfg);
	load_ok(&cfg, "{ \"log\": { \"verbosity\": -1, \"color\": \"always\" } }", NULL);
	ck_assert_int_eq(cfg.log.verbosity, -1);
	ck_assert_int_eq(cfg.log.color, COLOR_ALWAYS);
	config_free(&cfg);
	load_ok(&cfg, "{ \"log\": { \"verbosity\": \"quiet\" } }", NULL);
	ck_assert_int_eq(cfg.log.verbosity, -1);
	config_free(&cfg);
	load_ok(&cfg, "{ \"log\": { \"verbosity\": \"verbose\" } }", NULL);
	ck_assert_int_eq(cfg.log.verbosity, 1);
	config_free(&cfg);
}
END_TEST

/* ---- every semantic error, exactly ---- */

static const struct {
	const char *json, *err;
} semantic[] = {
	{ "{ \"rules\": {} }", "gust.json: /rules: expected an array of rules, got {}" },
	{ "{ \"rules\": [ { \"match\": {} } ] }",
	  "gust.json: /rules/0/name: expected a name for the rule, got nothing" },
	{ "{ \"rules\": [ { \"name\": \"a\" } ] }",
	  "gust.json: /rules/0/match: required: the paths the rule is for" },
	{ "{ \"rules\": [ { \"name\": \"a\", \"match\": {} }, { \"name\": \"a\", \"match\": {} } ] "
	  "}",
	  "gust.json: /rules/1/name: \"a\" names rule 0 already" },
	{ "{ \"rules\": [ { \"name\": \"a\", \"match\": { \"gitignore\": true } } ] }",
	  "gust.json: /rules/0/match/gitignore: unknown key" },
	{ "{ \"rules\": [ { \"name\": \"a\", \"match\": {}, \"action\": \"rebuild\" } ] }",
	  "gust.json: /rules/0/action: expected \"build\", \"restart\", \"reload\" or {\"run\": "
	  "\"CMD\"}, got \"rebuild\"" },
	{ "{ \"rules\": [ { \"name\": \"a\", \"match\": {}, \"action\": { \"run\": \"\" } } ] }",
	  "gust.json: /rules/0/action: expected \"build\", \"restart\", \"reload\" or {\"run\": "
	  "\"CMD\"}, got {\"run\":\"\"}" },
	{ "{ \"rules\": [ { \"name\": \"a\", \"match\": {}, \"when\": 1 } ] }",
	  "gust.json: /rules/0/when: unknown key" },
	{ "{ \"watch\": { \"debounce_ms\": \"fast\" } }",
	  "gust.json: /watch/debounce_ms: expected integer >= 0, got \"fast\"" },
	{ "{ \"watch\": { \"debounce_ms\": -1 } }",
	  "gust.json: /watch/debounce_ms: expected integer >= 0, got -1" },
	{ "{ \"watch\": { \"debounce_ms\": 1.5 } }",
	  "gust.json: /watch/debounce_ms: expected integer >= 0, got 1.5" },
	{ "{ \"watch\": { \"debounce_max_ms\": null } }",
	  "gust.json: /watch/debounce_max_ms: expected integer >= 0, got null" },
	{ "{ \"watch\": { \"debounce_ms\": 100, \"debounce_max_ms\": 50 } }",
	  "gust.json: /watch/debounce_max_ms: expected 0 (no cap) or at least debounce_ms (100), "
	  "got 50" },
	{ "{ \"watch\": { \"exclude_dirs\": [] } }",
	  "gust.json: /watch/exclude_dirs: unknown key (did you mean \"exclude_dir\"?)" },
	{ "{ \"watch\": { \"gitignroe\": true } }",
	  "gust.json: /watch/gitignroe: unknown key (did you mean \"gitignore\"?)" },
	{ "{ \"watch\": { \"zzzzzz\": true } }", "gust.json: /watch/zzzzzz: unknown key" },
	{ "{ \"wacth\": {} }", "gust.json: /wacth: unknown key (did you mean \"watch\"?)" },
	{ "{ \"runer\": {} }", "gust.json: /runer: unknown key (did you mean \"runner\"?)" },
	{ "{ \"watch\": [] }", "gust.json: /watch: expected an object, got []" },
	{ "{ \"watch\": { \"include_ext\": 3 } }",
	  "gust.json: /watch/include_ext: expected an array of strings, got 3" },
	{ "{ \"watch\": { \"include_ext\": [\"go\", 3] } }",
	  "gust.json: /watch/include_ext/1: expected a string, got 3" },
	{ "{ \"watch\": { \"exclude_regex\": [\"ok\", \"(\"] } }",
	  "gust.json: /watch/exclude_regex/1: invalid regular expression \"(\": " },
	{ "{ \"watch\": { \"exclude_regex\": \"a++++++++++++++++++++++\" } }",
	  "gust.json: /watch/exclude_regex/0: invalid regular expression "
	  "\"a++++++++++++++++++++++\": too large once its repetitions are expanded "
	  "(over 2048)" },
	{ "{ \"watch\": { \"exclude_regex\": [\"ok\", \"(a{1,100}){1,100}\"] } }",
	  "gust.json: /watch/exclude_regex/1: invalid regular expression "
	  "\"(a{1,100}){1,100}\": too large once its repetitions are expanded (over 2048)" },
	{ "{ \"watch\": { \"gitignore\": \"yes\" } }",
	  "gust.json: /watch/gitignore: expected true or false, got \"yes\"" },
	{ "{ \"watch\": { \"allow_any_root\": 1 } }",
	  "gust.json: /watch/allow_any_root: expected true or false, got 1" },
	{ "{ \"root\": 5 }", "gust.json: /root: expected a string, got 5" },
	{ "{ \"tmp_dir\": [\"a\"] }", "gust.json: /tmp_dir: expected a string, got [\"a\"]" },
	{ "{ \"$schema\": {} }", "gust.json: /$schema: expected a string, got {}" },
	{ "{ \"plugin_path\": {\"a\": 1} }",
	  "gust.json: /plugin_path: expected an array of strings, got {\"a\":1}" },
	{ "{ \"log\": { \"color\": \"sometimes\" } }",
	  "gust.json: /log/color: expected one of \"auto\", \"always\", \"never\", got "
	  "\"sometimes\"" },
	{ "{ \"log\": { \"verbosity\": 3 } }",
	  "gust.json: /log/verbosity: expected one of \"quiet\", \"normal\", \"verbose\", "
	  "\"debug\" or an integer "
	  "between -1 and 2, got 3" },
	{ "{ \"log\": { \"verbosty\": 1 } }",
	  "gust.json: /log/verbosty: unknown key (did you mean \"verbosity\"?)" },
	{ "{ \"screen\": { \"clear\": null } }",
	  "gust.json: /screen/clear: expected true or false, got null" },
	{ "{ \"lifecycle\": { \"restart_delay_ms\": 4000000 } }",
	  "gust.json: /lifecycle/restart_delay_ms: expected integer between 0 and 3600000, got "
	  "4000000" },
	{ "{ \"lifecycle\": { \"restart_delay_ms\": 2000, \"restart_max_delay_ms\": 1000 } }",
	  "gust.json: /lifecycle/restart_max_delay_ms: expected at least restart_delay_ms (2000), "
	  "got 1000" },
	{ "{ \"lifecycle\": { \"postpone\": true } }",
	  "gust.json: /lifecycle/postpone: unknown key (did you mean \"postpone_first\"?)" },
	{ "{ \"builder\": \"make\" }",
	  "gust.json: /builder: expected an object with \"plugin\", got \"make\"" },
	{ "{ \"builder\": { \"plugin\": \"\" } }",
	  "gust.json: /builder/plugin: expected a plugin name or path, got \"\"" },
	{ "{ \"runner\": { \"plugin\": 7 } }",
	  "gust.json: /runner/plugin: expected a plugin name or path, got 7" },
	{ "[1, 2]", "gust.json: expected an object at the top, got [1,2]" },
	{ "{ \"root\": \"nope\" }", NULL /* names the path: checked in test_paths */ },
};

START_TEST(test_semantic_errors)
{
	if (!semantic[_i].err)
		return;
	if (strstr(semantic[_i].err, "invalid regular expression") &&
	    !strstr(semantic[_i].err, "too large")) {
		/* regerror()'s text is the C library's: check the rest */
		struct config cfg;
		char err[1024];
		write_file("gust.json", semantic[_i].json);
		ck_assert_int_eq(config_load(&cfg, NULL, NULL, err, sizeof err), -EINVAL);
		ck_assert_msg(strncmp(err, semantic[_i].err, strlen(semantic[_i].err)) == 0,
		              "got: %s", err);
		ck_assert_uint_gt(strlen(err), strlen(semantic[_i].err));
		config_free(&cfg);
		return;
	}
	load_fails(semantic[_i].json, NULL, semantic[_i].err);
}
END_TEST

/* ---- the regex cost bound ---- */

static const struct {
	const char *re;
	size_t cost;
} costs[] = {
	{ "", 0 },
	{ "abc", 3 },
	{ "_test\\.go$", 10 },
	{ "^(vendor|node_modules)/", 23 },
	{ "\\.(swp|tmp)$", 12 },
	{ "[0-9]{1,3}", 20 },     /* 3 copies of the 5-byte bracket, + 5 for {1,3} */
	{ "[]a]*", 5 },           /* ']' first in a bracket is a member */
	{ "[[:alpha:]_]+", 25 },  /* 2 * 12 + 1 */
	{ "a+", 3 },              /* glibc writes it aa* */
	{ "a++", 7 },             /* doubles per '+' */
	{ "a{3}", 6 },            /* 3 copies + 3 for the operator */
	{ "a{2,}", 7 },           /* aa a*: 3 copies + 4 for the operator */
	{ "(ab|c){10}", 64 },     /* (2 + 2 + 1 + 1) * 10 + 4 */
	{ "a{,", 3 },             /* no bound: ordinary characters */
	{ "x)y", 3 },             /* an unmatched ')' is ordinary */
	{ "a++++++++++", 2047 },  /* 10 '+': the largest run accepted */
	{ "a+++++++++++", 4095 }, /* 11 '+': refused */
	{ "a{1,2048}", 2056 },    /* just over */
};

START_TEST(test_regex_cost)
{
	ck_assert_uint_eq(config_regex_cost(costs[_i].re), costs[_i].cost);
}
END_TEST

/* Real-world patterns load; the hostile ones are refused before
 * regcomp() sees them (it took 18 s and 3.2 GB for 22 '+'), from the file
 * or from a --set, naming the key. */
START_TEST(test_regex_bound)
{
	struct config cfg;
	load_ok(&cfg,
	        "{ \"watch\": { \"exclude_regex\": [\"_test\\\\.go$\", \"^(vendor|node_modules)/\","
	        " \"\\\\.(swp|tmp)$\", \"[0-9]{1,3}\", \"a{1,2000}\", \"(a{1,40}){1,40}\"] } }",
	        NULL);
	ck_assert_uint_eq(cfg.watch.n_exclude_re, 6);
	ck_assert_int_eq(regexec(&cfg.watch.exclude_re[3], "v123", 0, NULL, 0), 0);
	config_free(&cfg);
	char hostile[64] = "a";
	memset(hostile + 1, '+', 24);
	char set[96];
	snprintf(set, sizeof set, "watch.exclude_regex=%s", hostile);
	const char *sets[] = { set, NULL };
	char want[512];
	snprintf(want, sizeof want,
	         "--set %s: /watch/exclude_regex/0: invalid regular expression \"%s\": too large "
	         "once its repetitions are expanded (over 2048)",
	         set, hostile);
	load_fails("{}", sets, want);
	char big[CONFIG_REGEX_MAX + 2];
	memset(big, 'x', sizeof big - 1);
	big[sizeof big - 1] = '\0';
	ck_assert_uint_gt(config_regex_cost(big), CONFIG_REGEX_MAX);
	regex_t re;
	char why[160];
	ck_assert_int_eq(config_regex_compile(big, &re, why, sizeof why), -EINVAL);
	ck_assert_str_eq(why, "too large once its repetitions are expanded (over 2048)");
	ck_assert_int_eq(config_regex_compile("(", &re, why, sizeof why), -EINVAL);
	ck_assert_int_eq(config_regex_compile("a{1,2040}", &re, why, sizeof why), 0);
	regfree(&re);
}
END_TEST

/* ---- syntax errors: file:line:col and jansson's text ---- */

static const struct {
	const char *json, *err;
} syntax[] = {
	{ "{\n  \"watch\": {\n    \"debounce_ms\": 5,,\n  }\n}\n",
	  "gust.json:3:22: string or '}' expected near ','" },
	{ "{\n  \"root\": \".\"\n  \"tmp_dir\": \"x\"\n}\n",
	  "gust.json:3:11: '}' expected near '\"tmp_dir\"'" },
	{ "{\"a\": 1, \"a\": 2}", "gust.json:1:12: duplicate object key near '\"a\"'" },
	{ "{ \"watch\": { \"gitignore\": true, \"gitignore\": false } }",
	  "gust.json:1:43: duplicate object key near '\"gitignore\"'" },
	{ "", "gust.json:1:0: '[' or '{' expected near end of file" },
	{ "{ \"root\": tru }", "gust.json:1:13: invalid token near 'tru'" },
};

START_TEST(test_syntax_errors)
{
	load_fails(syntax[_i].json, NULL, syntax[_i].err);
}
END_TEST

START_TEST(test_file_option)
{
	struct config cfg;
	char err[1024];
	ck_assert_int_eq(config_load(&cfg, "x.json", NULL, err, sizeof err), -ENOENT);
	ck_assert_str_eq(err, "cannot read \"x.json\": No such file or directory");
	config_free(&cfg);
	mkdirs("adir");
	ck_assert_int_eq(config_load(&cfg, "adir", NULL, err, sizeof err), -EISDIR);
	ck_assert_str_eq(err, "cannot read \"adir\": Is a directory");
	config_free(&cfg);
	/* -c wins over ./gust.json, and errors name the file given */
	write_file("gust.json", "{ \"bogus\": 1 }");
	mkdirs("conf");
	write_file("conf/x.json", "{ \"watch\": { \"debounce_ms\": true } }");
	ck_assert_int_eq(config_load(&cfg, "conf/x.json", NULL, err, sizeof err), -EINVAL);
	ck_assert_str_eq(err, "conf/x.json: /watch/debounce_ms: expected integer >= 0, got true");
	config_free(&cfg);
	write_file("conf/x.json", "{ \"watch\": { \"debounce_ms\": 7 } }");
	ck_assert_int_eq(config_load(&cfg, "conf/x.json", NULL, err, sizeof err), 0);
	ck_assert_str_eq(cfg.file, "conf/x.json");
	ck_assert_uint_eq(cfg.watch.debounce_ms, 7);
	config_free(&cfg);
	/* ./gust.json is found without -c */
	ck_assert_int_eq(config_load(&cfg, NULL, NULL, err, sizeof err), -EINVAL);
	ck_assert_str_eq(err, "gust.json: /bogus: unknown key");
	config_free(&cfg);
}
END_TEST

/* The fuzz entry point: text in memory (not NUL-terminated), the same
 * checks and messages as a file, root relative to the current directory. */
START_TEST(test_load_text)
{
	struct config cfg;
	char err[1024];
	static const char text[] = "{ \"watch\": { \"debounce_ms\": 9 } }XXXX";
	ck_assert_int_eq(
	    config_load_text(&cfg, "in.json", text, sizeof text - 5, NULL, err, sizeof err), 0);
	ck_assert_str_eq(cfg.file, "in.json");
	ck_assert_str_eq(cfg.root, tdir);
	ck_assert_uint_eq(cfg.watch.debounce_ms, 9);
	config_free(&cfg);
	const char *sets[] = { "log.color=never", NULL };
	ck_assert_int_eq(
	    config_load_text(&cfg, "in.json", text, sizeof text - 1, sets, err, sizeof err),
	    -EINVAL);
	ck_assert_str_eq(err, "in.json:1:37: end of file expected near 'XXXX'");
	config_free(&cfg);
	ck_assert_int_eq(
	    config_load_text(&cfg, "in.json", "{ \"x\": 1 }", 10, NULL, err, sizeof err), -EINVAL);
	ck_assert_str_eq(err, "in.json: /x: unknown key");
	config_free(&cfg);
	ck_assert_int_eq(config_load_text(&cfg, "in.json", "{}", 2, sets, err, sizeof err), 0);
	ck_assert_int_eq(cfg.log.color, COLOR_NEVER);
	config_free(&cfg);
}
END_TEST

/* ---- did you mean ---- */

static const struct {
	const char *word, *want;
} nearest[] = {
	{ "exclude_dirs", "exclude_dir" },
	{ "exclude_dri", "exclude_dir" },
	{ "Exclude_Dir", "exclude_dir" },
	{ "exlude_dir", "exclude_dir" },
	{ "debounce", "debounce_ms" },
	{ "debounc_ms", "debounce_ms" },
	{ "include_exts", "include_ext" },
	{ "gitingore", "gitignore" },
	{ "folow_symlinks", "follow_symlinks" },
	{ "debounce_max", "debounce_max_ms" },
	{ "xyz", NULL },
	{ "a", NULL },
	{ "completely_else", NULL },
	{ "", NULL },
};

START_TEST(test_nearest)
{
	static const char *const keys[] = { "include_ext",
		                            "include_dir",
		                            "include_file",
		                            "exclude_dir",
		                            "exclude_file",
		                            "exclude_regex",
		                            "gitignore",
		                            "follow_symlinks",
		                            "exclude_unchanged",
		                            "allow_any_root",
		                            "debounce_ms",
		                            "debounce_max_ms",
		                            NULL };
	const char *got = config_nearest(nearest[_i].word, keys);
	ck_assert_msg(got == nearest[_i].want ||
	                  (got && nearest[_i].want && strcmp(got, nearest[_i].want) == 0),
	              "nearest(\"%s\") = %s, want %s", nearest[_i].word, got ? got : "NULL",
	              nearest[_i].want ? nearest[_i].want : "NULL");
	ck_assert_ptr_null(config_nearest("abc", NULL));
}
END_TEST

/* ---- --set ---- */

START_TEST(test_set_values)
{
	struct config cfg;
	const char *const sets[] = { "watch.debounce_ms=100",
		                     "runner.args=[\"-x\", \"y z\"]",
		                     "builder.cmd=make",
		                     "log.color=never",
		                     "watch.include_ext=[\"c\"]",
		                     "tmp_dir=123",
		                     "runner.env.FOO=bar",
		                     "screen.clear=true",
		                     NULL };
	load_ok(&cfg, NULL, sets);
	ck_assert_uint_eq(cfg.watch.debounce_ms, 100);
	json_t *args = json_object_get(cfg.runner, "args");
	ck_assert_int_eq(json_array_size(args), 2);
	ck_assert_str_eq(json_string_value(json_array_get(args, 0)), "-x");
	ck_assert_str_eq(json_string_value(json_array_get(args, 1)), "y z");
	ck_assert_str_eq(jstr(cfg.runner, "bin"), "./tmp/main"); /* still merged */
	ck_assert_str_eq(jstr(cfg.builder, "cmd"), "make");
	ck_assert_str_eq(jstr(cfg.builder, "plugin"), "shell");
	ck_assert_int_eq(cfg.log.color, COLOR_NEVER);
	ck_assert_str_eq(cfg.watch.include_ext[0], "c");
	ck_assert_ptr_null(cfg.watch.include_ext[1]);
	char want[PATH_MAX + 8];
	snprintf(want, sizeof want, "%s/123", tdir); /* a string key takes the text */
	ck_assert_str_eq(cfg.tmp_dir, want);
	ck_assert_str_eq(jstr(json_object_get(cfg.runner, "env"), "FOO"), "bar");
	ck_assert(cfg.clear_screen);
	config_free(&cfg);

	/* sets apply over the file, in order */
	const char *const sets2[] = { "watch.debounce_ms=1", "watch.debounce_ms=2",
		                      "runner.plugin=dlv", NULL };
	load_ok(&cfg,
	        "{ \"watch\": { \"debounce_ms\": 9 }, \"runner\": { \"plugin\": \"plain\", "
	        "\"args\": [\"a\"] } }",
	        sets2);
	ck_assert_uint_eq(cfg.watch.debounce_ms, 2);
	ck_assert_str_eq(jstr(cfg.runner, "plugin"), "dlv");
	/* the user's own keys stay; the default plain's "bin" does not */
	ck_assert_ptr_nonnull(json_object_get(cfg.runner, "args"));
	ck_assert_ptr_null(json_object_get(cfg.runner, "bin"));
	config_free(&cfg);
}
END_TEST

static const struct {
	const char *set, *err;
} set_errors[] = {
	{ "watch.debounc_ms=100", "--set watch.debounc_ms=100: unknown key \"debounc_ms\" (did you "
	                          "mean \"debounce_ms\"?)" },
	{ "wach.debounce_ms=100",
	  "--set wach.debounce_ms=100: unknown key \"wach\" (did you mean \"watch\"?)" },
	{ "nothing=1", "--set nothing=1: unknown key \"nothing\"" },
	{ "watch.debounce_ms=fast",
	  "--set watch.debounce_ms=fast: /watch/debounce_ms: expected integer >= 0, got \"fast\"" },
	{ "watch.debounce_ms", "--set watch.debounce_ms: expected KEY.PATH=VALUE" },
	{ "=5", "--set =5: expected KEY.PATH=VALUE" },
	{ "watch..x=1", "--set watch..x=1: empty key in \"watch..x\"" },
	{ "watch.=1", "--set watch.=1: empty key in \"watch.\"" },
	{ "root.x=1", "--set root.x=1: \"root\" has no keys inside" },
	{ "runner.plugin=",
	  "--set runner.plugin=: /runner/plugin: expected a plugin name or path, got \"\"" },
	{ "builder=3", "--set builder=3: /builder: expected an object with \"plugin\", got 3" },
	{ "log.color=blue", "--set log.color=blue: /log/color: expected one of \"auto\", "
	                    "\"always\", \"never\", got \"blue\"" },
	{ "watch.exclude_dir=[1]",
	  "--set watch.exclude_dir=[1]: /watch/exclude_dir/0: expected a string, got 1" },
	{ "root=/", "--set root=/: /root: refusing to watch \"/\" (the whole file system); "
	            "set watch.allow_any_root to true if you mean it" },
	{ "watch.debounce_max_ms=2", "--set watch.debounce_max_ms=2: /watch/debounce_max_ms: "
	                             "expected 0 (no cap) or at least debounce_ms (5), got 2" },
};

START_TEST(test_set_errors)
{
	const char *const sets[] = { "watch.debounce_ms=5", set_errors[_i].set, NULL };
	load_fails(NULL, sets, set_errors[_i].err);
}
END_TEST

/* ---- plugin sections: merge or replace ---- */

START_TEST(test_plugin_sections)
{
	struct config cfg;
	/* no "plugin": the default plugin's options, adjusted */
	load_ok(&cfg, "{ \"builder\": { \"pre_cmd\": [\"true\"] } }", NULL);
	ck_assert_str_eq(jstr(cfg.builder, "plugin"), "shell");
	ck_assert_str_eq(jstr(cfg.builder, "cmd"), "go build -o ./tmp/main .");
	ck_assert_ptr_nonnull(json_object_get(cfg.builder, "pre_cmd"));
	config_free(&cfg);
	/* the same plugin named: merged too */
	load_ok(&cfg, "{ \"builder\": { \"plugin\": \"shell\", \"post_cmd\": \"true\" } }", NULL);
	ck_assert_str_eq(jstr(cfg.builder, "cmd"), "go build -o ./tmp/main .");
	ck_assert_str_eq(jstr(cfg.builder, "post_cmd"), "true");
	config_free(&cfg);
	/* another plugin: the section is the user's alone */
	load_ok(&cfg, "{ \"builder\": { \"plugin\": \"./my.so\", \"x\": 1 } }", NULL);
	ck_assert_str_eq(jstr(cfg.builder, "plugin"), "./my.so");
	ck_assert_ptr_null(json_object_get(cfg.builder, "cmd"));
	ck_assert_int_eq(json_object_size(cfg.builder), 2);
	config_free(&cfg);
	load_ok(&cfg,
	        "{ \"runner\": { \"plugin\": \"dlv\" }, \"watcher\": { \"plugin\": \"poll\", "
	        "\"interval_ms\": 20 } }",
	        NULL);
	ck_assert_int_eq(json_object_size(cfg.runner), 1);
	ck_assert_str_eq(jstr(cfg.watcher, "plugin"), "poll");
	config_free(&cfg);
	/* plain: "cmd" replaces the default "bin" */
	load_ok(&cfg, "{ \"runner\": { \"cmd\": \"exec ./x\" } }", NULL);
	ck_assert_str_eq(jstr(cfg.runner, "plugin"), "plain");
	ck_assert_str_eq(jstr(cfg.runner, "cmd"), "exec ./x");
	ck_assert_ptr_null(json_object_get(cfg.runner, "bin"));
	config_free(&cfg);
	load_ok(&cfg, "{ \"runner\": { \"bin\": \"./y\", \"cmd\": \"z\" } }", NULL);
	ck_assert_str_eq(jstr(cfg.runner, "bin"), "./y"); /* the plugin refuses both: its call */
	config_free(&cfg);
	/* plugin keys are not the core's business */
	load_ok(&cfg, "{ \"runner\": { \"kill_delay_ms\": \"fast\" } }", NULL);
	ck_assert_str_eq(jstr(cfg.runner, "kill_delay_ms"), "fast");
	config_free(&cfg);
}
END_TEST

/* ---- paths ---- */

START_TEST(test_paths)
{
	struct config cfg;
	char err[1024], want[PATH_MAX + 64];
	mkdirs("proj/conf");
	mkdirs("proj/src");
	write_file("proj/conf/gust.json",
	           "{ \"root\": \"../src\", \"tmp_dir\": \"../build/./out/\", \"plugin_path\": "
	           "[\"p\", \"/abs/q\"] }");
	ck_assert_int_eq(config_load(&cfg, "proj/conf/gust.json", NULL, err, sizeof err), 0);
	snprintf(want, sizeof want, "%s/proj/src", tdir);
	ck_assert_str_eq(cfg.root, want);
	snprintf(want, sizeof want, "%s/proj/build/out", tdir);
	ck_assert_str_eq(cfg.tmp_dir, want);
	snprintf(want, sizeof want, "%s/proj/src/p", tdir);
	ck_assert_str_eq(cfg.plugin_path[0], want);
	ck_assert_str_eq(cfg.plugin_path[1], "/abs/q");
	ck_assert_ptr_null(cfg.plugin_path[2]);
	config_free(&cfg);

	/* an absolute config path, and a symlinked root made canonical */
	char file[PATH_MAX + 64];
	snprintf(file, sizeof file, "%s/proj/conf/gust.json", tdir);
	ck_assert_int_eq(symlink("src", "proj/link"), 0);
	write_file(file, "{ \"root\": \"../link\" }");
	ck_assert_int_eq(config_load(&cfg, file, NULL, err, sizeof err), 0);
	snprintf(want, sizeof want, "%s/proj/src", tdir);
	ck_assert_str_eq(cfg.root, want);
	config_free(&cfg);

	/* defaults: the current directory */
	ck_assert_int_eq(chdir("proj/src"), 0);
	ck_assert_int_eq(config_load(&cfg, NULL, NULL, err, sizeof err), 0);
	ck_assert_str_eq(cfg.root, want);
	config_free(&cfg);
	ck_assert_int_eq(chdir(tdir), 0);

	write_file("gust.json", "{ \"root\": \"nope\" }");
	ck_assert_int_eq(config_load(&cfg, NULL, NULL, err, sizeof err), -EINVAL);
	snprintf(want, sizeof want, "gust.json: /root: \"%s/nope\": No such file or directory",
	         tdir);
	ck_assert_str_eq(err, want);
	config_free(&cfg);
	write_file("afile", "");
	write_file("gust.json", "{ \"root\": \"afile\" }");
	ck_assert_int_eq(config_load(&cfg, NULL, NULL, err, sizeof err), -EINVAL);
	snprintf(want, sizeof want, "gust.json: /root: \"%s/afile\": not a directory", tdir);
	ck_assert_str_eq(err, want);
	config_free(&cfg);
}
END_TEST

START_TEST(test_refuse_root_and_home)
{
	struct config cfg;
	char err[1024], want[PATH_MAX + 200];
	load_fails("{ \"root\": \"/\" }", NULL,
	           "gust.json: /root: refusing to watch \"/\" (the whole file system); "
	           "set watch.allow_any_root to true if you mean it");
	load_ok(&cfg, "{ \"root\": \"/\", \"watch\": { \"allow_any_root\": true } }", NULL);
	ck_assert_str_eq(cfg.root, "/");
	ck_assert_str_eq(cfg.tmp_dir, "/tmp");
	config_free(&cfg);

	mkdirs("home/me");
	snprintf(want, sizeof want, "%s/home/./me/", tdir); /* compared canonically */
	setenv("HOME", want, 1);
	ck_assert_int_eq(chdir("home/me"), 0);
	ck_assert_int_eq(config_load(&cfg, NULL, NULL, err, sizeof err), -EINVAL);
	snprintf(want, sizeof want,
	         "defaults: /root: refusing to watch \"%s/home/me\" (your home directory); "
	         "set watch.allow_any_root to true if you mean it",
	         tdir);
	ck_assert_str_eq(err, want);
	config_free(&cfg);
	const char *const sets[] = { "watch.allow_any_root=true", NULL };
	ck_assert_int_eq(config_load(&cfg, NULL, sets, err, sizeof err), 0);
	config_free(&cfg);
	/* a directory below $HOME is fine */
	mkdirs("proj");
	ck_assert_int_eq(chdir("proj"), 0);
	ck_assert_int_eq(config_load(&cfg, NULL, NULL, err, sizeof err), 0);
	config_free(&cfg);
}
END_TEST

/* ---- dump ---- */

START_TEST(test_dump_round_trip)
{
	struct config a, b;
	char err[1024];
	mkdirs("sub");
	const char *const sets[] = { "runner.args=[\"-v\"]", "watch.exclude_file=[\"**/*.gen.go\"]",
		                     "log.verbosity=1", "builder.env=[\"A=1\"]", NULL };
	load_ok(&a,
	        "{ \"tmp_dir\": \"out\", \"plugin_path\": [\"plugins\"], \"watch\": { "
	        "\"debounce_ms\": 77 },"
	        " \"runner\": { \"plugin\": \"dlv\", \"listen\": \"127.0.0.1:4000\", \"env\": { "
	        "\"Z\": \"1\", \"A\": 2 } } }",
	        sets);
	char *d1 = config_dump(&a);
	ck_assert_ptr_nonnull(d1);
	/* pretty, two-space indent, keys in the documented order */
	ck_assert_msg(strncmp(d1, "{\n  \"root\": ", 12) == 0, "dump starts: %.40s", d1);
	ck_assert(strstr(d1, "\"root\"") < strstr(d1, "\"watch\""));
	ck_assert(strstr(d1, "\"watch\"") < strstr(d1, "\"log\""));
	ck_assert(strstr(d1, "\"lifecycle\"") < strstr(d1, "\"watcher\""));
	ck_assert(strstr(d1, "\"builder\"") < strstr(d1, "\"runner\""));
	/* in a plugin section: "plugin" first, then sorted */
	const char *r = strstr(d1, "\"runner\": {\n    \"plugin\": \"dlv\",\n    \"args\"");
	ck_assert_msg(r != NULL, "%s", d1);
	write_file("sub/dumped.json", d1);
	ck_assert_int_eq(config_load(&b, "sub/dumped.json", NULL, err, sizeof err), 0);
	char *d2 = config_dump(&b);
	ck_assert_str_eq(d1, d2);
	ck_assert_str_eq(a.root, b.root);
	ck_assert_str_eq(a.tmp_dir, b.tmp_dir);
	ck_assert_str_eq(a.plugin_path[0], b.plugin_path[0]);
	ck_assert_uint_eq(b.watch.debounce_ms, 77);
	ck_assert_int_eq(b.log.verbosity, 1);
	ck_assert(json_equal(a.json, b.json));
	free(d1);
	free(d2);
	config_free(&a);
	config_free(&b);

	/* defaults round-trip too */
	load_ok(&a, NULL, NULL);
	d1 = config_dump(&a);
	write_file("d.json", d1);
	ck_assert_int_eq(config_load(&b, "d.json", NULL, err, sizeof err), 0);
	d2 = config_dump(&b);
	ck_assert_str_eq(d1, d2);
	free(d1);
	free(d2);
	config_free(&a);
	config_free(&b);
}
END_TEST

/* ---- init and presets ---- */

START_TEST(test_init_never_overwrites)
{
	char err[1024];
	ck_assert_int_eq(config_init_file("gust.json", "go", NULL, err, sizeof err), 0);
	char *text = strdup(read_file("gust.json"));
	ck_assert_ptr_nonnull(strstr(text, "\"$schema\": \"file://"));
	ck_assert_ptr_nonnull(strstr(text, "/gust.schema.json\""));
	ck_assert_ptr_nonnull(strstr(text, "go build"));
	ck_assert_int_eq(config_init_file("gust.json", "c-make", NULL, err, sizeof err), -EEXIST);
	ck_assert_str_eq(err, "init: \"gust.json\" already exists; not overwriting it");
	ck_assert_str_eq(read_file("gust.json"), text);
	free(text);
	/* not even through a dangling symlink */
	ck_assert_int_eq(symlink("elsewhere.json", "link.json"), 0);
	ck_assert_int_eq(config_init_file("link.json", "go", NULL, err, sizeof err), -EEXIST);
	ck_assert_int_eq(access("elsewhere.json", F_OK), -1);

	ck_assert_int_eq(config_init_file("x.json", "cobol", NULL, err, sizeof err), -EINVAL);
	ck_assert_str_eq(
	    err, "init: unknown preset \"cobol\" (known: go, go-dlv, c-make, c-cmake, meson, "
	         "rust-cargo, node, python)");
	ck_assert_int_eq(access("x.json", F_OK), -1);
	ck_assert_int_eq(config_init_file("no/such/dir/g.json", "go", NULL, err, sizeof err),
	                 -ENOENT);
	ck_assert_str_eq(err,
	                 "init: cannot create \"no/such/dir/g.json\": No such file or directory");
}
END_TEST

static const struct {
	const char *files[3];
	const char *want;
} detect[] = {
	{ { NULL }, NULL },
	{ { "go.mod", NULL }, "go" },
	{ { "go.mod", "Makefile", NULL }, "go" },
	{ { "Cargo.toml", "Makefile", NULL }, "rust-cargo" },
	{ { "package.json", "Makefile", NULL }, "node" },
	{ { "pyproject.toml", NULL }, "python" },
	{ { "requirements.txt", "Makefile", NULL }, "python" },
	{ { "app.py", NULL }, "python" },
	{ { "Makefile", NULL }, "c-make" },
	{ { "GNUmakefile", NULL }, "c-make" },
	{ { "README", ".hidden.py", NULL }, NULL },
	{ { "CMakeLists.txt", NULL }, "c-cmake" },
	{ { "CMakeLists.txt", "Makefile", NULL }, "c-make" },
	{ { "meson.build", "gen.py", NULL }, "meson" },
	{ { "configure", "tool.py", NULL }, "c-make" },
};

START_TEST(test_detect_preset)
{
	mkdirs("p");
	for (size_t i = 0; detect[_i].files[i]; i++) {
		char p[PATH_MAX];
		snprintf(p, sizeof p, "p/%s", detect[_i].files[i]);
		write_file(p, "");
	}
	const char *got = config_detect_preset("p");
	ck_assert_msg(detect[_i].want ? got && strcmp(got, detect[_i].want) == 0 : !got,
	              "got %s, want %s", got ? got : "NULL",
	              detect[_i].want ? detect[_i].want : "NULL");
	/* init without a preset uses the current directory's */
	ck_assert_int_eq(chdir("p"), 0);
	char err[1024];
	if (!detect[_i].want) {
		ck_assert_int_eq(config_init_file("gust.json", NULL, NULL, err, sizeof err),
		                 -ENOENT);
		ck_assert_str_eq(err, "init: no project recognised here (no go.mod, Cargo.toml, "
		                      "package.json, Python files, Makefile, CMakeLists.txt, "
		                      "meson.build or configure): name one with --preset");
		ck_assert_int_eq(access("gust.json", F_OK), -1);
		return;
	}
	ck_assert_int_eq(config_init_file("gust.json", NULL, NULL, err, sizeof err), 0);
	const char *text = read_file("gust.json");
	for (size_t i = 0; presets[i].name; i++)
		if (strcmp(presets[i].name, detect[_i].want) == 0)
			ck_assert_ptr_nonnull(strstr(text, presets[i].json + 2));
}
END_TEST

START_TEST(test_every_preset_loads)
{
	const char *const *names = config_presets();
	size_t n = 0;
	for (; names[n]; n++) {
		char file[64], err[1024];
		struct config cfg;
		snprintf(file, sizeof file, "%s.json", names[n]);
		ck_assert_int_eq(config_init_file(file, names[n], NULL, err, sizeof err), 0);
		int r = config_load(&cfg, file, NULL, err, sizeof err);
		ck_assert_msg(r == 0, "preset %s: %s", names[n], err);
		/* each names its plugins explicitly: what you see is what runs */
		json_t *user = json_load_file(file, 0, NULL);
		ck_assert_ptr_nonnull(user);
		const char *secs[] = { "builder", "runner" };
		for (size_t s = 0; s < 2; s++) {
			json_t *sec = json_object_get(user, secs[s]);
			ck_assert_msg(json_is_string(json_object_get(sec, "plugin")), "%s: %s",
			              names[n], secs[s]);
			ck_assert(json_equal(sec, json_object_get(cfg.json, secs[s])));
		}
		json_decref(user);
		/* and the text is the preset's, after "$schema" */
		char *dump = config_dump(&cfg);
		ck_assert_ptr_nonnull(dump);
		free(dump);
		config_free(&cfg);
	}
	ck_assert_uint_eq(n, 8);
	const char *want[] = { "go",         "go-dlv", "c-make", "c-cmake",
		               "rust-cargo", "node",   "python", "meson" };
	for (size_t i = 0; i < 8; i++) {
		bool found = false;
		for (size_t j = 0; names[j]; j++)
			found = found || strcmp(names[j], want[i]) == 0;
		ck_assert_msg(found, "preset %s missing", want[i]);
	}
}
END_TEST

/* --sockets: the runner of go, node and python gets the socket and the
 * file still loads; every other preset is refused with nothing written. */
START_TEST(test_init_sockets)
{
	const char *const *names = config_presets();
	struct starter_addr a = { "127.0.0.1", 8123 };
	for (size_t n = 0; names[n]; n++) {
		char file[64], err[1024];
		struct config cfg;
		bool has = strcmp(names[n], "go") == 0 || strcmp(names[n], "node") == 0 ||
		           strcmp(names[n], "python") == 0;
		snprintf(file, sizeof file, "s-%s.json", names[n]);
		int r = config_init_file(file, names[n], &(struct init_opts){ .sock = &a }, err,
		                         sizeof err);
		if (!has) {
			ck_assert_int_eq(r, -EINVAL);
			ck_assert_msg(strncmp(err, "init: --sockets: ", 17) == 0, "%s", err);
			ck_assert_ptr_nonnull(strstr(err, names[n]));
			ck_assert_int_eq(access(file, F_OK), -1);
			continue;
		}
		ck_assert_msg(r == 0, "%s: %s", names[n], err);
		ck_assert_msg(config_load(&cfg, file, NULL, err, sizeof err) == 0, "%s: %s",
		              names[n], err);
		json_t *want = json_pack("[s]", "tcp:127.0.0.1:8123");
		ck_assert(json_equal(json_object_get(cfg.runner, "sockets"), want));
		json_decref(want);
		config_free(&cfg);
	}
}
END_TEST

START_TEST(test_starter_addr)
{
	struct starter_addr a;
	char err[256];
	ck_assert_int_eq(starter_parse_addr("8080", &a, err, sizeof err), 0);
	ck_assert_str_eq(a.host, "127.0.0.1");
	ck_assert_uint_eq(a.port, 8080);
	ck_assert_int_eq(starter_parse_addr("0.0.0.0:65535", &a, err, sizeof err), 0);
	ck_assert_str_eq(a.host, "0.0.0.0");
	ck_assert_uint_eq(a.port, 65535);
	const char *bad[] = {
		"",         "0",          "65536",    ":80", "localhost:80",      "[::1]:80",
		"1.2.3.4:", "1.2.3.4:8x", "1.2.3:80", "-1",  "255.255.255.2555:1"
	};
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		ck_assert_msg(starter_parse_addr(bad[i], &a, err, sizeof err) == -EINVAL, "%s",
		              bad[i]);
		ck_assert_ptr_nonnull(strstr(err, "want PORT or IPV4:PORT"));
	}
}
END_TEST

/* --livereload: every preset gets the hook and the stylesheet rule and
 * still loads; the rule keeps out what the preset's watch keeps out, but
 * for "assets"; where the app listens goes into the hook when known. */
START_TEST(test_init_livereload)
{
	const char *const *names = config_presets();
	struct starter_addr app = { "127.0.0.1", 8080 };
	for (size_t n = 0; names[n]; n++) {
		char file[64], err[1024];
		struct config cfg;
		snprintf(file, sizeof file, "lr-%s.json", names[n]);
		struct init_opts o = { .proxy_port = 8090, .app = n % 2 ? &app : NULL };
		ck_assert_msg(config_init_file(file, names[n], &o, err, sizeof err) == 0, "%s: %s",
		              names[n], err);
		ck_assert_msg(config_load(&cfg, file, NULL, err, sizeof err) == 0, "%s: %s",
		              names[n], err);
		json_t *want =
		    n % 2 ? json_pack("[{s:s,s:i,s:i}]", "plugin", "livereload", "proxy_port", 8090,
		                      "app_port", 8080)
		          : json_pack("[{s:s,s:i}]", "plugin", "livereload", "proxy_port", 8090);
		ck_assert_msg(json_equal(cfg.hooks, want), "%s", names[n]);
		json_decref(want);
		ck_assert_uint_eq(cfg.nrules, 1);
		const struct rule_config *r = &cfg.rules[0];
		ck_assert_str_eq(r->name, "styles");
		ck_assert_int_eq(r->action, RULE_RELOAD);
		ck_assert_str_eq(r->match.include_ext[0], "css");
		ck_assert_ptr_null(r->match.include_ext[1]);
		ck_assert_ptr_nonnull(r->match.exclude_dir);
		size_t k = 0, w = 0;
		for (; r->match.exclude_dir[k]; k++)
			ck_assert_str_ne(r->match.exclude_dir[k], "assets");
		for (; cfg.watch.exclude_dir[w]; w++)
			;
		bool had_assets = strcmp(names[n], "go") == 0; /* the only one excluding it */
		ck_assert_msg(k + had_assets == w, "%s: %zu of %zu", names[n], k, w);
		config_free(&cfg);
	}
	/* with --sockets too, and an app address that is not loopback's */
	struct starter_addr sock = { "127.0.0.2", 9000 };
	struct init_opts o = { .sock = &sock, .proxy_port = 9001, .app = &sock };
	char err[1024];
	ck_assert_int_eq(config_init_file("both.json", "python", &o, err, sizeof err), 0);
	const char *text = read_file("both.json");
	ck_assert_ptr_nonnull(strstr(text, "\"sockets\": [\"tcp:127.0.0.2:9000\"]"));
	ck_assert_ptr_nonnull(strstr(text, "{ \"plugin\": \"livereload\", \"proxy_port\": 9001, "
	                                   "\"app_port\": 9000, \"app_address\": \"127.0.0.2\" }"));
	/* the wildcard is reached on loopback: the hook's default address */
	sock = (struct starter_addr){ "0.0.0.0", 9000 };
	ck_assert_int_eq(config_init_file("any.json", "node", &o, err, sizeof err), 0);
	ck_assert_ptr_nonnull(strstr(read_file("any.json"), "\"proxy_port\": 9001, "
	                                                    "\"app_port\": 9000 }"));
}
END_TEST

/* All of gust init --livereload: what it writes and says, by whether the
 * project has a program and whether the socket is handed over. */
START_TEST(test_config_init_livereload)
{
	char msg[2048], err[1024];
	ck_assert_int_eq(
	    config_init("gust.json", "go", NULL, 8090, msg, sizeof msg, err, sizeof err), 0);
	ck_assert_str_eq(msg, "wrote gust.json (preset go, livereload on port 8090)\n"
	                      "wrote main.go, go.mod and static/style.css: it serves "
	                      "http://127.0.0.1:8080/\n"
	                      "run gust, then open http://127.0.0.1:8090/: the live-reload proxy "
	                      "in front of the app on port 8080");
	ck_assert_ptr_nonnull(strstr(read_file("gust.json"), "\"app_port\": 8080 }"));
	ck_assert_ptr_nonnull(strstr(read_file("main.go"), "\"127.0.0.1:8080\""));
	ck_assert_ptr_nonnull(strstr(read_file("main.go"), "<link rel=\"stylesheet\" "
	                                                   "href=\"/static/style.css\">"));
	ck_assert_ptr_nonnull(strstr(read_file("static/style.css"), "h1 {"));

	/* the project's own program: kept; the hook finds the app by readiness */
	ck_assert_int_eq(
	    config_init("own.json", "go", NULL, 8090, msg, sizeof msg, err, sizeof err), 0);
	ck_assert_str_eq(msg, "wrote own.json (preset go, livereload on port 8090)\n"
	                      "kept your Go program\n"
	                      "run gust, then open http://127.0.0.1:8090/: the live-reload proxy "
	                      "in front of the first port the program listens on");
	ck_assert_ptr_nonnull(strstr(read_file("own.json"), "\"proxy_port\": 8090 }"));

	/* with --sockets the app is on the socket's port */
	mkdirs("s");
	ck_assert_int_eq(chdir("s"), 0);
	struct starter_addr a = { "127.0.0.1", 9000 };
	ck_assert_int_eq(
	    config_init("gust.json", "node", &a, 9001, msg, sizeof msg, err, sizeof err), 0);
	ck_assert_ptr_nonnull(strstr(msg, "wrote index.js and static/style.css: it serves "
	                                  "http://127.0.0.1:9000/ on the socket gust hands over"));
	ck_assert_ptr_nonnull(strstr(msg, "open http://127.0.0.1:9001/: the live-reload proxy in "
	                                  "front of the app on port 9000"));
	ck_assert_ptr_nonnull(strstr(read_file("gust.json"), "\"app_port\": 9000 }"));
	/* gust holds the socket: a run is ready when the starter answers */
	ck_assert_ptr_nonnull(
	    strstr(read_file("gust.json"), "\"ready\": {\"http\": \"http://127.0.0.1:9000/\"},"));
	/* not for a program of the project's own, which may not speak HTTP */
	ck_assert_int_eq(config_init("own.json", "node", &a, 0, msg, sizeof msg, err, sizeof err),
	                 0);
	ck_assert_ptr_null(strstr(read_file("own.json"), "\"ready\""));

	/* a proxy on the app's port: refused, nothing written */
	mkdirs("../c");
	ck_assert_int_eq(chdir("../c"), 0);
	ck_assert_int_eq(
	    config_init("gust.json", "python", NULL, 8080, msg, sizeof msg, err, sizeof err),
	    -EINVAL);
	ck_assert_str_eq(err, "init: --livereload=8080: that is the app's port (127.0.0.1:8080); "
	                      "the proxy needs one of its own");
	ck_assert_int_eq(access("gust.json", F_OK), -1);
	ck_assert_int_eq(access("main.py", F_OK), -1);
	ck_assert_int_eq(config_init("gust.json", "go", &a, 9000, msg, sizeof msg, err, sizeof err),
	                 -EINVAL);
	ck_assert_int_eq(access("gust.json", F_OK), -1);

	/* a preset without a starter: the hook alone */
	ck_assert_int_eq(
	    config_init("gust.json", "c-make", NULL, 8090, msg, sizeof msg, err, sizeof err), 0);
	ck_assert_str_eq(msg, "wrote gust.json (preset c-make, livereload on port 8090)\n"
	                      "run gust, then open http://127.0.0.1:8090/: the live-reload proxy "
	                      "in front of the first port the program listens on");
	ck_assert_int_eq(access("static", F_OK), -1);
}
END_TEST

START_TEST(test_proxy_port)
{
	unsigned p = 0;
	char err[256];
	ck_assert_int_eq(config_parse_proxy_port("8090", &p, err, sizeof err), 0);
	ck_assert_uint_eq(p, 8090);
	ck_assert_int_eq(config_parse_proxy_port("65535", &p, err, sizeof err), 0);
	ck_assert_uint_eq(p, 65535);
	const char *bad[] = { "",    "0",   "65536", "-1",         "+80",
		              " 80", "80 ", "8o",    "1.2.3.4:80", "99999999999999999999" };
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		ck_assert_msg(config_parse_proxy_port(bad[i], &p, err, sizeof err) == -EINVAL, "%s",
		              bad[i]);
		char want[128];
		snprintf(want, sizeof want,
		         "init: --livereload=\"%s\": want the proxy's port, 1 to 65535 (e.g. 8090)",
		         bad[i]);
		ck_assert_str_eq(err, want);
	}
}
END_TEST

/* ---- plugin options ---- */

static struct config opt_cfg;

static void opts_for_sets(struct gust_opts *o, const char *section_json, const char *const *sets)
{
	char err[1024];
	char text[4096];
	snprintf(text, sizeof text, "{ \"runner\": %s }", section_json);
	write_file("gust.json", text);
	ck_assert_msg(config_load(&opt_cfg, NULL, sets, err, sizeof err) == 0, "%s", err);
	o->obj = opt_cfg.runner;
	o->where = "gust.json";
	o->path = "/runner";
	o->cfg = &opt_cfg;
}

static void opts_for(struct gust_opts *o, const char *section_json)
{
	opts_for_sets(o, section_json, NULL);
}

/* A bad value given by --set is blamed on the --set, not the file. */
START_TEST(test_opt_origin)
{
	struct gust_opts o;
	char err[1024];
	long long i;
	const char *const *v;
	static const char *const known[] = { "a", NULL };
	const char *const sets[] = { "runner.kill_delay_ms=fast", "runner.env.X=1",
		                     "runner.args=[1]",           "runner.bogus=1",
		                     "watch.debounce_ms=3",       NULL };
	opts_for_sets(&o, "{ \"plugin\": \"x\", \"a\": \"s\" }", sets);
	ck_assert_int_eq(config_opt_int(&o, "kill_delay_ms", 1, 0, 10, &i, err, sizeof err),
	                 -EINVAL);
	ck_assert_str_eq(
	    err,
	    "gust.json: /runner/kill_delay_ms: expected integer between 0 and 10, got \"fast\" "
	    "(from --set runner.kill_delay_ms=fast)");
	ck_assert_int_eq(config_opt_strv(&o, "args", &v, NULL, err, sizeof err), -EINVAL);
	ck_assert_str_eq(
	    err,
	    "gust.json: /runner/args/0: expected a string, got 1 (from --set runner.args=[1])");
	ck_assert_int_eq(config_opt_int(&o, "env", 1, 0, 10, &i, err, sizeof err), -EINVAL);
	ck_assert_str_eq(err,
	                 "gust.json: /runner/env: expected integer between 0 and 10, got {\"X\":1} "
	                 "(from --set runner.env.X=1)");
	ck_assert_int_eq(config_opt_check_keys(&o, known, err, sizeof err), -EINVAL);
	ck_assert_str_eq(
	    err,
	    "gust.json: /runner/kill_delay_ms: unknown key (from --set runner.kill_delay_ms=fast)");
	/* a scalar set exactly at a string option is the text it was given as */
	const char *const sets2[] = { "runner.cmd=true", "runner.n=15", "runner.obj.x=1", NULL };
	config_free(&opt_cfg);
	opts_for_sets(&o, "{ \"plugin\": \"x\", \"a\": \"s\", \"f\": false }", sets2);
	const char *str;
	ck_assert_int_eq(config_opt_string(&o, "cmd", NULL, &str, err, sizeof err), 0);
	ck_assert_str_eq(str, "true");
	ck_assert_int_eq(config_opt_string(&o, "n", NULL, &str, err, sizeof err), 0);
	ck_assert_str_eq(str, "15");
	ck_assert_int_eq(config_opt_int(&o, "n", 0, 0, 100, &i, err, sizeof err), 0);
	ck_assert_int_eq(i, 15);
	ck_assert_int_eq(config_opt_string(&o, "obj", NULL, &str, err, sizeof err), -EINVAL);
	ck_assert_int_eq(config_opt_string(&o, "f", NULL, &str, err, sizeof err), -EINVAL);
	ck_assert_str_eq(err, "gust.json: /runner/f: expected a string, got false");
	/* the file's own value: no --set named */
	ck_assert_int_eq(config_opt_int(&o, "a", 1, 0, 10, &i, err, sizeof err), -EINVAL);
	ck_assert_str_eq(err, "gust.json: /runner/a: expected integer between 0 and 10, got \"s\"");
	config_free(&opt_cfg);
}
END_TEST

START_TEST(test_opt_accessors)
{
	struct gust_opts o;
	char err[1024];
	opts_for(&o, "{ \"plugin\": \"x\", \"s\": \"str\", \"i\": 5, \"b\": true, \"v\": [\"a\", "
	             "\"b\"], \"one\": \"solo\","
	             " \"bad\": \"fast\", \"big\": 700000, \"n\": null, \"mixed\": [\"a\", 1] }");
	const char *s;
	ck_assert_int_eq(config_opt_string(&o, "s", "d", &s, err, sizeof err), 0);
	ck_assert_str_eq(s, "str");
	ck_assert_int_eq(config_opt_string(&o, "absent", "d", &s, err, sizeof err), 0);
	ck_assert_str_eq(s, "d");
	ck_assert_int_eq(config_opt_string(&o, "i", "d", &s, err, sizeof err), -EINVAL);
	ck_assert_str_eq(err, "gust.json: /runner/i: expected a string, got 5");

	long long i;
	ck_assert_int_eq(config_opt_int(&o, "i", 1, 0, 10, &i, err, sizeof err), 0);
	ck_assert_int_eq(i, 5);
	ck_assert_int_eq(config_opt_int(&o, "absent", 42, 0, 10, &i, err, sizeof err), 0);
	ck_assert_int_eq(i, 42);
	ck_assert_int_eq(config_opt_int(&o, "bad", 1, 0, 600000, &i, err, sizeof err), -EINVAL);
	ck_assert_str_eq(
	    err, "gust.json: /runner/bad: expected integer between 0 and 600000, got \"fast\"");
	ck_assert_int_eq(config_opt_int(&o, "big", 1, 0, 600000, &i, err, sizeof err), -EINVAL);
	ck_assert_str_eq(
	    err, "gust.json: /runner/big: expected integer between 0 and 600000, got 700000");
	ck_assert_int_eq(config_opt_int(&o, "n", 1, 0, LLONG_MAX, &i, err, sizeof err), -EINVAL);
	ck_assert_str_eq(err, "gust.json: /runner/n: expected integer >= 0, got null");

	bool b;
	ck_assert_int_eq(config_opt_bool(&o, "b", false, &b, err, sizeof err), 0);
	ck_assert(b);
	ck_assert_int_eq(config_opt_bool(&o, "absent", true, &b, err, sizeof err), 0);
	ck_assert(b);
	ck_assert_int_eq(config_opt_bool(&o, "s", true, &b, err, sizeof err), -EINVAL);
	ck_assert_str_eq(err, "gust.json: /runner/s: expected true or false, got \"str\"");

	const char *const *v, *const *one, *const *none;
	size_t n;
	ck_assert_int_eq(config_opt_strv(&o, "v", &v, &n, err, sizeof err), 0);
	ck_assert_uint_eq(n, 2);
	ck_assert_str_eq(v[0], "a");
	ck_assert_str_eq(v[1], "b");
	ck_assert_ptr_null(v[2]);
	ck_assert_int_eq(config_opt_strv(&o, "one", &one, NULL, err, sizeof err), 0);
	ck_assert_str_eq(one[0], "solo");
	ck_assert_ptr_null(one[1]);
	ck_assert_int_eq(config_opt_strv(&o, "absent", &none, &n, err, sizeof err), 0);
	ck_assert_uint_eq(n, 0);
	ck_assert_ptr_null(none[0]);
	ck_assert_int_eq(config_opt_strv(&o, "mixed", &none, &n, err, sizeof err), -EINVAL);
	ck_assert_str_eq(err, "gust.json: /runner/mixed/1: expected a string, got 1");
	ck_assert_int_eq(config_opt_strv(&o, "i", &none, &n, err, sizeof err), -EINVAL);
	ck_assert_str_eq(err, "gust.json: /runner/i: expected an array of strings, got 5");
	/* earlier arrays stay valid while the config lives */
	ck_assert_str_eq(v[1], "b");
	ck_assert_str_eq(one[0], "solo");
	config_free(&opt_cfg);
}
END_TEST

START_TEST(test_opt_check_keys)
{
	struct gust_opts o;
	char err[1024];
	static const char *const known[] = { "bin", "args", "kill_delay_ms", NULL };
	opts_for(&o, "{ \"plugin\": \"x\", \"bin\": \"b\", \"args\": [] }");
	ck_assert_int_eq(config_opt_check_keys(&o, known, err, sizeof err), 0);
	config_free(&opt_cfg);
	opts_for(&o, "{ \"plugin\": \"x\", \"kill_delay\": 5 }");
	ck_assert_int_eq(config_opt_check_keys(&o, known, err, sizeof err), -EINVAL);
	ck_assert_str_eq(
	    err, "gust.json: /runner/kill_delay: unknown key (did you mean \"kill_delay_ms\"?)");
	config_free(&opt_cfg);
	opts_for(&o, "{ \"plugin\": \"x\", \"plugins\": 5 }");
	ck_assert_int_eq(config_opt_check_keys(&o, known, err, sizeof err), -EINVAL);
	ck_assert_str_eq(err, "gust.json: /runner/plugins: unknown key (did you mean \"plugin\"?)");
	config_free(&opt_cfg);
	opts_for(&o, "{ \"plugin\": \"x\", \"qqqqqqq\": 5 }");
	ck_assert_int_eq(config_opt_check_keys(&o, NULL, err, sizeof err), -EINVAL);
	ck_assert_str_eq(err, "gust.json: /runner/qqqqqqq: unknown key");
	config_free(&opt_cfg);
}
END_TEST

START_TEST(test_opt_env)
{
	struct gust_opts o;
	char err[1024];
	const char *const *env;
	size_t n;
	opts_for(&o, "{ \"plugin\": \"x\", \"env\": { \"A\": \"1\", \"B_2\": 3, \"C\": true, "
	             "\"D\": \"x=y\" } }");
	ck_assert_int_eq(config_opt_env(&o, "env", &env, &n, err, sizeof err), 0);
	ck_assert_uint_eq(n, 4);
	ck_assert_str_eq(env[0], "A=1");
	ck_assert_str_eq(env[1], "B_2=3");
	ck_assert_str_eq(env[2], "C=true");
	ck_assert_str_eq(env[3], "D=x=y");
	ck_assert_ptr_null(env[4]);
	ck_assert_int_eq(config_opt_env(&o, "absent", &env, &n, err, sizeof err), 0);
	ck_assert_uint_eq(n, 0);
	config_free(&opt_cfg);
	opts_for(&o, "{ \"plugin\": \"x\", \"env\": [\"A=1\", \"B=\"] }");
	ck_assert_int_eq(config_opt_env(&o, "env", &env, &n, err, sizeof err), 0);
	ck_assert_uint_eq(n, 2);
	ck_assert_str_eq(env[1], "B=");
	config_free(&opt_cfg);
	opts_for(&o, "{ \"plugin\": \"x\", \"env\": [\"A=1\", \"novalue\"] }");
	ck_assert_int_eq(config_opt_env(&o, "env", &env, &n, err, sizeof err), -EINVAL);
	ck_assert_str_eq(err, "gust.json: /runner/env/1: expected \"NAME=value\", got \"novalue\"");
	config_free(&opt_cfg);
	opts_for(&o, "{ \"plugin\": \"x\", \"env\": { \"A\": [1] } }");
	ck_assert_int_eq(config_opt_env(&o, "env", &env, &n, err, sizeof err), -EINVAL);
	ck_assert_str_eq(err,
	                 "gust.json: /runner/env/A: expected a string, number or boolean, got [1]");
	config_free(&opt_cfg);
	opts_for(&o, "{ \"plugin\": \"x\", \"env\": { \"BAD NAME\": \"1\" } }");
	ck_assert_int_eq(config_opt_env(&o, "env", &env, &n, err, sizeof err), -EINVAL);
	ck_assert_str_eq(
	    err,
	    "gust.json: /runner/env/BAD NAME: invalid variable name (letters, digits and _ only)");
	config_free(&opt_cfg);
	opts_for(&o, "{ \"plugin\": \"x\", \"env\": 5 }");
	ck_assert_int_eq(config_opt_env(&o, "env", &env, &n, err, sizeof err), -EINVAL);
	ck_assert_str_eq(
	    err, "gust.json: /runner/env: expected an object of \"NAME\": \"value\", got 5");
	config_free(&opt_cfg);
}
END_TEST

/* ---- signals ---- */

static const struct {
	const char *name;
	int sig;
} sigs[] = {
	{ "SIGHUP", SIGHUP },       { "SIGINT", SIGINT },   { "SIGQUIT", SIGQUIT },
	{ "SIGILL", SIGILL },       { "SIGTRAP", SIGTRAP }, { "SIGABRT", SIGABRT },
	{ "SIGBUS", SIGBUS },       { "SIGFPE", SIGFPE },   { "SIGKILL", SIGKILL },
	{ "SIGUSR1", SIGUSR1 },     { "SIGSEGV", SIGSEGV }, { "SIGUSR2", SIGUSR2 },
	{ "SIGPIPE", SIGPIPE },     { "SIGALRM", SIGALRM }, { "SIGTERM", SIGTERM },
#ifdef SIGSTKFLT
	{ "SIGSTKFLT", SIGSTKFLT },
#endif
	{ "SIGCHLD", SIGCHLD },     { "SIGCONT", SIGCONT }, { "SIGSTOP", SIGSTOP },
	{ "SIGTSTP", SIGTSTP },     { "SIGTTIN", SIGTTIN }, { "SIGTTOU", SIGTTOU },
	{ "SIGURG", SIGURG },       { "SIGXCPU", SIGXCPU }, { "SIGXFSZ", SIGXFSZ },
	{ "SIGVTALRM", SIGVTALRM }, { "SIGPROF", SIGPROF }, { "SIGWINCH", SIGWINCH },
	{ "SIGIO", SIGIO },
#ifdef SIGPWR
	{ "SIGPWR", SIGPWR },
#endif
	{ "SIGSYS", SIGSYS },
};

START_TEST(test_signal_names)
{
	const char *name = sigs[_i].name;
	int sig = sigs[_i].sig;
	char buf[32];
	ck_assert_int_eq(config_signal_from_name(name), sig);
	ck_assert_int_eq(config_signal_from_name(name + 3), sig);
	for (size_t i = 0; name[i]; i++)
		buf[i] = (char)(name[i] | 0x20), buf[i + 1] = '\0';
	ck_assert_int_eq(config_signal_from_name(buf), sig);     /* "sigterm" */
	ck_assert_int_eq(config_signal_from_name(buf + 3), sig); /* "term" */
	snprintf(buf, sizeof buf, "%d", sig);
	ck_assert_int_eq(config_signal_from_name(buf), sig);
	ck_assert_str_eq(config_signal_name(sig), name); /* round trip */
}
END_TEST

START_TEST(test_signal_misc)
{
	ck_assert_int_eq(config_signal_from_name("SIGPOLL"), SIGPOLL);
	ck_assert_int_eq(config_signal_from_name("iot"), SIGABRT);
	ck_assert_str_eq(config_signal_name(SIGABRT), "SIGABRT");
	ck_assert_int_eq(config_signal_from_name("SIGNOPE"), -1);
	ck_assert_int_eq(config_signal_from_name("SIG"), -1);
	ck_assert_int_eq(config_signal_from_name(""), -1);
	ck_assert_int_eq(config_signal_from_name(NULL), -1);
	ck_assert_int_eq(config_signal_from_name("0"), -1);
	ck_assert_int_eq(config_signal_from_name("15x"), -1);
	ck_assert_int_eq(config_signal_from_name("99999"), -1);
	/* real-time signals */
	ck_assert_int_eq(config_signal_from_name("SIGRTMIN"), SIGRTMIN);
	ck_assert_int_eq(config_signal_from_name("rtmin+1"), SIGRTMIN + 1);
	ck_assert_int_eq(config_signal_from_name("RTMAX"), SIGRTMAX);
	ck_assert_int_eq(config_signal_from_name("SIGRTMAX-2"), SIGRTMAX - 2);
	ck_assert_int_eq(config_signal_from_name("RTMIN-1"), -1);
	ck_assert_int_eq(config_signal_from_name("RTMIN+"), -1);
	ck_assert_int_eq(config_signal_from_name("RTMIN+999"), -1);
	ck_assert_int_eq(config_signal_from_name("RTMAXX"), -1);
	for (int s = SIGRTMIN; s <= SIGRTMAX; s++) {
		const char *n = config_signal_name(s);
		ck_assert_msg(n != NULL, "no name for %d", s);
		ck_assert_int_eq(config_signal_from_name(n), s);
	}
	ck_assert_str_eq(config_signal_name(SIGRTMIN + 1), "SIGRTMIN+1");
	ck_assert_str_eq(config_signal_name(SIGRTMAX), "SIGRTMAX");
	ck_assert_ptr_null(config_signal_name(0));
	ck_assert_ptr_null(config_signal_name(-3));

	struct gust_opts o;
	char err[1024];
	int sig;
	opts_for(&o,
	         "{ \"plugin\": \"x\", \"a\": \"SIGINT\", \"b\": \"term\", \"c\": \"15\", \"d\": 9,"
	         " \"e\": \"fast\", \"f\": 0, \"g\": true }");
	ck_assert_int_eq(config_opt_signal(&o, "a", 0, &sig, err, sizeof err), 0);
	ck_assert_int_eq(sig, SIGINT);
	ck_assert_int_eq(config_opt_signal(&o, "b", 0, &sig, err, sizeof err), 0);
	ck_assert_int_eq(sig, SIGTERM);
	ck_assert_int_eq(config_opt_signal(&o, "c", 0, &sig, err, sizeof err), 0);
	ck_assert_int_eq(sig, SIGTERM);
	ck_assert_int_eq(config_opt_signal(&o, "d", 0, &sig, err, sizeof err), 0);
	ck_assert_int_eq(sig, SIGKILL);
	ck_assert_int_eq(config_opt_signal(&o, "absent", SIGHUP, &sig, err, sizeof err), 0);
	ck_assert_int_eq(sig, SIGHUP);
	ck_assert_int_eq(config_opt_signal(&o, "e", 0, &sig, err, sizeof err), -EINVAL);
	ck_assert_str_eq(err, "gust.json: /runner/e: expected a signal name like \"SIGTERM\" or a "
	                      "number, got \"fast\"");
	ck_assert_int_eq(config_opt_signal(&o, "f", 0, &sig, err, sizeof err), -EINVAL);
	ck_assert_int_eq(config_opt_signal(&o, "g", 0, &sig, err, sizeof err), -EINVAL);
	config_free(&opt_cfg);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("conf");
	TCase *tc = tcase_create("conf");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_defaults);
	tcase_add_test(tc, test_file_values);
	tcase_add_loop_test(tc, test_semantic_errors, 0, (int)(sizeof semantic / sizeof *semantic));
	tcase_add_loop_test(tc, test_syntax_errors, 0, (int)(sizeof syntax / sizeof *syntax));
	tcase_add_test(tc, test_file_option);
	tcase_add_test(tc, test_load_text);
	tcase_add_loop_test(tc, test_regex_cost, 0, (int)(sizeof costs / sizeof *costs));
	tcase_add_test(tc, test_regex_bound);
	tcase_add_loop_test(tc, test_nearest, 0, (int)(sizeof nearest / sizeof *nearest));
	tcase_add_test(tc, test_set_values);
	tcase_add_loop_test(tc, test_set_errors, 0, (int)(sizeof set_errors / sizeof *set_errors));
	tcase_add_test(tc, test_plugin_sections);
	tcase_add_test(tc, test_paths);
	tcase_add_test(tc, test_refuse_root_and_home);
	tcase_add_test(tc, test_dump_round_trip);
	tcase_add_test(tc, test_init_never_overwrites);
	tcase_add_loop_test(tc, test_detect_preset, 0, (int)(sizeof detect / sizeof *detect));
	tcase_add_test(tc, test_every_preset_loads);
	tcase_add_test(tc, test_init_sockets);
	tcase_add_test(tc, test_starter_addr);
	tcase_add_test(tc, test_init_livereload);
	tcase_add_test(tc, test_config_init_livereload);
	tcase_add_test(tc, test_proxy_port);
	tcase_add_test(tc, test_opt_accessors);
	tcase_add_test(tc, test_opt_check_keys);
	tcase_add_test(tc, test_opt_origin);
	tcase_add_test(tc, test_opt_env);
	tcase_add_loop_test(tc, test_signal_names, 0, (int)(sizeof sigs / sizeof *sigs));
	tcase_add_test(tc, test_signal_misc);
	suite_add_tcase(s, tc);
	return unit_run(s);
}
