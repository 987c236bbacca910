/* inject.c - the streaming script injector (see inject.h).
 *
 * One buffer holds the body from the first byte not yet sent (start) to the
 * last written (len); hold splits it into what is ready (before) and what is
 * held back (from the latest complete `</body...>` match, else from the
 * candidate being read, else nothing). hold only moves forward: a later
 * match flushes everything before it. */
#include "config.h"

#include "inject.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* The smallest buffer, and the first capacity (the fuzz target makes it
 * tiny, to reach growing and compacting with small inputs). */
#ifndef LR_MIN_CAP
#define LR_MIN_CAP 4096
#endif

/* "</body" in lower case; after it, whitespace then '>'. */
static const char close_body[] = "</body";
#define CLOSE_BODY_LEN (sizeof close_body - 1)

struct lr_inject {
	char *tag; /* NULL: a plain buffer, no scan */
	size_t taglen;
	size_t tagoff; /* of the tag, how much is consumed (once finished) */
	char *buf;
	size_t cap;
	size_t start; /* the first byte not yet consumed */
	size_t hold;  /* the first byte held back (start <= hold <= len) */
	size_t len;
	size_t cand;  /* where the candidate being read starts (state > 0) */
	size_t state; /* how much of close_body the candidate has matched */
	bool matched; /* a complete match starts at hold */
	bool finished;
};

struct lr_inject *lr_inject_new(const char *tag, size_t taglen)
{
	struct lr_inject *lr = calloc(1, sizeof *lr);
	if (!lr)
		return NULL;
	if (tag) {
		/* one byte more, so that an empty tag is not a NULL one */
		lr->tag = malloc(taglen + 1);
		if (!lr->tag) {
			free(lr);
			return NULL;
		}
		memcpy(lr->tag, tag, taglen);
		lr->taglen = taglen;
	}
	return lr;
}

void lr_inject_free(struct lr_inject *lr)
{
	if (!lr)
		return;
	free(lr->tag);
	free(lr->buf);
	free(lr);
}

/* Room for n more bytes after len. Moves the live bytes down when at least
 * as many have been consumed (so each consumed byte pays for one move),
 * else into a buffer twice as large: the capacity stays within a small
 * factor of the live bytes. */
static int reserve(struct lr_inject *lr, size_t n)
{
	size_t live = lr->len - lr->start;
	if (n <= lr->cap - lr->len)
		return 0;
	if (n > SIZE_MAX - live)
		return -ENOMEM;
	if (live + n <= lr->cap && lr->start >= live) {
		memmove(lr->buf, lr->buf + lr->start, live);
	} else {
		size_t cap = lr->cap > SIZE_MAX / 2 ? SIZE_MAX : lr->cap * 2;
		if (cap < live + n)
			cap = live + n;
		if (cap < LR_MIN_CAP)
			cap = LR_MIN_CAP;
		char *buf = malloc(cap);
		if (!buf)
			return -ENOMEM;
		if (live)
			memcpy(buf, lr->buf + lr->start, live);
		free(lr->buf);
		lr->buf = buf;
		lr->cap = cap;
	}
	lr->hold -= lr->start;
	lr->cand -= lr->cand >= lr->start ? lr->start : lr->cand;
	lr->len = live;
	lr->start = 0;
	return 0;
}

static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\f' || c == '\r';
}

