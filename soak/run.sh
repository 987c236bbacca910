#!/bin/bash
# soak/run.sh - `make soak`: gust through many cycles, watched for leaks.
# Run from the build directory after `make` (make soak builds what it needs).
#
#   restarts  SOAK_RESTARTS (1,000) restarts of a small TCP server on
#             loopback (tests/helpers/shape serve), plain runner: each edit
#             writes a new version, and the iteration ends when the new run
#             answers it on the same port (so the new process bound the port
#             again after the old one let it go)
#   dlv       SOAK_DLV (200) restarts of a Go HTTP server under Delve (dlv
#             runner, tests/fixtures/goserver): each edit changes the
#             version constant; ends when the new build answers it
#   cancels   SOAK_CANCELS (1,000) build cancellations: the build never
#             ends by itself, each edit cancels the running build and starts
#             the next; ends when the new build has started
#
# Every wait is a condition polled with a deadline (SOAK_DEADLINE seconds,
# 60; the first dlv build 300); a missed deadline fails the soak.
#
# Every SOAK_EVERY iterations (default: a 20th of the phase, at least 1)
# it samples gust's open fds (/proc/PID/fd), VmRSS, inotify watches (the
# "inotify wd:" lines of the inotify fd's /proc/PID/fdinfo) and the tree's
# processes (those carrying this soak's marker, other than gust, once they
# settle: up to 5 s for the count of the warm-up's end). Flat means, over
# the samples after the warm-up (the first fifth of the iterations):
#   fds, inotify watches, processes: the same number at every sample;
#   VmRSS: the last sample at most SOAK_RSS_SLACK_KB (256) above the first.
# At the end gust gets SIGTERM: it must exit 0, leave no marked process, a
# free port and no state file. Prints a table per phase and a verdict;
# exits 1 when a phase is not flat, a deadline is missed or something is
# left behind.
#
# Environment: GUST (./gust), GUST_PLUGIN_PATH (./plugins/.libs), HELPERS
# (./tests/helpers), SOAK_QUICK=1 (100 restarts, 10 dlv, 100 cancels),
# SOAK_RESTARTS, SOAK_DLV, SOAK_CANCELS (0 skips a phase; dlv is skipped
# without go and dlv), SOAK_EVERY, SOAK_DEADLINE, SOAK_RSS_SLACK_KB.
if [ -z "${BASH_VERSION:-}" ]; then exec bash "$0" "$@"; fi
set -u
export LC_ALL=C

