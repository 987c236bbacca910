#!/bin/bash
# The socket hand-off (runner "sockets"): gust binds once and hands the
# listening socket to every run by the socket-activation protocol, so a
# client that keeps connecting through restarts is never refused; the run
# gets that fd and nothing else of gust's, and is ready ("listen") once it
# holds it; an address in use, a file in the way, or the dlv runner are one
# line and exit 2 with nothing started.
. "$GUST_SRCDIR/tests/lib.sh"

SHAPE=$GUST_HELPERS/shape
V='$(cat tmp/version.out)'

# ---- restarts under a client that keeps connecting ----
PORT=$(free_port)
project sock "\"cmd\": \"exec '$SHAPE' serve-passed $V\", \"sockets\": [\"tcp:127.0.0.1:$PORT\"]"
exec 7</dev/null # an fd without close-on-exec that gust inherits
start_gust "$P"
exec 7<&-
ok_run "the first run answers on the socket gust holds" wait_for 30 eval "answer $PORT | grep -q '^v1 '"
first=$(answer "$PORT")
pid=$(printf '%s' "$first" | sed -nE 's/.* pid=([0-9]+) .*/\1/p')
like "$first" "^v1 pid=[0-9]+ fds=0,1,2,3 names=tcp-$PORT$" \
	"the run has fd 3 and stdio only, LISTEN_PID is its own pid, LISTEN_FDNAMES its name"
is "$(tr '\0' '\n' <"/proc/$pid/environ" 2>/dev/null | grep -c '^LISTEN_FDS=1$')" 1 \
	"LISTEN_FDS=1 in the run's environment"
# A client connects every few ms through five restarts and counts what
# fails: with the socket in gust's hands, a connection made while no run is
# up waits in the backlog for the next one.
python3 "$GUST_SRCDIR/tests/helpers/connloop.py" "$PORT" "$T/client.out" "$T/client.stop" "$T/client.up" &
client=$!
ok_run "the client is served" wait_for 10 test -e "$T/client.up"
for v in 2 3 4 5 6; do
	echo "v$v" >"$P/src/version.txt"
	ok_run "restart $v: the new run answers" wait_for 30 eval "answer $PORT | grep -q '^v$v '"
done
touch "$T/client.stop"
wait "$client"
{ read -r served refused other seen; read -r errs; } <"$T/client.out"
is "$refused" 0 "no connection was refused through five restarts ($served served)"
is "$other" 0 "and none failed otherwise${errs:+ ($errs)}"
like "$seen" "^v1,.*v6$" "the client was served by the first run and the last"
stop_gust TERM
is "$GUST_STATUS" 0 "gust exits 0"
ok_run "the port is free once gust is gone" wait_for 5 port_free "$PORT"

# ---- the default readiness ("listen"): the passed socket counts ----
PORT=$(free_port)
project ready "\"cmd\": \"exec '$SHAPE' serve-passed $V\", \"sockets\": [\"tcp:127.0.0.1:$PORT\"], \"ready_timeout_ms\": 10000"
start_gust "$P" -v
ok_run "listen readiness: the run is ready or timed out" wait_for 30 log_has 'ready in [0-9]+ ms|not ready after'
ok_run "listen readiness: ready, not the timeout" log_has 'run: started, ready in [0-9]+ ms'
pid=$(answer "$PORT" | sed -nE 's/.* pid=([0-9]+) .*/\1/p')
like "$(gust_log)" "ready: 127\.0\.0\.1:$PORT \(tcp, pid $pid\)" "naming the passed socket and the run that holds it"
stop_gust TERM

# ---- a failed build with stop_on_build_failure: clients wait for a good one ----
PORT=$(free_port)
BUILD_CMD="grep -q FAIL src/version.txt && exit 3; cp src/version.txt tmp/version.out" \
	project wait "\"cmd\": \"exec '$SHAPE' serve-passed $V\", \"sockets\": [\"tcp:127.0.0.1:$PORT\"]" \
	'"lifecycle": { "stop_on_build_failure": true }'
