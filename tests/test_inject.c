/* test_inject.c - the live-reload proxy's streaming script injector
 * (plugins/livereload/inject.c): the tag before the last `</body>` in any
 * case and spacing, or at the end; the same output however the body is
 * split into writes and however the output is drained; what is held back
 * and what is ready at each step; which responses get the tag; and the
 * browser-side scripts compiled in byte for byte (embed.sh). */
#include "config.h"

#include <check.h>
#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "unit.h"

#include "assets.h"
#include "inject.h"

#define TAG "<script src=\"/__gust/livereload.js\" data-gust-livereload></script>"
#define TAGLEN (sizeof TAG - 1)

/* A growable output buffer. */
struct out {
	char *p;
	size_t len, cap;
};

static void out_room(struct out *o, size_t n)
{
	if (o->cap - o->len >= n)
		return;
	o->cap = (o->len + n) * 2;
	o->p = realloc(o->p, o->cap);
	ck_assert_ptr_nonnull(o->p);
}

/* Take everything ready, through read() with a buffer of at most chunk
 * bytes, or through peek() and consume() when chunk is 0. */
static void drain(struct lr_inject *lr, struct out *o, size_t chunk)
{
	for (;;) {
		size_t ready = lr_inject_ready(lr);
		out_room(o, ready + 1);
		size_t n;
		if (chunk) {
			n = lr_inject_read(lr, o->p + o->len, chunk < ready ? chunk : ready);
		} else {
			const char *p;
			n = lr_inject_peek(lr, &p);
			ck_assert_uint_le(n, ready);
			if (n)
				memcpy(o->p + o->len, p, n);
			lr_inject_consume(lr, n);
		}
		ck_assert_uint_eq(lr_inject_ready(lr), ready - n);
		o->len += n;
		if (n == 0) {
			ck_assert_uint_eq(ready, 0);
			return;
		}
	}
}

/* doc cut at the cuts (ncut ascending offsets), each piece written and the
 * ready output drained after it: the whole output, NUL-terminated. */
static struct out run_cuts(const char *tag, const char *doc, size_t len, const size_t *cuts,
                           size_t ncut, size_t chunk)
{
	struct lr_inject *lr = lr_inject_new(tag, tag ? strlen(tag) : 0);
	ck_assert_ptr_nonnull(lr);
	struct out o = { 0 };
	size_t at = 0;
	for (size_t i = 0; i <= ncut; i++) {
		size_t end = i < ncut ? cuts[i] : len;
		ck_assert_int_eq(lr_inject_write(lr, doc + at, end - at), 0);
		at = end;
		drain(lr, &o, chunk);
		ck_assert(!lr_inject_done(lr));
	}
	lr_inject_finish(lr);
	ck_assert_uint_eq(lr_inject_held(lr), 0);
	drain(lr, &o, chunk);
	ck_assert(lr_inject_done(lr));
	ck_assert_int_eq(lr_inject_write(lr, "x", 1), -EINVAL);
	lr_inject_free(lr);
	out_room(&o, 1);
	o.p[o.len] = '\0';
	ck_assert_uint_eq(o.len, len + (tag ? strlen(tag) : 0));
	return o;
}

/* The injector's output for doc in one write. */
static struct out one_shot(const char *doc, size_t len)
{
	return run_cuts(TAG, doc, len, NULL, 0, 0);
}

/* doc in one write gives want, with "@" in want standing for TAG. */
static void expect(const char *doc, const char *want)
{
	char buf[4096];
	const char *at = strchr(want, '@');
	ck_assert_ptr_nonnull(at);
	FMT(buf, "%.*s%s%s", (int)(at - want), want, TAG, at + 1);
	struct out o = one_shot(doc, strlen(doc));
	ck_assert_str_eq(o.p, buf);
	free(o.p);
}

START_TEST(test_no_body)
{
	expect("<p>hello</p>", "<p>hello</p>@");
	expect("<html><body>x</html>\n", "<html><body>x</html>\n@");
	expect("<body>text</bo", "<body>text</bo@");
	expect("<body>text</body", "<body>text</body@");
	expect("<body>text</body  \n", "<body>text</body  \n@");
}
END_TEST

START_TEST(test_last_body)
{
	expect("<body>a</body>", "<body>a@</body>");
	expect("<body>a</body>\n</html>\n", "<body>a@</body>\n</html>\n");
	expect("a</body>b</body>c</body>d", "a</body>b</body>c@</body>d");
	expect("<!-- </body> -->x</body><script>'</body>'</script>",
	       "<!-- </body> -->x</body><script>'@</body>'</script>");
	expect("</body></body>", "</body>@</body>");
	expect("</body>", "@</body>");
}
END_TEST

