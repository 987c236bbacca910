/* shape - the user's program in the lifecycle tests, in the process shapes
 * that try to escape a group kill.
 *
 *   shape [STAGE...] END
 *
 * Stages run left to right, each in the process the previous one leaves:
 *   grandchild       fork; the child goes on, the parent waits for it
 *   setsid           fork; the child calls setsid() and goes on; parent waits
 *   daemon           double fork + setsid; the original parent exits 0
 *   thread-fork      a second thread forks; the child calls setsid() and goes
 *                    on; the (multithreaded) parent waits
 *   setpgid          setpgid(0, 0), then go on in this process
 *   daemon-wait      as daemon, but the original parent exits only once
 *                    the daemon listens (serve) or ends (pg_ctl start -w,
 *                    systemd Type=forking)
 *   clearenv         re-exec itself with an empty environment (as env -i
 *                    does; the pid file is still noted), then go on in
 *                    this process
 *   title TEXT       what nginx, PostgreSQL and node's process.title do:
 *                    move the environment to the heap and overwrite the
 *                    original argv and environ memory with TEXT, so that
 *                    /proc/PID/environ shows no variable at all
 *   ignore-term      ignore SIGTERM
 *   await FILE       wait (at most 60 s) until FILE exists, then go on
 *   slow-term MS FILE  on SIGTERM keep everything (the port too) for MS ms,
 *                    then write FILE and exit 0
 * Ends:
 *   serve PORT TEXT  listen on 127.0.0.1:PORT, answer each connection with
 *                    "TEXT\n"
 *   serve-passed TEXT  serve on fd 3 as passed by socket activation
 *                    (LISTEN_PID must be this pid, LISTEN_FDS 1), answer
 *                    "TEXT pid=PID fds=OPEN,FDS names=LISTEN_FDNAMES\n"
 *   pause            sleep until killed
 *   exit CODE        exit at once with CODE
 *
 * If $SHAPE_PIDS names a file (or argv[1] is --pids=FILE, which survives
 * env -i), every process shape creates appends "PID START" to it (START:
 * its start time from /proc/PID/stat), so tests can check that each one
 * is gone, and end only those that are still the same process. */
#include "config.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t got_term;
static long slow_ms = -1;
static const char *slow_file;
static char pids_file[4096];    /* $SHAPE_PIDS, kept across clearenv */
static int ready_fd = -1;       /* daemon-wait: written once serve listens */
static char *area_lo, *area_hi; /* main()'s argv and environ strings */

static void on_term(int sig)
{
	(void)sig;
	got_term = 1;
}

static void note_pid(void)
{
	const char *f = getenv("SHAPE_PIDS");
	if (!f || !*f)
		f = pids_file;
	if (!*f)
		return;
	int fd = open(f, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0)
		return;
	char st[1024], buf[64];
	unsigned long long start = 0;
	FILE *sf = fopen("/proc/self/stat", "re");
	if (sf) {
		size_t n = fread(st, 1, sizeof st - 1, sf);
		st[n] = '\0';
		fclose(sf);
		char *p = strrchr(st, ')');
		if (p)
			sscanf(
			    p + 2,
			    "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %*u %*u %*d %*d %*d %*d "
			    "%*d %*d %llu",
			    &start);
	}
	int n = snprintf(buf, sizeof buf, "%ld %llu\n", (long)getpid(), start);
	(void)!write(fd, buf, (size_t)n);
	close(fd);
}

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/* Called often: finish a slow SIGTERM once one has arrived. */
static void check_term(void)
{
	if (!got_term)
		return;
	sleep_ms(slow_ms);
	if (slow_file) {
		FILE *f = fopen(slow_file, "w");
		if (f) {
			fprintf(f, "%ld done\n", (long)getpid());
			fclose(f);
		}
	}
	_exit(0);
}

static int wait_child(pid_t pid)
{
	int st;
	for (;;) {
		check_term();
		pid_t r = waitpid(pid, &st, WNOHANG);
		if (r == pid)
			break;
		if (r < 0 && errno != EINTR)
			return 1;
		sleep_ms(20);
	}
	if (WIFEXITED(st))
		return WEXITSTATUS(st);
	return 128 + WTERMSIG(st);
}

_Noreturn static void serve_on(int s, const char *text);

static int serve(int port, const char *text)
{
	int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	int one = 1;
	setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	struct sockaddr_in a;
	memset(&a, 0, sizeof a);
	a.sin_family = AF_INET;
	a.sin_port = htons((unsigned short)port);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (s < 0 || bind(s, (struct sockaddr *)&a, sizeof a) < 0 || listen(s, 64) < 0) {
		fprintf(stderr, "shape: serve %d: %s\n", port, strerror(errno));
		return 3;
	}
	serve_on(s, text);
}

