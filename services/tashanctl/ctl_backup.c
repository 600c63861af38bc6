/*  =========================================================================
    ctl_backup - tashanctl backup DIR: a consistent copy of every store

    1. DIR is checked first: empty or absent, not the live data dir or
       inside its stores (a backup never lands where a daemon writes).
    2. Every daemon must answer; their subscriptions give the copy order
       (ctl_backup_plan: consumers before producers, holds for cycles).
    3. Each daemon copies its store (sys.Backup, compacted, while serving)
       into a fresh directory under the backup root, <data-dir>/backups/
       .tmp-<pid>-<time>/<service>, the only place a daemon may be asked
       to write; the gateway's token store (and ops.token) is copied here.
    4. Every copy is read back (ctl_store_inspect): schema version, outbox
       generation and head, positions, sizes and SHA-256 of every file;
       the cut is checked (no position past its producer's head).
    5. The result moves into DIR (rename on the same filesystem, else a
       copy with progress on a terminal); MANIFEST is written last. A
       failure after DIR exists leaves "complete no <why>" in MANIFEST.
    Files 0600, directories 0700.
    =========================================================================
*/
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <lmdb.h>

#include "ctl.h"
#include "ctl_backup_plan.h"
#include "ctl_store.h"

#define BACKUP_CALL_TIMEOUT_MS 300000
#define HOLD_MS 300000              //  a hold outlives the longest copy
#define HEALTH_TIMEOUT_MS 2000

static int
s_absolute (const char *dir, char *out, size_t size)
{
    if (dir [0] == '/')
        return snprintf (out, size, "%s", dir) < (int) size ? 0 : -1;
    char cwd [TS_PATH_MAX];
    if (!getcwd (cwd, sizeof cwd))
        return -1;
    return snprintf (out, size, "%s/%s", cwd, dir) < (int) size ? 0 : -1;
}

//  Where the daemons may be asked to write a copy: the backup root
//  (config backup.root where that exists, default <data-dir>/backups).
static const char *
s_backup_root (ctl_t *ctl)
{
    //  backup.root (default <data-dir>/backups, absolute): the daemons'
    //  sys.Backup writes only below it.
    return ctl->cfg.backup_root;
}

//  Does dir (or a store dir in it) hold data.mdb or a manifest?
static bool
s_holds_backup (const char *dir)
{
    char path [TS_PATH_MAX + 80];
    struct stat st;
    const char *direct [] = { "MANIFEST", "data.mdb" };
    for (size_t i = 0; i < 2; i++) {
        snprintf (path, sizeof path, "%s/%s", dir, direct [i]);
        if (stat (path, &st) == 0)
            return true;
    }
    for (size_t i = 0; i < CTL_STORES_MAX; i++) {
        snprintf (path, sizeof path, "%s/%s/data.mdb", dir, ctl_store_name (i));
        if (stat (path, &st) == 0)
            return true;
    }
    return false;
}

static bool
s_is_empty_dir (const char *dir)
{
    DIR *d = opendir (dir);
    if (!d)
        return false;
    int entries = 0;
    for (struct dirent *e; entries < 3 && (e = readdir (d)) != NULL; )
        entries++;
    closedir (d);
    return entries <= 2;
}

//  Is path the live data dir, or inside one of its stores, run/ or logs/?
static bool
s_inside_live (ctl_t *ctl, const char *path)
{
    const char *data = ctl->cfg.data_dir;
    size_t len = strlen (data);
    while (len > 1 && data [len - 1] == '/')
        len--;
    if (strncmp (path, data, len) != 0 || (path [len] != '/' && path [len] != 0))
        return false;
    const char *rest = path + len;
    while (*rest == '/')
        rest++;
    if (!*rest)
        return true;
    size_t first = strcspn (rest, "/");
    for (size_t i = 0; i < CTL_STORES_MAX; i++)
        if (strlen (ctl_store_name (i)) == first && !strncmp (rest, ctl_store_name (i), first))
            return true;
    return (first == 3 && !strncmp (rest, "run", 3)) || (first == 4 && !strncmp (rest, "logs", 4));
}

