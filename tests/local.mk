# Tests: Check unit tests (one binary per area), plugin contract tests with
# fixture plugins, and black-box TAP scripts that run the real gust binary.
TEST_EXTENSIONS = .sh
SH_LOG_DRIVER = env AM_TAP_AWK='$(AWK)' $(SHELL) $(top_srcdir)/build-aux/tap-driver.sh
AM_TESTS_ENVIRONMENT = \
	GUST="$(abs_top_builddir)/gust"; \
	GUST_PLUGIN_PATH="$(abs_top_builddir)/plugins/.libs"; \
	GUST_FIXTURES="$(abs_top_builddir)/tests/fixtures/.libs"; \
	GUST_HELPERS="$(abs_top_builddir)/tests/helpers"; \
	GUST_SRCDIR="$(abs_top_srcdir)"; \
	GUST_BUILDDIR="$(abs_top_builddir)"; \
	CK_DEFAULT_TIMEOUT=60; \
	export GUST GUST_PLUGIN_PATH GUST_FIXTURES GUST_HELPERS GUST_SRCDIR GUST_BUILDDIR CK_DEFAULT_TIMEOUT;

UNIT_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS) $(JANSSON_CFLAGS)
UNIT_LDADD = core/libgustcore.la $(CHECK_LIBS) $(JANSSON_LIBS)
EXTRA_DIST += tests/unit.h
UNIT_TESTS = tests/test_loop tests/test_conf tests/test_filter tests/test_ptree \
	tests/test_loader tests/test_walk tests/test_sockets \
	tests/test_listening tests/test_probe tests/test_abi tests/test_abi_compat \
	tests/test_ledger tests/test_changes tests/test_glob tests/test_dotenv \
	tests/test_pathsearch tests/test_fstype tests/test_inject
check_PROGRAMS += $(UNIT_TESTS)
TESTS += $(UNIT_TESTS)
tests_test_loop_SOURCES = tests/test_loop.c
tests_test_loop_CFLAGS = $(UNIT_CFLAGS)
tests_test_loop_LDADD = $(UNIT_LDADD)
tests_test_conf_SOURCES = tests/test_conf.c
tests_test_conf_CFLAGS = $(UNIT_CFLAGS)
tests_test_conf_LDADD = $(UNIT_LDADD)
tests_test_filter_SOURCES = tests/test_filter.c
tests_test_filter_CFLAGS = $(UNIT_CFLAGS)
tests_test_filter_LDADD = $(UNIT_LDADD)
tests_test_ptree_SOURCES = tests/test_ptree.c
tests_test_ptree_CFLAGS = $(UNIT_CFLAGS)
tests_test_ptree_LDADD = $(UNIT_LDADD)
tests_test_ledger_SOURCES = tests/test_ledger.c
tests_test_ledger_CFLAGS = $(UNIT_CFLAGS)
tests_test_ledger_LDADD = $(UNIT_LDADD)
tests_test_changes_SOURCES = tests/test_changes.c
tests_test_changes_CFLAGS = $(UNIT_CFLAGS)
tests_test_changes_LDADD = $(UNIT_LDADD)
tests_test_fstype_SOURCES = tests/test_fstype.c
tests_test_fstype_CFLAGS = $(UNIT_CFLAGS)
tests_test_fstype_LDADD = $(UNIT_LDADD)
tests_test_glob_SOURCES = tests/test_glob.c
tests_test_glob_CFLAGS = $(UNIT_CFLAGS)
tests_test_glob_LDADD = $(UNIT_LDADD)
tests_test_loader_SOURCES = tests/test_loader.c
tests_test_loader_CFLAGS = $(UNIT_CFLAGS)
tests_test_loader_LDADD = $(UNIT_LDADD)
tests_test_abi_SOURCES = tests/test_abi.c
tests_test_abi_CFLAGS = $(UNIT_CFLAGS)
tests_test_abi_LDADD = $(UNIT_LDADD)
# The loader alone, compiled against a grown copy of the header (a member
# appended to each vtable and the descriptor), loading the 1.0 fixtures.
tests_test_abi_compat_SOURCES = tests/test_abi_compat.c core/loader.c
tests_test_abi_compat_CPPFLAGS = -I$(top_builddir)/tests/grown $(AM_CPPFLAGS)
tests_test_abi_compat_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS)
tests_test_abi_compat_LDADD = $(CHECK_LIBS)
tests/grown/gust/plugin.h: $(top_srcdir)/include/gust/plugin.h $(top_srcdir)/tests/grow-abi.awk
	$(AM_V_GEN)mkdir -p tests/grown/gust && \
	  $(AWK) -f $(top_srcdir)/tests/grow-abi.awk $(top_srcdir)/include/gust/plugin.h >$@.tmp && \
	  mv $@.tmp $@
