#!/bin/bash
# Readiness through the real gust binary: the cycle line ends with when the
# new run is ready, found without a guessed port (a listening socket of any
# process of the run's tree, a grandchild under sh -c included), through a
# connect, or through a line of the program's output; a program that never
# gets ready gets one warning at the timeout, one that exits first is
# reported with its status; bad "ready" values are one line and exit 2.
. "$GUST_SRCDIR/tests/lib.sh"

SHAPE=$GUST_HELPERS/shape
ms_of() { sed -nE "s/.*$1 ([0-9]+) ms.*/\\1/p" "$T/gust.log" | head -n 1; }

# ---- a server that binds 300 ms after it started ----
PORT=$(free_port)
project late "\"cmd\": \"sleep 0.3; exec $SHAPE serve $PORT v1\""
start_gust "$P"
ok_run "late binder: the first run is reported ready" wait_for 20 log_has 'run: started, ready in [0-9]+ ms'
ms=$(ms_of 'ready in')
ok "$([ "${ms:-0}" -ge 300 ]; echo $?)" "late binder: ready after it bound, not before (${ms:-?} ms >= 300)"
ok_run "late binder: it answers" answers "$PORT" v1
unlike "$(gust_log)" 'run: started$' "no 'started' line before it is ready"
echo v2 >"$P/src/version.txt"
ok_run "an edit: the cycle line ends with when the new run is ready" wait_for 20 log_has \
	'run: restarted: src/version\.txt changed, build [0-9]+ ms, old tree gone in [0-9]+ ms, ready in [0-9]+ ms$'
stop_gust TERM

# ---- a program under sh -c whose grandchild listens ----
PORT=$(free_port)
project grand "\"cmd\": \"$SHAPE grandchild serve $PORT g; true\""
start_gust "$P" -v
ok_run "grandchild: ready through the grandchild's socket" wait_for 20 log_has 'run: started, ready in'
like "$(gust_log)" "ready: 127\.0\.0\.1:$PORT \(tcp, pid [0-9]+\), after [0-9]+ wakeups" \
	"grandchild: the socket found is the grandchild's port"
stop_gust TERM

# ---- a program that never listens: one warning at the timeout ----
project never "\"bin\": \"$SHAPE\", \"args\": [\"pause\"], \"ready_timeout_ms\": 400"
start_gust "$P"
ok_run "never ready: the timeout warns" wait_for 20 log_has \
	'run: warning: started; not ready after 400 ms \(no listening socket in its tree yet\): going on'
ok "$(kill -0 "$(program_pids | head -n 1)" 2>/dev/null; echo $?)" "never ready: the program keeps running"
stop_gust TERM
is "$(log_count 'not ready after')" 1 "never ready: warned once"

