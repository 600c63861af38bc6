/*  =========================================================================
    ctl_restore - tashanctl restore DIR: check everything, then touch

    Refused, with the live data untouched, when:
      - anything holds the data dir: up.sh (its flock on run/up.lock), or
        any process with a store open (LMDB keeps a lock on each store's
        lock.mdb for as long as a daemon or the gateway has it open);
      - DIR is not a complete backup: no MANIFEST, or "complete no";
      - a store of the backup is not what the manifest says: a file
        missing (data.mdb or a key file), another size or SHA-256, a
        data.mdb that does not open read-only or is truncated, another
        schema version or outbox than recorded;
      - a store's schema version differs from the live store's (the
        build in place could not open it).
    Only then is the live data moved aside into
    <data-dir>/before-restore-<time>/ (-<time>-<n>/ when a restore of the
    same second made that one) and the backup copied in place.
    Refusals are logged (ctl_log_event).
    =========================================================================
*/
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "ctl.h"
#include "ctl_probe.h"
#include "ctl_store.h"

//  Does a process hold the LMDB in dir open? (F_GETLK on lock.mdb's
//  first byte, where LMDB keeps a shared lock while an env is open.)
static pid_t
s_store_holder (const char *dir)
{
    char path [TS_PATH_MAX + 96];
    snprintf (path, sizeof path, "%s/lock.mdb", dir);
    int fd = open (path, O_RDWR);
    if (fd < 0)
        return 0;
    struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 1 };
    pid_t holder = 0;
    if (fcntl (fd, F_GETLK, &fl) == 0 && fl.l_type != F_UNLCK)
        holder = fl.l_pid ? fl.l_pid : -1;
    close (fd);
    return holder;
}

//  Is anything running on the data dir? Returns 0, or -1 with why.
static int
s_check_stopped (ctl_t *ctl, char *why, size_t why_size)
{
    char path [TS_PATH_MAX + 32];
    snprintf (path, sizeof path, "%s/run/up.lock", ctl->cfg.data_dir);
    int fd = open (path, O_RDONLY);
    if (fd >= 0) {
        bool held = flock (fd, LOCK_EX | LOCK_NB) != 0;
        close (fd);
        if (held) {
            snprintf (why, why_size, "deploy/up.sh runs on %s (it holds run/up.lock): stop it "
                      "first (Ctrl-C)", ctl->cfg.data_dir);
            return -1;
        }
    }
    for (size_t i = 0; i < CTL_STORES_MAX; i++) {
        snprintf (path, sizeof path, "%s/%s", ctl->cfg.data_dir, ctl_store_name (i));
        pid_t holder = s_store_holder (path);
        if (holder) {
            snprintf (why, why_size, "%s is running (pid %ld has its store open): stop every "
                      "daemon and the gateway before restore", ctl_store_name (i), (long) holder);
            return -1;
        }
    }
    for (int i = 0; i < TS_SERVICE_COUNT; i++) {
        const char *endpoint = ts_config_endpoint (&ctl->cfg, ts_service_names [i]);
        if (strncmp (endpoint, "ipc://", 6) != 0 && !ctl_probe_endpoint (endpoint)) {
            snprintf (why, why_size, "%s is running (it answers on %s): stop every daemon "
                      "before restore", ts_service_names [i], endpoint);
            return -1;
        }
    }
    return 0;
}

//  One file the manifest lists, against what is on disk.
static int
s_check_file (const char *store, const ctl_file *want, const ctl_store_info *got, char *why,
              size_t why_size)
{
    for (size_t f = 0; f < got->file_count; f++) {
        const ctl_file *have = &got->files [f];
        if (strcmp (have->name, want->name) != 0)
            continue;
        if (have->size_bytes != want->size_bytes || strcmp (have->sha256, want->sha256) != 0) {
            snprintf (why, why_size, "%s/%s is not the file the backup wrote (%llu bytes, "
                      "manifest: %llu; or its SHA-256 differs)", store, want->name,
                      (unsigned long long) have->size_bytes,
                      (unsigned long long) want->size_bytes);
            return -1;
        }
        return 0;
    }
    snprintf (why, why_size, "%s/%s is missing (the manifest lists it)", store, want->name);
    return -1;
}

//  One store of the backup against its manifest entry and the live store.
static int
s_check_store (ctl_t *ctl, const char *dir, const ctl_store_info *want, char *why,
               size_t why_size)
{
    char path [TS_PATH_MAX + 80];
    snprintf (path, sizeof path, "%s/%s", dir, want->name);
    ctl_store_info got, live;
    if (ctl_store_inspect (path, want->name, &got, why, why_size) != 0)
        return -1;
    for (size_t f = 0; f < want->file_count; f++)
        if (s_check_file (path, &want->files [f], &got, why, why_size) != 0)
            return -1;
    if (want->file_count == 0 || got.schema_version != want->schema_version
    ||  got.generation != want->generation || got.outbox_head != want->outbox_head) {
        snprintf (why, why_size, "%s does not hold what the manifest records (schema "
                  "version %u, outbox head %llu)", path, want->schema_version,
                  (unsigned long long) want->outbox_head);
        return -1;
    }
    char err [512];
    snprintf (path, sizeof path, "%s/%s", ctl->cfg.data_dir, want->name);
    if (ctl_store_inspect (path, want->name, &live, err, sizeof err) == 0
    &&  live.schema_version != got.schema_version) {
        snprintf (why, why_size, "%s's backup has schema version %u, the live store (this "
                  "build) has %u: the daemons could not open it", want->name,
                  got.schema_version, live.schema_version);
        return -1;
    }
    return 0;
}

