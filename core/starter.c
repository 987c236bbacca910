/* starter.c - the socket hand-off mode of `gust init` (--sockets): the
 * starter servers it writes beside the config, for the presets whose
 * language takes an inherited listening socket in one line of its standard
 * library (Go, Python, Node). Each serves a page at / with a stylesheet,
 * static/style.css, written beside it. The texts carry @HOST@ and @PORT@
 * for the address of the fallback listen, and @PAGE@ for the page. */
#include "config.h"

#include "presets.h"
#include "starter.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* The opening comment of the Go and Node starters (both use //). */
#define STARTER_NOTE                                                                               \
	"// A starter server from gust init: a page with a stylesheet. With\n"                     \
	"// \"sockets\" in the runner of gust.json (gust init --sockets), gust holds\n"            \
	"// the listening socket and hands it to every run as fd 3 (the systemd\n"                 \
	"// LISTEN_FDS protocol), so connections made during a restart wait for the\n"             \
	"// new run instead of being refused; otherwise, and run without gust, it\n"               \
	"// listens itself.\n"

static const char go_main[] = STARTER_NOTE
    "package main\n"
    "\n"
    "import (\n"
    "\t\"context\"\n"
    "\t\"fmt\"\n"
    "\t\"log\"\n"
    "\t\"net\"\n"
    "\t\"net/http\"\n"
    "\t\"os\"\n"
    "\t\"os/signal\"\n"
    "\t\"strconv\"\n"
    "\t\"syscall\"\n"
    ")\n"
    "\n"
    "const addr = \"@HOST@:@PORT@\"\n"
    "\n"
    "// Edit the message (or static/style.css) and save.\n"
    "const message = \"hello from gust\"\n"
    "\n"
    "const page = `@PAGE@`\n"
    "\n"
    "func listen() (net.Listener, error) {\n"
    "\tif os.Getenv(\"LISTEN_FDS\") != \"\" && os.Getenv(\"LISTEN_PID\") == "
    "strconv.Itoa(os.Getpid()) {\n"
    "\t\treturn net.FileListener(os.NewFile(3, \"gust\")) // bound and listening already\n"
    "\t}\n"
    "\treturn net.Listen(\"tcp\", addr)\n"
    "}\n"
    "\n"
    "func main() {\n"
    "\tln, err := listen()\n"
    "\tif err != nil {\n"
    "\t\tlog.Fatal(err)\n"
    "\t}\n"
    "\tmux := http.NewServeMux()\n"
    "\tmux.Handle(\"/static/\", http.FileServer(http.Dir(\".\"))) // the files of static/\n"
    "\tmux.HandleFunc(\"/\", func(w http.ResponseWriter, r *http.Request) {\n"
    "\t\tif r.URL.Path != \"/\" {\n"
    "\t\t\thttp.NotFound(w, r)\n"
    "\t\t\treturn\n"
    "\t\t}\n"
    "\t\tw.Header().Set(\"Content-Type\", \"text/html; charset=utf-8\")\n"
    "\t\tfmt.Fprintf(w, page, message)\n"
    "\t})\n"
    "\tsrv := &http.Server{Handler: mux}\n"
    "\t// On SIGTERM (gust's stop signal) answer the requests in hand, then\n"
    "\t// exit: connections not accepted yet wait in gust's socket.\n"
    "\tdone := make(chan struct{})\n"
    "\tgo func() {\n"
    "\t\tstop := make(chan os.Signal, 1)\n"
    "\t\tsignal.Notify(stop, syscall.SIGTERM, os.Interrupt)\n"
    "\t\t<-stop\n"
    "\t\tsrv.Shutdown(context.Background())\n"
    "\t\tclose(done)\n"
    "\t}()\n"
    "\tlog.Printf(\"serving http://%s/\", addr)\n"
    "\tif err := srv.Serve(ln); err != http.ErrServerClosed {\n"
    "\t\tlog.Fatal(err)\n"
    "\t}\n"
    "\t<-done\n"
    "}\n";

