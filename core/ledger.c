/* ledger.c - content hashes for exclude_unchanged (see ledger.h).
 *
 * ledger_unchanged() hashes the file's content (XXH3, streamed) and
 * compares it with the hash recorded at the last ledger_commit(). A file
 * never seen before has no baseline: its hash is recorded and it counts as
 * a change. Only ledger_commit() replaces a recorded hash (ledger_stage() records a first sighting
 * too, and ledger_forget() drops them all), so a truncate followed by an identical write compares
 * equal in the end. A missing or unreadable file is always a change.
 *
 * The hashes a build commits are taken when it starts (ledger_stage()), not
 * when it ends: an edit made while the build runs is not what it built, and
 * must still count as a change when its event comes after the build. While
 * a build runs, its staged hash is the baseline of the files it builds: a
 * second identical save (format on save) is no change, and going back to the
 * old content is one. Only the content when the debounce window ends
 * counts, never a passing state: a file rewritten in place (truncated, then
 * written) with the same bytes, by an editor or by the build itself (go
 * generate), is no change. The price: content that changes and comes back
 * within one window while a build runs is taken as unchanged, though the
 * build may have read the other version (a hash taken after the fact cannot
 * know; a dirty flag tried for it made such builds loop, and identical
 * saves restart builds).
 *
 * In a storm each file is read once per build: the app hashes nothing at
 * events, ledger_as_built() reads only files a build has seen, and
 * ledger_stage() takes what ledger_as_built() read in the same pass (one
 * loop callback: no event can come between them).
 */
#include "config.h"

#include "ledger.h"

#include "rootpath.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* compiled in from the header, as the plugins do: no libxxhash mapped at
 * run time (docs/DESIGN.md, "Memory") */
#define XXH_INLINE_ALL
#include <xxhash.h>

/* Records live in open-addressing tables keyed by the XXH3 of the
 * root-relative path (linear probing, a power-of-2 capacity, a load of at
 * most 3/4, never a deletion): no path is kept. Two paths of one key would
 * share a record; at 64 bits that is ~10^-10 for 10^5 files, the same odds
 * as two contents of one hash, which the ledger takes anyway.
 *
 * Each file a build ever had keeps a 24-byte record for gust's whole life
 * (as a uthash entry with its path it was ~170 bytes). What only a running
 * build or an open pass needs is in a second table, freed once no build is
 * staged and no pass is open. */
struct hrec {
	uint64_t key;        /* 0: an empty slot */
	uint64_t hash;       /* the content built (or first seen) */
	unsigned gone : 1;   /* missing at the last commit: any content is a change */
	unsigned built : 1;  /* hash is from ledger_commit(), not a first sighting */
	unsigned staged : 1; /* a running build started from its trec's st_ */
};

struct trec {
	uint64_t key;
	uint64_t st_hash; /* what the running build started from */
	/* the content ledger_as_built() read in the open pass (now_pass ==
	 * the ledger's pass), for ledger_stage() to take without reading again */
	uint64_t now_hash;
	unsigned now_pass;
	unsigned staged : 1;
	unsigned st_gone : 1;
	unsigned now_ok : 1;
};

/* A table of esz-byte elements whose first member is the uint64_t key. */
struct table {
	char *v; /* cap slots; NULL: none yet */
	size_t cap, n, esz;
};

struct ledger {
	char *root;
	size_t root_len;
	struct table recs;  /* struct hrec */
	struct table trans; /* struct trec */
	size_t nstaged;     /* trecs with staged set */
	XXH3_state_t *xxh;  /* reused for every file */
	int rootfd;         /* the root (O_PATH), files opened from it; -1: none */
	unsigned pass;      /* the current or last pass; 0 is none */
	int noatime;        /* O_NOATIME, or 0 once it was refused (EPERM) */
	bool in_pass;       /* between ledger_pass_begin() and _end() */
};

#define TAB_MIN 64u

static uint64_t path_key(const char *path)
{
	uint64_t k = XXH3_64bits(path, strlen(path));
	return k ? k : 1;
}

static uint64_t *key_at(char *v, size_t esz, size_t i)
{
	return (uint64_t *)(void *)(v + i * esz);
}

/* The slot of key in v (cap a power of 2): its element, or the empty slot
 * where it would go (the table is never full). */
