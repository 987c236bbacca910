/* ctl_client.c - gust ctl: send one request to the gust running in this
 * project (its socket is <tmp_dir>/gust.sock, tmp_dir read from the config
 * as gust reads it) and print the reply. Exit 0 when it was done, 1 when
 * gust refused it, 2 when no gust runs there (or on a usage error). */
#include "config.h"

#include "conf.h"
#include "ctlproto.h"
#include "ctl_client.h"
#include "log.h"

#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define EXIT_REFUSED 1
#define EXIT_NO_GUST 2
/* How long gust has to answer (it answers from its loop, at once); a quit
 * is answered at once too, but its connection ends only when gust does. */
#define REPLY_MS 10000
#define REPLY_MAX 65536

static void ctl_usage(FILE *out)
{
	fputs("Usage: gust ctl [-c FILE] [--set KEY=VALUE] COMMAND [--json]\n"
	      "Ask the gust running in this project (the one of gust.json, or of FILE)\n"
	      "to act, through its control socket <tmp_dir>/gust.sock.\n"
	      "\n"
	      "Commands:\n"
	      "  rebuild   build, then restart the program\n"
	      "  restart   restart the program without building\n"
	      "  status    the state, since when, the program's pid, ready or not, the last\n"
	      "            build's result and duration (--json: as one JSON object)\n"
	      "  quit      stop the program and gust, as Ctrl-C; returns once gust is gone\n"
	      "\n"
	      "Exit status: 0 done, 1 refused by gust, 2 no gust runs in this project (or a\n"
	      "usage or config error).\n",
	      out);
}

static uint64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Read the whole reply (until gust closes) into buf; its length, or -errno
 * (-ETIMEDOUT: no first line within REPLY_MS; a quit then waits on). */
static ssize_t read_reply(int fd, char *buf, size_t cap, bool wait_for_end)
{
	size_t len = 0;
	uint64_t until = now_ms() + REPLY_MS;
	for (;;) {
		bool have_line = memchr(buf, '\n', len) != NULL;
		int timeout =
		    have_line && wait_for_end ? -1 : (int)(until > now_ms() ? until - now_ms() : 0);
		struct pollfd p = { fd, POLLIN, 0 };
		int r = poll(&p, 1, timeout);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -errno;
		if (r == 0)
			return -ETIMEDOUT;
		ssize_t n = read(fd, buf + len, cap - 1 - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0 || (len += (size_t)n) == cap - 1)
			break;
	}
	buf[len] = '\0';
	return (ssize_t)len;
}

/* Connect to the socket at sa; the fd, or an exit status with the reason
 * printed. */
static int connect_to(const struct sockaddr_un *sa, int *fd)
{
	const char *path = sa->sun_path;
	*fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (*fd < 0) {
		log_error("ctl: socket: %s", strerror(errno));
		return EXIT_REFUSED;
	}
	if (connect(*fd, (const struct sockaddr *)sa, sizeof *sa) == 0)
		return 0;
	int e = errno;
	close(*fd);
	if (e == ENOENT || e == ENOTDIR)
		log_error("ctl: no gust runs in this project (no control socket \"%s\")", path);
	else if (e == ECONNREFUSED)
		log_error("ctl: no gust runs in this project (\"%s\" is left from one that ended)",
		          path);
	else if (e == EACCES || e == EPERM)
		log_error("ctl: \"%s\": permission denied (the gust there is another user's)",
		          path);
	else
		log_error("ctl: \"%s\": %s", path, strerror(e));
	return e == EACCES || e == EPERM ? EXIT_REFUSED : EXIT_NO_GUST;
}

/* Send line to the gust whose socket is sa, print its reply. */
static int talk(const struct sockaddr_un *sa, const char *line, bool quit)
{
	int fd, status = connect_to(sa, &fd);
	if (status)
		return status;
	char *buf = malloc(REPLY_MAX);
	ssize_t n = -ENOMEM;
	if (buf && send(fd, line, strlen(line), MSG_NOSIGNAL) < 0)
		n = -errno;
	else if (buf)
		n = read_reply(fd, buf, REPLY_MAX, quit);
	close(fd);
	status = EXIT_REFUSED;
	if (n == -ETIMEDOUT)
		log_error("ctl: \"%s\": no reply within %d ms", sa->sun_path, REPLY_MS);
	else if (n < 0)
		log_error("ctl: \"%s\": %s", sa->sun_path, strerror((int)-n));
	else if (strncmp(buf, "ok\n", 3) == 0) {
		fputs(buf + 3, stdout);
		status = 0;
	} else if (strncmp(buf, "error: ", 7) == 0) {
		buf[strcspn(buf, "\n")] = '\0';
		log_error("ctl: %s", buf + 7);
	} else if (n == 0)
		log_error("ctl: \"%s\": gust closed the connection without a reply", sa->sun_path);
	else
		log_error("ctl: \"%s\": an unexpected reply", sa->sun_path);
	free(buf);
	return status;
}

int ctl_main(int argc, char **argv)
{
	enum { OPT_SET = 256, OPT_JSON };
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "set", required_argument, NULL, OPT_SET },
		{ "json", no_argument, NULL, OPT_JSON },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *file = NULL;
	const char **sets = calloc((size_t)argc + 1, sizeof *sets);
	size_t nsets = 0;
	bool json = false;
	int c, status = EXIT_NO_GUST;
	if (!sets) {
		log_error("out of memory");
		return 1;
	}
	optind = 1;
	while ((c = getopt_long(argc, argv, "c:h", opts, NULL)) != -1) {
		switch (c) {
		case 'c':
			file = optarg;
			break;
		case OPT_SET:
			sets[nsets++] = optarg;
			break;
		case OPT_JSON:
			json = true;
			break;
		case 'h':
			ctl_usage(stdout);
			free(sets);
			return 0;
		default:
			fputs("Try 'gust ctl --help'.\n", stderr);
			free(sets);
			return EXIT_NO_GUST;
		}
	}
	char line[CTL_LINE_MAX + 2], err[4096 + 256];
	struct ctl_req req;
	if (optind + 1 != argc) {
		log_error("ctl: %s (expected one of rebuild, restart, status, quit)",
		          optind < argc ? "one command at a time" : "no command given");
		free(sets);
		return EXIT_NO_GUST;
	}
	if (snprintf(line, sizeof line, "%s%s", argv[optind], json ? " json" : "") >=
	        (int)sizeof line ||
	    ctl_parse(line, strlen(line), &req, err, sizeof err) < 0) {
		if (json && strcmp(argv[optind], "status") != 0)
			log_error("ctl: --json goes only with status");
		else
			log_error(
			    "ctl: unknown command \"%s\" (expected rebuild, restart, status or "
			    "quit)",
			    argv[optind]);
		free(sets);
		return EXIT_NO_GUST;
	}
	strcat(line, "\n");

	struct config cfg;
	struct sockaddr_un sa;
	memset(&cfg, 0, sizeof cfg);
	if (config_load(&cfg, file, sets, err, sizeof err) < 0)
		log_error("%s", err);
	else if (ctl_sockaddr(cfg.tmp_dir, &sa, err, sizeof err) < 0)
		log_error("ctl: %s", err);
	else
		status = talk(&sa, line, req.cmd == CTL_QUIT);
	config_free(&cfg);
	free(sets);
	return status;
}
