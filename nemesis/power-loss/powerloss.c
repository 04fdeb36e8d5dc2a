// Faultline's lose-unsynced-writes filesystem (issue 14): a FUSE passthrough mounted over a directory, which it
// keeps serving from underneath (the directory is opened before the mount covers it). Everything passes through
// while the node runs; on command ("revert") the tree goes back to what was durable at the last syncs, as after a
// power cut: file bytes and sizes to their last fsync/fdatasync, directory entries to their directory's last
// fsync (or, in the opt-in any-fsync model, to the last fsync of anything: a journalling file system's commit).
//
// How: an undo log, not a shadow copy. Before the first overwrite since the last sync of a byte range that was
// durable, its old bytes go to an undo file (or, when they were zeros, only the range is noted); a sync of the
// file drops its undo records and notes its size. The durable namespace is kept as, for each directory, the entries
// it had at its last fsync (one list per model). A file or directory that leaves the live tree while a durable
// entry still names it is kept alive in the stash (a hard link, or the empty directory moved there), so its inode
// and bytes are there to put back and its inode number cannot be reused meanwhile. A revert rewinds each durable
// file in place (truncate to the synced size, undo records written back), builds the durable tree from hard links
// in the stash, swaps it in, and starts again from "everything is durable".
//
// Kernel caches: files are opened with direct_io (no page cache), and attributes, entries and negative entries
// time out at once, so nothing cached survives a revert; a revert is refused while any file is open (after the
// server is killed, none is). The control file /.faultline-power-loss (not listed): write "revert [MODEL]" or
// "sync"; read it for the counters and the last revert as JSON.
//
// Usage: faultline-power-loss -s STASH_DIR [-e dir-fsync|any-fsync] [-n FSNAME] MOUNTPOINT
// Prints "ready" on stdout once mounted; SIGTERM/SIGINT unmount, remove the stash and exit; so does the death of
// the parent (PR_SET_PDEATHSIG), so a killed harness leaves no daemon behind.
#define FUSE_USE_VERSION 31
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <fuse.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/types.h>
#include <unistd.h>

#define CONTROL_NAME ".faultline-power-loss"
#define CONTROL_PATH "/" CONTROL_NAME
#define CHUNK (1 << 20)
#define MAX_LISTED 64

enum { DIR_FSYNC = 0, ANY_FSYNC = 1, MODELS = 2 };
static const char *MODEL_NAMES[MODELS] = {"dir-fsync", "any-fsync"};

struct dent {
  char *name;
  ino_t ino;
};

/** Durable entries of one directory in one model. */
struct dlist {
  struct dent *e;
  size_t n;
};

/** A byte range of a file as it was at the last sync: in the undo file at `at`, or zeros when at < 0. */
struct range {
  off_t off, len, at;
};

struct node {
  ino_t ino;
  int is_dir;
  mode_t mode;
  int in_tree;  // has a name in the live tree
  int stashed;  // kept alive as stash/keep/<ino>
  int opens;
  int refs[MODELS];  // durable entries naming it
  struct dlist d[MODELS];
  off_t synced;  // files: size at the last sync
  struct range *r;
  size_t nr, cap;
  int ufd;  // undo file, -1 until needed
  off_t uend;
  unsigned visit;
  struct node *next;
};

struct handle {
  int fd;
  int control;
  int append;
  struct node *node;
  char *text;  // control: the JSON read returns
  size_t text_len;
};

static int root_fd = -1, stash_fd = -1, keep_fd = -1, undo_dir_fd = -1;
static ino_t root_ino;
static char *stash_path;
static int default_model = DIR_FSYNC;
static int ns_dirty;  // namespace changed since the any-fsync model's last commit
static unsigned visit_mark;
static int open_files;

#define BUCKETS 4096
static struct node *table[BUCKETS];

static struct {
  unsigned long long writes, bytes_written, fsyncs, fdatasyncs, dir_fsyncs, undo_ranges, undo_bytes, undo_zero_bytes,
      stashed, reverts, syncs, unknown_inodes;
} stats;
static char *last_revert;  // JSON object, or NULL
static char last_error[512];

// ---------------------------------------------------------------------------------------------------------
// Inode records

static struct node *find_node(ino_t ino) {
  for (struct node *n = table[ino % BUCKETS]; n; n = n->next)
    if (n->ino == ino) return n;
  return NULL;
}

static struct node *add_node(ino_t ino, int is_dir, mode_t mode, off_t synced) {
  struct node *n = find_node(ino);
  if (n) return n;
  n = calloc(1, sizeof *n);
  if (!n) abort();
  n->ino = ino;
  n->is_dir = is_dir;
  n->mode = mode;
  n->synced = synced;
  n->ufd = -1;
  n->next = table[ino % BUCKETS];
  table[ino % BUCKETS] = n;
  return n;
}

/** The record of a live inode; one we never saw (nothing should be) counts as durable as it is. */
static struct node *node_of(const struct stat *st) {
  struct node *n = find_node(st->st_ino);
  if (!n) {
    stats.unknown_inodes++;
    n = add_node(st->st_ino, S_ISDIR(st->st_mode), st->st_mode, S_ISDIR(st->st_mode) ? 0 : st->st_size);
    n->in_tree = 1;
  }
  return n;
}

static void ino_name(ino_t ino, char *buf, size_t size) { snprintf(buf, size, "%llu", (unsigned long long)ino); }

static void clear_undo(struct node *n) {
  n->nr = 0;
  if (n->ufd >= 0) {
    if (ftruncate(n->ufd, 0) != 0) { /* the next revert would read stale bytes only past uend: harmless */
    }
    n->uend = 0;
  }
}

static void drop_list(struct node *dir, int m);

/** Forgets a record nothing needs any more: not live, not open, named by no durable entry. */
static void maybe_drop(struct node *n) {
  if (!n || n->ino == root_ino || n->in_tree || n->opens || n->refs[DIR_FSYNC] || n->refs[ANY_FSYNC]) return;
  struct node **p = &table[n->ino % BUCKETS];
  while (*p != n) p = &(*p)->next;
  *p = n->next;
  for (int m = 0; m < MODELS; m++) drop_list(n, m);
  char name[32];
  ino_name(n->ino, name, sizeof name);
  if (n->stashed) unlinkat(keep_fd, name, n->is_dir ? AT_REMOVEDIR : 0);
  if (n->ufd >= 0) {
    close(n->ufd);
    unlinkat(undo_dir_fd, name, 0);
  }
  free(n->r);
  free(n);
}

