/* conf.h - gust.json: defaults, loading with jansson, validation with
 * file:line:col and JSON-path errors, --set overrides, init, printing. */
#ifndef GUST_CONFIG_H
#define GUST_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

struct json_t;

enum color_mode { COLOR_AUTO = 0, COLOR_ALWAYS, COLOR_NEVER };

struct watch_config {
	char **include_ext;   /* NULL-terminated; {"*"} means every extension */
	char **include_dir;   /* root-relative; empty: everything */
	char **include_file;  /* root-relative paths or globs */
	char **exclude_dir;   /* names or globs */
	char **exclude_file;  /* globs, ** supported */
	char **exclude_regex; /* POSIX ERE against the root-relative path */
	bool gitignore;
	bool follow_symlinks;
	bool exclude_unchanged;
	bool allow_any_root;      /* allow "/" or $HOME as root */
	unsigned debounce_ms;     /* trailing quiet window */
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
	struct json_t *json;        /* the whole effective config (owns the above) */
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
void config_free(struct config *cfg);

/* The effective config as pretty JSON (malloc'd). */
char *config_dump(const struct config *cfg);

/* Names of the presets, NULL-terminated, and a preset's JSON text. */
const char *const *config_presets(void);
/* Pick a preset from the files in dir (go.mod -> go, Cargo.toml -> ...). */
const char *config_detect_preset(const char *dir);
/* Write a starter config to path from preset (NULL: detect). Never
 * overwrites: -EEXIST with a message if path exists. */
int config_init_file(const char *path, const char *preset, char *err, size_t errlen);

/* What a plugin's options look like to the core: a section and its path. */
struct gust_opts {
	struct json_t *obj; /* borrowed */
	const char *where;  /* "gust.json" or "defaults", for messages */
	const char *path;   /* JSON path of the section, e.g. "/runner" */
	struct config *cfg; /* owner of the arrays opt_strv/opt_env return */
};

/* Option accessors behind the host table. Each returns 0 or -EINVAL with
 * "<where>: <path>/<key>: expected ..., got ..." in err. */
int config_opt_check_keys(const struct gust_opts *o, const char *const *known, char *err,
                          size_t errlen);
int config_opt_string(const struct gust_opts *o, const char *key, const char *def, const char **out,
                      char *err, size_t errlen);
int config_opt_int(const struct gust_opts *o, const char *key, long long def, long long min,
                   long long max, long long *out, char *err, size_t errlen);
int config_opt_bool(const struct gust_opts *o, const char *key, bool def, bool *out, char *err,
                    size_t errlen);
/* *out is a NULL-terminated array owned by o->obj's lifetime (cached on the
 * JSON value), never freed by the caller. */
int config_opt_strv(const struct gust_opts *o, const char *key, const char *const **out, size_t *n,
                    char *err, size_t errlen);
/* An environment: object of NAME: value, or array of "NAME=value". */
int config_opt_env(const struct gust_opts *o, const char *key, const char *const **out, size_t *n,
                   char *err, size_t errlen);
int config_opt_signal(const struct gust_opts *o, const char *key, int def, int *out, char *err,
                      size_t errlen);

/* Signal name <-> number: "SIGTERM", "TERM", "term", "15". -1 if unknown. */
int config_signal_from_name(const char *name);
const char *config_signal_name(int sig);

/* Nearest of candidates to word by edit distance, or NULL if none is close. */
const char *config_nearest(const char *word, const char *const *candidates);

#endif
