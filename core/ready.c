/* ready.c - the run's readiness: options, the run's tree, one probe per
 * run. */
#include "config.h"

#include "ready.h"
#include "ptree.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

int ready_init(struct ready *r, const json_t *runner, const char *where, char *err, size_t errlen)
{
	char why[512];
	memset(r, 0, sizeof *r);
	if (probe_spec_parse(&r->spec, json_object_get(runner, "ready"),
	                     json_object_get(runner, "ready_timeout_ms"), "runner", why,
	                     sizeof why) < 0) {
		snprintf(err, errlen, "%s: %s", where, why);
		return -EINVAL;
	}
	return 0;
}

void ready_fini(struct ready *r)
{
	ready_cancel(r);
	probe_spec_fini(&r->spec);
	r->tree = NULL;
}

void ready_tree_spawned(struct ready *r, struct gust_tree *tree, unsigned flags)
{
	r->tree = tree;
	r->skip_root = flags & GUST_SPAWN_READY_SKIP_ROOT;
}

void ready_tree_freed(struct ready *r, struct gust_tree *tree)
{
	if (r->tree == tree)
		r->tree = NULL;
}

/* The processes whose sockets count: the tree's, maybe without its root,
 * whose sockets then count in none of them (*skip). */
static size_t run_pids(void *arg, pid_t *out, size_t max, pid_t *skip)
{
	struct ready *r = arg;
	if (!r->tree)
		return 0;
	size_t n = ptree_members(r->tree, out, max);
	if (n > max)
		n = max;
	if (!r->skip_root)
		return n;
	pid_t root = ptree_pid(r->tree);
	*skip = root;
	size_t k = 0;
	for (size_t i = 0; i < n; i++)
		if (out[i] != root)
			out[k++] = out[i];
	return k;
}

int ready_start(struct ready *r, struct loop *loop, probe_done_fn done, void *arg)
{
	ready_cancel(r);
	struct probe_spec spec = r->spec;
	if (spec.kind == PROBE_LISTEN && !r->tree)
		spec.kind = PROBE_OFF;
	r->kind = spec.kind;
	r->probe = probe_start(loop, &spec, run_pids, r, done, arg);
	return r->probe ? 0 : -ENOMEM;
}

unsigned long ready_wakeups(const struct ready *r)
{
	return probe_wakeups(r->probe);
}

void ready_cancel(struct ready *r)
{
	probe_free(r->probe);
	r->probe = NULL;
}

void ready_line(struct ready *r, const char *line, size_t len)
{
	probe_line(r->probe, line, len);
}
