/* termkeys.h - what the keys typed at gust's terminal do: r rebuild, R
 * restart without building, c clear the screen, q quit, ? help. The
 * terminal itself (modes, reading) is term.c; gust.json's keys are
 * keys.c, not these. */
#ifndef GUST_TERMKEYS_H
#define GUST_TERMKEYS_H

struct app;

/* Read keys for app, unless its program reads the terminal itself
 * ("stdin": "tty" or "inherit") or term.c cannot take it; app->keys says
 * whether keys are on, and a line lists them when they are. */
void termkeys_start(struct app *app);
/* Give the terminal back (nothing when keys are off). */
void termkeys_stop(struct app *app);

#endif
