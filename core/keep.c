/* keep.c - the processes a stop leaves running: a builder's daemons
 * (Gradle's, Bazel's server, sccache), named in the spawn's keep list.
 * A member is kept when its comm or its executable's last path component
 * is in the list, or when its parent is kept. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ptree-internal.h"

int keep_init(struct gust_tree *t, const struct gust_spawn *spec)
{
	if (spec->size < GUST_SIZE_THROUGH(struct gust_spawn, keep) || !spec->keep ||
	    !spec->keep[0])
		return 0;
	size_t n = 0;
	while (spec->keep[n])
		n++;
	t->keep = calloc(n + 1, sizeof *t->keep);
	for (size_t i = 0; t->keep && i < n; i++)
		if (!(t->keep[i] = strdup(spec->keep[i]))) {
			keep_free(t);
			return -ENOMEM;
		}
	return t->keep ? 0 : -ENOMEM;
}

void keep_free(struct gust_tree *t)
{
	for (size_t i = 0; t->keep && t->keep[i]; i++)
		free(t->keep[i]);
	free(t->keep);
	t->keep = NULL;
}

static bool listed(char *const *keep, const char *name)
{
	for (size_t i = 0; keep[i]; i++)
		if (!strcmp(keep[i], name))
			return true;
	return false;
}

/* Is pid's comm or executable's base name in the list? */
static bool named(char *const *keep, pid_t pid)
{
	char path[64], name[4096];
	snprintf(path, sizeof path, "/proc/%ld/comm", (long)pid);
	FILE *f = fopen(path, "re");
	bool yes = false;
	if (f) {
		if (fgets(name, sizeof name, f)) {
			name[strcspn(name, "\n")] = '\0';
			yes = listed(keep, name);
		}
		fclose(f);
	}
	snprintf(path, sizeof path, "/proc/%ld/exe", (long)pid);
	ssize_t n = yes ? -1 : readlink(path, name, sizeof name - 1);
	if (n > 0) {
		name[n] = '\0';
		/* a replaced executable reads "PATH (deleted)" */
		char *del = strstr(name, " (deleted)");
		if (del && del[10] == '\0')
			*del = '\0';
		const char *base = strrchr(name, '/') ? strrchr(name, '/') + 1 : name;
		yes = listed(keep, base);
	}
	return yes;
}

void keep_mark(struct gust_tree *t)
{
	if (!ptree_keeping(t))
		return;
	for (size_t i = 0; i < t->nm; i++)
		if (!t->m[i].kept && t->m[i].state != 'Z' && named(t->keep, t->m[i].pid))
			t->m[i].kept = true;
	/* below a kept process: kept too (a daemon's workers) */
	for (bool more = true; more;) {
		more = false;
		for (size_t i = 0; i < t->nm; i++) {
			if (t->m[i].kept)
				continue;
			for (size_t j = 0; j < t->nm; j++)
				if (t->m[j].kept && t->m[j].pid == t->m[i].ppid) {
					t->m[i].kept = more = true;
					break;
				}
		}
	}
}

bool keep_only_kept(const struct gust_tree *t)
{
	bool any = false;
	for (size_t i = 0; i < t->nm; i++) {
		if (!t->m[i].kept && t->m[i].state != 'Z')
			return false;
		any |= t->m[i].kept;
	}
	return any;
}