START_TEST(test_case_and_space)
{
	expect("a</BODY>b", "a@</BODY>b");
	expect("a</BoDy>b", "a@</BoDy>b");
	expect("a</body  >b", "a@</body  >b");
	expect("a</body\t\n\r\f >b", "a@</body\t\n\r\f >b");
	expect("a</BODY \n>b</body\v>c", "a@</BODY \n>b</body\v>c");
}
END_TEST

START_TEST(test_not_matching)
{
	expect("a</bodyx>b", "a</bodyx>b@");
	expect("a</body>b</bodyx>c", "a@</body>b</bodyx>c");
	expect("a</body>b</body x>c", "a@</body>b</body x>c");
	expect("a</ body>b", "a</ body>b@");
	expect("a< /body>b", "a< /body>b@");
	expect("a</bod>b", "a</bod>b@");
	expect("a</b\xc3\xb6"
	       "dy>b",
	       "a</b\xc3\xb6"
	       "dy>b@");
	/* a failed candidate does not hide the next one */
	expect("a</bo</body>b", "a</bo@</body>b");
	expect("a</body</body>b", "a</body@</body>b");
	expect("a</body <</body>b", "a</body <@</body>b");
}
END_TEST

START_TEST(test_empty_body)
{
	expect("", "@");
	struct out o = run_cuts(TAG, "", 0, (const size_t[]){ 0, 0 }, 2, 0);
	ck_assert_str_eq(o.p, TAG);
	free(o.p);
}
END_TEST

START_TEST(test_tag_at_end)
{
	expect("<body>x</body >", "<body>x@</body >");
	expect("<body>x", "<body>x@");
	expect("<", "<@");
	expect("</BODY", "</BODY@");
}
END_TEST

START_TEST(test_plain_buffer)
{
	/* a NULL tag: a buffer alone, nothing held back */
	const char *doc = "a</body>b</bo";
	struct lr_inject *lr = lr_inject_new(NULL, 0);
	ck_assert_ptr_nonnull(lr);
	ck_assert_int_eq(lr_inject_write(lr, doc, strlen(doc)), 0);
	ck_assert_uint_eq(lr_inject_held(lr), 0);
	ck_assert_uint_eq(lr_inject_ready(lr), strlen(doc));
	lr_inject_free(lr);
	struct out o = run_cuts(NULL, doc, strlen(doc), (const size_t[]){ 3, 9 }, 2, 2);
	ck_assert_str_eq(o.p, doc);
	free(o.p);
	/* an empty tag: the same output */
	o = run_cuts("", doc, strlen(doc), (const size_t[]){ 3, 9 }, 2, 2);
	ck_assert_str_eq(o.p, doc);
	free(o.p);
	lr_inject_free(NULL);
}
END_TEST

/* Documents for the split tests: matches across any cut, near misses. */
static const char *const split_docs[] = {
	"<html><body><p>x</p></BODY  >\n</html>\n",
	"a</body>b</Body\t>c</bodyx>d</body",
	"</bo</body</body >",
	"<</</b</bo</bod</body</body\n\n>>",
	"no match at all <b>here</b>",
};

/* Byte by byte, and in every split in two and in three, with the output
 * drained through read() a byte at a time and through peek(): the one-shot
 * output every time. */
START_TEST(test_every_split)
{
	const char *doc = split_docs[_i];
	size_t len = strlen(doc);
	struct out ref = one_shot(doc, len);
	size_t bytes[64];
	ck_assert_uint_lt(len, 64);
	for (size_t i = 0; i < len; i++)
		bytes[i] = i;
	struct out o = run_cuts(TAG, doc, len, bytes, len, 1);
	ck_assert_str_eq(o.p, ref.p);
	free(o.p);
	for (size_t a = 0; a <= len; a++) {
		o = run_cuts(TAG, doc, len, (const size_t[]){ a }, 1, 0);
		ck_assert_msg(strcmp(o.p, ref.p) == 0, "split at %zu: \"%s\"", a, o.p);
		free(o.p);
		for (size_t b = a; b <= len; b++) {
			o = run_cuts(TAG, doc, len, (const size_t[]){ a, b }, 2, 3);
			ck_assert_msg(strcmp(o.p, ref.p) == 0, "split at %zu, %zu: \"%s\"", a, b,
			              o.p);
			free(o.p);
		}
	}
	free(ref.p);
}
END_TEST