start_gust "$P"
ok_run "stop_on_build_failure: the first run answers" wait_for 30 eval "answer $PORT | grep -q '^v1 '"
old=$(answer "$PORT" | sed -nE 's/.* pid=([0-9]+) .*/\1/p')
echo FAIL >"$P/src/version.txt"
ok_run "the failed build is reported" wait_for 30 log_has "build: failed"
# shellcheck disable=SC2086
ok_run "and the old run is stopped" wait_for 30 all_gone $old
python3 - "$PORT" "$T/waiting.out" "$T/connected" <<'PY' &
import socket, sys
c = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=60)
open(sys.argv[3], "w").close()
line = c.makefile().readline()
open(sys.argv[2], "w").write(line)
PY
waiter=$!
ok_run "a client connecting while no run is up is not refused" wait_for 10 test -e "$T/connected"
ok "$(kill -0 "$waiter" 2>/dev/null; echo $?)" "it waits for an answer"
echo v7 >"$P/src/version.txt"
wait "$waiter"
like "$(cat "$T/waiting.out")" "^v7 " "the waiting client is answered by the next good run"
stop_gust TERM

# ---- a unix socket, removed when gust exits ----
project unix "\"cmd\": \"exec '$SHAPE' serve-passed $V\", \"sockets\": [\"api=unix:tmp/api.sock\"]"
start_gust "$P"
unix_answer() {
	python3 -c 'import socket,sys
c=socket.socket(socket.AF_UNIX); c.settimeout(5); c.connect(sys.argv[1])
print(c.makefile().readline().strip())' "$1" 2>/dev/null
}
ok_run "unix: the run answers on the unix socket" wait_for 30 eval "unix_answer '$P/tmp/api.sock' | grep -q '^v1 .* names=api$'"
stop_gust TERM
ok "$([ ! -e "$P/tmp/api.sock" ]; echo $?)" "unix: the socket file is removed when gust exits"

# ---- what cannot be bound: one line, exit 2, nothing started ----
PORT=$(free_port)
"$SHAPE" --pids="$T/holder.pids" serve "$PORT" other </dev/null >/dev/null 2>&1 &
ok_run "another process listens on the port" wait_for 10 answers "$PORT" other
project busy "\"cmd\": \"exec '$SHAPE' serve-passed $V\", \"sockets\": [\"tcp:127.0.0.1:$PORT\"]"
out=$(cd "$P" && timeout 20 "$GUST" 2>&1)
is "$?" 2 "an address in use: exit 2"
like "$out" "sockets\\[0\\] \"tcp:127\\.0\\.0\\.1:$PORT\": cannot listen: Address already in use \\(another process has it\\)" \
	"the error names the entry and says why"
is "$(printf '%s\n' "$out" | wc -l)" 1 "in one line"
ok "$([ ! -e "$P/tmp/version.out" ]; echo $?)" "nothing was built"
kill "$(noted_alive "$T/holder.pids")"

project file "\"cmd\": \"exec '$SHAPE' serve-passed $V\", \"sockets\": [\"unix:data.txt\"]"
echo precious >"$P/data.txt"
out=$(cd "$P" && timeout 20 "$GUST" 2>&1)
is "$?" 2 "a unix path that is a file: exit 2"
like "$out" "is not a socket" "the error says so"
is "$(cat "$P/data.txt")" precious "the file is left as it was"

project dlvsock "\"plugin\": \"dlv\", \"sockets\": [\"tcp:127.0.0.1:$PORT\"]"
sed -i 's|"plugin": "plain", "plugin": "dlv"|"plugin": "dlv"|' "$P/gust.json"
out=$(cd "$P" && timeout 20 "$GUST" 2>&1)
is "$?" 2 "sockets under the dlv runner: exit 2"
like "$out" "sockets: not with the dlv runner" "the error says why"

plan_done
