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
int ctl_demo (ctl_t *ctl, int argc, char **argv);
//  The proposals part of the demo (ctl_demo_proposals.c).
int ctl_demo_proposals (ctl_t *ctl);
int ctl_match (ctl_t *ctl, int argc, char **argv);
int ctl_keygen (ctl_t *ctl, int argc, char **argv);
//  ctl_keys.c: a client's key pair (keygen --client), the keys file.
int ctl_keygen_client (ctl_t *ctl, int argc, char **argv);
int ctl_keys (ctl_t *ctl, int argc, char **argv);
//  ctl_demo_volunteers.c: the volunteers part of the demo (after residents).
int ctl_demo_volunteers (ctl_t *ctl, uint64_t seed);

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
//  ctl_demo_year.c: the community after a year (credit, medals, merchants,
//  markets, offers), after residents and before volunteers and proposals.
int ctl_demo_year (ctl_t *ctl, uint64_t seed, uint32_t months);

#endif
