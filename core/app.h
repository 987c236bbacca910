/* app.h - orchestration: one watcher, one builder, one runner, and the state
 * machine between them (debounce, cancel superseded builds, stop the old
 * tree completely before starting the new one, shut down on signals). */
#ifndef GUST_APP_H
#define GUST_APP_H

#include <gust/plugin.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "changedfile.h"
#include "conf.h"
#include "options.h"
#include "hooks.h"
#include "loader.h"
#include "plugins.h"
#include "log.h"
#include "host.h"
#include "ready.h"
#include "retry.h"

struct app;
struct loop;
struct ptree_mgr;
struct filter;
struct changes;
struct ledger;
struct rules;
struct control;
struct reload;
struct reload_src;

enum run_state {
	RUN_NONE = 0, /* nothing of a run exists */
	RUN_UP,       /* running */
	RUN_EXITED,   /* root exited; the rest must still be stopped */
	RUN_STOPPING  /* stop() called, waiting for stop_done() */
};

struct app {
	const struct config *cfg;
	struct loop *loop;
	struct ptree_mgr *ptrees;
	struct filter *filter;
	char **dirs;
	struct gust_ctx watcher, builder, runner;
	struct hooks hooks;
	struct ready ready; /* the run's readiness */
	bool ready_warned;  /* a readiness timeout was warned about once */

	struct rules *rules;      /* "rules": their filters and commands */
	const char *build_rule;   /* the rule whose paths the build has, or NULL */
	const char *restart_rule; /* the rule this restart is for, or NULL */
	struct changes *changes;  /* waiting for the debounce window to close */
	struct ledger *ledger;    /* exclude_unchanged's hashes, NULL when off */
	/* the paths of the build in progress */
	char **building;
	size_t nbuilding;
	/* the paths of failed builds since the last good one: not built yet */
	char **unbuilt;
	size_t nunbuilt;
	bool build_running;
	uint64_t build_started_ms;
	uint64_t build_ms; /* how long the last build took */
	char cycle[256];   /* what changed, for the one-line cycle summary */

	enum run_state run;
	bool start_after_stop;   /* a good build is waiting for the old run to go */
	bool restart_after_exit; /* restart_on_exit's start, not a build's */
	bool in_stop;            /* inside the runner's stop() */
	bool stop_done_in_stop;  /* it called stop_done() from there */
	uint64_t stop_started_ms;
	uint64_t run_started_ms;
	uint64_t spawn_ms;         /* how long the runner's start() took */
	unsigned restart_delay_ms; /* current backoff */
	uint64_t restart_timer;
	/* a build or a run the system could not start for now (fork's
	 * EAGAIN): tried again later, with a backoff of its own */
	struct retry build_retry, run_retry;
	char cycle_line[512]; /* the cycle line up to its outcome, while not ready */

	/* what hooks asked for, acted on from the loop */
	bool built_ok; /* a build succeeded: there is a program to run */
	bool want_rebuild, want_restart;
	bool restart_requested;       /* this start is a requested restart */
	char requested_by[96];        /* who asked: hook "NAME", key r, gust ctl */
	enum log_stage request_stage; /* where the request is logged */
	uint64_t request_timer;
	bool keys;               /* keys are read from gust's terminal (term.c) */
	struct control *control; /* gust ctl's socket (control.c), NULL when off */
	struct reload *reload;   /* the config file's watch (reload.c), or NULL */
	bool runner_changed;     /* a reload changed the runner: swapped when stopped */
	bool auto_poll_said;     /* why "auto" picked poll was said */

	/* for gust ctl status */
	bool run_ready;         /* the run passed its readiness check */
	char ready_what[256];   /* what answered it (the ready event's detail) */
	bool build_seen;        /* a build ended (or could not start) */
	int build_status;       /* ... with this wait status, or -errno */
	uint64_t build_done_ms; /* when */
	uint64_t settled_ms;    /* the last end of a build, a run or a stop */

	int signals; /* SIGINT/SIGTERM/SIGHUP received */
	bool quitting;
	int exit_code;
	struct changed_file changed; /* <tmp_dir>/gust-changed.txt */
};


/* Set everything up: loop, subreaper, recovery of a killed gust's leftovers,
 * filter, plugins (create() only). 0, or -errno with the error printed. */
int app_init(struct app *app, const struct config *cfg);
/* Start watching (the config file too, reloaded as src says), the first
 * build, and run the loop until shutdown. Returns the process exit status. */
int app_run(struct app *app, const struct reload_src *src);
void app_fini(struct app *app);

enum app_state { APP_IDLE, APP_BUILDING, APP_RUNNING, APP_STOPPING };

/* What gust ctl status reports; times on loop_now_ms()'s clock. */
struct app_status {
	enum app_state state;
	uint64_t since_ms; /* when the state began */
	pid_t pid;         /* the run's first process, 0 when none runs */
	bool ready;        /* the run passed its readiness check */
	bool checking;     /* ... which is still going on */
	bool built;        /* a build ended: the build_ fields are set */
	bool build_ok;
	char build_result[128]; /* "ok", "exit status 2", ... */
	uint64_t build_ms, build_done_ms;
};
void app_status(const struct app *app, struct app_status *st);

/* Called by host.c. */
void app_changed(struct app *app, const char *path, enum gust_change kind);
void app_build_done(struct app *app, int status);
void app_run_exited(struct app *app, int status);
void app_stop_done(struct app *app);

/* A rebuild (or a restart without a build) asked for by a hook, a key or
 * gust ctl, acted on from the loop; by names them in the log ("key r").
 * 0, -ESHUTDOWN while quitting, -EAGAIN for a restart before any good
 * build, -ENOMEM. */
int app_request(struct app *app, bool rebuild, enum log_stage stage, const char *by);
/* Stop the program and quit, as on Ctrl-C (why: "q pressed"). */
void app_quit(struct app *app, const char *why);
/* A plugin freed a tree (the host's tree_free, which has no context). */
void app_tree_freed(struct gust_tree *tree);

/* For reload.c: the rules and the pending changes of cfg, made as
 * app_init() makes them (NULL + err, or NULL when out of memory). */
struct rules *app_rules_new(struct app *app, const struct config *cfg, char *err, size_t errlen);
struct changes *app_changes_new(struct app *app, const struct config *cfg);
/* A reload changed app->cfg's section of a plugin (for the watcher, the
 * watch section or the rules too): the watcher is re-created and started
 * (it walks again); the builder re-created, cancelling a running build,
 * and a build started; the runner re-created once the program has stopped,
 * and the program started again with it. A plugin that cannot be created
 * after all (its section passed the check) makes gust quit. */
void app_watcher_changed(struct app *app);
void app_builder_changed(struct app *app);
void app_runner_changed(struct app *app);
/* A reload replaced the hooks: the new ones are told that the run is
 * ready, when it is (a ready event with the run's detail), so that a
 * livereload proxy made anew knows the app is up and where. */
void app_hooks_changed(struct app *app);

#endif
