/* conf.c - gust.json. The effective config is built in layers: the file
 * (or nothing) with --set overrides applied on top of it, laid over the
 * built-in defaults. The user's layer is validated before it is laid over
 * (core keys by keys.c, plugin keys by each plugin through options.c), so
 * errors name the file, or the --set, and either line:col (syntax) or the
 * JSON path (meaning), with a did-you-mean for misspelt keys (suggest.c).
 * Then the effective config is read into struct config, its paths made
 * absolute. */
#include "config.h"

#include "conf.h"
#include "confre.h"
#include "confread.h"
#include "keys.h"
#include "suggest.h"

#include <errno.h>
#include <jansson.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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
    "  \"allow_any_root\": false, \"debounce_max_ms\": 2000 },"
    " \"log\": { \"color\": \"auto\", \"timestamps\": false, \"verbosity\": \"normal\" },"
    " \"screen\": { \"clear\": false },"
    " \"lifecycle\": { \"postpone_first\": false, \"stop_on_build_failure\": false,"
    "  \"restart_on_exit\": false, \"restart_delay_ms\": 500, \"restart_max_delay_ms\": 30000 },"
    " \"watcher\": { \"plugin\": \"auto\" },"
    " \"builder\": { \"plugin\": \"shell\", \"cmd\": \"go build -o ./tmp/main .\" },"
    " \"runner\": { \"plugin\": \"plain\", \"bin\": \"./tmp/main\" }"
    "}";

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
		const struct key *k = config_find_key(config_top_keys, name);
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

static void set_unknown(char *err, size_t errlen, const char *set, const char *tok,
                        const struct key *keys)
{
	const char *known[32];
	config_key_names(keys, known, 32);
	const char *near = config_nearest(tok, known);
	if (near)
		snprintf(err, errlen, "--set %s: unknown key \"%s\" (did you mean \"%s\"?)", set,
		         tok, near);
	else
		snprintf(err, errlen, "--set %s: unknown key \"%s\"", set, tok);
}

/* Set obj's key tok to val (owned; NULL: not JSON) or to the text. A
 * string-valued core key k takes the text as it is: --set tmp_dir=123
 * means the directory "123". */
