#!/bin/bash
# The default debounce (watch.debounce_ms not set: the adaptive window),
# through the real gust binary: one build for a lone save, for each
# editor's safe write, for a burst of 1,000 and of 10,000 new files, and for
# a `git checkout` that rewrites 2,000 files, all at the default cap
# (debounce_max_ms, 2 s): on a loaded 2-CPU machine writing 10,000 files
# takes over 4 s, and a burst that keeps bringing new paths moves the cap
# on (up to 5 times it). A burst of new files paced to outlast the cap is
# one build too; a stream rewriting one file is still cut at the cap.
. "$GUST_SRCDIR/tests/lib.sh"

P=$T/proj
B=$T/builds
mkdir -p "$P/src" "$P/b1000" "$P/b10000" "$P/slow" "$P/gen"
printf 'package main\n' >"$P/src/main.go"
cat >"$P/gust.json" <<EOF
{
  "watch": { "include_ext": ["go"] },
  "builder": { "plugin": "shell", "cmd": "echo build >> '$B'" },
  "runner": { "plugin": "plain", "bin": "$GUST_HELPERS/shape", "args": ["pause"] }
}
EOF
# A repository whose branch "other" differs in 2,000 files under gen/.
git_q() { git -C "$P" -c user.name=t -c user.email=t@example.com "$@" >/dev/null 2>&1; }
"$GUST_HELPERS/saver" burst "$P/gen" 2000 'package gen // one' &&
	git_q init -q && git_q add gen && git_q commit -q -m one &&
	git_q checkout -q -b other && "$GUST_HELPERS/saver" burst "$P/gen" 2000 'package gen // two' &&
	git_q commit -q -am two && git_q checkout -q - || {
	echo "Bail out! cannot set up the git repository"
	exit 1
}

builds() { if [ -f "$B" ]; then wc -l <"$B" | tr -d ' '; else echo 0; fi; }
builds_at_least() { [ "$(builds)" -ge "$1" ]; }
# Once the build came, give a second one (the adaptive window is at most
# 200 ms) a bounded time to misbehave.
quiet_window() { sleep 1.5; }
# one_build WHAT: the change just made gives one build more than $before.
one_build() {
	ok_run "$1: a build" wait_for 60 builds_at_least $((before + 1))
	quiet_window
	is "$(builds)" $((before + 1)) "$1: exactly one build"
	before=$(builds)
}

before=0
start_gust "$P"
one_build "the first build"

printf 'package main\n// 2\n' >"$P/src/main.go"
one_build "a lone save"
"$GUST_HELPERS/saver" vim "$P/src/main.go" 'package main // vim'
one_build "vim's safe write"
"$GUST_HELPERS/saver" jetbrains "$P/src/main.go" 'package main // jetbrains'
one_build "JetBrains' safe write"
"$GUST_HELPERS/saver" temp "$P/src/main.go" 'package main // temp'
one_build "a temporary written, renamed over, chmod'ed"
"$GUST_HELPERS/saver" burst "$P/b1000" 1000 'package b'
one_build "a burst of 1,000 new files"
"$GUST_HELPERS/saver" burst "$P/b10000" 10000 'package b'
one_build "a burst of 10,000 new files"
# 3,000 files 1 ms apart: over 3 s, longer than the cap
"$GUST_HELPERS/saver" slowburst "$P/slow" 3000 1 'package slow'
one_build "a burst of new files that outlasts the cap"
# one file rewritten every millisecond for at least 6 s: the quiet window
# never closes, and the cap (2 s) must build during the stream
"$GUST_HELPERS/saver" stream "$P/src/main.go" 6000 1 &
streamer=$!
wait "$streamer"
ok_run "a stream to one file builds at the cap while it runs (at least twice in 6 s)" \
	builds_at_least $((before + 2))
quiet_window
before=$(builds)
git_q checkout -q other
is "$(git -C "$P" rev-parse --abbrev-ref HEAD)" other "git checkout switched branch"
one_build "a git checkout rewriting 2,000 files"

stop_gust TERM
ok_run "nothing left" wait_for 10 no_marked_left
plan_done
