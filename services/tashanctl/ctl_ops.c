/*  ctl_ops - tashanctl status, backup and restore. */
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
#include <zmq.h>

#include "ctl.h"

unsigned
ctl_call_as (ctl_t *ctl, const char *role, const char *binding, const char *principal,
             const char *service, const char *method, const ProtobufCMessage *request,
             const ProtobufCMessageDescriptor *reply_desc, ts_arena *arena,
             ProtobufCMessage **reply, uint32_t timeout_ms, bool quiet)
{
    Tashan__Caller caller = TASHAN__CALLER__INIT;
    caller.role = (char *) role;
    caller.binding = (char *) (binding ? binding : "");
    caller.principal = (char *) (principal ? principal : "tashanctl");
    char message [512];
    const char *endpoint = ts_config_endpoint (&ctl->cfg, service);
    unsigned code = ts_rpc_call_sync (endpoint, &ctl->cfg, method, &caller, request,
                                      reply_desc, arena, reply, message, sizeof message,
                                      timeout_ms);
    if (code >= 400 && !quiet)
        fprintf (stderr, "tashanctl: %s %s (as %s): %u %s\n", service, method, role, code,
                 message);
    return code;
}

unsigned
ctl_call (ctl_t *ctl, const char *service, const char *method,
          const ProtobufCMessage *request, const ProtobufCMessageDescriptor *reply_desc,
          ts_arena *arena, ProtobufCMessage **reply, uint32_t timeout_ms, bool quiet)
{
    return ctl_call_as (ctl, "system", "", "tashanctl", service, method, request, reply_desc,
                        arena, reply, timeout_ms, quiet);
}

int
ctl_status (ctl_t *ctl, int argc, char **argv)
{
    (void) argv;
    if (argc != 0) {
        fprintf (stderr, "tashanctl: status takes no arguments\n");
        return 2;
    }
    int down = 0;
    printf ("%-12s %-5s %-8s %12s %12s  %s\n", "service", "up", "version", "uptime_s",
            "outbox_seq", "consumer lag");
    for (int i = 0; i < TS_SERVICE_COUNT; i++) {
        ts_arena *arena = ts_arena_new ();
        Tashan__Empty empty = TASHAN__EMPTY__INIT;
        Tashan__HealthReply *h = NULL;
        unsigned code = ctl_call (ctl, ts_service_names [i], "sys.Health", &empty.base,
                                  &tashan__health_reply__descriptor, arena,
                                  (ProtobufCMessage **) &h, 1000, true);
        if (code != 200 || !h) {
            printf ("%-12s %-5s\n", ts_service_names [i], "no");
            down++;
        }
        else {
            char lag [256] = "";
            size_t used = 0;
            for (size_t c = 0; c < h->n_consumers && used < sizeof lag - 1; c++) {
                uint64_t behind = h->consumers [c]->producer_head_seq
                                - h->consumers [c]->applied_seq;
                used += (size_t) snprintf (lag + used, sizeof lag - used, "%s%s=%llu",
                                           c ? " " : "", h->consumers [c]->producer,
                                           (unsigned long long) behind);
            }
            printf ("%-12s %-5s %-8s %12.1f %12llu  %s\n", h->service, "yes", h->version,
                    (double) h->uptime_ms / 1000.0, (unsigned long long) h->outbox_head_seq, lag);
        }
        ts_arena_destroy (&arena);
    }
    return down ? 1 : 0;
}

//  The gateway is not a ZeroMQ daemon: its small store (tokens) is copied
//  with LMDB's own multi-process-safe read path.
static int
s_copy_env (const char *from_dir, const char *to_dir)
{
    MDB_env *env;
    int rc = mdb_env_create (&env);
    if (rc == 0)
        rc = mdb_env_set_maxdbs (env, 64);
    if (rc == 0)
        rc = mdb_env_open (env, from_dir, MDB_RDONLY | MDB_NOTLS, 0600);
    if (rc == 0)
        rc = mdb_env_copy2 (env, to_dir, MDB_CP_COMPACT);
    mdb_env_close (env);
    return rc;
}

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

