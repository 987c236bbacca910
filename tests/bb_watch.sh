#!/bin/bash
# Watchers through the real gust binary: one table of file-system scenarios
# run against every watcher plugin built here. Each scenario must give
# exactly the number of builds in the table; the builder appends a line to
# a file per build. Then the inotify limits: out of watches or instances
# (set inside a user namespace, so the host is untouched) gives the sysctl
# message and polling still sees edits.
. "$GUST_SRCDIR/tests/lib.sh"

builds() { # FILE
	if [ -f "$1" ]; then wc -l <"$1" | tr -d ' '; else echo 0; fi
}
builds_are() { [ "$(builds "$1")" = "$2" ]; }

# Nothing must happen: there is no event to wait for, so give the watcher
# (poll interval 100 ms) and the debounce (300 ms) a window to misbehave.
quiet_window() { sleep 1; }

# The poll watcher trusts a directory's listing once its mtime and ctime
# are 2 s old; this one's are 3.
dir_aged() { # DIR
	local m c
	m=$(stat -c %Y "$1") && c=$(stat -c %Z "$1") || return 1
	[ $(($(date +%s) - (m > c ? m : c))) -ge 3 ]
}

write_config() { # DIR WATCHER_JSON BUILDS PORT
	cat >"$1/gust.json" <<EOF
{
  "tmp_dir": "tmp",
  "watch": { "include_ext": ["go"], "exclude_dir": ["node_modules", "web/build"],
             "debounce_ms": 300, "debounce_max_ms": 20000 },
  "watcher": $2,
  "builder": { "plugin": "shell", "cmd": "echo build >> '$3'" },
  "runner": { "plugin": "plain", "cmd": "exec '$GUST_HELPERS/shape' serve $4 up" }
}
EOF
}

make_tree() { # DIR
	mkdir -p "$1/src" "$1/node_modules/pkg" "$1/web/build" "$1/.git" "$1/tmp"
	echo 'package main' >"$1/src/main.go"
	echo 'package main' >"$1/src/a.go"
}

# The scenario table: name | command (run in the project dir) | builds.
# $O is a directory outside the tree.
SCENARIOS=$(cat <<'EOF'
create|echo 'package x' > src/new.go|1
write and close|echo '// more' >> src/new.go|1
truncate|truncate -s 0 src/new.go|1
delete|rm src/new.go|1
rename within the tree|mv src/a.go src/b.go|1
rename into the tree|echo 'package x' > "$O/in.go" && mv "$O/in.go" src/in.go|1
rename out of the tree|mv src/in.go "$O/gone.go"|1
vim-style save (write temp, rename over)|printf 'package main\n// v2\n' > src/.main.go.swx && mv src/.main.go.swx src/main.go|1
the next vim-style save|printf 'package main\n// v3\n' > src/.main.go.swx && mv src/.main.go.swx src/main.go|1
mkdir -p and write in one command|mkdir -p src/a/b/c && echo 'package c' > src/a/b/c/f.go|1
edit in the new deep directory|echo '// edit' >> src/a/b/c/f.go|1
create in the new deep directory|echo 'package c' > src/a/b/c/g.go|1
edits inside excluded directories|echo x > node_modules/pkg/x.go && echo x > web/build/x.go && echo x > .git/x.go && echo x > tmp/x.go && mkdir -p node_modules/deep/er && echo x > node_modules/deep/er/y.go|0
a file that does not match include_ext|echo x > src/notes.txt|0
a storm of 1000 files|mkdir -p src/storm && (cd src/storm && touch $(seq -f 'f%04g.go' 1 1000))|1
removing a whole directory|rm -rf src/a|1
an edit in a directory unchanged for 3 s (poll does not list it)|wait_for 15 dir_aged src && echo '// aged' >> src/main.go|1
a new file in a directory unchanged for 3 s|wait_for 15 dir_aged src && echo 'package main' > src/late.go|1
EOF
)

run_table() { # WATCHER WATCHER_JSON
	local w=$1 P=$T/proj-$1 O=$T/outside-$1 B=$T/builds-$1 port n name cmd want
	mkdir -p "$P" "$O"
	make_tree "$P"
	port=$(free_port)
	write_config "$P" "$2" "$B" "$port"
	start_gust "$P"
	ok_run "$w: the first build runs" wait_for 30 builds_are "$B" 1
	ok_run "$w: the program runs" wait_for 30 port_listening "$port"
	n=1
	while IFS='|' read -r name cmd want; do
		[ -n "$name" ] || continue
		(cd "$P" && O=$O eval "$cmd")
		if [ "$want" = 0 ]; then
			quiet_window
			is "$(builds "$B")" "$n" "$w: $name: no build"
			# and the watcher still works afterwards
			echo "// $name" >>"$P/src/main.go"
			n=$((n + 1))
			ok_run "$w: $name: a later edit still builds" wait_for 15 builds_are "$B" $n
		else
			n=$((n + want))
			if wait_for 15 builds_are "$B" $n; then
				quiet_window
				is "$(builds "$B")" "$n" "$w: $name: exactly $want build(s)"
			else
				ok 1 "$w: $name: builds $(builds "$B"), want $n"
				n=$(builds "$B")
			fi
		fi
	done <<<"$SCENARIOS"
	stop_gust INT
	is "$GUST_STATUS" 0 "$w: gust exits 0"
	ok_run "$w: nothing gust started is left" wait_for 10 no_marked_left
}

