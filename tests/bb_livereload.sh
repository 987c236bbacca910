#!/bin/bash
# The livereload hook's proxy, through the real gust binary, between real
# clients and a real app (tests/helpers/lrapp.py) on loopback: what goes
# through byte for byte (query strings, a multipart upload, a large
# download, chunked and streamed answers, a WebSocket), what is added (the
# script in HTML, X-Forwarded-*), the reload events, and requests made
# while the app restarts or is not up yet, which wait instead of failing.
# What a browser does with it is in bb_browser.sh.
. "$GUST_SRCDIR/tests/lib.sh"
. "$GUST_SRCDIR/tests/lrlib.sh"

# ---- bad configuration: one line, exit 2, nothing started ----
lr_project bad "touch built" ""
sed -i 's/"proxy_port": [0-9]*/"proxy_prot": 1/' "$P/gust.json"
out=$(cd "$P" && timeout 20 "$GUST" 2>&1)
is "$?" 2 "an unknown key exits 2"
like "$out" '/hooks/0/proxy_prot: unknown key \(did you mean "proxy_port"\?\)' "the error names the key"
is "$(printf '%s\n' "$out" | wc -l)" 1 "in one line"
ok_run "nothing was built" test ! -e "$P/built"

lr_project busy "touch built" ""
python3 -c "import socket,time,sys; s=socket.socket(); s.bind(('127.0.0.1',$PPORT)); s.listen(); open(sys.argv[1],'w').close(); time.sleep(30)" \
	"$T/busy.ready" &
busy=$!
wait_for 10 test -e "$T/busy.ready"
out=$(cd "$P" && GUST_TEST_MARK="$GUST_TEST_MARK" timeout 20 "$GUST" 2>&1)
is "$?" 2 "a proxy port in use exits 2"
like "$out" "proxy_port $PPORT: cannot listen on 127\.0\.0\.1:$PPORT: Address already in use" \
	"the error names the address and why"
ok_run "nothing was built" test ! -e "$P/built"
kill "$busy"
wait "$busy" 2>/dev/null

# ---- what goes through, and what is added ----
lr_project main "sh build.sh" ""
cat >"$P/build.sh" <<'EOF'
if grep -q bad src/version.txt; then echo 'main.go:3: <b>undefined</b> & co'; exit 1; fi
cp src/version.txt tmp/built
EOF
start_gust "$P"
ok_run "the page shows v1 through the proxy" wait_for 20 shows v1
page=$(get "$URL/")
is "$(grep -o "$TAG" <<<"$page" | wc -l)" 1 "the script is in the page once"
like "$page" "$TAG</body></html>\$" "right before </body>"
len=$(get -I "$URL/" | tr -d '\r' | sed -n 's/^Content-Length: //Ip')
is "$len" "$(printf '%s' "$page" | wc -c)" "Content-Length counts the script (HEAD)"
like "$(get "$URL/chunked")" "chunked v1</p>$TAG</body>" "a chunked page gets it too"

hdrs=$(get -H 'Accept: text/html' -H 'Accept-Encoding: gzip' -H 'X-Forwarded-For: 10.1.2.3' \
	"$URL/headers?a=%2F%20b&c=d+e")
like "$hdrs" '"path": "/headers\?a=%2F%20b&c=d\+e"' "the query string goes byte for byte"
like "$hdrs" "\"Host\", \"127.0.0.1:$PPORT\"" "the browser's Host is kept"
like "$hdrs" '"X-Forwarded-For", "10.1.2.3, 127.0.0.1"' "X-Forwarded-For gets the client"
like "$hdrs" '"X-Forwarded-Proto", "http"' "X-Forwarded-Proto"
like "$hdrs" "\"X-Forwarded-Host\", \"127.0.0.1:$PPORT\"" "X-Forwarded-Host"
unlike "$hdrs" 'Accept-Encoding' "a page the script goes in is asked for uncompressed"
like "$(get -H 'Accept-Encoding: gzip' "$URL/headers")" '"Accept-Encoding", "gzip"' \
	"other requests keep their Accept-Encoding"
unlike "$(get -v "$URL/headers" "$URL/headers" 2>&1 >/dev/null)" 'Connection #0 .*closed|Closing connection 0' \
	"two requests go over one kept-alive connection"
# toward the app too (what that costs or saves is measured by `make bench`)
get -o /dev/null -o /dev/null "$URL/" "$URL/"
ok_run "the proxy keeps its connection to the app" connected_to "$APORT"

head -c 3000000 /dev/urandom >"$T/up.bin"
up=$(timeout 30 python3 "$APP" upload "$URL/upload?name=a%20b&x=%2F&y=1+2" "$T/up.bin")
sent=$(sed -n 's/^sent \([0-9a-f]*\) \([0-9]*\)/\1 \2/p' <<<"$up")
like "$up" '^HTTP/1.1 200' "a 3 MB multipart upload is answered"
like "$up" "\"sha256\": \"${sent% *}\"" "and arrives intact"
like "$up" "\"length\": ${sent#* }," "whole"
like "$up" '"path": "/upload\?name=a%20b&x=%2F&y=1\+2"' "with its query string byte for byte"
like "$up" '"type": "multipart/form-data; boundary=' "and its content type"

