# Fuzz targets, one parser each (fuzz/<name>.c; see fuzz/fuzz.h and the
# README's "Fuzzing"). Every harness is built twice: as a replay test run by
# `make check` with any compiler (its seed corpus and regression inputs), and
# with --enable-fuzzing (clang) as a libFuzzer program that `make fuzz` runs
# for FUZZ_SECONDS each over the same inputs.
FUZZ_NAMES = conf gitignore glob dotenv state ctl inject lrheaders
FUZZ_COMMON = fuzz/fuzz.h fuzz/util.c
FUZZ_PLUGINS = fuzz/plugin-inotify.c fuzz/plugin-kqueue.c fuzz/plugin-poll.c \
	fuzz/plugin-shell.c fuzz/plugin-plain.c fuzz/plugin-dlv.c
FUZZ_CONF = $(FUZZ_COMMON) fuzz/conf.c $(FUZZ_PLUGINS)
FUZZ_GITIGNORE = $(FUZZ_COMMON) fuzz/gitignore.c
FUZZ_GLOB = $(FUZZ_COMMON) fuzz/glob.c
FUZZ_DOTENV = $(FUZZ_COMMON) fuzz/dotenv.c
# conf and dotenv also need the plugins' shared library (plugins/lib/):
# the replay tests link it as built, the fuzzers an instrumented copy.
FUZZ_PLUGLIB_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/plugins/lib
# The state file target has its own dry-run build of statefile.c (see
# fuzz/state.c), linked before the core library's.
FUZZ_STATE = $(FUZZ_COMMON) fuzz/state.c core/statefile.c
FUZZ_CTL = $(FUZZ_COMMON) fuzz/ctl.c
# The live-reload injector, compiled in with a buffer that starts tiny so
# that short inputs reach its growing and compacting.
FUZZ_INJECT = $(FUZZ_COMMON) fuzz/inject.c plugins/livereload/inject.c
FUZZ_INJECT_CPPFLAGS = $(AM_CPPFLAGS) -DLR_MIN_CAP=8
FUZZ_LRHEADERS = $(FUZZ_COMMON) fuzz/lrheaders.c plugins/livereload/headers.c

# ---- replay tests (make check) ----
REPLAY_TESTS = fuzz/replay-conf fuzz/replay-gitignore fuzz/replay-glob \
	fuzz/replay-dotenv fuzz/replay-state fuzz/replay-ctl fuzz/replay-inject \
	fuzz/replay-lrheaders
check_PROGRAMS += $(REPLAY_TESTS)
TESTS += $(REPLAY_TESTS)
fuzz_replay_conf_SOURCES = fuzz/replay.c $(FUZZ_CONF)
fuzz_replay_conf_CPPFLAGS = $(FUZZ_PLUGLIB_CPPFLAGS)
fuzz_replay_conf_CFLAGS = $(UNIT_CFLAGS) -DFUZZ_TARGET='"conf"'
fuzz_replay_conf_LDADD = plugins/libgustplug.la $(UNIT_LDADD)
fuzz_replay_gitignore_SOURCES = fuzz/replay.c $(FUZZ_GITIGNORE)
fuzz_replay_gitignore_CFLAGS = $(UNIT_CFLAGS) -DFUZZ_TARGET='"gitignore"'
fuzz_replay_gitignore_LDADD = $(UNIT_LDADD)
fuzz_replay_glob_SOURCES = fuzz/replay.c $(FUZZ_GLOB)
fuzz_replay_glob_CFLAGS = $(UNIT_CFLAGS) -DFUZZ_TARGET='"glob"'
fuzz_replay_glob_LDADD = $(UNIT_LDADD)
fuzz_replay_dotenv_SOURCES = fuzz/replay.c $(FUZZ_DOTENV)
fuzz_replay_dotenv_CPPFLAGS = $(FUZZ_PLUGLIB_CPPFLAGS)
fuzz_replay_dotenv_CFLAGS = $(UNIT_CFLAGS) -DFUZZ_TARGET='"dotenv"'
fuzz_replay_dotenv_LDADD = plugins/libgustplug.la $(UNIT_LDADD)
fuzz_replay_state_SOURCES = fuzz/replay.c $(FUZZ_STATE)
fuzz_replay_state_CFLAGS = $(UNIT_CFLAGS) -DFUZZ_TARGET='"state"' -DGUST_RECOVER_DRY
fuzz_replay_state_LDADD = $(UNIT_LDADD)
$(fuzz_replay_state_OBJECTS): core/gust-paths.h
fuzz_replay_ctl_SOURCES = fuzz/replay.c $(FUZZ_CTL)
fuzz_replay_ctl_CFLAGS = $(UNIT_CFLAGS) -DFUZZ_TARGET='"ctl"'
fuzz_replay_ctl_LDADD = $(UNIT_LDADD)
fuzz_replay_inject_SOURCES = fuzz/replay.c $(FUZZ_INJECT)
fuzz_replay_inject_CPPFLAGS = $(FUZZ_INJECT_CPPFLAGS)
fuzz_replay_inject_CFLAGS = $(UNIT_CFLAGS) -DFUZZ_TARGET='"inject"'
fuzz_replay_inject_LDADD = $(CHECK_LIBS)
fuzz_replay_lrheaders_SOURCES = fuzz/replay.c $(FUZZ_LRHEADERS)
fuzz_replay_lrheaders_CFLAGS = $(UNIT_CFLAGS) -DFUZZ_TARGET='"lrheaders"'
fuzz_replay_lrheaders_LDADD = $(CHECK_LIBS)

