/* control.h - the server side of gust ctl: a unix socket in the project's
 * tmp_dir (ctlproto.h has the protocol), served from gust's loop. One
 * request per connection, one reply; only gust's own user is answered. */
#ifndef GUST_CONTROL_H
#define GUST_CONTROL_H

struct app;
struct control;
struct loop;

/* Listen on <tmp_dir>/gust.sock, mode 0600, replacing a socket left there
 * (the caller holds the project lock: any socket there is stale). NULL,
 * with a warning printed, when it cannot: gust runs on without it. */
struct control *control_open(struct app *app, struct loop *loop, const char *tmp_dir);
/* Close every connection and remove the socket (if it is still ours).
 * NULL is fine. */
void control_close(struct control *ctl);

#endif
