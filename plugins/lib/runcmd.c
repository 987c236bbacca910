/* runcmd.c - the part of a runner every in-tree runner shares: common
 * options, the environment built afresh for each start, and one run driven
 * through the host's tree_* functions. */
#include "config.h"

#include "runcmd.h"
#include "dotenv.h"
#include "sockets.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#define MAX_KILL_DELAY_MS 86400000LL

static char *join(const char *dir, const char *path)
{
	size_t n = strlen(dir) + strlen(path) + 2;
	char *s = malloc(n);
	if (s)
		snprintf(s, n, "%s/%s", dir, path);
	return s;
}

int runcmd_init(struct runcmd *rc, const struct gust_host *host, struct gust_ctx *ctx,
                const struct gust_opts *opts)
{
	memset(rc, 0, sizeof *rc);
	rc->root_pidfd = -1;
	rc->host = host;
	rc->ctx = ctx;
	const char *cwd, *in, *contain;
	long long delay;
	size_t nenv = 0;
	const char *const *env = NULL;
	bool have_opt_env =
	    host->size >= offsetof(struct gust_host, opt_env) + sizeof host->opt_env &&
	    host->opt_env;
	if (host->opt_string(ctx, opts, "cwd", NULL, &cwd) < 0 ||
	    host->opt_signal(ctx, opts, "stop_signal", SIGTERM, &rc->stop_signal) < 0 ||
	    host->opt_int(ctx, opts, "kill_delay_ms", 2000, 0, MAX_KILL_DELAY_MS, &delay) < 0 ||
	    host->opt_string(ctx, opts, "stdin", "null", &in) < 0 ||
	    host->opt_string(ctx, opts, "containment", "reaper", &contain) < 0 ||
	    host->opt_strv(ctx, opts, "env_files", &rc->env_files, NULL) < 0 ||
	    (have_opt_env ? host->opt_env(ctx, opts, "env", &env, &nenv)
	                  : host->opt_strv(ctx, opts, "env", &env, &nenv)) < 0)
		return -EINVAL;
	rc->kill_delay_ms = (unsigned)delay;
	if (!strcmp(in, "null"))
		rc->stdin_mode = RUNCMD_STDIN_NULL;
	else if (!strcmp(in, "inherit"))
		rc->stdin_mode = RUNCMD_STDIN_INHERIT;
	else if (!strcmp(in, "tty"))
		rc->stdin_mode = RUNCMD_STDIN_TTY;
	else {
		host->set_error(ctx, "stdin: expected \"null\", \"inherit\" or \"tty\", got \"%s\"",
		                in);
		return -EINVAL;
	}
	if (!strcmp(contain, "reaper") || !strcmp(contain, "none"))
		rc->contain_flags = 0;
	else if (!strcmp(contain, "auto"))
		rc->contain_flags = GUST_SPAWN_CGROUP | GUST_SPAWN_CONTAIN_TRY;
	else if (!strcmp(contain, "cgroup"))
		rc->contain_flags = GUST_SPAWN_CGROUP;
	else if (!strcmp(contain, "pidns"))
		rc->contain_flags = GUST_SPAWN_PIDNS;
	else {
		host->set_error(ctx,
		                "containment: expected \"reaper\", \"auto\", \"cgroup\" or "
		                "\"pidns\", got \"%s\"",
		                contain);
		return -EINVAL;
	}
	rc->env = calloc(nenv + 1, sizeof *rc->env);
	if (!rc->env)
		goto oom;
	for (size_t i = 0; i < nenv; i++) {
		const char *eq = strchr(env[i], '=');
		if (!eq || !dotenv_valid_name(env[i], (size_t)(eq - env[i]))) {
			host->set_error(ctx, "env: expected \"NAME=value\", got \"%s\"", env[i]);
			runcmd_fini(rc);
			return -EINVAL;
		}
		if (!(rc->env[i] = strdup(env[i])))
			goto oom;
	}
	const char *root = host->root(ctx);
	char *abs = !cwd ? strdup(root) : cwd[0] == '/' ? strdup(cwd) : join(root, cwd);
	if (!abs)
		goto oom;
	rc->cwd = abs;
	return 0;
oom:
	host->set_error(ctx, "out of memory");
	runcmd_fini(rc);
	return -ENOMEM;
}

/* ---- one run ---- */

static void rc_exited(struct gust_tree *tree, int status, void *arg);
static void rc_stopped(struct gust_tree *tree, void *arg);

static const struct gust_tree_events rc_events = {
	.size = sizeof(struct gust_tree_events),
	.exited = rc_exited,
	.stopped = rc_stopped,
};

static void close_root(struct runcmd *rc)
{
	if (rc->root_pidfd >= 0)
		close(rc->root_pidfd);
	rc->root_pidfd = -1;
}