$(tests_test_abi_compat_OBJECTS): tests/grown/gust/plugin.h core/gust-paths.h
CLEANFILES += tests/grown/gust/plugin.h
EXTRA_DIST += tests/grow-abi.awk
# The plugins' shared library (plugins/lib/) is linked into these too, so
# Linux exercises the watcher bookkeeping kqueue uses.
PLUGLIB_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/plugins/lib
tests_test_walk_SOURCES = tests/test_walk.c
tests_test_walk_CPPFLAGS = $(PLUGLIB_CPPFLAGS)
tests_test_walk_CFLAGS = $(UNIT_CFLAGS)
tests_test_walk_LDADD = plugins/libgustplug.la $(UNIT_LDADD)
tests_test_listening_SOURCES = tests/test_listening.c
tests_test_listening_CFLAGS = $(UNIT_CFLAGS)
tests_test_listening_LDADD = $(UNIT_LDADD)
tests_test_probe_SOURCES = tests/test_probe.c
tests_test_probe_CFLAGS = $(UNIT_CFLAGS) $(CURL_CFLAGS)
tests_test_probe_LDADD = $(UNIT_LDADD)
tests_test_sockets_SOURCES = tests/test_sockets.c
tests_test_sockets_CPPFLAGS = $(PLUGLIB_CPPFLAGS)
tests_test_sockets_CFLAGS = $(UNIT_CFLAGS)
tests_test_sockets_LDADD = plugins/libgustplug.la $(CHECK_LIBS)
tests_test_dotenv_SOURCES = tests/test_dotenv.c
tests_test_dotenv_CPPFLAGS = $(PLUGLIB_CPPFLAGS)
tests_test_dotenv_CFLAGS = $(UNIT_CFLAGS)
tests_test_dotenv_LDADD = plugins/libgustplug.la $(UNIT_LDADD)
tests_test_pathsearch_SOURCES = tests/test_pathsearch.c
tests_test_pathsearch_CPPFLAGS = $(PLUGLIB_CPPFLAGS)
tests_test_pathsearch_CFLAGS = $(UNIT_CFLAGS)
tests_test_pathsearch_LDADD = plugins/libgustplug.la $(UNIT_LDADD)

# The live-reload injector and the scripts compiled in (plugins/livereload/);
# embed.sh is also checked on a file of every byte value.
tests_test_inject_SOURCES = tests/test_inject.c
nodist_tests_test_inject_SOURCES = tests/embed-bytes.c
tests_test_inject_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/plugins/livereload
tests_test_inject_CFLAGS = $(UNIT_CFLAGS)
tests_test_inject_LDADD = plugins/livereload/liblr.la $(CHECK_LIBS)
tests/embed-bytes.c: $(srcdir)/tests/fixtures/bytes.bin $(LR_EMBED_DEPS)
	$(AM_V_GEN)$(MKDIR_P) tests && $(LR_EMBED) $(srcdir)/tests/fixtures/bytes.bin >$@.tmp && \
	  mv $@.tmp $@
CLEANFILES += tests/embed-bytes.c
EXTRA_DIST += tests/fixtures/bytes.bin