static const char python_main[] =
    "\"\"\"A starter server from gust init: a page with a stylesheet. With\n"
    "\"sockets\" in the runner of gust.json (gust init --sockets), gust holds the\n"
    "listening socket and hands it to every run as fd 3 (the systemd LISTEN_FDS\n"
    "protocol), so connections made during a restart wait for the new run\n"
    "instead of being refused; otherwise, and run without gust, it listens\n"
    "itself.\"\"\"\n"
    "import functools\n"
    "import http.server\n"
    "import os\n"
    "import signal\n"
    "import socket\n"
    "import threading\n"
    "\n"
    "ADDR = (\"@HOST@\", @PORT@)\n"
    "\n"
    "# Edit the message (or static/style.css) and save.\n"
    "MESSAGE = \"hello from gust\"\n"
    "\n"
    "PAGE = \"\"\"@PAGE@\"\"\"\n"
    "\n"
    "\n"
    "class Handler(http.server.SimpleHTTPRequestHandler):\n"
    "    \"\"\"/ is the page, /static/NAME the file static/NAME.\"\"\"\n"
    "\n"
    "    def do_GET(self):\n"
    "        path = self.path.split(\"?\", 1)[0]\n"
    "        if path.startswith(\"/static/\"):\n"
    "            self.path = self.path[len(\"/static\") :]\n"
    "            return super().do_GET()\n"
    "        if path != \"/\":\n"
    "            return self.send_error(404)\n"
    "        body = (PAGE % MESSAGE).encode()\n"
    "        self.send_response(200)\n"
    "        self.send_header(\"Content-Type\", \"text/html; charset=utf-8\")\n"
    "        self.send_header(\"Content-Length\", str(len(body)))\n"
    "        self.end_headers()\n"
    "        self.wfile.write(body)\n"
    "\n"
    "\n"
    "handler = functools.partial(Handler, directory=\"static\")\n"
    "if os.environ.get(\"LISTEN_FDS\") and os.environ.get(\"LISTEN_PID\") == str(os.getpid()):\n"
    "    server = http.server.HTTPServer(ADDR, handler, bind_and_activate=False)\n"
    "    server.socket.close()\n"
    "    server.socket = socket.socket(fileno=3)  # bound and listening already\n"
    "else:\n"
    "    server = http.server.HTTPServer(ADDR, handler)\n"
    "\n"
    "\n"
    "def stop(signum, frame):\n"
    "    # On SIGTERM (gust's stop signal) answer the request in hand, then\n"
    "    # exit: connections not accepted yet wait in gust's socket.\n"
    "    threading.Thread(target=server.shutdown).start()\n"
    "\n"
    "\n"
    "signal.signal(signal.SIGTERM, stop)\n"
    "signal.signal(signal.SIGINT, stop)\n"
    "print(\"serving http://%s:%d/\" % ADDR)\n"
    "server.serve_forever()\n";

static const char node_main[] = STARTER_NOTE
    "// import() loads node's modules from CommonJS and ES modules alike.\n"
    "Promise.all([import(\"node:http\"), import(\"node:fs\")]).then(([{ createServer }, { readFile "
    "}]) => {\n"
    "  // Edit the message (or static/style.css) and save.\n"
    "  const message = \"hello from gust\";\n"
    "  const page = `@PAGE@`;\n"
    "  const server = createServer((req, res) => {\n"
    "    const path = new URL(req.url, \"http://localhost\").pathname;\n"
    "    const file = /^\\/static\\/(\\w[\\w.-]*)$/.exec(path); // static/NAME\n"
    "    if (path === \"/\") {\n"
    "      res.writeHead(200, { \"Content-Type\": \"text/html; charset=utf-8\" });\n"
    "      res.end(page.replace(\"%s\", message));\n"
    "    } else if (file) {\n"
    "      readFile(\"static/\" + file[1], (err, data) => {\n"
    "        const type = file[1].endsWith(\".css\") ? \"text/css\" : "
    "\"application/octet-stream\";\n"
    "        res.writeHead(err ? 404 : 200, { \"Content-Type\": type });\n"
    "        res.end(err ? \"\" : data);\n"
    "      });\n"
    "    } else {\n"
    "      res.writeHead(404);\n"
    "      res.end();\n"
    "    }\n"
    "  });\n"
    "  if (process.env.LISTEN_FDS && process.env.LISTEN_PID === String(process.pid)) {\n"
    "    server.listen({ fd: 3 }); // bound and listening already\n"
    "  } else {\n"
    "    server.listen(@PORT@, \"@HOST@\");\n"
    "  }\n"
    "  // On SIGTERM (gust's stop signal) answer the requests in hand, then\n"
    "  // exit: connections not accepted yet wait in gust's socket.\n"
    "  process.on(\"SIGTERM\", () => {\n"
    "    server.close();\n"
    "    server.closeIdleConnections(); // a proxy's kept-alive ones\n"
    "  });\n"
    "  console.log(\"serving http://@HOST@:@PORT@/\");\n"
    "});\n";

