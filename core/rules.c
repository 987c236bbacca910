/* rules.c - the rules' filters and their commands (see rules.h).
 *
 * A command is `/bin/sh -c CMD` in the root, its stdout and stderr one
 * pipe read from the loop, each line written to gust's stderr as
 * "NAME| line". It sees GUST_RULE (the rule's name) and GUST_CHANGED (its
 * paths, one per line, cut at whole paths past CHANGED_MAX bytes). A
 * command whose shell exited is over only once its whole tree is gone (the
 * rest gets SIGTERM, then SIGKILL after KILL_DELAY_MS), so what a run
 * starts never outlives it nor overlaps the next run. */
#include "config.h"

#include "rules.h"

#include "conf.h"
#include "filter.h"
#include "log.h"
#include "loop.h"
#include "ptree.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define CHANGED_MAX 32768
#define KILL_DELAY_MS 2000u
#define LINE_MAX_BYTES 4096

struct rule {
	struct rules *rs;
	const struct rule_config *rc;
	struct filter *filter;
	/* the running command, if any */
	struct gust_tree *tree;
	int fd; /* its output, -1 when closed */
	bool cancelled, exited;
	uint64_t started_ms;
	uint64_t free_timer;
	size_t len; /* bytes in line */
	char line[LINE_MAX_BYTES];
	char **cur; /* the running command's paths */
	size_t ncur;
	/* the paths of the next run, waiting for this one to go */
	char **next;
	size_t nnext;
};

struct rules {
	const struct config *cfg;
	struct loop *loop;
	struct ptree_mgr *ptrees;
	void (*idle)(void *arg);
	void *arg;
	bool quitting;
	struct rule *v;
	size_t n;
};

static void on_exited(struct gust_tree *tree, int status, void *arg);
static void on_stopped(struct gust_tree *tree, void *arg);

static const struct gust_tree_events tree_events = {
	.size = sizeof(struct gust_tree_events),
	.exited = on_exited,
	.stopped = on_stopped,
};

struct rules *rules_new(const struct config *cfg, struct loop *loop, struct ptree_mgr *ptrees,
                        void (*idle)(void *arg), void *arg, char *err, size_t errlen)
{
	struct rules *r = calloc(1, sizeof *r);
	if (!r || (cfg->nrules && !(r->v = calloc(cfg->nrules, sizeof *r->v)))) {
		free(r);
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	r->cfg = cfg;
	r->loop = loop;
	r->ptrees = ptrees;
	r->idle = idle;
	r->arg = arg;
	for (size_t i = 0; i < cfg->nrules; i++) {
		/* a rule's filter: the root's and tmp_dir's, with its lists */
		struct config fc = { .root = cfg->root, .tmp_dir = cfg->tmp_dir };
		struct rule *ru = &r->v[i];
		fc.watch = cfg->rules[i].match;
		ru->rs = r;
		ru->rc = &cfg->rules[i];
		ru->fd = -1;
		r->n = i + 1;
		if (!(ru->filter = filter_new(&fc, err, errlen))) {
			rules_free(r);
			return NULL;
		}
	}
	return r;
}

static void clear_list(char ***v, size_t *n)
{
	for (size_t i = 0; i < *n; i++)
		free((*v)[i]);
	free(*v);
	*v = NULL;
	*n = 0;
}

static void clear_next(struct rule *ru)
{
	clear_list(&ru->next, &ru->nnext);
}

/* paths (n of them) added to the next run's, each once */
static void add_next(struct rule *ru, char *const *paths, size_t n)
{
	for (size_t k = 0; k < n; k++) {
		bool have = false;
		for (size_t j = 0; j < ru->nnext && !have; j++)
			have = strcmp(ru->next[j], paths[k]) == 0;
		char **nv = have ? NULL : realloc(ru->next, (ru->nnext + 2) * sizeof *nv);
		if (!nv)
			continue; /* there already, or out of memory: lost */
		ru->next = nv;
		if ((nv[ru->nnext] = strdup(paths[k])))
			ru->nnext++;
	}
}

void rules_free(struct rules *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->n; i++) {
		struct rule *ru = &r->v[i];
		if (ru->free_timer)
			loop_timer_cancel(r->loop, ru->free_timer);
		if (ru->fd >= 0) {
			loop_io_del(r->loop, ru->fd);
			close(ru->fd);
		}
		if (ru->tree)
			ptree_free(ru->tree); /* kills what is left, bounded */
		clear_next(ru);
		clear_list(&ru->cur, &ru->ncur);
		filter_free(ru->filter);
	}
	free(r->v);
	free(r);
}