static uint64_t *slot(char *v, size_t cap, size_t esz, uint64_t key)
{
	size_t i = (size_t)key & (cap - 1);
	while (*key_at(v, esz, i) && *key_at(v, esz, i) != key)
		i = (i + 1) & (cap - 1);
	return key_at(v, esz, i);
}

/* Room for one more element; false: no memory (the table is as it was). */
static bool tab_room(struct table *t)
{
	if (t->v && (t->n + 1) * 4 <= t->cap * 3)
		return true;
	size_t cap = t->v ? t->cap * 2 : TAB_MIN;
	char *v = calloc(cap, t->esz);
	if (!v)
		return false;
	for (size_t i = 0; i < t->cap; i++)
		if (*key_at(t->v, t->esz, i))
			memcpy(slot(v, cap, t->esz, *key_at(t->v, t->esz, i)),
			       key_at(t->v, t->esz, i), t->esz);
	free(t->v);
	t->v = v;
	t->cap = cap;
	return true;
}

/* key's element; add: make a zeroed one if there is none (NULL when out of
 * memory). An element stays where it is until the next add. */
static void *tab_find(struct table *t, uint64_t key, bool add)
{
	uint64_t *e = t->v ? slot(t->v, t->cap, t->esz, key) : NULL;

	if ((e && *e) || !add)
		return e && *e ? e : NULL;
	if (!tab_room(t))
		return NULL;
	e = slot(t->v, t->cap, t->esz, key);
	memset(e, 0, t->esz);
	*e = key;
	t->n++;
	return e;
}

static void tab_clear(struct table *t)
{
	free(t->v);
	t->v = NULL;
	t->cap = t->n = 0;
}

static struct hrec *rec_find(struct ledger *l, uint64_t key, bool add)
{
	return tab_find(&l->recs, key, add);
}

static struct trec *trans_find(struct ledger *l, uint64_t key, bool add)
{
	return tab_find(&l->trans, key, add);
}

/* Nothing staged and no pass open: what the transient records held is
 * no longer needed (a storm's worth of them). */
static void trans_release(struct ledger *l)
{
	if (!l->nstaged && !l->in_pass)
		tab_clear(&l->trans);
}

static void recs_free(struct ledger *l)
{
	tab_clear(&l->recs);
	tab_clear(&l->trans);
	l->nstaged = 0;
}

/* The root, for opening files by their root-relative names: the kernel
 * then walks the name's own components only, not the root's every time
 * (a third of open()'s cost for a file four directories down). A root that
 * cannot be opened leaves the absolute paths. */
