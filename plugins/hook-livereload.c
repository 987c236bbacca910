/* hook-livereload.c - the "livereload" hook: a proxy in front of the app
 * that reloads the browser's open pages when the new run is ready, shows a
 * failed build's output over the page, and swaps stylesheets in place when
 * only CSS changed (a "reload" rule).
 *
 * Options (one element of "hooks"):
 *   proxy_port       integer, required: where the browser goes
 *   proxy_address    string, "127.0.0.1": any other address (the proxy
 *                    then serves the app to the network) with a warning
 *   app_port         integer: where the app listens; when absent, the
 *                    address readiness found (the default "listen" check
 *                    names it)
 *   app_address      string, "127.0.0.1"
 *   wait_timeout_ms  integer, 30000: how long a request waits for the app
 *                    while it restarts, or before it first comes up
 *   idle_timeout_ms  integer, 60000: a browser connection that sends
 *                    nothing for this long while nothing of it waits
 *                    (between requests, or in the middle of sending one)
 *                    is closed; 0: never
 *
 * The proxy (plugins/livereload/) is libmicrohttpd toward the browser and
 * libcurl toward the app, both on gust's loop through the host table.
 */
#include "config.h"

#include <gust/plugin.h>

#include "headers.h"
#include "lr.h"

#include <arpa/inet.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static const char TAG[] = "<script src=\"/__gust/livereload.js\" data-gust-livereload></script>";

struct livereload {
	struct lr_server s;
	bool app_fixed; /* app_port was given */
	bool told_no_addr;
};

static bool is_loopback(const char *addr)
{
	struct in_addr a4;
	if (inet_pton(AF_INET, addr, &a4) == 1)
		return (ntohl(a4.s_addr) >> 24) == 127;
	return !strcmp(addr, "::1");
}

static int read_opts(struct livereload *lr, const struct gust_opts *opts, const char **paddr,
                     long long *pport)
{
	static const char *const keys[] = { "proxy_port",  "proxy_address",   "app_port",
		                            "app_address", "wait_timeout_ms", "idle_timeout_ms",
		                            NULL };
	const struct gust_host *h = lr->s.host;
	struct gust_ctx *ctx = lr->s.ctx;
	const char *app_addr;
	long long app_port, wait, idle;
	if (h->opt_check_keys(ctx, opts, keys) < 0 ||
	    h->opt_int(ctx, opts, "proxy_port", 0, 0, 65535, pport) < 0 ||
	    h->opt_string(ctx, opts, "proxy_address", "127.0.0.1", paddr) < 0 ||
	    h->opt_int(ctx, opts, "app_port", 0, 0, 65535, &app_port) < 0 ||
	    h->opt_string(ctx, opts, "app_address", "127.0.0.1", &app_addr) < 0 ||
	    h->opt_int(ctx, opts, "wait_timeout_ms", 30000, 0, 3600000, &wait) < 0 ||
	    h->opt_int(ctx, opts, "idle_timeout_ms", 60000, 0, 3600000, &idle) < 0)
		return -1;
	if (!*pport) {
		h->set_error(ctx, "proxy_port: required: the port the browser opens, e.g. 8090");
		return -1;
	}
	unsigned char buf[sizeof(struct in6_addr)];
	if (inet_pton(AF_INET, app_addr, buf) != 1 && inet_pton(AF_INET6, app_addr, buf) != 1) {
		h->set_error(ctx, "app_address \"%s\": not a numeric IPv4 or IPv6 address",
		             app_addr);
		return -1;
	}
	if (app_port == *pport && !strcmp(app_addr, *paddr)) {
		h->set_error(ctx, "app_port %lld: the proxy's own port (proxy_port)", app_port);
		return -1;
	}
	lr->s.wait_ms = (unsigned)wait;
	lr->s.idle_s = (unsigned)((idle + 999) / 1000); /* libmicrohttpd counts seconds */
	if (app_port) {
		lr->app_fixed = true;
		lr_url_of(app_addr, (unsigned)app_port, lr->s.app_url, sizeof lr->s.app_url);
	}
	return 0;
}

static void make_id(char *id, size_t len)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	snprintf(id, len, "%lx%lx%x", (unsigned long)ts.tv_sec, (unsigned long)ts.tv_nsec,
	         (unsigned)getpid());
}

