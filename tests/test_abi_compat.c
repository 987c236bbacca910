/* Plugins built against ABI 1.0 load in a core whose header has grown:
 * this test compiles core/loader.c against tests/grown/gust/plugin.h, the
 * current header with a member appended to every vtable and to the
 * descriptor (tests/grow-abi.awk), and loads the abi10-* fixtures, built
 * against the frozen 1.0 header. A loader that compared a plugin's sizes
 * with its own sizeof would refuse them. */
#include "config.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "unit.h"

#include "loader.h"

/* the header really is the grown one */
_Static_assert(sizeof(struct gust_watcher_ops) > GUST_WATCHER_OPS_SIZE_1_0, "grown");
_Static_assert(sizeof(struct gust_builder_ops) > GUST_BUILDER_OPS_SIZE_1_0, "grown");
_Static_assert(sizeof(struct gust_runner_ops) > GUST_RUNNER_OPS_SIZE_1_0, "grown");
_Static_assert(sizeof(struct gust_plugin_desc) > GUST_PLUGIN_DESC_SIZE_1_0, "grown");

static const struct {
	const char *fixture;
	enum gust_kind kind;
	size_t size_1_0;
} plugins_1_0[] = {
	{ "abi10-watcher", GUST_KIND_WATCHER, GUST_WATCHER_OPS_SIZE_1_0 },
	{ "abi10-builder", GUST_KIND_BUILDER, GUST_BUILDER_OPS_SIZE_1_0 },
	{ "abi10-runner", GUST_KIND_RUNNER, GUST_RUNNER_OPS_SIZE_1_0 },
};

START_TEST(test_1_0_plugin_loads)
{
	const char *dir = getenv("GUST_FIXTURES");
	ck_assert_msg(dir && *dir, "GUST_FIXTURES is set by make check");
	char file[4096], err[2048] = "";
	snprintf(file, sizeof file, "%s/%s.so", dir, plugins_1_0[_i].fixture);
	struct plugin p;
	int r = plugin_open_file(&p, file, plugins_1_0[_i].kind, err, sizeof err);
	ck_assert_msg(r == 0, "%s", err);
	ck_assert_uint_eq(GUST_ABI_MINOR_OF(p.desc->abi_version), 0);
	ck_assert_uint_eq(p.desc->size, GUST_PLUGIN_DESC_SIZE_1_0);
	ck_assert(!GUST_HAS(p.desc, grown_in_1_x));
	/* every vtable starts with its size; the member appended is not there */
	ck_assert_uint_eq(*(const size_t *)p.desc->ops, plugins_1_0[_i].size_1_0);
	switch (p.desc->kind) {
	case GUST_KIND_WATCHER: {
		const struct gust_watcher_ops *ops = p.desc->ops;
		ck_assert(GUST_HAS(ops, destroy) && !GUST_HAS(ops, grown_in_1_x));
		break;
	}
	case GUST_KIND_BUILDER: {
		const struct gust_builder_ops *ops = p.desc->ops;
		ck_assert(GUST_HAS(ops, destroy) && !GUST_HAS(ops, grown_in_1_x));
		break;
	}
	case GUST_KIND_RUNNER: {
		const struct gust_runner_ops *ops = p.desc->ops;
		ck_assert(GUST_HAS(ops, destroy) && !GUST_HAS(ops, grown_in_1_x));
		break;
	}
	}
	plugin_unload(&p);
}
END_TEST

static void grown_op(void *self)
{
	(void)self;
}

START_TEST(test_has_appended_op)
{
	struct gust_runner_ops ops;
	memset(&ops, 0, sizeof ops);
	ops.size = sizeof ops;
	ck_assert(!GUST_HAS(&ops, grown_in_1_x)); /* declared, NULL */
	ops.grown_in_1_x = grown_op;
	ck_assert(GUST_HAS(&ops, grown_in_1_x));
	ops.size = GUST_RUNNER_OPS_SIZE_1_0; /* a 1.0 plugin: not declared */
	ck_assert(!GUST_HAS(&ops, grown_in_1_x));
}
END_TEST

int main(void)
{
	Suite *s = suite_create("abi_compat");
	TCase *tc = tcase_create("compat");
	tcase_add_loop_test(tc, test_1_0_plugin_loads, 0,
	                    (int)(sizeof plugins_1_0 / sizeof *plugins_1_0));
	tcase_add_test(tc, test_has_appended_op);
	suite_add_tcase(s, tc);
	return unit_run(s);
}
