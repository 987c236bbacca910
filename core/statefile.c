/* statefile.c - the state file (<tmp_dir>/gust.state): what this gust
 * has running, written as it changes, so that the next gust can remove
 * what this one left if it is SIGKILLed (ptree_mgr_recover()), and whether
 * it is quitting, so that the next one waits for it. */
#include "config.h"

#include "ptree-internal.h"

#include "log.h"
#include "loop.h"
#include "signames.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define RECOVER_MS 3000u
#define QUIT_WAIT_MS 60000u /* for a previous gust that is still stopping */

/* The state file's fuzz target (fuzz/state.c) builds this file with
 * GUST_RECOVER_DRY: no input may ever signal a real process or touch a
 * cgroup. Recovery then reads the file and picks its victims as ever, but
 * only tells the harness about each (it checks the choice), and does not
 * wait for them to go. The harness refers to gust_recover_dry: built
 * without the switch, this file does not link into it. */
#ifdef GUST_RECOVER_DRY
void gust_recover_dry_kill(pid_t pid, unsigned long long start);
extern const int gust_recover_dry;
const int gust_recover_dry = 1;
#define RECOVER_DRY 1
#else
#define RECOVER_DRY 0
#endif

/* What recovery does to a process, a cgroup, an emptied cgroup. */
static int recover_signal(pid_t pid, unsigned long long start)
{
#ifdef GUST_RECOVER_DRY
	gust_recover_dry_kill(pid, start);
	return 0;
#else
	return procfs_signal(pid, start, SIGKILL);
#endif
}

static int recover_cgroup_kill(const char *cg)
{
	return RECOVER_DRY ? -EPERM : cgroup_kill(cg);
}

static int recover_rmdir(const char *cg)
{
	if (RECOVER_DRY) {
		errno = EPERM;
		return -1;
	}
	return rmdir(cg);
}

/* Rewritten in place through one open descriptor: a tmp file and a
 * rename cost ~150 us on ext4, several times per restart. The header comes
 * first and changes only once (" quitting" added), so a gust killed in the
 * middle leaves it whole; a cut or shifted last line names a start time no
 * process has. */
