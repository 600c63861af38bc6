/*  merchants_cardcode - checking a resident's card code. See the header. */
#include "merchants_cardcode.h"

#include <assert.h>
#include <string.h>

#include "ts_valid.h"

unsigned
merchants_apply_resident_key (ts_ctx *ctx, const Tashan__Events__ResidentKey *key,
                              const Tashan__Event *event)
{
    (void) event;
    if (key->key_id == 0 || key->public_key.len != TS_CARDCODE_KEY_BYTES)
        return ts_fail (ctx, TS_BAD_REQUEST, "resident key %u is malformed", key->key_id);
    uint8_t k [4];
    ts_be32_put (k, key->key_id);
    ts_txn_put_msg (ctx->txn, ts_ctx_table (ctx, "code_keys"), k, sizeof k, &key->base);
    return TS_OK;
}

unsigned
merchants_apply_code_revoked (ts_ctx *ctx, const Tashan__Events__CardCodeRevoked *rev,
                              const Tashan__Event *event)
{
    (void) event;
    if (rev->serial == 0 || rev->revoked_ms < 0)
        return ts_fail (ctx, TS_BAD_REQUEST, "revoked card code is malformed");
    uint8_t k [8];
    ts_be64_put (k, rev->serial);
    ts_txn_put_u64 (ctx->txn, ts_ctx_table (ctx, "revoked_codes"), k, sizeof k,
                    (uint64_t) rev->revoked_ms);
    return TS_OK;
}

//  --------------------------------------------------------------------
//  Refused codes per merchant and minute (soft state, see the header).

#define SLOTS 1024                  //  merchants tracked at once (hashed)

typedef struct {
    uint64_t merchant_no;           //  0: free
    int64_t minute;                 //  unix minute counted
    uint32_t refused;               //  refusals in that minute
} s_slot;

static s_slot s_slots [SLOTS];

void
merchants_cardcode_reset (void)
{
    memset (s_slots, 0, sizeof s_slots);
}

static s_slot *
s_slot_of (uint64_t merchant_no, int64_t now_ms)
{
    s_slot *slot = &s_slots [merchant_no % SLOTS];
    int64_t minute = now_ms / 60000;
    //  A colliding merchant takes the slot over: the limit is a brake on
    //  probing, not an account, and 1024 slots cover the registry.
    if (slot->merchant_no != merchant_no || slot->minute != minute) {
        slot->merchant_no = merchant_no;
        slot->minute = minute;
        slot->refused = 0;
    }
    return slot;
}

//  Record a refusal and return its code. A flat check-in that fails is
//  run again nested (ts_ctx.flat): the refusal is counted in that run.
static unsigned
s_refuse (ts_ctx *ctx, uint64_t merchant_no, const char *fmt, const char *field,
          const char *detail)
{
    s_slot *slot = s_slot_of (merchant_no, ctx->now_ms);
    if (!ctx->flat && slot->refused < UINT32_MAX)
        slot->refused++;
    return ts_fail (ctx, TS_UNPROCESSABLE, fmt, field, detail);
}

unsigned
merchants_cardcode_check (ts_ctx *ctx, uint64_t merchant_no, const char *field,
                          const char *text, int64_t served_ms, ts_cardcode *code)
{
    assert (code && field);
    if (s_slot_of (merchant_no, ctx->now_ms)->refused >= MERCHANTS_REFUSED_CODES_PER_MINUTE)
        return ts_fail (ctx, TS_TOO_MANY,
                        "too many refused card codes from this merchant: try again next minute");
    unsigned rc = ts_check_str (ctx, field, text, TS_CARDCODE_MAX_CHARS, true);
    if (rc)
        return rc;
    if (ts_cardcode_decode (text, code) != 0)
        return s_refuse (ctx, merchant_no, "%s is not a card code%s", field, "");
    uint8_t k [8];
    ts_be32_put (k, code->key_id);
    Tashan__Events__ResidentKey *key = ts_txn_get_msg (ctx->txn, ts_ctx_table (ctx, "code_keys"),
        k, 4, &tashan__events__resident_key__descriptor, ctx->arena);
    if (!key || key->public_key.len != TS_CARDCODE_KEY_BYTES)
        return s_refuse (ctx, merchant_no, "%s is signed with a key this community did "
                         "not publish%s", field, "");
    if (!ts_cardcode_verify (text, key->public_key.data))
        return s_refuse (ctx, merchant_no, "%s does not verify: %s", field,
                         "it was forged or altered");
    if (!ts_cardcode_valid_at (code, served_ms))
        return s_refuse (ctx, merchant_no, "%s was not valid at the time of service: %s", field,
                         served_ms < code->issued_ms ? "issued later" : "expired");
    ts_be64_put (k, code->serial);
    uint64_t revoked_ms = ts_txn_get_u64 (ctx->txn, ts_ctx_table (ctx, "revoked_codes"), k, 8, 0);
    if (revoked_ms && (int64_t) revoked_ms <= served_ms)
        return s_refuse (ctx, merchant_no, "%s was %s", field,
                         "revoked (a lost card) before the time of service");
    return 0;
}
