/*  =========================================================================
    ledger_replies - board replies kept per snapshot. See ledger_replies.h.

    Each reply is kept unpacked, in malloc memory counted as it is
    allocated (the bound is on those bytes), so a hit is a struct copy:
    no lookup, no unpack, no arena use (the dispatcher packs it again).
    =========================================================================
*/
#include "ledger_replies.h"

#include <assert.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#define REPLIES_MAGIC 0x4c525053u
//  A reply above this is built each time: a few huge pages must not push
//  out every other view.
#define REPLY_MAX_BYTES (LEDGER_REPLIES_MAX_BYTES / 16)

typedef struct {
    ts_key key;                     //  what was asked (kind, view, month, page)
    uint64_t snapshot;              //  read at; LEDGER_REPLIES_FOREVER: for good
    uint64_t used_tick;             //  last served or kept (LRU)
    size_t bytes;                   //  size of packed (the bound counts these)
    uint8_t *packed;                //  the reply as the wire carries it; NULL: a free slot
} s_reply;

struct ledger_replies {
    uint32_t magic;                 //  REPLIES_MAGIC
    s_reply replies [LEDGER_REPLIES_MAX];
    size_t count;                   //  slots holding a reply
    size_t bytes;                   //  their bytes summed
    uint64_t tick;                  //  LRU clock
    uint64_t hits;                  //  replies served from here
};

ledger_replies *
ledger_replies_new (void)
{
    ledger_replies *self = calloc (1, sizeof *self);
    assert (self);
    self->magic = REPLIES_MAGIC;
    return self;
}

static void
s_drop (ledger_replies *self, s_reply *r)
{
    if (!r->packed)
        return;
    assert (self->count > 0 && self->bytes >= r->bytes);
    free (r->packed);
    self->count--;
    self->bytes -= r->bytes;
    memset (r, 0, sizeof *r);
}

void
ledger_replies_destroy (ledger_replies **self_p)
{
    assert (self_p);
    ledger_replies *self = *self_p;
    if (!self)
        return;
    assert (self->magic == REPLIES_MAGIC);
    for (size_t i = 0; i < LEDGER_REPLIES_MAX; i++)
        s_drop (self, &self->replies [i]);
    assert (self->count == 0 && self->bytes == 0);
    self->magic = 0;
    free (self);
    *self_p = NULL;
}

uint64_t
ledger_replies_snapshot (ts_ctx *ctx)
{
    assert (ctx && ctx->txn);
    if (ts_txn_writable (ctx->txn))
        return 0;
    //  A read transaction's id is the last committed one when it began.
    uint64_t id = (uint64_t) mdb_txn_id (ts_txn_mdb (ctx->txn));
    assert (id != LEDGER_REPLIES_FOREVER);
    return id;
}

static s_reply *
s_find (ledger_replies *self, const ts_key *key)
{
    for (size_t i = 0; i < LEDGER_REPLIES_MAX; i++) {
        s_reply *r = &self->replies [i];
        if (r->packed && r->key.size == key->size
        &&  memcmp (r->key.data, key->data, key->size) == 0)
            return r;
    }
    return NULL;
}

bool
ledger_replies_serve (ledger_replies *self, const ts_key *key, uint64_t snapshot,
                      ts_ctx *ctx)
{
    assert (self && self->magic == REPLIES_MAGIC);
    assert (key && ctx);
    s_reply *r = s_find (self, key);
    if (!r)
        return false;
    bool fresh = r->snapshot == LEDGER_REPLIES_FOREVER
              || (snapshot != 0 && r->snapshot == snapshot);
    if (!fresh) {
        //  Older than the store (a commit since): never served again.
        if (snapshot != 0 && r->snapshot < snapshot)
            s_drop (self, r);
        return false;
    }
    ts_reply_packed (ctx, r->packed, r->bytes);
    r->used_tick = ++self->tick;
    self->hits++;
    return true;
}

//  The slot a new reply goes to: a free one, else the least recently
//  used (dropped).
static s_reply *
s_slot (ledger_replies *self)
{
    s_reply *oldest = &self->replies [0];
    for (size_t i = 0; i < LEDGER_REPLIES_MAX; i++) {
        s_reply *r = &self->replies [i];
        if (!r->packed)
            return r;
        if (r->used_tick < oldest->used_tick)
            oldest = r;
    }
    s_drop (self, oldest);
    return oldest;
}

//  Drop least recently used replies until size_bytes more fit.
static void
s_make_room (ledger_replies *self, size_t size_bytes)
{
    for (size_t n = 0; n < LEDGER_REPLIES_MAX
                    && self->bytes + size_bytes > LEDGER_REPLIES_MAX_BYTES; n++) {
        s_reply *oldest = NULL;
        for (size_t i = 0; i < LEDGER_REPLIES_MAX; i++) {
            s_reply *r = &self->replies [i];
            if (r->packed && (!oldest || r->used_tick < oldest->used_tick))
                oldest = r;
        }
        if (!oldest)
            break;
        s_drop (self, oldest);
    }
    assert (self->bytes + size_bytes <= LEDGER_REPLIES_MAX_BYTES);
}

void
ledger_replies_keep (ledger_replies *self, const ts_key *key, uint64_t snapshot,
                     const ProtobufCMessage *rep, ts_ctx *ctx)
{
    assert (self && self->magic == REPLIES_MAGIC);
    assert (key && rep && ctx);
    if (snapshot == 0)
        return;
    size_t size = protobuf_c_message_get_packed_size (rep);
    if (size > REPLY_MAX_BYTES)
        return;
    uint8_t *packed = malloc (size ? size : 1);
    assert (packed);
    protobuf_c_message_pack (rep, packed);
    s_reply *r = s_find (self, key);
    if (r)
        s_drop (self, r);
    s_make_room (self, size);
    r = s_slot (self);
    r->key = *key;
    r->snapshot = snapshot;
    r->used_tick = ++self->tick;
    r->bytes = size;
    r->packed = packed;
    self->count++;
    self->bytes += size;
    assert (self->count <= LEDGER_REPLIES_MAX && self->bytes <= LEDGER_REPLIES_MAX_BYTES);
    //  Packed once: this request's reply is these bytes too.
    ts_reply_packed (ctx, r->packed, r->bytes);
}

size_t
ledger_replies_count (const ledger_replies *self)
{
    assert (self && self->magic == REPLIES_MAGIC);
    return self->count;
}

size_t
ledger_replies_bytes (const ledger_replies *self)
{
    assert (self && self->magic == REPLIES_MAGIC);
    return self->bytes;
}

uint64_t
ledger_replies_hits (const ledger_replies *self)
{
    assert (self && self->magic == REPLIES_MAGIC);
    return self->hits;
}

ledger_replies *
ledger_replies_of (ts_ctx *ctx)
{
    ledger_replies *self = ledger_tables_of (ctx)->replies;
    assert (self && self->magic == REPLIES_MAGIC);
    return self;
}
