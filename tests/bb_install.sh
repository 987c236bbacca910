#!/bin/bash
# The plugin SDK as a plugin author meets it: `make install` (staged with
# DESTDIR) puts every file where it belongs; the installed header compiles
# alone; pkg-config finds the installed header and plugin directory; the
# out-of-tree example runner builds against the installed files only and
# runs under the installed gust, selected by name (plugin_path) and by path,
# and leaves nothing behind; so does the example hook, whose journal must
# show the cycle and whose restart request must bring a killed program back.
. "$GUST_SRCDIR/tests/lib.sh"

D=$T/dest
CC=${CC:-cc}
# Sub-makes must not talk to the jobserver of the make running this test.
submake() { env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make "$@"; }

# ---- the header on its own ----
hdr_ok() { "$CC" -std=c99 -pedantic -Werror -Wall -Wextra -fsyntax-only -x c "$1"; }
ok_run "include/gust/plugin.h compiles alone as C99 -pedantic -Werror" \
	hdr_ok "$GUST_SRCDIR/include/gust/plugin.h"

# ---- install ----
if submake -C "$GUST_BUILDDIR" install DESTDIR="$D" >"$T/install.log" 2>&1; then
	ok 0 "make install DESTDIR=... succeeds"
else
	ok 1 "make install DESTDIR=... succeeds: $(tail -n 5 "$T/install.log")"
fi

# The configured directories, as make expands them.
cat >"$T/dirs.mk" <<'EOF'
gust-print-dirs:
	@echo "bindir=$(bindir)"
	@echo "pkglibdir=$(pkglibdir)"
	@echo "includedir=$(includedir)"
	@echo "pkgconfigdir=$(pkgconfigdir)"
	@echo "pkgdatadir=$(pkgdatadir)"
	@echo "mandir=$(mandir)"
	@echo "datadir=$(datadir)"
	@echo "plugins='$(notdir $(pkglib_LTLIBRARIES:.la=.so))'"
EOF
eval "$(submake -s -C "$GUST_BUILDDIR" -f Makefile -f "$T/dirs.mk" gust-print-dirs)"
ok_run "the configured directories are known" test -n "${bindir:-}" -a -n "${pkglibdir:-}"

file_there() { [ -f "$D$1" ] || { echo "# missing: $D$1"; return 1; }; }
ok_run "bin/gust is installed and executable" test -x "$D$bindir/gust"
missing=0
for p in $plugins; do file_there "$pkglibdir/$p" || missing=1; done
is "$missing" 0 "every configured plugin is installed: $plugins"
like "$plugins" "runner-plain\.so" "the plugin list is not empty"
is "$(find "$D$pkglibdir" -name '*.la' | wc -l)" 0 "no libtool .la files next to the plugins"
ok_run "include/gust/plugin.h is installed" file_there "$includedir/gust/plugin.h"
ok_run "gust.pc is installed" file_there "$pkgconfigdir/gust.pc"
missing=0
for p in go go-dlv c-make c-cmake meson rust-cargo node python; do
	file_there "$pkgdatadir/presets/$p.json" || missing=1
done
is "$missing" 0 "every preset is installed"
ok_run "the JSON Schema is installed" file_there "$pkgdatadir/gust.schema.json"
missing=0
for m in man1/gust.1 man5/gust.json.5 man7/gust-plugin.7; do
	file_there "$mandir/$m" || missing=1
	if command -v man >/dev/null && [ -f "$D$mandir/$m" ]; then
		man -l "$D$mandir/$m" >/dev/null 2>&1 || { echo "# man -l fails: $m"; missing=1; }
	fi
done
is "$missing" 0 "the man pages are installed and render"
ok_run "the bash completion is installed as 'gust'" \
	file_there "$datadir/bash-completion/completions/gust"
ok_run "the installed header compiles alone" hdr_ok "$D$includedir/gust/plugin.h"

