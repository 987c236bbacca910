# The live-reload hook: the proxy's script injector and the browser-side
# scripts compiled in (assets.c, generated from the .js files by embed.sh),
# as a convenience library for the plugin and the tests.
LR_JS = plugins/livereload/client.js plugins/livereload/worker.js
LR_CPPFLAGS = $(PLUGIN_CPPFLAGS) -I$(top_srcdir)/plugins/livereload
# FILE... >OUT.c: each file as a C array (embed.sh says how)
LR_EMBED = $(SHELL) $(srcdir)/plugins/livereload/embed.sh
LR_EMBED_DEPS = $(srcdir)/plugins/livereload/embed.sh

noinst_LTLIBRARIES += plugins/livereload/liblr.la
plugins_livereload_liblr_la_SOURCES = \
	plugins/livereload/inject.c plugins/livereload/inject.h \
	plugins/livereload/headers.c plugins/livereload/headers.h \
	plugins/livereload/assets.h
nodist_plugins_livereload_liblr_la_SOURCES = plugins/livereload/assets.c
plugins_livereload_liblr_la_CPPFLAGS = $(LR_CPPFLAGS)
plugins_livereload_liblr_la_CFLAGS = $(PLUGIN_CFLAGS)

plugins/livereload/assets.c: $(LR_JS:%=$(srcdir)/%) $(LR_EMBED_DEPS)
	$(AM_V_GEN)$(MKDIR_P) plugins/livereload && \
	  $(LR_EMBED) $(LR_JS:%=$(srcdir)/%) >$@.tmp && mv $@.tmp $@
CLEANFILES += plugins/livereload/assets.c
EXTRA_DIST += $(LR_JS) plugins/livereload/embed.sh

# The plugin: the proxy (libmicrohttpd toward the browser, libcurl toward
# the app) around liblr.la.
if BUILD_HOOK_LIVERELOAD
pkglib_LTLIBRARIES += plugins/hook-livereload.la
endif
plugins_hook_livereload_la_SOURCES = plugins/hook-livereload.c \
	plugins/livereload/lr.h plugins/livereload/buf.c \
	plugins/livereload/curlloop.c plugins/livereload/curlloop.h \
	plugins/livereload/server.c plugins/livereload/events.c \
	plugins/livereload/proxy.c plugins/livereload/relay.c
plugins_hook_livereload_la_CPPFLAGS = $(LR_CPPFLAGS)
plugins_hook_livereload_la_CFLAGS = $(PLUGIN_CFLAGS) $(MHD_CFLAGS) $(CURL_CFLAGS) $(JANSSON_CFLAGS)
plugins_hook_livereload_la_LIBADD = plugins/livereload/liblr.la $(MHD_LIBS) $(CURL_LIBS) \
	$(JANSSON_LIBS)
plugins_hook_livereload_la_LDFLAGS = $(PLUGIN_LDFLAGS)
