/* gitignore.c - fuzz target "gitignore": the .gitignore parser and matcher
 * through the filter (core/filter.c), as gust uses them.
 *
 * Input: sections cut at lines "---":
 *   0  the root's .gitignore
 *   1  paths to judge, one a line, root-relative; a trailing "/" makes a
 *      directory (empty: a fixed list)
 *   2  sub/.gitignore
 *   3  .git/info/exclude
 * The root is a repository top (it holds .git); HOME is an empty directory,
 * so no global excludes file of the machine's user is read. Each path is
 * judged as given and, unless absolute, also with the root in front: both
 * must agree. */
#include "config.h"

#include "conf.h"
#include "filter.h"
#include "fuzz.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define MAX_PATHS 64

static const char *const fixed[] = {
	"a",     "a/",         "sub/",      "sub/x.go",       "sub/deep/er/f.c", "build/",
	"x.log", "doc/a.html", ".env",      "node_modules/",  "sub/build/out",   "a/b/c/d",
	"tmp/x", "foo/bar/",   "foo/bar.c", "sub/deep/x.log",
};

static char root[PATH_MAX];

static void setup(void)
{
	char home[PATH_MAX], p[PATH_MAX];
	fuzz_path(root, sizeof root, "root");
	fuzz_path(home, sizeof home, "home");
	mkdir(root, 0755);
	mkdir(home, 0755);
	fuzz_path(p, sizeof p, "root/.git");
	mkdir(p, 0755);
	fuzz_path(p, sizeof p, "root/.git/info");
	mkdir(p, 0755);
	fuzz_path(p, sizeof p, "root/sub");
	mkdir(p, 0755);
	setenv("HOME", home, 1);
	unsetenv("XDG_CONFIG_HOME");
}

static void judge(struct filter *f, char *path)
{
	char abs[PATH_MAX * 2];
	size_t len = strlen(path);
	bool dir = len && path[len - 1] == '/';
	if (dir)
		path[--len] = '\0';
	bool rel = filter_ignored(f, path, dir);
	if (path[0] == '/')
		return; /* absolute already: no root-relative twin */
	snprintf(abs, sizeof abs, "%s/%s", root, path);
	if (strlen(abs) < PATH_MAX && filter_ignored(f, abs, dir) != rel) {
		fprintf(stderr, "fuzz: \"%s\" and \"%s\" judged differently\n", path, abs);
		abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!root[0])
		setup();
	char *text = fuzz_text(data, size);
	char *sec[4], p[PATH_MAX];
	fuzz_sections(text, sec, 4);
	fuzz_write("root/.gitignore", sec[0], strlen(sec[0]), p, sizeof p);
	fuzz_write("root/sub/.gitignore", sec[2], strlen(sec[2]), p, sizeof p);
	fuzz_write("root/.git/info/exclude", sec[3], strlen(sec[3]), p, sizeof p);

	char tmp[PATH_MAX + 8];
	snprintf(tmp, sizeof tmp, "%s/tmp", root);
	struct config cfg = { .root = root, .tmp_dir = tmp };
	cfg.watch.gitignore = true;
	char err[512];
	struct filter *f = filter_new(&cfg, err, sizeof err);
	if (!f) {
		fprintf(stderr, "fuzz: filter_new: %s\n", err);
		abort();
	}
	size_t n = 0;
	for (char *save = NULL, *line = strtok_r(sec[1], "\n", &save); line && n < MAX_PATHS;
	     line = strtok_r(NULL, "\n", &save), n++)
		judge(f, line);
	for (size_t i = 0; !n && i < sizeof fixed / sizeof *fixed; i++) {
		char buf[64];
		snprintf(buf, sizeof buf, "%s", fixed[i]);
		judge(f, buf);
	}
	filter_free(f);
	free(text);
	return 0;
}