/* The socket-activation protocol: fd 3 when LISTEN_PID is this process
 * and LISTEN_FDS is 1. The answer says what the process was given:
 * "TEXT pid=PID fds=0,1,2,3 names=NAMES". */
static int serve_passed(const char *text)
{
	/* a graceful server: SIGTERM lets the connection in hand be answered
	 * (by default it would end the process between accept and write) */
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_term;
	sigaction(SIGTERM, &sa, NULL);
	if (slow_ms < 0)
		slow_ms = 0;
	const char *lp = getenv("LISTEN_PID"), *lf = getenv("LISTEN_FDS");
	const char *names = getenv("LISTEN_FDNAMES");
	if (!lp || atol(lp) != (long)getpid() || !lf || strcmp(lf, "1")) {
		fprintf(stderr, "shape: serve-passed: LISTEN_PID=%s (pid %ld) LISTEN_FDS=%s\n",
		        lp ? lp : "-", (long)getpid(), lf ? lf : "-");
		return 3;
	}
	char fds[256] = "", *p = fds;
	DIR *d = opendir("/proc/self/fd");
	int self = d ? dirfd(d) : -1;
	int seen[64], n = 0;
	for (struct dirent *e; d && (e = readdir(d)) && n < 64;)
		if (e->d_name[0] != '.' && atoi(e->d_name) != self)
			seen[n++] = atoi(e->d_name);
	if (d)
		closedir(d);
	for (int i = 0; i < n; i++) /* readdir's order is the kernel's: sort */
		for (int j = i + 1; j < n; j++)
			if (seen[j] < seen[i]) {
				int t = seen[i];
				seen[i] = seen[j];
				seen[j] = t;
			}
	for (int i = 0; i < n && p < fds + sizeof fds - 8; i++)
		p += sprintf(p, "%s%d", i ? "," : "", seen[i]);
	static char line[512];
	snprintf(line, sizeof line, "%s pid=%ld fds=%s names=%s", text, (long)getpid(), fds,
	         names ? names : "-");
	serve_on(3, line);
}

_Noreturn static void serve_on(int s, const char *text)
{
	if (ready_fd >= 0) {
		(void)!write(ready_fd, "r", 1);
		close(ready_fd);
		ready_fd = -1;
	}
	for (;;) {
		check_term();
		struct pollfd p = { s, POLLIN, 0 };
		if (poll(&p, 1, 50) <= 0)
			continue;
		int c = accept4(s, NULL, NULL, SOCK_CLOEXEC);
		if (c < 0)
			continue;
		char line[512];
		int n = snprintf(line, sizeof line, "%s\n", text);
		(void)!write(c, line, (size_t)n);
		shutdown(c, SHUT_WR);
		/* drain the request so close() sends FIN, not RST */
		struct pollfd q = { c, POLLIN, 0 };
		while (poll(&q, 1, 200) > 0 && read(c, line, sizeof line) > 0)
			;
		close(c);
	}
}

static int run(int argc, char **argv);

/* Overwrite argv and environ in place with text, as a process title does,
 * after moving the environment to the heap; the stages still to run are
 * copied first, since they live in that memory too. */
static int set_title(int argc, char **argv)
{
	char **rest = calloc((size_t)argc, sizeof *rest);
	extern char **environ;
	size_t ne = 0;
	while (environ[ne])
		ne++;
	char **env = calloc(ne + 1, sizeof *env);
	if (!rest || !env || !area_lo)
		return 1;
	for (int i = 2; i < argc; i++)
		if (!(rest[i - 2] = strdup(argv[i])))
			return 1;
	for (size_t i = 0; i < ne; i++)
		if (!(env[i] = strdup(environ[i])))
			return 1;
	environ = env;
	memset(area_lo, 0, (size_t)(area_hi - area_lo));
	snprintf(area_lo, (size_t)(area_hi - area_lo), "%s", argv[1]);
	return run(argc - 2, rest);
}

struct thread_arg {
	int argc;
	char **argv;
	pid_t child;
};

static void *thread_main(void *p)
{
	struct thread_arg *ta = p;
	pid_t pid = fork();
	if (pid == 0) {
		setsid();
		note_pid();
		_exit(run(ta->argc, ta->argv));
	}
	ta->child = pid;
	return NULL;
}

