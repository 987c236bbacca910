/* main.c - the command line. Only main() decides to exit. */
#include "config.h"

#include "app.h"
#include "plugins.h"
#include "conf.h"
#include "ctl_client.h"
#include "loader.h"
#include "log.h"
#include "memtrim.h"
#include "presets.h"
#include "reload.h"
#include "starter.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define EXIT_USAGE 2

static void usage(FILE *out)
{
	fputs("Usage: gust [OPTIONS] [-- ARGS...]\n"
	      "       gust init [--preset NAME] [--sockets[=ADDR]] [--livereload[=PORT]] [FILE]\n"
	      "       gust ctl [-c FILE] rebuild|restart|status|quit [--json]\n"
	      "Watch a source tree, rebuild on change, stop the old program's whole process\n"
	      "tree and start the new one.\n"
	      "\n"
	      "ARGS after -- are appended to the program's arguments (runner.args) for\n"
	      "this session.\n"
	      "\n"
	      "Options:\n"
	      "  -c, --config FILE     read FILE instead of ./gust.json\n"
	      "      --set KEY=VALUE   override a config key (e.g. runner.kill_delay_ms=500);\n"
	      "                        VALUE is JSON, or else a string; repeatable\n"
	      "      --print-config    print the effective config and exit\n"
	      "      --list-plugins    list the plugins found and exit\n"
	      "  -v, --verbose         more detail (twice: debug)\n"
	      "  -q, --quiet           only warnings and errors\n"
	      "      --color WHEN      auto, always or never (NO_COLOR is honoured)\n"
	      "      --timestamps      prefix gust's lines with the time\n"
	      "      --version         print the version and exit\n"
	      "  -h, --help            print this help and exit\n"
	      "\n"
	      "init writes a starter gust.json (or FILE) for the project in the current\n"
	      "directory, picking a preset from its files unless --preset is given\n"
	      "(presets: go, go-dlv, c-make, c-cmake, meson, rust-cargo, node, python); when\n"
	      "it recognises none it says so and exits 2. It never overwrites.\n"
	      "With --sockets[=ADDR] (go, node, python) gust holds the program's listening\n"
	      "socket on ADDR (PORT or IPV4:PORT, default 127.0.0.1:8080) across restarts,\n"
	      "and init writes a starter server that takes it, unless the project has its\n"
	      "own program.\n"
	      "With --livereload[=PORT] the browser opens a proxy on 127.0.0.1:PORT (default\n"
	      "8090) that reloads the page when the new run is ready (a livereload hook and\n"
	      "a \"reload\" rule for .css files); with go, node and python init writes the\n"
	      "starter server too.\n"
	      "\n"
	      "ctl asks the gust running in this project to rebuild, restart, report its\n"
	      "status or quit (see gust ctl --help).\n"
	      "\n"
	      "Exit status: 0 after a clean shutdown (SIGINT, SIGTERM, SIGHUP), 1 on a runtime\n"
	      "failure, 2 on a usage or config error. See gust(1) and gust.json(5).\n",
	      out);
}

/* An optional argument only follows "=": "--sockets 9000" would make a
 * config file named 9000. Whether that is what file looks like, said. */
static bool arg_after_space(const char *opt, const char *what, const char *file, bool looks)
{
	if (looks)
		log_error("init: --%s takes its %s after \"=\": --%s=%s", opt, what, opt, file);
	return looks;
}

