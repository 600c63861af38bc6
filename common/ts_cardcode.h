/*  =========================================================================
    ts_cardcode - the resident's card code: what it carries, how it is
    signed and how a merchant verifies it offline

    A card code is what a resident (often a child) shows at a till or a
    market stall, as a QR on a phone or printed on a pupil's card. The
    ledger issues and signs it; merchants (and merchant apps, offline)
    verify it with the community's published Ed25519 public keys. It
    carries no name and no phone. Its text is

        "TC1." base64url (no padding) of
            u8  version (1)
            u32 key_id          which published key signed it
            u64 serial          the code's number (for revocation)
            i64 issued_ms       unix ms
            i64 expires_ms      unix ms; refused from this instant on
            u8  flags           bit 0: printed card; bit 1: card spendable
            u8  n, n bytes      tier ("AAA" ... "D"), n <= 8
            u8  n, n bytes      person id ("p123"), n <= 64
            64 bytes            Ed25519 signature of everything before it

    All integers big-endian. A code is valid at time t when its signature
    verifies with the key named by key_id, issued_ms <= t < expires_ms,
    and its serial was not revoked before t.
    =========================================================================
*/
#ifndef TS_CARDCODE_H
#define TS_CARDCODE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "ts_arena.h"

#define TS_CARDCODE_PREFIX "TC1."
#define TS_CARDCODE_TIER_MAX 8
#define TS_CARDCODE_PERSON_MAX 64
#define TS_CARDCODE_SIG_BYTES 64
#define TS_CARDCODE_KEY_BYTES 32       //  an Ed25519 public key
#define TS_CARDCODE_SEED_BYTES 32      //  an Ed25519 seed
//  The longest payload: fixed part, two strings, the signature.
#define TS_CARDCODE_MAX_BYTES (1 + 4 + 8 + 8 + 8 + 1 + 1 + TS_CARDCODE_TIER_MAX \
                               + 1 + TS_CARDCODE_PERSON_MAX + TS_CARDCODE_SIG_BYTES)
//  The longest text (prefix + base64url of the payload).
#define TS_CARDCODE_MAX_CHARS (4 + (TS_CARDCODE_MAX_BYTES * 4 + 2) / 3)

enum {
    TS_CARDCODE_PRINTED = 1u << 0,
    TS_CARDCODE_SPENDABLE = 1u << 1,
};

typedef struct {
    uint32_t key_id;                            //  signing key
    uint64_t serial;                            //  code number
    int64_t issued_ms;                          //  unix ms
    int64_t expires_ms;                         //  unix ms
    unsigned flags;                             //  TS_CARDCODE_*
    char tier [TS_CARDCODE_TIER_MAX + 1];       //  the holder's tier
    char person_id [TS_CARDCODE_PERSON_MAX + 1];
} ts_cardcode;

//  Derive the Ed25519 keypair of key_id from a master secret (the ledger
//  keeps only the master in a key file; every key is reproducible).
void ts_cardcode_keypair (const uint8_t master [32], uint32_t key_id,
                          uint8_t public_key [TS_CARDCODE_KEY_BYTES],
                          uint8_t secret_key [64]);

//  The signed text of code, in arena memory.
char *ts_cardcode_sign (ts_arena *arena, const ts_cardcode *code,
                        const uint8_t secret_key [64]);

//  Decode text into *code without checking the signature (to learn which
//  key to check it with). Returns 0, or -1 when it is not a card code.
int ts_cardcode_decode (const char *text, ts_cardcode *code);

//  Does text's signature verify with public_key? (Decode first.)
bool ts_cardcode_verify (const char *text, const uint8_t public_key [TS_CARDCODE_KEY_BYTES]);

//  Is code inside its validity window at unix ms t?
bool ts_cardcode_valid_at (const ts_cardcode *code, int64_t t_ms);

#endif
