/*
 * gust/plugin.h - the gust plugin ABI, version 1.1.
 *
 * This is the only header gust installs. A plugin is a shared object that
 * exports exactly one symbol, `gust_plugin_desc`, a const descriptor
 * (struct gust_plugin_desc) that names the plugin's kind and points to that
 * kind's const vtable. Plugins never link against the gust executable:
 * everything they need from the core comes through the const host table
 * (struct gust_host) handed to their create() function.
 *
 * Compatibility rules:
 *   - The core accepts a plugin whose ABI major equals its own and whose ABI
 *     minor is not newer than its own.
 *   - Within a major version, a struct here only ever grows at its end: a
 *     minor version may append members (and add kinds, flags and enum
 *     values), never move, remove or retype one. Structs that cross the
 *     boundary carry their own size as their first member so that either
 *     side can tell which members the other one knows about.
 *   - The core accepts every descriptor and vtable at least as large as in
 *     1.0 (GUST_*_SIZE_1_0), and calls a vtable member appended after 1.0
 *     only when GUST_HAS() says the plugin has it.
 *   - A plugin tests a host member appended after 1.0 with GUST_HAS(host,
 *     member) before calling it (members of 1.0 are always there).
 *   - A plugin built against 1.0 keeps working with every 1.x core.
 *
 * Threading: none. The core runs one event loop on one thread and calls every
 * plugin function from it. A plugin must not block without a bound, must not
 * create threads that call back into the host, must not install signal
 * handlers, must not call exit(), and must not reap children itself (the core
 * reaps every child; use tree_spawn() or child_watch()).
 *
 * Errors: every int-returning function returns 0 on success or a negative
 * errno value. Functions that return a pointer return NULL on failure, having
 * recorded a one-line reason with host->set_error().
 *
 * This header compiles on its own as C99 (-std=c99 -pedantic).
 */
#ifndef GUST_PLUGIN_H
#define GUST_PLUGIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

/** ABI major version: bumped only on an incompatible change. */
#define GUST_ABI_MAJOR 1
/** ABI minor version: bumped when members are appended. 1.1: tree_pids,
 *  hooks (GUST_KIND_HOOK), output_line, request_rebuild/request_restart. */
#define GUST_ABI_MINOR 1
/** The ABI version a plugin was built against: major in the high 16 bits. */
#define GUST_ABI_VERSION (((uint32_t)GUST_ABI_MAJOR << 16) | (uint32_t)GUST_ABI_MINOR)
/** Major part of a packed ABI version. */
#define GUST_ABI_MAJOR_OF(v) ((uint32_t)(v) >> 16)
/** Minor part of a packed ABI version. */
#define GUST_ABI_MINOR_OF(v) ((uint32_t)(v)&0xffffu)

/** Bytes of a struct up to the end of member: the least `size` that struct
 *  declares when it has member. The GUST_*_SIZE_1_0 constants use it. */
#define GUST_SIZE_THROUGH(type, member) (offsetof(type, member) + sizeof(((type *)0)->member))
/** True when *p, a struct whose member `size` says how large it is (the
 *  host table, a vtable, struct gust_tree_events), has the function member
 *  and it is not NULL: how either side tests for a member appended after
 *  1.0 before calling it. Reads nothing beyond the size p declares; p is
 *  evaluated more than once. Example: GUST_HAS(host, tree_pids). */
#define GUST_HAS(p, member)                                                                        \
	((size_t)(p)->size >=                                                                      \
	     (size_t)((const char *)&(p)->member - (const char *)(p)) + sizeof((p)->member) &&     \
	 (p)->member != NULL)

#if defined(__GNUC__) || defined(__clang__)
#define GUST_PRINTF(fmt, args) __attribute__((format(printf, fmt, args)))
#else
#define GUST_PRINTF(fmt, args)
#endif

/** What a plugin is. */
enum gust_kind {
	GUST_KIND_WATCHER = 1, /**< turns file-system changes into events */
	GUST_KIND_BUILDER = 2, /**< runs the build */
	GUST_KIND_RUNNER = 3,  /**< runs the program */
	GUST_KIND_HOOK = 4     /**< observes the cycle (since 1.1) */
};

/** Severity of a log line. */
enum gust_log_level {
	GUST_LOG_ERROR = 0,
	GUST_LOG_WARN = 1,
	GUST_LOG_INFO = 2,
	GUST_LOG_DEBUG = 3
};

