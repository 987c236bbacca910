# The core: a convenience library (so unit tests link the same code) and
# the gust executable.
noinst_LTLIBRARIES += core/libgustcore.la
core_libgustcore_la_SOURCES = \
	core/loop.c core/loop.h \
	core/log.c core/log.h \
	core/conf.c core/conf.h \
	core/confread.c core/confread.h \
	core/confre.c core/confre.h \
	core/keys.c core/keys.h \
	core/suggest.c core/suggest.h \
	core/options.c core/options.h \
	core/signames.c core/signames.h \
	core/init.c core/presets.h core/starter.c core/starter.h \
	core/rootpath.c core/rootpath.h \
	core/glob.c core/glob.h \
	core/gitignore.c core/gitignore.h \
	core/filter.c core/filter.h \
	core/fstype.c core/fstype.h \
	core/ledger.c core/ledger.h \
	core/changes.c core/changes.h \
	core/changedfile.c core/changedfile.h \
	core/ptree.c core/ptree.h core/ptree-internal.h \
	core/procfs.c core/cgroup.c core/membership.c core/exitwatch.c core/keep.c \
	core/statefile.c core/spawn.c core/reaper.c \
	core/listening.c core/listening.h \
	core/probe.c core/probe.h \
	core/curlfn.c core/curlfn.h \
	core/ready.c core/ready.h \
	core/hooks.c core/hooks.h \
	core/rules.c core/rules.h \
	core/loader.c core/loader.h \
	core/plugins.c core/plugins.h \
	core/host.c core/host.h \
	core/term.c core/term.h \
	core/termkeys.c core/termkeys.h \
	core/ctlproto.c core/ctlproto.h \
	core/control.c core/control.h \
	core/ctl_client.c core/ctl_client.h \
	core/cycle.c core/cycle.h \
	core/retry.c core/retry.h \
	core/memtrim.c core/memtrim.h \
	core/reload.c core/reload.h \
	core/dispatch.c core/dispatch.h \
	core/app.c core/app.h core/app-internal.h
nodist_core_libgustcore_la_SOURCES = core/gust-paths.h core/presets.c
core_libgustcore_la_CFLAGS = $(AM_CFLAGS) $(JANSSON_CFLAGS) $(CURL_CFLAGS) $(XXHASH_CFLAGS)
core_libgustcore_la_LIBADD = common/libgustcommon.la $(JANSSON_LIBS)

bin_PROGRAMS += gust
gust_SOURCES = core/main.c
gust_CFLAGS = $(AM_CFLAGS) $(JANSSON_CFLAGS)
gust_LDADD = core/libgustcore.la $(JANSSON_LIBS)

# The compiled-in plugin and preset directories come from make, not
# configure, so `make prefix=...` stays right.
core/gust-paths.h: Makefile
	$(AM_V_GEN)mkdir -p core && { \
	  echo '#define GUST_PLUGINDIR "$(pkglibdir)"'; \
	  echo '#define GUST_PRESETDIR "$(pkgdatadir)/presets"'; \
	} > $@.tmp && mv $@.tmp $@
BUILT_SOURCES += core/gust-paths.h core/presets.c
CLEANFILES += core/gust-paths.h core/presets.c
# Objects need the generated files even when a single target is made.
$(core_libgustcore_la_OBJECTS): core/gust-paths.h
