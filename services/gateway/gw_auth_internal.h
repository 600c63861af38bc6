/*  =========================================================================
    gw_auth_internal - what the files of gw_auth share (not for use outside
    gw_auth*.c):

        gw_auth.c        the store, its lock, the ops token file; create,
                         check and revoke
        gw_auth_list.c   GET /v1/tokens and the last-use times in memory
        gw_auth_guard.c  authenticating a request: failures counted against
                         the client's address, logged bounded
    =========================================================================
*/
#ifndef GW_AUTH_INTERNAL_H
#define GW_AUTH_INTERNAL_H

#include "gw_auth.h"
#include "ts_store.h"

#define AUTH_MAGIC 0x41555448u
#define TOKEN_HASH_BYTES 32
#define TOKEN_ID_MAX 32
#define LAST_USED_SLOTS 4096        //  tokens whose last use is remembered

//  One token's last use, not yet in the store.
typedef struct {
    char id [TOKEN_ID_MAX];         //  "" when the slot is free
    int64_t used_ms;                //  wall clock
    bool dirty;                     //  newer than the store
} last_used_t;

struct gw_auth {
    uint32_t magic;                 //  AUTH_MAGIC
    ts_store *store;                //  <data-dir>/gateway
    ts_table tokens;                //  hash -> TokenRecord
    ts_table token_ids;             //  id -> hash
    int lock_fd;                    //  holds gateway.lock, -1 when none
    gw_ratelimit *per_address;      //  failures count here; NULL: not at all
    uv_loop_t *loop;                //  clock for per_address
    uint64_t fail_window_ms;        //  second of the failure log window
    uint32_t fail_logged;           //  lines in this window
    uint64_t fail_suppressed;       //  failures not logged since the last line
    int64_t flushed_ms;             //  last write of last-use times
    last_used_t last_used [LAST_USED_SLOTS];
};

//  Wall clock in ms (token times are wall-clock times).
int64_t gw_auth__now_ms (void);

//  Note that the token id was used now (in memory).
void gw_auth__touch (gw_auth *self, const char *id, int64_t now_ms);

//  The remembered last use of id, 0 when none.
int64_t gw_auth__last_used (gw_auth *self, const char *id);

//  Retry a write transaction body once the map is grown. body returns an
//  HTTP status; a commit failure becomes 500 with message.
typedef unsigned (*gw_auth_txn_fn) (gw_auth *self, ts_txn *txn, ts_arena *arena, void *arg);
unsigned gw_auth__write (gw_auth *self, gw_auth_txn_fn body, void *arg,
                         char *message, size_t message_size);

#endif
