/* filter.c - which changes matter.
 *
 * Every path is matched root-relative ("cmd/api/main.go"); an absolute path
 * outside the root is always ignored, the root itself never is. A path is
 * judged component by component from the root down: once a directory is
 * excluded, everything under it is excluded too (like git, an exclusion of a
 * parent cannot be undone deeper), except for include_file.
 *
 * Directories, each one tested by itself, in this order:
 *   include_dir   when non-empty, only the listed root-relative directories
 *                 (globs allowed) and their subtrees matter; their ancestors
 *                 are still walked, but files directly in them do not matter.
 *   hidden        a name starting with "." (".git", ".cache", ".idea") is
 *                 excluded, unless include_dir names it or something in it.
 *   tmp_dir       excluded when it lies under the root.
 *   exclude_dir   an entry without "/" ("node_modules", "*.egg-info")
 *                 matches a directory of that name at any depth; an entry
 *                 with "/" ("web/build", "/gen") is anchored
 *                 at the root. Globs: * ? [...] match within one component,
 *                 a whole "**" component matches any number of components.
 *                 A leading or trailing "/" is dropped after deciding.
 *   .gitignore    see below.
 * Files:
 *   include_file  a root-relative path or glob (an entry without "/"
 *                 matches the basename at any depth, like exclude_file); a
 *                 match always matters, whatever the other rules say (ext,
 *                 exclude_*, .gitignore, excluded dirs). Literal leading components
 *                 of an include_file entry are walked even when excluded
 *                 (".config/app.yaml" walks ".config", nothing else in it
 *                 matters).
 *   a file in an excluded directory, or outside include_dir, is ignored.
 *   exclude_file  globs like exclude_dir entries: without "/" against the
 *                 basename at any depth, with "/" anchored at the root.
 *   exclude_regex POSIX extended regexes (REG_EXTENDED|REG_NOSUB) against the
 *                 root-relative path of files (use exclude_dir for dirs).
 *   include_ext   extensions without the dot ("go", "tar.gz"); the basename
 *                 must end with ".EXT" and be longer than that. "*" or an
 *                 empty list: every file.
 *   .gitignore    as git does it.
 *
 * .gitignore (watch.gitignore, default on): the .gitignore of every
 * directory from the repository top (the nearest ancestor of the root that
 * holds .git; else the root) down to the path's directory; then
 * .git/info/exclude; then the global excludes file (core.excludesFile of
 * ~/.gitconfig, else $XDG_CONFIG_HOME/git/ignore, else ~/.config/git/ignore).
 * The deepest file decides, and in a file the last matching line. Blank
 * lines and "#" comments are skipped, unescaped trailing spaces dropped,
 * "!" negates, a trailing "/" matches directories only, a "/" at the start
 * or in the middle anchors the pattern at the file's directory, otherwise it
 * matches the basename at any depth; "**" as above; "\" escapes. Parsed
 * files are cached per directory and re-read when their mtime, size or inode
 * changed (checked at most every 200 ms, and at once when a change to a
 * .gitignore itself is filtered).
 *
 * exclude_unchanged: filter_unchanged() hashes the file's content (a 64-bit
 * multiply-rotate hash, streamed) and compares it with the hash recorded at
 * the last filter_commit(). A file never seen before has no baseline: its
 * hash is recorded and it counts as a change. Only filter_commit() replaces a
 * recorded hash (filter_stage() records a first sighting too, and
 * filter_forget() drops them all), so a truncate followed by an identical
 * write compares equal in the end. A missing or unreadable file is always
 * a change.
 *
 * The hashes a build commits are taken when it starts (filter_stage()), not
 * when it ends: an edit made while the build runs is not what it built, and
 * must still count as a change when its event comes after the build. While
 * a build runs, its staged hash is the baseline of the files it builds: a
 * second identical save (format on save) is no change, and going back to the
 * old content is one. Only the content when the debounce window ends
 * counts, never a passing state: a file rewritten in place (truncated, then
 * written) with the same bytes, by an editor or by the build itself (go
 * generate), is no change. The price: content that changes and comes back
 * within one window while a build runs is taken as unchanged, though the
 * build may have read the other version (a hash taken after the fact cannot
 * know; a dirty flag tried for it made such builds loop, and identical
 * saves restart builds).
 */
#include "config.h"

#include "filter.h"

#include "conf.h"

#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <limits.h>
#include <regex.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define GI_RECHECK_MS 200
#define GI_MAX_CHAIN 256