//  Refuse a DIR that would mix with live data or another backup.
//  Returns 0, or 1 after saying why.
static int
s_check_target (ctl_t *ctl, const char *dir, const char *given)
{
    if (s_inside_live (ctl, dir)) {
        fprintf (stderr, "tashanctl: %s is the live data dir or inside its stores, run/ or "
                 "logs/; choose a directory elsewhere (e.g. %s/backups/NAME)\n", given,
                 ctl->cfg.data_dir);
        return 1;
    }
    struct stat st;
    if (stat (dir, &st) != 0)
        return 0;
    if (!S_ISDIR (st.st_mode)) {
        fprintf (stderr, "tashanctl: %s exists and is not a directory; choose an empty "
                 "directory\n", given);
        return 1;
    }
    if (s_holds_backup (dir)) {
        fprintf (stderr, "tashanctl: %s already holds a backup (data.mdb); choose an empty "
                 "directory\n", given);
        return 1;
    }
    if (!s_is_empty_dir (dir)) {
        fprintf (stderr, "tashanctl: %s is not empty; choose an empty directory\n", given);
        return 1;
    }
    return 0;
}

//  sys.Pause to consumer c on every producer plan->hold names for it
//  that pick (a producer index, or -1: all of them) selects.
static int
s_pause (ctl_t *ctl, const ctl_backup_plan *plan, int c, int pick, uint32_t hold_ms)
{
    char *producers [TS_SERVICE_COUNT];
    size_t n = 0;
    for (int p = 0; p < TS_SERVICE_COUNT; p++)
        if (plan->hold [c][p] && (pick < 0 || pick == p))
            producers [n++] = (char *) ts_service_names [p];
    if (n == 0)
        return 0;
    ts_arena *arena = ts_arena_new ();
    Tashan__PauseRequest req = TASHAN__PAUSE_REQUEST__INIT;
    req.producers = producers;
    req.n_producers = n;
    req.hold_ms = hold_ms;
    unsigned code = ctl_call (ctl, ts_service_names [c], "sys.Pause", &req.base,
                              &tashan__health_reply__descriptor, arena, NULL,
                              HEALTH_TIMEOUT_MS, false);
    ts_arena_destroy (&arena);
    return code == 200 ? 0 : -1;
}

//  Copy daemon s into tmp/<s>, holding first the consumers that would
//  otherwise run past what this copy holds.
static int
s_copy_daemon (ctl_t *ctl, const ctl_backup_plan *plan, int s, const char *tmp)
{
    for (int c = 0; c < TS_SERVICE_COUNT; c++)
        if (plan->hold [c][s] && s_pause (ctl, plan, c, s, HOLD_MS) != 0)
            return -1;
    ts_arena *arena = ts_arena_new ();
    Tashan__BackupRequest req = TASHAN__BACKUP_REQUEST__INIT;
    req.dir = (char *) tmp;
    Tashan__BackupReply *rep = NULL;
    unsigned code = ctl_call (ctl, ts_service_names [s], "sys.Backup", &req.base,
                              &tashan__backup_reply__descriptor, arena,
                              (ProtobufCMessage **) &rep, BACKUP_CALL_TIMEOUT_MS, false);
    if (code == 200 && rep)
        printf ("%-12s copied (%llu bytes)\n", ts_service_names [s],
                (unsigned long long) rep->size_bytes);
    ts_arena_destroy (&arena);
    return code == 200 && rep ? 0 : -1;
}

//  The gateway is not a ZeroMQ daemon: its token store is copied with
//  LMDB's own multi-process-safe read path, and its small files
//  (ops.token: what a restore needs to sign in again) beside it.
static int
s_copy_gateway (ctl_t *ctl, const char *tmp)
{
    char from [TS_PATH_MAX + 16], to [TS_PATH_MAX + 96];
    snprintf (from, sizeof from, "%s/gateway", ctl->cfg.data_dir);
    snprintf (to, sizeof to, "%s/gateway", tmp);
    MDB_env *env;
    int rc = ts_mkdir_p (to) == 0 ? mdb_env_create (&env) : errno;
    if (rc == 0) {
        rc = mdb_env_set_maxdbs (env, 64);
        if (rc == 0)
            rc = mdb_env_open (env, from, MDB_RDONLY | MDB_NOTLS, 0600);
        if (rc == 0)
            rc = mdb_env_copy2 (env, to, MDB_CP_COMPACT);
        mdb_env_close (env);
    }
    if (rc != 0) {
        fprintf (stderr, "tashanctl: cannot copy the gateway's store %s: %s\n", from,
                 mdb_strerror (rc));
        return -1;
    }
    const char *files [] = { "ops.token", "demo-tokens.txt" };
    for (size_t i = 0; i < 2; i++) {
        char src [TS_PATH_MAX + 64], dst [TS_PATH_MAX + 128];
        snprintf (src, sizeof src, "%s/%s", from, files [i]);
        snprintf (dst, sizeof dst, "%s/%s", to, files [i]);
        if (access (src, F_OK) == 0 && ctl_copy_file (src, dst, NULL) != 0) {
            fprintf (stderr, "tashanctl: cannot copy %s: %s\n", src, strerror (errno));
            return -1;
        }
    }
    printf ("%-12s copied\n", "gateway");
    return 0;
}

