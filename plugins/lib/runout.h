/* runout.h - a run's output captured for the core, when the core wants it
 * (host->output_wanted(): the "log" readiness check): stdout and stderr
 * through one pseudo-terminal when gust's stdout is a terminal, else
 * through two pipes; written through unchanged to gust's stdout (and
 * stderr), and each line handed to host->output_line(). In the plugins'
 * shared library, for the runners (hidden visibility). */
#ifndef GUST_RUNOUT_H
#define GUST_RUNOUT_H

#include <gust/plugin.h>
#include <stdbool.h>
#include <stddef.h>

#define RUNOUT_LINE_MAX 4096

struct runout_stream {
	struct runout *ro;
	int rd;     /* our end, -1 when closed */
	int out_fd; /* where the bytes go on to */
	size_t len;
	char line[RUNOUT_LINE_MAX];
};

struct runout {
	const struct gust_host *host;
	struct gust_ctx *ctx;
	struct runout_stream s[2];
};

/* True when the core wants the run's lines (and can take them). */
bool runout_wanted(const struct gust_host *host, struct gust_ctx *ctx);
/* Open the capture: *out_wr and *err_wr are the child's stdout and stderr
 * (the same fd with a pty); close them once the child is spawned. 0 or
 * -errno, nothing left open. */
int runout_open(struct runout *ro, const struct gust_host *host, struct gust_ctx *ctx, int *out_wr,
                int *err_wr);
/* Read what is left, hand over a last unterminated line, close. Safe on a
 * runout never opened (zeroed) or already closed. */
void runout_close(struct runout *ro);

#endif
