/* snap.c - the compact snapshot of a tree and its rescan, which reports
 * the differences as events (poll, kqueue, and inotify's fallback). See
 * snap.h. */
#include "config.h"

#include "snap.h"
#include "hash.h"
#include "vec.h"
#include "visited.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define STAMP_BITS 58 /* the rest of the word holds the flags */

/* 24 bytes: with 100,000 files, every byte here is 100 kB. */
struct snap_ent {
	/* files: mtime, size, inode, type mixed ("did it change");
	 * directories: dir_stamp(), 0 for "list it" */
	uint64_t stamp : STAMP_BITS;
	uint64_t is_dir : 1, mark : 1, live : 1, warned : 1;
	uint64_t hide : 2; /* 0, or why the entry is kept but not shown */
	uint32_t parent;   /* WALK_NONE for the root */
	uint32_t name;     /* offset in the names arena */
	uint32_t child;    /* first child, WALK_NONE if none */
	uint32_t next;     /* next sibling (or next free entry) */
};

/* A hidden entry is a directory the walk does not enter, kept so that a
 * scan that does not list its parent still notices when that changes. */
#define HIDE_IGNORED 1u /* the filter ignores it (re-asked at every scan) */
#define HIDE_VISITED 2u /* met before: a symlink loop, or a second way in */

/* How recent a directory's mtime or ctime may be for its listing to be
 * trusted next time (see dir_stamp()), and how often a directory is listed
 * whatever its stamp says. */
#define RACY_MS 2000u
#define RELIST_EVERY 16u

/* No index by name: a directory's children are kept in the order its last
 * listing gave, and the next listing is matched against them in step (an
 * index of one directory is built only when the orders part). */
struct walk_snap {
	struct snap_ent *e;
	uint32_t n, cap, free_head, live;
	int32_t *user; /* per entry, cap long; NULL until a watcher sets one */
	char *names;
	size_t nlen, ncap, garbage;
	uint32_t rounds;          /* recursive scans so far */
	unsigned racy_ms;         /* RACY_MS */
	bool trust_dirs;          /* skip listings at all */
	uint64_t listed, skipped; /* directories listed / checked unlisted */
};

static uint32_t name_hash(const char *name, size_t nl)
{
	return (uint32_t)hash_bytes(name, nl);
}

static const char *ent_name(const struct walk_snap *s, uint32_t id)
{
	return s->names + s->e[id].name;
}

static int names_add(struct walk_snap *s, const char *name, size_t nl, uint32_t *off)
{
	/* offsets are 32-bit */
	if (s->nlen + nl + 1 > UINT32_MAX)
		return -ENOMEM;
	char *v = vec_grow(s->names, &s->ncap, s->nlen + nl + 1, 1, 4096);
	if (!v)
		return -ENOMEM;
	s->names = v;
	memcpy(s->names + s->nlen, name, nl);
	s->names[s->nlen + nl] = '\0';
	*off = (uint32_t)s->nlen;
	s->nlen += nl + 1;
	return 0;
}

struct walk_snap *walk_snap_new(void)
{
	struct walk_snap *s = calloc(1, sizeof *s);
	uint32_t off;

	if (!s)
		return NULL;
	s->cap = 1024;
	s->e = malloc(s->cap * sizeof *s->e);
	if (!s->e || names_add(s, "", 0, &off) < 0) {
		walk_snap_free(s);
		return NULL;
	}
	s->free_head = WALK_NONE;
	s->racy_ms = RACY_MS;
	s->trust_dirs = true;
	s->e[0] = (struct snap_ent){ .parent = WALK_NONE,
		                     .name = off,
		                     .child = WALK_NONE,
		                     .next = WALK_NONE,
		                     .is_dir = 1,
		                     .live = 1 };
	s->n = 1;
	s->live = 1;
	return s;
}

void walk_snap_free(struct walk_snap *s)
{
	if (!s)
		return;
	free(s->e);
	free(s->user);
	free(s->names);
	free(s);
}

/* Child name (nl bytes) of parent, by walking its children. */
static uint32_t find_child(const struct walk_snap *s, uint32_t parent, const char *name, size_t nl)
{
	for (uint32_t c = s->e[parent].child; c != WALK_NONE; c = s->e[c].next) {
		const char *nm = ent_name(s, c);
		if (strncmp(nm, name, nl) == 0 && nm[nl] == '\0')
			return c;
	}
	return WALK_NONE;
}

