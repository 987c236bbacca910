#!/bin/bash
# The livereload hook's proxy under clients that misbehave or leave, and an
# app that dies or never answers, through the real gust binary on loopback
# (tests/helpers/lrapp.py): what the proxy holds (descriptors, memory, the
# app's connections) must come back to where it was, and gust must still
# answer, and quit cleanly with all of it in flight.
. "$GUST_SRCDIR/tests/lib.sh"
. "$GUST_SRCDIR/tests/lrlib.sh"

fds() { find "/proc/$GUST_PID/fd" -mindepth 1 -maxdepth 1 2>/dev/null | wc -l; }
fds_at_most() { [ "$(fds)" -le "$1" ]; }
fds_at_least() { [ "$(fds)" -ge "$1" ]; }
# Connections established to 127.0.0.1:PORT.
connections_to() {
	awk -v p=":$(printf '%04X' "$1")" '$4 == "01" && substr($3, length($3) - 4) == p { n++ } END { print n + 0 }' \
		/proc/net/tcp
}
none_to() { [ "$(connections_to "$1")" = 0 ]; }
# kill_all PID...: end the clients this script started, and reap them.
kill_all() {
	kill "$@" 2>/dev/null
	wait "$@" 2>/dev/null
}

lr_project stress "cp src/version.txt tmp/built" ""
start_gust "$P"
ok_run "the page is served through the proxy" wait_for 20 shows v1
get -o /dev/null "$URL/__gust/livereload.js"
base=$(fds)
# the idle connections to the app gust may keep for the next requests
# (LR_KEPT_CONNECTIONS, plugins/livereload/curlloop.h)
KEPT=4

# ---- clients that leave while their request is suspended ----
pids=()
for _ in $(seq 20); do
	curl -s -N --max-time 60 "$URL/__gust/events" >/dev/null 2>&1 &
	pids+=($!)
done
ok_run "20 event streams are open" wait_for 10 fds_at_least $((base + 20))
kill_all "${pids[@]}"
ok_run "closed event streams are let go before the next event" wait_for 10 fds_at_most "$((base + KEPT))"

pids=()
for _ in $(seq 5); do
	curl -s --max-time 60 "$URL/hang" >/dev/null 2>&1 &
	pids+=($!)
done
hanging() { [ "$(connections_to "$APORT")" -ge 5 ]; }
ok_run "5 requests wait on an app that does not answer" wait_for 10 hanging
kill_all "${pids[@]}"
ok_run "their clients left: the app's connections are closed" wait_for 10 none_to "$APORT"
ok_run "and the descriptors let go" wait_for 10 fds_at_most "$((base + KEPT))"

# ---- clients that leave midway ----
rss() { awk '/^VmRSS:/ { print $2 }' "/proc/$GUST_PID/status"; }
ready() { grep -qx ready "$1"; }
# midway HOW: a client stops midway through HOW (lrapp.py), in the background
midway() {
	local path
	case $1 in
	upload) path=upload ;;
	download) path='big?n=200000000' ;;
	ws) path=ws ;;
	*) path= ;;
	esac
	python3 "$APP" midway "$1" "$URL/$path" >"$T/$1.out" 2>&1 &
}
rss0=$(rss)
for how in upload download ws idle; do
	midway "$how"
	pid=$!
	ok_run "a client stops midway: $how" wait_for 10 ready "$T/$how.out"
	if [ "$how" = download ]; then
		grown=$(($(rss) - rss0))
		ok_run "a slow reader of 200 MB is not buffered (RSS grew $grown KiB)" test "$grown" -lt 16384
	fi
	kill_all "$pid"
	ok_run "and leaves: its descriptors are let go" wait_for 10 fds_at_most "$((base + KEPT))"
done

# ---- answers of every kind ----
is "$(get -o /dev/null -w '%{http_code} %{size_download}' "$URL/die?n=100000"; echo " $?")" "200 100000 18" \
	"an app that dies midway: the browser sees the answer cut short"
is "$(get -o /dev/null -w '%{http_code}' -H 'Connection: Upgrade' -H 'Upgrade: websocket' "$URL/headers")" 200 \
	"an upgrade the app answers with 200 passes"