/** The kind of a change a watcher reports. */
enum gust_change {
	GUST_CHANGE_CREATE = 1, /**< a path appeared */
	GUST_CHANGE_WRITE = 2,  /**< a file's content changed */
	GUST_CHANGE_REMOVE = 3, /**< a path went away */
	GUST_CHANGE_RENAME = 4, /**< a path was renamed (either end) */
	GUST_CHANGE_ATTRIB = 5, /**< metadata only (mode, owner, times) */
	GUST_CHANGE_RESCAN = 6  /**< events were lost; the path is a root */
};

/** Events for host->io_add(). Hang-up and error are reported as READ. */
#define GUST_IO_READ 1u
#define GUST_IO_WRITE 2u

/**
 * Opaque: the core's context for one plugin instance. Passed back to every
 * host function so the core knows who is calling. Owned by the core; valid
 * from create() until destroy() returns.
 */
struct gust_ctx;

/**
 * Opaque: a plugin's config section (the JSON object named after its kind).
 * Read it only through the host's opt_* functions. Owned by the core; valid
 * only during create().
 */
struct gust_opts;

/**
 * Opaque: one process tree started by host->tree_spawn(): the root process,
 * its process group, and every descendant, including those that leave the
 * group or are orphaned (gust is a child subreaper). Owned by the core;
 * valid until the plugin calls host->tree_free().
 */
struct gust_tree;

/** Called when a registered fd is ready; events is a GUST_IO_* mask. */
typedef void (*gust_io_cb)(int fd, unsigned events, void *arg);
/** Called once when a timer fires. */
typedef void (*gust_timer_cb)(void *arg);
/** Called once when a watched child exits; status is as from waitpid(). */
typedef void (*gust_exit_cb)(pid_t pid, int status, void *arg);

/** Flags for struct gust_spawn. */
/** Give the program the terminal: its group becomes the foreground group
 *  and stdin is inherited; gust takes the terminal back once it is gone. */
#define GUST_SPAWN_FOREGROUND 1u
/** Do not search PATH for argv[0]. */
#define GUST_SPAWN_NO_PATH 2u
/** (Linux) Start the tree in a cgroup v2 of its own, created below gust's
 *  cgroup (or below $GUST_CGROUP): every process of the tree stays in it
 *  whatever it does (environment, group, reparenting), a stop kills it
 *  with cgroup.kill, and the cgroup is removed once the tree is gone.
 *  The spawn fails when no writable cgroup v2 directory exists, unless
 *  GUST_SPAWN_CONTAIN_TRY is also set. Since 1.0. */
#define GUST_SPAWN_CGROUP 4u
/** (Linux) Start the tree in a new PID namespace (and a user namespace
 *  mapping only gust's uid and gid when gust is not root): a tiny init
 *  (the tree's pid) runs the program as pid 2; when the program exits or
 *  the init is killed, the kernel kills everything else in the namespace.
 *  The program's exit by signal N is reported as exit status 128+N. The
 *  spawn fails when namespaces are not allowed, unless
 *  GUST_SPAWN_CONTAIN_TRY is also set. Since 1.0. */
#define GUST_SPAWN_PIDNS 8u
/** With GUST_SPAWN_CGROUP or GUST_SPAWN_PIDNS: where that containment is
 *  not available, start the tree without it (logged at debug level)
 *  instead of failing. Since 1.0. */
#define GUST_SPAWN_CONTAIN_TRY 16u
/** A runner's run whose root process is a tool in front of the program
 *  (a debugger): the run's readiness looks at the other processes of the
 *  tree, never at the root's own sockets (nor where a child holds them
 *  between fork and exec). Ignored by a 1.0 core. Since 1.1. */
#define GUST_SPAWN_READY_SKIP_ROOT 32u
/** With fds: set LISTEN_PID in the program's environment to the program's
 *  own pid, between fork and exec, as the systemd socket-activation
 *  protocol requires (the caller sets LISTEN_FDS and LISTEN_FDNAMES).
 *  Since 1.1. */
#define GUST_SPAWN_LISTEN_PID 64u

