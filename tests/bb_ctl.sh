#!/bin/bash
# gust ctl against the real gust: rebuild builds once more, restart
# restarts without a build, status (text and JSON) tells the state, quit
# ends gust (exit 0, the socket removed) and returns once it is gone; exit
# 1 when gust refuses, 2 when no gust runs (naming the socket). The socket
# is 0600; a socket left by a SIGKILLed gust is replaced by the next; a
# silent client is cut at its deadline without holding up others; a peer
# of another uid is refused (SO_PEERCRED), and one that cannot open the
# socket is stopped by its mode.
. "$GUST_SRCDIR/tests/lib.sh"

# ctl ARGS...: gust ctl in $P; CTL_RC, $T/ctl.out, $T/ctl.err
ctl() {
	(cd "$P" && "$GUST" ctl "$@") >"$T/ctl.out" 2>"$T/ctl.err"
	CTL_RC=$?
}
out() { cat "$T/ctl.out"; }
err() { cat "$T/ctl.err"; }
builds_are() { [ "$(log_count 'build: ok in')" = "$1" ]; }
# raw TEXT: send TEXT (backslash escapes allowed; nothing when empty) to
# the socket as it is, print the reply and how long until gust closed.
raw() {
	python3 - "$SOCK" "$1" <<'PY'
import socket, sys, time
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
data = sys.argv[2].encode().decode("unicode_escape").encode("latin1")
t = time.monotonic()
if data:
    s.sendall(data)
s.settimeout(20)
out = b""
while True:
    b = s.recv(4096)
    if not b:
        break
    out += b
print(out.decode(errors="replace").rstrip("\n"))
print("closed after %.1f s" % (time.monotonic() - t))
PY
}
if ! command -v python3 >/dev/null; then
	skip "python3 (to parse the JSON and to talk raw to the socket) is missing"
	plan_done
	exit
fi

SHAPE=$GUST_HELPERS/shape
PORT=$(free_port)
# the program takes half a second to stop: quit must wait for it
project ctl "\"kill_delay_ms\": 5000, \"ready\": false,
  \"cmd\": \"exec '$SHAPE' slow-term 500 tmp/stopped serve $PORT up\""
SOCK=$P/tmp/gust.sock

# ---- no gust ----
ctl status
is "$CTL_RC" 2 "no gust: exit 2"
like "$(err)" "no gust runs in this project .*\"$SOCK\"" "no gust: one line naming the socket"
ctl frobnicate
is "$CTL_RC" 2 "an unknown command: exit 2"
like "$(err)" 'unknown command "frobnicate"' "an unknown command is named"

# ---- a running gust ----
start_gust "$P"
ok_run "gust runs" wait_for 20 log_has 'run: started'
ok_run "the socket exists" test -S "$SOCK"
is "$(stat -c %a "$SOCK")" 600 "the socket is mode 0600"
is "$(stat -c %u "$SOCK")" "$(id -u)" "the socket is the user's"

ctl status
is "$CTL_RC" 0 "status: exit 0"
like "$(out)" "^state: running since [0-9-]+T[0-9:.]+Z \([0-9.]+ s\)" "status: running, since when"
like "$(out)" "ready: yes" "status: ready"
like "$(out)" "last build: ok in [0-9]+ ms" "status: the last build"
pid1=$(out | sed -n 's/^pid: //p')
ok "$(program_pids | grep -qx "$pid1" && echo 0)" "status: the pid ($pid1) is the program's"