static void drop_list(struct node *dir, int m) {
  struct dlist old = dir->d[m];
  dir->d[m] = (struct dlist){0};
  for (size_t i = 0; i < old.n; i++) {
    struct node *child = find_node(old.e[i].ino);
    if (child) {
      child->refs[m]--;
      maybe_drop(child);
    }
    free(old.e[i].name);
  }
  free(old.e);
}

/** Makes `list` the directory's durable entries in model m (takes ownership). */
static void set_list(struct node *dir, int m, struct dlist list) {
  for (size_t i = 0; i < list.n; i++) find_node(list.e[i].ino)->refs[m]++;
  drop_list(dir, m);
  dir->d[m] = list;
}

/** Keeps a durable inode alive in the stash before its last live name goes. */
static int stash_file(struct node *n, const char *rel) {
  if (n->stashed || !(n->refs[DIR_FSYNC] || n->refs[ANY_FSYNC])) return 0;
  char name[32];
  ino_name(n->ino, name, sizeof name);
  if (linkat(root_fd, rel, keep_fd, name, 0) != 0) return -errno;
  n->stashed = 1;
  stats.stashed++;
  return 0;
}

// ---------------------------------------------------------------------------------------------------------
// Listing the live tree

static const char *rel(const char *path) { return path[1] ? path + 1 : "."; }

/** The live entries of a directory (relative to dirfd), creating records for children never seen. */
static int list_dir(int dirfd, const char *path, struct dlist *out) {
  *out = (struct dlist){0};
  int fd = openat(dirfd, path, O_RDONLY | O_DIRECTORY);
  if (fd < 0) return -errno;
  DIR *d = fdopendir(fd);
  if (!d) {
    int e = errno;
    close(fd);
    return -e;
  }
  size_t cap = 0;
  struct dirent *de;
  while ((de = readdir(d))) {
    if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, "..")) continue;
    struct stat st;
    if (fstatat(fd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0) continue;
    node_of(&st);
    if (out->n == cap) {
      cap = cap ? cap * 2 : 16;
      out->e = realloc(out->e, cap * sizeof *out->e);
      if (!out->e) abort();
    }
    out->e[out->n++] = (struct dent){strdup(de->d_name), st.st_ino};
  }
  closedir(d);
  return 0;
}

/** Makes every directory's live entries durable in model m (a journal commit, or `sync`). */
static void commit_tree(int m, int dirfd, const char *path) {
  struct stat st;
  if (fstatat(dirfd, path, &st, AT_SYMLINK_NOFOLLOW) != 0 || !S_ISDIR(st.st_mode)) return;
  struct node *dir = node_of(&st);
  struct dlist list;
  if (list_dir(dirfd, path, &list) != 0) return;
  int fd = openat(dirfd, path, O_RDONLY | O_DIRECTORY);
  for (size_t i = 0; i < list.n; i++) {
    struct node *child = find_node(list.e[i].ino);
    if (child && child->is_dir && fd >= 0) commit_tree(m, fd, list.e[i].name);
  }
  if (fd >= 0) close(fd);
  set_list(dir, m, list);
}

static void commit_namespace(int m) {
  commit_tree(m, root_fd, ".");
  if (m == ANY_FSYNC) ns_dirty = 0;
}

/** Starts from "everything live is durable": records for the whole tree, synced sizes as they are. */
static void scan_all(void) {
  struct stat st;
  fstat(root_fd, &st);
  root_ino = st.st_ino;
  struct node *root = add_node(st.st_ino, 1, st.st_mode, 0);
  root->in_tree = 1;
  // node_of marks records it creates as unknown; the scan is where they are expected.
  unsigned long long unknown = stats.unknown_inodes;
  for (int m = 0; m < MODELS; m++) commit_namespace(m);
  stats.unknown_inodes = unknown;
}

// ---------------------------------------------------------------------------------------------------------
// The undo log

static int is_zero(const char *buf, size_t n) {
  for (size_t i = 0; i < n; i++)
    if (buf[i]) return 0;
  return 1;
}

/** Inserts a saved range at index i, merging with its predecessor when they are contiguous in file and undo file. */
static void insert_range(struct node *n, size_t i, off_t off, off_t len, off_t at) {
  if (i > 0) {
    struct range *p = &n->r[i - 1];
    if (p->off + p->len == off && ((p->at < 0 && at < 0) || (p->at >= 0 && at >= 0 && p->at + p->len == at))) {
      p->len += len;
      return;
    }
  }
  if (n->nr == n->cap) {
    n->cap = n->cap ? n->cap * 2 : 8;
    n->r = realloc(n->r, n->cap * sizeof *n->r);
    if (!n->r) abort();
  }
  memmove(&n->r[i + 1], &n->r[i], (n->nr - i) * sizeof *n->r);
  n->r[i] = (struct range){off, len, at};
  n->nr++;
}

static int open_undo(struct node *n) {
  if (n->ufd >= 0) return 0;
  char name[32];
  ino_name(n->ino, name, sizeof name);
  n->ufd = openat(undo_dir_fd, name, O_RDWR | O_CREAT | O_TRUNC, 0600);
  n->uend = 0;
  return n->ufd < 0 ? -errno : 0;
}

/** Saves the durable bytes of [a, b) not saved since the last sync; index i is where the gap belongs. */
static int save_gap(struct node *n, int fd, off_t a, off_t b, size_t *i) {
  static char buf[CHUNK];
  while (a < b) {
    size_t want = (size_t)(b - a) < sizeof buf ? (size_t)(b - a) : sizeof buf;
    ssize_t got = pread(fd, buf, want, a);
    if (got < 0) return -errno;
    // Past the live end, the durable bytes were saved when the file shrank; zeros are what is left to say.
    memset(buf + got, 0, want - (size_t)got);
    size_t before = n->nr;
    if (is_zero(buf, want)) {
      insert_range(n, *i, a, (off_t)want, -1);
      stats.undo_zero_bytes += want;
    } else {
      int e = open_undo(n);
      if (e) return e;
      if (pwrite(n->ufd, buf, want, n->uend) != (ssize_t)want) return errno ? -errno : -EIO;
      insert_range(n, *i, a, (off_t)want, n->uend);
      n->uend += (off_t)want;
      stats.undo_bytes += want;
    }
    stats.undo_ranges++;
    *i += n->nr - before;  // 1 when inserted, 0 when merged into the range before
    a += (off_t)want;
  }
  return 0;
}

