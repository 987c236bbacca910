#!/bin/bash
# bench/run.sh - `make bench`: what gust costs, measured on work a user
# recognises, and side by side with entr, reflex and nodemon where they are
# installed. Run from the build directory after `make`:
#
#   1. overhead  file write -> the new program's first instruction, with a
#                build command that does nothing, at the default debounce
#                (with BENCH_DEBOUNCE_MS set: that window, taken off);
#                and its floor: `true` started and waited for, then the
#                program started, with nothing watching or supervising
#      ready     file write -> gust reports the new run ready, for a small
#                HTTP server (default "listen" readiness, and "http"), beside
#                the write -> its first instruction and -> its listen(), and
#                the wakeups gust spent detecting readiness
#   2. storm     1,000 and 10,000 files written in one burst -> builds,
#                time until settled, and the watching process's own CPU;
#                gust at its defaults and "gust-bare" (no content hash per
#                file, no readiness check: what entr does), and the floor
#                of the hashes (reading each file once) in the same run
#   3. idle      CPU, wake-ups and RSS over BENCH_IDLE_SECS watching 10,000 files in
#                1,000 directories, per watcher back end, and the RSS once
#                all 10,000 were changed (a branch switch); and the RSS floor,
#                `int main(){pause();}` built by $CC
#   4. scale     start-up time and RSS until changes are detected, 10,000
#                and 100,000 files
#   5. teardown  stop request -> tree gone: cooperative, SIGTERM-ignoring,
#                50-process tree
#   6. proxy     the livereload hook's proxy in front of a small Go app:
#                wrk's p50, p99 and requests/s directly and through the
#                proxy, for an HTML page ("html": the script goes in) and
#                a JSON answer ("json": passed through), and the latency
#                the proxy adds at p50; and write of the Go source -> the
#                "reload" event -> the page through the proxy shows the
#                new text (needs wrk, go and the hook-livereload plugin)
#
# Prints a table (median, min, max of several runs) and writes the same as
# JSON to bench/results.json. Everything happens in a temporary directory
# that is removed at the end, with every process it started.
#
# Environment: GUST (default ./gust), GUST_PLUGIN_PATH (default
# ./plugins/.libs), BENCH_RUNS (5), BENCH_IDLE_SECS (30, the issue's
# figure; 10 with BENCH_QUICK), BENCH_OUT (bench/results.json), BENCH_QUICK=1
# (skip the 100,000 file case and run each case 3 times), BENCH_DEBOUNCE_MS
# (gust's watch.debounce_ms; default unset: gust's default), BENCH_WARMUP (3: seconds gust runs
# before the first timed edit), BENCH_ONLY (the sections to run,
# of: overhead spawn ready storm idle scale teardown proxy; default all),
# BENCH_READY_EDITS (100, 4 x RUNS with BENCH_QUICK: timed edits per
# readiness check; write->ready's p99 needs 100),
# BENCH_PROXY_SECS (5, 3 with BENCH_QUICK: each wrk run), BENCH_PROXY_CONNS
# ("1 8": wrk's connections, one case each), BENCH_PROXY_EDITS (4 x RUNS),
# BENCH_GOCACHE (Go's build cache; default a new one in the temporary
# directory), CC.
if [ -z "${BASH_VERSION:-}" ]; then exec bash "$0" "$@"; fi
set -u
export LC_ALL=C

GUST=${GUST:-./gust}
case $GUST in /*) ;; *) GUST=$PWD/$GUST ;; esac
GUST_PLUGIN_PATH=${GUST_PLUGIN_PATH:-$PWD/plugins/.libs}
export GUST_PLUGIN_PATH
RUNS=${BENCH_RUNS:-5}
IDLE_SECS=${BENCH_IDLE_SECS:-30}
OUT=${BENCH_OUT:-bench/results.json}
QUICK=${BENCH_QUICK:-0}
[ "$QUICK" = 1 ] && RUNS=3 && IDLE_SECS=${BENCH_IDLE_SECS:-10}
CC=${CC:-cc}
ONLY=${BENCH_ONLY:-}
want() { [ -z "$ONLY" ] || [[ " $ONLY " == *" $1 "* ]]; } # a section to run?
# Not set: gust's default (adaptive) window, which the overhead includes.
DEBOUNCE_MS=${BENCH_DEBOUNCE_MS:-}
DEBOUNCE_LINE=${DEBOUNCE_MS:+\"debounce_ms\": $DEBOUNCE_MS,}
# What to take off the measured latency, in ms: a set window only.
DEBOUNCE_OFF=${DEBOUNCE_MS:-0}
# Seconds between the program's first start and the first timed edit: gust's
# process scans read all of /proc until it has a view 2 s old, and only what
# was created since from then on (core/ptree.c); a user's edits come later.
WARMUP=${BENCH_WARMUP:-3}

die() { echo "bench: $*" >&2; exit 1; }
[ -x "$GUST" ] || die "no gust at $GUST (run make first, or set GUST)"
[ -d "$GUST_PLUGIN_PATH" ] || die "no plugin directory $GUST_PLUGIN_PATH"
[ -n "${EPOCHREALTIME:-}" ] || die "bash 5 is needed (EPOCHREALTIME)"

W=$(mktemp -d "${TMPDIR:-/tmp}/gust-bench.XXXXXX") || die "mktemp failed"
MARK="gust-bench-$$-$RANDOM"
PIDS=() # every process started in the background here

# Processes whose environment carries our marker (gust, the tools, and
# everything they started, even after re-parenting).
marked_pids() {
	local p e env
	for p in /proc/[0-9]*; do
		[ "${p#/proc/}" = "$$" ] && continue
		env=()
		{ mapfile -d '' -t env <"$p/environ"; } 2>/dev/null || continue
		for e in "${env[@]}"; do
			if [ "$e" = "BENCH_MARK=$MARK" ]; then echo "${p#/proc/}"; break; fi
		done
	done
}

cleanup() {
	local p
	for p in "${PIDS[@]}"; do kill -KILL "$p" 2>/dev/null; done
	for p in $(marked_pids); do kill -KILL "$p" 2>/dev/null; done
	wait 2>/dev/null
	rm -rf "$W"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# ---- time, polling, statistics (no fork in the polling loops) ----
mkfifo "$W/sleep.fifo" || die "mkfifo failed"
exec {SLEEPFD}<>"$W/sleep.fifo"
nap() { read -r -t "$1" -u "$SLEEPFD" _ || true; } # sleep without a fork
now() { local t=${EPOCHREALTIME//[.,]/}; NOW=$((10#$t)); } # µs, in $NOW
now_us() { now; echo "$NOW"; }

# wait_until SECONDS CMD...: poll CMD every ms until true or the deadline.
wait_until() {
	local secs=$1 end; shift
	now; end=$((NOW + secs * 1000000))
	until "$@"; do
		now; [ "$NOW" -ge "$end" ] && return 1
		nap 0.001
	done
}

count_lines() { # FILE: number of lines, in $NLINES
	local a=()
	[ -f "$1" ] && mapfile -t a <"$1"
	NLINES=${#a[@]}
}
lines() { count_lines "$1"; echo "$NLINES"; }
has_lines() { count_lines "$1"; [ "$NLINES" -ge "$2" ]; }
last_line() { local l; l=$(tail -n 1 "$1"); echo "${l%% *}"; } # first field
pid_gone() { [ ! -e "/proc/$1" ]; }
all_gone() { local p; for p in "$@"; do [ -e "/proc/$p" ] && return 1; done; return 0; }

# stats VALUES...: "median min max n" (printf %.3f), or "- - - 0".
stats() {
	[ $# -gt 0 ] || { echo "- - - 0"; return; }
	printf '%s\n' "$@" | sort -g | awk '
		{ v[NR] = $1 }
		END { m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
		      printf "%.3f %.3f %.3f %d\n", m, v[1], v[NR], NR }'
}
# p99 VALUES...: the 99th percentile (nearest rank), or "-".
p99() {
	[ $# -gt 0 ] || { echo -; return; }
	printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 }
		END { r = int(NR * 0.99); if (r < NR * 0.99) r++; printf "%.3f\n", v[r] }'
}

# ---- results ----
ROWS=()   # JSON objects
TABLE=()  # printed lines
NOTES=()
declare -A CMP # "metric|who" -> median, for gust's ratio to each tool
cmp_set() { [ "$LAST_MEDIAN" = - ] || CMP["$1|$2"]=$LAST_MEDIAN; } # METRIC WHO
LAST_MEDIAN=-
# record BENCH CASE TOOL UNIT TARGET VALUES...
record() {
	local bench=$1 case=$2 tool=$3 unit=$4 target=$5; shift 5
	local s; s=$(stats "$@")
	set -- $s
	LAST_MEDIAN=$1
	TABLE+=("$(printf '%-9s %-34s %-8s %10s %10s %10s %3s %-6s %s' \
		"$bench" "$case" "$tool" "$1" "$2" "$3" "$4" "$unit" "$target")")
	local j=null lo=null hi=null # "-": no value (a negative one is a value)
	[ "$1" = - ] || j=$1
	[ "$2" = - ] || lo=$2
	[ "$3" = - ] || hi=$3
	ROWS+=("{\"bench\":\"$bench\",\"case\":\"$case\",\"tool\":\"$tool\",\"unit\":\"$unit\",\"median\":$j,\"min\":$lo,\"max\":$hi,\"n\":$4,\"target\":\"$target\"}")
	echo "  $bench / $case / $tool: median $1 $unit (min $2, max $3, n $4)" >&2
}
note() { NOTES+=("$1"); echo "  note: $1" >&2; }
median_of() { local s; s=$(stats "$@"); echo "${s%% *}"; }

# ---- the helper: the "program" and the file writer, in C for precision ----
cat >"$W/helper.c" <<'EOF'
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <spawn.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

static long long now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (long long)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static long long mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int gone(long pid)
{
	char p[64];
	snprintf(p, sizeof p, "/proc/%ld", pid);
	return access(p, F_OK) < 0 && errno == ENOENT;
}

/* The line: realtime µs, monotonic ns (perf -k mono's clock), pid. */
static void append(const char *file, long long v, long long mono)
{
	char buf[80];
	int n = snprintf(buf, sizeof buf, "%lld %lld %ld\n", v, mono, (long)getpid());
	int fd = open(file, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	if (fd < 0 || write(fd, buf, (size_t)n) != n)
		exit(1);
	close(fd);
}

/* files DIR N PERDIR TAG: write N files, PERDIR per directory. */
static int files(const char *dir, long n, long perdir, const char *tag)
{
	char p[4096];
	size_t len = strlen(tag);
	for (long i = 0; i < n; i++) {
		if (i % perdir == 0) {
			snprintf(p, sizeof p, "%s/d%05ld", dir, i / perdir);
			if (mkdir(p, 0755) < 0 && errno != EEXIST)
				return 1;
		}
		snprintf(p, sizeof p, "%s/d%05ld/f%06ld.txt", dir, i / perdir, i);
		int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
		if (fd < 0 || write(fd, tag, len) != (ssize_t)len)
			return 1;
		close(fd);
	}
	return 0;
}

/* hashfloor DIR N PERDIR: this thread's CPU µs for what exclude_unchanged
 * costs at the least per build: each of the N files of "files DIR N
 * PERDIR" opened from DIR's fd (O_NOATIME), fstat, read, closed, as gust's
 * ledger does, without the hash itself. */
static int hashfloor(const char *dir, long n, long perdir)
{
	char p[4096];
	static unsigned char buf[65536];
	struct timespec a, b;
	int rfd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (rfd < 0)
		return 1;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &a);
	for (long i = 0; i < n; i++) {
		snprintf(p, sizeof p, "d%05ld/f%06ld.txt", i / perdir, i);
		int fd = openat(rfd, p, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NOATIME);
		struct stat st;
		if (fd < 0 || fstat(fd, &st) < 0 || read(fd, buf, sizeof buf) < 0)
			return 1;
		close(fd);
	}
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &b);
	printf("%lld\n", ((b.tv_sec - a.tv_sec) * 1000000000LL + b.tv_nsec - a.tv_nsec) / 1000);
	return 0;
}