static int set_leaf(json_t *obj, const char *tok, const struct key *k, json_t *val, const char *set,
                    const char *text, char *err, size_t errlen)
{
	if (val && !json_is_string(val) && k && k->type == K_STR) {
		json_decref(val);
		val = NULL;
	}
	if (!val && !(val = json_string(text))) {
		snprintf(err, errlen, "--set %s: the value is not valid UTF-8", set);
		return -EINVAL;
	}
	if (json_object_set_new(obj, tok, val) < 0) {
		snprintf(err, errlen, "--set %s: out of memory", set);
		return -ENOMEM;
	}
	return 0;
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
	const struct key *keys = config_top_keys;
	const struct key *k = NULL;
	bool in_plugin = false;
	char *save = NULL;
	int r = -EINVAL;
	for (char *tok = strtok_r(path, ".", &save), *next; tok; tok = next) {
		next = strtok_r(NULL, ".", &save);
		if (!in_plugin) {
			k = keys ? config_find_key(keys, tok) : NULL;
			if (!k) {
				set_unknown(err, errlen, set, tok, keys);
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
			r = set_leaf(cur, tok, k, val, set, eq + 1, err, errlen);
			val = NULL;
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

const char *config_set_for(const struct config *cfg, const char *path)
{
	return cfg->cache ? set_for(cfg->cache->sets, path) : NULL;
}

int config_keep(struct config *cfg, void *p)
{
	struct config_cache *c = cfg->cache;
	if (c && c->n == c->cap) {
		size_t cap = c->cap ? c->cap * 2 : 8;
		void **n = realloc(c->ptrs, cap * sizeof *n);
		if (!n)
			c = NULL;
		else {
			c->ptrs = n;
			c->cap = cap;
		}
	}
	if (!c) {
		free(p);
		return -ENOMEM;
	}
	c->ptrs[c->n++] = p;
	return 0;
}

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

/* root: made absolute (relative to base, the directory a relative root is
 * taken from), an existing directory, and neither / nor $HOME unless
 * watch.allow_any_root says so. */
static int extract_root(struct config *cfg, const char *where, const char *base, char *err,
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
	if (!get_bool(json_object_get(j, "watch"), "allow_any_root")) {
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
	return 0;
}

/* tmp_dir and plugin_path: absolute, relative to root. */
static int extract_paths(struct config *cfg)
{
	json_t *j = cfg->json;
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
	return 0;
}

/* wc's exclude_regex compiled once, for the filter; v is their JSON value,
 * at jpath ("/watch") + "/exclude_regex" of the config, for messages. */
static int compile_regexes(struct config *cfg, struct watch_config *wc, json_t *v,
                           const char *jpath, const char *where, char *err, size_t errlen)
{
	size_t n = 0;
	while (wc->exclude_regex[n])
		n++;
	if (n && !(wc->exclude_re = calloc(n, sizeof *wc->exclude_re))) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	for (size_t i = 0; i < n; i++) {
		char why[160], path[600], wbuf[600], got[80];
		if (config_regex_compile(wc->exclude_regex[i], &wc->exclude_re[i], why,
		                         sizeof why) < 0) {
			snprintf(path, sizeof path, "%s/exclude_regex/%zu", jpath, i);
			config_got_text(json_is_array(v) ? json_array_get(v, i) : v, got,
			                sizeof got);
			snprintf(err, errlen, "%s: %s: invalid regular expression %s: %s",
			         origin(cfg, where, path, wbuf, sizeof wbuf), path, got, why);
			return -EINVAL;
		}
		wc->n_exclude_re++;
	}
	return 0;
}

/* The include and exclude lists of object w (at jpath) into wc. */
static int extract_lists(struct config *cfg, struct watch_config *wc, json_t *w, const char *jpath,
                         const char *where, char *err, size_t errlen)
{
	if (!(wc->include_ext = strv_of(json_object_get(w, "include_ext"))) ||
	    !(wc->include_dir = strv_of(json_object_get(w, "include_dir"))) ||
	    !(wc->include_file = strv_of(json_object_get(w, "include_file"))) ||
	    !(wc->exclude_dir = strv_of(json_object_get(w, "exclude_dir"))) ||
	    !(wc->exclude_file = strv_of(json_object_get(w, "exclude_file"))) ||
	    !(wc->exclude_regex = strv_of(json_object_get(w, "exclude_regex"))))
		return -ENOMEM;
	return compile_regexes(cfg, wc, json_object_get(w, "exclude_regex"), jpath, where, err,
	                       errlen);
}

static void free_lists(struct watch_config *wc)
{
	strv_free(wc->include_ext);
	strv_free(wc->include_dir);
	strv_free(wc->include_file);
	strv_free(wc->exclude_dir);
	strv_free(wc->exclude_file);
	strv_free(wc->exclude_regex);
	for (size_t i = 0; i < wc->n_exclude_re; i++)
		regfree(&wc->exclude_re[i]);
	free(wc->exclude_re);
}

static int extract_watch(struct config *cfg, const char *where, char *err, size_t errlen)
{
	json_t *w = json_object_get(cfg->json, "watch");
	struct watch_config *wc = &cfg->watch;
	char wbuf[600];
	int r = extract_lists(cfg, wc, w, "/watch", where, err, errlen);
	if (r < 0)
		return r;
	wc->gitignore = get_bool(w, "gitignore");
	wc->follow_symlinks = get_bool(w, "follow_symlinks");
	wc->exclude_unchanged = get_bool(w, "exclude_unchanged");
	wc->allow_any_root = get_bool(w, "allow_any_root");
	/* unset (no default): the adaptive window, which the cap bounds */
	json_t *d = json_object_get(w, "debounce_ms");
	wc->debounce_ms = d ? (unsigned)json_integer_value(d) : DEBOUNCE_ADAPTIVE;
	wc->debounce_max_ms = get_uint(w, "debounce_max_ms");
	/* 0 means no cap */
	if (d && wc->debounce_max_ms && wc->debounce_max_ms < wc->debounce_ms) {
		snprintf(err, errlen,
		         "%s: /watch/debounce_max_ms: expected 0 (no cap) or at least "
		         "debounce_ms "
		         "(%u), got %u",
		         origin(cfg, where, "/watch/debounce_max_ms", wbuf, sizeof wbuf),
		         wc->debounce_ms, wc->debounce_max_ms);
		return -EINVAL;
	}
	return 0;
}

/* log, screen, lifecycle and the plugin sections. */
static int extract_rest(struct config *cfg, const char *where, char *err, size_t errlen)
{
	json_t *j = cfg->json;
	char wbuf[600];
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
		for (int i = 0; config_verbosities[i]; i++)
			if (strcmp(json_string_value(verb), config_verbosities[i]) == 0)
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
		         "%s: /lifecycle/restart_max_delay_ms: expected at least "
		         "restart_delay_ms "
		         "(%u), got %u",
		         origin(cfg, where, "/lifecycle/restart_max_delay_ms", wbuf, sizeof wbuf),
		         cfg->lifecycle.restart_delay_ms, cfg->lifecycle.restart_max_delay_ms);
		return -EINVAL;
	}
	cfg->watcher = json_object_get(j, "watcher");
	cfg->builder = json_object_get(j, "builder");
	cfg->runner = json_object_get(j, "runner");
	cfg->hooks = json_object_get(j, "hooks");
	return 0;
}

/* "rules": each one's match lists (regexes compiled), action and command. */
static int extract_rules(struct config *cfg, const char *where, char *err, size_t errlen)
{
	json_t *a = json_object_get(cfg->json, "rules");
	size_t n = json_array_size(a);
	if (n && !(cfg->rules = calloc(n, sizeof *cfg->rules)))
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		json_t *o = json_array_get(a, i);
		struct rule_config *rc = &cfg->rules[i];
		json_t *act = json_object_get(o, "action");
		char jpath[64];
		cfg->nrules = i + 1; /* what config_free() has to undo */
		snprintf(jpath, sizeof jpath, "/rules/%zu/match", i);
		if (!(rc->name = strdup(json_string_value(json_object_get(o, "name")))))
			return -ENOMEM;
		rc->action = RULE_BUILD;
		if (json_is_object(act)) {
			rc->action = RULE_RUN;
			if (!(rc->cmd = strdup(json_string_value(json_object_get(act, "run")))))
				return -ENOMEM;
		} else if (json_is_string(act)) {
			for (int k = 0; config_rule_actions[k]; k++)
				if (strcmp(json_string_value(act), config_rule_actions[k]) == 0)
					rc->action = (enum rule_action)k;
		}
		int r = extract_lists(cfg, &rc->match, json_object_get(o, "match"), jpath, where,
		                      err, errlen);
		if (r < 0)
			return r;
		rc->match.gitignore = cfg->watch.gitignore;
		json_t *m = json_object_get(o, "match");
		rc->match.only_include_file =
		    json_object_get(m, "include_file") && !json_object_get(m, "include_ext");
		if (!act && json_object_set_new(o, "action", json_string("build")) < 0)
			return -ENOMEM; /* the dump shows the effective action */
	}
	return 0;
}

/* Fill cfg's fields from the validated cfg->json, resolving paths (and
 * writing the absolute ones back into the JSON, so a dump is
 * self-contained). base: the directory a relative root is taken from. */
static int extract(struct config *cfg, const char *where, const char *base, char *err,
                   size_t errlen)
{
	int r;
	if ((r = extract_root(cfg, where, base, err, errlen)) < 0 || (r = extract_paths(cfg)) < 0 ||
	    (r = extract_watch(cfg, where, err, errlen)) < 0 ||
	    (r = extract_rest(cfg, where, err, errlen)) < 0 ||
	    (r = extract_rules(cfg, where, err, errlen)) < 0)
		return r;
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

/* Apply sets to the user layer, checking it after each, and keep their
 * texts in cfg so that option errors can name the --set a value came from. */
static int apply_sets(struct config *cfg, json_t *user, const char *const *sets, char *err,
                      size_t errlen)
{
	size_t nsets = 0;
	while (sets && sets[nsets])
		nsets++;
	if (!(cfg->cache->sets = calloc(nsets + 1, sizeof *cfg->cache->sets)))
		goto oom;
	for (size_t i = 0; i < nsets; i++)
		if (!(cfg->cache->sets[i] = strdup(sets[i])))
			goto oom;
	for (size_t i = 0; i < nsets; i++) {
		int r = apply_set(user, sets[i], err, errlen);
		if (r < 0)
			return r;
		char sw[600];
		snprintf(sw, sizeof sw, "--set %s", sets[i]);
		if (config_validate(user, sw, false, err, errlen) < 0)
			return -EINVAL;
	}
	return 0;
oom:
	snprintf(err, errlen, "out of memory");
	return -ENOMEM;
}

/* Lay the checked user layer over the defaults into cfg->json and read
 * it into cfg's fields. */
static int lay_over_defaults(struct config *cfg, json_t *user, const char *where, const char *base,
                             bool any_set, char *err, size_t errlen)
{
	json_error_t je;
	json_t *defaults = json_loads(defaults_json, 0, &je);
	if (!defaults) {
		snprintf(err, errlen, "built-in defaults:%d:%d: %s", je.line, je.column, je.text);
		return -EINVAL;
	}
	cfg->json = overlay(defaults, user);
	json_decref(defaults);
	int r = -ENOMEM;
	/* a guard: the user layer was checked and the defaults are complete,
	 * so every section names its plugin now */
	if (cfg->json) {
		if (config_validate(cfg->json, any_set ? "--set" : where, true, err, errlen) < 0)
			return -EINVAL;
		r = extract(cfg, where, base, err, errlen);
	}
	if (r == -ENOMEM)
		snprintf(err, errlen, "out of memory");
	return r;
}

/* Build cfg from the layers: file's text (len bytes; no file if file is
 * NULL), then sets, over the defaults. base: the directory a relative root
 * is taken from. */
static int load(struct config *cfg, const char *file, const char *text, size_t len,
                const char *base, const char *const *sets, char *err, size_t errlen)
{
	json_t *user = NULL;
	int r = -EINVAL;
	if (!(cfg->cache = calloc(1, sizeof *cfg->cache)))
		goto oom;
	const char *where = "defaults";
	if (file) {
		if (!(cfg->file = strdup(file)))
			goto oom;
		where = cfg->file;
		json_error_t je;
		if (!(user = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je))) {
			snprintf(err, errlen, "%s:%d:%d: %s", file, je.line, je.column, je.text);
			goto out;
		}
		if (config_validate(user, where, false, err, errlen) < 0)
			goto out;
	} else if (!(user = json_object())) {
		goto oom;
	}
	if ((r = apply_sets(cfg, user, sets, err, errlen)) == 0)
		r = lay_over_defaults(cfg, user, where, base, sets && sets[0], err, errlen);
	goto out;
oom:
	snprintf(err, errlen, "out of memory");
	r = -ENOMEM;
out:
	json_decref(user);
	return r;
}

static int get_cwd(char *base, size_t len, char *err, size_t errlen)
{
	if (getcwd(base, len))
		return 0;
	int e = errno;
	snprintf(err, errlen, "cannot find the current directory: %s", strerror(e));
	return -e;
}

int config_load(struct config *cfg, const char *file, const char *const *sets, char *err,
                size_t errlen)
{
	memset(cfg, 0, sizeof *cfg);
	if (!file && access("gust.json", F_OK) == 0)
		file = "gust.json";
	char base[PATH_MAX];
	int r = get_cwd(base, sizeof base, err, errlen);
	if (r < 0 || !file)
		return r < 0 ? r : load(cfg, NULL, NULL, 0, base, sets, err, errlen);
	char *text;
	size_t len;
	if ((r = config_read_file(file, &text, &len, err, errlen)) < 0)
		return r;
	/* a pipe's paths are the current directory's, not /dev/fd's */
	if (!config_fd_path(file) && file_base(file, base, sizeof base) < 0) {
		snprintf(err, errlen, "%s: path too long", file);
		r = -EINVAL;
	} else {
		r = load(cfg, file, text, len, base, sets, err, errlen);
	}
	free(text);
	return r;
}

int config_load_text(struct config *cfg, const char *name, const char *text, size_t len,
                     const char *const *sets, char *err, size_t errlen)
{
	memset(cfg, 0, sizeof *cfg);
	char base[PATH_MAX];
	int r = get_cwd(base, sizeof base, err, errlen);
	return r < 0 ? r : load(cfg, name, text, len, base, sets, err, errlen);
}

void config_note_default(struct config *cfg, const char *path, const char *key, json_t *value)
{
	if (!value)
		return;
	if (!cfg->plugin_defaults)
		cfg->plugin_defaults = json_object();
	json_t *sec = json_object_get(cfg->plugin_defaults, path);
	if (!sec && cfg->plugin_defaults && (sec = json_object()) &&
	    json_object_set_new(cfg->plugin_defaults, path, sec) < 0)
		sec = NULL;
	if (sec)
		json_object_set_new(sec, key, value);
	else
		json_decref(value);
}

void config_free(struct config *cfg)
{
	json_decref(cfg->plugin_defaults);
	free(cfg->file);
	free(cfg->root);
	free(cfg->tmp_dir);
	strv_free(cfg->plugin_path);
	free_lists(&cfg->watch);
	for (size_t i = 0; i < cfg->nrules; i++) {
		free(cfg->rules[i].name);
		free(cfg->rules[i].cmd);
		free_lists(&cfg->rules[i].match);
	}
	free(cfg->rules);
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
/* A copy of sec with the defaults noted for path added; NULL: no memory. */
static json_t *with_defaults(const struct config *cfg, json_t *sec, const char *path)
{
	json_t *out = json_copy(sec), *v;
	const char *name;
	json_object_foreach(json_object_get(cfg->plugin_defaults, path), name, v)
	{
		if (out && !json_object_get(out, name) && json_object_set(out, name, v) < 0) {
			json_decref(out);
			return NULL;
		}
	}
	return out;
}

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

/* The hooks array, each hook as a plugin section. */
static json_t *dump_hooks(const struct config *cfg, json_t *hooks)
{
	json_t *out = json_array();
	for (size_t i = 0; out && i < json_array_size(hooks); i++) {
		char path[64];
		snprintf(path, sizeof path, "/hooks/%zu", i);
		json_t *m = with_defaults(cfg, json_array_get(hooks, i), path);
		json_t *o = m ? ordered_plugin(m) : NULL;
		json_decref(m);
		if (!o || json_array_append_new(out, o) < 0) {
			json_decref(out);
			return NULL;
		}
	}
	return out;
}

/* Core keys in the order of the key tables (which is the order of
 * gust.json(5)); plugin sections as ordered_plugin(). */
int config_append_run_args(struct config *cfg, char *const *args, size_t n)
{
	if (!n)
		return 0;
	json_t *cur = json_object_get(cfg->runner, "args");
	json_t *arr = json_is_array(cur) ? json_incref(cur) : json_array();
	if (!arr)
		return -ENOMEM;
	if (json_is_string(cur) && json_array_append(arr, cur) < 0)
		goto oom;
	for (size_t i = 0; i < n; i++) {
		json_t *a = json_string(args[i]);
		if (!a) {
			json_decref(arr);
			return -EILSEQ; /* not UTF-8, like any JSON string */
		}
		if (json_array_append_new(arr, a) < 0)
			goto oom;
	}
	if (json_object_set_new(cfg->runner, "args", arr) < 0)
		return -ENOMEM;
	return 0;
oom:
	json_decref(arr);
	return -ENOMEM;
}

char *config_dump(const struct config *cfg)
{
	json_t *out = json_object();
	if (!out || !cfg->json)
		goto fail;
	for (size_t i = 0; config_top_keys[i].name; i++) {
		const struct key *k = &config_top_keys[i];
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
			char path[64];
			snprintf(path, sizeof path, "/%s", k->name);
			json_t *m = with_defaults(cfg, v, path);
			c = m ? ordered_plugin(m) : NULL;
			json_decref(m);
			if (!c)
				goto fail;
		} else if (k->type == K_HOOKS) {
			if (!(c = dump_hooks(cfg, v)))
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
