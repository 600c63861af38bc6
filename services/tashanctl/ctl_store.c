/*  =========================================================================
    ctl_store - stores on disk and the backup manifest. See ctl_store.h.
    =========================================================================
*/
#include "ctl_store.h"

#include <assert.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <lmdb.h>
#include <sodium.h>

#include "ts_store.h"


#define MANIFEST_LINE_MAX 1024
#define MANIFEST_LINES_MAX 4096

const char *
ctl_store_name (size_t index)
{
    assert (index < CTL_STORES_MAX);
    return index < TS_SERVICE_COUNT ? ts_service_names [index] : "gateway";
}

int
ctl_file_sha256 (const char *path, char hex [65], uint64_t *size_bytes)
{
    int fd = open (path, O_RDONLY);
    if (fd < 0)
        return -1;
    crypto_hash_sha256_state state;
    crypto_hash_sha256_init (&state);
    static uint8_t buf [1 << 16];
    uint64_t total = 0;
    ssize_t n;
    while ((n = read (fd, buf, sizeof buf)) > 0) {
        crypto_hash_sha256_update (&state, buf, (unsigned long long) n);
        total += (uint64_t) n;
    }
    int saved = errno;
    close (fd);
    if (n < 0) {
        errno = saved;
        return -1;
    }
    uint8_t digest [crypto_hash_sha256_BYTES];
    crypto_hash_sha256_final (&state, digest);
    sodium_bin2hex (hex, 65, digest, sizeof digest);
    *size_bytes = total;
    return 0;
}

int
ctl_copy_file (const char *from, const char *to, const char *label)
{
    int in = open (from, O_RDONLY);
    if (in < 0)
        return -1;
    struct stat st;
    int out = fstat (in, &st) == 0 ? open (to, O_WRONLY | O_CREAT | O_TRUNC, 0600) : -1;
    if (out < 0) {
        close (in);
        return -1;
    }
    static uint8_t buf [1 << 16];
    uint64_t done = 0, total = (uint64_t) st.st_size;
    int shown = -1;
    ssize_t n;
    int rc = 0;
    while ((n = read (in, buf, sizeof buf)) > 0) {
        if (write (out, buf, (size_t) n) != n) {
            rc = -1;
            break;
        }
        done += (uint64_t) n;
        int percent = total ? (int) (done * 100 / total) : 100;
        if (label && percent != shown && total > (16u << 20)) {
            printf ("\r%-12s %3d%%", label, percent);
            fflush (stdout);
            shown = percent;
        }
    }
    if (label && shown >= 0)
        printf ("\n");
    if (n < 0 || fsync (out) != 0 || fchmod (out, 0600) != 0)
        rc = -1;
    close (in);
    if (close (out) != 0)
        rc = -1;
    return rc;
}

//  Every regular file of the store's dir but lock.mdb, data.mdb first.
static int
s_list_files (const char *dir, ctl_store_info *info, char *err, size_t err_size)
{
    info->file_count = 1;
    snprintf (info->files [0].name, sizeof info->files [0].name, "data.mdb");
    DIR *d = opendir (dir);
    if (!d) {
        snprintf (err, err_size, "cannot read %s: %s", dir, strerror (errno));
        return -1;
    }
    int rc = 0;
    for (struct dirent *e; rc == 0 && (e = readdir (d)) != NULL; ) {
        if (e->d_type != DT_REG || !strcmp (e->d_name, "lock.mdb")
        ||  !strcmp (e->d_name, "data.mdb"))
            continue;
        if (info->file_count == CTL_FILES_MAX || strlen (e->d_name) >= CTL_NAME_MAX) {
            snprintf (err, err_size, "%s holds more files than a store has", dir);
            rc = -1;
            break;
        }
        snprintf (info->files [info->file_count++].name, CTL_NAME_MAX, "%s", e->d_name);
    }
    closedir (d);
    for (size_t i = 0; rc == 0 && i < info->file_count; i++) {
        char path [TS_PATH_MAX + CTL_NAME_MAX + 2];
        snprintf (path, sizeof path, "%s/%s", dir, info->files [i].name);
        if (ctl_file_sha256 (path, info->files [i].sha256, &info->files [i].size_bytes) != 0) {
            snprintf (err, err_size, "cannot read %s: %s", path, strerror (errno));
            rc = -1;
        }
    }
    return rc;
}

