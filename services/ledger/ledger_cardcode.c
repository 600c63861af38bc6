/*  ledger_cardcode - the resident's card code. See ledger_cardcode.h. */
#include "ledger_cardcode.h"

#include <assert.h>
#include <string.h>
#include <sodium.h>

#include "ts_cardcode.h"
#include "ts_keyfile.h"
#include "ts_valid.h"

#define KEY_FILE "card-code.key"

//  --------------------------------------------------------------------
//  Keys

//  The current key (the newest published): its id, or 0 when none.
static uint32_t
s_current_key (ts_ctx *ctx, uint8_t public_key [TS_CARDCODE_KEY_BYTES])
{
    ledger_tables *t = ledger_tables_of (ctx);
    ts_cursor cur;
    uint32_t key_id = 0;
    if (ts_cursor_open (&cur, ctx->txn, t->code_keys) && ts_cursor_seek_last (&cur, NULL, 0)) {
        Tashan__Events__ResidentKey *k = ts_cursor_msg (&cur,
            &tashan__events__resident_key__descriptor, ctx->arena);
        if (k && k->public_key.len == TS_CARDCODE_KEY_BYTES) {
            key_id = k->key_id;
            memcpy (public_key, k->public_key.data, TS_CARDCODE_KEY_BYTES);
        }
    }
    ts_cursor_close (&cur);
    return key_id;
}

//  Make the next key id current, store its public half and tell merchants.
static Tashan__Events__ResidentKey *
s_publish (ts_ctx *ctx)
{
    ledger_tables *t = ledger_tables_of (ctx);
    uint64_t id = ts_txn_next_id (ctx->txn, "code_key");
    assert (id > 0 && id <= UINT32_MAX);
    Tashan__Events__ResidentKey *k = ts_arena_alloc (ctx->arena, sizeof *k);
    tashan__events__resident_key__init (k);
    k->key_id = (uint32_t) id;
    k->public_key.data = ts_arena_alloc (ctx->arena, TS_CARDCODE_KEY_BYTES);
    k->public_key.len = TS_CARDCODE_KEY_BYTES;
    uint8_t secret [64];
    ts_cardcode_keypair (t->code_master, k->key_id, k->public_key.data, secret);
    sodium_memzero (secret, sizeof secret);
    k->created_ms = ctx->now_ms;
    uint8_t key [4];
    ts_be32_put (key, k->key_id);
    ts_txn_put_msg (ctx->txn, t->code_keys, key, sizeof key, &k->base);
    ts_emit (ctx, "resident_key.published", &k->base);
    return k;
}

unsigned
ledger_cardcode_open (ts_ctx *ctx)
{
    ledger_tables *t = ledger_tables_of (ctx);
    ts_store *store = ts_txn_store (ctx->txn);
    t->code_keys = ts_store_table (store, "code_keys");
    t->codes = ts_store_table (store, "codes");
    t->person_codes = ts_store_table (store, "person_codes");
    const char *dir = NULL;
    if (mdb_env_get_path (ts_store_env (store), &dir) != 0 || !dir)
        return ts_fail (ctx, TS_INTERNAL, "cannot find the store's directory");
    char err [1536];
    if (ts_keyfile_load (dir, KEY_FILE, t->code_master, sizeof t->code_master,
                         err, sizeof err) != 0)
        return ts_fail (ctx, TS_INTERNAL, "%s", err);
    //  A replaced key file cannot sign for the keys already published:
    //  a new key id takes over, the old public keys stay for verifying.
    uint8_t stored [TS_CARDCODE_KEY_BYTES], derived [TS_CARDCODE_KEY_BYTES], secret [64];
    uint32_t key_id = s_current_key (ctx, stored);
    if (key_id)
        ts_cardcode_keypair (t->code_master, key_id, derived, secret);
    sodium_memzero (secret, sizeof secret);
    if (!key_id || sodium_memcmp (stored, derived, sizeof stored) != 0)
        s_publish (ctx);
    return ts_txn_error (ctx->txn) ? ts_fail (ctx, TS_INTERNAL, "store error opening card codes")
                                   : TS_OK;
}

void
ledger_cardcode_close (ledger_tables *tables)
{
    if (tables)
        sodium_memzero (tables->code_master, sizeof tables->code_master);
}

//  --------------------------------------------------------------------
//  Codes

