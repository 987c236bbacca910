/* signames.h - signal names and numbers, for config values ("SIGTERM")
 * and for messages ("killed by SIGKILL"). */
#ifndef GUST_SIGNAMES_H
#define GUST_SIGNAMES_H

/* Signal name -> number: "SIGTERM", "TERM", "term", "15", "SIGRTMIN+2".
 * -1 if unknown or out of range. */
int config_signal_from_name(const char *name);
/* Number -> name ("SIGTERM", "SIGRTMIN+2"), a static string; NULL if the
 * number is no signal. */
const char *config_signal_name(int sig);

#endif
