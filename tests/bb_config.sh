#!/bin/bash
# The config as the user meets it through the real gust binary: bad configs
# and bad --set give one line naming the file (or the --set) and the JSON
# path, exit 2 and start nothing; --print-config output loads back to the
# same config; --set reaches the plugins; gust init writes a preset, picks
# it from the project's files and never overwrites. If python3's jsonschema
# is installed, the presets and --print-config are checked against
# configs/gust.schema.json.
. "$GUST_SRCDIR/tests/lib.sh"

# ---- bad configs and bad --set: one line, exit 2, nothing started ----
B=$T/bad
mkdir -p "$B"
bad() { # DESC JSON REGEX [ARGS...]
	local desc=$1 json=$2 re=$3; shift 3
	printf '%s\n' "$json" >"$B/gust.json"
	rm -f "$B/started"
	run_gust "$B" "$@"
	is "$status" 2 "$desc: exit status 2"
	like "$out" "$re" "$desc: message"
	is "$(printf '%s\n' "$out" | wc -l)" 1 "$desc: one line"
	ok_run "$desc: nothing started" test ! -e "$B/started"
}
GOOD='{ "builder": { "cmd": "touch started" }, "runner": { "cmd": "exec sleep 30" } }'
bad "duplicate key" '{ "builder": { "cmd": "touch started", "cmd": "true" } }' \
	"^gust: gust\\.json:1:[0-9]+: duplicate object key near '\"cmd\"'\$"
bad "syntax error line:col" "$(printf '{\n  "builder": { "cmd": "touch started" }\n  "x": 1\n}')" \
	'^gust: gust\.json:3:5: '"'}'"' expected near'
bad "integer range" '{ "builder": { "cmd": "touch started" }, "lifecycle": { "restart_delay_ms": -5 } }' \
	'^gust: gust\.json: /lifecycle/restart_delay_ms: expected integer between 0 and 3600000, got -5$'
bad "bad regex" '{ "builder": { "cmd": "touch started" }, "watch": { "exclude_regex": ["("] } }' \
	'^gust: gust\.json: /watch/exclude_regex/0: invalid regular expression "\(": '
bad "enum" '{ "builder": { "cmd": "touch started" }, "log": { "color": "yes" } }' \
	'^gust: gust\.json: /log/color: expected one of "auto", "always", "never", got "yes"$'
bad "empty plugin name" '{ "builder": { "cmd": "touch started" }, "runner": { "plugin": "" } }' \
	'^gust: gust\.json: /runner/plugin: expected a plugin name or path, got ""$'
bad "root does not exist" '{ "root": "nowhere", "builder": { "cmd": "touch started" } }' \
	'^gust: gust\.json: /root: ".*/bad/nowhere": No such file or directory$'
bad "root / refused" '{ "root": "/", "builder": { "cmd": "touch started" } }' \
	'^gust: gust\.json: /root: refusing to watch "/" .*set watch\.allow_any_root to true'
bad "--set unknown key" "$GOOD" \
	'^gust: --set watch\.debounc_ms=100: unknown key "debounc_ms" \(did you mean "debounce_ms"\?\)$' \
	--set watch.debounc_ms=100
bad "--set bad value" "$GOOD" \
	'^gust: --set watch\.debounce_ms=fast: /watch/debounce_ms: expected integer >= 0, got "fast"$' \
	--set watch.debounce_ms=fast
bad "--set without =" "$GOOD" '^gust: --set watch\.debounce_ms: expected KEY\.PATH=VALUE$' \
	--set watch.debounce_ms
# what the user wrote is quoted with its control characters escaped: a line
# break in a key or a --set must not split the line, nor an escape reach
# the terminal
bad "key with a line break" '{ "builder": { "cmd": "touch started" }, "watch": { "a\nb": 1 } }' \
	'^gust: gust\.json: /watch/a\\nb: unknown key$'
bad "--set with a carriage return" "$GOOD" '^gust: --set watch\.a\\rb=1: unknown key "a\\rb"$' \
	--set "$(printf 'watch.a\rb=1')"