/** How to start a process tree. All pointers are borrowed for the call. */
struct gust_spawn {
	size_t size;             /**< sizeof(struct gust_spawn) */
	const char *const *argv; /**< NULL-terminated; argv[0] searched in PATH */
	const char *const *env;  /**< NULL-terminated "K=V" set on top of
	                              gust's environment, or NULL; a bare "K"
	                              removes K */
	const char *cwd;         /**< working directory, or NULL for gust's */
	int stdin_fd;            /**< -1: /dev/null */
	int stdout_fd;           /**< -1: gust's stdout */
	int stderr_fd;           /**< -1: gust's stderr */
	unsigned flags;          /**< GUST_SPAWN_* */

	/* ---- appended in 1.1: read only when size covers them ---- */

	/** NULL-terminated names of programs a stop leaves running, or NULL:
	 *  a process of the tree whose name (its comm, or the last component
	 *  of its executable's path, as ps shows it) is one of them is kept,
	 *  with every process below it. The stop completes once nothing else
	 *  of the tree is left; tree_alive() is then false, and tree_free()
	 *  hands what is kept to the core, which stops it when gust exits (or
	 *  forgets it once it exits by itself). For a builder's daemons
	 *  (Gradle's, Bazel's server, sccache). Not with GUST_SPAWN_PIDNS.
	 *  Since 1.1. */
	const char *const *keep;
	/** fds[i] becomes the program's fd 3 + i (inherited, not close-on-
	 *  exec); nothing else of gust's is inherited. The fds stay the
	 *  caller's. Since 1.1. */
	const int *fds;
	size_t nfds; /**< entries in fds */
};
/** sizeof(struct gust_spawn) in ABI 1.0: the least size tree_spawn() takes. */
#define GUST_SPAWN_SIZE_1_0 GUST_SIZE_THROUGH(struct gust_spawn, flags)

/**
 * What the core tells the owner of a tree. Either member may be NULL.
 * Pointed-to struct is borrowed and must stay valid while the tree exists.
 */
struct gust_tree_events {
	size_t size; /**< sizeof(struct gust_tree_events) */
	/** The root process exited by itself or was killed; status is as from
	 *  waitpid(). Descendants may still be running: the tree is not gone
	 *  until stopped() is called after host->tree_stop(). */
	void (*exited)(struct gust_tree *tree, int status, void *arg);
	/** After host->tree_stop(): every process of the tree is gone and
	 *  reaped. Called exactly once per tree_stop(). */
	void (*stopped)(struct gust_tree *tree, void *arg);
};
/** sizeof(struct gust_tree_events) in ABI 1.0. */
#define GUST_TREE_EVENTS_SIZE_1_0 GUST_SIZE_THROUGH(struct gust_tree_events, stopped)

/**
 * The host table: everything the core offers a plugin. Const, owned by the
 * core, valid for the plugin's whole life. Members are only ever appended:
 * every 1.x core has the members of 1.0 (up to opt_env); test a member
 * appended later with GUST_HAS(host, member) before calling it, since a
 * core older than the header the plugin was built with lacks it.
 */
struct gust_host {
	size_t size;          /**< sizeof(struct gust_host) in the core */
	uint32_t abi_version; /**< the core's GUST_ABI_VERSION */

	/* ---- logging and errors ---- */

	/** Log one line (no trailing newline needed) under the plugin's name. */
	void (*log)(struct gust_ctx *ctx, enum gust_log_level level, const char *fmt, ...)
	    GUST_PRINTF(3, 4);
	/** Record why the current call failed: one line, lowercase, no trailing
	 *  period, naming the key, path or value at fault. The core prints it
	 *  as "gust: <plugin>: <message>". The latest call wins. */
	void (*set_error)(struct gust_ctx *ctx, const char *fmt, ...) GUST_PRINTF(2, 3);

	/* ---- the event loop ---- */

	/** Call cb when fd is ready for the GUST_IO_* events given. One
	 *  registration per fd. The fd stays owned by the plugin; remove it
	 *  with io_del() before closing it. */
	int (*io_add)(struct gust_ctx *ctx, int fd, unsigned events, gust_io_cb cb, void *arg);
	/** Change the events a registered fd waits for. */
	int (*io_mod)(struct gust_ctx *ctx, int fd, unsigned events);
	/** Stop watching fd. Safe to call from fd's own callback. */
	int (*io_del)(struct gust_ctx *ctx, int fd);
	/** Call cb once after ms milliseconds (monotonic clock). Returns a
	 *  non-zero id, or 0 on failure. */
	uint64_t (*timer_add)(struct gust_ctx *ctx, unsigned ms, gust_timer_cb cb, void *arg);
	/** Cancel a pending timer; a fired or unknown id is ignored. */
	void (*timer_cancel)(struct gust_ctx *ctx, uint64_t id);
	/** Call cb once when the child pid (forked by the plugin) exits; the
	 *  core reaps it. For trees started with tree_spawn(), use the tree's
	 *  events instead. */
	int (*child_watch)(struct gust_ctx *ctx, pid_t pid, gust_exit_cb cb, void *arg);