//  The whole backup, before anything is touched.
static int
s_check_backup (ctl_t *ctl, const char *dir, char *why, size_t why_size)
{
    ctl_manifest *m = calloc (1, sizeof *m);
    int rc = ctl_manifest_read (dir, m, why, why_size);
    if (rc == 0 && !m->complete) {
        snprintf (why, why_size, "%s is an incomplete backup (%s)", dir,
                  m->reason [0] ? m->reason : "its manifest does not say complete");
        rc = -1;
    }
    for (size_t i = 0; rc == 0 && i < CTL_STORES_MAX; i++) {
        const ctl_store_info *want = ctl_manifest_store (m, ctl_store_name (i));
        if (!want) {
            snprintf (why, why_size, "%s has no %s store in its manifest", dir,
                      ctl_store_name (i));
            rc = -1;
        }
        else
            rc = s_check_store (ctl, dir, want, why, why_size);
    }
    free (m);
    return rc;
}

//  Move one live store aside and copy the backup's files in its place.
static int
s_put_store (ctl_t *ctl, const char *dir, const char *aside, const ctl_store_info *store)
{
    char live [TS_PATH_MAX + 80], moved [TS_PATH_MAX * 2];
    snprintf (live, sizeof live, "%s/%s", ctl->cfg.data_dir, store->name);
    snprintf (moved, sizeof moved, "%s/%s", aside, store->name);
    struct stat st;
    if (stat (live, &st) == 0 && rename (live, moved) != 0) {
        fprintf (stderr, "tashanctl: cannot move %s aside: %s\n", live, strerror (errno));
        return -1;
    }
    if (ts_mkdir_p (live) != 0) {
        fprintf (stderr, "tashanctl: cannot create %s: %s\n", live, strerror (errno));
        return -1;
    }
    for (size_t f = 0; f < store->file_count; f++) {
        char from [TS_PATH_MAX * 2], to [TS_PATH_MAX * 2];
        snprintf (from, sizeof from, "%s/%s/%s", dir, store->name, store->files [f].name);
        snprintf (to, sizeof to, "%s/%s", live, store->files [f].name);
        if (ctl_copy_file (from, to, isatty (STDOUT_FILENO) ? store->name : NULL) != 0) {
            fprintf (stderr, "tashanctl: cannot restore %s: %s\n", to, strerror (errno));
            return -1;
        }
    }
    printf ("%-12s restored\n", store->name);
    return 0;
}

//  A new directory for the live data: <data-dir>/before-restore-<time>,
//  or -<time>-<n> when that one exists (a second restore within the same
//  second moved its stores into the first one's and failed midway).
//  Created here, never reused. 0, or -1 with errno (path holds the last
//  name tried).
#define ASIDE_TRIES_MAX 1000
static int
s_make_aside (const char *data_dir, char *path, size_t path_size)
{
    long now_s = (long) time (NULL);
    for (int n = 1; n <= ASIDE_TRIES_MAX; n++) {
        if (n == 1)
            snprintf (path, path_size, "%s/before-restore-%ld", data_dir, now_s);
        else
            snprintf (path, path_size, "%s/before-restore-%ld-%d", data_dir, now_s, n);
        if (mkdir (path, 0700) == 0)
            return 0;
        if (errno != EEXIST)
            return -1;
    }
    return -1;                      //  errno is EEXIST
}

int
ctl_restore (ctl_t *ctl, int argc, char **argv)
{
    if (argc != 1 || argv [0][0] == '-' || !argv [0][0]) {
        fprintf (stderr, "tashanctl: restore needs one argument, DIR (see tashanctl restore --help)\n");
        return 2;
    }
    const char *dir = argv [0];
    char why [768] = "";
    if (s_check_stopped (ctl, why, sizeof why) != 0 || s_check_backup (ctl, dir, why, sizeof why) != 0) {
        ctl_log_event (ctl, "restore_refused", "dir=%s reason=\"%s\"", dir, why);
        fprintf (stderr, "tashanctl: restore refused, nothing changed: %s\n", why);
        return 1;
    }
    ctl_manifest *m = calloc (1, sizeof *m);
    int rc = ctl_manifest_read (dir, m, why, sizeof why);
    char aside [TS_PATH_MAX + 64];
    if (rc == 0 && s_make_aside (ctl->cfg.data_dir, aside, sizeof aside) != 0) {
        fprintf (stderr, "tashanctl: cannot create %s: %s\n", aside, strerror (errno));
        rc = -1;
    }
    for (size_t i = 0; rc == 0 && i < CTL_STORES_MAX; i++)
        rc = s_put_store (ctl, dir, aside, ctl_manifest_store (m, ctl_store_name (i)));
    free (m);
    if (rc != 0) {
        ctl_log_event (ctl, "restore_failed", "dir=%s aside=%s", dir, aside);
        fprintf (stderr, "tashanctl: restore failed midway; the previous data is in %s\n", aside);
        return 1;
    }
    printf ("restore complete; the previous data is in %s\n", aside);
    return 0;
}
