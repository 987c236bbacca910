/* ABI 1.0 pinned: the layout and constants of include/gust/plugin.h as of
 * 1.0 are compile-time assertions (fixtures/abi-1.0/layout.h, also checked
 * against the frozen 1.0 header by the abi10-* fixtures), the GUST_*_SIZE_1_0
 * constants match them, and GUST_HAS() reads a member only when the size
 * declared covers it. */
#include "config.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "unit.h"

#include "fixtures/abi-1.0/layout.h"
#include "host.h"

#if defined(__x86_64__) && defined(__linux__) && !defined(__ILP32__)
ABI_EQ(GUST_SPAWN_SIZE_1_0, 48);
ABI_EQ(GUST_TREE_EVENTS_SIZE_1_0, 24);
ABI_EQ(GUST_HOST_SIZE_1_0, 240);
ABI_EQ(GUST_WATCHER_OPS_SIZE_1_0, 32);
ABI_EQ(GUST_BUILD_REQ_SIZE_1_0, 24);
ABI_EQ(GUST_BUILDER_OPS_SIZE_1_0, 40);
ABI_EQ(GUST_RUNNER_OPS_SIZE_1_0, 40);
ABI_EQ(GUST_PLUGIN_DESC_SIZE_1_0, 40);
#endif
/* Each GUST_SPAWN_* flag is a bit of its own: the sum of them all equals
 * their union only when no two share a bit. */
#define SPAWN_FLAG_SUM                                                                             \
	(GUST_SPAWN_FOREGROUND + GUST_SPAWN_NO_PATH + GUST_SPAWN_CGROUP + GUST_SPAWN_PIDNS +       \
	 GUST_SPAWN_CONTAIN_TRY + GUST_SPAWN_READY_SKIP_ROOT + GUST_SPAWN_LISTEN_PID)
#define SPAWN_FLAG_UNION                                                                           \
	(GUST_SPAWN_FOREGROUND | GUST_SPAWN_NO_PATH | GUST_SPAWN_CGROUP | GUST_SPAWN_PIDNS |       \
	 GUST_SPAWN_CONTAIN_TRY | GUST_SPAWN_READY_SKIP_ROOT | GUST_SPAWN_LISTEN_PID)
ABI_EQ(SPAWN_FLAG_SUM, SPAWN_FLAG_UNION);
ABI_EQ(GUST_SPAWN_READY_SKIP_ROOT, 32u);
ABI_EQ(GUST_SPAWN_LISTEN_PID, 64u);
/* 1.x only appends: the current structs are at least 1.0's */
ABI_EQ(sizeof(struct gust_host) >= GUST_HOST_SIZE_1_0, 1);
ABI_EQ(sizeof(struct gust_plugin_desc) >= GUST_PLUGIN_DESC_SIZE_1_0, 1);
ABI_EQ(sizeof(struct gust_runner_ops) >= GUST_RUNNER_OPS_SIZE_1_0, 1);

START_TEST(test_core_host_table)
{
	ck_assert_uint_eq(app_host.size, sizeof(struct gust_host));
	ck_assert_uint_eq(app_host.abi_version, GUST_ABI_VERSION);
	ck_assert(GUST_HAS(&app_host, log));
	ck_assert(GUST_HAS(&app_host, opt_env));
	ck_assert(GUST_HAS(&app_host, tree_pids)); /* 1.1 */
}
END_TEST

START_TEST(test_has_reads_only_what_the_size_declares)
{
	struct gust_host h;
	memcpy(&h, &app_host, sizeof h);
	ck_assert(GUST_HAS(&h, opt_env));
	/* a host table of a core that ends before opt_env */
	h.size = offsetof(struct gust_host, opt_env);
	ck_assert(!GUST_HAS(&h, opt_env));
	ck_assert(GUST_HAS(&h, tree_free));
	h.size = offsetof(struct gust_host, opt_env) + sizeof h.opt_env - 1;
	ck_assert(!GUST_HAS(&h, opt_env));
	/* declared, but NULL */
	h.size = sizeof h;
	h.opt_env = NULL;
	ck_assert(!GUST_HAS(&h, opt_env));

	struct gust_runner_ops ops = { GUST_RUNNER_OPS_SIZE_1_0, NULL, NULL, NULL, NULL };
	ck_assert(!GUST_HAS(&ops, destroy));
	ops.destroy = free;
	ck_assert(GUST_HAS(&ops, destroy));
	ops.size = GUST_RUNNER_OPS_SIZE_1_0 - sizeof ops.destroy;
	ck_assert(!GUST_HAS(&ops, destroy));
}
END_TEST

int main(void)
{
	Suite *s = suite_create("abi");
	TCase *tc = tcase_create("abi");
	tcase_add_test(tc, test_core_host_table);
	tcase_add_test(tc, test_has_reads_only_what_the_size_declares);
	suite_add_tcase(s, tc);
	return unit_run(s);
}
