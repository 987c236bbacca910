#!/bin/bash
# The runner lifecycle through the real gust binary: for every process shape
# that escapes a plain group kill, an edit restarts the program on the same
# port with nothing of the old tree left, and gust's exit leaves nothing at
# all. Also: exec failures name the binary and the reason; stop_signal takes
# every standard signal name and the one configured is what is sent.
. "$GUST_SRCDIR/tests/lib.sh"

SHAPE=$GUST_HELPERS/shape


# A zombie child of gust would show here: gust reaps everything.
no_zombies() {
	local p s
	for p in /proc/[0-9]*; do
		s=$(sed 's/.*) //' "$p/stat" 2>/dev/null) || continue
		set -- $s
		[ "$2" = "$GUST_PID" ] && [ "$1" = Z ] && return 1
	done
	return 0
}

# shape_case DESC KILL_DELAY_MS CMD: the restart and exit checks for one
# shape. CMD is a shell command line; $PORT and the version are filled in.
shape_case() {
	local desc=$1 delay=$2 cmd=$3
	PORT=$(free_port)
	project "p$_tap_n" "\"kill_delay_ms\": $delay, \"cmd\": \"$cmd\""
	sed -i "s/@PORT@/$PORT/g" "$P/gust.json"
	start_gust "$P"
	ok_run "$desc: the first run answers" wait_for 30 answers "$PORT" v1
	local old
	old=$(program_pids)
	echo v2 >"$P/src/version.txt"
	ok_run "$desc: after an edit the new run answers on the same port" wait_for 30 answers "$PORT" v2
	# shellcheck disable=SC2086
	ok_run "$desc: no process of the old tree is left ($(echo $old))" all_gone $old
	stop_gust TERM
	is "$GUST_STATUS" 0 "$desc: gust exits 0 on SIGTERM"
	ok_run "$desc: nothing is left after gust exits" wait_for 5 no_marked_left
	ok_run "$desc: the port is free" port_free "$PORT"
}

V='$(cat tmp/version.out)'
# 1. a grandchild holding the port: sh -c 'server & wait'
shape_case "grandchild" 2000 "'$SHAPE' serve @PORT@ $V & wait"
# 2. a grandchild in a session of its own
shape_case "setsid grandchild" 2000 "exec '$SHAPE' setsid serve @PORT@ $V"
# 3. a double-forked daemon whose parent has exited
shape_case "double-fork daemon" 2000 "exec '$SHAPE' daemon serve @PORT@ $V"
# 4. SIGTERM ignored: SIGKILL after the delay, the new run binds the port
shape_case "child ignoring SIGTERM" 300 "exec '$SHAPE' ignore-term serve @PORT@ $V"
# 6. forked from a non-main thread, leaving the group; and setpgid(0,0)
shape_case "thread-forked setsid child" 2000 "exec '$SHAPE' thread-fork serve @PORT@ $V"
shape_case "child calling setpgid(0,0)" 2000 "exec '$SHAPE' grandchild setpgid serve @PORT@ $V"
shape_case "setpgid child ignoring SIGTERM" 300 "exec '$SHAPE' grandchild setpgid ignore-term serve @PORT@ $V"
# 7. sh -c 'a; b' wrappers: the shell stays as the parent
shape_case "sh -c 'a; b' wrapper" 2000 "'$SHAPE' setsid serve @PORT@ $V; echo not reached"

# 5. a SIGTERM handler that takes a second: the next run starts only after
# it is done (the old server keeps its port until then: the new one would
# fail to bind)
PORT=$(free_port)
project slow "\"kill_delay_ms\": 5000, \"cmd\": \"exec '$SHAPE' slow-term 1000 tmp/done-$V serve $PORT $V\""
start_gust "$P"
ok_run "slow SIGTERM handler: the first run answers" wait_for 30 answers "$PORT" v1
old=$(program_pids)
echo v2 >"$P/src/version.txt"
ok_run "slow SIGTERM handler: the new run answers" wait_for 30 answers "$PORT" v2
ok_run "slow SIGTERM handler: the old run finished its handler" test -e "$P/tmp/done-v1"
ok_run "slow SIGTERM handler: the stop waited for it (not SIGKILL)" \
	wait_for 10 log_has "old tree gone in [0-9]{4,} ms"