/* ---------------------------------------------------------------- globs */

/* Match one bracket expression at p (p[0] == '[') against c. Returns the
 * length of the expression, 0 if p is not a complete bracket expression;
 * *hit tells whether c matched. */
static size_t bracket(const char *p, char c, bool *hit)
{
	const char *j = p + 1;
	char buf[256];
	size_t n;
	char s[2] = { c, '\0' };

	if (*j == '!' || *j == '^')
		j++;
	if (*j == ']')
		j++;
	while (*j && *j != ']') {
		if (j[0] == '[' && (j[1] == ':' || j[1] == '.' || j[1] == '=')) {
			const char *e = strchr(j + 2, j[1]);
			while (e && e[1] != ']')
				e = strchr(e + 1, j[1]);
			if (!e)
				return 0;
			j = e + 2;
			continue;
		}
		if (*j == '\\' && j[1])
			j++;
		j++;
	}
	if (*j != ']')
		return 0;
	n = (size_t)(j - p) + 1;
	if (n >= sizeof buf)
		return 0;
	memcpy(buf, p, n);
	buf[n] = '\0';
	if (buf[1] == '^')
		buf[1] = '!';
	*hit = c != '/' && fnmatch(buf, s, 0) == 0;
	return n;
}

/* fnmatch(FNM_PATHNAME) semantics plus "**" as a whole component matching
 * zero or more components; a final "**" component matches everything inside. */
static bool glob_at(const char *start, const char *p, const char *s)
{
	for (;;) {
		char c = *p;

		if (c == '\0')
			return *s == '\0';
		if (c == '*') {
			if (p[1] == '*' && (p == start || p[-1] == '/') &&
			    (p[2] == '/' || p[2] == '\0')) {
				if (p[2] == '\0')
					return true;
				if (glob_at(start, p + 3, s))
					return true;
				for (; *s; s++)
					if (*s == '/' && glob_at(start, p + 3, s + 1))
						return true;
				return false;
			}
			while (*p == '*')
				p++;
			if (*p == '\0')
				return strchr(s, '/') == NULL;
			for (;;) {
				if (glob_at(start, p, s))
					return true;
				if (*s == '\0' || *s == '/')
					return false;
				s++;
			}
		}
		if (c == '?') {
			if (*s == '\0' || *s == '/')
				return false;
			p++;
			s++;
			continue;
		}
		if (c == '[') {
			bool hit = false;
			size_t n = *s ? bracket(p, *s, &hit) : 0;
			if (n) {
				if (!hit)
					return false;
				p += n;
				s++;
				continue;
			}
			if (!*s)
				return false;
		}
		if (c == '\\' && p[1])
			c = *++p;
		if (c != *s)
			return false;
		p++;
		s++;
	}
}

static bool glob(const char *p, const char *s)
{
	return glob_at(p, p, s);
}


/* ------------------------------------------------------------- patterns */

struct pat {
	char *pat;     /* leading and trailing "/" removed */
	bool anchored; /* contained a "/": matched against the whole path */
};

struct patlist {
	struct pat *v;
	size_t n;
};

static int patlist_init(struct patlist *l, char *const *src)
{
	size_t n = 0;

	l->v = NULL;
	l->n = 0;
	while (src && src[n])
		n++;
	if (!n)
		return 0;
	l->v = calloc(n, sizeof *l->v);
	if (!l->v)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		const char *s = src[i];
		size_t len;
		bool anch = strchr(s, '/') != NULL;

		while (s[0] == '.' && s[1] == '/')
			s += 2;
		while (*s == '/')
			s++;
		len = strlen(s);
		while (len && s[len - 1] == '/')
			len--;
		if (!len)
			continue;
		l->v[l->n].pat = strndup(s, len);
		if (!l->v[l->n].pat)
			return -ENOMEM;
		l->v[l->n].anchored = anch;
		l->n++;
	}
	return 0;
}

static void patlist_free(struct patlist *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i].pat);
	free(l->v);
}

/* rel: the whole root-relative path; name: its last component. */
static bool patlist_match(const struct patlist *l, const char *rel, const char *name)
{
	for (size_t i = 0; i < l->n; i++)
		if (glob(l->v[i].pat, l->v[i].anchored ? rel : name))
			return true;
	return false;
}

/* True if directory rel (len bytes) could lead to a match of pat: each of
 * its components matches the pattern's component at the same depth. A "**"
 * component matches anything below it when stop_at_stars is false. */
