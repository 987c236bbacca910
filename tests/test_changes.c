/* test_changes.c - the pending set and its debounce, on the real loop: a
 * burst becomes one build, the cap fires under a steady stream, a change
 * made during a build is kept for the next one. Every wait runs the loop
 * until a condition holds or a deadline passes. */
#include "config.h"

#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "unit.h"

#include "changes.h"
#include "loop.h"

#define MAX_FIRES 16
#define DEADLINE_MS 10000u

struct rig {
	struct loop *loop;
	struct changes *c;
	bool take; /* ready() takes the paths, as a build does */
	int fired; /* ready() calls */
	uint64_t fired_ms[MAX_FIRES];
	char **taken[MAX_FIRES]; /* what each call took */
	size_t ntaken[MAX_FIRES];
	/* a stream of changes: one every every_ms, left more of them */
	unsigned every_ms;
	int left;
	int sent;
	uint64_t first_ms, last_ms; /* when the stream's first and last came */
	bool stop_on_fire;          /* the stream ends at the first ready() */
	int per;                    /* changes per tick (0: 1) */
	bool distinct;              /* each change to a path not seen before */
};

static void on_ready(void *arg)
{
	struct rig *r = arg;
	ck_assert_int_lt(r->fired, MAX_FIRES);
	r->fired_ms[r->fired] = loop_now_ms();
	if (r->take)
		r->taken[r->fired] = changes_take(r->c, &r->ntaken[r->fired]);
	r->fired++;
}

static void rig_init(struct rig *r, unsigned debounce_ms, unsigned max_ms)
{
	memset(r, 0, sizeof *r);
	r->loop = loop_new();
	ck_assert_ptr_nonnull(r->loop);
	r->c = changes_new(r->loop, debounce_ms, max_ms, on_ready, r);
	ck_assert_ptr_nonnull(r->c);
	r->take = true;
}

static void rig_fini(struct rig *r)
{
	for (int i = 0; i < r->fired; i++) {
		for (size_t k = 0; r->taken[i] && k < r->ntaken[i]; k++)
			free(r->taken[i][k]);
		free(r->taken[i]);
	}
	changes_free(r->c);
	loop_free(r->loop);
}

/* What the app does at a watcher event: note the path, restart the window. */
static void change(struct rig *r, const char *path)
{
	uint64_t now = loop_now_ms();
	if (!r->sent++)
		r->first_ms = now;
	r->last_ms = now;
	changes_arm(r->c, changes_add(r->c, path));
}

static void on_stream(void *arg)
{
	struct rig *r = arg;
	char path[32];

	if (r->left <= 0 || (r->stop_on_fire && r->fired))
		return;
	for (int i = 0; i < (r->per ? r->per : 1); i++) {
		snprintf(path, sizeof path, "src/f%d.go", r->distinct ? r->sent : r->sent % 10);
		change(r, path);
	}
	if (--r->left > 0)
		ck_assert(loop_timer_add(r->loop, r->every_ms, on_stream, r) != 0);
}

static void stream(struct rig *r, unsigned every_ms, int n)
{
	r->every_ms = every_ms;
	r->left = n;
	on_stream(r);
}

/* Run the loop until ready() was called n times; false at the deadline. */
static bool run_until_fired(struct rig *r, int n)
{
	uint64_t until = loop_now_ms() + DEADLINE_MS;
	while (r->fired < n && loop_now_ms() < until)
		ck_assert_int_eq(loop_once(r->loop, 10), 0);
	return r->fired >= n;
}

/* Run the loop for ms: what must not happen in that time. */
static void run_for(struct rig *r, unsigned ms)
{
	uint64_t until = loop_now_ms() + ms;
	while (loop_now_ms() < until)
		ck_assert_int_eq(loop_once(r->loop, 10), 0);
}

static bool listed(char **list, size_t n, const char *path)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(list[i], path) == 0)
			return true;
	return false;
}

/* 40 changes to 10 files, 5 ms apart, with a 500 ms quiet window: one
 * build, 500 ms after the last change, of the 10 files in arrival order. */
START_TEST(test_burst_is_one_build)
{
	struct rig r;

	rig_init(&r, 500, 0);
	stream(&r, 5, 40);
	ck_assert_msg(run_until_fired(&r, 1), "no build within %u ms", DEADLINE_MS);
	ck_assert_int_eq(r.sent, 40);
	ck_assert_uint_ge(r.fired_ms[0] - r.last_ms, 500 - 1);
	run_for(&r, 2 * 500);
	ck_assert_int_eq(r.fired, 1);
	ck_assert_ptr_nonnull(r.taken[0]);
	ck_assert_uint_eq(r.ntaken[0], 10);
	for (int i = 0; i < 10; i++) {
		char path[32];
		snprintf(path, sizeof path, "src/f%d.go", i);
		ck_assert_str_eq(r.taken[0][i], path);
	}
	ck_assert_ptr_null(r.taken[0][10]);
	ck_assert_uint_eq(changes_count(r.c), 0);
	rig_fini(&r);
}
END_TEST

