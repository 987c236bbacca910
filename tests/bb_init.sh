#!/bin/bash
# gust init --sockets, for real: in an empty directory it writes a config
# whose runner holds the socket and a starter server (Go, Python, Node) that
# takes it from gust. Under gust the server answers on the port, an edit
# restarts it, and a client connecting all through the restarts is never
# refused; without gust (or with another process's LISTEN_PID) the same
# program listens itself. A project's own program is kept; the presets
# without the mode and bad addresses are one line and exit 2.
# gust init --livereload, for real with Go: the proxy serves the starter's
# page with the reload script, an edit of main.go shows through it, a
# stylesheet edit restyles the page without a build (in headless Chromium
# too, when there is one); bad ports are one line and exit 2.
. "$GUST_SRCDIR/tests/lib.sh"

# The text of the <h1> of the page GET / gets from 127.0.0.1:$1, or nothing.
body() {
	local line="" inbody=""
	if { exec 9<>"/dev/tcp/127.0.0.1/$1"; } 2>/dev/null; then
		printf 'GET / HTTP/1.0\r\n\r\n' >&9 2>/dev/null
		while IFS= read -r -t 5 line <&9; do
			line=${line%$'\r'}
			if [ -n "$inbody" ] && [[ $line =~ \<h1\>(.*)\</h1\> ]]; then
				printf '%s' "${BASH_REMATCH[1]}"
				break
			fi
			[ -z "$line" ] && inbody=1
		done
		exec 9<&- 9>&-
	fi
}
body_is() { [ "$(body "$1")" = "$2" ]; }

# Everything go writes stays under $T; no network: the starter has no deps.
mkdir -p "$T/go/cache" "$T/go/path" "$T/go/tmp" "$T/home"
export GOCACHE=$T/go/cache GOPATH=$T/go/path GOTMPDIR=$T/go/tmp GOENV=off \
	GOFLAGS=-mod=mod GOTOOLCHAIN=local GOPROXY=off GOTELEMETRY=off HOME=$T/home