static char lower(char c)
{
	return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

/* Move the scan over buf[from, len): state, cand, and hold at the latest
 * match (or at the candidate while there is none). */
static void scan(struct lr_inject *lr, size_t from)
{
	const char *b = lr->buf;
	for (size_t i = from; i < lr->len; i++) {
		char c = lower(b[i]);
		if (lr->state == 0) {
			const char *lt = memchr(b + i, '<', lr->len - i);
			if (!lt)
				break;
			i = (size_t)(lt - b);
			c = '<';
		}
		if (lr->state < CLOSE_BODY_LEN && c == close_body[lr->state]) {
			if (lr->state++ == 0)
				lr->cand = i;
		} else if (lr->state == CLOSE_BODY_LEN && is_space(c)) {
			continue;
		} else if (lr->state == CLOSE_BODY_LEN && c == '>') {
			lr->matched = true;
			lr->hold = lr->cand;
			lr->state = 0;
		} else if (c == '<') {
			/* '<' occurs only first in close_body: a new candidate */
			lr->state = 1;
			lr->cand = i;
		} else {
			lr->state = 0;
		}
	}
	if (!lr->matched)
		lr->hold = lr->state ? lr->cand : lr->len;
}

int lr_inject_write(struct lr_inject *lr, const void *in, size_t n)
{
	if (lr->finished)
		return -EINVAL;
	if (n == 0)
		return 0;
	int r = reserve(lr, n);
	if (r < 0)
		return r;
	size_t from = lr->len;
	memcpy(lr->buf + from, in, n);
	lr->len += n;
	if (lr->tag)
		scan(lr, from);
	else
		lr->hold = lr->len;
	return 0;
}

void lr_inject_finish(struct lr_inject *lr)
{
	if (lr->finished)
		return;
	lr->finished = true;
	/* a candidate still being read is no match: the tag goes at the end */
	if (!lr->matched)
		lr->hold = lr->len;
	lr->state = 0;
	if (lr->tagoff == lr->taglen)
		lr->hold = lr->len;
}

/* The output is buf[start, hold), then (once finished) the tag's rest,
 * then buf[hold, len); once the tag is consumed, hold is len. */
size_t lr_inject_peek(const struct lr_inject *lr, const char **p)
{
	if (lr->start < lr->hold) {
		*p = lr->buf + lr->start;
		return lr->hold - lr->start;
	}
	if (lr->finished && lr->tagoff < lr->taglen) {
		*p = lr->tag + lr->tagoff;
		return lr->taglen - lr->tagoff;
	}
	*p = NULL;
	return 0;
}

void lr_inject_consume(struct lr_inject *lr, size_t n)
{
	if (lr->start < lr->hold) {
		lr->start += n;
	} else if (lr->finished && lr->tagoff < lr->taglen) {
		lr->tagoff += n;
		if (lr->tagoff == lr->taglen)
			lr->hold = lr->len;
	}
}

size_t lr_inject_read(struct lr_inject *lr, void *buf, size_t cap)
{
	size_t got = 0;
	while (got < cap) {
		const char *p;
		size_t n = lr_inject_peek(lr, &p);
		if (n == 0)
			break;
		if (n > cap - got)
			n = cap - got;
		memcpy((char *)buf + got, p, n);
		lr_inject_consume(lr, n);
		got += n;
	}
	return got;
}

size_t lr_inject_ready(const struct lr_inject *lr)
{
	size_t n = lr->hold - lr->start;
	if (lr->finished)
		n += (lr->taglen - lr->tagoff) + (lr->len - lr->hold);
	return n;
}

size_t lr_inject_held(const struct lr_inject *lr)
{
	return lr->finished ? 0 : lr->len - lr->hold;
}

bool lr_inject_done(const struct lr_inject *lr)
{
	return lr->finished && lr_inject_ready(lr) == 0;
}

/* ------------------------------------------------ which responses */

static const char *skip_ows(const char *s)
{
	while (*s == ' ' || *s == '\t')
		s++;
	return s;
}

/* s[0, n) is word (lower case) in any case. */
static bool ascii_eq(const char *s, size_t n, const char *word)
{
	if (n != strlen(word))
		return false;
	for (size_t i = 0; i < n; i++)
		if (lower(s[i]) != word[i])
			return false;
	return true;
}

bool lr_inject_wanted(const char *content_type, const char *content_encoding)
{
	if (!content_type)
		return false;
	const char *t = skip_ows(content_type);
	if (!ascii_eq(t, strnlen(t, 9), "text/html"))
		return false;
	t = skip_ows(t + 9);
	if (*t != '\0' && *t != ';')
		return false;
	if (!content_encoding)
		return true;
	const char *e = skip_ows(content_encoding);
	size_t n = strlen(e);
	while (n && (e[n - 1] == ' ' || e[n - 1] == '\t'))
		n--;
	return n == 0 || ascii_eq(e, n, "identity");
}