/* A change every 10 ms with a 10 s quiet window never goes quiet: only
 * the 150 ms cap builds, and it builds again while the stream goes on. */
START_TEST(test_cap_fires_under_stream)
{
	struct rig r;

	rig_init(&r, 10000, 150);
	stream(&r, 10, 100000);
	ck_assert_msg(run_until_fired(&r, 2), "the cap did not fire twice within %u ms",
	              DEADLINE_MS);
	ck_assert_int_gt(r.left, 0); /* the stream still flowed */
	ck_assert_uint_ge(r.fired_ms[0] - r.first_ms, 150 - 1);
	ck_assert_uint_lt(r.fired_ms[0] - r.first_ms, 10000);
	ck_assert_uint_lt(r.fired_ms[1] - r.fired_ms[0], 10000);
	ck_assert_uint_gt(r.ntaken[0], 0);
	ck_assert_uint_gt(r.ntaken[1], 0);
	r.left = 0;
	rig_fini(&r);
}
END_TEST

/* A 100 ms quiet window and a 100 ms cap; ticks times, 20 ms apart, 10
 * paths not seen before; runs until the window closed once. */
static void new_paths_until_fired(struct rig *r, int ticks)
{
	rig_init(r, 100, 100);
	r->per = 10;
	r->distinct = true;
	stream(r, 20, ticks);
	ck_assert_msg(run_until_fired(r, 1), "no build within %u ms", DEADLINE_MS);
}

/* A burst of new paths that lasts past the cap (10 every 20 ms for 300 ms,
 * the cap 100 ms) is one build once it ends: the cap moves on while new
 * paths keep coming, up to 5 times the cap (500 ms). */
START_TEST(test_cap_moves_for_new_paths)
{
	struct rig r;

	new_paths_until_fired(&r, 15);
	ck_assert_int_eq(r.left, 0);                    /* not before the burst ended */
	ck_assert_uint_gt(r.last_ms - r.first_ms, 100); /* the burst outlasted the cap */
	ck_assert_uint_ge(r.fired_ms[0] - r.last_ms, 100 - 1);
	run_for(&r, 2 * 100);
	ck_assert_int_eq(r.fired, 1);
	ck_assert_uint_eq(r.ntaken[0], 150);
	rig_fini(&r);
}
END_TEST

/* ... but not for ever: a burst of new paths still builds at 5 times the
 * cap after its first change. */
START_TEST(test_cap_moves_up_to_a_bound)
{
	struct rig r;

	new_paths_until_fired(&r, 100000);
	ck_assert_int_gt(r.left, 0); /* the burst still flowed */
	ck_assert_uint_ge(r.fired_ms[0] - r.first_ms, 5 * 100 - 1);
	ck_assert_uint_lt(r.fired_ms[0] - r.first_ms, DEADLINE_MS);
	r.left = 0;
	rig_fini(&r);
}
END_TEST

/* Without a cap the stream builds only once it stops. */
START_TEST(test_no_cap_waits_for_quiet)
{
	struct rig r;

	rig_init(&r, 100, 0);
	r.stop_on_fire = true;
	stream(&r, 10, 30);
	ck_assert(run_until_fired(&r, 1));
	/* the window closes only 100 ms after a change, so a build before the
	 * stream ended needs a 100 ms gap in it (a loaded machine): then the
	 * quiet window was real, and it is still measured from the last one */
	ck_assert_uint_ge(r.fired_ms[0] - r.last_ms, 100 - 1);
	rig_fini(&r);
}
END_TEST

/* A change while the build of the first window runs (the paths were
 * taken) waits for a window of its own; a build's paths given back (a
 * cancelled build) open no window by themselves. */
START_TEST(test_change_during_build_is_kept)
{
	struct rig r;

	rig_init(&r, 50, 1000);
	change(&r, "a.go");
	ck_assert(run_until_fired(&r, 1));
	ck_assert_uint_eq(r.ntaken[0], 1);
	ck_assert_str_eq(r.taken[0][0], "a.go");

	/* the build runs: b.go changes, then a.go again */
	change(&r, "b.go");
	change(&r, "a.go");
	ck_assert(changes_pending(r.c, "b.go"));
	ck_assert(changes_pending(r.c, "a.go"));
	ck_assert(run_until_fired(&r, 2));
	ck_assert_uint_eq(r.ntaken[1], 2);
	ck_assert_str_eq(r.taken[1][0], "b.go");
	ck_assert_str_eq(r.taken[1][1], "a.go");

	/* given back without a change: kept, but no build of their own */
	changes_add(r.c, "b.go");
	changes_add(r.c, "a.go");
	run_for(&r, 3 * 50);
	ck_assert_int_eq(r.fired, 2);
	ck_assert_uint_eq(changes_count(r.c), 2);
	/* the next change builds them with it */
	change(&r, "c.go");
	ck_assert(run_until_fired(&r, 3));
	ck_assert_uint_eq(r.ntaken[2], 3);
	ck_assert(listed(r.taken[2], 3, "a.go") && listed(r.taken[2], 3, "b.go") &&
	          listed(r.taken[2], 3, "c.go"));
	rig_fini(&r);
}
END_TEST