# ---- pkg-config, as a plugin author uses it (staged: sysroot = DESTDIR) ----
export PKG_CONFIG_PATH="$D$pkgconfigdir" PKG_CONFIG_SYSROOT_DIR="$D"
export PKG_CONFIG_LIBDIR="$D$pkgconfigdir" # no system .pc files
is "$(pkg-config --cflags gust | tr -d ' ')" "-I$D$includedir" \
	"pkg-config --cflags gust points at the installed include dir"
is "$(pkg-config --variable=plugindir gust)" "$D$pkglibdir" \
	"pkg-config --variable=plugindir gust is the installed plugin dir"
like "$(pkg-config --modversion gust)" "^[0-9]+\.[0-9]+" "pkg-config knows gust's version"

# ---- the examples, each built from a copy against the installed files only ----
# build_example KIND DIR NAME: examples/custom-KIND/NAME.c and its Makefile
# copied into DIR and built there into NAME.so with pkg-config.
build_example() {
	local kind=$1 dir=$2 name=$3 log=$2.log
	mkdir -p "$dir"
	cp "$GUST_SRCDIR/examples/custom-$kind/$name.c" \
		"$GUST_SRCDIR/examples/custom-$kind/Makefile" "$dir/"
	if submake -C "$dir" CC="$CC" CFLAGS="-O2 -Wall -Wextra -Werror" CPPFLAGS= \
		>"$log" 2>&1; then
		ok 0 "the example $kind builds with its Makefile and pkg-config"
	else
		ok 1 "the example $kind builds: $(tail -n 5 "$log")"
	fi
	like "$(cat "$log")" "-I$D$includedir" "the example $kind's compile line uses the installed include dir"
	unlike "$(cat "$log")" "$GUST_SRCDIR" "the example $kind's compile line never names the source tree"
	ok_run "$name.so was built" test -f "$dir/$name.so"
	# Only the descriptor is exported.
	if command -v nm >/dev/null; then
		is "$(nm -D --defined-only "$dir/$name.so" 2>/dev/null | awk '{print $3}' | grep -v '^_' | tr '\n' ' ')" \
			"gust_plugin_desc " "the example $kind exports only gust_plugin_desc"
	fi
}
S=$T/sdk
build_example runner "$S" runner-hello

# ---- the installed gust runs it ----
G=$D$bindir/gust
export GUST_PLUGIN_PATH="$D$pkglibdir" # the installed in-tree plugins
GUST=$G
PORT=$(free_port)
P=$T/proj
mkdir -p "$P/src" "$T/myplugins"
cp "$S/runner-hello.so" "$T/myplugins/"
echo v1 >"$P/src/version.c"

write_config() { # PLUGIN EXTRA_TOP_LEVEL
	cat >"$P/gust.json" <<EOF
{
  $2
  "tmp_dir": "tmp",
  "watch": { "include_ext": ["c"], "debounce_ms": 20 },
  "builder": { "plugin": "shell", "cmd": "cp src/version.c tmp/version.out" },
  "runner": { "plugin": "$1", "bin": "/bin/sh", "greeting": "howdy",
              "kill_delay_ms": 3000,
              "args": ["-c", "exec '$GUST_HELPERS/shape' serve $PORT \"\$(cat tmp/version.out)\""] }
}
EOF
}

run_case() { # DESC
	local how=$1 first p gone
	start_gust "$P"
	ok_run "$how: the program answers v1" wait_for 30 answers "$PORT" v1
	ok_run "$how: the runner greets in gust's log" log_has "howdy from run 1"
	first=$(program_pids)
	echo v2 >"$P/src/version.c"
	ok_run "$how: an edit restarts it and v2 answers" wait_for 30 answers "$PORT" v2
	ok_run "$how: the second run is greeted" log_has "howdy from run 2"
	gone=0
	for p in $first; do pid_gone "$p" || gone=1; done
	is "$gone" 0 "$how: no process of the first run survives the restart"
	stop_gust TERM
	is "$GUST_STATUS" 0 "$how: gust exits 0 on SIGTERM"
	ok_run "$how: nothing gust started is left" wait_for 5 no_marked_left
	ok_run "$how: the port is free" port_free "$PORT"
	ok_run "$how: the runner said goodbye" log_has "goodbye from run 2"
	echo v1 >"$P/src/version.c"
}

