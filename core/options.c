/* options.c - the plugin option readers (see options.h). A value a --set
 * gave is named in the message, since the file was fine; arrays handed to
 * plugins are kept by the config until config_free(). */
#include "config.h"

#include "conf.h"
#include "options.h"
#include "signames.h"
#include "suggest.h"

#include <ctype.h>
#include <errno.h>
#include <jansson.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static json_t *opt_get(const struct gust_opts *o, const char *key)
{
	return json_object_get(o->obj, key);
}

/* The reader fell back to def for key: noted for --print-config. */
static void note_default(const struct gust_opts *o, const char *key, json_t *def)
{
	if (o->cfg)
		config_note_default(o->cfg, o->path, key, def);
	else
		json_decref(def);
}

static const char *set_origin(const struct gust_opts *o, const char *key)
{
	char epath[512];
	if (!o->cfg || snprintf(epath, sizeof epath, "%s/%s", o->path, key) >= (int)sizeof epath)
		return NULL;
	return config_set_for(o->cfg, epath);
}


/* An option error on a value given by --set says so: the file was fine. */
static void add_origin(const struct gust_opts *o, const char *key, char *err, size_t errlen)
{
	const char *set = set_origin(o, key);
	size_t l = strlen(err);
	if (set && l < errlen)
		snprintf(err + l, errlen - l, " (from --set %s)", set);
}

static int opt_err(const struct gust_opts *o, const char *key, const char *expected, json_t *v,
                   char *err, size_t errlen)
{
	char got[80];
	config_got_text(v, got, sizeof got);
	snprintf(err, errlen, "%s: %s/%s: expected %s, got %s", o->where, o->path, key, expected,
	         got);
	add_origin(o, key, err, errlen);
	return -EINVAL;
}

/* Keep p until config_free(); on failure p is freed. */
static int cache_keep(const struct gust_opts *o, void *p, char *err, size_t errlen)
{
	if (!o->cfg) {
		free(p);
		snprintf(err, errlen, "%s: %s: no config owns the options (core bug)", o->where,
		         o->path);
		return -EINVAL;
	}
	int r = config_keep(o->cfg, p);
	if (r < 0)
		snprintf(err, errlen, "out of memory");
	return r;
}

int config_opt_check_keys(const struct gust_opts *o, const char *const *known, char *err,
                          size_t errlen)
{
	const char *name;
	json_t *v;
	if (!json_is_object(o->obj)) {
		char got[80];
		config_got_text(o->obj, got, sizeof got);
		snprintf(err, errlen, "%s: %s: expected an object, got %s", o->where, o->path, got);
		return -EINVAL;
	}
	json_object_foreach(o->obj, name, v)
	{
		bool ok = strcmp(name, "plugin") == 0;
		size_t n = 0;
		for (; known && known[n]; n++)
			ok = ok || strcmp(name, known[n]) == 0;
		if (ok)
			continue;
		const char **cand = calloc(n + 2, sizeof *cand);
		if (!cand) {
			snprintf(err, errlen, "out of memory");
			return -ENOMEM;
		}
		for (size_t i = 0; i < n; i++)
			cand[i] = known[i];
		cand[n] = "plugin";
		config_unknown_key(err, errlen, o->where, o->path, name, cand);
		add_origin(o, name, err, errlen);
		free(cand);
		return -EINVAL;
	}
	return 0;
}

int config_opt_string(const struct gust_opts *o, const char *key, const char *def, const char **out,
                      char *err, size_t errlen)
{
	json_t *v = opt_get(o, key);
	if (!v) {
		*out = def;
		note_default(o, key, def ? json_string(def) : NULL);
		return 0;
	}
	if (!json_is_string(v)) {
		/* --set builder.cmd=true means the command "true": a scalar
		 * set exactly here is taken as the text it was given as */
		const char *set = set_origin(o, key);
		const char *eq = set ? strchr(set, '=') : NULL;
		char epath[512];
		int l = snprintf(epath, sizeof epath, "%s/%s", o->path, key);
		if (eq && !json_is_object(v) && !json_is_array(v) && l == (int)(eq - set) + 1 &&
		    l < (int)sizeof epath) {
			*out = eq + 1;
			return 0;
		}
		return opt_err(o, key, "a string", v, err, errlen);
	}
	*out = json_string_value(v);
	return 0;
}

int config_opt_int(const struct gust_opts *o, const char *key, long long def, long long min,
                   long long max, long long *out, char *err, size_t errlen)
{
	json_t *v = opt_get(o, key);
	if (!v) {
		*out = def;
		note_default(o, key, json_integer(def));
		return 0;
	}
	if (!json_is_integer(v) || json_integer_value(v) < min || json_integer_value(v) > max) {
		char exp[96];
		config_int_range(exp, sizeof exp, min, max);
		return opt_err(o, key, exp, v, err, errlen);
	}
	*out = json_integer_value(v);
	return 0;
}

int config_opt_bool(const struct gust_opts *o, const char *key, bool def, bool *out, char *err,
                    size_t errlen)
{
	json_t *v = opt_get(o, key);
	if (!v) {
		*out = def;
		note_default(o, key, json_boolean(def));
		return 0;
	}
	if (!json_is_boolean(v))
		return opt_err(o, key, "true or false", v, err, errlen);
	*out = json_is_true(v);
	return 0;
}

