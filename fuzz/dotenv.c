/* dotenv.c - fuzz target "dotenv": the .env parser of the runners'
 * env_files (dotenv_parse_file(), plugins/lib/dotenv.c).
 *
 * Input: the whole .env file. Checked: a success gives only "NAME=value"
 * entries with a valid NAME; a failure gives a message naming the file. */
#include "config.h"

#include "dotenv.h"
#include "fuzz.h"

#include <ctype.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void check_entry(const char *kv)
{
	const char *eq = strchr(kv, '=');
	bool ok = eq && eq > kv && (isalpha((unsigned char)kv[0]) || kv[0] == '_');
	for (const char *p = kv + 1; ok && p < eq; p++)
		ok = isalnum((unsigned char)*p) || *p == '_';
	if (!ok) {
		fprintf(stderr, "fuzz: not NAME=value: \"%s\"\n", kv);
		abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char path[PATH_MAX], err[1024];
	fuzz_write(".env", data, size, path, sizeof path);
	char **env = NULL;
	size_t n = 0;
	err[0] = '\0';
	int r = dotenv_parse_file(path, &env, &n, err, sizeof err);
	if (r < 0) {
		fuzz_check_message("dotenv_parse_file", err);
		if (strncmp(err, path, strlen(path)) != 0) {
			fprintf(stderr, "fuzz: the message does not name the file: %s\n", err);
			abort();
		}
	}
	for (size_t i = 0; i < n; i++) {
		if (r == 0)
			check_entry(env[i]);
		free(env[i]);
	}
	if (env && env[n]) {
		fprintf(stderr, "fuzz: the list is not NULL-terminated\n");
		abort();
	}
	free(env);
	return 0;
}
