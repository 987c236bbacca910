/* curlfn.h - libcurl, loaded only when an "http" readiness check is
 * configured: linked into gust, libcurl and what it pulls in (OpenSSL,
 * GnuTLS, Kerberos, LDAP...) are mapped at every start and were ~5.5 MiB
 * of an idle gust's 8 MiB RSS. dlopen() of its soname and dlsym() of the
 * few functions probe.c calls, into one table. */
#ifndef GUST_CURLFN_H
#define GUST_CURLFN_H

#include <curl/curl.h>
#include <stddef.h>

#define CURLFN_SONAME "libcurl.so.4"

struct curlfn {
	CURLM *(*multi_init)(void);
	CURLMcode (*multi_setopt)(CURLM *, CURLMoption, ...);
	CURLMcode (*multi_add_handle)(CURLM *, CURL *);
	CURLMcode (*multi_remove_handle)(CURLM *, CURL *);
	CURLMcode (*multi_socket_action)(CURLM *, curl_socket_t, int, int *);
	CURLMsg *(*multi_info_read)(CURLM *, int *);
	CURLMcode (*multi_assign)(CURLM *, curl_socket_t, void *);
	CURLMcode (*multi_cleanup)(CURLM *);
	CURL *(*easy_init)(void);
	CURLcode (*easy_setopt)(CURL *, CURLoption, ...);
	CURLcode (*easy_getinfo)(CURL *, CURLINFO, ...);
	void (*easy_cleanup)(CURL *);
	struct curl_slist *(*slist_append)(struct curl_slist *, const char *);
	void (*slist_free_all)(struct curl_slist *);
};

/* libcurl's functions once curlfn_load() succeeded (NULL before). */
extern const struct curlfn *curlfn;

/* Load soname (NULL: CURLFN_SONAME) unless loaded: 0, or -1 with one line
 * in err naming the library and what is missing. Loaded for good: its
 * TLS libraries cannot be unloaded anyway. */
int curlfn_load(const char *soname, char *err, size_t errlen);

#endif