	/* ---- the change filter and the project ---- */

	/** True when the core's filter ignores path (absolute, or relative to
	 *  the root). Watchers call it for directories before walking or
	 *  watching them (is_dir true) so excluded trees are never entered. */
	bool (*is_ignored)(struct gust_ctx *ctx, const char *path, bool is_dir);
	/** The project root, absolute, without trailing slash. Borrowed. */
	const char *(*root)(struct gust_ctx *ctx);
	/** Whether symlinked directories should be followed while walking. */
	bool (*follow_symlinks)(struct gust_ctx *ctx);

	/* ---- the plugin's options (only during create()) ---- */

	/** Fail unless every key of opts is in known (NULL-terminated) or is
	 *  "plugin"; the error names the JSON path and the nearest known key. */
	int (*opt_check_keys)(struct gust_ctx *ctx, const struct gust_opts *opts,
	                      const char *const *known);
	/** Read a string. *out is def when absent; borrowed, valid as long as
	 *  the plugin instance lives. */
	int (*opt_string)(struct gust_ctx *ctx, const struct gust_opts *opts, const char *key,
	                  const char *def, const char **out);
	/** Read an integer within [min, max]. */
	int (*opt_int)(struct gust_ctx *ctx, const struct gust_opts *opts, const char *key,
	               long long def, long long min, long long max, long long *out);
	/** Read a boolean. */
	int (*opt_bool)(struct gust_ctx *ctx, const struct gust_opts *opts, const char *key,
	                bool def, bool *out);
	/** Read an array of strings (a single string is taken as a one-element
	 *  array). *out is NULL-terminated and borrowed like opt_string();
	 *  an absent key gives an empty array. n may be NULL. */
	int (*opt_strv)(struct gust_ctx *ctx, const struct gust_opts *opts, const char *key,
	                const char *const **out, size_t *n);
	/** Read a signal given by name ("SIGTERM", "TERM", "term") or number. */
	int (*opt_signal)(struct gust_ctx *ctx, const struct gust_opts *opts, const char *key,
	                  int def, int *out);

	/* ---- reporting back ---- */

	/** Watcher: path (absolute) changed. The core filters and debounces. */
	void (*changed)(struct gust_ctx *ctx, const char *path, enum gust_change kind);
	/** Builder: the build started by start() ended. status is a waitpid()
	 *  status, or a negative errno when it could not run. Not called for a
	 *  build that was cancelled. */
	void (*build_done)(struct gust_ctx *ctx, int status);
	/** Runner: the program exited by itself; status as from waitpid(). */
	void (*run_exited)(struct gust_ctx *ctx, int status);
	/** Runner: the stop requested by stop() is complete: nothing of the
	 *  run exists any more. Exactly once per stop(). May be called from
	 *  inside stop() (when nothing is left to stop): the core acts on it
	 *  only once stop() has returned, so it never calls start() from
	 *  inside stop(). */
	void (*stop_done)(struct gust_ctx *ctx);

	/* ---- process trees: the lifecycle every runner and builder shares ---- */