bad "plugin value with an escape" \
	'{ "builder": { "cmd": "touch started" }, "runner": { "cmd": "true", "stdin": "\u001b[2J" } }' \
	'^gust: .*stdin: expected .*got "\\x1b\[2J"$'
bad "--set plugin option checked by the plugin" "$GOOD" \
	'^gust: gust\.json: /runner/kill_delay_ms: expected integer between 0 and [0-9]+, got "fast" \(from --set runner\.kill_delay_ms=fast\)$' \
	--set runner.kill_delay_ms=fast
bad "-c names the file" "$GOOD" '^gust: cannot read "nope\.json": No such file or directory$' -c nope.json

# ---- regexes: compiled once, and refused unread when too costly ----
# glibc's regcomp took 18 s and 3.2 GB for "a" and 22 '+' (and crashed at
# 24); gust refuses it by its size before compiling. timeout is the deadline.
HOSTILE="a$(printf '+%.0s' $(seq 22))"
printf '{ "builder": { "cmd": "touch started" }, "watch": { "exclude_regex": ["x", "%s"] } }\n' \
	"$HOSTILE" >"$B/gust.json"
rm -f "$B/started"
out=$(cd "$B" && timeout 5 "$GUST" 2>&1 </dev/null)
status=$?
is "$status" 2 "a hostile exclude_regex: exit status 2 within the deadline"
like "$out" '^gust: gust\.json: /watch/exclude_regex/1: invalid regular expression "a\+{22}": too large once its repetitions are expanded \(over 2048\)$' \
	"a hostile exclude_regex: the message names the key"
is "$(printf '%s\n' "$out" | wc -l)" 1 "a hostile exclude_regex: one line"
ok_run "a hostile exclude_regex: nothing started" test ! -e "$B/started"
echo "$GOOD" >"$B/gust.json"
out=$(cd "$B" && timeout 5 "$GUST" --set "watch.exclude_regex=[\"$HOSTILE$HOSTILE\"]" --print-config 2>&1 </dev/null)
is "$?" 2 "a hostile exclude_regex from --set: exit status 2"
like "$out" '^gust: --set watch\.exclude_regex=.*: /watch/exclude_regex/0: invalid regular expression' \
	"a hostile exclude_regex from --set: the message names the --set"
cat >"$B/gust.json" <<'EOF'
{ "watch": { "exclude_regex": ["_test\\.go$", "^(vendor|node_modules)/", "\\.(swp|tmp)$",
  "[0-9]{1,3}", "^build/.*\\.o$", "(^|/)\\.#[^/]*$"] } }
EOF
out=$(cd "$B" && timeout 5 "$GUST" --print-config 2>&1 </dev/null)
is "$?" 0 "ordinary exclude_regex patterns load"
like "$out" '"\[0-9\]\{1,3\}"' "and are kept as written"

# ---- a config that is not a regular file: refused at once, not read ----
# (a FIFO with no writer used to block gust in open() for ever, /dev/zero to
# be read for ever). The deadline is timeout's: 124 means gust hung.
N=$T/notfile
mkdir -p "$N/dir" "$N/fifo-default"
mkfifo "$N/fifo" "$N/fifo-default/gust.json"
if python3 -c 'import socket, sys; socket.socket(socket.AF_UNIX).bind(sys.argv[1])' "$N/sock" 2>/dev/null ||
	(cd "$N" && python3 -c 'import socket; socket.socket(socket.AF_UNIX).bind("sock")'); then :; fi
notfile() { # DESC DIR REGEX ARGS...
	local desc=$1 dir=$2 re=$3; shift 3
	out=$(cd "$dir" && timeout 3 "$GUST" "$@" --print-config 2>&1 </dev/null)
	status=$?
	is "$status" 2 "$desc: exit status 2 within the deadline"
	like "$out" "$re" "$desc: message"
	is "$(printf '%s\n' "$out" | wc -l)" 1 "$desc: one line"
}
notfile "-c FIFO" "$N" '^gust: cannot read "fifo": not a regular file \(a named pipe\)$' -c fifo
notfile "gust.json a FIFO" "$N/fifo-default" \
	'^gust: cannot read "gust\.json": not a regular file \(a named pipe\)$'