static int cmd_init(int argc, char **argv)
{
	const char *preset = NULL;
	const char *file = "gust.json";
	const char *sockets = NULL;    /* --sockets[=ADDR] */
	const char *livereload = NULL; /* --livereload[=PORT] */
	static const struct option opts[] = {
		{ "preset", required_argument, NULL, 'p' },
		{ "sockets", optional_argument, NULL, 's' },
		{ "livereload", optional_argument, NULL, 'l' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "p:h", opts, NULL)) != -1) {
		switch (c) {
		case 'p':
			preset = optarg;
			break;
		case 's':
			sockets = optarg ? optarg : "";
			break;
		case 'l':
			livereload = optarg ? optarg : "";
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			return EXIT_USAGE;
		}
	}
	if (optind < argc)
		file = argv[optind++];
	if (optind < argc) {
		log_error("init: unexpected argument \"%s\"", argv[optind]);
		return EXIT_USAGE;
	}
	char err[1024], msg[2048];
	struct starter_addr addr;
	unsigned proxy_port = 0;
	if ((sockets && !*sockets &&
	     arg_after_space("sockets", "address", file,
	                     starter_parse_addr(file, &addr, err, sizeof err) == 0)) ||
	    (livereload && !*livereload &&
	     arg_after_space("livereload", "port", file,
	                     config_parse_proxy_port(file, &proxy_port, err, sizeof err) == 0)))
		return EXIT_USAGE;
	if ((sockets && starter_parse_addr(*sockets ? sockets : "127.0.0.1:8080", &addr, err,
	                                   sizeof err) < 0) ||
	    (livereload && config_parse_proxy_port(*livereload ? livereload : "8090", &proxy_port,
	                                           err, sizeof err) < 0) ||
	    config_init(file, preset, sockets ? &addr : NULL, proxy_port, msg, sizeof msg, err,
	                sizeof err) < 0) {
		log_error("%s", err);
		return EXIT_USAGE;
	}
	for (char *line = strtok(msg, "\n"); line; line = strtok(NULL, "\n"))
		printf("gust: %s\n", line);
	if (!preset)
		preset = config_detect_preset(".");
	if (strcmp(preset, "c-make") == 0 && access("configure", F_OK) == 0 &&
	    access("Makefile", F_OK) < 0 && access("makefile", F_OK) < 0 &&
	    access("GNUmakefile", F_OK) < 0)
		printf("gust: run ./configure first: the c-make preset runs make\n");
	return 0;
}

/* What the command line asked for. */
struct cli {
	const char *file;
	const char **sets; /* NULL-terminated, malloc'd */
	size_t nsets;
	bool print, list, timestamps;
	int verbose, quiet, color;
	char **run_args; /* what follows the first --, borrowed from argv */
	size_t nrun_args;
};

static int parse_color(const char *arg)
{
	if (strcmp(arg, "auto") == 0)
		return COLOR_AUTO;
	if (strcmp(arg, "always") == 0)
		return COLOR_ALWAYS;
	if (strcmp(arg, "never") == 0)
		return COLOR_NEVER;
	log_error("--color: expected auto, always or never, got \"%s\"", arg);
	return -1;
}

/* Read the options into cli: -1 to go on, else the exit status. A flat
 * switch over the options. */
static int parse_cli(int argc, char **argv, struct cli *cli)
{
	enum { OPT_SET = 256, OPT_PRINT, OPT_LIST, OPT_COLOR, OPT_VERSION, OPT_TS };
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "set", required_argument, NULL, OPT_SET },
		{ "print-config", no_argument, NULL, OPT_PRINT },
		{ "list-plugins", no_argument, NULL, OPT_LIST },
		{ "verbose", no_argument, NULL, 'v' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "color", required_argument, NULL, OPT_COLOR },
		{ "colour", required_argument, NULL, OPT_COLOR },
		{ "timestamps", no_argument, NULL, OPT_TS },
		{ "version", no_argument, NULL, OPT_VERSION },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	/* "-c --" names a file and ends nothing; "+": no reordering, so only
	 * what follows the first -- is the program's */
	const char *last_optarg = NULL;
	int c;
	while ((c = getopt_long(argc, argv, "+c:vqh", opts, NULL)) != -1) {
		last_optarg = optarg;
		switch (c) {
		case 'c':
			cli->file = optarg;
			break;
		case OPT_SET:
			cli->sets[cli->nsets++] = optarg;
			break;
		case OPT_PRINT:
			cli->print = true;
			break;
		case OPT_LIST:
			cli->list = true;
			break;
		case 'v':
			cli->verbose++;
			break;
		case 'q':
			cli->quiet = 1;
			break;
		case OPT_TS:
			cli->timestamps = true;
			break;
		case OPT_COLOR:
			if ((cli->color = parse_color(optarg)) < 0)
				return EXIT_USAGE;
			break;
		case OPT_VERSION:
			printf("gust %s (plugin ABI %d.%d)\n", PACKAGE_VERSION, GUST_ABI_MAJOR,
			       GUST_ABI_MINOR);
			return 0;
		case 'h':
			usage(stdout);
			return 0;
		default:
			fputs("Try 'gust --help'.\n", stderr);
			return EXIT_USAGE;
		}
	}
	cli->run_args = argv + optind;
	if (optind > 1 && strcmp(argv[optind - 1], "--") == 0 && argv[optind - 1] != last_optarg)
		cli->nrun_args = (size_t)(argc - optind);
	else if (optind < argc) {
		log_error("unexpected argument \"%s\" (try 'gust --help'; the program's "
		          "arguments go after --)",
		          argv[optind]);
		return EXIT_USAGE;
	}
	return -1;
}

