/* init.c - `gust init`: pick a preset from the project's files and write
 * it, with "$schema" added (and with --sockets the runner's "sockets"), as
 * a new gust.json (never over an existing file). */
#include "config.h"

#include "gust-paths.h"
#include "presets.h"
#include "starter.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

const char *const *config_presets(void)
{
	return preset_names;
}

static bool exists_in(const char *dir, const char *name)
{
	char p[PATH_MAX];
	if (snprintf(p, sizeof p, "%s/%s", dir, name) >= (int)sizeof p)
		return false;
	return access(p, F_OK) == 0;
}

bool config_has_ext(const char *dir, const char *ext)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	bool found = false;
	size_t el = strlen(ext);
	if (!d)
		return false;
	while (!found && (e = readdir(d))) {
		size_t l = strlen(e->d_name);
		found = l > el && e->d_name[0] != '.' && strcmp(e->d_name + l - el, ext) == 0;
	}
	closedir(d);
	return found;
}

/* The most specific marker wins: a Makefile often sits beside go.mod,
 * Cargo.toml or package.json only to drive them; a Makefile beside
 * CMakeLists.txt or configure is the generated one. A C project's build
 * system comes before a lone .py file (meson and autotools projects often
 * carry Python scripts). */
const char *config_detect_preset(const char *dir)
{
	if (exists_in(dir, "go.mod"))
		return "go";
	if (exists_in(dir, "Cargo.toml"))
		return "rust-cargo";
	if (exists_in(dir, "package.json"))
		return "node";
	if (exists_in(dir, "pyproject.toml") || exists_in(dir, "requirements.txt") ||
	    exists_in(dir, "setup.py"))
		return "python";
	if (exists_in(dir, "Makefile") || exists_in(dir, "makefile") ||
	    exists_in(dir, "GNUmakefile"))
		return "c-make";
	if (exists_in(dir, "CMakeLists.txt"))
		return "c-cmake";
	if (exists_in(dir, "meson.build"))
		return "meson";
	if (exists_in(dir, "configure"))
		return "c-make"; /* its make runs once ./configure has made the Makefile */
	if (config_has_ext(dir, ".py"))
		return "python";
	return NULL;
}

/* The preset's text with "$schema" (the installed schema) as its first key,
 * so editors complete and check the file. malloc'd. */
static char *with_schema(const char *text)
{
	static const char sub[] = "/presets";
	const char *dir = GUST_PRESETDIR;
	size_t dl = strlen(dir);
	if (dl >= sizeof sub - 1 && strcmp(dir + dl - (sizeof sub - 1), sub) == 0)
		dl -= sizeof sub - 1;
	const char *brace = strchr(text, '{');
	char *out = NULL;
	if (!brace || strstr(text, "\"$schema\""))
		return strdup(text);
	if (asprintf(&out, "%.*s{\n  \"$schema\": \"file://%.*s/gust.schema.json\",%s",
	             (int)(brace - text), text, (int)dl, dir, brace + 1) < 0)
		return NULL;
	return out;
}

int config_write_new(const char *path, const char *text, char *err, size_t errlen)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
	if (fd < 0) {
		int e = errno;
		if (e == EEXIST)
			snprintf(err, errlen, "init: \"%s\" already exists; not overwriting it",
			         path);
		else
			snprintf(err, errlen, "init: cannot create \"%s\": %s", path, strerror(e));
		return -e;
	}
	size_t len = strlen(text), done = 0;
	int e = 0;
	while (done < len) {
		ssize_t w = write(fd, text + done, len - done);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0) {
			e = errno;
			break;
		}
		done += (size_t)w;
	}
	if (close(fd) < 0 && !e)
		e = errno;
	if (e) {
		snprintf(err, errlen, "init: cannot write \"%s\": %s", path, strerror(e));
		unlink(path);
		return -e;
	}
	return 0;
}

/* doc (freed) with "sockets": ["tcp:HOST:PORT"] first after the plain
 * runner's "plugin"; malloc'd, NULL when out of memory or when doc has no
 * plain runner. */
static char *with_socket(char *doc, const struct starter_addr *a)
{
	static const char plain[] = "\"plugin\": \"plain\",\n";
	const char *runner = strstr(doc, "\"runner\": {");
	const char *at = runner ? strstr(runner, plain) : NULL;
	char *out = NULL;
	if (at) {
		at += sizeof plain - 1;
		if (asprintf(&out, "%.*s    \"sockets\": [\"tcp:%s:%u\"],\n%s", (int)(at - doc),
		             doc, a->host, a->port, at) < 0)
			out = NULL;
	}
	free(doc);
	return out;
}

int config_init_file(const char *path, const char *preset, const struct starter_addr *sock,
                     char *err, size_t errlen)
{
	if (!preset && !(preset = config_detect_preset("."))) {
		snprintf(err, errlen,
		         "init: no project recognised here (no go.mod, Cargo.toml, package.json, "
		         "Python files, Makefile, CMakeLists.txt, meson.build or configure): name "
		         "one with --preset");
		return -ENOENT;
	}
	const char *text = NULL;
	char list[256] = "";
	size_t off = 0;
	for (size_t i = 0; presets[i].name; i++) {
		if (strcmp(presets[i].name, preset) == 0)
			text = presets[i].json;
		int n =
		    snprintf(list + off, sizeof list - off, "%s%s", i ? ", " : "", presets[i].name);
		if (n > 0 && (size_t)n < sizeof list - off)
			off += (size_t)n;
	}
	if (!text) {
		snprintf(err, errlen, "init: unknown preset \"%s\" (known: %s)", preset, list);
		return -EINVAL;
	}
	if (sock && starter_refusal(preset, err, errlen))
		return -EINVAL;
	char *doc = with_schema(text);
	if (doc && sock)
		doc = with_socket(doc, sock);
	if (!doc) {
		snprintf(err, errlen, "init: out of memory");
		return -ENOMEM;
	}
	int r = config_write_new(path, doc, err, errlen);
	free(doc);
	return r;
}