# ---- what wakes gust: a check that keeps failing backs off; a run that
# is ready and settled wakes gust for nothing. Counted, not timed: gust's
# voluntary context switches (each return from its poll) in a window. ----
has_program() { [ -n "$(program_pids)" ]; }
wakes() {
	cat /proc/"$GUST_PID"/task/*/status 2>/dev/null |
		awk '/^voluntary_ctxt_switches:/ { n += $2 } END { print n + 0 }'
}
project never2 "\"bin\": \"$SHAPE\", \"args\": [\"pause\"], \"ready_timeout_ms\": 10000"
start_gust "$P"
ok_run "never ready, backing off: the program runs" wait_for 20 has_program
sleep 2 # the window: from 2 s to 5 s of the check (a window, not a wait)
w0=$(wakes)
sleep 3
w1=$(wakes)
# every 200 ms, as it was: 15 in those 3 s; a quarter of the time waited: 4
ok "$([ $((w1 - w0)) -le 8 ]; echo $?)" \
	"never ready: the check backs off past 200 ms ($((w1 - w0)) wake-ups in 3 s, at most 8)"
stop_gust TERM

PORT=$(free_port)
project idle "\"bin\": \"$SHAPE\", \"args\": [\"serve\", \"$PORT\", \"i\"]"
start_gust "$P"
ok_run "ready and idle: the run is ready" wait_for 20 log_has 'run: started, ready in'
# The window: from past the membership refresh after the start (2 s,
# then 4 s later) to 15 s, past the refresh at 14 s that ran as long as
# the run did (every 2 s backing off to 16 s).
sleep 8
w0=$(wakes)
sleep 7
w1=$(wakes)
is "$((w1 - w0))" 0 "ready and idle: gust does not wake in 7 s"
stop_gust TERM

# ---- a program that exits before it is ready ----
project quits "\"bin\": \"$SHAPE\", \"args\": [\"exit\", \"3\"]"
start_gust "$P"
ok_run "exits first: reported as such, with its status" wait_for 20 log_has \
	'run: warning: started; program exited \(exit status 3\) before it was ready'
stop_gust TERM

# ---- log readiness: the line is matched and still written through ----
# The matching line is written only once the test creates $T/go, after it
# saw the first line through gust: gust cannot be ready before that.
project logged "\"cmd\": \"echo booting; while [ ! -e $T/go ]; do sleep 0.01; done; echo 'server up on 8080' >&2; exec $SHAPE pause\", \"ready\": { \"log\": \"up on [0-9]+\" }"
start_gust "$P"
ok_run "log: the program's first line is through" wait_for 20 log_has '^booting$'
unlike "$(gust_log)" 'ready in' "log: not ready before the matching line"
touch "$T/go"
ok_run "log: ready when a line matches" wait_for 20 log_has 'run: started, ready in [0-9]+ ms'
ok_run "log: the program's stdout is written through" log_has '^booting$'
ok_run "log: and its stderr" log_has '^server up on 8080$'
stop_gust TERM

# ---- tcp readiness ----
PORT=$(free_port)
project tcp "\"cmd\": \"sleep 0.2; exec $SHAPE serve $PORT t\", \"ready\": { \"tcp\": \"127.0.0.1:$PORT\" }"
start_gust "$P" -v
ok_run "tcp: ready once a connect succeeds" wait_for 20 log_has "ready: 127\.0\.0\.1:$PORT \(tcp connect\)"
stop_gust TERM

# ---- http readiness: a response below 500, through libcurl on gust's loop ----
PORT=$(free_port)
project http "\"bin\": \"python3\", \"args\": [\"-m\", \"http.server\", \"--bind\", \"127.0.0.1\", \"$PORT\"], \"ready\": { \"http\": \"http://127.0.0.1:$PORT/\" }"
start_gust "$P" -v
ok_run "http: ready once the server answers" wait_for 30 log_has "ready: http://127\.0\.0\.1:$PORT/ \(HTTP 200\)"
echo v2 >"$P/src/version.txt"
ok_run "http: the restarted server is ready too" wait_for 30 log_has 'run: restarted: .*ready in [0-9]+ ms$'
stop_gust TERM
is "$GUST_STATUS" 0 "http: gust exits 0"

# ---- "ready": false: no check, the start is the end of the cycle ----
project off "\"bin\": \"$SHAPE\", \"args\": [\"pause\"], \"ready\": false"
start_gust "$P"
ok_run "ready false: started at once" wait_for 20 log_has 'run: started$'
stop_gust TERM

# ---- bad values: one line naming the key, exit 2 ----
project bad "\"bin\": \"$SHAPE\", \"ready\": { \"tcp\": \"nowhere\" }"
out=$(cd "$P" && "$GUST" 2>&1 </dev/null); st=$?
is "$st" 2 "a bad ready value: exit 2"
like "$out" 'gust.json: runner\.ready\.tcp: expected HOST:PORT' "and one line naming runner.ready.tcp"
project bad2 "\"bin\": \"$SHAPE\", \"ready_timout_ms\": 5"
out=$(cd "$P" && "$GUST" 2>&1 </dev/null); st=$?
is "$st" 2 "a misspelt ready_timeout_ms: exit 2"
like "$out" '/runner/ready_timout_ms: unknown key.*did you mean "ready_timeout_ms"' \
	"and the runner's key check knows the core's keys"

plan_done
