/* gitignore.c - git's ignore rules (see gitignore.h).
 *
 * The deepest pattern file decides, and in a file the last matching line:
 * the .gitignore files from the path's directory up to the top, then
 * .git/info/exclude, then the global excludes file. Patterns match with
 * glob_match(): anchored ones against the path relative to the file's
 * directory, the others against the basename at any depth. Parsed
 * .gitignore files are cached per directory. */
#include "config.h"

#include "gitignore.h"

#include "glob.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* No exit() in the core: a failed add leaves the element's hh.tbl NULL. */
#define HASH_NONFATAL_OOM 1
#include <uthash.h>

#define GI_RECHECK_MS 200
#define GI_NEG 1u
#define GI_DIR 2u
#define GI_ANCH 4u

struct gi_rule {
	struct glob *g; /* the pattern, compiled */
	unsigned flags;
};

struct gitignore_list {
	struct gi_rule *r;
	size_t n, cap;
};

/* The cached .gitignore of one directory. */
struct gitignore_file {
	char *dir; /* top-relative directory, "" for the top */
	size_t dir_len;
	bool exists;
	struct timespec mtime;
	ino_t ino;
	off_t size;
	uint64_t checked_ms;
	struct gitignore_list list;
	UT_hash_handle hh;
};

struct gitignore {
	char *top;    /* repository top (or the root), absolute */
	char *prefix; /* the root relative to top, "" when equal */
	size_t prefix_len;
	struct gitignore_list info_exclude, global;
	struct gitignore_file *files; /* uthash by top-relative dir */
};

static uint64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static void gi_list_clear(struct gitignore_list *l)
{
	for (size_t i = 0; i < l->n; i++)
		glob_free(l->r[i].g);
	free(l->r);
	l->r = NULL;
	l->n = l->cap = 0;
}

static int gi_parse_line(struct gitignore_list *l, char *s)
{
	size_t len = strlen(s);
	unsigned flags = 0;

	if (len && s[len - 1] == '\r')
		s[--len] = '\0';
	/* trailing spaces go unless escaped */
	while (len && s[len - 1] == ' ' && !(len >= 2 && s[len - 2] == '\\'))
		s[--len] = '\0';
	if (!len || s[0] == '#')
		return 0;
	if (s[0] == '!') {
		flags |= GI_NEG;
		s++;
		len--;
	}
	if (len && s[len - 1] == '/') {
		flags |= GI_DIR;
		s[--len] = '\0';
	}
	if (!len)
		return 0;
	if (strchr(s, '/'))
		flags |= GI_ANCH;
	while (*s == '/')
		s++;
	if (!*s)
		return 0;
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 16;
		struct gi_rule *r = realloc(l->r, cap * sizeof *r);
		if (!r)
			return -ENOMEM;
		l->r = r;
		l->cap = cap;
	}
	l->r[l->n].g = glob_compile(s);
	if (!l->r[l->n].g)
		return -ENOMEM;
	l->r[l->n].flags = flags;
	l->n++;
	return 0;
}

/* Read a pattern file; a missing file is an empty list. */
/* Append the rules of text (len bytes) to l. */
static int gi_parse_into(struct gitignore_list *l, const char *text, size_t len)
{
	const char *end = text + len;
	char *line = NULL;
	size_t cap = 0;
	int rc = 0;

	while (text < end) {
		const char *nl = memchr(text, '\n', (size_t)(end - text));
		size_t n = (size_t)((nl ? nl : end) - text);
		if (n + 1 > cap) {
			char *b = realloc(line, n + 1);
			if (!b) {
				rc = -ENOMEM;
				break;
			}
			line = b;
			cap = n + 1;
		}
		memcpy(line, text, n);
		line[n] = '\0';
		if ((rc = gi_parse_line(l, line)) < 0)
			break;
		text += n + (nl ? 1 : 0);
	}
	free(line);
	return rc;
}