# hand_off PRESET TOOL STARTER RUN...: init --sockets in an empty directory,
# gust serves it through two edits under a connecting client, then RUN (the
# program alone) listens itself.
hand_off() {
	local preset=$1 tool=$2 starter=$3; shift 3
	if ! command -v "$tool" >/dev/null 2>&1; then
		skip "$preset: $tool is not installed"
		return
	fi
	local D=$T/$preset port
	port=$(free_port)
	mkdir -p "$D"
	run_gust "$D" init --preset "$preset" --sockets="127.0.0.1:$port"
	is "$status" 0 "$preset: init --sockets exits 0"
	like "$out" "^gust: wrote gust\\.json \\(preset $preset, sockets tcp:127\\.0\\.0\\.1:$port\\)
gust: wrote $starter.* and static/style\\.css: it serves http://127\\.0\\.0\\.1:$port/ " "$preset: it says what it wrote"
	like "$(cat "$D/gust.json")" "\"sockets\": \\[\"tcp:127\\.0\\.0\\.1:$port\"\\]" \
		"$preset: the runner holds the socket"
	run_gust "$D" --print-config
	is "$status" 0 "$preset: the config loads"

	start_gust "$D"
	ok_run "$preset: the starter answers on the port" wait_for 180 body_is "$port" "hello from gust"
	# within the 30 s of ready_timeout_ms: a connect succeeds into gust's
	# socket at once, so only the answer to a GET says the run is up
	ok_run "$preset: the run is ready by its answer" wait_for 20 log_has 'run: started, ready in'
	like "$(curl -s --max-time 10 "http://127.0.0.1:$port/")" '<link rel="stylesheet" href="/static/style\.css">' \
		"$preset: its page links the stylesheet"
	like "$(curl -s --max-time 10 -o "$T/$preset.css" -w '%{http_code} %{content_type}' \
		"http://127.0.0.1:$port/static/style.css?v=1")" '^200 text/css' "$preset: which it serves"
	ok_run "$preset: from static/style.css" cmp -s "$T/$preset.css" "$D/static/style.css"
	local pid
	pid=$(program_pids | head -n 1)
	like "$(tr '\0' '\n' <"/proc/$pid/environ" 2>/dev/null | grep '^LISTEN_')" "LISTEN_FDS=1" \
		"$preset: the run got the socket by the protocol"
	python3 "$GUST_SRCDIR/tests/helpers/connloop.py" "$port" "$T/$preset.out" "$T/$preset.stop" \
		"$T/$preset.up" http &
	local client=$!
	ok_run "$preset: the client is served" wait_for 10 test -e "$T/$preset.up"
	for v in v2 v3; do
		sed -i "s/\"[a-z0-9]* from gust/\"$v from gust/" "$D/$starter"
		ok_run "$preset: the edit to $v restarts it" wait_for 120 body_is "$port" "$v from gust"
	done
	touch "$T/$preset.stop"
	wait "$client"
	local served refused other seen errs
	{ read -r served refused other seen; read -r errs; } <"$T/$preset.out"
	is "$refused" 0 "$preset: no connection refused through two restarts ($served served)"
	is "$other" 0 "$preset: and none failed otherwise${errs:+ ($errs)}"
	is "$seen" "hello,v2,v3" "$preset: the client was served by every run"
	stop_gust TERM
	is "$GUST_STATUS" 0 "$preset: gust exits 0"
	ok_run "$preset: the port is free once gust is gone" wait_for 10 port_free "$port"

	# Without gust, and with a LISTEN_PID that is another process's (the
	# variables a parent got from its own activation), it listens itself.
	local how
	for how in alone "LISTEN_FDS=1 LISTEN_PID=1"; do
		# shellcheck disable=SC2086 # $how is zero or more NAME=VALUE words
		(cd "$D" && exec env GUST_TEST_MARK="$GUST_TEST_MARK" ${how/alone/} "$@") \
			>"$T/$preset.alone.log" 2>&1 </dev/null &
		pid=$!
		ok_run "$preset ($how): it listens itself" wait_for 30 body_is "$port" "v3 from gust"
		kill -TERM "$pid"
		wait "$pid"
		is "$?" 0 "$preset ($how): it exits 0 on SIGTERM"
	done
}

hand_off go go main.go ./tmp/main
ok_run "go: go.mod was written for the module" grep -q '^module ' "$T/go/go.mod"
hand_off python python3 main.py python3 main.py
hand_off node node index.js node index.js

