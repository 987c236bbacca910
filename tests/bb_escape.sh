#!/bin/bash
# Processes that drop or overwrite their own environment are still stopped
# with their run or build: a program that starts an env -i helper which
# double-forks a daemon, a program that is that helper, and daemons that
# overwrite argv and environ with a process title as nginx and PostgreSQL
# do (the launcher exiting at once, or only once the daemon listens). Each
# is checked after a restart, after gust's exit and after gust is
# SIGKILLed, and from a build; a daemon of the same user that gust did not
# start survives all of it.
. "$GUST_SRCDIR/tests/lib.sh"

SHAPE=$GUST_HELPERS/shape

# The last process noted (the daemon) shows no environment variable at all.
stripped() {
	local pid
	pid=$(tail -n 1 "$1" | awk '{print $1}')
	[ -n "$pid" ] && [ -r "/proc/$pid/environ" ] && [ -z "$(tr -d '\0' <"/proc/$pid/environ")" ]
}
lines_at_least() { [ "$(wc -l <"$1" 2>/dev/null || echo 0)" -ge "$2" ]; }

# An unrelated daemon of the same user, as stripped as the ones below.
OTHER_PORT=$(free_port)
"$SHAPE" --pids="$T/other.pids" daemon title other-daemon serve "$OTHER_PORT" other \
	</dev/null >/dev/null 2>&1
ok_run "an unrelated daemon answers" wait_for 10 answers "$OTHER_PORT" other
other=$(noted_alive "$T/other.pids")

# esc_case DESC CMD: CMD with @PORT@ and @PIDS@ filled in.
esc_case() {
	local desc=$1 cmd=$2 old
	PORT=$(free_port)
	PIDS=$T/p$_tap_n.pids
	project "e$_tap_n" "\"kill_delay_ms\": 2000, \"cmd\": \"$cmd\""
	sed -i "s|@PORT@|$PORT|g; s|@PIDS@|$PIDS|g" "$P/gust.json"

	start_gust "$P"
	ok_run "$desc: the first run answers" wait_for 30 answers "$PORT" v1
	ok_run "$desc: its daemon has no environment" wait_for 5 stripped "$PIDS"
	old=$(noted_alive "$PIDS")
	echo v2 >"$P/src/version.txt"
	ok_run "$desc: after an edit the new run answers on the same port" wait_for 30 answers "$PORT" v2
	# shellcheck disable=SC2086
	ok_run "$desc: nothing of the old run is left ($(echo $old))" all_gone $old
	stop_gust TERM
	is "$GUST_STATUS" 0 "$desc: gust exits 0 on SIGTERM"
	ok_run "$desc: nothing is left after gust exits" wait_for 5 none_alive "$PIDS"
	ok_run "$desc: the port is free after gust exits" port_free "$PORT"

	start_gust "$P"
	ok_run "$desc: a new gust's run answers" wait_for 30 answers "$PORT" v2
	ok_run "$desc: its daemon has no environment either" wait_for 5 stripped "$PIDS"
	old=$(noted_alive "$PIDS")
	stop_gust KILL
	# shellcheck disable=SC2086
	ok_run "$desc: after gust is SIGKILLed its run is removed ($(echo $old))" wait_for 10 all_gone $old
	echo v3 >"$P/src/version.txt"
	start_gust "$P"
	ok_run "$desc: the next gust's run binds the port" wait_for 30 answers "$PORT" v3
	stop_gust TERM
	ok_run "$desc: nothing is left at the end" wait_for 5 none_alive "$PIDS"
}

V='$(cat tmp/version.out)'
esc_case "env -i helper's daemon" \
	"env -i '$SHAPE' --pids=@PIDS@ daemon serve @PORT@ $V; exec '$SHAPE' pause"
esc_case "the program is the env -i helper" \
	"exec env -i '$SHAPE' --pids=@PIDS@ daemon serve @PORT@ $V"
esc_case "a titled daemon, launcher exits at once" \
	"exec '$SHAPE' --pids=@PIDS@ daemon title 'nginx: master process' serve @PORT@ $V"
esc_case "a titled daemon, launcher waits for it" \
	"exec '$SHAPE' --pids=@PIDS@ daemon-wait title postgres serve @PORT@ $V"

