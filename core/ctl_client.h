/* ctl_client.h - the gust ctl subcommand (the client of control.c). */
#ifndef GUST_CTL_CLIENT_H
#define GUST_CTL_CLIENT_H

/* gust ctl ARGS: argv[0] is "ctl". Returns the exit status. */
int ctl_main(int argc, char **argv);

#endif
