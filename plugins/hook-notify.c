/* hook-notify.c - the "notify" hook: a desktop notification when a build
 * fails and when a build succeeds again after failing (and on every good
 * build with "on_success": true), sent with sd-bus on gust's own loop.
 *
 * Options (one element of "hooks"):
 *   on_success  bool, default false: also notify every good build
 *   app_name    string, default "gust": the sender the desktop shows
 *
 * Where there is no session bus (no DBUS_SESSION_BUS_ADDRESS and no
 * $XDG_RUNTIME_DIR/bus), the hook is off: one debug line says so and
 * nothing else happens. Otherwise it connects at start-up; the bus's fd
 * and its next timeout go through the host's loop (io_add/io_mod,
 * timer_add), and sd_bus_process() runs only when one of them fires, so
 * nothing ever waits for the bus or the notification daemon and no thread
 * is started. A notification is one asynchronous Notify call with a
 * reply timeout of NOTIFY_TIMEOUT_MS. One call is in flight at a time: a
 * newer notification waits for its reply (replacing any older one still
 * waiting), so that it can name the id the daemon gave the previous one
 * and "fixed" replaces "failed" on the desktop. A lost connection is
 * dropped (one debug line) and made again at the next notification. */
#include "config.h"

#include <gust/plugin.h>

#include <systemd/sd-bus.h>

#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#define BODY_LINES 8
/* How long a Notify call may wait for the daemon's reply. */
#define NOTIFY_TIMEOUT_MS 5000u

#define NOTIFY_DEST "org.freedesktop.Notifications"
#define NOTIFY_PATH "/org/freedesktop/Notifications"

/* The urgency hint of the Desktop Notifications specification. */
enum urgency { URGENCY_LOW = 0, URGENCY_NORMAL = 1, URGENCY_CRITICAL = 2 };

/* A notification not sent yet. */
struct note {
	char *summary; /* NULL: none */
	char *body;
	enum urgency urgency;
};

