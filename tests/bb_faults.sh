#!/bin/bash
# What the kernel can refuse gust, injected (tests/helpers/sysfail installs
# the seccomp filters):
#  - pidfd_open and pidfd_send_signal fail with ENOSYS (kernels before 5.3):
#    a restart cycle, a SIGTERM-ignoring program, and all of bb_escape.sh
#    run again under the filter;
#  - the state file's disk is full (tmp_dir on a full 64 KiB tmpfs in a
#    private mount namespace): one warning line, gust keeps working, and
#    writes the file again once there is room;
#  - tmp_dir cannot be written (a read-only bind mount, or mode 0555 when
#    not root): one line naming the path, exit 2, nothing started;
#  - fork fails with EAGAIN (RLIMIT_NPROC reached; root ignores that limit,
#    so the filter refuses clone, clone3, fork and vfork while a file
#    exists): for a build and for a program, one line, the old program
#    keeps serving while the build cannot start, no busy retry, and gust
#    starts things again once fork works, without another edit.
# The inotify limits (ENOSPC for watches, EMFILE for instances) are tested
# in bb_watch.sh.
. "$GUST_SRCDIR/tests/lib.sh"

SYSFAIL=$GUST_HELPERS/sysfail
SHAPE=$GUST_HELPERS/shape
V='$(cat out/version.out)'
BUILD_CMD="mkdir -p out && cp src/version.txt out/version.out" # not for sub_test

# sub_test SCRIPT PREFIX: run another black-box test (own temp dir and
# marker) with this environment ($GUST_WRAPPER), each of its results one of
# ours.
sub_test() {
	local line n=0
	while IFS= read -r line; do
		case $line in
		"ok "* | "not ok "*)
			n=$((n + 1))
			_tap_n=$((_tap_n + 1))
			[ "${line%%ok *}" = "not " ] && _tap_fail=$((_tap_fail + 1))
			echo "${line%%ok *}ok $_tap_n - $2: ${line#*ok [0-9]* - }"
			;;
		"#"*) echo "$line" ;;
		esac
	done < <(bash "$GUST_SRCDIR/tests/$1" 2>&1)
	ok_run "$2: $1 ran ($n results)" test "$n" -gt 0
}

# The marked processes other than gust and sysfail's supervisor.
others_left() {
	local p
	for p in $(marked_pids); do
		[ "$p" = "${GUST_PID:-none}" ] || [ "$(cat "/proc/$p/comm" 2>/dev/null)" = sysfail ] ||
			return 0
	done
	return 1
}

# The program's processes: program_pids without sysfail's supervisor, which
# carries the marker too.
run_pids() {
	local p
	for p in $(program_pids); do
		[ "$(cat "/proc/$p/comm" 2>/dev/null)" = sysfail ] || echo "$p"
	done
}

# A project serving @PORT@ with its version: project NAME [KILL_DELAY] [SHAPE STAGES].
served() {
	PORT=$(free_port)
	project "$1" "\"kill_delay_ms\": ${2:-2000}, \"cmd\": \"exec '$SHAPE' ${3:-} serve $PORT $V\""
}

# ---- pidfd_open/pidfd_send_signal: ENOSYS ---------------------------------
out=$("$SYSFAIL" enosys pidfd_open "$SYSFAIL" try pidfd_open 2>&1)
if [ $? = 77 ]; then
	echo "# skipped: no seccomp filter here ($out)"
else
	is "$out" "pidfd_open: Function not implemented" "the filter makes pidfd_open fail with ENOSYS"
	export GUST_WRAPPER="$SYSFAIL enosys pidfd_open,pidfd_send_signal,pidfd_getfd"
	served nosys 300 ignore-term
	start_gust "$P"
	ok_run "no pidfd: the first run answers" wait_for 30 answers "$PORT" v1
	like "$(grep Seccomp: "/proc/$GUST_PID/status" 2>/dev/null)" "2$" "no pidfd: gust runs under the filter"
	old=$(program_pids)
	echo v2 >"$P/src/version.txt"
	ok_run "no pidfd: after an edit the new run answers on the same port" wait_for 30 answers "$PORT" v2
	# shellcheck disable=SC2086
	ok_run "no pidfd: the old program, which ignores SIGTERM, is gone ($(echo $old))" all_gone $old
	ok_run "no pidfd: the restart is reported" wait_for 10 log_has "restarted"
	unlike "$(gust_log)" "error|warning" "no pidfd: nothing is reported as going wrong"
	stop_gust TERM
	is "$GUST_STATUS" 0 "no pidfd: gust exits 0 on SIGTERM"
	ok_run "no pidfd: nothing is left" wait_for 10 no_marked_left
	sub_test bb_escape.sh "no pidfd"
	unset GUST_WRAPPER
