/* hooks.c - the hooks: loading the array, each event of the cycle told
 * to each hook, and the build output's tail. */
#include "config.h"

#include "hooks.h"
#include "app.h"
#include "plugins.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int hooks_load(struct hooks *h, struct app *app)
{
	memset(h, 0, sizeof *h);
	json_t *arr = app->cfg->hooks;
	size_t n = json_array_size(arr);
	if (!n)
		return 0;
	h->v = calloc(n, sizeof *h->v);
	h->paths = calloc(n, sizeof *h->paths);
	if (!h->v || !h->paths) {
		log_error("out of memory");
		return -ENOMEM;
	}
	for (size_t i = 0; i < n; i++) {
		char path[32];
		snprintf(path, sizeof path, "/hooks/%zu", i);
		if (!(h->paths[i] = strdup(path))) {
			log_error("out of memory");
			return -ENOMEM;
		}
		h->n = i + 1; /* what hooks_fini() has to undo */
		int r = plugins_create(app, &h->v[i], GUST_KIND_HOOK, json_array_get(arr, i),
		                       h->paths[i]);
		if (r < 0)
			return r;
	}
	return 0;
}

void hooks_emit(struct hooks *h, enum gust_event type, int status, uint64_t ms, char *const *paths,
                const char *output, const char *detail)
{
	static const char *const none[] = { NULL };
	if (!h->n)
		return;
	struct gust_event_info ev = {
		.size = sizeof ev,
		.type = type,
		.status = status,
		.duration_ms = ms,
		.paths = paths ? (const char *const *)paths : none,
		.output = output ? output : "",
		.detail = detail ? detail : "",
	};
	for (size_t i = 0; i < h->n; i++) {
		const struct gust_hook_ops *ops = h->v[i].plugin.desc->ops;
		if (h->v[i].self)
			ops->event(h->v[i].self, &ev);
	}
}

void hooks_tail_reset(struct hooks *h)
{
	h->tail_len = 0;
	h->tail[0] = '\0';
}

/* Drop whole lines from the front until len more bytes fit and at most
 * HOOKS_TAIL_LINES - 1 lines are left. */
static void make_room(struct hooks *h, size_t len)
{
	size_t lines = 0;
	for (size_t i = 0; i < h->tail_len; i++)
		lines += h->tail[i] == '\n';
	size_t cut = 0;
	while (cut < h->tail_len &&
	       (lines >= HOOKS_TAIL_LINES || h->tail_len - cut + len >= sizeof h->tail)) {
		char *nl = memchr(h->tail + cut, '\n', h->tail_len - cut);
		cut = nl ? (size_t)(nl - h->tail) + 1 : h->tail_len;
		lines--;
	}
	memmove(h->tail, h->tail + cut, h->tail_len - cut);
	h->tail_len -= cut;
	h->tail[h->tail_len] = '\0';
}

void hooks_tail_add(struct hooks *h, const char *line, size_t len)
{
	if (!h->n)
		return;
	if (len > sizeof h->tail / 4)
		len = sizeof h->tail / 4; /* one long line does not push out the rest */
	make_room(h, len + 1);
	memcpy(h->tail + h->tail_len, line, len);
	h->tail_len += len;
	h->tail[h->tail_len++] = '\n';
	h->tail[h->tail_len] = '\0';
}

void hooks_fini(struct hooks *h)
{
	for (size_t i = 0; i < h->n; i++)
		plugins_destroy(&h->v[i]);
	for (size_t i = 0; h->paths && i < h->n; i++)
		free(h->paths[i]);
	free(h->paths);
	free(h->v);
	memset(h, 0, sizeof *h);
}
