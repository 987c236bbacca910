# In-tree plugins: one loadable module each, installed in $(pkglibdir) as
# <kind>-<name>.so, one source file each. What several plugins share is in
# plugins/lib/, built once as a convenience library and linked into each
# plugin that uses it; what the core shares with them is in common/. Plugins
# see include/, plugins/lib/ and common/ only, not core/: whatever a plugin
# takes from the core comes through the host table (include/gust/plugin.h).
PLUGIN_CPPFLAGS = -I$(top_srcdir)/include -I$(top_srcdir)/plugins/lib \
	-I$(top_srcdir)/common
PLUGIN_CFLAGS = $(AM_CFLAGS) -fvisibility=hidden $(PLUGIN_GC_CFLAGS)
PLUGIN_LIBADD = plugins/libgustplug.la

noinst_LTLIBRARIES += plugins/libgustplug.la
plugins_libgustplug_la_SOURCES = \
	plugins/lib/hash.c plugins/lib/hash.h \
	plugins/lib/vec.c plugins/lib/vec.h \
	plugins/lib/visited.c plugins/lib/visited.h \
	plugins/lib/walk.c plugins/lib/walk.h \
	plugins/lib/idpaths.c plugins/lib/idpaths.h \
	plugins/lib/snap.c plugins/lib/snap.h \
	plugins/lib/poller.c plugins/lib/poller.h \
	plugins/lib/dotenv.c plugins/lib/dotenv.h \
	plugins/lib/runcmd.c plugins/lib/runcmd.h \
	plugins/lib/runout.c plugins/lib/runout.h \
	plugins/lib/outpipe.c plugins/lib/outpipe.h \
	plugins/lib/sockets.c plugins/lib/sockets.h
plugins_libgustplug_la_CPPFLAGS = $(PLUGIN_CPPFLAGS)
plugins_libgustplug_la_CFLAGS = $(PLUGIN_CFLAGS)
plugins_libgustplug_la_LIBADD = common/libgustcommon.la

if BUILD_WATCHER_INOTIFY
pkglib_LTLIBRARIES += plugins/watcher-inotify.la
endif
plugins_watcher_inotify_la_SOURCES = plugins/watcher-inotify.c
plugins_watcher_inotify_la_CPPFLAGS = $(PLUGIN_CPPFLAGS)
plugins_watcher_inotify_la_CFLAGS = $(PLUGIN_CFLAGS)
plugins_watcher_inotify_la_LIBADD = $(PLUGIN_LIBADD)
plugins_watcher_inotify_la_LDFLAGS = $(PLUGIN_LDFLAGS)

if BUILD_WATCHER_KQUEUE
pkglib_LTLIBRARIES += plugins/watcher-kqueue.la
endif
plugins_watcher_kqueue_la_SOURCES = plugins/watcher-kqueue.c
plugins_watcher_kqueue_la_CPPFLAGS = $(PLUGIN_CPPFLAGS)
plugins_watcher_kqueue_la_CFLAGS = $(PLUGIN_CFLAGS)
plugins_watcher_kqueue_la_LIBADD = $(PLUGIN_LIBADD)
plugins_watcher_kqueue_la_LDFLAGS = $(PLUGIN_LDFLAGS)

if BUILD_WATCHER_POLL
pkglib_LTLIBRARIES += plugins/watcher-poll.la
endif
plugins_watcher_poll_la_SOURCES = plugins/watcher-poll.c
plugins_watcher_poll_la_CPPFLAGS = $(PLUGIN_CPPFLAGS)
plugins_watcher_poll_la_CFLAGS = $(PLUGIN_CFLAGS)
plugins_watcher_poll_la_LIBADD = $(PLUGIN_LIBADD)
plugins_watcher_poll_la_LDFLAGS = $(PLUGIN_LDFLAGS)

if BUILD_BUILDER_SHELL
pkglib_LTLIBRARIES += plugins/builder-shell.la
endif
plugins_builder_shell_la_SOURCES = plugins/builder-shell.c
plugins_builder_shell_la_CPPFLAGS = $(PLUGIN_CPPFLAGS)
plugins_builder_shell_la_CFLAGS = $(PLUGIN_CFLAGS)
plugins_builder_shell_la_LIBADD = $(PLUGIN_LIBADD)
plugins_builder_shell_la_LDFLAGS = $(PLUGIN_LDFLAGS)

if BUILD_RUNNER_PLAIN
pkglib_LTLIBRARIES += plugins/runner-plain.la
endif
plugins_runner_plain_la_SOURCES = plugins/runner-plain.c
plugins_runner_plain_la_CPPFLAGS = $(PLUGIN_CPPFLAGS)
plugins_runner_plain_la_CFLAGS = $(PLUGIN_CFLAGS)
plugins_runner_plain_la_LIBADD = $(PLUGIN_LIBADD)
plugins_runner_plain_la_LDFLAGS = $(PLUGIN_LDFLAGS)

if BUILD_RUNNER_DLV
pkglib_LTLIBRARIES += plugins/runner-dlv.la
endif
plugins_runner_dlv_la_SOURCES = plugins/runner-dlv.c
plugins_runner_dlv_la_CPPFLAGS = $(PLUGIN_CPPFLAGS)
plugins_runner_dlv_la_CFLAGS = $(PLUGIN_CFLAGS)
plugins_runner_dlv_la_LIBADD = $(PLUGIN_LIBADD)
plugins_runner_dlv_la_LDFLAGS = $(PLUGIN_LDFLAGS)

if BUILD_HOOK_EXEC
pkglib_LTLIBRARIES += plugins/hook-exec.la
endif
plugins_hook_exec_la_SOURCES = plugins/hook-exec.c
plugins_hook_exec_la_CPPFLAGS = $(PLUGIN_CPPFLAGS)
plugins_hook_exec_la_CFLAGS = $(PLUGIN_CFLAGS)
plugins_hook_exec_la_LDFLAGS = $(PLUGIN_LDFLAGS)

if BUILD_HOOK_NOTIFY
pkglib_LTLIBRARIES += plugins/hook-notify.la
endif
plugins_hook_notify_la_SOURCES = plugins/hook-notify.c
plugins_hook_notify_la_CPPFLAGS = $(PLUGIN_CPPFLAGS)
plugins_hook_notify_la_CFLAGS = $(PLUGIN_CFLAGS) $(LIBSYSTEMD_CFLAGS)
plugins_hook_notify_la_LIBADD = $(LIBSYSTEMD_LIBS)
plugins_hook_notify_la_LDFLAGS = $(PLUGIN_LDFLAGS)

# Libtool installs .la files next to the modules; gust needs only the .so.
install-exec-hook: gust-remove-la
gust-remove-la:
	rm -f $(DESTDIR)$(pkglibdir)/*.la
.PHONY: gust-remove-la
# ... and so libtool's uninstall, which goes by the .la files, misses them.
uninstall-hook: gust-uninstall-plugins
gust-uninstall-plugins:
	for p in $(pkglib_LTLIBRARIES); do \
	  rm -f "$(DESTDIR)$(pkglibdir)/`basename $$p .la`.so"; \
	done
	-rmdir "$(DESTDIR)$(pkglibdir)" 2>/dev/null
.PHONY: gust-uninstall-plugins