# Fixture plugins the loader must refuse, each with its exact message.
FIXTURE_LDFLAGS = $(PLUGIN_LDFLAGS) -rpath $(abs_builddir)
check_LTLIBRARIES += tests/fixtures/bad-abi.la tests/fixtures/wrong-kind.la \
	tests/fixtures/missing-op.la tests/fixtures/create-fails.la \
	tests/fixtures/no-symbol.la tests/fixtures/unresolved.la \
	tests/fixtures/short-vtable.la tests/fixtures/newer-minor.la \
	tests/fixtures/hook-record.la
tests_fixtures_newer_minor_la_SOURCES = tests/fixtures/newer-minor.c
tests_fixtures_newer_minor_la_LDFLAGS = $(FIXTURE_LDFLAGS)
# Records every event it gets; asks for a rebuild or a restart (bb_hooks).
tests_fixtures_hook_record_la_SOURCES = tests/fixtures/hook-record.c
tests_fixtures_hook_record_la_LDFLAGS = $(FIXTURE_LDFLAGS)
tests_fixtures_bad_abi_la_SOURCES = tests/fixtures/bad-abi.c
tests_fixtures_bad_abi_la_LDFLAGS = $(FIXTURE_LDFLAGS)
tests_fixtures_wrong_kind_la_SOURCES = tests/fixtures/wrong-kind.c
tests_fixtures_wrong_kind_la_LDFLAGS = $(FIXTURE_LDFLAGS)
tests_fixtures_missing_op_la_SOURCES = tests/fixtures/missing-op.c
tests_fixtures_missing_op_la_LDFLAGS = $(FIXTURE_LDFLAGS)
tests_fixtures_create_fails_la_SOURCES = tests/fixtures/create-fails.c
tests_fixtures_create_fails_la_LDFLAGS = $(FIXTURE_LDFLAGS)
tests_fixtures_short_vtable_la_SOURCES = tests/fixtures/short-vtable.c
tests_fixtures_short_vtable_la_LDFLAGS = $(FIXTURE_LDFLAGS)
tests_fixtures_no_symbol_la_SOURCES = tests/fixtures/no-symbol.c
tests_fixtures_no_symbol_la_LDFLAGS = -module -avoid-version -shared -rpath $(abs_builddir)
# Links (with -z defs off) but needs a symbol nobody provides: dlopen fails.
tests_fixtures_unresolved_la_SOURCES = tests/fixtures/unresolved.c
tests_fixtures_unresolved_la_LDFLAGS = -module -avoid-version -shared -rpath $(abs_builddir)

# Fixture plugins built against the frozen copy of the ABI 1.0 header
# (tests/fixtures/abi-1.0/gust/plugin.h, never edited): every 1.x core must
# load and run them. Only that copy is on their include path.
ABI10_CPPFLAGS = -I$(top_srcdir)/tests/fixtures/abi-1.0
check_LTLIBRARIES += tests/fixtures/abi10-watcher.la tests/fixtures/abi10-builder.la \
	tests/fixtures/abi10-runner.la
tests_fixtures_abi10_watcher_la_SOURCES = tests/fixtures/abi10-watcher.c
tests_fixtures_abi10_watcher_la_CPPFLAGS = $(ABI10_CPPFLAGS)
tests_fixtures_abi10_watcher_la_LDFLAGS = $(FIXTURE_LDFLAGS)
tests_fixtures_abi10_builder_la_SOURCES = tests/fixtures/abi10-builder.c
tests_fixtures_abi10_builder_la_CPPFLAGS = $(ABI10_CPPFLAGS)
tests_fixtures_abi10_builder_la_LDFLAGS = $(FIXTURE_LDFLAGS)
tests_fixtures_abi10_runner_la_SOURCES = tests/fixtures/abi10-runner.c
tests_fixtures_abi10_runner_la_CPPFLAGS = $(ABI10_CPPFLAGS)
tests_fixtures_abi10_runner_la_LDFLAGS = $(FIXTURE_LDFLAGS)
EXTRA_DIST += tests/fixtures/abi-1.0/gust/plugin.h tests/fixtures/abi-1.0/layout.h

# Programs the black-box tests run as "the user's program".
check_PROGRAMS += tests/helpers/shape tests/helpers/tcpcheck tests/helpers/saver \
	tests/helpers/sysfail
