#!/bin/bash
# Hooks (ABI 1.1) through the real gust binary, with a fixture hook that
# records every event (tests/fixtures/hook-record.c): the events come in
# the order of the cycle across a failed build and its recovery, the
# failed build's output tail reaches the hook, and a hook's requests for a
# rebuild and for a restart without a build are acted on.
. "$GUST_SRCDIR/tests/lib.sh"

: "${GUST_FIXTURES:?GUST_FIXTURES is set by make check}"
SHAPE=$GUST_HELPERS/shape
REC=$GUST_FIXTURES/hook-record.so

# hook_project NAME HOOK_MEMBERS: builds fail while src/a.txt says "bad".
hook_project() {
	P=$T/$1
	PORT=$(free_port)
	mkdir -p "$P/src"
	echo good1 >"$P/src/a.txt"
	cat >"$P/gust.json" <<JSON
{
  "watch": { "include_ext": ["txt"], "debounce_ms": 20 },
  "builder": { "plugin": "shell",
    "cmd": "if grep -q bad src/a.txt; then echo 'a.txt:1: syntax error'; exit 3; fi; echo built" },
  "runner": { "plugin": "plain", "bin": "$SHAPE", "args": ["serve", "$PORT", "up"] },
  "hooks": [ { "plugin": "$REC", "file": "$T/$1.events" $2 } ]
}
JSON
}
events() { awk '{print $1}' "$T/$1.events" 2>/dev/null | paste -sd' '; }
has_events() { [ "$(events "$1")" = "$2" ]; }
pids_count() { noted_pids "$T/$1.pids" | wc -l; }

# ---- every event, in order, across a failure and a recovery ----
hook_project seq ""
start_gust "$P"
first="build_start build_done run_start ready"
ok_run "the first cycle: build started, done, run started, ready" wait_for 20 has_events seq "$first"
like "$(sed -n 4p "$T/seq.events")" "^ready status=0 .*detail=127\.0\.0\.1:$PORT" \
	"the ready event says what answered"
echo bad >"$P/src/a.txt"
failed="$first change build_start build_done"
ok_run "a failing build: change, build started, build done" wait_for 20 has_events seq "$failed"
like "$(sed -n 5p "$T/seq.events")" '^change status=0 paths=src/a\.txt ' "the change names the path"
like "$(sed -n 7p "$T/seq.events")" '^build_done status=768 .*last=a\.txt:1: syntax error$' \
	"the failed build's status and the tail of its output reach the hook"
echo good2 >"$P/src/a.txt"
ok_run "the recovery: change, build, the old run stopped, the new one started and ready" \
	wait_for 20 has_events seq "$failed change build_start build_done stop_done run_start ready"
like "$(sed -n 10p "$T/seq.events")" '^build_done status=0 .*last=built$' "the good build's status and tail"
stop_gust TERM
is "$GUST_STATUS" 0 "gust exits 0"

# ---- a hook asks for a rebuild once the first run is ready ----
hook_project rebuild ', "request": "rebuild", "request_on": 5'
start_gust "$P"
want="build_start build_done run_start ready build_start build_done stop_done run_start ready"
ok_run "a rebuild request: a second build, the run restarted, ready again" \
	wait_for 20 has_events rebuild "$want"
like "$(sed -n 5p "$T/rebuild.events")" '^build_start status=0 paths= ' "the rebuild has no changed path"
ok_run "gust says who asked" log_has 'hook: rebuild requested by hook "record"'
ok_run "the request was accepted" log_has 'record: asked for a rebuild: 0'
stop_gust TERM

# ---- a hook asks for a restart without a build ----
hook_project restart ', "request": "restart", "request_on": 5'
start_gust "$P"
want="build_start build_done run_start ready stop_done run_start ready"
ok_run "a restart request: the run stopped and started again, no build" \
	wait_for 20 has_events restart "$want"
ok_run "the restart's cycle line" log_has 'run: restarted on request of hook "record": old tree gone in [0-9]+ ms, ready in [0-9]+ ms'
is "$(log_count 'build: ok in')" 1 "one build only"
ok_run "the restarted program answers" wait_for 10 answers "$PORT" up
stop_gust TERM

# ---- a restart asked for before any build succeeded is refused ----
hook_project early ', "request": "restart", "request_on": 2'
start_gust "$P"
ok_run "a restart before any good build: -EAGAIN" wait_for 20 log_has 'record: asked for a restart: -11'
stop_gust TERM

