/* loader.c - dlopen(RTLD_NOW | RTLD_LOCAL) with one clear message for each
 * way loading can fail. */
#include "config.h"

#include "loader.h"
#include "gust-paths.h"

#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

const char *plugin_kind_name(enum gust_kind kind)
{
	switch (kind) {
	case GUST_KIND_WATCHER:
		return "watcher";
	case GUST_KIND_BUILDER:
		return "builder";
	case GUST_KIND_RUNNER:
		return "runner";
	case GUST_KIND_HOOK:
		return "hook";
	}
	return "unknown";
}

static int push(char ***v, size_t *n, const char *s)
{
	char **nv = realloc(*v, (*n + 2) * sizeof **v);
	if (!nv)
		return -ENOMEM;
	*v = nv;
	if (!(nv[*n] = strdup(s)))
		return -ENOMEM;
	nv[++*n] = NULL;
	return 0;
}

char **plugin_search_dirs(char *const *config_path)
{
	char **v = calloc(1, sizeof *v);
	size_t n = 0;
	if (!v)
		return NULL;
	for (size_t i = 0; config_path && config_path[i]; i++)
		if (push(&v, &n, config_path[i]) < 0)
			goto fail;
	const char *env = getenv("GUST_PLUGIN_PATH");
	if (env && *env) {
		char *copy = strdup(env), *save = NULL;
		if (!copy)
			goto fail;
		for (char *tok = strtok_r(copy, ":", &save); tok; tok = strtok_r(NULL, ":", &save))
			if (*tok && push(&v, &n, tok) < 0) {
				free(copy);
				goto fail;
			}
		free(copy);
	}
	if (push(&v, &n, GUST_PLUGINDIR) < 0)
		goto fail;
	return v;
fail:
	plugin_free_dirs(v);
	return NULL;
}

void plugin_free_dirs(char **dirs)
{
	for (size_t i = 0; dirs && dirs[i]; i++)
		free(dirs[i]);
	free(dirs);
}

struct op {
	const char *name;
	size_t offset;
};

/* The ops every plugin of a kind has: those of ABI 1.0. An op appended in a
 * later 1.x is optional (a 1.0 plugin lacks it) and is not listed here: the
 * core calls it only when GUST_HAS(ops, member). */
#define OP(type, member)                                                                           \
	{                                                                                          \
#member, offsetof(struct type, member)                                             \
	}
static const struct op watcher_ops[] = { OP(gust_watcher_ops, create),
	                                 OP(gust_watcher_ops, start),
	                                 OP(gust_watcher_ops, destroy),
	                                 { NULL, 0 } };
static const struct op builder_ops[] = { OP(gust_builder_ops, create),
	                                 OP(gust_builder_ops, start),
	                                 OP(gust_builder_ops, cancel),
	                                 OP(gust_builder_ops, destroy),
	                                 { NULL, 0 } };
static const struct op runner_ops[] = { OP(gust_runner_ops, create),
	                                OP(gust_runner_ops, start),
	                                OP(gust_runner_ops, stop),
	                                OP(gust_runner_ops, destroy),
	                                { NULL, 0 } };
static const struct op hook_ops[] = {
	OP(gust_hook_ops, create), OP(gust_hook_ops, event), OP(gust_hook_ops, destroy), { NULL, 0 }
};
#undef OP

/* The vtable at least as large as in 1.0, whatever this header's sizeof
 * says (members appended since are the plugin's to have or not: the core
 * calls one only under GUST_HAS()), and every op of 1.0 present. */
static bool ops_complete(const struct gust_plugin_desc *d, const char **missing)
{
	static const size_t sizes_1_0[] = { 0, GUST_WATCHER_OPS_SIZE_1_0, GUST_BUILDER_OPS_SIZE_1_0,
		                            GUST_RUNNER_OPS_SIZE_1_0, GUST_HOOK_OPS_SIZE_1_1 };
	const struct op *ops = d->kind == GUST_KIND_WATCHER   ? watcher_ops
	                       : d->kind == GUST_KIND_BUILDER ? builder_ops
	                       : d->kind == GUST_KIND_RUNNER  ? runner_ops
	                                                      : hook_ops;
	/* every vtable starts with its size */
	if (*(const size_t *)d->ops < sizes_1_0[d->kind])
		return *missing = "size", false;
	for (size_t i = 0; ops[i].name; i++) {
		void (*fn)(void);
		memcpy(&fn, (const char *)d->ops + ops[i].offset, sizeof fn);
		if (!fn)
			return *missing = ops[i].name, false;
	}
	return true;
}

