/* buf.c - the byte queue the proxy keeps per direction (see lr.h). */
#include "config.h"

#include "lr.h"

#include <stdlib.h>
#include <string.h>

int lr_buf_put(struct lr_buf *b, const void *data, size_t n)
{
	if (!n)
		return 0;
	if (b->off + b->len + n > b->cap) {
		if (b->off) { /* move what is left to the front first */
			memmove(b->p, b->p + b->off, b->len);
			b->off = 0;
		}
		if (b->len + n > b->cap) {
			size_t cap = b->cap ? b->cap : 4096;
			while (cap < b->len + n)
				cap *= 2;
			char *p = realloc(b->p, cap);
			if (!p)
				return -1;
			b->p = p;
			b->cap = cap;
		}
	}
	memcpy(b->p + b->off + b->len, data, n);
	b->len += n;
	return 0;
}

void lr_buf_take(struct lr_buf *b, size_t n)
{
	if (n >= b->len) {
		b->off = b->len = 0;
		return;
	}
	b->off += n;
	b->len -= n;
}

void lr_buf_free(struct lr_buf *b)
{
	free(b->p);
	*b = (struct lr_buf){ 0 };
}
