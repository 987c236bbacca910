/* events.c - the reload event stream, /__gust/events: Server-Sent Events
 * to every open page (through one SharedWorker per browser where it can).
 * A stream is a response of unknown length (chunked) whose reader hands
 * over what was queued for it and suspends the connection when nothing is:
 * an idle stream costs no wake-up. Every stream begins with "hello" (the
 * proxy's id and the last build's state), so a page that connects while a
 * build is failed shows the overlay, and a page that reconnects to another
 * gust reloads.
 */
#include "config.h"

#include "lr.h"

#include <jansson.h>
#include <stdio.h>
#include <string.h>

/* One event in the stream's wire form. */
static int queue_event(struct lr_req *r, const char *name, const char *json)
{
	char head[64];
	int n = snprintf(head, sizeof head, "event: %s\ndata: ", name);
	if (lr_buf_put(&r->out, head, (size_t)n) < 0 ||
	    lr_buf_put(&r->out, json, strlen(json)) < 0 || lr_buf_put(&r->out, "\n\n", 2) < 0)
		return -1;
	return 0;
}

static ssize_t reader(void *cls, uint64_t pos, char *buf, size_t max)
{
	(void)pos;
	struct lr_req *r = cls;
	if (r->s->stopping)
		return MHD_CONTENT_READER_END_OF_STREAM;
	if (r->hung_up)
		return MHD_CONTENT_READER_END_WITH_ERROR;
	if (!r->out.len) {
		lr_req_suspend(r, true);
		return 0;
	}
	size_t n = r->out.len < max ? r->out.len : max;
	memcpy(buf, lr_buf_data(&r->out), n);
	lr_buf_take(&r->out, n);
	return (ssize_t)n;
}

static char *hello_json(const struct lr_server *s)
{
	json_t *o = json_pack("{s:s, s:s, s:s}", "id", s->id, "state", s->failed ? "failed" : "ok",
	                      "output", s->failed && s->output ? s->output : "");
	char *text = o ? json_dumps(o, JSON_COMPACT) : NULL;
	json_decref(o);
	return text;
}

enum MHD_Result lr_events(struct lr_req *r)
{
	char *hello = hello_json(r->s);
	if (!hello || queue_event(r, "hello", hello) < 0) {
		free(hello);
		return MHD_NO;
	}
	free(hello);
	return lr_req_queue(
	    r, MHD_HTTP_OK, "text/event-stream",
	    MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 4096, reader, r, NULL));
}

void lr_events_send(struct lr_server *s, const char *name, const char *json)
{
	for (struct lr_req *r = s->reqs; r; r = r->next)
		if (r->kind == LR_EVENTS && r->queued && !r->gone &&
		    queue_event(r, name, json) == 0)
			lr_req_resume(r);
}

void lr_events_end(struct lr_req *r)
{
	lr_buf_free(&r->out);
}