	/** Start a process tree: fork; in the child a new process group, default
	 *  signal dispositions, an empty signal mask, the given stdio, cwd and
	 *  environment, parent-death signal SIGKILL, then exec. An exec failure
	 *  comes back here synchronously (ETXTBSY is retried briefly) as NULL
	 *  with the reason set. ev and arg are borrowed for the tree's life. */
	struct gust_tree *(*tree_spawn)(struct gust_ctx *ctx, const struct gust_spawn *spec,
	                                const struct gust_tree_events *ev, void *arg);
	/** Stop the whole tree: sig to the group and to every descendant outside
	 *  it; wait up to kill_delay_ms, ending as soon as the tree is empty;
	 *  then SIGKILL to all that is left; sweep and reap until nothing
	 *  remains, then call ev->stopped. Always completes in bounded time.
	 *  Calling it again while stopping only shortens nothing; use
	 *  tree_kill() to escalate. */
	int (*tree_stop)(struct gust_tree *tree, int sig, unsigned kill_delay_ms);
	/** Escalate now: SIGKILL to every process of the tree. If no stop was
	 *  in progress, one starts (ev->stopped follows). */
	int (*tree_kill)(struct gust_tree *tree);
	/** The root's pid (also the process group id). */
	pid_t (*tree_pid)(const struct gust_tree *tree);
	/** True until ev->stopped has been called. */
	bool (*tree_alive)(const struct gust_tree *tree);
	/** Release the handle. A tree that is not yet gone is killed first
	 *  (synchronously, bounded) so nothing is ever left behind. */
	void (*tree_free)(struct gust_tree *tree);

	/* ---- appended in 1.0 (check size and NULL before use) ---- */

	/** Read an environment (only during create()): an object of
	 *  "NAME": "value" (numbers and booleans taken as their JSON text), or
	 *  an array of "NAME=value" strings. *out is NULL-terminated
	 *  "NAME=value", borrowed like opt_string(); an absent key gives an
	 *  empty list. n may be NULL. */
	int (*opt_env)(struct gust_ctx *ctx, const struct gust_opts *opts, const char *key,
	               const char *const **out, size_t *n);

	/* ---- appended in 1.1 (test with GUST_HAS(host, member) before use) ---- */

	/** The processes of the tree now: the pids of its root and of every
	 *  descendant that is alive (not a zombie), in no particular order; not
	 *  the reaper the core forks for the tree. Writes at most max pids to
	 *  out and returns how many there are, which may be more than max (out
	 *  may be NULL when max is 0). 0 once the tree is gone. Reads /proc
	 *  (only what changed since the core last looked, mostly): call it when
	 *  needed, not in a tight loop. Since 1.1. */
	size_t (*tree_pids)(const struct gust_tree *tree, pid_t *out, size_t max);
	/** Builder, runner: one line of its processes' output, without the
	 *  newline, after the plugin wrote it through. A builder hands every
	 *  line of a build (the core keeps the tail for the build_done event
	 *  of hooks); a runner hands its run's lines only while
	 *  output_wanted() says so. Since 1.1. */
	void (*output_line)(struct gust_ctx *ctx, const char *line, size_t len);
	/** Runner: whether the core wants the run's output lines (the "log"
	 *  readiness check): only then does a runner capture its run's
	 *  stdout and stderr. Asked at each start(). Since 1.1. */
	bool (*output_wanted)(struct gust_ctx *ctx);
	/** Hook: build now, as if a change had been seen (a running build is
	 *  cancelled and started again); the run is restarted if it builds.
	 *  Acted on from the loop, never inside the call. 0, or -ESHUTDOWN
	 *  while gust quits. Since 1.1. */
	int (*request_rebuild)(struct gust_ctx *ctx);
	/** Hook: stop the run and start it again without a build (or start it
	 *  when none is up). Acted on from the loop, never inside the call.
	 *  0, or -ESHUTDOWN while gust quits, -EAGAIN while no build has
	 *  succeeded yet. Since 1.1. */
	int (*request_restart)(struct gust_ctx *ctx);
};
/** sizeof(struct gust_host) in ABI 1.0: every 1.x core's is at least this. */
#define GUST_HOST_SIZE_1_0 GUST_SIZE_THROUGH(struct gust_host, opt_env)

/* ---------------------------------------------------------------------- */

/**
 * Watcher vtable. create() must not watch anything yet; start() places the
 * watches under host->root(), skipping directories host->is_ignored()
 * rejects, and reports changes with host->changed().
 */
struct gust_watcher_ops {
	size_t size; /**< sizeof(struct gust_watcher_ops) */
	/** Parse opts (reject unknown keys), allocate. NULL + set_error. */
	void *(*create)(const struct gust_host *host, struct gust_ctx *ctx,
	                const struct gust_opts *opts);
	/** Walk the root and begin reporting changes. */
	int (*start)(void *self);
	/** Stop, unregister fds and timers, free. self may be NULL. */
	void (*destroy)(void *self);
};
/** sizeof(struct gust_watcher_ops) in ABI 1.0: the least the core accepts. */
#define GUST_WATCHER_OPS_SIZE_1_0 GUST_SIZE_THROUGH(struct gust_watcher_ops, destroy)

