/*  =========================================================================
    gw_auth - bearer tokens: creation, lookup, revocation

    Tokens are 32 random bytes (libsodium), shown once as "tsn_<base64url>",
    and stored only as a BLAKE2b hash in the gateway's LMDB. On start, if
    <data-dir>/gateway/ops.token does not exist, a fresh ops token is made
    and written there (mode 0600): deleting the file and restarting is how
    ops recovers access (revoke the old token afterwards).

    Tables:  tokens     32-byte hash        -> tashan.gateway.TokenRecord
             token_ids  id\0                -> 32-byte hash
    =========================================================================
*/
#ifndef GW_AUTH_H
#define GW_AUTH_H

#include <stdbool.h>
#include "gateway.pb-c.h"
#include "ts_arena.h"

typedef struct gw_auth gw_auth;

//  Open <data_dir>/gateway/ and make the ops token file if missing.
gw_auth *gw_auth_new (const char *data_dir, char *err, size_t err_size);
void gw_auth_destroy (gw_auth **self_p);

//  Look up "Bearer <token>" (the whole header value). On success fills
//  role, binding and principal (the token id, arena memory) and returns
//  true. A missing, malformed, unknown or revoked token returns false.
bool gw_auth_check (gw_auth *self, const char *authorization, ts_arena *arena,
                    const char **role, const char **binding, const char **principal);

//  Create a token. Returns an HTTP status (201, or 400 with message).
unsigned gw_auth_create (gw_auth *self, const Tashan__Gateway__CreateTokenRequest *req,
                         const char *created_by, ts_arena *arena,
                         Tashan__Gateway__Token *out, char *message, size_t message_size);

//  Revoke by id. Returns 200, or 404 when no such token.
unsigned gw_auth_revoke (gw_auth *self, const char *id, char *message, size_t message_size);

#endif