notfile "-c directory" "$N" '^gust: cannot read "dir": Is a directory$' -c dir
notfile "-c /dev/zero" "$N" '^gust: cannot read "/dev/zero": not a regular file \(a device\)$' \
	-c /dev/zero
ok_run "a unix socket to test with" test -S "$N/sock"
notfile "-c socket" "$N" '^gust: cannot read "sock": not a regular file \(a socket\)$' -c sock
head -c 1100000 /dev/zero | tr '\0' ' ' >"$N/big.json"
echo '{}' >>"$N/big.json"
notfile "-c over 1 MiB" "$N" '^gust: cannot read "big\.json": larger than 1 MiB, too large for a config$' \
	-c big.json

# ---- process substitution: a pipe gust already holds is read ----
echo "$GOOD" >"$N/good.json"
out=$(cd "$N" && timeout 10 "$GUST" -c <(cat good.json) --print-config 2>&1 </dev/null)
is "$?" 0 "-c <(cat gust.json): accepted"
like "$out" '"cmd": "exec sleep 30"' "-c <(...): its content is the config"
like "$out" "\"root\": \"$N\"" "-c <(...): root is relative to the current directory"
out=$(cd "$N" && timeout 10 "$GUST" -c <(head -c 1100000 /dev/zero | tr '\0' ' ') --print-config 2>&1 </dev/null)
is "$?" 2 "-c <(over 1 MiB): exit status 2"
like "$out" '^gust: cannot read "/dev/fd/[0-9]+": larger than 1 MiB, too large for a config$' \
	"-c <(over 1 MiB): message"
# A writer that never ends its output: gust gives up after 5 s.
out=$(cd "$N" && timeout 20 "$GUST" -c <(echo "$BASHPID" >"$N/writer.pid"; printf '{'; exec sleep 60) \
	--print-config 2>&1 </dev/null)
is "$?" 2 "-c <(a writer that never finishes): exit status 2"
like "$out" '^gust: cannot read "/dev/fd/[0-9]+": no end of input within 5 s$' \
	"-c <(a writer that never finishes): message"
kill "$(cat "$N/writer.pid")" 2>/dev/null

# $HOME as root is refused too (HOME points into our temp dir).
mkdir -p "$T/home"
echo "$GOOD" >"$T/home/gust.json"
rm -f "$T/home/started"
out=$(cd "$T/home" && HOME=$T/home "$GUST" 2>&1 </dev/null)
status=$?
is "$status" 2 "root = \$HOME: exit status 2"
like "$out" '^gust: gust\.json: /root: refusing to watch ".*/home" \(your home directory\); set watch\.allow_any_root to true if you mean it$' \
	"root = \$HOME: message says which key to set"
ok_run "root = \$HOME: nothing started" test ! -e "$T/home/started"
out=$(cd "$T/home" && HOME=$T/home "$GUST" --set watch.allow_any_root=true --print-config 2>&1 </dev/null)
is "$?" 0 "root = \$HOME with watch.allow_any_root: accepted"

# ---- --print-config: the effective config, which loads back the same ----
P=$T/proj
mkdir -p "$P/conf" "$P/src"
cat >"$P/conf/gust.json" <<'EOF'
{
  "root": "../src",
  "tmp_dir": "out",
  "watch": { "debounce_ms": 33, "exclude_dir": ["gen"] },
  "runner": { "args": ["-a"], "env": { "X": "1" } }
}
EOF
run_gust "$T" -c "$P/conf/gust.json" --set log.verbosity=verbose --print-config
is "$status" 0 "--print-config exits 0"
printf '%s\n' "$out" >"$T/printed.json"
like "$out" "\"root\": \"$P/src\"" "root is relative to the config file's directory, made absolute"
like "$out" "\"tmp_dir\": \"$P/src/out\"" "tmp_dir is relative to the root"
like "$out" '"debounce_ms": 33' "file values are printed"
like "$out" '"verbosity": "verbose"' "--set values are printed"
like "$out" '"bin": "\./tmp/main"' "the default runner options are merged in"
runner=$(printf '%s\n' "$out" | sed -n '/^  "runner": {/,/^  }/p')
like "$runner" '"kill_delay_ms": [0-9]+' "the runner plugin's own default kill_delay_ms is shown"
like "$runner" '"stop_signal": "SIG[A-Z]+"' "and its stop_signal"
like "$runner" '"stdin": "null"' "and its stdin"
builder=$(printf '%s\n' "$out" | sed -n '/^  "builder": {/,/^  }/p')
like "$builder" '"kill_delay_ms": [0-9]+' "the builder plugin's own defaults are shown"
like "$builder" '"prefix": true' "and its prefix"
watcher=$(printf '%s\n' "$out" | sed -n '/^  "watcher": {/,/^  }/p')
like "$watcher" '"poll_interval_ms": [0-9]+' "the watcher plugin's own defaults are shown"
mkdir -p "$T/elsewhere"
run_gust "$T/elsewhere" -c "$T/printed.json" --print-config
is "$status" 0 "the printed config loads"
is "$out" "$(cat "$T/printed.json")" "and prints back identically, from another directory"

