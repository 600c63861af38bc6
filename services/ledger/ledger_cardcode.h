/*  =========================================================================
    ledger_cardcode - the resident's card code: issued and signed by the
    ledger, verified offline by merchants (format: common/ts_cardcode.h)

    The signing keys are Ed25519 keypairs derived from one secret kept in
    the key file card-code.key beside the store (0600, backed up with it),
    one per key id; the store keeps only their public halves. Rotation
    makes a new key id current; every published key stays published, so
    codes issued before a rotation verify until they expire.

    Tables:  code_keys     u32 key_id BE            -> events.ResidentKey
             codes         u64 serial BE            -> ledger.CardCodeRecord
             person_codes  person_id\0 u64 serial BE -> ""
    Events:  resident_key.published, card_code.revoked (to merchants)
    =========================================================================
*/
#ifndef LEDGER_CARDCODE_H
#define LEDGER_CARDCODE_H

#include "ledger_core.h"

#define LEDGER_CODE_HOURS_DEFAULT 24
#define LEDGER_CODE_HOURS_MAX 9000
#define LEDGER_CODE_KEYS_MAX 1000       //  keys ever published (rotations)
#define LEDGER_CODES_PER_PERSON_MAX 10000

//  open(): load or create the key file, publish a current key when there
//  is none (or the key file was replaced). Call after ledger_core_open.
unsigned ledger_cardcode_open (ts_ctx *ctx);
void ledger_cardcode_close (ledger_tables *tables);

unsigned ledger_cardcode_issue (ts_ctx *ctx, const Tashan__Ledger__IssueCardCodeRequest *req,
                                Tashan__Ledger__CardCode *rep);
unsigned ledger_cardcode_list (ts_ctx *ctx, const Tashan__Ledger__ListCardCodesRequest *req,
                               Tashan__Ledger__CardCodeList *rep);
unsigned ledger_cardcode_revoke (ts_ctx *ctx, const Tashan__Ledger__RevokeCardCodeRequest *req,
                                 Tashan__Ledger__CardCode *rep);
unsigned ledger_cardcode_keys (ts_ctx *ctx, const Tashan__Ledger__ResidentKeysRequest *req,
                               Tashan__Ledger__ResidentKeys *rep);
unsigned ledger_cardcode_rotate (ts_ctx *ctx, const Tashan__Ledger__RotateResidentKeyRequest *req,
                                 Tashan__Ledger__ResidentKey *rep);

#endif
