#!/bin/bash
# gust -- ARGS: the arguments after -- reach the program after the
# config's args (bin form), as "$@" of the command (cmd form), and show in
# --print-config; an argument before -- is still refused.
. "$GUST_SRCDIR/tests/lib.sh"

P=$T/p
mkdir -p "$P/src" "$P/tmp"
echo v1 >"$P/src/a.txt"
cat >"$P/show.sh" <<'SH'
#!/bin/sh
for a in "$@"; do printf '[%s]' "$a"; done >"$OUT.tmp"
echo >>"$OUT.tmp"
mv "$OUT.tmp" "$OUT"
exec sleep 30
SH
chmod +x "$P/show.sh"
cat >"$P/gust.json" <<JSON
{
  "tmp_dir": "tmp",
  "watch": { "include_ext": ["txt"], "debounce_ms": 20 },
  "builder": { "plugin": "shell", "cmd": "true" },
  "runner": { "plugin": "plain", "bin": "./show.sh", "args": ["cfg"],
    "env": { "OUT": "$T/bin.out" } }
}
JSON
has() { [ "$(cat "$1" 2>/dev/null)" = "$2" ]; }

start_gust "$P" -- "two words" --flag ''
ok_run "bin form: the arguments follow the config's, as they are" \
	wait_for 20 has "$T/bin.out" "[cfg][two words][--flag][]"
stop_gust TERM
is "$GUST_STATUS" 0 "gust exits 0"

sed 's|"bin": "./show.sh"|"cmd": "exec ./show.sh first \\"$@\\""|' "$P/gust.json" >"$P/cmd.json"
start_gust "$P" -c cmd.json -- x 'y z'
ok_run "cmd form: the arguments are the command's positional parameters" \
	wait_for 20 has "$T/bin.out" "[first][cfg][x][y z]"
stop_gust TERM

out=$(cd "$P" && "$GUST" --print-config -- a b 2>&1 | tr -d ' \n')
like "$out" '"args":\["cfg","a","b"\]' "--print-config shows them"
out=$(cd "$P" && "$GUST" stray -- a 2>&1)
status=$?
is "$status" 2 "an argument before -- is refused (exit 2)"
like "$out" 'unexpected argument "stray".*after --' "the message says where they go"
out=$(cd "$P" && "$GUST" -c -- --print-config 2>&1)
like "$out" '^gust: cannot read "--"' "-c -- names a file called --, it does not start ARGS"
plan_done
