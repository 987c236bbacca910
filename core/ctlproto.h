/* ctlproto.h - the line protocol of the control socket (gust ctl): one
 * request line from the client, "COMMAND[ json]\n", COMMAND one of
 * rebuild, restart, status, quit; the answer "ok" or "error: WHY" on the
 * first line, then the body (status), then the server closes. */
#ifndef GUST_CTLPROTO_H
#define GUST_CTLPROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/un.h>

/* The socket, in the project's tmp_dir: <tmp_dir>/gust.sock. */
#define CTL_SOCK_NAME "gust.sock"

/* The longest request line, without its newline: longer is refused. */
#define CTL_LINE_MAX 64

enum ctl_cmd { CTL_REBUILD = 1, CTL_RESTART, CTL_STATUS, CTL_QUIT };

struct ctl_req {
	enum ctl_cmd cmd;
	bool json; /* status as JSON */
};

/* Parse one request line (len bytes, no newline; any bytes). 0, or -EINVAL
 * with a one-line reason in err (the line's bytes escaped). */
int ctl_parse(const char *line, size_t len, struct ctl_req *req, char *err, size_t errlen);

/* The socket's address for tmp_dir (its path also in sa->sun_path). 0, or
 * -ENAMETOOLONG when the path does not fit sun_path, with a one-line reason
 * naming it in err. */
int ctl_sockaddr(const char *tmp_dir, struct sockaddr_un *sa, char *err, size_t errlen);

#endif