/* floor FILE N: what a restart with build "true" costs with no watcher
 * and no supervisor: start `true` (found on PATH) and wait for it, then
 * start the program (this helper, "stamp FILE"). Prints, N times, the µs
 * from just before the first start to the program's first instruction. */
static int floor_cmd(const char *file, int n)
{
	char self[4096];
	ssize_t k = readlink("/proc/self/exe", self, sizeof self - 1);
	if (k < 0)
		return 1;
	self[k] = '\0';
	for (int i = 0; i < n; i++) {
		char *targv[] = {"true", NULL};
		char *pargv[] = {self, "stamp", (char *)file, NULL};
		long long t0, t1 = -1, v;
		pid_t p;
		int st;
		unlink(file);
		t0 = now_us();
		if (posix_spawnp(&p, "true", NULL, NULL, targv, environ) != 0 ||
		    waitpid(p, &st, 0) != p ||
		    posix_spawn(&p, self, NULL, NULL, pargv, environ) != 0)
			return 1;
		for (int w = 0; w < 200000 && t1 < 0; w++) {
			FILE *f = fopen(file, "r");
			if (f) {
				if (fscanf(f, "%lld", &v) == 1)
					t1 = v;
				fclose(f);
			}
			if (t1 < 0) {
				struct timespec d = {0, 50000};
				nanosleep(&d, NULL);
			}
		}
		kill(p, SIGTERM);
		waitpid(p, &st, 0);
		if (t1 < 0)
			return 1;
		printf("%lld\n", t1 - t0);
		struct timespec gap = {0, 200000000}; /* spaced like the edits */
		nanosleep(&gap, NULL);
	}
	unlink(file);
	return 0;
}

/* serve PORT FILE: a small HTTP server on 127.0.0.1:PORT that answers
 * every request "ok". Its first instruction's time (t, m) goes to FILE,
 * the time listen() returned to FILE.listen. */
static int serve(int port, const char *file, long long t, long long m)
{
	static const char resp[] = "HTTP/1.0 200 OK\r\nContent-Length: 3\r\n"
	                           "Connection: close\r\n\r\nok\n";
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((unsigned short)port),
	                         .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	char lf[4096], buf[2048];
	int one = 1, s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	append(file, t, m);
	if (s < 0 || setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) < 0 ||
	    bind(s, (struct sockaddr *)&a, sizeof a) < 0 || listen(s, 64) < 0)
		return 1;
	snprintf(lf, sizeof lf, "%s.listen", file);
	append(lf, now_us(), mono_ns());
	for (;;) {
		int c = accept(s, NULL, NULL);
		if (c < 0)
			continue;
		if (read(c, buf, sizeof buf) > 0 && write(c, resp, sizeof resp - 1) < 0)
			perror("serve: write");
		close(c);
	}
}

