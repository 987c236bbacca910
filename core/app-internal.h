/* app-internal.h - what the state machine (app.c) offers the other files
 * of the app (dispatch.c); not for the rest of the core, which uses app.h. */
#ifndef GUST_APP_INTERNAL_H
#define GUST_APP_INTERNAL_H

#include "app.h"

/* Build what is pending (and what failed builds had), cancelling a running
 * build first. */
void app_start_build(struct app *app);
/* The program again, without a build: stopped first when it runs. */
void app_restart_now(struct app *app);
/* Tell every hook (hooks.c); not while gust quits (nothing may start then). */
void app_emit(struct app *app, enum gust_event type, int status, uint64_t ms, char *const *paths,
              const char *output, const char *detail);

#endif
