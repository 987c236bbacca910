/* test_ledger.c - exclude_unchanged's content hashes: what counts as
 * unchanged, and how builds that start, succeed, fail or are cancelled move
 * the baseline. */
#include "config.h"

#include <check.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "unit.h"

#include "ledger.h"

#include <errno.h>
#include <stdbool.h>

#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define UNDER_ASAN 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__)
#define UNDER_ASAN 1
#endif

#if defined(__GLIBC__) && !defined(UNDER_ASAN)
/* calloc() refused while refuse_calloc is set, glibc's own otherwise: the
 * ledger's allocations fail as they would out of memory. Not under
 * AddressSanitizer, whose allocator this would bypass. */
#define LEDGER_OOM_TEST 1
extern void *__libc_calloc(size_t n, size_t size);
static bool refuse_calloc;
void *calloc(size_t n, size_t size)
{
	if (refuse_calloc) {
		errno = ENOMEM;
		return NULL;
	}
	return __libc_calloc(n, size);
}
#endif


static char tmproot[PATH_MAX];

static void mkroot(void)
{
	unit_mkroot(tmproot, "ledger");
}

static void rmroot(void)
{
	unit_rmroot(tmproot);
}

static void write_file(const char *path, const char *data, size_t n)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, data, n), (ssize_t)n);
	close(fd);
}

/* A new tree and a ledger on it. */
static struct ledger *new_ledger(void)
{
	struct ledger *l;

	mkroot();
	l = ledger_new(tmproot);
	ck_assert_ptr_nonnull(l);
	return l;
}

/* A build of paths that starts and succeeds at once. */
static void built_now(struct ledger *f, const char *const *paths)
{
	ledger_stage(f, paths);
	ledger_commit(f, paths);
}

START_TEST(test_unchanged)
{
	struct ledger *f;
	char path[PATH_MAX], other[PATH_MAX];
	const char *one[] = { path, NULL };
	struct timespec ts[2] = { { 0, UTIME_NOW }, { 0, UTIME_NOW } };

	f = new_ledger();
	FMT(path, "%s/main.go", tmproot);
	FMT(other, "%s/never.go", tmproot);
	write_file(path, "hello\n", 6);

	/* never seen: no baseline, a change; the hash is recorded */
	ck_assert(!ledger_unchanged(f, path));
	/* touch: same content */
	ck_assert_int_eq(utimensat(AT_FDCWD, path, ts, 0), 0);
	ck_assert(ledger_unchanged(f, path));
	ck_assert(ledger_unchanged(f, "main.go")); /* root-relative works too */
	/* identical rewrite */
	write_file(path, "hello\n", 6);
	ck_assert(ledger_unchanged(f, path));
	/* truncate, then the identical content again: no loop */
	ck_assert_int_eq(truncate(path, 0), 0);
	ck_assert(!ledger_unchanged(f, path));
	write_file(path, "hello\n", 6);
	ck_assert(ledger_unchanged(f, path));
	/* a real change stays a change until committed */
	write_file(path, "hello!\n", 7);
	ck_assert(!ledger_unchanged(f, path));
	ck_assert(!ledger_unchanged(f, path));
	built_now(f, one);
	ck_assert(ledger_unchanged(f, path));
	/* missing: always a change; after a commit while missing, even the old
	 * content is a change */
	unlink(path);
	ck_assert(!ledger_unchanged(f, path));
	built_now(f, one);
	write_file(path, "hello!\n", 7);
	ck_assert(!ledger_unchanged(f, path));
	built_now(f, one);
	ck_assert(ledger_unchanged(f, path));
	ck_assert(!ledger_unchanged(f, other));
	ledger_free(f);

	/* off (no ledger): never "unchanged" */
	ck_assert(!ledger_unchanged(NULL, path));
	ck_assert(!ledger_unchanged(NULL, path));
	rmroot();
}
END_TEST