is "$(get -o /dev/null -w '%{http_code}' -H 'Connection: Upgrade' -H 'Upgrade: websocket' "$URL/nope")" 404 \
	"and with 404"
is "$(get -i "$URL/status?code=204" | tr -d '\r' | grep -Ec '^(Content-Length|Transfer-Encoding):|status')" 0 \
	"a 204 has no body, nor its headers"
is "$(get -i "$URL/status?code=304" | tr -d '\r' | sed -n '1p;/status/p')" "HTTP/1.1 304 Not Modified" \
	"a 304 has no body"
is "$(get -I "$URL/big?n=5000" | tr -d '\r' | sed -n 's/^Content-Length: //p')" 5000 "HEAD keeps Content-Length"
http10=$(python3 -c "
import socket, sys
s = socket.create_connection(('127.0.0.1', $PPORT), timeout=10)
s.sendall(b'GET / HTTP/1.0\r\n\r\n')
d = b''
while True:
    c = s.recv(65536)
    if not c: break
    d += c
sys.stdout.write(d.decode())")
like "$http10" "<h1 id=v>v1</h1>$TAG</body></html>\$" "an HTTP/1.0 client gets the page, to its end"
head -c 2000000 /dev/urandom >"$T/up.bin"
like "$(get -H 'Expect: 100-continue' --data-binary @"$T/up.bin" "$URL/upload")" \
	"\"length\": 2000000, \"sha256\": \"$(sha256sum <"$T/up.bin" | cut -d' ' -f1)\"" \
	"an upload with Expect: 100-continue arrives whole"
{ printf 'X-Big: '; head -c 140000 /dev/zero | tr '\0' a; echo; } >"$T/big.hdr"
is "$(get -o /dev/null -w '%{http_code}' -H @"$T/big.hdr" "$URL/")" 431 \
	"headers past the proxy's 128 KiB: 431"
ok_run "and the descriptors are back" wait_for 10 fds_at_most "$((base + KEPT))"

# ---- many clients at once ----
cat >"$T/many.py" <<'EOF'
import collections, http.client, sys, threading
port, codes, lock = int(sys.argv[1]), collections.Counter(), threading.Lock()
def one(i):
    path = ("/", "/big?n=200000", "/headers", "/chunked")[i % 4]
    try:
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        c.request("GET", path)
        r = c.getresponse()
        r.read()
        key = str(r.status)
    except Exception as e:
        key = type(e).__name__
    with lock:
        codes[key] += 1
ts = [threading.Thread(target=one, args=(i,)) for i in range(200)]
for t in ts: t.start()
for t in ts: t.join()
print(" ".join("%s:%d" % kv for kv in sorted(codes.items())))
EOF
is "$(timeout 60 python3 "$T/many.py" "$PPORT")" "200:200" "200 clients at once are all answered"
ok_run "and the descriptors are back" wait_for 10 fds_at_most "$((base + KEPT))"

# ---- gust quits with all of it in flight ----
in_flight() {
	local how
	pids=()
	curl -s -N --max-time 60 "$URL/__gust/events" >/dev/null 2>&1 &
	pids+=($!)
	curl -s --max-time 60 "$URL/hang" >/dev/null 2>&1 &
	pids+=($!)
	for how in upload download ws idle; do
		midway "$how"
		pids+=($!)
	done
	for how in upload download ws idle; do wait_for 10 ready "$T/$how.out" || return 1; done
	wait_for 10 fds_at_least $((base + 8))
}
ok_run "event stream, hanging request, upload, download, WebSocket, idle client in flight" in_flight
stop_gust TERM
is "$GUST_STATUS" 0 "gust exits 0 on SIGTERM"
ok_run "nothing is left" wait_for 10 no_marked_left
kill_all "${pids[@]}"

start_gust "$P"
ok_run "(again)" wait_for 20 shows v1
base=$(fds)
ok_run "all of it in flight again" in_flight
stop_gust KILL
ok_run "SIGKILL: nothing is left" wait_for 10 no_marked_left
kill_all "${pids[@]}"
plan_done
