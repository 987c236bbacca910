/* headers.c - header values and readiness's detail (see headers.h). */
#include "config.h"

#include "headers.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

bool lr_hop_by_hop(const char *name)
{
	static const char *const names[] = { "connection",
		                             "keep-alive",
		                             "proxy-connection",
		                             "te",
		                             "trailer",
		                             "transfer-encoding",
		                             "upgrade",
		                             "proxy-authenticate",
		                             "proxy-authorization",
		                             "content-length" };
	for (size_t i = 0; i < sizeof names / sizeof *names; i++)
		if (!strcasecmp(name, names[i]))
			return true;
	return false;
}

bool lr_has_token(const char *list, const char *token)
{
	size_t n = strlen(token);
	for (const char *p = list; p && *p;) {
		p += strspn(p, " \t,");
		size_t len = strcspn(p, ",");
		size_t end = len;
		while (end && (p[end - 1] == ' ' || p[end - 1] == '\t'))
			end--;
		if (end == n && !strncasecmp(p, token, n))
			return true;
		p += len;
	}
	return false;
}

void lr_url_of(const char *host, unsigned port, char *url, size_t len)
{
	bool v6 = strchr(host, ':') != NULL;
	snprintf(url, len, "http://%s%s%s:%u/", v6 ? "[" : "", host, v6 ? "]" : "", port);
}

/* The decimal port at p: 1 to 65535, followed by the end, a space or '/'. */
static unsigned port_at(const char *p)
{
	unsigned long v = 0;
	size_t i = 0;
	for (; p[i] >= '0' && p[i] <= '9' && i < 6; i++)
		v = v * 10 + (unsigned long)(p[i] - '0');
	if (!i || v < 1 || v > 65535 || (p[i] && p[i] != ' ' && p[i] != '/'))
		return 0;
	return (unsigned)v;
}

bool lr_app_url(const char *detail, char *url, size_t len)
{
	char host[64];
	const char *p = detail;
	if (!strncmp(p, "http://", 7))
		p += 7;
	bool v6 = *p == '[';
	p += v6;
	size_t n = strspn(p, v6 ? "0123456789abcdefABCDEF:." : "0123456789.");
	if (!n || n >= sizeof host || (v6 && p[n++] != ']') || p[n] != ':')
		return false;
	memcpy(host, p, n - v6);
	host[n - v6] = '\0';
	unsigned char addr[sizeof(struct in6_addr)];
	if (inet_pton(v6 ? AF_INET6 : AF_INET, host, addr) != 1)
		return false;
	unsigned port = port_at(p + n + 1);
	if (!port)
		return false;
	if (!strcmp(host, "0.0.0.0"))
		snprintf(host, sizeof host, "127.0.0.1");
	else if (!strcmp(host, "::"))
		snprintf(host, sizeof host, "::1");
	lr_url_of(host, port, url, len);
	return true;
}
