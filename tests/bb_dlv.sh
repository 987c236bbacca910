#!/bin/bash
# The real Delve scenario: a Go HTTP server built by the real go toolchain,
# run by the real gust under the real dlv (runner "dlv"). An edit must bring
# the new version up on the same port with nothing of the old tree left; a
# client must reach the debugger; dlv killed with SIGKILL from outside must
# not leave its debuggee holding the port; gust's exit leaves nothing.
. "$GUST_SRCDIR/tests/lib.sh"

if ! command -v go >/dev/null 2>&1 || ! command -v dlv >/dev/null 2>&1; then
	echo "ok 1 # SKIP go or dlv not installed (apt-get install golang-go delve)"
	echo "1..1"
	exit 0
fi

# Bug: with log_output and program arguments, dlv_create wrote argv's
# terminator one slot past the array it allocated (AddressSanitizer aborts
# on it); from the config file and through --set.
L=$T/logargs
mkdir -p "$L"
cat >"$L/gust.json" <<EOF
{ "tmp_dir": "tmp", "lifecycle": { "postpone_first": true },
  "runner": { "plugin": "dlv", "log_output": "rpc", "args": ["-port", "1"] } }
EOF
for how in file set; do
	if [ "$how" = set ]; then
		sed -i 's/"log_output": "rpc", //' "$L/gust.json"
		start_gust "$L" --set runner.log_output=debugger
	else
		start_gust "$L"
	fi
	ok_run "dlv, log_output and args ($how): gust starts" wait_for 20 log_has "waiting for the first change"
	stop_gust TERM
	is "$GUST_STATUS" 0 "dlv, log_output and args ($how): gust exits 0"
	unlike "$(gust_log)" "AddressSanitizer|heap-buffer-overflow" "dlv, log_output and args ($how): no memory error"
done

# Everything go and dlv write stays under $T: build cache, module cache,
# temporary files, dlv's config (~/.config/dlv). No network: no deps.
mkdir -p "$T/go/cache" "$T/go/path" "$T/go/tmp" "$T/home/.config"
export GOCACHE=$T/go/cache GOPATH=$T/go/path GOTMPDIR=$T/go/tmp GOENV=off \
	GOFLAGS=-mod=mod GOTOOLCHAIN=local GOPROXY=off GOTELEMETRY=off \
	HOME=$T/home XDG_CONFIG_HOME=$T/home/.config