SRCDIR=$(cd "$(dirname "$0")/.." && pwd)
GUST=${GUST:-./gust}
case $GUST in /*) ;; *) GUST=$PWD/$GUST ;; esac
GUST_PLUGIN_PATH=${GUST_PLUGIN_PATH:-$PWD/plugins/.libs}
HELPERS=${HELPERS:-$PWD/tests/helpers}
export GUST_PLUGIN_PATH
QUICK=${SOAK_QUICK:-0}
if [ "$QUICK" = 1 ]; then
	RESTARTS=${SOAK_RESTARTS:-100} DLV=${SOAK_DLV:-10} CANCELS=${SOAK_CANCELS:-100}
else
	RESTARTS=${SOAK_RESTARTS:-1000} DLV=${SOAK_DLV:-200} CANCELS=${SOAK_CANCELS:-1000}
fi
DEADLINE=${SOAK_DEADLINE:-60}
RSS_SLACK=${SOAK_RSS_SLACK_KB:-256}

die() { echo "soak: $*" >&2; exit 1; }
[ -x "$GUST" ] || die "no gust at $GUST (run make first, or set GUST)"
[ -x "$HELPERS/shape" ] || die "no $HELPERS/shape (make soak builds it)"
[ -n "${EPOCHREALTIME:-}" ] || die "bash 5 is needed (EPOCHREALTIME)"

W=$(mktemp -d "${TMPDIR:-/tmp}/gust-soak.XXXXXX") || die "mktemp failed"
MARK="gust-soak-$$-$RANDOM"
GPID=""
FAILED=0

# Processes carrying our marker (gust and everything it started), but not
# this script and its subshells.
marked_pids() {
	local p
	for p in /proc/[0-9]*; do
		case ${p#/proc/} in "$$" | "$BASHPID") continue ;; esac
		if tr '\0' '\n' 2>/dev/null <"$p/environ" | grep -qx "SOAK_MARK=$MARK"; then
			echo "${p#/proc/}"
		fi
	done
}

cleanup() {
	local p
	[ -n "$GPID" ] && kill -KILL "$GPID" 2>/dev/null
	for p in $(marked_pids); do kill -KILL "$p" 2>/dev/null; done
	wait 2>/dev/null
	rm -rf "$W"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

now() { echo "${EPOCHREALTIME/./}"; } # microseconds

# wait_for SECONDS CMD...: poll CMD every 10 ms until it succeeds; 1 if the
# deadline passes first.
wait_for() {
	local until=$(($(now) + $1 * 1000000))
	shift
	until "$@"; do
		[ "$(now)" -ge "$until" ] && return 1
		sleep 0.01
	done
}

. "$SRCDIR/tests/ports.sh"

# The last line a server on 127.0.0.1:$1 sends to a GET /, or nothing.
answer() {
	local line last=""
	if { exec 9<>"/dev/tcp/127.0.0.1/$1"; } 2>/dev/null; then
		printf 'GET / HTTP/1.0\r\nHost: localhost\r\n\r\n' >&9 2>/dev/null
		while IFS= read -r -t 5 line <&9; do last=$line; done 2>/dev/null
		exec 9<&- 9>&-
	fi
	printf '%s' "$last" | tr -d '\r'
}
answers() { [ "$(answer "$1")" = "$2" ]; }
lines_in() { [ "$({ wc -l <"$1"; } 2>/dev/null || echo 0)" -ge "$2" ]; }

# ---- samples ----------------------------------------------------------------

tree_procs() { marked_pids | grep -cvx "$GPID"; }
procs_are() { [ "$(tree_procs)" = "$1" ]; }
inotify_watches() {
	local fd n=0
	for fd in /proc/"$GPID"/fd/*; do
		if [ "$(readlink "$fd" 2>/dev/null)" = "anon_inode:inotify" ]; then
			n=$((n + $(grep -c '^inotify wd:' "/proc/$GPID/fdinfo/${fd##*/}")))
		fi
	done
	echo "$n"
}

# sample ITERATION: one row "iteration fds rss_kb watches procs" appended to
# $W/samples. Processes get up to 5 s to settle to the warm-up's count.
BASE_PROCS=""
sample() {
	[ -n "$BASE_PROCS" ] && wait_for 5 procs_are "$BASE_PROCS"
	local fds rss
	fds=$(find /proc/"$GPID"/fd -mindepth 1 -maxdepth 1 | wc -l)
	rss=$(awk '/^VmRSS:/ { print $2 }' "/proc/$GPID/status")
	echo "$1 $fds $rss $(inotify_watches) $(tree_procs)" >>"$W/samples"
}

# verdict PHASE ITERATIONS: print the table and judge the samples after the
# warm-up (iteration > ITERATIONS/5). 0 if flat.
verdict() {
	local phase=$1 warm=$(($2 / 5))
	printf '\n%s\n%10s %6s %9s %9s %6s\n' "$phase" iteration fds "rss KiB" watches procs
	awk '{ printf "%10d %6d %9d %9d %6d\n", $1, $2, $3, $4, $5 }' "$W/samples"
	awk -v warm="$warm" -v slack="$RSS_SLACK" -v phase="$phase" '
		$1 > warm {
			n++
			if (n == 1) { f0 = $2; r0 = $3; w0 = $4; p0 = $5; fmin = fmax = $2
				      wmin = wmax = $4; pmin = pmax = $5 }
			if ($2 < fmin) fmin = $2; if ($2 > fmax) fmax = $2
			if ($4 < wmin) wmin = $4; if ($4 > wmax) wmax = $4
			if ($5 < pmin) pmin = $5; if ($5 > pmax) pmax = $5
			rl = $3
		}
		END {
			if (n < 2) { printf "%s: too few samples after the warm-up\n", phase; exit 1 }
			bad = (fmin != fmax) || (wmin != wmax) || (pmin != pmax) || (rl - r0 > slack)
			printf "%s: after iteration %d (%d samples): fds %d..%d, inotify watches %d..%d, processes %d..%d, VmRSS %+d KiB (%d -> %d): %s\n",
				phase, warm, n, fmin, fmax, wmin, wmax, pmin, pmax, rl - r0, r0, rl,
				bad ? "NOT FLAT" : "flat"
			exit bad
		}' "$W/samples"
}

