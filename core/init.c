/* init.c - `gust init`: pick a preset from the project's files and write
 * it, with "$schema" added (with --sockets the runner's "sockets", with
 * --livereload the livereload hook and a "reload" rule for stylesheets),
 * as a new gust.json (never over an existing file), then the starter
 * server beside it (core/starter.c). */
#include "config.h"

#include "gust-paths.h"
#include "presets.h"
#include "starter.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <limits.h>
#include <stdarg.h>
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
 * runner's "plugin", and with http_ready "ready": {"http": "http://HOST:PORT/"}:
 * with the socket in gust's hands from the start, a connect succeeds (into
 * its backlog) while no run serves, so only an answer says a run is up.
 * malloc'd, NULL when out of memory or when doc has no plain runner. */
static char *with_socket(char *doc, const struct starter_addr *a, bool http_ready)
{
	static const char plain[] = "\"plugin\": \"plain\",\n";
	const char *runner = strstr(doc, "\"runner\": {");
	const char *at = runner ? strstr(runner, plain) : NULL;
	const char *host = strcmp(a->host, "0.0.0.0") ? a->host : "127.0.0.1";
	char ready[96] = "";
	char *out = NULL;
	if (http_ready)
		snprintf(ready, sizeof ready, "    \"ready\": {\"http\": \"http://%s:%u/\"},\n",
		         host, a->port);
	if (at) {
		at += sizeof plain - 1;
		if (asprintf(&out, "%.*s    \"sockets\": [\"tcp:%s:%u\"],\n%s%s", (int)(at - doc),
		             doc, a->host, a->port, ready, at) < 0)
			out = NULL;
	}
	free(doc);
	return out;
}

/* The stylesheet rule's "exclude_dir" member: the preset's
 * watch.exclude_dir (what it holds not to be the project's sources:
 * vendor, node_modules, build output) without "assets", where stylesheets
 * often are; "" when that leaves none. malloc'd, NULL when out of memory. */
static char *css_exclude(const char *preset_text)
{
	json_t *root = json_loads(preset_text, 0, NULL);
	json_t *dirs = json_object_get(json_object_get(root, "watch"), "exclude_dir");
	json_t *keep = json_array(), *d;
	char *list = NULL, *out = NULL;
	size_t i;
	json_array_foreach(dirs, i, d)
	{
		if (json_is_string(d) && strcmp(json_string_value(d), "assets") != 0)
			json_array_append(keep, d);
	}
	if (!json_array_size(keep))
		out = strdup("");
	else if (!(list = json_dumps(keep, 0)) || asprintf(&out, ", \"exclude_dir\": %s", list) < 0)
		out = NULL;
	free(list);
	json_decref(keep);
	json_decref(root);
	return out;
}

/* The hook's members after "proxy_port": where the app listens, when
 * known (a wildcard address is reached on loopback, the hook's default).
 * malloc'd, NULL when out of memory. */
static char *app_members(const struct starter_addr *app)
{
	char *out = NULL;
	if (!app)
		return strdup("");
	if (!strcmp(app->host, "127.0.0.1") || !strcmp(app->host, "0.0.0.0"))
		return asprintf(&out, ", \"app_port\": %u", app->port) < 0 ? NULL : out;
	return asprintf(&out, ", \"app_port\": %u, \"app_address\": \"%s\"", app->port, app->host) <
	               0
	           ? NULL
	           : out;
}

/* doc (freed) with a "reload" rule for stylesheets and the livereload hook
 * after its last member; malloc'd, NULL when out of memory. */
static char *with_livereload(char *doc, const char *preset_text, const struct init_opts *o)
{
	char *exclude = css_exclude(preset_text), *app = app_members(o->app), *out = NULL;
	const char *end = strrchr(doc, '}'), *last = end;
	while (last && last > doc && strchr(" \t\r\n", last[-1]))
		last--;
	if (exclude && app && last &&
	    asprintf(&out,
	             "%.*s,\n"
	             "  \"rules\": [\n"
	             "    { \"name\": \"styles\", \"action\": \"reload\",\n"
	             "      \"match\": { \"include_ext\": [\"css\"]%s } }\n"
	             "  ],\n"
	             "  \"hooks\": [\n"
	             "    { \"plugin\": \"livereload\", \"proxy_port\": %u%s }\n"
	             "  ]\n"
	             "%s",
	             (int)(last - doc), doc, exclude, o->proxy_port, app, end) < 0)
		out = NULL;
	free(exclude);
	free(app);
	free(doc);
	return out;
}

/* The text of preset (NULL: the one the current directory's files pick,
 * stored into *preset); NULL with a message in err when there is none. */
