/* term.h - gust's terminal: keys typed at it (stdin in non-canonical,
 * no-echo mode, read from the loop one key at a time, and the terminal's
 * modes restored on every way out: return, exit(), a crash signal,
 * Ctrl-Z), and clearing the screen. What the keys do is termkeys.c. */
#ifndef GUST_TERM_H
#define GUST_TERM_H

#include <stdbool.h>

struct loop;

/* Take keys from stdin when it is a terminal and gust is in its
 * foreground: on_key(key) from the loop for each byte typed. true when
 * keys are on; false (nothing changed) when stdin is no terminal, gust is
 * in the background, or the terminal cannot be set. */
bool term_keys_start(struct loop *loop, void (*on_key)(int key, void *arg), void *arg);
/* Give the terminal its modes back and stop reading; idempotent. */
void term_keys_stop(void);
/* Clear the screen and home the cursor, when stdout is a terminal. */
void term_clear_screen(void);

#endif
