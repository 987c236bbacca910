#!/bin/bash
# Build orchestration through the real gust binary and the shell builder:
# a change during a slow build cancels it (its whole tree, escaped children
# included) and only the newest content ends up running; a failing build
# leaves the old server answering and shows why; fixing it brings the new
# one up; Ctrl-C or SIGTERM during a build leaves no build process behind;
# postpone_first and stop_on_build_failure; the builder's own options.
. "$GUST_SRCDIR/tests/lib.sh"

# The "compiler": records its pid and the pid of a child that escapes into
# its own session, fails on demand, is slow (1 s, or what build.sleep says),
# then "links" version.src into out.bin. builds.log gets "start PID" and
# "done PID" lines. Only *.src files are watched.
write_build_sh() { # DIR
	cat >"$1/build.sh" <<'EOF'
echo $$ >>build.pids
setsid sh -c 'echo $$ >>build.pids; exec sleep 30' </dev/null >/dev/null 2>&1 &
echo "start $$" >>builds.log
if grep -q FAIL version.src; then
	echo "compile error: version.src: FAIL is not a version" >&2
	exit 2
fi
sleep "$(cat build.sleep 2>/dev/null || echo 1)"
cp version.src out.bin
echo "done $$" >>builds.log
echo "built $(cat out.bin)"
EOF
}

# project DIR PORT LIFECYCLE_JSON: a project whose program serves out.bin.
project() {
	mkdir -p "$1"
	write_build_sh "$1"
	echo v1 >"$1/version.src"
	cat >"$1/gust.json" <<EOF
{
  "tmp_dir": "tmp",
  "watch": { "include_ext": ["src"], "debounce_ms": 20 },
  "lifecycle": $3,
  "builder": { "plugin": "shell", "cmd": "sh ./build.sh", "kill_delay_ms": 300 },
  "runner": { "plugin": "plain", "kill_delay_ms": 1000, "bin": "/bin/sh",
              "args": ["-c", "exec \"\$0\" serve $2 \"\$(cat out.bin)\"", "$GUST_HELPERS/shape"] }
}
EOF
}

count() { # FILE REGEX
	if [ -f "$1" ]; then grep -Ec -- "$2" "$1"; else echo 0; fi
}
starts_at_least() { [ "$(count "$P/builds.log" '^start')" -ge "$1" ]; }
build_pids_gone() { all_gone $(noted_pids "$P/build.pids"); }
set_version() { printf '%s\n' "$2" >"$1/version.src.tmp" && mv "$1/version.src.tmp" "$1/version.src"; }
two_build_pids() { [ "$(count "$P/build.pids" .)" -ge 2 ]; }
program_count() { program_pids | wc -l | tr -d ' '; }

# ---- slow builds and edits during them ----
P=$T/proj
PORT=$(free_port)
project "$P" "$PORT" '{}'
start_gust "$P"
ok_run "the first build runs and the program answers v1" wait_for 30 answers "$PORT" v1
ok_run "the first build's processes are gone once it is done" wait_for 10 build_pids_gone
first_run=$(program_pids)
is "$(program_count)" 1 "one program process, no build process left"

set_version "$P" v2
ok_run "an edit starts a build" wait_for 20 starts_at_least 2
cancelled=$(noted_pids "$P/build.pids")
set_version "$P" v3
ok_run "an edit during the build starts a new one" wait_for 20 starts_at_least 3
# The builder starts the new build only once the cancelled tree is gone.
ok_run "the cancelled build's processes, the escaped one included, are gone" \
	all_gone $cancelled
set_version "$P" v4
ok_run "the newest content ends up running" wait_for 30 answers "$PORT" v4
is "$(cat "$P/out.bin")" v4 "the binary holds the newest content"
is "$(count "$P/builds.log" '^done')" 2 "no cancelled build completed: one build at start-up, one final"
like "$(gust_log)" "cancelling the running build" "the cancellation is logged"
is "$(program_count)" 1 "exactly one program runs"
ok_run "nothing of the first run survives" all_gone $first_run
ok_run "no build process survives" wait_for 10 build_pids_gone
like "$(gust_log)" "build\| built v4" "the build's output is shown, prefixed"