/* A new entry, first among parent's children (scan_dir() puts them in
 * listing order afterwards). */
static uint32_t snap_add(struct walk_snap *s, uint32_t parent, const char *name, bool is_dir,
                         uint64_t stamp)
{
	size_t nl = strlen(name);
	uint32_t id, off;

	if (names_add(s, name, nl, &off) < 0)
		return WALK_NONE;
	if (s->free_head != WALK_NONE) {
		id = s->free_head;
		s->free_head = s->e[id].next;
	} else {
		if (s->n == s->cap) {
			struct snap_ent *e;
			if (s->cap >= UINT32_MAX / 2)
				return WALK_NONE;
			if (s->user) {
				int32_t *u = realloc(s->user, (size_t)s->cap * 2 * sizeof *u);
				if (!u)
					return WALK_NONE;
				s->user = u;
			}
			e = realloc(s->e, (size_t)s->cap * 2 * sizeof *e);
			if (!e)
				return WALK_NONE;
			s->e = e;
			s->cap *= 2;
		}
		id = s->n++;
	}
	s->e[id] = (struct snap_ent){ .stamp = stamp,
		                      .parent = parent,
		                      .name = off,
		                      .child = WALK_NONE,
		                      .next = s->e[parent].child,
		                      .is_dir = is_dir,
		                      .mark = 1,
		                      .live = 1 };
	if (s->user)
		s->user[id] = -1;
	s->e[parent].child = id;
	s->live++;
	return id;
}

/* A pending subdirectory of a directory being checked without listing. */
struct pend {
	uint32_t id;
	struct stat sb;
};

struct sstate {
	struct walk_snap *s;
	const struct walker *w;
	walk_emit_fn emit;
	void *arg;
	struct visited vis;
	int err;
	int64_t trust_before; /* ns: a dir stamp older than this is trusted */
	bool recursive;
	struct pend *pend;
	size_t npend, cpend;
	uint32_t *defer; /* HIDE_VISITED entries met, re-checked at the end */
	size_t ndefer, cdefer;
	/* stacks shared by the directories being listed, nested: the ids in
	 * listing order, and the by-name indexes */
	uint32_t *ord, *idx;
	size_t nord, cord, nidx, cidx;
	char path[PATH_MAX];
};

static void snap_release(struct walk_snap *s, uint32_t id)
{
	s->garbage += strlen(ent_name(s, id)) + 1;
	s->e[id].live = 0;
	s->e[id].next = s->free_head;
	s->free_head = id;
	s->live--;
}

/* Remove id's children (emitting, deepest first); path holds id's path at
 * len. Hidden entries go silently: nobody heard of them. */
static void remove_children(struct sstate *st, uint32_t id, size_t len)
{
	struct walk_snap *s = st->s;
	uint32_t c = s->e[id].child, next;

	s->e[id].child = WALK_NONE;
	for (; c != WALK_NONE; c = next) {
		size_t cl = walk_path_push(st->path, len, ent_name(s, c));
		next = s->e[c].next;
		if (s->e[c].is_dir)
			remove_children(st, c, cl);
		if (st->emit && cl && !s->e[c].hide)
			st->emit(st->arg, s, c, st->path, GUST_CHANGE_REMOVE, s->e[c].is_dir);
		snap_release(s, c);
	}
	st->path[len] = '\0';
}

static uint64_t stamp_of(const struct stat *sb)
{
	const uint64_t k[] = {
		(uint64_t)sb->st_mtim.tv_sec * 1000000000ull + (uint64_t)sb->st_mtim.tv_nsec,
		(uint64_t)sb->st_size,
		(uint64_t)sb->st_ino,
		(uint64_t)(sb->st_mode & S_IFMT),
	};
	return hash_bytes(k, sizeof k) >> (64 - STAMP_BITS);
}

static int64_t ns_of(const struct timespec *t)
{
	return (int64_t)t->tv_sec * 1000000000 + t->tv_nsec;
}

/* The stamp a directory listed right after sb was taken earns: mtime,
 * ctime, inode, size and links; 0 (list it next time too) when its mtime
 * or ctime is so recent that a change in the same clock tick, after the
 * listing, would leave both as they are. */
