/* curlfn.c - libcurl through dlopen() (see curlfn.h). */
#include "config.h"

#include "curlfn.h"

#include <dlfcn.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

const struct curlfn *curlfn;

static struct curlfn table;

/* Each slot of the table and the symbol that fills it. */
#define SLOT(field, sym)                                                                           \
	{                                                                                          \
		offsetof(struct curlfn, field), #sym                                               \
	}
static const struct {
	size_t off;
	const char *sym;
} slots[] = {
	SLOT(multi_init, curl_multi_init),
	SLOT(multi_setopt, curl_multi_setopt),
	SLOT(multi_add_handle, curl_multi_add_handle),
	SLOT(multi_remove_handle, curl_multi_remove_handle),
	SLOT(multi_socket_action, curl_multi_socket_action),
	SLOT(multi_info_read, curl_multi_info_read),
	SLOT(multi_assign, curl_multi_assign),
	SLOT(multi_cleanup, curl_multi_cleanup),
	SLOT(easy_init, curl_easy_init),
	SLOT(easy_setopt, curl_easy_setopt),
	SLOT(easy_getinfo, curl_easy_getinfo),
	SLOT(easy_cleanup, curl_easy_cleanup),
	SLOT(slist_append, curl_slist_append),
	SLOT(slist_free_all, curl_slist_free_all),
};

int curlfn_load(const char *soname, char *err, size_t errlen)
{
	if (curlfn)
		return 0;
	if (!soname)
		soname = CURLFN_SONAME;
	void *h = dlopen(soname, RTLD_NOW | RTLD_LOCAL);
	if (!h) {
		snprintf(err, errlen, "needs libcurl (%s), which cannot be loaded: %s", soname,
		         dlerror());
		return -1;
	}
	struct curlfn t;
	for (size_t i = 0; i < sizeof slots / sizeof *slots; i++) {
		void *f = dlsym(h, slots[i].sym);
		if (!f) {
			snprintf(err, errlen, "needs libcurl (%s), which lacks %s", soname,
			         slots[i].sym);
			dlclose(h);
			return -1;
		}
		/* POSIX: a function's address from dlsym() converts to a
		 * function pointer; the slot is one (all slots alike) */
		memcpy((char *)&t + slots[i].off, &f, sizeof f);
	}
	table = t;
	curlfn = &table;
	return 0;
}
