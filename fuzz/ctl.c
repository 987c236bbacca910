/* ctl.c - fuzz target "ctl": a control socket request line
 * (ctl_parse(), core/ctlproto.c), cut at its first newline as the server
 * does. Checked: a success names a known command, and json only with
 * status; a failure has a message. */
#include "config.h"

#include "../core/ctlproto.h"
#include "fuzz.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *nl = memchr(data, '\n', size);
	size_t len = nl ? (size_t)(nl - (const char *)data) : size;
	struct ctl_req req;
	char err[512];
	err[0] = '\0';
	if (ctl_parse((const char *)data, len, &req, err, sizeof err) < 0) {
		fuzz_check_message("ctl_parse", err);
		return 0;
	}
	if (req.cmd < CTL_REBUILD || req.cmd > CTL_QUIT || (req.json && req.cmd != CTL_STATUS) ||
	    len > CTL_LINE_MAX + 1) {
		fprintf(stderr, "fuzz: accepted a bad request (cmd %d, json %d, %zu bytes)\n",
		        (int)req.cmd, req.json, len);
		abort();
	}
	return 0;
}