ctl status --json
is "$CTL_RC" 0 "status --json: exit 0"
got=$(python3 -c '
import json, sys
d = json.load(sys.stdin)
b = d["last_build"]
print(d["state"], d["pid"], d["ready"], d["gust_pid"], isinstance(d["for_ms"], int),
      d["since"].endswith("Z"), b["ok"], b["result"], isinstance(b["duration_ms"], int))
' <"$T/ctl.out" 2>&1)
is "$got" "running $pid1 True $GUST_PID True True True ok True" "status --json: the same fields, as JSON"

# ---- rebuild, restart ----
ctl rebuild
is "$CTL_RC" 0 "rebuild: exit 0"
like "$(out)" "rebuild requested" "rebuild: acknowledged"
ok_run "rebuild: one more build" wait_for 20 builds_are 2
ok_run "rebuild: the program restarted after it" wait_for 20 log_has 'run: restarted: build'
ok_run "gust says who asked" log_has 'rebuild requested by gust ctl'

ctl restart
is "$CTL_RC" 0 "restart: exit 0"
ok_run "restart: the program restarted" wait_for 20 log_has 'run: restarted on request of gust ctl'
is "$(log_count 'build: ok in')" 2 "restart: no build"
ctl status
pid2=$(out | sed -n 's/^pid: //p')
ok "$([ -n "$pid2" ] && [ "$pid2" != "$pid1" ] && echo 0)" "restart: a new program ($pid1 -> $pid2)"

# ---- what the server refuses ----
like "$(raw 'bogus\x01\n')" '^error: unknown request "bogus\\x01"' "a bad request: refused, quoted escaped"
like "$(raw "$(printf 'a%.0s' $(seq 100))")" '^error: request longer than 64 bytes' \
	"a request past 64 bytes: refused"
raw '' >"$T/silent.out" &
silent=$!
ctl status
is "$CTL_RC" 0 "a silent client does not hold up another"
wait "$silent"
like "$(cat "$T/silent.out")" '^error: no request line within 2000 ms' "a silent client: refused at its deadline"
like "$(cat "$T/silent.out")" 'closed after [2-4]\.' "... and cut about then"

# ---- quit ----
rm -f "$P/tmp/stopped" # written by the restarts' stops
ctl quit
is "$CTL_RC" 0 "quit: exit 0"
like "$(out)" "quitting" "quit: acknowledged"
ok "$(test -e "$P/tmp/stopped" && test ! -e "$SOCK" && echo 0)" \
	"quit returns once gust is done: the program stopped, the socket removed"
ok_run "quit: gust exits" wait_for 20 pid_gone "$GUST_PID"
wait "$GUST_PID"
is "$?" 0 "quit: gust's exit status is 0"
GUST_PID=""

# ---- a socket left by a SIGKILLed gust ----
start_gust "$P"
ok_run "gust runs again" wait_for 20 log_has 'run: started'
ok_run "its program serves" wait_for 20 port_listening "$PORT"
stop_gust KILL
ok_run "SIGKILL leaves the socket" test -S "$SOCK"
ctl status
is "$CTL_RC" 2 "a stale socket: exit 2"
like "$(err)" "no gust runs in this project .*\"$SOCK\" is left from one that ended" \
	"a stale socket: said so"
start_gust "$P"
ok_run "the next gust runs" wait_for 20 log_has 'run: started'
ctl status
is "$CTL_RC" 0 "the next gust replaced the stale socket"
[ "$CTL_RC" = 0 ] || sed 's/^/# ctl: /' "$T/ctl.err"
stop_gust TERM
ok "$(test ! -e "$SOCK" && echo 0)" "SIGTERM: the socket removed"

# ---- refused: nothing to restart ----
BUILD_CMD="exit 3" project failing '"cmd": "exec sleep 30", "ready": false'
SOCK=$P/tmp/gust.sock
start_gust "$P"
ok_run "a failing build" wait_for 20 log_has 'build: failed'
ctl restart
is "$CTL_RC" 1 "restart before a good build: exit 1"
like "$(err)" "nothing to restart: no build succeeded yet" "... and why"
ctl status --json
got=$(python3 -c '
import json, sys
d = json.load(sys.stdin)
b = d["last_build"]
print(d["state"], d["pid"], d["ready"], b["ok"], b["result"])
' <"$T/ctl.out" 2>&1)
is "$got" "idle None False False exit status 3" "status --json: idle, the failed build"
stop_gust TERM

# ---- another uid ----
if [ "$(id -u)" != 0 ]; then
	skip "not root: cannot run gust or a client under another uid"
	skip "not root: cannot run gust or a client under another uid"
elif ! command -v setpriv >/dev/null; then
	skip "setpriv (util-linux) is missing"
	skip "setpriv (util-linux) is missing"
elif ! setpriv --reuid=65534 --regid=65534 --clear-groups \
	test -x "$GUST" -a -r "$GUST_PLUGIN_PATH/watcher-poll.so"; then
	# a build tree under a directory only root may enter (mktemp -d)
	skip "uid 65534 cannot reach gust or its plugins in this build tree"
	skip "uid 65534 cannot reach gust or its plugins in this build tree"
else
	chmod 711 "$T" # uid 65534 reaches its project, lists nothing else
	as_nobody() { setpriv --reuid=65534 --regid=65534 --clear-groups "$@"; }
	project mine '"cmd": "exec sleep 30", "ready": false'
	start_gust "$P"
	ok_run "root's gust runs" wait_for 20 log_has 'run: started'
	rc=0
	(cd "$P" && as_nobody "$GUST" ctl status) >"$T/ctl.out" 2>"$T/ctl.err" || rc=$?
	is "$rc" 1 "a client of uid 65534 against root's gust: exit 1"
	like "$(err)" "permission denied" "... stopped by the socket's mode"
	stop_gust TERM

	project theirs '"cmd": "exec sleep 30", "ready": false'
	SOCK=$P/tmp/gust.sock
	chown -R 65534:65534 "$P"
	# emptied here, not by the child's redirection: root's gust's lines
	# would otherwise answer the wait below before this one started
	: >"$T/gust.log"
	(cd "$P" && exec env GUST_TEST_MARK="$GUST_TEST_MARK" \
		setpriv --reuid=65534 --regid=65534 --clear-groups "$GUST") >>"$T/gust.log" 2>&1 </dev/null &
	GUST_PID=$!
	ok_run "a gust of uid 65534 runs" wait_for 20 log_has 'run: started'
	is "$(stat -c %u "$SOCK")" 65534 "its socket is its user's"
	ctl status
	is "$CTL_RC" 1 "root's client against it: exit 1"
	like "$(err)" "refused: uid 0 is not gust's \(uid 65534\)" "... refused with one line (SO_PEERCRED)"
	ok_run "gust logs the refusal" log_has 'refused a connection from uid 0'
	stop_gust TERM
	is "$GUST_STATUS" 0 "the gust of uid 65534 exits 0"
fi
plan_done
