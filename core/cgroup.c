/* cgroup.c - containment "cgroup" (GUST_SPAWN_CGROUP): a cgroup v2 per
 * tree, created under gust's own cgroup (or $GUST_CGROUP) before the
 * program starts, listed by the scans, killed at once on SIGKILL
 * escalation, and removed once empty. */
#include "config.h"

#include "ptree-internal.h"

#include "log.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#ifdef __linux__
#include <sys/vfs.h>
#endif

#define CG_ENV "GUST_CGROUP"      /* documented override of the cgroup parent */
#define CGROUP2_MAGIC 0x63677270L /* statfs f_type of cgroup2 */

/* The pids listed in <cg>/cgroup.procs: malloc'd array, *n entries. */
int cgroup_pids(const char *cg, pid_t **out, size_t *n)
{
	char path[4200];
	*out = NULL;
	*n = 0;
	if (snprintf(path, sizeof path, "%s/cgroup.procs", cg) >= (int)sizeof path)
		return -ENAMETOOLONG;
	FILE *f = fopen(path, "re");
	if (!f)
		return -errno;
	size_t cap = 0;
	long pid;
	int r = 0;
	while (fscanf(f, "%ld", &pid) == 1) {
		if (*n == cap) {
			size_t nc = cap ? cap * 2 : 16;
			pid_t *np = realloc(*out, nc * sizeof *np);
			if (!np) {
				r = -ENOMEM;
				break;
			}
			*out = np;
			cap = nc;
		}
		(*out)[(*n)++] = (pid_t)pid;
	}
	fclose(f);
	return r;
}

static int cg_write(const char *cg, const char *file, const char *val)
{
	char path[4200];
	if (snprintf(path, sizeof path, "%s/%s", cg, file) >= (int)sizeof path)
		return -ENAMETOOLONG;
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	int r = write(fd, val, strlen(val)) < 0 ? -errno : 0;
	close(fd);
	return r;
}

/* SIGKILL everything in the cgroup at once (Linux >= 5.14); -ENOENT
 * before that, when the caller's per-pid SIGKILL must do. */
int cgroup_kill(const char *cg)
{
	return cg_write(cg, "cgroup.kill", "1");
}

/* Where this gust creates its per-tree cgroups: $GUST_CGROUP, or its own
 * cgroup v2 (the "0::" line of /proc/self/cgroup below the cgroup2 mount). */
static int cg_parent(char *out, size_t len)
{
	const char *env = getenv(CG_ENV);
	if (env && *env) {
		if (snprintf(out, len, "%s", env) >= (int)len)
			return -ENAMETOOLONG;
	} else {
		char mnt[4096] = "", rel[4096] = "", *line = NULL;
		size_t cap = 0;
		FILE *f = fopen("/proc/self/mountinfo", "re");
		while (f && !mnt[0] && getline(&line, &cap, f) > 0) {
			char *dash = strstr(line, " - cgroup2 ");
			char mp[4096];
			if (dash && sscanf(line, "%*s %*s %*s %*s %4095s", mp) == 1) {
				/* mountinfo escapes blanks as \040 and so on */
				size_t k = 0;
				for (const char *c = mp; *c && k + 1 < sizeof mnt; c++) {
					if (c[0] == '\\' && c[1] >= '0' && c[1] <= '3' && c[2] &&
					    c[3]) {
						mnt[k++] = (char)((c[1] - '0') * 64 +
						                  (c[2] - '0') * 8 + (c[3] - '0'));
						c += 3;
					} else {
						mnt[k++] = *c;
					}
				}
				mnt[k] = '\0';
			}
		}
		if (f)
			fclose(f);
		f = fopen("/proc/self/cgroup", "re");
		while (f && !rel[0] && getline(&line, &cap, f) > 0) {
			if (strncmp(line, "0::", 3) == 0) {
				line[strcspn(line, "\n")] = '\0';
				snprintf(rel, sizeof rel, "%s", line + 3);
			}
		}
		if (f)
			fclose(f);
		free(line);
		if (!mnt[0] || !rel[0])
			return -ENOENT;
		if (snprintf(out, len, "%s%s", mnt, strcmp(rel, "/") ? rel : "") >= (int)len)
			return -ENAMETOOLONG;
	}
#ifdef __linux__
	struct statfs sf;
	if (statfs(out, &sf) < 0)
		return -errno;
	if ((long)sf.f_type != CGROUP2_MAGIC)
		return -ENOTDIR;
#endif
	return 0;
}

/* Create the tree's cgroup; *fd: its cgroup.procs, open for the child to
 * move itself in before anything else. 0 or -errno with err set. */
int cgroup_create(struct ptree_mgr *mgr, struct gust_tree *t, int *fd, char *err, size_t errlen)
{
	char parent[4096], path[4200];
	int r = cg_parent(parent, sizeof parent);
	if (r < 0) {
		const char *where =
		    getenv(CG_ENV) && *getenv(CG_ENV) ? getenv(CG_ENV) : "/proc/self/cgroup";
		snprintf(err, errlen,
		         r == -ENOTDIR
		             ? "containment \"cgroup\": \"%.512s\" is not a cgroup v2 directory%s"
		             : "containment \"cgroup\": no cgroup v2 found from \"%.512s\"%s",
		         r == -ENOTDIR ? parent : where,
		         " (mount cgroup2, set " CG_ENV
		         " to a writable cgroup v2 directory, or use \"auto\" or \"none\")");
		return r == -ENOTDIR ? -ENOTSUP : r;
	}
	if (snprintf(path, sizeof path, "%s/gust-%ld-%lu", parent, (long)mgr->self, t->serial) >=
	    (int)sizeof path) {
		snprintf(err, errlen, "containment \"cgroup\": path too long under \"%.512s\"",
		         parent);
		return -ENAMETOOLONG;
	}
	if (mkdir(path, 0755) < 0 &&
	    (errno != EEXIST || rmdir(path) < 0 || mkdir(path, 0755) < 0)) {
		int e = errno;
		snprintf(err, errlen,
		         "containment \"cgroup\": cannot create \"%.512s\": %s (needs a writable "
		         "cgroup v2 "
		         "directory: run gust under `systemd-run --user --scope -p Delegate=yes`, "
		         "set " CG_ENV " to one, or use \"auto\" or \"none\")",
		         path, strerror(e));
		return -e;
	}
	char procs[4300];
	snprintf(procs, sizeof procs, "%s/cgroup.procs", path);
	*fd = open(procs, O_WRONLY | O_CLOEXEC);
	if (*fd < 0 || !(t->cg = strdup(path))) {
		int e = *fd < 0 ? errno : ENOMEM;
		if (*fd >= 0)
			close(*fd);
		*fd = -1;
		rmdir(path);
		snprintf(err, errlen, "containment \"cgroup\": cannot open \"%.512s\": %s", procs,
		         strerror(e));
		return -e;
	}
	return 0;
}

/* Remove the tree's cgroup once it is empty: 0 (gone), -EBUSY (processes
 * remain) or another -errno. */
int cgroup_remove(struct gust_tree *t)
{
	if (!t->cg)
		return 0;
	if (rmdir(t->cg) < 0 && errno != ENOENT) {
		int e = errno;
		if (e == EBUSY)
			return -EBUSY;
		if (!t->cg_warned) {
			t->cg_warned = true;
			log_msg(GUST_LOG_WARN, STAGE_RUN, "cannot remove the cgroup \"%s\": %s",
			        t->cg, strerror(e));
		}
		return -e;
	}
	free(t->cg);
	t->cg = NULL;
	return 0;
}
