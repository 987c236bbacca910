/* glob.h - the glob patterns of watch.include_*, exclude_* and .gitignore
 * lines. Pure string matching: no file system, no state. */
#ifndef GUST_GLOB_H
#define GUST_GLOB_H

#include <stdbool.h>
#include <stddef.h>

/* True if path matches pat: fnmatch(FNM_PATHNAME) semantics ("*", "?" and
 * "[...]" never match "/"; "\" escapes the next character) plus "**" as a
 * whole component, which matches zero or more components (a, "**" and b
 * joined by "/" match "a/b" and "a/x/y/b"); a final "**" component matches
 * everything inside. A "[" that opens no complete bracket expression is a
 * literal "[". Takes O(len(pat) * len(path)) time whatever the pattern
 * (no backtracking). Both strings are borrowed. */
bool glob_match(const char *pat, const char *path);

/* A pattern cut into tokens once, for the patterns matched again and again
 * (a config's globs, .gitignore lines): glob_run() matches as
 * glob_match() does without the per-call tokenizing and allocation (a long
 * pattern's tokens were allocated on every call). NULL when out of memory.
 * A compiled pattern holds its own scratch space: one glob_run() at a time
 * (gust has one thread). */
struct glob;
struct glob *glob_compile(const char *pat);
bool glob_run(struct glob *g, const char *path);
void glob_free(struct glob *g);

/* True if directory dir (its first len bytes, root-relative) could lead to a
 * match of pat: each of its components matches the pattern's component at
 * the same depth, and the pattern has components left for what is inside.
 * A "**" component matches anything below it unless stop_at_stars. */
bool glob_ancestor(const char *pat, const char *dir, size_t len, bool stop_at_stars);

#endif
