/* hook-notify.c - the "notify" hook: a desktop notification when a build
 * fails and when a build succeeds again after failing (and on every good
 * build with "on_success": true), through libnotify.
 *
 * Options (one element of "hooks"):
 *   on_success  bool, default false: also notify every good build
 *   app_name    string, default "gust": the sender the desktop shows
 *
 * Where there is no session bus (no DBUS_SESSION_BUS_ADDRESS and no
 * $XDG_RUNTIME_DIR/bus), or libnotify cannot start, the hook is off: one
 * debug line says so and nothing else happens. Showing a notification is
 * one D-Bus call to the notification daemon on the session bus, bounded
 * by D-Bus's reply timeout; one notification is reused, so "fixed"
 * replaces "failed" on the desktop. */
#include "config.h"

#include <gust/plugin.h>

#include <libnotify/notify.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define BODY_LINES 8

struct notify_hook {
	const struct gust_host *host;
	struct gust_ctx *ctx;
	bool on_success;
	bool on;      /* a session bus and libnotify: notifications go out */
	bool failing; /* the latest build failed */
	NotifyNotification *n;
};

static bool session_bus(void)
{
	const char *a = getenv("DBUS_SESSION_BUS_ADDRESS");
	if (a && *a)
		return true;
	const char *rt = getenv("XDG_RUNTIME_DIR");
	char path[4096];
	struct stat st;
	return rt && *rt && snprintf(path, sizeof path, "%s/bus", rt) < (int)sizeof path &&
	       stat(path, &st) == 0 && S_ISSOCK(st.st_mode);
}

static void nt_destroy(void *self)
{
	struct notify_hook *h = self;
	if (!h)
		return;
	if (h->n)
		g_object_unref(h->n);
	if (h->on)
		notify_uninit();
	free(h);
}

static void *nt_create(const struct gust_host *host, struct gust_ctx *ctx,
                       const struct gust_opts *opts)
{
	static const char *const keys[] = { "on_success", "app_name", NULL };
	const char *app;
	struct notify_hook *h = calloc(1, sizeof *h);
	if (!h) {
		host->set_error(ctx, "out of memory");
		return NULL;
	}
	h->host = host;
	h->ctx = ctx;
	if (host->opt_check_keys(ctx, opts, keys) < 0 ||
	    host->opt_bool(ctx, opts, "on_success", false, &h->on_success) < 0 ||
	    host->opt_string(ctx, opts, "app_name", "gust", &app) < 0) {
		free(h);
		return NULL;
	}
	if (!session_bus())
		host->log(ctx, GUST_LOG_DEBUG, "no session bus: notifications off");
	else if (!notify_init(app))
		host->log(ctx, GUST_LOG_DEBUG, "libnotify cannot start: notifications off");
	else
		h->on = true;
	return h;
}

/* The last BODY_LINES lines of the build's output. */
static const char *tail_of(const char *out)
{
	size_t n = strlen(out);
	int lines = 0;
	while (n > 0) {
		if (out[n - 1] == '\n' && n != strlen(out) && ++lines == BODY_LINES)
			break;
		n--;
	}
	return out + n;
}

static void show(struct notify_hook *h, const char *summary, const char *body,
                 NotifyUrgency urgency)
{
	if (!h->n)
		h->n = notify_notification_new(summary, body, NULL);
	else
		notify_notification_update(h->n, summary, body, NULL);
	if (!h->n)
		return;
	notify_notification_set_urgency(h->n, urgency);
	GError *err = NULL;
	if (!notify_notification_show(h->n, &err)) {
		h->host->log(h->ctx, GUST_LOG_DEBUG, "cannot show a notification: %s",
		             err ? err->message : "unknown error");
		if (err)
			g_error_free(err);
	}
}

static void nt_event(void *self, const struct gust_event_info *ev)
{
	struct notify_hook *h = self;
	if (!h->on || ev->type != GUST_EVENT_BUILD_DONE)
		return;
	char body[512];
	if (ev->status != 0) {
		h->failing = true;
		show(h, "Build failed", *ev->output ? tail_of(ev->output) : "(no output)",
		     NOTIFY_URGENCY_CRITICAL);
		return;
	}
	snprintf(body, sizeof body, "built in %llu ms", (unsigned long long)ev->duration_ms);
	if (h->failing)
		show(h, "Build fixed", body, NOTIFY_URGENCY_NORMAL);
	else if (h->on_success)
		show(h, "Build ok", body, NOTIFY_URGENCY_LOW);
	h->failing = false;
}

static const struct gust_hook_ops ops = {
	.size = sizeof(struct gust_hook_ops),
	.create = nt_create,
	.event = nt_event,
	.destroy = nt_destroy,
};

GUST_PLUGIN_DEFINE(hook, "notify", VERSION, ops);