static uint64_t dir_stamp(const struct sstate *st, const struct stat *sb)
{
	if (ns_of(&sb->st_mtim) >= st->trust_before || ns_of(&sb->st_ctim) >= st->trust_before)
		return 0;
	const uint64_t k[] = {
		(uint64_t)ns_of(&sb->st_mtim), (uint64_t)ns_of(&sb->st_ctim),
		(uint64_t)sb->st_ino,          (uint64_t)sb->st_dev,
		(uint64_t)sb->st_size,         (uint64_t)sb->st_nlink,
	};
	uint64_t h = hash_bytes(k, sizeof k) >> (64 - STAMP_BITS);
	return h ? h : 1;
}

static int stat_at(const struct walker *w, int dfd, const char *name, struct stat *sb)
{
	if (fstatat(dfd, name, sb, w->follow ? 0 : AT_SYMLINK_NOFOLLOW) == 0 ||
	    fstatat(dfd, name, sb, AT_SYMLINK_NOFOLLOW) == 0)
		return 0;
	return -1;
}

static int scan_dir(struct sstate *st, uint32_t dir, int dfd, size_t len, bool recursive,
                    bool may_skip);

/* Open and scan subdirectory id (named name in dfd, stat sb taken before)
 * at path length len. may_skip: when its stamp is unchanged, check the
 * entries it had without listing it. */
static int scan_sub(struct sstate *st, uint32_t id, int dfd, const char *name, size_t len,
                    const struct stat *sb, bool may_skip)
{
	struct walk_snap *s = st->s;
	uint64_t ds = dir_stamp(st, sb);
	int cfd = walk_open_dir_at(st->w, dfd, name), rc;

	if (cfd < 0) {
		if (errno != ENOENT && errno != ENOTDIR && errno != ELOOP && !s->e[id].warned) {
			s->e[id].warned = 1;
			walk_warn_unreadable(st->w, st->path, errno);
		}
		s->e[id].stamp = 0;
		return 0;
	}
	s->e[id].warned = 0;
	/* every RELIST_EVERY rounds a directory is listed whatever its stamp:
	 * a bound on what a clock that lies (a skewed file server) can hide */
	may_skip = may_skip && s->trust_dirs && ds && s->e[id].stamp == ds &&
	           (id + s->rounds) % RELIST_EVERY != 0;
	s->e[id].stamp = ds;
	rc = scan_dir(st, id, cfd, len, true, may_skip);
	if (rc < 0)
		s->e[id].stamp = 0;
	return rc;
}

static void emit(struct sstate *st, uint32_t id, enum gust_change kind)
{
	if (st->emit)
		st->emit(st->arg, st->s, id, st->path, kind, st->s->e[id].is_dir);
}

/* Why directory sb (path in st->path) is hidden, or 0: ignored by the
 * filter, or a directory met before (a loop, or the same one twice). Not
 * hidden means visited from now on. */
static unsigned dir_hide(struct sstate *st, const struct stat *sb)
{
	if (st->w->host->is_ignored(st->w->ctx, st->path, true))
		return HIDE_IGNORED;
	if (!visited_add(&st->vis, sb->st_dev, sb->st_ino))
		return HIDE_VISITED;
	return 0;
}

static int defer_push(struct sstate *st, uint32_t id)
{
	uint32_t *v = vec_grow(st->defer, &st->cdefer, st->ndefer + 1, sizeof *v, 16);
	if (!v)
		return -ENOMEM;
	st->defer = v;
	st->defer[st->ndefer++] = id;
	return 0;
}

/* Known entry id is a directory, stat sb; st->path holds its path at nlen.
 * Hide it, bring it back, or scan it. */
static void known_dir(struct sstate *st, uint32_t id, int dfd, size_t nlen, const struct stat *sb,
                      bool recursive)
{
	struct walk_snap *s = st->s;
	unsigned hide;

	if (st->w->host->is_ignored(st->w->ctx, st->path, true)) {
		hide = HIDE_IGNORED;
	} else if (s->e[id].hide == HIDE_VISITED) {
		/* The copy that is shown keeps its place, whichever order this
		 * scan meets them in; this one comes back only if, once the
		 * scan is over, nothing shown was that directory (unhide()). */
		if (st->recursive && defer_push(st, id) < 0)
			st->err = -ENOMEM;
		return;
	} else {
		hide = visited_add(&st->vis, sb->st_dev, sb->st_ino) ? 0 : HIDE_VISITED;
	}

	if (hide) {
		if (!s->e[id].hide) {
			remove_children(st, id, nlen);
			emit(st, id, GUST_CHANGE_REMOVE);
			walk_snap_set_user(s, id, -1);
		}
		s->e[id].hide = hide;
		s->e[id].stamp = 0;
	} else if (s->e[id].hide) {
		s->e[id].hide = 0;
		emit(st, id, GUST_CHANGE_CREATE);
		scan_sub(st, id, dfd, ent_name(s, id), nlen, sb, false);
	} else if (recursive) {
		scan_sub(st, id, dfd, ent_name(s, id), nlen, sb, true);
	}
}

