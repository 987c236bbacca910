#!/bin/bash
# The livereload hook as a user sees it: headless Chromium (Debian's, through
# tests/helpers/browser.py) opens a Go app's page through the proxy of the
# real gust binary, and nothing but files changes from then on. An edit of
# the Go handler shows in the page; a broken build puts the compiler's
# error over it, the fix takes it away; a stylesheet edit restyles the page
# without a reload; a WebSocket and a multipart upload go through; a page
# reloaded while the app restarts gets the new app; a new gust makes the
# page reconnect and reload. Screenshots of the overlay and of the reloaded
# page go to tests/screenshots/ in the build tree.
. "$GUST_SRCDIR/tests/lib.sh"

if ! command -v chromium >/dev/null || ! command -v go >/dev/null ||
	[ ! -e "$GUST_PLUGIN_PATH/hook-livereload.so" ]; then
	echo "1..0 # SKIP no chromium, go or livereload hook (no libmicrohttpd)"
	exit 0
fi
br() { python3 "$GUST_SRCDIR/tests/helpers/browser.py" "$T/browser" "$@"; }
# Under ASan, no leak check at the exits of this test's gusts: in one CI
# trial LeakSanitizer's own tracer crashed (signal 11 in its stop-the-world,
# gust single-threaded) as the second gust exited. The proxy's leaks are
# checked by bb_livereload.sh and bb_livereload_stress.sh, under
# LeakSanitizer and under valgrind.
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0"
SHOTS=${GUST_BUILDDIR:-.}/tests/screenshots
mkdir -p "$SHOTS"

# Everything go writes stays under $T; no network: no dependencies.
mkdir -p "$T/go/cache" "$T/go/path" "$T/go/tmp"
export GOCACHE=$T/go/cache GOPATH=$T/go/path GOTMPDIR=$T/go/tmp GOENV=off \
	GOFLAGS=-mod=mod GOTOOLCHAIN=local GOPROXY=off GOTELEMETRY=off

P=$T/web
cp -r "$GUST_SRCDIR/tests/fixtures/lrgo" "$P"
chmod -R u+w "$P"
mkdir -p "$P/tmp"
APORT=$(free_port)
PPORT=$(free_port)
while [ "$PPORT" = "$APORT" ]; do PPORT=$(free_port); done
cat >"$P/gust.json" <<EOF
{
  "tmp_dir": "tmp",
  "watch": { "include_ext": ["go"], "debounce_ms": 20 },
  "builder": { "plugin": "shell", "cmd": "go build -o tmp/app ." },
  "runner": { "plugin": "plain", "bin": "./tmp/app", "env": { "PORT": "$APORT" } },
  "rules": [ { "name": "styles", "match": { "include_ext": ["css"] }, "action": "reload" } ],
  "hooks": [ { "plugin": "livereload", "proxy_port": $PPORT } ]
}
EOF
URL=http://127.0.0.1:$PPORT
set_message() { printf 'package main\n\nconst message = %s\n' "$1" >"$P/msg.go"; }
msg_is() { br wait "$tab" "$2" "document.getElementById('msg') && document.getElementById('msg').textContent === '$1'" >/dev/null; }
OVERLAY="document.getElementById('__gust_overlay')"

start_gust "$P"
# the first build fills an empty GOCACHE: tens of seconds on a slow machine
ok_run "the app is up" wait_for 180 log_has 'run: started'
ok_run "the browser starts" br start
tab=$(br open "$URL/")
ok_run "the page shows the app's text through the proxy" msg_is "hello v1" 10
ok_run "its reload script is connected" br wait "$tab" 10 'window.__gust && window.__gust.connected'
br eval "$tab" 'window.kept = 42' >/dev/null

# an edit of the handler: the page follows by itself
set_message '"hello v2"'
ok_run "an edit of the Go handler shows in the page" msg_is "hello v2" 120
is "$(br eval "$tab" 'window.kept === undefined')" true "(the page was reloaded)"
ok_run "a screenshot of the reloaded page" br shot "$tab" "$SHOTS/livereload-reloaded.png"

