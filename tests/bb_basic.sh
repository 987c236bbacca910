#!/bin/bash
# The whole pipeline through the real gust binary: start, edit, the new
# program answers; bad configs give one clear line, exit 2, start nothing;
# the command line's informational options.
. "$GUST_SRCDIR/tests/lib.sh"

P=$T/proj
mkdir -p "$P/src"
PORT=$(free_port)
echo v1 >"$P/src/version.txt"
cat >"$P/gust.json" <<EOF
{
  "tmp_dir": "tmp",
  "watch": { "include_ext": ["txt"], "debounce_ms": 20 },
  "builder": { "plugin": "shell", "cmd": "cp src/version.txt tmp/version.out" },
  "runner": { "plugin": "plain",
              "cmd": "exec '$GUST_HELPERS/shape' serve $PORT \"\$(cat tmp/version.out)\"" }
}
EOF

start_gust "$P"
ok_run "first build runs and the program answers v1" wait_for 30 answers "$PORT" v1
first=$(program_pids)
like "$(gust_log)" "build: ok in" "the build is reported"

echo v2 >"$P/src/version.txt"
ok_run "an edit rebuilds and the new program answers v2" wait_for 30 answers "$PORT" v2
gone=0
for p in $first; do pid_gone "$p" || gone=1; done
is "$gone" 0 "no process of the first run survives the restart"
is "$(log_count 'build: ok in')" 2 "exactly two builds (start-up and one edit)"

# A file that does not match include_ext changes nothing.
echo x >"$P/src/notes.md"
echo v3 >"$P/src/version.txt"
ok_run "the next edit is picked up too" wait_for 30 answers "$PORT" v3
is "$(log_count 'build: ok in')" 3 "the .md file caused no build of its own"

stop_gust INT
is "$GUST_STATUS" 0 "gust exits 0 after Ctrl-C"
ok_run "nothing gust started is left" wait_for 5 no_marked_left
ok_run "the port is free" port_free "$PORT"

# ---- verbosity: -v shows the core's detail, -q only warnings and errors ----
start_gust "$P" -v
ok_run "-v: the program answers again" wait_for 30 answers "$PORT" v3
# the first event of a file since gust started is a change (no hash of it
# yet); a touch after that build is not
builds_logged() { [ "$(log_count 'build: ok in')" = "$1" ]; }
ok_run "-v: the first build" wait_for 30 builds_logged 1
touch "$P/src/version.txt"
ok_run "-v: the first touch since the start builds (nothing recorded yet)" wait_for 30 builds_logged 2
touch "$P/src/version.txt"
ok_run "-v shows why a touch caused no build" wait_for 10 log_has 'src/version.txt: content unchanged, ignored'
stop_gust TERM
start_gust "$P" -q
ok_run "-q: the program answers" wait_for 30 answers "$PORT" v3
stop_gust TERM
is "$(gust_log)" "" "-q: a start and a clean stop print nothing"
ok_run "nothing is left after the -v and -q runs" wait_for 5 no_marked_left

# ---- bad configs: one line naming file and key, exit 2, nothing started ----
B=$T/bad
mkdir -p "$B"
bad_config() { # DESC JSON REGEX
	printf '%s\n' "$2" >"$B/gust.json"
	rm -f "$B/started"
	local out status
	out=$(cd "$B" && "$GUST" 2>&1 </dev/null)
	status=$?
	is "$status" 2 "$1: exit status 2"
	like "$out" "$3" "$1: message"
	is "$(printf '%s\n' "$out" | wc -l)" 1 "$1: one line"
	ok_run "$1: nothing started" test ! -e "$B/started"
}
bad_config "syntax error" '{ "builder": { "cmd": "touch started" },, }' \
	'^gust: .*gust\.json:1:[0-9]+: '
bad_config "wrong type" '{ "builder": { "cmd": "touch started" }, "watch": { "debounce_ms": "fast" } }' \
	'^gust: gust\.json: /watch/debounce_ms: expected .*got "fast"'
bad_config "misspelt key" '{ "builder": { "cmd": "touch started" }, "watch": { "exclude_dirs": [] } }' \
	'^gust: gust\.json: /watch/exclude_dirs: unknown key.*did you mean "exclude_dir"'
bad_config "unknown plugin" '{ "builder": { "cmd": "touch started" }, "runner": { "plugin": "nosuch" } }' \
	'^gust: runner plugin "nosuch": runner-nosuch\.so not found in: .*plugins/\.libs'
bad_config "plugin option rejected" '{ "builder": { "cmd": "touch started" }, "runner": { "plugin": "plain", "kill_delay": 5 } }' \
	'^gust: gust\.json: /runner/kill_delay: unknown key.*did you mean "kill_delay_ms"'
bad_config "wrong plugin kind by path" "{ \"builder\": { \"plugin\": \"$GUST_FIXTURES/wrong-kind.so\", \"cmd\": \"touch started\" } }" \
	'^gust: .*wrong-kind\.so: plugin "wrongkind" is a runner plugin, not a builder plugin$'
bad_config "plugin create fails" "{ \"builder\": { \"cmd\": \"touch started\" }, \"runner\": { \"plugin\": \"$GUST_FIXTURES/create-fails.so\" } }" \
	'^gust: .*create-fails\.so: create failed: fixture refuses to start$'
# a plugin path is relative to the root (here the config's directory), not
# to where gust was started
mkdir -p "$B/fx"
cp "$GUST_FIXTURES/create-fails.so" "$B/fx/"
printf '{ "builder": { "cmd": "touch started" }, "runner": { "plugin": "fx/create-fails.so" } }\n' >"$B/gust.json"
out=$(cd "$T" && "$GUST" -c "$B/gust.json" 2>&1 </dev/null)
like "$out" "^gust: $B/fx/create-fails\\.so: create failed" "a relative plugin path is found under the root"
printf '{ "builder": { "cmd": "touch started" }, "runner": { "plugin": "fx/nosuch.so" } }\n' >"$B/gust.json"
out=$(cd "$T" && "$GUST" -c "$B/gust.json" 2>&1 </dev/null)
is "$?" 2 "a missing relative plugin path: exit status 2"
like "$out" "^gust: $B/fx/nosuch\\.so: runner plugin: No such file" "the message names the path under the root"
out=$(cd "$B" && "$GUST" -c "$B/missing.json" 2>&1 </dev/null)
is "$?" 2 "a missing -c file: exit status 2"
like "$out" 'missing\.json' "a missing -c file is named"

# ---- informational options ----
out=$("$GUST" --version)
like "$out" '^gust [0-9]+\.[0-9]+\.[0-9]+ \(plugin ABI 1\.1\)$' "--version"
out=$("$GUST" --help)
like "$out" 'Usage: gust' "--help"
out=$(cd "$P" && "$GUST" --list-plugins)
like "$out" 'runner +plain .*ABI 1\.1 .*runner-plain\.so' "--list-plugins shows the plain runner with its ABI and file"
like "$out" 'builder +shell ' "--list-plugins shows the shell builder"
out=$("$GUST" --bogus 2>&1)
is "$?" 2 "an unknown option: exit status 2"

plan_done