static void *lr_create(const struct gust_host *host, struct gust_ctx *ctx,
                       const struct gust_opts *opts)
{
	struct livereload *lr = calloc(1, sizeof *lr);
	const char *addr;
	long long port;
	char err[256];
	if (!lr) {
		host->set_error(ctx, "out of memory");
		return NULL;
	}
	lr->s.host = host;
	lr->s.ctx = ctx;
	lr->s.tag = TAG;
	lr->s.taglen = sizeof TAG - 1;
	make_id(lr->s.id, sizeof lr->s.id);
	if (read_opts(lr, opts, &addr, &port) < 0)
		goto fail;
	if (lr_server_start(&lr->s, addr, (unsigned)port, err, sizeof err) < 0) {
		host->set_error(ctx, "%s", err);
		goto fail;
	}
	if (!is_loopback(addr))
		host->log(ctx, GUST_LOG_WARN,
		          "proxy_address %s is not loopback: the proxy serves the app to every "
		          "host that reaches this one",
		          addr);
	host->log(ctx, GUST_LOG_INFO, "open http://%s%s%s:%lld/ (the app: %s)",
	          strchr(addr, ':') ? "[" : "", addr, strchr(addr, ':') ? "]" : "", port,
	          lr->s.app_url[0] ? lr->s.app_url : "where readiness finds it");
	return lr;
fail:
	lr_server_stop(&lr->s);
	free(lr);
	return NULL;
}

/* Only stylesheets among paths: they are swapped, the page stays. */
static bool only_css(const char *const *paths)
{
	if (!paths || !paths[0])
		return false;
	for (size_t i = 0; paths[i]; i++) {
		size_t n = strlen(paths[i]);
		if (n < 4 || strcmp(paths[i] + n - 4, ".css"))
			return false;
	}
	return true;
}

static void send_json(struct livereload *lr, const char *name, json_t *o)
{
	char *text = o ? json_dumps(o, JSON_COMPACT) : NULL;
	if (text)
		lr_events_send(&lr->s, name, text);
	free(text);
	json_decref(o);
}

static void on_ready(struct livereload *lr, const struct gust_event_info *ev)
{
	if (!lr->app_fixed && ev->status == 0 &&
	    !lr_app_url(ev->detail, lr->s.app_url, sizeof lr->s.app_url) && !lr->s.app_url[0] &&
	    !lr->told_no_addr) {
		lr->s.host->log(lr->s.ctx, GUST_LOG_WARN,
		                "readiness found no address of the app (%s): set app_port",
		                ev->detail[0] ? ev->detail : "none");
		lr->told_no_addr = true;
	}
	lr->s.app_up = true;
	lr->s.host->log(lr->s.ctx, GUST_LOG_DEBUG, "the app is up at %s", lr->s.app_url);
	lr_proxy_app_up(&lr->s);
	send_json(lr, "reload", json_object());
}

static void lr_event(void *self, const struct gust_event_info *ev)
{
	struct livereload *lr = self;
	switch (ev->type) {
	case GUST_EVENT_BUILD_START:
		send_json(lr, "building", json_object());
		break;
	case GUST_EVENT_BUILD_DONE:
		lr->s.failed = ev->status != 0;
		free(lr->s.output);
		lr->s.output = lr->s.failed ? strdup(ev->output ? ev->output : "") : NULL;
		if (lr->s.failed)
			send_json(lr, "build-failed",
			          json_pack("{s:s}", "output", ev->output ? ev->output : ""));
		else
			lr->s.app_up = false; /* the new run replaces this one */
		break;
	case GUST_EVENT_STOP_DONE:
	case GUST_EVENT_RUN_START:
	case GUST_EVENT_RUN_EXIT:
		lr->s.app_up = false;
		break;
	case GUST_EVENT_READY:
		on_ready(lr, ev);
		break;
	case GUST_EVENT_RELOAD: {
		if (!only_css(ev->paths)) {
			send_json(lr, "reload", json_object());
			break;
		}
		json_t *paths = json_array();
		for (size_t i = 0; paths && ev->paths[i]; i++)
			json_array_append_new(paths, json_string(ev->paths[i]));
		send_json(lr, "css", json_pack("{s:o}", "paths", paths));
		break;
	}
	default:
		break;
	}
}

static void lr_destroy(void *self)
{
	struct livereload *lr = self;
	if (!lr)
		return;
	lr_server_stop(&lr->s);
	free(lr->s.output);
	free(lr);
}

static const struct gust_hook_ops ops = {
	.size = sizeof(struct gust_hook_ops),
	.create = lr_create,
	.event = lr_event,
	.destroy = lr_destroy,
};

GUST_PLUGIN_DEFINE(hook, "livereload", VERSION, ops);
