/* builder-shell.c - the "shell" builder: pre_cmd..., cmd, post_cmd..., each
 * run as `/bin/sh -c CMD` in its own process tree (host->tree_spawn), one
 * after another; the first failing step ends the build.
 *
 * Options (section "builder"):
 *   cmd            string, default "go build -o ./tmp/main ."; "" = none
 *   pre_cmd        array of strings run before cmd, in order
 *   post_cmd       array of strings run after a successful cmd
 *   env            object of "NAME": "value", or array of "NAME=value"
 *                  (a bare "NAME" removes it), for every step
 *   cwd            working directory relative to the root, default the root
 *   log_file       path relative to the root: every build's output is also
 *                  appended there (escape sequences removed), framed by a
 *                  header and a result line
 *   kill_delay_ms  grace between SIGTERM and SIGKILL when a build is
 *                  cancelled or a finished step left processes behind
 *   prefix         bool, default true: prefix each output line "build| "
 *   keep           array of program names (as ps shows them: "java",
 *                  "bazel", "sccache") that a finished or cancelled step
 *                  leaves running, with what runs below them: a build
 *                  tool's daemon that makes the next build fast. Stopped
 *                  when gust exits, like everything else.
 *
 * Every step sees GUST_CHANGED (the changed root-relative paths, one per
 * line, cut at whole paths past CHANGED_MAX bytes; empty for the first
 * build) and GUST_CHANGED_FILE (the complete list, one per line) when the
 * core wrote one.
 *
 * Output: when gust's stderr is a terminal, each step's stdout and stderr
 * are the slave of a fresh pseudo-terminal, so compilers keep their colours
 * (they test isatty); the pty is not made the step's controlling terminal
 * (the step keeps its own process group and gust keeps the real terminal),
 * and ONLCR is off so lines arrive as they were written. Otherwise they
 * share one pipe. Either way gust reads the other end non-blocking from the
 * loop and writes whole lines to its stderr.
 *
 * Cancelling: the step's tree gets SIGTERM, then SIGKILL after
 * kill_delay_ms; the core's tree service sweeps escaped descendants. The
 * dying tree is kept on a list until its stopped event, and the next
 * build's first step starts only once every cancelled tree is gone, so two
 * builds never write the same files at once. A step whose shell exited is
 * complete only when its whole tree is gone too: nothing a build starts
 * outlives it. */
#include "config.h"

#include <gust/plugin.h>

#include "outpipe.h"
#include "pathsearch.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <sys/stat.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define DEFAULT_CMD "go build -o ./tmp/main ."
#define LINE_MAX_BYTES 4096
#define CHANGED_MAX 32768
#define READ_CHUNK 65536

struct shell;

struct step {
	const char *name; /* "pre_cmd[0]", "cmd", ... (owned) */
	const char *cmd;  /* borrowed from the options */
};

/* One spawned step: its tree, its output, and where it is in its life. */
struct job {
	struct job *next;
	struct shell *sh;
	struct gust_tree *tree;
	int fd;              /* read end of the output, -1 once closed */
	bool cancelled;      /* part of a cancelled build */
	bool exited;         /* the shell exited; status is valid */
	bool stop_requested; /* tree_stop or tree_kill called */
	bool stopped;        /* the whole tree is gone */
	bool log_midline;    /* the log file's last byte is not a newline */
	bool cr;             /* a \r was the last byte seen */
	int status;
	size_t len; /* bytes in line */
	char line[LINE_MAX_BYTES];
};

struct build {
	bool active;
	bool waiting;   /* first step waits for cancelled trees to go */
	bool finishing; /* no step at all: report success from the kick */
	size_t step;    /* index of the running step */
	char **env;     /* owned, NULL-terminated */
	struct timespec t0;
	unsigned number;
	int logfd;
};

struct shell {
	const struct gust_host *host;
	struct gust_ctx *ctx;
	struct step *steps;
	size_t nsteps;
	const char *const *env; /* borrowed from the options */
	size_t nenv;
	const char *const *keep; /* borrowed from the options, or NULL */
	char *cwd;               /* absolute, owned */
	char *log_path;          /* absolute, owned, or NULL */
	unsigned kill_delay_ms;
	bool prefix;
	bool use_pty;
	bool color;

