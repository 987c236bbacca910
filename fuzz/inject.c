/* inject.c - fuzz target "inject": the live-reload proxy's streaming script
 * injector (plugins/livereload/inject.c).
 *
 * Input: a header, then the body.
 *   byte 0       how the output is drained: 0 peek and consume, else read()
 *                in chunks of that many bytes
 *   byte 1       k: how many cuts (k % 33)
 *   2k bytes     the cuts, 16 bits each (little-endian), modulo the body's
 *                length + 1, sorted: the body is written in k + 1 pieces
 *   the rest     the body
 * Checked against a naive reference over the whole body: the output is the
 * body with the tag inserted once, before the last `</body\s*>` or at the
 * end (so its length is the body's + the tag's, whatever the cuts); after
 * each write, exactly the bytes from the latest match (or from a match
 * still being read at the end) are held back, and the rest is ready. */
#include "config.h"

#include "../plugins/livereload/inject.h"
#include "fuzz.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TAG "<script src=\"/__gust/livereload.js\" data-gust-livereload></script>"
#define TAGLEN (sizeof TAG - 1)
#define MAX_CUTS 32

static void fail(const char *what, size_t a, size_t b)
{
	fprintf(stderr, "fuzz: inject: %s (%zu, %zu)\n", what, a, b);
	abort();
}

static char lc(char c)
{
	return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

static bool ws(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\f' || c == '\r';
}

/* How many bytes from d[i] (of len) are a prefix of `</body\s*>`: len - i
 * when all of them are (a match still being read), i's match length when
 * complete, else 0. *complete says which. */
static size_t match_at(const char *d, size_t len, size_t i, bool *complete)
{
	static const char pat[] = "</body";
	size_t j = 0;
	*complete = false;
	for (; j < 6; j++)
		if (i + j == len)
			return j;
		else if (lc(d[i + j]) != pat[j])
			return 0;
	while (i + j < len && ws(d[i + j]))
		j++;
	if (i + j == len)
		return j;
	if (d[i + j] != '>')
		return 0;
	*complete = true;
	return j + 1;
}

/* The naive reference over d[0, len): where the tag goes if the body ended
 * here (*end: the last complete match's start, else len), and where holding
 * back starts (the last match, else a match being read, else len). */
static size_t ref_hold(const char *d, size_t len, size_t *end)
{
	size_t pending = len;
	*end = len;
	for (size_t i = len; i-- > 0;) {
		bool complete;
		size_t n = match_at(d, len, i, &complete);
		if (complete) {
			*end = i;
			return i;
		}
		if (n && i + n == len)
			pending = i;
	}
	return pending;
}

static int cmp_size(const void *a, const void *b)
{
	size_t x = *(const size_t *)a, y = *(const size_t *)b;
	return x < y ? -1 : x > y;
}

/* Take all that is ready into out (room for it is known), checking ready(). */
static size_t take(struct lr_inject *lr, char *out, size_t chunk)
{
	size_t ready = lr_inject_ready(lr), got = 0;
	for (;;) {
		size_t n;
		if (chunk) {
			n = lr_inject_read(lr, out + got, chunk);
		} else {
			const char *p;
			n = lr_inject_peek(lr, &p);
			if (n)
				memcpy(out + got, p, n);
			lr_inject_consume(lr, n);
		}
		if (n == 0)
			break;
		got += n;
	}
	if (got != ready)
		fail("ready() is not what was taken", ready, got);
	return got;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t chunk = size > 0 ? data[0] : 0;
	size_t k = size > 1 ? data[1] % (MAX_CUTS + 1) : 0;
	size_t head = 2 + 2 * k;
	if (size < head)
		return 0;
	const char *doc = (const char *)data + head;
	size_t len = size - head;
	size_t cuts[MAX_CUTS];
	for (size_t i = 0; i < k; i++)
		cuts[i] = (data[2 + 2 * i] | (size_t)data[3 + 2 * i] << 8) % (len + 1);
	qsort(cuts, k, sizeof *cuts, cmp_size);

	struct lr_inject *lr = lr_inject_new(TAG, TAGLEN);
	char *out = malloc(len + TAGLEN);
	if (!lr || !out)
		abort();
	size_t olen = 0, at = 0, end;
	for (size_t i = 0; i <= k; i++) {
		size_t to = i < k ? cuts[i] : len;
		if (lr_inject_write(lr, doc + at, to - at) != 0)
			fail("write failed", at, to);
		at = to;
		olen += take(lr, out + olen, chunk);
		/* everything before the hold point is out, nothing after it */
		size_t hold = ref_hold(doc, at, &end);
		if (olen != hold || lr_inject_held(lr) != at - hold)
			fail("held back: (output, held) differ from the reference", olen,
			     lr_inject_held(lr));
	}
	lr_inject_finish(lr);
	olen += take(lr, out + olen, chunk);
	if (!lr_inject_done(lr) || lr_inject_held(lr) != 0)
		fail("not done after the end", lr_inject_ready(lr), lr_inject_held(lr));
	lr_inject_free(lr);

	ref_hold(doc, len, &end);
	if (olen != len + TAGLEN)
		fail("output length is not input + tag", olen, len + TAGLEN);
	if (memcmp(out, doc, end) != 0 || memcmp(out + end, TAG, TAGLEN) != 0 ||
	    memcmp(out + end + TAGLEN, doc + end, len - end) != 0)
		fail("the tag is not where the reference puts it", end, len);
	free(out);
	return 0;
}
