/* signames.c - signal names and numbers (see signames.h). */
#include "config.h"

#include "signames.h"

#include <ctype.h>
#include <signal.h>
#include <stddef.h>
#include <stdlib.h>
#include <strings.h>

struct signame {
	const char *name;
	int sig;
};

static const struct signame signames[] = {
	{ "SIGHUP", SIGHUP },
	{ "SIGINT", SIGINT },
	{ "SIGQUIT", SIGQUIT },
	{ "SIGILL", SIGILL },
	{ "SIGTRAP", SIGTRAP },
	{ "SIGABRT", SIGABRT },
	{ "SIGBUS", SIGBUS },
	{ "SIGFPE", SIGFPE },
	{ "SIGKILL", SIGKILL },
	{ "SIGUSR1", SIGUSR1 },
	{ "SIGSEGV", SIGSEGV },
	{ "SIGUSR2", SIGUSR2 },
	{ "SIGPIPE", SIGPIPE },
	{ "SIGALRM", SIGALRM },
	{ "SIGTERM", SIGTERM },
#ifdef SIGSTKFLT
	{ "SIGSTKFLT", SIGSTKFLT },
#endif
	{ "SIGCHLD", SIGCHLD },
	{ "SIGCONT", SIGCONT },
	{ "SIGSTOP", SIGSTOP },
	{ "SIGTSTP", SIGTSTP },
	{ "SIGTTIN", SIGTTIN },
	{ "SIGTTOU", SIGTTOU },
	{ "SIGURG", SIGURG },
	{ "SIGXCPU", SIGXCPU },
	{ "SIGXFSZ", SIGXFSZ },
	{ "SIGVTALRM", SIGVTALRM },
	{ "SIGPROF", SIGPROF },
	{ "SIGWINCH", SIGWINCH },
#ifdef SIGIO
	{ "SIGIO", SIGIO },
#endif
#ifdef SIGPOLL
	{ "SIGPOLL", SIGPOLL },
#endif
#ifdef SIGPWR
	{ "SIGPWR", SIGPWR },
#endif
#ifdef SIGSYS
	{ "SIGSYS", SIGSYS },
#endif
#ifdef SIGEMT
	{ "SIGEMT", SIGEMT },
#endif
#ifdef SIGINFO
	{ "SIGINFO", SIGINFO },
#endif
#ifdef SIGIOT
	{ "SIGIOT", SIGIOT },
#endif
	{ NULL, 0 },
};

/* "RTMIN", "RTMIN+3", "RTMAX", "RTMAX-1" (SIG already stripped). */
static int rt_signal(const char *name)
{
	int base, sign;
	if (strncasecmp(name, "RTMIN", 5) == 0)
		base = SIGRTMIN, sign = 1;
	else if (strncasecmp(name, "RTMAX", 5) == 0)
		base = SIGRTMAX, sign = -1;
	else
		return -1;
	name += 5;
	if (!*name)
		return base;
	if (*name != (sign > 0 ? '+' : '-') || !isdigit((unsigned char)name[1]))
		return -1;
	char *end;
	long off = strtol(name + 1, &end, 10);
	if (*end || off > SIGRTMAX - SIGRTMIN)
		return -1;
	return base + sign * (int)off;
}

int config_signal_from_name(const char *name)
{
	if (!name || !*name)
		return -1;
	if (isdigit((unsigned char)name[0])) {
		char *end;
		long v = strtol(name, &end, 10);
		return *end || v <= 0 || v >= NSIG ? -1 : (int)v;
	}
	if (strncasecmp(name, "SIG", 3) == 0)
		name += 3;
	for (size_t i = 0; signames[i].name; i++)
		if (strcasecmp(name, signames[i].name + 3) == 0)
			return signames[i].sig;
	return rt_signal(name);
}

/* The first name listed for sig (aliases such as SIGIOT come later);
 * real-time signals as SIGRTMIN+n (SIGRTMAX for the last). */
const char *config_signal_name(int sig)
{
	static const char *const rt[] = {
		"SIGRTMIN",    "SIGRTMIN+1",  "SIGRTMIN+2",  "SIGRTMIN+3",  "SIGRTMIN+4",
		"SIGRTMIN+5",  "SIGRTMIN+6",  "SIGRTMIN+7",  "SIGRTMIN+8",  "SIGRTMIN+9",
		"SIGRTMIN+10", "SIGRTMIN+11", "SIGRTMIN+12", "SIGRTMIN+13", "SIGRTMIN+14",
		"SIGRTMIN+15", "SIGRTMIN+16", "SIGRTMIN+17", "SIGRTMIN+18", "SIGRTMIN+19",
		"SIGRTMIN+20", "SIGRTMIN+21", "SIGRTMIN+22", "SIGRTMIN+23", "SIGRTMIN+24",
		"SIGRTMIN+25", "SIGRTMIN+26", "SIGRTMIN+27", "SIGRTMIN+28", "SIGRTMIN+29",
		"SIGRTMIN+30", "SIGRTMIN+31", "SIGRTMIN+32",
	};
	for (size_t i = 0; signames[i].name; i++)
		if (signames[i].sig == sig)
			return signames[i].name;
	if (sig == SIGRTMAX)
		return "SIGRTMAX";
	if (sig >= SIGRTMIN && sig < SIGRTMAX && (size_t)(sig - SIGRTMIN) < sizeof rt / sizeof *rt)
		return rt[sig - SIGRTMIN];
	return NULL;
}