	struct job *jobs; /* the current job and every dying one */
	struct job *cur;
	struct build b;
	unsigned nbuilds;
	uint64_t kick_timer;
};

static void on_exited(struct gust_tree *tree, int status, void *arg);
static void on_stopped(struct gust_tree *tree, void *arg);

static const struct gust_tree_events job_events = {
	.size = sizeof(struct gust_tree_events),
	.exited = on_exited,
	.stopped = on_stopped,
};

/* ---- small helpers ---- */

static double seconds_since(const struct timespec *t0)
{
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	return (double)(now.tv_sec - t0->tv_sec) + (double)(now.tv_nsec - t0->tv_nsec) / 1e9;
}

static void describe_status(int status, char *buf, size_t len)
{
	if (status < 0)
		snprintf(buf, len, "could not run: %s", strerror(-status));
	else if (WIFEXITED(status))
		snprintf(buf, len, "exit %d", WEXITSTATUS(status));
	else if (WIFSIGNALED(status))
		snprintf(buf, len, "signal %d", WTERMSIG(status));
	else
		snprintf(buf, len, "status 0x%x", (unsigned)status);
}

static char *join_root(const char *root, const char *path)
{
	char *out;
	if (path[0] == '/')
		return strdup(path);
	if (strcmp(path, ".") == 0 || path[0] == '\0')
		return strdup(root);
	if (asprintf(&out, "%s/%s", root, path) < 0)
		return NULL;
	return out;
}

/* The log file gets the text without terminal escape sequences. */
static void log_file_write(int fd, const char *buf, size_t len)
{
	char out[READ_CHUNK];
	size_t o = 0;
	for (size_t i = 0; i < len; i++) {
		if (buf[i] == '\033' && i + 1 < len && buf[i + 1] == '[') {
			i += 2;
			while (i < len && !((buf[i] >= '@' && buf[i] <= '~')))
				i++;
			continue;
		}
		if (buf[i] == '\r')
			continue;
		out[o++] = buf[i];
		if (o == sizeof out) {
			outpipe_write_all(fd, out, o);
			o = 0;
		}
	}
	outpipe_write_all(fd, out, o);
}

/* ---- output ---- */

static void emit_line(struct shell *sh, const char *s, size_t len)
{
	char buf[LINE_MAX_BYTES + 64];
	const char *pre = sh->color ? "\033[2mbuild|\033[0m " : "build| ";
	size_t pl = strlen(pre);
	if (len > LINE_MAX_BYTES)
		len = LINE_MAX_BYTES;
	memcpy(buf, pre, pl);
	memcpy(buf + pl, s, len);
	buf[pl + len] = '\n';
	/* one write per line so gust's own lines never split one */
	outpipe_write_all(STDERR_FILENO, buf, pl + len + 1);
}

/* A whole line of the current build: to the core, for hooks. */
static void hand_over(struct job *job)
{
	const struct gust_host *h = job->sh->host;
	if (job == job->sh->cur && GUST_HAS(h, output_line))
		h->output_line(job->sh->ctx, job->line, job->len);
}

static void flush_partial(struct job *job)
{
	if (job->len > 0)
		hand_over(job);
	if (job->len > 0 && job->sh->prefix)
		emit_line(job->sh, job->line, job->len);
	else if (job->len > 0)
		outpipe_write_all(STDERR_FILENO, "\n", 1);
	job->len = 0;
	job->cr = false;
}

