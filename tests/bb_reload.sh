#!/bin/bash
# The config reload: an edit of gust.json that adds an exclude takes
# effect, one that changes the runner's args restarts the program with
# them (no build), an invalid one keeps the running config and is said
# once, and a later valid one applies; a named pipe put in its place is
# refused without blocking gust; a config read from a pipe is said not to
# be reloadable.
. "$GUST_SRCDIR/tests/lib.sh"

P=$T/p
mkdir -p "$P/src/gen" "$P/tmp"
echo a1 >"$P/src/a.txt"
echo g1 >"$P/src/gen/g.txt"
# config EXCLUDE_DIRS ARG: the build appends the paths it was given, one
# line per build; each start of the program appends "s ARG"
config() {
	cat >"$P/gust.json.new" <<JSON
{
  "tmp_dir": "tmp",
  "watch": { "include_ext": ["txt"], "debounce_ms": 20, "exclude_dir": [$1] },
  "builder": { "plugin": "shell", "cmd": "tr '\\\\n' ' ' <tmp/gust-changed.txt >>tmp/builds; echo >>tmp/builds" },
  "runner": { "plugin": "plain", "bin": "/bin/sh", "ready": false,
    "args": ["-c", "echo \"s \$0\" >>tmp/starts; exec sleep 1000", "$2"] }
}
JSON
	mv "$P/gust.json.new" "$P/gust.json"
}
lines() { { wc -l <"$P/tmp/$1"; } 2>/dev/null || echo 0; }
has_lines() { [ "$(lines "$1")" -eq "$2" ]; }

config '' one
start_gust "$P"
ok_run "the first build and start" wait_for 20 has_lines starts 1
echo g2 >"$P/src/gen/g.txt"
ok_run "a file under src/gen builds" wait_for 20 has_lines builds 2
like "$(sed -n 2p "$P/tmp/builds")" 'src/gen/g\.txt' "the build was given it"

# ---- an exclude added ----
config '"gen"' one
ok_run "gust says what changed, in one line" \
	wait_for 20 log_has 'gust\.json reloaded: watch changed$'
echo g3 >"$P/src/gen/g.txt"
echo a2 >"$P/src/a.txt"
ok_run "a change outside the exclude still builds" wait_for 20 has_lines builds 3
unlike "$(sed -n '3,$p' "$P/tmp/builds")" 'gen' "the excluded file is built no more"
ok_run "the build restarted the program" wait_for 20 has_lines starts 3

# ---- the runner's args ----
config '"gen"' two
ok_run "a changed runner restarts the program with the new args" \
	wait_for 20 grep -qx 's two' "$P/tmp/starts"
ok_run "gust says so" log_has 'gust\.json reloaded: runner changed; restarting the program$'
ok_run "the cycle line says why" wait_for 10 log_has 'restarted on request of the config reload'
is "$(lines builds)" 3 "no build for it"

# ---- invalid, then valid ----
cp "$P/gust.json" "$T/good.json"
printf '{ "tmp_dir": "tmp", "watch": { "include_ext": ["txt"] },\n  "runner": { "plugin": "plain", "bogus_key": 1 } }\n' >"$P/gust.json"
ok_run "an invalid edit is said" wait_for 20 log_has 'keeping the running config'
echo a3 >"$P/src/a.txt"
ok_run "the running config still builds" wait_for 20 has_lines builds 4
cp "$P/gust.json" "$P/gust.json.same"
mv "$P/gust.json.same" "$P/gust.json" # the same content, saved again
printf '{ "tmp_dir": "tmp",\n  "watch": [ }\n' >"$P/gust.json"
ok_run "a different invalid edit is said too, with its place" \
	wait_for 20 log_has 'gust\.json:2:.*keeping the running config'
config '"gen"' three
ok_run "a later valid edit applies" wait_for 20 grep -qx 's three' "$P/tmp/starts"
is "$(log_count 'bogus_key')" 1 "each invalid content was said once"
is "$(log_count 'keeping the running config')" 2 "one line for each"
# ---- a named pipe put in the file's place: never opened (the open would
# wait for a writer, and gust with it) ----
n=$(lines builds)
mkfifo "$T/fifo" && mv "$T/fifo" "$P/gust.json"
ok_run "a named pipe in the config's place is said" \
	wait_for 20 log_has 'not a regular file \(a named pipe\); keeping the running config'
echo a5 >"$P/src/a.txt"
ok_run "and gust goes on building" wait_for 20 has_lines builds $((n + 1))
ok_run "gust is still running" gust_running
stop_gust TERM
is "$GUST_STATUS" 0 "gust exits 0"
config '"gen"' three # a regular file again, for what follows

# ---- a config from a pipe ----
sed "s|\"tmp_dir\": \"tmp\"|\"root\": \"$P\", \"tmp_dir\": \"tmp\"|" "$P/gust.json" >"$T/piped.json"
n=$(lines starts)
start_gust "$P" -c <(cat "$T/piped.json")
ok_run "a config from a pipe is said not to be reloadable" \
	wait_for 20 log_has 'is not a regular file \(a pipe\?\): it is not reloaded when it changes'
ok_run "and gust runs with it" wait_for 20 has_lines starts $((n + 1))
stop_gust TERM
is "$(log_count 'not reloaded')" 1 "said once"

plan_done
