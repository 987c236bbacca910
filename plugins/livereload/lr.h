/* lr.h - the live-reload proxy's shared types: the server (libmicrohttpd
 * in external epoll mode on gust's loop), the app it forwards to, and one
 * request of a browser, which is one of: a file of the proxy's own
 * (/__gust/...), the reload event stream (/__gust/events), or a request
 * proxied to the app through libcurl (and, after a 101, a raw relay).
 */
#ifndef GUST_LR_H
#define GUST_LR_H

#include <gust/plugin.h>

#include <curl/curl.h>
#include <microhttpd.h>
#include <stdbool.h>
#include <stddef.h>

#include "curlloop.h"

/* A byte queue: appended at the end, consumed from the front. */
struct lr_buf {
	char *p;
	size_t off, len, cap; /* data is p[off, off + len) */
};
int lr_buf_put(struct lr_buf *b, const void *data, size_t n);
void lr_buf_take(struct lr_buf *b, size_t n);
void lr_buf_free(struct lr_buf *b);
static inline const char *lr_buf_data(const struct lr_buf *b)
{
	return b->p + b->off;
}

/* The most a request buffers in each direction before it pushes back. */
#define LR_BUF_MAX (64 * 1024)

enum lr_kind { LR_NEW, LR_ASSET, LR_EVENTS, LR_PROXY };

struct lr_server;

struct lr_req {
	struct lr_server *s;
	struct lr_req *prev, *next; /* every live request of s */
	struct MHD_Connection *conn;
	char *uri; /* the request-target as the browser sent it */
	enum lr_kind kind;
	bool started;   /* the access handler saw the headers */
	bool suspended; /* we suspended conn */
	bool queued;    /* a response is queued */
	bool gone;      /* MHD is done with it (completed) */
	bool hung_up;   /* the browser went away while it was suspended */
	int watch_fd;   /* the socket watched for that, or -1 */

	/* LR_EVENTS: what is still to be sent */
	struct lr_buf out;

	/* LR_PROXY */
	struct lr_xfer xfer;
	CURL *easy;
	struct curl_slist *hdrs;
	char *method;
	bool head, has_body, upgrade, retryable;
	struct lr_buf up;    /* request body toward the app */
	bool up_eof;         /* the browser sent all of it */
	bool up_paused;      /* libcurl waits for more of it */
	bool up_started;     /* libcurl read some of it: no retry */
	bool waiting;        /* on the app: not started yet */
	uint64_t wait_timer; /* the deadline of the wait, or a retry */
	unsigned retry_ms;
	uint64_t wait_since_ms;
	struct lr_buf down; /* after a 101: the app's bytes toward the browser */
	bool down_paused;   /* libcurl holds data until we drained */
	bool done;          /* the transfer ended */
	CURLcode rc;
	long status; /* the app's final status, once headers_done */
	bool headers_done;
	bool got_bytes;        /* any response byte came from the app */
	struct lr_inject *inj; /* the body toward the browser (inject.h) */
	bool tagged;           /* the script goes into it */
	const char *fail;      /* a response of our own instead of the app's */

	/* after a 101: the raw relay */
	curl_socket_t app_fd;
	int client_fd;
	struct MHD_UpgradeResponseHandle *urh;
	bool relay_open; /* the relay owns the request until it closes */
	uint64_t relay_timer;
	bool client_eof, app_eof;
};

struct lr_server {
	const struct gust_host *host;
	struct gust_ctx *ctx;
	struct MHD_Daemon *d;
	int epfd;
	int listen_fd;
	char listen_key[80]; /* "ADDR/PORT" (server.c) */
	uint64_t timer, kick;
	struct lr_curl *curl;
	struct lr_req *reqs;

	/* the app */
	char app_url[96]; /* "http://127.0.0.1:8080", or "" while unknown */
	bool app_up;      /* ready since the last restart began */
	unsigned wait_ms; /* how long a request waits for it */
	unsigned idle_s;  /* a browser connection's inactivity timeout; 0: none */

	/* what the event stream says */
	char id[24];
	bool failed;
	char *output;
	const char *tag;
	size_t taglen;
	bool stopping;
};

/* server.c */
/* Listen on addr:port and serve from gust's loop. 0, or -1 and err. */
int lr_server_start(struct lr_server *s, const char *addr, unsigned port, char *err, size_t errlen);
/* End every request and stop listening. */
void lr_server_stop(struct lr_server *s);
/* Suspend the connection; with watch, a browser that goes away meanwhile
 * resumes it with hung_up set, and the handler ends the request (not
 * while the rest of a body the browser sent waits unread in the socket). */
void lr_req_suspend(struct lr_req *r, bool watch);
void lr_req_resume(struct lr_req *r);
/* Run libmicrohttpd soon, from the loop: after a resume or an upgraded
 * connection's close, which it acts on only at its next run. */
void lr_server_kick(struct lr_server *s);
/* Queue resp (NULL: failed to make it) with Content-Type type, not to be
 * cached; the request's one answer. */
enum MHD_Result lr_req_queue(struct lr_req *r, unsigned status, const char *type,
                             struct MHD_Response *resp);
/* Unlink and free a request libmicrohttpd is done with. */
void lr_req_free(struct lr_req *r);
uint64_t lr_now_ms(void);

/* proxy.c */
enum MHD_Result lr_proxy(struct lr_req *r, const char *upload, size_t *upload_size);
void lr_proxy_end(struct lr_req *r);
/* The app came up (or its address became known): start what waits. */
void lr_proxy_app_up(struct lr_server *s);

/* relay.c */
void lr_relay_upgraded(void *cls, struct MHD_Connection *conn, void *req_cls, const char *extra_in,
                       size_t extra_in_size, MHD_socket sock,
                       struct MHD_UpgradeResponseHandle *urh);
/* libcurl handed over response bytes of an upgraded request. */
size_t lr_relay_from_app(struct lr_req *r, const char *data, size_t n);
/* The app's side ended (the transfer is done). */
void lr_relay_app_done(struct lr_req *r);
/* Close the relay now (from gust's loop, not from libcurl). */
void lr_relay_end(struct lr_req *r);

/* events.c */
enum MHD_Result lr_events(struct lr_req *r);
/* Send event name with data (one line of JSON) to every open stream. */
void lr_events_send(struct lr_server *s, const char *name, const char *json);
void lr_events_end(struct lr_req *r);

#endif
