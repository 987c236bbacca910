#!/bin/bash
# tests/helpers/browser.py, the headless-Chromium driver of the live-reload
# tests, against a loopback file server: tabs open, expressions evaluate to
# JSON, waits end when the page gets there or fail at their deadline,
# screenshots are PNGs, errors are one line and status 1, nothing outside
# loopback is reached, and stop leaves none of Chromium's processes.
. "$GUST_SRCDIR/tests/lib.sh"

if ! command -v chromium >/dev/null || ! command -v python3 >/dev/null; then
	echo "1..0 # SKIP no chromium or python3"
	exit 0
fi
br() { python3 "$GUST_SRCDIR/tests/helpers/browser.py" "$T/browser" "$@"; }

mkdir -p "$T/www"
cat >"$T/www/index.html" <<'EOF'
<!doctype html><title>t</title><body style="background:#00f"><h1>hi</h1>
<script>window.n = 41; setTimeout(() => { window.late = "yes"; }, 300);</script>
EOF
PORT=$(free_port)
(cd "$T/www" && exec env GUST_TEST_MARK="$GUST_TEST_MARK" python3 -m http.server \
	--bind 127.0.0.1 "$PORT") >"$T/httpd.log" 2>&1 &
HTTPD=$!
ok_run "a file server listens on loopback" wait_for 10 port_listening "$PORT"
U=http://127.0.0.1:$PORT

ok_run "the browser starts" br start
tab=$(br open "$U/")
is "$tab" 1 "open prints the first tab's name"
is "$(br eval "$tab" 'window.n + 1')" 42 "eval prints a number"
is "$(br eval "$tab" '({a: [1, "<b>"], u: undefined})')" '{"a":[1,"<b>"]}' "eval prints JSON"
is "$(br eval "$tab" 'new Promise((r) => setTimeout(() => r("p"), 50))')" '"p"' \
	"eval awaits a promise"
ok_run "wait returns once the page sets a value" br wait "$tab" 10 'window.late === "yes"'

t0=$(date +%s%N)
err=$(br wait "$tab" 1 'window.never' 2>&1)
st=$? ms=$((($(date +%s%N) - t0) / 1000000))
is "$st" 1 "wait fails when the value never comes"
like "$err" '^browser.py: wait: window.never not truthy after 1 s' "it says what it waited for"
[ "$ms" -ge 1000 ] && [ "$ms" -lt 10000 ]
ok $? "at its deadline ($ms ms)"

err=$(br eval "$tab" 'nosuch.x' 2>&1)
st=$?
is "$st/$(printf '%s\n' "$err" | wc -l)" 1/1 "a thrown error: status 1, one line"
like "$err" '^browser.py: eval: ReferenceError: nosuch is not defined$' "it names the error"

tab2=$(br open "$U/?second")
is "$tab2" 2 "a second tab"
is "$(br eval "$tab2" 'location.search')" '"?second"' "it shows its own page"
err=$(br open "http://127.0.0.1:$(free_port)/" 2>&1)
like "$err" '^browser.py: open: .*ERR_CONNECTION_REFUSED' "open fails when nothing listens"
err=$(br open "http://192.0.2.1/" 2>&1)
like "$err" '^browser.py: open: http://192.0.2.1/: net::ERR_PROXY_CONNECTION_FAILED' \
	"nothing outside loopback is reached (the dead proxy)"

ok_run "a screenshot" br shot "$tab2" "$T/shot.png"
sig=$(head -c 8 "$T/shot.png" | od -An -tx1 | tr -d ' \n')
is "$sig" 89504e470d0a1a0a "it is a PNG"

ok_run "close a tab" br close "$tab2"
like "$(br eval "$tab2" 1 2>&1)" "^browser.py: eval: no tab '2'" "a closed tab is gone"

# every process Chromium started descends from the driver (its subreaper)
read -r DRIVER _ <"$T/browser/browser.pids"
tree() {
	ps -e -o pid=,ppid= | awk -v top="$1" '{ up[$1] = $2 }
		END { for (p in up) { q = p; while (q in up && q != top) q = up[q]; if (q == top && p != top) print p } }'
}
KIDS=$(tree "$DRIVER")
N=$(echo "$KIDS" | wc -w)
[ "$N" -ge 3 ]
ok $? "Chromium runs several processes ($N)"
ok_run "stop" br stop
# the driver's parent is init: it may be a zombie for a moment
dead() { [ ! -e "/proc/$1" ] || [ "$(sed 's/.*) //' "/proc/$1/stat" | cut -d' ' -f1)" = Z ]; }
ok_run "the driver has exited" dead "$DRIVER"
# shellcheck disable=SC2086
ok_run "none of Chromium's processes is left" all_gone $KIDS
like "$(br eval 1 1 2>&1)" '^browser.py: no browser running in ' "commands fail after stop"

kill "$HTTPD"
wait "$HTTPD" 2>/dev/null
plan_done