static bool pat_ancestor(const char *pat, const char *rel, size_t len, bool stop_at_stars)
{
	const char *p = pat, *r = rel, *rend = rel + len;
	char pc[NAME_MAX + 1], rc[NAME_MAX + 1];

	while (r < rend) {
		const char *pe = strchr(p, '/'), *re = memchr(r, '/', (size_t)(rend - r));
		size_t pl, rl;

		if (!pe)
			return false; /* the pattern's last component names the target */
		if (!re)
			re = rend;
		pl = (size_t)(pe - p);
		rl = (size_t)(re - r);
		if (pl == 2 && p[0] == '*' && p[1] == '*')
			return !stop_at_stars;
		if (pl > NAME_MAX || rl > NAME_MAX)
			return false;
		memcpy(pc, p, pl);
		pc[pl] = '\0';
		memcpy(rc, r, rl);
		rc[rl] = '\0';
		if (!glob(pc, rc))
			return false;
		p = pe + 1;
		r = re < rend ? re + 1 : rend;
	}
	return true;
}

/* ------------------------------------------------------------ gitignore */

#define GI_NEG 1u
#define GI_DIR 2u
#define GI_ANCH 4u

struct gi_rule {
	char *pat;
	unsigned flags;
};

struct gi_list {
	struct gi_rule *r;
	size_t n, cap;
};

struct gi_file {
	char *dir; /* top-relative directory, "" for the top */
	size_t dir_len;
	uint32_t hash;
	bool exists;
	struct timespec mtime;
	ino_t ino;
	off_t size;
	uint64_t checked_ms;
	struct gi_list list;
};

static uint64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static void gi_list_clear(struct gi_list *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->r[i].pat);
	free(l->r);
	l->r = NULL;
	l->n = l->cap = 0;
}

static int gi_parse_line(struct gi_list *l, char *s)
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
	l->r[l->n].pat = strdup(s);
	if (!l->r[l->n].pat)
		return -ENOMEM;
	l->r[l->n].flags = flags;
	l->n++;
	return 0;
}

/* Read a pattern file; a missing file is an empty list. */
static int gi_read(struct gi_list *l, const char *file, struct stat *st)
{
	FILE *fp = fopen(file, "re");
	char *line = NULL;
	size_t cap = 0;
	int rc = 0;

	if (!fp)
		return -errno;
	if (st && fstat(fileno(fp), st) < 0)
		memset(st, 0, sizeof *st);
	while (getline(&line, &cap, fp) >= 0) {
		size_t n = strlen(line);
		if (n && line[n - 1] == '\n')
			line[n - 1] = '\0';
		if ((rc = gi_parse_line(l, line)) < 0)
			break;
	}
	free(line);
	fclose(fp);
	return rc;
}

/* sub: the path relative to the pattern file's base; name: its basename. */
static int gi_list_verdict(const struct gi_list *l, const char *sub, const char *name, bool is_dir)
{
	for (size_t i = l->n; i-- > 0;) {
		const struct gi_rule *r = &l->r[i];
		if ((r->flags & GI_DIR) && !is_dir)
			continue;
		if (glob(r->pat, (r->flags & GI_ANCH) ? sub : name))
			return (r->flags & GI_NEG) ? 0 : 1;
	}
	return -1;
}

/* -------------------------------------------------- unchanged-content */

struct hrec {
	char *path; /* root-relative */
	uint64_t hash;
	bool gone;   /* missing at the last commit: any content is a change */
	bool built;  /* hash is from filter_commit(), not a first sighting */
	bool staged; /* a running build started from st_hash/st_gone */
	bool st_gone;
	uint64_t st_hash;
};

struct htab {
	struct hrec *v;
	size_t n, cap; /* cap: power of two or 0 */
};

static uint32_t strhash(const char *s, size_t n)
{
	uint32_t h = 2166136261u;
	for (size_t i = 0; i < n; i++) {
		h ^= (unsigned char)s[i];
		h *= 16777619u;
	}
	return h;
}

static struct hrec *htab_find(struct htab *t, const char *path, bool add)
{
	size_t len = strlen(path), i;