/** Before [a, b) of a file changes: keeps whatever of it was durable and is not kept yet. */
static int save_range(struct node *n, int fd, off_t a, off_t b) {
  if (b > n->synced) b = n->synced;
  if (a >= b) return 0;
  // First range ending after a.
  size_t lo = 0, hi = n->nr;
  while (lo < hi) {
    size_t mid = (lo + hi) / 2;
    if (n->r[mid].off + n->r[mid].len <= a)
      lo = mid + 1;
    else
      hi = mid;
  }
  size_t i = lo;
  off_t cur = a;
  while (cur < b) {
    if (i < n->nr && n->r[i].off <= cur) {
      off_t end = n->r[i].off + n->r[i].len;
      if (end > cur) cur = end;
      i++;
      continue;
    }
    off_t gap_end = i < n->nr && n->r[i].off < b ? n->r[i].off : b;
    int e = save_gap(n, fd, cur, gap_end, &i);
    if (e) return e;
    cur = gap_end;
  }
  return 0;
}

static void mark_synced(struct node *n, int fd) {
  struct stat st;
  if (fstat(fd, &st) == 0) n->synced = st.st_size;
  clear_undo(n);
}

static int truncate_saving(struct node *n, int fd, off_t size) {
  struct stat st;
  if (fstat(fd, &st) != 0) return -errno;
  if (size < st.st_size) {
    int e = save_range(n, fd, size, st.st_size);
    if (e) return e;
  }
  return ftruncate(fd, size) == 0 ? 0 : -errno;
}

// ---------------------------------------------------------------------------------------------------------
// Revert

/** Live paths by inode, for finding each durable inode's bytes. */
struct where {
  ino_t ino;
  char *path;
  off_t size;
};
static struct where *live;
static size_t nlive, caplive;

static void index_live(int dirfd, const char *path) {
  int fd = openat(dirfd, path, O_RDONLY | O_DIRECTORY);
  if (fd < 0) return;
  DIR *d = fdopendir(fd);
  if (!d) {
    close(fd);
    return;
  }
  struct dirent *de;
  while ((de = readdir(d))) {
    if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, "..")) continue;
    struct stat st;
    if (fstatat(fd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0) continue;
    char *child;
    if (asprintf(&child, "%s%s%s", strcmp(path, ".") ? path : "", strcmp(path, ".") ? "/" : "", de->d_name) < 0)
      abort();
    if (nlive == caplive) {
      caplive = caplive ? caplive * 2 : 64;
      live = realloc(live, caplive * sizeof *live);
      if (!live) abort();
    }
    live[nlive++] = (struct where){st.st_ino, child, S_ISDIR(st.st_mode) ? -1 : st.st_size};
    if (S_ISDIR(st.st_mode)) index_live(root_fd, child);
  }
  closedir(d);
}

static struct where *live_by_ino(ino_t ino) {
  for (size_t i = 0; i < nlive; i++)
    if (live[i].ino == ino && live[i].size >= 0) return &live[i];
  return NULL;
}

static int live_has_path(const char *path) {
  for (size_t i = 0; i < nlive; i++)
    if (!strcmp(live[i].path, path)) return 1;
  return 0;
}

/** A growing JSON text. */
struct text {
  char *s;
  size_t n, cap;
};

static void put(struct text *t, const char *fmt, ...) {
  va_list ap;
  for (;;) {
    va_start(ap, fmt);
    int k = vsnprintf(t->s ? t->s + t->n : NULL, t->s ? t->cap - t->n : 0, fmt, ap);
    va_end(ap);
    if (k < 0) abort();
    if (t->s && t->n + (size_t)k < t->cap) {
      t->n += (size_t)k;
      return;
    }
    t->cap = (t->cap + (size_t)k + 1) * 2;
    t->s = realloc(t->s, t->cap);
    if (!t->s) abort();
  }
}

static void put_string(struct text *t, const char *s) {
  put(t, "\"");
  for (; *s; s++) {
    if (*s == '"' || *s == '\\')
      put(t, "\\%c", *s);
    else if ((unsigned char)*s < 0x20)
      put(t, "\\u%04x", *s);
    else
      put(t, "%c", *s);
  }
  put(t, "\"");
}

struct revert_stats {
  unsigned long long files, dirs, bytes_cut, bytes_grown, bytes_restored, missing, cycles;
  struct text restored, changed;
  size_t nrestored, nchanged;
  char **durable_paths;
  size_t ndurable, capdurable;
};

static void note_durable(struct revert_stats *rs, const char *path) {
  if (rs->ndurable == rs->capdurable) {
    rs->capdurable = rs->capdurable ? rs->capdurable * 2 : 64;
    rs->durable_paths = realloc(rs->durable_paths, rs->capdurable * sizeof *rs->durable_paths);
    if (!rs->durable_paths) abort();
  }
  rs->durable_paths[rs->ndurable++] = strdup(path);
  if (!live_has_path(path) && rs->nrestored++ < MAX_LISTED) {
    put(&rs->restored, rs->nrestored > 1 ? "," : "");
    put_string(&rs->restored, path);
  }
}

/** Puts a durable file's bytes back in place: its synced size, then every saved range. */
static int rewind_file(struct node *n, int dirfd, const char *name, const char *path, struct revert_stats *rs) {
  static char buf[CHUNK];
  int fd = openat(dirfd, name, O_WRONLY | O_NOFOLLOW);
  if (fd < 0) return -errno;
  struct stat st;
  fstat(fd, &st);
  int e = 0;
  if (ftruncate(fd, n->synced) != 0) e = -errno;
  unsigned long long restored = 0;
  for (size_t i = 0; !e && i < n->nr; i++) {
    struct range *r = &n->r[i];
    if (r->at < 0) {
      // Punching keeps a preallocated log sparse; writing zeros is the fallback.
      if (fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, r->off, r->len) != 0) {
        memset(buf, 0, sizeof buf);
        for (off_t done = 0; !e && done < r->len;) {
          size_t k = (size_t)(r->len - done) < sizeof buf ? (size_t)(r->len - done) : sizeof buf;
          if (pwrite(fd, buf, k, r->off + done) != (ssize_t)k) e = errno ? -errno : -EIO;
          done += (off_t)k;
        }
      }
    } else {
      for (off_t done = 0; !e && done < r->len;) {
        size_t k = (size_t)(r->len - done) < sizeof buf ? (size_t)(r->len - done) : sizeof buf;
        if (pread(n->ufd, buf, k, r->at + done) != (ssize_t)k || pwrite(fd, buf, k, r->off + done) != (ssize_t)k)
          e = errno ? -errno : -EIO;
        done += (off_t)k;
      }
    }
    restored += (unsigned long long)r->len;
  }
  close(fd);
  rs->bytes_restored += restored;
  if (st.st_size > n->synced) rs->bytes_cut += (unsigned long long)(st.st_size - n->synced);
  if (st.st_size < n->synced) rs->bytes_grown += (unsigned long long)(n->synced - st.st_size);
  if ((st.st_size != n->synced || restored) && rs->nchanged++ < MAX_LISTED) {
    put(&rs->changed, rs->nchanged > 1 ? "," : "");
    put(&rs->changed, "{\"path\":");
    put_string(&rs->changed, path);
    put(&rs->changed, ",\"size\":%lld,\"syncedSize\":%lld,\"bytesRestored\":%llu}", (long long)st.st_size,
        (long long)n->synced, restored);
  }
  return e;
}

