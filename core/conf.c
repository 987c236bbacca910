/* conf.c - gust.json. The effective config is built in layers: the file
 * (or nothing) with --set overrides applied on top of it, laid over the
 * built-in defaults. The user's layer is validated before it is laid over
 * (core keys here, plugin keys by each plugin through config_opt_*), so
 * errors name the file, or the --set, and either line:col (syntax) or the
 * JSON path (meaning), with a did-you-mean for misspelt keys. */
#include "config.h"

#include "conf.h"
#include "gust-paths.h"
#include "presets.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <limits.h>
#include <regex.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

/* What the config owns for plugins: arrays handed out by opt_strv and
 * opt_env, and the --set texts, so an option error can say where a value
 * came from. */
struct config_cache {
	void **ptrs;
	size_t n, cap;
	char **sets;
};

static const char defaults_json[] =
    "{"
    " \"root\": \".\","
    " \"tmp_dir\": \"tmp\","
    " \"plugin_path\": [],"
    " \"watch\": {"
    "  \"include_ext\": [\"go\", \"tpl\", \"tmpl\", \"html\"],"
    "  \"include_dir\": [], \"include_file\": [],"
    "  \"exclude_dir\": [\"assets\", \"tmp\", \"vendor\", \"testdata\", \"node_modules\"],"
    "  \"exclude_file\": [], \"exclude_regex\": [\"_test\\\\.go$\"],"
    "  \"gitignore\": true, \"follow_symlinks\": false, \"exclude_unchanged\": true,"
    "  \"allow_any_root\": false, \"debounce_ms\": 50, \"debounce_max_ms\": 2000 },"
    " \"log\": { \"color\": \"auto\", \"timestamps\": false, \"verbosity\": \"normal\" },"
    " \"screen\": { \"clear\": false },"
    " \"lifecycle\": { \"postpone_first\": false, \"stop_on_build_failure\": false,"
    "  \"restart_on_exit\": false, \"restart_delay_ms\": 500, \"restart_max_delay_ms\": 30000 },"
    " \"watcher\": { \"plugin\": \"auto\" },"
    " \"builder\": { \"plugin\": \"shell\", \"cmd\": \"go build -o ./tmp/main .\" },"
    " \"runner\": { \"plugin\": \"plain\", \"bin\": \"./tmp/main\" }"
    "}";

/* ---- the core's keys ---- */

enum ktype { K_STR, K_STRV, K_REGEXV, K_BOOL, K_INT, K_ENUM, K_OBJ, K_PLUGIN, K_VERBOSITY };

/* An integer key whose max is this has no upper bound worth stating. */
#define NO_MAX INT_MAX

struct key {
	const char *name;
	enum ktype type;
	long long min, max;         /* K_INT, K_VERBOSITY */
	const char *const *choices; /* K_ENUM, K_VERBOSITY */
	const struct key *sub;      /* K_OBJ: terminated by name NULL */
};

static const char *const colors[] = { "auto", "always", "never", NULL };
/* verbosity: a name, or its number (-1 quiet .. 2 debug) */
static const char *const verbosities[] = { "quiet", "normal", "verbose", "debug", NULL };

static const struct key watch_keys[] = {
	{ "include_ext", K_STRV, 0, 0, NULL, NULL },
	{ "include_dir", K_STRV, 0, 0, NULL, NULL },
	{ "include_file", K_STRV, 0, 0, NULL, NULL },
	{ "exclude_dir", K_STRV, 0, 0, NULL, NULL },
	{ "exclude_file", K_STRV, 0, 0, NULL, NULL },
	{ "exclude_regex", K_REGEXV, 0, 0, NULL, NULL },
	{ "gitignore", K_BOOL, 0, 0, NULL, NULL },
	{ "follow_symlinks", K_BOOL, 0, 0, NULL, NULL },
	{ "exclude_unchanged", K_BOOL, 0, 0, NULL, NULL },
	{ "allow_any_root", K_BOOL, 0, 0, NULL, NULL },
	{ "debounce_ms", K_INT, 0, NO_MAX, NULL, NULL },
	{ "debounce_max_ms", K_INT, 0, NO_MAX, NULL, NULL },
	{ NULL, K_STR, 0, 0, NULL, NULL },
};
static const struct key log_keys[] = {
	{ "color", K_ENUM, 0, 0, colors, NULL },
	{ "timestamps", K_BOOL, 0, 0, NULL, NULL },
	{ "verbosity", K_VERBOSITY, -1, 2, verbosities, NULL },
	{ NULL, K_STR, 0, 0, NULL, NULL },
};
static const struct key screen_keys[] = {
	{ "clear", K_BOOL, 0, 0, NULL, NULL },
	{ NULL, K_STR, 0, 0, NULL, NULL },
};
static const struct key lifecycle_keys[] = {
	{ "postpone_first", K_BOOL, 0, 0, NULL, NULL },
	{ "stop_on_build_failure", K_BOOL, 0, 0, NULL, NULL },
	{ "restart_on_exit", K_BOOL, 0, 0, NULL, NULL },
	{ "restart_delay_ms", K_INT, 0, 3600000, NULL, NULL },
	{ "restart_max_delay_ms", K_INT, 0, 3600000, NULL, NULL },
	{ NULL, K_STR, 0, 0, NULL, NULL },
};
static const struct key top_keys[] = {
	{ "$schema", K_STR, 0, 0, NULL, NULL },
	{ "root", K_STR, 0, 0, NULL, NULL },
	{ "tmp_dir", K_STR, 0, 0, NULL, NULL },
	{ "plugin_path", K_STRV, 0, 0, NULL, NULL },
	{ "watch", K_OBJ, 0, 0, NULL, watch_keys },
	{ "log", K_OBJ, 0, 0, NULL, log_keys },
	{ "screen", K_OBJ, 0, 0, NULL, screen_keys },
	{ "lifecycle", K_OBJ, 0, 0, NULL, lifecycle_keys },
	{ "watcher", K_PLUGIN, 0, 0, NULL, NULL },
	{ "builder", K_PLUGIN, 0, 0, NULL, NULL },
	{ "runner", K_PLUGIN, 0, 0, NULL, NULL },
	{ NULL, K_STR, 0, 0, NULL, NULL },
};