# shellcheck disable=SC2086
ok_run "slow SIGTERM handler: the old process is gone" all_gone $old
stop_gust INT
is "$GUST_STATUS" 0 "slow SIGTERM handler: gust exits 0 on SIGINT"
ok_run "slow SIGTERM handler: SIGINT to gust waits for the handler too" test -e "$P/tmp/done-v2"
ok_run "slow SIGTERM handler: nothing is left" wait_for 5 no_marked_left

# 8. 20 edits within two seconds against a server
PORT=$(free_port)
project storm "\"cmd\": \"exec '$SHAPE' setsid serve $PORT $V\""
start_gust "$P"
ok_run "edit storm: the first run answers" wait_for 30 answers "$PORT" v1
nfd_before=$(ls "/proc/$GUST_PID/fd" | wc -l)
for i in $(seq 1 20); do
	echo "s$i" >"$P/src/version.txt"
	sleep 0.1
done
ok_run "edit storm: the last edit wins" wait_for 30 answers "$PORT" s20
fd_settled() { [ "$(ls "/proc/$GUST_PID/fd" | wc -l)" -le "$nfd_before" ]; }
one_server() { [ "$(program_pids | wc -l)" -eq 2 ]; } # setsid: parent + server
ok_run "edit storm: exactly one run is alive" wait_for 5 one_server
ok_run "edit storm: gust has no zombie children" wait_for 5 no_zombies
ok_run "edit storm: gust's file descriptors did not grow ($nfd_before before)" wait_for 5 fd_settled
stop_gust TERM
ok_run "edit storm: nothing is left" wait_for 5 no_marked_left
ok_run "edit storm: the port is free" port_free "$PORT"

# They were re-parented to init, not to the new gust: reaping them is
# init's job (a container's init may never do it), so a zombie counts here.
gone_or_zombie() {
	local p
	for p in "$@"; do
		pid_gone "$p" || [ "$(sed 's/.*) //' "/proc/$p/stat" 2>/dev/null | cut -c1)" = Z ] || return 1
	done
}

# ---- gust itself SIGKILLed: its run's reaper removes the run at once ----
PORT=$(free_port)
project killed "\"cmd\": \"exec '$SHAPE' setsid serve $PORT $V\""
start_gust "$P"
ok_run "killed gust: the first run answers" wait_for 30 answers "$PORT" v1
old=$(program_pids)
# gust's one child: no build runs
reaper=$(echo $(cat "/proc/$GUST_PID/task/$GUST_PID/children"))
ok_run "killed gust: the run has a reaper, gust's child ($reaper)" \
	test -n "$reaper" -a "$(cat "/proc/$reaper/comm" 2>/dev/null)" = gust-reaper
kill -KILL "$GUST_PID"
wait "$GUST_PID" 2>/dev/null
GUST_PID=""
# shellcheck disable=SC2086
ok_run "killed gust: the reaper removes the run and exits ($(echo $old $reaper))" \
	wait_for 5 gone_or_zombie $old $reaper
ok_run "killed gust: the port is free" port_free "$PORT"

# ---- ... and when the reaper is killed too, the next gust removes what
# the state file records (the refresh records the escaped server) ----
start_gust "$P"
ok_run "killed gust and reaper: the first run answers" wait_for 30 answers "$PORT" v1
old=$(program_pids)
reaper=$(echo $(cat "/proc/$GUST_PID/task/$GUST_PID/children"))
state_lines() { [ "$(wc -l <"$P/tmp/gust.state")" -ge 4 ]; } # gust, reaper, 2 more
ok_run "killed gust and reaper: the state file records the run" wait_for 10 state_lines
kill -KILL "$GUST_PID" "$reaper"
wait "$GUST_PID" 2>/dev/null
GUST_PID=""
ok_run "killed gust and reaper: the escaped server is still there, holding the port" \
	answers "$PORT" v1