fi

# ---- a full disk under tmp_dir: the state file ------------------------------
MNTNS=""
if [ "$(id -u)" = 0 ] && unshare -m true 2>/dev/null; then
	MNTNS="unshare -m"
elif unshare -rm true 2>/dev/null; then
	MNTNS="unshare -rm"
fi
# in_ns DIR ACTION PROG ARGS...: in a private mount namespace, DIR becomes
# a full 64 KiB tmpfs (full) or read-only (ro), then PROG is exec'd.
cat >"$T/in_ns.sh" <<'EOF'
dir=$1 action=$2
shift 2
case $action in
full) mount -t tmpfs -o size=64k gust-full "$dir" || exit 99
      head -c 1048576 /dev/zero >"$dir/filler" 2>/dev/null ;;
ro)   mount --bind "$dir" "$dir" && mount -o remount,bind,ro "$dir" || exit 99 ;;
esac
exec "$@"
EOF
if [ -z "$MNTNS" ]; then
	echo "# skipped: full disk and read-only tmp_dir need unshare -m (root) or unshare -rm"
else
	served full
	GUST_WRAPPER="$MNTNS sh $T/in_ns.sh $P/tmp full" start_gust "$P"
	state=/proc/$GUST_PID/root$P/tmp/gust.state
	ok_run "full disk: the first run answers" wait_for 30 answers "$PORT" v1
	WARN="warning: cannot write the state file \"$P/tmp/gust.state\": No space left on device"
	ok_run "full disk: one line says the state file cannot be written, and why" log_has "$WARN"
	ok_run "full disk: the state file is empty (the disk is full indeed)" test -f "$state" -a ! -s "$state"
	echo v2 >"$P/src/version.txt"
	ok_run "full disk: gust keeps working: an edit brings v2" wait_for 30 answers "$PORT" v2
	is "$(log_count "cannot write the state file")" 1 "full disk: the warning is not repeated"
	rm -f "/proc/$GUST_PID/root$P/tmp/filler"
	echo v3 >"$P/src/version.txt"
	ok_run "full disk, room again: an edit brings v3" wait_for 30 answers "$PORT" v3
	like "$(head -n 1 "$state" 2>/dev/null)" "^gust $GUST_PID [0-9]+ " \
		"full disk, room again: the state file is written again"
	stop_gust TERM
	is "$GUST_STATUS" 0 "full disk: gust exits 0 on SIGTERM"
	ok_run "full disk: nothing is left" wait_for 10 no_marked_left
fi

# ---- tmp_dir cannot be written ----------------------------------------------
# unwritable MODE DESC: gust in $P with tmp_dir "$TMPD" read-only (MODE ro:
# a read-only bind mount; chmod: mode 0555, for a user who is not root);
# sets $out and $status.
unwritable() {
	local ro=$1
	rm -rf "$P/out"
	if [ "$ro" = chmod ]; then
		chmod 0555 "$RO"
		out=$(cd "$P" && timeout 5 env GUST_TEST_MARK="$GUST_TEST_MARK" "$GUST" 2>&1 </dev/null)
		status=$?
		chmod 0755 "$RO"
	else
		out=$(cd "$P" && timeout 5 env GUST_TEST_MARK="$GUST_TEST_MARK" $MNTNS \
			sh "$T/in_ns.sh" "$RO" ro "$GUST" 2>&1 </dev/null)
		status=$?
	fi
}
RO_HOW=""
RO_ERR="Read-only file system"
if [ "$(id -u)" != 0 ]; then
	RO_HOW=chmod RO_ERR="Permission denied"
elif [ -n "$MNTNS" ]; then
	RO_HOW=ro
fi
if [ -z "$RO_HOW" ]; then
	echo "# skipped: a read-only tmp_dir needs unshare -m as root"