static void
s_serial_key (uint64_t serial, uint8_t key [8])
{
    ts_be64_put (key, serial);
}

static Tashan__Ledger__CardCodeRecord *
s_record_load (ts_ctx *ctx, uint64_t serial)
{
    uint8_t key [8];
    s_serial_key (serial, key);
    return ts_txn_get_msg (ctx->txn, ledger_tables_of (ctx)->codes, key, sizeof key,
                           &tashan__ledger__card_code_record__descriptor, ctx->arena);
}

static void
s_record_save (ts_ctx *ctx, const Tashan__Ledger__CardCodeRecord *rec)
{
    uint8_t key [8];
    s_serial_key (rec->serial, key);
    ts_txn_put_msg (ctx->txn, ledger_tables_of (ctx)->codes, key, sizeof key, &rec->base);
}

//  The reply form of a stored code (without the code text).
static void
s_record_reply (ts_ctx *ctx, const Tashan__Ledger__CardCodeRecord *rec,
                Tashan__Ledger__CardCode *rep)
{
    rep->code = "";
    rep->id = ts_id_text (ctx->arena, 'g', rec->serial);
    rep->person_id = rec->person_id;
    rep->tier = rec->tier;
    rep->key_id = rec->key_id;
    rep->issued_at = ts_time_text (ctx->arena, rec->issued_ms);
    rep->expires_at = ts_time_text (ctx->arena, rec->expires_ms);
    rep->printed = rec->printed;
    rep->revoked_at = rec->revoked_ms ? ts_time_text (ctx->arena, rec->revoked_ms) : "";
    rep->revoked_by = rec->revoked_by;
    rep->revoke_reason = rec->revoke_reason;
}

//  Mark rec revoked now and tell merchants (who refuse it from now on).
static void
s_revoke (ts_ctx *ctx, Tashan__Ledger__CardCodeRecord *rec, const char *reason)
{
    assert (rec->revoked_ms == 0);
    rec->revoked_ms = ctx->now_ms > rec->issued_ms ? ctx->now_ms : rec->issued_ms;
    rec->revoked_by = (char *) ctx->caller->principal;
    rec->revoke_reason = (char *) reason;
    s_record_save (ctx, rec);
    Tashan__Events__CardCodeRevoked ev = TASHAN__EVENTS__CARD_CODE_REVOKED__INIT;
    ev.serial = rec->serial;
    ev.person_id = rec->person_id;
    ev.revoked_ms = rec->revoked_ms;
    ts_emit (ctx, "card_code.revoked", &ev.base);
}

//  A lost printed card: revoke the person's earlier printed codes that
//  are still valid.
static void
s_revoke_printed (ts_ctx *ctx, const char *person_id)
{
    ledger_tables *t = ledger_tables_of (ctx);
    ts_key prefix;
    ts_key_init (&prefix);
    ts_key_str (&prefix, person_id);
    ts_cursor cur;
    uint64_t serials [64];
    size_t n = 0;
    bool more = ts_cursor_open (&cur, ctx->txn, t->person_codes)
             && ts_cursor_seek (&cur, prefix.data, prefix.size);
    for (size_t i = 0; more && i < LEDGER_CODES_PER_PERSON_MAX; i++) {
        if (!ts_cursor_has_prefix (&cur, prefix.data, prefix.size)
        ||  cur.key.size != prefix.size + 8)
            break;
        uint64_t serial = ts_be64_get ((const uint8_t *) cur.key.data + prefix.size);
        Tashan__Ledger__CardCodeRecord *rec = s_record_load (ctx, serial);
        //  Collect first: revoking writes, which would move the cursor.
        if (rec && rec->printed && !rec->revoked_ms && rec->expires_ms > ctx->now_ms
        &&  n < sizeof serials / sizeof serials [0])
            serials [n++] = serial;
        more = ts_cursor_next (&cur);
    }
    ts_cursor_close (&cur);
    for (size_t i = 0; i < n; i++)
        s_revoke (ctx, s_record_load (ctx, serials [i]), "replaced by a new card");
}

