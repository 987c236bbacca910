#!/bin/bash
# The ABI through the real gust binary: a runner built against the frozen
# 1.0 header (tests/fixtures/abi10-runner.c) loads and runs in this 1.x
# gust, a 1.0 watcher (abi10-watcher.c) reports changes that it acts on, and its stop() calls stop_done() from inside, which the ABI allows:
# gust acts on it only once stop() has returned, so the next start() is
# never called from inside stop(), and a restart and a quit both complete.
# GUST_PLUGIN_DEFINE compiles as C99 and checks the vtable against the kind.
. "$GUST_SRCDIR/tests/lib.sh"

: "${GUST_FIXTURES:?GUST_FIXTURES is set by make check}"

P=$T/p
mkdir -p "$P/src"
echo v1 >"$P/src/a.txt"
cat >"$P/gust.json" <<JSON
{
  "watch": { "include_ext": ["txt"], "debounce_ms": 20 },
  "builder": { "plugin": "shell", "cmd": "true" },
  "runner": { "plugin": "$GUST_FIXTURES/abi10-runner.so" }
}
JSON

start_gust "$P"
ok_run "the 1.0 runner loads and its first run starts" wait_for 20 log_has 'abi10 run 1 started'
ok_run "its host table covers the 1.0 table" log_has 'abi10 host table covers 1\.0'
echo v2 >"$P/src/a.txt"
ok_run "after an edit, stop() with stop_done() inside it, then the second run starts" \
	wait_for 20 log_has 'abi10 run 2 started'
ok_run "the first run was stopped from inside stop()" log_has 'abi10 run 1 stopped from inside stop\(\)'
unlike "$(gust_log)" 'called from inside stop|cannot start' "start() is never called from inside stop()"
ok_run "gust reports the restart" wait_for 10 log_has 'restarted: .*old tree gone in'
stop_gust TERM
is "$GUST_STATUS" 0 "on SIGTERM, a stop_done() from inside stop() lets gust exit 0"
ok_run "the second run was stopped from inside stop() too" log_has 'abi10 run 2 stopped from inside stop\(\)'

# A watcher built against the 1.0 header reports changes in this gust:
# its host->changed() reaches the filter, the debounce and a build, and
# the restart names the path it reported.
W=$T/w
mkdir -p "$W/src"
echo v1 >"$W/src/a.txt"
cat >"$W/gust.json" <<JSON
{
  "watch": { "include_ext": ["txt"], "debounce_ms": 20 },
  "watcher": { "plugin": "$GUST_FIXTURES/abi10-watcher.so", "file": "src/a.txt" },
  "builder": { "plugin": "shell", "cmd": "cat src/a.txt >built.out 2>/dev/null || echo gone >built.out" },
  "runner": { "plugin": "$GUST_FIXTURES/abi10-runner.so" }
}
JSON
start_gust "$W" -v
ok_run "the 1.0 watcher loads and the first run starts" wait_for 20 log_has 'abi10 run 1 started'
like "$(gust_log)" '\(abi10watcher watcher, shell builder' "gust names the 1.0 watcher"
echo v22 >"$W/src/a.txt"
ok_run "an edit the 1.0 watcher reports restarts the run" \
	wait_for 20 log_has 'restarted: src/a\.txt changed, build'
ok_run "the report came from the 1.0 watcher" log_has "abi10 watcher reports $W/src/a\.txt"
is "$(cat "$W/built.out" 2>/dev/null)" v22 "the build saw the new content"
rm "$W/src/a.txt"
ok_run "a removal it reports is acted on too" wait_for 20 log_has 'abi10 run 3 started'
is "$(cat "$W/built.out" 2>/dev/null)" gone "and built"
stop_gust TERM
is "$GUST_STATUS" 0 "with the 1.0 watcher gust exits 0 on SIGTERM"

# GUST_PLUGIN_DEFINE: a descriptor in one line, as C99, and a vtable of
# another kind than the one named does not compile.
CC=${CC:-cc}
define_src() {
	cat <<C
#include <gust/plugin.h>
static void *c(const struct gust_host *h, struct gust_ctx *x, const struct gust_opts *o)
{ (void)h; (void)x; (void)o; return 0; }
static int s(void *self) { (void)self; return 0; }
static int st(void *self, bool f) { (void)self; (void)f; return 0; }
static void d(void *self) { (void)self; }
static const struct gust_runner_ops ops = { sizeof ops, c, s, st, d };
GUST_PLUGIN_DEFINE($1, "x", "1", ops);
C
}
define_cc() { define_src "$1" | "$CC" -std=c99 -pedantic -Werror -Wall -Wextra \
	-I"$GUST_SRCDIR/include" -fsyntax-only -x c - 2>"$T/cc.err"; }
ok_run "GUST_PLUGIN_DEFINE(runner, ...) with runner ops compiles as C99 -pedantic" define_cc runner
if define_cc builder; then ok 1 "GUST_PLUGIN_DEFINE(builder, ...) with runner ops is refused"
else like "$(cat "$T/cc.err")" "pointer type mismatch" "GUST_PLUGIN_DEFINE(builder, ...) with runner ops is refused"; fi

plan_done