else
	served ro
	RO=$P/tmp
	unwritable "$RO_HOW"
	is "$out" "gust: tmp_dir \"$P/tmp\": cannot write there: $RO_ERR" \
		"read-only tmp_dir: one line naming the path and why"
	is "$status" 2 "read-only tmp_dir: gust exits 2"
	ok_run "read-only tmp_dir: nothing was built" test ! -e "$P/out"
	ok_run "read-only tmp_dir: nothing is left" wait_for 10 no_marked_left
	# a tmp_dir to create in a directory that cannot be written
	sed -i 's|"tmp_dir": "tmp"|"tmp_dir": "tmp/sub"|' "$P/gust.json"
	unwritable "$RO_HOW"
	is "$out" "gust: tmp_dir \"$P/tmp/sub\": cannot create: $RO_ERR" \
		"tmp_dir in a read-only directory: one line naming the path and why"
	is "$status" 2 "tmp_dir in a read-only directory: gust exits 2"
	ok_run "tmp_dir in a read-only directory: nothing was built" test ! -e "$P/out"
fi

# ---- fork fails with EAGAIN --------------------------------------------------
# LeakSanitizer needs clone() to stop the world at exit, which the filter
# refuses here: no leak check under it (the ASan build's other checks stay)
saved_asan=${ASAN_OPTIONS-}
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0"
ARM=$T/nproc.arm
FORKS=clone,clone3,fork,vfork
denied() { wc -l <"$ARM.denied" 2>/dev/null || echo 0; }
: >"$ARM"
out=$("$SYSFAIL" eagain-while "$ARM" "$FORKS" "$SYSFAIL" try fork 2>&1)
st=$?
rm -f "$ARM"
if [ $st = 77 ]; then
	echo "# skipped: no seccomp user notification here ($out)"
else
	is "$out" "fork: Resource temporarily unavailable" "the filter makes fork fail with EAGAIN"
	# the build arms the filter itself when the version says so: the
	# refused fork is then the program's
	BUILD_CMD="$BUILD_CMD; if grep -q arm src/version.txt; then : >'$ARM'; fi" served nproc
	rm -f "$ARM.denied"
	GUST_WRAPPER="$SYSFAIL eagain-while $ARM $FORKS" start_gust "$P"
	ok_run "no fork: the first run answers" wait_for 30 answers "$PORT" v1

	: >"$ARM"
	echo v2 >"$P/src/version.txt"
	ok_run "no fork for a build: one line says so" \
		wait_for 10 log_has "build: cannot start the build: cannot fork: Resource temporarily unavailable; trying again in 100 ms, then less often$"
	n=$(denied)
	# a backoff from 100 ms, doubling, tries at most 5 times in 1.5 s; a
	# busy retry would be refused thousands of times
	sleep 1.5 # a window to count retries in, not a wait
	ok_run "no fork for a build: no busy retry ($n, then $(denied) refused forks in 1.5 s)" \
		test "$(denied)" -le $((n + 8))
	ok_run "no fork for a build: the previous program keeps answering" answers "$PORT" v1
	rm -f "$ARM"
	ok_run "no fork for a build: built and run once fork works again, without an edit" \
		wait_for 10 answers "$PORT" v2
	is "$(log_count "cannot start the build")" 1 "no fork for a build: the retries add no lines"
	echo v2b >"$P/src/version.txt"
	ok_run "no fork for a build: the next edit builds and runs v2b" wait_for 30 answers "$PORT" v2b

	old=$(run_pids)
	echo arm >"$P/src/version.txt"
	ok_run "no fork for the program: one line says so" \
		wait_for 10 log_has "run: cannot start the program: cannot fork: Resource temporarily unavailable; trying again in 100 ms, then less often$"
	n=$(denied)
	sleep 1.5 # a window to count retries in, not a wait
	ok_run "no fork for the program: no busy retry ($n, then $(denied) refused forks in 1.5 s)" \
		test "$(denied)" -le $((n + 8))
	# shellcheck disable=SC2086
	ok_run "no fork for the program: nothing of the old run is left ($(echo $old))" all_gone $old
	ok_run "no fork for the program: gust keeps running" gust_running
	rm -f "$ARM"
	ok_run "no fork for the program: started once fork works again, without an edit" \
		wait_for 10 answers "$PORT" arm
	is "$(log_count "cannot start the program")" 1 "no fork for the program: the retries add no lines"
	echo v3 >"$P/src/version.txt"
	ok_run "no fork for the program: the next edit runs v3" wait_for 30 answers "$PORT" v3
	stop_gust TERM
	is "$GUST_STATUS" 0 "no fork: gust exits 0 on SIGTERM"
	ok_run "no fork: nothing is left (the supervisor ends with gust)" wait_for 10 no_marked_left
fi

export ASAN_OPTIONS="$saved_asan"
plan_done
