/* runcmd.h - what every in-tree runner shares, in the plugins' shared
 * library linked into each runner plugin (everything here has hidden
 * visibility; plugins export only gust_plugin_desc). It reads the options
 * common to all runners, builds the environment afresh for every start
 * (env_files are reread), and drives one run through the host's tree_*
 * functions: start, exit report, stop with escalation, stop_done.
 *
 * Common runner options (section "runner"):
 *   env            object of "NAME": "value" set for the program (or an
 *                  array of "NAME=value"; read with host->opt_env, or
 *                  host->opt_strv as an array when the core lacks it)
 *   env_files      array of .env files (KEY=VALUE lines, # comments,
 *                  optional quotes, "export " prefix), reread every start;
 *                  a file that cannot be read (missing, a directory) is
 *                  an error naming it
 *   cwd            working directory (relative to the root), default root
 *   stop_signal    name or number, default "SIGTERM"
 *   kill_delay_ms  grace period before SIGKILL, default 2000
 *   stdin          "null" (default) | "inherit" | "tty" (own foreground
 *                  process group, terminal handed back on stop)
 *   containment    "reaper" (default; "none" is its former name) | "auto" |
 *                  "cgroup" | "pidns": every tree has a reaper (see
 *                  core/ptree.c); "cgroup" also runs each run in a cgroup v2
 *                  of its own (GUST_SPAWN_CGROUP), "pidns" in a PID
 *                  namespace (GUST_SPAWN_PIDNS); both fail the start where
 *                  unavailable; "auto" is "cgroup" where a writable cgroup
 *                  v2 exists, else "reaper"
 */
#ifndef GUST_RUNCMD_H
#define GUST_RUNCMD_H

#include <gust/plugin.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct socks;

#include "runout.h"

#define RUNCMD_COMMON_KEYS                                                                         \
	"env", "env_files", "cwd", "stop_signal", "kill_delay_ms", "stdin", "containment"

enum runcmd_stdin { RUNCMD_STDIN_NULL = 0, RUNCMD_STDIN_INHERIT, RUNCMD_STDIN_TTY };

struct runcmd {
	const struct gust_host *host;
	struct gust_ctx *ctx;
	/* options */
	const char *cwd; /* absolute */
	int stop_signal;
	unsigned kill_delay_ms;
	enum runcmd_stdin stdin_mode;
	unsigned contain_flags; /* GUST_SPAWN_CGROUP/PIDNS/CONTAIN_TRY */
	const char *const *env_files;
	char **env; /* "K=V" from the "env" object, NULL-terminated */
	/* When the root process exits by itself, also remove the rest of its
	 * tree at once (dlv: an orphaned debuggee is never wanted). */
	bool reap_tree_on_exit;
	/* The root is a tool in front of the program (dlv): readiness looks
	 * at the rest of the tree (GUST_SPAWN_READY_SKIP_ROOT). */
	bool ready_skip_root;
	/* state */
	struct gust_tree *tree; /* the current run, or NULL */
	bool stopping;          /* a stop was requested by the core */
	bool exited;            /* root exited by itself */
	/* Called after the root exits by itself, before run_exited is reported
	 * (dlv: say what happened to the debuggee). May be NULL. */
	void (*on_exit)(struct runcmd *rc, int status, void *arg);
	void *on_exit_arg;
	/* internal */
	bool exit_stop;      /* reap_tree_on_exit: stopping the rest */
	int exit_status;     /* reported once that stop is complete */
	uint64_t done_timer; /* stop_done with no run alive: deferred */
	int root_pidfd;      /* the root, for runcmd_end(); -1: none */
	/* Listening sockets handed to every run (socket activation: fds 3..,
	 * LISTEN_FDS, LISTEN_PID, LISTEN_FDNAMES), or NULL. Owned by the
	 * runner; without them LISTEN_* inherited by gust are removed. */
	const struct socks *socks;
	struct runout out; /* the run's output, when the core wants its lines */
};

/* Read the common options. 0 or -EINVAL with host->set_error() called. */
int runcmd_init(struct runcmd *rc, const struct gust_host *host, struct gust_ctx *ctx,
                const struct gust_opts *opts);
/* Start argv as the run (tree_spawn with the environment built now). */
int runcmd_start(struct runcmd *rc, const char *const *argv);
/* Stop the run (host->stop_done follows); force: SIGKILL now. With no run
 * alive, stop_done is reported from the loop at once (a 0 ms timer). */
int runcmd_stop(struct runcmd *rc, bool force);
/* The run is over though its root still lives (dlv after its debuggee
 * exited): kill_root: SIGKILL the root at once (if it is still running:
 * waitid WNOWAIT); the rest of the tree gets
 * the stop signal and the kill delay, as in any stop (with containment
 * "pidns" the root is the namespace's init, and its death ends every
 * process in it at once); once it is gone, status is reported to the core
 * as the run's exit. -EALREADY when no run is up, or the tree_stop error
 * (nothing changed). */
int runcmd_end(struct runcmd *rc, int status, bool kill_root);
/* Free; kills a run that is still alive (bounded). */
void runcmd_fini(struct runcmd *rc);

#endif