static void drop_tree(struct runcmd *rc)
{
	close_root(rc);
	if (rc->tree)
		rc->host->tree_free(rc->tree);
	rc->tree = NULL;
	runout_close(&rc->out); /* every writer is gone: read to the end */
}

static void rc_exited(struct gust_tree *tree, int status, void *arg)
{
	struct runcmd *rc = arg;
	if (rc->stopping || rc->exit_stop)
		return; /* the stop we were asked for, or runcmd_end()'s, goes on */
	rc->exited = true;
	if (rc->on_exit)
		rc->on_exit(rc, status, rc->on_exit_arg);
	if (rc->reap_tree_on_exit) {
		rc->exit_stop = true;
		rc->exit_status = status;
		if (rc->host->tree_stop(tree, rc->stop_signal, rc->kill_delay_ms) < 0 &&
		    !rc->host->tree_alive(tree)) {
			rc->exit_stop = false;
			drop_tree(rc);
			rc->host->run_exited(rc->ctx, status);
		}
		return;
	}
	rc->host->run_exited(rc->ctx, status);
}

static void rc_stopped(struct gust_tree *tree, void *arg)
{
	struct runcmd *rc = arg;
	(void)tree;
	drop_tree(rc);
	if (rc->stopping) {
		rc->stopping = false;
		rc->exit_stop = false;
		rc->host->stop_done(rc->ctx);
	} else if (rc->exit_stop) {
		rc->exit_stop = false;
		rc->host->run_exited(rc->ctx, rc->exit_status);
	}
}

int runcmd_end(struct runcmd *rc, int status, bool kill_root)
{
	const struct gust_host *h = rc->host;
	if (!rc->tree || rc->stopping || rc->exit_stop || rc->exited)
		return -EALREADY;
	rc->exited = true;
	rc->exit_stop = true;
	rc->exit_status = status;
	/* The root may be gone and its pid name another process by now: it
	 * is signalled through the pidfd taken when it started (without
	 * pidfds it gets the stop signal with the rest). */
#if defined(SYS_pidfd_send_signal)
	if (kill_root && rc->root_pidfd >= 0)
		(void)syscall(SYS_pidfd_send_signal, rc->root_pidfd, SIGKILL, NULL, 0);
#else
	(void)kill_root;
#endif
	int r = h->tree_stop(rc->tree, rc->stop_signal, rc->kill_delay_ms);
	if (r < 0 && h->tree_alive(rc->tree)) {
		rc->exited = false;
		rc->exit_stop = false;
		return r;
	}
	if (r < 0) {
		rc->exit_stop = false;
		drop_tree(rc);
		h->run_exited(rc->ctx, status);
	}
	return 0;
}

static void free_cstrv(const char **v, size_t nowned)
{
	for (size_t i = 0; i < nowned; i++)
		free((char *)v[i]);
	free(v);
}

/* The run's environment changes: the .env files', then "env", then the
 * socket-activation variables; *nowned: how many of the strings (the
 * first ones) belong to the array. An error is reported through the
 * host. */
static int run_env(struct runcmd *rc, const char ***envp, size_t *nowned)
{
	const struct gust_host *h = rc->host;
	/* .env files are read again for every run: editing one is a change */
	char **fenv = NULL;
	size_t nf = 0;
	for (const char *const *f = rc->env_files; f && *f; f++) {
		char err[1024];
		char *path = (*f)[0] == '/' ? strdup(*f) : join(h->root(rc->ctx), *f);
		int r = path ? dotenv_parse_file(path, &fenv, &nf, err, sizeof err) : -ENOMEM;
		free(path);
		if (r < 0) {
			h->set_error(rc->ctx, "env_files: %s",
			             r == -ENOMEM ? "out of memory" : err);
			dotenv_free(fenv);
			return r;
		}
	}
	size_t ne = 0;
	while (rc->env && rc->env[ne])
		ne++;
	const char **env = calloc(nf + ne + 4, sizeof *env);
	if (!env) {
		dotenv_free(fenv);
		h->set_error(rc->ctx, "out of memory");
		return -ENOMEM;
	}
	for (size_t i = 0; i < nf; i++)
		env[i] = fenv[i];
	free(fenv); /* the strings now belong to env */
	for (size_t i = 0; i < ne; i++)
		env[nf + i] = rc->env[i]; /* "env" wins over the files */
	/* the protocol's variables are gust's to set: a bare name removes one
	 * gust inherited, which names another process's sockets */
	const struct socks *sk = rc->socks;
	env[nf + ne] = sk ? sk->fdcount : "LISTEN_FDS";
	env[nf + ne + 1] = sk ? sk->fdnames : "LISTEN_FDNAMES";
	env[nf + ne + 2] = sk ? NULL : "LISTEN_PID"; /* with sockets: the core's */
	*envp = env;
	*nowned = nf;
	return 0;
}

