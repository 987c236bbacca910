/* ready.h - the run's readiness, for every runner: the "ready" and
 * "ready_timeout_ms" options of the runner section (owned by the core, not
 * by the runner plugin), the run's process tree (the latest tree the
 * runner spawned, without its root when the runner says the root is a
 * tool in front of the program: GUST_SPAWN_READY_SKIP_ROOT), and the probe
 * (probe.h) started for each run. */
#ifndef GUST_READY_H
#define GUST_READY_H

#include <gust/plugin.h>
#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "probe.h"

struct loop;

/* The keys of the runner section that belong to the core. */
#define READY_RUNNER_KEYS "ready", "ready_timeout_ms"

struct ready {
	struct probe_spec spec;
	struct probe *probe;    /* while a run's readiness is being checked */
	struct gust_tree *tree; /* the run's tree, borrowed from the runner */
	bool skip_root;         /* ... whose root is not the program */
	enum probe_kind kind;   /* the check of the current run: spec's, or
	                           PROBE_OFF when "listen" has no tree to look
	                           at (the runner spawned none) */
};

/* Read the options from the runner section. 0, or -EINVAL with
 * "<where>: runner.ready...: why" in err. */
int ready_init(struct ready *r, const json_t *runner, const char *where, char *err, size_t errlen);
void ready_fini(struct ready *r);

/* The runner spawned tree (flags: its spawn flags); the tree is gone. */
void ready_tree_spawned(struct ready *r, struct gust_tree *tree, unsigned flags);
void ready_tree_freed(struct ready *r, struct gust_tree *tree);

/* The runner is about to start a run: the tree of the run before is no
 * longer the run's. */
static inline void ready_run_starting(struct ready *r)
{
	r->tree = NULL;
}
/* Begin checking the run that just started; done is called once from the
 * loop (the probe is freed right after it returns). -ENOMEM. */
int ready_start(struct ready *r, struct loop *loop, probe_done_fn done, void *arg);
/* The loop's wakeups the current check has cost so far. */
unsigned long ready_wakeups(const struct ready *r);
/* Stop checking, without a callback. */
void ready_cancel(struct ready *r);
static inline bool ready_pending(const struct ready *r)
{
	return r->probe != NULL;
}
/* The run's output lines are wanted ("log" readiness). */
static inline bool ready_wants_output(const struct ready *r)
{
	return r->spec.kind == PROBE_LOG;
}
/* A line of the run's output. */
void ready_line(struct ready *r, const char *line, size_t len);

#endif
