/* curlloop.h - libcurl's multi-socket API driven from gust's loop (the
 * host table's fds and timers): no thread, no second loop, no resolver
 * thread (the proxy only ever connects to numeric loopback addresses).
 *
 * Each transfer is an easy handle whose CURLOPT_PRIVATE points at a
 * struct lr_xfer: its done() runs from the loop once the transfer ends,
 * never from inside a libcurl callback, so it may remove and free the
 * handle. A socket libcurl opened may also be written by its owner (the
 * raw relay after an upgrade): lr_curl_want_write() adds write interest
 * on it next to libcurl's own.
 */
#ifndef GUST_LR_CURLLOOP_H
#define GUST_LR_CURLLOOP_H

#include <gust/plugin.h>

#include <curl/curl.h>
#include <stdbool.h>

/* How many idle connections to the app are kept for the next requests. */
#define LR_KEPT_CONNECTIONS 4

struct lr_xfer {
	/* the transfer ended (CURLE_OK or why not); the handle is still in
	 * the multi: the callee removes it with lr_curl_remove() */
	void (*done)(struct lr_xfer *x, CURLcode rc);
};

struct lr_curl;

struct lr_curl *lr_curl_new(const struct gust_host *host, struct gust_ctx *ctx);
/* Start easy (its CURLOPT_PRIVATE a struct lr_xfer *). 0 or -1. */
int lr_curl_add(struct lr_curl *c, CURL *easy);
/* Stop easy: done() is not called for it any more. */
void lr_curl_remove(struct lr_curl *c, CURL *easy);
/* Let libcurl act after curl_easy_pause() from outside its callbacks. */
void lr_curl_kick(struct lr_curl *c);
/* Call cb once fd (a socket libcurl owns) is writable; on false, stop. */
void lr_curl_want_write(struct lr_curl *c, curl_socket_t fd, bool on, void (*cb)(void *arg),
                        void *arg);
/* Remove every transfer still running (done() is not called), free. */
void lr_curl_free(struct lr_curl *c);

#endif