P=$T/proj
mkdir -p "$P"
cp "$GUST_SRCDIR/tests/fixtures/goserver/main.go" "$GUST_SRCDIR/tests/fixtures/goserver/go.mod" "$P/"
chmod u+w "$P"/*
DPORT=$(free_port)
PPORT=$(free_port)
while [ "$PPORT" = "$DPORT" ]; do PPORT=$(free_port); done

cat >"$P/gust.json" <<EOF
{
  "tmp_dir": "tmp",
  "watch": { "include_ext": ["go"], "exclude_dir": ["tmp"] },
  "builder": { "plugin": "shell", "cmd": "go build -gcflags='all=-N -l' -o ./tmp/main ." },
  "runner": { "plugin": "dlv", "listen": "127.0.0.1:$DPORT",
              "args": ["-port", "$PPORT"], "kill_delay_ms": 5000 }
}
EOF

# The body of GET ${2:-/} (the last line of the response), or nothing.
http_body() {
	local line last=""
	if { exec 8<>"/dev/tcp/127.0.0.1/$1"; } 2>/dev/null; then
		printf 'GET %s HTTP/1.0\r\nHost: localhost\r\n\r\n' "${2:-/}" >&8 2>/dev/null
		while IFS= read -r -t 5 line <&8; do last=$line; done
		exec 8<&- 8>&-
	fi
	printf '%s' "$last" | tr -d '\r'
}
serves() { [ "$(http_body "$1")" = "$2" ]; }

# One JSON-RPC call to Delve's API (JSON-RPC 1.0, one object per line).
dlv_version() {
	local line=""
	if { exec 7<>"/dev/tcp/127.0.0.1/$1"; } 2>/dev/null; then
		printf '{"method":"RPCServer.GetVersion","params":[{}],"id":1}\n' >&7 2>/dev/null
		IFS= read -r -t 10 line <&7 || true
		exec 7<&- 7>&-
	fi
	printf '%s' "$line"
}

# The marked process whose command name is $1 (dlv, or main: the debuggee).
pid_of() {
	local p
	for p in $(program_pids); do
		if [ "$(cat "/proc/$p/comm" 2>/dev/null)" = "$1" ]; then echo "$p"; return; fi
	done
}
pgid_of() { awk '{ sub(/.*\) /, ""); print $3 }' "/proc/$1/stat" 2>/dev/null; }

start_gust "$P"
# The first build fills an empty GOCACHE: tens of seconds on a slow machine.
ok_run "the Go server runs under dlv and answers v1" wait_for 300 serves "$PPORT" v1
dlv1=$(pid_of dlv)
main1=$(pid_of main)
ok_run "dlv and the debuggee are both found" test -n "$dlv1" -a -n "$main1"
ok_run "dlv put the debuggee in a process group of its own" \
	test -n "$main1" -a "$(pgid_of "$main1")" != "$(pgid_of "$dlv1")"
ok_run "the debugger port $DPORT accepts connections" port_listening "$DPORT"
like "$(dlv_version "$DPORT")" '"APIVersion":2' "Delve answers a JSON-RPC GetVersion call"
like "$(gust_log)" "dlv \\(pid $dlv1\\) serving the debugger API v2 on 127\\.0\\.0\\.1:$DPORT" \
	"gust says where the debugger listens"

sed -i 's/"v1"/"v2"/' "$P/main.go"
ok_run "after an edit the new build answers v2 on the same port" wait_for 180 serves "$PPORT" v2
ok_run "no process of the old tree survives (dlv $dlv1, debuggee $main1)" all_gone "$dlv1" "$main1"
dlv2=$(pid_of dlv)
main2=$(pid_of main)
ok_run "a new dlv and a new debuggee run" \
	test -n "$dlv2" -a -n "$main2" -a "$dlv2" != "$dlv1" -a "$main2" != "$main1"
like "$(dlv_version "$DPORT")" '"APIVersion":2' "the new dlv answers on the same debugger port"
unlike "$(gust_log)" "address already in use" "no start ever found a port taken"
ok_run "the restart is reported" wait_for 30 log_has "restarted"

# dlv killed from outside: its debuggee would keep the port (it is detached
# and re-parented to gust, the subreaper). gust must remove it.
kill -KILL "$dlv2"
ok_run "the orphaned debuggee $main2 is removed" wait_for 30 pid_gone "$main2"
ok_run "the program's port is free again" wait_for 10 port_free "$PPORT"
ok_run "the debugger's port is free again" wait_for 10 port_free "$DPORT"
like "$(gust_log)" "dlv \\(pid $dlv2\\) exited \\(killed by signal 9" "gust reports that dlv was killed"
like "$(gust_log)" "orphaned debuggee pid $main2" "gust names the orphaned debuggee it removes"
ok_run "gust keeps running" gust_running
ok_run "nothing of that run is left" wait_for 10 test -z "$(program_pids)"

sed -i 's/"v2"/"v3"/' "$P/main.go"
ok_run "the next edit starts a clean run that answers v3" wait_for 180 serves "$PPORT" v3
like "$(dlv_version "$DPORT")" '"APIVersion":2' "and its debugger answers"
dlv3=$(pid_of dlv)
main3=$(pid_of main)

# The program exits by itself (GET /exit: status 3). Headless dlv would stay
# and wait for clients, so no restart_on_exit could ever happen; gust ends
# the run and reports the program's own status.
http_body "$PPORT" /exit >/dev/null
ok_run "the program's own exit ends the run (dlv $dlv3, debuggee $main3)" \
	wait_for 30 all_gone "$dlv3" "$main3"
ok_run "its exit status is the run's" wait_for 10 log_has 'program exited \(exit status 3\)'
like "$(gust_log)" "the program \\(pid $main3\\) exited with status 3; dlv stopped with it" \
	"gust says dlv was stopped because the program exited"
ok_run "the debugger's port is free once the program exited" wait_for 10 port_free "$DPORT"
ok_run "gust keeps running after the program exited" gust_running
ok_run "nothing of the exited run is left" wait_for 10 test -z "$(program_pids)"
sed -i 's/"v3"/"v4"/' "$P/main.go"
ok_run "the next edit starts it again, answering v4" wait_for 180 serves "$PPORT" v4
dlv4=$(pid_of dlv)
main4=$(pid_of main)

stop_gust TERM
is "$GUST_STATUS" 0 "gust exits 0 on SIGTERM"
ok_run "nothing gust started is left" wait_for 10 no_marked_left
ok_run "dlv and the debuggee of the last run are gone" all_gone "$dlv4" "$main4"
ok_run "the program's port is free" port_free "$PPORT"
ok_run "the debugger's port is free" port_free "$DPORT"

# ---- readiness is the debuggee's, not dlv's ----------------------------------
# dlv binds its API port at once; the debuggee binds 300 ms after it
# started. The run is ready when the debuggee listens, and -v names the
# debuggee's address and pid, never dlv's port.
LATE=300
start_gust "$P" -v --set "runner.args=[\"-port\",\"$PPORT\",\"-listen-after-ms\",\"$LATE\"]"
ok_run "under dlv the run is reported ready" wait_for 180 log_has 'run: started, ready in [0-9]+ ms'
mainR=$(pid_of main)
ms=$(sed -nE 's/.*run: started, ready in ([0-9]+) ms.*/\1/p' "$T/gust.log" | head -n 1)
ok "$([ "${ms:-0}" -ge "$LATE" ]; echo $?)" \
	"under dlv: ready after the debuggee bound, not when dlv did (${ms:-?} ms >= $LATE)"
like "$(gust_log)" "ready: 127\\.0\\.0\\.1:$PPORT \\(tcp, pid ${mainR:-none}\\), after [0-9]+ wakeups" \
	"under dlv: the socket found is the debuggee's (pid ${mainR:-?}, port $PPORT)"
