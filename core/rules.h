/* rules.h - "rules": which rules a changed path matches (each rule's own
 * filter), and the commands of {"run": CMD} rules, each run in a process
 * tree of its own, its output prefixed with the rule's name, never two of
 * one rule at once: a newer change cancels the running one, and the next
 * starts once its whole tree is gone. What the program gets (build,
 * restart, reload) is app.c's. */
#ifndef GUST_RULES_H
#define GUST_RULES_H

#include <stdbool.h>
#include <stddef.h>

struct config;
struct loop;
struct ptree_mgr;
struct rules;

/* The rules of cfg (borrowed: it must outlive them), their trees spawned
 * through ptrees on loop. idle(arg) is called from the loop whenever the
 * last running command's tree is gone. NULL + err on failure. */
struct rules *rules_new(const struct config *cfg, struct loop *loop, struct ptree_mgr *ptrees,
                        void (*idle)(void *arg), void *arg, char *err, size_t errlen);
/* Kills what still runs (bounded), frees. NULL is fine. */
void rules_free(struct rules *r);

/* path: absolute under the root, or root-relative. */
bool rules_match(struct rules *r, size_t i, const char *path);
/* True when directory path is outside every rule: none needs it watched. */
bool rules_dir_ignored(struct rules *r, const char *path);

/* Run rule i's command (it must be a RULE_RUN rule) for paths (n of them,
 * root-relative, copied): now, or, while its command runs, once that one
 * is cancelled and gone, with these paths added to the cancelled run's. */
void rules_run(struct rules *r, size_t i, char *const *paths, size_t n);
/* gust quits: stop every running command, start nothing more. */
void rules_stop_all(struct rules *r);
/* Some command's tree still exists. */
bool rules_busy(const struct rules *r);

#endif