/* The page each starter serves at /, with its message for %s. */
static const char page[] = "<!doctype html>\n"
                           "<html lang=\"en\">\n"
                           "<head>\n"
                           "<meta charset=\"utf-8\">\n"
                           "<title>gust starter</title>\n"
                           "<link rel=\"stylesheet\" href=\"/static/style.css\">\n"
                           "</head>\n"
                           "<body>\n"
                           "<h1>%s</h1>\n"
                           "</body>\n"
                           "</html>\n";

/* Beside each starter, for its page. */
static const char stylesheet[] =
    "/* The starter page's stylesheet, from gust init. With the livereload hook\n"
    "   (gust init --livereload), saving it restyles the open page in place. */\n"
    "body {\n"
    "  font: 18px/1.5 system-ui, sans-serif;\n"
    "  max-width: 40em;\n"
    "  margin: 3em auto;\n"
    "  padding: 0 1em;\n"
    "}\n"
    "\n"
    "h1 {\n"
    "  color: rgb(31, 111, 92);\n"
    "}\n";

struct starter {
	const char *preset;
	const char *lang;
	const char *file;    /* what the preset runs */
	const char *own_ext; /* NULL, or: a file with this extension in the
	                      * directory is the project's own program (Go: one
	                      * package main per directory) */
	const char *text;
	const char *mod_file, *mod_text; /* also written when absent (go.mod) */
};

static const struct starter starters[] = {
	{ "go", "Go", "main.go", ".go", go_main, "go.mod", "module server\n\ngo 1.18\n" },
	{ "python", "Python", "main.py", NULL, python_main, NULL, NULL },
	{ "node", "Node", "index.js", NULL, node_main, NULL, NULL },
};

/* Why the other presets have no socket hand-off mode. */
static const struct {
	const char *preset, *why;
} refusals[] = {
	{ "go-dlv", "under dlv, LISTEN_PID would be dlv's pid, not the program's" },
	{ "rust-cargo", "cargo run starts the program as its child, so LISTEN_PID would be "
	                "cargo's; run the built binary with \"sockets\" instead (see gust(1))" },
};

static const struct starter *find_starter(const char *preset)
{
	for (size_t i = 0; i < sizeof starters / sizeof *starters; i++)
		if (strcmp(starters[i].preset, preset) == 0)
			return &starters[i];
	return NULL;
}

const char *starter_refusal(const char *preset, char *err, size_t errlen)
{
	if (find_starter(preset))
		return NULL;
	for (size_t i = 0; i < sizeof refusals / sizeof *refusals; i++)
		if (strcmp(refusals[i].preset, preset) == 0) {
			snprintf(err, errlen, "init: --sockets: not with the %s preset: %s", preset,
			         refusals[i].why);
			return err;
		}
	snprintf(err, errlen,
	         "init: --sockets: no starter server for the %s preset (only go, python and "
	         "node take the socket in one line; take fd 3 by hand as gust(1) shows and add "
	         "\"sockets\" to the runner yourself)",
	         preset);
	return err;
}

int starter_parse_addr(const char *text, struct starter_addr *a, char *err, size_t errlen)
{
	const char *colon = strrchr(text, ':');
	const char *port = colon ? colon + 1 : text;
	size_t hl = colon ? (size_t)(colon - text) : 0;
	struct in_addr in;
	char *end;
	unsigned long p = 0;
	bool ok = port[0] >= '0' && port[0] <= '9' && hl < sizeof a->host;
	if (ok) {
		errno = 0;
		p = strtoul(port, &end, 10);
		ok = !errno && !*end && p >= 1 && p <= 65535;
	}
	if (ok) {
		if (colon)
			snprintf(a->host, sizeof a->host, "%.*s", (int)hl, text);
		else
			snprintf(a->host, sizeof a->host, "127.0.0.1");
		ok = inet_pton(AF_INET, a->host, &in) == 1;
	}
	if (!ok) {
		snprintf(err, errlen,
		         "init: --sockets=\"%s\": want PORT or IPV4:PORT (e.g. 127.0.0.1:8080)",
		         text);
		return -EINVAL;
	}
	a->port = (unsigned)p;
	return 0;
}

