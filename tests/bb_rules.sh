#!/bin/bash
# "rules": a restart rule restarts without a build, a reload rule runs
# neither and tells the hooks, a run rule's command is cancelled by a newer
# change and never overlaps itself, and a burst that matches a run rule and
# the default build does each once.
. "$GUST_SRCDIR/tests/lib.sh"

# rules_project NAME RULES: the build appends to tmp/builds, each start of
# the program to tmp/starts; a hook appends each reload to tmp/reloads.
rules_project() {
	P=$T/$1
	mkdir -p "$P/src" "$P/tmp" "$P/conf" "$P/docs" "$P/web"
	echo v1 >"$P/src/a.txt"
	echo c1 >"$P/conf/app.yaml"
	echo d1 >"$P/docs/a.md"
	echo s1 >"$P/web/site.css"
	cat >"$P/gust.json" <<JSON
{
  "tmp_dir": "tmp",
  "watch": { "include_ext": ["txt"], "debounce_ms": 20 },
  "builder": { "plugin": "shell", "cmd": "echo b >>tmp/builds" },
  "runner": { "plugin": "plain", "bin": "/bin/sh", "ready": false,
    "args": ["-c", "echo s >>tmp/starts; exec sleep 1000"] },
  "hooks": [ { "plugin": "exec", "on": ["reload"],
    "cmd": "echo \"\$GUST_DETAIL \$GUST_CHANGED\" >>tmp/reloads" } ],
  "rules": [ $2 ]
}
JSON
}
lines() { wc -l <"$P/tmp/$1" 2>/dev/null || echo 0; }
has_lines() { [ "$(lines "$1")" -eq "$2" ]; }

# ---- restart: the program again, no build ----
rules_project restart '{ "name": "cfg", "match": { "include_file": ["conf/*.yaml"] }, "action": "restart" }'
start_gust "$P"
ok_run "the first build and start" wait_for 20 has_lines starts 1
echo c2 >"$P/conf/app.yaml"
ok_run "a change the restart rule matches restarts the program" wait_for 20 has_lines starts 2
ok_run "the cycle line names the rule" \
	wait_for 10 log_has 'run: restarted: rule "cfg": conf/app.yaml changed, old tree gone in [0-9]+ ms'
is "$(lines builds)" 1 "the builder did not run for it"
echo v2 >"$P/src/a.txt"
ok_run "a change outside the rule still builds" wait_for 20 has_lines builds 2
stop_gust TERM
is "$GUST_STATUS" 0 "gust exits 0"

# ---- reload: neither build nor restart, the hooks told ----
rules_project reload '{ "name": "css", "match": { "include_ext": ["css"] }, "action": "reload" }'
start_gust "$P"
ok_run "the first build and start" wait_for 20 has_lines starts 1
echo s2 >"$P/web/site.css"
ok_run "the hook gets the reload, with the rule and its paths" \
	wait_for 20 grep -qx 'css web/site.css' "$P/tmp/reloads"
ok_run "gust says so" log_has 'rule "css": web/site.css changed: reload, 1 hook told'
is "$(lines builds)/$(lines starts)" 1/1 "no build, no restart"
stop_gust TERM

# ---- run: cancelled by a newer change, never overlapping itself ----
RUN='echo running; p=$(cat tmp/run.pid 2>/dev/null); if [ -n \"$p\" ] && kill -0 $p 2>/dev/null; then echo overlap >>tmp/runs; fi; echo $$ >tmp/run.pid; echo \"start $GUST_RULE $(echo $GUST_CHANGED)\" >>tmp/runs; sleep 30 & wait; echo end >>tmp/runs'
rules_project run "{ \"name\": \"docs\", \"match\": { \"include_ext\": [\"md\"] }, \"action\": { \"run\": \"$RUN\" } }"
start_gust "$P"
ok_run "the first build and start" wait_for 20 has_lines starts 1
echo d2 >"$P/docs/a.md"
ok_run "the run rule's command starts" wait_for 20 has_lines runs 1
like "$(sed -n 1p "$P/tmp/runs")" '^start docs docs/a\.md$' "it sees GUST_RULE and GUST_CHANGED"
first=$(cat "$P/tmp/run.pid")
echo d1 >"$P/docs/b.md"
ok_run "a newer change cancels it and starts it again" wait_for 20 has_lines runs 2
ok_run "gust says it cancelled" log_has 'rule "docs": newer changes: cancelling'
ok_run "the cancelled command is gone" pid_gone "$first"
like "$(sed -n 2p "$P/tmp/runs")" '^start docs docs/(a\.md docs/b|b\.md docs/a)\.md$' \
	"the new run has the cancelled run's paths too"
ok_run "the output is prefixed with the rule's name" log_has '^docs\| running$'
for i in 3 4 5; do
	echo "d$i" >"$P/docs/a.md"
	wait_for 20 has_lines runs "$i"
done
is "$(grep -c overlap "$P/tmp/runs")" 0 "no run started while the one before was alive"
is "$(grep -c end "$P/tmp/runs")" 0 "every cancelled run was stopped before its end"
is "$(lines builds)/$(lines starts)" 1/1 "the program was neither built nor restarted"
stop_gust TERM
is "$GUST_STATUS" 0 "gust exits 0 with a command running"
ok_run "nothing of ours is left" wait_for 10 no_marked_left

# ---- a burst for a run rule and the default build: each once ----
rules_project both '{ "name": "docs", "match": { "include_ext": ["md"] }, "action": { "run": "echo ran >>tmp/runs" } }'
start_gust "$P"
ok_run "the first build and start" wait_for 20 has_lines starts 1
echo v2 >"$P/src/a.txt"
echo d2 >"$P/docs/a.md"
ok_run "the build ran again and the program restarted" wait_for 20 has_lines starts 2
ok_run "the rule's command ran" wait_for 20 has_lines runs 1
ok_run "gust says the rule is done" wait_for 10 log_has 'rule "docs": ok in [0-9]+ ms'
is "$(lines builds)/$(lines runs)" 2/1 "one build and one run for the burst"
stop_gust TERM

plan_done
