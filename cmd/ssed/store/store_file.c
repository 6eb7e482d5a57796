/* The store's file at PATH, before SQLite reads it: never a symbolic link
 * followed, never a device or a directory, a new one created 0600 from
 * the start, and nothing of an existing file changed (not even its mode)
 * until store.c has recognised it as an ssed store. Also who holds a lock
 * SQLite could not get, so a locked store is told apart from a damaged one. */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "store_internal.h"

/* SQLite's lock bytes (its os_unix.c: PENDING_BYTE at 1 GiB, then the
 * RESERVED byte and the 510 SHARED bytes): a lock held there by another
 * process is what made SQLite answer "busy". */
#define SQLITE_LOCK_START 0x40000000L
#define SQLITE_LOCK_LEN 512L

static const char *kind_of(mode_t mode) {
    if (S_ISLNK(mode))
        return "a symbolic link";
    if (S_ISDIR(mode))
        return "a directory";
    if (S_ISCHR(mode))
        return "a character device";
    if (S_ISBLK(mode))
        return "a block device";
    if (S_ISFIFO(mode))
        return "a FIFO";
    if (S_ISSOCK(mode))
        return "a socket";
    return "not a regular file";
}

/* Only a regular file at name, never one reached through a symbolic link.
 * 0 if it is one (st filled), 1 if nothing is there, -1 with err naming
 * what is there instead. */
static int check_kind(const char *name, struct stat *st, char *err, size_t errlen) {
    if (lstat(name, st) < 0) {
        if (errno == ENOENT)
            return 1;
        snprintf(err, errlen, "store %s: %s", name, strerror(errno));
        return -1;
    }
    if (S_ISREG(st->st_mode))
        return 0;
    if (S_ISLNK(st->st_mode)) {
        char target[256];
        ssize_t n = readlink(name, target, sizeof target - 1);
        target[n < 0 ? 0 : n] = '\0';
        snprintf(err, errlen, "store %s: is a symbolic link%s%s; refusing to follow it", name,
                 n > 0 ? " to " : "", target);
    } else {
        snprintf(err, errlen, "store %s: is %s, not a regular file; left as it is", name, kind_of(st->st_mode));
    }
    return -1;
}

/* SQLite's side files (its log, its rollback journal, its shared memory)
 * are opened by it with O_NOFOLLOW already; a symbolic link or a device in
 * their place is refused here first, with a message naming it rather than
 * SQLite's "unable to open". */
static int check_side_files(const store *s, char *err, size_t errlen) {
    static const char *const suffixes[] = {"-wal", "-journal", "-shm"};
    size_t n = strlen(s->path) + 16;
    char name[n];
    struct stat st;
    for (size_t i = 0; i < sizeof suffixes / sizeof *suffixes; i++) {
        snprintf(name, n, "%s%s", s->path, suffixes[i]);
        if (check_kind(name, &st, err, errlen) < 0)
            return -1;
    }
    return 0;
}

/* A new store: O_EXCL so nothing that appeared meanwhile (a file, a
 * symbolic link, even a dangling one) is opened instead, and mode 0600 from
 * the first moment. The fchmod is on a file this call made: it only undoes
 * what a umask such as 0277 took away. 1 if something is there now. */
static int create_file(store *s, char *err, size_t errlen) {
    int fd = open(s->path, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0) {
        if (errno == EEXIST)
            return 1;
        snprintf(err, errlen, "store %s: create: %s", s->path, strerror(errno));
        return -1;
    }
    s->lock_fd = fd;
    if (fchmod(fd, 0600) < 0) {
        snprintf(err, errlen, "store %s: chmod 0600: %s", s->path, strerror(errno));
        return -1;
    }
    return 0;
}

/* An existing regular file, opened as it is. O_NONBLOCK: should a FIFO
 * take its place after the lstat, the open does not wait for a writer (and
 * the fstat below refuses it). */