echo v2 >"$P/src/version.txt"
start_gust "$P"
ok_run "killed gust: the next gust removes the leftovers and its run answers" wait_for 30 answers "$PORT" v2
like "$(gust_log)" "removed [0-9]+ process\(es\) left behind by a killed gust" "killed gust: the removal is reported"
# shellcheck disable=SC2086
ok_run "killed gust: no process of the killed gust's run is left ($(echo $old $reaper))" \
	gone_or_zombie $old $reaper

# A second gust in the same project refuses to start, naming the first; the
# first one's state file and run are left as they were.
out=$(cd "$P" && timeout 20 "$GUST" 2>&1 </dev/null)
status=$?
ok_run "a second gust in the project refuses to start (status $status)" test "$status" -ne 0 -a "$status" -ne 124
like "$out" "another gust \\(pid $GUST_PID\\) is running in this project.*stop it first" \
	"the message names the running gust"
ok_run "the first gust's state file is still there" test -s "$P/tmp/gust.state"
ok_run "and its program still answers" answers "$PORT" v2
stop_gust TERM
ok_run "killed gust: nothing is left" wait_for 5 no_marked_left

# A gust that has started nothing yet (postpone_first) is found too.
start_gust "$P" --set lifecycle.postpone_first=true
ok_run "postpone_first: the state file is written at the start" wait_for 10 test -s "$P/tmp/gust.state"
out=$(cd "$P" && timeout 20 "$GUST" 2>&1 </dev/null)
status=$?
ok_run "postpone_first: a second gust refuses to start (status $status)" test "$status" -ne 0 -a "$status" -ne 124
like "$out" "another gust \\(pid $GUST_PID\\) is running" "postpone_first: the message names it"
stop_gust TERM

# A gust started while the previous one is still stopping its run (a
# program that ignores SIGTERM: the kill delay) waits for it, then starts.
# Of two that wait, one starts and the other refuses (a bug: both started,
# sharing the state file); one sent SIGTERM while waiting gives up at once
# (a bug: it slept through signals).
PORT=$(free_port)
project quitting "\"kill_delay_ms\": 4000, \"cmd\": \"exec '$SHAPE' ignore-term serve $PORT $V\""
start_gust "$P"
ok_run "a slow stop: the program answers" wait_for 30 answers "$PORT" v1
first=$GUST_PID
kill -TERM "$first"
ok_run "the first gust says it is stopping" wait_for 10 grep -q quitting "$P/tmp/gust.state"
mv "$T/gust.log" "$T/gust-first.log"
echo v2 >"$P/src/version.txt"
waiter() { # LOG: another gust in $P, in the background, marked
	(cd "$P" && exec env GUST_TEST_MARK="$GUST_TEST_MARK" "$GUST" >"$1" 2>&1 </dev/null) &
}
waiter "$T/third.log"
third=$!
waiter "$T/fourth.log"
fourth=$!
start_gust "$P"
ok_run "a gust that waits says so" wait_for 10 grep -q "waiting for the previous gust" "$T/fourth.log"
kill -TERM "$fourth"
wait "$fourth"
status=$?
ok_run "sent SIGTERM while it waits, it gives up (status $status)" test "$status" -ne 0
like "$(cat "$T/fourth.log")" "SIGTERM received while waiting for the previous gust: not started" \
	"and says why"
wait "$first"
is "$?" 0 "the first gust exits 0"
ok_run "the second gust waited for it" wait_for 10 log_has "waiting for the previous gust \\(pid $first\\) to finish stopping"
# which of the two gets the project is a race: exactly one must
running() { [ -e "/proc/$1" ] && [ "$(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | cut -c1)" != Z ]; }
one_runs() { # (bash groups a && b || c && d as ((a && b) || c) && d)
	if running "$GUST_PID"; then ! running "$third"; else running "$third"; fi
}
ok_run "of two waiting gusts exactly one runs" wait_for 30 one_runs
ok_run "and it runs the new version" wait_for 30 answers "$PORT" v2
if running "$third"; then loser=$GUST_PID winner=$third; else loser=$third winner=$GUST_PID; fi
wait "$loser"
status=$?
ok_run "the other one refused (status $status)" test "$status" -ne 0
kill -TERM "$winner"
wait "$winner"
is "$?" 0 "the one that ran exits 0"
GUST_PID=""
ok_run "a slow stop: nothing left" wait_for 5 no_marked_left