struct notify_hook {
	const struct gust_host *host;
	struct gust_ctx *ctx;
	bool on_success;
	bool on;      /* a session bus exists: notifications go out */
	bool failing; /* the latest build failed */
	char *app;
	sd_bus *bus;        /* NULL: not connected */
	int fd;             /* the bus's fd, registered with the loop; -1: none */
	uint64_t timer;     /* the loop timer for the bus's timeout; 0: none */
	uint64_t timer_due; /* its CLOCK_MONOTONIC deadline in us */
	sd_bus_slot *call;  /* the Notify call in flight, or NULL */
	uint32_t id;        /* the daemon's id of our notification; 0: none yet */
	struct note next;   /* the notification waiting for the call in flight */
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

static uint64_t now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static void note_clear(struct note *n)
{
	free(n->summary);
	free(n->body);
	*n = (struct note){ 0 };
}

/* Forget the connection: nothing of it stays registered with the loop. */
static void drop_bus(struct notify_hook *h)
{
	if (h->fd >= 0)
		h->host->io_del(h->ctx, h->fd);
	h->fd = -1;
	if (h->timer)
		h->host->timer_cancel(h->ctx, h->timer);
	h->timer = 0;
	h->call = sd_bus_slot_unref(h->call);
	if (h->bus) {
		sd_bus_close(h->bus);
		h->bus = sd_bus_unref(h->bus);
	}
}

static void on_bus_timer(void *arg);

/* Tell the loop what the bus waits for now: the events of its fd and its
 * next deadline. Called after every use of the bus. */
static void arm(struct notify_hook *h)
{
	int ev = sd_bus_get_events(h->bus);
	unsigned want = 0;
	if (ev > 0 && (ev & POLLIN))
		want |= GUST_IO_READ;
	if (ev > 0 && (ev & POLLOUT))
		want |= GUST_IO_WRITE;
	h->host->io_mod(h->ctx, h->fd, want);

	uint64_t due;
	if (sd_bus_get_timeout(h->bus, &due) < 0)
		due = UINT64_MAX;
	if (h->timer && due == h->timer_due)
		return;
	if (h->timer)
		h->host->timer_cancel(h->ctx, h->timer);
	h->timer = 0;
	if (due == UINT64_MAX)
		return;
	uint64_t now = now_us();
	uint64_t ms = due > now ? (due - now + 999) / 1000 : 0;
	h->timer = h->host->timer_add(h->ctx, ms > 60000 ? 60000u : (unsigned)ms, on_bus_timer, h);
	h->timer_due = h->timer ? due : 0;
}

/* Handle everything the bus has for us (replies, timeouts, the
 * connection's own steps), then wait for more. */
static void pump(struct notify_hook *h)
{
	int r;
	while ((r = sd_bus_process(h->bus, NULL)) > 0)
		;
	if (r < 0) {
		h->host->log(h->ctx, GUST_LOG_DEBUG, "session bus lost: %s", strerror(-r));
		drop_bus(h);
		return;
	}
	arm(h);
}

static void on_bus_io(int fd, unsigned events, void *arg)
{
	pump(arg);
}

static void on_bus_timer(void *arg)
{
	struct notify_hook *h = arg;
	h->timer = 0;
	pump(h);
}

/* Connect to the session bus; the authentication and the Hello call go on
 * from the loop. false (one debug line) when that cannot start. */
static bool connect_bus(struct notify_hook *h)
{
	int r = sd_bus_open_user(&h->bus);
	if (r >= 0)
		r = sd_bus_get_fd(h->bus);
	if (r >= 0) {
		h->fd = r;
		r = h->host->io_add(h->ctx, h->fd, GUST_IO_READ, on_bus_io, h);
		if (r < 0)
			h->fd = -1;
	}
	if (r < 0) {
		h->host->log(h->ctx, GUST_LOG_DEBUG, "cannot connect to the session bus: %s",
		             strerror(-r));
		drop_bus(h);
		return false;
	}
	arm(h);
	return true;
}

static void send_next(struct notify_hook *h);

static int on_reply(sd_bus_message *m, void *arg, sd_bus_error *ret_error)
{
	struct notify_hook *h = arg;
	h->call = sd_bus_slot_unref(h->call);
	const sd_bus_error *e = sd_bus_message_get_error(m);
	uint32_t id;
	if (e)
		h->host->log(h->ctx, GUST_LOG_DEBUG, "cannot show a notification: %s",
		             e->message ? e->message : e->name);
	else if (sd_bus_message_read(m, "u", &id) > 0)
		h->id = id;
	send_next(h);
	return 0;
}

/* Send the waiting notification, unless a call is still in flight. The
 * body must be valid UTF-8 (see utf8_copy()). */
static void send_next(struct notify_hook *h)
{
	if (h->call || !h->next.summary || !h->bus)
		return;
	sd_bus_message *m = NULL;
	int r = sd_bus_message_new_method_call(h->bus, &m, NOTIFY_DEST, NOTIFY_PATH, NOTIFY_DEST,
	                                       "Notify");
	if (r >= 0)
		r = sd_bus_message_append(m, "susssasa{sv}i", h->app, h->id, "", h->next.summary,
		                          h->next.body, 0, 1, "urgency", "y", (int)h->next.urgency,
		                          -1);
	if (r >= 0)
		r = sd_bus_call_async(h->bus, &h->call, m, on_reply, h,
		                      (uint64_t)NOTIFY_TIMEOUT_MS * 1000u);
	sd_bus_message_unref(m);
	if (r < 0)
		h->host->log(h->ctx, GUST_LOG_DEBUG, "cannot show a notification: %s",
		             strerror(-r));
	note_clear(&h->next);
}

/* A copy of s with every byte that is not part of valid UTF-8 replaced by
 * '?': D-Bus refuses a string that is not UTF-8, and build output may be
 * in any encoding. NULL when out of memory. */
static char *utf8_copy(const char *s)
{
	char *out = strdup(s);
	unsigned char *p = (unsigned char *)out;
	if (!out)
		return NULL;
	while (*p) {
		size_t n = *p < 0x80                  ? 1
		           : *p >= 0xc2 && *p <= 0xdf ? 2
		           : (*p & 0xf0) == 0xe0      ? 3
		           : *p >= 0xf0 && *p <= 0xf4 ? 4
		                                      : 0;
		bool ok = n > 0;
		for (size_t i = 1; ok && i < n; i++)
			ok = (p[i] & 0xc0) == 0x80;
		/* no overlong 3- or 4-byte forms, no surrogates, nothing past U+10FFFF */
		if (ok && n == 3)
			ok = !(p[0] == 0xe0 && p[1] < 0xa0) && !(p[0] == 0xed && p[1] >= 0xa0);
		if (ok && n == 4)
			ok = !(p[0] == 0xf0 && p[1] < 0x90) && !(p[0] == 0xf4 && p[1] >= 0x90);
		if (!ok) {
			*p++ = '?';
			continue;
		}
		p += n;
	}
	return out;
}

static void show(struct notify_hook *h, const char *summary, const char *body, enum urgency urgency)
{
	note_clear(&h->next);
	h->next.summary = strdup(summary);
	h->next.body = utf8_copy(body);
	h->next.urgency = urgency;
	if (!h->next.summary || !h->next.body) {
		note_clear(&h->next);
		return;
	}
	if (!h->bus && !connect_bus(h))
		return;
	send_next(h);
	arm(h);
}

static void nt_destroy(void *self)
{
	struct notify_hook *h = self;
	if (!h)
		return;
	drop_bus(h);
	note_clear(&h->next);
	free(h->app);
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
	h->fd = -1;
	if (host->opt_check_keys(ctx, opts, keys) < 0 ||
	    host->opt_bool(ctx, opts, "on_success", false, &h->on_success) < 0 ||
	    host->opt_string(ctx, opts, "app_name", "gust", &app) < 0) {
		free(h);
		return NULL;
	}
	h->app = utf8_copy(app);
	if (!h->app) {
		host->set_error(ctx, "out of memory");
		free(h);
		return NULL;
	}
	if (!session_bus()) {
		host->log(ctx, GUST_LOG_DEBUG, "no session bus: notifications off");
		return h;
	}
	h->on = true;
	connect_bus(h);
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

static void nt_event(void *self, const struct gust_event_info *ev)
{
	struct notify_hook *h = self;
	if (!h->on || ev->type != GUST_EVENT_BUILD_DONE)
		return;
	char body[512];
	if (ev->status != 0) {
		h->failing = true;
		show(h, "Build failed", *ev->output ? tail_of(ev->output) : "(no output)",
		     URGENCY_CRITICAL);
		return;
	}
	snprintf(body, sizeof body, "built in %llu ms", (unsigned long long)ev->duration_ms);
	if (h->failing)
		show(h, "Build fixed", body, URGENCY_NORMAL);
	else if (h->on_success)
		show(h, "Build ok", body, URGENCY_LOW);
	h->failing = false;
}

static const struct gust_hook_ops ops = {
	.size = sizeof(struct gust_hook_ops),
	.create = nt_create,
	.event = nt_event,
	.destroy = nt_destroy,
};

GUST_PLUGIN_DEFINE(hook, "notify", VERSION, ops);