	if (add && (t->n + 1) * 4 > t->cap * 3) {
		size_t cap = t->cap ? t->cap * 2 : 64;
		struct hrec *v = calloc(cap, sizeof *v);
		if (!v)
			return NULL;
		for (size_t k = 0; k < t->cap; k++) {
			if (!t->v[k].path)
				continue;
			i = strhash(t->v[k].path, strlen(t->v[k].path)) & (cap - 1);
			while (v[i].path)
				i = (i + 1) & (cap - 1);
			v[i] = t->v[k];
		}
		free(t->v);
		t->v = v;
		t->cap = cap;
	}
	if (!t->cap)
		return NULL;
	i = strhash(path, len) & (t->cap - 1);
	while (t->v[i].path) {
		if (strcmp(t->v[i].path, path) == 0)
			return &t->v[i];
		i = (i + 1) & (t->cap - 1);
	}
	if (!add)
		return NULL;
	t->v[i].path = strdup(path);
	if (!t->v[i].path)
		return NULL;
	t->v[i].hash = 0;
	t->v[i].gone = false;
	t->v[i].built = false;
	t->v[i].staged = false;
	t->n++;
	return &t->v[i];
}

static void htab_free(struct htab *t)
{
	for (size_t i = 0; i < t->cap; i++)
		free(t->v[i].path);
	free(t->v);
}

static uint64_t rotl64(uint64_t x, int r)
{
	return (x << r) | (x >> (64 - r));
}

/* A streamed 64-bit content hash: not cryptographic, only "did it change". */
static int hash_file(const char *file, uint64_t *out)
{
	const uint64_t k1 = 0x9E3779B97F4A7C15ull, k2 = 0xBF58476D1CE4E5B9ull;
	uint64_t h = 0x243F6A8885A308D3ull, total = 0;
	unsigned char buf[65536];
	struct stat st;
	int fd = open(file, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	ssize_t n;

	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return -EINVAL;
	}
	for (;;) {
		size_t i = 0;
		n = read(fd, buf, sizeof buf);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		total += (uint64_t)n;
		for (; i + 8 <= (size_t)n; i += 8) {
			uint64_t w;
			memcpy(&w, buf + i, 8);
			h = rotl64(h ^ (w * k1), 29) * k2;
		}
		for (; i < (size_t)n; i++)
			h = (h ^ buf[i]) * 0x100000001B3ull;
	}
	close(fd);
	if (n < 0)
		return -EIO;
	h ^= total;
	h ^= h >> 33;
	h *= 0xFF51AFD7ED558CCDull;
	h ^= h >> 33;
	*out = h;
	return 0;
}

/* --------------------------------------------------------------- filter */

struct filter {
	char *root;
	size_t root_len;
	char *tmp_rel; /* tmp_dir relative to the root, NULL if outside */
	struct patlist include_dir, include_file, exclude_dir, exclude_file;
	char **ext;
	size_t n_ext;
	bool all_ext;
	const regex_t *re; /* the config's (compiled there once), borrowed */
	size_t n_re;

	bool gitignore;
	char *top;    /* repository top (or the root), absolute */
	char *prefix; /* the root relative to top, "" when equal */
	size_t prefix_len;
	struct gi_list info_exclude, global;
	struct gi_file **gi; /* open addressing by top-relative dir */
	size_t gi_n, gi_cap;

	bool unchanged;
	struct htab hashes;
};

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

static void load_global_excludes(struct gi_list *l)
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
	gi_read(l, file, NULL);
}

static int copy_list(char ***out, size_t *n, char *const *src)
{
	size_t k = 0;
	while (src && src[k])
		k++;
	*n = 0;
	*out = calloc(k + 1, sizeof **out);
	if (!*out)
		return -ENOMEM;
	for (size_t i = 0; i < k; i++) {
		const char *s = src[i];
		if (*s == '.')
			s++;
		if (!*s)
			continue;
		(*out)[*n] = strdup(s);
		if (!(*out)[*n])
			return -ENOMEM;
		(*n)++;
	}
	return 0;
}

struct filter *filter_new(const struct config *cfg, char *err, size_t errlen)
{
	struct filter *f = calloc(1, sizeof *f);
	const struct watch_config *w = &cfg->watch;