static int pend_push(struct sstate *st, uint32_t id, const struct stat *sb)
{
	struct pend *v = vec_grow(st->pend, &st->cpend, st->npend + 1, sizeof *v, 64);
	if (!v)
		return -ENOMEM;
	st->pend = v;
	st->pend[st->npend].id = id;
	st->pend[st->npend].sb = *sb;
	st->npend++;
	return 0;
}

/* Directory dir kept its stamp, so it holds the names it held: stat those
 * without listing it. 1 done; 0 when something says it changed after all
 * (a name gone, a type changed), for the caller to list it; <0 an error. */
static int scan_known(struct sstate *st, uint32_t dir, int dfd, size_t len)
{
	struct walk_snap *s = st->s;
	size_t base = st->npend, end;

	for (uint32_t c = s->e[dir].child; c != WALK_NONE; c = s->e[c].next) {
		const char *name = ent_name(s, c);
		struct stat sb;
		bool is_dir;
		uint64_t stamp;

		if (stat_at(st->w, dfd, name, &sb) < 0)
			goto relist;
		is_dir = S_ISDIR(sb.st_mode);
		if (is_dir != (bool)s->e[c].is_dir)
			goto relist;
		if (is_dir) {
			if (pend_push(st, c, &sb) < 0) {
				st->npend = base;
				return st->err = -ENOMEM;
			}
			continue;
		}
		stamp = stamp_of(&sb);
		if (s->e[c].stamp != stamp) {
			s->e[c].stamp = stamp;
			if (walk_path_push(st->path, len, name))
				emit(st, c, GUST_CHANGE_WRITE);
			st->path[len] = '\0';
		}
	}
	/* then the subdirectories, whose scans push and pop above end */
	end = st->npend;
	for (size_t i = base; i < end && !st->err; i++) {
		struct pend p = st->pend[i];
		size_t nlen = walk_path_push(st->path, len, ent_name(s, p.id));
		if (nlen)
			known_dir(st, p.id, dfd, nlen, &p.sb, true);
		st->path[len] = '\0';
	}
	st->npend = base;
	s->skipped++;
	return st->err ? st->err : 1;
relist:
	st->npend = base;
	return 0;
}

/* Grow stack *v (n used, *cap) to hold more; 0 or -ENOMEM. */
static int stack_reserve(uint32_t **v, size_t n, size_t *cap, size_t more)
{
	uint32_t *nv = vec_grow(*v, cap, n + more, sizeof *nv, 256);
	if (!nv)
		return -ENOMEM;
	*v = nv;
	return 0;
}

static int ord_push(struct sstate *st, uint32_t id)
{
	if (stack_reserve(&st->ord, st->nord, &st->cord, 1) < 0)
		return st->err = -ENOMEM;
	st->ord[st->nord++] = id;
	return 0;
}

/* One listing of directory dir matched against its children, which are in
 * the order of the listing before: a cursor that moves along them, and,
 * from the first name the cursor does not give, an index (on the idx stack,
 * whose top it stays while the listing runs) of those children and of the
 * ones this listing adds, so that a name listed twice is found too. */
struct listing {
	uint32_t head; /* the children before this listing */
	uint32_t cur;
	size_t ibase; /* SIZE_MAX: no index yet */
	uint32_t imask, icount;
};

static void index_put(const struct walk_snap *s, uint32_t *ix, uint32_t mask, uint32_t id)
{
	const char *nm = ent_name(s, id);
	uint32_t i = name_hash(nm, strlen(nm)) & mask;

	while (ix[i])
		i = (i + 1) & mask;
	ix[i] = id + 1;
}

