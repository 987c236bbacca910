/* options.h - the plugin option readers behind the host table
 * (opt_string, opt_int, ... in include/gust/plugin.h): each reads one key
 * of a plugin's config section and says what is wrong with it in one line. */
#ifndef GUST_OPTIONS_H
#define GUST_OPTIONS_H

#include <stdbool.h>
#include <stddef.h>

struct json_t;
struct config;

/* What a plugin's options look like to the core: a section and its path. */
struct gust_opts {
	struct json_t *obj; /* borrowed */
	const char *where;  /* "gust.json" or "defaults", for messages */
	const char *path;   /* JSON path of the section, e.g. "/runner" */
	struct config *cfg; /* owner of the arrays opt_strv/opt_env return */
};

/* Each returns 0 or -EINVAL with "<where>: <path>/<key>: expected ..., got
 * ..." in err (with " (from --set K=V)" when a --set gave the value). */
int config_opt_check_keys(const struct gust_opts *o, const char *const *known, char *err,
                          size_t errlen);
int config_opt_string(const struct gust_opts *o, const char *key, const char *def, const char **out,
                      char *err, size_t errlen);
int config_opt_int(const struct gust_opts *o, const char *key, long long def, long long min,
                   long long max, long long *out, char *err, size_t errlen);
int config_opt_bool(const struct gust_opts *o, const char *key, bool def, bool *out, char *err,
                    size_t errlen);
/* *out is a NULL-terminated array owned by o->cfg (freed by config_free()),
 * never freed by the caller. */
int config_opt_strv(const struct gust_opts *o, const char *key, const char *const **out, size_t *n,
                    char *err, size_t errlen);
/* An environment: object of NAME: value, or array of "NAME=value". */
int config_opt_env(const struct gust_opts *o, const char *key, const char *const **out, size_t *n,
                   char *err, size_t errlen);
int config_opt_signal(const struct gust_opts *o, const char *key, int def, int *out, char *err,
                      size_t errlen);

#endif
