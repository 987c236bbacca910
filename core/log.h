/* log.h - gust's own lines on stderr: "gust: <stage>: <text>", coloured by
 * stage when stderr is a terminal (or --color always), never when NO_COLOR is
 * set or --color never. The program's own output never passes through here. */
#ifndef GUST_LOG_H
#define GUST_LOG_H

#include <gust/plugin.h>
#include <stdarg.h>
#include <stdbool.h>

#include "conf.h"

enum log_stage { STAGE_GUST = 0, STAGE_WATCH, STAGE_BUILD, STAGE_RUN, STAGE_HOOK };

/* verbosity: -1 errors and warnings only, 0 normal, 1 verbose (the core's
 * detail and the watcher's info lines), 2 debug (plugins' debug lines too). */
void log_setup(enum color_mode color, int verbosity, bool timestamps);
bool log_enabled(enum gust_log_level level);
bool log_color(void);
int log_verbosity(void);
void log_msg(enum gust_log_level level, enum log_stage stage, const char *fmt, ...)
    GUST_PRINTF(3, 4);
void log_vmsg(enum gust_log_level level, enum log_stage stage, const char *who, const char *fmt,
              va_list ap) GUST_PRINTF(4, 0);
/* "gust: <text>" as an error line, whatever the verbosity. */
void log_error(const char *fmt, ...) GUST_PRINTF(1, 2);
/* No line at all while muted (--print-config's trial of the plugins). */
void log_mute(bool muted);

#endif
