# tests/lrlib.sh - what the live-reload black-box tests share: sourced
# after lib.sh. Skips the whole script where the hook was not built.
#   lr_project NAME BUILD_CMD HOOK_MEMBERS [MORE_MEMBERS]
#                 a project in $T/NAME ($P) whose app is tests/helpers/lrapp.py
#                 on $APORT, behind the proxy on $PPORT ($URL)
#   get ARGS...   curl, silent, bounded
#   connected_to PORT, page_version, shows V, events FILE, has_events FILE
#                 NAMES, open_stream FILE (below)
if [ ! -e "$GUST_PLUGIN_PATH/hook-livereload.so" ]; then
	echo "1..0 # SKIP no livereload hook (configure found no libmicrohttpd)"
	exit 0
fi
APP=$GUST_SRCDIR/tests/helpers/lrapp.py
TAG='<script src="/__gust/livereload.js" data-gust-livereload></script>'

lr_project() {
	P=$T/$1
	APORT=$(free_port)
	PPORT=$(free_port)
	[ "$PPORT" = "$APORT" ] && PPORT=$(free_port)
	mkdir -p "$P/src" "$P/tmp"
	echo v1 >"$P/src/version.txt"
	cat >"$P/gust.json" <<EOF
{
  "tmp_dir": "tmp",
  "watch": { "include_ext": ["txt", "css", "html"], "debounce_ms": 20 },
  "builder": { "plugin": "shell", "cmd": "$2" },
  "runner": { "plugin": "plain", "bin": "python3", "args": ["$APP", "serve", "$APORT", "src"] },
  "hooks": [ { "plugin": "livereload", "proxy_port": $PPORT $3 } ]${4:+,
  $4}
}
EOF
	URL=http://127.0.0.1:$PPORT
}

get() { curl -s --max-time 10 "$@"; }
# Whether a connection to 127.0.0.1:PORT is established.
connected_to() {
	awk -v p=":$(printf '%04X' "$1")" '$4 == "01" && substr($3, length($3) - 4) == p { f = 1 } END { exit !f }' \
		/proc/net/tcp
}
# The version the page through the proxy shows, or nothing.
page_version() { get "$URL/" | sed -n 's:.*<h1 id=v>\([^<]*\)</h1>.*:\1:p'; }
shows() { [ "$(page_version)" = "$1" ]; }
# events FILE: the reload stream's event names so far, on one line.
events() { sed -n 's/^event: //p' "$1" 2>/dev/null | paste -sd' '; }
has_events() { [ "$(events "$1")" = "$2" ]; }
open_stream() { curl -s -N --max-time 60 "$URL/__gust/events" >"$1" 2>/dev/null & STREAM_PID=$!; }
