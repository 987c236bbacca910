/* glob.c - glob matching with "**" components (see glob.h). */
#include "config.h"

#include "glob.h"

#include <fnmatch.h>
#include <limits.h>
#include <string.h>

/* Match one bracket expression at p (p[0] == '[') against c. Returns the
 * length of the expression, 0 if p is not a complete bracket expression;
 * *hit tells whether c matched. */
static size_t bracket(const char *p, char c, bool *hit)
{
	const char *j = p + 1;
	char buf[256];
	size_t n;
	char s[2] = { c, '\0' };

	if (*j == '!' || *j == '^')
		j++;
	if (*j == ']')
		j++;
	while (*j && *j != ']') {
		if (j[0] == '[' && (j[1] == ':' || j[1] == '.' || j[1] == '=')) {
			const char *e = strchr(j + 2, j[1]);
			while (e && e[1] != ']')
				e = strchr(e + 1, j[1]);
			if (!e)
				return 0;
			j = e + 2;
			continue;
		}
		if (*j == '\\' && j[1])
			j++;
		j++;
	}
	if (*j != ']')
		return 0;
	n = (size_t)(j - p) + 1;
	if (n >= sizeof buf)
		return 0;
	memcpy(buf, p, n);
	buf[n] = '\0';
	if (buf[1] == '^')
		buf[1] = '!';
	*hit = c != '/' && fnmatch(buf, s, 0) == 0;
	return n;
}

/* fnmatch(FNM_PATHNAME) semantics plus "**" as a whole component matching
 * zero or more components; a final "**" component matches everything inside. */
static bool glob_at(const char *start, const char *p, const char *s)
{
	for (;;) {
		char c = *p;

		if (c == '\0')
			return *s == '\0';
		if (c == '*') {
			if (p[1] == '*' && (p == start || p[-1] == '/') &&
			    (p[2] == '/' || p[2] == '\0')) {
				if (p[2] == '\0')
					return true;
				if (glob_at(start, p + 3, s))
					return true;
				for (; *s; s++)
					if (*s == '/' && glob_at(start, p + 3, s + 1))
						return true;
				return false;
			}
			while (*p == '*')
				p++;
			if (*p == '\0')
				return strchr(s, '/') == NULL;
			for (;;) {
				if (glob_at(start, p, s))
					return true;
				if (*s == '\0' || *s == '/')
					return false;
				s++;
			}
		}
		if (c == '?') {
			if (*s == '\0' || *s == '/')
				return false;
			p++;
			s++;
			continue;
		}
		if (c == '[') {
			bool hit = false;
			size_t n = *s ? bracket(p, *s, &hit) : 0;
			if (n) {
				if (!hit)
					return false;
				p += n;
				s++;
				continue;
			}
			if (!*s)
				return false;
		}
		if (c == '\\' && p[1])
			c = *++p;
		if (c != *s)
			return false;
		p++;
		s++;
	}
}

bool glob_match(const char *p, const char *s)
{
	return glob_at(p, p, s);
}

bool glob_ancestor(const char *pat, const char *rel, size_t len, bool stop_at_stars)
{
	const char *p = pat, *r = rel, *rend = rel + len;
	char pc[NAME_MAX + 1], rc[NAME_MAX + 1];

	while (r < rend) {
		const char *pe = strchr(p, '/'), *re = memchr(r, '/', (size_t)(rend - r));
		size_t pl, rl;

		if (!pe)
			return false; /* the pattern's last component names the target */
		if (!re)
			re = rend;
		pl = (size_t)(pe - p);
		rl = (size_t)(re - r);
		if (pl == 2 && p[0] == '*' && p[1] == '*')
			return !stop_at_stars;
		if (pl > NAME_MAX || rl > NAME_MAX)
			return false;
		memcpy(pc, p, pl);
		pc[pl] = '\0';
		memcpy(rc, r, rl);
		rc[rl] = '\0';
		if (!glob_match(pc, rc))
			return false;
		p = pe + 1;
		r = re < rend ? re + 1 : rend;
	}
	return true;
}
