/* conf.h - gust.json: defaults, loading with jansson, validation with
 * file:line:col and JSON-path errors, --set overrides, printing. Plugin
 * option readers: options.h; init and presets: presets.h; signal names:
 * signames.h. */
#ifndef GUST_CONFIG_H
#define GUST_CONFIG_H

#include <limits.h>
#include <regex.h>
#include <stdbool.h>
#include <stddef.h>

struct json_t;

enum color_mode { COLOR_AUTO = 0, COLOR_ALWAYS, COLOR_NEVER };

/* watch.debounce_ms not set: a window that adapts to the rate of changes */
#define DEBOUNCE_ADAPTIVE UINT_MAX

struct watch_config {
	char **include_ext;   /* NULL-terminated; {"*"} means every extension */
	char **include_dir;   /* root-relative; empty: everything */
	char **include_file;  /* root-relative paths or globs */
	char **exclude_dir;   /* names or globs */
	char **exclude_file;  /* globs, ** supported */
	char **exclude_regex; /* POSIX ERE against the root-relative path */
	/* exclude_regex compiled (REG_EXTENDED | REG_NOSUB) by config_load(),
	 * the only compile; owned by the config, borrowed by the filter */
	regex_t *exclude_re;
	size_t n_exclude_re;
	/* a rule's match naming include_file but not include_ext: only the
	 * include_file paths match (the watch section keeps include_ext's
	 * default) */
	bool only_include_file;
	bool gitignore;
	bool follow_symlinks;
	bool exclude_unchanged;
	bool allow_any_root;      /* allow "/" or $HOME as root */
	unsigned debounce_ms;     /* trailing quiet window; DEBOUNCE_ADAPTIVE: unset */
	unsigned debounce_max_ms; /* cap: a build at least this often */
};

struct log_config {
	enum color_mode color;
	bool timestamps;
	int verbosity; /* -1 quiet, 0 normal, 1 verbose, 2 debug */
};

struct lifecycle_config {
	bool postpone_first;        /* wait for the first change */
	bool stop_on_build_failure; /* stop the old program when a build fails */
	bool restart_on_exit;       /* start the program again when it exits */
	unsigned restart_delay_ms;
	unsigned restart_max_delay_ms;
};

/* What a rule does with the program when its paths change: the later, the
 * stronger (the strongest of a burst's rules wins). RULE_RUN leaves the
 * program alone and runs the rule's own command. Order of
 * config_rule_actions (keys.c). */
enum rule_action { RULE_RELOAD = 0, RULE_RESTART, RULE_BUILD, RULE_RUN };

struct rule_config {
	char *name;
	enum rule_action action;
	char *cmd;                 /* RULE_RUN's command, else NULL */
	struct watch_config match; /* only the lists (and their regexes) */
};

struct config {
	char *file;         /* the file read, or NULL for built-in defaults */
	char *root;         /* absolute, no trailing slash */
	char *tmp_dir;      /* absolute */
	char **plugin_path; /* NULL-terminated, absolute */
	struct watch_config watch;
	struct log_config log;
	bool clear_screen;
	struct lifecycle_config lifecycle;
	/* plugin sections: JSON objects, each with a string "plugin" */
	struct json_t *watcher;
	struct json_t *builder;
	struct json_t *runner;
	struct json_t *hooks;      /* array of hook sections, or NULL */
	struct rule_config *rules; /* "rules", in their order */
	size_t nrules;
	struct json_t *json; /* the whole effective config (owns the above) */
	/* what plugins' option readers fell back to, by section path:
	 * {"/runner": {"kill_delay_ms": 2000, ...}, "/hooks/0": {...}};
	 * shown by config_dump(), never read back */
	struct json_t *plugin_defaults;
	struct config_cache *cache; /* arrays handed to plugins; freed with cfg */
};

/* Load the config: file if given, else ./gust.json if it exists, else the
 * built-in defaults; then apply sets ("key.path=value", value parsed as
 * JSON, else taken as a string). Relative paths resolve against the
 * config file's directory (root) and root (tmp_dir, plugin_path).
 * On failure returns -EINVAL (or -errno) with a one-line message in err:
 *   "gust.json:3:14: syntax error: ..."
 *   "gust.json: /runner/kill_delay_ms: expected integer >= 0, got \"fast\""
 *   "gust.json: /watch/exclude_dirs: unknown key (did you mean \"exclude_dir\"?)"
 * Plugin sections are checked only for "plugin"; plugins check the rest. */
int config_load(struct config *cfg, const char *file, const char *const *sets, char *err,
                size_t errlen);
/* The same from a file's text in memory: text (len bytes, need not end in
 * NUL) is what a file named name (for messages, and cfg->file) would hold;
 * a relative root is taken from the current directory. The whole of
 * config_load() but the reading: the entry point for fuzzing. */
int config_load_text(struct config *cfg, const char *name, const char *text, size_t len,
                     const char *const *sets, char *err, size_t errlen);
void config_free(struct config *cfg);

/* Append args (n strings) to the runner section's "args" (made an array
 * if it was one string, created if missing): `gust -- ARGS`. 0, -ENOMEM,
 * or -EILSEQ when one is not UTF-8 (no JSON string can hold it). */
int config_append_run_args(struct config *cfg, char *const *args, size_t n);

/* A plugin's option reader fell back to value (stolen; NULL is fine) for
 * key, absent from the section at path: noted for config_dump(). */
void config_note_default(struct config *cfg, const char *path, const char *key,
                         struct json_t *value);

/* The effective config as pretty JSON (malloc'd), with the defaults the
 * plugins' option readers noted. */
char *config_dump(const struct config *cfg);

/* For the config module's own files (options.c): the last --set that
 * wrote path ("/runner/env") or a path inside or around it, or NULL; and
 * keeping p (malloc'd) until config_free(), 0 or -ENOMEM (p freed). */
const char *config_set_for(const struct config *cfg, const char *path);
int config_keep(struct config *cfg, void *p);

#endif