/* The number of times needle occurs in file (read whole), or -1. */
static long occurrences(const char *file, const char *needle)
{
	static char buf[1 << 20];
	int fd = open(file, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	ssize_t n = read(fd, buf, sizeof buf - 1);
	close(fd);
	if (n < 0)
		return -1;
	buf[n] = '\0';
	long k = 0;
	for (char *p = buf; (p = strstr(p, needle)); p++)
		k++;
	return k;
}

/* writewait FILE TEXT LOG NEEDLE N: the edit (as "write"), then poll LOG
 * every 50 µs until NEEDLE occurs N times in it, at most 10 s. Prints the
 * write's time and the time it was seen (realtime µs). */
static int writewait(char **argv)
{
	long want = atol(argv[6]);
	long long t0 = now_us();
	int fd = open(argv[2], O_WRONLY | O_TRUNC | O_CLOEXEC);
	size_t len = strlen(argv[3]);
	if (fd < 0 || write(fd, argv[3], len) != (ssize_t)len || close(fd) < 0)
		return 1;
	while (occurrences(argv[4], argv[5]) < want) {
		if (now_us() - t0 > 10000000)
			return 1;
		struct timespec d = { 0, 50000 };
		nanosleep(&d, NULL);
	}
	printf("%lld %lld\n", t0, now_us());
	return 0;
}

/* freeport: a loopback TCP port nothing listens on now. */
static int freeport(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof a;
	int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (s < 0 || bind(s, (struct sockaddr *)&a, sizeof a) < 0 ||
	    getsockname(s, (struct sockaddr *)&a, &len) < 0)
		return 1;
	printf("%d\n", ntohs(a.sin_port));
	close(s);
	return 0;
}

/* tree N PIDFILE: N processes in two levels, all waiting for a signal. */
static int tree(int n, const char *pidfile)
{
	int fds[2];
	pid_t pid;
	if (pipe(fds) < 0)
		return 1;
	int kids = 9, made = 1;
	for (int k = 0; k < kids && made < n; k++) {
		int grand = (n - 1 - kids) / kids + ((n - 1 - kids) % kids > k);
		made += 1 + grand;
		pid = fork();
		if (pid == 0) {
			for (int g = 0; g < grand; g++) {
				if (fork() == 0) {
					pid_t me = getpid();
					if (write(fds[1], &me, sizeof me) < 0)
						_exit(1);
					for (;;) pause();
				}
			}
			pid_t me = getpid();
			if (write(fds[1], &me, sizeof me) < 0)
				_exit(1);
			for (;;) pause();
		}
	}
	char tmp[4096];
	snprintf(tmp, sizeof tmp, "%s.tmp", pidfile);
	FILE *f = fopen(tmp, "w");
	if (!f)
		return 1;
	fprintf(f, "%ld\n", (long)getpid());
	for (int i = 1; i < n; i++) {
		pid_t p;
		if (read(fds[0], &p, sizeof p) != sizeof p)
			return 1;
		fprintf(f, "%ld\n", (long)p);
	}
	fclose(f);
	rename(tmp, pidfile);
	for (;;) pause();
}

int main(int argc, char **argv)
{
	long long t = now_us(), m = mono_ns();
	if (argc >= 3 && strcmp(argv[1], "stamp") == 0) {
		/* the program: record its first instruction's time, then wait */
		if (argc > 3 && strcmp(argv[3], "ignore-term") == 0)
			signal(SIGTERM, SIG_IGN);
		append(argv[2], t, m);
		for (;;) pause();
	}
	if (argc == 3 && strcmp(argv[1], "now") == 0) {
		append(argv[2], t, m);
		return 0;
	}
	if (argc == 4 && strcmp(argv[1], "write") == 0) {
		/* the edit: its time is taken just before the file is opened */
		t = now_us();
		int fd = open(argv[2], O_WRONLY | O_TRUNC | O_CLOEXEC);
		size_t len = strlen(argv[3]);
		if (fd < 0 || write(fd, argv[3], len) != (ssize_t)len || close(fd) < 0)
			return 1;
		printf("%lld\n", t);
		return 0;
	}
	if (argc >= 4 && strcmp(argv[1], "stopwait") == 0) {
		/* stopwait PID PIDS...: SIGTERM to PID, then µs until every one
		 * of PIDS is gone from /proc (a zombie is not gone), polled
		 * every 50 µs, at most 60 s */
		long target = atol(argv[2]);
		m = mono_ns();
		if (kill((pid_t)target, SIGTERM) < 0)
			return 1;
		for (;;) {
			int left = 0;
			for (int i = 3; i < argc; i++)
				left += !gone(atol(argv[i]));
			if (!left)
				break;
			if (mono_ns() - m > 60000000000LL)
				return 1;
			struct timespec d = { 0, 50000 };
			nanosleep(&d, NULL);
		}
		printf("%lld\n", (mono_ns() - m) / 1000);
		return 0;
	}
	if (argc == 6 && strcmp(argv[1], "files") == 0) {
		int r = files(argv[2], atol(argv[3]), atol(argv[4]), argv[5]);
		if (r == 0)
			printf("%lld\n", t);
		return r;
	}
	if (argc == 4 && strcmp(argv[1], "floor") == 0)
		return floor_cmd(argv[2], atoi(argv[3]));
	if (argc == 5 && strcmp(argv[1], "hashfloor") == 0)
		return hashfloor(argv[2], atol(argv[3]), atol(argv[4]));
	if (argc == 4 && strcmp(argv[1], "tree") == 0)
		return tree(atoi(argv[2]), argv[3]);
	if (argc == 4 && strcmp(argv[1], "serve") == 0)
		return serve(atoi(argv[2]), argv[3], t, m);
	if (argc == 2 && strcmp(argv[1], "freeport") == 0)
		return freeport();
	if (argc == 7 && strcmp(argv[1], "writewait") == 0)
		return writewait(argv);
	fprintf(stderr, "usage: helper stamp FILE [ignore-term] | now FILE | "
	        "write FILE TEXT | stopwait PID PIDS... | "
	        "files DIR N PERDIR TAG | hashfloor DIR N PERDIR | tree N PIDFILE | floor FILE N | "
	        "serve PORT FILE | freeport | writewait FILE TEXT LOG NEEDLE N\n");
	return 2;
}
EOF
# Static, so that its main() is as close to the first instruction as a C
# program gets (no dynamic loader); dynamic where no static libc exists.
if "$CC" -O2 -std=gnu11 -static -o "$W/helper" "$W/helper.c" 2>/dev/null; then
	HELPER_LINK=static
else
	"$CC" -O2 -std=gnu11 -o "$W/helper" "$W/helper.c" || die "cannot compile the helper with $CC"
	HELPER_LINK=dynamic
	note "no static libc: the program is dynamically linked, its first-instruction times include ld.so"
fi
H=$W/helper

# ---- running gust ----
GPID=""
# start_gust CONFIG LOG [ARGS...]: gust in the background, under our marker.
start_gust() {
	env BENCH_MARK="$MARK" "$GUST" -c "$1" "${@:3}" >"$2" 2>&1 </dev/null {SLEEPFD}>&- &
	GPID=$!
	PIDS+=("$GPID")
}
# stop_gust: SIGTERM, wait (bounded), SIGKILL if it hangs.
stop_gust() {
	[ -n "$GPID" ] || return 0
	kill -TERM "$GPID" 2>/dev/null
	if ! wait_until 30 pid_gone "$GPID"; then
		note "gust $GPID did not exit within 30 s of SIGTERM: killed"
		kill -KILL "$GPID" 2>/dev/null
	fi
	wait "$GPID" 2>/dev/null
	GPID=""
	local left; left=$(marked_pids)
	if [ -n "$left" ]; then
		note "processes left after gust exited: $(echo $left) (killed)"
		kill -KILL $left 2>/dev/null
	fi
}

# config FILE ROOT WATCHER BUILD_CMD RUNNER_ARGS_JSON [KILL_DELAY] [EXTRA_TOP]
# [EXTRA_RUNNER] (more members of the runner section, each ending in ",")
config() {
	cat >"$1" <<EOF
{
  ${7:-}
  "root": "$2",
  "tmp_dir": "$W/gust-tmp",
  "watch": { "include_ext": ["txt"], $DEBOUNCE_LINE
             "gitignore": false },
  "log": { "color": "never" },
  "watcher": { "plugin": "$3" },
  "builder": { "plugin": "shell", "cmd": "$4" },
  "runner": { ${8:-}"plugin": "plain", "bin": "$H", "args": $5,
              "kill_delay_ms": ${6:-2000} }
}
EOF
}

have_plugin() { [ -f "$GUST_PLUGIN_PATH/$1.so" ]; }
WATCHERS=()
for w in inotify kqueue poll; do have_plugin "watcher-$w" && WATCHERS+=("$w"); done
[ ${#WATCHERS[@]} -gt 0 ] || die "no watcher plugin in $GUST_PLUGIN_PATH"
DEFAULT_WATCHER=${WATCHERS[0]}

TOOLS=()
for t in entr reflex nodemon; do
	if command -v "$t" >/dev/null; then TOOLS+=("$t"); else
		note "$t: not installed, its comparisons are skipped"
	fi
done

# start_tool TOOL ROOT STAMPS: run the tool so it restarts "helper stamp"
# on changes to *.txt under ROOT.
TPID=""
start_tool() {
	local tool=$1 root=$2 stamps=$3
	case $tool in
	entr)
		(cd "$root" && find . -name '*.txt' >"$W/entr.list" &&
			exec env BENCH_MARK="$MARK" entr -nr "$H" stamp "$stamps" <"$W/entr.list") \
			>"$W/tool.log" 2>&1 {SLEEPFD}>&- &
		;;
	reflex)
		(cd "$root" && exec env BENCH_MARK="$MARK" reflex -r '\.txt$' -s -- \
			"$H" stamp "$stamps") >"$W/tool.log" 2>&1 </dev/null {SLEEPFD}>&- &
		;;
	nodemon)
		(cd "$root" && exec env BENCH_MARK="$MARK" nodemon --watch . -e txt \
			--delay 0 --exec "$H stamp $stamps") >"$W/tool.log" 2>&1 </dev/null {SLEEPFD}>&- &
		;;
	esac
	TPID=$!
	PIDS+=("$TPID")
}
stop_tool() {
	[ -n "$TPID" ] || return 0
	kill -TERM "$TPID" 2>/dev/null
	wait_until 10 pid_gone "$TPID" || kill -KILL "$TPID" 2>/dev/null
	wait "$TPID" 2>/dev/null
	TPID=""
	local left; left=$(marked_pids)
	[ -z "$left" ] || kill -KILL $left 2>/dev/null
	wait_until 5 all_gone $left
}

