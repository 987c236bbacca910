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
 * .gitignore (watch.gitignore, default on): gitignore.c. The glob syntax:
 * glob.c. Content hashes (exclude_unchanged) are not the filter's: ledger.c.
 */
#include "config.h"

#include "filter.h"

#include "conf.h"
#include "gitignore.h"
#include "glob.h"
#include "rootpath.h"

#include <errno.h>
#include <limits.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------- patterns */

struct pat {
	char *pat;      /* leading and trailing "/" removed */
	struct glob *g; /* pat, compiled */
	bool anchored;  /* contained a "/": matched against the whole path */
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
		l->v[l->n].g = l->v[l->n].pat ? glob_compile(l->v[l->n].pat) : NULL;
		if (!l->v[l->n].g) {
			free(l->v[l->n].pat);
			return -ENOMEM;
		}
		l->v[l->n].anchored = anch;
		l->n++;
	}
	return 0;
}

static void patlist_free(struct patlist *l)
{
	for (size_t i = 0; i < l->n; i++) {
		free(l->v[i].pat);
		glob_free(l->v[i].g);
	}
	free(l->v);
}

/* rel: the whole root-relative path; name: its last component. */
static bool patlist_match(const struct patlist *l, const char *rel, const char *name)
{
	for (size_t i = 0; i < l->n; i++)
		if (glob_run(l->v[i].g, l->v[i].anchored ? rel : name))
			return true;
	return false;
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
	bool only_include_file; /* no other file matters */
	const regex_t *re;      /* the config's (compiled there once), borrowed */
	size_t n_re;

	struct gitignore *gi; /* NULL: watch.gitignore is off */
};

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
	f->root = rootpath_dup(cfg->root, &f->root_len);
	if (!f->root)
		goto nomem;
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
	f->only_include_file = w->only_include_file;
	f->re = w->exclude_re;
	f->n_re = w->n_exclude_re;
	if (w->gitignore && !(f->gi = gitignore_new(f->root)))
		goto nomem;
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
	gitignore_free(f->gi);
	free(f);
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
		    glob_ancestor(f->include_file.v[i].pat, rel, len, true))
			return true;
	return false;
}

/* True if an include_dir entry names directory rel or something inside it:
 * such a directory is walked even when hidden. */
static bool include_named(const struct filter *f, const char *rel, size_t len)
{
	for (size_t i = 0; i < f->include_dir.n; i++) {
		const struct pat *p = &f->include_dir.v[i];
		if (glob_run(p->g, rel) || glob_ancestor(p->pat, rel, len, false))
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
		if (glob_run(p->g, rel))
			return SCOPE_IN;
		if (!anc && glob_ancestor(p->pat, rel, len, false))
			anc = true;
	}
	return anc ? SCOPE_ANCESTOR : SCOPE_OUT;
}

/* Whether directory prefix rel[0..end) of rel (rlen bytes, in a buffer
 * of its own) is excluded; *in_scope turns true once an include_dir names
 * it. */
static bool prefix_excluded(struct filter *f, struct gitignore_query *q, char *rel, size_t end,
                            size_t rlen, bool *in_scope)
{
	const char *dname = rel + end;
	while (dname > rel && dname[-1] != '/')
		dname--;
	size_t dlen = (size_t)(rel + end - dname);
	char save = rel[end], nbuf[NAME_MAX + 1];
	bool x = false;

	rel[end] = '\0';
	if (!*in_scope) {
		enum scope sc = include_scope(f, rel, end);
		if (sc == SCOPE_IN)
			*in_scope = true;
		else if (sc == SCOPE_OUT)
			x = true;
	}
	if (!x && dname[0] == '.' && !include_named(f, rel, end))
		x = true;
	if (!x && f->tmp_rel && strcmp(rel, f->tmp_rel) == 0)
		x = true;
	if (!x && (f->exclude_dir.n || f->gi) && dlen <= NAME_MAX) {
		memcpy(nbuf, dname, dlen);
		nbuf[dlen] = '\0';
		if (f->exclude_dir.n)
			x = patlist_match(&f->exclude_dir, rel, nbuf);
		if (!x && f->gi)
			x = gitignore_dir(f->gi, q, end, nbuf, end < rlen);
	}
	rel[end] = save;
	return x;
}

/* What excludes file rel (named name) once its directories let it in. */
static bool file_excluded(struct filter *f, struct gitignore_query *q, const char *rel,
                          const char *name)
{
	if (f->exclude_file.n && patlist_match(&f->exclude_file, rel, name))
		return true;
	for (size_t i = 0; i < f->n_re; i++)
		if (regexec(&f->re[i], rel, 0, NULL, 0) == 0)
			return true;
	if (!ext_ok(f, name))
		return true;
	return f->gi && gitignore_file(f->gi, q, name);
}

bool filter_ignored(struct filter *f, const char *path, bool is_dir)
{
	char rbuf[PATH_MAX];
	struct gitignore_query q;
	const char *rel, *name;
	size_t rlen;
	bool in_scope = f->include_dir.n == 0;
	bool excluded = false;

	if (!path)
		return true;
	rel = rootpath_rel(f->root, f->root_len, path, rbuf, sizeof rbuf);
	if (!rel)
		return true;
	if (!*rel)
		return false;
	rlen = strlen(rel);
	name = strrchr(rel, '/');
	name = name ? name + 1 : rel;

	if (!is_dir && include_file_match(f, rel, name))
		return false;
	if (!is_dir && f->only_include_file)
		return true;

	if (f->gi && gitignore_begin(f->gi, &q, rel) < 0)
		return true;

	/* each directory prefix of rel: all of them for a file but the file
	 * (rel == rbuf since rel is not "") */
	for (size_t end = 0; end <= rlen; end++) {
		if (end < rlen && rel[end] != '/')
			continue;
		if (end == rlen && !is_dir)
			break;
		if (prefix_excluded(f, &q, rbuf, end, rlen, &in_scope)) {
			excluded = true;
			break;
		}
	}
	if (is_dir)
		return excluded && !include_file_ancestor(f, rel, rlen);
	if (excluded || !in_scope)
		return true;
	return file_excluded(f, &q, rel, name);
}
