/* ptree.h - process trees: spawn, stop with escalation, sweep, reap, and
 * recovery of what a killed gust left behind. The mechanism behind the
 * host table's tree_* functions, shared by every runner and builder. */
#ifndef GUST_PTREE_H
#define GUST_PTREE_H

#include <gust/plugin.h>
#include <stddef.h>

struct loop;
struct ptree_mgr;

/* Become a child subreaper, hook into the loop's reaping. state_path is the
 * file where the processes of live trees are recorded (pid and start time)
 * so a later gust can remove them if this one is SIGKILLed; NULL: none.
 * NULL + err on failure. */
struct ptree_mgr *ptree_mgr_new(struct loop *loop, const char *state_path, char *err,
                                size_t errlen);

/* Kill (SIGKILL) and reap every process of every tree, synchronously and in
 * bounded time, remove the state file, free. */
void ptree_mgr_free(struct ptree_mgr *mgr);

/* Remove what a previous gust, killed before it could clean up, left behind:
 * read state_path, and if the gust that wrote it is dead, SIGKILL every
 * recorded process that still has the recorded start time, and every
 * descendant of one (a recorded reaper last, once it has no child left),
 * wait until they are gone.
 * Returns the number of processes removed, or -errno (-EEXIST: that gust
 * is alive; -EAGAIN: alive but quitting, msg "the previous gust (pid N) to
 * finish stopping": call again later). Never touches a process that is
 * not provably that gust's: records of init, or of a process that started
 * before that gust, are ignored. */
int ptree_mgr_recover(struct ptree_mgr *mgr, char *msg, size_t msglen);
/* Make the project this gust's, once, before anything runs (app_init):
 * ptree_mgr_recover(); while that says the previous gust is still
 * stopping, run the loop and try again, up to 60 s (a signal ends the
 * wait; on_signal(arg) is the loop's signal callback again afterwards);
 * take lock_path (flock) for gust's life, which decides between gusts
 * that got this far together; write the state file, so that a gust that
 * has started nothing yet (postpone_first) is found by the next one too.
 * Returns 0, or -errno after logging why gust must not start (-EEXIST:
 * another gust has the project, whose state file is then never written
 * or removed; -EINTR: a signal came while waiting). Leftovers removed, or
 * a failed look for them, are logged as a warning. */
int ptree_mgr_claim(struct ptree_mgr *mgr, const char *lock_path,
                    void (*on_signal)(int sig, void *arg), void *arg);
/* gust was asked to quit: the state file says so, and a gust started
 * meanwhile waits for this one to finish stopping its run instead of
 * refusing to start (ptree_mgr_recover() says -EAGAIN). */
void ptree_mgr_quitting(struct ptree_mgr *mgr);

/* Number of processes currently known to belong to live trees. */
size_t ptree_mgr_count(struct ptree_mgr *mgr);
/* How many membership scans read all of /proc, and how many only what was
 * created since an earlier one; whether the next may be of the second kind
 * (it can once a view INFLIGHT_MS old exists; see membership.c). */
void ptree_mgr_scans(const struct ptree_mgr *mgr, unsigned long *full, unsigned long *delta);
bool ptree_mgr_incremental(const struct ptree_mgr *mgr);
/* Scans that re-read the members only, no fork having happened since the
 * scan before (or since a spawn that was the only fork). */
unsigned long ptree_mgr_quick_scans(const struct ptree_mgr *mgr);
/* Is no timer of the manager's armed (nothing of the trees will wake gust
 * until the kernel tells of a change)? */
bool ptree_mgr_idle(const struct ptree_mgr *mgr);

struct gust_tree *ptree_spawn(struct ptree_mgr *mgr, const struct gust_spawn *spec,
                              const struct gust_tree_events *ev, void *arg, char *err,
                              size_t errlen);
int ptree_stop(struct gust_tree *tree, int sig, unsigned kill_delay_ms);
int ptree_kill(struct gust_tree *tree);
pid_t ptree_pid(const struct gust_tree *tree);
bool ptree_alive(const struct gust_tree *tree);
void ptree_free(struct gust_tree *tree);
/* The processes of the tree now (rescanned first): the pids of its live
 * (not zombie) members, at most max written to out; returns how many there
 * are. 0 once the tree is gone. The host's tree_pids(). */
size_t ptree_members(const struct gust_tree *tree, pid_t *out, size_t max);

#endif