/* text with @HOST@ and @PORT@ replaced by a's, and @PAGE@ by the page;
 * malloc'd, NULL when out of memory. */
static char *expand(const char *text, const struct starter_addr *a)
{
	char port[8];
	snprintf(port, sizeof port, "%u", a->port);
	const struct {
		const char *mark, *with;
	} subst[] = { { "@HOST@", a->host }, { "@PORT@", port }, { "@PAGE@", page } };
	size_t n = strlen(text) + 1;
	for (const char *p = text; (p = strchr(p, '@')); p++)
		n += sizeof page;
	char *out = malloc(n), *o = out;
	if (!out)
		return NULL;
	while (*text) {
		size_t i = 0;
		while (i < sizeof subst / sizeof *subst && strncmp(text, subst[i].mark, 6))
			i++;
		if (i < sizeof subst / sizeof *subst) {
			o = stpcpy(o, subst[i].with);
			text += 6;
		} else {
			*o++ = *text++;
		}
	}
	*o = '\0';
	return out;
}

/* Write name from text unless it exists: 1 written, 0 there already,
 * -errno with err. */
static int write_absent(const char *name, const char *text, const struct starter_addr *a, char *err,
                        size_t errlen)
{
	if (access(name, F_OK) == 0)
		return 0;
	char *s = expand(text, a);
	if (!s) {
		snprintf(err, errlen, "init: out of memory");
		return -ENOMEM;
	}
	int r = config_write_new(name, s, err, errlen);
	free(s);
	return r < 0 ? r : 1;
}

bool starter_offered(const char *preset)
{
	return find_starter(preset) != NULL;
}

static bool kept(const struct starter *s)
{
	return s->own_ext ? config_has_ext(".", s->own_ext) : access(s->file, F_OK) == 0;
}

bool starter_kept(const char *preset)
{
	const struct starter *s = find_starter(preset);
	return s && kept(s);
}

int starter_write(const char *preset, const struct starter_addr *a, bool handed, char *msg,
                  size_t msglen, char *err, size_t errlen)
{
	const struct starter *s = find_starter(preset);
	if (!s) {
		snprintf(err, errlen, "init: no starter server for the %s preset", preset);
		return -EINVAL;
	}
	if (kept(s) && !handed) {
		snprintf(msg, msglen, "kept your %s program", s->lang);
		return 0;
	}
	if (kept(s)) {
		snprintf(msg, msglen,
		         "kept your %s program: gust holds %s:%u now, so it must take fd 3 when "
		         "LISTEN_FDS is set and LISTEN_PID is its pid instead of listening there "
		         "(see gust(1), --sockets)",
		         s->lang, a->host, a->port);
		return 0;
	}
	const struct {
		const char *name, *text;
	} files[] = { { s->file, s->text },
		      { s->mod_file, s->mod_text },
		      { "static/style.css", stylesheet } };
	const char *wrote[3];
	size_t n = 0;
	bool made_static = mkdir("static", 0777) == 0;
	if (!made_static && errno != EEXIST) {
		int e = errno;
		snprintf(err, errlen, "init: cannot create \"static\": %s", strerror(e));
		return -e;
	}
	for (size_t i = 0; i < sizeof files / sizeof *files; i++) {
		int r =
		    files[i].name ? write_absent(files[i].name, files[i].text, a, err, errlen) : 0;
		if (r < 0) {
			/* all or nothing: what this call wrote goes, what was there stays */
			while (n > 0)
				unlink(wrote[--n]);
			if (made_static)
				rmdir("static");
			return r;
		}
		if (r > 0)
			wrote[n++] = files[i].name;
	}
	char list[128] = "nothing";
	size_t off = 0;
	for (size_t i = 0; i < n; i++)
		off += (size_t)snprintf(list + off, sizeof list - off, "%s%s",
		                        !i          ? ""
		                        : i + 1 < n ? ", "
		                                    : " and ",
		                        wrote[i]);
	snprintf(msg, msglen, "wrote %s: it serves http://%s:%u/%s", list, a->host, a->port,
	         handed ? " on the socket gust hands over, and listens there itself when run "
	                  "without gust"
	                : "");
	return 0;
}
