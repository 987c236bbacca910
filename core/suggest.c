/* suggest.c - the did-you-mean of config errors and the quoting of values
 * in them (see suggest.h). */
#include "config.h"

#include "suggest.h"

#include <ctype.h>
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Optimal string alignment distance (Damerau-Levenshtein without
 * repeated edits of a substring), case-insensitive. */
static size_t edit_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	if (la > 64 || lb > 64)
		return SIZE_MAX;
	size_t d[65][65];
	for (size_t i = 0; i <= la; i++)
		d[i][0] = i;
	for (size_t j = 0; j <= lb; j++)
		d[0][j] = j;
	for (size_t i = 1; i <= la; i++) {
		for (size_t j = 1; j <= lb; j++) {
			int ca = tolower((unsigned char)a[i - 1]),
			    cb = tolower((unsigned char)b[j - 1]);
			size_t v = d[i - 1][j] + 1;
			if (d[i][j - 1] + 1 < v)
				v = d[i][j - 1] + 1;
			if (d[i - 1][j - 1] + (ca != cb) < v)
				v = d[i - 1][j - 1] + (ca != cb);
			if (i > 1 && j > 1 && ca == tolower((unsigned char)b[j - 2]) &&
			    tolower((unsigned char)a[i - 2]) == cb && d[i - 2][j - 2] + 1 < v)
				v = d[i - 2][j - 2] + 1;
			d[i][j] = v;
		}
	}
	return d[la][lb];
}

/* Up to about a third of the word may be wrong (1 to 3 edits); a word of
 * 4+ characters that is a prefix of a key (or the key of it) counts as 1.5
 * edits: "exclude" -> "exclude_dir", "debounce_max" -> "debounce_max_ms".
 * Scores are in half edits. */
const char *config_nearest(const char *word, const char *const *candidates)
{
	const char *best = NULL;
	size_t bestd = SIZE_MAX;
	size_t wl = strlen(word);
	for (size_t i = 0; candidates && candidates[i]; i++) {
		size_t dd = edit_distance(word, candidates[i]);
		dd = dd == SIZE_MAX ? dd : dd * 2;
		size_t cl = strlen(candidates[i]);
		size_t ml = wl < cl ? wl : cl;
		if (dd > 3 && ml >= 4 && strncasecmp(word, candidates[i], ml) == 0)
			dd = 3;
		if (dd < bestd) {
			bestd = dd;
			best = candidates[i];
		}
	}
	size_t limit = wl <= 4 ? 2 : wl <= 8 ? 4 : 6;
	return bestd <= limit ? best : NULL;
}

void config_unknown_key(char *err, size_t errlen, const char *where, const char *path,
                        const char *name, const char *const *known)
{
	const char *near = config_nearest(name, known);
	if (near)
		snprintf(err, errlen, "%s: %s/%s: unknown key (did you mean \"%s\"?)", where, path,
		         name, near);
	else
		snprintf(err, errlen, "%s: %s/%s: unknown key", where, path, name);
}

/* "got" text for messages: the value as compact JSON, shortened. */
void config_got_text(const json_t *v, char *buf, size_t len)
{
	char *s = v ? json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT) : NULL;
	if (!s) {
		snprintf(buf, len, "nothing");
		return;
	}
	if (strlen(s) > 60)
		snprintf(buf, len, "%.57s...", s);
	else
		snprintf(buf, len, "%s", s);
	free(s);
}

void config_int_range(char *buf, size_t len, long long min, long long max)
{
	if (max >= CONFIG_NO_MAX)
		snprintf(buf, len, "integer >= %lld", min);
	else
		snprintf(buf, len, "integer between %lld and %lld", min, max);
}