# ---- --set reaches the plugins: it is the config gust runs ----
R=$T/run
mkdir -p "$R"
echo "$GOOD" >"$R/gust.json"
start_gust "$R" --set 'builder.cmd=touch built-by-set' --set 'runner.cmd=exec sleep 30'
ok_run "--set builder.cmd is the build that runs" wait_for 20 test -e "$R/built-by-set"
ok_run "the file's own builder.cmd did not run" test ! -e "$R/started"
stop_gust TERM
is "$GUST_STATUS" 0 "gust exits 0 on SIGTERM"
ok_run "nothing gust started is left" wait_for 5 no_marked_left

# ---- init ----
I=$T/init
mkdir -p "$I"
touch "$I/go.mod"
run_gust "$I" init
is "$status" 0 "init exits 0"
ok_run "init wrote gust.json" test -s "$I/gust.json"
like "$(cat "$I/gust.json")" '"\$schema": "file://.*/gust\.schema\.json"' "it points editors at the schema"
like "$(cat "$I/gust.json")" 'go build' "a directory with go.mod gets the go preset"
run_gust "$I" --print-config
is "$status" 0 "the written file loads"
before=$(md5sum <"$I/gust.json")
run_gust "$I" init --preset c-make
is "$status" 2 "init over an existing file: exit status 2"
like "$out" '^gust: init: "gust\.json" already exists; not overwriting it$' "init says it does not overwrite"
is "$(md5sum <"$I/gust.json")" "$before" "the existing file is unchanged"
run_gust "$I" init --preset cobol other.json
is "$status" 2 "init with an unknown preset: exit status 2"
like "$out" 'unknown preset "cobol" \(known: go, go-dlv, c-make, c-cmake, meson, rust-cargo, node, python\)' \
	"the known presets are listed"
ok_run "nothing written for an unknown preset" test ! -e "$I/other.json"
run_gust "$I" init --preset go-dlv dlv.json
is "$status" 0 "init --preset NAME FILE"
like "$(cat "$I/dlv.json")" '"plugin": "dlv"' "the named preset is written to FILE"

detect() { # MARKER PRESET REGEX
	local d=$T/detect-$1
	mkdir -p "$d"
	touch "$d/$1"
	run_gust "$d" init
	is "$status" 0 "init beside $1: exit 0"
	like "$(cat "$d/gust.json" 2>/dev/null)" "$3" "init beside $1 picks $2"
	run_gust "$d" --print-config
	is "$status" 0 "the $2 preset loads"
}
detect go.mod go '"cmd": "go build'
detect Cargo.toml rust-cargo '"cmd": "cargo build"'
detect Makefile c-make '"cmd": "make"'
detect package.json node '"bin": "node"'
detect requirements.txt python '"bin": "python3"'
detect main.py python '"bin": "python3"'
detect CMakeLists.txt c-cmake '"cmd": "\{ \[ -f build/CMakeCache.txt \] \|\| cmake'
detect meson.build meson '"cmd": "\{ \[ -d build \] \|\| meson setup build'
detect configure c-make '"cmd": "make"'
rm "$T/detect-configure/gust.json"
run_gust "$T/detect-configure" init
is "$out" 'gust: wrote gust.json (preset c-make)
gust: run ./configure first: the c-make preset runs make' "init beside configure says to run it"
E=$T/empty
mkdir -p "$E"
touch "$E/README"
run_gust "$E" init
is "$status" 2 "init where nothing is recognised: exit status 2"
like "$out" '^gust: init: no project recognised here \(.*CMakeLists\.txt, meson\.build or configure\): name one with --preset$' \
	"it says so in one line"