static void take_output(void *arg, const char *buf, size_t n)
{
	struct job *job = arg;
	struct shell *sh = job->sh;
	if (job == sh->cur && sh->b.logfd >= 0) {
		log_file_write(sh->b.logfd, buf, n);
		job->log_midline = buf[n - 1] != '\n';
	}
	if (!sh->prefix)
		outpipe_write_all(STDERR_FILENO, buf, n);
	/* the lines are split either way: the core gets each one */
	for (size_t i = 0; i < n; i++) {
		if (buf[i] == '\n') {
			hand_over(job);
			if (sh->prefix)
				emit_line(sh, job->line, job->len);
			job->len = 0;
			job->cr = false;
			continue;
		}
		if (buf[i] == '\r') {
			job->cr = true;
			continue;
		}
		if (job->cr) {
			/* a progress line redrawn in place: keep its newest state,
			 * never a bare \r that would overwrite the prefix */
			job->cr = false;
			job->len = 0;
		}
		if (job->len == sizeof job->line) {
			hand_over(job);
			if (sh->prefix)
				emit_line(sh, job->line, job->len);
			job->len = 0;
		}
		job->line[job->len++] = buf[i];
	}
}

static void close_output(struct job *job)
{
	if (job->fd < 0)
		return;
	job->sh->host->io_del(job->sh->ctx, job->fd);
	close(job->fd);
	job->fd = -1;
	flush_partial(job);
	if (job->log_midline && job == job->sh->cur && job->sh->b.logfd >= 0)
		outpipe_write_all(job->sh->b.logfd, "\n", 1);
	job->log_midline = false;
}

/* Read what is there (outpipe_read); close at end of file. */
static void read_output(struct job *job, bool bounded)
{
	if (outpipe_read(&job->fd, bounded, take_output, job))
		close_output(job);
}

static void on_io(int fd, unsigned events, void *arg)
{
	(void)fd;
	(void)events;
	read_output(arg, true);
}

/* ---- jobs ---- */

static void kick(struct shell *sh);

static void job_stop(struct job *job, bool now)
{
	struct shell *sh = job->sh;
	if (job->stopped)
		return;
	int r;
	if (now || sh->kill_delay_ms == 0)
		r = sh->host->tree_kill(job->tree);
	else if (job->stop_requested)
		return;
	else
		r = sh->host->tree_stop(job->tree, SIGTERM, sh->kill_delay_ms);
	job->stop_requested = true;
	if (r < 0 && !sh->host->tree_alive(job->tree)) {
		/* nothing left to stop: no stopped event will come */
		job->stopped = true;
		kick(sh);
	}
}

static void on_exited(struct gust_tree *tree, int status, void *arg)
{
	struct job *job = arg;
	(void)tree;
	job->exited = true;
	job->status = status;
	/* The step is over; whatever it left running is stopped with it. */
	job_stop(job, false);
}

static void on_stopped(struct gust_tree *tree, void *arg)
{
	struct job *job = arg;
	(void)tree;
	job->stopped = true;
	/* Free the tree outside its own callback. */
	kick(job->sh);
}

static void job_free(struct job *job)
{
	close_output(job);
	if (job->tree)
		job->sh->host->tree_free(job->tree);
	free(job);
}

/* Spawn the build's current step as sh->cur. 0 or -errno with the reason
 * recorded with set_error. */
/* ---- commands that need no shell ---- */

/* Builtins that act on the shell itself: never run as a program. */
static const char *const shell_only[] = { "alias",    "bg",       "break",  "cd",   "command",
	                                  "continue", "eval",     "exec",   "exit", "export",
	                                  "fg",       "getopts",  "hash",   "jobs", "local",
	                                  "read",     "readonly", "return", "set",  "shift",
	                                  "source",   "times",    "trap",   "type", "ulimit",
	                                  "umask",    "unset",    "wait",   NULL };

static bool plain_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       (c && strchr("-_./:,+@%^=", c));
}

/* Is word an executable file, as a path (against cwd) or found in path
 * (NULL: unset) as the core will look for it? */
static bool runnable(const char *word, const char *cwd, const char *path)
{
	char buf[4200];
	if (strchr(word, '/')) {
		if (word[0] != '/' &&
		    snprintf(buf, sizeof buf, "%s/%s", cwd, word) < (int)sizeof buf)
			word = buf;
		return path_is_exec(word);
	}
	char *found = path_search(word, path, cwd);
	free(found);
	return found != NULL;
}

/* A command with nothing for a shell to do runs without one, as make(1)
 * does: words of plain characters (no quotes, variables, globs,
 * redirections, operators or comments), no assignment first, and the first
 * word a program that exists. Saves starting /bin/sh for each step (about
 * half a millisecond) and the program gets the step's signals itself.
 * The words (malloc'd, one block), or NULL: run it through /bin/sh -c. */
