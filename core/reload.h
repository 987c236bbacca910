/* reload.h - the config reload: gust.json (or the -c file) is watched on
 * its own (it may lie outside the watched tree); when its content changes
 * the new file is loaded and validated in full (the plugins whose sections
 * changed are created once as a check); a valid one is applied, re-creating
 * only what changed, and said in one line; an invalid one is said once and
 * the running config kept. */
#ifndef GUST_RELOAD_H
#define GUST_RELOAD_H

#include <stddef.h>

struct app;
struct reload;

/* What the config was loaded with besides its file: the --set overrides
 * (NULL-terminated) and `gust -- ARGS`; borrowed, they must outlive the
 * app. */
struct reload_src {
	const char *const *sets;
	char *const *run_args;
	size_t nrun_args;
};

/* Start watching app->cfg->file. NULL when there is nothing to watch (the
 * built-in defaults, a file that is not a regular file: said once) or no
 * memory; gust then runs without reloads. */
struct reload *reload_start(struct app *app, const struct reload_src *src);
/* After every plugin is destroyed: frees the configs reloads made. NULL is
 * fine. */
void reload_free(struct reload *r);
/* A config no longer used by anything is freed (the runner, swapped later
 * than the rest, calls this when it has been). NULL is fine. */
void reload_gc(struct reload *r);

#endif