EXTRA_DIST += fuzz/corpus fuzz/regressions $(FUZZ_NAMES:%=fuzz/%.dict)

# ---- libFuzzer programs (make fuzz) ----
FUZZERS = fuzz/fuzz-conf fuzz/fuzz-gitignore fuzz/fuzz-glob fuzz/fuzz-dotenv \
	fuzz/fuzz-state fuzz/fuzz-ctl fuzz/fuzz-inject fuzz/fuzz-lrheaders
# The core again, instrumented (coverage, ASan, UBSan) for the targets only;
# gust and the plugins stay as configured.
FUZZER_CFLAGS = $(core_libgustcore_la_CFLAGS) $(FUZZ_CFLAGS)
FUZZER_LINK = -fsanitize=fuzzer,address,undefined
FUZZER_LIBS = fuzz/libgustfuzz.la $(JANSSON_LIBS)
if ENABLE_FUZZING
noinst_LTLIBRARIES += fuzz/libgustfuzz.la fuzz/libgustplugfuzz.la
noinst_PROGRAMS += $(FUZZERS)
endif
fuzz_libgustfuzz_la_SOURCES = $(core_libgustcore_la_SOURCES)
nodist_fuzz_libgustfuzz_la_SOURCES = $(nodist_core_libgustcore_la_SOURCES)
fuzz_libgustfuzz_la_CFLAGS = $(FUZZER_CFLAGS)
fuzz_libgustfuzz_la_LIBADD = $(core_libgustcore_la_LIBADD)
$(fuzz_libgustfuzz_la_OBJECTS): core/gust-paths.h
fuzz_libgustplugfuzz_la_SOURCES = $(plugins_libgustplug_la_SOURCES)
fuzz_libgustplugfuzz_la_CPPFLAGS = $(PLUGIN_CPPFLAGS)
fuzz_libgustplugfuzz_la_CFLAGS = $(FUZZER_CFLAGS)
fuzz_fuzz_conf_SOURCES = $(FUZZ_CONF)
fuzz_fuzz_conf_CPPFLAGS = $(FUZZ_PLUGLIB_CPPFLAGS)
fuzz_fuzz_conf_CFLAGS = $(FUZZER_CFLAGS)
fuzz_fuzz_conf_LDFLAGS = $(FUZZER_LINK)
fuzz_fuzz_conf_LDADD = fuzz/libgustplugfuzz.la $(FUZZER_LIBS)
fuzz_fuzz_gitignore_SOURCES = $(FUZZ_GITIGNORE)
fuzz_fuzz_gitignore_CFLAGS = $(FUZZER_CFLAGS)
fuzz_fuzz_gitignore_LDFLAGS = $(FUZZER_LINK)
fuzz_fuzz_gitignore_LDADD = $(FUZZER_LIBS)
fuzz_fuzz_glob_SOURCES = $(FUZZ_GLOB)
fuzz_fuzz_glob_CFLAGS = $(FUZZER_CFLAGS)
fuzz_fuzz_glob_LDFLAGS = $(FUZZER_LINK)
fuzz_fuzz_glob_LDADD = $(FUZZER_LIBS)
fuzz_fuzz_dotenv_SOURCES = $(FUZZ_DOTENV)
fuzz_fuzz_dotenv_CPPFLAGS = $(FUZZ_PLUGLIB_CPPFLAGS)
fuzz_fuzz_dotenv_CFLAGS = $(FUZZER_CFLAGS)
fuzz_fuzz_dotenv_LDFLAGS = $(FUZZER_LINK)
fuzz_fuzz_dotenv_LDADD = fuzz/libgustplugfuzz.la $(FUZZER_LIBS)
fuzz_fuzz_state_SOURCES = $(FUZZ_STATE)
fuzz_fuzz_state_CFLAGS = $(FUZZER_CFLAGS) -DGUST_RECOVER_DRY
fuzz_fuzz_state_LDFLAGS = $(FUZZER_LINK)
fuzz_fuzz_state_LDADD = $(FUZZER_LIBS)
$(fuzz_fuzz_state_OBJECTS): core/gust-paths.h
fuzz_fuzz_ctl_SOURCES = $(FUZZ_CTL)
fuzz_fuzz_ctl_CFLAGS = $(FUZZER_CFLAGS)
fuzz_fuzz_ctl_LDFLAGS = $(FUZZER_LINK)
fuzz_fuzz_ctl_LDADD = $(FUZZER_LIBS)
fuzz_fuzz_inject_SOURCES = $(FUZZ_INJECT)
fuzz_fuzz_inject_CPPFLAGS = $(FUZZ_INJECT_CPPFLAGS)
fuzz_fuzz_inject_CFLAGS = $(FUZZER_CFLAGS)
fuzz_fuzz_inject_LDFLAGS = $(FUZZER_LINK)
fuzz_fuzz_lrheaders_SOURCES = $(FUZZ_LRHEADERS)
fuzz_fuzz_lrheaders_CFLAGS = $(FUZZER_CFLAGS)
fuzz_fuzz_lrheaders_LDFLAGS = $(FUZZER_LINK)

