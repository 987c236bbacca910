/* term.c - keys typed at gust's terminal (see term.h).
 *
 * The modes gust found are kept in one static: the crash handlers, which
 * may run at any point, restore them with tcsetattr() (async-signal-safe)
 * and re-raise the signal with its default action. ISIG stays on, so
 * Ctrl-C and Ctrl-Z keep working; Ctrl-Z gives the terminal back before
 * gust stops and takes it again on SIGCONT. What no handler can cover is
 * SIGKILL: the terminal then stays without echo and without line editing
 * until `stty sane` or `reset` (gust(1), BUGS). */
#include "config.h"

#include "loop.h"
#include "term.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

static const int crash_signals[] = { SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT };
#define NCRASH (sizeof crash_signals / sizeof *crash_signals)

static struct termios saved, keys_mode;
static volatile sig_atomic_t taken; /* the terminal is in keys_mode */
static bool started;
static struct loop *term_loop;
static void (*key_cb)(int key, void *arg);
static void *key_arg;
static struct sigaction old_crash[NCRASH], old_tstp, old_cont;

static void restore_modes(void)
{
	if (taken) {
		(void)tcsetattr(STDIN_FILENO, TCSANOW, &saved);
		taken = 0;
	}
}

static void on_crash(int sig)
{
	restore_modes();
	signal(sig, SIG_DFL); /* SA_RESETHAND did this too: be explicit */
	raise(sig);
}

/* Ctrl-Z: the shell gets the terminal as it was; back in keys mode on
 * SIGCONT, if gust is then in the foreground. */
static void on_tstp(int sig)
{
	int saved_errno = errno;
	restore_modes();
	signal(sig, SIG_DFL);
	raise(sig); /* stops here until SIGCONT */
	errno = saved_errno;
}

static void on_cont(int sig)
{
	int saved_errno = errno;
	(void)sig;
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_tstp;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTSTP, &sa, NULL);
	if (!taken && tcgetpgrp(STDIN_FILENO) == getpgrp() &&
	    tcsetattr(STDIN_FILENO, TCSANOW, &keys_mode) == 0)
		taken = 1;
	errno = saved_errno;
}

static void on_input(int fd, unsigned events, void *arg)
{
	(void)arg;
	(void)events;
	unsigned char buf[64];
	ssize_t n = read(fd, buf, sizeof buf);
	if (n == 0 || (n < 0 && errno != EINTR && errno != EAGAIN)) {
		/* the terminal hung up: no more keys */
		loop_io_del(term_loop, fd);
		return;
	}
	for (ssize_t i = 0; i < n; i++)
		key_cb(buf[i], key_arg);
}

static void install(int sig, void (*fn)(int), int flags, struct sigaction *old)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = fn;
	sa.sa_flags = flags;
	sigemptyset(&sa.sa_mask);
	sigaction(sig, &sa, old);
}

bool term_keys_start(struct loop *loop, void (*on_key)(int key, void *arg), void *arg)
{
	if (started || !isatty(STDIN_FILENO) || tcgetpgrp(STDIN_FILENO) != getpgrp() ||
	    tcgetattr(STDIN_FILENO, &saved) < 0)
		return false;
	keys_mode = saved;
	keys_mode.c_lflag &= ~(tcflag_t)(ICANON | ECHO);
	keys_mode.c_cc[VMIN] = 1;
	keys_mode.c_cc[VTIME] = 0;
	term_loop = loop;
	key_cb = on_key;
	key_arg = arg;
	if (loop_io_add(loop, STDIN_FILENO, GUST_IO_READ, on_input, NULL) < 0)
		return false;
	for (size_t i = 0; i < NCRASH; i++)
		install(crash_signals[i], on_crash, SA_RESETHAND | SA_NODEFER, &old_crash[i]);
	install(SIGTSTP, on_tstp, 0, &old_tstp);
	install(SIGCONT, on_cont, SA_RESTART, &old_cont);
	if (tcsetattr(STDIN_FILENO, TCSANOW, &keys_mode) < 0) {
		term_keys_stop();
		return false;
	}
	taken = 1;
	if (!started)
		atexit(term_keys_stop); /* exit() from anywhere */
	started = true;
	return true;
}

void term_keys_stop(void)
{
	if (!term_loop)
		return;
	restore_modes();
	loop_io_del(term_loop, STDIN_FILENO);
	for (size_t i = 0; i < NCRASH; i++)
		sigaction(crash_signals[i], &old_crash[i], NULL);
	sigaction(SIGTSTP, &old_tstp, NULL);
	sigaction(SIGCONT, &old_cont, NULL);
	term_loop = NULL;
}

void term_clear_screen(void)
{
	if (isatty(STDOUT_FILENO))
		(void)!write(STDOUT_FILENO, "\033[2J\033[H", 7);
}