/* Make the index hold one more name (building it the first time). */
static int listing_room(struct sstate *st, struct listing *l)
{
	struct walk_snap *s = st->s;
	size_t n = 0, m = 16, old;
	uint32_t *ix;

	if (l->ibase != SIZE_MAX && (l->icount + 1) * 2 <= l->imask + 1)
		return 0;
	if (l->ibase == SIZE_MAX) {
		for (uint32_t c = l->head; c != WALK_NONE; c = s->e[c].next)
			n++;
		old = 0;
		l->ibase = st->nidx;
	} else {
		n = l->icount;
		old = (size_t)l->imask + 1;
	}
	while (m < 2 * (n + 1))
		m *= 2;
	/* the new table goes above the old one, then down into its place */
	if (stack_reserve(&st->idx, st->nidx, &st->cidx, m) < 0)
		return -ENOMEM;
	ix = st->idx + st->nidx;
	memset(ix, 0, m * sizeof *ix);
	if (old) {
		for (size_t i = 0; i < old; i++)
			if (st->idx[l->ibase + i])
				index_put(s, ix, (uint32_t)(m - 1), st->idx[l->ibase + i] - 1);
	} else {
		for (uint32_t c = l->head; c != WALK_NONE; c = s->e[c].next)
			index_put(s, ix, (uint32_t)(m - 1), c);
		l->icount = (uint32_t)n;
	}
	memmove(st->idx + l->ibase, ix, m * sizeof *ix);
	l->imask = (uint32_t)(m - 1);
	st->nidx = l->ibase + m;
	return 0;
}

/* The child named name (from before this listing or added by it), or
 * WALK_NONE. */
static uint32_t listing_find(struct sstate *st, struct listing *l, const char *name)
{
	struct walk_snap *s = st->s;
	uint32_t id = WALK_NONE;

	if (l->cur != WALK_NONE && strcmp(ent_name(s, l->cur), name) == 0) {
		id = l->cur;
	} else {
		if (l->ibase == SIZE_MAX && listing_room(st, l) < 0) {
			st->err = -ENOMEM;
			return WALK_NONE;
		}
		for (uint32_t i = name_hash(name, strlen(name)) & l->imask;;
		     i = (i + 1) & l->imask) {
			uint32_t v = st->idx[l->ibase + i];
			if (!v)
				return WALK_NONE;
			if (strcmp(ent_name(s, v - 1), name) == 0) {
				id = v - 1;
				break;
			}
		}
	}
	if (!s->e[id].mark)
		l->cur = s->e[id].next; /* in step again after an insertion or a removal */
	return id;
}

/* Show entry id, new or of a new type, unless hide says why not: a create,
 * and for a directory what it holds. */
static void show_entry(struct sstate *st, uint32_t id, int dfd, const char *name, size_t nlen,
                       const struct stat *sb, unsigned hide)
{
	st->s->e[id].hide = hide;
	if (hide)
		return;
	emit(st, id, GUST_CHANGE_CREATE);
	if (st->s->e[id].is_dir)
		scan_sub(st, id, dfd, name, nlen, sb, false);
}

/* A name this listing of dir did not know: add it to the snapshot, the
 * listing's index and the listing order, then show it. */
static void scan_added(struct sstate *st, uint32_t dir, struct listing *l, int dfd,
                       const char *name, size_t nlen, const struct stat *sb)
{
	struct walk_snap *s = st->s;
	bool is_dir = S_ISDIR(sb->st_mode);
	unsigned hide;
	uint32_t id;

	/* room first: once added, the entry must be in both */
	if (listing_room(st, l) < 0 || stack_reserve(&st->ord, st->nord, &st->cord, 1) < 0) {
		st->err = -ENOMEM;
		return;
	}
	hide = is_dir ? dir_hide(st, sb) : 0;
	id = snap_add(s, dir, name, is_dir, is_dir ? 0 : stamp_of(sb));
	if (id == WALK_NONE) {
		st->err = -ENOMEM;
		return;
	}
	index_put(s, st->idx + l->ibase, l->imask, id);
	l->icount++;
	st->ord[st->nord++] = id;
	show_entry(st, id, dfd, name, nlen, sb, hide);
}

/* Known entry id is now something of another type: the old one goes, the
 * new one is shown. */
static void scan_retyped(struct sstate *st, uint32_t id, int dfd, const char *name, size_t nlen,
                         const struct stat *sb)
{
	struct walk_snap *s = st->s;
	bool is_dir = S_ISDIR(sb->st_mode);

	if (!s->e[id].hide) {
		if (s->e[id].is_dir)
			remove_children(st, id, nlen);
		emit(st, id, GUST_CHANGE_REMOVE);
	}
	s->e[id].is_dir = is_dir;
	s->e[id].stamp = is_dir ? 0 : stamp_of(sb);
	walk_snap_set_user(s, id, -1);
	show_entry(st, id, dfd, name, nlen, sb, is_dir ? dir_hide(st, sb) : 0);
}