# ---- init --livereload: the starter behind the proxy ----
# The text of the <h1> of the page the proxy on $PPORT serves.
proxied_h1() {
	[ "$(curl -s --max-time 10 "http://127.0.0.1:$PPORT/" | sed -n 's:.*<h1>\(.*\)</h1>.*:\1:p')" = "$1" ]
}
br() { python3 "$GUST_SRCDIR/tests/helpers/browser.py" "$T/browser" "$@"; }
live_reload() {
	if ! command -v go >/dev/null 2>&1; then
		skip "livereload: go is not installed"
		return
	fi
	local L=$T/lr APORT PPORT URL ev tab="" n
	APORT=$(free_port)
	PPORT=$(free_port)
	while [ "$PPORT" = "$APORT" ]; do PPORT=$(free_port); done
	URL=http://127.0.0.1:$PPORT
	mkdir -p "$L"
	run_gust "$L" init --preset go --sockets="127.0.0.1:$APORT" --livereload="$PPORT"
	is "$status" 0 "livereload: init --sockets --livereload exits 0"
	like "$out" "^gust: wrote gust\\.json \\(preset go, sockets tcp:127\\.0\\.0\\.1:$APORT, livereload on port $PPORT\\)
gust: wrote main\\.go, go\\.mod and static/style\\.css: it serves http://127\\.0\\.0\\.1:$APORT/ on the socket .*
gust: run gust, then open $URL/: the live-reload proxy in front of the app on port $APORT\$" \
		"livereload: it says what it wrote and which URL to open"
	run_gust "$L" --print-config
	is "$status" 0 "livereload: the config loads, the hook's options too"
	like "$out" "\"app_port\": $APORT," "livereload: the hook goes to the socket's port"

	start_gust "$L"
	ok_run "livereload: the proxy serves the starter's page" wait_for 180 proxied_h1 "hello from gust"
	like "$(curl -s --max-time 10 "$URL/")" '<script src="/__gust/livereload\.js" data-gust-livereload></script></body>' \
		"livereload: with the reload script in it"
	unlike "$(curl -s --max-time 10 "http://127.0.0.1:$APORT/")" 'livereload' \
		"livereload: which the app itself does not send"
	curl -s -N --max-time 300 "$URL/__gust/events" >"$T/lr.events" 2>/dev/null &
	ev=$!
	ok_run "livereload: the reload stream is open" wait_for 10 grep -q '^event: hello' "$T/lr.events"
	if command -v chromium >/dev/null 2>&1 && br start; then
		tab=$(br open "$URL/")
		ok_run "livereload: the page in Chromium is connected" \
			br wait "$tab" 10 'window.__gust && window.__gust.connected'
		br eval "$tab" 'window.kept = 42' >/dev/null
	else
		skip "livereload: no chromium"
	fi

	sed -i 's/"hello from gust/"lr2 from gust/' "$L/main.go"
	ok_run "livereload: an edit of main.go shows through the proxy" wait_for 120 proxied_h1 "lr2 from gust"
	ok_run "livereload: the open pages are told to reload" wait_for 10 grep -q '^event: reload' "$T/lr.events"
	if [ -n "$tab" ]; then
		ok_run "livereload: the page in Chromium shows the edit by itself" br wait "$tab" 30 \
			"document.querySelector('h1').textContent === 'lr2 from gust' && window.kept === undefined"
		br wait "$tab" 10 'window.__gust && window.__gust.connected' >/dev/null
		br eval "$tab" 'window.kept = 7' >/dev/null
	fi

	n=$(log_count 'build: ok')
	sed -i 's/color: rgb(31, 111, 92)/color: rgb(0, 0, 255)/' "$L/static/style.css"
	ok_run "livereload: a stylesheet edit restyles the open pages" \
		wait_for 20 grep -q '^event: css' "$T/lr.events"
	like "$(sed -n '/^event: css/,/^data/p' "$T/lr.events")" '"static/style\.css"' \
		"livereload: naming the stylesheet"
	if [ -n "$tab" ]; then
		ok_run "livereload: in Chromium the heading turns blue" br wait "$tab" 20 \
			"getComputedStyle(document.querySelector('h1')).color === 'rgb(0, 0, 255)'"
		is "$(br eval "$tab" 'window.kept')" 7 "livereload: without a reload"
		ok_run "livereload: the browser stops" br stop
	fi
	is "$(log_count 'build: ok')" "$n" "livereload: and without a build"
	kill "$ev" 2>/dev/null
	wait "$ev" 2>/dev/null
	stop_gust TERM
	is "$GUST_STATUS" 0 "livereload: gust exits 0"

	# --livereload alone: the starter listens on its own address, 8080
	mkdir -p "$T/lr-node"
	echo '{}' >"$T/lr-node/package.json"
	run_gust "$T/lr-node" init --livereload
	is "$status" 0 "livereload alone, detected node: exit 0"
	like "$out" '^gust: wrote gust\.json \(preset node, livereload on port 8090\)
gust: wrote index\.js and static/style\.css: it serves http://127\.0\.0\.1:8080/
gust: run gust, then open http://127\.0\.0\.1:8090/: the live-reload proxy in front of the app on port 8080$' \
		"livereload alone: the proxy on 8090, the app on 8080"
}
live_reload

# ---- a project's own program is kept ----
K=$T/keep
mkdir -p "$K"
echo 'package main' >"$K/server.go"
echo 'module mine' >"$K/go.mod"
run_gust "$K" init --sockets
is "$status" 0 "beside a Go program: init --sockets exits 0"
like "$out" '^gust: wrote gust\.json \(preset go, sockets tcp:127\.0\.0\.1:8080\)
gust: kept your Go program: .*must take fd 3 .*$' "it keeps the program and says what it must do"
ok_run "no main.go beside the project's package" test ! -e "$K/main.go"
ok_run "nor a stylesheet" test ! -e "$K/static"
is "$(cat "$K/go.mod")" "module mine" "its go.mod is left as it was"
echo 'print("mine")' >"$K/main.py"
run_gust "$K" init --preset python --sockets=9000 py.json
is "$status" 0 "beside main.py: exit 0"
is "$(cat "$K/main.py")" 'print("mine")' "main.py is left as it was"
like "$(cat "$K/py.json")" '"sockets": \["tcp:127\.0\.0\.1:9000"\]' "a bare port is on 127.0.0.1"

# ---- without --sockets: the config alone, as before ----
N=$T/plain
mkdir -p "$N"
run_gust "$N" init --preset python
is "$status" 0 "init without --sockets exits 0"
is "$(ls "$N")" "gust.json" "it writes the config alone"
unlike "$(cat "$N/gust.json")" '"sockets"' "with no sockets"

# ---- what has no socket hand-off mode: one line, exit 2, nothing written ----
no_mode() { # DESC REGEX ARGS...
	local desc=$1 re=$2; shift 2
	local d=$T/refused
	rm -rf "$d" && mkdir -p "$d"
	run_gust "$d" init "$@"
	is "$status" 2 "$desc: exit 2"
	like "$out" "$re" "$desc: the error says why"
	is "$(printf '%s\n' "$out" | wc -l)" 1 "$desc: in one line"
	is "$(ls "$d")" "" "$desc: nothing written"
}
no_mode "go-dlv" '^gust: init: --sockets: not with the go-dlv preset: under dlv, LISTEN_PID would be dlv' \
	--preset go-dlv --sockets
no_mode "rust-cargo" "^gust: init: --sockets: not with the rust-cargo preset: cargo run starts the program as its child" \
	--preset rust-cargo --sockets
no_mode "c-make" '^gust: init: --sockets: no starter server for the c-make preset \(only go, python and node' \
	--preset c-make --sockets
no_mode "a host name" '^gust: init: --sockets="example.com:80": want PORT or IPV4:PORT' \
	--preset go --sockets=example.com:80
no_mode "port 0" '^gust: init: --sockets="0": want PORT or IPV4:PORT' --preset go --sockets=0
no_mode "an address after a space" '^gust: init: --sockets takes its address after "=": --sockets=8080$' \
	--preset go --sockets 8080
no_mode "nothing recognised" '^gust: init: no project recognised here' --sockets
no_mode "proxy port 0" "^gust: init: --livereload=\"0\": want the proxy's port, 1 to 65535" \
	--preset go --livereload=0
no_mode "a proxy port that is no number" "^gust: init: --livereload=\"80a\": want the proxy's port" \
	--preset go --livereload=80a
no_mode "a proxy port after a space" '^gust: init: --livereload takes its port after "=": --livereload=8090$' \
	--preset go --livereload 8090
no_mode "the proxy on the app's port" \
	"^gust: init: --livereload=8080: that is the app's port \\(127\\.0\\.0\\.1:8080\\); the proxy needs one of its own\$" \
	--preset python --livereload=8080
no_mode "the proxy on the socket's port" "^gust: init: --livereload=9000: that is the app's port" \
	--preset go --sockets=9000 --livereload=9000

# ---- a starter that cannot be written: all or nothing ----
# "static" is a file, so static/style.css cannot be written after main.go
# and go.mod were: what init wrote goes again, what was there stays.
F=$T/half
mkdir -p "$F"
echo 'not a directory' >"$F/static"
run_gust "$F" init --preset go --sockets=9000
is "$status" 2 "a starter file that cannot be written: exit 2"
like "$out" '^gust: init: cannot create "static/style\.css": Not a directory$' \
	"a starter file that cannot be written: one line names it"
is "$(ls "$F")" "static" "a starter file that cannot be written: no gust.json, main.go or go.mod left"
is "$(cat "$F/static")" "not a directory" "a starter file that cannot be written: the file in the way is kept"

plan_done