//  Meta, outbox head and inbox positions, in one read transaction.
static int
s_read_tables (MDB_txn *txn, ctl_store_info *info)
{
    MDB_dbi dbi;
    MDB_val key, val;
    if (mdb_dbi_open (txn, "meta", 0, &dbi) == 0) {
        key = (MDB_val) { 14, "schema_version" };
        if (mdb_get (txn, dbi, &key, &val) == 0 && val.mv_size == 4)
            info->schema_version = ts_be32_get (val.mv_data);
        key = (MDB_val) { 10, "generation" };
        if (mdb_get (txn, dbi, &key, &val) == 0 && val.mv_size == 8)
            info->generation = ts_be64_get (val.mv_data);
    }
    MDB_cursor *cur;
    if (mdb_dbi_open (txn, "outbox", 0, &dbi) == 0 && mdb_cursor_open (txn, dbi, &cur) == 0) {
        if (mdb_cursor_get (cur, &key, &val, MDB_LAST) == 0 && key.mv_size == 8)
            info->outbox_head = ts_be64_get (key.mv_data);
        mdb_cursor_close (cur);
    }
    if (mdb_dbi_open (txn, "inbox", 0, &dbi) != 0 || mdb_cursor_open (txn, dbi, &cur) != 0)
        return 0;
    for (int rc = mdb_cursor_get (cur, &key, &val, MDB_FIRST);
         rc == 0 && info->position_count < CTL_POSITIONS_MAX;
         rc = mdb_cursor_get (cur, &key, &val, MDB_NEXT)) {
        if (val.mv_size < 16 || key.mv_size < 2 || key.mv_size > CTL_NAME_MAX)
            continue;
        ctl_position *p = &info->positions [info->position_count++];
        snprintf (p->producer, sizeof p->producer, "%.*s", (int) key.mv_size - 1,
                  (const char *) key.mv_data);
        p->applied_seq = ts_be64_get (val.mv_data);
        p->head_seq = ts_be64_get ((const uint8_t *) val.mv_data + 8);
        p->generation = val.mv_size >= 24 ? ts_be64_get ((const uint8_t *) val.mv_data + 16) : 0;
    }
    mdb_cursor_close (cur);
    return 0;
}

//  Open read-only without a lock file (nobody writes a backup, and a
//  live store is never inspected this way), after checking that the file
//  holds every page the meta page names.
static int
s_read_store (const char *dir, ctl_store_info *info, char *err, size_t err_size)
{
    MDB_env *env = NULL;
    int rc = mdb_env_create (&env);
    if (rc == 0)
        rc = mdb_env_set_maxdbs (env, 64);
    if (rc == 0)
        rc = mdb_env_open (env, dir, MDB_RDONLY | MDB_NOLOCK | MDB_NOTLS, 0600);
    MDB_envinfo einfo;
    MDB_stat stat;
    if (rc == 0 && (rc = mdb_env_info (env, &einfo)) == 0)
        rc = mdb_env_stat (env, &stat);
    uint64_t needed_bytes = rc == 0 ? ((uint64_t) einfo.me_last_pgno + 1) * stat.ms_psize : 0;
    if (rc == 0 && info->files [0].size_bytes < needed_bytes) {
        snprintf (err, err_size, "%s/data.mdb is truncated: %" PRIu64 " bytes, its pages "
                  "need %" PRIu64, dir, info->files [0].size_bytes, needed_bytes);
        mdb_env_close (env);
        return -1;
    }
    MDB_txn *txn = NULL;
    if (rc == 0)
        rc = mdb_txn_begin (env, NULL, MDB_RDONLY, &txn);
    if (rc == 0)
        rc = s_read_tables (txn, info);
    if (txn)
        mdb_txn_abort (txn);
    if (env)
        mdb_env_close (env);
    if (rc != 0)
        snprintf (err, err_size, "%s/data.mdb does not open as an LMDB store: %s", dir,
                  mdb_strerror (rc));
    return rc == 0 ? 0 : -1;
}

int
ctl_store_inspect (const char *dir, const char *name, ctl_store_info *info, char *err,
                   size_t err_size)
{
    memset (info, 0, sizeof *info);
    snprintf (info->name, sizeof info->name, "%s", name);
    char path [TS_PATH_MAX + 16];
    snprintf (path, sizeof path, "%s/data.mdb", dir);
    struct stat st;
    if (stat (path, &st) != 0 || !S_ISREG (st.st_mode)) {
        snprintf (err, err_size, "%s is missing", path);
        return -1;
    }
    if (st.st_size < 2 * 4096) {
        snprintf (err, err_size, "%s is truncated (%lld bytes: not even LMDB's two meta "
                  "pages)", path, (long long) st.st_size);
        return -1;
    }
    if (s_list_files (dir, info, err, err_size) != 0)
        return -1;
    return s_read_store (dir, info, err, err_size);
}

//  --------------------------------------------------------------------
//  The manifest

static void
s_manifest_print (FILE *out, const ctl_manifest *m)
{
    char now [40];
    time_t t = time (NULL);
    struct tm tm;
    strftime (now, sizeof now, "%Y-%m-%dT%H:%M:%SZ", gmtime_r (&t, &tm));
    fprintf (out, "tashan-backup 1\ncreated_at %s\n", now);
    for (size_t i = 0; i < m->store_count; i++) {
        const ctl_store_info *s = &m->stores [i];
        fprintf (out, "store %s schema_version=%u generation=%016" PRIx64
                 " outbox_head=%" PRIu64 "\n", s->name, s->schema_version, s->generation,
                 s->outbox_head);
        for (size_t p = 0; p < s->position_count; p++)
            fprintf (out, "position %s %s applied=%" PRIu64 " head=%" PRIu64
                     " generation=%016" PRIx64 "\n", s->name, s->positions [p].producer,
                     s->positions [p].applied_seq, s->positions [p].head_seq,
                     s->positions [p].generation);
        for (size_t f = 0; f < s->file_count; f++)
            fprintf (out, "file %s %s size_bytes=%" PRIu64 " sha256=%s\n", s->name,
                     s->files [f].name, s->files [f].size_bytes, s->files [f].sha256);
    }
    if (m->complete)
        fprintf (out, "complete yes\n");
    else
        fprintf (out, "complete no %s\n", m->reason);
}

