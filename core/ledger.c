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

/* One file's record, 40 bytes, in an open-addressing table keyed by the
 * XXH3 of its root-relative path: no path is kept (a record per file a
 * build ever had, for gust's whole life: with paths and a uthash handle
 * it was ~170 bytes of heap per file). Two paths of one key would share a
 * record; at 64 bits that is ~10^-10 for 10^5 files, the same odds as two
 * contents of one hash, which the ledger takes anyway. */
struct hrec {
	uint64_t key; /* 0: an empty slot */
	uint64_t hash;
	uint64_t st_hash;
	/* the content ledger_as_built() read in the open pass (now_pass ==
	 * the ledger's pass), for ledger_stage() to take without reading again */
	uint64_t now_hash;
	unsigned now_pass;
	unsigned gone : 1;   /* missing at the last commit: any content is a change */
	unsigned built : 1;  /* hash is from ledger_commit(), not a first sighting */
	unsigned staged : 1; /* a running build started from st_hash/st_gone */
	unsigned st_gone : 1;
	unsigned now_ok : 1;
};

struct ledger {
	char *root;
	size_t root_len;
	struct hrec *tab; /* cap slots (a power of 2), n used; NULL: none yet */
	size_t cap, n;
	XXH3_state_t *xxh; /* reused for every file */
	int rootfd;        /* the root (O_PATH), files opened from it; -1: none */
	unsigned pass;     /* the current or last pass; 0 is none */
	int noatime;       /* O_NOATIME, or 0 once it was refused (EPERM) */
	bool in_pass;      /* between ledger_pass_begin() and _end() */
};

#define TAB_MIN 64u

static uint64_t path_key(const char *path)
{
	uint64_t k = XXH3_64bits(path, strlen(path));
	return k ? k : 1;
}

/* The slot of key in tab (cap a power of 2): its record, or the empty slot
 * where it would go (linear probing; the table is never full). */
static struct hrec *slot(struct hrec *tab, size_t cap, uint64_t key)
{
	size_t i = (size_t)key & (cap - 1);
	while (tab[i].key && tab[i].key != key)
		i = (i + 1) & (cap - 1);
	return &tab[i];
}

/* Room for one more record at a load of at most 3/4; false: no memory. */
static bool tab_room(struct ledger *l)
{
	if (l->tab && (l->n + 1) * 4 <= l->cap * 3)
		return true;
	size_t cap = l->tab ? l->cap * 2 : TAB_MIN;
	struct hrec *tab = calloc(cap, sizeof *tab);
	if (!tab)
		return false;
	for (size_t i = 0; i < l->cap; i++)
		if (l->tab[i].key)
			*slot(tab, cap, l->tab[i].key) = l->tab[i];
	free(l->tab);
	l->tab = tab;
	l->cap = cap;
	return true;
}

/* path's record (root-relative); add: make one if there is none (NULL when
 * out of memory). A record stays where it is until the next add. */
static struct hrec *rec_find(struct ledger *l, const char *path, bool add)
{
	uint64_t key = path_key(path);
	struct hrec *r = l->tab ? slot(l->tab, l->cap, key) : NULL;

	if ((r && r->key) || !add)
		return r && r->key ? r : NULL;
	if (!tab_room(l))
		return NULL;
	r = slot(l->tab, l->cap, key);
	*r = (struct hrec){ .key = key };
	l->n++;
	return r;
}

static void recs_free(struct ledger *l)
{
	free(l->tab);
	l->tab = NULL;
	l->cap = l->n = 0;
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

bool ledger_unchanged(struct ledger *l, const char *path)
{
	char rbuf[PATH_MAX];
	const char *rel;
	struct hrec *r;
	uint64_t h;

	if (content_hash(l, path, rbuf, &rel, &h) < 0)
		return false;
	r = rec_find(l, rel, false);
	if (r && r->staged)
		return !r->st_gone && r->st_hash == h;
	if (r)
		return !r->gone && r->hash == h;
	r = rec_find(l, rel, true);
	if (r)
		r->hash = h;
	return false;
}

/* Calls fn on the record of each of paths (root-relative or absolute), with
 * its content hash now (ok false: missing or unreadable); add: make a
 * record for a path that has none. */
static void each_record(struct ledger *l, const char *const *paths, bool add, bool hash,
                        void (*fn)(struct hrec *r, bool fresh, bool ok, uint64_t h))
{
	char rbuf[PATH_MAX];

	if (!l)
		return;
	if (hash && !l->in_pass)
		root_check(l);
	for (size_t i = 0; paths && paths[i]; i++) {
		const char *rel = rootpath_rel(l->root, l->root_len, paths[i], rbuf, sizeof rbuf);
		struct hrec *r;
		uint64_t h = 0;
		bool ok = false, fresh = false;

		if (!rel || !*rel)
			continue;
		r = rec_find(l, rel, false);
		if (hash && r && l->in_pass && r->now_pass == l->pass) {
			ok = r->now_ok;
			h = r->now_hash;
		} else if (hash) {
			ok = hash_file(l, paths[i], rel, &h) == 0;
		}
		if (!r && add && ok) { /* a missing file gets no record */
			r = rec_find(l, rel, true);
			fresh = true;
		}
		if (r)
			fn(r, fresh, ok, h);
	}
}

static void stage_one(struct hrec *r, bool fresh, bool ok, uint64_t h)
{
	r->staged = true;
	r->st_gone = !ok;
	r->st_hash = h;
	if (fresh) { /* seen for the first time, as ledger_unchanged() would */
		r->hash = h;
		r->gone = !ok;
	}
}

static void commit_one(struct hrec *r, bool fresh, bool ok, uint64_t h)
{
	(void)fresh, (void)ok, (void)h;
	if (!r->staged)
		return;
	r->staged = false;
	r->hash = r->st_hash;
	r->gone = r->st_gone;
	r->built = !r->st_gone;
}

static void unstage_one(struct hrec *r, bool fresh, bool ok, uint64_t h)
{
	(void)fresh, (void)ok, (void)h;
	r->staged = false;
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
	if (l)
		l->in_pass = false;
}

void ledger_stage(struct ledger *l, const char *const *paths)
{
	each_record(l, paths, true, true, stage_one);
}

void ledger_commit(struct ledger *l, const char *const *paths)
{
	each_record(l, paths, false, false, commit_one);
}

void ledger_unstage(struct ledger *l, const char *const *paths)
{
	each_record(l, paths, false, false, unstage_one);
}

bool ledger_as_built(struct ledger *l, const char *path)
{
	char rbuf[PATH_MAX];
	const char *rel;
	struct hrec *r;

	if (!l || !path || !(rel = rootpath_rel(l->root, l->root_len, path, rbuf, sizeof rbuf)) ||
	    !*rel)
		return false;
	/* nothing built to compare with: no need to read the file */
	if (!(r = rec_find(l, rel, false)) || (!r->staged && !r->built))
		return false;
	if (!l->in_pass)
		root_check(l);
	r->now_ok = hash_file(l, path, rel, &r->now_hash) == 0;
	r->now_pass = l->in_pass ? l->pass : 0;
	if (!r->now_ok)
		return false;
	if (r->staged)
		return !r->st_gone && r->st_hash == r->now_hash;
	return !r->gone && r->hash == r->now_hash;
}