void statefile_write(struct ptree_mgr *mgr)
{
	if (!mgr->state_path)
		return;
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	if (!f)
		goto fail;
	/* the third word is the format: 2 since trees have reapers */
	fprintf(f, "gust %ld %llu 2%s\n", (long)mgr->self, mgr->self_start,
	        mgr->quitting ? " quitting" : "");
	for (struct gust_tree *t = mgr->trees; t; t = t->next) {
		if (ptree_reaper_alive(t))
			fprintf(f, "r %ld %llu\n", (long)t->reaper, t->reaper_start);
		for (size_t i = 0; ptree_live(t) && i < t->nm; i++)
			fprintf(f, "%ld %llu\n", (long)t->m[i].pid, t->m[i].start);
		if (t->cg)
			fprintf(f, "cgroup %s\n", t->cg);
	}
	if (fclose(f) != 0)
		goto fail;
	/* removed under us (the tmp_dir was cleaned): write a new one */
	struct stat st;
	if (mgr->state_fd >= 0 && (fstat(mgr->state_fd, &st) < 0 || st.st_nlink == 0)) {
		close(mgr->state_fd);
		mgr->state_fd = -1;
	}
	/* the same again (a scan that changed nothing it records): skip */
	if (mgr->state_fd >= 0 && mgr->state_last && mgr->state_last_len == len &&
	    memcmp(mgr->state_last, buf, len) == 0) {
		free(buf);
		return;
	}
	free(mgr->state_last);
	mgr->state_last = NULL;
	if (mgr->state_fd < 0)
		mgr->state_fd = open(mgr->state_path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (mgr->state_fd < 0 || pwrite(mgr->state_fd, buf, len, 0) != (ssize_t)len ||
	    ftruncate(mgr->state_fd, (off_t)len) < 0)
		goto fail;
	mgr->state_last = buf;
	mgr->state_last_len = len;
	return;
fail:
	free(buf);
	if (!mgr->state_warned) {
		mgr->state_warned = true;
		log_msg(GUST_LOG_WARN, STAGE_RUN, "cannot write the state file \"%s\": %s",
		        mgr->state_path, strerror(errno));
	}
}

struct recorded {
	pid_t pid;
	unsigned long long start;
	bool reaper;
};

/* Is s->p[i] a recorded process or a descendant of one? st: as attr's. */
static bool recorded_below(const struct snap *s, const struct recorded *rec, size_t nrec,
                           unsigned char *st, size_t i)
{
	if (st[i] >= 2)
		return st[i] == 3;
	if (st[i] == 1)
		return false;
	st[i] = 1;
	bool ours = false;
	for (size_t j = 0; j < nrec && !ours; j++)
		ours = rec[j].pid == s->p[i].pid && rec[j].start == s->p[i].start;
	long k = ours ? -1 : procfs_snap_find(s, s->p[i].ppid);
	if (k >= 0)
		ours = recorded_below(s, rec, nrec, st, (size_t)k);
	st[i] = ours ? 3 : 2;
	return ours;
}

/* Does pid have a child that is not a zombie? */
static bool has_live_child(const struct snap *s, pid_t pid)
{
	for (size_t i = 0; i < s->n; i++)
		if (s->p[i].ppid == pid && s->p[i].state != 'Z')
			return true;
	return false;
}

/* gust's own ancestors are never leftovers, whatever their environment. */
static size_t own_ancestors(pid_t *out, size_t max)
{
	size_t n = 0;
	pid_t p = getppid();
	while (p > 1 && n < max) {
		out[n++] = p;
		struct pinfo pi;
		if (procfs_stat(p, &pi) < 0)
			break;
		p = pi.ppid;
	}
	return n;
}

/* What a dead gust's state file says it had. */
struct leftovers {
	long opid;                 /* the gust that wrote it */
	unsigned long long ostart; /* its start time */
	bool quitting;             /* it had been asked to quit */
	struct recorded *rec;      /* its processes */
	size_t nrec, caprec;
	char **cgs; /* its cgroups */
	size_t ncg;
};

static void leftovers_free(struct leftovers *lo)
{
	free(lo->rec);
	for (size_t i = 0; i < lo->ncg; i++)
		free(lo->cgs[i]);
	free(lo->cgs);
}

/* One line after the header: a cgroup, or a process ("r " first: a
 * reaper). 0 or -ENOMEM. */
static int leftovers_line(struct leftovers *lo, const char *line)
{
	if (strncmp(line, "cgroup /", 8) == 0) {
		/* only a cgroup that gust named after itself is its own */
		char pre[64];
		snprintf(pre, sizeof pre, "/gust-%ld-", lo->opid);
		const char *base = strrchr(line, '/');
		char **ncgs = strncmp(base, pre, strlen(pre)) == 0 && !strstr(line, "/../")
		                  ? realloc(lo->cgs, (lo->ncg + 1) * sizeof *lo->cgs)
		                  : NULL;
		if (ncgs) {
			lo->cgs = ncgs;
			if ((lo->cgs[lo->ncg] = strdup(line + 7)))
				lo->ncg++;
		}
		return 0;
	}
	long pid;
	unsigned long long start;
	bool reaper = line[0] == 'r' && line[1] == ' ';
	if (sscanf(line + (reaper ? 2 : 0), "%ld %llu", &pid, &start) != 2)
		return 0;
	/* That gust recorded only processes it started, so after itself, and
	 * never init: a record of init (every process descends from it) or
	 * of anything older than that gust (a file from another boot, or not
	 * gust's) names nothing of its own. */
	if (pid <= 1 || pid != (long)(pid_t)pid || start < lo->ostart)
		return 0;
	if (lo->nrec == lo->caprec) {
		size_t cap = lo->caprec ? lo->caprec * 2 : 32;
		struct recorded *n = realloc(lo->rec, cap * sizeof *n);
		if (!n)
			return -ENOMEM;
		lo->rec = n;
		lo->caprec = cap;
	}
	lo->rec[lo->nrec++] = (struct recorded){ (pid_t)pid, start, reaper };
	return 0;
}

/* Read the state file at path into *lo (zeroed by the caller, freed by
 * it whatever this returns). 1 when there is none, 0, or -errno with msg
 * set; a file that is no state file is removed. */
static int leftovers_read(const char *path, struct leftovers *lo, char *msg, size_t msglen)
{
	FILE *f = fopen(path, "re");
	if (!f) {
		if (errno == ENOENT)
			return 1;
		int e = errno;
		snprintf(msg, msglen, "\"%s\": %s", path, strerror(e));
		return -e;
	}
	char oformat[96];
	if (fscanf(f, "gust %ld %llu %95s", &lo->opid, &lo->ostart, oformat) != 3) {
		fclose(f);
		snprintf(msg, msglen, "\"%s\": not a gust state file; removed", path);
		unlink(path);
		return -EINVAL;
	}
	char *line = NULL;
	size_t lcap = 0;
	ssize_t llen;
	int r = 0;
	/* the rest of the header: " quitting" once that gust was asked to */
	lo->quitting = (llen = getline(&line, &lcap, f)) > 0 && strstr(line, "quitting");
	while (r == 0 && (llen = getline(&line, &lcap, f)) > 0) {
		while (llen > 0 && line[llen - 1] == '\n')
			line[--llen] = '\0';
		r = leftovers_line(lo, line);
	}
	free(line);
	fclose(f);
	if (r < 0)
		snprintf(msg, msglen, "out of memory");
	return r;
}

/* Is the gust that wrote the state file alive? -EAGAIN (asked to quit,
 * still stopping its run) or -EEXIST with msg set, or 0. */
static int previous_alive(const struct ptree_mgr *mgr, const struct leftovers *lo, char *msg,
                          size_t msglen)
{
	struct pinfo pi;
	if (!((pid_t)lo->opid != mgr->self && procfs_stat((pid_t)lo->opid, &pi) == 0 &&
	      pi.start == lo->ostart && pi.state != 'Z'))
		return 0;
	if (lo->quitting) {
		snprintf(msg, msglen, "the previous gust (pid %ld) to finish stopping", lo->opid);
		return -EAGAIN;
	}
	snprintf(msg, msglen, "another gust (pid %ld) is running in this project (\"%s\")",
	         lo->opid, mgr->state_path);
	return -EEXIST;
}

/* May a process the file records still be alive (same pid and start
 * time)? Only then can /proc hold something of that gust's outside its
 * cgroups: a descendant is found by descent from a recorded process alive,
 * since a dead one's children were re-parented when it exited. A zombie
 * counts (its other threads may live on, and its children with them), and
 * so does a /proc that cannot be read: the scan then says so. */
static bool recorded_alive(const struct leftovers *lo)
{
	for (size_t j = 0; j < lo->nrec; j++) {
		struct pinfo pi;
		int r = procfs_stat(lo->rec[j].pid, &pi);
		if (r == 0 ? pi.start == lo->rec[j].start : r != -ENOENT && r != -ESRCH)
			return true;
	}
	return false;
}

/* The removal of a dead gust's leftovers, round after round. */
struct recovery {
	struct leftovers lo;
	pid_t anc[64]; /* gust's own ancestors */
	size_t nanc;
	pid_t *cgp; /* this round: the pids in the recorded cgroups */
	size_t ncgp;
	struct recorded *killed; /* each process signalled, once */
	size_t nkilled, capkilled;
};

/* SIGKILL the recorded cgroups and remove the empty ones; rc->cgp: the
 * pids they held. How many are left (a cgroup to remove counts one). */
static size_t recover_cgroups(struct recovery *rc)
{
	size_t left = 0;
	for (size_t c = 0; c < rc->lo.ncg; c++) {
		pid_t *one;
		size_t n1;
		if (cgroup_pids(rc->lo.cgs[c], &one, &n1) < 0)
			continue;
		(void)recover_cgroup_kill(rc->lo.cgs[c]);
		pid_t *np = n1 ? realloc(rc->cgp, (rc->ncgp + n1) * sizeof *np) : NULL;
		if (np) {
			rc->cgp = np;
			memcpy(rc->cgp + rc->ncgp, one, n1 * sizeof *one);
			rc->ncgp += n1;
		}
		free(one);
		if (n1 > 0 || (recover_rmdir(rc->lo.cgs[c]) < 0 && errno == EBUSY))
			left++; /* empty and removed next round */
	}
	return left;
}

static void note_killed(struct recovery *rc, const struct pinfo *p, bool reaper)
{
	for (size_t j = 0; j < rc->nkilled; j++)
		if (rc->killed[j].pid == p->pid && rc->killed[j].start == p->start)
			return;
	if (rc->nkilled == rc->capkilled) {
		size_t cap = rc->capkilled ? rc->capkilled * 2 : 32;
		struct recorded *n = realloc(rc->killed, cap * sizeof *n);
		if (n) {
			rc->killed = n;
			rc->capkilled = cap;
		}
	}
	if (rc->nkilled < rc->capkilled)
		rc->killed[rc->nkilled++] = (struct recorded){ p->pid, p->start, reaper };
}

/* SIGKILL what of snapshot s is provably the dead gust's: a recorded
 * process, a descendant of one, or a member of a recorded cgroup; a
 * recorded reaper only once it has no living child. Zombies hold nothing
 * and are their new parent's to reap. How many are left. */
static size_t recover_processes(const struct ptree_mgr *mgr, struct recovery *rc,
                                const struct snap *s, unsigned char *st)
{
	size_t left = 0;
	for (size_t i = 0; i < s->n; i++) {
		const struct pinfo *p = &s->p[i];
		bool ours = false, mine = p->pid == mgr->self;
		for (size_t j = 0; j < rc->nanc && !mine; j++)
			mine = rc->anc[j] == p->pid;
		if (p->state == 'Z' || mine)
			continue;
		bool reaper = false;
		for (size_t j = 0; j < rc->lo.nrec; j++)
			reaper |= rc->lo.rec[j].reaper && rc->lo.rec[j].pid == p->pid &&
			          rc->lo.rec[j].start == p->start;
		ours = recorded_below(s, rc->lo.rec, rc->lo.nrec, st, i);
		for (size_t j = 0; j < rc->ncgp && !ours; j++)
			ours = rc->cgp[j] == p->pid;
		if (!ours)
			continue;
		left++;
		if (!reaper || !has_live_child(s, p->pid))
			(void)recover_signal(p->pid, p->start);
		note_killed(rc, p, reaper);
	}
	return left;
}

/* Rounds of SIGKILL until nothing of the dead gust's is left or
 * RECOVER_MS passed. alive: a recorded process was alive when recovery
 * began; without one, only the members of the recorded cgroups can be the
 * dead gust's, and /proc is read only when a cgroup holds any. 0 or
 * -errno (/proc could not be read); *left: how many remain. */
static int recover_kill(const struct ptree_mgr *mgr, struct recovery *rc, bool alive, size_t *left)
{
	uint64_t deadline = loop_now_ms() + RECOVER_MS;
	int r = 0;
	*left = 0;
	for (;;) {
		struct snap s = { 0 };
		unsigned char *st = NULL;
		*left = recover_cgroups(rc);
		if (alive || rc->ncgp) {
			if ((r = procfs_snap_take(&s)) == 0 && !(st = calloc(s.n ? s.n : 1, 1)))
				r = -ENOMEM;
			if (r == 0)
				*left += recover_processes(mgr, rc, &s, st);
		}
		free(s.p);
		free(st);
		free(rc->cgp);
		rc->cgp = NULL;
		rc->ncgp = 0;
		if (r < 0 || !*left || RECOVER_DRY || loop_now_ms() >= deadline)
			break;
		struct timespec ts = { 0, 5 * 1000000L };
		nanosleep(&ts, NULL);
	}
	return r;
}

int ptree_mgr_recover(struct ptree_mgr *mgr, char *msg, size_t msglen)
{
	msg[0] = '\0';
	if (!mgr->state_path)
		return 0;
	struct recovery rc = { 0 };
	int r = leftovers_read(mgr->state_path, &rc.lo, msg, msglen);
	if (r == 0)
		r = previous_alive(mgr, &rc.lo, msg, msglen);
	if (r != 0) {
		leftovers_free(&rc.lo);
		return r > 0 ? 0 : r;
	}
	/* The old gust is dead: kill what provably was its own, until none is
	 * left: the recorded processes (same pid and start time) and whatever
	 * descends from one. A recorded reaper goes last, once it has no child
	 * left: its orphans would go to init. Its parent-death signal has it
	 * doing the same already; this finishes what it could not. */
	rc.nanc = own_ancestors(rc.anc, sizeof rc.anc / sizeof *rc.anc);
	size_t left = 0;
	bool alive = recorded_alive(&rc.lo);
	if (rc.lo.ncg || alive)
		r = recover_kill(mgr, &rc, alive, &left);
	long opid = rc.lo.opid;
	size_t nkilled = rc.nkilled;
	free(rc.killed);
	leftovers_free(&rc.lo);
	if (r < 0) {
		snprintf(msg, msglen, "cannot scan /proc: %s", strerror(-r));
		return r;
	}
	if (left) {
		snprintf(msg, msglen,
		         "%zu process(es) left by a killed gust (pid %ld) survive SIGKILL", left,
		         opid);
		return -EBUSY;
	}
	unlink(mgr->state_path);
	if (nkilled)
		snprintf(msg, msglen,
		         "removed %zu process(es) left behind by a killed gust (pid %ld)", nkilled,
		         opid);
	return (int)nkilled;
}

void ptree_mgr_quitting(struct ptree_mgr *mgr)
{
	mgr->quitting = true;
	statefile_write(mgr);
}

/* The state file is another gust's (recover said -EEXIST): never write or
 * remove it. */
static void leave_state(struct ptree_mgr *mgr)
{
	free(mgr->state_path);
	mgr->state_path = NULL;
}

/* Signals while ptree_mgr_claim() waits for a quitting gust: give up the
 * wait. */
static void on_wait_signal(int sig, void *arg)
{
	*(int *)arg = sig;
}

int ptree_mgr_claim(struct ptree_mgr *mgr, const char *lock_path,
                    void (*on_signal)(int sig, void *arg), void *arg)
{
	char err[2048];
	int removed = ptree_mgr_recover(mgr, err, sizeof err);
	if (removed == -EAGAIN) {
		/* the previous gust was asked to quit and still stops its run:
		 * wait for it (60 s at most), still answering signals */
		log_msg(GUST_LOG_INFO, STAGE_RUN, "waiting for %s", err);
		int sig = 0;
		loop_set_signal_cb(mgr->loop, on_wait_signal, &sig);
		uint64_t until = loop_now_ms() + QUIT_WAIT_MS;
		while (removed == -EAGAIN && !sig && loop_now_ms() < until) {
			loop_once(mgr->loop, 20);
			removed = ptree_mgr_recover(mgr, err, sizeof err);
		}
		loop_set_signal_cb(mgr->loop, on_signal, arg);
		if (sig || removed == -EAGAIN) {
			leave_state(mgr);
			if (sig)
				log_error(
				    "%s received while waiting for the previous gust: not started",
				    config_signal_name(sig) ? config_signal_name(sig) : "a signal");
			else
				log_error("%s, still after %u s: not started", err,
				          QUIT_WAIT_MS / 1000);
			return sig ? -EINTR : -EEXIST;
		}
	}
	if (removed == -EEXIST) {
		/* two gusts in one project would fight over its builds, ports
		 * and state file: the second one refuses to start */
		leave_state(mgr);
		log_error("%s; stop it first", err);
		return -EEXIST;
	}
	/* the project is this gust's from here: a lock held for its life
	 * (the kernel lets it go whatever ends gust) decides between gusts
	 * that got this far together */
	mgr->lock_fd = open(lock_path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (mgr->lock_fd >= 0 && flock(mgr->lock_fd, LOCK_EX | LOCK_NB) < 0 &&
	    errno == EWOULDBLOCK) {
		leave_state(mgr);
		log_error(
		    "another gust started in this project at the same time (\"%s\"): not started",
		    lock_path);
		return -EEXIST;
	}
	statefile_write(mgr);
	if (removed > 0)
		log_msg(GUST_LOG_WARN, STAGE_RUN, "%s", err);
	else if (removed < 0)
		log_msg(GUST_LOG_WARN, STAGE_RUN,
		        "could not check for leftovers of a previous gust: %s", err);
	return 0;
}

void statefile_close(struct ptree_mgr *mgr)
{
	if (mgr->state_path)
		unlink(mgr->state_path);
	if (mgr->state_fd >= 0)
		close(mgr->state_fd);
	free(mgr->state_last);
	free(mgr->state_path);
	if (mgr->lock_fd >= 0)
		close(mgr->lock_fd); /* after the state file is gone */
}
