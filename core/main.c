/* main.c - the command line. Only main() decides to exit. */
#include "config.h"

#include "app.h"
#include "conf.h"
#include "ctl_client.h"
#include "loader.h"
#include "log.h"
#include "presets.h"

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
	      "       gust init [--preset NAME] [FILE]\n"
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
	      "(presets: go, go-dlv, c-make, rust-cargo, node, python). It never overwrites.\n"
	      "\n"
	      "ctl asks the gust running in this project to rebuild, restart, report its\n"
	      "status or quit (see gust ctl --help).\n"
	      "\n"
	      "Exit status: 0 after a clean shutdown (SIGINT, SIGTERM, SIGHUP), 1 on a runtime\n"
	      "failure, 2 on a usage or config error. See gust(1) and gust.json(5).\n",
	      out);
}

static int cmd_init(int argc, char **argv)
{
	const char *preset = NULL;
	const char *file = "gust.json";
	static const struct option opts[] = {
		{ "preset", required_argument, NULL, 'p' },
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
	char err[1024];
	if (config_init_file(file, preset, err, sizeof err) < 0) {
		log_error("%s", err);
		return EXIT_USAGE;
	}
	if (!preset)
		preset = config_detect_preset(".");
	printf("gust: wrote %s (preset %s)\n", file, preset ? preset : "go");
	return 0;
}

int main(int argc, char **argv)
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
	const char *file = NULL;
	const char **sets = calloc((size_t)argc + 1, sizeof *sets);
	size_t nsets = 0;
	bool print = false, list = false, timestamps = false;
	int verbose = 0, quiet = 0, color = -1;
	int c, r, status = 0;
	/* "-c --" names a file and ends nothing; "+": no reordering, so only
	 * what follows the first -- is the program's */
	const char *last_optarg = NULL;

	log_setup(COLOR_AUTO, 0, false);
	if (!sets) {
		log_error("out of memory");
		return 1;
	}
	if (argc > 1 && strcmp(argv[1], "init") == 0) {
		status = cmd_init(argc - 1, argv + 1);
		free(sets);
		return status;
	}
	if (argc > 1 && strcmp(argv[1], "ctl") == 0) {
		free(sets);
		return ctl_main(argc - 1, argv + 1);
	}
	while ((c = getopt_long(argc, argv, "+c:vqh", opts, NULL)) != -1) {
		last_optarg = optarg;
		switch (c) {
		case 'c':
			file = optarg;
			break;
		case OPT_SET:
			sets[nsets++] = optarg;
			break;
		case OPT_PRINT:
			print = true;
			break;
		case OPT_LIST:
			list = true;
			break;
		case 'v':
			verbose++;
			break;
		case 'q':
			quiet = 1;
			break;
		case OPT_TS:
			timestamps = true;
			break;
		case OPT_COLOR:
			if (strcmp(optarg, "auto") == 0)
				color = COLOR_AUTO;
			else if (strcmp(optarg, "always") == 0)
				color = COLOR_ALWAYS;
			else if (strcmp(optarg, "never") == 0)
				color = COLOR_NEVER;
			else {
				log_error("--color: expected auto, always or never, got \"%s\"",
				          optarg);
				free(sets);
				return EXIT_USAGE;
			}
			break;
		case OPT_VERSION:
			printf("gust %s (plugin ABI %d.%d)\n", PACKAGE_VERSION, GUST_ABI_MAJOR,
			       GUST_ABI_MINOR);
			free(sets);
			return 0;
		case 'h':
			usage(stdout);
			free(sets);
			return 0;
		default:
			fputs("Try 'gust --help'.\n", stderr);
			free(sets);
			return EXIT_USAGE;
		}
	}
	char **run_args = argv + optind;
	size_t nrun_args = 0;
	if (optind > 1 && strcmp(argv[optind - 1], "--") == 0 && argv[optind - 1] != last_optarg)
		nrun_args = (size_t)(argc - optind);
	else if (optind < argc) {
		log_error("unexpected argument \"%s\" (try 'gust --help'; the program's "
		          "arguments go after --)",
		          argv[optind]);
		free(sets);
		return EXIT_USAGE;
	}

	struct config cfg;
	char err[2048];
	memset(&cfg, 0, sizeof cfg);
	if (config_load(&cfg, file, sets, err, sizeof err) < 0) {
		log_error("%s", err);
		config_free(&cfg);
		free(sets);
		return EXIT_USAGE;
	}
	free(sets);
	if ((r = config_append_run_args(&cfg, run_args, nrun_args)) < 0) {
		log_error("-- ARGS: %s",
		          r == -EILSEQ ? "an argument is not valid UTF-8" : "out of memory");
		config_free(&cfg);
		return r == -EILSEQ ? EXIT_USAGE : 1;
	}
	log_setup(color >= 0 ? (enum color_mode)color : cfg.log.color,
	          quiet ? -1 : (verbose ? verbose : cfg.log.verbosity),
	          timestamps || cfg.log.timestamps);

	if (print) {
		char *s = config_dump(&cfg);
		if (s)
			printf("%s\n", s);
		free(s);
		config_free(&cfg);
		return s ? 0 : 1;
	}
	if (list) {
		char **dirs = plugin_search_dirs(cfg.plugin_path);
		int n = plugin_list(dirs, stdout);
		if (n == 0) {
			log_error("no plugins found in:");
			for (size_t i = 0; dirs && dirs[i]; i++)
				fprintf(stderr, "  %s\n", dirs[i]);
		}
		plugin_free_dirs(dirs);
		config_free(&cfg);
		return n > 0 ? 0 : 1;
	}

	struct app app;
	r = app_init(&app, &cfg);
	if (r < 0)
		status = r == -EINVAL || r == -ENOENT || r == -ENOEXEC ? EXIT_USAGE : 1;
	else
		status = app_run(&app);
	app_fini(&app);
	config_free(&cfg);
	return status;
}