bool rules_match(struct rules *r, size_t i, const char *path)
{
	return i < r->n && !filter_ignored(r->v[i].filter, path, false);
}

bool rules_dir_ignored(struct rules *r, const char *path)
{
	for (size_t i = 0; i < r->n; i++)
		if (!filter_ignored(r->v[i].filter, path, true))
			return false;
	return true;
}

bool rules_busy(const struct rules *r)
{
	for (size_t i = 0; r && i < r->n; i++)
		if (r->v[i].tree)
			return true;
	return false;
}

/* ---- output ---- */

static void emit_line(struct rule *ru)
{
	char buf[LINE_MAX_BYTES + 160];
	bool color = log_color();
	int pl = snprintf(buf, 160, color ? "\033[2m%.100s|\033[0m " : "%.100s| ", ru->rc->name);
	memcpy(buf + pl, ru->line, ru->len);
	buf[pl + ru->len] = '\n';
	/* one write per line so gust's own lines never split one */
	(void)!write(STDERR_FILENO, buf, (size_t)pl + ru->len + 1);
	ru->len = 0;
}

static void close_output(struct rule *ru)
{
	if (ru->fd < 0)
		return;
	loop_io_del(ru->rs->loop, ru->fd);
	close(ru->fd);
	ru->fd = -1;
	if (ru->len)
		emit_line(ru);
}

/* What is there, at most one chunk (the loop calls again while more is);
 * closed at end of file. */
static void on_output(int fd, unsigned events, void *arg)
{
	struct rule *ru = arg;
	char buf[16384];
	(void)events;
	ssize_t n = read(fd, buf, sizeof buf);
	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return;
	if (n <= 0) {
		close_output(ru);
		return;
	}
	for (ssize_t i = 0; i < n; i++) {
		if (buf[i] == '\n') {
			emit_line(ru);
			continue;
		}
		if (ru->len == sizeof ru->line)
			emit_line(ru);
		ru->line[ru->len++] = buf[i];
	}
}

/* ---- runs ---- */

/* "GUST_CHANGED=" and the paths, one per line, cut at whole paths. */
static char *changed_var(char *const *paths, size_t n)
{
	static const char pre[] = "GUST_CHANGED=";
	char *s = malloc(sizeof pre + CHANGED_MAX + 1);
	if (!s)
		return NULL;
	size_t k = sizeof pre - 1;
	memcpy(s, pre, k);
	for (size_t i = 0; i < n; i++) {
		size_t l = strlen(paths[i]);
		if (k - (sizeof pre - 1) + l + 1 > CHANGED_MAX)
			break;
		if (i)
			s[k++] = '\n';
		memcpy(s + k, paths[i], l);
		k += l;
	}
	s[k] = '\0';
	return s;
}