unsigned
ledger_cardcode_issue (ts_ctx *ctx, const Tashan__Ledger__IssueCardCodeRequest *req,
                       Tashan__Ledger__CardCode *rep)
{
    ledger_tables *t = ledger_tables_of (ctx);
    unsigned rc;
    uint64_t person_no;
    if ((rc = ts_check_id (ctx, "id", req->id, 'p', "person", TS_NOT_FOUND, &person_no)))
        return rc;
    uint32_t hours = req->valid_hours ? req->valid_hours : LEDGER_CODE_HOURS_DEFAULT;
    if ((rc = ts_check_range (ctx, "valid_hours", hours, 1, LEDGER_CODE_HOURS_MAX)))
        return rc;
    ledger_subject *s = ledger_subject_get (ctx, req->id);
    if (!s)
        return ts_fail (ctx, TS_NOT_FOUND, "no person %s is known to the ledger", req->id);
    if (s->archived)
        return ts_fail (ctx, TS_CONFLICT, "person %s has moved out of the community", req->id);
    if (!s->credit_consent)
        return ts_fail (ctx, TS_CONFLICT, "person %s has withdrawn credit consent: no card code",
                        req->id);
    if (req->replace && !req->printed)
        return ts_fail (ctx, TS_BAD_REQUEST, "replace goes with printed (a lost printed card)");
    if (req->replace)
        s_revoke_printed (ctx, s->id);

    uint8_t public_key [TS_CARDCODE_KEY_BYTES], secret [64];
    uint32_t key_id = s_current_key (ctx, public_key);
    if (!key_id)
        return ts_fail (ctx, TS_INTERNAL, "no card-code key is published");
    ts_cardcode code = { 0 };
    code.key_id = key_id;
    code.serial = ts_txn_next_id (ctx->txn, "card_code");
    code.issued_ms = ctx->now_ms;
    code.expires_ms = ctx->now_ms + (int64_t) hours * TS_HOUR_MS;
    code.flags = (req->printed ? TS_CARDCODE_PRINTED : 0) | TS_CARDCODE_SPENDABLE;
    const char *tier = ledger_tier_of (ledger_settings_get (ctx), ledger_index (s));
    assert (strlen (tier) <= TS_CARDCODE_TIER_MAX);
    assert (strlen (s->id) <= TS_CARDCODE_PERSON_MAX);
    strcpy (code.tier, tier);
    strcpy (code.person_id, s->id);
    uint8_t derived [TS_CARDCODE_KEY_BYTES];
    ts_cardcode_keypair (t->code_master, key_id, derived, secret);
    assert (sodium_memcmp (derived, public_key, sizeof derived) == 0);
    char *text = ts_cardcode_sign (ctx->arena, &code, secret);
    sodium_memzero (secret, sizeof secret);

    Tashan__Ledger__CardCodeRecord rec = TASHAN__LEDGER__CARD_CODE_RECORD__INIT;
    rec.serial = code.serial;
    rec.person_id = s->id;
    rec.tier = code.tier;
    rec.key_id = key_id;
    rec.issued_ms = code.issued_ms;
    rec.expires_ms = code.expires_ms;
    rec.printed = req->printed;
    s_record_save (ctx, &rec);
    ts_key k;
    ts_key_init (&k);
    ts_key_str (&k, s->id);
    ts_key_u64 (&k, code.serial);
    ts_txn_put (ctx->txn, t->person_codes, k.data, k.size, "", 0);
    s_record_reply (ctx, &rec, rep);
    rep->code = text;
    return TS_CREATED;
}

unsigned
ledger_cardcode_list (ts_ctx *ctx, const Tashan__Ledger__ListCardCodesRequest *req,
                      Tashan__Ledger__CardCodeList *rep)
{
    unsigned rc;
    uint64_t person_no;
    if ((rc = ts_check_id (ctx, "id", req->id, 'p', "person", TS_NOT_FOUND, &person_no)))
        return rc;
    ts_key prefix;
    ts_key_init (&prefix);
    ts_key_str (&prefix, req->id);
    ts_page pg;
    if ((rc = ts_page_open (ctx, &pg, ledger_tables_of (ctx)->person_codes, prefix.data,
                            prefix.size, req->page_token, req->page_size)))
        return rc;
    rep->codes = ts_arena_alloc (ctx->arena, pg.size * sizeof *rep->codes);
    for (; ts_page_more (&pg); ts_page_next (&pg)) {
        size_t size;
        const uint8_t *rest = ts_page_rest (&pg, &size);
        Tashan__Ledger__CardCodeRecord *rec = size == 8 ? s_record_load (ctx, ts_be64_get (rest))
                                                        : NULL;
        if (!rec)
            continue;
        Tashan__Ledger__CardCode *c = ts_arena_alloc (ctx->arena, sizeof *c);
        tashan__ledger__card_code__init (c);
        s_record_reply (ctx, rec, c);
        rep->codes [rep->n_codes++] = c;
        ts_page_take (&pg);
    }
    rep->next_page_token = ts_page_close (&pg, ctx->arena);
    if (ts_txn_error (ctx->txn))
        return ts_fail (ctx, TS_INTERNAL, "store error listing card codes");
    return TS_OK;
}