/* One name read from directory dir (open as dfd, its path in st->path up
 * to len): matched against the listing l, and what changed emitted. A
 * failure is left in st->err. */
static void scan_name(struct sstate *st, uint32_t dir, struct listing *l, int dfd, size_t len,
                      const char *name, bool recursive)
{
	struct walk_snap *s = st->s;
	struct stat sb;
	bool is_dir;
	uint64_t stamp;
	size_t nlen;
	uint32_t id;

	if (stat_at(st->w, dfd, name, &sb) < 0) {
		if (errno != ENOENT) {
			/* not known to be gone: keep what was known, and
			 * list this directory again next time */
			id = listing_find(st, l, name);
			if (id != WALK_NONE && !s->e[id].mark && !ord_push(st, id))
				s->e[id].mark = 1;
			s->e[dir].stamp = 0;
		}
		return;
	}
	nlen = walk_path_push(st->path, len, name);
	if (!nlen)
		return;
	is_dir = S_ISDIR(sb.st_mode);
	stamp = is_dir ? 0 : stamp_of(&sb);
	id = listing_find(st, l, name);
	if (st->err)
		return;
	if (id != WALK_NONE && s->e[id].mark)
		return; /* listed twice (NFS or FUSE after a cookie reset) */
	if (id == WALK_NONE) {
		scan_added(st, dir, l, dfd, name, nlen, &sb);
		return;
	}
	if (ord_push(st, id) < 0)
		return;
	s->e[id].mark = 1;
	if (is_dir && s->e[id].is_dir)
		known_dir(st, id, dfd, nlen, &sb, recursive);
	else if (is_dir != (bool)s->e[id].is_dir)
		scan_retyped(st, id, dfd, name, nlen, &sb);
	else if (s->e[id].stamp != stamp) {
		s->e[id].stamp = stamp;
		emit(st, id, GUST_CHANGE_WRITE);
	}
}

/* After a whole listing of dir: whatever was not seen is gone, and what
 * is left is kept in listing order (st->ord from obase). */
static void scan_sweep(struct sstate *st, uint32_t dir, size_t len, size_t obase)
{
	struct walk_snap *s = st->s;
	uint32_t c, prev = WALK_NONE, next;

	for (c = s->e[dir].child; c != WALK_NONE; c = next) {
		next = s->e[c].next;
		if (s->e[c].mark) {
			s->e[c].mark = 0;
			prev = c;
			continue;
		}
		if (prev == WALK_NONE)
			s->e[dir].child = next;
		else
			s->e[prev].next = next;
		size_t cl = walk_path_push(st->path, len, ent_name(s, c));
		if (cl && !s->e[c].hide) {
			if (s->e[c].is_dir)
				remove_children(st, c, cl);
			emit(st, c, GUST_CHANGE_REMOVE);
		}
		snap_release(s, c);
		st->path[len] = '\0';
	}
	next = WALK_NONE;
	for (size_t i = st->nord; i-- > obase;) {
		s->e[st->ord[i]].next = next;
		next = st->ord[i];
	}
	s->e[dir].child = next;
	st->nord = obase;
}

static int scan_dir(struct sstate *st, uint32_t dir, int dfd, size_t len, bool recursive,
                    bool may_skip)
{
	struct walk_snap *s = st->s;
	DIR *d;
	struct dirent *de;
	int read_err = 0;
	struct listing l = { s->e[dir].child, s->e[dir].child, SIZE_MAX, 0, 0 };
	size_t obase = st->nord, ibase = st->nidx;

	if (may_skip) {
		int rc = scan_known(st, dir, dfd, len);
		if (rc != 0) {
			close(dfd);
			return rc < 0 ? rc : 0;
		}
	}
	d = fdopendir(dfd);
	if (!d) {
		close(dfd);
		s->e[dir].stamp = 0;
		return 0;
	}
	s->listed++;
	for (;;) {
		errno = 0;
		if (st->err || !(de = readdir(d))) {
			read_err = st->err ? 0 : errno;
			break;
		}
		const char *name = de->d_name;
		if (name[0] == '.' && (!name[1] || (name[1] == '.' && !name[2])))
			continue;
		scan_name(st, dir, &l, dfd, len, name, recursive);
	}
	closedir(d);
	st->path[len] = '\0';
	st->nidx = ibase;
	if (st->err || read_err) {
		/* a listing cut short says nothing of what it did not reach */
		for (uint32_t c = s->e[dir].child; c != WALK_NONE; c = s->e[c].next)
			s->e[c].mark = 0;
		s->e[dir].stamp = 0;
		st->nord = obase;
		return st->err;
	}
	scan_sweep(st, dir, len, obase);
	return 0;
}

