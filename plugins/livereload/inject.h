/* inject.h - the live-reload proxy's streaming script injector: an HTML
 * response body goes in piece by piece as it comes from the app, and comes
 * out with a tag (the <script> of the live-reload client) inserted before
 * the last `</body>`, or appended when there is none.
 *
 * A match is `</body` in any case, then any ASCII whitespace (space, tab,
 * LF, FF, CR), then `>`. This is a byte scan, not an HTML parser: a
 * `</body>` inside a comment, a script or an attribute counts like any
 * other. The output is always the input with the tag inserted once, so its
 * length is the input's plus the tag's (the proxy can set Content-Length up
 * front from the app's).
 *
 * "Last" is known only at the end of the body, so the injector holds back
 * the bytes from the latest complete match on (and a match still being
 * read: `</bo` at the end of a piece, or `</body` and whitespace): they may
 * be where the tag goes. Everything before is ready to send at once.
 * Memory is bounded by what is held back, not by the body: a page with
 * megabytes after its last `</body>` is kept whole in memory until the end
 * of the body (lr_inject_held() says how much). Bytes ready but not yet
 * taken are kept too: the caller bounds those by not writing while
 * lr_inject_ready() is above its limit.
 *
 * The injector is the body's buffer toward the browser: the proxy writes
 * what the app sends (lr_inject_write) while lr_inject_ready() is under its
 * limit (else it pauses the app's side), and the browser's side takes what
 * is ready (lr_inject_read, or lr_inject_peek and lr_inject_consume without
 * a copy). Made with a NULL tag, it is that buffer alone: nothing held back,
 * nothing inserted, no scan (for the responses that get no tag).
 *
 * Not thread-safe (gust has none); one injector per response body. */
#ifndef GUST_LR_INJECT_H
#define GUST_LR_INJECT_H

#include <stdbool.h>
#include <stddef.h>

struct lr_inject;

/* A new injector for one body. tag: taglen bytes, copied (NULL: the plain
 * buffer described above; taglen must then be 0). NULL when out of
 * memory. */
struct lr_inject *lr_inject_new(const char *tag, size_t taglen);

/* Free lr and what it holds (NULL: nothing). */
void lr_inject_free(struct lr_inject *lr);

/* The next n bytes of the body (borrowed: copied before returning). Any
 * split of the body into writes gives the same output. 0, -ENOMEM (nothing
 * of in was taken: lr is as before) or -EINVAL after lr_inject_finish(). */
int lr_inject_write(struct lr_inject *lr, const void *in, size_t n);

/* The end of the body: the tag goes in, and everything held back becomes
 * ready. Further calls do nothing. */
void lr_inject_finish(struct lr_inject *lr);

/* The first bytes of the output ready to send: *p points to them, valid
 * until the next call on lr other than peek, ready, held and done. Returns
 * how many (0 when nothing is ready now: *p is then NULL). The ready bytes
 * may take more than one peek (the tag is a piece of its own). */
size_t lr_inject_peek(const struct lr_inject *lr, const char **p);

/* n of the bytes the last peek gave are sent (n <= what it returned). */
void lr_inject_consume(struct lr_inject *lr, size_t n);

/* Copy up to cap ready bytes into buf and consume them; returns how many
 * (0: nothing ready now, or cap is 0). */
size_t lr_inject_read(struct lr_inject *lr, void *buf, size_t cap);

/* How many output bytes are ready to send in all (peek gives them in up
 * to three pieces). */
size_t lr_inject_ready(const struct lr_inject *lr);

/* How many input bytes are held back waiting for the end of the body (0
 * once finished). */
size_t lr_inject_held(const struct lr_inject *lr);

/* True once finished and all the output has been consumed. */
bool lr_inject_done(const struct lr_inject *lr);

/* Whether a response with these header values gets the tag:
 * content_type's media type is text/html (any case, any parameters) and
 * content_encoding is absent (NULL), empty or "identity". Surrounding
 * spaces and tabs are ignored. The method and status (HEAD, 204, 304) are
 * the caller's to judge. */
bool lr_inject_wanted(const char *content_type, const char *content_encoding);

#endif