START_TEST(test_unchanged_large)
{
	struct ledger *f;
	char path[PATH_MAX];
	const char *one[] = { path, NULL };
	size_t n = 3 * 65536 + 13;
	char *buf = malloc(n);

	f = new_ledger();
	FMT(path, "%s/big.go", tmproot);
	for (size_t i = 0; i < n; i++)
		buf[i] = (char)(i * 7 + (i >> 9));
	write_file(path, buf, n);
	built_now(f, one);
	ck_assert(ledger_unchanged(f, path));
	buf[n - 1] ^= 1; /* the tail byte */
	write_file(path, buf, n);
	ck_assert(!ledger_unchanged(f, path));
	buf[n - 1] ^= 1;
	buf[70000] ^= 0x40; /* a byte in the second block */
	write_file(path, buf, n);
	ck_assert(!ledger_unchanged(f, path));
	buf[70000] ^= 0x40;
	write_file(path, buf, n);
	ck_assert(ledger_unchanged(f, path));
	ledger_free(f);
	free(buf);
	rmroot();
}
END_TEST

/* Sizes around the read buffer's (64 KiB): a short read ends the file
 * only once it has brought what fstat said; every byte still counts. */
START_TEST(test_unchanged_block_edges)
{
	static const size_t sizes[] = { 65535, 65536, 65537, 131072 };
	struct ledger *f = new_ledger();
	char path[PATH_MAX];
	const char *one[] = { path, NULL };
	char *buf = malloc(131072);

	for (size_t k = 0; k < sizeof sizes / sizeof sizes[0]; k++) {
		size_t n = sizes[k];
		FMT(path, "%s/edge%zu.go", tmproot, n);
		memset(buf, 'a' + (int)k, n);
		write_file(path, buf, n);
		built_now(f, one);
		ck_assert(ledger_as_built(f, path));
		buf[n - 1] = 'z';
		write_file(path, buf, n);
		ck_assert_msg(!ledger_as_built(f, path), "%zu bytes: the last byte's change", n);
		write_file(path, buf, n - 1); /* one byte shorter */
		ck_assert_msg(!ledger_as_built(f, path), "%zu bytes: cut by one", n);
	}
	ledger_free(f);
	free(buf);
	rmroot();
}
END_TEST

/* Hashing a file does not update its access time: gust reads each file of
 * a storm, and under relatime the first read after a write would be an
 * inode write (and a journal entry) per file. */
START_TEST(test_hash_keeps_atime)
{
	struct ledger *f = new_ledger();
	char path[PATH_MAX];
	const char *one[] = { path, NULL };
	struct timespec old[2] = { { 1000000000, 0 }, { 0, UTIME_OMIT } };
	struct stat st;

	FMT(path, "%s/main.go", tmproot);
	write_file(path, "hello\n", 6);
	/* atime older than mtime: relatime updates it at the next read */
	ck_assert_int_eq(utimensat(AT_FDCWD, path, old, 0), 0);
	built_now(f, one);
	ck_assert(ledger_as_built(f, path));
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert_int_eq(st.st_atim.tv_sec, 1000000000);
	ledger_free(f);
	rmroot();
}
END_TEST

/* The hashes a build commits are those from when it started: an edit made
 * while it runs is still a change after it (a bug: the hashes were taken
 * when the build ended, so such an edit was "unchanged" and never built). */