int plugin_open_file(struct plugin *p, const char *file, enum gust_kind kind, char *err,
                     size_t errlen)
{
	memset(p, 0, sizeof *p);
	dlerror();
	void *h = dlopen(file, RTLD_NOW | RTLD_LOCAL);
	if (!h) {
		const char *e = dlerror();
		snprintf(err, errlen,
		         "%s: cannot load plugin: %s (check its libraries with \"ldd %s\")", file,
		         e ? e : "unknown error", file);
		return -ENOEXEC;
	}
	const struct gust_plugin_desc *d = dlsym(h, "gust_plugin_desc");
	if (!d) {
		snprintf(err, errlen, "%s: no \"gust_plugin_desc\" symbol: not a gust plugin",
		         file);
		goto bad;
	}
	uint32_t maj = GUST_ABI_MAJOR_OF(d->abi_version), min = GUST_ABI_MINOR_OF(d->abi_version);
	if (maj != GUST_ABI_MAJOR) {
		snprintf(err, errlen,
		         "%s: plugin ABI %u.%u is incompatible with gust's ABI %d.%d (rebuild the "
		         "plugin against this gust)",
		         file, maj, min, GUST_ABI_MAJOR, GUST_ABI_MINOR);
		goto bad;
	}
	if (min > GUST_ABI_MINOR) {
		snprintf(err, errlen,
		         "%s: plugin needs ABI %u.%u, newer than gust's %d.%d (upgrade gust or "
		         "rebuild the plugin)",
		         file, maj, min, GUST_ABI_MAJOR, GUST_ABI_MINOR);
		goto bad;
	}
	/* as large as 1.0's; members appended since are read under GUST_HAS() */
	if (d->size < GUST_PLUGIN_DESC_SIZE_1_0 || !d->name || !*d->name || !d->ops) {
		snprintf(err, errlen, "%s: malformed plugin descriptor (size, name or ops missing)",
		         file);
		goto bad;
	}
	/* hooks came with 1.1: a "1.0" hook has a kind 1.0 did not know */
	if (d->kind < GUST_KIND_WATCHER || d->kind > GUST_KIND_HOOK ||
	    (d->kind == GUST_KIND_HOOK && min < 1)) {
		snprintf(err, errlen, "%s: plugin \"%s\" has unknown kind %u", file, d->name,
		         d->kind);
		goto bad;
	}
	if (kind && d->kind != (uint32_t)kind) {
		snprintf(err, errlen, "%s: plugin \"%s\" is a %s plugin, not a %s plugin", file,
		         d->name, plugin_kind_name(d->kind), plugin_kind_name(kind));
		goto bad;
	}
	const char *missing = NULL;
	if (!ops_complete(d, &missing)) {
		snprintf(err, errlen, "%s: %s plugin \"%s\" lacks the required op \"%s\"", file,
		         plugin_kind_name(d->kind), d->name, missing);
		goto bad;
	}
	char *copy = strdup(file);
	if (!copy) {
		snprintf(err, errlen, "%s: out of memory", file);
		goto bad;
	}
	/* filled only here, all at once: a failure leaves p empty */
	*p = (struct plugin){ .handle = h, .desc = d, .file = copy };
	return 0;
bad:
	dlclose(h);
	return -ENOEXEC;
}

int plugin_load(struct plugin *p, enum gust_kind kind, const char *spec, char *const *dirs,
                char *err, size_t errlen)
{
	if (!spec || !*spec) {
		snprintf(err, errlen, "%s plugin: empty name", plugin_kind_name(kind));
		return -EINVAL;
	}
	if (strchr(spec, '/')) {
		if (access(spec, F_OK) < 0) {
			int e = errno;
			snprintf(err, errlen, "%s: %s plugin: %s", spec, plugin_kind_name(kind),
			         strerror(e));
			return -e;
		}
		return plugin_open_file(p, spec, kind, err, errlen);
	}
	char file[4096];
	size_t off = 0;
	char searched[2048] = "";
	for (size_t i = 0; dirs && dirs[i]; i++) {
		int n = snprintf(file, sizeof file, "%s/%s-%s.so", dirs[i], plugin_kind_name(kind),
		                 spec);
		if (n < 0 || (size_t)n >= sizeof file)
			continue;
		if (access(file, F_OK) == 0)
			return plugin_open_file(p, file, kind, err, errlen);
		n = snprintf(searched + off, sizeof searched - off, "%s%s", off ? ", " : "",
		             dirs[i]);
		if (n > 0 && (size_t)n < sizeof searched - off)
			off += (size_t)n;
	}
	snprintf(err, errlen,
	         "%s plugin \"%s\": %s-%s.so not found in: %s (set plugin_path in the config or "
	         "GUST_PLUGIN_PATH)",
	         plugin_kind_name(kind), spec, plugin_kind_name(kind), spec,
	         off ? searched : "(no directories)");
	return -ENOENT;
}

void plugin_unload(struct plugin *p)
{
	if (p->handle)
		dlclose(p->handle);
	free(p->file);
	memset(p, 0, sizeof *p);
}

static int name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int plugin_list(char *const *dirs, FILE *out)
{
	int found = 0;
	for (size_t i = 0; dirs && dirs[i]; i++) {
		DIR *d = opendir(dirs[i]);
		if (!d)
			continue;
		char **names = NULL;
		size_t n = 0;
		struct dirent *e;
		while ((e = readdir(d))) {
			size_t len = strlen(e->d_name);
			if (len < 4 || strcmp(e->d_name + len - 3, ".so") != 0)
				continue;
			if (strncmp(e->d_name, "watcher-", 8) &&
			    strncmp(e->d_name, "builder-", 8) && strncmp(e->d_name, "runner-", 7) &&
			    strncmp(e->d_name, "hook-", 5))
				continue;
			if (push(&names, &n, e->d_name) < 0)
				break;
		}
		closedir(d);
		if (n)
			qsort(names, n, sizeof *names, name_cmp);
		for (size_t j = 0; j < n; j++) {
			char file[4096], err[1024];
			struct plugin p;
			if (snprintf(file, sizeof file, "%s/%s", dirs[i], names[j]) >=
			    (int)sizeof file)
				continue;
			if (plugin_open_file(&p, file, 0, err, sizeof err) == 0) {
				fprintf(out, "%-8s %-10s %-8s ABI %u.%u  %s\n",
				        plugin_kind_name(p.desc->kind), p.desc->name,
				        p.desc->version ? p.desc->version : "-",
				        GUST_ABI_MAJOR_OF(p.desc->abi_version),
				        GUST_ABI_MINOR_OF(p.desc->abi_version), file);
				found++;
				plugin_unload(&p);
			} else {
				fprintf(out, "%-8s %-10s unusable: %s\n", "-", names[j], err);
			}
		}
		plugin_free_dirs(names);
	}
	return found;
}