static char **plain_argv(const char *cmd, const char *cwd, const char *const *env)
{
	size_t words = 0, len = strlen(cmd);
	for (size_t i = 0; i < len; i++) {
		if (cmd[i] == ' ')
			continue;
		if (!plain_char(cmd[i]))
			return NULL;
		if (i == 0 || cmd[i - 1] == ' ')
			words++;
	}
	if (!words)
		return NULL;
	char **argv = malloc((words + 1) * sizeof *argv + len + 1);
	if (!argv)
		return NULL;
	char *text = (char *)(argv + words + 1);
	memcpy(text, cmd, len + 1);
	size_t k = 0;
	for (char *tok = strtok(text, " "); tok; tok = strtok(NULL, " "))
		argv[k++] = tok;
	argv[k] = NULL;
	const char *path = getenv("PATH");
	for (size_t i = 0; env && env[i]; i++)
		if (strncmp(env[i], "PATH=", 5) == 0)
			path = env[i] + 5;
	bool ok = !strchr(argv[0], '=') && runnable(argv[0], cwd, path);
	for (size_t i = 0; ok && shell_only[i]; i++)
		ok = strcmp(argv[0], shell_only[i]) != 0;
	if (!ok) {
		free(argv);
		return NULL;
	}
	return argv;
}

static int spawn_step(struct shell *sh)
{
	const struct step *st = &sh->steps[sh->b.step];
	struct job *job = calloc(1, sizeof *job);
	if (!job) {
		sh->host->set_error(sh->ctx, "out of memory");
		return -ENOMEM;
	}
	job->sh = sh;
	int wr = -1;
	int r = outpipe_open(sh->use_pty, STDERR_FILENO, &job->fd, &wr);
	if (r < 0) {
		sh->host->set_error(sh->ctx, "%s: cannot create the output pipe: %s", st->name,
		                    strerror(-r));
		free(job);
		return r;
	}
	const char *sh_argv[] = { "/bin/sh", "-c", st->cmd, NULL };
	char **words = plain_argv(st->cmd, sh->cwd, (const char *const *)sh->b.env);
	struct gust_spawn spec = {
		.size = sizeof spec,
		.argv = words ? (const char *const *)words : sh_argv,
		.env = (const char *const *)sh->b.env,
		.cwd = sh->cwd,
		.stdin_fd = -1,
		.stdout_fd = wr,
		.stderr_fd = wr,
		.flags = words ? 0 : GUST_SPAWN_NO_PATH,
		.keep = sh->keep,
	};
	sh->host->log(sh->ctx, GUST_LOG_DEBUG, "%s: %s%s", st->name, st->cmd,
	              words ? " (no shell needed)" : "");
	errno = 0;
	job->tree = sh->host->tree_spawn(sh->ctx, &spec, &job_events, job);
	int e = errno ? errno : EIO;
	free(words);
	close(wr);
	if (!job->tree) {
		close(job->fd);
		free(job);
		return -e;
	}
	r = sh->host->io_add(sh->ctx, job->fd, GUST_IO_READ, on_io, job);
	if (r < 0) {
		/* cannot read it: it would block on a full pipe, so end it */
		sh->host->set_error(sh->ctx, "%s: cannot watch the output: %s", st->name,
		                    strerror(-r));
		close(job->fd);
		job->fd = -1;
		job->cancelled = true;
		job->next = sh->jobs;
		sh->jobs = job;
		job_stop(job, true);
		return r;
	}
	job->next = sh->jobs;
	sh->jobs = job;
	sh->cur = job;
	return 0;
}

/* ---- builds ---- */

static void free_env(char **env)
{
	if (!env)
		return;
	for (size_t i = 0; env[i]; i++)
		free(env[i]);
	free(env);
}

