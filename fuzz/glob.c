/* glob.c - fuzz target "glob": the globs of exclude_dir, exclude_file,
 * include_file and include_dir (core/filter.c), through the filter.
 *
 * Input: sections cut at lines "---":
 *   0  patterns, one a line (at most 8)
 *   1  paths to judge, one a line, root-relative; a trailing "/" makes a
 *      directory (empty: a fixed list)
 * The patterns go to three filters: one excluding them (exclude_dir and
 * exclude_file), one with them as include_file, one as include_dir; every
 * path is judged by each. No .gitignore is read. */
#include "config.h"

#include "conf.h"
#include "filter.h"
#include "fuzz.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_PATTERNS 8
#define MAX_PATHS 64

static const char *const fixed[] = {
	"a",
	"a/",
	"a/b",
	"a/b/c.go",
	"src/main.c",
	"src/",
	"x.tar.gz",
	".hidden/",
	".hidden/x",
	"web/build/",
	"web/build/a.js",
	"[a]",
	"a*b",
	"deep/er/and/deeper/still/file.txt",
};

static void judge(struct filter *f, char *path)
{
	size_t len = strlen(path);
	bool dir = len && path[len - 1] == '/';
	if (dir)
		path[--len] = '\0';
	(void)filter_ignored(f, path, dir);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = fuzz_text(data, size);
	char *sec[2];
	fuzz_sections(text, sec, 2);
	char *pats[MAX_PATTERNS + 1] = { 0 };
	size_t np = 0;
	for (char *save = NULL, *line = strtok_r(sec[0], "\n", &save); line && np < MAX_PATTERNS;
	     line = strtok_r(NULL, "\n", &save))
		pats[np++] = line;
	char *paths[MAX_PATHS];
	size_t n = 0;
	for (char *save = NULL, *line = strtok_r(sec[1], "\n", &save); line && n < MAX_PATHS;
	     line = strtok_r(NULL, "\n", &save))
		paths[n++] = line;

	char root[PATH_MAX], tmp[PATH_MAX];
	fuzz_path(root, sizeof root, "root");
	fuzz_path(tmp, sizeof tmp, "root/tmp");
	struct config cfg[3] = { { .root = root, .tmp_dir = tmp },
		                 { .root = root, .tmp_dir = tmp },
		                 { .root = root, .tmp_dir = tmp } };
	cfg[0].watch.exclude_dir = pats;
	cfg[0].watch.exclude_file = pats;
	cfg[1].watch.include_file = pats;
	cfg[2].watch.include_dir = pats;
	for (size_t c = 0; c < 3; c++) {
		char err[512];
		struct filter *f = filter_new(&cfg[c], err, sizeof err);
		if (!f) {
			fprintf(stderr, "fuzz: filter_new: %s\n", err);
			abort();
		}
		for (size_t i = 0; i < n; i++) {
			char buf[PATH_MAX];
			snprintf(buf, sizeof buf, "%s", paths[i]);
			judge(f, buf);
		}
		for (size_t i = 0; !n && i < sizeof fixed / sizeof *fixed; i++) {
			char buf[64];
			snprintf(buf, sizeof buf, "%s", fixed[i]);
			judge(f, buf);
		}
		filter_free(f);
	}
	free(text);
	return 0;
}