want=$(python3 -c "import hashlib,sys; sys.path.insert(0, '$GUST_SRCDIR/tests/helpers'); import lrapp; print(hashlib.sha256(lrapp.pattern(20000000)).hexdigest())")
is "$(get "$URL/big?n=20000000" | sha256sum | cut -d' ' -f1)" "$want" "a 20 MB download arrives intact"

sse=$(timeout 20 python3 "$APP" sse "$URL/stream?marker=$T/sse.marker" "$T/sse.marker" | paste -sd' ')
is "$sse" "one two" "the app's event stream is passed on as it comes (the second waits for the first)"

ws=$(timeout 20 python3 "$APP" ws "ws://127.0.0.1:$PPORT/ws" hello "wörld" | paste -sd' ')
is "$ws" "hello wörld closed" "a WebSocket echo through the proxy"

# ---- the reload events, and requests during a restart ----
open_stream "$T/ev1"
ok_run "the reload stream says hello first" wait_for 10 has_events "$T/ev1" hello
like "$(sed -n 's/^data: //p' "$T/ev1" | head -1)" '^\{"id":"[0-9a-f]+","state":"ok","output":""\}$' \
	"with the proxy's id and the build's state"
: >"$T/codes"
(
	end=$((SECONDS + 30))
	while [ ! -e "$T/stop-load" ] && [ $SECONDS -lt $end ]; do
		get -o /dev/null -w '%{http_code} ' "$URL/" >>"$T/codes"
	done
) &
load=$!
wait_for 10 test -s "$T/codes"
echo v2 >"$P/src/version.txt"
ok_run "an edit: the page shows v2" wait_for 20 shows v2
n=$(wc -w <"$T/codes")
codes_ge() { [ "$(wc -w <"$T/codes")" -ge "$1" ]; }
ok_run "(requests go on after it)" wait_for 10 codes_ge $((n + 3))
: >"$T/stop-load"
wait "$load"
n=$(wc -w <"$T/codes")
is "$(tr ' ' '\n' <"$T/codes" | grep -vc '^200$')" 0 "no request failed during the restart ($n made)"
ok_run "the stream said building, then reload" wait_for 10 has_events "$T/ev1" "hello building reload"
ws=$(timeout 20 python3 "$APP" ws "ws://127.0.0.1:$PPORT/ws" again | paste -sd' ')
is "$ws" "again closed" "the WebSocket echo works after the restart"

# a failed build: the event carries its output; a new page's hello too
echo bad >"$P/src/version.txt"
ok_run "a broken build: build-failed" wait_for 20 has_events "$T/ev1" "hello building reload building build-failed"
like "$(sed -n 's/^data: //p' "$T/ev1" | tail -1)" '^\{"output":"main.go:3: <b>undefined</b> & co\\n?"\}$' \
	"with the compiler's output"
hello=$(timeout 5 curl -s -N "$URL/__gust/events" 2>/dev/null | sed -n 's/^data: //p' | head -1)
like "$hello" '"state":"failed","output":"main.go:3: <b>undefined</b> & co' \
	"a page opened now is told the build failed, and why"
is "$(page_version)" v2 "the old run still serves"
echo v3 >"$P/src/version.txt"
ok_run "the fix: reload" wait_for 20 has_events "$T/ev1" \
	"hello building reload building build-failed building reload"
ok_run "and v3 is served" shows v3

# a config reload that changes the hook: the new proxy takes over the
# port, and knows the app is up and where, without a restart
sed -i "s/\"proxy_port\": $PPORT/\"proxy_port\": $PPORT, \"wait_timeout_ms\": 20000/" "$P/gust.json"
ok_run "a reload of the hook's options is taken" wait_for 10 log_has 'gust.json reloaded: hooks changed$'
is "$(get --max-time 5 -o /dev/null -w '%{http_code}' "$URL/")" 200 \
	"the new proxy answers at once, on the same port"
kill "$STREAM_PID" 2>/dev/null
wait "$STREAM_PID" 2>/dev/null
stop_gust TERM
is "$GUST_STATUS" 0 "gust exits 0 on SIGTERM"
ok_run "the proxy's port is free" port_free "$PPORT"
ok_run "nothing is left" wait_for 10 no_marked_left

# ---- a request before the first run is up waits for it ----
lr_project slow "while [ ! -e go ]; do sleep 0.05; done; cp src/version.txt tmp/built" ""
start_gust "$P"
ok_run "the proxy listens during the first build" wait_for 20 port_listening "$PPORT"
get -o "$T/slow.out" -w '%{http_code}' "$URL/" >"$T/slow.code" &
getter=$!
ok_run "the request reached the proxy" wait_for 10 connected_to "$PPORT"
ok_run "while the app is not up" port_free "$APORT"
ok_run "(and is not answered)" test ! -s "$T/slow.code"
touch "$P/go"
wait "$getter"
is "$(cat "$T/slow.code")" 200 "it is answered once the app is up"
like "$(cat "$T/slow.out")" '<h1 id=v>v1</h1>' "by the app"
stop_gust TERM

