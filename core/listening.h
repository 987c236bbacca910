/* listening.h - which listening sockets a set of processes holds, read
 * from the kernel (/proc/PID/fd and /proc/PID/net/{tcp,tcp6,udp,udp6,unix})
 * rather than guessed from a port: readiness's default ("the run is up
 * when any process of its tree listens"). Linux only; elsewhere it finds
 * nothing and says so with -ENOSYS. */
#ifndef GUST_LISTENING_H
#define GUST_LISTENING_H

#include <stddef.h>
#include <sys/types.h>

struct listening {
	pid_t pid;      /* the process holding it */
	char kind[8];   /* "tcp", "tcp6", "udp", "udp6", "unix" */
	char addr[112]; /* "127.0.0.1:8080", "[::1]:8080", or the unix path
	                   ("@name" for an abstract one, "" when unnamed) */
};

/* Look through the fds of pids[0..n) for a socket that listens (TCP in
 * LISTEN, a bound UDP socket, a unix socket in listen()); TCP first, then
 * unix, then UDP. A socket that one of skip[0..nskip) holds does not
 * count, whoever else holds it too: a child shares its parent's sockets
 * from fork until it closes them or execs. 1 with *out filled for the
 * first one found, 0 when none, -ENOMEM. A pid that is gone or whose fds
 * are not readable is skipped (in skip too: it excludes nothing). */
int listening_find(const pid_t *pids, size_t n, const pid_t *skip, size_t nskip,
                   struct listening *out);

#endif