# ---- a failing build keeps the old server; fixing it brings the new one ----
old_run=$(program_pids)
set_version "$P" "FAIL v5"
ok_run "the failure is reported" wait_for 30 log_has "build: failed"
like "$(gust_log)" "compile error: version.src: FAIL is not a version" "the compiler's message is shown"
like "$(gust_log)" "failed \(exit status 2\)" "the exit status is shown"
like "$(gust_log)" "previous program keeps running" "gust says the old program keeps running"
is "$(answer "$PORT")" v4 "the old server still answers"
is "$(program_pids)" "$old_run" "the old program was not restarted"
set_version "$P" v6
ok_run "fixing the build brings up the new program" wait_for 30 answers "$PORT" v6
ok_run "the old program is gone" all_gone $old_run

# ---- SIGTERM during a build: nothing of the build survives gust ----
echo 30 >"$P/build.sleep"
n=$(count "$P/builds.log" '^start')
set_version "$P" v7
ok_run "a long build starts" wait_for 20 starts_at_least $((n + 1))
pids=$(noted_pids "$P/build.pids")
stop_gust TERM
is "$GUST_STATUS" 0 "gust exits 0 on SIGTERM during a build"
ok_run "no build process survives gust's exit" all_gone $pids
ok_run "nothing gust started is left" wait_for 5 no_marked_left
ok_run "the port is free" port_free "$PORT"

# ---- Ctrl-C during a build stops the build's tree ----
P=$T/ctrlc
PORT=$(free_port)
project "$P" "$PORT" '{"postpone_first": true}'
echo 30 >"$P/build.sleep"
start_gust "$P"
ok_run "postponed: gust waits for a change" wait_for 20 log_has "waiting for the first change"
set_version "$P" v2
ok_run "the change starts the (long) build" wait_for 20 starts_at_least 1
ok_run "the build's escaped child is up" wait_for 5 two_build_pids
pids=$(noted_pids "$P/build.pids")
stop_gust INT
is "$GUST_STATUS" 0 "gust exits 0 after Ctrl-C during a build"
ok_run "the build's tree is gone after Ctrl-C" all_gone $pids
ok_run "nothing gust started is left after Ctrl-C" wait_for 5 no_marked_left
is "$(count "$P/builds.log" '^done')" 0 "the interrupted build never completed"

# ---- postpone_first: nothing starts until the first change ----
P=$T/postpone
PORT=$(free_port)
project "$P" "$PORT" '{"postpone_first": true}'
start_gust "$P"
ok_run "gust says it waits for the first change" wait_for 20 log_has "waiting for the first change"
# Asserting an absence needs a window; the build would start within ms.
sleep 0.5
ok_run "no build ran before the first change" test ! -e "$P/builds.log"
ok_run "no program runs before the first change" port_free "$PORT"
is "$(program_count)" 0 "gust started no process"
set_version "$P" v2
ok_run "the first change builds and runs" wait_for 30 answers "$PORT" v2
is "$(count "$P/builds.log" '^start')" 1 "exactly one build"
stop_gust TERM
ok_run "nothing left after the postpone_first run" wait_for 5 no_marked_left

# ---- stop_on_build_failure stops the old program ----
P=$T/stopfail
PORT=$(free_port)
project "$P" "$PORT" '{"stop_on_build_failure": true}'
start_gust "$P"
ok_run "stop_on_build_failure: the first build runs" wait_for 30 answers "$PORT" v1
old_run=$(program_pids)
set_version "$P" "FAIL v2"
ok_run "the failure is reported" wait_for 30 log_has "build: failed"
ok_run "the old program is stopped" wait_for 20 all_gone $old_run
ok_run "its port is free" wait_for 10 port_free "$PORT"
unlike "$(gust_log)" "previous program keeps running" "gust does not claim the old program runs"
set_version "$P" v3
ok_run "fixing it starts the new program" wait_for 30 answers "$PORT" v3
stop_gust TERM
ok_run "nothing left after the stop_on_build_failure run" wait_for 5 no_marked_left

