# tests/lib.sh - shared harness for the black-box TAP tests.
#
# Every test script sources this file. It gives:
#   ok COND DESC / is GOT WANT DESC / like TEXT REGEX DESC / plan_done
#   wait_for SECONDS CMD...     poll CMD until it succeeds or the deadline
#   start_gust DIR ARGS...      start the real gust in DIR, logs to $T/gust.log
#                               (under $GUST_WRAPPER, if set)
#   stop_gust [SIG]             signal our gust and wait for it (deadline)
#   free_port / port_listening PORT / port_free PORT / answer PORT
#   marked_pids                 every process carrying this test's marker
#   run_gust DIR ARGS...        gust in DIR to its end: $out, $status
#   skip DESC                   a skipped test
# Each script gets its own temporary directory $T (under $TMPDIR) and a
# unique marker in the environment of everything it starts, so leftovers can
# be found even after they are re-parented to init. The EXIT trap kills only
# processes carrying that marker and removes $T.
set -u

: "${GUST:?GUST is set by make check}"
: "${GUST_SRCDIR:?}"
T=$(mktemp -d "${TMPDIR:-/tmp}/gust-test.XXXXXX")
# Not exported: only what start_gust starts carries it.
GUST_TEST_MARK="gust-test-$$-$RANDOM"
GUST_PID=""
_tap_n=0
_tap_fail=0

ok() {
	local cond=$1; shift
	_tap_n=$((_tap_n + 1))
	if [ "$cond" = 0 ] || [ "$cond" = true ]; then
		echo "ok $_tap_n - $*"
	else
		echo "not ok $_tap_n - $*"
		_tap_fail=$((_tap_fail + 1))
		if [ -f "$T/gust.log" ]; then sed 's/^/# gust.log: /' "$T/gust.log" | tail -n 40; fi
	fi
}

# ok_run DESC CMD...: a passing command is a passing test.
ok_run() {
	local desc=$1; shift
	if "$@"; then ok 0 "$desc"; else ok 1 "$desc"; fi
}

is() {
	if [ "$1" = "$2" ]; then ok 0 "$3"; else ok 1 "$3 (got '$1', want '$2')"; fi
}

like() {
	if printf '%s' "$1" | grep -Eq -- "$2"; then ok 0 "$3"; else
		ok 1 "$3 (no match for /$2/ in: $(printf '%s' "$1" | head -c 400))"
	fi
}

unlike() {
	if printf '%s' "$1" | grep -Eq -- "$2"; then
		ok 1 "$3 (unexpected /$2/ in: $(printf '%s' "$1" | head -c 400))"
	else ok 0 "$3"; fi
}

skip() {
	_tap_n=$((_tap_n + 1))
	echo "ok $_tap_n # SKIP $*"
}

plan_done() {
	echo "1..$_tap_n"
	[ "$_tap_fail" -eq 0 ]
}

# wait_for SECONDS CMD...: run CMD every 20 ms until it succeeds; fail once
# the deadline passes.
wait_for() {
	local secs=$1; shift
	local deadline=$(($(date +%s%N) / 1000000 + secs * 1000))
	while :; do
		if "$@"; then return 0; fi
		if [ $(($(date +%s%N) / 1000000)) -ge $deadline ]; then return 1; fi
		sleep 0.02
	done
}

# Pids of every process (other than this shell and its parents) whose
# environment carries this script's marker: gust and everything it started.
marked_pids() {
	local p
	for p in /proc/[0-9]*; do
		if tr '\0' '\n' 2>/dev/null <"$p/environ" | grep -qx "GUST_TEST_MARK=$GUST_TEST_MARK"; then
			echo "${p#/proc/}"
		fi
	done
}

# Pids of processes carrying the marker other than gust itself and the
# reapers gust forks, one per tree (named gust-reaper).
program_pids() {
	local p
	for p in $(marked_pids | grep -vx "${GUST_PID:-none}"); do
		[ "$(cat "/proc/$p/comm" 2>/dev/null)" = gust-reaper ] || echo "$p"
	done
}
reaper_pids() {
	local p
	for p in $(marked_pids); do
		[ "$(cat "/proc/$p/comm" 2>/dev/null)" = gust-reaper ] && echo "$p"
	done
	return 0
}

no_marked_left() { [ -z "$(marked_pids)" ]; }

# A process that is a zombie still counts: it was not reaped.
pid_gone() { [ ! -e "/proc/$1" ]; }
all_gone() { local p; for p in "$@"; do pid_gone "$p" || return 1; done; }

# The pids in files of "PID [START]" lines (shape's --pids and SHAPE_PIDS).
noted_pids() { awk '{print $1}' "$@" 2>/dev/null; }