static const struct key *find_key(const struct key *keys, const char *name)
{
	for (size_t i = 0; keys[i].name; i++)
		if (strcmp(keys[i].name, name) == 0)
			return &keys[i];
	return NULL;
}

/* ---- did you mean ---- */

/* Optimal string alignment distance (Damerau-Levenshtein without
 * repeated edits of a substring), case-insensitive. */
static size_t edit_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	if (la > 64 || lb > 64)
		return SIZE_MAX;
	size_t d[65][65];
	for (size_t i = 0; i <= la; i++)
		d[i][0] = i;
	for (size_t j = 0; j <= lb; j++)
		d[0][j] = j;
	for (size_t i = 1; i <= la; i++) {
		for (size_t j = 1; j <= lb; j++) {
			int ca = tolower((unsigned char)a[i - 1]),
			    cb = tolower((unsigned char)b[j - 1]);
			size_t v = d[i - 1][j] + 1;
			if (d[i][j - 1] + 1 < v)
				v = d[i][j - 1] + 1;
			if (d[i - 1][j - 1] + (ca != cb) < v)
				v = d[i - 1][j - 1] + (ca != cb);
			if (i > 1 && j > 1 && ca == tolower((unsigned char)b[j - 2]) &&
			    tolower((unsigned char)a[i - 2]) == cb && d[i - 2][j - 2] + 1 < v)
				v = d[i - 2][j - 2] + 1;
			d[i][j] = v;
		}
	}
	return d[la][lb];
}

/* Up to about a third of the word may be wrong (1 to 3 edits); a word of
 * 4+ characters that is a prefix of a key (or the key of it) counts as 1.5
 * edits: "exclude" -> "exclude_dir", "debounce_max" -> "debounce_max_ms".
 * Scores are in half edits. */
const char *config_nearest(const char *word, const char *const *candidates)
{
	const char *best = NULL;
	size_t bestd = SIZE_MAX;
	size_t wl = strlen(word);
	for (size_t i = 0; candidates && candidates[i]; i++) {
		size_t dd = edit_distance(word, candidates[i]);
		dd = dd == SIZE_MAX ? dd : dd * 2;
		size_t cl = strlen(candidates[i]);
		size_t ml = wl < cl ? wl : cl;
		if (dd > 3 && ml >= 4 && strncasecmp(word, candidates[i], ml) == 0)
			dd = 3;
		if (dd < bestd) {
			bestd = dd;
			best = candidates[i];
		}
	}
	size_t limit = wl <= 4 ? 2 : wl <= 8 ? 4 : 6;
	return bestd <= limit ? best : NULL;
}

static void unknown_key(char *err, size_t errlen, const char *where, const char *path,
                        const char *name, const char *const *known)
{
	const char *near = config_nearest(name, known);
	if (near)
		snprintf(err, errlen, "%s: %s/%s: unknown key (did you mean \"%s\"?)", where, path,
		         name, near);
	else
		snprintf(err, errlen, "%s: %s/%s: unknown key", where, path, name);
}

static void key_names(const struct key *keys, const char **out, size_t max)
{
	size_t n = 0;
	for (size_t i = 0; keys[i].name && n + 1 < max; i++)
		out[n++] = keys[i].name;
	out[n] = NULL;
}

/* "got" text for messages: the value as compact JSON, shortened. */
static void got_text(const json_t *v, char *buf, size_t len)
{
	char *s = v ? json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT) : NULL;
	if (!s) {
		snprintf(buf, len, "nothing");
		return;
	}
	if (strlen(s) > 60)
		snprintf(buf, len, "%.57s...", s);
	else
		snprintf(buf, len, "%s", s);
	free(s);
}

static void int_range(char *buf, size_t len, long long min, long long max)
{
	if (max >= NO_MAX)
		snprintf(buf, len, "integer >= %lld", min);
	else
		snprintf(buf, len, "integer between %lld and %lld", min, max);
}

/* ---- validation of core keys ---- */

/* strict: the complete config (every plugin section names its plugin);
 * otherwise a user layer, whose plugin sections may leave "plugin" out to
 * adjust the default plugin's options. */
struct vctx {
	const char *where;
	bool strict;
	char *err;
	size_t errlen;
};

#define VERR(vc, ...) (snprintf((vc)->err, (vc)->errlen, __VA_ARGS__), -EINVAL)

