/* cycle.c - the words of gust's cycle line ("restarted: main.go changed,
 * build 812 ms, old tree gone in 3 ms, ready in 40 ms") and of a
 * command's exit status. The state machine (app.c) decides when a line is
 * logged; this file only says how it reads. */
#include "config.h"

#include "cycle.h"
#include "signames.h"

#include <stdio.h>
#include <string.h>
#include <sys/wait.h>

void cycle_status(int status, char *buf, size_t len)
{
	if (status < 0)
		snprintf(buf, len, "could not run: %s", strerror(-status));
	else if (WIFEXITED(status))
		snprintf(buf, len, "exit status %d", WEXITSTATUS(status));
	else if (WIFSIGNALED(status))
		snprintf(buf, len, "killed by signal %d (%s)", WTERMSIG(status),
		         config_signal_name(WTERMSIG(status)) ? config_signal_name(WTERMSIG(status))
		                                              : "?");
	else
		snprintf(buf, len, "status 0x%x", (unsigned)status);
}

/* "PATH changed" or "PATH and N more changed". */
void cycle_what_changed(char *buf, size_t len, char *const *paths, size_t n)
{
	if (n == 1)
		snprintf(buf, len, "%s changed", paths[0]);
	else
		snprintf(buf, len, "%s and %zu more changed", paths[0], n - 1);
}

/* The cycle line up to its outcome: why the run started and what it
 * took before it did. */
void cycle_prefix(struct app *app, uint64_t t0)
{
	char *buf = app->cycle_line;
	size_t len = sizeof app->cycle_line;
	char gone[64] = "";
	if (app->stop_started_ms)
		snprintf(gone, sizeof gone, "old tree gone in %llu ms",
		         (unsigned long long)(t0 - app->stop_started_ms));
	if (app->restart_after_exit)
		snprintf(buf, len, "restarted after the program exited%s%s", gone[0] ? ": " : "",
		         gone);
	else if (app->restart_requested && app->restart_rule)
		snprintf(buf, len, "%s: %s%s%s", app->stop_started_ms ? "restarted" : "started",
		         app->cycle, gone[0] ? ", " : "", gone);
	else if (app->restart_requested)
		snprintf(buf, len, "%s on request of %s%s%s",
		         app->stop_started_ms ? "restarted" : "started", app->requested_by,
		         gone[0] ? ": " : "", gone);
	else if (app->stop_started_ms)
		snprintf(buf, len, "restarted: %s%sbuild %llu ms, %s", app->cycle,
		         app->cycle[0] ? ", " : "", (unsigned long long)app->build_ms, gone);
	else
		snprintf(buf, len, "started");
}

/* The cycle line once the run's readiness is known (ms after its start):
 * "..., ready in 40 ms", or for a timeout "...; not ready after 5000 ms (no
 * listening socket in its tree yet): going on without it", with a hint
 * the first time (app->ready_warned not set yet). */
void cycle_ready(const struct app *app, enum probe_result result, uint64_t ms, char *buf,
                 size_t len)
{
	const struct ready *r = &app->ready;
	if (result == PROBE_TIMEOUT) {
		bool hint = r->kind == PROBE_LISTEN && !app->ready_warned;
		snprintf(buf, len, "%s; not ready after %u ms (no %s yet): going on without it%s",
		         app->cycle_line, r->spec.timeout_ms,
		         r->kind == PROBE_LISTEN ? "listening socket in its tree"
		         : r->kind == PROBE_LOG  ? "matching output line"
		                                 : "answer",
		         hint ? " (a program that never listens: \"ready\": false in the runner "
		                "section)"
		              : "");
	} else if (r->kind == PROBE_OFF && !strcmp(app->cycle_line, "started")) {
		snprintf(buf, len, "started");
	} else if (r->kind == PROBE_OFF) {
		snprintf(buf, len, "%s, started in %llu ms", app->cycle_line,
		         (unsigned long long)app->spawn_ms);
	} else {
		snprintf(buf, len, "%s, ready in %llu ms", app->cycle_line, (unsigned long long)ms);
	}
}
