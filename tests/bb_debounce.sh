#!/bin/bash
# The default debounce (watch.debounce_ms not set: the adaptive window),
# through the real gust binary: one build for a lone save, for each
# editor's safe write, for a burst of 1,000 and of 10,000 new files, and for
# a `git checkout` that rewrites 2,000 files. The cap (debounce_max_ms) is
# raised: on a loaded 2-CPU machine writing 10,000 files takes over 4 s,
# and the default cap (2 s) builds during such a storm, as it must.
. "$GUST_SRCDIR/tests/lib.sh"

P=$T/proj
B=$T/builds
mkdir -p "$P/src" "$P/b1000" "$P/b10000" "$P/gen"
printf 'package main\n' >"$P/src/main.go"
cat >"$P/gust.json" <<EOF
{
  "watch": { "include_ext": ["go"], "debounce_max_ms": 60000 },
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
git_q checkout -q other
is "$(git -C "$P" rev-parse --abbrev-ref HEAD)" other "git checkout switched branch"
one_build "a git checkout rewriting 2,000 files"

stop_gust TERM
ok_run "nothing left" wait_for 10 no_marked_left
plan_done
