/* starter.c - the socket hand-off mode of `gust init` (--sockets): the
 * starter servers it writes beside the config, for the presets whose
 * language takes an inherited listening socket in one line of its standard
 * library (Go, Python, Node). The texts carry @HOST@ and @PORT@ for the
 * address of the fallback listen. */
#include "config.h"

#include "presets.h"
#include "starter.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char go_main[] =
    "// A starter server from gust init --sockets. gust holds the listening\n"
    "// socket and hands it to every run as fd 3 (the systemd LISTEN_FDS\n"
    "// protocol), so connections made during a restart wait for the new run\n"
    "// instead of being refused; run without gust, it listens itself.\n"
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
    "\tsrv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) "
    "{\n"
    "\t\tfmt.Fprintln(w, \"hello from gust\")\n"
    "\t})}\n"
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
    "\"\"\"A starter server from gust init --sockets. gust holds the listening\n"
    "socket and hands it to every run as fd 3 (the systemd LISTEN_FDS\n"
    "protocol), so connections made during a restart wait for the new run\n"
    "instead of being refused; run without gust, it listens itself.\"\"\"\n"
    "import http.server\n"
    "import os\n"
    "import signal\n"
    "import socket\n"
    "import threading\n"
    "\n"
    "ADDR = (\"@HOST@\", @PORT@)\n"
    "\n"
    "\n"
    "class Handler(http.server.BaseHTTPRequestHandler):\n"
    "    def do_GET(self):\n"
    "        body = b\"hello from gust\\n\"\n"
    "        self.send_response(200)\n"
    "        self.send_header(\"Content-Type\", \"text/plain; charset=utf-8\")\n"
    "        self.send_header(\"Content-Length\", str(len(body)))\n"
    "        self.end_headers()\n"
    "        self.wfile.write(body)\n"
    "\n"
    "\n"
    "if os.environ.get(\"LISTEN_FDS\") and os.environ.get(\"LISTEN_PID\") == str(os.getpid()):\n"
    "    server = http.server.HTTPServer(ADDR, Handler, bind_and_activate=False)\n"
    "    server.socket.close()\n"
    "    server.socket = socket.socket(fileno=3)  # bound and listening already\n"
    "else:\n"
    "    server = http.server.HTTPServer(ADDR, Handler)\n"
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

static const char node_main[] =
    "// A starter server from gust init --sockets. gust holds the listening\n"
    "// socket and hands it to every run as fd 3 (the systemd LISTEN_FDS\n"
    "// protocol), so connections made during a restart wait for the new run\n"
    "// instead of being refused; run without gust, it listens itself.\n"
    "// import() loads node:http from CommonJS and ES modules alike.\n"
    "import(\"node:http\").then(({ createServer }) => {\n"
    "  const server = createServer((req, res) => {\n"
    "    res.end(\"hello from gust\\n\");\n"
    "  });\n"
    "  if (process.env.LISTEN_FDS && process.env.LISTEN_PID === String(process.pid)) {\n"
    "    server.listen({ fd: 3 }); // bound and listening already\n"
    "  } else {\n"
    "    server.listen(@PORT@, \"@HOST@\");\n"
    "  }\n"
    "  // On SIGTERM (gust's stop signal) answer the requests in hand, then\n"
    "  // exit: connections not accepted yet wait in gust's socket.\n"
    "  process.on(\"SIGTERM\", () => server.close());\n"
    "  console.log(\"serving http://@HOST@:@PORT@/\");\n"
    "});\n";

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

/* text with @HOST@ and @PORT@ replaced by a's; malloc'd, NULL when out of
 * memory. */
static char *expand(const char *text, const struct starter_addr *a)
{
	char port[8];
	snprintf(port, sizeof port, "%u", a->port);
	size_t n = strlen(text) + 1;
	for (const char *p = text; (p = strchr(p, '@')); p++)
		n += strlen(a->host) + sizeof port;
	char *out = malloc(n), *o = out;
	if (!out)
		return NULL;
	while (*text) {
		const char *with = strncmp(text, "@HOST@", 6) == 0   ? a->host
		                   : strncmp(text, "@PORT@", 6) == 0 ? port
		                                                     : NULL;
		if (with) {
			o = stpcpy(o, with);
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

int starter_write(const char *preset, const struct starter_addr *a, char *msg, size_t msglen,
                  char *err, size_t errlen)
{
	const struct starter *s = find_starter(preset);
	if (!s) {
		snprintf(err, errlen, "init: --sockets: no starter server for the %s preset",
		         preset);
		return -EINVAL;
	}
	bool own = s->own_ext ? config_has_ext(".", s->own_ext) : access(s->file, F_OK) == 0;
	if (own) {
		snprintf(msg, msglen,
		         "kept your %s program: gust holds %s:%u now, so it must take fd 3 when "
		         "LISTEN_FDS is set and LISTEN_PID is its pid instead of listening there "
		         "(see gust(1), --sockets)",
		         s->lang, a->host, a->port);
		return 0;
	}
	int mod = s->mod_file ? write_absent(s->mod_file, s->mod_text, a, err, errlen) : 0;
	if (mod < 0)
		return mod;
	int r = write_absent(s->file, s->text, a, err, errlen);
	if (r < 0)
		return r;
	snprintf(msg, msglen,
	         "wrote %s%s%s: it serves http://%s:%u/ on the socket gust hands over, and "
	         "listens there itself when run without gust",
	         s->file, mod > 0 ? " and " : "", mod > 0 ? s->mod_file : "", a->host, a->port);
	return 0;
}