unsigned
ledger_cardcode_revoke (ts_ctx *ctx, const Tashan__Ledger__RevokeCardCodeRequest *req,
                        Tashan__Ledger__CardCode *rep)
{
    unsigned rc;
    uint64_t serial;
    if ((rc = ts_check_id (ctx, "id", req->id, 'g', "card code", TS_NOT_FOUND, &serial))
    ||  (rc = ts_check_str (ctx, "reason", req->reason, TS_STR_MAX_CHARS, true)))
        return rc;
    Tashan__Ledger__CardCodeRecord *rec = s_record_load (ctx, serial);
    if (!rec)
        return ts_fail (ctx, TS_NOT_FOUND, "no card code %s", req->id);
    if (rec->revoked_ms)
        return ts_fail (ctx, TS_CONFLICT, "card code %s is already revoked", req->id);
    s_revoke (ctx, rec, req->reason);
    s_record_reply (ctx, rec, rep);
    return TS_OK;
}

//  One published key in the reply's form.
static Tashan__Ledger__ResidentKey *
s_key_reply (ts_ctx *ctx, const Tashan__Events__ResidentKey *k, bool current)
{
    Tashan__Ledger__ResidentKey *r = ts_arena_alloc (ctx->arena, sizeof *r);
    tashan__ledger__resident_key__init (r);
    r->key_id = k->key_id;
    r->algorithm = "ed25519";
    size_t b64 = sodium_base64_ENCODED_LEN (k->public_key.len, sodium_base64_VARIANT_ORIGINAL);
    r->public_key = ts_arena_alloc (ctx->arena, b64);
    sodium_bin2base64 (r->public_key, b64, k->public_key.data, k->public_key.len,
                       sodium_base64_VARIANT_ORIGINAL);
    r->created_at = ts_time_text (ctx->arena, k->created_ms);
    r->current = current;
    return r;
}

unsigned
ledger_cardcode_keys (ts_ctx *ctx, const Tashan__Ledger__ResidentKeysRequest *req,
                      Tashan__Ledger__ResidentKeys *rep)
{
    (void) req;
    ledger_tables *t = ledger_tables_of (ctx);
    rep->keys = ts_arena_alloc (ctx->arena, LEDGER_CODE_KEYS_MAX * sizeof *rep->keys);
    ts_cursor cur;
    bool more = ts_cursor_open (&cur, ctx->txn, t->code_keys) && ts_cursor_seek (&cur, NULL, 0);
    while (more && rep->n_keys < LEDGER_CODE_KEYS_MAX) {
        Tashan__Events__ResidentKey *k = ts_cursor_msg (&cur,
            &tashan__events__resident_key__descriptor, ctx->arena);
        if (!k)
            break;
        more = ts_cursor_next (&cur);
        rep->keys [rep->n_keys++] = s_key_reply (ctx, k, !more);
    }
    ts_cursor_close (&cur);
    if (ts_txn_error (ctx->txn))
        return ts_fail (ctx, TS_INTERNAL, "store error listing keys");
    return TS_OK;
}

unsigned
ledger_cardcode_rotate (ts_ctx *ctx, const Tashan__Ledger__RotateResidentKeyRequest *req,
                        Tashan__Ledger__ResidentKey *rep)
{
    (void) req;
    uint8_t public_key [TS_CARDCODE_KEY_BYTES];
    uint32_t key_id = s_current_key (ctx, public_key);
    if (key_id >= LEDGER_CODE_KEYS_MAX)
        return ts_fail (ctx, TS_CONFLICT, "%d keys have been published: no more rotations",
                        LEDGER_CODE_KEYS_MAX);
    *rep = *s_key_reply (ctx, s_publish (ctx), true);
    return TS_CREATED;
}
