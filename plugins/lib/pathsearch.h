/* pathsearch.h - where a program named without a slash is found, the way
 * the core's tree_spawn (and execvp) will run it: the PATH entries in
 * order, an empty entry meaning the working directory (POSIX), a relative
 * entry taken from the working directory, and the first regular file
 * that is executable (a directory or a file without execute permission
 * is passed over, as execvp passes over its EACCES). PATH unset means
 * PATH_SEARCH_DEFAULT, as in the core; PATH set to "" is one empty entry:
 * the working directory. */
#ifndef GUST_PATHSEARCH_H
#define GUST_PATHSEARCH_H

#include <stdbool.h>

#define PATH_SEARCH_DEFAULT "/usr/local/bin:/usr/bin:/bin"

/* The file name (no slash) resolves to for a program started in cwd (an
 * absolute directory) with PATH path (NULL: unset): malloc'd, absolute.
 * NULL with errno ENOENT (not found, or name empty or with a slash) or
 * ENOMEM. */
char *path_search(const char *name, const char *path, const char *cwd);
/* Is path a regular file we may execute? */
bool path_is_exec(const char *path);

#endif
