/* ctlproto.c - parsing a control request line (see ctlproto.h). The line
 * is outside input: any bytes, any length up to CTL_LINE_MAX; nothing in
 * it is trusted, and it is only ever quoted back escaped. */
#include "config.h"

#include "ctlproto.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

static const struct {
	const char *name;
	enum ctl_cmd cmd;
} commands[] = {
	{ "rebuild", CTL_REBUILD },
	{ "restart", CTL_RESTART },
	{ "status", CTL_STATUS },
	{ "quit", CTL_QUIT },
};

static bool word_is(const char *s, size_t len, const char *word)
{
	return strlen(word) == len && memcmp(s, word, len) == 0;
}

/* The line as printable ASCII, other bytes as \xNN, cut to fit. */
static void escape(const char *s, size_t len, char *out, size_t outlen)
{
	size_t o = 0;
	for (size_t i = 0; i < len && o + 5 < outlen; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c >= 0x20 && c < 0x7f && c != '\\' && c != '"')
			out[o++] = (char)c;
		else
			o += (size_t)snprintf(out + o, outlen - o, "\\x%02x", c);
	}
	out[o] = '\0';
}

int ctl_parse(const char *line, size_t len, struct ctl_req *req, char *err, size_t errlen)
{
	char shown[CTL_LINE_MAX * 4 + 1];
	memset(req, 0, sizeof *req);
	if (len && line[len - 1] == '\r')
		len--; /* a client that ends lines with CRLF */
	if (len > CTL_LINE_MAX) {
		snprintf(err, errlen, "request longer than %d bytes", CTL_LINE_MAX);
		return -EINVAL;
	}
	const char *sp = memchr(line, ' ', len);
	size_t wlen = sp ? (size_t)(sp - line) : len;
	for (size_t i = 0; i < sizeof commands / sizeof *commands; i++)
		if (word_is(line, wlen, commands[i].name))
			req->cmd = commands[i].cmd;
	escape(line, len, shown, sizeof shown);
	if (!req->cmd) {
		snprintf(err, errlen,
		         "unknown request \"%s\" (expected rebuild, restart, status or quit)",
		         shown);
		return -EINVAL;
	}
	if (sp) {
		if (req->cmd != CTL_STATUS || !word_is(sp + 1, len - wlen - 1, "json")) {
			snprintf(err, errlen, "unexpected argument in \"%s\"", shown);
			return -EINVAL;
		}
		req->json = true;
	}
	return 0;
}

int ctl_sockaddr(const char *tmp_dir, struct sockaddr_un *sa, char *err, size_t errlen)
{
	memset(sa, 0, sizeof *sa);
	sa->sun_family = AF_UNIX;
	int n = snprintf(sa->sun_path, sizeof sa->sun_path, "%s/" CTL_SOCK_NAME, tmp_dir);
	if (n < 0 || (size_t)n >= sizeof sa->sun_path) {
		snprintf(err, errlen,
		         "control socket \"%s/" CTL_SOCK_NAME "\": path longer than %zu bytes "
		         "(a shorter tmp_dir fixes it)",
		         tmp_dir, sizeof sa->sun_path - 1);
		return -ENAMETOOLONG;
	}
	return 0;
}