# a broken build: the compiler's error over the page, as text
set_message 'undefinedThing + "<b>bold</b>"'
ok_run "a broken build: the overlay shows the compiler's error" br wait "$tab" 120 \
	"$OVERLAY && $OVERLAY.textContent.includes('undefined: undefinedThing')"
is "$(br eval "$tab" "$OVERLAY.querySelectorAll('b').length")" 0 "the output is text, not HTML"
is "$(br eval "$tab" "document.getElementById('msg').textContent")" '"hello v2"' \
	"the old run's page is still under it"
ok_run "a screenshot of the overlay" br shot "$tab" "$SHOTS/livereload-overlay.png"

set_message '"hello v3"'
ok_run "the fix: the new text" msg_is "hello v3" 120
is "$(br eval "$tab" "$OVERLAY === null")" true "and the overlay is gone"

# a stylesheet: restyled in place, the page's state kept
br eval "$tab" 'window.kept = 7' >/dev/null
is "$(br eval "$tab" "getComputedStyle(document.getElementById('msg')).color")" '"rgb(255, 0, 0)"' \
	"the heading is red"
echo 'h1 { color: rgb(0, 0, 255); }' >"$P/static/site.css"
ok_run "a CSS edit: the heading turns blue" br wait "$tab" 20 \
	"getComputedStyle(document.getElementById('msg')).color === 'rgb(0, 0, 255)'"
is "$(br eval "$tab" 'window.kept')" 7 "without a reload (a variable set before is still there)"
is "$(log_count 'build: ok')" 3 "and without a build"

# a WebSocket through the proxy, before and after a restart
WS="new Promise((ok, no) => { const s = new WebSocket('ws://127.0.0.1:$PPORT/ws');
	s.onopen = () => s.send('ping'); s.onmessage = (e) => { ok(e.data); s.close(); };
	s.onerror = () => no(new Error('websocket error')); })"
is "$(br eval "$tab" "$WS")" '"echo: ping"' "a WebSocket echo from the page"

# a multipart upload with a query string
UP="(async () => { const a = new Uint8Array(1 << 20); for (let i = 0; i < a.length; i++) a[i] = (i * 7) & 255;
	const f = new FormData(); f.append('name', 'x y'); f.append('file', new Blob([a]), 'a.bin');
	const r = await fetch('/upload?q=a%20b&r=%2F+1', { method: 'POST', body: f });
	const d = new Uint8Array(await crypto.subtle.digest('SHA-256', a));
	return (await r.text()) + ' | ' + Array.from(d, (b) => b.toString(16).padStart(2, '0')).join(''); })()"
up=$(br eval "$tab" "$UP")
like "$up" '^"/upload\?q=a%20b&r=%2F\+1 x y 1048576 ([0-9a-f]{64}) \| \1"$' \
	"a multipart upload arrives intact, its query string byte for byte"

# a page reloaded while the app restarts waits for the new one
touch "$P/slow-start"
n=$(log_count 'run: (started|restarted)')
set_message '"hello v4"'
ok_run "the new build is done and the old run stopped" wait_for 120 log_has 'old tree gone'
br eval "$tab" 'location.reload(), 1' >/dev/null
ok_run "a reload during the restart gets the new page" msg_is "hello v4" 30
is "$(br eval "$tab" 'document.title')" '"lrgo"' "not an error page"
is "$(br eval "$tab" "$WS")" '"echo: ping"' "the WebSocket echo works after the restart"

# gust itself restarts: the page reconnects (with a backoff) and, seeing
# a new gust, reloads
br eval "$tab" 'window.kept = 9' >/dev/null
stop_gust TERM
is "$GUST_STATUS" 0 "gust exits 0"
rm -f "$P/slow-start"
start_gust "$P"
ok_run "a new gust on the same project" wait_for 120 log_has 'run: started'
ok_run "the page reconnects to it and reloads" br wait "$tab" 30 \
	'window.kept === undefined && window.__gust && window.__gust.connected'
ok_run "showing the app" msg_is "hello v4" 10

ok_run "the browser stops, leaving no process" br stop
stop_gust TERM
is "$GUST_STATUS" 0 "gust exits 0"
ok_run "nothing is left" wait_for 10 no_marked_left

plan_done
