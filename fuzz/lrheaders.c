/* lrheaders.c - fuzz target "lrheaders": what the live-reload proxy reads
 * in the browser's header values and in readiness's detail
 * (plugins/livereload/headers.c).
 *
 * Input: sections cut at lines "---" (fuzz_sections): a header value
 * (a list such as Connection's), a token, and a readiness detail.
 * Checked: lr_has_token() agrees with a plain reference (split at commas,
 * trim spaces and tabs, compare in any case); lr_hop_by_hop() does not
 * crash on any name; lr_app_url() either leaves the URL untouched or
 * writes "http://HOST:PORT/" with a numeric HOST (IPv6 in brackets) and a
 * PORT from 1 to 65535. */
#include "config.h"

#include "../plugins/livereload/headers.h"
#include "fuzz.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static void fail(const char *what, const char *a, const char *b)
{
	fprintf(stderr, "fuzz: lrheaders: %s (\"%s\", \"%s\")\n", what, a, b);
	abort();
}

static bool reference_has(const char *list, const char *token)
{
	char *copy = strdup(list), *save = NULL;
	bool found = false;
	if (!copy)
		abort();
	for (char *item = strtok_r(copy, ",", &save); item && !found;
	     item = strtok_r(NULL, ",", &save)) {
		while (*item == ' ' || *item == '\t')
			item++;
		size_t n = strlen(item);
		while (n && (item[n - 1] == ' ' || item[n - 1] == '\t'))
			item[--n] = '\0';
		found = n && !strcasecmp(item, token);
	}
	free(copy);
	return found;
}

static void check_url(const char *detail, const char *url)
{
	const char *p = url;
	if (strncmp(p, "http://", 7))
		fail("no scheme", detail, url);
	p += 7;
	bool v6 = *p == '[';
	p += v6;
	size_t n = strspn(p, v6 ? "0123456789abcdefABCDEF:." : "0123456789.");
	if (!n || (v6 && p[n++] != ']') || p[n] != ':')
		fail("not a numeric host", detail, url);
	char *end;
	unsigned long port = strtoul(p + n + 1, &end, 10);
	if (port < 1 || port > 65535 || strcmp(end, "/"))
		fail("not a port from 1 to 65535", detail, url);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = fuzz_text(data, size), *sec[3];
	fuzz_sections(text, sec, 3);
	/* an empty token is never an item: both say no, but only a list with
	 * an empty item would make the reference disagree */
	if (*sec[1] && lr_has_token(sec[0], sec[1]) != reference_has(sec[0], sec[1]))
		fail("has_token disagrees with the reference", sec[0], sec[1]);
	(void)lr_hop_by_hop(sec[1]);
	char url[128] = "untouched";
	if (lr_app_url(sec[2], url, sizeof url))
		check_url(sec[2], url);
	else if (strcmp(url, "untouched"))
		fail("a refused detail changed the url", sec[2], url);
	free(text);
	return 0;
}