int config_opt_strv(const struct gust_opts *o, const char *key, const char *const **out, size_t *n,
                    char *err, size_t errlen)
{
	json_t *v = opt_get(o, key);
	size_t cnt = !v                  ? 0
	             : json_is_string(v) ? 1
	             : json_is_array(v)  ? json_array_size(v)
	                                 : SIZE_MAX;
	if (cnt == SIZE_MAX)
		return opt_err(o, key, "an array of strings", v, err, errlen);
	for (size_t i = 0; i < cnt; i++) {
		json_t *e = json_is_string(v) ? v : json_array_get(v, i);
		if (!json_is_string(e)) {
			char sub[256];
			snprintf(sub, sizeof sub, "%s/%zu", key, i);
			return opt_err(o, sub, "a string", e, err, errlen);
		}
	}
	const char **arr = calloc(cnt + 1, sizeof *arr);
	if (!arr) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	for (size_t i = 0; i < cnt; i++)
		arr[i] = json_string_value(json_is_string(v) ? v : json_array_get(v, i));
	int r = cache_keep(o, arr, err, errlen);
	if (r < 0)
		return r;
	*out = arr;
	if (n)
		*n = cnt;
	return 0;
}

static bool env_name_ok(const char *s, size_t len)
{
	if (len == 0 || isdigit((unsigned char)s[0]))
		return false;
	for (size_t i = 0; i < len; i++)
		if (!isalnum((unsigned char)s[i]) && s[i] != '_')
			return false;
	return true;
}

/* The array form: "NAME=value" strings, checked. */
static int env_from_strv(const struct gust_opts *o, const char *key, json_t *v,
                         const char *const **out, size_t *n, char *err, size_t errlen)
{
	const char *const *arr;
	size_t cnt;
	int r = config_opt_strv(o, key, &arr, &cnt, err, errlen);
	if (r < 0)
		return r;
	for (size_t i = 0; i < cnt; i++) {
		const char *eq = strchr(arr[i], '=');
		if (!eq || !env_name_ok(arr[i], (size_t)(eq - arr[i]))) {
			char sub[256];
			snprintf(sub, sizeof sub, "%s/%zu", key, i);
			return opt_err(o, sub, "\"NAME=value\"",
			               json_is_array(v) ? json_array_get(v, i) : v, err, errlen);
		}
	}
	*out = arr;
	if (n)
		*n = cnt;
	return 0;
}

/* One "NAME": value of the object form as "NAME=value" in *s (malloc'd). */
static int env_entry(const struct gust_opts *o, const char *key, const char *name, json_t *val,
                     char **s, char *err, size_t errlen)
{
	char sub[256];
	snprintf(sub, sizeof sub, "%s/%s", key, name);
	*s = NULL;
	if (!env_name_ok(name, strlen(name))) {
		snprintf(err, errlen,
		         "%s: %s/%s: invalid variable name (letters, digits and _ only)", o->where,
		         o->path, sub);
		add_origin(o, sub, err, errlen);
		return -EINVAL;
	}
	if (json_is_string(val)) {
		if (asprintf(s, "%s=%s", name, json_string_value(val)) < 0)
			*s = NULL;
	} else if (json_is_number(val) || json_is_boolean(val)) {
		char *txt = json_dumps(val, JSON_ENCODE_ANY);
		if (!txt || asprintf(s, "%s=%s", name, txt) < 0)
			*s = NULL;
		free(txt);
	} else {
		return opt_err(o, sub, "a string, number or boolean", val, err, errlen);
	}
	if (!*s) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	return 0;
}

int config_opt_env(const struct gust_opts *o, const char *key, const char *const **out, size_t *n,
                   char *err, size_t errlen)
{
	json_t *v = opt_get(o, key);
	if (!v || json_is_array(v) || json_is_string(v))
		return env_from_strv(o, key, v, out, n, err, errlen);
	if (!json_is_object(v))
		return opt_err(o, key, "an object of \"NAME\": \"value\"", v, err, errlen);
	size_t cnt = json_object_size(v), i = 0;
	const char **arr = calloc(cnt + 1, sizeof *arr);
	if (!arr) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	int r = cache_keep(o, arr, err, errlen);
	if (r < 0)
		return r;
	const char *name;
	json_t *val;
	json_object_foreach(v, name, val)
	{
		char *s;
		if ((r = env_entry(o, key, name, val, &s, err, errlen)) < 0 ||
		    (r = cache_keep(o, s, err, errlen)) < 0)
			return r;
		arr[i++] = s;
	}
	*out = arr;
	if (n)
		*n = cnt;
	return 0;
}

int config_opt_signal(const struct gust_opts *o, const char *key, int def, int *out, char *err,
                      size_t errlen)
{
	json_t *v = opt_get(o, key);
	if (!v) {
		*out = def;
		const char *name = config_signal_name(def);
		note_default(o, key, name ? json_string(name) : json_integer(def));
		return 0;
	}
	int sig = -1;
	if (json_is_integer(v) && json_integer_value(v) > 0 && json_integer_value(v) < NSIG)
		sig = (int)json_integer_value(v);
	else if (json_is_string(v))
		sig = config_signal_from_name(json_string_value(v));
	if (sig <= 0)
		return opt_err(o, key, "a signal name like \"SIGTERM\" or a number", v, err,
		               errlen);
	*out = sig;
	return 0;
}