START_TEST(test_unchanged_during_build)
{
	struct ledger *f;
	char path[PATH_MAX];
	const char *one[] = { path, NULL };

	f = new_ledger();
	FMT(path, "%s/main.go", tmproot);

	/* edited while the build runs: still a change once it is done */
	write_file(path, "v1\n", 3);
	ck_assert(!ledger_unchanged(f, path));
	ledger_stage(f, one);
	write_file(path, "v2\n", 3);
	ledger_commit(f, one);
	ck_assert(!ledger_unchanged(f, path));
	ck_assert(!ledger_as_built(f, path));
	built_now(f, one);
	ck_assert(ledger_unchanged(f, path));

	/* while it runs, its own content is the baseline: a second identical
	 * save is no change, going back to the old content is one */
	write_file(path, "v3\n", 3);
	ck_assert(!ledger_unchanged(f, path));
	ledger_stage(f, one);
	write_file(path, "v3\n", 3);
	ck_assert(ledger_unchanged(f, path));
	ck_assert(ledger_as_built(f, path));
	write_file(path, "v2\n", 3);
	ck_assert(!ledger_unchanged(f, path));
	ck_assert(!ledger_as_built(f, path));

	/* the build failed: the last good build is the baseline again */
	ledger_unstage(f, one);
	ck_assert(ledger_unchanged(f, path));
	ck_assert(ledger_as_built(f, path));
	ledger_commit(f, one); /* nothing staged: nothing to commit */
	write_file(path, "v3\n", 3);
	ck_assert(!ledger_unchanged(f, path));

	/* a file first met by a build, and one missing when it starts */
	FMT(path, "%s/new.go", tmproot);
	write_file(path, "n\n", 2);
	ledger_stage(f, one);
	ck_assert(ledger_unchanged(f, path));
	ledger_commit(f, one);
	ck_assert(ledger_as_built(f, path));
	unlink(path);
	ledger_stage(f, one);
	write_file(path, "n\n", 2);
	ck_assert(!ledger_unchanged(f, path));
	ledger_commit(f, one);
	ck_assert(!ledger_unchanged(f, path));
	ck_assert(!ledger_as_built(f, path));
	/* events were lost (a rescan): nothing recorded is trusted, so the
	 * built content is a change once more (an undone edit whose event was
	 * lost was "unchanged"), then recorded as first seen */
	FMT(path, "%s/main.go", tmproot);
	built_now(f, one);
	ck_assert(ledger_unchanged(f, path));
	ledger_forget(f);
	ck_assert(!ledger_unchanged(f, path));
	ck_assert(!ledger_as_built(f, path));
	ck_assert(ledger_unchanged(f, path));

	/* never seen and missing when a build starts that fails: once it
	 * appears it is a first sighting as any other */
	FMT(path, "%s/late.go", tmproot);
	ledger_stage(f, one);
	ledger_unstage(f, one);
	write_file(path, "l\n", 2);
	ck_assert(!ledger_unchanged(f, path));
	ck_assert(ledger_unchanged(f, path));
	ledger_free(f);
	rmroot();
}
END_TEST

/* Gone and back: a file removed and put back with the built content is
 * no change; removed and built while missing, any content is one. */
START_TEST(test_removed)
{
	struct ledger *f;
	char path[PATH_MAX];
	const char *one[] = { path, NULL };

	f = new_ledger();
	FMT(path, "%s/gone.go", tmproot);
	write_file(path, "g\n", 2);
	built_now(f, one);
	ck_assert(ledger_unchanged(f, path));
	ck_assert_int_eq(unlink(path), 0);
	ck_assert(!ledger_unchanged(f, path));
	ck_assert(!ledger_as_built(f, path));
	write_file(path, "g\n", 2);
	ck_assert(ledger_unchanged(f, path));
	ck_assert(ledger_as_built(f, path));
	/* an empty file is content, not a missing one */
	write_file(path, "", 0);
	ck_assert(!ledger_unchanged(f, path));
	built_now(f, one);
	ck_assert(ledger_unchanged(f, path));
	ck_assert(ledger_as_built(f, path));
	ck_assert_int_eq(unlink(path), 0);
	ck_assert(!ledger_unchanged(f, path));
	ledger_free(f);
	rmroot();
}
END_TEST

/* A file replaced by a directory of the same name has no content: a change,
 * and a build of it records it as missing; the file coming back with its
 * old bytes is then a change too. A directory replaced by a file is a
 * file first seen. */
START_TEST(test_file_becomes_dir)
{
	struct ledger *f;
	char path[PATH_MAX];
	const char *one[] = { path, NULL };

	f = new_ledger();
	FMT(path, "%s/x.go", tmproot);
	write_file(path, "x\n", 2);
	built_now(f, one);
	ck_assert(ledger_unchanged(f, path));
	ck_assert_int_eq(unlink(path), 0);
	ck_assert_int_eq(mkdir(path, 0755), 0);
	ck_assert(!ledger_unchanged(f, path));
	ck_assert(!ledger_as_built(f, path));
	built_now(f, one);
	ck_assert(!ledger_unchanged(f, path));
	ck_assert_int_eq(rmdir(path), 0);
	write_file(path, "x\n", 2);
	ck_assert(!ledger_unchanged(f, path));
	ck_assert(!ledger_as_built(f, path));

	FMT(path, "%s/d", tmproot);
	ck_assert_int_eq(mkdir(path, 0755), 0);
	ck_assert(!ledger_unchanged(f, path));
	ck_assert(!ledger_unchanged(f, path));
	ck_assert_int_eq(rmdir(path), 0);
	write_file(path, "d\n", 2);
	ck_assert(!ledger_unchanged(f, path)); /* first seen */
	ck_assert(ledger_unchanged(f, path));
	ledger_free(f);
	rmroot();
}
END_TEST