static void root_open(struct ledger *l)
{
	if (l->rootfd >= 0)
		close(l->rootfd);
#ifdef O_PATH
	l->rootfd = open(l->root, O_PATH | O_DIRECTORY | O_CLOEXEC);
#else
	l->rootfd = open(l->root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
#endif
}

/* The root's descriptor must still name the directory at l->root: the
 * root may have been moved away and another put in its place (a fresh
 * clone, a swapped directory) without a rescan, and reading the old one's
 * files would take an edit of the new one for "unchanged". One stat per
 * pass (per call outside one), not per file. */
static void root_check(struct ledger *l)
{
	struct stat now, held;

	if (l->rootfd >= 0 && stat(l->root, &now) == 0 && fstat(l->rootfd, &held) == 0 &&
	    now.st_dev == held.st_dev && now.st_ino == held.st_ino)
		return;
	root_open(l);
}

/* path's file (absolute, or root-relative as rel is), opened for reading. */
static int open_file(const struct ledger *l, const char *path, const char *rel, int flags)
{
	char abuf[PATH_MAX];
	int n;

	if (l->rootfd >= 0)
		return openat(l->rootfd, rel, flags);
	n = path[0] == '/' ? snprintf(abuf, sizeof abuf, "%s", path)
	                   : snprintf(abuf, sizeof abuf, "%s/%s", l->root, rel);
	if (n < 0 || (size_t)n >= sizeof abuf) {
		errno = ENAMETOOLONG;
		return -1;
	}
	return open(abuf, flags);
}

/* The content hash of a regular file (XXH3, streamed): not cryptographic,
 * only "did it change". In a storm this runs once per file per build, so
 * it makes as few system calls as it can: the file is opened from the
 * root (root_open()); the read that would only say "end of file" is left
 * out when a short read has brought the size fstat gave (a regular file
 * reads short only at its end), and the file is opened O_NOATIME where
 * gust may (its owner's files): reading a file just written would
 * otherwise update its atime (relatime), an inode write and a journal
 * entry per file. */
static int hash_file(struct ledger *l, const char *path, const char *rel, uint64_t *out)
{
	unsigned char buf[65536];
	struct stat st;
	int fd = open_file(l, path, rel, O_RDONLY | O_CLOEXEC | O_NOCTTY | l->noatime);
	ssize_t n;
	off_t total = 0;

	if (fd < 0 && errno == EPERM && l->noatime) {
		l->noatime = 0; /* not the owner: not for the next ones either */
		fd = open_file(l, path, rel, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	}
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return -EINVAL;
	}
	XXH3_64bits_reset(l->xxh);
	for (;;) {
		n = read(fd, buf, sizeof buf);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		XXH3_64bits_update(l->xxh, buf, (size_t)n);
		total += n;
		if ((size_t)n < sizeof buf && total >= st.st_size)
			break; /* at the end: the next read would return 0 */
	}
	close(fd);
	if (n < 0)
		return -EIO;
	*out = XXH3_64bits_digest(l->xxh);
	return 0;
}

struct ledger *ledger_new(const char *root)
{
	struct ledger *l = calloc(1, sizeof *l);

	if (!l)
		return NULL;
#ifdef O_NOATIME
	l->noatime = O_NOATIME;
#endif
	l->rootfd = -1;
	l->recs.esz = sizeof(struct hrec);
	l->trans.esz = sizeof(struct trec);
	if (!(l->root = rootpath_dup(root, &l->root_len)) || !(l->xxh = XXH3_createState())) {
		ledger_free(l);
		return NULL;
	}
	root_open(l);
	return l;
}

void ledger_free(struct ledger *l)
{
	if (!l)
		return;
	recs_free(l);
	XXH3_freeState(l->xxh);
	if (l->rootfd >= 0)
		close(l->rootfd);
	free(l->root);
	free(l);
}

/* The current content hash of path (absolute or root-relative) and its
 * root-relative name in rbuf; -1 when there is none to compare. */
static int content_hash(struct ledger *l, const char *path, char *rbuf, const char **rel,
                        uint64_t *h)
{
	if (!l || !path)
		return -1;
	*rel = rootpath_rel(l->root, l->root_len, path, rbuf, PATH_MAX);
	if (!*rel || !**rel)
		return -1;
	if (!l->in_pass)
		root_check(l);
	return hash_file(l, path, *rel, h) < 0 ? -1 : 0;
}

/* The staged state of r (staged): its transient record. */
static const struct trec *staged_of(struct ledger *l, const struct hrec *r)
{
	return trans_find(l, r->key, false);
}

/* Is content (ok, h) what r says was built (or is being built)? */
static bool same_as(struct ledger *l, const struct hrec *r, bool ok, uint64_t h)
{
	const struct trec *t = r->staged ? staged_of(l, r) : NULL;
	if (!ok)
		return false;
	if (t)
		return !t->st_gone && t->st_hash == h;
	return !r->gone && r->hash == h;
}

bool ledger_unchanged(struct ledger *l, const char *path)
{
	char rbuf[PATH_MAX];
	const char *rel;
	struct hrec *r;
	uint64_t h;

	if (content_hash(l, path, rbuf, &rel, &h) < 0)
		return false;
	if ((r = rec_find(l, path_key(rel), false)))
		return same_as(l, r, true, h);
	if ((r = rec_find(l, path_key(rel), true)))
		r->hash = h;
	return false;
}

/* Calls fn on the record of each of paths (root-relative or absolute), with
 * its content hash now (ok false: missing or unreadable); add: make a
 * record for a path that has none. */
static void each_record(struct ledger *l, const char *const *paths, bool add, bool hash,
                        void (*fn)(struct ledger *l, struct hrec *r, bool fresh, bool ok,
                                   uint64_t h))
{
	char rbuf[PATH_MAX];

	if (!l)
		return;
	if (hash && !l->in_pass)
		root_check(l);
	for (size_t i = 0; paths && paths[i]; i++) {
		const char *rel = rootpath_rel(l->root, l->root_len, paths[i], rbuf, sizeof rbuf);
		const struct trec *t;
		struct hrec *r;
		uint64_t key, h = 0;
		bool ok = false, fresh = false;

		if (!rel || !*rel)
			continue;
		key = path_key(rel);
		r = rec_find(l, key, false);
		t = hash && l->in_pass ? trans_find(l, key, false) : NULL;
		if (t && t->now_pass == l->pass) {
			ok = t->now_ok;
			h = t->now_hash;
		} else if (hash) {
			ok = hash_file(l, paths[i], rel, &h) == 0;
		}
		if (!r && add && ok) { /* a missing file gets no record */
			r = rec_find(l, key, true);
			fresh = true;
		}
		if (r)
			fn(l, r, fresh, ok, h);
	}
}

static void stage_one(struct ledger *l, struct hrec *r, bool fresh, bool ok, uint64_t h)
{
	struct trec *t = trans_find(l, r->key, true);

	if (fresh) { /* seen for the first time, as ledger_unchanged() would */
		r->hash = h;
		r->gone = !ok;
	}
	if (!t) {
		/* out of memory: not staged, so its commit changes nothing; the
		 * content built before must not stay the baseline (going back to
		 * it would be no change): nothing is built until a build commits */
		r->built = false;
		r->gone = true;
		return;
	}
	if (!t->staged)
		l->nstaged++;
	t->staged = true;
	t->st_gone = !ok;
	t->st_hash = h;
	r->staged = true;
}

/* r staged: its staged state, no longer staged. */
static const struct trec *unstaged(struct ledger *l, struct hrec *r)
{
	struct trec *t = r->staged ? trans_find(l, r->key, false) : NULL;

	r->staged = false;
	if (!t || !t->staged)
		return NULL;
	t->staged = false;
	l->nstaged--;
	return t;
}

static void commit_one(struct ledger *l, struct hrec *r, bool fresh, bool ok, uint64_t h)
{
	const struct trec *t = unstaged(l, r);

	(void)fresh, (void)ok, (void)h;
	if (!t)
		return;
	r->hash = t->st_hash;
	r->gone = t->st_gone;
	r->built = !t->st_gone;
}

static void unstage_one(struct ledger *l, struct hrec *r, bool fresh, bool ok, uint64_t h)
{
	(void)fresh, (void)ok, (void)h;
	(void)unstaged(l, r);
}

void ledger_forget(struct ledger *l)
{
	if (!l)
		return;
	recs_free(l);
	root_open(l); /* the root itself may be another directory now */
}

void ledger_pass_begin(struct ledger *l)
{
	if (!l)
		return;
	if (!++l->pass) /* wrapped: 0 would match new records */
		l->pass = 1;
	l->in_pass = true;
	root_check(l);
}

void ledger_pass_end(struct ledger *l)
{
	if (!l)
		return;
	l->in_pass = false;
	trans_release(l);
}

void ledger_stage(struct ledger *l, const char *const *paths)
{
	each_record(l, paths, true, true, stage_one);
}

void ledger_commit(struct ledger *l, const char *const *paths)
{
	each_record(l, paths, false, false, commit_one);
	if (l)
		trans_release(l);
}

void ledger_unstage(struct ledger *l, const char *const *paths)
{
	each_record(l, paths, false, false, unstage_one);
	if (l)
		trans_release(l);
}

bool ledger_as_built(struct ledger *l, const char *path)
{
	char rbuf[PATH_MAX];
	const char *rel;
	struct hrec *r;
	struct trec *t;
	uint64_t key, h = 0;
	bool ok;

	if (!l || !path || !(rel = rootpath_rel(l->root, l->root_len, path, rbuf, sizeof rbuf)) ||
	    !*rel)
		return false;
	key = path_key(rel);
	/* nothing built to compare with: no need to read the file */
	if (!(r = rec_find(l, key, false)) || (!r->staged && !r->built))
		return false;
	if (!l->in_pass)
		root_check(l);
	ok = hash_file(l, path, rel, &h) == 0;
	/* for the build this pass may start (no memory: it reads again) */
	if (l->in_pass && (t = trans_find(l, key, true))) {
		t->now_ok = ok;
		t->now_hash = h;
		t->now_pass = l->pass;
	}
	return same_as(l, r, ok, h);
}
