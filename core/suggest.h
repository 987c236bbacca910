/* suggest.h - the wording of config errors: the did-you-mean for a
 * misspelt key, and how a value that was given or expected is quoted.
 * Shared by the core's key validation (keys.c, conf.c) and the plugin
 * option readers (options.c). */
#ifndef GUST_SUGGEST_H
#define GUST_SUGGEST_H

#include <limits.h>
#include <stddef.h>

struct json_t;

/* An integer bound at or past this is not worth stating ("integer >= 0"). */
#define CONFIG_NO_MAX INT_MAX

/* Nearest of candidates (NULL-terminated, may be NULL) to word by edit
 * distance, or NULL if none is close. Returns one of candidates. */
const char *config_nearest(const char *word, const char *const *candidates);

/* "<where>: <path>/<name>: unknown key", with " (did you mean \"k\"?)" when
 * one of known is close, into err. */
void config_unknown_key(char *err, size_t errlen, const char *where, const char *path,
                        const char *name, const char *const *known);

/* The value as compact JSON, shortened to fit a message; "nothing" for
 * NULL. v is borrowed. */
void config_got_text(const struct json_t *v, char *buf, size_t len);

/* "integer >= min" or "integer between min and max". */
void config_int_range(char *buf, size_t len, long long min, long long max);

#endif
