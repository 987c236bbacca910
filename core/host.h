/* host.h - the host table handed to every plugin (defined in host.c). */
#ifndef GUST_HOST_H
#define GUST_HOST_H

#include <gust/plugin.h>

extern const struct gust_host app_host;

#endif
