/* pathsearch.h - the one PATH search of gust, for the core and the plugins
 * alike (common/ is neither's: both link libgustcommon, and it includes
 * nothing of either). A program named without a slash is looked for the
 * way the core's tree_spawn (and execvp) runs it: the PATH entries in
 * order, an empty entry meaning the working directory (POSIX), a relative
 * entry taken from the working directory. PATH unset means
 * PATH_SEARCH_DEFAULT; PATH set to "" is one empty entry: the working
 * directory. */
#ifndef GUST_PATHSEARCH_H
#define GUST_PATHSEARCH_H

#include <stdbool.h>

#define PATH_SEARCH_DEFAULT "/usr/local/bin:/usr/bin:/bin"

/* Where a program named name (no slash) is looked for, in order, with PATH
 * path (NULL: unset): cwd/entry/name, cwd/name for an empty entry and
 * entry/name for an absolute one; with cwd NULL, entry/name and name
 * alone, left relative to the working directory at exec time. A
 * NULL-terminated malloc'd vector of malloc'd strings (free with
 * path_candidates_free), NULL with errno ENOMEM. */
char **path_candidates(const char *name, const char *path, const char *cwd);
void path_candidates_free(char **v);

/* The first candidate (above) that is a regular file we may execute (a
 * directory or a file without execute permission is passed over, as
 * execvp passes over its EACCES), for a program started in cwd (an
 * absolute directory): malloc'd, absolute. NULL with errno ENOENT (not
 * found, or name empty or with a slash) or ENOMEM. */
char *path_search(const char *name, const char *path, const char *cwd);
/* Is path a regular file we may execute? */
bool path_is_exec(const char *path);

#endif