write_config hello "\"plugin_path\": [\"$T/myplugins\"],"
run_case "by name via plugin_path"

write_config "$S/runner-hello.so" ""
run_case "by path"

# Unknown option: the plugin's own validation, through the host table.
write_config hello "\"plugin_path\": [\"$T/myplugins\"],"
sed -i 's/"greeting"/"greting"/' "$P/gust.json"
out=$(cd "$P" && timeout 20 env GUST_TEST_MARK="$GUST_TEST_MARK" "$G" 2>&1 </dev/null)
status=$?
is "$status" 2 "a misspelt option of the custom runner is a config error (exit 2)"
like "$out" "greting.*greeting" "the error names the key and suggests the right one"

# ---- the example hook, built the same way and run by the installed gust ----
H=$T/hooksdk
build_example hook "$H" hook-journal
J=$P/tmp/journal.log
journal() { awk '{print $1}' "$J" 2>/dev/null | paste -sd' '; }
journal_is() { [ "$(journal)" = "$1" ]; }
write_config hello "\"plugin_path\": [\"$T/myplugins\"],
  \"hooks\": [ { \"plugin\": \"$H/hook-journal.so\", \"file\": \"tmp/journal.log\",
               \"restart_after_ms\": 100 } ],"
rm -f "$J"
start_gust "$P"
ok_run "hook: the journal has the first cycle" wait_for 30 journal_is "build_start build_done run_start ready"
like "$(sed -n 4p "$J")" "^ready status=0 ms=[0-9]+ detail=127\.0\.0\.1:$PORT " \
	"hook: the ready event names the program's port"
ok_run "hook: it logs through the host" log_has "journal: ready [0-9]+ ms after its start"
echo v2 >"$P/src/version.c"
ok_run "hook: an edit adds change, build, stop and the new run" wait_for 30 journal_is \
	"build_start build_done run_start ready change build_start build_done stop_done run_start ready"
like "$(sed -n 5p "$J")" "^change status=0 ms=0 paths=src/version\.c$" "hook: the change names the path"
# The program killed from outside exits by itself: the hook asks for a
# restart 100 ms later, and gust restarts it without a build.
kill -KILL $(program_pids) 2>/dev/null
ok_run "hook: its restart request brings the program back" \
	wait_for 30 log_has 'restarted on request of hook "journal"'
ok_run "hook: which answers v2" wait_for 30 answers "$PORT" v2
like "$(gust_log)" "journal: asked for a restart: ok" "hook: the request was accepted"
is "$(log_count 'build: ok')" 2 "hook: no build for the restart"
stop_gust TERM
is "$GUST_STATUS" 0 "hook: gust exits 0"
ok_run "hook: nothing gust started is left" wait_for 5 no_marked_left
sed -i 's/"restart_after_ms"/"restart_aftr_ms"/' "$P/gust.json"
out=$(cd "$P" && timeout 20 env GUST_TEST_MARK="$GUST_TEST_MARK" "$G" 2>&1 </dev/null)
status=$?
is "$status" 2 "hook: a misspelt option is a config error (exit 2)"
like "$out" "/hooks/0/restart_aftr_ms.*restart_after_ms" "hook: the error names the key and suggests the right one"
echo v1 >"$P/src/version.c"

# ---- the example's install target puts it where gust looks by default ----
if submake -C "$S" install >"$T/example-install.log" 2>&1; then
	ok 0 "the example's make install succeeds"
else
	ok 1 "the example's make install: $(tail -n 5 "$T/example-install.log")"
fi
ok_run "runner-hello.so lands in the installed plugin dir" file_there "$pkglibdir/runner-hello.so"
list=$(cd "$P" && "$G" --list-plugins 2>&1 </dev/null)
like "$list" "runner.*hello.*$D$pkglibdir/runner-hello\.so" "gust --list-plugins shows the installed custom runner"

plan_done