/* After a recursive scan: a directory kept hidden as met twice whose
 * other way in is gone (nothing shown was that directory) is shown again,
 * and scanned. */
static void unhide(struct sstate *st, uint32_t id)
{
	struct walk_snap *s = st->s;
	char abs[PATH_MAX];
	struct stat sb;
	int fd;

	if (id >= s->n || !s->e[id].live || s->e[id].hide != HIDE_VISITED ||
	    walk_snap_path(s, id, st->path, sizeof st->path) < 0 ||
	    walk_abs(st->w, st->path, abs, sizeof abs) < 0)
		return;
	fd = open(abs, O_RDONLY | O_DIRECTORY | O_CLOEXEC | (st->w->follow ? 0 : O_NOFOLLOW));
	if (fd < 0)
		return; /* its parent's next listing says what it became */
	if (fstat(fd, &sb) < 0 || !visited_add(&st->vis, sb.st_dev, sb.st_ino)) {
		close(fd);
		return;
	}
	s->e[id].hide = 0;
	emit(st, id, GUST_CHANGE_CREATE);
	s->e[id].stamp = dir_stamp(st, &sb);
	if (scan_dir(st, id, fd, strlen(st->path), true, false) < 0)
		s->e[id].stamp = 0;
}

static void compact_names(struct walk_snap *s)
{
	size_t want = s->nlen - s->garbage + 1, len = 0;
	char *v;

	if (s->garbage < 65536 || s->garbage * 2 < s->nlen)
		return;
	v = malloc(want);
	if (!v)
		return;
	for (uint32_t id = 0; id < s->n; id++) {
		const char *nm;
		size_t nl;
		if (!s->e[id].live)
			continue;
		nm = ent_name(s, id);
		nl = strlen(nm) + 1;
		memcpy(v + len, nm, nl);
		s->e[id].name = (uint32_t)len;
		len += nl;
	}
	free(s->names);
	s->names = v;
	s->nlen = len;
	s->ncap = want;
	s->garbage = 0;
}

uint32_t walk_snap_find(const struct walk_snap *s, const char *rel)
{
	uint32_t id = 0;

	while (*rel) {
		const char *e = strchr(rel, '/');
		size_t nl = e ? (size_t)(e - rel) : strlen(rel);
		if (nl) {
			id = find_child(s, id, rel, nl);
			if (id == WALK_NONE || s->e[id].hide)
				return WALK_NONE;
		}
		rel += nl;
		while (*rel == '/')
			rel++;
	}
	return id;
}

int walk_snap_scan(struct walk_snap *s, const struct walker *w, const char *rel, bool recursive,
                   walk_emit_fn emitfn, void *arg)
{
	uint32_t id = walk_snap_find(s, rel);
	struct sstate *st;
	char abs[PATH_MAX];
	struct stat sb;
	struct timespec now;
	int fd, rc;

	if (id == WALK_NONE || !s->e[id].is_dir)
		return -ENOENT;
	if (walk_abs(w, rel, abs, sizeof abs) < 0)
		return -ENAMETOOLONG;
	fd = open(abs, O_RDONLY | O_DIRECTORY | O_CLOEXEC | (id && !w->follow ? O_NOFOLLOW : 0));
	if (fd < 0) {
		rc = -errno;
		if (rc == -ENOTDIR || rc == -ELOOP)
			rc = -ENOENT;
		if (rc != -ENOENT && !s->e[id].warned) {
			s->e[id].warned = 1;
			walk_warn_unreadable(w, rel, -rc);
		}
		return rc == -ENOENT ? rc : 0;
	}
	st = calloc(1, sizeof *st);
	if (!st) {
		close(fd);
		return -ENOMEM;
	}
	st->s = s;
	st->w = w;
	st->emit = emitfn;
	st->arg = arg;
	clock_gettime(CLOCK_REALTIME, &now);
	st->trust_before = ns_of(&now) - (int64_t)s->racy_ms * 1000000;
	st->recursive = recursive;
	if (recursive)
		s->rounds++;
	walk_snap_path(s, id, st->path, sizeof st->path);
	if (fstat(fd, &sb) == 0) {
		visited_add(&st->vis, sb.st_dev, sb.st_ino);
		s->e[id].stamp = dir_stamp(st, &sb);
	} else {
		s->e[id].stamp = 0;
	}
	s->e[id].warned = 0;
	/* rel itself is always listed: the caller has a reason to ask */
	rc = scan_dir(st, id, fd, strlen(st->path), recursive, false);
	if (rc < 0)
		s->e[id].stamp = 0;
	for (size_t i = 0; rc == 0 && !st->err && i < st->ndefer; i++)
		unhide(st, st->defer[i]); /* may defer more: ndefer grows */
	if (rc == 0)
		rc = st->err;
	visited_free(&st->vis);
	free(st->pend);
	free(st->defer);
	free(st->ord);
	free(st->idx);
	free(st);
	compact_names(s);
	return rc;
}