static bool drop_go(const char *path, void *arg)
{
	(void)arg;
	return strstr(path, ".go") != NULL;
}

/* ready() may leave paths pending or drop some (content back to what was
 * built); disarm closes the window without a build. */
START_TEST(test_drop_and_disarm)
{
	struct rig r;

	rig_init(&r, 30, 0);
	r.take = false;
	change(&r, "x.go");
	change(&r, "notes.md");
	change(&r, "y.go");
	change(&r, "x.go");
	ck_assert_uint_eq(changes_count(r.c), 3);
	ck_assert(run_until_fired(&r, 1));
	ck_assert_uint_eq(changes_drop_if(r.c, drop_go, NULL), 2);
	ck_assert_uint_eq(changes_count(r.c), 1);
	ck_assert(!changes_pending(r.c, "x.go"));
	ck_assert(changes_pending(r.c, "notes.md"));
	/* a dropped path can come back */
	change(&r, "x.go");
	ck_assert(changes_pending(r.c, "x.go"));
	changes_disarm(r.c);
	run_for(&r, 3 * 30);
	ck_assert_int_eq(r.fired, 1);
	{
		size_t n = 0;
		char **l = changes_take(r.c, &n);
		ck_assert_ptr_nonnull(l);
		ck_assert_uint_eq(n, 2);
		ck_assert_str_eq(l[0], "notes.md");
		ck_assert_str_eq(l[1], "x.go");
		ck_assert_ptr_null(l[2]);
		free(l[0]);
		free(l[1]);
		free(l);
	}
	/* taking an empty set gives an empty list, not NULL */
	{
		size_t n = 7;
		char **l = changes_take(r.c, &n);
		ck_assert_ptr_nonnull(l);
		ck_assert_uint_eq(n, 0);
		ck_assert_ptr_null(l[0]);
		free(l);
	}
	rig_fini(&r);
}
END_TEST

/* ---- the adaptive window (watch.debounce_ms not set) ---- */

/* A scripted sequence of changes: each step comes after_ms after the one
 * before it (on the loop's timers, so a descheduled test still sees them
 * in order) and changes path, or count distinct files gen/N.go at once. */
struct step {
	unsigned after_ms;
	const char *path;
	int count;
};

struct script {
	struct rig *r;
	const struct step *steps;
	size_t n, next;
};

static void on_step(void *arg)
{
	struct script *s = arg;
	const struct step *st = &s->steps[s->next++];
	char path[32];

	if (st->path)
		change(s->r, st->path);
	for (int i = 0; i < st->count; i++) {
		snprintf(path, sizeof path, "gen/%d.go", s->r->sent);
		change(s->r, path);
	}
	if (s->next < s->n)
		ck_assert(loop_timer_add(s->r->loop, s->steps[s->next].after_ms, on_step, s) != 0);
}

static void play(struct script *s, struct rig *r, const struct step *steps, size_t n)
{
	*s = (struct script){ .r = r, .steps = steps, .n = n };
	ck_assert(loop_timer_add(r->loop, steps[0].after_ms, on_step, s) != 0);
}

/* A lone save waits the short window only, and that window is real: the
 * build comes no sooner than 10 ms after the change. */
START_TEST(test_adaptive_lone_change)
{
	struct rig r;

	rig_init(&r, CHANGES_ADAPTIVE, 2000);
	change(&r, "main.go");
	ck_assert_uint_ge(changes_window_ms(r.c), 10);
	ck_assert_uint_le(changes_window_ms(r.c), 12);
	ck_assert(run_until_fired(&r, 1));
	ck_assert_uint_ge(r.fired_ms[0] - r.last_ms, 10 - 1);
	ck_assert_uint_eq(r.ntaken[0], 1);
	rig_fini(&r);
}
END_TEST

/* A generator writes 2,000 files, stalls for 120 ms (I/O, or descheduled
 * on a loaded machine: far longer than a lone save's window), then writes
 * 2,000 more: one build of all 4,000. */
