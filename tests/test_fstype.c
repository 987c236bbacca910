/* test_fstype.c - the statfs mapping behind the watcher "auto": every
 * network and virtual file system listed gets its name, a local one none. */
#include "config.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "fstype.h"
#include "unit.h"

START_TEST(test_remote)
{
	static const struct {
		unsigned long long magic;
		const char *name;
	} cases[] = {
		{ 0x6969, "nfs" },        { 0xFF534D42, "cifs" }, { 0xFE534D42, "smb2" },
		{ 0x517B, "smb" },        { 0x01021997, "9p" },   { 0x65735546, "fuse" },
		{ 0x786F4256, "vboxsf" },
	};
	for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
		const char *got = fstype_remote(cases[i].magic);
		ck_assert_msg(got && strcmp(got, cases[i].name) == 0, "0x%llx: got %s, want %s",
		              cases[i].magic, got ? got : "NULL", cases[i].name);
	}
}
END_TEST

START_TEST(test_local)
{
	/* ext4, xfs, btrfs, tmpfs, overlayfs, zfs, proc, 0 */
	static const unsigned long long local[] = { 0xEF53,     0x58465342, 0x9123683E, 0x01021994,
		                                    0x794C7630, 0x2FC12FC1, 0x9FA0,     0 };
	for (size_t i = 0; i < sizeof local / sizeof *local; i++)
		ck_assert_msg(fstype_remote(local[i]) == NULL, "0x%llx taken as remote", local[i]);
}
END_TEST

START_TEST(test_dir)
{
	/* the build tree is on a local file system here; a missing dir is
	 * "cannot tell", not remote */
	ck_assert_ptr_null(fstype_remote_dir("/nonexistent/gust/dir"));
	(void)fstype_remote_dir("."); /* any answer, no crash */
}
END_TEST

int main(void)
{
	Suite *s = suite_create("fstype");
	TCase *tc = tcase_create("statfs");
	tcase_add_test(tc, test_remote);
	tcase_add_test(tc, test_local);
	tcase_add_test(tc, test_dir);
	suite_add_tcase(s, tc);
	return unit_run(s);
}
