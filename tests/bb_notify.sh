#!/bin/bash
# The notify hook against a real notification daemon: a private session
# bus (dbus-daemon) with a small daemon that owns
# org.freedesktop.Notifications and records every Notify call
# (tests/helpers/notifyd.py). A failing build is notified with its output,
# the recovery once, a good build after a good one not at all; gust keeps
# its one thread; with no session bus the hook is off, with one debug line;
# a daemon that never answers stalls nothing.
. "$GUST_SRCDIR/tests/lib.sh"

: "${GUST_PLUGIN_PATH:?}"
# the system's python3 has python3-dbus and python3-gi, another first on
# PATH may not
PY=""
for p in python3 /usr/bin/python3; do
	if "$p" -c 'import dbus, gi' 2>/dev/null; then PY=$p; break; fi
done
if [ ! -e "$GUST_PLUGIN_PATH/hook-notify.so" ] || ! command -v dbus-daemon >/dev/null || [ -z "$PY" ]; then
	echo "1..0 # SKIP no notify hook, dbus-daemon or python3-dbus/python3-gi"
	exit 0
fi

# the bus and the daemon carry the marker: the EXIT trap ends them
env GUST_TEST_MARK="$GUST_TEST_MARK" dbus-daemon --session --fork --nopidfile \
	--print-address=3 3>"$T/bus.addr" </dev/null >/dev/null 2>&1
has_addr() { [ -s "$T/bus.addr" ]; }
ok_run "a private session bus starts" wait_for 10 has_addr
ADDR=$(head -n 1 "$T/bus.addr")
# start_notifyd FILE [--hang]: a daemon on the bus recording to FILE (pid
# in NOTIFYD); true once it owns the name
start_notifyd() {
	env GUST_TEST_MARK="$GUST_TEST_MARK" DBUS_SESSION_BUS_ADDRESS="$ADDR" \
		"$PY" "$GUST_SRCDIR/tests/helpers/notifyd.py" "$@" </dev/null >"$1.log" 2>&1 &
	NOTIFYD=$!
	wait_for 10 test -e "$1.ready"
}
ok_run "the recording notification daemon owns the name" start_notifyd "$T/notes"

P=$T/p
mkdir -p "$P/src"
echo good >"$P/src/a.txt"
cat >"$P/gust.json" <<JSON
{
  "watch": { "include_ext": ["txt"], "debounce_ms": 20 },
  "builder": { "plugin": "shell",
    "cmd": "if grep -q bad src/a.txt; then echo 'a.txt:1: expected ;'; sed -n /latin1/p src/a.txt; exit 1; fi" },
  "runner": { "plugin": "plain", "bin": "$GUST_HELPERS/shape", "args": ["pause"], "ready": false },
  "hooks": [ { "plugin": "notify", "app_name": "gust-test" } ]
}
JSON
notes() { cat "$T/notes" 2>/dev/null; }
nnotes() { notes | wc -l; }
has_notes() { [ "$(nnotes)" -ge "$1" ]; }
# the threads of our gust, from /proc/PID/status
threads() { awk '/^Threads:/ { print $2 }' "/proc/$GUST_PID/status"; }
# gust in $P on the private bus. Its log is emptied here, not by the
# child's redirection: the last gust's lines would otherwise answer a wait
# on the log before this one started.
gust_on_bus() {
	: >"$T/gust.log"
	(cd "$P" && exec env GUST_TEST_MARK="$GUST_TEST_MARK" DBUS_SESSION_BUS_ADDRESS="$ADDR" \
		"$GUST" -vv) >>"$T/gust.log" 2>&1 </dev/null &
	GUST_PID=$!
}

gust_on_bus
ok_run "the first (good) build runs" wait_for 20 log_has 'build: ok in'
echo bad >"$P/src/a.txt"
ok_run "a failed build is notified" wait_for 20 has_notes 1
like "$(notes | sed -n 1p)" '^gust-test\|0\|Build failed\|a\.txt:1: expected ;\\n\|2$' \
	"with the build's output as the body, critical"
echo good >"$P/src/a.txt"
ok_run "the recovery is notified" wait_for 20 has_notes 2
like "$(notes | sed -n 2p)" '^gust-test\|1\|Build fixed\|built in [0-9]+ ms\|1$' \
	"as 'fixed', replacing the failure's notification"
is "$(threads)" 1 "gust has one thread after sending notifications"
echo good2 >"$P/src/a.txt"
ok_run "the next good build runs" wait_for 20 eval '[ "$(log_count "build: ok in")" -ge 3 ]'
is "$(nnotes)" 2 "a good build after a good one is not notified"
# D-Bus takes only UTF-8: a byte that is not is shown as '?'
printf 'bad latin1 caf\351\n' >"$P/src/a.txt"
ok_run "output that is not UTF-8 is notified" wait_for 20 has_notes 3
like "$(notes | sed -n 3p)" '^gust-test\|1\|Build failed\|a\.txt:1: expected ;\\nbad latin1 caf\?\\n\|2$' \
	"with '?' for the byte that is not UTF-8"
stop_gust TERM
is "$GUST_STATUS" 0 "gust exits 0"

# ---- no session bus: off, one debug line ----
echo good >"$P/src/a.txt"
: >"$T/gust.log" # as in gust_on_bus
(cd "$P" && exec env -u DBUS_SESSION_BUS_ADDRESS XDG_RUNTIME_DIR="$T/none" \
	GUST_TEST_MARK="$GUST_TEST_MARK" "$GUST" -vv) >>"$T/gust.log" 2>&1 </dev/null &
GUST_PID=$!
ok_run "without a session bus gust still runs" wait_for 20 log_has 'build: ok in'
ok_run "and says once that notifications are off" log_has 'hook: notify: no session bus: notifications off'
echo bad >"$P/src/a.txt"
ok_run "a failing build" wait_for 20 log_has 'build: failed'
stop_gust TERM
is "$(nnotes)" 3 "nothing was sent"
is "$(log_count 'notifications off')" 1 "one debug line"

# ---- a daemon that accepts Notify and never answers ----
kill "$NOTIFYD" 2>/dev/null
ok_run "the recording daemon is gone" wait_for 10 pid_gone "$NOTIFYD"
wait "$NOTIFYD" 2>/dev/null
ok_run "a daemon that never answers owns the name" start_notifyd "$T/hung" --hang
hung() { cat "$T/hung" 2>/dev/null; }
has_hung() { [ "$(hung | wc -l)" -ge "$1" ]; }
echo good >"$P/src/a.txt"
gust_on_bus
ok_run "gust starts" wait_for 20 log_has 'build: ok in'
echo bad >"$P/src/a.txt"
ok_run "the failure's Notify call reaches the daemon" wait_for 20 has_hung 1
echo good >"$P/src/a.txt"
# a Notify call waited for on gust's loop would hold this up for D-Bus's
# reply timeout (25 s)
ok_run "the next edit is built at once, the call still unanswered" \
	wait_for 5 eval '[ "$(log_count "build: ok in")" -ge 2 ]'
is "$(threads)" 1 "gust still has one thread"
ok_run "the call times out and the recovery follows it" wait_for 15 has_hung 2
like "$(hung | sed -n 2p)" '^gust-test\|0\|Build fixed\|built in [0-9]+ ms\|1$' \
	"as a new notification (the daemon never gave an id)"
stop_gust TERM
is "$GUST_STATUS" 0 "gust exits 0"

kill "$NOTIFYD" 2>/dev/null
plan_done