static int check_value(const struct vctx *vc, const struct key *k, json_t *v, const char *path)
{
	char got[80];
	got_text(v, got, sizeof got);
	switch (k->type) {
	case K_STR:
		if (!json_is_string(v))
			return VERR(vc, "%s: %s: expected a string, got %s", vc->where, path, got);
		return 0;
	case K_STRV:
	case K_REGEXV:
		if (!json_is_string(v) && !json_is_array(v))
			return VERR(vc, "%s: %s: expected an array of strings, got %s", vc->where,
			            path, got);
		for (size_t i = 0; i < (json_is_array(v) ? json_array_size(v) : 1); i++) {
			json_t *e = json_is_array(v) ? json_array_get(v, i) : v;
			if (!json_is_string(e)) {
				got_text(e, got, sizeof got);
				return VERR(vc, "%s: %s/%zu: expected a string, got %s", vc->where,
				            path, i, got);
			}
			if (k->type == K_REGEXV) {
				regex_t re;
				int rc =
				    regcomp(&re, json_string_value(e), REG_EXTENDED | REG_NOSUB);
				if (rc) {
					char msg[128];
					regerror(rc, &re, msg, sizeof msg);
					got_text(e, got, sizeof got);
					return VERR(vc,
					            "%s: %s/%zu: invalid regular expression %s: %s",
					            vc->where, path, i, got, msg);
				}
				regfree(&re);
			}
		}
		return 0;
	case K_BOOL:
		if (!json_is_boolean(v))
			return VERR(vc, "%s: %s: expected true or false, got %s", vc->where, path,
			            got);
		return 0;
	case K_INT:
		if (!json_is_integer(v) || json_integer_value(v) < k->min ||
		    json_integer_value(v) > k->max) {
			char exp[96];
			int_range(exp, sizeof exp, k->min, k->max);
			return VERR(vc, "%s: %s: expected %s, got %s", vc->where, path, exp, got);
		}
		return 0;
	case K_VERBOSITY:
		if (json_is_integer(v) && json_integer_value(v) >= k->min &&
		    json_integer_value(v) <= k->max)
			return 0;
		/* or one of the names */
		/* fall through */
	case K_ENUM: {
		if (json_is_string(v))
			for (size_t i = 0; k->choices[i]; i++)
				if (strcmp(json_string_value(v), k->choices[i]) == 0)
					return 0;
		char list[256] = "";
		size_t off = 0;
		for (size_t i = 0; k->choices[i]; i++) {
			int n = snprintf(list + off, sizeof list - off, "%s\"%s\"", i ? ", " : "",
			                 k->choices[i]);
			if (n > 0 && (size_t)n < sizeof list - off)
				off += (size_t)n;
		}
		if (k->type == K_VERBOSITY)
			return VERR(vc,
			            "%s: %s: expected one of %s or an integer between %lld and "
			            "%lld, got %s",
			            vc->where, path, list, k->min, k->max, got);
		return VERR(vc, "%s: %s: expected one of %s, got %s", vc->where, path, list, got);
	}
	case K_OBJ: {
		if (!json_is_object(v))
			return VERR(vc, "%s: %s: expected an object, got %s", vc->where, path, got);
		const char *name;
		json_t *sv;
		json_object_foreach(v, name, sv)
		{
			const struct key *sk = find_key(k->sub, name);
			if (!sk) {
				const char *known[32];
				key_names(k->sub, known, 32);
				unknown_key(vc->err, vc->errlen, vc->where, path, name, known);
				return -EINVAL;
			}
			char sub[512];
			if (snprintf(sub, sizeof sub, "%s/%s", path, name) >= (int)sizeof sub)
				return VERR(vc, "%s: %s: key too long", vc->where, path);
			int r = check_value(vc, sk, sv, sub);
			if (r < 0)
				return r;
		}
		return 0;
	}
	case K_PLUGIN: {
		if (!json_is_object(v))
			return VERR(vc, "%s: %s: expected an object with \"plugin\", got %s",
			            vc->where, path, got);
		json_t *p = json_object_get(v, "plugin");
		if (!p && !vc->strict)
			return 0;
		if (!json_is_string(p) || !*json_string_value(p)) {
			got_text(p, got, sizeof got);
			return VERR(vc, "%s: %s/plugin: expected a plugin name or path, got %s",
			            vc->where, path, got);
		}
		return 0;
	}
	}
	return 0;
}

static int validate(json_t *root, const char *where, bool strict, char *err, size_t errlen)
{
	static const struct key top = { "", K_OBJ, 0, 0, NULL, top_keys };
	struct vctx vc = { where, strict, err, errlen };
	if (!json_is_object(root)) {
		char got[80];
		got_text(root, got, sizeof got);
		return VERR(&vc, "%s: expected an object at the top, got %s", where, got);
	}
	return check_value(&vc, &top, root, "");
}

/* ---- layering ---- */

/* Lay user over base (both objects), returning a new reference. Core
 * objects merge key by key; a plugin section merges when it names the same
 * plugin (or none), and replaces the default otherwise, so the default
 * plugin's options never reach another plugin. */
static const struct {
	const char *section, *key, *drop;
} excludes[] = {
	{ "runner", "cmd", "bin" },
	{ "runner", "cmd", "args" },
};

static json_t *overlay(json_t *base, json_t *user)
{
	json_t *out = json_deep_copy(base);
	const char *name;
	json_t *uv;
	if (!out)
		return NULL;
	json_object_foreach(user, name, uv)
	{
		json_t *bv = json_object_get(out, name);
		const struct key *k = find_key(top_keys, name);
		bool merge = false;
		if (k && json_is_object(bv) && json_is_object(uv)) {
			if (k->type == K_OBJ)
				merge = true;
			else if (k->type == K_PLUGIN) {
				json_t *up = json_object_get(uv, "plugin");
				json_t *bp = json_object_get(bv, "plugin");
				merge = !up ||
				        (json_is_string(up) && json_is_string(bp) &&
				         strcmp(json_string_value(up), json_string_value(bp)) == 0);
			}
		}
		int r;
		if (merge) {
			json_t *m = json_deep_copy(bv);
			/* a default that the user's key excludes goes: "cmd"
			 * replaces the default "bin" of the runner */
			for (size_t x = 0; m && x < sizeof excludes / sizeof *excludes; x++)
				if (strcmp(name, excludes[x].section) == 0 &&
				    json_object_get(uv, excludes[x].key) &&
				    !json_object_get(uv, excludes[x].drop))
					json_object_del(m, excludes[x].drop);
			if (!m || json_object_update(m, uv) < 0) {
				json_decref(m);
				json_decref(out);
				return NULL;
			}
			r = json_object_set_new(out, name, m);
		} else {
			r = json_object_set_new(out, name, json_deep_copy(uv));
		}
		if (r < 0) {
			json_decref(out);
			return NULL;
		}
	}
	return out;
}

/* Apply "a.b.c=value" to the user layer obj. Unknown core keys are refused
 * here so the message names the --set; values are checked by the caller. */