/** Builds directory `dir`'s durable entries of model m under newdir/path (path "" is newdir itself). */
static int build(int m, struct node *dir, int newfd, const char *path, struct revert_stats *rs) {
  for (size_t i = 0; i < dir->d[m].n; i++) {
    struct dent *de = &dir->d[m].e[i];
    struct node *child = find_node(de->ino);
    char *p;
    if (asprintf(&p, "%s%s%s", path, *path ? "/" : "", de->name) < 0) abort();
    int e = 0;
    if (!child) {
      rs->missing++;
    } else if (child->is_dir) {
      if (child->visit == visit_mark) {
        rs->cycles++;  // a directory durable under two names: built once
      } else {
        child->visit = visit_mark;
        if (mkdirat(newfd, p, child->mode & 07777) != 0) e = -errno;
        if (!e) {
          rs->dirs++;
          note_durable(rs, p);
          e = build(m, child, newfd, p, rs);
        }
      }
    } else {
      char name[32];
      ino_name(child->ino, name, sizeof name);
      struct where *w = live_by_ino(child->ino);
      int srcfd = w ? root_fd : keep_fd;
      const char *src = w ? w->path : name;
      if (!w && !child->stashed) {
        rs->missing++;
      } else {
        if (child->visit != visit_mark) {
          child->visit = visit_mark;
          e = rewind_file(child, srcfd, src, p, rs);
          rs->files++;
        }
        if (!e && linkat(srcfd, src, newfd, p, 0) != 0) e = -errno;
        if (!e) note_durable(rs, p);
      }
    }
    free(p);
    if (e) return e;
  }
  return 0;
}

static int remove_tree(int dirfd, const char *name) {
  int fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW);
  if (fd < 0) {
    if (errno == ENOTDIR || errno == ELOOP) return unlinkat(dirfd, name, 0) == 0 ? 0 : -errno;
    return errno == ENOENT ? 0 : -errno;
  }
  DIR *d = fdopendir(fd);
  if (!d) {
    close(fd);
    return -errno;
  }
  struct dirent *de;
  while ((de = readdir(d)))
    if (strcmp(de->d_name, ".") && strcmp(de->d_name, "..")) remove_tree(fd, de->d_name);
  closedir(d);
  return unlinkat(dirfd, name, AT_REMOVEDIR) == 0 ? 0 : -errno;
}

static int fresh_dir(const char *name, int *fd) {
  if (*fd >= 0) close(*fd);
  *fd = -1;
  remove_tree(stash_fd, name);
  if (mkdirat(stash_fd, name, 0700) != 0) return -errno;
  *fd = openat(stash_fd, name, O_RDONLY | O_DIRECTORY);
  return *fd < 0 ? -errno : 0;
}

/** Moves every entry of one directory into another. */
static int move_all(int from, int to) {
  int fd = dup(from);
  if (fd < 0) return -errno;
  lseek(fd, 0, SEEK_SET);
  DIR *d = fdopendir(fd);
  if (!d) {
    close(fd);
    return -errno;
  }
  char **names = NULL;
  size_t n = 0;
  struct dirent *de;
  while ((de = readdir(d))) {
    if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, "..")) continue;
    names = realloc(names, (n + 1) * sizeof *names);
    if (!names) abort();
    names[n++] = strdup(de->d_name);
  }
  closedir(d);
  int e = 0;
  for (size_t i = 0; i < n; i++) {
    if (!e && renameat(from, names[i], to, names[i]) != 0) e = -errno;
    free(names[i]);
  }
  free(names);
  return e;
}