# ---- the exec hook: chosen events, their variables, never overlapping ----
hook_project ex ""
cat >"$P/gust.json" <<JSON
{
  "watch": { "include_ext": ["txt"], "debounce_ms": 20 },
  "builder": { "plugin": "shell", "cmd": "if grep -q bad src/a.txt; then exit 3; fi" },
  "runner": { "plugin": "plain", "bin": "$SHAPE", "args": ["serve", "$PORT", "up"] },
  "hooks": [
    { "plugin": "exec", "on": ["build_failed", "ready"],
      "cmd": "echo \"\$GUST_EVENT \$GUST_STATUS [\$GUST_CHANGED] \$GUST_DETAIL\" >>$T/ex.out" },
    { "plugin": "exec", "on": ["build_start", "build_done", "run_start", "ready", "stop_done"],
      "cmd": "[ -e $T/busy ] && echo OVERLAP >>$T/slow.out; : >$T/busy; sleep 0.2; rm $T/busy; echo \$GUST_EVENT >>$T/slow.out" },
    { "plugin": "exec", "on": ["ready"], "env": { "SHAPE_PIDS": "$T/ex.pids" },
      "cmd": "$SHAPE grandchild pause" }
  ]
}
JSON
start_gust "$P"
ex_lines() { [ "$(wc -l <"$T/ex.out" 2>/dev/null)" -ge "$1" ]; }
ok_run "exec: the command runs on ready" wait_for 20 ex_lines 1
like "$(sed -n 1p "$T/ex.out")" "^ready 0 \[\] 127\.0\.0\.1:$PORT" "exec: GUST_EVENT, GUST_STATUS and GUST_DETAIL"
echo bad >"$P/src/a.txt"
ok_run "exec: and on a failed build" wait_for 20 ex_lines 2
like "$(sed -n 2p "$T/ex.out")" '^build_failed 3 \[src/a\.txt\] $' "exec: the exit code and the changed paths"
slow_done() { [ "$(tail -n 1 "$T/slow.out" 2>/dev/null)" = "build_failed" ] && [ ! -e "$T/busy" ]; }
ok_run "exec: the events that came while it ran end with the latest" wait_for 20 slow_done
unlike "$(cat "$T/slow.out")" OVERLAP "exec: the command never overlapped itself"
ok_run "exec: a command that leaves a process running" wait_for 20 eval '[ -n "$(noted_alive "$T/ex.pids")" ]'
stop_gust TERM
is "$GUST_STATUS" 0 "exec: gust exits 0"
ok_run "exec: its tree was stopped with gust" none_alive "$T/ex.pids"

# ---- bad hook configs: one line naming the path, exit 2 ----
P=$T/bad
mkdir -p "$P"
echo '{ "hooks": { "plugin": "x" } }' >"$P/gust.json"
out=$(cd "$P" && "$GUST" --print-config 2>&1); st=$?
is "$st" 2 "hooks not an array: exit 2"
like "$out" 'gust.json: /hooks: expected an array' "and the message names /hooks"
echo '{ "hooks": [ { "file": "x" } ] }' >"$P/gust.json"
out=$(cd "$P" && "$GUST" --print-config 2>&1); st=$?
is "$st" 2 "a hook without a plugin: exit 2"
like "$out" 'gust.json: /hooks/0/plugin: expected a plugin name' "and the message names /hooks/0/plugin"
echo "{ \"hooks\": [ { \"plugin\": \"$REC\", \"file\": \"x\", \"fiel\": 1 } ] }" >"$P/gust.json"
out=$(cd "$P" && "$GUST" 2>&1 </dev/null); st=$?
is "$st" 2 "an unknown key in a hook's section: exit 2"
like "$out" '/hooks/0/fiel: unknown key.*did you mean "file"' "and the message names it"
echo '{ "hooks": [ { "plugin": "exec", "cmd": "true", "on": ["ready", "build_fail"] } ] }' >"$P/gust.json"
out=$(cd "$P" && "$GUST" 2>&1 </dev/null); st=$?
is "$st" 2 "exec: an unknown event: exit 2"
like "$out" 'exec.*on/1: unknown event "build_fail"' "exec: and the message names it"

plan_done