static int apply_set(json_t *obj, const char *set, char *err, size_t errlen)
{
	const char *eq = strchr(set, '=');
	if (!eq || eq == set) {
		snprintf(err, errlen, "--set %s: expected KEY.PATH=VALUE", set);
		return -EINVAL;
	}
	char path[512];
	size_t plen = (size_t)(eq - set);
	if (plen >= sizeof path) {
		snprintf(err, errlen, "--set %s: key path too long", set);
		return -EINVAL;
	}
	memcpy(path, set, plen);
	path[plen] = '\0';
	if (path[0] == '.' || path[plen - 1] == '.' || strstr(path, "..")) {
		snprintf(err, errlen, "--set %s: empty key in \"%s\"", set, path);
		return -EINVAL;
	}
	json_t *val = json_loads(eq + 1, JSON_DECODE_ANY, NULL);
	json_t *cur = obj;
	const struct key *keys = top_keys;
	const struct key *k = NULL;
	bool in_plugin = false;
	char *save = NULL;
	int r = -EINVAL;
	for (char *tok = strtok_r(path, ".", &save), *next; tok; tok = next) {
		next = strtok_r(NULL, ".", &save);
		if (!in_plugin) {
			k = keys ? find_key(keys, tok) : NULL;
			if (!k) {
				const char *known[32];
				key_names(keys, known, 32);
				const char *near = config_nearest(tok, known);
				if (near)
					snprintf(
					    err, errlen,
					    "--set %s: unknown key \"%s\" (did you mean \"%s\"?)",
					    set, tok, near);
				else
					snprintf(err, errlen, "--set %s: unknown key \"%s\"", set,
					         tok);
				goto out;
			}
			if (next && k->type != K_OBJ && k->type != K_PLUGIN) {
				snprintf(err, errlen, "--set %s: \"%s\" has no keys inside", set,
				         tok);
				goto out;
			}
			in_plugin = k->type == K_PLUGIN;
			keys = k->sub;
		} else {
			k = NULL;
		}
		if (!next) {
			/* a string-valued core key takes the text as it is:
			 * --set tmp_dir=123 means the directory "123" */
			if (val && !json_is_string(val) && k && k->type == K_STR) {
				json_decref(val);
				val = NULL;
			}
			if (!val && !(val = json_string(eq + 1))) {
				snprintf(err, errlen, "--set %s: the value is not valid UTF-8",
				         set);
				goto out;
			}
			r = json_object_set_new(cur, tok, val) < 0 ? -ENOMEM : 0;
			val = NULL;
			if (r < 0)
				snprintf(err, errlen, "--set %s: out of memory", set);
			goto out;
		}
		json_t *child = json_object_get(cur, tok);
		if (!json_is_object(child)) {
			/* the file's value of the wrong type is replaced: the
			 * --set is the newer word */
			if (!(child = json_object()) || json_object_set_new(cur, tok, child) < 0) {
				snprintf(err, errlen, "--set %s: out of memory", set);
				r = -ENOMEM;
				goto out;
			}
		}
		cur = child;
	}
	snprintf(err, errlen, "--set %s: empty key path", set);
out:
	json_decref(val);
	return r;
}

/* ---- extraction ---- */

static void strv_free(char **v)
{
	for (size_t i = 0; v && v[i]; i++)
		free(v[i]);
	free(v);
}

static char **strv_of(json_t *v)
{
	size_t n = json_is_array(v) ? json_array_size(v) : json_is_string(v) ? 1 : 0;
	char **out = calloc(n + 1, sizeof *out);
	if (!out)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		const char *s = json_is_string(v) ? json_string_value(v)
		                                  : json_string_value(json_array_get(v, i));
		if (!(out[i] = strdup(s))) {
			strv_free(out);
			return NULL;
		}
	}
	return out;
}

/* base/rel (or rel if absolute), with ".", ".." and repeated slashes
 * resolved by text: tmp_dir need not exist yet, so no realpath. */
static char *join_path(const char *base, const char *rel)
{
	size_t len = strlen(base) + strlen(rel) + 3;
	char *in = malloc(len), *out = malloc(len);
	if (!in || !out) {
		free(in);
		free(out);
		return NULL;
	}
	if (rel[0] == '/')
		snprintf(in, len, "%s", rel);
	else
		snprintf(in, len, "%s/%s", base, rel);
	size_t o = 0;
	char *save = NULL;
	for (char *c = strtok_r(in, "/", &save); c; c = strtok_r(NULL, "/", &save)) {
		if (strcmp(c, ".") == 0)
			continue;
		if (strcmp(c, "..") == 0) {
			while (o > 0 && out[o - 1] != '/')
				o--;
			if (o > 0)
				o--;
			continue;
		}
		out[o++] = '/';
		size_t cl = strlen(c);
		memcpy(out + o, c, cl);
		o += cl;
	}
	if (o == 0)
		out[o++] = '/';
	out[o] = '\0';
	free(in);
	return out;
}

static bool get_bool(json_t *o, const char *k)
{
	return json_is_true(json_object_get(o, k));
}

static unsigned get_uint(json_t *o, const char *k)
{
	return (unsigned)json_integer_value(json_object_get(o, k));
}

static int set_str(json_t *o, const char *k, const char *v)
{
	return json_object_set_new(o, k, json_string(v)) < 0 ? -ENOMEM : 0;
}

static const char *set_for(char *const *sets, const char *path);

/* Where a value at path came from, for messages: "--set K=V" (in buf) if a
 * --set wrote it, else the file or "defaults". */
static const char *origin(const struct config *cfg, const char *where, const char *path, char *buf,
                          size_t len)
{
	const char *set = set_for(cfg->cache->sets, path);
	if (!set || snprintf(buf, len, "--set %s", set) >= (int)len)
		return where;
	return buf;
}

/* Fill cfg's fields from the validated cfg->json, resolving paths (and
 * writing the absolute ones back into the JSON, so a dump is
 * self-contained). base: the directory a relative root is taken from. */
