/*  ctl - tashanctl's commands, one file each. */
#ifndef CTL_H
#define CTL_H

#include "ts_arena.h"
#include "ts_config.h"
#include "ts_log.h"
#include "ts_rpc.h"
#include "ts_status.h"
#include "ts_zmq.h"

typedef struct {
    ts_config cfg;                  //  flags and config file
} ctl_t;

int ctl_status (ctl_t *ctl, int argc, char **argv);
int ctl_backup (ctl_t *ctl, int argc, char **argv);
int ctl_restore (ctl_t *ctl, int argc, char **argv);
int ctl_verify (ctl_t *ctl, int argc, char **argv);
int ctl_demo (ctl_t *ctl, int argc, char **argv);
int ctl_match (ctl_t *ctl, int argc, char **argv);
int ctl_keygen (ctl_t *ctl, int argc, char **argv);
//  ctl_keys.c: a client's key pair (keygen --client), the keys file.
int ctl_keygen_client (ctl_t *ctl, int argc, char **argv);
int ctl_keys (ctl_t *ctl, int argc, char **argv);
//  ctl_token.c: token create, into the store of a stopped gateway.
int ctl_token (ctl_t *ctl, int argc, char **argv);

//  A command without arguments: 0, or -1 after the one-line message.
int ctl_no_arguments (const char *command, int argc, char **argv);

//  An event worth keeping (a failed backup, a refused restore): a
//  key=value line on stderr and in <data-dir>/logs/tashanctl.log (0640).
void ctl_log_event (ctl_t *ctl, const char *event, const char *fmt, ...)
    __attribute__ ((format (printf, 3, 4)));

//  The health of every daemon, in ts_service_names order (NULL for one
//  that does not answer within timeout_ms); arena memory.
void ctl_health_all (ctl_t *ctl, ts_arena *arena, uint32_t timeout_ms,
                     Tashan__HealthReply *health [TS_SERVICE_COUNT]);

//  One call as role "system"; prints an error line on failure.
unsigned ctl_call (ctl_t *ctl, const char *service, const char *method,
                   const ProtobufCMessage *request,
                   const ProtobufCMessageDescriptor *reply_desc, ts_arena *arena,
                   ProtobufCMessage **reply, uint32_t timeout_ms, bool quiet);

//  The same as a given caller: role ops, panel, school (binding the school
//  id), merchant (binding the merchant id); principal for audit trails.
unsigned ctl_call_as (ctl_t *ctl, const char *role, const char *binding,
                      const char *principal, const char *service, const char *method,
                      const ProtobufCMessage *request,
                      const ProtobufCMessageDescriptor *reply_desc, ts_arena *arena,
                      ProtobufCMessage **reply, uint32_t timeout_ms, bool quiet);
//  The demo's parts (ctl_demo_year.c, _volunteers.c, _proposals.c): ctl_demo.h.

#endif