int
ctl_manifest_write (const char *dir, const ctl_manifest *manifest)
{
    char tmp [TS_PATH_MAX + 32], path [TS_PATH_MAX + 32];
    snprintf (tmp, sizeof tmp, "%s/.MANIFEST.tmp", dir);
    snprintf (path, sizeof path, "%s/MANIFEST", dir);
    int fd = open (tmp, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    FILE *out = fd >= 0 ? fdopen (fd, "w") : NULL;
    if (!out) {
        if (fd >= 0)
            close (fd);
        return -1;
    }
    s_manifest_print (out, manifest);
    int rc = fflush (out) == 0 && fsync (fileno (out)) == 0 ? 0 : -1;
    if (fclose (out) != 0)
        rc = -1;
    if (rc == 0)
        rc = rename (tmp, path);
    int dfd = open (dir, O_RDONLY | O_DIRECTORY);
    if (dfd >= 0) {
        fsync (dfd);
        close (dfd);
    }
    return rc;
}

const ctl_store_info *
ctl_manifest_store (const ctl_manifest *manifest, const char *name)
{
    for (size_t i = 0; i < manifest->store_count; i++)
        if (strcmp (manifest->stores [i].name, name) == 0)
            return &manifest->stores [i];
    return NULL;
}

static ctl_store_info *
s_store_named (ctl_manifest *m, const char *name)
{
    return (ctl_store_info *) ctl_manifest_store (m, name);
}

//  One line of the manifest into m. Returns 0, or -1 when it is not one
//  of ours.
static int
s_manifest_line (ctl_manifest *m, const char *line)
{
    char a [CTL_NAME_MAX], b [CTL_NAME_MAX], hex [65];
    ctl_store_info *s;
    if (m->store_count < CTL_STORES_MAX
    &&  sscanf (line, "store %63s schema_version=%" SCNu32 " generation=%" SCNx64
                " outbox_head=%" SCNu64, a, &m->stores [m->store_count].schema_version,
                &m->stores [m->store_count].generation,
                &m->stores [m->store_count].outbox_head) == 4) {
        snprintf (m->stores [m->store_count++].name, CTL_NAME_MAX, "%s", a);
        return 0;
    }
    ctl_position p;
    if (sscanf (line, "position %63s %63s applied=%" SCNu64 " head=%" SCNu64 " generation=%"
                SCNx64, a, p.producer, &p.applied_seq, &p.head_seq, &p.generation) == 5
    &&  (s = s_store_named (m, a)) && s->position_count < CTL_POSITIONS_MAX) {
        s->positions [s->position_count++] = p;
        return 0;
    }
    ctl_file f;
    if (sscanf (line, "file %63s %63s size_bytes=%" SCNu64 " sha256=%64s", a, b,
                &f.size_bytes, hex) == 4
    &&  (s = s_store_named (m, a)) && s->file_count < CTL_FILES_MAX && strlen (hex) == 64) {
        snprintf (f.name, sizeof f.name, "%s", b);
        memcpy (f.sha256, hex, 65);
        s->files [s->file_count++] = f;
        return 0;
    }
    if (strcmp (line, "complete yes") == 0) {
        m->complete = true;
        return 0;
    }
    if (strncmp (line, "complete no", 11) == 0) {
        snprintf (m->reason, sizeof m->reason, "%.200s", line [11] ? line + 12 : "");
        return 0;
    }
    return strncmp (line, "created_at ", 11) == 0 ? 0 : -1;
}

int
ctl_manifest_read (const char *dir, ctl_manifest *manifest, char *err, size_t err_size)
{
    memset (manifest, 0, sizeof *manifest);
    err [0] = 0;
    char path [TS_PATH_MAX + 16];
    snprintf (path, sizeof path, "%s/MANIFEST", dir);
    FILE *in = fopen (path, "r");
    if (!in) {
        snprintf (err, err_size, "%s has no MANIFEST: not a tashanctl backup, or one that "
                  "never finished", dir);
        return -1;
    }
    char line [MANIFEST_LINE_MAX];
    int rc = fgets (line, sizeof line, in) && !strcmp (line, "tashan-backup 1\n") ? 0 : -1;
    for (int n = 2; rc == 0 && n < MANIFEST_LINES_MAX && fgets (line, sizeof line, in); n++) {
        line [strcspn (line, "\n")] = 0;
        bool was_complete = manifest->complete;
        if (s_manifest_line (manifest, line) != 0 || was_complete) {
            snprintf (err, err_size, "%s line %d is not a manifest line", path, n);
            rc = -1;
        }
    }
    if (rc != 0 && !err [0])
        snprintf (err, err_size, "%s is not a tashanctl backup manifest", path);
    fclose (in);
    return rc;
}
