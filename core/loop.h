/* loop.h - the core's one event loop: fds, timers, signals, child exits. */
#ifndef GUST_LOOP_H
#define GUST_LOOP_H

#include <gust/plugin.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

struct loop;

/* Create the loop; installs the SIGCHLD/SIGINT/SIGTERM/SIGHUP/SIGPIPE
 * handling (self-pipe). NULL with errno set on failure. */
struct loop *loop_new(void);
void loop_free(struct loop *loop);

int loop_io_add(struct loop *loop, int fd, unsigned events, gust_io_cb cb, void *arg);
int loop_io_mod(struct loop *loop, int fd, unsigned events);
int loop_io_del(struct loop *loop, int fd);

/* Pacing, for a storm: a paced fd (a watcher's) is read at most once per
 * pace, so that its events come in batches, not one wake-up each. The pace
 * is 0 (off) until loop_set_pace(). loop_io_pace: -ENOENT if fd is not
 * added. */
int loop_io_pace(struct loop *loop, int fd);
void loop_set_pace(struct loop *loop, unsigned ms);

/* One-shot timer; returns a non-zero id or 0. */
uint64_t loop_timer_add(struct loop *loop, unsigned ms, gust_timer_cb cb, void *arg);
void loop_timer_cancel(struct loop *loop, uint64_t id);

/* cb once when the child pid is reaped. */
int loop_child_watch(struct loop *loop, pid_t pid, gust_exit_cb cb, void *arg);
void loop_child_unwatch(struct loop *loop, pid_t pid);

/* Called for every child the loop reaps (after its child_watch callback, if
 * any), including orphans re-parented to gust. One hook. */
void loop_set_reap_hook(struct loop *loop, gust_exit_cb cb, void *arg);

/* Called (from the loop, not the handler) when sig (SIGINT, SIGTERM, SIGHUP)
 * arrives. One callback for all three. */
void loop_set_signal_cb(struct loop *loop, void (*cb)(int sig, void *arg), void *arg);

/* Reap every exited child now (WNOHANG), dispatching callbacks. */
void loop_reap(struct loop *loop);

/* Run one iteration, waiting at most timeout_ms (-1: until something
 * happens, bounded by the next timer). Returns 0 or -errno. */
int loop_once(struct loop *loop, int timeout_ms);
/* Run until loop_quit(); returns the code given to loop_quit(). */
int loop_run(struct loop *loop);
void loop_quit(struct loop *loop, int code);
bool loop_quitting(const struct loop *loop);

/* Milliseconds on the monotonic clock. */
uint64_t loop_now_ms(void);

#endif