static char *changed_var(const char *const *changed)
{
	size_t len = strlen("GUST_CHANGED=");
	size_t n = 0;
	for (; changed && changed[n]; n++) {
		size_t l = strlen(changed[n]) + 1;
		if (len + l > CHANGED_MAX)
			break;
		len += l;
	}
	char *s = malloc(len + 1);
	if (!s)
		return NULL;
	char *p = stpcpy(s, "GUST_CHANGED=");
	for (size_t i = 0; i < n; i++) {
		if (i > 0)
			*p++ = '\n';
		p = stpcpy(p, changed[i]);
	}
	*p = '\0';
	return s;
}

static char **build_env(struct shell *sh, const struct gust_build_req *req)
{
	char **env = calloc(sh->nenv + 3, sizeof *env);
	if (!env)
		return NULL;
	size_t n = 0;
	for (size_t i = 0; i < sh->nenv; i++)
		if (!(env[n++] = strdup(sh->env[i])))
			goto fail;
	if (!(env[n++] = changed_var(req->changed)))
		goto fail;
	const char *file =
	    req->size > offsetof(struct gust_build_req, changed_file) ? req->changed_file : NULL;
	if (file) {
		if (asprintf(&env[n++], "GUST_CHANGED_FILE=%s", file) < 0) {
			env[n - 1] = NULL;
			goto fail;
		}
	} else if (!(env[n++] = strdup("GUST_CHANGED_FILE"))) {
		goto fail;
	}
	return env;
fail:
	free_env(env);
	return NULL;
}

static void log_header(struct shell *sh, const struct gust_build_req *req)
{
	if (!sh->log_path)
		return;
	sh->b.logfd =
	    open(sh->log_path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOCTTY, 0644);
	if (sh->b.logfd < 0) {
		sh->host->log(sh->ctx, GUST_LOG_WARN, "log_file \"%s\": %s", sh->log_path,
		              strerror(errno));
		return;
	}
	char when[64] = "";
	time_t t = time(NULL);
	struct tm tm;
	if (localtime_r(&t, &tm))
		strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S", &tm);
	size_t n = 0;
	while (req->changed && req->changed[n])
		n++;
	char line[1024];
	int l;
	if (n == 0)
		l = snprintf(line, sizeof line, "==== gust build %u at %s ====\n", sh->b.number,
		             when);
	else if (n == 1)
		l = snprintf(line, sizeof line, "==== gust build %u at %s: %s changed ====\n",
		             sh->b.number, when, req->changed[0]);
	else
		l = snprintf(line, sizeof line,
		             "==== gust build %u at %s: %s and %zu more changed ====\n",
		             sh->b.number, when, req->changed[0], n - 1);
	if (l < 0)
		return;
	if ((size_t)l >= sizeof line) {
		l = sizeof line - 1;
		line[l - 1] = '\n';
	}
	outpipe_write_all(sh->b.logfd, line, (size_t)l);
}

static void build_clear(struct shell *sh, const char *result)
{
	if (sh->b.logfd >= 0) {
		char line[256];
		int l = snprintf(line, sizeof line, "==== gust build %u %s in %.2f s ====\n",
		                 sh->b.number, result, seconds_since(&sh->b.t0));
		if (l > 0 && (size_t)l < sizeof line)
			outpipe_write_all(sh->b.logfd, line, (size_t)l);
		close(sh->b.logfd);
	}
	free_env(sh->b.env);
	memset(&sh->b, 0, sizeof sh->b);
	sh->b.logfd = -1;
	sh->cur = NULL;
}

static void build_end(struct shell *sh, int status)
{
	char what[96], result[128];
	if (status == 0) {
		snprintf(result, sizeof result, "ok");
	} else {
		describe_status(status, what, sizeof what);
		snprintf(result, sizeof result, "failed (%s)", what);
	}
	build_clear(sh, result);
	sh->host->build_done(sh->ctx, status);
}

/* Begin the current step; on failure end the build with the error. */
static void run_step_or_fail(struct shell *sh)
{
	int r = spawn_step(sh);
	if (r < 0) {
		sh->host->log(sh->ctx, GUST_LOG_ERROR, "%s: cannot start \"%s\": %s",
		              sh->steps[sh->b.step].name, sh->steps[sh->b.step].cmd, strerror(-r));
		build_end(sh, r);
	}
}

