/* keys.c - the core's keys of gust.json and the check of a layer against
 * them (see keys.h). */
#include "config.h"

#include "confre.h"
#include "keys.h"
#include "suggest.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>

static const char *const colors[] = { "auto", "always", "never", NULL };
/* verbosity: a name, or its number (-1 quiet .. 2 debug) */
const char *const config_verbosities[] = { "quiet", "normal", "verbose", "debug", NULL };

/* the include and exclude lists, of "watch" and of a rule's "match" */
#define LIST_KEYS                                                                                  \
	{ "include_ext", K_STRV, 0, 0, NULL, NULL }, { "include_dir", K_STRV, 0, 0, NULL, NULL },  \
	    { "include_file", K_STRV, 0, 0, NULL, NULL },                                          \
	    { "exclude_dir", K_STRV, 0, 0, NULL, NULL },                                           \
	    { "exclude_file", K_STRV, 0, 0, NULL, NULL },                                          \
	{                                                                                          \
		"exclude_regex", K_REGEXV, 0, 0, NULL, NULL                                        \
	}

static const struct key watch_keys[] = {
	LIST_KEYS,
	{ "gitignore", K_BOOL, 0, 0, NULL, NULL },
	{ "follow_symlinks", K_BOOL, 0, 0, NULL, NULL },
	{ "exclude_unchanged", K_BOOL, 0, 0, NULL, NULL },
	{ "allow_any_root", K_BOOL, 0, 0, NULL, NULL },
	{ "debounce_ms", K_INT, 0, CONFIG_NO_MAX, NULL, NULL },
	{ "debounce_max_ms", K_INT, 0, CONFIG_NO_MAX, NULL, NULL },
	{ NULL, K_STR, 0, 0, NULL, NULL },
};
/* what a rule's "match" takes: the watch section's lists */
static const struct key match_keys[] = {
	LIST_KEYS,
	{ NULL, K_STR, 0, 0, NULL, NULL },
};
const char *const config_rule_actions[] = { "reload", "restart", "build", "run", NULL };
static const struct key log_keys[] = {
	{ "color", K_ENUM, 0, 0, colors, NULL },
	{ "timestamps", K_BOOL, 0, 0, NULL, NULL },
	{ "verbosity", K_VERBOSITY, -1, 2, config_verbosities, NULL },
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
const struct key config_top_keys[] = {
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
	{ "hooks", K_HOOKS, 0, 0, NULL, NULL },
	{ "rules", K_RULES, 0, 0, NULL, NULL },
	{ NULL, K_STR, 0, 0, NULL, NULL },
};

const struct key *config_find_key(const struct key *keys, const char *name)
{
	for (size_t i = 0; keys[i].name; i++)
		if (strcmp(keys[i].name, name) == 0)
			return &keys[i];
	return NULL;
}

void config_key_names(const struct key *keys, const char **out, size_t max)
{
	size_t n = 0;
	for (size_t i = 0; keys[i].name && n + 1 < max; i++)
		out[n++] = keys[i].name;
	out[n] = NULL;
}

/* ---- validation ---- */

struct vctx {
	const char *where;
	bool strict;
	char *err;
	size_t errlen;
};

#define VERR(vc, ...) (snprintf((vc)->err, (vc)->errlen, __VA_ARGS__), -EINVAL)

static int check_value(const struct vctx *vc, const struct key *k, json_t *v, const char *path);

/* K_STRV, K_REGEXV: a string or an array of strings; regexes within the
 * cost bound. */
static int check_strv(const struct vctx *vc, const struct key *k, json_t *v, const char *path)
{
	char got[80];
	if (!json_is_string(v) && !json_is_array(v)) {
		config_got_text(v, got, sizeof got);
		return VERR(vc, "%s: %s: expected an array of strings, got %s", vc->where, path,
		            got);
	}
	for (size_t i = 0; i < (json_is_array(v) ? json_array_size(v) : 1); i++) {
		json_t *e = json_is_array(v) ? json_array_get(v, i) : v;
		if (!json_is_string(e)) {
			config_got_text(e, got, sizeof got);
			return VERR(vc, "%s: %s/%zu: expected a string, got %s", vc->where, path, i,
			            got);
		}
		/* only the cost here: the effective config's regexes are
		 * compiled once, when it is read (conf.c) */
		if (k->type == K_REGEXV &&
		    config_regex_cost(json_string_value(e)) > CONFIG_REGEX_MAX) {
			config_got_text(e, got, sizeof got);
			return VERR(vc,
			            "%s: %s/%zu: invalid regular expression %s: too large once "
			            "its repetitions are expanded (over %d)",
			            vc->where, path, i, got, CONFIG_REGEX_MAX);
		}
	}
	return 0;
}

/* K_ENUM: one of the choices; K_VERBOSITY: one of them or an integer in
 * range. */
static int check_choice(const struct vctx *vc, const struct key *k, json_t *v, const char *path)
{
	if (k->type == K_VERBOSITY && json_is_integer(v) && json_integer_value(v) >= k->min &&
	    json_integer_value(v) <= k->max)
		return 0;
	if (json_is_string(v))
		for (size_t i = 0; k->choices[i]; i++)
			if (strcmp(json_string_value(v), k->choices[i]) == 0)
				return 0;
	char got[80], list[256] = "";
	config_got_text(v, got, sizeof got);
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

/* K_OBJ: an object of the known sub-keys, each checked. */
static int check_obj(const struct vctx *vc, const struct key *k, json_t *v, const char *path)
{
	if (!json_is_object(v)) {
		char got[80];
		config_got_text(v, got, sizeof got);
		return VERR(vc, "%s: %s: expected an object, got %s", vc->where, path, got);
	}
	const char *name;
	json_t *sv;
	json_object_foreach(v, name, sv)
	{
		const struct key *sk = config_find_key(k->sub, name);
		if (!sk) {
			const char *known[32];
			config_key_names(k->sub, known, 32);
			config_unknown_key(vc->err, vc->errlen, vc->where, path, name, known);
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

/* K_PLUGIN: an object naming its plugin (a user layer may leave it out). */
static int check_plugin(const struct vctx *vc, json_t *v, const char *path)
{
	char got[80];
	if (!json_is_object(v)) {
		config_got_text(v, got, sizeof got);
		return VERR(vc, "%s: %s: expected an object with \"plugin\", got %s", vc->where,
		            path, got);
	}
	json_t *p = json_object_get(v, "plugin");
	if (!p && !vc->strict)
		return 0;
	if (!json_is_string(p) || !*json_string_value(p)) {
		config_got_text(p, got, sizeof got);
		return VERR(vc, "%s: %s/plugin: expected a plugin name or path, got %s", vc->where,
		            path, got);
	}
	return 0;
}

/* K_HOOKS: an array of plugin sections, each naming its plugin (no
 * default hook to adjust: "plugin" is required in every layer). */
static int check_hooks(const struct vctx *vc, json_t *v, const char *path)
{
	const struct vctx strict = { vc->where, true, vc->err, vc->errlen };
	if (!json_is_array(v)) {
		char got[80];
		config_got_text(v, got, sizeof got);
		return VERR(vc, "%s: %s: expected an array of objects with \"plugin\", got %s",
		            vc->where, path, got);
	}
	for (size_t i = 0; i < json_array_size(v); i++) {
		char sub[512];
		snprintf(sub, sizeof sub, "%s/%zu", path, i);
		int r = check_plugin(&strict, json_array_get(v, i), sub);
		if (r < 0)
			return r;
	}
	return 0;
}

/* A rule's "action": one of the names but "run", or {"run": "CMD"}. */
static int check_action(const struct vctx *vc, json_t *v, const char *path)
{
	char got[80];
	json_t *cmd = json_object_get(v, "run");
	if (json_is_string(v))
		for (size_t i = 0; config_rule_actions[i]; i++)
			if (strcmp(config_rule_actions[i], "run") != 0 &&
			    strcmp(json_string_value(v), config_rule_actions[i]) == 0)
				return 0;
	if (json_is_object(v) && json_object_size(v) == 1 && json_is_string(cmd) &&
	    *json_string_value(cmd))
		return 0;
	config_got_text(v, got, sizeof got);
	return VERR(vc,
	            "%s: %s: expected \"build\", \"restart\", \"reload\" or {\"run\": "
	            "\"CMD\"}, got %s",
	            vc->where, path, got);
}

/* K_RULES: an array of {"name", "match", "action"}; names unique and
 * non-empty, match required (an empty one matches every file). */
static int check_rules(const struct vctx *vc, json_t *v, const char *path)
{
	static const struct key match = { "match", K_OBJ, 0, 0, NULL, match_keys };
	static const struct key rule_keys[] = {
		{ "name", K_STR, 0, 0, NULL, NULL },
		{ "match", K_OBJ, 0, 0, NULL, match_keys },
		{ "action", K_STR, 0, 0, NULL, NULL },
		{ NULL, K_STR, 0, 0, NULL, NULL },
	};
	char got[80], sub[512];
	if (!json_is_array(v)) {
		config_got_text(v, got, sizeof got);
		return VERR(vc, "%s: %s: expected an array of rules, got %s", vc->where, path, got);
	}
	for (size_t i = 0; i < json_array_size(v); i++) {
		json_t *r = json_array_get(v, i);
		snprintf(sub, sizeof sub, "%s/%zu", path, i);
		if (!json_is_object(r)) {
			config_got_text(r, got, sizeof got);
			return VERR(
			    vc, "%s: %s: expected an object with \"name\" and \"match\", got %s",
			    vc->where, sub, got);
		}
		const char *name;
		json_t *sv;
		json_object_foreach(r, name, sv)
		{
			if (!config_find_key(rule_keys, name)) {
				const char *known[8];
				config_key_names(rule_keys, known, 8);
				config_unknown_key(vc->err, vc->errlen, vc->where, sub, name,
				                   known);
				return -EINVAL;
			}
		}
		json_t *n = json_object_get(r, "name");
		if (!json_is_string(n) || !*json_string_value(n)) {
			config_got_text(n, got, sizeof got);
			return VERR(vc, "%s: %s/name: expected a name for the rule, got %s",
			            vc->where, sub, got);
		}
		for (size_t j = 0; j < i; j++)
			if (json_equal(json_object_get(json_array_get(v, j), "name"), n))
				return VERR(vc, "%s: %s/name: \"%s\" names rule %zu already",
				            vc->where, sub, json_string_value(n), j);
		if (!json_object_get(r, "match"))
			return VERR(vc, "%s: %s/match: required: the paths the rule is for",
			            vc->where, sub);
		char mp[600];
		snprintf(mp, sizeof mp, "%s/match", sub);
		int e = check_value(vc, &match, json_object_get(r, "match"), mp);
		snprintf(mp, sizeof mp, "%s/action", sub);
		if (e == 0 && json_object_get(r, "action"))
			e = check_action(vc, json_object_get(r, "action"), mp);
		if (e < 0)
			return e;
	}
	return 0;
}

static int check_value(const struct vctx *vc, const struct key *k, json_t *v, const char *path)
{
	char got[80];
	config_got_text(v, got, sizeof got);
	switch (k->type) {
	case K_STR:
		if (!json_is_string(v))
			return VERR(vc, "%s: %s: expected a string, got %s", vc->where, path, got);
		return 0;
	case K_STRV:
	case K_REGEXV:
		return check_strv(vc, k, v, path);
	case K_BOOL:
		if (!json_is_boolean(v))
			return VERR(vc, "%s: %s: expected true or false, got %s", vc->where, path,
			            got);
		return 0;
	case K_INT:
		if (!json_is_integer(v) || json_integer_value(v) < k->min ||
		    json_integer_value(v) > k->max) {
			char exp[96];
			config_int_range(exp, sizeof exp, k->min, k->max);
			return VERR(vc, "%s: %s: expected %s, got %s", vc->where, path, exp, got);
		}
		return 0;
	case K_VERBOSITY:
	case K_ENUM:
		return check_choice(vc, k, v, path);
	case K_OBJ:
		return check_obj(vc, k, v, path);
	case K_PLUGIN:
		return check_plugin(vc, v, path);
	case K_HOOKS:
		return check_hooks(vc, v, path);
	case K_RULES:
		return check_rules(vc, v, path);
	}
	return 0;
}

int config_validate(json_t *root, const char *where, bool strict, char *err, size_t errlen)
{
	static const struct key top = { "", K_OBJ, 0, 0, NULL, config_top_keys };
	struct vctx vc = { where, strict, err, errlen };
	if (!json_is_object(root)) {
		char got[80];
		config_got_text(root, got, sizeof got);
		return VERR(&vc, "%s: expected an object at the top, got %s", where, got);
	}
	return check_value(&vc, &top, root, "");
}