static int run(int argc, char **argv)
{
	if (argc < 1) {
		fprintf(stderr, "shape: nothing to do\n");
		return 2;
	}
	const char *s = argv[0];
	if (!strcmp(s, "serve") && argc >= 3)
		return serve(atoi(argv[1]), argv[2]);
	if (!strcmp(s, "serve-passed") && argc >= 2)
		return serve_passed(argv[1]);
	if (!strcmp(s, "pause")) {
		for (;;) {
			check_term();
			sleep_ms(20);
		}
	}
	if (!strcmp(s, "exit") && argc >= 2)
		return atoi(argv[1]);
	if (!strcmp(s, "clearenv")) {
		/* clearenv() alone leaves /proc/PID/environ as it was: exec */
		const char *f = getenv("SHAPE_PIDS");
		char opt[4200];
		snprintf(opt, sizeof opt, "--pids-noted=%s", f ? f : pids_file);
		char **nv = calloc((size_t)argc + 2, sizeof *nv);
		if (!nv)
			return 1;
		nv[0] = (char *)"shape";
		nv[1] = opt;
		for (int i = 1; i < argc; i++)
			nv[i + 1] = argv[i];
		char *none[] = { NULL };
		execve("/proc/self/exe", nv, none);
		fprintf(stderr, "shape: clearenv: %s\n", strerror(errno));
		return 1;
	}
	if (!strcmp(s, "setpgid")) {
		setpgid(0, 0);
		return run(argc - 1, argv + 1);
	}
	if (!strcmp(s, "await") && argc >= 2) {
		for (int i = 0; i < 3000 && access(argv[1], F_OK) != 0; i++) {
			check_term();
			sleep_ms(20);
		}
		return run(argc - 2, argv + 2);
	}
	if (!strcmp(s, "ignore-term")) {
		signal(SIGTERM, SIG_IGN);
		return run(argc - 1, argv + 1);
	}
	if (!strcmp(s, "slow-term") && argc >= 3) {
		slow_ms = atol(argv[1]);
		slow_file = argv[2];
		struct sigaction sa;
		memset(&sa, 0, sizeof sa);
		sa.sa_handler = on_term;
		sigaction(SIGTERM, &sa, NULL);
		return run(argc - 3, argv + 3);
	}
	if (!strcmp(s, "grandchild") || !strcmp(s, "setsid")) {
		pid_t pid = fork();
		if (pid == 0) {
			if (s[0] == 's')
				setsid();
			note_pid();
			_exit(run(argc - 1, argv + 1));
		}
		return pid < 0 ? 1 : wait_child(pid);
	}
	if (!strcmp(s, "daemon")) {
		pid_t pid = fork();
		if (pid == 0) {
			setsid();
			note_pid();
			pid_t gc = fork();
			if (gc == 0) {
				note_pid();
				_exit(run(argc - 1, argv + 1));
			}
			_exit(gc < 0);
		}
		return pid < 0 ? 1 : wait_child(pid);
	}
	if (!strcmp(s, "daemon-wait")) {
		int p[2];
		if (pipe(p) < 0)
			return 1;
		pid_t pid = fork();
		if (pid == 0) {
			close(p[0]);
			setsid();
			note_pid();
			pid_t gc = fork();
			if (gc == 0) {
				note_pid();
				ready_fd = p[1];
				_exit(run(argc - 1, argv + 1));
			}
			_exit(gc < 0);
		}
		close(p[1]);
		if (pid < 0)
			return 1;
		char c;
		struct pollfd q = { p[0], POLLIN, 0 };
		if (poll(&q, 1, 60000) > 0)
			(void)!read(p[0], &c, 1);
		return wait_child(pid);
	}
	if (!strcmp(s, "title") && argc >= 2)
		return set_title(argc, argv);
	if (!strcmp(s, "thread-fork")) {
		struct thread_arg ta = { argc - 1, argv + 1, -1 };
		pthread_t th;
		if (pthread_create(&th, NULL, thread_main, &ta) != 0)
			return 1;
		pthread_join(th, NULL);
		return ta.child < 0 ? 1 : wait_child(ta.child);
	}
	fprintf(stderr, "shape: unknown stage \"%s\"\n", s);
	return 2;
}

int main(int argc, char **argv)
{
	/* the strings of argv and environ, contiguous from argv[0] on */
	extern char **environ;
	area_lo = argv[0];
	area_hi = argv[argc - 1] + strlen(argv[argc - 1]) + 1;
	for (char **e = environ; *e; e++)
		if (*e == area_hi)
			area_hi = *e + strlen(*e) + 1;
	if (argc > 1 && !strncmp(argv[1], "--pids-noted=", 13)) {
		/* re-executed by clearenv: already noted */
		snprintf(pids_file, sizeof pids_file, "%s", argv[1] + 13);
		return run(argc - 2, argv + 2);
	}
	if (argc > 1 && !strncmp(argv[1], "--pids=", 7)) {
		snprintf(pids_file, sizeof pids_file, "%s", argv[1] + 7);
		argc--;
		argv++;
	}
	note_pid();
	return run(argc - 1, argv + 1);
}
