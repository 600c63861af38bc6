/*  =========================================================================
    ts_keys - the CURVE client keys file: who may connect, and as what

    One line per client, fields separated by blanks:
        Z85-PUBLIC-KEY  NAME  ROLE  [BINDING]
    e.g.
        rq:rM>}U?@Lns47E1%kR.o@n%FcmmsL/@{H8]yf7  gateway   gateway
        Yne@$w-vo<fVvi]a<NY6T1ed:M$fCG*[IaLV{hID  ctl       ops
        D:)Q[IlAW!ahhC2ac:9*A}h:p?([4%wOTJ%JR%cs  school-s1 school S1

    '#' at the start of a line or after a blank starts a comment (Z85
    keys contain '#' but never blanks); blank lines are ignored. NAME is
    1..64 of [a-z0-9._-] starting with a letter or digit; names and keys
    are unique. ROLE says what the client may claim in a request's Caller:
        gateway   any HTTP principal: public, ops, panel, school or
                  merchant with any binding (it authenticated the token)
        ops       ops or system (tashanctl)
        system    system only (a daemon on another host, event fetches)
        panel     panel only
        school    school with exactly BINDING (the school id), required
        merchant  merchant with exactly BINDING (the merchant id), required
    Lines are at most TS_KEYS_LINE_MAX_BYTES, entries at most TS_KEYS_MAX,
    the file at most TS_KEYS_FILE_MAX_BYTES. A file that breaks any rule
    is refused whole, with the line number and why, and so is one that
    group or others may write.

    The daemons' own key pair (the curve.public_key of their config) is
    always accepted as "daemon": whoever holds the servers' secret key can
    be a daemon anyway, so it may claim any role.
    =========================================================================
*/
#ifndef TS_KEYS_H
#define TS_KEYS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "common.pb-c.h"

#define TS_KEYS_MAX 1000
#define TS_KEYS_LINE_MAX_BYTES 512
#define TS_KEYS_FILE_MAX_BYTES (TS_KEYS_MAX * 200)
#define TS_KEYS_NAME_MAX_CHARS 64
#define TS_KEYS_BINDING_MAX_CHARS 64
#define TS_KEYS_Z85_CHARS 40

//  The role of the daemons' own key (never written in a keys file).
#define TS_KEYS_DAEMON_ROLE "daemon"

typedef struct {
    char public_key [TS_KEYS_Z85_CHARS + 1];    //  Z85
    char name [TS_KEYS_NAME_MAX_CHARS + 1];
    char role [16];                             //  gateway|ops|system|panel|school|merchant|daemon
    char binding [TS_KEYS_BINDING_MAX_CHARS + 1];   //  "" unless school/merchant
} ts_key_entry;

typedef struct ts_keys ts_keys;

ts_keys *ts_keys_new (void);
void ts_keys_destroy (ts_keys **self_p);

//  Replace the entries with those of text (the whole file). On error
//  returns -1 with err filled ("line 3: ...") and leaves no entries.
int ts_keys_parse (ts_keys *self, const char *text, char *err, size_t err_size);
//  Read and parse the file at path; a missing file is an empty list, one
//  that group or others may write is refused.
//  Returns 0, or -1 with err filled (no entries then).
int ts_keys_load (ts_keys *self, const char *path, char *err, size_t err_size);

//  Replace the keys file at path with text, atomically and durably (a
//  temporary file fsynced, renamed over it, the directory fsynced; mode
//  0600, the directory made 0700). Returns 0 or -1 with err filled.
int ts_keys_save (const char *path, const char *text, char *err, size_t err_size);

//  Add the daemons' own key (role "daemon"); replaces a previous one.
void ts_keys_set_daemon_key (ts_keys *self, const char *public_z85);

size_t ts_keys_count (const ts_keys *self);
const ts_key_entry *ts_keys_at (const ts_keys *self, size_t index);
//  Find by Z85 public key or by name; NULL when absent.
const ts_key_entry *ts_keys_find_key (const ts_keys *self, const char *public_z85);
const ts_key_entry *ts_keys_find_name (const ts_keys *self, const char *name);

//  Check one keys-file line's fields (for tashanctl keygen before it
//  writes); returns 0 or -1 with err filled.
int ts_keys_check_fields (const char *public_z85, const char *name, const char *role,
                          const char *binding, char *err, size_t err_size);

//  May the client of entry make this request with this Caller? Returns 0,
//  or a status (403) with why filled. sys.Health is open to every client.
unsigned ts_keys_check_claim (const ts_key_entry *entry, const char *method,
                              const Tashan__Caller *caller, char *why, size_t why_size);

#endif
