/* dispatch.c - what a batch of changes asks for. When the debounce window
 * closes, paths whose content is what the last good build had are dropped
 * (exclude_unchanged, the ledger), and each path left gets what the rules
 * and the watch section say: a build, a restart or a reload of the program,
 * a "run" rule's command. The state machine (app.c) then acts on it. */
#include "config.h"

#include "app-internal.h"
#include "changes.h"
#include "cycle.h"
#include "dispatch.h"
#include "filter.h"
#include "ledger.h"
#include "loop.h"
#include "rules.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void on_changes_ready(void *arg);

struct changes *app_changes_new(struct app *app, const struct config *cfg)
{
	unsigned quiet =
	    cfg->watch.debounce_ms == DEBOUNCE_ADAPTIVE ? CHANGES_ADAPTIVE : cfg->watch.debounce_ms;
	return changes_new(app->loop, quiet, cfg->watch.debounce_max_ms, on_changes_ready, app);
}

static const char *relpath(const struct app *app, const char *path)
{
	size_t rl = strlen(app->cfg->root);
	if (strncmp(path, app->cfg->root, rl) == 0 && path[rl] == '/')
		return path + rl + 1;
	return path;
}

/* The paths of a window put back to what the last good build had. */
struct back {
	struct app *app;
	char first[256]; /* the first of them that a failed build had */
	size_t n;        /* how many a failed build had */
};

/* Take path off the failed builds' list; false when it was not on it. */
static bool drop_unbuilt(struct app *app, const char *path)
{
	for (size_t i = 0; i < app->nunbuilt; i++)
		if (strcmp(app->unbuilt[i], path) == 0) {
			free(app->unbuilt[i]);
			app->unbuilt[i] = app->unbuilt[--app->nunbuilt];
			app->unbuilt[app->nunbuilt] = NULL;
			return true;
		}
	return false;
}

static bool as_built(const char *path, void *arg)
{
	struct back *back = arg;
	if (!ledger_as_built(back->app->ledger, path))
		return false;
	log_msg(GUST_LOG_DEBUG, STAGE_WATCH, "%s: content unchanged, ignored", path);
	if (drop_unbuilt(back->app, path) && back->n++ == 0)
		snprintf(back->first, sizeof back->first, "%s", path);
	return true;
}


/* True when a rule with an action on the program (not "run") matches path;
 * *act: the strongest such action, *rule: the first rule that has it. */
static bool program_rule(struct app *app, const char *path, enum rule_action *act,
                         const char **rule)
{
	bool any = false;
	for (size_t i = 0; i < app->cfg->nrules; i++) {
		const struct rule_config *rc = &app->cfg->rules[i];
		if (rc->action == RULE_RUN || !rules_match(app->rules, i, path))
			continue;
		if (!any || rc->action > *act) {
			*act = rc->action;
			*rule = rc->name;
		}
		any = true;
	}
	return any;
}

/* A list that grows by one path (borrowed) at a time; false: no memory. */
static bool push(char ***v, size_t *n, char *path)
{
	char **nv = realloc(*v, (*n + 2) * sizeof *nv);
	if (!nv)
		return false;
	nv[(*n)++] = path;
	nv[*n] = NULL;
	*v = nv;
	return true;
}

/* The program's answer to a burst without a build: restart, or tell the
 * hooks (reload). paths: those of the winning action. */
static void restart_or_reload(struct app *app, enum rule_action act, const char *rule, char **paths,
                              size_t n)
{
	char what[300];
	cycle_what_changed(what, sizeof what, paths, n);
	/* acted on: the next save of the same content is no change */
	ledger_stage(app->ledger, (const char *const *)paths);
	ledger_commit(app->ledger, (const char *const *)paths);
	if (act == RULE_RELOAD) {
		log_msg(GUST_LOG_INFO, STAGE_HOOK, "rule \"%s\": %s: reload, %zu hook%s told", rule,
		        what, app->hooks.n, app->hooks.n == 1 ? "" : "s");
		app_emit(app, GUST_EVENT_RELOAD, 0, 0, paths, NULL, rule);
		return;
	}
	if (!app->built_ok) {
		log_msg(GUST_LOG_INFO, STAGE_RUN,
		        "rule \"%s\": %s: nothing to restart, no build has succeeded yet", rule,
		        what);
		return;
	}
	snprintf(app->cycle, sizeof app->cycle, "rule \"%.60s\": %.180s", rule, what);
	app->restart_rule = rule;
	app_restart_now(app);
}

/* The window closed (or a build is wanted now: force): what each path asks
 * for. A path that rules with an action on the program match gets the
 * strongest of their actions; one that none matches is built when the
 * watch section keeps it. The strongest action of the burst wins for the
 * program; every "run" rule that matches a path runs its command. */