int
ctl_backup (ctl_t *ctl, int argc, char **argv)
{
    if (argc != 1) {
        fprintf (stderr, "tashanctl: backup needs one argument: DIR\n");
        return 2;
    }
    char dir [TS_PATH_MAX];
    if (s_absolute (argv [0], dir, sizeof dir) != 0 || strlen (dir) > 400) {
        fprintf (stderr, "tashanctl: backup dir path too long\n");
        return 2;
    }
    if (ts_mkdir_p (dir) != 0) {
        fprintf (stderr, "tashanctl: cannot create %s: %s\n", dir, strerror (errno));
        return 1;
    }
    int failed = 0;
    for (int i = 0; i < TS_SERVICE_COUNT; i++) {
        ts_arena *arena = ts_arena_new ();
        //  A daemon that is down would only answer at the long deadline.
        Tashan__Empty empty = TASHAN__EMPTY__INIT;
        if (ctl_call (ctl, ts_service_names [i], "sys.Health", &empty.base,
                      &tashan__health_reply__descriptor, arena, NULL, 2000, false) != 200) {
            failed++;
            ts_arena_destroy (&arena);
            continue;
        }
        Tashan__BackupRequest req = TASHAN__BACKUP_REQUEST__INIT;
        req.dir = dir;
        Tashan__BackupReply *rep = NULL;
        unsigned code = ctl_call (ctl, ts_service_names [i], "sys.Backup", &req.base,
                                  &tashan__backup_reply__descriptor, arena,
                                  (ProtobufCMessage **) &rep, 300000, false);
        if (code == 200 && rep)
            printf ("%-12s %s (%llu bytes)\n", ts_service_names [i], rep->path,
                    (unsigned long long) rep->size_bytes);
        else
            failed++;
        ts_arena_destroy (&arena);
    }
    char from [TS_PATH_MAX + 16], to [TS_PATH_MAX + 16];
    snprintf (from, sizeof from, "%s/gateway", ctl->cfg.data_dir);
    snprintf (to, sizeof to, "%s/gateway", dir);
    struct stat st;
    if (stat (from, &st) == 0) {
        int rc = ts_mkdir_p (to) == 0 ? s_copy_env (from, to) : errno;
        if (rc != 0) {
            fprintf (stderr, "tashanctl: gateway store copy failed: %s\n", mdb_strerror (rc));
            failed++;
        }
        else
            printf ("%-12s %s/data.mdb\n", "gateway", to);
    }
    if (failed) {
        fprintf (stderr, "tashanctl: backup incomplete (%d failed)\n", failed);
        return 1;
    }
    printf ("backup complete in %s\n", dir);
    return 0;
}