# ---- the builder's options: steps, env, cwd, log_file, changed paths ----
P=$T/opts
PORT=$(free_port)
mkdir -p "$P/sub"
echo v1 >"$P/version.src"
cat >"$P/gust.json" <<EOF
{
  "tmp_dir": "tmp",
  "watch": { "include_ext": ["src"], "debounce_ms": 20 },
  "builder": { "plugin": "shell",
               "pre_cmd": ["echo pre1 >>../steps.txt", "echo pre2 >>../steps.txt"],
               "cmd": "echo \"cmd \$GREETING\" >>../steps.txt; printf '%s\\\\n' \"\$GUST_CHANGED\" >../changed.txt; cp \"\$GUST_CHANGED_FILE\" ../changed_file.txt; grep -q FAIL ../version.src && exit 3; printf 'no newline at the end'",
               "post_cmd": ["echo post >>../steps.txt"],
               "env": ["GREETING=hello"],
               "cwd": "sub",
               "log_file": "tmp/build.log" },
  "runner": { "plugin": "plain", "bin": "/bin/sh",
              "args": ["-c", "exec \"\$0\" serve $PORT \"\$(cat version.src)\"", "$GUST_HELPERS/shape"] }
}
EOF
start_gust "$P"
ok_run "options: the first build runs" wait_for 30 answers "$PORT" v1
is "$(tr '\n' ' ' <"$P/steps.txt")" "pre1 pre2 cmd hello post " "pre_cmd, cmd, post_cmd in order, in cwd, with env"
ok_run "a partial last line is shown" log_has "build\| no newline at the end"
set_version "$P" v2
ok_run "options: the edit is built" wait_for 30 answers "$PORT" v2
is "$(cat "$P/changed.txt")" version.src "GUST_CHANGED names the changed path"
is "$(cat "$P/changed_file.txt")" version.src "GUST_CHANGED_FILE lists it"
: >"$P/steps.txt"
set_version "$P" "FAIL v3"
ok_run "options: the failing build is reported" wait_for 30 log_has "failed \(exit status 3\)"
is "$(tr '\n' ' ' <"$P/steps.txt")" "pre1 pre2 cmd hello " "post_cmd does not run after a failed cmd"
is "$(answer "$PORT")" v2 "the old program keeps serving"
blog=$(cat "$P/tmp/build.log" 2>/dev/null)
is "$(printf '%s\n' "$blog" | grep -c '^==== gust build [0-9]* at ')" 3 "log_file: one header per build"
like "$blog" "no newline at the end" "log_file: the build's output"
like "$blog" "failed \(exit 3\)" "log_file: the result"
changed_is() { [ "$(cat "$P/changed_file.txt" 2>/dev/null)" = "$1" ]; }
# a failed build's paths come again with the next build, until one is good
echo x >"$P/other.src"
ok_run "GUST_CHANGED_FILE: the failed build's path comes again" \
	wait_for 30 changed_is "$(printf 'other.src\nversion.src')"
set_version "$P" v3
ok_run "options: the fix is built" wait_for 30 answers "$PORT" v3
# the list is rewritten in place: a shorter one keeps nothing of a longer one
oks=$(log_count 'build: ok in')
echo x >"$P/a-much-longer-name-than-the-other.src"
ok_run "GUST_CHANGED_FILE: a long name" wait_for 30 changed_is a-much-longer-name-than-the-other.src
# that build must be over before the next edit, or the edit cancels it
# and its path rightly comes again with the next build
builds_ok() { [ "$(log_count 'build: ok in')" -gt "$oks" ]; }
ok_run "the long name's build is over" wait_for 30 builds_ok
set_version "$P" "FAIL v4"
ok_run "GUST_CHANGED_FILE: a shorter list keeps nothing of the longer one" wait_for 30 changed_is version.src
stop_gust TERM
ok_run "nothing left after the options run" wait_for 5 no_marked_left

# ---- a step with nothing for a shell to do runs without one ----
P=$T/plain
PORT=$(free_port)
mkdir -p "$P"
echo v1 >"$P/version.src"
# found through the empty PATH entry: the step's directory (POSIX, execvp)
printf '#!/bin/sh\necho from-cwd-tool\n' >"$P/cwdtool"
chmod +x "$P/cwdtool"
cat >"$P/gust.json" <<EOF
{
  "tmp_dir": "tmp",
  "watch": { "include_ext": ["src"], "debounce_ms": 20 },
  "builder": { "plugin": "shell",
               "pre_cmd": ["printenv GREETING", "cd .", "cwdtool"],
               "cmd": "GREETING=viashell printenv GREETING",
               "env": ["GREETING=hello", "PATH=$PATH:"] },
  "runner": { "plugin": "plain", "bin": "$GUST_HELPERS/shape", "args": ["serve", "$PORT", "up"] }
}
EOF
start_gust "$P" -vv
ok_run "plain: the first build runs" wait_for 30 answers "$PORT" up
like "$(gust_log)" "printenv GREETING \\(no shell needed\\)" "a plain command runs without /bin/sh"
like "$(gust_log)" "build\\| hello" "with the step's environment"
unlike "$(gust_log)" "cd \\. \\(no shell needed\\)" "a shell builtin runs in the shell"
like "$(gust_log)" "cwdtool \\(no shell needed\\)" "an empty PATH entry is the step's directory, as for execvp"
like "$(gust_log)" "build\\| from-cwd-tool" "and the program found there runs"
unlike "$(gust_log)" "GREETING=viashell printenv GREETING \\(no shell needed\\)" "an assignment first runs in the shell"
like "$(gust_log)" "build\\| viashell" "and the shell does the assignment"
stop_gust TERM
ok_run "nothing left after the plain run" wait_for 5 no_marked_left