unlike "$(gust_log)" "ready: [^ ]*:$DPORT " "under dlv: dlv's own port $DPORT is never taken for readiness"
ok_run "under dlv: the server answers once reported ready" serves "$PPORT" v4
stop_gust TERM
ok_run "readiness under dlv: nothing left" wait_for 10 no_marked_left

# ---- exit_with_program: a client's restart, a signal, restart_on_exit ------
# A client restarts the program through dlv (halt, Restart, continue): gust
# follows the new debuggee and ends nothing. The debuggee killed by SIGKILL:
# the run ends "killed by signal 9", and restart_on_exit starts a new dlv.
start_gust "$P" --set lifecycle.restart_on_exit=true --set lifecycle.restart_delay_ms=200
ok_run "restart_on_exit under dlv: the program answers" wait_for 180 serves "$PPORT" v4
dlvA=$(pid_of dlv)
mainA=$(pid_of main)
restarted_by_client() { local m; m=$(pid_of main); [ -n "$m" ] && [ "$m" != "$mainA" ] && serves "$PPORT" v4; }
if { exec 6<>"/dev/tcp/127.0.0.1/$DPORT"; } 2>/dev/null; then
	printf '%s\n' '{"method":"RPCServer.Command","params":[{"name":"halt"}],"id":1}' >&6
	IFS= read -r -t 30 line <&6
	printf '%s\n' '{"method":"RPCServer.Restart","params":[{}],"id":2}' >&6
	IFS= read -r -t 60 line <&6
	like "$line" '"error":null' "a client restarts the program through dlv"
	printf '%s\n' '{"method":"RPCServer.Command","params":[{"name":"continue"}],"id":3}' >&6
	ok_run "the restarted program answers" wait_for 60 restarted_by_client
	exec 6<&- 6>&-
else
	ok 1 "a client connects to dlv on $DPORT"
fi
is "$(pid_of dlv)" "$dlvA" "gust leaves dlv running through a client's restart"
unlike "$(gust_log)" "program exited" "and reports no exit"
mainB=$(pid_of main)
kill -KILL "$mainB"
ok_run "the debuggee killed by SIGKILL: the run ends so" \
	wait_for 30 log_has 'program exited \(killed by signal 9'
like "$(gust_log)" "the program \\(pid $mainB\\) was killed by signal 9; dlv stopped with it" \
	"gust names the signal dlv reported"
ok_run "restart_on_exit starts it again under a new dlv" wait_for 60 log_has 'restarted after the program exited'
ok_run "which answers" wait_for 60 serves "$PPORT" v4
ok_run "in a new dlv" test -n "$(pid_of dlv)" -a "$(pid_of dlv)" != "$dlvA"
stop_gust TERM
ok_run "restart_on_exit under dlv: nothing left" wait_for 10 no_marked_left

# A program that exits at once (no port given: log.Fatal), before gust can
# see it among dlv's children: dlv is asked, the run ends with its status.
start_gust "$P" --set 'runner.args=[]'
ok_run "a program that exits at once: its status is the run's" \
	wait_for 60 log_has 'program exited \(exit status 1\)'
unlike "$(gust_log)" 'pid 0' "no pid is made up for it"
ok_run "and dlv is gone with it" wait_for 10 test -z "$(program_pids)"
stop_gust TERM
ok_run "a program that exits at once: nothing left" wait_for 10 no_marked_left

# ---- the debugger's port taken by someone else: a clear error -------------
BUSY=$(free_port)
"$P/tmp/main" -port "$BUSY" >"$T/occupant.log" 2>&1 </dev/null &
occupant=$!
if wait_for 30 port_listening "$BUSY"; then
	start_gust "$P" --set "runner.listen=127.0.0.1:$BUSY"
	ok_run "a taken debugger port is reported" \
		wait_for 120 log_has "runner.listen \"127\\.0\\.0\\.1:$BUSY\": address already in use by another process"
	ok_run "no dlv was started" test -z "$(pid_of dlv)"
	stop_gust TERM
else
	ok 1 "the occupant of port $BUSY did not come up"
fi
kill -KILL "$occupant" 2>/dev/null
wait "$occupant" 2>/dev/null

# ---- dlv not installed: one line naming the fix, nothing started -----------
mkdir -p "$T/nobin"
out=$(cd "$P" && timeout 20 env PATH="$T/nobin" "$GUST" 2>&1 </dev/null)
status=$?
ok_run "without dlv gust refuses to start (status $status)" test "$status" -ne 0 -a "$status" -ne 124
like "$out" "dlv not found on PATH; install Delve \\(apt-get install delve\\) or set runner.dlv" \
	"the error names the fix"

# ---- the preset -------------------------------------------------------------
I=$T/init
mkdir -p "$I"
(cd "$I" && "$GUST" init --preset go-dlv >/dev/null 2>&1 </dev/null)
like "$(cat "$I/gust.json" 2>/dev/null)" '"plugin": *"dlv"' "gust init --preset go-dlv writes a dlv runner"
like "$(cat "$I/gust.json" 2>/dev/null)" "all=-N -l" "and builds without optimisations for the debugger"

plan_done