static const char *preset_text(const char **preset, char *err, size_t errlen)
{
	if (!*preset && !(*preset = config_detect_preset("."))) {
		snprintf(err, errlen,
		         "init: no project recognised here (no go.mod, Cargo.toml, package.json, "
		         "Python files, Makefile, CMakeLists.txt, meson.build or configure): name "
		         "one with --preset");
		return NULL;
	}
	const char *text = NULL;
	char list[256] = "";
	size_t off = 0;
	for (size_t i = 0; presets[i].name; i++) {
		if (strcmp(presets[i].name, *preset) == 0)
			text = presets[i].json;
		int n =
		    snprintf(list + off, sizeof list - off, "%s%s", i ? ", " : "", presets[i].name);
		if (n > 0 && (size_t)n < sizeof list - off)
			off += (size_t)n;
	}
	if (!text)
		snprintf(err, errlen, "init: unknown preset \"%s\" (known: %s)", *preset, list);
	return text;
}

int config_init_file(const char *path, const char *preset, const struct init_opts *o, char *err,
                     size_t errlen)
{
	const char *text = preset_text(&preset, err, errlen);
	if (!text)
		return preset ? -EINVAL : -ENOENT;
	if (o && o->sock && starter_refusal(preset, err, errlen))
		return -EINVAL;
	char *doc = with_schema(text);
	if (doc && o && o->sock)
		doc = with_socket(doc, o->sock, o->http_ready);
	if (doc && o && o->proxy_port)
		doc = with_livereload(doc, text, o);
	if (!doc) {
		snprintf(err, errlen, "init: out of memory");
		return -ENOMEM;
	}
	int r = config_write_new(path, doc, err, errlen);
	free(doc);
	return r;
}

int config_parse_proxy_port(const char *text, unsigned *port, char *err, size_t errlen)
{
	char *end = NULL;
	unsigned long p = 0;
	errno = 0;
	if (text[0] >= '0' && text[0] <= '9')
		p = strtoul(text, &end, 10);
	if (p < 1 || p > 65535 || errno || *end) {
		snprintf(err, errlen,
		         "init: --livereload=\"%s\": want the proxy's port, 1 to 65535 (e.g. 8090)",
		         text);
		return -EINVAL;
	}
	*port = (unsigned)p;
	return 0;
}

/* Append a line to msg. */
static void say(char *msg, size_t msglen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void say(char *msg, size_t msglen, const char *fmt, ...)
{
	size_t len = strlen(msg);
	va_list ap;
	if (len && len + 1 < msglen) {
		msg[len++] = '\n';
		msg[len] = '\0';
	}
	va_start(ap, fmt);
	vsnprintf(msg + len, msglen - len, fmt, ap);
	va_end(ap);
}

int config_init(const char *path, const char *preset, const struct starter_addr *sock,
                unsigned proxy_port, char *msg, size_t msglen, char *err, size_t errlen)
{
	/* where a starter server listens when it has no socket from gust */
	static const struct starter_addr own_listen = { "127.0.0.1", 8080 };
	if (!preset_text(&preset, err, errlen))
		return preset ? -EINVAL : -ENOENT;
	bool offered = (sock || proxy_port) && starter_offered(preset);
	bool starter = offered && !starter_kept(preset);
	struct init_opts o = { sock, proxy_port,
		               sock      ? sock
		               : starter ? &own_listen
		                         : NULL,
		               sock && starter };
	if (proxy_port && o.app && o.app->port == proxy_port) {
		snprintf(
		    err, errlen,
		    "init: --livereload=%u: that is the app's port (%s:%u); the proxy needs one "
		    "of its own",
		    proxy_port, o.app->host, o.app->port);
		return -EINVAL;
	}
	int r = config_init_file(path, preset, &o, err, errlen);
	if (r < 0)
		return r;
	char hook[64] = "", socks[64] = "";
	if (sock)
		snprintf(socks, sizeof socks, ", sockets tcp:%s:%u", sock->host, sock->port);
	if (proxy_port)
		snprintf(hook, sizeof hook, ", livereload on port %u", proxy_port);
	msg[0] = '\0';
	say(msg, msglen, "wrote %s (preset %s%s%s)", path, preset, socks, hook);
	if (offered) {
		char line[512];
		r = starter_write(preset, o.app ? o.app : &own_listen, sock != NULL, line,
		                  sizeof line, err, errlen);
		if (r < 0) {
			unlink(path); /* written above: no config without its program */
			return r;
		}
		say(msg, msglen, "%s", line);
	}
	if (proxy_port && o.app)
		say(msg, msglen,
		    "run gust, then open http://127.0.0.1:%u/: the live-reload proxy in front of "
		    "the app on port %u",
		    proxy_port, o.app->port);
	else if (proxy_port)
		say(msg, msglen,
		    "run gust, then open http://127.0.0.1:%u/: the live-reload proxy in front of "
		    "the first port the program listens on",
		    proxy_port);
	return 0;
}