static void write_str(struct lr_inject *lr, const char *s)
{
	ck_assert_int_eq(lr_inject_write(lr, s, strlen(s)), 0);
}

/* Held back: from the latest match, or a candidate; the rest is ready at
 * once. */
START_TEST(test_held_and_ready)
{
	struct lr_inject *lr = lr_inject_new(TAG, TAGLEN);
	ck_assert_ptr_nonnull(lr);
	write_str(lr, "abc</bo");
	ck_assert_uint_eq(lr_inject_ready(lr), 3);
	ck_assert_uint_eq(lr_inject_held(lr), 4);
	write_str(lr, "dy  ");
	ck_assert_uint_eq(lr_inject_ready(lr), 3);
	ck_assert_uint_eq(lr_inject_held(lr), 8);
	write_str(lr, "x"); /* no match after all */
	ck_assert_uint_eq(lr_inject_ready(lr), 12);
	ck_assert_uint_eq(lr_inject_held(lr), 0);
	write_str(lr, "</body>");
	ck_assert_uint_eq(lr_inject_ready(lr), 12);
	ck_assert_uint_eq(lr_inject_held(lr), 7);
	write_str(lr, "tail</b"); /* a candidate after a match: still held */
	ck_assert_uint_eq(lr_inject_held(lr), 14);
	write_str(lr, "r>more");
	ck_assert_uint_eq(lr_inject_held(lr), 20);
	write_str(lr, "</BODY>end"); /* a later match flushes the earlier one */
	ck_assert_uint_eq(lr_inject_ready(lr), 32);
	ck_assert_uint_eq(lr_inject_held(lr), 10);
	char buf[256];
	size_t n = lr_inject_read(lr, buf, sizeof buf);
	ck_assert_uint_eq(n, 32);
	ck_assert(memcmp(buf, "abc</body  x</body>tail</br>more", 32) == 0);
	ck_assert(!lr_inject_done(lr));
	lr_inject_finish(lr);
	lr_inject_finish(lr);
	ck_assert_uint_eq(lr_inject_ready(lr), TAGLEN + 10);
	n = lr_inject_read(lr, buf, sizeof buf);
	buf[n] = '\0';
	ck_assert_str_eq(buf, TAG "</BODY>end");
	ck_assert(lr_inject_done(lr));
	ck_assert_uint_eq(lr_inject_read(lr, buf, sizeof buf), 0);
	lr_inject_free(lr);
}
END_TEST

