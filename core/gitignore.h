/* gitignore.h - git's ignore rules: pattern files (.gitignore,
 * .git/info/exclude, the global excludes file) parsed into rule lists, and
 * the verdict of a repository's files on a path, as `git check-ignore`
 * gives it. */
#ifndef GUST_GITIGNORE_H
#define GUST_GITIGNORE_H

#include <stdbool.h>
#include <stddef.h>
#include <limits.h>
#include <stdint.h>

/* ---- one pattern file ---- */

struct gitignore_list;

/* Parse the text of a pattern file (len bytes, no terminator needed; a NUL
 * ends its line). Blank lines and "#" comments are skipped, unescaped
 * trailing spaces and a "\r" before the newline dropped; "!" negates, a
 * trailing "/" matches directories only, a "/" at the start or in the
 * middle anchors the pattern at the file's directory. Returns a list the
 * caller frees with gitignore_list_free(), or NULL when out of memory. */
struct gitignore_list *gitignore_parse(const char *text, size_t len);
void gitignore_list_free(struct gitignore_list *l);

/* The verdict of list l on path (relative to the directory of the pattern
 * file, no leading "/"): 1 ignored, 0 not ignored (a "!" rule matched), -1
 * no rule matched. The last matching rule decides. */
int gitignore_list_match(const struct gitignore_list *l, const char *path, bool is_dir);

/* ---- a repository ---- */

struct gitignore;
struct gitignore_file;

/* The ignore rules that apply under root (absolute): the .gitignore of every
 * directory from the repository top (the nearest ancestor of root holding
 * .git, else root) down, .git/info/exclude, and the global excludes file
 * (core.excludesFile of ~/.gitconfig, else $XDG_CONFIG_HOME/git/ignore,
 * else ~/.config/git/ignore). .gitignore files are read when first needed
 * and re-read when their mtime, size or inode changed (checked at most every
 * 200 ms). NULL when out of memory. */
struct gitignore *gitignore_new(const char *root);
void gitignore_free(struct gitignore *g);

#define GITIGNORE_MAX_CHAIN 256

/* One path being judged from the root down (the caller's, on its stack):
 * the .gitignore files of the directories walked so far. */
struct gitignore_query {
	struct gitignore_file *chain[GITIGNORE_MAX_CHAIN];
	size_t n;
	char path[PATH_MAX]; /* the path relative to the repository top */
	size_t base;         /* where the root-relative part starts in path */
	uint64_t now_ms;
};

/* Begin judging rel (root-relative, no leading or trailing "/", not "").
 * A change to a .gitignore itself makes it re-read at once. 0, or
 * -ENAMETOOLONG. */
int gitignore_begin(struct gitignore *g, struct gitignore_query *q, const char *rel);
/* Is the directory rel[0, end) ignored (name: its last component)? When it
 * is not and descend is true, its .gitignore applies to what is judged
 * next: call this for each directory of rel from the top down. */
bool gitignore_dir(struct gitignore *g, struct gitignore_query *q, size_t end, const char *name,
                   bool descend);
/* Is the file rel (name: its basename) ignored, after its directories? */
bool gitignore_file(struct gitignore *g, struct gitignore_query *q, const char *name);

#endif
