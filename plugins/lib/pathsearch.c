/* pathsearch.c - one PATH search for every plugin. See pathsearch.h. */
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

char *path_search(const char *name, const char *path, const char *cwd)
{
	if (!*name || strchr(name, '/')) {
		errno = ENOENT;
		return NULL;
	}
	if (!path)
		path = PATH_SEARCH_DEFAULT;
	size_t room = strlen(cwd) + strlen(path) + strlen(name) + 3;
	char *buf = malloc(room);
	if (!buf)
		return NULL;
	for (const char *p = path;;) {
		const char *end = strchr(p, ':');
		int dlen = (int)(end ? (size_t)(end - p) : strlen(p));
		if (!dlen)
			snprintf(buf, room, "%s/%s", cwd, name);
		else if (p[0] == '/')
			snprintf(buf, room, "%.*s/%s", dlen, p, name);
		else
			snprintf(buf, room, "%s/%.*s/%s", cwd, dlen, p, name);
		if (path_is_exec(buf))
			return buf;
		if (!end)
			break;
		p = end + 1;
	}
	free(buf);
	errno = ENOENT;
	return NULL;
}
