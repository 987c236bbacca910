/* log.c - gust's own lines on stderr. */
#include "config.h"

#include "log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* Set by main() before anything logs; muted only around --print-config's
 * trial creation of the plugins. */
static struct {
	bool color;
	int verbosity;
	bool timestamps;
	bool muted;
} log_state = { false, 0, false, false };

void log_mute(bool muted)
{
	log_state.muted = muted;
}

void log_setup(enum color_mode color, int verbosity, bool timestamps)
{
	const char *nc = getenv("NO_COLOR");
	if (color == COLOR_ALWAYS)
		log_state.color = true;
	else if (color == COLOR_NEVER || (nc && *nc))
		log_state.color = false;
	else
		log_state.color = isatty(STDERR_FILENO);
	log_state.verbosity = verbosity;
	log_state.timestamps = timestamps;
}

int log_verbosity(void)
{
	return log_state.verbosity;
}

bool log_color(void)
{
	return log_state.color;
}

bool log_enabled(enum gust_log_level level)
{
	switch (level) {
	case GUST_LOG_ERROR:
	case GUST_LOG_WARN:
		return true;
	case GUST_LOG_INFO:
		return log_state.verbosity >= 0;
	case GUST_LOG_DEBUG:
		return log_state.verbosity >= 1;
	}
	return false;
}

static const char *const stage_name[] = { "gust", "watch", "build", "run", "hook" };
static const char *const stage_color[] = { "\033[1;35m", "\033[36m", "\033[33m", "\033[32m",
	                                   "\033[34m" };

/* Copy src into dst (len bytes, NUL-terminated, cut when full) with its
 * control characters but tabs written as \n, \r or \xNN: messages quote
 * what users wrote (a JSON key, a --set, a value), and a line break or a
 * terminal escape in it must neither split the line nor reach the terminal.
 * Returns the length written. */
static size_t escape_controls(char *dst, size_t len, const char *src)
{
	size_t o = 0;
	for (const unsigned char *p = (const unsigned char *)src; *p && len > 0; p++) {
		char esc[8];
		const char *e = esc;
		if (*p == '\n')
			e = "\\n";
		else if (*p == '\r')
			e = "\\r";
		else if ((*p < 0x20 && *p != '\t') || *p == 0x7f)
			snprintf(esc, sizeof esc, "\\x%02x", *p);
		else {
			esc[0] = (char)*p;
			esc[1] = '\0';
		}
		size_t el = strlen(e);
		if (o + el >= len)
			break;
		memcpy(dst + o, e, el);
		o += el;
	}
	if (len > 0)
		dst[o] = '\0';
	return o;
}

void log_vmsg(enum gust_log_level level, enum log_stage stage, const char *who, const char *fmt,
              va_list ap)
{
	if (!log_enabled(level) || log_state.muted)
		return;
	char line[2048];
	size_t off = 0;
	if (log_state.timestamps) {
		struct timespec ts;
		struct tm tm;
		clock_gettime(CLOCK_REALTIME, &ts);
		localtime_r(&ts.tv_sec, &tm);
		off += strftime(line, sizeof line, "%H:%M:%S", &tm);
		off += (size_t)snprintf(line + off, sizeof line - off, ".%03ld ",
		                        ts.tv_nsec / 1000000);
	}
	const char *c = log_state.color ? stage_color[stage] : "";
	const char *r = log_state.color ? "\033[0m" : "";
	const char *lc = "";
	if (log_state.color && level == GUST_LOG_ERROR)
		lc = "\033[1;31m";
	else if (log_state.color && level == GUST_LOG_WARN)
		lc = "\033[33m";
	int n;
	if (stage == STAGE_GUST)
		n = snprintf(line + off, sizeof line - off, "%sgust:%s %s%s%s%s", c, r,
		             who ? who : "", who ? ": " : "", lc,
		             level == GUST_LOG_WARN ? "warning: " : "");
	else
		n = snprintf(line + off, sizeof line - off, "%sgust: %s:%s %s%s%s%s", c,
		             stage_name[stage], r, who ? who : "", who ? ": " : "", lc,
		             level == GUST_LOG_WARN ? "warning: " : "");
	if (n > 0)
		off += (size_t)n < sizeof line - off ? (size_t)n : sizeof line - off - 1;
	char msg[2048];
	if (vsnprintf(msg, sizeof msg, fmt, ap) < 0)
		msg[0] = '\0';
	size_t ml = strlen(msg);
	while (ml > 0 && msg[ml - 1] == '\n')
		msg[--ml] = '\0';
	off += escape_controls(line + off, sizeof line - off, msg);
	n = snprintf(line + off, sizeof line - off, "%s\n", *lc ? r : "");
	if (n > 0)
		off += (size_t)n < sizeof line - off ? (size_t)n : sizeof line - off - 1;
	/* one write per line so lines from gust and the program do not mix */
	(void)!write(STDERR_FILENO, line, off);
}

void log_msg(enum gust_log_level level, enum log_stage stage, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	log_vmsg(level, stage, NULL, fmt, ap);
	va_end(ap);
}

void log_error(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	log_vmsg(GUST_LOG_ERROR, STAGE_GUST, NULL, fmt, ap);
	va_end(ap);
}