void dispatch_changes(struct app *app, bool force)
{
	size_t n, nr = app->cfg->nrules, nb = 0, na = 0;
	char **paths = changes_take(app->changes, &n), **build = NULL, **acted = NULL;
	char ***runs = nr ? calloc(nr, sizeof *runs) : NULL;
	size_t *nruns = nr ? calloc(nr, sizeof *nruns) : NULL;
	enum rule_action best = RULE_RUN; /* none yet */
	const char *best_rule = NULL;
	if (!paths || (nr && (!runs || !nruns)))
		goto out;
	app->build_rule = NULL;
	for (size_t i = 0; i < n; i++) {
		enum rule_action act = RULE_BUILD;
		const char *rule = NULL;
		bool ruled = program_rule(app, paths[i], &act, &rule);
		for (size_t k = 0; k < nr; k++)
			if (app->cfg->rules[k].action == RULE_RUN &&
			    rules_match(app->rules, k, paths[i]))
				(void)push(&runs[k], &nruns[k], paths[i]);
		if (!ruled && filter_ignored(app->filter, paths[i], false))
			continue; /* only a "run" rule's */
		if (act == RULE_BUILD) {
			(void)push(&build, &nb, paths[i]);
			if (rule && !app->build_rule)
				app->build_rule = rule;
		}
		if (best == RULE_RUN || act > best) {
			best = act;
			best_rule = rule;
			na = 0;
		}
		if (act == best)
			(void)push(&acted, &na, paths[i]);
	}
	if (best == RULE_BUILD || force) {
		for (size_t i = 0; i < nb; i++)
			changes_add(app->changes, build[i]);
		app_start_build(app);
	} else if (best != RULE_RUN && na) {
		restart_or_reload(app, best, best_rule, acted, na);
	}
	for (size_t k = 0; k < nr; k++)
		if (nruns[k])
			rules_run(app->rules, k, runs[k], nruns[k]);
out:
	for (size_t k = 0; k < nr && runs; k++)
		free(runs[k]);
	free(runs);
	free(nruns);
	free(build);
	free(acted);
	for (size_t i = 0; i < n && paths; i++)
		free(paths[i]);
	free(paths);
}

/* The debounce window closed. */
static void on_changes_ready(void *arg)
{
	struct app *app = arg;
	if (app->quitting)
		return;
	/* What counts is the content now, not at each event: `: >f; echo x >f`
	 * passes through an empty file on the way back to what was built, and
	 * a touch or an identical save is no change. Each file is hashed here
	 * once; the build's ledger_stage() reuses these hashes. */
	struct back back = { .app = app };
	ledger_pass_begin(app->ledger);
	if (!app->ledger || !changes_drop_if(app->changes, as_built, &back) ||
	    changes_count(app->changes))
		dispatch_changes(app, false);
	else if (back.n == 1 && !app->nunbuilt)
		/* a failed build's edits undone: what runs is what the files say */
		log_msg(GUST_LOG_INFO, STAGE_WATCH,
		        "%s is back to the content of the last good build: nothing to rebuild",
		        back.first);
	else if (back.n && !app->nunbuilt)
		log_msg(
		    GUST_LOG_INFO, STAGE_WATCH,
		    "%s and %zu more are back to the content of the last good build: nothing to "
		    "rebuild",
		    back.first, back.n - 1);
	ledger_pass_end(app->ledger);
}

/* A path matters when the watch section keeps it or a rule matches it. */
static bool wanted(struct app *app, const char *path)
{
	if (!filter_ignored(app->filter, path, false))
		return true;
	for (size_t i = 0; i < app->cfg->nrules; i++)
		if (rules_match(app->rules, i, path))
			return true;
	return false;
}

void app_changed(struct app *app, const char *path, enum gust_change kind)
{
	if (app->quitting)
		return;
	if (kind == GUST_CHANGE_RESCAN)
		ledger_forget(app->ledger); /* an edit may have gone unseen */
	/* Not hashed here: whether the content changed is judged once, when
	 * the window ends (on_changes_ready()), and a storm's files are still
	 * being written before that. */
	/* The path of the last change was wanted when it came: the next
	 * events of the same write (two or three in a row) skip the filter. */
	const char *rel = relpath(app, path);
	if (kind != GUST_CHANGE_RESCAN && !changes_is_last(app->changes, rel) && !wanted(app, path))
		return;
	log_msg(GUST_LOG_DEBUG, STAGE_WATCH, "%s changed", rel);
	changes_arm(app->changes, changes_add(app->changes, rel));
	loop_set_pace(app->loop, changes_pace_ms(app->changes));
}
