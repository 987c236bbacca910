/* state.c - fuzz target "state": the state file as read on recovery after a
 * killed gust (ptree_mgr_recover(), core/statefile.c).
 *
 * Input: the whole state file. core/statefile.c is compiled into this
 * target with GUST_RECOVER_DRY: recovery signals nothing and touches no cgroup,
 * it only calls gust_recover_dry_kill() below for each process it would
 * SIGKILL, which checks the choice: never this process, one of its
 * ancestors, or init. The input is written to the state file before each
 * call; recovery removes it. */
#include "config.h"

#include "fuzz.h"
#include "loop.h"
#include "ptree.h"

#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void gust_recover_dry_kill(pid_t pid, unsigned long long start);
/* Defined by core/statefile.c only when built with GUST_RECOVER_DRY: without
 * it this target does not link, rather than run a real recovery. */
extern const int gust_recover_dry;

static struct ptree_mgr *mgr;
static char path[PATH_MAX];

/* The fields of /proc/PID/stat after the command's ")", read into buf, or
 * NULL. */
static const char *stat_fields(pid_t pid, char *buf, size_t len)
{
	char file[64];
	snprintf(file, sizeof file, "/proc/%ld/stat", (long)pid);
	FILE *f = fopen(file, "re");
	size_t n = f ? fread(buf, 1, len - 1, f) : 0;
	if (f)
		fclose(f);
	buf[n] = '\0';
	return strrchr(buf, ')');
}

/* pid's parent from /proc, or 0. */
static pid_t parent_of(pid_t pid)
{
	char buf[1024];
	const char *rp = stat_fields(pid, buf, sizeof buf);
	long ppid = 0;
	if (!rp || sscanf(rp + 1, " %*c %ld", &ppid) != 1)
		return 0;
	return (pid_t)ppid;
}

void gust_recover_dry_kill(pid_t pid, unsigned long long start)
{
	(void)start;
	for (pid_t p = getpid(); p > 0; p = p == 1 ? 0 : parent_of(p))
		if (p == pid) {
			fprintf(stderr, "fuzz: recovery would SIGKILL pid %ld (%s)\n", (long)pid,
			        pid == 1 ? "init" : "this process or an ancestor");
			abort();
		}
}

/* pid's start time from /proc, or 0. */
static unsigned long long start_of(pid_t pid)
{
	char buf[1024];
	const char *rp = stat_fields(pid, buf, sizeof buf);
	unsigned long long start = 0;
	if (rp)
		sscanf(rp + 1,
		       " %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %*u %*u %*d %*d %*d %*d %*d "
		       "%*d %llu",
		       &start);
	return start;
}

/* Before any input, the one a seed corpus cannot hold (init's start time
 * differs between machines): a dead gust's file recording init. */
static void recover_init_record(void)
{
	char text[128], file[PATH_MAX], msg[1024];
	int n = snprintf(text, sizeof text, "gust 999999999 0 2\n1 %llu\n", start_of(1));
	fuzz_write("gust.state", text, (size_t)n, file, sizeof file);
	(void)ptree_mgr_recover(mgr, msg, sizeof msg);
	unlink(path);
}

/* The loop and manager live as long as the process. loop_new() takes
 * SIGINT, SIGTERM, SIGHUP, SIGCHLD and SIGPIPE; libFuzzer's handlers are
 * given back, so that ^C and timeouts still work. */
static void setup(void)
{
	if (!gust_recover_dry)
		abort();
	static const int sigs[] = { SIGINT, SIGTERM, SIGHUP, SIGCHLD, SIGPIPE };
	struct sigaction old[sizeof sigs / sizeof *sigs];
	for (size_t i = 0; i < sizeof sigs / sizeof *sigs; i++)
		sigaction(sigs[i], NULL, &old[i]);
	struct loop *loop = loop_new();
	if (!loop)
		abort();
	for (size_t i = 0; i < sizeof sigs / sizeof *sigs; i++)
		sigaction(sigs[i], &old[i], NULL);
	fuzz_path(path, sizeof path, "gust.state");
	char err[512];
	if (!(mgr = ptree_mgr_new(loop, path, err, sizeof err))) {
		fprintf(stderr, "fuzz: ptree_mgr_new: %s\n", err);
		abort();
	}
	recover_init_record();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!mgr)
		setup();
	char file[PATH_MAX], msg[1024];
	fuzz_write("gust.state", data, size, file, sizeof file);
	int r = ptree_mgr_recover(mgr, msg, sizeof msg);
	if (r < 0)
		fuzz_check_message("ptree_mgr_recover", msg);
	unlink(path);
	return 0;
}