int runcmd_start(struct runcmd *rc, const char *const *argv)
{
	const struct gust_host *h = rc->host;
	if (rc->tree) {
		h->set_error(rc->ctx, "a run is still alive");
		return -EBUSY;
	}
	const struct socks *sk = rc->socks;
	const char **env;
	size_t nf;
	int r = run_env(rc, &env, &nf);
	if (r < 0)
		return r;

	int out_wr = -1, err_wr = -1;
	if (runout_wanted(h, rc->ctx)) {
		r = runout_open(&rc->out, h, rc->ctx, &out_wr, &err_wr);
		if (r < 0) {
			free_cstrv(env, nf);
			h->set_error(rc->ctx, "cannot capture the program's output: %s",
			             strerror(-r));
			return r;
		}
	}
	struct gust_spawn sp = {
		.size = sizeof sp,
		.argv = argv,
		.env = env,
		.cwd = rc->cwd,
		.stdin_fd = rc->stdin_mode == RUNCMD_STDIN_INHERIT ? 0 : -1,
		.stdout_fd = out_wr,
		.stderr_fd = err_wr,
		.flags = (rc->stdin_mode == RUNCMD_STDIN_TTY ? GUST_SPAWN_FOREGROUND : 0u) |
		         (rc->ready_skip_root ? GUST_SPAWN_READY_SKIP_ROOT : 0u) |
		         (sk ? GUST_SPAWN_LISTEN_PID : 0u) | rc->contain_flags,
		.fds = sk ? sk->fds : NULL,
		.nfds = sk ? sk->n : 0,
	};
	errno = 0;
	rc->tree = h->tree_spawn(rc->ctx, &sp, &rc_events, rc);
	int e = errno;
	free_cstrv(env, nf);
	if (out_wr >= 0)
		close(out_wr);
	if (err_wr >= 0 && err_wr != out_wr)
		close(err_wr);
	if (!rc->tree) {
		runout_close(&rc->out);
		return e > 0 ? -e : -EIO;
	}
#if defined(SYS_pidfd_open)
	/* at once: its reaper reaps it only once it exited, and the pid could
	 * name another process only after the allocator went all the way
	 * round since */
	rc->root_pidfd = (int)syscall(SYS_pidfd_open, h->tree_pid(rc->tree), 0);
#endif
	rc->stopping = false;
	rc->exited = false;
	rc->exit_stop = false;
	return 0;
}

static void on_done_timer(void *arg)
{
	struct runcmd *rc = arg;
	rc->done_timer = 0;
	rc->host->stop_done(rc->ctx);
}

static void stop_done_soon(struct runcmd *rc)
{
	/* Reported from the loop (a 0 ms timer), as a stop that waits for a tree
	 * is, so both kinds of stop complete the same way; done_timer also marks
	 * the report as on its way, so a forcing stop() before it fires adds no
	 * second one. Reporting from inside stop() is allowed too (plugin.h:
	 * the core acts on it once stop() returned): the fallback below. */
	rc->done_timer = rc->host->timer_add(rc->ctx, 0, on_done_timer, rc);
	if (!rc->done_timer)
		rc->host->stop_done(rc->ctx);
}

int runcmd_stop(struct runcmd *rc, bool force)
{
	const struct gust_host *h = rc->host;
	if (!rc->tree) {
		if (!rc->done_timer)
			stop_done_soon(rc);
		return 0;
	}
	if (rc->stopping) {
		int r = force ? h->tree_kill(rc->tree) : 0;
		return r == -ESRCH ? 0 : r; /* already gone: stopped is on its way */
	}
	rc->stopping = true;
	int r;
	if (rc->exit_stop) /* already stopping what the root left */
		r = force ? h->tree_kill(rc->tree) : 0;
	else
		r = force ? h->tree_kill(rc->tree)
		          : h->tree_stop(rc->tree, rc->stop_signal, rc->kill_delay_ms);
	if (r < 0 && !h->tree_alive(rc->tree)) {
		/* gone already, its stopped event consumed or pending: done */
		drop_tree(rc);
		rc->stopping = false;
		rc->exit_stop = false;
		stop_done_soon(rc);
		return 0;
	}
	if (r < 0) {
		rc->stopping = false;
		h->set_error(rc->ctx, "cannot stop pid %ld: %s", (long)h->tree_pid(rc->tree),
		             strerror(-r));
	}
	return r;
}

void runcmd_fini(struct runcmd *rc)
{
	if (rc->done_timer)
		rc->host->timer_cancel(rc->ctx, rc->done_timer);
	rc->done_timer = 0;
	drop_tree(rc); /* kills a live run, synchronously and bounded */
	dotenv_free(rc->env);
	rc->env = NULL;
	free((char *)rc->cwd);
	rc->cwd = NULL;
}