static void step_done(struct shell *sh, int status)
{
	const struct step *st = &sh->steps[sh->b.step];
	sh->cur = NULL;
	if (status != 0) {
		if (sh->nsteps > 1) {
			char what[96];
			describe_status(status, what, sizeof what);
			sh->host->log(sh->ctx, GUST_LOG_INFO, "%s failed (%s): %s", st->name, what,
			              st->cmd);
		}
		build_end(sh, status);
		return;
	}
	if (++sh->b.step == sh->nsteps) {
		build_end(sh, 0);
		return;
	}
	run_step_or_fail(sh);
}

static void on_kick(void *arg)
{
	struct shell *sh = arg;
	sh->kick_timer = 0;
	struct job **pp = &sh->jobs;
	while (*pp) {
		struct job *job = *pp;
		if (!job->stopped) {
			pp = &job->next;
			continue;
		}
		*pp = job->next;
		/* every writer is gone: what is left in the pipe is the end */
		read_output(job, false);
		bool current = job == sh->cur;
		int status = job->exited ? job->status : -EIO;
		job_free(job);
		if (current)
			step_done(sh, status);
	}
	if (sh->b.active && sh->b.waiting && !sh->jobs) {
		sh->b.waiting = false;
		sh->host->log(sh->ctx, GUST_LOG_DEBUG, "the cancelled build is gone");
		run_step_or_fail(sh);
	}
	if (sh->b.active && sh->b.finishing)
		build_end(sh, 0);
}

static void kick(struct shell *sh)
{
	if (!sh->kick_timer)
		sh->kick_timer = sh->host->timer_add(sh->ctx, 0, on_kick, sh);
}

/* ---- the vtable ---- */

static void shell_cancel(void *self);

static int shell_start(void *self, const struct gust_build_req *req)
{
	struct shell *sh = self;
	if (sh->b.active)
		shell_cancel(sh);
	memset(&sh->b, 0, sizeof sh->b);
	sh->b.logfd = -1;
	if (!(sh->b.env = build_env(sh, req))) {
		sh->host->set_error(sh->ctx, "out of memory");
		return -ENOMEM;
	}
	sh->b.active = true;
	sh->b.number = ++sh->nbuilds;
	clock_gettime(CLOCK_MONOTONIC, &sh->b.t0);
	log_header(sh, req);
	if (sh->nsteps == 0) {
		sh->b.finishing = true;
		kick(sh);
		return 0;
	}
	if (sh->jobs) {
		sh->b.waiting = true;
		sh->host->log(sh->ctx, GUST_LOG_DEBUG, "waiting for the cancelled build to end");
		return 0;
	}
	int r = spawn_step(sh);
	if (r < 0) {
		build_clear(sh, "could not start");
		return r;
	}
	return 0;
}

static void shell_cancel(void *self)
{
	struct shell *sh = self;
	if (!sh->b.active)
		return;
	struct job *job = sh->cur;
	if (job) {
		job->cancelled = true;
		close_output(job);
		job_stop(job, false);
	}
	build_clear(sh, "cancelled");
}

static void shell_destroy(void *self)
{
	struct shell *sh = self;
	if (!sh)
		return;
	shell_cancel(sh);
	if (sh->kick_timer)
		sh->host->timer_cancel(sh->ctx, sh->kick_timer);
	while (sh->jobs) {
		struct job *job = sh->jobs;
		sh->jobs = job->next;
		job_free(job); /* tree_free kills what is left, synchronously */
	}
	for (size_t i = 0; i < sh->nsteps; i++)
		free((char *)sh->steps[i].name);
	free(sh->steps);
	free(sh->cwd);
	free(sh->log_path);
	free(sh);
}

static int add_steps(struct shell *sh, const char *key, const char *const *cmds, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		char *name;
		if (asprintf(&name, "%s[%zu]", key, i) < 0)
			return -ENOMEM;
		sh->steps[sh->nsteps].name = name;
		sh->steps[sh->nsteps++].cmd = cmds[i];
	}
	return 0;
}