/* The root moved away and another directory put at its path, with no
 * rescan between (the poll watcher sends none): the new root's files are
 * read, in a pass and outside one. */
START_TEST(test_root_replaced)
{
	struct ledger *f;
	char path[PATH_MAX], old[PATH_MAX + 8];
	const char *rel[] = { "main.go", NULL };

	f = new_ledger();
	FMT(path, "%s/main.go", tmproot);
	write_file(path, "one\n", 4);
	built_now(f, rel);
	ck_assert(ledger_as_built(f, "main.go"));
	FMT(old, "%s.old", tmproot);
	ck_assert_int_eq(rename(tmproot, old), 0);
	ck_assert_int_eq(mkdir(tmproot, 0755), 0);
	write_file(path, "two\n", 4);
	ledger_pass_begin(f);
	ck_assert(!ledger_as_built(f, "main.go"));
	ledger_pass_end(f);
	ck_assert(!ledger_as_built(f, "main.go"));
	built_now(f, rel); /* the new content is built... */
	ck_assert(ledger_as_built(f, "main.go"));
	write_file(path, "one\n", 4); /* ...and the old one is a change */
	ck_assert(!ledger_as_built(f, "main.go"));
	ledger_free(f);
	unit_rmroot(old);
	rmroot();
}
END_TEST

#ifdef LEDGER_OOM_TEST
/* Out of memory when a build is staged: the file must not keep the build
 * before's content as its baseline, or putting that content back while the
 * build runs, or after it succeeded, is taken for no change. At worst a
 * change too many. */
START_TEST(test_stage_out_of_memory)
{
	struct ledger *f;
	char path[PATH_MAX];
	const char *rel[] = { "main.go", NULL };

	f = new_ledger();
	FMT(path, "%s/main.go", tmproot);
	write_file(path, "X\n", 2);
	built_now(f, rel);
	write_file(path, "Y\n", 2);
	refuse_calloc = true;
	ledger_stage(f, rel); /* the build of Y starts; its staging is refused */
	refuse_calloc = false;
	write_file(path, "X\n", 2);
	ledger_pass_begin(f);
	ck_assert_msg(!ledger_as_built(f, "main.go"), "X taken for what the build of Y has");
	ledger_pass_end(f);
	ledger_commit(f, rel); /* the build of Y succeeds */
	ck_assert_msg(!ledger_as_built(f, "main.go"), "X taken for built after Y was");
	built_now(f, rel); /* the next good build records X again */
	ck_assert(ledger_as_built(f, "main.go"));
	ledger_free(f);
	rmroot();
}
END_TEST
#endif

/* Names: an absolute path and its root-relative form are one record; a
 * path outside the root, and the root itself, are never unchanged. */
START_TEST(test_names)
{
	struct ledger *f;
	char path[PATH_MAX];
	const char *rel[] = { "sub/n.go", NULL };

	f = new_ledger();
	ck_assert_int_eq(mkdir(strcat(strcpy(path, tmproot), "/sub"), 0755), 0);
	FMT(path, "%s/sub/n.go", tmproot);
	write_file(path, "n\n", 2);
	built_now(f, rel);
	ck_assert(ledger_unchanged(f, path));
	ck_assert(ledger_as_built(f, path));
	ck_assert(ledger_unchanged(f, "./sub/n.go"));
	ck_assert(!ledger_unchanged(f, "/nonexistent-gust-ledger/n.go"));
	ck_assert(!ledger_unchanged(f, tmproot));
	ck_assert(!ledger_unchanged(f, ""));
	ledger_free(f);
	rmroot();
}
END_TEST