static int
s_copy_file (const char *from, const char *to)
{
    int in = open (from, O_RDONLY);
    if (in < 0)
        return -1;
    int out = open (to, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (out < 0) {
        close (in);
        return -1;
    }
    char buf [1 << 16];
    ssize_t n;
    int rc = 0;
    while ((n = read (in, buf, sizeof buf)) > 0)
        if (write (out, buf, (size_t) n) != n) {
            rc = -1;
            break;
        }
    if (n < 0 || fsync (out) != 0)
        rc = -1;
    close (in);
    close (out);
    return rc;
}

int
ctl_restore (ctl_t *ctl, int argc, char **argv)
{
    if (argc != 1) {
        fprintf (stderr, "tashanctl: restore needs one argument: DIR\n");
        return 2;
    }
    const char *dir = argv [0];
    const char *names [TS_SERVICE_COUNT + 1];
    for (int i = 0; i < TS_SERVICE_COUNT; i++)
        names [i] = ts_service_names [i];
    names [TS_SERVICE_COUNT] = "gateway";
    //  Refuse while anything runs: LMDB files must not change under a
    //  live environment.
    for (int i = 0; i < TS_SERVICE_COUNT; i++) {
        ts_arena *arena = ts_arena_new ();
        Tashan__Empty empty = TASHAN__EMPTY__INIT;
        unsigned code = ctl_call (ctl, ts_service_names [i], "sys.Health", &empty.base,
                                  &tashan__health_reply__descriptor, arena, NULL, 500, true);
        ts_arena_destroy (&arena);
        if (code == 200) {
            fprintf (stderr, "tashanctl: %s is running; stop every daemon before restore\n",
                     ts_service_names [i]);
            return 1;
        }
    }
    for (int i = 0; i <= TS_SERVICE_COUNT; i++) {
        char src [TS_PATH_MAX + 64];
        snprintf (src, sizeof src, "%s/%s/data.mdb", dir, names [i]);
        struct stat st;
        if (stat (src, &st) != 0) {
            fprintf (stderr, "tashanctl: %s is missing: not a complete backup\n", src);
            return 1;
        }
    }
    char aside [TS_PATH_MAX + 64];
    snprintf (aside, sizeof aside, "%s/before-restore-%ld", ctl->cfg.data_dir, (long) time (NULL));
    if (ts_mkdir_p (aside) != 0) {
        fprintf (stderr, "tashanctl: cannot create %s: %s\n", aside, strerror (errno));
        return 1;
    }
    for (int i = 0; i <= TS_SERVICE_COUNT; i++) {
        char live [TS_PATH_MAX + 64], moved [TS_PATH_MAX * 2], src [TS_PATH_MAX + 64];
        char live_file [TS_PATH_MAX * 2];
        snprintf (live, sizeof live, "%s/%s", ctl->cfg.data_dir, names [i]);
        snprintf (moved, sizeof moved, "%s/%s", aside, names [i]);
        snprintf (src, sizeof src, "%s/%s/data.mdb", dir, names [i]);
        struct stat st;
        if (stat (live, &st) == 0 && rename (live, moved) != 0) {
            fprintf (stderr, "tashanctl: cannot move %s aside: %s\n", live, strerror (errno));
            return 1;
        }
        if (ts_mkdir_p (live) != 0) {
            fprintf (stderr, "tashanctl: cannot create %s: %s\n", live, strerror (errno));
            return 1;
        }
        //  data.mdb and the service's key files, as the backup holds them.
        char src_dir [TS_PATH_MAX + 64];
        snprintf (src_dir, sizeof src_dir, "%s/%s", dir, names [i]);
        DIR *d = opendir (src_dir);
        for (struct dirent *e; d && (e = readdir (d)) != NULL; ) {
            if (e->d_type != DT_REG || !strcmp (e->d_name, "lock.mdb"))
                continue;
            char from [TS_PATH_MAX * 2];
            snprintf (from, sizeof from, "%s/%s", src_dir, e->d_name);
            snprintf (live_file, sizeof live_file, "%s/%s", live, e->d_name);
            if (s_copy_file (from, live_file) != 0) {
                fprintf (stderr, "tashanctl: cannot restore %s: %s\n", live_file, strerror (errno));
                closedir (d);
                return 1;
            }
        }
        if (d)
            closedir (d);
        printf ("%-12s restored from %s\n", names [i], src);
    }
    printf ("restore complete; the previous data is in %s\n", aside);
    return 0;
}

//  A CURVE key pair in the config file's terms. One pair shared by every
//  daemon and client is the simple deployment: the daemons' public key
//  (server_key) is then the pair's own public key.
int
ctl_keygen (ctl_t *ctl, int argc, char **argv)
{
    (void) ctl;
    (void) argv;
    if (argc != 0) {
        fprintf (stderr, "tashanctl: keygen takes no arguments\n");
        return 2;
    }
    char public_key [41], secret_key [41];
    if (zmq_curve_keypair (public_key, secret_key) != 0) {
        fprintf (stderr, "tashanctl: this libzmq has no CURVE support\n");
        return 1;
    }
    printf ("# CURVE keys for tashan.conf (keep the secret key private: mode 0600)\n"
            "curve.public_key = %s\n"
            "curve.secret_key = %s\n"
            "curve.server_key = %s\n", public_key, secret_key, public_key);
    return 0;
}