static int open_existing(store *s, const struct stat *seen, char *err, size_t errlen) {
    int fd = open(s->path, O_RDWR | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
    if (fd < 0) {
        if (errno == ENOENT)
            return 1; /* gone since the lstat: start again */
        if (errno == ELOOP)
            snprintf(err, errlen, "store %s: is a symbolic link; refusing to follow it", s->path);
        else
            snprintf(err, errlen, "store %s: %s", s->path, strerror(errno));
        return -1;
    }
    s->lock_fd = fd;
    struct stat st;
    if (fstat(fd, &st) < 0) {
        snprintf(err, errlen, "store %s: fstat: %s", s->path, strerror(errno));
        return -1;
    }
    if (!S_ISREG(st.st_mode) || st.st_dev != seen->st_dev || st.st_ino != seen->st_ino) {
        snprintf(err, errlen, "store %s: replaced while it was being opened; left as it is", s->path);
        return -1;
    }
    int flags = fcntl(fd, F_GETFL);
    if (flags < 0 || fcntl(fd, F_SETFL, flags & ~O_NONBLOCK) < 0) {
        snprintf(err, errlen, "store %s: fcntl: %s", s->path, strerror(errno));
        return -1;
    }
    return 0;
}

int store_file_open(store *s, char *err, size_t errlen) {
    struct stat st;
    if (check_side_files(s, err, errlen) < 0)
        return -1;
    int rc = 1;
    /* A few rounds: each lost race means another process created or
     * removed PATH just then; more than that is not a race but a fight. */
    for (int round = 0; rc == 1 && round < 5; round++) {
        rc = check_kind(s->path, &st, err, errlen);
        if (rc == 0)
            rc = open_existing(s, &st, err, errlen);
        else if (rc == 1)
            rc = create_file(s, err, errlen);
    }
    if (rc == 1)
        snprintf(err, errlen, "store %s: kept appearing and disappearing while being opened", s->path);
    if (rc != 0)
        return -1;
    if (fstat(s->lock_fd, &st) < 0) {
        snprintf(err, errlen, "store %s: fstat: %s", s->path, strerror(errno));
        return -1;
    }
    s->file_dev = st.st_dev;
    s->file_ino = st.st_ino;
    s->file_mode = st.st_mode & 07777;
    s->file_empty = st.st_size == 0;
    /* flock, not fcntl: SQLite's own POSIX locks on the same file are
     * separate, and closing any descriptor of the file would drop ours. */
    if (flock(s->lock_fd, LOCK_EX | LOCK_NB) < 0) {
        if (errno == EWOULDBLOCK)
            snprintf(err, errlen, "store %s: in use by another process (another ssed?)", s->path);
        else
            snprintf(err, errlen, "store %s: flock: %s", s->path, strerror(errno));
        return -1;
    }
    return 0;
}

/* A big-endian 32-bit field of the database header. */
static uint32_t header_u32(const unsigned char *p) {
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

int store_file_foreign(const store *s, uint32_t app_id, char *err, size_t errlen) {
    unsigned char h[100];
    ssize_t n = pread(s->lock_fd, h, sizeof h, 0);
    if (n < 0) {
        snprintf(err, errlen, "store %s: read: %s", s->path, strerror(errno));
        return -1;
    }
    if (n == 0)
        return 0; /* empty: a new store */
    if (n < (ssize_t)sizeof h || memcmp(h, "SQLite format 3", 16) != 0) {
        /* Not a database at all: nothing says it was ever a store (a
         * mistyped path, a file of the user's), so even --store-repair
         * leaves it where it is. */
        snprintf(err, errlen, "store %s: not an SQLite database (no SQLite header), so not an ssed store; left as it is",
                 s->path);
        return 1;
    }
    uint32_t found = header_u32(h + 68), version = header_u32(h + 60);
    if (found == app_id)
        return 0;
    /* Application id 0 in the file may be a store whose first commit is
     * still only in its log (stores made before the id was written
     * first): SQLite reads through the log and decides. */
    size_t wn = strlen(s->path) + 8;
    char wal[wn];
    snprintf(wal, wn, "%s-wal", s->path);
    struct stat st;
    if (found == 0 && lstat(wal, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0)
        return 0;
    snprintf(err, errlen, "store %s: not an ssed store (application id %lu, version %lu); left as it is", s->path,
             (unsigned long)found, (unsigned long)version);
    return 1;
}

int store_file_unchanged(const store *s, char *err, size_t errlen) {
    struct stat st;
    if (lstat(s->path, &st) == 0 && st.st_dev == s->file_dev && st.st_ino == s->file_ino)
        return 0;
    snprintf(err, errlen, "store %s: replaced while it was being opened; left as it is", s->path);
    return -1;
}

int store_file_claim(store *s, char *err, size_t errlen) {
    if (s->file_mode == 0600)
        return 0;
    if (fchmod(s->lock_fd, 0600) < 0) {
        snprintf(err, errlen, "store %s: chmod 0600: %s", s->path, strerror(errno));
        return -1;
    }
    s->file_mode = 0600;
    return 0;
}

void store_file_lock_holder(const store *s, char *out, size_t outlen) {
    struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = SQLITE_LOCK_START,
                       .l_len = SQLITE_LOCK_LEN};
    if (s->lock_fd >= 0 && fcntl(s->lock_fd, F_GETLK, &fl) == 0 && fl.l_type != F_UNLCK && fl.l_pid > 0)
        snprintf(out, outlen, "held by PID %ld", (long)fl.l_pid);
    else if (s->lock_fd >= 0 && fl.l_type != F_UNLCK)
        snprintf(out, outlen, "its holder could not be named");
    else
        snprintf(out, outlen, "released since");
}
