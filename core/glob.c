/* glob.c - glob matching with "**" components (see glob.h). */
#include "config.h"

#include "glob.h"

#include <fnmatch.h>
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* The longest bracket expression, "[" to "]": a longer one is a literal
 * "[" (a bound that also keeps a hostile pattern's scans short). */
#define BRACKET_MAX 255

/* The length of the bracket expression at p (p[0] == '['), 0 when p opens
 * no complete one of at most BRACKET_MAX bytes. */
static size_t bracket_len(const char *p)
{
	const char *j = p + 1, *end = p + BRACKET_MAX - 1; /* the last place for "]" */

	if (*j == '!' || *j == '^')
		j++;
	if (*j == ']')
		j++;
	while (j <= end && *j && *j != ']') {
		if (j[0] == '[' && (j[1] == ':' || j[1] == '.' || j[1] == '=')) {
			/* "[:class:]", "[.sym.]", "[=equiv=]": to the closing
			 * delimiter and "]" */
			const char *e = j + 2;
			while (e < end && *e && !(e[0] == j[1] && e[1] == ']'))
				e++;
			if (e >= end || !*e)
				return 0;
			j = e + 2;
			continue;
		}
		if (*j == '\\' && j[1])
			j++;
		j++;
	}
	if (j > end || *j != ']')
		return 0;
	return (size_t)(j - p) + 1;
}

/* Whether c matches the bracket expression p of n bytes ("/" never does). */
static bool bracket_hit(const char *p, size_t n, char c)
{
	char buf[BRACKET_MAX + 1];
	char s[2] = { c, '\0' };

	if (c == '/')
		return false;
	memcpy(buf, p, n);
	buf[n] = '\0';
	if (buf[1] == '^')
		buf[1] = '!';
	return fnmatch(buf, s, 0) == 0;
}

/* The pattern, cut into tokens: once per glob_match(), once for all for a
 * compiled pattern (glob_compile()). */
enum tok_kind {
	TK_END,       /* the string must end here */
	TK_CHAR,      /* one literal character (plain or "\"-escaped) */
	TK_ANY,       /* "?": one character but "/" */
	TK_BRACKET,   /* "[...]": one character but "/" that it matches */
	TK_STAR,      /* a run of "*": any characters but "/" */
	TK_STARSLASH, /* a "**" component and its "/": "" or anything ending in "/" */
	TK_STARSTAR   /* a final "**" component: anything */
};

struct tok {
	unsigned char kind; /* enum tok_kind */
	char c;             /* TK_CHAR */
	unsigned short len; /* TK_BRACKET: its length (at most BRACKET_MAX) */
	const char *p;      /* TK_BRACKET: the expression */
};

/* Cut pat into toks (room for strlen(pat) + 1); returns the number of
 * tokens, the last one TK_END. */
static size_t tokenize(const char *pat, struct tok *toks)
{
	const char *p = pat;
	size_t n = 0;

	for (;; n++) {
		struct tok *t = &toks[n];
		size_t len;

		switch (*p) {
		case '\0':
			t->kind = TK_END;
			return n + 1;
		case '*':
			if (p[1] == '*' && (p == pat || p[-1] == '/') && (p[2] == '/' || !p[2])) {
				t->kind = p[2] ? TK_STARSLASH : TK_STARSTAR;
				p += p[2] ? 3 : 2;
				continue;
			}
			t->kind = TK_STAR;
			p += strspn(p, "*");
			continue;
		case '?':
			t->kind = TK_ANY;
			p++;
			continue;
		case '[':
			if ((len = bracket_len(p))) {
				t->kind = TK_BRACKET;
				t->p = p;
				t->len = (unsigned short)len;
				p += len;
				continue;
			}
			break;
		case '\\':
			if (p[1])
				p++;
			break;
		}
		t->kind = TK_CHAR;
		t->c = *p++;
	}
}

/* The set of tokens a match can stand at: bit i of at[] means "token i is
 * next", bit i of in[] "inside the TK_STARSLASH token i" (it has consumed
 * characters and must still consume a "/" to be done). */
struct states {
	uint64_t *at, *in;
};

#define SET(v, i) ((v)[(i) / 64] |= (uint64_t)1 << ((i) % 64))
#define HAS(v, i) (((v)[(i) / 64] >> ((i) % 64)) & 1)

/* Make token i next, with all it can skip to without consuming anything.
 * True when that reaches a final "**": everything left matches. */
static bool enter(const struct tok *toks, struct states *s, size_t i)
{
	for (;;) {
		if (HAS(s->at, i))
			return false; /* and what it skips to is there too */
		SET(s->at, i);
		if (toks[i].kind == TK_STARSTAR)
			return true;
		if (toks[i].kind != TK_STAR && toks[i].kind != TK_STARSLASH)
			return false;
		i++; /* a star can match "" */
	}
}

/* Consume c from every state in cur into nxt; true when a final "**" was
 * reached. */
static bool step(const struct tok *toks, size_t words, const struct states *cur, struct states *nxt,
                 char c)
{
	memset(nxt->at, 0, words * sizeof *nxt->at);
	memset(nxt->in, 0, words * sizeof *nxt->in);
	for (size_t w = 0; w < words; w++) {
		for (uint64_t bits = cur->at[w] | cur->in[w]; bits; bits &= bits - 1) {
			size_t i = w * 64 + (size_t)__builtin_ctzll(bits);
			const struct tok *t = &toks[i];
			bool next = false;

			switch (t->kind) {
			case TK_CHAR:
				next = c == t->c;
				break;
			case TK_ANY:
				next = c != '/';
				break;
			case TK_BRACKET:
				next = bracket_hit(t->p, t->len, c);
				break;
			case TK_STAR:
				if (c != '/' && enter(toks, nxt, i))
					return true;
				break;
			case TK_STARSLASH:
				SET(nxt->in, i);
				next = c == '/';
				break;
			case TK_END:
			case TK_STARSTAR:
				break;
			}
			if (next && enter(toks, nxt, i + 1))
				return true;
		}
	}
	return false;
}

/* Run the automaton of toks (ntoks, the last TK_END) over s, with the
 * state sets in bits (4 * words, words = (ntoks + 63) / 64). */
static bool run(const struct tok *toks, size_t ntoks, size_t words, uint64_t *bits, const char *s)
{
	struct states a = { bits, bits + words }, b = { bits + 2 * words, bits + 3 * words };
	struct states *cur = &a, *nxt = &b;

	memset(bits, 0, 4 * words * sizeof *bits);
	if (enter(toks, cur, 0))
		return true;
	for (; *s; s++) {
		struct states *t;
		if (step(toks, words, cur, nxt, *s))
			return true;
		t = cur;
		cur = nxt;
		nxt = t;
	}
	return HAS(cur->at, ntoks - 1); /* TK_END */
}

/* A simulation of the pattern as an automaton, one character of s at a
 * time, with the set of tokens a match can stand at: O(len(pat) * len(s))
 * time, where trying each way to split s between the stars is exponential
 * ("*a*a*a*a*a*a*a*b" against a long run of "a"). */
bool glob_match(const char *pat, const char *s)
{
	struct tok stoks[64];
	uint64_t sbits[4 * 1];
	size_t plen = strlen(pat);
	struct tok *toks = stoks;
	uint64_t *bits = sbits;
	bool match = false;

	if (plen + 1 > sizeof stoks / sizeof stoks[0]) {
		toks = malloc((plen + 1) * sizeof *toks);
		if (!toks)
			return false;
	}
	size_t ntoks = tokenize(pat, toks), words = (ntoks + 63) / 64;
	if (words > 1 && !(bits = malloc(4 * words * sizeof *bits)))
		goto out;
	match = run(toks, ntoks, words, bits, s);
out:
	if (bits != sbits)
		free(bits);
	if (toks != stoks)
		free(toks);
	return match;
}

struct glob {
	char *pat;        /* a copy: TK_BRACKET tokens point into it */
	struct tok *toks; /* ntoks, the last TK_END */
	size_t ntoks, words;
	uint64_t *bits; /* the state sets, reused by every glob_run() */
};

struct glob *glob_compile(const char *pat)
{
	size_t plen = strlen(pat);
	struct glob *g = calloc(1, sizeof *g);

	if (!g || !(g->pat = strdup(pat)) || !(g->toks = malloc((plen + 1) * sizeof *g->toks)))
		goto fail;
	g->ntoks = tokenize(g->pat, g->toks);
	struct tok *fit = realloc(g->toks, g->ntoks * sizeof *g->toks);
	if (fit)
		g->toks = fit;
	g->words = (g->ntoks + 63) / 64;
	if (!(g->bits = malloc(4 * g->words * sizeof *g->bits)))
		goto fail;
	return g;
fail:
	glob_free(g);
	return NULL;
}

bool glob_run(struct glob *g, const char *path)
{
	return run(g->toks, g->ntoks, g->words, g->bits, path);
}

void glob_free(struct glob *g)
{
	if (!g)
		return;
	free(g->pat);
	free(g->toks);
	free(g->bits);
	free(g);
}

bool glob_ancestor(const char *pat, const char *rel, size_t len, bool stop_at_stars)
{
	const char *p = pat, *r = rel, *rend = rel + len;
	char pc[NAME_MAX + 1], rc[NAME_MAX + 1];

	while (r < rend) {
		const char *pe = strchr(p, '/'), *re = memchr(r, '/', (size_t)(rend - r));
		size_t pl, rl;

		if (!pe)
			return false; /* the pattern's last component names the target */
		if (!re)
			re = rend;
		pl = (size_t)(pe - p);
		rl = (size_t)(re - r);
		if (pl == 2 && p[0] == '*' && p[1] == '*')
			return !stop_at_stars;
		if (pl > NAME_MAX || rl > NAME_MAX)
			return false;
		memcpy(pc, p, pl);
		pc[pl] = '\0';
		memcpy(rc, r, rl);
		rc[rl] = '\0';
		if (!glob_match(pc, rc))
			return false;
		p = pe + 1;
		r = re < rend ? re + 1 : rend;
	}
	return true;
}