/* Many files: each record keeps its own hash (the set grows past its
 * first size). */
START_TEST(test_many_files)
{
	struct ledger *f;
	char path[PATH_MAX], text[32];
	const char *one[] = { path, NULL };

	f = new_ledger();
	for (int i = 0; i < 300; i++) {
		FMT(path, "%s/f%d.go", tmproot, i);
		FMT(text, "%d\n", i);
		write_file(path, text, strlen(text));
		built_now(f, one);
	}
	for (int i = 0; i < 300; i++) {
		FMT(path, "%s/f%d.go", tmproot, i);
		ck_assert_msg(ledger_unchanged(f, path), "f%d.go", i);
		if (i % 3 == 0) {
			FMT(text, "%d\n", i + 1);
			write_file(path, text, strlen(text));
		}
	}
	for (int i = 0; i < 300; i++) {
		FMT(path, "%s/f%d.go", tmproot, i);
		ck_assert_msg(ledger_unchanged(f, path) == (i % 3 != 0), "f%d.go", i);
	}
	ledger_free(f);
	rmroot();
}
END_TEST

/* Within a pass the build records the content ledger_as_built() read: each
 * file is read once (a write between the two, impossible in one loop
 * callback, shows which read counted). Outside a pass, or in the next one,
 * the build reads the file itself. A file no build has seen is not read at
 * the window's end (there is nothing to compare with): its build reads it. */
START_TEST(test_pass_reads_once)
{
	struct ledger *f;
	char path[PATH_MAX], fresh[PATH_MAX];
	const char *one[] = { path, NULL }, *new_one[] = { fresh, NULL };

	f = new_ledger();
	FMT(path, "%s/main.go", tmproot);
	write_file(path, "a\n", 2);
	built_now(f, one);
	write_file(path, "b\n", 2);

	ledger_pass_begin(f);
	ck_assert(!ledger_as_built(f, path)); /* reads b */
	write_file(path, "c\n", 2);
	ledger_stage(f, one); /* records b, not c */
	ledger_pass_end(f);
	ledger_commit(f, one);
	write_file(path, "b\n", 2);
	ck_assert(ledger_as_built(f, path));

	/* a new pass reads again: what the last one read is not reused */
	ledger_pass_begin(f);
	ck_assert(ledger_as_built(f, path)); /* reads b */
	ledger_pass_end(f);
	write_file(path, "d\n", 2);
	ledger_pass_begin(f);
	ledger_stage(f, one); /* reads d */
	ledger_pass_end(f);
	ledger_commit(f, one);
	ck_assert(ledger_as_built(f, path));

	/* never built: as_built reads nothing, the build reads it */
	FMT(fresh, "%s/new.go", tmproot);
	write_file(fresh, "n1\n", 3);
	ledger_pass_begin(f);
	ck_assert(!ledger_as_built(f, fresh));
	write_file(fresh, "n2\n", 3);
	ledger_stage(f, new_one);
	ledger_pass_end(f);
	ledger_commit(f, new_one);
	ck_assert(ledger_as_built(f, fresh)); /* n2 was built */
	ledger_free(f);
	rmroot();
}
END_TEST

static Suite *ledger_suite(void)
{
	Suite *s = suite_create("ledger");
	TCase *tc = tcase_create("unchanged");

	tcase_add_test(tc, test_unchanged);
	tcase_add_test(tc, test_unchanged_large);
	tcase_add_test(tc, test_unchanged_block_edges);
#ifdef O_NOATIME
	tcase_add_test(tc, test_hash_keeps_atime);
#endif
	tcase_add_test(tc, test_unchanged_during_build);
	tcase_add_test(tc, test_removed);
	tcase_add_test(tc, test_file_becomes_dir);
	tcase_add_test(tc, test_root_replaced);
#ifdef LEDGER_OOM_TEST
	tcase_add_test(tc, test_stage_out_of_memory);
#endif
	tcase_add_test(tc, test_names);
	tcase_add_test(tc, test_many_files);
	tcase_add_test(tc, test_pass_reads_once);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return unit_run(ledger_suite());
}
