/* confre.h - the config's regular expressions (watch.exclude_regex): a
 * cost bound checked before regcomp(), and the compile itself. glibc's
 * regcomp() writes every repetition out (x+ as xx*, x{m,n} as n copies)
 * and its memory grows with the square of a chain of optional copies:
 * "a" and 22 '+' took 18 s and 3.2 GB, 24 crashed it. So a pattern's size
 * with its repetitions expanded is estimated from its text first, and a
 * pattern over CONFIG_REGEX_MAX is refused without compiling it. */
#ifndef GUST_CONFRE_H
#define GUST_CONFRE_H

#include <regex.h>
#include <stddef.h>

/* The largest size accepted. At it, the worst pattern (a{1,2048}) compiles
 * in about 30 ms and 35 MB. */
#define CONFIG_REGEX_MAX 2048

/* The size of pat once its repetitions are written out: every character
 * counts 1 (an escape or a bracket expression counts its characters), a
 * group adds 2 for its parentheses and an alternative 1 for its bar; a
 * repetition of something of size s makes it: x* and x? s + 1, x+ 2s + 1,
 * x{m} m*s, x{m,} (m+1)*s, x{m,n} max(n,1)*s, each plus the operator's
 * length. Saturates; a pattern longer than CONFIG_REGEX_MAX is not parsed
 * and its length returned. */
size_t config_regex_cost(const char *pat);

/* Compile pat as gust does (REG_EXTENDED | REG_NOSUB) into *re, unless it
 * is over CONFIG_REGEX_MAX. 0, or -EINVAL with why (regerror()'s text or
 * the bound) in why; *re needs regfree() only on success. */
int config_regex_compile(const char *pat, regex_t *re, char *why, size_t whylen);

#endif