# build_case DESC CMD: a build that leaves such a daemon has it removed
# when the build ends.
build_case() {
	local desc=$1 cmd=$2
	PORT=$(free_port)
	PIDS=$T/b$_tap_n.pids
	BUILD_CMD="cp src/version.txt tmp/version.out; $cmd" \
		project "b$_tap_n" "\"cmd\": \"exec '$SHAPE' pause\", \"ready\": false"
	sed -i "s|@PORT@|$PORT|g; s|@PIDS@|$PIDS|g" "$P/gust.json"
	start_gust "$P"
	ok_run "$desc: the build's daemon was started" wait_for 30 lines_at_least "$PIDS" 3
	ok_run "$desc: the run starts after the build" wait_for 30 log_has "run: started"
	ok_run "$desc: the build's daemon is gone when the build ends" wait_for 10 none_alive "$PIDS"
	ok_run "$desc: its port is free" port_free "$PORT"
	stop_gust TERM
	is "$GUST_STATUS" 0 "$desc: gust exits 0"
}
build_case "build: env -i helper's daemon" "env -i '$SHAPE' --pids=@PIDS@ daemon serve @PORT@ b"
build_case "build: a titled daemon" "'$SHAPE' --pids=@PIDS@ daemon title 'sccache' serve @PORT@ b"

# keep_project NAME MORE: gust runs a project whose build starts a daemon
# named keepd (a copy of shape) serving $PORT, noted in $PIDS, then MORE;
# the builder keeps "keepd".
keep_project() {
	BUILD_CMD="cp src/version.txt tmp/version.out; bin/keepd --pids=$PIDS daemon serve $PORT kept$2" \
		project "$1" "\"cmd\": \"exec '$SHAPE' pause\", \"ready\": false"
	sed -i 's|"builder": { "plugin": "shell",|"builder": { "plugin": "shell", "keep": ["keepd"],|' "$P/gust.json"
	mkdir -p "$P/bin" && cp "$SHAPE" "$P/bin/keepd"
	start_gust "$P"
}

# keep_case HOW: a build tool's daemon named in the builder's "keep" stays
# across builds (the same process answers), while the build's other
# leftovers go; it goes when gust does (HOW: TERM or KILL).
keep_case() {
	local how=$1 d1 desc="keep ($1)"
	PORT=$(free_port)
	PIDS=$T/k$_tap_n.pids
	HPIDS=$T/h$_tap_n.pids
	keep_project "k$_tap_n" "; '$SHAPE' --pids=$HPIDS daemon pause"
	ok_run "$desc: the kept daemon answers after the first build" wait_for 30 answers "$PORT" kept
	ok_run "$desc: the run starts" wait_for 30 log_has "run: started"
	ok_run "$desc: the build's other daemon is gone" wait_for 10 none_alive "$HPIDS"
	d1=$(noted_alive "$PIDS")
	is "$(echo "$d1" | wc -w)" 1 "$desc: one kept daemon"
	: >"$HPIDS"
	echo v2 >"$P/src/version.txt"
	ok_run "$desc: the second build ran" wait_for 30 log_has "restarted"
	ok_run "$desc: the second build's other daemon is gone too" wait_for 10 none_alive "$HPIDS"
	is "$(noted_alive "$PIDS")" "$d1" "$desc: the kept daemon is the same process"
	ok_run "$desc: and still answers" answers "$PORT" kept
	stop_gust "$how"
	ok_run "$desc: the kept daemon goes with gust" wait_for 10 none_alive "$PIDS"
	ok_run "$desc: its port is free" wait_for 5 port_free "$PORT"
}
keep_case TERM
keep_case KILL

# A kept daemon that ends by itself takes its reaper with it.
PORT=$(free_port)
PIDS=$T/ke.pids
keep_project ke ""
ok_run "keep: the kept daemon answers" wait_for 30 answers "$PORT" kept
ok_run "keep: the run starts" wait_for 30 log_has "run: started"
reapers_are() { [ "$(reaper_pids | wc -l)" = "$1" ]; }
ok_run "keep: two reapers, the run's and the kept daemon's" wait_for 10 reapers_are 2
kept=$(noted_alive "$PIDS")
# shellcheck disable=SC2086
kill $kept
ok_run "keep: once it ends, its reaper is gone" wait_for 10 reapers_are 1
stop_gust TERM
is "$GUST_STATUS" 0 "keep: gust exits 0"

ok_run "the unrelated daemon still answers" answers "$OTHER_PORT" other
# shellcheck disable=SC2086
ok_run "the unrelated daemon is the same process" test "$(noted_alive "$T/other.pids")" = "$other"
# shellcheck disable=SC2086
kill $other 2>/dev/null
# shellcheck disable=SC2086
ok_run "the unrelated daemon ends when the test ends it" wait_for 5 all_gone $other
plan_done