# ---- exec failures are reported with the binary and the reason ----
project noexec '"bin": "./tmp/nosuch"'
start_gust "$P"
ok_run "a missing binary is reported" wait_for 30 log_has 'cannot execute "\./tmp/nosuch": No such file or directory'
ok_run "gust keeps running after an exec failure" gust_running
stop_gust TERM
is "$GUST_STATUS" 0 "gust exits 0 after an exec failure and SIGTERM"

project noperm '"bin": "src/version.txt"'
start_gust "$P"
ok_run "a binary without execute permission is reported" wait_for 30 log_has 'cannot execute "src/version\.txt": Permission denied'
stop_gust TERM

project nopath '"bin": "gust-no-such-program"'
start_gust "$P"
ok_run "a command not in PATH is reported" wait_for 30 log_has 'cannot execute "gust-no-such-program": .*not found in PATH'
stop_gust TERM

# ---- stop_signal ----
# The configured signal is the one sent: the server ignores SIGTERM, so a
# fast restart with a long kill delay proves SIGINT (default action) went.
PORT=$(free_port)
project stopsig "\"stop_signal\": \"SIGINT\", \"kill_delay_ms\": 60000, \"cmd\": \"exec '$SHAPE' ignore-term serve $PORT $V\""
start_gust "$P"
ok_run "stop_signal SIGINT: the first run answers" wait_for 30 answers "$PORT" v1
echo v2 >"$P/src/version.txt"
ok_run "stop_signal SIGINT: the restart does not wait for the kill delay" wait_for 20 answers "$PORT" v2
stop_gust TERM

# Every standard name is accepted, with or without SIG, in any case, and
# numbers; a bad name is refused naming the key.
names="HUP INT QUIT ILL TRAP ABRT BUS FPE KILL USR1 SEGV USR2 PIPE ALRM TERM STKFLT CHLD CONT STOP TSTP TTIN TTOU URG XCPU XFSZ VTALRM PROF WINCH IO PWR SYS"
bad=""
for n in $names SIGTERM sigusr1 usr2 15 9; do
	project "sig-$n" "\"stop_signal\": \"$n\", \"bin\": \"./tmp/nosuch\""
	sed -i 's/"cmd": "cp src\/version.txt tmp\/version.out"/"cmd": "false"/' "$P/gust.json"
	out=$(cd "$P" && timeout 0.7 "$GUST" 2>&1 </dev/null)
	status=$?
	# accepted: gust runs (a failing build keeps it waiting) until timeout
	if [ "$status" != 124 ] || printf '%s' "$out" | grep -q stop_signal; then bad="$bad $n($status)"; fi
done
is "$bad" "" "every standard signal name and number is accepted as stop_signal"
project sigbad '"stop_signal": "SIGFOO"'
out=$(cd "$P" && "$GUST" 2>&1 </dev/null)
is "$?" 2 "an unknown stop_signal: exit status 2"
like "$out" 'stop_signal.*SIGFOO' "an unknown stop_signal is named"