/* A small deterministic generator (xorshift64). */
static uint64_t rnd(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

/* A 4 MiB page, matches scattered through it and 1 MiB after the last,
 * written in random pieces (1 byte to 64 KiB) and drained in random
 * chunks, sometimes not at all: the one-shot output, the tag where it
 * belongs, and the tail after the last match held back whole. */
START_TEST(test_large_random)
{
	const size_t len = 4u << 20, last = len - (1u << 20);
	char *doc = malloc(len);
	ck_assert_ptr_nonnull(doc);
	uint64_t s = 0x9e3779b97f4a7c15u;
	for (size_t i = 0; i < len; i++)
		doc[i] = "ab </ody>BODY\n"[rnd(&s) % 14];
	for (size_t at = 1000; at < last; at += rnd(&s) % 300000)
		memcpy(doc + at, "</body >", 8);
	memcpy(doc + last, "</Body>", 7);
	for (size_t i = last + 7; i < len; i++)
		if (doc[i] == '<')
			doc[i] = 'x'; /* no match after the last one */

	struct lr_inject *lr = lr_inject_new(TAG, TAGLEN);
	ck_assert_ptr_nonnull(lr);
	struct out o = { 0 };
	size_t maxheld = 0;
	for (size_t at = 0; at < len;) {
		size_t n = 1 + rnd(&s) % (64 * 1024);
		if (n > len - at)
			n = len - at;
		ck_assert_int_eq(lr_inject_write(lr, doc + at, n), 0);
		at += n;
		if (lr_inject_held(lr) > maxheld)
			maxheld = lr_inject_held(lr);
		if (rnd(&s) % 3)
			drain(lr, &o, 1 + rnd(&s) % 100000);
	}
	ck_assert_uint_eq(lr_inject_held(lr), len - last);
	ck_assert_uint_eq(maxheld, len - last);
	lr_inject_finish(lr);
	drain(lr, &o, 0);
	ck_assert(lr_inject_done(lr));
	lr_inject_free(lr);

	ck_assert_uint_eq(o.len, len + TAGLEN);
	ck_assert(memcmp(o.p, doc, last) == 0);
	ck_assert(memcmp(o.p + last, TAG, TAGLEN) == 0);
	ck_assert(memcmp(o.p + last + TAGLEN, doc + last, len - last) == 0);
	struct out ref = one_shot(doc, len);
	ck_assert(ref.len == o.len && memcmp(ref.p, o.p, o.len) == 0);
	free(ref.p);
	free(o.p);
	free(doc);
}
END_TEST

START_TEST(test_wanted)
{
	ck_assert(lr_inject_wanted("text/html", NULL));
	ck_assert(lr_inject_wanted("text/html; charset=utf-8", NULL));
	ck_assert(lr_inject_wanted("TEXT/HTML;charset=UTF-8", NULL));
	ck_assert(lr_inject_wanted("  Text/Html ; charset=\"utf-8\"", ""));
	ck_assert(lr_inject_wanted("text/html\t", "identity"));
	ck_assert(lr_inject_wanted("text/html", " IDENTITY "));
	ck_assert(lr_inject_wanted("text/html", " \t"));

	ck_assert(!lr_inject_wanted(NULL, NULL));
	ck_assert(!lr_inject_wanted("", NULL));
	ck_assert(!lr_inject_wanted("text/htmlx", NULL));
	ck_assert(!lr_inject_wanted("text/html x", NULL));
	ck_assert(!lr_inject_wanted("text/htm", NULL));
	ck_assert(!lr_inject_wanted("text/plain", NULL));
	ck_assert(!lr_inject_wanted("application/xhtml+xml", NULL));
	ck_assert(!lr_inject_wanted("text/html-fragment", NULL));
	ck_assert(!lr_inject_wanted("xtext/html", NULL));
	ck_assert(!lr_inject_wanted("text/html", "gzip"));
	ck_assert(!lr_inject_wanted("text/html", "br"));
	ck_assert(!lr_inject_wanted("text/html", "identity, gzip"));
	ck_assert(!lr_inject_wanted("text/html", "identityx"));
}
END_TEST

/* The whole of a file under the source tree. */
static struct out slurp(const char *rel)
{
	char path[PATH_MAX];
	const char *src = getenv("GUST_SRCDIR") ? getenv("GUST_SRCDIR") : ".";
	FMT(path, "%s/%s", src, rel);
	FILE *f = fopen(path, "rb");
	ck_assert_msg(f != NULL, "cannot open %s", path);
	struct out o = { 0 };
	for (;;) {
		out_room(&o, 4096);
		size_t n = fread(o.p + o.len, 1, 4096, f);
		if (n == 0)
			break;
		o.len += n;
	}
	fclose(f);
	return o;
}

static void expect_embedded(const char *rel, const char *data, size_t len)
{
	struct out f = slurp(rel);
	ck_assert_uint_eq(len, f.len);
	ck_assert(memcmp(data, f.p, len) == 0);
	ck_assert_int_eq(data[len], '\0');
	free(f.p);
}

/* Generated by embed.sh in tests/local.mk from a file of every byte. */
extern const char lr_bytes_bin[];
extern const size_t lr_bytes_bin_len;

START_TEST(test_assets)
{
	expect_embedded("plugins/livereload/client.js", lr_client_js, lr_client_js_len);
	expect_embedded("plugins/livereload/worker.js", lr_worker_js, lr_worker_js_len);
	ck_assert_uint_eq(lr_bytes_bin_len, 512);
	expect_embedded("tests/fixtures/bytes.bin", lr_bytes_bin, lr_bytes_bin_len);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("inject");
	TCase *tc = tcase_create("inject");
	tcase_add_test(tc, test_no_body);
	tcase_add_test(tc, test_last_body);
	tcase_add_test(tc, test_case_and_space);
	tcase_add_test(tc, test_not_matching);
	tcase_add_test(tc, test_empty_body);
	tcase_add_test(tc, test_tag_at_end);
	tcase_add_test(tc, test_plain_buffer);
	tcase_add_loop_test(tc, test_every_split, 0,
	                    (int)(sizeof split_docs / sizeof split_docs[0]));
	tcase_add_test(tc, test_held_and_ready);
	tcase_add_test(tc, test_large_random);
	tcase_add_test(tc, test_wanted);
	tcase_add_test(tc, test_assets);
	suite_add_tcase(s, tc);
	return unit_run(s);
}