static void start_next(struct rule *ru)
{
	struct rules *r = ru->rs;
	char err[512];
	int pfd[2];
	char *changed = changed_var(ru->next, ru->nnext);
	char *name = NULL;
	if (!changed || asprintf(&name, "GUST_RULE=%s", ru->rc->name) < 0) {
		log_msg(GUST_LOG_ERROR, STAGE_GUST, "rule \"%s\": out of memory", ru->rc->name);
		goto out;
	}
	if (pipe2(pfd, O_CLOEXEC) < 0) {
		log_msg(GUST_LOG_ERROR, STAGE_GUST, "rule \"%s\": cannot make a pipe: %s",
		        ru->rc->name, strerror(errno));
		goto out;
	}
	(void)fcntl(pfd[0], F_SETFL, O_NONBLOCK);
	const char *argv[] = { "/bin/sh", "-c", ru->rc->cmd, NULL };
	const char *env[] = { changed, name, NULL };
	struct gust_spawn sp = {
		.size = sizeof sp,
		.argv = argv,
		.env = env,
		.cwd = r->cfg->root,
		.stdin_fd = -1,
		.stdout_fd = pfd[1],
		.stderr_fd = pfd[1],
		.flags = GUST_SPAWN_NO_PATH,
	};
	ru->tree = ptree_spawn(r->ptrees, &sp, &tree_events, ru, err, sizeof err);
	close(pfd[1]);
	if (!ru->tree || loop_io_add(r->loop, pfd[0], GUST_IO_READ, on_output, ru) < 0) {
		log_msg(GUST_LOG_ERROR, STAGE_GUST, "rule \"%s\": cannot run \"%s\": %s",
		        ru->rc->name, ru->rc->cmd, ru->tree ? strerror(errno) : err);
		close(pfd[0]);
		if (ru->tree)
			ptree_free(ru->tree);
		ru->tree = NULL;
		goto out;
	}
	ru->fd = pfd[0];
	ru->cancelled = ru->exited = false;
	ru->len = 0;
	ru->started_ms = loop_now_ms();
	if (ru->nnext == 1)
		log_msg(GUST_LOG_INFO, STAGE_GUST, "rule \"%s\": %s changed: running %s",
		        ru->rc->name, ru->next[0], ru->rc->cmd);
	else
		log_msg(GUST_LOG_INFO, STAGE_GUST,
		        "rule \"%s\": %s and %zu more changed: running %s", ru->rc->name,
		        ru->next[0], ru->nnext - 1, ru->rc->cmd);
	clear_list(&ru->cur, &ru->ncur);
	ru->cur = ru->next; /* what a cancel gives the run after it */
	ru->ncur = ru->nnext;
	ru->next = NULL;
	ru->nnext = 0;
out:
	clear_next(ru);
	free(changed);
	free(name);
}

/* The tree is gone: free it (outside its own callback), then the next run. */
static void on_free_timer(void *arg)
{
	struct rule *ru = arg;
	ru->free_timer = 0;
	close_output(ru);
	ptree_free(ru->tree);
	ru->tree = NULL;
	if (ru->nnext && !ru->rs->quitting)
		start_next(ru);
	if (!rules_busy(ru->rs))
		ru->rs->idle(ru->rs->arg);
}

static void gone(struct rule *ru)
{
	if (!ru->free_timer)
		ru->free_timer = loop_timer_add(ru->rs->loop, 0, on_free_timer, ru);
}

static void stop_tree(struct rule *ru)
{
	if (ptree_stop(ru->tree, SIGTERM, KILL_DELAY_MS) < 0 && !ptree_alive(ru->tree))
		gone(ru); /* nothing left: no stopped event comes */
}

static void on_exited(struct gust_tree *tree, int status, void *arg)
{
	struct rule *ru = arg;
	(void)tree;
	ru->exited = true;
	uint64_t ms = loop_now_ms() - ru->started_ms;
	if (ru->cancelled || ru->rs->quitting)
		;
	else if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		log_msg(GUST_LOG_INFO, STAGE_GUST, "rule \"%s\": ok in %llu ms", ru->rc->name,
		        (unsigned long long)ms);
	else if (WIFEXITED(status))
		log_msg(GUST_LOG_ERROR, STAGE_GUST,
		        "rule \"%s\": failed (exit status %d) in %llu ms", ru->rc->name,
		        WEXITSTATUS(status), (unsigned long long)ms);
	else
		log_msg(GUST_LOG_ERROR, STAGE_GUST,
		        "rule \"%s\": failed (killed by signal %d) in %llu ms", ru->rc->name,
		        WTERMSIG(status), (unsigned long long)ms);
	/* over; whatever it left running is stopped with it */
	stop_tree(ru);
}

static void on_stopped(struct gust_tree *tree, void *arg)
{
	(void)tree;
	gone(arg);
}

void rules_run(struct rules *r, size_t i, char *const *paths, size_t n)
{
	struct rule *ru = &r->v[i];
	if (r->quitting)
		return;
	add_next(ru, paths, n);
	if (!ru->tree) {
		start_next(ru);
		return;
	}
	if (!ru->cancelled && !ru->exited) {
		log_msg(GUST_LOG_INFO, STAGE_GUST, "rule \"%s\": newer changes: cancelling %s",
		        ru->rc->name, ru->rc->cmd);
		ru->cancelled = true;
		add_next(ru, ru->cur, ru->ncur); /* not done: the next run has them too */
		stop_tree(ru);
	}
}

void rules_stop_all(struct rules *r)
{
	if (!r)
		return;
	r->quitting = true;
	for (size_t i = 0; i < r->n; i++) {
		clear_next(&r->v[i]);
		if (r->v[i].tree)
			stop_tree(&r->v[i]);
	}
}