# ---- containment ----
# A server that execs with an empty environment, leaves the group and is
# orphaned at once: every mode removes it on restart and on exit (the
# default, "reaper", also in bb_escape.sh with more shapes). It carries no
# test marker, so whatever survives is killed here by its port.
kill_port_owner() {
	local p
	for p in $(ss -Hltnp "sport = :$1" 2>/dev/null | grep -o 'pid=[0-9]*' | cut -d= -f2); do kill -9 "$p"; done
}
# ---- a program that exits by itself ----
# Without restart_on_exit it stays down until the next build; with it, it
# starts again after restart_delay_ms, the delay doubling up to
# restart_max_delay_ms.
runs() { if [ -f "$T/runs-$1" ]; then wc -l <"$T/runs-$1" | tr -d ' '; else echo 0; fi; }
runs_at_least() { [ "$(runs "$1")" -ge "$2" ]; }
project exits "\"cmd\": \"echo run >> '$T/runs-exits'; exec '$SHAPE' exit 3\""
start_gust "$P"
ok_run "a program that exits: it ran" wait_for 30 runs_at_least exits 1
ok_run "its exit is reported with its status" wait_for 10 log_has 'program exited \(exit status 3\)'
sleep 1 # nothing to wait for: a window in which nothing may start it
is "$(runs exits)" 1 "without restart_on_exit it is not started again"
echo v2 >"$P/src/version.txt"
ok_run "the next build starts it again" wait_for 30 runs_at_least exits 2
stop_gust TERM
is "$GUST_STATUS" 0 "a program that exits: gust exits 0"

project exitr "\"cmd\": \"echo run >> '$T/runs-exitr'; exec '$SHAPE' exit 3\"" \
	'"lifecycle": { "restart_on_exit": true, "restart_delay_ms": 100, "restart_max_delay_ms": 400 }'
start_gust "$P"
ok_run "restart_on_exit: the program is started again and again" wait_for 30 runs_at_least exitr 6
stop_gust TERM
is "$GUST_STATUS" 0 "restart_on_exit: gust exits 0"
ok_run "restart_on_exit: nothing is left" wait_for 10 no_marked_left
log=$(gust_log | tr "\n" " ") # one line: the order matters
like "$log" 'restarting in 100 ms.*restarting in 200 ms.*restarting in 400 ms.*restarting in 400 ms' \
	"restart_on_exit: the delay doubles up to restart_max_delay_ms"
unlike "$log" 'restarting in 800 ms' "restart_on_exit: and stays there"
like "$log" 'restarted after the program exited' "restart_on_exit: a restart says why"
unlike "$log" 'restarted: build' "restart_on_exit: and is not reported as a build's"

cgdir=$(sed -n 's/^0:://p' /proc/self/cgroup)
cgmnt=$(awk '/ - cgroup2 /{print $5; exit}' /proc/self/mountinfo)
for mode in reaper cgroup pidns; do
	if [ "$mode" = cgroup ] && ! { [ -n "$cgmnt" ] && [ -w "$cgmnt$cgdir" ]; }; then
		echo "# skip: containment cgroup: no writable cgroup v2 here"; continue
	fi
	if [ "$mode" = pidns ] && ! unshare -Upr --fork true 2>/dev/null; then
		echo "# skip: containment pidns: no pid namespaces here"; continue
	fi
	PORT=$(free_port)
	# pidns: the program must live on (its namespace dies with it)
	stages="clearenv daemon"; [ "$mode" = pidns ] && stages="setsid clearenv"
	project "contain-$mode" "\"containment\": \"$mode\", \"kill_delay_ms\": 5000, \"cmd\": \"exec '$SHAPE' $stages serve $PORT $V\""
	start_gust "$P"
	ok_run "containment $mode: the escaping server answers" wait_for 30 answers "$PORT" v1
	echo v2 >"$P/src/version.txt"
	ok_run "containment $mode: the restart removed the escaped server" wait_for 20 answers "$PORT" v2
	gpid=$GUST_PID
	stop_gust TERM
	ok_run "containment $mode: nothing holds the port after gust exits" wait_for 10 port_free "$PORT"
	kill_port_owner "$PORT"
	left=$(ls -d "$cgmnt$cgdir"/gust-"$gpid"-* 2>/dev/null; true)
	is "$left" "" "containment $mode: no cgroup of gust is left"
done
project contain-bad '"containment": "jail"'
out=$(cd "$P" && "$GUST" 2>&1 </dev/null)
like "$out" 'containment.*jail' "an unknown containment is named"

plan_done
