/* assets.h - the browser-side scripts the live-reload proxy serves itself,
 * compiled in: plugins/livereload/client.js (GET /__gust/livereload.js)
 * and worker.js (GET /__gust/worker.js). assets.c is generated from them
 * by embed.sh at build time (plugins/livereload/local.mk). */
#ifndef GUST_LR_ASSETS_H
#define GUST_LR_ASSETS_H

#include <stddef.h>

/* The file's bytes, NUL-terminated; _len: how many, without the NUL. */
extern const char lr_client_js[];
extern const size_t lr_client_js_len;
extern const char lr_worker_js[];
extern const size_t lr_worker_js_len;

#endif