static int extract(struct config *cfg, const char *where, const char *base, char *err,
                   size_t errlen)
{
	json_t *j = cfg->json;
	char wbuf[600];
	const char *root = json_string_value(json_object_get(j, "root"));
	char *joined = join_path(base, root);
	if (!joined)
		return -ENOMEM;
	char real[PATH_MAX];
	if (!realpath(joined, real)) {
		int e = errno;
		snprintf(err, errlen, "%s: /root: \"%s\": %s",
		         origin(cfg, where, "/root", wbuf, sizeof wbuf), joined, strerror(e));
		free(joined);
		return -EINVAL;
	}
	free(joined);
	struct stat st;
	if (stat(real, &st) < 0 || !S_ISDIR(st.st_mode)) {
		snprintf(err, errlen, "%s: /root: \"%s\": not a directory",
		         origin(cfg, where, "/root", wbuf, sizeof wbuf), real);
		return -EINVAL;
	}
	json_t *w = json_object_get(j, "watch");
	if (!get_bool(w, "allow_any_root")) {
		const char *home = getenv("HOME");
		char rhome[PATH_MAX];
		bool is_home = home && *home && realpath(home, rhome) && strcmp(real, rhome) == 0;
		if (strcmp(real, "/") == 0 || is_home) {
			snprintf(err, errlen,
			         "%s: /root: refusing to watch \"%s\" (%s); "
			         "set watch.allow_any_root to true if you mean it",
			         origin(cfg, where, "/root", wbuf, sizeof wbuf), real,
			         is_home ? "your home directory" : "the whole file system");
			return -EINVAL;
		}
	}
	if (!(cfg->root = strdup(real)) || set_str(j, "root", cfg->root) < 0)
		return -ENOMEM;
	if (!(cfg->tmp_dir =
	          join_path(cfg->root, json_string_value(json_object_get(j, "tmp_dir")))) ||
	    set_str(j, "tmp_dir", cfg->tmp_dir) < 0)
		return -ENOMEM;
	if (!(cfg->plugin_path = strv_of(json_object_get(j, "plugin_path"))))
		return -ENOMEM;
	json_t *abs = json_array();
	if (!abs || json_object_set_new(j, "plugin_path", abs) < 0)
		return -ENOMEM;
	for (size_t i = 0; cfg->plugin_path[i]; i++) {
		char *a = join_path(cfg->root, cfg->plugin_path[i]);
		if (!a)
			return -ENOMEM;
		free(cfg->plugin_path[i]);
		cfg->plugin_path[i] = a;
		if (json_array_append_new(abs, json_string(a)) < 0)
			return -ENOMEM;
	}

	struct watch_config *wc = &cfg->watch;
	if (!(wc->include_ext = strv_of(json_object_get(w, "include_ext"))) ||
	    !(wc->include_dir = strv_of(json_object_get(w, "include_dir"))) ||
	    !(wc->include_file = strv_of(json_object_get(w, "include_file"))) ||
	    !(wc->exclude_dir = strv_of(json_object_get(w, "exclude_dir"))) ||
	    !(wc->exclude_file = strv_of(json_object_get(w, "exclude_file"))) ||
	    !(wc->exclude_regex = strv_of(json_object_get(w, "exclude_regex"))))
		return -ENOMEM;
	wc->gitignore = get_bool(w, "gitignore");
	wc->follow_symlinks = get_bool(w, "follow_symlinks");
	wc->exclude_unchanged = get_bool(w, "exclude_unchanged");
	wc->allow_any_root = get_bool(w, "allow_any_root");
	wc->debounce_ms = get_uint(w, "debounce_ms");
	wc->debounce_max_ms = get_uint(w, "debounce_max_ms");
	/* 0 means no cap */
	if (wc->debounce_max_ms && wc->debounce_max_ms < wc->debounce_ms) {
		snprintf(err, errlen,
		         "%s: /watch/debounce_max_ms: expected 0 (no cap) or at least debounce_ms "
		         "(%u), got %u",
		         origin(cfg, where, "/watch/debounce_max_ms", wbuf, sizeof wbuf),
		         wc->debounce_ms, wc->debounce_max_ms);
		return -EINVAL;
	}

	json_t *l = json_object_get(j, "log");
	const char *color = json_string_value(json_object_get(l, "color"));
	cfg->log.color = strcmp(color, "always") == 0  ? COLOR_ALWAYS
	                 : strcmp(color, "never") == 0 ? COLOR_NEVER
	                                               : COLOR_AUTO;
	cfg->log.timestamps = get_bool(l, "timestamps");
	json_t *verb = json_object_get(l, "verbosity");
	if (json_is_integer(verb))
		cfg->log.verbosity = (int)json_integer_value(verb);
	else
		for (int i = 0; verbosities[i]; i++)
			if (strcmp(json_string_value(verb), verbosities[i]) == 0)
				cfg->log.verbosity = i - 1;
	cfg->clear_screen = get_bool(json_object_get(j, "screen"), "clear");
	json_t *lc = json_object_get(j, "lifecycle");
	cfg->lifecycle.postpone_first = get_bool(lc, "postpone_first");
	cfg->lifecycle.stop_on_build_failure = get_bool(lc, "stop_on_build_failure");
	cfg->lifecycle.restart_on_exit = get_bool(lc, "restart_on_exit");
	cfg->lifecycle.restart_delay_ms = get_uint(lc, "restart_delay_ms");
	cfg->lifecycle.restart_max_delay_ms = get_uint(lc, "restart_max_delay_ms");
	if (cfg->lifecycle.restart_max_delay_ms < cfg->lifecycle.restart_delay_ms) {
		snprintf(err, errlen,
		         "%s: /lifecycle/restart_max_delay_ms: expected at least restart_delay_ms "
		         "(%u), got %u",
		         origin(cfg, where, "/lifecycle/restart_max_delay_ms", wbuf, sizeof wbuf),
		         cfg->lifecycle.restart_delay_ms, cfg->lifecycle.restart_max_delay_ms);
		return -EINVAL;
	}
	cfg->watcher = json_object_get(j, "watcher");
	cfg->builder = json_object_get(j, "builder");
	cfg->runner = json_object_get(j, "runner");
	return 0;
}