static void *shell_create(const struct gust_host *host, struct gust_ctx *ctx,
                          const struct gust_opts *opts)
{
	static const char *const known[] = {
		"cmd",      "pre_cmd",       "post_cmd", "env",  "cwd",
		"log_file", "kill_delay_ms", "prefix",   "keep", NULL
	};
	const char *cmd, *cwd, *log_file;
	const char *const *pre, *const *post, *const *keep;
	size_t npre, npost, nkeep;
	long long delay;
	struct shell *sh = calloc(1, sizeof *sh);
	if (!sh) {
		host->set_error(ctx, "out of memory");
		return NULL;
	}
	sh->host = host;
	sh->ctx = ctx;
	sh->b.logfd = -1;
	/* opt_env (an object, or an array of "K=V") was appended to the host
	 * table; older cores only offer the array form */
	bool have_opt_env =
	    host->size >= offsetof(struct gust_host, opt_env) + sizeof host->opt_env &&
	    host->opt_env;
	if (host->opt_check_keys(ctx, opts, known) < 0 ||
	    host->opt_string(ctx, opts, "cmd", DEFAULT_CMD, &cmd) < 0 ||
	    host->opt_strv(ctx, opts, "pre_cmd", &pre, &npre) < 0 ||
	    host->opt_strv(ctx, opts, "post_cmd", &post, &npost) < 0 ||
	    (have_opt_env ? host->opt_env(ctx, opts, "env", &sh->env, &sh->nenv)
	                  : host->opt_strv(ctx, opts, "env", &sh->env, &sh->nenv)) < 0 ||
	    host->opt_string(ctx, opts, "cwd", ".", &cwd) < 0 ||
	    host->opt_string(ctx, opts, "log_file", NULL, &log_file) < 0 ||
	    host->opt_int(ctx, opts, "kill_delay_ms", 500, 0, 600000, &delay) < 0 ||
	    host->opt_bool(ctx, opts, "prefix", true, &sh->prefix) < 0 ||
	    host->opt_strv(ctx, opts, "keep", &keep, &nkeep) < 0)
		goto fail;
	for (size_t i = 0; i < nkeep; i++)
		if (!keep[i][0] || strchr(keep[i], '/')) {
			host->set_error(ctx,
			                "keep[%zu]: expected a program's name as ps shows it "
			                "(e.g. \"java\"), got \"%s\"",
			                i, keep[i]);
			goto fail;
		}
	sh->keep = nkeep ? keep : NULL;
	for (size_t i = 0; i < sh->nenv; i++) {
		const char *e = sh->env[i];
		if (e[0] == '\0' || e[0] == '=') {
			host->set_error(ctx, "env[%zu]: expected \"NAME=value\", got \"%s\"", i, e);
			goto fail;
		}
	}
	sh->kill_delay_ms = (unsigned)delay;
	sh->steps = calloc(npre + npost + 1, sizeof *sh->steps);
	if (!sh->steps)
		goto oom;
	if (add_steps(sh, "pre_cmd", pre, npre) < 0)
		goto oom;
	if (cmd && cmd[0]) {
		if (!(sh->steps[sh->nsteps].name = strdup("cmd")))
			goto oom;
		sh->steps[sh->nsteps++].cmd = cmd;
	}
	if (add_steps(sh, "post_cmd", post, npost) < 0)
		goto oom;
	if (!(sh->cwd = join_root(host->root(ctx), cwd)))
		goto oom;
	if (log_file && log_file[0] && !(sh->log_path = join_root(host->root(ctx), log_file)))
		goto oom;
	sh->use_pty = isatty(STDERR_FILENO);
	const char *nc = getenv("NO_COLOR");
	sh->color = sh->use_pty && !(nc && nc[0]);
	return sh;
oom:
	host->set_error(ctx, "out of memory");
fail:
	shell_destroy(sh);
	return NULL;
}

static const struct gust_builder_ops shell_ops = {
	.size = sizeof(struct gust_builder_ops),
	.create = shell_create,
	.start = shell_start,
	.cancel = shell_cancel,
	.destroy = shell_destroy,
};

GUST_PLUGIN_DEFINE(builder, "shell", PACKAGE_VERSION, shell_ops);
