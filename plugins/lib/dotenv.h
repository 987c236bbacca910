/* dotenv.h - the .env parser behind the runners' env_files (see
 * gust.json(5)): lines of KEY=VALUE, blank lines and # comments (in an
 * unquoted value, a # after a blank begins a comment; trailing blanks are
 * dropped), values in single quotes taken as they are or in double quotes
 * with \n, \t, \r and backslash escapes, an optional "export " prefix,
 * blanks around the "=". KEY is [A-Za-z_][A-Za-z0-9_]*. A value does not
 * span lines. */
#ifndef GUST_DOTENV_H
#define GUST_DOTENV_H

#include <stdbool.h>
#include <stddef.h>

/* Parse len bytes of .env text (need not end in a newline or a NUL) named
 * name in messages. Each variable is appended to *env as a malloc'd
 * "KEY=VALUE" (*env is NULL-terminated, *n entries; both start as NULL and
 * 0, or as a previous call left them: later files append). 0; or -EINVAL
 * with "name:line: why" in err; or -ENOMEM. What was appended before an
 * error stays in *env for the caller to free. */
int dotenv_parse(const char *text, size_t len, const char *name, char ***env, size_t *n, char *err,
                 size_t errlen);
/* The same for the file at path; a file that cannot be read is -errno with
 * "\"path\": reason" in err. */
int dotenv_parse_file(const char *path, char ***env, size_t *n, char *err, size_t errlen);
/* Free a NULL-terminated list of malloc'd strings, such as
 * dotenv_parse*() builds (NULL is fine). */
void dotenv_free(char **env);
/* Is s (len bytes) a valid variable name? */
bool dotenv_valid_name(const char *s, size_t len);

#endif