found=0
for w in inotify poll; do
	[ -f "$GUST_PLUGIN_PATH/watcher-$w.so" ] || continue
	found=1
	case $w in
	inotify) run_table inotify '{ "plugin": "inotify", "fallback_to_poll": false }' ;;
	poll) run_table poll '{ "plugin": "poll", "interval_ms": 100 }' ;;
	esac
done
is "$found" 1 "at least one watcher plugin is built"

# Unknown watcher options are refused by the plugin, naming the key.
for w in inotify poll; do
	[ -f "$GUST_PLUGIN_PATH/watcher-$w.so" ] || continue
	P=$T/badopt-$w
	mkdir -p "$P/src"
	echo 'package main' >"$P/src/main.go"
	write_config "$P" "{ \"plugin\": \"$w\", \"intervall_ms\": 5 }" "$T/unused" "$(free_port)"
	out=$(cd "$P" && "$GUST" 2>&1 </dev/null)
	status=$?
	is "$status" 2 "$w: an unknown option is a config error (exit 2)"
	like "$out" "intervall_ms" "$w: the message names the unknown key"
done

# poll with trust_dir_mtime off lists every directory at every scan
if [ -f "$GUST_PLUGIN_PATH/watcher-poll.so" ]; then
	P=$T/poll-list B=$T/builds-poll-list
	mkdir -p "$P/src/deep"
	echo 'package main' >"$P/src/main.go"
	port=$(free_port)
	write_config "$P" '{ "plugin": "poll", "interval_ms": 100, "trust_dir_mtime": false }' "$B" "$port"
	start_gust "$P"
	ok_run "poll, trust_dir_mtime off: the first build runs" wait_for 30 builds_are "$B" 1
	echo 'package deep' >"$P/src/deep/d.go"
	ok_run "poll, trust_dir_mtime off: a new file builds" wait_for 15 builds_are "$B" 2
	echo '// edit' >>"$P/src/deep/d.go"
	ok_run "poll, trust_dir_mtime off: an edit builds" wait_for 15 builds_are "$B" 3
	stop_gust INT
	ok_run "poll, trust_dir_mtime off: nothing left" wait_for 10 no_marked_left
	write_config "$P" '{ "plugin": "poll", "trust_dir_mtime": "no" }' "$B" "$port"
	out=$(cd "$P" && "$GUST" 2>&1 </dev/null)
	is "$?" 2 "poll: a trust_dir_mtime that is not a boolean is a config error"
	like "$out" "trust_dir_mtime" "poll: the message names the key"
fi

# ---- inotify limits, inside a user namespace (per-namespace limits) ----
if [ -f "$GUST_PLUGIN_PATH/watcher-inotify.so" ] &&
	unshare -U -r true 2>/dev/null &&
	unshare -U -r sh -c 'echo 2 > /proc/sys/user/max_inotify_watches' 2>/dev/null; then
	limit_case() { # NAME SYSCTL_FILE VALUE EXPECTED_SYSCTL
		local P=$T/limit-$1 B=$T/builds-limit-$1 port
		mkdir -p "$P/src/a/b/c"
		echo 'package main' >"$P/src/main.go"
		port=$(free_port)
		write_config "$P" '{ "plugin": "inotify", "poll_interval_ms": 100 }' "$B" "$port"
		(cd "$P" && exec env GUST_TEST_MARK="$GUST_TEST_MARK" unshare -U -r \
			sh -c "echo $3 > /proc/sys/user/$2 && exec '$GUST'") >"$T/gust.log" 2>&1 </dev/null &
		GUST_PID=$!
		ok_run "$1: the first build runs" wait_for 30 builds_are "$B" 1
		like "$(gust_log)" "fs\\.inotify\\.$4.*sysctl fs\\.inotify\\.$4=" \
			"$1: the message names the limit and the sysctl"
		like "$(gust_log)" "falling back to polling" "$1: it falls back to polling"
		echo '// edit' >>"$P/src/a/b/c/x.go"
		ok_run "$1: polling sees an edit" wait_for 15 builds_are "$B" 2
		stop_gust INT
		ok_run "$1: nothing left" wait_for 10 no_marked_left
	}
	limit_case "out of watches" max_inotify_watches 2 max_user_watches
	limit_case "out of instances" max_inotify_instances 0 max_user_instances
else
	echo "# skipped: inotify limit cases need unshare -U -r and per-namespace inotify limits"
fi

plan_done