# ---- gust -------------------------------------------------------------------

# start DIR: gust in DIR, its log in $W/gust.log.
start() {
	: >"$W/samples"
	BASE_PROCS=""
	(cd "$1" && exec env SOAK_MARK="$MARK" "$GUST" --color never) >"$W/gust.log" 2>&1 </dev/null &
	GPID=$!
}

# finish PORT: SIGTERM; gust must exit 0 and leave nothing behind.
finish() {
	local port=$1 st left
	kill -TERM "$GPID"
	if ! wait_for 60 eval '! kill -0 "$GPID" 2>/dev/null'; then
		echo "soak: gust did not exit within 60 s of SIGTERM"
		FAILED=1
	fi
	wait "$GPID"
	st=$?
	[ "$st" = 0 ] || { echo "soak: gust exited $st"; FAILED=1; }
	wait_for 10 eval '[ -z "$(marked_pids)" ]'
	left=$(marked_pids | tr '\n' ' ')
	[ -z "$left" ] || { echo "soak: left behind: $left"; FAILED=1; }
	[ -z "$port" ] || port_free "$port" || { echo "soak: port $port still in use"; FAILED=1; }
	[ ! -e "$PROJ/tmp/gust.state" ] || { echo "soak: the state file was left"; FAILED=1; }
	GPID=""
}

# iterate PHASE N EDIT READY: N times, EDIT i then wait for READY i, with a
# sample every EVERY iterations and at the warm-up's end.
iterate() {
	local phase=$1 n=$2 edit=$3 ready=$4 every i t0
	every=${SOAK_EVERY:-$((n / 20))}
	[ "$every" -ge 1 ] || every=1
	t0=$(now)
	for ((i = 1; i <= n; i++)); do
		"$edit" "$i"
		if ! wait_for "$DEADLINE" "$ready" "$i"; then
			echo "soak: $phase: iteration $i missed its $DEADLINE s deadline; the log's end:"
			tail -n 5 "$W/gust.log"
			FAILED=1
			return 1
		fi
		if [ $((i % every)) = 0 ] || [ "$i" = $((n / 5)) ]; then
			[ "$i" = $((n / 5)) ] && [ -z "$BASE_PROCS" ] && BASE_PROCS=$(tree_procs)
			sample "$i"
		fi
	done
	echo "$phase: $n iterations in $((($(now) - t0) / 1000)) ms" >>"$W/times"
}

# ---- restarts of a TCP server -----------------------------------------------

if [ "$RESTARTS" -gt 0 ]; then
	PROJ=$W/restarts PORT=$(free_port)
	mkdir -p "$PROJ/src" "$PROJ/tmp"
	echo v0 >"$PROJ/src/version.txt"
	cat >"$PROJ/gust.json" <<EOF
{ "tmp_dir": "tmp", "watch": { "include_ext": ["txt"], "debounce_ms": 10 },
  "builder": { "cmd": "cp src/version.txt tmp/version.out" },
  "runner": { "plugin": "plain", "kill_delay_ms": 2000,
              "cmd": "exec '$HELPERS/shape' serve $PORT \$(cat tmp/version.out)" } }
EOF
	edit_version() { echo "v$1" >"$PROJ/src/version.txt"; }
	serves_version() { answers "$PORT" "v$1"; }
	start "$PROJ"
	wait_for "$DEADLINE" serves_version 0 || die "the first run never answered: $(tail -n 3 "$W/gust.log")"
	iterate restarts "$RESTARTS" edit_version serves_version
	n=$(grep -c 'run: restarted' "$W/gust.log")
	[ "$n" -ge "$RESTARTS" ] || { echo "soak: restarts: $n restart lines for $RESTARTS edits"; FAILED=1; }
	if grep -q 'address already in use\|error' "$W/gust.log"; then
		echo "soak: restarts: gust reported errors:"
		grep 'address already in use\|error' "$W/gust.log" | head -n 3
		FAILED=1
	fi
	finish "$PORT"
	verdict restarts "$RESTARTS" || FAILED=1