/* The directory a relative root is taken from: the config file's. */
static int file_base(const char *file, char *base, size_t len)
{
	const char *slash = strrchr(file, '/');
	if (!slash)
		return 0; /* base already holds the cwd */
	if (slash == file)
		return snprintf(base, len, "/") >= (int)len ? -ENAMETOOLONG : 0;
	int dl = (int)(slash - file);
	int n = file[0] == '/'
	            ? snprintf(base, len, "%.*s", dl, file)
	            : snprintf(base + strlen(base), len - strlen(base), "/%.*s", dl, file);
	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

int config_load(struct config *cfg, const char *file, const char *const *sets, char *err,
                size_t errlen)
{
	memset(cfg, 0, sizeof *cfg);
	json_error_t je;
	json_t *defaults = json_loads(defaults_json, 0, &je);
	json_t *user = NULL;
	int r = -EINVAL;
	if (!defaults) {
		snprintf(err, errlen, "built-in defaults:%d:%d: %s", je.line, je.column, je.text);
		return -EINVAL;
	}
	if (!(cfg->cache = calloc(1, sizeof *cfg->cache)))
		goto oom;
	if (!file && access("gust.json", F_OK) == 0)
		file = "gust.json";
	char base[PATH_MAX];
	if (!getcwd(base, sizeof base)) {
		r = -errno;
		snprintf(err, errlen, "cannot find the current directory: %s", strerror(-r));
		goto out;
	}
	const char *where = "defaults";
	if (file) {
		if (!(cfg->file = strdup(file)))
			goto oom;
		where = cfg->file;
		/* open() first: jansson's own text for a missing file names
		 * no errno */
		int fd = open(file, O_RDONLY | O_CLOEXEC);
		if (fd < 0) {
			r = -errno;
			snprintf(err, errlen, "cannot read \"%s\": %s", file, strerror(-r));
			goto out;
		}
		struct stat st;
		if (fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
			close(fd);
			r = -EISDIR;
			snprintf(err, errlen, "cannot read \"%s\": %s", file, strerror(EISDIR));
			goto out;
		}
		user = json_loadfd(fd, JSON_REJECT_DUPLICATES, &je);
		close(fd);
		if (!user) {
			snprintf(err, errlen, "%s:%d:%d: %s", file, je.line, je.column, je.text);
			goto out;
		}
		if (file_base(file, base, sizeof base) < 0) {
			snprintf(err, errlen, "%s: path too long", file);
			goto out;
		}
		if (validate(user, where, false, err, errlen) < 0)
			goto out;
	} else if (!(user = json_object())) {
		goto oom;
	}
	size_t nsets = 0;
	while (sets && sets[nsets])
		nsets++;
	if (!(cfg->cache->sets = calloc(nsets + 1, sizeof *cfg->cache->sets)))
		goto oom;
	for (size_t i = 0; i < nsets; i++)
		if (!(cfg->cache->sets[i] = strdup(sets[i])))
			goto oom;
	for (size_t i = 0; sets && sets[i]; i++) {
		r = apply_set(user, sets[i], err, errlen);
		if (r < 0)
			goto out;
		r = -EINVAL;
		char sw[600];
		snprintf(sw, sizeof sw, "--set %s", sets[i]);
		if (validate(user, sw, false, err, errlen) < 0)
			goto out;
	}
	if (!(cfg->json = overlay(defaults, user)))
		goto oom;
	/* a guard: the user layer was checked and the defaults are complete,
	 * so every section names its plugin now */
	if (validate(cfg->json, sets && sets[0] ? "--set" : where, true, err, errlen) < 0)
		goto out;
	r = extract(cfg, where, base, err, errlen);
	if (r == -ENOMEM)
		goto oom;
	goto out;
oom:
	snprintf(err, errlen, "out of memory");
	r = -ENOMEM;
out:
	json_decref(defaults);
	json_decref(user);
	return r;
}

void config_free(struct config *cfg)
{
	free(cfg->file);
	free(cfg->root);
	free(cfg->tmp_dir);
	strv_free(cfg->plugin_path);
	strv_free(cfg->watch.include_ext);
	strv_free(cfg->watch.include_dir);
	strv_free(cfg->watch.include_file);
	strv_free(cfg->watch.exclude_dir);
	strv_free(cfg->watch.exclude_file);
	strv_free(cfg->watch.exclude_regex);
	if (cfg->cache) {
		for (size_t i = 0; i < cfg->cache->n; i++)
			free(cfg->cache->ptrs[i]);
		free(cfg->cache->ptrs);
		strv_free(cfg->cache->sets);
		free(cfg->cache);
	}
	json_decref(cfg->json);
	memset(cfg, 0, sizeof *cfg);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* A copy of a plugin section with "plugin" first and the rest sorted. */
static json_t *ordered_plugin(json_t *sec)
{
	size_t n = json_object_size(sec), k = 0;
	const char **names = calloc(n + 1, sizeof *names);
	json_t *out = json_object();
	const char *name;
	json_t *v;
	if (!names || !out)
		goto fail;
	json_object_foreach(sec, name, v) if (strcmp(name, "plugin") != 0) names[k++] = name;
	qsort(names, k, sizeof *names, cmp_str);
	if (json_object_set(out, "plugin", json_object_get(sec, "plugin")) < 0)
		goto fail;
	for (size_t i = 0; i < k; i++)
		if (json_object_set(out, names[i], json_object_get(sec, names[i])) < 0)
			goto fail;
	free(names);
	return out;
fail:
	free(names);
	json_decref(out);
	return NULL;
}

/* Core keys in the order of the key tables (which is the order of
 * gust.json(5)); plugin sections as ordered_plugin(). */
char *config_dump(const struct config *cfg)
{
	json_t *out = json_object();
	if (!out || !cfg->json)
		goto fail;
	for (size_t i = 0; top_keys[i].name; i++) {
		const struct key *k = &top_keys[i];
		json_t *v = json_object_get(cfg->json, k->name), *c = NULL;
		if (!v)
			continue;
		if (k->type == K_OBJ) {
			if (!(c = json_object()))
				goto fail;
			for (size_t s = 0; k->sub[s].name; s++) {
				json_t *sv = json_object_get(v, k->sub[s].name);
				if (sv && json_object_set(c, k->sub[s].name, sv) < 0) {
					json_decref(c);
					goto fail;
				}
			}
		} else if (k->type == K_PLUGIN) {
			if (!(c = ordered_plugin(v)))
				goto fail;
		} else {
			c = json_incref(v);
		}
		if (json_object_set_new(out, k->name, c) < 0)
			goto fail;
	}
	char *s = json_dumps(out, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	json_decref(out);
	return s;
fail:
	json_decref(out);
	return NULL;
}

/* ---- presets and init ---- */

const char *const *config_presets(void)
{
	return preset_names;
}

static bool exists_in(const char *dir, const char *name)
{
	char p[PATH_MAX];
	if (snprintf(p, sizeof p, "%s/%s", dir, name) >= (int)sizeof p)
		return false;
	return access(p, F_OK) == 0;
}

static bool has_ext_in(const char *dir, const char *ext)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	bool found = false;
	size_t el = strlen(ext);
	if (!d)
		return false;
	while (!found && (e = readdir(d))) {
		size_t l = strlen(e->d_name);
		found = l > el && e->d_name[0] != '.' && strcmp(e->d_name + l - el, ext) == 0;
	}
	closedir(d);
	return found;
}

/* The most specific marker wins: a Makefile often sits beside go.mod,
 * Cargo.toml or package.json only to drive them. */
const char *config_detect_preset(const char *dir)
{
	if (exists_in(dir, "go.mod"))
		return "go";
	if (exists_in(dir, "Cargo.toml"))
		return "rust-cargo";
	if (exists_in(dir, "package.json"))
		return "node";
	if (exists_in(dir, "pyproject.toml") || exists_in(dir, "requirements.txt") ||
	    exists_in(dir, "setup.py") || has_ext_in(dir, ".py"))
		return "python";
	if (exists_in(dir, "Makefile") || exists_in(dir, "makefile") ||
	    exists_in(dir, "GNUmakefile"))
		return "c-make";
	return "go";
}

/* The preset's text with "$schema" (the installed schema) as its first key,
 * so editors complete and check the file. malloc'd. */
static char *with_schema(const char *text)
{
	static const char sub[] = "/presets";
	const char *dir = GUST_PRESETDIR;
	size_t dl = strlen(dir);
	if (dl >= sizeof sub - 1 && strcmp(dir + dl - (sizeof sub - 1), sub) == 0)
		dl -= sizeof sub - 1;
	const char *brace = strchr(text, '{');
	char *out = NULL;
	if (!brace || strstr(text, "\"$schema\""))
		return strdup(text);
	if (asprintf(&out, "%.*s{\n  \"$schema\": \"file://%.*s/gust.schema.json\",%s",
	             (int)(brace - text), text, (int)dl, dir, brace + 1) < 0)
		return NULL;
	return out;
}

int config_init_file(const char *path, const char *preset, char *err, size_t errlen)
{
	if (!preset)
		preset = config_detect_preset(".");
	const char *text = NULL;
	char list[256] = "";
	size_t off = 0;
	for (size_t i = 0; presets[i].name; i++) {
		if (strcmp(presets[i].name, preset) == 0)
			text = presets[i].json;
		int n =
		    snprintf(list + off, sizeof list - off, "%s%s", i ? ", " : "", presets[i].name);
		if (n > 0 && (size_t)n < sizeof list - off)
			off += (size_t)n;
	}
	if (!text) {
		snprintf(err, errlen, "init: unknown preset \"%s\" (known: %s)", preset, list);
		return -EINVAL;
	}
	char *doc = with_schema(text);
	if (!doc) {
		snprintf(err, errlen, "init: out of memory");
		return -ENOMEM;
	}
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
	if (fd < 0) {
		int e = errno;
		if (e == EEXIST)
			snprintf(err, errlen, "init: \"%s\" already exists; not overwriting it",
			         path);
		else
			snprintf(err, errlen, "init: cannot create \"%s\": %s", path, strerror(e));
		free(doc);
		return -e;
	}
	size_t len = strlen(doc), done = 0;
	int e = 0;
	while (done < len) {
		ssize_t w = write(fd, doc + done, len - done);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0) {
			e = errno;
			break;
		}
		done += (size_t)w;
	}
	free(doc);
	if (close(fd) < 0 && !e)
		e = errno;
	if (e) {
		snprintf(err, errlen, "init: cannot write \"%s\": %s", path, strerror(e));
		unlink(path);
		return -e;
	}
	return 0;
}

/* ---- plugin options ---- */

static json_t *opt_get(const struct gust_opts *o, const char *key)
{
	return json_object_get(o->obj, key);
}

/* The last of sets ("a.b=v") that wrote path ("/a/b/c"), or inside it, or
 * around it; NULL if none did. */
static const char *set_for(char *const *sets, const char *path)
{
	char spath[512];
	size_t n = 0;
	while (sets && sets[n])
		n++;
	while (n-- > 0) {
		const char *eq = strchr(sets[n], '=');
		int l =
		    eq ? snprintf(spath, sizeof spath, "/%.*s", (int)(eq - sets[n]), sets[n]) : -1;
		if (l < 0 || l >= (int)sizeof spath)
			continue;
		for (char *c = spath; *c; c++)
			if (*c == '.')
				*c = '/';
		size_t sl = strlen(spath), el = strlen(path);
		size_t ml = sl < el ? sl : el;
		if (strncmp(spath, path, ml) == 0 &&
		    (sl == el || (sl < el ? path[sl] : spath[el]) == '/'))
			return sets[n];
	}
	return NULL;
}

static const char *set_origin(const struct gust_opts *o, const char *key)
{
	char epath[512];
	if (!o->cfg || !o->cfg->cache ||
	    snprintf(epath, sizeof epath, "%s/%s", o->path, key) >= (int)sizeof epath)
		return NULL;
	return set_for(o->cfg->cache->sets, epath);
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
	got_text(v, got, sizeof got);
	snprintf(err, errlen, "%s: %s/%s: expected %s, got %s", o->where, o->path, key, expected,
	         got);
	add_origin(o, key, err, errlen);
	return -EINVAL;
}

/* Keep p until config_free(); on failure p is freed. */
static int cache_keep(const struct gust_opts *o, void *p, char *err, size_t errlen)
{
	struct config_cache *c = o->cfg ? o->cfg->cache : NULL;
	if (!c) {
		free(p);
		snprintf(err, errlen, "%s: %s: no config owns the options (core bug)", o->where,
		         o->path);
		return -EINVAL;
	}
	if (c->n == c->cap) {
		size_t cap = c->cap ? c->cap * 2 : 8;
		void **n = realloc(c->ptrs, cap * sizeof *n);
		if (!n) {
			free(p);
			snprintf(err, errlen, "out of memory");
			return -ENOMEM;
		}
		c->ptrs = n;
		c->cap = cap;
	}
	c->ptrs[c->n++] = p;
	return 0;
}

int config_opt_check_keys(const struct gust_opts *o, const char *const *known, char *err,
                          size_t errlen)
{
	const char *name;
	json_t *v;
	if (!json_is_object(o->obj)) {
		char got[80];
		got_text(o->obj, got, sizeof got);
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
		unknown_key(err, errlen, o->where, o->path, name, cand);
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
		return 0;
	}
	if (!json_is_integer(v) || json_integer_value(v) < min || json_integer_value(v) > max) {
		char exp[96];
		int_range(exp, sizeof exp, min, max);
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

int config_opt_env(const struct gust_opts *o, const char *key, const char *const **out, size_t *n,
                   char *err, size_t errlen)
{
	json_t *v = opt_get(o, key);
	if (!v || json_is_array(v) || json_is_string(v)) {
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
				               json_is_array(v) ? json_array_get(v, i) : v, err,
				               errlen);
			}
		}
		*out = arr;
		if (n)
			*n = cnt;
		return 0;
	}
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
		char sub[256];
		snprintf(sub, sizeof sub, "%s/%s", key, name);
		if (!env_name_ok(name, strlen(name))) {
			snprintf(err, errlen,
			         "%s: %s/%s: invalid variable name (letters, digits and _ only)",
			         o->where, o->path, sub);
			add_origin(o, sub, err, errlen);
			return -EINVAL;
		}
		char *s = NULL;
		if (json_is_string(val)) {
			if (asprintf(&s, "%s=%s", name, json_string_value(val)) < 0)
				s = NULL;
		} else if (json_is_number(val) || json_is_boolean(val)) {
			char *txt = json_dumps(val, JSON_ENCODE_ANY);
			if (!txt || asprintf(&s, "%s=%s", name, txt) < 0)
				s = NULL;
			free(txt);
		} else {
			return opt_err(o, sub, "a string, number or boolean", val, err, errlen);
		}
		if (!s) {
			snprintf(err, errlen, "out of memory");
			return -ENOMEM;
		}
		if ((r = cache_keep(o, s, err, errlen)) < 0)
			return r;
		arr[i++] = s;
	}
	*out = arr;
	if (n)
		*n = cnt;
	return 0;
}

