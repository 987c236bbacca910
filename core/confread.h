/* confread.h - reading a config file into memory. */
#ifndef GUST_CONFREAD_H
#define GUST_CONFREAD_H

#include <stddef.h>

/* Read file whole into *text (malloc'd, NUL-terminated, *len bytes before
 * the NUL; the caller frees it). 0, or -errno with "cannot read \"FILE\":
 * ..." in err. */
int config_read_file(const char *file, char **text, size_t *len, char *err, size_t errlen);

#endif
