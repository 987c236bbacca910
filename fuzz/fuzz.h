/* fuzz.h - what the fuzz targets (one parser each, fuzz/NAME.c) share: a
 * private temporary directory, writing an input into a file there, and
 * cutting an input into sections and lines. The same harnesses run under
 * libFuzzer (`make fuzz`, clang, --enable-fuzzing) and, through replay.c,
 * as ordinary tests over the seed corpus and the regression inputs
 * (`make check`, any compiler). */
#ifndef GUST_FUZZ_H
#define GUST_FUZZ_H

#include <stddef.h>
#include <stdint.h>

/* libFuzzer's entry point, defined once per target. Always returns 0. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A directory of this process's own under $TMPDIR (or /tmp), created on
 * the first call and removed with everything in it at exit. Aborts when it
 * cannot be made: a harness without it would test nothing. */
const char *fuzz_dir(void);

/* fuzz_dir()/rel into buf; aborts if it does not fit (rel is the harness's
 * own fixed name, never input). */
void fuzz_path(char *buf, size_t len, const char *rel);

/* Create (or truncate) fuzz_dir()/rel holding exactly len bytes of data;
 * its absolute path goes to buf. Aborts on failure. */
void fuzz_write(const char *rel, const void *data, size_t len, char *buf, size_t buflen);

/* A NUL-terminated malloc'd copy of data (aborts when out of memory). */
char *fuzz_text(const uint8_t *data, size_t size);

/* Cut text (modified in place) at every line that is exactly "---": up to
 * max sections, the last one taking the rest. Returns how many were found
 * (at least 1); sec[i] for i beyond that is "". */
size_t fuzz_sections(char *text, char **sec, size_t max);

/* Abort when an error message for the user is empty. what: who made it.
 * (Control characters in it are fine: the log escapes them.) */
void fuzz_check_message(const char *what, const char *msg);

#endif
