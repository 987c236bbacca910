# The live-reload hook: the proxy's script injector, as a convenience
# library for the plugin and the tests.
LR_CPPFLAGS = $(PLUGIN_CPPFLAGS) -I$(top_srcdir)/plugins/livereload

noinst_LTLIBRARIES += plugins/livereload/liblr.la
plugins_livereload_liblr_la_SOURCES = \
	plugins/livereload/inject.c plugins/livereload/inject.h
plugins_livereload_liblr_la_CPPFLAGS = $(LR_CPPFLAGS)
plugins_livereload_liblr_la_CFLAGS = $(PLUGIN_CFLAGS)
