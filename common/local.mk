# What the core and the plugins share, built once as a convenience library
# that both link: it includes neither core/ nor plugins/lib/ headers, so
# the plugins still see no core header.
noinst_LTLIBRARIES += common/libgustcommon.la
common_libgustcommon_la_SOURCES = common/pathsearch.c common/pathsearch.h
common_libgustcommon_la_CFLAGS = $(AM_CFLAGS) -fvisibility=hidden $(PLUGIN_GC_CFLAGS)