	if (!f)
		goto nomem;
	f->root = strdup(cfg->root ? cfg->root : ".");
	if (!f->root)
		goto nomem;
	f->root_len = strlen(f->root);
	while (f->root_len > 1 && f->root[f->root_len - 1] == '/')
		f->root[--f->root_len] = '\0';
	if (cfg->tmp_dir) {
		size_t rl = f->root_len == 1 ? 0 : f->root_len;
		if (strncmp(cfg->tmp_dir, f->root, rl) == 0 && cfg->tmp_dir[rl] == '/' &&
		    cfg->tmp_dir[rl + 1]) {
			f->tmp_rel = strdup(cfg->tmp_dir + rl + 1);
			if (!f->tmp_rel)
				goto nomem;
			size_t l = strlen(f->tmp_rel);
			while (l && f->tmp_rel[l - 1] == '/')
				f->tmp_rel[--l] = '\0';
		}
	}
	if (patlist_init(&f->include_dir, w->include_dir) < 0 ||
	    patlist_init(&f->include_file, w->include_file) < 0 ||
	    patlist_init(&f->exclude_dir, w->exclude_dir) < 0 ||
	    patlist_init(&f->exclude_file, w->exclude_file) < 0 ||
	    copy_list(&f->ext, &f->n_ext, w->include_ext) < 0)
		goto nomem;
	f->all_ext = f->n_ext == 0;
	for (size_t i = 0; i < f->n_ext; i++)
		if (strcmp(f->ext[i], "*") == 0)
			f->all_ext = true;
	f->re = w->exclude_re;
	f->n_re = w->n_exclude_re;
	f->gitignore = w->gitignore;
	if (f->gitignore) {
		char *gitdir = NULL;
		f->top = find_top(f->root, &gitdir);
		if (!f->top) {
			free(gitdir);
			goto nomem;
		}
		size_t tl = strlen(f->top);
		const char *p = f->root + tl;
		while (*p == '/')
			p++;
		f->prefix = strdup(p);
		if (!f->prefix) {
			free(gitdir);
			goto nomem;
		}
		f->prefix_len = strlen(f->prefix);
		if (gitdir) {
			char buf[PATH_MAX];
			int n = snprintf(buf, sizeof buf, "%s/info/exclude", gitdir);
			if (n > 0 && (size_t)n < sizeof buf)
				gi_read(&f->info_exclude, buf, NULL);
			free(gitdir);
		}
		load_global_excludes(&f->global);
	}
	f->unchanged = w->exclude_unchanged;
	return f;
nomem:
	if (err && errlen)
		snprintf(err, errlen, "filter: out of memory");
	filter_free(f);
	return NULL;
}

void filter_free(struct filter *f)
{
	if (!f)
		return;
	free(f->root);
	free(f->tmp_rel);
	patlist_free(&f->include_dir);
	patlist_free(&f->include_file);
	patlist_free(&f->exclude_dir);
	patlist_free(&f->exclude_file);
	for (size_t i = 0; f->ext && f->ext[i]; i++)
		free(f->ext[i]);
	free(f->ext);
	free(f->top);
	free(f->prefix);
	gi_list_clear(&f->info_exclude);
	gi_list_clear(&f->global);
	for (size_t i = 0; i < f->gi_cap; i++) {
		if (!f->gi[i])
			continue;
		gi_list_clear(&f->gi[i]->list);
		free(f->gi[i]->dir);
		free(f->gi[i]);
	}
	free(f->gi);
	htab_free(&f->hashes);
	free(f);
}

/* (Re)load the .gitignore of top-relative directory dir if it changed. */
static void gi_refresh(struct filter *f, struct gi_file *g, uint64_t now, bool force)
{
	char path[PATH_MAX];
	struct stat st;
	int n;

	if (!force && g->checked_ms && now - g->checked_ms < GI_RECHECK_MS)
		return;
	g->checked_ms = now;
	n = snprintf(path, sizeof path, "%s%s%s/.gitignore", f->top, g->dir_len ? "/" : "", g->dir);
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
	gi_read(&g->list, path, NULL);
}

static struct gi_file *gi_get(struct filter *f, const char *dir, size_t len, uint64_t now,
                              bool force)
{
	uint32_t h = strhash(dir, len);
	size_t i;

	if ((f->gi_n + 1) * 4 > f->gi_cap * 3) {
		size_t cap = f->gi_cap ? f->gi_cap * 2 : 64;
		struct gi_file **v = calloc(cap, sizeof *v);
		if (!v)
			return NULL;
		for (size_t k = 0; k < f->gi_cap; k++) {
			if (!f->gi[k])
				continue;
			i = f->gi[k]->hash & (cap - 1);
			while (v[i])
				i = (i + 1) & (cap - 1);
			v[i] = f->gi[k];
		}
		free(f->gi);
		f->gi = v;
		f->gi_cap = cap;
	}
	i = h & (f->gi_cap - 1);
	while (f->gi[i]) {
		struct gi_file *g = f->gi[i];
		if (g->hash == h && g->dir_len == len && memcmp(g->dir, dir, len) == 0) {
			gi_refresh(f, g, now, force);
			return g;
		}
		i = (i + 1) & (f->gi_cap - 1);
	}
	struct gi_file *g = calloc(1, sizeof *g);
	if (!g || !(g->dir = strndup(dir, len))) {
		free(g);
		return NULL;
	}
	g->dir_len = len;
	g->hash = h;
	f->gi[i] = g;
	f->gi_n++;
	gi_refresh(f, g, now, true);
	return g;
}

