/* rootpath.c - root-relative paths (see rootpath.h). */
#include "config.h"

#include "rootpath.h"

#include <stdlib.h>
#include <string.h>

char *rootpath_dup(const char *root, size_t *len)
{
	char *r = strdup(root ? root : ".");
	size_t n;

	if (!r)
		return NULL;
	n = strlen(r);
	while (n > 1 && r[n - 1] == '/')
		r[--n] = '\0';
	*len = n;
	return r;
}

const char *rootpath_rel(const char *root, size_t root_len, const char *path, char *buf,
                         size_t buflen)
{
	size_t len;

	if (path[0] == '/') {
		if (root_len == 1) {
			path++;
		} else {
			if (strncmp(path, root, root_len) != 0)
				return NULL;
			if (path[root_len] == '\0')
				return "";
			if (path[root_len] != '/')
				return NULL;
			path += root_len + 1;
		}
	}
	while (path[0] == '.' && path[1] == '/')
		path += 2;
	while (*path == '/')
		path++;
	if (path[0] == '.' && path[1] == '\0')
		return "";
	/* "a//b" is "a/b" (as for git): one "/" of each run is kept, so that
	 * every directory prefix of the result is a directory */
	len = 0;
	for (const char *p = path; *p; p++) {
		if (*p == '/' && len && buf[len - 1] == '/')
			continue;
		if (len + 1 >= buflen)
			return NULL;
		buf[len++] = *p;
	}
	while (len && buf[len - 1] == '/')
		len--;
	buf[len] = '\0';
	return buf;
}