/** One build request. Borrowed for the duration of start(). */
struct gust_build_req {
	size_t size;                /**< sizeof(struct gust_build_req) */
	const char *const *changed; /**< NULL-terminated changed paths
	                                 (root-relative); empty on first build */
	const char *changed_file;   /**< file listing them one per line, or NULL */
};
/** sizeof(struct gust_build_req) in ABI 1.0. */
#define GUST_BUILD_REQ_SIZE_1_0 GUST_SIZE_THROUGH(struct gust_build_req, changed_file)

/**
 * Builder vtable. The core never starts a build while one is running: it
 * cancels the old one first.
 */
struct gust_builder_ops {
	size_t size; /**< sizeof(struct gust_builder_ops) */
	void *(*create)(const struct gust_host *host, struct gust_ctx *ctx,
	                const struct gust_opts *opts);
	/** Begin a build; report its end with host->build_done(). */
	int (*start)(void *self, const struct gust_build_req *req);
	/** Cancel the running build. Its whole tree is killed; build_done() is
	 *  not called for it. The core calls start() again only after cancel()
	 *  has returned; the cancelled tree may still be dying, and the builder
	 *  must keep it until it is gone. */
	void (*cancel)(void *self);
	/** Cancel any build, free. self may be NULL. Synchronous: when it
	 *  returns, no process of any build exists. */
	void (*destroy)(void *self);
};
/** sizeof(struct gust_builder_ops) in ABI 1.0: the least the core accepts. */
#define GUST_BUILDER_OPS_SIZE_1_0 GUST_SIZE_THROUGH(struct gust_builder_ops, destroy)

/**
 * Runner vtable. The runner owns the lifecycle of the program's process
 * tree; the core calls start() only when no run exists and stop() only
 * while one does.
 */
struct gust_runner_ops {
	size_t size; /**< sizeof(struct gust_runner_ops) */
	void *(*create)(const struct gust_host *host, struct gust_ctx *ctx,
	                const struct gust_opts *opts);
	/** Start the program. Report its own exit with host->run_exited(). */
	int (*start)(void *self);
	/** Begin the stop; host->stop_done() follows once the tree is gone,
	 *  or from inside this call when nothing is left to stop.
	 *  force: SIGKILL at once (also escalates a stop in progress). */
	int (*stop)(void *self, bool force);
	/** Free. The core calls it only after stop_done(), or with no run. */
	void (*destroy)(void *self);
};
/** sizeof(struct gust_runner_ops) in ABI 1.0: the least the core accepts. */
#define GUST_RUNNER_OPS_SIZE_1_0 GUST_SIZE_THROUGH(struct gust_runner_ops, destroy)

/** A step of the cycle, as hooks see it (since 1.1). */
enum gust_event {
	GUST_EVENT_CHANGE = 1,      /**< changes seen: paths */
	GUST_EVENT_BUILD_START = 2, /**< a build started: paths (empty: the first) */
	GUST_EVENT_BUILD_DONE = 3,  /**< it ended: status, duration_ms, output */
	GUST_EVENT_RUN_START = 4,   /**< the program started */
	GUST_EVENT_READY = 5,       /**< it is ready (status 0: detail says how),
	                                 or was not within ready_timeout_ms
	                                 (status -ETIMEDOUT); duration_ms since
	                                 its start */
	GUST_EVENT_RUN_EXIT = 6,    /**< it exited by itself: status */
	GUST_EVENT_STOP_DONE = 7,   /**< the run gust stopped is gone: duration_ms */
	GUST_EVENT_RELOAD = 8       /**< paths that a "reload" rule matched
	                                 changed: reload what shows them (a
	                                 browser); no build, no restart; detail
	                                 names the rule. A hook ignores an event
	                                 type it does not know (a newer core may
	                                 send more). */
};

