/*  =========================================================================
    gw_auth - bearer tokens: creation, lookup, listing, revocation, and
    what a failed authentication costs the client

    Tokens are 32 random bytes (libsodium), shown once as "tsn_<base64url>",
    and stored only as a BLAKE2b hash in the gateway's LMDB. On start, if
    <data-dir>/gateway/ops.token does not exist, a fresh ops token is made
    and written there (mode 0600).

    One writer: the running gateway holds an exclusive lock on
    <data-dir>/gateway/gateway.lock for as long as its store is open;
    `tashanctl token create` (gw_auth_open_offline) takes the same lock,
    so it writes only while the gateway is stopped and the gateway does
    not start while it writes. That is the recovery path when no ops token
    is left (README, "Locked out").

    Self-lockout is refused: the last live ops token cannot be revoked, nor
    the caller's own token unless it says so (409).

    Last use is kept in memory per token and written to the store at most
    every GW_AUTH_LAST_USED_FLUSH_MS (gw_auth_flush), so a busy token costs
    no write per request; a crash loses at most that much of it.

    Tables:  tokens     32-byte hash        -> tashan.gateway.TokenRecord
             token_ids  id\0                -> 32-byte hash
    =========================================================================
*/
#ifndef GW_AUTH_H
#define GW_AUTH_H

#include <stdbool.h>
#include <stdint.h>
#include "gateway.pb-c.h"
#include "gw_http.h"
#include "gw_ratelimit.h"
#include "ts_arena.h"

#define GW_AUTH_LAST_USED_FLUSH_MS 60000
#define GW_AUTH_FAIL_LOG_PER_S 5    //  warning lines a second, then counted

typedef struct gw_auth gw_auth;

//  Open <data_dir>/gateway/ (taking its lock) and make the ops token
//  file if missing.
gw_auth *gw_auth_new (const char *data_dir, char *err, size_t err_size);
//  Open the store of a stopped gateway (tashanctl): no ops token file is
//  made. Fails with a clear err while the gateway runs.
gw_auth *gw_auth_open_offline (const char *data_dir, char *err, size_t err_size);
//  Store the last-use times and close.
void gw_auth_destroy (gw_auth **self_p);

//  Failed authentications of a client count against per_address (keyed
//  by the client's IP address) and are logged, bounded. loop: the clock.
void gw_auth_guard (gw_auth *self, gw_ratelimit *per_address, uv_loop_t *loop);

//  Look up "Bearer <token>" (the whole header value). On success fills
//  role, binding and principal (the token id, arena memory) and returns
//  true. A missing, malformed, unknown, expired or revoked token returns
//  false.
bool gw_auth_check (gw_auth *self, const char *authorization, ts_arena *arena,
                    const char **role, const char **binding, const char **principal);

//  Authenticate an HTTP request: 200 with role, binding and principal
//  filled; 401 (the failure counted and logged); or 429 when the client's
//  address is over its rate with failures.
unsigned gw_auth_request (gw_auth *self, gw_http_request *req, ts_arena *arena,
                          const char **role, const char **binding, const char **principal);

//  Check a token request as gw_auth_create will (role, binding present
//  and short, note, expiry) without making it: 200, or 400 with message.
//  The gateway calls it before it asks a daemon about the binding, so bad
//  input is a 400 whatever the daemon would say.
unsigned gw_auth_create_check (const Tashan__Gateway__CreateTokenRequest *req, char *message,
                               size_t message_size);

//  Create a token. Returns an HTTP status (201, or 400 with message).
unsigned gw_auth_create (gw_auth *self, const Tashan__Gateway__CreateTokenRequest *req,
                         const char *created_by, ts_arena *arena,
                         Tashan__Gateway__Token *out, char *message, size_t message_size);

//  Revoke id on behalf of the token by (its id; "" for none). Returns 200;
//  404 when no such token; 409 for the last live ops token, or for by
//  itself unless allow_self.
unsigned gw_auth_revoke (gw_auth *self, const char *id, const char *by, bool allow_self,
                         char *message, size_t message_size);

//  A page of tokens, by id. Returns 200, or 400 for a bad page size or
//  token.
unsigned gw_auth_list (gw_auth *self, const Tashan__Gateway__ListTokensRequest *req,
                       ts_arena *arena, Tashan__Gateway__ListTokensReply *reply,
                       char *message, size_t message_size);

//  Write the last-use times kept in memory, when force or when
//  GW_AUTH_LAST_USED_FLUSH_MS have passed since the last write.
void gw_auth_flush (gw_auth *self, bool force);

#endif