# The start time of a process (field 22 of /proc/PID/stat), or nothing.
start_time() { sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | awk '{print $20}'; }

# Those noted with a start time that are still that process: what a test
# may end, even after it cleared its environment (no marker to find it by).
noted_alive() {
	local pid start
	cat "$@" 2>/dev/null | while read -r pid start; do
		[ -n "$start" ] && [ "$(start_time "$pid")" = "$start" ] && echo "$pid"
	done
	return 0
}
none_alive() { [ -z "$(noted_alive "$@")" ]; }

. "$GUST_SRCDIR/tests/ports.sh"

# The first line a server on 127.0.0.1:$1 sends, or nothing.
answer() {
	local line=""
	if { exec 9<>"/dev/tcp/127.0.0.1/$1"; } 2>/dev/null; then
		printf 'GET / HTTP/1.0\r\n\r\n' >&9 2>/dev/null
		IFS= read -r -t 2 line <&9 || true
		exec 9<&- 9>&-
	fi
	printf '%s' "$line" | tr -d '\r'
}

answers() { [ "$(answer "$1")" = "$2" ]; }

# project NAME RUNNER_JSON_MEMBERS [MEMBERS]: a project whose build copies
# src/version.txt to tmp/version.out; $V is the version in the program.
# MEMBERS: more top-level members of gust.json. $BUILD_CMD, when set, is
# the build command instead.
project() {
	P=$T/$1
	mkdir -p "$P/src" "$P/tmp"
	echo v1 >"$P/src/version.txt"
	cat >"$P/gust.json" <<EOF
{
  "tmp_dir": "tmp",
  "watch": { "include_ext": ["txt"], "debounce_ms": 20 },
  "builder": { "plugin": "shell", "cmd": "${BUILD_CMD:-cp src/version.txt tmp/version.out}" },
  "runner": { "plugin": "plain", $2 }${3:+,
  $3}
}
EOF
}

# start_gust DIR ARGS...: gust runs in DIR in the background, under
# $GUST_WRAPPER when set (words split at spaces: a program that execs gust in
# its own process, so $GUST_PID stays gust's: valgrind, tests/helpers/sysfail).
# The log is emptied before this returns: the background shell's own
# redirection would empty it later, and a wait on the log could match the
# last run's.
start_gust() {
	local dir=$1; shift
	: >"$T/gust.log"
	# shellcheck disable=SC2086
	(cd "$dir" && exec env GUST_TEST_MARK="$GUST_TEST_MARK" ${GUST_WRAPPER:-} "$GUST" "$@") \
		>>"$T/gust.log" 2>&1 </dev/null &
	GUST_PID=$!
}

# run_gust DIR ARGS...: gust in DIR, stdout+stderr in $out, status in $status
# shellcheck disable=SC2034 # $out and $status are for the caller
run_gust() {
	local dir=$1; shift
	out=$(cd "$dir" && env GUST_TEST_MARK="$GUST_TEST_MARK" "$GUST" "$@" 2>&1 </dev/null)
	status=$?
}

gust_running() { [ -n "$GUST_PID" ] && kill -0 "$GUST_PID" 2>/dev/null; }

# stop_gust [SIG]: signal gust, wait (bounded) for it, set GUST_STATUS.
stop_gust() {
	local sig=${1:-TERM}
	GUST_STATUS=""
	[ -n "$GUST_PID" ] || return 0
	kill -s "$sig" "$GUST_PID" 2>/dev/null
	if wait_for 20 pid_gone "$GUST_PID"; then
		wait "$GUST_PID" 2>/dev/null
		GUST_STATUS=$?
	else
		kill -KILL "$GUST_PID" 2>/dev/null
		wait "$GUST_PID" 2>/dev/null
		GUST_STATUS=timeout
	fi
	GUST_PID=""
}

gust_log() { cat "$T/gust.log" 2>/dev/null; }
log_has() { grep -Eq -- "$1" "$T/gust.log" 2>/dev/null; }

# Count lines in gust.log matching a regex.
log_count() { grep -Ec -- "$1" "$T/gust.log" 2>/dev/null || true; }

_cleanup() {
	local p
	if [ -n "$GUST_PID" ]; then kill -KILL "$GUST_PID" 2>/dev/null; fi
	for p in $(marked_pids); do kill -KILL "$p" 2>/dev/null; done
	find "$T" -name '*.pids' -print0 2>/dev/null | while IFS= read -r -d '' f; do
		for p in $(noted_alive "$f"); do kill -KILL "$p" 2>/dev/null; done
	done
	wait 2>/dev/null
	rm -rf "$T"
}
trap _cleanup EXIT
