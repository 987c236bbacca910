/* plugin-plain.c - plugins/runner-plain.c compiled into the config fuzz target. Its
 * descriptor gets an assembler name of its own, fuzz_plugin_plain (the
 * plugin's definition keeps the label declared here), so that every
 * in-tree plugin links into one program. */
#include "config.h"

#include <gust/plugin.h>

extern const struct gust_plugin_desc gust_plugin_desc __asm__("fuzz_plugin_plain");
#include "../plugins/runner-plain.c"
