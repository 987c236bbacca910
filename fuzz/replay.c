/* replay.c - a fuzz target as a `make check` test, built by any compiler:
 * every file of fuzz/corpus/<target>/ and fuzz/regressions/<target>/ (an
 * input that once crashed or hung it) goes through the target's
 * LLVMFuzzerTestOneInput, each in a check of its own (Check forks one per
 * input, so a crash names its file). FUZZ_TARGET is the target's name. */
#include "config.h"

#include "fuzz.h"

#include <check.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static char **files;
static size_t nfiles;

static void add_dir(const char *srcdir, const char *kind)
{
	char dir[4096];
	snprintf(dir, sizeof dir, "%s/fuzz/%s/%s", srcdir, kind, FUZZ_TARGET);
	DIR *d = opendir(dir);
	if (!d)
		return; /* no regressions yet */
	for (struct dirent *e; (e = readdir(d));) {
		char path[8192];
		struct stat st;
		snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
		if (stat(path, &st) < 0 || !S_ISREG(st.st_mode))
			continue;
		char **n = realloc(files, (nfiles + 1) * sizeof *files);
		if (!n || !(n[nfiles] = strdup(path)))
			abort();
		files = n;
		nfiles++;
	}
	closedir(d);
}

START_TEST(test_input)
{
	const char *file = files[_i];
	FILE *f = fopen(file, "rb");
	ck_assert_msg(f != NULL, "cannot open %s", file);
	char *buf = NULL;
	size_t len = 0, cap = 0;
	for (;;) {
		if (len == cap) {
			cap = cap ? cap * 2 : 4096;
			buf = realloc(buf, cap);
			ck_assert_ptr_nonnull(buf);
		}
		size_t n = fread(buf + len, 1, cap - len, f);
		if (n == 0)
			break;
		len += n;
	}
	fclose(f);
	/* said first: a crash below ends the check without its message */
	fprintf(stderr, "replay: %s (%zu bytes)\n", file, len);
	LLVMFuzzerTestOneInput((const uint8_t *)buf, len);
	free(buf);
}
END_TEST

int main(void)
{
	const char *srcdir = getenv("GUST_SRCDIR");
	if (!srcdir)
		srcdir = ".";
	add_dir(srcdir, "corpus");
	add_dir(srcdir, "regressions");
	if (!nfiles) {
		fprintf(stderr, "replay %s: no inputs under %s/fuzz/corpus/%s\n", FUZZ_TARGET,
		        srcdir, FUZZ_TARGET);
		return 1;
	}
	Suite *s = suite_create("fuzz-" FUZZ_TARGET);
	TCase *tc = tcase_create("replay");
	tcase_add_loop_test(tc, test_input, 0, (int)nfiles);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	for (size_t i = 0; i < nfiles; i++)
		free(files[i]);
	free(files);
	return failed ? 1 : 0;
}