/* ---- signals ---- */

struct signame {
	const char *name;
	int sig;
};

static const struct signame signames[] = {
	{ "SIGHUP", SIGHUP },
	{ "SIGINT", SIGINT },
	{ "SIGQUIT", SIGQUIT },
	{ "SIGILL", SIGILL },
	{ "SIGTRAP", SIGTRAP },
	{ "SIGABRT", SIGABRT },
	{ "SIGBUS", SIGBUS },
	{ "SIGFPE", SIGFPE },
	{ "SIGKILL", SIGKILL },
	{ "SIGUSR1", SIGUSR1 },
	{ "SIGSEGV", SIGSEGV },
	{ "SIGUSR2", SIGUSR2 },
	{ "SIGPIPE", SIGPIPE },
	{ "SIGALRM", SIGALRM },
	{ "SIGTERM", SIGTERM },
#ifdef SIGSTKFLT
	{ "SIGSTKFLT", SIGSTKFLT },
#endif
	{ "SIGCHLD", SIGCHLD },
	{ "SIGCONT", SIGCONT },
	{ "SIGSTOP", SIGSTOP },
	{ "SIGTSTP", SIGTSTP },
	{ "SIGTTIN", SIGTTIN },
	{ "SIGTTOU", SIGTTOU },
	{ "SIGURG", SIGURG },
	{ "SIGXCPU", SIGXCPU },
	{ "SIGXFSZ", SIGXFSZ },
	{ "SIGVTALRM", SIGVTALRM },
	{ "SIGPROF", SIGPROF },
	{ "SIGWINCH", SIGWINCH },
#ifdef SIGIO
	{ "SIGIO", SIGIO },
#endif
#ifdef SIGPOLL
	{ "SIGPOLL", SIGPOLL },
#endif
#ifdef SIGPWR
	{ "SIGPWR", SIGPWR },
#endif
#ifdef SIGSYS
	{ "SIGSYS", SIGSYS },
#endif
#ifdef SIGEMT
	{ "SIGEMT", SIGEMT },
#endif
#ifdef SIGINFO
	{ "SIGINFO", SIGINFO },
#endif
#ifdef SIGIOT
	{ "SIGIOT", SIGIOT },
#endif
	{ NULL, 0 },
};