/* The config the command line names, with the program's arguments; the
 * log set up as it says. -1 to go on, else the exit status. */
static int load(const struct cli *cli, struct config *cfg)
{
	char err[2048];
	int r;
	memset(cfg, 0, sizeof *cfg);
	if (config_load(cfg, cli->file, cli->sets, err, sizeof err) < 0) {
		log_error("%s", err);
		return EXIT_USAGE;
	}
	if ((r = config_append_run_args(cfg, cli->run_args, cli->nrun_args)) < 0) {
		log_error("-- ARGS: %s",
		          r == -EILSEQ ? "an argument is not valid UTF-8" : "out of memory");
		return r == -EILSEQ ? EXIT_USAGE : 1;
	}
	log_setup(cli->color >= 0 ? (enum color_mode)cli->color : cfg->log.color,
	          cli->quiet ? -1 : (cli->verbose ? cli->verbose : cfg->log.verbosity),
	          cli->timestamps || cfg->log.timestamps);
	return -1;
}

static int print_config(struct config *cfg)
{
	plugins_describe(cfg); /* the plugins' own defaults */
	char *s = config_dump(cfg);
	if (s)
		printf("%s\n", s);
	free(s);
	return s ? 0 : 1;
}

static int list_plugins(const struct config *cfg)
{
	char **dirs = plugin_search_dirs(cfg->plugin_path);
	int n = plugin_list(dirs, stdout);
	if (n == 0) {
		log_error("no plugins found in:");
		for (size_t i = 0; dirs && dirs[i]; i++)
			fprintf(stderr, "  %s\n", dirs[i]);
	}
	plugin_free_dirs(dirs);
	return n > 0 ? 0 : 1;
}

int main(int argc, char **argv)
{
	mem_init();
	log_setup(COLOR_AUTO, 0, false);
	if (argc > 1 && strcmp(argv[1], "init") == 0)
		return cmd_init(argc - 1, argv + 1);
	if (argc > 1 && strcmp(argv[1], "ctl") == 0)
		return ctl_main(argc - 1, argv + 1);
	struct cli cli = { .color = -1, .sets = calloc((size_t)argc + 1, sizeof(char *)) };
	if (!cli.sets) {
		log_error("out of memory");
		return 1;
	}
	int status = parse_cli(argc, argv, &cli);
	struct config cfg;
	if (status < 0)
		status = load(&cli, &cfg);
	else
		memset(&cfg, 0, sizeof cfg);
	if (status >= 0) {
		free(cli.sets);
		config_free(&cfg);
		return status;
	}
	if (cli.print)
		status = print_config(&cfg);
	else if (cli.list)
		status = list_plugins(&cfg);
	else {
		struct app app;
		int r = app_init(&app, &cfg);
		if (r < 0)
			status = r == -EINVAL || r == -ENOENT || r == -ENOEXEC ? EXIT_USAGE : 1;
		else {
			/* a reload loads the file again with these */
			struct reload_src src = { (const char *const *)cli.sets, cli.run_args,
				                  cli.nrun_args };
			status = app_run(&app, &src);
		}
		app_fini(&app);
	}
	free(cli.sets);
	config_free(&cfg);
	return status;
}