//  Read every copy back into the manifest, files 0600; and check the
//  cut: no consumer position past its producer's copied head, nor in
//  another generation. Returns 0, or -1 with why filled.
static int
s_read_back (const char *tmp, ctl_manifest *m, char *why, size_t why_size)
{
    m->store_count = 0;
    for (size_t i = 0; i < CTL_STORES_MAX; i++) {
        char dir [TS_PATH_MAX + 80];
        snprintf (dir, sizeof dir, "%s/%s", tmp, ctl_store_name (i));
        ctl_store_info *info = &m->stores [m->store_count++];
        if (ctl_store_inspect (dir, ctl_store_name (i), info, why, why_size) != 0)
            return -1;
        for (size_t f = 0; f < info->file_count; f++) {
            char path [TS_PATH_MAX + 160];
            snprintf (path, sizeof path, "%s/%s", dir, info->files [f].name);
            if (chmod (path, 0600) != 0)
                return -1;
        }
    }
    for (size_t i = 0; i < m->store_count; i++)
        for (size_t k = 0; k < m->stores [i].position_count; k++) {
            const ctl_position *p = &m->stores [i].positions [k];
            const ctl_store_info *producer = ctl_manifest_store (m, p->producer);
            if (producer && (p->applied_seq > producer->outbox_head
                             || (p->generation && p->generation != producer->generation))) {
                snprintf (why, why_size, "not a consistent cut: %s is at %llu of %s, whose "
                          "copy ends at %llu", m->stores [i].name,
                          (unsigned long long) p->applied_seq, p->producer,
                          (unsigned long long) producer->outbox_head);
                return -1;
            }
        }
    return 0;
}

//  Remove tmp/<store>/<files> and the dirs (what a backup made, nothing
//  else: two levels, bounded).
static void
s_remove_tree (const char *tmp)
{
    for (size_t i = 0; i < CTL_STORES_MAX; i++) {
        char dir [TS_PATH_MAX + 80];
        snprintf (dir, sizeof dir, "%s/%s", tmp, ctl_store_name (i));
        DIR *d = opendir (dir);
        for (struct dirent *e; d && (e = readdir (d)) != NULL; ) {
            char path [TS_PATH_MAX + 340];
            snprintf (path, sizeof path, "%s/%s", dir, e->d_name);
            if (e->d_type == DT_REG)
                unlink (path);
        }
        if (d)
            closedir (d);
        rmdir (dir);
    }
    rmdir (tmp);
}

//  Put the finished copy in tmp at dir: rename when on one filesystem,
//  else copy every file (with progress on a terminal) and remove tmp.
static int
s_move (const char *tmp, const char *dir, const ctl_manifest *m)
{
    rmdir (dir);                    //  an empty DIR given by the user
    if (rename (tmp, dir) == 0)
        return 0;
    if (errno != EXDEV || ts_mkdir_p (dir) != 0)
        return -1;
    for (size_t i = 0; i < m->store_count; i++) {
        const ctl_store_info *s = &m->stores [i];
        char from [TS_PATH_MAX + 160], to [TS_PATH_MAX + 160];
        snprintf (to, sizeof to, "%s/%s", dir, s->name);
        if (ts_mkdir_p (to) != 0)
            return -1;
        for (size_t f = 0; f < s->file_count; f++) {
            snprintf (from, sizeof from, "%s/%s/%s", tmp, s->name, s->files [f].name);
            snprintf (to, sizeof to, "%s/%s/%s", dir, s->name, s->files [f].name);
            if (ctl_copy_file (from, to, isatty (STDOUT_FILENO) ? s->name : NULL) != 0)
                return -1;
        }
    }
    s_remove_tree (tmp);
    return 0;
}

