#!/bin/bash
# `make bench` keeps working: the harness (bench/run.sh) runs four of its
# sections once, writes JSON with a number for every case it measured,
# and leaves no process and no temporary tree behind. Timings are not
# judged here: they are what the harness is for.
. "$GUST_SRCDIR/tests/lib.sh"

out=$T/results.json
(cd "$GUST_BUILDDIR" && exec env TMPDIR="$T" GUST_TEST_MARK="$GUST_TEST_MARK" \
	BENCH_ONLY="overhead ready teardown proxy" BENCH_RUNS=1 BENCH_WARMUP=1 BENCH_OUT="$out" \
	BENCH_PROXY_SECS=1 BENCH_PROXY_CONNS=1 BENCH_PROXY_EDITS=1 \
	bash "$GUST_SRCDIR/bench/run.sh") >"$T/bench.log" 2>&1 </dev/null
is "$?" 0 "the harness exits 0"
ok_run "it wrote its results" test -s "$out"

# every row the harness promises for these sections, each with a median
check=$(python3 - "$out" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
want = [("overhead", "write->first instr, build true (inotify)", "gust"),
        ("overhead", "floor: start true, then the program", "none"),
        ("ready", "server, listen: write->ready", "gust"),
        ("ready", "server, listen: wakeups to ready", "gust"),
        ("ready", "server, http: write->ready", "gust"),
        ("ready", "server, http: wakeups to ready", "gust"),
        ("teardown", "cooperative program", "gust"),
        ("teardown", "ignores SIGTERM (kill_delay 500 ms)", "gust"),
        ("teardown", "tree of 50 processes", "gust"),
        ("proxy", "html, 1 conn: direct p50", "none"),
        ("proxy", "html, 1 conn: proxy p50", "gust"),
        ("proxy", "html, 1 conn: added at p50", "gust"),
        ("proxy", "json, 1 conn: proxy req/s", "gust"),
        ("proxy", "edit: write->page shows new text", "gust")]
rows = {(r["bench"], r["case"], r["tool"]): r for r in d["results"]}
bad = [w for w in want
       if w not in rows or not isinstance(rows[w]["median"], (int, float))
       or rows[w]["n"] < 1]
print("ok" if not bad else "missing or empty: %s" % bad)
PY
)
is "$check" ok "every case has a median"
# a case without a median was skipped by the harness with a note: say which
[ "$check" = ok ] || grep -E '^  note: ' "$T/bench.log" |
	tail -n 20 | sed 's/^/# bench.log: /'
like "$(cat "$T/bench.log")" "overhead +floor: start true" "the table shows the floor"
ok_run "nothing the harness started is left" wait_for 10 no_marked_left
left=$(find "$T" -maxdepth 1 -name 'gust-bench.*' | head -n 1)
is "$left" "" "its temporary tree is removed"
plan_done
