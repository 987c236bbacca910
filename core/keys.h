/* keys.h - the core's keys of gust.json and what values they take; the
 * config module's own (conf.c), not used elsewhere. Plugin sections are
 * checked here only for "plugin"; each plugin checks the rest through
 * options.h. */
#ifndef GUST_KEYS_H
#define GUST_KEYS_H

#include <stdbool.h>
#include <stddef.h>

struct json_t;

enum ktype {
	K_STR,
	K_STRV,
	K_REGEXV,
	K_BOOL,
	K_INT,
	K_ENUM,
	K_OBJ,
	K_PLUGIN,
	K_VERBOSITY,
	K_HOOKS, /* an array of plugin sections, each naming its plugin */
	K_RULES  /* an array of rules: name, match, action */
};

struct key {
	const char *name;
	enum ktype type;
	long long min, max;         /* K_INT, K_VERBOSITY */
	const char *const *choices; /* K_ENUM, K_VERBOSITY */
	const struct key *sub;      /* K_OBJ: terminated by name NULL */
};

/* The top level, in the order of gust.json(5); terminated by name NULL. */
extern const struct key config_top_keys[];
/* A rule's actions by name, in the order of enum rule_action (conf.h);
 * NULL-terminated. "run" is an object, {"run": "CMD"}. */
extern const char *const config_rule_actions[];
/* log.verbosity's names, -1 (quiet) first; NULL-terminated. */
extern const char *const config_verbosities[];

/* The key called name in keys, or NULL. */
const struct key *config_find_key(const struct key *keys, const char *name);
/* Up to max - 1 names of keys into out, NULL-terminated. */
void config_key_names(const struct key *keys, const char **out, size_t max);

/* Check root against the key tables. strict: the complete config (every
 * plugin section names its plugin); otherwise a user layer, whose plugin
 * sections may leave "plugin" out to adjust the default plugin's options.
 * 0, or -EINVAL with "<where>: <path>: expected ..., got ..." in err. */
int config_validate(struct json_t *root, const char *where, bool strict, char *err, size_t errlen);

#endif