//  The order, and the holds the cycles need, for the operator.
static void
s_print_plan (const ctl_backup_plan *plan)
{
    printf ("copy order (consumers first):");
    for (int r = 0; r < TS_SERVICE_COUNT; r++)
        printf (" %s", ts_service_names [plan->order [r]]);
    printf ("\n");
    for (int c = 0; c < TS_SERVICE_COUNT; c++)
        for (int p = 0; p < TS_SERVICE_COUNT; p++)
            if (plan->hold [c][p])
                printf ("  %s holds its events from %s until both are copied (a cycle)\n",
                        ts_service_names [c], ts_service_names [p]);
}

//  Steps 2-4 into tmp. Returns 0, or -1 with why filled.
static int
s_take (ctl_t *ctl, const char *tmp, ctl_manifest *m, char *why, size_t why_size)
{
    ts_arena *arena = ts_arena_new ();
    Tashan__HealthReply *health [TS_SERVICE_COUNT];
    ctl_health_all (ctl, arena, HEALTH_TIMEOUT_MS, health);
    int rc = 0;
    for (int i = 0; i < TS_SERVICE_COUNT && rc == 0; i++)
        if (!health [i]) {
            snprintf (why, why_size, "%s does not answer (tashanctl status says why); "
                      "a backup needs every daemon running", ts_service_names [i]);
            rc = -1;
        }
    ctl_backup_plan plan;
    bool planned = rc == 0;
    if (planned) {
        ctl_backup_plan_make (&plan, health);
        s_print_plan (&plan);
    }
    for (int r = 0; r < TS_SERVICE_COUNT && rc == 0; r++)
        if (s_copy_daemon (ctl, &plan, plan.order [r], tmp) != 0) {
            snprintf (why, why_size, "%s could not copy its store", ts_service_names [plan.order [r]]);
            rc = -1;
        }
    for (int c = 0; c < TS_SERVICE_COUNT && planned; c++)
        s_pause (ctl, &plan, c, -1, 0);     //  release every hold, whatever happened
    ts_arena_destroy (&arena);
    if (rc == 0 && s_copy_gateway (ctl, tmp) != 0) {
        snprintf (why, why_size, "the gateway's store could not be copied");
        rc = -1;
    }
    if (rc == 0)
        rc = s_read_back (tmp, m, why, why_size);
    return rc;
}

int
ctl_backup (ctl_t *ctl, int argc, char **argv)
{
    if (argc != 1 || argv [0][0] == '-' || !argv [0][0]) {
        fprintf (stderr, "tashanctl: backup needs one argument, DIR (see tashanctl backup --help)\n");
        return 2;
    }
    char dir [TS_PATH_MAX];
    if (s_absolute (argv [0], dir, sizeof dir) != 0 || strlen (dir) > 400) {
        fprintf (stderr, "tashanctl: backup dir path too long (at most 400 bytes)\n");
        return 2;
    }
    if (s_check_target (ctl, dir, argv [0]) != 0)
        return 1;
    char tmp [TS_PATH_MAX + 64];
    snprintf (tmp, sizeof tmp, "%s/.tmp-%ld-%ld", s_backup_root (ctl), (long) getpid (),
              (long) time (NULL));
    ctl_manifest *m = calloc (1, sizeof *m);
    char why [TS_PATH_MAX + 300] = "";
    int rc = ts_mkdir_p (tmp) == 0 ? s_take (ctl, tmp, m, why, sizeof why) : -1;
    if (rc != 0 && !why [0])
        snprintf (why, sizeof why, "cannot create %s: %s", tmp, strerror (errno));
    if (rc == 0 && s_move (tmp, dir, m) != 0) {
        snprintf (why, sizeof why, "cannot move the copy into %s: %s", dir, strerror (errno));
        rc = -1;
    }
    m->complete = rc == 0;
    snprintf (m->reason, sizeof m->reason, "%s", why);
    struct stat st;
    if (stat (dir, &st) == 0 && ctl_manifest_write (dir, m) != 0 && rc == 0) {
        snprintf (why, sizeof why, "cannot write %s/MANIFEST: %s", dir, strerror (errno));
        rc = -1;
    }
    if (rc != 0) {
        s_remove_tree (tmp);
        ctl_log_event (ctl, "backup_failed", "dir=%s reason=\"%s\"", dir, why);
        fprintf (stderr, "tashanctl: backup failed: %s\n", why);
    }
    else
        printf ("backup complete in %s\n", dir);
    free (m);
    return rc == 0 ? 0 : 1;
}