struct gi_chain {
	struct gi_file *v[GI_MAX_CHAIN];
	size_t n;
};

static void chain_push(struct filter *f, struct gi_chain *c, const char *dir, size_t len,
                       uint64_t now)
{
	struct gi_file *g;
	if (c->n >= GI_MAX_CHAIN)
		return;
	g = gi_get(f, dir, len, now, false);
	if (g)
		c->v[c->n++] = g;
}

/* t: the top-relative path (NUL-terminated); name: its basename. */
static bool gi_ignored(const struct filter *f, const struct gi_chain *c, const char *t, size_t tlen,
                       const char *name, bool is_dir)
{
	for (size_t i = c->n; i-- > 0;) {
		const struct gi_file *g = c->v[i];
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
	int v = gi_list_verdict(&f->info_exclude, t, name, is_dir);
	if (v < 0)
		v = gi_list_verdict(&f->global, t, name, is_dir);
	return v == 1;
}

/* The root-relative form of path in buf, or NULL when outside the root. */
static const char *to_rel(const struct filter *f, const char *path, char *buf, size_t buflen)
{
	size_t len;

	if (path[0] == '/') {
		if (f->root_len == 1) {
			path++;
		} else {
			if (strncmp(path, f->root, f->root_len) != 0)
				return NULL;
			if (path[f->root_len] == '\0')
				return "";
			if (path[f->root_len] != '/')
				return NULL;
			path += f->root_len + 1;
		}
	}
	while (path[0] == '.' && path[1] == '/')
		path += 2;
	while (*path == '/')
		path++;
	if (path[0] == '.' && path[1] == '\0')
		return "";
	len = strlen(path);
	if (len >= buflen)
		return NULL;
	while (len && path[len - 1] == '/')
		len--;
	memcpy(buf, path, len);
	buf[len] = '\0';
	return buf;
}

static bool ext_ok(const struct filter *f, const char *name)
{
	size_t nl = strlen(name);
	if (f->all_ext)
		return true;
	for (size_t i = 0; i < f->n_ext; i++) {
		size_t el = strlen(f->ext[i]);
		if (nl > el + 1 && name[nl - el - 1] == '.' &&
		    memcmp(name + nl - el, f->ext[i], el) == 0)
			return true;
	}
	return false;
}

static bool include_file_match(const struct filter *f, const char *rel, const char *name)
{
	return f->include_file.n && patlist_match(&f->include_file, rel, name);
}

static bool include_file_ancestor(const struct filter *f, const char *rel, size_t len)
{
	for (size_t i = 0; i < f->include_file.n; i++)
		if (f->include_file.v[i].anchored &&
		    pat_ancestor(f->include_file.v[i].pat, rel, len, true))
			return true;
	return false;
}

/* True if an include_dir entry names directory rel or something inside it:
 * such a directory is walked even when hidden. */
static bool include_named(const struct filter *f, const char *rel, size_t len)
{
	for (size_t i = 0; i < f->include_dir.n; i++) {
		const char *p = f->include_dir.v[i].pat;
		if (glob(p, rel) || pat_ancestor(p, rel, len, false))
			return true;
	}
	return false;
}

enum scope { SCOPE_OUT = 0, SCOPE_ANCESTOR, SCOPE_IN };

/* Where directory rel (NUL-terminated, len bytes) stands to include_dir. */
static enum scope include_scope(const struct filter *f, const char *rel, size_t len)
{
	bool anc = false;
	for (size_t i = 0; i < f->include_dir.n; i++) {
		const struct pat *p = &f->include_dir.v[i];
		if (glob(p->pat, rel))
			return SCOPE_IN;
		if (!anc && pat_ancestor(p->pat, rel, len, false))
			anc = true;
	}
	return anc ? SCOPE_ANCESTOR : SCOPE_OUT;
}

bool filter_ignored(struct filter *f, const char *path, bool is_dir)
{
	char rbuf[PATH_MAX], tbuf[PATH_MAX];
	struct gi_chain chain;
	const char *rel, *name;
	size_t rlen, tlen0 = 0;
	bool in_scope = f->include_dir.n == 0;
	bool excluded = false;
	uint64_t now = 0;

	if (!path)
		return true;
	rel = to_rel(f, path, rbuf, sizeof rbuf);
	if (!rel)
		return true;
	if (!*rel)
		return false;
	rlen = strlen(rel);
	name = strrchr(rel, '/');
	name = name ? name + 1 : rel;

	if (!is_dir && include_file_match(f, rel, name))
		return false;

	chain.n = 0;
	if (f->gitignore) {
		/* top-relative path: prefix/rel */
		int n =
		    snprintf(tbuf, sizeof tbuf, "%s%s%s", f->prefix, f->prefix_len ? "/" : "", rel);
		if (n < 0 || (size_t)n >= sizeof tbuf)
			return true;
		tlen0 = f->prefix_len ? f->prefix_len + 1 : 0;
		now = now_ms();
		if (strcmp(name, ".gitignore") == 0) {
			/* the change to a .gitignore is being filtered: reread now */
			size_t dl = (size_t)(name - rel);
			size_t tl = tlen0 + (dl ? dl - 1 : 0);
			if (!dl && tlen0)
				tl = f->prefix_len;
			gi_get(f, tbuf, tl, now, true);
		}
		/* .gitignore files of the top, the dirs down to the root, the root */
		chain_push(f, &chain, "", 0, now);
		for (size_t i = 0; i < f->prefix_len; i++)
			if (f->prefix[i] == '/')
				chain_push(f, &chain, f->prefix, i, now);
		if (f->prefix_len)
			chain_push(f, &chain, f->prefix, f->prefix_len, now);
	}

	/* each directory prefix of rel: all of them for a file but the file */
	for (size_t end = 0; end <= rlen; end++) {
		if (end < rlen && rel[end] != '/')
			continue;
		if (end == rlen && !is_dir)
			break;
		const char *dname = rel + end;
		while (dname > rel && dname[-1] != '/')
			dname--;
		size_t dlen = (size_t)(rel + end - dname);
		char save = rbuf[end];
		rbuf[end] = '\0'; /* rel == rbuf unless rel is "" */
		enum scope sc = SCOPE_IN;
		bool x = false;

		if (!in_scope) {
			sc = include_scope(f, rbuf, end);
			if (sc == SCOPE_IN)
				in_scope = true;
			else if (sc == SCOPE_OUT)
				x = true;
		}
		if (!x && dname[0] == '.' && !include_named(f, rbuf, end))
			x = true;
		if (!x && f->tmp_rel && strcmp(rbuf, f->tmp_rel) == 0)
			x = true;
		if (!x && f->exclude_dir.n) {
			char nbuf[NAME_MAX + 1];
			if (dlen <= NAME_MAX) {
				memcpy(nbuf, dname, dlen);
				nbuf[dlen] = '\0';
				x = patlist_match(&f->exclude_dir, rbuf, nbuf);
			}
		}
		if (!x && f->gitignore) {
			char nbuf[NAME_MAX + 1];
			size_t tl = tlen0 + end;
			char tsave = tbuf[tl];
			if (dlen <= NAME_MAX) {
				memcpy(nbuf, dname, dlen);
				nbuf[dlen] = '\0';
				tbuf[tl] = '\0';
				x = gi_ignored(f, &chain, tbuf, tl, nbuf, true);
				if (!x && end < rlen)
					chain_push(f, &chain, tbuf, tl, now);
				tbuf[tl] = tsave;
			}
		}
		rbuf[end] = save;
		if (x) {
			excluded = true;
			break;
		}
	}
	if (is_dir)
		return excluded && !include_file_ancestor(f, rel, rlen);
	if (excluded || !in_scope)
		return true;
	if (f->exclude_file.n && patlist_match(&f->exclude_file, rel, name))
		return true;
	for (size_t i = 0; i < f->n_re; i++)
		if (regexec(&f->re[i], rel, 0, NULL, 0) == 0)
			return true;
	if (!ext_ok(f, name))
		return true;
	if (f->gitignore && gi_ignored(f, &chain, tbuf, strlen(tbuf), name, false))
		return true;
	return false;
}

static int abs_path(const struct filter *f, const char *path, const char *rel, char *buf,
                    size_t len)
{
	int n = path[0] == '/' ? snprintf(buf, len, "%s", path)
	                       : snprintf(buf, len, "%s/%s", f->root, rel);
	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

/* The current content hash of path (absolute or root-relative) and its
 * root-relative name in rbuf; -1 when there is none to compare. */
static int content_hash(struct filter *f, const char *path, char *rbuf, const char **rel,
                        uint64_t *h)
{
	char abuf[PATH_MAX];

	if (!f->unchanged || !path)
		return -1;
	*rel = to_rel(f, path, rbuf, PATH_MAX);
	if (!*rel || !**rel || abs_path(f, path, *rel, abuf, sizeof abuf) < 0)
		return -1;
	return hash_file(abuf, h) < 0 ? -1 : 0;
}

bool filter_unchanged(struct filter *f, const char *path)
{
	char rbuf[PATH_MAX];
	const char *rel;
	struct hrec *r;
	uint64_t h;

	if (content_hash(f, path, rbuf, &rel, &h) < 0)
		return false;
	r = htab_find(&f->hashes, rel, false);
	if (r && r->staged)
		return !r->st_gone && r->st_hash == h;
	if (r)
		return !r->gone && r->hash == h;
	r = htab_find(&f->hashes, rel, true);
	if (r)
		r->hash = h;
	return false;
}

/* Calls fn on the record of each of paths (root-relative or absolute), with
 * its content hash now (ok false: missing or unreadable); add: make a
 * record for a path that has none. */
static void each_record(struct filter *f, const char *const *paths, bool add, bool hash,
                        void (*fn)(struct hrec *r, bool fresh, bool ok, uint64_t h))
{
	char rbuf[PATH_MAX], abuf[PATH_MAX];

	if (!f->unchanged)
		return;
	for (size_t i = 0; paths && paths[i]; i++) {
		const char *rel = to_rel(f, paths[i], rbuf, sizeof rbuf);
		struct hrec *r;
		uint64_t h = 0;
		bool ok = false, fresh = false;

		if (!rel || !*rel)
			continue;
		if (hash)
			ok = abs_path(f, paths[i], rel, abuf, sizeof abuf) == 0 &&
			     hash_file(abuf, &h) == 0;
		r = htab_find(&f->hashes, rel, false);
		if (!r && add && ok) { /* a missing file gets no record */
			r = htab_find(&f->hashes, rel, true);
			fresh = true;
		}
		if (r)
			fn(r, fresh, ok, h);
	}
}

static void stage_one(struct hrec *r, bool fresh, bool ok, uint64_t h)
{
	r->staged = true;
	r->st_gone = !ok;
	r->st_hash = h;
	if (fresh) { /* seen for the first time, as filter_unchanged() would */
		r->hash = h;
		r->gone = !ok;
	}
}

static void commit_one(struct hrec *r, bool fresh, bool ok, uint64_t h)
{
	(void)fresh, (void)ok, (void)h;
	if (!r->staged)
		return;
	r->staged = false;
	r->hash = r->st_hash;
	r->gone = r->st_gone;
	r->built = !r->st_gone;
}

static void unstage_one(struct hrec *r, bool fresh, bool ok, uint64_t h)
{
	(void)fresh, (void)ok, (void)h;
	r->staged = false;
}

void filter_forget(struct filter *f)
{
	htab_free(&f->hashes);
	memset(&f->hashes, 0, sizeof f->hashes);
}

void filter_stage(struct filter *f, const char *const *paths)
{
	each_record(f, paths, true, true, stage_one);
}

void filter_commit(struct filter *f, const char *const *paths)
{
	each_record(f, paths, false, false, commit_one);
}

void filter_unstage(struct filter *f, const char *const *paths)
{
	each_record(f, paths, false, false, unstage_one);
}

bool filter_as_built(struct filter *f, const char *path)
{
	char rbuf[PATH_MAX];
	const char *rel;
	struct hrec *r;
	uint64_t h;

	if (content_hash(f, path, rbuf, &rel, &h) < 0)
		return false;
	r = htab_find(&f->hashes, rel, false);
	if (r && r->staged)
		return !r->st_gone && r->st_hash == h;
	return r && r->built && !r->gone && r->hash == h;
}