int walk_snap_path(const struct walk_snap *s, uint32_t id, char *buf, size_t len)
{
	size_t total = 0, pos;
	uint32_t i;

	if (id >= s->n || !s->e[id].live)
		return -ENOENT;
	for (i = id; i != 0 && i != WALK_NONE; i = s->e[i].parent)
		total += strlen(ent_name(s, i)) + (s->e[i].parent ? 1 : 0);
	if (total >= len)
		return -ENAMETOOLONG;
	buf[total] = '\0';
	pos = total;
	for (i = id; i != 0 && i != WALK_NONE; i = s->e[i].parent) {
		const char *nm = ent_name(s, i);
		size_t nl = strlen(nm);
		pos -= nl;
		memcpy(buf + pos, nm, nl);
		if (s->e[i].parent) {
			pos--;
			buf[pos] = '/';
		}
	}
	return 0;
}

int walk_snap_restat(struct walk_snap *s, const struct walker *w, uint32_t id)
{
	char rel[PATH_MAX], abs[PATH_MAX];
	struct stat sb;

	if (walk_snap_path(s, id, rel, sizeof rel) < 0 || walk_abs(w, rel, abs, sizeof abs) < 0)
		return -ENOENT;
	if ((w->follow ? stat(abs, &sb) : lstat(abs, &sb)) < 0 && lstat(abs, &sb) < 0)
		return -ENOENT;
	if ((bool)S_ISDIR(sb.st_mode) != (bool)s->e[id].is_dir)
		return -ENOENT;
	s->e[id].stamp = stamp_of(&sb);
	return 0;
}

static bool shown(const struct walk_snap *s, uint32_t id)
{
	return id < s->n && s->e[id].live && !s->e[id].hide;
}

bool walk_snap_is_dir(const struct walk_snap *s, uint32_t id)
{
	return shown(s, id) && s->e[id].is_dir;
}

int walk_snap_user(const struct walk_snap *s, uint32_t id)
{
	return s->user && id < s->n && s->e[id].live ? s->user[id] : -1;
}

int walk_snap_set_user(struct walk_snap *s, uint32_t id, int user)
{
	if (id >= s->n || !s->e[id].live || (!s->user && user == -1))
		return 0;
	if (!s->user) {
		s->user = malloc((size_t)s->cap * sizeof *s->user);
		if (!s->user)
			return -ENOMEM;
		for (uint32_t i = 0; i < s->cap; i++)
			s->user[i] = -1;
	}
	s->user[id] = user;
	return 0;
}

void walk_snap_each(struct walk_snap *s, void (*fn)(void *arg, struct walk_snap *s, uint32_t id),
                    void *arg)
{
	for (uint32_t id = 0; id < s->n; id++)
		if (shown(s, id))
			fn(arg, s, id);
}

size_t walk_snap_count(const struct walk_snap *s)
{
	size_t n = 0;
	for (uint32_t id = 0; id < s->n; id++)
		n += shown(s, id);
	return n;
}

void walk_snap_stats(const struct walk_snap *s, uint64_t *listed, uint64_t *skipped)
{
	*listed = s->listed;
	*skipped = s->skipped;
}

void walk_snap_set_racy_ms(struct walk_snap *s, unsigned ms)
{
	s->racy_ms = ms;
}

void walk_snap_set_trust_dirs(struct walk_snap *s, bool trust)
{
	s->trust_dirs = trust;
}

size_t walk_snap_bytes(const struct walk_snap *s)
{
	return sizeof *s + (size_t)s->cap * sizeof *s->e +
	       (s->user ? (size_t)s->cap * sizeof *s->user : 0) + s->ncap;
}
