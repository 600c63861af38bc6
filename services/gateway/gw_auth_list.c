/*  gw_auth_list - GET /v1/tokens, and each token's last use: kept in
    memory (a fixed table, open addressing) and written to the store at
    most every GW_AUTH_LAST_USED_FLUSH_MS, in one transaction. See
    gw_auth.h. */
#include "gw_auth_internal.h"

#include <assert.h>
#include <stdio.h>
#include <string.h>

#include "ts_hash.h"
#include "ts_status.h"
#include "ts_time.h"

#define PROBES 16
#define PAGE_DEFAULT 100
#define PAGE_MAX 1000
#define SCAN_MAX 1000000            //  ids walked for one page, at most

//  The slot of id, or a free one for it (create), or NULL.
static last_used_t *
s_slot (gw_auth *self, const char *id, bool create)
{
    uint32_t start = ts_hash_text (id, TOKEN_ID_MAX);
    for (uint32_t i = 0; i < PROBES; i++) {
        last_used_t *slot = &self->last_used [(start + i) % LAST_USED_SLOTS];
        if (strcmp (slot->id, id) == 0)
            return slot;
        if (!slot->id [0])
            return create ? slot : NULL;
    }
    return NULL;                    //  table crowded here: last use not kept
}

void
gw_auth__touch (gw_auth *self, const char *id, int64_t now_ms)
{
    if (strlen (id) >= TOKEN_ID_MAX)
        return;
    last_used_t *slot = s_slot (self, id, true);
    if (!slot)
        return;
    if (!slot->id [0])
        snprintf (slot->id, sizeof slot->id, "%s", id);
    slot->used_ms = now_ms;
    slot->dirty = true;
}

int64_t
gw_auth__last_used (gw_auth *self, const char *id)
{
    last_used_t *slot = s_slot (self, id, false);
    return slot ? slot->used_ms : 0;
}

//  Write every dirty last use into its token record.
static unsigned
s_flush_txn (gw_auth *self, ts_txn *txn, ts_arena *arena, void *arg)
{
    for (size_t i = 0; i < LAST_USED_SLOTS; i++) {
        last_used_t *slot = &self->last_used [i];
        if (!slot->dirty)
            continue;
        ts_key k;
        ts_key_init (&k);
        ts_key_str (&k, slot->id);
        ts_val hash;
        if (!ts_txn_get (txn, self->token_ids, k.data, k.size, &hash) || hash.size != TOKEN_HASH_BYTES)
            continue;
        uint8_t hash_copy [TOKEN_HASH_BYTES];
        memcpy (hash_copy, hash.data, TOKEN_HASH_BYTES);
        Tashan__Gateway__TokenRecord *rec = ts_txn_get_msg (txn, self->tokens, hash_copy,
            TOKEN_HASH_BYTES, &tashan__gateway__token_record__descriptor, arena);
        if (rec && rec->last_used_ms < slot->used_ms) {
            rec->last_used_ms = slot->used_ms;
            ts_txn_put_msg (txn, self->tokens, hash_copy, TOKEN_HASH_BYTES, &rec->base);
        }
    }
    return TS_OK;
}

void
gw_auth_flush (gw_auth *self, bool force)
{
    assert (self && self->magic == AUTH_MAGIC);
    int64_t now_ms = gw_auth__now_ms ();
    if (!force && now_ms - self->flushed_ms < GW_AUTH_LAST_USED_FLUSH_MS)
        return;
    self->flushed_ms = now_ms;
    bool dirty = false;
    for (size_t i = 0; i < LAST_USED_SLOTS && !dirty; i++)
        dirty = self->last_used [i].dirty;
    if (!dirty)
        return;
    char message [64];
    if (gw_auth__write (self, s_flush_txn, NULL, message, sizeof message) != TS_OK)
        return;                     //  kept dirty: the next flush retries
    for (size_t i = 0; i < LAST_USED_SLOTS; i++)
        self->last_used [i].dirty = false;
}

//  One record as listed: never the secret (not stored) nor the hash.
static Tashan__Gateway__TokenInfo *
s_info (gw_auth *self, const Tashan__Gateway__TokenRecord *rec, ts_arena *arena)
{
    Tashan__Gateway__TokenInfo *info = ts_arena_alloc (arena, sizeof *info);
    tashan__gateway__token_info__init (info);
    info->id = rec->id;
    info->role = rec->role;
    info->binding = rec->binding;
    info->note = rec->note;
    info->created_at = ts_time_text (arena, rec->created_ms);
    info->created_by = rec->created_by;
    int64_t used_ms = gw_auth__last_used (self, rec->id);
    if (rec->last_used_ms > used_ms)
        used_ms = rec->last_used_ms;
    info->last_used_at = used_ms ? ts_time_text (arena, used_ms) : "";
    info->expires_at = rec->expires_ms ? ts_time_text (arena, rec->expires_ms) : "";
    info->expired = rec->expires_ms && gw_auth__now_ms () >= rec->expires_ms;
    info->revoked = rec->revoked;
    info->revoked_at = rec->revoked ? ts_time_text (arena, rec->revoked_ms) : "";
    info->revoked_by = rec->revoked_by;
    return info;
}

//  Start the walk after the page token (an id), or at the first id.
static bool
s_list_seek (ts_cursor *cursor, const char *after)
{
    if (!after [0])
        return ts_cursor_seek (cursor, NULL, 0);
    ts_key k;
    ts_key_init (&k);
    ts_key_str (&k, after);
    if (!ts_cursor_seek (cursor, k.data, k.size))
        return false;
    if (cursor->key.size == k.size && memcmp (cursor->key.data, k.data, k.size) == 0)
        return ts_cursor_next (cursor);
    return true;
}

unsigned
gw_auth_list (gw_auth *self, const Tashan__Gateway__ListTokensRequest *req,
              ts_arena *arena, Tashan__Gateway__ListTokensReply *reply,
              char *message, size_t message_size)
{
    assert (self && self->magic == AUTH_MAGIC);
    uint32_t size = req->page_size ? req->page_size : PAGE_DEFAULT;
    if (size > PAGE_MAX || strlen (req->page_token) >= TOKEN_ID_MAX) {
        snprintf (message, message_size, size > PAGE_MAX
                  ? "page_size must be 1 to 1000" : "malformed page_token");
        return TS_BAD_REQUEST;
    }
    reply->tokens = ts_arena_alloc (arena, size * sizeof *reply->tokens);
    reply->n_tokens = 0;
    reply->next_page_token = "";
    ts_txn *txn = ts_txn_begin (self->store, false);
    ts_cursor cursor;
    bool more = ts_cursor_open (&cursor, txn, self->token_ids)
             && s_list_seek (&cursor, req->page_token);
    for (uint32_t n = 0; more && n < SCAN_MAX; n++, more = ts_cursor_next (&cursor)) {
        if (reply->n_tokens == size) {
            reply->next_page_token = reply->tokens [size - 1]->id;
            break;
        }
        if (cursor.value.size != TOKEN_HASH_BYTES)
            continue;
        Tashan__Gateway__TokenRecord *rec = ts_txn_get_msg (txn, self->tokens, cursor.value.data,
            TOKEN_HASH_BYTES, &tashan__gateway__token_record__descriptor, arena);
        if (rec)
            reply->tokens [reply->n_tokens++] = s_info (self, rec, arena);
    }
    ts_cursor_close (&cursor);
    ts_txn_abort (&txn);
    return TS_OK;
}