/* "RTMIN", "RTMIN+3", "RTMAX", "RTMAX-1" (SIG already stripped). */
static int rt_signal(const char *name)
{
	int base, sign;
	if (strncasecmp(name, "RTMIN", 5) == 0)
		base = SIGRTMIN, sign = 1;
	else if (strncasecmp(name, "RTMAX", 5) == 0)
		base = SIGRTMAX, sign = -1;
	else
		return -1;
	name += 5;
	if (!*name)
		return base;
	if (*name != (sign > 0 ? '+' : '-') || !isdigit((unsigned char)name[1]))
		return -1;
	char *end;
	long off = strtol(name + 1, &end, 10);
	if (*end || off > SIGRTMAX - SIGRTMIN)
		return -1;
	return base + sign * (int)off;
}

int config_signal_from_name(const char *name)
{
	if (!name || !*name)
		return -1;
	if (isdigit((unsigned char)name[0])) {
		char *end;
		long v = strtol(name, &end, 10);
		return *end || v <= 0 || v >= NSIG ? -1 : (int)v;
	}
	if (strncasecmp(name, "SIG", 3) == 0)
		name += 3;
	for (size_t i = 0; signames[i].name; i++)
		if (strcasecmp(name, signames[i].name + 3) == 0)
			return signames[i].sig;
	return rt_signal(name);
}

/* The first name listed for sig (aliases such as SIGIOT come later);
 * real-time signals as SIGRTMIN+n (SIGRTMAX for the last). */
const char *config_signal_name(int sig)
{
	static const char *const rt[] = {
		"SIGRTMIN",    "SIGRTMIN+1",  "SIGRTMIN+2",  "SIGRTMIN+3",  "SIGRTMIN+4",
		"SIGRTMIN+5",  "SIGRTMIN+6",  "SIGRTMIN+7",  "SIGRTMIN+8",  "SIGRTMIN+9",
		"SIGRTMIN+10", "SIGRTMIN+11", "SIGRTMIN+12", "SIGRTMIN+13", "SIGRTMIN+14",
		"SIGRTMIN+15", "SIGRTMIN+16", "SIGRTMIN+17", "SIGRTMIN+18", "SIGRTMIN+19",
		"SIGRTMIN+20", "SIGRTMIN+21", "SIGRTMIN+22", "SIGRTMIN+23", "SIGRTMIN+24",
		"SIGRTMIN+25", "SIGRTMIN+26", "SIGRTMIN+27", "SIGRTMIN+28", "SIGRTMIN+29",
		"SIGRTMIN+30", "SIGRTMIN+31", "SIGRTMIN+32",
	};
	for (size_t i = 0; signames[i].name; i++)
		if (signames[i].sig == sig)
			return signames[i].name;
	if (sig == SIGRTMAX)
		return "SIGRTMAX";
	if (sig >= SIGRTMIN && sig < SIGRTMAX && (size_t)(sig - SIGRTMIN) < sizeof rt / sizeof *rt)
		return rt[sig - SIGRTMIN];
	return NULL;
}

int config_opt_signal(const struct gust_opts *o, const char *key, int def, int *out, char *err,
                      size_t errlen)
{
	json_t *v = opt_get(o, key);
	if (!v) {
		*out = def;
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
