/* hooks.h - the hooks (ABI 1.1): any number of plugins, configured as the
 * array "hooks", that observe each step of the cycle and may ask for a
 * rebuild or a restart; and the tail of the build's output they are shown
 * when a build ends. */
#ifndef GUST_HOOKS_H
#define GUST_HOOKS_H

#include <gust/plugin.h>
#include <stddef.h>
#include <stdint.h>

struct app;
struct gust_ctx;

#define HOOKS_TAIL_LINES 20
#define HOOKS_TAIL_BYTES 4096

struct hooks {
	struct gust_ctx *v; /* one context per hook */
	char **paths;       /* "/hooks/N", each hook's JSON path */
	size_t n;
	/* the last lines the builder handed over, oldest first */
	char tail[HOOKS_TAIL_BYTES];
	size_t tail_len;
};

/* Load and create every hook of the config. 0, or -errno with the error
 * printed. */
int hooks_load(struct hooks *h, struct app *app);
/* Tell every hook, in the order of the config, of an event of the cycle:
 * its type, status (a wait status or -errno), how long it took, the paths
 * it concerns (NULL: none), the build's output and a detail (NULL: ""). */
void hooks_emit(struct hooks *h, enum gust_event type, int status, uint64_t ms, char *const *paths,
                const char *output, const char *detail);
/* A new build: its output tail starts empty. */
void hooks_tail_reset(struct hooks *h);
/* A line of the build's output, kept while it is among the last ones. */
void hooks_tail_add(struct hooks *h, const char *line, size_t len);
/* Destroy every hook (their processes go with them) and unload. */
void hooks_fini(struct hooks *h);

#endif
