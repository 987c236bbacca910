#!/bin/bash
# Keys typed at gust's terminal, through a real pseudo-terminal
# (tests/helpers/ptydrive.py): r rebuilds and restarts, R restarts without
# a build, ? prints the help, q quits cleanly, and the terminal's modes
# (canonical input, echo) are off while gust runs and back after it exits,
# also after a crash signal. No keys without a terminal, nor when the
# program owns the terminal ("stdin": "tty").
. "$GUST_SRCDIR/tests/lib.sh"

DRIVE=$GUST_SRCDIR/tests/helpers/ptydrive.py

project keys '"cmd": "exec sleep 30", "ready": false'
# drive SCRIPT: gust in a pty in $P, the steps on stdin; results in $res
drive() {
	res=$(cd "$P" && printf '%s\n' "$@" |
		env GUST_TEST_MARK="$GUST_TEST_MARK" python3 "$DRIVE" "$T/pty.out" "$GUST" --color never 2>&1)
}
if ! command -v python3 >/dev/null; then
	skip "python3 (for the pseudo-terminal) is missing"
	plan_done
	exit
fi

drive "modes before" "expect keys: r rebuild" "expect run: started" "modes running" \
	"send r" "expect rebuild requested by key r" "expect build: ok in" \
	"expect restarted: build [0-9]+ ms" \
	"send R" "expect restarted on request of key R: old tree gone" \
	"send ?" "expect keys: r rebuild and restart, R restart without building" \
	"send q" "expect q pressed: stopping" "wait" "modes after"
like "$res" "before icanon=1 echo=1" "the terminal starts canonical, with echo"
like "$res" "running icanon=0 echo=0" "while gust runs: no canonical input, no echo"
is "$(grep -c 'build: ok in' "$T/pty.out")" 2 "r built once more; R did not build"
like "$res" "status 0" "q: gust exits 0"
like "$res" "after icanon=1 echo=1" "q: the modes are back"
unlike "$(cat "$T/pty.out")" "^r|^R" "the keys were not echoed"

drive "expect run: started" "modes running" "signal SEGV" "wait" "modes after"
like "$res" "running icanon=0 echo=0" "before the crash: keys mode"
like "$res" "status -11" "SIGSEGV still kills gust (re-raised)"
like "$res" "after icanon=1 echo=1" "after SIGSEGV the modes are back"

drive "expect run: started" "send q" "send q" "wait"
like "$res" "status 0" "q twice: still a clean exit"

# The program owns the terminal: gust leaves it alone.
project tty '"cmd": "exec sleep 30", "ready": false, "stdin": "tty"'
drive "expect run: started" "modes running" "signal TERM" "wait"
like "$res" "running icanon=1 echo=1" "stdin tty: gust does not touch the modes"
unlike "$(cat "$T/pty.out")" "keys: r" "stdin tty: no keys"

# No terminal: no keys.
project plain '"cmd": "exec sleep 30", "ready": false'
start_gust "$P"
ok_run "no terminal: gust runs" wait_for 20 log_has 'run: started'
unlike "$(gust_log)" "keys:" "no terminal: no keys line"
stop_gust TERM
plan_done
