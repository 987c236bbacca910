/* headers.h - what the live-reload proxy reads in header values and in
 * readiness's answer, kept apart from the proxy so that it can be tested
 * and fuzzed alone (fuzz/lrheaders.c). The HTTP itself is parsed by
 * libmicrohttpd and libcurl; these only look at values they handed over.
 */
#ifndef GUST_LR_HEADERS_H
#define GUST_LR_HEADERS_H

#include <stdbool.h>
#include <stddef.h>

/* Whether the header name is hop-by-hop (Connection, Keep-Alive, TE,
 * Transfer-Encoding, Upgrade, Proxy-*, Trailer) or one the proxy sets
 * itself (Content-Length): never forwarded. Any case. */
bool lr_hop_by_hop(const char *name);

/* Whether the comma-separated list (a header value such as Connection's)
 * holds token, in any case, spaces and tabs around items ignored. */
bool lr_has_token(const char *list, const char *token);

/* The app's URL from readiness's detail: "127.0.0.1:8080 (tcp, pid 42)",
 * "[::]:8080 (...)", "127.0.0.1:8080 (tcp connect)" or
 * "http://127.0.0.1:8080/healthz (HTTP 200)" give "http://HOST:PORT/",
 * a wildcard address reached on loopback. False (url untouched) when the
 * detail names no numeric address and port 1 to 65535. */
bool lr_app_url(const char *detail, char *url, size_t len);

/* "http://HOST:PORT/" (HOST in brackets when it is IPv6) into url. */
void lr_url_of(const char *host, unsigned port, char *url, size_t len);

#endif