# ---- an app that never answers: a page of ours after wait_timeout_ms ----
lr_project never "exit 1" ', "wait_timeout_ms": 300'
start_gust "$P"
ok_run "the build fails" wait_for 20 log_has 'build: failed'
code=$(get -o "$T/never.out" -w '%{http_code}' "$URL/")
is "$code" 502 "no app: 502 after the wait"
like "$(cat "$T/never.out")" "did not answer" "a page says so"
like "$(cat "$T/never.out")" "$TAG" "and reloads itself once the app answers"
stop_gust TERM

# ---- gust quits while a request waits for the app ----
lr_project quit "exit 1" ', "wait_timeout_ms": 60000'
start_gust "$P"
ok_run "(the build fails)" wait_for 20 log_has 'build: failed'
get -o /dev/null -w '%{http_code}' --max-time 30 "$URL/" >"$T/quit.code" &
getter=$!
ok_run "a request waits for the app" wait_for 10 connected_to "$PPORT"
stop_gust TERM
is "$GUST_STATUS" 0 "gust quits cleanly while it waits (libmicrohttpd is not stopped with it suspended)"
ok_run "the waiting request is let go" wait_for 10 pid_gone "$getter"
wait "$getter" 2>/dev/null

# ---- idle browser connections are closed; what waits is not ----
lr_project idle "cp src/version.txt tmp/built" ', "idle_timeout_ms": 1000'
start_gust "$P"
ok_run "idle: the app is up" wait_for 20 shows v1
open_stream "$T/idle.ev"
ok_run "idle: an event stream is open" wait_for 10 has_events "$T/idle.ev" hello
# three clients that hold a connection and send nothing more: one silent,
# one in the middle of its request's head, one kept alive after an answer;
# each line says how its connection ended within 20 s
timeout 30 python3 - "$PPORT" >"$T/idle.out" <<'EOF'
import socket, sys, time
port = int(sys.argv[1])
socks = {}
for name, send in (("silent", b""), ("half", b"GET / HTTP/1.1\r\nHost: x\r\n"),
                   ("kept", b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")):
    s = socket.create_connection(("127.0.0.1", port))
    s.sendall(send)
    socks[name] = s
ends = {}
deadline = time.monotonic() + 20
while len(ends) < len(socks) and time.monotonic() < deadline:
    for name, s in socks.items():
        if name in ends:
            continue
        s.settimeout(0.05)
        try:
            while True:
                b = s.recv(65536)
                if not b:
                    ends[name] = "closed"
                    break
        except socket.timeout:
            pass
        except OSError:
            ends[name] = "closed"
for name in socks:
    print(name, ends.get(name, "open"))
EOF
is "$(paste -sd' ' "$T/idle.out")" "silent closed half closed kept closed" \
	"idle: a silent, a half-sent and a kept-alive connection are closed"
ok_run "idle: the event stream, idle longer than that, is still open" kill -0 "$STREAM_PID"
echo v2 >"$P/src/version.txt"
ok_run "idle: and it still gets the reload" wait_for 20 has_events "$T/idle.ev" "hello building reload"
kill "$STREAM_PID" 2>/dev/null
wait "$STREAM_PID" 2>/dev/null
stop_gust TERM
is "$GUST_STATUS" 0 "idle: gust exits 0 on SIGTERM"

# ---- stylesheets: swapped, not reloaded ----
lr_project css "cp src/version.txt tmp/built" "" \
	'"rules": [ { "name": "styles", "match": { "include_ext": ["css", "html"] }, "action": "reload" } ]'
mkdir -p "$P/src/static"
echo 'h1 { color: red }' >"$P/src/static/site.css"
start_gust "$P"
ok_run "the css project serves" wait_for 20 shows v1
open_stream "$T/ev2"
ok_run "hello" wait_for 10 has_events "$T/ev2" hello
echo 'h1 { color: blue }' >"$P/src/static/site.css"
ok_run "a css edit: a css event" wait_for 10 has_events "$T/ev2" "hello css"
is "$(sed -n 's/^data: //p' "$T/ev2" | tail -1)" '{"paths":["src/static/site.css"]}' \
	"naming the stylesheet"
echo '<p>x</p>' >"$P/src/static/part.html"
ok_run "another file of the rule: a full reload" wait_for 10 has_events "$T/ev2" "hello css reload"
is "$(log_count 'build: ')" 1 "neither built"
kill "$STREAM_PID" 2>/dev/null
wait "$STREAM_PID" 2>/dev/null
stop_gust TERM
ok_run "nothing is left at the end" wait_for 10 no_marked_left

plan_done
