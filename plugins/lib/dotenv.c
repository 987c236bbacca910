/* dotenv.c - the .env parser (runners' env_files). See dotenv.h. */
#include "config.h"

#include "dotenv.h"
#include "vec.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

bool dotenv_valid_name(const char *s, size_t len)
{
	if (len == 0 || !(isalpha((unsigned char)s[0]) || s[0] == '_'))
		return false;
	for (size_t i = 1; i < len; i++)
		if (!(isalnum((unsigned char)s[i]) || s[i] == '_'))
			return false;
	return true;
}

static int push(char ***env, size_t *n, char *s)
{
	/* the caller's list carries no capacity: one more each time */
	size_t cap = *env ? *n + 1 : 0;
	char **v = vec_grow(*env, &cap, *n + 2, sizeof *v, *n + 2);
	if (!v) {
		free(s);
		return -ENOMEM;
	}
	v[(*n)++] = s;
	v[*n] = NULL;
	*env = v;
	return 0;
}

/* One line; NULL with *why set when it is malformed, "" for nothing. */
static char *parse_line(char *line, const char **why)
{
	char *p = line;
	while (*p == ' ' || *p == '\t')
		p++;
	if (!*p || *p == '#')
		return strdup("");
	if (!strncmp(p, "export", 6) && (p[6] == ' ' || p[6] == '\t')) {
		p += 6;
		while (*p == ' ' || *p == '\t')
			p++;
	}
	char *name = p;
	while (isalnum((unsigned char)*p) || *p == '_')
		p++;
	size_t nlen = (size_t)(p - name);
	while (*p == ' ' || *p == '\t')
		p++;
	if (!dotenv_valid_name(name, nlen) || *p != '=') {
		*why = "expected NAME=value";
		return NULL;
	}
	p++;
	while (*p == ' ' || *p == '\t')
		p++;
	size_t cap = nlen + strlen(p) + 2;
	char *out = malloc(cap);
	if (!out) {
		*why = "out of memory";
		return NULL;
	}
	memcpy(out, name, nlen);
	out[nlen] = '=';
	char *o = out + nlen + 1;
	if (*p == '"' || *p == '\'') {
		char q = *p++;
		for (; *p && *p != q; p++) {
			if (q == '"' && *p == '\\' && p[1]) {
				p++;
				*o++ = *p == 'n' ? '\n' : *p == 't' ? '\t' : *p == 'r' ? '\r' : *p;
			} else {
				*o++ = *p;
			}
		}
		if (*p != q) {
			free(out);
			*why = "unterminated quote";
			return NULL;
		}
		p++;
		while (*p == ' ' || *p == '\t')
			p++;
		if (*p && *p != '#') {
			free(out);
			*why = "unexpected text after the closing quote";
			return NULL;
		}
	} else {
		char *start = o;
		/* p[-1] is the line's own character before: the blanks after
		 * the "=" count, the "=" itself does not */
		for (; *p; p++) {
			if (*p == '#' && (p[-1] == ' ' || p[-1] == '\t'))
				break;
			*o++ = *p;
		}
		while (o > start && (o[-1] == ' ' || o[-1] == '\t'))
			o--;
	}
	*o = '\0';
	return out;
}

/* Line lineno of name (NUL-terminated, its newline still there or not):
 * its variable appended to *env, or nothing. 0, -EINVAL with
 * "name:lineno: why" in err, or -ENOMEM. */
static int take_line(char *line, size_t len, const char *name, int lineno, char ***env, size_t *n,
                     char *err, size_t errlen)
{
	while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
		line[--len] = '\0';
	const char *why = NULL;
	char *kv = parse_line(line, &why);
	if (!kv) {
		snprintf(err, errlen, "%s:%d: %s", name, lineno, why);
		return -EINVAL;
	}
	if (!*kv) {
		free(kv);
		return 0;
	}
	if (push(env, n, kv) < 0) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	return 0;
}

int dotenv_parse(const char *text, size_t len, const char *name, char ***env, size_t *n, char *err,
                 size_t errlen)
{
	int lineno = 0, r = 0;
	for (size_t at = 0; at < len && r == 0;) {
		const char *nl = memchr(text + at, '\n', len - at);
		size_t ll = nl ? (size_t)(nl - (text + at)) : len - at;
		char *line = malloc(ll + 1);
		if (!line) {
			snprintf(err, errlen, "out of memory");
			return -ENOMEM;
		}
		memcpy(line, text + at, ll);
		line[ll] = '\0';
		r = take_line(line, ll, name, ++lineno, env, n, err, errlen);
		free(line);
		at += ll + (nl != NULL);
	}
	return r;
}

int dotenv_parse_file(const char *path, char ***env, size_t *n, char *err, size_t errlen)
{
	FILE *f = fopen(path, "re");
	if (!f) {
		int e = errno;
		snprintf(err, errlen, "\"%s\": %s", path, strerror(e));
		return -e;
	}
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;
	int lineno = 0, r = 0;
	while (r == 0) {
		errno = 0;
		if ((len = getline(&line, &cap, f)) < 0) {
			/* a read error (a directory opens, then reads EISDIR) is
			 * not the end of the file */
			if (ferror(f)) {
				int e = errno ? errno : EIO;
				snprintf(err, errlen, "\"%s\": %s", path, strerror(e));
				r = -e;
			}
			break;
		}
		r = take_line(line, (size_t)len, path, ++lineno, env, n, err, errlen);
	}
	free(line);
	fclose(f);
	return r;
}

void dotenv_free(char **env)
{
	if (!env)
		return;
	for (char **p = env; *p; p++)
		free(*p);
	free(env);
}