fi

# ---- restarts under Delve ---------------------------------------------------

if [ "$DLV" -gt 0 ] && { ! command -v go >/dev/null || ! command -v dlv >/dev/null; }; then
	echo "soak: dlv: skipped (go or dlv not installed)"
elif [ "$DLV" -gt 0 ]; then
	# go and dlv write only under $W; no network (the module has no deps)
	mkdir -p "$W/go/cache" "$W/go/path" "$W/go/tmp" "$W/home/.config"
	export GOCACHE=$W/go/cache GOPATH=$W/go/path GOTMPDIR=$W/go/tmp GOENV=off \
		GOFLAGS=-mod=mod GOTOOLCHAIN=local GOPROXY=off GOTELEMETRY=off \
		HOME=$W/home XDG_CONFIG_HOME=$W/home/.config
	PROJ=$W/dlv PORT=$(free_port) DPORT=$(free_port)
	while [ "$DPORT" = "$PORT" ]; do DPORT=$(free_port); done
	mkdir -p "$PROJ"
	cp "$SRCDIR/tests/fixtures/goserver/main.go" "$SRCDIR/tests/fixtures/goserver/go.mod" "$PROJ/"
	chmod u+w "$PROJ"/*
	cat >"$PROJ/gust.json" <<EOF
{ "tmp_dir": "tmp", "watch": { "include_ext": ["go"], "exclude_dir": ["tmp"] },
  "builder": { "plugin": "shell", "cmd": "go build -gcflags='all=-N -l' -o ./tmp/main ." },
  "runner": { "plugin": "dlv", "listen": "127.0.0.1:$DPORT",
              "args": ["-port", "$PORT"], "kill_delay_ms": 5000 } }
EOF
	edit_go() { sed -i "s/^const version = .*/const version = \"v$1\"/" "$PROJ/main.go"; }
	start "$PROJ"
	wait_for 300 answers "$PORT" v1 || die "the first dlv run never answered: $(tail -n 3 "$W/gust.log")"
	serves_go() { answers "$PORT" "v$1"; }
	# the first edit is v2: v1 is what the fixture says
	edit_go_next() { edit_go $(($1 + 1)); }
	serves_go_next() { serves_go $(($1 + 1)); }
	iterate dlv "$DLV" edit_go_next serves_go_next
	finish "$PORT"
	port_free "$DPORT" || { echo "soak: dlv: the debugger port $DPORT is still in use"; FAILED=1; }
	verdict dlv "$DLV" || FAILED=1
fi

# ---- build cancellations ----------------------------------------------------

if [ "$CANCELS" -gt 0 ]; then
	PROJ=$W/cancels
	mkdir -p "$PROJ/src" "$PROJ/tmp"
	echo 0 >"$PROJ/src/n.txt"
	# each build notes its start, then never ends by itself
	cat >"$PROJ/gust.json" <<EOF
{ "tmp_dir": "tmp", "watch": { "include_ext": ["txt"], "debounce_ms": 10 },
  "builder": { "cmd": "cat src/n.txt >>tmp/builds; exec sleep 600" },
  "runner": { "plugin": "plain", "cmd": "true", "ready": false } }
EOF
	edit_n() { echo "$1" >"$PROJ/src/n.txt"; }
	build_started() { lines_in "$PROJ/tmp/builds" $(($1 + 1)); }
	start "$PROJ"
	wait_for "$DEADLINE" build_started 0 || die "the first build never started: $(tail -n 3 "$W/gust.log")"
	iterate cancels "$CANCELS" edit_n build_started
	n=$(grep -c 'cancelling the running build' "$W/gust.log")
	[ "$n" = "$CANCELS" ] || { echo "soak: cancels: $n cancellations for $CANCELS edits"; FAILED=1; }
	finish ""
	verdict cancels "$CANCELS" || FAILED=1
fi

echo
cat "$W/times" 2>/dev/null
if [ "$FAILED" = 0 ]; then echo "soak: PASS"; else echo "soak: FAIL"; fi
exit "$FAILED"