/* Read a pattern file; a missing file is an empty list. */
static int gi_read(struct gitignore_list *l, const char *file)
{
	int fd = open(file, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	char *text = NULL;
	size_t len = 0, cap = 0;
	int rc = 0;

	if (fd < 0)
		return -errno;
	for (;;) {
		if (len == cap) {
			size_t ncap = cap ? cap * 2 : 4096;
			char *t = realloc(text, ncap);
			if (!t) {
				rc = -ENOMEM;
				break;
			}
			text = t;
			cap = ncap;
		}
		ssize_t n = read(fd, text + len, cap - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			rc = -errno;
		if (n <= 0)
			break;
		len += (size_t)n;
	}
	close(fd);
	if (rc == 0)
		rc = gi_parse_into(l, text, len);
	free(text);
	return rc;
}

struct gitignore_list *gitignore_parse(const char *text, size_t len)
{
	struct gitignore_list *l = calloc(1, sizeof *l);

	if (l && gi_parse_into(l, text, len) < 0) {
		gitignore_list_free(l);
		return NULL;
	}
	return l;
}

void gitignore_list_free(struct gitignore_list *l)
{
	if (!l)
		return;
	gi_list_clear(l);
	free(l);
}

/* sub: the path relative to the pattern file's base; name: its basename. */
static int gi_list_verdict(const struct gitignore_list *l, const char *sub, const char *name,
                           bool is_dir)
{
	for (size_t i = l->n; i-- > 0;) {
		const struct gi_rule *r = &l->r[i];
		if ((r->flags & GI_DIR) && !is_dir)
			continue;
		if (glob_run(r->g, (r->flags & GI_ANCH) ? sub : name))
			return (r->flags & GI_NEG) ? 0 : 1;
	}
	return -1;
}

int gitignore_list_match(const struct gitignore_list *l, const char *path, bool is_dir)
{
	const char *name = strrchr(path, '/');
	return gi_list_verdict(l, path, name ? name + 1 : path, is_dir);
}

static char *find_top(const char *root, char **gitdir)
{
	char *dir = strdup(root);
	char buf[PATH_MAX];
	struct stat st;

	*gitdir = NULL;
	if (!dir)
		return NULL;
	for (;;) {
		int n = snprintf(buf, sizeof buf, "%s/.git", *dir ? dir : "");
		if (n > 0 && (size_t)n < sizeof buf && lstat(buf, &st) == 0) {
			if (S_ISDIR(st.st_mode)) {
				*gitdir = strdup(buf);
			} else if (S_ISREG(st.st_mode)) {
				/* a worktree or submodule: "gitdir: PATH" */
				FILE *fp = fopen(buf, "re");
				char line[PATH_MAX + 16];
				if (fp && fgets(line, sizeof line, fp) &&
				    strncmp(line, "gitdir: ", 8) == 0) {
					char *p = line + 8;
					p[strcspn(p, "\r\n")] = '\0';
					if (*p == '/')
						*gitdir = strdup(p);
					else if (snprintf(buf, sizeof buf, "%s/%s", dir, p) <
					         (int)sizeof buf)
						*gitdir = strdup(buf);
				}
				if (fp)
					fclose(fp);
			}
			return dir;
		}
		char *slash = strrchr(dir, '/');
		if (!slash || !*dir)
			break;
		*slash = '\0';
	}
	free(dir);
	return strdup(root);
}

static void load_global_excludes(struct gitignore_list *l)
{
	const char *home = getenv("HOME");
	const char *xdg = getenv("XDG_CONFIG_HOME");
	char file[PATH_MAX] = "";
	char buf[PATH_MAX];
	int n;

	if (home && *home) {
		n = snprintf(buf, sizeof buf, "%s/.gitconfig", home);
		FILE *fp = n > 0 && (size_t)n < sizeof buf ? fopen(buf, "re") : NULL;
		if (fp) {
			char line[PATH_MAX + 64];
			bool core = false;
			while (fgets(line, sizeof line, fp)) {
				char *s = line + strspn(line, " \t");
				s[strcspn(s, "\r\n")] = '\0';
				if (*s == '[') {
					core = strncasecmp(s, "[core]", 6) == 0;
					continue;
				}
				if (!core || strncasecmp(s, "excludesfile", 12) != 0)
					continue;
				s += 12;
				s += strspn(s, " \t");
				if (*s != '=')
					continue;
				s++;
				s += strspn(s, " \t");
				size_t len = strlen(s);
				while (len && (s[len - 1] == ' ' || s[len - 1] == '\t'))
					s[--len] = '\0';
				if (len >= 2 && s[0] == '"' && s[len - 1] == '"') {
					s[len - 1] = '\0';
					s++;
				}
				if (s[0] == '~' && s[1] == '/')
					n = snprintf(file, sizeof file, "%s/%s", home, s + 2);
				else
					n = snprintf(file, sizeof file, "%s", s);
				if (n < 0 || (size_t)n >= sizeof file)
					file[0] = '\0';
			}
			fclose(fp);
		}
	}
	if (!file[0]) {
		if (xdg && *xdg)
			n = snprintf(file, sizeof file, "%s/git/ignore", xdg);
		else if (home && *home)
			n = snprintf(file, sizeof file, "%s/.config/git/ignore", home);
		else
			return;
		if (n < 0 || (size_t)n >= sizeof file)
			return;
	}
	gi_read(l, file);
}

static void gi_refresh(struct gitignore *gi, struct gitignore_file *g, uint64_t now, bool force)
{
	char path[PATH_MAX];
	struct stat st;
	int n;

	if (!force && g->checked_ms && now - g->checked_ms < GI_RECHECK_MS)
		return;
	g->checked_ms = now;
	n = snprintf(path, sizeof path, "%s%s%s/.gitignore", gi->top, g->dir_len ? "/" : "",
	             g->dir);
	if (n < 0 || (size_t)n >= sizeof path)
		return;
	if (stat(path, &st) < 0) {
		if (g->exists)
			gi_list_clear(&g->list);
		g->exists = false;
		return;
	}
	if (g->exists && st.st_ino == g->ino && st.st_size == g->size &&
	    st.st_mtim.tv_sec == g->mtime.tv_sec && st.st_mtim.tv_nsec == g->mtime.tv_nsec)
		return;
	gi_list_clear(&g->list);
	g->exists = true;
	g->ino = st.st_ino;
	g->size = st.st_size;
	g->mtime = st.st_mtim;
	gi_read(&g->list, path);
}

static struct gitignore_file *gi_get(struct gitignore *gi, const char *dir, size_t len,
                                     uint64_t now, bool force)
{
	struct gitignore_file *g;

	HASH_FIND(hh, gi->files, dir, len, g);
	if (g) {
		gi_refresh(gi, g, now, force);
		return g;
	}
	g = calloc(1, sizeof *g);
	if (!g || !(g->dir = strndup(dir, len))) {
		free(g);
		return NULL;
	}
	g->dir_len = len;
	HASH_ADD_KEYPTR(hh, gi->files, g->dir, len, g);
	if (!g->hh.tbl) {
		free(g->dir);
		free(g);
		return NULL;
	}
	gi_refresh(gi, g, now, true);
	return g;
}

static void chain_push(struct gitignore *gi, struct gitignore_query *q, const char *dir, size_t len)
{
	struct gitignore_file *g;
	if (q->n >= GITIGNORE_MAX_CHAIN)
		return;
	g = gi_get(gi, dir, len, q->now_ms, false);
	if (g)
		q->chain[q->n++] = g;
}

/* t: the top-relative path (NUL-terminated); name: its basename. */
static bool gi_ignored(const struct gitignore *gi, const struct gitignore_query *q, const char *t,
                       size_t tlen, const char *name, bool is_dir)
{
	for (size_t i = q->n; i-- > 0;) {
		const struct gitignore_file *g = q->chain[i];
		const char *sub = t;
		int v;
		if (!g->list.n)
			continue;
		if (g->dir_len) {
			if (tlen <= g->dir_len)
				continue;
			sub = t + g->dir_len + 1;
		}
		v = gi_list_verdict(&g->list, sub, name, is_dir);
		if (v >= 0)
			return v == 1;
	}
	int v = gi_list_verdict(&gi->info_exclude, t, name, is_dir);
	if (v < 0)
		v = gi_list_verdict(&gi->global, t, name, is_dir);
	return v == 1;
}

struct gitignore *gitignore_new(const char *root)
{
	struct gitignore *gi = calloc(1, sizeof *gi);
	char *gitdir = NULL;

	if (!gi)
		return NULL;
	gi->top = find_top(root, &gitdir);
	if (!gi->top)
		goto nomem;
	const char *p = root + strlen(gi->top);
	while (*p == '/')
		p++;
	gi->prefix = strdup(p);
	if (!gi->prefix)
		goto nomem;
	gi->prefix_len = strlen(gi->prefix);
	if (gitdir) {
		char buf[PATH_MAX];
		int n = snprintf(buf, sizeof buf, "%s/info/exclude", gitdir);
		if (n > 0 && (size_t)n < sizeof buf)
			gi_read(&gi->info_exclude, buf);
		free(gitdir);
	}
	load_global_excludes(&gi->global);
	return gi;
nomem:
	free(gitdir);
	gitignore_free(gi);
	return NULL;
}

void gitignore_free(struct gitignore *gi)
{
	struct gitignore_file *g, *tmp;

	if (!gi)
		return;
	free(gi->top);
	free(gi->prefix);
	gi_list_clear(&gi->info_exclude);
	gi_list_clear(&gi->global);
	HASH_ITER(hh, gi->files, g, tmp)
	{
		HASH_DEL(gi->files, g);
		gi_list_clear(&g->list);
		free(g->dir);
		free(g);
	}
	free(gi);
}

int gitignore_begin(struct gitignore *gi, struct gitignore_query *q, const char *rel)
{
	const char *name = strrchr(rel, '/');
	/* top-relative path: prefix/rel */
	int n =
	    snprintf(q->path, sizeof q->path, "%s%s%s", gi->prefix, gi->prefix_len ? "/" : "", rel);

	name = name ? name + 1 : rel;
	q->n = 0;
	if (n < 0 || (size_t)n >= sizeof q->path)
		return -ENAMETOOLONG;
	q->base = gi->prefix_len ? gi->prefix_len + 1 : 0;
	q->now_ms = now_ms();
	if (strcmp(name, ".gitignore") == 0) {
		/* the change to a .gitignore is being filtered: reread now */
		size_t dl = (size_t)(name - rel);
		size_t tl = q->base + (dl ? dl - 1 : 0);
		if (!dl && q->base)
			tl = gi->prefix_len;
		gi_get(gi, q->path, tl, q->now_ms, true);
	}
	/* .gitignore files of the top, the dirs down to the root, the root */
	chain_push(gi, q, "", 0);
	for (size_t i = 0; i < gi->prefix_len; i++)
		if (gi->prefix[i] == '/')
			chain_push(gi, q, gi->prefix, i);
	if (gi->prefix_len)
		chain_push(gi, q, gi->prefix, gi->prefix_len);
	return 0;
}

bool gitignore_dir(struct gitignore *gi, struct gitignore_query *q, size_t end, const char *name,
                   bool descend)
{
	size_t tl = q->base + end;
	char save = q->path[tl];
	bool x;

	q->path[tl] = '\0';
	x = gi_ignored(gi, q, q->path, tl, name, true);
	if (!x && descend)
		chain_push(gi, q, q->path, tl);
	q->path[tl] = save;
	return x;
}

bool gitignore_file(struct gitignore *gi, struct gitignore_query *q, const char *name)
{
	return gi_ignored(gi, q, q->path, strlen(q->path), name, false);
}