# A failing pre_cmd ends the build before cmd.
P=$T/prefail
mkdir -p "$P"
echo v1 >"$P/version.src"
cat >"$P/gust.json" <<EOF
{
  "tmp_dir": "tmp",
  "watch": { "include_ext": ["src"] },
  "lifecycle": { "postpone_first": false },
  "builder": { "plugin": "shell", "pre_cmd": ["echo pre-failing; exit 4"], "cmd": "touch cmd-ran" },
  "runner": { "plugin": "plain", "bin": "/bin/sh", "args": ["-c", "touch program-ran; exec sleep 30"] }
}
EOF
start_gust "$P"
ok_run "a failing pre_cmd fails the build" wait_for 30 log_has "failed \(exit status 4\)"
ok_run "cmd does not run after a failing pre_cmd" test ! -e "$P/cmd-ran"
ok_run "the program does not start after a failed first build" test ! -e "$P/program-ran"
ok_run "gust keeps running after a failed first build" gust_running
stop_gust TERM
ok_run "nothing left after the pre_cmd run" wait_for 5 no_marked_left

# Unknown builder keys are refused with the JSON path and a suggestion.
P=$T/badkey
mkdir -p "$P"
cat >"$P/gust.json" <<EOF
{ "builder": { "plugin": "shell", "cmd": "touch built", "pre_cmds": ["true"] },
  "runner": { "plugin": "plain", "bin": "/bin/sh", "args": ["-c", "touch program-ran; exec sleep 30"] } }
EOF
out=$(cd "$P" && GUST_TEST_MARK=$GUST_TEST_MARK "$GUST" 2>&1 </dev/null)
status=$?
is "$status" 2 "an unknown builder key exits 2"
like "$out" "/builder/pre_cmds" "the error names the key's JSON path"
like "$out" "pre_cmd" "the error suggests pre_cmd"
ok_run "the bad config built nothing" test ! -e "$P/built"
ok_run "the bad config ran nothing" test ! -e "$P/program-ran"

# ---- a failed build's edit undone: nothing to rebuild, and said ----
P=$T/undo
mkdir -p "$P/src" "$P/tmp"
echo v1 >"$P/src/a.txt"
cat >"$P/gust.json" <<EOF
{
  "tmp_dir": "tmp",
  "watch": { "include_ext": ["txt"], "debounce_ms": 20 },
  "builder": { "plugin": "shell", "cmd": "echo b >>tmp/builds; ! grep -q broken src/a.txt" },
  "runner": { "plugin": "plain", "bin": "/bin/sh", "ready": false,
    "args": ["-c", "exec sleep 1000"] }
}
EOF
nbuilds() { { wc -l <"$P/tmp/builds"; } 2>/dev/null || echo 0; }
builds_n() { [ "$(nbuilds)" -eq "$1" ]; }
start_gust "$P"
ok_run "undo: the first build" wait_for 20 builds_n 1
# An edit made while the first build runs would cancel it and turn the
# first run into a "started": wait for the run before editing.
ok_run "undo: the first run" wait_for 20 log_has 'run: started'
is "$(nbuilds)" 1 "undo: one build for the first run"
echo v2 >"$P/src/a.txt"
ok_run "undo: v2 builds" wait_for 20 log_has 'restarted: src/a.txt changed'
echo broken >"$P/src/a.txt"
ok_run "undo: the broken edit fails to build" wait_for 20 log_has 'build: failed'
echo v2 >"$P/src/a.txt"
ok_run "undo: putting back v2 is said in one line" wait_for 20 log_has \
	'^gust: watch: src/a\.txt is back to the content of the last good build: nothing to rebuild$'
is "$(nbuilds)" 3 "undo: and nothing was built for it"
echo v3 >"$P/src/a.txt"
ok_run "undo: a new edit builds again" wait_for 20 builds_n 4
stop_gust TERM

plan_done