stop_who() { if [ "${1%-bare}" = gust ]; then stop_gust; else stop_tool; fi; }

# CPU time of PID (all its threads) in ns, in $CPU_NS, from the scheduler's
# own accounting (/proc/PID/task/*/schedstat: ns on a CPU), which unlike
# utime+stime is not rounded to clock ticks. No fork.
proc_cpu() {
	local t a sum=0
	for t in /proc/"$1"/task/*/schedstat; do
		{ read -r a _ <"$t"; } 2>/dev/null && sum=$((sum + a))
	done
	CPU_NS=$sum
}
# proc_wakes PID: how often its threads were switched in (voluntary and
# involuntary context switches): each wake-up from its poll is one.
proc_wakes() {
	cat /proc/"$1"/task/*/status 2>/dev/null |
		awk '/^(non)?voluntary_ctxt_switches:/ { n += $2 } END { print n + 0 }'
}
proc_rss_kb() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status" 2>/dev/null; }
proc_hwm_kb() { awk '/^VmHWM:/ { print $2 }' "/proc/$1/status" 2>/dev/null; }
us_to_ms() { awk -v v="$1" 'BEGIN { printf "%.3f", v / 1000 }'; }

GUST_VERSION=$("$GUST" --version 2>/dev/null | head -n 1)
echo "bench: $GUST_VERSION; watchers: ${WATCHERS[*]}; runs: $RUNS; in $W" >&2
T_START=$(now_us)

