/* termkeys.c - what the keys typed at gust's terminal do (see
 * termkeys.h). A key takes the same path as a hook's request
 * (app_request()) or the first Ctrl-C (app_quit()). */
#include "config.h"

#include "app.h"
#include "term.h"
#include "termkeys.h"

#include <errno.h>
#include <jansson.h>
#include <string.h>

static void on_key(int key, void *arg)
{
	struct app *app = arg;
	int r = 0;
	switch (key) {
	case 'r':
		r = app_request(app, true, STAGE_GUST, "key r");
		break;
	case 'R':
		r = app_request(app, false, STAGE_GUST, "key R");
		break;
	case 'c':
		term_clear_screen();
		break;
	case 'q':
		app_quit(app, "q pressed");
		break;
	case '?':
		log_msg(GUST_LOG_INFO, STAGE_GUST,
		        "keys: r rebuild and restart, R restart without building, c clear the "
		        "screen, q quit, ? this help");
		break;
	default:
		return; /* any other key: nothing, not even a message */
	}
	if (r == -EAGAIN)
		log_msg(GUST_LOG_INFO, STAGE_GUST, "nothing to restart: no build succeeded yet");
	else if (r < 0 && r != -ESHUTDOWN)
		log_msg(GUST_LOG_ERROR, STAGE_GUST, "key %c: %s", key, strerror(-r));
}

void termkeys_start(struct app *app)
{
	const char *in = json_string_value(json_object_get(app->cfg->runner, "stdin"));
	if (in && (strcmp(in, "tty") == 0 || strcmp(in, "inherit") == 0))
		return;
	app->keys = term_keys_start(app->loop, on_key, app);
	if (app->keys)
		log_msg(GUST_LOG_INFO, STAGE_GUST,
		        "keys: r rebuild, R restart, c clear, q quit, ? help");
}

void termkeys_stop(struct app *app)
{
	if (app->keys)
		term_keys_stop();
}
