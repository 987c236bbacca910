/* confre.c - the cost bound and compile of the config's regular
 * expressions (see confre.h). The estimate follows POSIX ERE syntax: a
 * branch is a run of pieces, a piece an atom followed by repetitions. */
#include "config.h"

#include "confre.h"

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

static size_t add(size_t a, size_t b)
{
	return a > SIZE_MAX - b ? SIZE_MAX : a + b;
}

static size_t mul(size_t a, size_t b)
{
	return b && a > SIZE_MAX / b ? SIZE_MAX : a * b;
}

static size_t alternation(const char **p);

/* Past the bracket expression at *p ("[...]"); an unclosed one runs to
 * the end (regcomp() will refuse it). */
static const char *bracket_end(const char *p)
{
	p++;
	if (*p == '^')
		p++;
	if (*p == ']')
		p++;
	for (; *p && *p != ']'; p++) {
		if (*p == '[' && (p[1] == ':' || p[1] == '.' || p[1] == '=')) {
			char close = p[1];
			const char *e = p + 2;
			while (*e && !(e[0] == close && e[1] == ']'))
				e++;
			if (!*e)
				return e;
			p = e + 1;
		}
	}
	return *p ? p + 1 : p;
}

static size_t atom(const char **p)
{
	const char *s = *p;
	if (*s == '(') {
		*p = s + 1;
		size_t in = alternation(p);
		if (**p == ')')
			(*p)++;
		return add(in, 2);
	}
	if (*s == '[')
		*p = bracket_end(s);
	else if (*s == '\\' && s[1])
		*p = s + 2;
	else
		*p = s + 1;
	return (size_t)(*p - s);
}

static size_t number(const char **p)
{
	size_t n = 0;
	while (**p >= '0' && **p <= '9')
		n = add(mul(n, 10), (size_t)(*(*p)++ - '0'));
	return n;
}

/* The copies {m}, {m,}, {m,n} or {,n} at *p makes, or 0 if *p is no
 * bound (then '{' is an ordinary character). */
static size_t bound_copies(const char **p)
{
	const char *s = *p + 1;
	bool has_m = *s >= '0' && *s <= '9';
	size_t m = number(&s), n = 0;
	bool comma = *s == ',';
	if (comma) {
		s++;
		bool has_n = *s >= '0' && *s <= '9';
		n = has_n ? number(&s) : add(m, 1);
		if (!has_m && !has_n)
			return 0;
	} else if (!has_m) {
		return 0;
	} else {
		n = m;
	}
	if (*s != '}')
		return 0;
	*p = s + 1;
	return n ? n : 1;
}

static size_t piece(const char **p)
{
	size_t size = atom(p);
	for (;;) {
		const char *op = *p;
		if (*op == '*' || *op == '?') {
			size = add(size, 1);
			(*p)++;
		} else if (*op == '+') {
			size = add(mul(size, 2), 1);
			(*p)++;
		} else if (*op == '{') {
			size_t copies = bound_copies(p);
			if (!copies)
				return size;
			size = add(mul(size, copies), (size_t)(*p - op));
		} else {
			return size;
		}
	}
}

/* Branches separated by '|', up to an unmatched ')' or the end. */
static size_t alternation(const char **p)
{
	size_t size = 0;
	while (**p && **p != ')') {
		if (**p == '|') {
			size = add(size, 1);
			(*p)++;
			continue;
		}
		size = add(size, piece(p));
	}
	return size;
}

size_t config_regex_cost(const char *pat)
{
	size_t len = strlen(pat);
	if (len > CONFIG_REGEX_MAX)
		return len;
	size_t size = alternation(&pat);
	/* an unmatched ')' is an ordinary character to ERE */
	while (*pat == ')') {
		pat++;
		size = add(size, add(1, alternation(&pat)));
	}
	return size;
}

int config_regex_compile(const char *pat, regex_t *re, char *why, size_t whylen)
{
	if (config_regex_cost(pat) > CONFIG_REGEX_MAX) {
		snprintf(why, whylen, "too large once its repetitions are expanded (over %d)",
		         CONFIG_REGEX_MAX);
		return -EINVAL;
	}
	int rc = regcomp(re, pat, REG_EXTENDED | REG_NOSUB);
	if (rc) {
		regerror(rc, re, why, whylen);
		return -EINVAL;
	}
	return 0;
}