START_TEST(test_adaptive_storm_with_stall)
{
	static const struct step steps[] = { { 0, NULL, 2000 }, { 120, NULL, 2000 } };
	struct script s;
	struct rig r;

	rig_init(&r, CHANGES_ADAPTIVE, 0);
	play(&s, &r, steps, 2);
	ck_assert(run_until_fired(&r, 1));
	ck_assert_int_eq(r.sent, 4000);
	ck_assert_uint_eq(r.ntaken[0], 4000);
	ck_assert_uint_ge(r.fired_ms[0] - r.last_ms, 200 - 1);
	run_for(&r, 400);
	ck_assert_int_eq(r.fired, 1);
	rig_fini(&r);
}
END_TEST

/* Editors' safe writes, as inotify reports them for the watched file,
 * with an fsync of 6 ms between the write and its close: one build each.
 * vim: rename to main.go~ (main.go moved away), create, write, fsync,
 * close, chmod. JetBrains: write main.go___jb_tmp___ (filtered out, no
 * change), rename main.go to main.go___jb_old___, rename the temporary
 * over main.go, chmod. */
START_TEST(test_adaptive_safe_writes)
{
	static const struct step vim[] = {
		{ 0, "main.go", 0 }, { 1, "main.go", 0 }, { 0, "main.go", 0 },
		{ 6, "main.go", 0 }, { 1, "main.go", 0 },
	};
	static const struct step jetbrains[] = {
		{ 0, "main.go", 0 },
		{ 2, "main.go", 0 },
		{ 1, "main.go", 0 },
	};
	struct script s;
	struct rig r;

	rig_init(&r, CHANGES_ADAPTIVE, 2000);
	play(&s, &r, vim, sizeof vim / sizeof *vim);
	ck_assert(run_until_fired(&r, 1));
	ck_assert_uint_eq(s.next, s.n);
	run_for(&r, 100);
	ck_assert_int_eq(r.fired, 1);
	play(&s, &r, jetbrains, sizeof jetbrains / sizeof *jetbrains);
	ck_assert(run_until_fired(&r, 2));
	ck_assert_uint_eq(s.next, s.n);
	run_for(&r, 100);
	ck_assert_int_eq(r.fired, 2);
	rig_fini(&r);
}
END_TEST

/* The window follows the rate: a storm heats it to 200 ms (and paces the
 * watcher's reads), and it cools back to the short one (and reads at once)
 * when changes become rare again. */
START_TEST(test_adaptive_cools_down)
{
	static const struct step steps[] = { { 0, NULL, 1000 }, { 600, "main.go", 0 } };
	struct script s;
	struct rig r;

	rig_init(&r, CHANGES_ADAPTIVE, 0);
	play(&s, &r, steps, 1);
	ck_assert(run_until_fired(&r, 1));
	ck_assert_uint_eq(changes_window_ms(r.c), 200);
	/* the watcher read in batches, a tenth of the window apart */
	ck_assert_uint_eq(changes_pace_ms(r.c), 20);
	play(&s, &r, steps + 1, 1);
	ck_assert(run_until_fired(&r, 2));
	ck_assert_uint_le(changes_window_ms(r.c), 12);
	ck_assert_uint_eq(changes_pace_ms(r.c), 0);
	rig_fini(&r);
}
END_TEST

/* A value set for debounce_ms is the fixed window, whatever the rate; a
 * storm is still read in batches. */
START_TEST(test_fixed_window_ignores_rate)
{
	static const struct step steps[] = { { 0, NULL, 1000 } };
	struct script s;
	struct rig r;

	rig_init(&r, 30, 0);
	play(&s, &r, steps, 1);
	ck_assert(run_until_fired(&r, 1));
	ck_assert_uint_eq(changes_window_ms(r.c), 30);
	ck_assert_uint_eq(changes_pace_ms(r.c),
	                  5); /* a storm all the same: 30 ms / 10, at least 5 */
	rig_fini(&r);
}
END_TEST

static Suite *changes_suite(void)
{
	Suite *s = suite_create("changes");
	TCase *tc = tcase_create("debounce");

	tcase_add_test(tc, test_burst_is_one_build);
	tcase_add_test(tc, test_cap_fires_under_stream);
	tcase_add_test(tc, test_cap_moves_for_new_paths);
	tcase_add_test(tc, test_cap_moves_up_to_a_bound);
	tcase_add_test(tc, test_no_cap_waits_for_quiet);
	tcase_add_test(tc, test_change_during_build_is_kept);
	tcase_add_test(tc, test_drop_and_disarm);
	tcase_add_test(tc, test_adaptive_lone_change);
	tcase_add_test(tc, test_adaptive_storm_with_stall);
	tcase_add_test(tc, test_adaptive_safe_writes);
	tcase_add_test(tc, test_adaptive_cools_down);
	tcase_add_test(tc, test_fixed_window_ignores_rate);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return unit_run(changes_suite());
}
