/* runout.c - a run's output, written through and handed over line by
 * line. */
#include "config.h"

#include "runout.h"
#include "outpipe.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

bool runout_wanted(const struct gust_host *host, struct gust_ctx *ctx)
{
	return GUST_HAS(host, output_wanted) && GUST_HAS(host, output_line) &&
	       host->output_wanted(ctx);
}

static void hand_over(struct runout_stream *st)
{
	size_t n = st->len;
	if (n && st->line[n - 1] == '\r')
		n--;
	st->ro->host->output_line(st->ro->ctx, st->line, n);
	st->len = 0;
}

static void take(void *arg, const char *buf, size_t n)
{
	struct runout_stream *st = arg;
	outpipe_write_all(st->out_fd, buf, n);
	for (size_t i = 0; i < n; i++) {
		if (buf[i] == '\n') {
			hand_over(st);
			continue;
		}
		if (st->len == sizeof st->line)
			hand_over(st); /* a very long line goes in pieces */
		st->line[st->len++] = buf[i];
	}
}

static void close_stream(struct runout_stream *st)
{
	if (st->rd < 0)
		return;
	st->ro->host->io_del(st->ro->ctx, st->rd);
	close(st->rd);
	st->rd = -1;
	if (st->len)
		hand_over(st);
}

/* bounded: one chunk (outpipe_read); else everything there is (the run
 * is over). End of file closes the stream. */
static void drain(struct runout_stream *st, bool bounded)
{
	if (outpipe_read(&st->rd, bounded, take, st))
		close_stream(st);
}

static void on_io(int fd, unsigned events, void *arg)
{
	(void)fd;
	(void)events;
	drain(arg, true);
}

int runout_open(struct runout *ro, const struct gust_host *host, struct gust_ctx *ctx, int *out_wr,
                int *err_wr)
{
	memset(ro, 0, sizeof *ro);
	ro->host = host;
	ro->ctx = ctx;
	ro->s[0].rd = ro->s[1].rd = -1;
	bool pty = isatty(STDOUT_FILENO);
	int r = outpipe_open(pty, STDOUT_FILENO, &ro->s[0].rd, out_wr);
	if (r < 0)
		return r;
	*err_wr = *out_wr;
	/* a pty is one stream; pipes keep stdout and stderr apart */
	if (!pty && (r = outpipe_open(false, -1, &ro->s[1].rd, err_wr)) < 0) {
		close(ro->s[0].rd);
		close(*out_wr);
		ro->s[0].rd = -1;
		return r;
	}
	ro->s[0].out_fd = STDOUT_FILENO;
	ro->s[1].out_fd = STDERR_FILENO;
	for (int i = 0; i < 2; i++) {
		ro->s[i].ro = ro;
		if (ro->s[i].rd >= 0 &&
		    (r = host->io_add(ctx, ro->s[i].rd, GUST_IO_READ, on_io, &ro->s[i])) < 0) {
			runout_close(ro);
			close(*out_wr);
			if (*err_wr != *out_wr)
				close(*err_wr);
			return r;
		}
	}
	return 0;
}

void runout_close(struct runout *ro)
{
	for (int i = 0; ro->host && i < 2; i++) {
		drain(&ro->s[i], false);
		close_stream(&ro->s[i]);
	}
}
