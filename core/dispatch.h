/* dispatch.h - what a batch of changes asks for (dispatch.c). The app's
 * app_changed() and app_changes_new() (app.h) live there too. */
#ifndef GUST_DISPATCH_H
#define GUST_DISPATCH_H

#include <stdbool.h>

struct app;

/* The window closed (or a build is wanted now: force): take the pending
 * changes and act on what each path asks for. */
void dispatch_changes(struct app *app, bool force);

#endif
