/* plugin-kqueue.c - plugins/watcher-kqueue.c compiled into the config fuzz target. Its
 * descriptor gets an assembler name of its own, fuzz_plugin_kqueue (the
 * plugin's definition keeps the label declared here), so that every
 * in-tree plugin links into one program. */
#include "config.h"
#if HAVE_SYS_EVENT_H

#include <gust/plugin.h>

extern const struct gust_plugin_desc gust_plugin_desc __asm__("fuzz_plugin_kqueue");
#include "../plugins/watcher-kqueue.c"
#endif
