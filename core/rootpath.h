/* rootpath.h - paths relative to the project root, as the filter and the
 * ledger key them ("cmd/api/main.go"). */
#ifndef GUST_ROOTPATH_H
#define GUST_ROOTPATH_H

#include <stddef.h>

/* A copy of root (NULL: ".") without trailing "/" (but "/" itself), its
 * length in *len; NULL when out of memory. The caller frees it. */
char *rootpath_dup(const char *root, size_t *len);

/* The root-relative form of path in buf (buflen bytes): path is absolute,
 * or relative to the root already; "./" and leading and trailing "/" are
 * dropped, and a run of "/" inside is one; "" for the root itself. NULL when path lies outside the root
 * or does not fit. root: from rootpath_dup(), root_len its length. Returns
 * buf or a constant "". */
const char *rootpath_rel(const char *root, size_t root_len, const char *path, char *buf,
                         size_t buflen);

#endif