is "$(printf '%s\n' "$out" | wc -l)" 1 "one line"
ok_run "and writes nothing" test ! -e "$E/gust.json"

# ---- the JSON Schema agrees with the presets and the printed config ----
# Debian's python3-jsonschema serves /usr/bin/python3, which may not be the
# python3 first on PATH (pyenv).
PY=""
for py in python3 /usr/bin/python3; do
	if "$py" -c 'import jsonschema' 2>/dev/null; then PY=$py; break; fi
done
if [ -n "$PY" ]; then
	cat >"$T/validate.py" <<'EOF'
import json, sys, jsonschema
schema = json.load(open(sys.argv[1]))
jsonschema.Draft202012Validator.check_schema(schema)
v = jsonschema.Draft202012Validator(schema)
bad = 0
for f in sys.argv[2:]:
    for e in v.iter_errors(json.load(open(f))):
        print("%s: /%s: %s" % (f, "/".join(map(str, e.path)), e.message))
        bad = 1
sys.exit(bad)
EOF
	S=$GUST_SRCDIR/configs/gust.schema.json
	for f in "$GUST_SRCDIR"/configs/*.json; do
		[ "$f" = "$S" ] && continue
		ok_run "schema accepts preset $(basename "$f")" "$PY" "$T/validate.py" "$S" "$f"
	done
	ok_run "schema accepts --print-config output" "$PY" "$T/validate.py" "$S" "$T/printed.json"
	ok_run "schema accepts an init'd file" "$PY" "$T/validate.py" "$S" "$I/gust.json"
	printf '{ "watch": { "exclude_dirs": [] } }\n' >"$T/bad-schema.json"
	if "$PY" "$T/validate.py" "$S" "$T/bad-schema.json" >/dev/null; then r=1; else r=0; fi
	ok "$r" "schema rejects a misspelt key, as gust does"
	printf '{ "runner": { "plugin": "plain", "kill_delay": 5 } }\n' >"$T/bad-schema.json"
	if "$PY" "$T/validate.py" "$S" "$T/bad-schema.json" >/dev/null; then r=1; else r=0; fi
	ok "$r" "schema rejects an unknown option of an in-tree plugin"
	# readiness and hooks: what gust loads, the schema accepts
	R=$T/ready-hooks
	mkdir -p "$R"
	cat >"$R/gust.json" <<'JSON'
{ "runner": { "plugin": "plain", "ready": { "http": "http://127.0.0.1:8080/healthz" },
              "ready_timeout_ms": 5000 },
  "hooks": [ { "plugin": "notify", "on_success": true },
             { "plugin": "exec", "cmd": "true", "on": ["build_failed", "ready"],
               "env": { "A": "1" }, "kill_delay_ms": 100 } ] }
JSON
	run_gust "$R" --print-config
	is "$status" 0 "gust loads ready, ready_timeout_ms and hooks"
	ok_run "schema accepts ready, ready_timeout_ms and hooks" "$PY" "$T/validate.py" "$S" "$R/gust.json"
	for doc in '{ "runner": { "ready": { "tcp": "nowhere" } } }' \
		'{ "hooks": [ { "plugin": "exec", "cmd": "true", "on": ["readdy"] } ] }' \
		'{ "hooks": [ { "plugin": "notify", "on_sucess": true } ] }'; do
		printf '%s\n' "$doc" >"$T/bad-schema.json"
		if "$PY" "$T/validate.py" "$S" "$T/bad-schema.json" >/dev/null; then r=1; else r=0; fi
		ok "$r" "schema rejects $doc, as gust does"
	done
elif [ -n "${CI:-}" ]; then
	ok 1 "python3-jsonschema is installed (CI installs it)"
else
	skip "python3-jsonschema not installed: schema not checked"
fi

plan_done
