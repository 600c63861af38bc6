/*  ctl_ops - tashanctl's calls to the daemons (as "system" or as a given
    role) and keygen. status, backup, restore and verify have files of
    their own (ctl_status.c, ctl_backup.c, ctl_restore.c, ctl_verify.c). */
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <zmq.h>

#include "ctl.h"
#include "ctl_probe.h"

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
ctl_no_arguments (const char *command, int argc, char **argv)
{
    if (argc == 0)
        return 0;
    fprintf (stderr, "tashanctl: %s takes no arguments, not '%s'\n", command, argv [0]);
    return -1;
}

void
ctl_log_event (ctl_t *ctl, const char *event, const char *fmt, ...)
{
    char fields [1024];
    va_list args;
    va_start (args, fmt);
    vsnprintf (fields, sizeof fields, fmt, args);
    va_end (args);
    ts_log_error (event, "%s", fields);
    char path [TS_PATH_MAX + 32];
    snprintf (path, sizeof path, "%s/logs", ctl->cfg.data_dir);
    struct stat st;
    //  Never make a data dir (a mistyped --data-dir) just to log in it.
    if (stat (ctl->cfg.data_dir, &st) != 0 || ts_mkdir_p (path) != 0)
        return;                     //  stderr has it; the file is a convenience
    snprintf (path, sizeof path, "%s/logs/tashanctl.log", ctl->cfg.data_dir);
    int fd = open (path, O_WRONLY | O_APPEND | O_CREAT, 0640);
    if (fd < 0)
        return;
    char line [1200];
    time_t now = time (NULL);
    struct tm tm;
    char stamp [32];
    strftime (stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%SZ", gmtime_r (&now, &tm));
    int len = snprintf (line, sizeof line, "ts=%s level=error svc=tashanctl event=%s %s\n",
                        stamp, event, fields);
    if (len > 0 && write (fd, line, (size_t) len < sizeof line ? (size_t) len : sizeof line - 1) < 0)
        ts_log_debug ("log_write_failed", "path=%s", path);
    close (fd);
}

void
ctl_health_all (ctl_t *ctl, ts_arena *arena, uint32_t timeout_ms,
                Tashan__HealthReply *health [TS_SERVICE_COUNT])
{
    for (int i = 0; i < TS_SERVICE_COUNT; i++) {
        health [i] = NULL;
        if (ctl_probe_endpoint (ts_config_endpoint (&ctl->cfg, ts_service_names [i])))
            continue;               //  no socket, or refused: down, no need to wait
        Tashan__Empty empty = TASHAN__EMPTY__INIT;
        if (ctl_call (ctl, ts_service_names [i], "sys.Health", &empty.base,
                      &tashan__health_reply__descriptor, arena,
                      (ProtobufCMessage **) &health [i], timeout_ms, true) != 200)
            health [i] = NULL;
    }
}

//  A CURVE key pair in the config file's terms. One pair shared by every
//  daemon and client is the simple deployment: the daemons' public key
//  (server_key) is then the pair's own public key.
int
ctl_keygen (ctl_t *ctl, int argc, char **argv)
{
    (void) ctl;
    if (ctl_no_arguments ("keygen", argc, argv) != 0)
        return 2;
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
