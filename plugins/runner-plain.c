/* runner-plain.c - run the program as it is: `bin` with `args` as a real
 * argv (never re-split), or `cmd` through /bin/sh -c when the user wants a
 * shell command line (`args` then are its "$@"). The lifecycle is runcmd's. */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <gust/plugin.h>

#include "runcmd.h"
#include "sockets.h"

struct plain {
	struct runcmd rc;
	const char **argv; /* owned array; strings borrowed from the options */
	struct socks socks;
	bool have_socks;
};

static const char *const known_keys[] = {
	"bin", "args", "cmd", "sockets", RUNCMD_COMMON_KEYS, NULL
};

static void plain_destroy(void *self)
{
	struct plain *p = self;
	if (!p)
		return;
	runcmd_fini(&p->rc);
	if (p->have_socks)
		socks_close(&p->socks);
	free(p->argv);
	free(p);
}

/* "sockets": bound and listening now, for gust's whole life; a run gets
 * them as fds 3.. (socket activation). */
static int open_sockets(struct plain *p, const struct gust_host *host, struct gust_ctx *ctx,
                        const struct gust_opts *opts)
{
	const char *const *specs;
	size_t n = 0;
	char err[512];
	if (host->opt_strv(ctx, opts, "sockets", &specs, &n) < 0)
		return -1;
	if (n == 0)
		return 0;
	if (socks_open(&p->socks, specs, n, host->root(ctx), err, sizeof err) < 0) {
		host->set_error(ctx, "%s", err);
		return -1;
	}
	p->have_socks = true;
	p->rc.socks = &p->socks;
	return 0;
}

static void *plain_create(const struct gust_host *host, struct gust_ctx *ctx,
                          const struct gust_opts *opts)
{
	if (host->opt_check_keys(ctx, opts, known_keys) < 0)
		return NULL;
	const char *bin, *cmd;
	const char *const *args;
	size_t nargs = 0;
	if (host->opt_string(ctx, opts, "bin", NULL, &bin) < 0 ||
	    host->opt_string(ctx, opts, "cmd", NULL, &cmd) < 0 ||
	    host->opt_strv(ctx, opts, "args", &args, &nargs) < 0)
		return NULL;
	if (cmd && bin) {
		host->set_error(ctx, "cmd: give either \"cmd\" (a shell command line) or \"bin\", "
		                     "not both");
		return NULL;
	}
	if (cmd && !*cmd) {
		host->set_error(ctx, "cmd: empty command");
		return NULL;
	}
	if (!cmd && bin && !*bin) {
		host->set_error(ctx, "bin: empty path");
		return NULL;
	}
	struct plain *p = calloc(1, sizeof *p);
	if (!p || !(p->argv = calloc(nargs + 5, sizeof *p->argv))) {
		free(p);
		host->set_error(ctx, "out of memory");
		return NULL;
	}
	if (runcmd_init(&p->rc, host, ctx, opts) < 0) {
		free(p->argv);
		free(p);
		return NULL;
	}
	if (open_sockets(p, host, ctx, opts) < 0) {
		plain_destroy(p);
		return NULL;
	}
	size_t k = 0;
	if (cmd) {
		p->argv[k++] = "/bin/sh";
		p->argv[k++] = "-c";
		p->argv[k++] = cmd;
		if (nargs) /* the positional parameters: $0 is "sh", then $1... */
			p->argv[k++] = "sh";
	} else {
		p->argv[k++] = bin ? bin : "./tmp/main";
	}
	for (size_t i = 0; i < nargs; i++)
		p->argv[k++] = args[i];
	p->argv[k] = NULL;
	return p;
}

static int plain_start(void *self)
{
	struct plain *p = self;
	return runcmd_start(&p->rc, p->argv);
}

static int plain_stop(void *self, bool force)
{
	struct plain *p = self;
	return runcmd_stop(&p->rc, force);
}

static const struct gust_runner_ops ops = {
	.size = sizeof(struct gust_runner_ops),
	.create = plain_create,
	.start = plain_start,
	.stop = plain_stop,
	.destroy = plain_destroy,
};

GUST_PLUGIN_DEFINE(runner, "plain", VERSION, ops);
