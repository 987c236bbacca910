#!/bin/bash
# The livereload hook's proxy under clients that misbehave or leave, and an
# app that dies or never answers, through the real gust binary on loopback
# (tests/helpers/lrapp.py): what the proxy holds (descriptors, memory, the
# app's connections) must come back to where it was, and gust must still
# answer, and quit cleanly with all of it in flight.
. "$GUST_SRCDIR/tests/lib.sh"
. "$GUST_SRCDIR/tests/lrlib.sh"

fds() { find "/proc/$GUST_PID/fd" -mindepth 1 -maxdepth 1 2>/dev/null | wc -l; }
fds_at_most() { [ "$(fds)" -le "$1" ]; }
fds_at_least() { [ "$(fds)" -ge "$1" ]; }
# Connections established to 127.0.0.1:PORT.
connections_to() {
	awk -v p=":$(printf '%04X' "$1")" '$4 == "01" && substr($3, length($3) - 4) == p { n++ } END { print n + 0 }' \
		/proc/net/tcp
}
none_to() { [ "$(connections_to "$1")" = 0 ]; }
# kill_all PID...: end the clients this script started, and reap them.
kill_all() {
	kill "$@" 2>/dev/null
	wait "$@" 2>/dev/null
}

lr_project stress "cp src/version.txt tmp/built" ""
start_gust "$P"
ok_run "the page is served through the proxy" wait_for 20 shows v1
get -o /dev/null "$URL/__gust/livereload.js"
base=$(fds)

# ---- clients that leave while their request is suspended ----
pids=()
for _ in $(seq 20); do
	curl -s -N --max-time 60 "$URL/__gust/events" >/dev/null 2>&1 &
	pids+=($!)
done
ok_run "20 event streams are open" wait_for 10 fds_at_least $((base + 20))
kill_all "${pids[@]}"
ok_run "closed event streams are let go before the next event" wait_for 10 fds_at_most "$base"

pids=()
for _ in $(seq 5); do
	curl -s --max-time 60 "$URL/hang" >/dev/null 2>&1 &
	pids+=($!)
done
hanging() { [ "$(connections_to "$APORT")" -ge 5 ]; }
ok_run "5 requests wait on an app that does not answer" wait_for 10 hanging
kill_all "${pids[@]}"
ok_run "their clients left: the app's connections are closed" wait_for 10 none_to "$APORT"
ok_run "and the descriptors let go" wait_for 10 fds_at_most "$base"

stop_gust TERM
is "$GUST_STATUS" 0 "gust exits 0 on SIGTERM"
ok_run "nothing is left" wait_for 10 no_marked_left
plan_done
