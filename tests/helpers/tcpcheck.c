/* tcpcheck - tiny probes of 127.0.0.1 for the black-box tests.
 *   tcpcheck bind PORT     exit 0 if a server could bind PORT now
 *                          (SO_REUSEADDR, like any restarting server)
 *   tcpcheck connect PORT  exit 0 if something accepts on PORT */
#include "config.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	if (argc != 3 || (strcmp(argv[1], "bind") && strcmp(argv[1], "connect"))) {
		fprintf(stderr, "usage: tcpcheck bind|connect PORT\n");
		return 2;
	}
	struct sockaddr_in a;
	memset(&a, 0, sizeof a);
	a.sin_family = AF_INET;
	a.sin_port = htons((unsigned short)atoi(argv[2]));
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (s < 0)
		return 2;
	int r;
	if (!strcmp(argv[1], "bind")) {
		int one = 1;
		setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
		r = bind(s, (struct sockaddr *)&a, sizeof a) == 0 && listen(s, 1) == 0;
	} else {
		r = connect(s, (struct sockaddr *)&a, sizeof a) == 0;
	}
	close(s);
	return r ? 0 : 1;
}