static void reset_records(void) {
  for (int b = 0; b < BUCKETS; b++) {
    for (struct node *n = table[b], *next; n; n = next) {
      next = n->next;
      for (int m = 0; m < MODELS; m++) {
        for (size_t i = 0; i < n->d[m].n; i++) free(n->d[m].e[i].name);
        free(n->d[m].e);
      }
      if (n->ufd >= 0) close(n->ufd);
      free(n->r);
      free(n);
    }
    table[b] = NULL;
  }
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

static int revert(int m) {
  if (open_files > 0) {
    snprintf(last_error, sizeof last_error, "%d file(s) are open on the filesystem; revert only after the node stopped",
             open_files);
    return -EBUSY;
  }
  struct revert_stats rs = {0};
  put(&rs.restored, "");
  put(&rs.changed, "");
  nlive = 0;
  index_live(root_fd, ".");
  visit_mark++;
  int newfd = -1, oldfd = -1;
  int e = fresh_dir("new", &newfd);
  if (!e) e = fresh_dir("old", &oldfd);
  if (!e) e = build(m, find_node(root_ino), newfd, "", &rs);
  // The live tree goes aside and the durable one takes its place.
  if (!e) e = move_all(root_fd, oldfd);
  if (!e) e = move_all(newfd, root_fd);
  if (e) {
    snprintf(last_error, sizeof last_error, "revert failed: %s", strerror(-e));
  }
  struct text removed = {0};
  put(&removed, "");
  size_t nremoved = 0;
  qsort(rs.durable_paths, rs.ndurable, sizeof *rs.durable_paths, cmp_str);
  for (size_t i = 0; i < nlive; i++) {
    char *key = live[i].path;
    if (!bsearch(&key, rs.durable_paths, rs.ndurable, sizeof *rs.durable_paths, cmp_str) &&
        nremoved++ < MAX_LISTED) {
      put(&removed, nremoved > 1 ? "," : "");
      put_string(&removed, live[i].path);
    }
  }
  // Everything kept or undone is now on the backing store as the tree: start over from there.
  reset_records();
  close(oldfd);
  remove_tree(stash_fd, "old");
  close(newfd);
  remove_tree(stash_fd, "new");
  fresh_dir("keep", &keep_fd);
  fresh_dir("undo", &undo_dir_fd);
  scan_all();
  stats.reverts++;
  struct text j = {0};
  put(&j,
      "{\"model\":\"%s\",\"ok\":%s,\"files\":%llu,\"dirs\":%llu,\"bytesCut\":%llu,\"bytesGrown\":%llu,"
      "\"bytesRestored\":%llu,\"missing\":%llu,\"removedCount\":%zu,\"removed\":[%s],\"restoredCount\":%zu,"
      "\"restored\":[%s],\"changedCount\":%zu,\"changed\":[%s]}",
      MODEL_NAMES[m], e ? "false" : "true", rs.files, rs.dirs, rs.bytes_cut, rs.bytes_grown, rs.bytes_restored,
      rs.missing, nremoved, removed.s, rs.nrestored, rs.restored.s, rs.nchanged, rs.changed.s);
  free(last_revert);
  last_revert = j.s;
  free(removed.s);
  free(rs.restored.s);
  free(rs.changed.s);
  for (size_t i = 0; i < rs.ndurable; i++) free(rs.durable_paths[i]);
  free(rs.durable_paths);
  for (size_t i = 0; i < nlive; i++) free(live[i].path);
  nlive = 0;
  return e;
}

/** `sync`: everything live becomes durable (file data and every directory entry), as sync(2) would make it. */
static void sync_all(void) {
  syncfs(root_fd);
  nlive = 0;
  index_live(root_fd, ".");
  for (size_t i = 0; i < nlive; i++) {
    struct node *n = find_node(live[i].ino);
    if (n && live[i].size >= 0) {
      clear_undo(n);
      n->synced = live[i].size;
    }
    free(live[i].path);
  }
  nlive = 0;
  for (int m = 0; m < MODELS; m++) commit_namespace(m);
  stats.syncs++;
}

// ---------------------------------------------------------------------------------------------------------
// Control file

static char *stats_json(void) {
  struct text t = {0};
  put(&t,
      "{\"model\":\"%s\",\"writes\":%llu,\"bytesWritten\":%llu,\"fsyncs\":%llu,\"fdatasyncs\":%llu,\"dirFsyncs\":%llu,"
      "\"undoRanges\":%llu,\"undoBytes\":%llu,\"undoZeroBytes\":%llu,\"stashed\":%llu,\"reverts\":%llu,\"syncs\":%llu,"
      "\"unknownInodes\":%llu,\"openFiles\":%d,\"lastError\":",
      MODEL_NAMES[default_model], stats.writes, stats.bytes_written, stats.fsyncs, stats.fdatasyncs, stats.dir_fsyncs,
      stats.undo_ranges, stats.undo_bytes, stats.undo_zero_bytes, stats.stashed, stats.reverts, stats.syncs,
      stats.unknown_inodes, open_files);
  put_string(&t, last_error);
  put(&t, ",\"lastRevert\":%s}\n", last_revert ? last_revert : "null");
  return t.s;
}

static int control_command(const char *buf, size_t size) {
  char cmd[128];
  if (size >= sizeof cmd) return -EINVAL;
  memcpy(cmd, buf, size);
  cmd[size] = 0;
  while (size && (cmd[size - 1] == '\n' || cmd[size - 1] == ' ')) cmd[--size] = 0;
  last_error[0] = 0;
  if (!strcmp(cmd, "sync")) {
    sync_all();
    return 0;
  }
  if (!strncmp(cmd, "revert", 6) && (cmd[6] == 0 || cmd[6] == ' ')) {
    int m = default_model;
    if (cmd[6] == ' ') {
      m = -1;
      for (int k = 0; k < MODELS; k++)
        if (!strcmp(cmd + 7, MODEL_NAMES[k])) m = k;
      if (m < 0) {
        snprintf(last_error, sizeof last_error, "unknown model \"%s\" (dir-fsync or any-fsync)", cmd + 7);
        return -EINVAL;
      }
    }
    return revert(m);
  }
  snprintf(last_error, sizeof last_error, "unknown command \"%s\" (revert [MODEL] or sync)", cmd);
  return -EINVAL;
}

// ---------------------------------------------------------------------------------------------------------
// FUSE operations

static struct handle *H(struct fuse_file_info *fi) { return (struct handle *)(uintptr_t)fi->fh; }

static void *pl_init(struct fuse_conn_info *conn, struct fuse_config *cfg) {
  (void)conn;
  cfg->direct_io = 1;
  cfg->kernel_cache = 0;
  cfg->attr_timeout = 0;
  cfg->entry_timeout = 0;
  cfg->negative_timeout = 0;
  cfg->hard_remove = 1;
  cfg->nullpath_ok = 1;
  return NULL;
}

static int pl_getattr(const char *path, struct stat *st, struct fuse_file_info *fi) {
  if (path && !strcmp(path, CONTROL_PATH)) {
    memset(st, 0, sizeof *st);
    st->st_mode = S_IFREG | 0600;
    st->st_nlink = 1;
    st->st_uid = getuid();
    st->st_gid = getgid();
    return 0;
  }
  if (fi && H(fi) && !H(fi)->control) return fstat(H(fi)->fd, st) == 0 ? 0 : -errno;
  if (!path) return -ENOENT;
  return fstatat(root_fd, rel(path), st, AT_SYMLINK_NOFOLLOW) == 0 ? 0 : -errno;
}

static int pl_access(const char *path, int mask) {
  if (!strcmp(path, CONTROL_PATH)) return 0;
  return faccessat(root_fd, rel(path), mask, 0) == 0 ? 0 : -errno;
}

static int pl_readlink(const char *path, char *buf, size_t size) {
  ssize_t n = readlinkat(root_fd, rel(path), buf, size - 1);
  if (n < 0) return -errno;
  buf[n] = 0;
  return 0;
}

static int pl_opendir(const char *path, struct fuse_file_info *fi) {
  struct handle *h = calloc(1, sizeof *h);
  if (!h) return -ENOMEM;
  h->fd = openat(root_fd, rel(path), O_RDONLY | O_DIRECTORY);
  if (h->fd < 0) {
    int e = errno;
    free(h);
    return -e;
  }
  fi->fh = (uintptr_t)h;
  return 0;
}

static int pl_readdir(const char *path, void *buf, fuse_fill_dir_t filler, off_t off, struct fuse_file_info *fi,
                      enum fuse_readdir_flags flags) {
  (void)path;
  (void)off;
  (void)flags;
  int fd = dup(H(fi)->fd);
  if (fd < 0) return -errno;
  lseek(fd, 0, SEEK_SET);
  DIR *d = fdopendir(fd);
  if (!d) {
    close(fd);
    return -errno;
  }
  struct dirent *de;
  while ((de = readdir(d)))
    if (filler(buf, de->d_name, NULL, 0, 0)) break;
  closedir(d);
  return 0;
}

static int pl_releasedir(const char *path, struct fuse_file_info *fi) {
  (void)path;
  close(H(fi)->fd);
  free(H(fi));
  return 0;
}

static int pl_fsyncdir(const char *path, int datasync, struct fuse_file_info *fi) {
  (void)path;
  (void)datasync;
  int fd = H(fi)->fd;
  if (fsync(fd) != 0) return -errno;
  struct stat st;
  if (fstat(fd, &st) != 0) return -errno;
  struct node *dir = node_of(&st);
  struct dlist list;
  int e = list_dir(fd, ".", &list);
  if (e) return e;
  set_list(dir, DIR_FSYNC, list);
  if (ns_dirty) commit_namespace(ANY_FSYNC);
  stats.dir_fsyncs++;
  return 0;
}

static int pl_mkdir(const char *path, mode_t mode) {
  if (mkdirat(root_fd, rel(path), mode) != 0) return -errno;
  struct stat st;
  if (fstatat(root_fd, rel(path), &st, AT_SYMLINK_NOFOLLOW) == 0) add_node(st.st_ino, 1, st.st_mode, 0)->in_tree = 1;
  ns_dirty = 1;
  return 0;
}

static int dir_is_empty(const char *relpath) {
  int fd = openat(root_fd, relpath, O_RDONLY | O_DIRECTORY);
  if (fd < 0) return -errno;
  DIR *d = fdopendir(fd);
  if (!d) {
    close(fd);
    return -EIO;
  }
  struct dirent *de;
  int empty = 1;
  while ((de = readdir(d)))
    if (strcmp(de->d_name, ".") && strcmp(de->d_name, "..")) empty = 0;
  closedir(d);
  return empty;
}

/** Takes a directory out of the live tree: into the stash when a durable entry names it, else removed. */
static int remove_dir(struct node *n, const char *relpath) {
  if (n && (n->refs[DIR_FSYNC] || n->refs[ANY_FSYNC])) {
    int empty = dir_is_empty(relpath);
    if (empty < 0) return empty;
    if (!empty) return -ENOTEMPTY;
    char name[32];
    ino_name(n->ino, name, sizeof name);
    if (renameat(root_fd, relpath, keep_fd, name) != 0) return -errno;
    n->stashed = 1;
    stats.stashed++;
  } else if (unlinkat(root_fd, relpath, AT_REMOVEDIR) != 0) {
    return -errno;
  }
  if (n) {
    n->in_tree = 0;
    maybe_drop(n);
  }
  ns_dirty = 1;
  return 0;
}

static int pl_rmdir(const char *path) {
  struct stat st;
  if (fstatat(root_fd, rel(path), &st, AT_SYMLINK_NOFOLLOW) != 0) return -errno;
  if (!S_ISDIR(st.st_mode)) return -ENOTDIR;
  return remove_dir(node_of(&st), rel(path));
}

/** Names of a file in the live tree (its link count, less its stash link). */
static nlink_t live_links(const struct node *n, const struct stat *st) {
  return st->st_nlink - (n->stashed ? 1 : 0);
}

static int pl_unlink(const char *path) {
  if (!strcmp(path, CONTROL_PATH)) return -EPERM;
  struct stat st;
  if (fstatat(root_fd, rel(path), &st, AT_SYMLINK_NOFOLLOW) != 0) return -errno;
  struct node *n = node_of(&st);
  // A revert may give one inode two durable names; only its last live name takes it out of the tree.
  int last = live_links(n, &st) <= 1;
  if (last) {
    int e = stash_file(n, rel(path));
    if (e) return e;
  }
  if (unlinkat(root_fd, rel(path), 0) != 0) return -errno;
  if (last) n->in_tree = 0;
  maybe_drop(n);
  ns_dirty = 1;
  return 0;
}

static int pl_rename(const char *from, const char *to, unsigned int flags) {
  if (!strcmp(from, CONTROL_PATH) || !strcmp(to, CONTROL_PATH)) return -EPERM;
  if (flags & ~RENAME_NOREPLACE) return -EINVAL;  // RENAME_EXCHANGE and whiteouts: ZooKeeper uses neither
  struct stat s, t;
  if (fstatat(root_fd, rel(from), &s, AT_SYMLINK_NOFOLLOW) != 0) return -errno;
  struct node *src = node_of(&s);
  struct node *dst = NULL;
  if (fstatat(root_fd, rel(to), &t, AT_SYMLINK_NOFOLLOW) == 0) {
    if (flags & RENAME_NOREPLACE) return -EEXIST;
    if (t.st_ino == s.st_ino) return 0;
    dst = node_of(&t);
  } else if (errno != ENOENT) {
    return -errno;
  }
  int stashed_dir = 0, linked = 0;
  if (dst && dst->is_dir) {
    // The backing rename would check these; a durable target directory moves to the stash first, so check here.
    if (!src->is_dir) return -EISDIR;
    size_t lf = strlen(rel(from));
    if (!strncmp(rel(to), rel(from), lf) && rel(to)[lf] == '/') return -EINVAL;
    int e = remove_dir(dst, rel(to));
    if (e) return e;
    stashed_dir = 1;
    dst = NULL;
  } else if (dst) {
    if (src->is_dir) return -ENOTDIR;
    if (live_links(dst, &t) > 1) {
      dst = NULL;  // another live name keeps it in the tree
    } else {
      linked = !dst->stashed && (dst->refs[DIR_FSYNC] || dst->refs[ANY_FSYNC]);
      int e = stash_file(dst, rel(to));
      if (e) return e;
    }
  }
  if (renameat2(root_fd, rel(from), root_fd, rel(to), flags) != 0) {
    int e = -errno;
    if (linked) {
      char name[32];
      ino_name(dst->ino, name, sizeof name);
      unlinkat(keep_fd, name, 0);
      dst->stashed = 0;
    }
    (void)stashed_dir;  // a directory already gone to the stash stays removed; rename(2) would not fail here
    return e;
  }
  if (dst) {
    dst->in_tree = 0;
    maybe_drop(dst);
  }
  ns_dirty = 1;
  return 0;
}

static int pl_refuse_link(const char *from, const char *to) {
  (void)from;
  (void)to;
  return -EPERM;  // hard and symbolic links: ZooKeeper makes none, and the model has one name per file
}

static int pl_mknod(const char *path, mode_t mode, dev_t dev) {
  (void)path;
  (void)mode;
  (void)dev;
  return -EPERM;
}

static int is_control(const char *path, struct fuse_file_info *fi) {
  return (fi && H(fi)->control) || (path && !strcmp(path, CONTROL_PATH));
}

static int pl_chmod(const char *path, mode_t mode, struct fuse_file_info *fi) {
  if (is_control(path, fi)) return 0;
  if (fi) return fchmod(H(fi)->fd, mode) == 0 ? 0 : -errno;
  return fchmodat(root_fd, rel(path), mode, 0) == 0 ? 0 : -errno;
}

static int pl_chown(const char *path, uid_t uid, gid_t gid, struct fuse_file_info *fi) {
  if (is_control(path, fi)) return 0;
  if (fi) return fchown(H(fi)->fd, uid, gid) == 0 ? 0 : -errno;
  return fchownat(root_fd, rel(path), uid, gid, AT_SYMLINK_NOFOLLOW) == 0 ? 0 : -errno;
}

static int pl_utimens(const char *path, const struct timespec tv[2], struct fuse_file_info *fi) {
  if (is_control(path, fi)) return 0;
  if (fi) return futimens(H(fi)->fd, tv) == 0 ? 0 : -errno;
  return utimensat(root_fd, rel(path), tv, AT_SYMLINK_NOFOLLOW) == 0 ? 0 : -errno;
}

static int pl_truncate(const char *path, off_t size, struct fuse_file_info *fi) {
  if (is_control(path, fi)) return 0;
  if (fi) return truncate_saving(H(fi)->node, H(fi)->fd, size);
  int fd = openat(root_fd, rel(path), O_RDWR);
  if (fd < 0) return -errno;
  struct stat st;
  fstat(fd, &st);
  int e = truncate_saving(node_of(&st), fd, size);
  close(fd);
  return e;
}

static int open_control(struct fuse_file_info *fi) {
  struct handle *h = calloc(1, sizeof *h);
  if (!h) return -ENOMEM;
  h->control = 1;
  h->fd = -1;
  h->text = stats_json();
  h->text_len = strlen(h->text);
  fi->fh = (uintptr_t)h;
  fi->direct_io = 1;
  return 0;
}

static int finish_open(int fd, int flags, struct node *n, struct fuse_file_info *fi) {
  if (flags & O_TRUNC) {
    int e = truncate_saving(n, fd, 0);
    if (e) {
      close(fd);
      return e;
    }
  }
  struct handle *h = calloc(1, sizeof *h);
  if (!h) {
    close(fd);
    return -ENOMEM;
  }
  h->fd = fd;
  h->node = n;
  h->append = (flags & O_APPEND) != 0;
  n->opens++;
  open_files++;
  fi->fh = (uintptr_t)h;
  fi->direct_io = 1;
  fi->keep_cache = 0;
  return 0;
}

/** Backing flags: O_TRUNC is done by hand, after the durable bytes are kept; writers also read (the old bytes). */
static int backing_flags(int flags) {
  flags &= ~O_TRUNC;
  if ((flags & O_ACCMODE) == O_WRONLY) flags = (flags & ~O_ACCMODE) | O_RDWR;
  return flags | O_NOFOLLOW;
}

static int pl_open(const char *path, struct fuse_file_info *fi) {
  if (!strcmp(path, CONTROL_PATH)) return open_control(fi);
  int fd = openat(root_fd, rel(path), backing_flags(fi->flags));
  if (fd < 0) return -errno;
  struct stat st;
  if (fstat(fd, &st) != 0) {
    int e = errno;
    close(fd);
    return -e;
  }
  return finish_open(fd, fi->flags, node_of(&st), fi);
}

static int pl_create(const char *path, mode_t mode, struct fuse_file_info *fi) {
  if (!strcmp(path, CONTROL_PATH)) return open_control(fi);
  struct stat st;
  int existed = fstatat(root_fd, rel(path), &st, AT_SYMLINK_NOFOLLOW) == 0;
  int fd = openat(root_fd, rel(path), backing_flags(fi->flags) | O_CREAT, mode);
  if (fd < 0) return -errno;
  if (fstat(fd, &st) != 0) {
    int e = errno;
    close(fd);
    return -e;
  }
  struct node *n;
  if (existed) {
    n = node_of(&st);
  } else {
    n = add_node(st.st_ino, 0, st.st_mode, 0);  // never synced: nothing of it is durable
    n->in_tree = 1;
    ns_dirty = 1;
  }
  return finish_open(fd, fi->flags, n, fi);
}

static int pl_read(const char *path, char *buf, size_t size, off_t off, struct fuse_file_info *fi) {
  (void)path;
  struct handle *h = H(fi);
  if (h->control) {
    if ((size_t)off >= h->text_len) return 0;
    size_t n = h->text_len - (size_t)off < size ? h->text_len - (size_t)off : size;
    memcpy(buf, h->text + off, n);
    return (int)n;
  }
  ssize_t n = pread(h->fd, buf, size, off);
  return n < 0 ? -errno : (int)n;
}

static int pl_write(const char *path, const char *buf, size_t size, off_t off, struct fuse_file_info *fi) {
  (void)path;
  struct handle *h = H(fi);
  if (h->control) {
    int e = control_command(buf, size);
    return e ? e : (int)size;
  }
  if (h->append) {
    struct stat st;
    if (fstat(h->fd, &st) != 0) return -errno;
    off = st.st_size;
  }
  int e = save_range(h->node, h->fd, off, off + (off_t)size);
  if (e) return e;
  ssize_t n = pwrite(h->fd, buf, size, off);
  if (n < 0) return -errno;
  stats.writes++;
  stats.bytes_written += (unsigned long long)n;
  return (int)n;
}

static int pl_fsync(const char *path, int datasync, struct fuse_file_info *fi) {
  (void)path;
  struct handle *h = H(fi);
  if (h->control) return 0;
  if ((datasync ? fdatasync(h->fd) : fsync(h->fd)) != 0) return -errno;
  mark_synced(h->node, h->fd);
  if (ns_dirty) commit_namespace(ANY_FSYNC);
  if (datasync)
    stats.fdatasyncs++;
  else
    stats.fsyncs++;
  return 0;
}

static int pl_release(const char *path, struct fuse_file_info *fi) {
  (void)path;
  struct handle *h = H(fi);
  if (h->control) {
    free(h->text);
  } else {
    close(h->fd);
    h->node->opens--;
    open_files--;
    maybe_drop(h->node);
  }
  free(h);
  return 0;
}

static int pl_statfs(const char *path, struct statvfs *sv) {
  (void)path;
  return fstatvfs(root_fd, sv) == 0 ? 0 : -errno;
}

static int pl_fallocate(const char *path, int mode, off_t off, off_t len, struct fuse_file_info *fi) {
  (void)path;
  // Allocation only: punching holes and zeroing ranges would change durable bytes behind the undo log's back.
  if (mode & ~FALLOC_FL_KEEP_SIZE) return -EOPNOTSUPP;
  if (H(fi)->control) return -EOPNOTSUPP;
  return fallocate(H(fi)->fd, mode, off, len) == 0 ? 0 : -errno;
}

static const struct fuse_operations ops = {
    .init = pl_init,
    .getattr = pl_getattr,
    .access = pl_access,
    .readlink = pl_readlink,
    .opendir = pl_opendir,
    .readdir = pl_readdir,
    .releasedir = pl_releasedir,
    .fsyncdir = pl_fsyncdir,
    .mkdir = pl_mkdir,
    .rmdir = pl_rmdir,
    .unlink = pl_unlink,
    .rename = pl_rename,
    .symlink = pl_refuse_link,
    .link = pl_refuse_link,
    .mknod = pl_mknod,
    .chmod = pl_chmod,
    .chown = pl_chown,
    .utimens = pl_utimens,
    .truncate = pl_truncate,
    .open = pl_open,
    .create = pl_create,
    .read = pl_read,
    .write = pl_write,
    .fsync = pl_fsync,
    .release = pl_release,
    .statfs = pl_statfs,
    .fallocate = pl_fallocate,
};

static void usage(void) {
  fprintf(stderr, "usage: faultline-power-loss -s STASH_DIR [-e dir-fsync|any-fsync] [-n FSNAME] MOUNTPOINT\n");
  exit(2);
}

int main(int argc, char **argv) {
  const char *fsname = "faultline-power-loss";
  int opt;
  while ((opt = getopt(argc, argv, "s:e:n:")) != -1) {
    switch (opt) {
      case 's':
        stash_path = optarg;
        break;
      case 'e':
        default_model = -1;
        for (int m = 0; m < MODELS; m++)
          if (!strcmp(optarg, MODEL_NAMES[m])) default_model = m;
        if (default_model < 0) usage();
        break;
      case 'n':
        fsname = optarg;
        break;
      default:
        usage();
    }
  }
  if (!stash_path || optind != argc - 1) usage();
  const char *mountpoint = argv[optind];
  if (strchr(fsname, ',')) {
    fprintf(stderr, "faultline-power-loss: the fs name may not hold a comma\n");
    return 2;
  }
  // The harness's death ends the daemon (which unmounts); from here on a vanished parent means exit.
  prctl(PR_SET_PDEATHSIG, SIGTERM);
  signal(SIGPIPE, SIG_IGN);
  if (getppid() == 1) return 1;

  root_fd = open(mountpoint, O_RDONLY | O_DIRECTORY);
  if (root_fd < 0) {
    fprintf(stderr, "faultline-power-loss: cannot open %s: %s\n", mountpoint, strerror(errno));
    return 1;
  }
  mkdir(stash_path, 0700);
  stash_fd = open(stash_path, O_RDONLY | O_DIRECTORY);
  if (stash_fd < 0) {
    fprintf(stderr, "faultline-power-loss: cannot open the stash %s: %s\n", stash_path, strerror(errno));
    return 1;
  }
  struct stat rs, ss;
  fstat(root_fd, &rs);
  fstat(stash_fd, &ss);
  if (rs.st_dev != ss.st_dev) {
    fprintf(stderr, "faultline-power-loss: the stash %s must be on the same file system as %s (hard links)\n",
            stash_path, mountpoint);
    return 1;
  }
  if (fresh_dir("keep", &keep_fd) || fresh_dir("undo", &undo_dir_fd)) {
    fprintf(stderr, "faultline-power-loss: cannot prepare the stash %s: %s\n", stash_path, strerror(errno));
    return 1;
  }
  scan_all();

  char *options;
  if (asprintf(&options, "allow_other,default_permissions,fsname=%s,subtype=faultline-power-loss", fsname) < 0)
    return 1;
  char *fargv[] = {argv[0], "-o", options, NULL};
  struct fuse_args args = FUSE_ARGS_INIT(3, fargv);
  struct fuse *fuse = fuse_new(&args, &ops, sizeof ops, NULL);
  if (!fuse) {
    fprintf(stderr, "faultline-power-loss: fuse_new failed\n");
    return 1;
  }
  if (fuse_mount(fuse, mountpoint) != 0) {
    fprintf(stderr, "faultline-power-loss: mounting on %s failed (is /dev/fuse there, and are we root?)\n",
            mountpoint);
    fuse_destroy(fuse);
    return 1;
  }
  struct fuse_session *se = fuse_get_session(fuse);
  fuse_set_signal_handlers(se);
  printf("ready\n");
  fflush(stdout);
  int rc = fuse_loop(fuse);
  fuse_remove_signal_handlers(se);
  // The harness may be gone (that is often why we stop): a message to its closed pipe must not kill us before the
  // unmount and the stash's removal.
  signal(SIGPIPE, SIG_IGN);
  fuse_unmount(fuse);
  fuse_destroy(fuse);
  close(keep_fd);
  close(undo_dir_fd);
  remove_tree(AT_FDCWD, stash_path);
  return rc == 0 ? 0 : 1;
}