/** One event. Everything it points to is borrowed for the call. */
struct gust_event_info {
	size_t size; /**< sizeof(struct gust_event_info) */
	enum gust_event type;
	int status;               /**< BUILD_DONE: a waitpid() status, or a
	                               negative errno when the build could not
	                               run; RUN_EXIT: a waitpid() status;
	                               READY: 0 or -ETIMEDOUT; else 0 */
	uint64_t duration_ms;     /**< see enum gust_event; else 0 */
	const char *const *paths; /**< CHANGE, BUILD_START, RELOAD: NULL-terminated
	                               root-relative paths; else an empty list */
	const char *output;       /**< BUILD_DONE: the last lines the builder
	                               handed over, newline-separated, or "" */
	const char *detail;       /**< READY: what answered ("127.0.0.1:8080
	                               (tcp)"); RELOAD: the rule's name;
	                               else "" */
};

/**
 * Hook vtable (since 1.1): any number of hooks, configured as the array
 * "hooks", each observing every step of the cycle. event() must return
 * quickly (start a process with tree_spawn(), never wait for one); it may
 * ask for an action with host->request_rebuild() or request_restart().
 */
struct gust_hook_ops {
	size_t size; /**< sizeof(struct gust_hook_ops) */
	void *(*create)(const struct gust_host *host, struct gust_ctx *ctx,
	                const struct gust_opts *opts);
	/** One step of the cycle, in the order they happen. */
	void (*event)(void *self, const struct gust_event_info *ev);
	/** Free. Synchronous: when it returns, no process it started exists
	 *  (tree_free() kills what is left). self may be NULL. */
	void (*destroy)(void *self);
};
/** The least size the core accepts for a hook vtable. */
#define GUST_HOOK_OPS_SIZE_1_1 GUST_SIZE_THROUGH(struct gust_hook_ops, destroy)

/**
 * The descriptor every plugin exports as `gust_plugin_desc`, best written
 * with GUST_PLUGIN_DEFINE() below:
 *
 *   static const struct gust_runner_ops ops = { sizeof ops, ... };
 *   GUST_PLUGIN_DEFINE(runner, "myrunner", "1.0", ops);
 */
struct gust_plugin_desc {
	uint32_t abi_version; /**< GUST_ABI_VERSION at build time */
	uint32_t size;        /**< sizeof(struct gust_plugin_desc) */
	uint32_t kind;        /**< enum gust_kind */
	const char *name;     /**< short name, e.g. "inotify" */
	const char *version;  /**< the plugin's own version string */
	const void *ops;      /**< const struct gust_<kind>_ops * */
};
/** sizeof(struct gust_plugin_desc) in ABI 1.0: the least the core accepts. */
#define GUST_PLUGIN_DESC_SIZE_1_0 GUST_SIZE_THROUGH(struct gust_plugin_desc, ops)

#if defined(__GNUC__) || defined(__clang__)
#define GUST_EXPORT __attribute__((visibility("default")))
#else
#define GUST_EXPORT
#endif

/** The one symbol a plugin exports. Declared here with default visibility
 *  so a plugin built with -fvisibility=hidden still exports it. */
extern GUST_EXPORT const struct gust_plugin_desc gust_plugin_desc;

/* The enum gust_kind of each kind's lower-case name, for GUST_PLUGIN_DEFINE. */
#define GUST_KIND_OF_watcher GUST_KIND_WATCHER
#define GUST_KIND_OF_builder GUST_KIND_BUILDER
#define GUST_KIND_OF_runner GUST_KIND_RUNNER
#define GUST_KIND_OF_hook GUST_KIND_HOOK

/**
 * Define the descriptor, at file scope, followed by a semicolon:
 *
 *   GUST_PLUGIN_DEFINE(runner, "myrunner", "1.0", my_ops);
 *
 * kind is watcher, builder, runner or hook; name and version are string
 * literals (or other static strings); ops names the plugin's const struct
 * gust_<kind>_ops, whose type the compiler checks against kind ("pointer
 * type mismatch" when they differ). It sets abi_version and size for the
 * header the plugin is built against.
 */
#define GUST_PLUGIN_DEFINE(kind, name, version, ops)                                               \
	const struct gust_plugin_desc gust_plugin_desc = {                                         \
		GUST_ABI_VERSION,    (uint32_t)sizeof(struct gust_plugin_desc),                    \
		GUST_KIND_OF_##kind, (name),                                                       \
		(version),           (1 ? &(ops) : (const struct gust_##kind##_ops *)0)            \
	}

#ifdef __cplusplus
}
#endif

#endif /* GUST_PLUGIN_H */