# `make fuzz`: each target for FUZZ_SECONDS on top of its seeds (new inputs
# go to fuzz/work/<name>/ in the build tree, never the sources); any crash,
# leak, UBSan report, input slower than FUZZ_TIMEOUT seconds or memory past
# FUZZ_RSS_MB fails it, the input kept in fuzz/artifacts/. FUZZ_FLAGS: more
# libFuzzer flags (e.g. -jobs=2); FUZZ_TARGETS: a subset of the names.
FUZZ_SECONDS = 30
FUZZ_TIMEOUT = 1
FUZZ_RSS_MB = 1024
FUZZ_TARGETS = $(FUZZ_NAMES)
FUZZ_FLAGS =
if ENABLE_FUZZING
fuzz: $(FUZZERS)
	@status=0; mkdir -p fuzz/artifacts; \
	for t in $(FUZZ_TARGETS); do \
	  echo "=== fuzz $$t: $(FUZZ_SECONDS) s"; \
	  mkdir -p fuzz/work/$$t; \
	  seeds=$(srcdir)/fuzz/corpus/$$t; \
	  if test -d $(srcdir)/fuzz/regressions/$$t; then \
	    seeds="$$seeds $(srcdir)/fuzz/regressions/$$t"; fi; \
	  UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
	  ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 \
	  ./fuzz/fuzz-$$t -max_total_time=$(FUZZ_SECONDS) -timeout=$(FUZZ_TIMEOUT) \
	    -rss_limit_mb=$(FUZZ_RSS_MB) -error_exitcode=77 -timeout_exitcode=77 \
	    -print_final_stats=1 -dict=$(srcdir)/fuzz/$$t.dict \
	    -artifact_prefix=fuzz/artifacts/$$t- $(FUZZ_FLAGS) fuzz/work/$$t $$seeds \
	    || { status=1; echo "=== fuzz $$t: FAILED (the input is in fuzz/artifacts/)"; }; \
	done; exit $$status
else
fuzz:
	@echo "make fuzz: configure with --enable-fuzzing CC=clang first" >&2; exit 1
endif
.PHONY: fuzz
clean-local: clean-fuzz
clean-fuzz:
	rm -rf fuzz/work fuzz/artifacts
.PHONY: clean-fuzz