# ======================================================================
# 1. overhead: write -> new program's first instruction (minus a set debounce)
# ======================================================================
want overhead && echo "bench: 1/6 overhead" >&2
overhead_case() { # TOOL|gust WATCHER
	local who=$1 w=${2:-} root=$W/ov-root stamps=$W/ov-stamps vals=() i n t0 t1
	rm -rf "$root" "$stamps"; mkdir -p "$root"
	echo 0 >"$root/a.txt"
	if [ "$who" = gust ]; then
		config "$W/ov.json" "$root" "$w" true "[\"stamp\", \"$stamps\"]"
		start_gust "$W/ov.json" "$W/ov.log"
	else
		start_tool "$who" "$root" "$stamps"
	fi
	if ! wait_until 30 has_lines "$stamps" 1; then
		note "overhead/$who $w: the program never started"
		stop_who "$who"
		return
	fi
	nap "$WARMUP"
	for ((i = 1; i <= RUNS * 4; i++)); do
		n=$(lines "$stamps")
		t0=$("$H" write "$root/a.txt" "$i") || die "cannot write $root/a.txt"
		if ! wait_until 10 has_lines "$stamps" $((n + 1)); then
			note "overhead/$who: no restart after write $i"
			break
		fi
		t1=$(last_line "$stamps")
		if [ "$who" = gust ]; then
			vals+=("$(us_to_ms $((t1 - t0 - DEBOUNCE_OFF * 1000)))")
		else
			vals+=("$(us_to_ms $((t1 - t0)))")
		fi
		nap 0.2
	done
	stop_who "$who"
	record overhead "write->first instr, build true${w:+ ($w)}" "$who" ms \
		"<1 ms median" "${vals[@]}"
	cmp_set "overhead" "$who"
}
if want overhead; then
	for w in "${WATCHERS[@]}"; do
		[ "$w" = poll ] && continue # a poll interval is not overhead
		overhead_case gust "$w"
	done
	for t in "${TOOLS[@]}"; do overhead_case "$t"; done
	# The floor under this measure: two program starts, nothing watching
	mapfile -t fl < <("$H" floor "$W/floor-stamp" $((RUNS * 4)))
	[ ${#fl[@]} -eq $((RUNS * 4)) ] ||
		note "overhead floor: ${#fl[@]} of $((RUNS * 4)) runs measured (helper floor failed)"
	vals=()
	for x in "${fl[@]}"; do vals+=("$(us_to_ms "$x")"); done
	record overhead "floor: start true, then the program" none ms "" "${vals[@]}"
fi

# ----------------------------------------------------------------------
# 1b. spawn: fork -> exec -> the program's first instruction (issue 3).
# gust runs under `perf record -k mono` with the scheduler's fork and exec
# tracepoints: the kernel stamps gust's fork() of the run and the child's
# execve() with CLOCK_MONOTONIC, the clock the program itself reads at the
# top of main() (static, so no dynamic loader before it). Skipped without
# perf or without permission to trace. A build is any child of gust that
# executes something other than the helper (/bin/sh, or `true` itself when
# the step needs no shell).
# ----------------------------------------------------------------------
spawn_case() {
	local root=$W/sp-root stamps=$W/sp-stamps data=$W/perf.data ppid i n
	command -v perf >/dev/null || { note "spawn: perf not installed, fork->exec not measured"; return; }
	rm -rf "$root" "$stamps"; mkdir -p "$root"
	echo 0 >"$root/a.txt"
	config "$W/sp.json" "$root" "$DEFAULT_WATCHER" true "[\"stamp\", \"$stamps\"]"
	env BENCH_MARK="$MARK" perf record -q -k mono -e sched:sched_process_fork \
		-e sched:sched_process_exec -e sched:sched_process_exit \
		-e signal:signal_generate -o "$data" -- "$GUST" -c "$W/sp.json" \
		>"$W/sp.log" 2>&1 </dev/null {SLEEPFD}>&- &
	ppid=$!
	PIDS+=("$ppid")
	if ! wait_until 30 has_lines "$stamps" 1; then
		note "spawn: gust under perf never started the program ($(head -c 200 "$W/sp.log" | tr '\n' ' '))"
		kill -TERM "$ppid" 2>/dev/null; wait "$ppid" 2>/dev/null
		return
	fi
	GPID=$(pgrep -P "$ppid" | head -n 1)
	local gust_pid=$GPID
	nap "$WARMUP"
	for ((i = 1; i <= RUNS * 4; i++)); do
		n=$(lines "$stamps")
		"$H" write "$root/a.txt" "$i" >/dev/null
		wait_until 10 has_lines "$stamps" $((n + 1)) || break
		nap 0.1
	done
	# not stop_gust: perf (which carries the marker) must live to write
	kill -TERM "$GPID" 2>/dev/null
	wait_until 30 pid_gone "$ppid" || { note "spawn: perf/gust hung: killed"; kill -KILL "$GPID" "$ppid" 2>/dev/null; }
	wait "$ppid" 2>/dev/null
	GPID=""
	local out; out=$(perf script -i "$data" -F pid,time,event,trace --ns 2>/dev/null |
		awk -v h="$H" -v g="$gust_pid" '
		function ns(t,  a) { sub(/:$/, "", t); split(t, a, "."); return a[1] * 1000000000 + a[2] }
		FNR == NR { stamp[$3] = $2; next }
		/sched_process_fork/ && $1 == g {
			for (i = 4; i <= NF; i++) if ($i ~ /^child_pid=/) { c = substr($i, 11); fork[c] = ns($2) }
		}
		/sched_process_exec/ && ($1 in fork) && !index($0, "filename=" h " ") { build[$1] = 1 }
		/sched_process_exit/ && ($1 in build) { bend = ns($2); sig = dead = 0 }
		/signal_generate/ && $1 == g && / sig=15 / && / comm=helper / && bend && !sig {
			sig = ns($2); for (i = 4; i <= NF; i++) if ($i ~ /^pid=/) victim = substr($i, 5)
		}
		/sched_process_exit/ && sig && $1 == victim && !dead { dead = ns($2) }
		/sched_process_exec/ && index($0, "filename=" h " ") {
			ex[$1] = ns($2)
			if (dead && ($1 in fork))
				seg[$1] = sprintf("%.3f %.3f %.3f", (sig - bend) / 1e6, (dead - sig) / 1e6, (fork[$1] - dead) / 1e6)
			bend = sig = dead = 0
		}
		END { for (p in ex) if ((p in fork) && (p in stamp))
			printf "%.3f %.3f %s\n", (ex[p] - fork[p]) / 1e6, (stamp[p] - fork[p]) / 1e6, (p in seg) ? seg[p] : "- - -" }' \
		"$stamps" -)
	rm -f "$data"
	[ -n "$out" ] || { note "spawn: no fork/exec pair in perf's trace"; return; }
	record spawn "fork->exec (perf tracepoints)" gust ms "" $(awk '{ print $1 }' <<<"$out")
	record spawn "fork->program's first instruction" gust ms "" $(awk '{ print $2 }' <<<"$out")
	# where a restart's time goes (build "true" -> new program), per restart
	record restart "build exit->SIGTERM to old run" gust ms "" $(awk '$3 != "-" { print $3 }' <<<"$out")
	record restart "SIGTERM->old program exited" gust ms "" $(awk '$4 != "-" { print $4 }' <<<"$out")
	record restart "old program exited->fork of new" gust ms "" $(awk '$5 != "-" { print $5 }' <<<"$out")
}
if want spawn; then
	echo "bench: 1b/6 spawn (fork -> exec)" >&2
	spawn_case
fi

# ----------------------------------------------------------------------
# 1c. ready: write -> gust reports the new run ready (issue 16), for a
# small HTTP server (helper serve: socket, bind, listen, answer "ok"), with
# the readiness check the runner section asks for: the default ("listen":
# a listening socket of the run's tree, from /proc) and "http" (a GET
# through libcurl on gust's loop). Beside it, the same write -> the
# server's first instruction (the overhead figure) and -> the moment its
# listen() returned (minus BENCH_DEBOUNCE_MS when set). The time gust reports
# ready is when the helper (writewait, polling every 50 µs) sees the "ready
# in" line appear in gust's log. The wakeups are what gust -v prints per
# run ("after N wakeups": the loop's callbacks spent on it).
# ----------------------------------------------------------------------
# ready_lines LOG: the "ready in" and "after N wakeups" lines, in
# $READY_N / $WAKE_N; the last one's "ready in" (gust's own figure: the
# run's start -> ready) and wakeup count in $READY_MS / $WAKE_LAST. No fork.
ready_lines() {
	local a=() l
	[ -f "$1" ] && mapfile -t a <"$1"
	READY_N=0 WAKE_N=0
	for l in "${a[@]}"; do
		case $l in
		*", ready in "*" ms")
			READY_N=$((READY_N + 1)) l=${l%" ms"} READY_MS=${l##* } ;;
		*"ready: "*", after "*" wakeups")
			WAKE_N=$((WAKE_N + 1)) l=${l%" wakeups"} WAKE_LAST=${l##* } ;;
		esac
	done
}
ready_seen() { ready_lines "$1"; [ "$READY_N" -ge "$2" ] && [ "$WAKE_N" -ge "$2" ]; }
ready_case() { # CHECK (listen|http)
	local check=$1 root=$W/rd-root stamps=$W/rd-stamps log=$W/rd.log port extra=""
	local i n t0 first=() listen=() ready=() own=() wakes=()
	rm -rf "$root" "$stamps" "$stamps.listen"; mkdir -p "$root"
	echo 0 >"$root/a.txt"
	port=$("$H" freeport) || die "no free port"
	[ "$check" = http ] && extra="\"ready\": { \"http\": \"http://127.0.0.1:$port/\" }, "
	config "$W/rd.json" "$root" "$DEFAULT_WATCHER" true "[\"serve\", \"$port\", \"$stamps\"]" \
		2000 "" "$extra"
	start_gust "$W/rd.json" "$log" -v
	if ! wait_until 30 ready_seen "$log" 1; then
		note "ready/$check: the server never got ready ($(tail -n 3 "$log" | tr '\n' ' '))"
		stop_gust
		return
	fi
	nap "$WARMUP"
	local edits=${BENCH_READY_EDITS:-$([ "$QUICK" = 1 ] && echo $((RUNS * 4)) || echo 100)}
	for ((i = 1; i <= edits; i++)); do
		ready_lines "$log"; n=$READY_N
		read -r t0 t1 < <("$H" writewait "$root/a.txt" "$i" "$log" ", ready in " $((n + 1)))
		if [ -z "${t1:-}" ] || ! wait_until 5 ready_seen "$log" $((n + 1)); then
			note "ready/$check: not ready after write $i"
			break
		fi
		ready+=("$(us_to_ms $((t1 - t0 - DEBOUNCE_OFF * 1000)))")
		first+=("$(us_to_ms $(($(last_line "$stamps") - t0 - DEBOUNCE_OFF * 1000)))")
		listen+=("$(us_to_ms $(($(last_line "$stamps.listen") - t0 - DEBOUNCE_OFF * 1000)))")
		own+=("$READY_MS")
		wakes+=("$WAKE_LAST")
		nap 0.2
	done
	stop_gust
	record ready "server, $check: write->first instr" gust ms "" "${first[@]}"
	record ready "server, $check: write->listen()" gust ms "" "${listen[@]}"
	record ready "server, $check: write->ready" gust ms "" "${ready[@]}"
	record ready "server, $check: write->ready p99 (${#ready[@]})" gust ms "" "$(p99 "${ready[@]}")"
	record ready "server, $check: start->ready (gust)" gust ms "" "${own[@]}"
	record ready "server, $check: wakeups to ready" gust count "" "${wakes[@]}"
}
if want ready; then
	echo "bench: 1c/6 ready (write -> the new server is ready)" >&2
	ready_case listen
	ready_case http
fi

# ======================================================================
# 2. storm: N files written in one burst -> builds, time until settled
# ======================================================================
want storm && echo "bench: 2/6 event storm" >&2
settled() { # BUILDS STAMPS EXTRA: no new build for 1 s, a run per build
	local b s
	count_lines "$1"; b=$NLINES
	count_lines "$2"; s=$NLINES
	now
	if [ "$b" != "${_last_b:-}" ]; then _last_b=$b; _last_change=$NOW; return 1; fi
	nap 0.01
	[ $((NOW - _last_change)) -ge 1000000 ] && [ "$s" -ge $((b + ${3:-0})) ]
}
# WHO: gust (its defaults), gust-bare (gust doing only what entr does: no
# content hash per file, no readiness check), or a peer.
storm_case() { # N WHO
	local n=$1 who=$2 root=$W/st-root builds=$W/st-builds stamps=$W/st-stamps
	local r t0 b0 s0 c0 pid counts=() times=() cpus=() floors=() extra=0
	rm -rf "$root" "$builds" "$stamps"; mkdir -p "$root"
	"$H" files "$root" "$n" 10 init >/dev/null || die "cannot write files"
	if [ "${who%-bare}" = gust ]; then
		config "$W/st.json" "$root" "$DEFAULT_WATCHER" "$H now $builds" "[\"stamp\", \"$stamps\"]"
		if [ "$who" = gust ]; then
			start_gust "$W/st.json" "$W/st.log"
		else
			start_gust "$W/st.json" "$W/st.log" --set watch.exclude_unchanged=false \
				--set runner.ready=false
		fi
		pid=$GPID
		extra=0 # the start-up build and its run are both counted
	else
		start_tool "$who" "$root" "$stamps"
		pid=$TPID
		: >"$builds"
	fi
	if ! wait_until 60 has_lines "$stamps" 1; then
		note "storm/$who: the program never started"
		stop_who "$who"
		return
	fi
	sleep 0.5
	local runs=$RUNS
	[ "$n" -ge 10000 ] && runs=3
	for ((r = 1; r <= runs; r++)); do
		b0=$(lines "$builds"); s0=$(lines "$stamps")
		proc_cpu "$pid"; c0=$CPU_NS
		t0=$("$H" files "$root" "$n" 10 "storm$r")
		_last_b=""
		if [ "${who%-bare}" = gust ]; then
			wait_until 120 settled "$builds" "$stamps" "$extra" || note "storm/$who $n: did not settle in 120 s"
			counts+=($(($(lines "$builds") - b0)))
		else
			# no build step: count restarts
			wait_until 120 settled "$stamps" "$stamps" 0 || note "storm/$who $n: did not settle in 120 s"
			counts+=($(($(lines "$stamps") - s0)))
		fi
		times+=("$(us_to_ms $(($(last_line "$stamps") - t0)))")
		# the watcher's own CPU for the burst (not its builds' or runs')
		proc_cpu "$pid"; cpus+=("$(us_to_ms $(((CPU_NS - c0) / 1000)))")
		# what reading the burst's files once costs, the same files
		# in the same state (written, then read by gust), measured
		# after gust's figure so as not to be in it
		if [ "$who" = gust ]; then
			local us
			if us=$("$H" hashfloor "$root" "$n" 10) && [ -n "$us" ]; then
				floors+=("$(us_to_ms "$us")")
			else
				note "storm $n: the helper could not read the files for the floor"
			fi
		fi
	done
	stop_who "$who"
	if [ "$who" = gust ]; then
		record storm "$n files: reading them once (floor)" none ms "" "${floors[@]}"
	fi
	record storm "$n files: builds" "$who" count "exactly 1" "${counts[@]}"
	cmp_set "storm $n: builds" "$who"
	record storm "$n files: burst->settled" "$who" ms "" "${times[@]}"
	cmp_set "storm $n: settled" "$who"
	record storm "$n files: CPU of the watcher" "$who" ms "" "${cpus[@]}"
	cmp_set "storm $n: CPU" "$who"
}
want storm && for n in 1000 10000; do
	storm_case "$n" gust
	storm_case "$n" gust-bare
	for t in "${TOOLS[@]}"; do storm_case "$n" "$t"; done
done

# ======================================================================
# 3. idle: CPU and RSS watching 10,000 files in 1,000 directories
# ======================================================================
want idle && echo "bench: 3/6 idle (${IDLE_SECS} s per case)" >&2
IDLE_ROOT=$W/idle-root
# WHO [WATCHER [off]]: with "off", gust's runner has "ready": false, as
# for a program that never listens (the bench's does not: at the defaults
# the "listen" check runs for its 30 s timeout, and is counted).
idle_case() {
	local who=$1 w=${2:-} ready=${3:-} stamps=$W/idle-stamps pid c0 c1 k0 k1 rss rss2 s0
	rm -f "$stamps"
	if [ "$who" = gust ]; then
		config "$W/idle.json" "$IDLE_ROOT" "$w" true "[\"stamp\", \"$stamps\"]" "" "" \
			"${ready:+\"ready\": false, }"
		w=$w${ready:+, ready false}
		start_gust "$W/idle.json" "$W/idle.log"
		pid=$GPID
	else
		start_tool "$who" "$IDLE_ROOT" "$stamps"
		pid=$TPID
	fi
	if ! wait_until 60 has_lines "$stamps" 1; then
		note "idle/$who: the program never started"
		stop_who "$who"
		return
	fi
	# let start-up work finish: for gust, the membership refresh after a
	# start (2 s, then 4 s later) that records a program's escaped children
	sleep 7
	proc_cpu "$pid"; c0=$CPU_NS
	k0=$(proc_wakes "$pid")
	sleep "$IDLE_SECS"
	proc_cpu "$pid"; c1=$CPU_NS
	k1=$(proc_wakes "$pid")
	rss=$(proc_rss_kb "$pid")
	# then every file changed once, as a branch switch does: what the
	# watcher keeps of it once it has acted (a restart) and settled
	s0=$(lines "$stamps")
	"$H" files "$IDLE_ROOT" 10000 10 "all-$who-$w" >/dev/null
	wait_until 60 has_lines "$stamps" $((s0 + 1)) ||
		note "idle/$who${w:+/$w}: no restart within 60 s of changing all 10,000 files"
	sleep 3
	rss2=$(proc_rss_kb "$pid")
	stop_who "$who"
	record idle "10k files, ${IDLE_SECS}s${w:+, $w}: CPU" "$who" ms "0 on inotify" \
		"$(us_to_ms $(((c1 - c0) / 1000)))"
	[ "$w" = poll ] || [ -n "$ready" ] || cmp_set "idle CPU, ${IDLE_SECS} s" "$who"
	record idle "10k files, ${IDLE_SECS}s${w:+, $w}: wake-ups" "$who" count "0 on inotify" \
		$((k1 - k0))
	record idle "10k files${w:+, $w}: RSS" "$who" KiB "" "${rss:-0}"
	[ "$w" = poll ] || [ -n "$ready" ] || cmp_set "idle RSS" "$who"
	record idle "10k files${w:+, $w}: RSS, all changed once" "$who" KiB "" "${rss2:-0}"
	[ "$w" = poll ] || [ -n "$ready" ] || cmp_set "idle RSS, all changed" "$who"
}
# The floor under the RSS: a program that does nothing, built by $CC as
# gust is (PIE, libc linked dynamically): ld.so and libc's start-up pages.
idle_floor() {
	local pid rss
	printf 'int pause(void);\nint main(void) { pause(); return 0; }\n' >"$W/floor.c"
	if ! "$CC" -O2 -o "$W/floor" "$W/floor.c"; then
		note "idle floor: cannot compile it with $CC"
		return
	fi
	"$W/floor" {SLEEPFD}>&- &
	pid=$!
	PIDS+=("$pid")
	sleep 1
	rss=$(proc_rss_kb "$pid")
	kill -KILL "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	record idle "floor: int main(){pause();}: RSS" none KiB "" "${rss:-0}"
}
if want idle; then
	mkdir -p "$IDLE_ROOT"
	"$H" files "$IDLE_ROOT" 10000 10 idle >/dev/null || die "cannot write files"
	idle_floor
	for w in "${WATCHERS[@]}"; do idle_case gust "$w"; done
	idle_case gust "$DEFAULT_WATCHER" off
	for t in "${TOOLS[@]}"; do idle_case "$t"; done
	rm -rf "$IDLE_ROOT"
fi

# ======================================================================
# 4. scale: start-up until changes are detected, and RSS
# ======================================================================
want scale && echo "bench: 4/6 scale" >&2
# Write the probe every PROBE_MS (more than the debounce window, so each
# write can trigger a build) until the program starts; remember each write.
PROBE_MS=25
probe_detected() { # ROOT STAMPS
	now
	if [ $((NOW - _probe_last)) -ge $((PROBE_MS * 1000)) ]; then
		_probe_last=$NOW
		_probe_times+=("$NOW")
		printf '%s\n' "${#_probe_times[@]}" >"$1/probe.txt"
	fi
	has_lines "$2" 1
}
scale_case() { # N WATCHER
	local n=$1 w=$2 root=$W/sc-root stamps=$W/sc-stamps r t0 t1 ups=() rss=() hwm=()
	local runs=$RUNS
	[ "$n" -ge 100000 ] && runs=3
	for ((r = 1; r <= runs; r++)); do
		rm -f "$stamps"
		config "$W/sc.json" "$root" "$w" true "[\"stamp\", \"$stamps\"]" 2000 \
			'"lifecycle": { "postpone_first": true },'
		_probe_last=0 _probe_times=()
		t0=$(now_us)
		start_gust "$W/sc.json" "$W/sc.log"
		# Start-up is over once a change is seen: keep writing the probe
		# until the program starts (debounce and build "true" included).
		if ! wait_until 60 probe_detected "$root" "$stamps"; then
			note "scale/$n/$w: no change detected within 60 s"
			stop_gust
			return
		fi
		# The write that was seen: the last one before run - debounce
		# (the default window is at least 10 ms).
		t1=$(head -n 1 "$stamps"); t1=${t1%% *}
		local tw=${_probe_times[0]} x
		for x in "${_probe_times[@]}"; do
			[ "$x" -le $((t1 - ${DEBOUNCE_MS:-10} * 1000)) ] && tw=$x
		done
		ups+=("$(us_to_ms $((tw - t0)))")
		rss+=("$(proc_rss_kb "$GPID")")
		hwm+=("$(proc_hwm_kb "$GPID")")
		stop_gust
		rm -f "$root/probe.txt"
	done
	record scale "$n files, $w: start-up->detects" gust ms "<500 ms at 100k" "${ups[@]}"
	record scale "$n files, $w: RSS" gust KiB "<4096 KiB at 100k" "${rss[@]}"
	record scale "$n files, $w: peak RSS" gust KiB "" "${hwm[@]}"
	# poll: the CPU of each scan. With interval_ms=SCAN_INTERVAL an idle
	# gust does nothing but scan, one burst of CPU per interval: sample its
	# CPU time every 2 ms and cut it into bursts at gaps of 100 ms.
	if [ "$w" = poll ]; then
		rm -f "$stamps"
		config "$W/sc.json" "$root" poll true "[\"stamp\", \"$stamps\"]"
		sed -i "s/\"plugin\": \"poll\"/\"plugin\": \"poll\", \"interval_ms\": $SCAN_INTERVAL/" "$W/sc.json"
		start_gust "$W/sc.json" "$W/sc.log"
		if wait_until 60 has_lines "$stamps" 1; then
			sleep 1
			local scans=() last cur b0=-1 quiet end
			proc_cpu "$GPID"; last=$CPU_NS
			now; end=$((NOW + SCAN_SECS * 1000000)); quiet=$NOW
			while [ "$NOW" -lt "$end" ]; do
				nap 0.002
				proc_cpu "$GPID"; cur=$CPU_NS; now
				if [ "$cur" -gt "$last" ]; then
					[ "$b0" -lt 0 ] && b0=$last
					quiet=$NOW
				elif [ "$b0" -ge 0 ] && [ $((NOW - quiet)) -ge 100000 ]; then
					scans+=("$(us_to_ms $(((cur - b0) / 1000)))")
					b0=-1
				fi
				last=$cur
			done
			# the first burst may have begun before sampling did
			[ ${#scans[@]} -gt 1 ] && scans=("${scans[@]:1}")
			# gust's own /proc refresh (every 2 s, about 1 ms) is a burst
			# too: keep the bursts of at least a quarter of the largest
			local big; big=$(printf '%s\n' "${scans[@]}" | sort -g | tail -n 1)
			local kept=() x
			for x in "${scans[@]}"; do
				awk -v x="$x" -v b="$big" 'BEGIN { exit !(x * 4 >= b) }' && kept+=("$x")
			done
			[ ${#kept[@]} -lt ${#scans[@]} ] &&
				note "scale/$n/poll: $((${#scans[@]} - ${#kept[@]})) CPU burst(s) under a quarter of the largest left out (gust's /proc refresh, not scans)"
			scans=("${kept[@]}")
			record scale "$n files, poll: CPU of one scan" gust ms "<50 ms at 100k" "${scans[@]}"
		fi
		stop_gust
	fi
}
SCAN_INTERVAL=1000 SCAN_SECS=8
SCALES=(10000 100000)
[ "$QUICK" = 1 ] && SCALES=(10000)
want scale || SCALES=()
for n in "${SCALES[@]}"; do
	rm -rf "$W/sc-root"; mkdir -p "$W/sc-root"
	"$H" files "$W/sc-root" "$n" 10 scale >/dev/null || die "cannot write files"
	for w in "${WATCHERS[@]}"; do scale_case "$n" "$w"; done
done
rm -rf "$W/sc-root"

# ======================================================================
# 5. teardown: stop request (SIGTERM to gust) -> the whole tree gone
# ======================================================================
want teardown && echo "bench: 5/6 teardown" >&2
TD_DELAY=500
teardown_case() { # NAME ARGS_JSON PIDFILE|-
	local name=$1 args=$2 pidfile=$3 root=$W/td-root stamps=$W/td-stamps r t0 pids vals=()
	for ((r = 1; r <= RUNS; r++)); do
		rm -rf "$root" "$stamps" "$W/td-pids"; mkdir -p "$root"
		config "$W/td.json" "$root" "$DEFAULT_WATCHER" true "$args" "$TD_DELAY"
		start_gust "$W/td.json" "$W/td.log"
		if [ "$pidfile" = - ]; then
			wait_until 30 has_lines "$stamps" 1 || { note "teardown/$name: no start"; stop_gust; return; }
			pids=$(pgrep -P "$GPID")
		else
			wait_until 30 test -f "$pidfile" || { note "teardown/$name: no start"; stop_gust; return; }
			pids=$(cat "$pidfile")
		fi
		sleep 0.2
		# SIGTERM to gust (the stop request), then until every pid of the
		# tree is gone from /proc, timed by the helper (polls every 50 µs)
		t0=$("$H" stopwait "$GPID" $pids) || note "teardown/$name: tree not gone in 60 s"
		[ -n "$t0" ] && vals+=("$(us_to_ms "$t0")")
		stop_gust
	done
	record teardown "$name" gust ms "" "${vals[@]}"
}
if want teardown; then
	teardown_case "cooperative program" "[\"stamp\", \"$W/td-stamps\"]" -
	teardown_case "ignores SIGTERM (kill_delay ${TD_DELAY} ms)" \
		"[\"stamp\", \"$W/td-stamps\", \"ignore-term\"]" -
	teardown_case "tree of 50 processes" "[\"tree\", \"50\", \"$W/td-pids\"]" "$W/td-pids"
fi

# ======================================================================
# 6. proxy: the livereload hook's proxy against direct access to the app
# ======================================================================
# The app is a small Go net/http server (built once by gust's shell
# builder, run by gust, on loopback), with the livereload hook in front.
# wrk (one thread, the same connections and duration for both) loads the
# app directly and through the proxy, alternately, for a small HTML page
# ("html": the proxy injects its script) and a small JSON answer ("json":
# passed through): wrk's median and p99 latency and requests/s,
# and the latency the proxy adds at p50, per run. Then the edit: a Python
# client holds the event stream (/__gust/events) open, writes the Go
# source with a new text, waits for the "reload" event and fetches the
# page through the proxy until it shows the new text: write -> reload
# event -> new page, over PROXY_EDITS edits (each one a go build).
# ----------------------------------------------------------------------
PROXY_SECS=${BENCH_PROXY_SECS:-5}
[ "$QUICK" = 1 ] && PROXY_SECS=${BENCH_PROXY_SECS:-3}
PROXY_CONNS=${BENCH_PROXY_CONNS:-1 8}
PROXY_EDITS=${BENCH_PROXY_EDITS:-$((RUNS * 4))}

# The event-stream client (standard library only).
cat >"$W/lrclient.py" <<'EOF'
import http.client, os, sys, time

def get(port, path):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        c.request("GET", path)
        r = c.getresponse()
        return r.status, r.read().decode("utf-8", "replace")
    finally:
        c.close()

def wait_page(port, text, secs):
    """Until GET / through port shows text, at most secs."""
    end = time.time() + secs
    while time.time() < end:
        try:
            if text in get(port, "/")[1]:
                return True
        except OSError:
            pass
        time.sleep(0.05)
    return False

def next_event(stream):
    name = None
    for raw in stream:
        line = raw.decode().rstrip("\r\n")
        if line.startswith("event: "):
            name = line[7:]
        elif line == "" and name:
            return name
    raise EOFError("the event stream ended")

def edits(port, src, n, gap):
    """n edits of src; each prints "write reload page" (realtime µs)."""
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    c.request("GET", "/__gust/events")
    stream = c.getresponse()
    if next_event(stream) != "hello":
        raise SystemExit("no hello on the event stream")
    for i in range(1, n + 1):
        text = "edit %d of %d" % (i, n)
        t0 = time.time()
        with open(src, "w") as f:
            f.write('package main\n\nconst message = "%s"\n' % text)
        while True:
            ev = next_event(stream)
            if ev == "reload":
                break
            if ev == "build-failed":
                raise SystemExit("the build failed at edit %d" % i)
        t1 = time.time()
        while text not in get(port, "/")[1]:
            if time.time() - t1 > 10:
                raise SystemExit("edit %d: reloaded, but no new page in 10 s" % i)
        t2 = time.time()
        print("%d %d %d" % (t0 * 1e6, t1 * 1e6, t2 * 1e6), flush=True)
        time.sleep(gap)

if sys.argv[1] == "wait":
    sys.exit(0 if wait_page(int(sys.argv[2]), sys.argv[3], float(sys.argv[4])) else 1)
elif sys.argv[1] == "get":
    status, body = get(int(sys.argv[2]), sys.argv[3])
    print(status)
    sys.stdout.write(body)
elif sys.argv[1] == "edits":
    edits(int(sys.argv[2]), sys.argv[3], int(sys.argv[4]), float(sys.argv[5]))
EOF

# px_app ROOT: the app's source (the page's text is in msg.go).
px_app() {
	mkdir -p "$1"
	cat >"$1/go.mod" <<'EOF'
module example.com/benchapp

go 1.19
EOF
	cat >"$1/msg.go" <<'EOF'
package main

const message = "hello"
EOF
	cat >"$1/main.go" <<'EOF'
package main

import (
	"fmt"
	"net/http"
	"os"
)

const page = `<!doctype html><html><head><title>bench</title></head>
<body><h1 id="msg">%s</h1><p>A small page of the bench's app.</p></body></html>
`

func main() {
	http.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprintf(w, page, message)
	})
	http.HandleFunc("/data", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, "{\"message\":%q}\n", message)
	})
	if err := http.ListenAndServe("127.0.0.1:"+os.Getenv("PORT"), nil); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
EOF
}

# px_wrk URL CONNS: one wrk run; "p50_ms p99_ms req/s" in $WRK, or returns 1
# (with the reason in $WRK).
px_wrk() {
	local out
	out=$(wrk -t1 -c"$2" -d"${PROXY_SECS}s" --latency "$1" 2>&1) || { WRK="wrk failed: $out"; return 1; }
	WRK=$(awk '
		function ms(v) { if (v ~ /us$/) return v / 1000; if (v ~ /ms$/) return v + 0
		                 if (v ~ /s$/) return v * 1000; return v }
		$1 == "50%" { p50 = ms($2) } $1 == "99%" { p99 = ms($2) }
		$1 == "Requests/sec:" { rps = $2 }
		/Non-2xx|Socket errors/ { bad = bad $0 }
		END { if (bad != "" || p50 == "" || rps == "") { print "wrk: " bad; exit 1 }
		      printf "%.3f %.3f %.0f\n", p50, p99, rps }' <<<"$out") || return 1
}

proxy_load() { # NAME PATH CONNS
	local name=$1 path=$2 conns=$3 r who url p50 p99 rps
	local -A P50 P99 RPS
	local added=()
	for ((r = 1; r <= RUNS; r++)); do
		# alternate which goes first, so neither always has the warmer caches
		local order="direct proxy"
		[ $((r % 2)) = 0 ] && order="proxy direct"
		for who in $order; do
			url=http://127.0.0.1:$PX_APORT$path
			[ "$who" = proxy ] && url=http://127.0.0.1:$PX_PPORT$path
			if ! px_wrk "$url" "$conns"; then
				note "proxy/$name, $conns conn, $who: $WRK"
				return
			fi
			read -r p50 p99 rps <<<"$WRK"
			P50[$who]+="$p50 " P99[$who]+="$p99 " RPS[$who]+="$rps "
			[ "$who" = proxy ] && PX_LAST_P50=$p50
			[ "$who" = direct ] && PX_LAST_DIRECT=$p50
		done
		added+=("$(awk -v p="$PX_LAST_P50" -v d="$PX_LAST_DIRECT" 'BEGIN { printf "%.1f", (p - d) * 100 / d }')")
	done
	for who in direct proxy; do
		local tool=gust
		[ "$who" = direct ] && tool=none
		record proxy "$name, ${conns} conn: $who p50" "$tool" ms "" ${P50[$who]}
		record proxy "$name, ${conns} conn: $who p99" "$tool" ms "" ${P99[$who]}
		record proxy "$name, ${conns} conn: $who req/s" "$tool" req/s "" ${RPS[$who]}
	done
	record proxy "$name, ${conns} conn: added at p50" gust % "<10 %" "${added[@]}"
}

proxy_case() {
	local root=$W/px-root log=$W/px.log c out
	command -v wrk >/dev/null || { note "proxy: wrk not installed, the proxy is not measured"; return; }
	command -v go >/dev/null || { note "proxy: go not installed, no app to put the proxy in front of"; return; }
	have_plugin hook-livereload || { note "proxy: no hook-livereload plugin (built without libmicrohttpd?)"; return; }
	command -v air >/dev/null || note "air: not installed (it is neither a Debian nor an npm package), its proxy is not compared"
	rm -rf "$root"; px_app "$root"
	PX_APORT=$("$H" freeport) && PX_PPORT=$("$H" freeport) || die "no free port"
	[ "$PX_PPORT" = "$PX_APORT" ] && PX_PPORT=$("$H" freeport)
	cat >"$W/px.json" <<EOF
{
  "root": "$root",
  "tmp_dir": "$W/gust-tmp",
  "watch": { "include_ext": ["go"], $DEBOUNCE_LINE "gitignore": false },
  "log": { "color": "never" },
  "watcher": { "plugin": "$DEFAULT_WATCHER" },
  "builder": { "plugin": "shell", "cmd": "go build -o app ." },
  "runner": { "plugin": "plain", "bin": "$root/app", "env": { "PORT": "$PX_APORT" } },
  "hooks": [ { "plugin": "livereload", "proxy_port": $PX_PPORT, "app_port": $PX_APORT } ]
}
EOF
	# everything go writes stays under $W (BENCH_GOCACHE: a cache to reuse)
	export GOCACHE=${BENCH_GOCACHE:-$W/go/cache} GOPATH=$W/go/path GOENV=off \
		GOFLAGS=-mod=mod GOTOOLCHAIN=local GOPROXY=off GOTELEMETRY=off
	start_gust "$W/px.json" "$log"
	if ! python3 "$W/lrclient.py" wait "$PX_PPORT" hello 120; then
		note "proxy: the app never answered through the proxy ($(tail -n 3 "$log" | tr '\n' ' '))"
		stop_gust
		return
	fi
	# the two paths are what they are meant to be
	out=$(python3 "$W/lrclient.py" get "$PX_PPORT" /)
	[[ $out == *data-gust-livereload* ]] || note "proxy: the page through the proxy has no script"
	out=$(python3 "$W/lrclient.py" get "$PX_PPORT" /data)
	[[ $out == *data-gust-livereload* ]] && note "proxy: the JSON answer got the script"
	for c in $PROXY_CONNS; do
		proxy_load html / "$c"
		proxy_load json /data "$c"
	done
	local w=() rl=() pg=() t0 t1 t2
	while read -r t0 t1 t2; do
		w+=("$(us_to_ms $((t2 - t0)))") rl+=("$(us_to_ms $((t1 - t0)))") pg+=("$(us_to_ms $((t2 - t1)))")
	done < <(python3 "$W/lrclient.py" edits "$PX_PPORT" "$root/msg.go" "$PROXY_EDITS" 0.2 2>"$W/px-edits.err")
	[ ${#w[@]} = "$PROXY_EDITS" ] ||
		note "proxy/edits: ${#w[@]} of $PROXY_EDITS measured ($(tail -n 1 "$W/px-edits.err"))"
	# the builds' own time, as gust logs it ("build: ok in N ms"), for the
	# same edits (the first build is the start's)
	local b=()
	mapfile -t b < <(sed -n 's/.*build: ok in \([0-9]*\) ms.*/\1/p' "$log" | tail -n +2)
	stop_gust
	record proxy "edit: write->reload event" gust ms "" "${rl[@]}"
	record proxy "edit: reload event->new page" gust ms "" "${pg[@]}"
	record proxy "edit: write->page shows new text" gust ms "" "${w[@]}"
	record proxy "edit: go build (gust's log)" none ms "" "${b[@]}"
}
if want proxy; then
	echo "bench: 6/6 proxy (the livereload hook against direct access)" >&2
	proxy_case
fi

# ======================================================================
# ratios and output
# ======================================================================
# gust's median over each tool's median, measured in this run (below 1:
# gust is faster or lighter). With BENCH_DEBOUNCE_MS set, gust's overhead
# has that window taken off; the tools have none to take off.
for t in "${TOOLS[@]}"; do
	for m in "overhead" "storm 1000: builds" "storm 1000: settled" "storm 1000: CPU" \
		"storm 10000: builds" "storm 10000: settled" "storm 10000: CPU" \
		"idle CPU, ${IDLE_SECS} s" "idle RSS" "idle RSS, all changed"; do
		for who in gust gust-bare; do
			g=${CMP["$m|$who"]:-} o=${CMP["$m|$t"]:-}
			[ -n "$g" ] && [ -n "$o" ] || continue
			r=$(awk -v g="$g" -v o="$o" 'BEGIN { if (o > 0) printf "%.3f", g / o; else print "null" }')
			TABLE+=("$(printf '%-9s %-34s %-8s %10s' ratio "$m: $who/$t" "$who" "$r")")
			ROWS+=("{\"bench\":\"ratio\",\"case\":\"$m: $who/$t\",\"tool\":\"$who\",\"unit\":\"ratio\",\"median\":$r,\"min\":null,\"max\":null,\"n\":1,\"target\":\"\"}")
		done
	done
done

T_END=$(now_us)
echo
printf '%-9s %-34s %-8s %10s %10s %10s %3s %-6s %s\n' bench case tool median min max n unit target
printf '%s\n' "${TABLE[@]}"
for n in "${NOTES[@]}"; do echo "note: $n"; done
echo "wall time: $(( (T_END - T_START) / 1000000 )) s"

mkdir -p "$(dirname "$OUT")"
{
	echo "{"
	echo "  \"gust\": \"$GUST_VERSION\","
	echo "  \"date\": \"$(date -u +%Y-%m-%dT%H:%M:%SZ)\","
	echo "  \"kernel\": \"$(uname -sr)\","
	echo "  \"cpus\": $(getconf _NPROCESSORS_ONLN),"
	echo "  \"runs\": $RUNS, \"idle_secs\": $IDLE_SECS, \"debounce_ms\": ${DEBOUNCE_MS:-null},"
	echo "  \"results\": ["
	for ((i = 0; i < ${#ROWS[@]}; i++)); do
		printf '    %s%s\n' "${ROWS[$i]}" "$([ $i -lt $((${#ROWS[@]} - 1)) ] && echo ,)"
	done
	echo "  ],"
	echo "  \"notes\": ["
	for ((i = 0; i < ${#NOTES[@]}; i++)); do
		printf '    "%s"%s\n' "${NOTES[$i]//\"/\\\"}" "$([ $i -lt $((${#NOTES[@]} - 1)) ] && echo ,)"
	done
	echo "  ]"
	echo "}"
} >"$OUT"
echo "results: $OUT"