tests_helpers_shape_SOURCES = tests/helpers/shape.c
tests_helpers_shape_LDADD = $(LIBS)
tests_helpers_tcpcheck_SOURCES = tests/helpers/tcpcheck.c
tests_helpers_saver_SOURCES = tests/helpers/saver.c
# Runs gust with system calls refused (seccomp): the fault-injection tests.
tests_helpers_sysfail_SOURCES = tests/helpers/sysfail.c

BLACKBOX_TESTS = tests/bb_basic.sh tests/bb_config.sh tests/bb_lifecycle.sh tests/bb_filter.sh \
	tests/bb_build.sh tests/bb_escape.sh tests/bb_watch.sh tests/bb_dlv.sh tests/bb_install.sh tests/bb_bench.sh \
	tests/bb_abi.sh tests/bb_hooks.sh tests/bb_ready.sh tests/bb_notify.sh \
	tests/bb_args.sh tests/bb_keys.sh tests/bb_rules.sh tests/bb_reload.sh tests/bb_sockets.sh \
	tests/bb_ctl.sh tests/bb_debounce.sh tests/bb_faults.sh tests/bb_init.sh tests/bb_browser.sh \
	tests/bb_livereload.sh tests/bb_livereload_browser.sh tests/bb_completion.sh \
	tests/bb_livereload_stress.sh
dist_check_SCRIPTS += $(BLACKBOX_TESTS)
TESTS += $(BLACKBOX_TESTS)
EXTRA_DIST += tests/helpers/notifyd.py tests/helpers/ptydrive.py tests/helpers/connloop.py tests/helpers/browser.py tests/helpers/lrapp.py tests/fixtures/fixture.h tests/lib.sh tests/lrlib.sh tests/ports.sh tests/fixtures/goserver/main.go tests/fixtures/goserver/go.mod \
	tests/fixtures/lrgo/main.go tests/fixtures/lrgo/msg.go tests/fixtures/lrgo/go.mod tests/fixtures/lrgo/static/site.css
EXTRA_DIST += build-aux/tap-driver.sh

# `make check-valgrind`: black-box tests with gust under valgrind's memcheck
# (tests/valgrind.sh as $GUST_WRAPPER; suppressions in tests/valgrind.supp,
# only for what is not gust's). Fails on a failed test (a memory error makes
# gust exit 99) or on any error or leak report ("==PID==" lines) in
# tests/valgrind-logs/; valgrind's own warnings ("--PID--": it does not know
# pidfd_open, so gust uses its fallback) are not gust's.
VALGRIND_TESTS = tests/bb_basic.sh tests/bb_lifecycle.sh tests/bb_build.sh tests/bb_ready.sh \
	tests/bb_hooks.sh tests/bb_livereload.sh tests/bb_livereload_stress.sh
EXTRA_DIST += tests/valgrind.sh tests/valgrind.supp
check-valgrind:
	rm -rf tests/valgrind-logs && $(MKDIR_P) tests/valgrind-logs
	GUST_WRAPPER="$(SHELL) $(abs_top_srcdir)/tests/valgrind.sh" \
	VALGRIND_LOGS="$(abs_builddir)/tests/valgrind-logs" \
	    $(MAKE) $(AM_MAKEFLAGS) check TESTS="$(VALGRIND_TESTS)" \
	    TEST_SUITE_LOG=tests/valgrind-suite.log
	@if grep -l '^==[0-9]*==' tests/valgrind-logs/*.log >/dev/null 2>&1; then \
	    echo "check-valgrind: valgrind reported:"; \
	    grep -H '^==[0-9]*==' tests/valgrind-logs/*.log | head -n 60; exit 1; \
	fi; echo "check-valgrind: no valgrind report"
.PHONY: check-valgrind
clean-local: clean-valgrind
clean-valgrind:
	rm -rf tests/valgrind-logs
.PHONY: clean-valgrind
CLEANFILES += tests/valgrind-suite.log

# What the live-reload browser tests leave for people to look at.
clean-local: clean-screenshots
clean-screenshots:
	rm -rf tests/screenshots
.PHONY: clean-screenshots
