/* pathsearch.c - the one PATH search of the core and the plugins. See
 * pathsearch.h. */
#include "config.h"

#include "pathsearch.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

bool path_is_exec(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0 && S_ISREG(st.st_mode) && access(path, X_OK) == 0;
}

void path_candidates_free(char **v)
{
	if (!v)
		return;
	for (char **c = v; *c; c++)
		free(*c);
	free(v);
}

/* One candidate: entry (len bytes, maybe empty) and name, from cwd unless
 * the entry is absolute or cwd is NULL. */
static char *candidate(const char *entry, size_t len, const char *name, const char *cwd)
{
	bool from_cwd = cwd && (!len || entry[0] != '/');
	size_t sz = (from_cwd ? strlen(cwd) + 1 : 0) + len + 1 + strlen(name) + 1;
	char *c = malloc(sz);
	if (!c)
		return NULL;
	snprintf(c, sz, "%s%s%.*s%s%s", from_cwd ? cwd : "", from_cwd ? "/" : "", (int)len, entry,
	         len ? "/" : "", name);
	return c;
}

char **path_candidates(const char *name, const char *path, const char *cwd)
{
	if (!path)
		path = PATH_SEARCH_DEFAULT;
	size_t n = 1, k = 0;
	for (const char *p = path; *p; p++)
		n += *p == ':';
	char **v = calloc(n + 1, sizeof *v);
	if (!v)
		return NULL;
	for (const char *p = path;;) {
		const char *end = strchr(p, ':');
		size_t len = end ? (size_t)(end - p) : strlen(p);
		if (!(v[k++] = candidate(p, len, name, cwd))) {
			path_candidates_free(v);
			return NULL;
		}
		if (!end)
			break;
		p = end + 1;
	}
	return v;
}

char *path_search(const char *name, const char *path, const char *cwd)
{
	if (!*name || strchr(name, '/')) {
		errno = ENOENT;
		return NULL;
	}
	char **v = path_candidates(name, path, cwd), *found = NULL;
	if (!v)
		return NULL;
	for (char **c = v; *c; c++)
		if (!found && path_is_exec(*c))
			found = *c;
		else
			free(*c);
	free(v);
	if (!found)
		errno = ENOENT;
	return found;
}
