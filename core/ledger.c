/* ledger.c - content hashes for exclude_unchanged (see ledger.h).
 *
 * ledger_unchanged() hashes the file's content (a 64-bit multiply-rotate
 * hash, streamed) and compares it with the hash recorded at the last
 * ledger_commit(). A file never seen before has no baseline: its hash is
 * recorded and it counts as a change. Only ledger_commit() replaces a
 * recorded hash (ledger_stage() records a first sighting too, and
 * ledger_forget() drops them all), so a truncate followed by an identical
 * write compares equal in the end. A missing or unreadable file is always
 * a change.
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

struct hrec {
	char *path; /* root-relative */
	uint64_t hash;
	bool gone;   /* missing at the last commit: any content is a change */
	bool built;  /* hash is from ledger_commit(), not a first sighting */
	bool staged; /* a running build started from st_hash/st_gone */
	bool st_gone;
	uint64_t st_hash;
};

struct htab {
	struct hrec *v;
	size_t n, cap; /* cap: power of two or 0 */
};

static uint32_t strhash(const char *s, size_t n)
{
	uint32_t h = 2166136261u;
	for (size_t i = 0; i < n; i++) {
		h ^= (unsigned char)s[i];
		h *= 16777619u;
	}
	return h;
}

static struct hrec *htab_find(struct htab *t, const char *path, bool add)
{
	size_t len = strlen(path), i;

	if (add && (t->n + 1) * 4 > t->cap * 3) {
		size_t cap = t->cap ? t->cap * 2 : 64;
		struct hrec *v = calloc(cap, sizeof *v);
		if (!v)
			return NULL;
		for (size_t k = 0; k < t->cap; k++) {
			if (!t->v[k].path)
				continue;
			i = strhash(t->v[k].path, strlen(t->v[k].path)) & (cap - 1);
			while (v[i].path)
				i = (i + 1) & (cap - 1);
			v[i] = t->v[k];
		}
		free(t->v);
		t->v = v;
		t->cap = cap;
	}
	if (!t->cap)
		return NULL;
	i = strhash(path, len) & (t->cap - 1);
	while (t->v[i].path) {
		if (strcmp(t->v[i].path, path) == 0)
			return &t->v[i];
		i = (i + 1) & (t->cap - 1);
	}
	if (!add)
		return NULL;
	t->v[i].path = strdup(path);
	if (!t->v[i].path)
		return NULL;
	t->v[i].hash = 0;
	t->v[i].gone = false;
	t->v[i].built = false;
	t->v[i].staged = false;
	t->n++;
	return &t->v[i];
}

static void htab_free(struct htab *t)
{
	for (size_t i = 0; i < t->cap; i++)
		free(t->v[i].path);
	free(t->v);
}

static uint64_t rotl64(uint64_t x, int r)
{
	return (x << r) | (x >> (64 - r));
}

/* A streamed 64-bit content hash: not cryptographic, only "did it change". */
static int hash_file(const char *file, uint64_t *out)
{
	const uint64_t k1 = 0x9E3779B97F4A7C15ull, k2 = 0xBF58476D1CE4E5B9ull;
	uint64_t h = 0x243F6A8885A308D3ull, total = 0;
	unsigned char buf[65536];
	struct stat st;
	int fd = open(file, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	ssize_t n;

	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return -EINVAL;
	}
	for (;;) {
		size_t i = 0;
		n = read(fd, buf, sizeof buf);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		total += (uint64_t)n;
		for (; i + 8 <= (size_t)n; i += 8) {
			uint64_t w;
			memcpy(&w, buf + i, 8);
			h = rotl64(h ^ (w * k1), 29) * k2;
		}
		for (; i < (size_t)n; i++)
			h = (h ^ buf[i]) * 0x100000001B3ull;
	}
	close(fd);
	if (n < 0)
		return -EIO;
	h ^= total;
	h ^= h >> 33;
	h *= 0xFF51AFD7ED558CCDull;
	h ^= h >> 33;
	*out = h;
	return 0;
}

struct ledger {
	char *root;
	size_t root_len;
	struct htab hashes;
};

struct ledger *ledger_new(const char *root)
{
	struct ledger *l = calloc(1, sizeof *l);

	if (l && !(l->root = rootpath_dup(root, &l->root_len))) {
		free(l);
		return NULL;
	}
	return l;
}

void ledger_free(struct ledger *l)
{
	if (!l)
		return;
	htab_free(&l->hashes);
	free(l->root);
	free(l);
}

static int abs_path(const struct ledger *l, const char *path, const char *rel, char *buf,
                    size_t len)
{
	int n = path[0] == '/' ? snprintf(buf, len, "%s", path)
	                       : snprintf(buf, len, "%s/%s", l->root, rel);
	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

/* The current content hash of path (absolute or root-relative) and its
 * root-relative name in rbuf; -1 when there is none to compare. */
static int content_hash(struct ledger *l, const char *path, char *rbuf, const char **rel,
                        uint64_t *h)
{
	char abuf[PATH_MAX];

	if (!l || !path)
		return -1;
	*rel = rootpath_rel(l->root, l->root_len, path, rbuf, PATH_MAX);
	if (!*rel || !**rel || abs_path(l, path, *rel, abuf, sizeof abuf) < 0)
		return -1;
	return hash_file(abuf, h) < 0 ? -1 : 0;
}

bool ledger_unchanged(struct ledger *l, const char *path)
{
	char rbuf[PATH_MAX];
	const char *rel;
	struct hrec *r;
	uint64_t h;

	if (content_hash(l, path, rbuf, &rel, &h) < 0)
		return false;
	r = htab_find(&l->hashes, rel, false);
	if (r && r->staged)
		return !r->st_gone && r->st_hash == h;
	if (r)
		return !r->gone && r->hash == h;
	r = htab_find(&l->hashes, rel, true);
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
	char rbuf[PATH_MAX], abuf[PATH_MAX];

	if (!l)
		return;
	for (size_t i = 0; paths && paths[i]; i++) {
		const char *rel = rootpath_rel(l->root, l->root_len, paths[i], rbuf, sizeof rbuf);
		struct hrec *r;
		uint64_t h = 0;
		bool ok = false, fresh = false;

		if (!rel || !*rel)
			continue;
		if (hash)
			ok = abs_path(l, paths[i], rel, abuf, sizeof abuf) == 0 &&
			     hash_file(abuf, &h) == 0;
		r = htab_find(&l->hashes, rel, false);
		if (!r && add && ok) { /* a missing file gets no record */
			r = htab_find(&l->hashes, rel, true);
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
	htab_free(&l->hashes);
	memset(&l->hashes, 0, sizeof l->hashes);
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
	uint64_t h;

	if (content_hash(l, path, rbuf, &rel, &h) < 0)
		return false;
	r = htab_find(&l->hashes, rel, false);
	if (r && r->staged)
		return !r->st_gone && r->st_hash == h;
	return r && r->built && !r->gone && r->hash == h;
}
