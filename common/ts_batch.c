/*  ts_batch - the batch frame of the daemons' wire. See ts_batch.h. */
#include "ts_batch.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "ts_service.h"
#include "ts_status.h"

#define BATCH_MAGIC 0x42415443u
#define ENTRY_TAG 0x0a              //  field 1, length-delimited
#define VARINT_MAX_BYTES 10
#define KEEP_BYTES_MAX (64u * 1024)  //  capacity kept across clears

struct ts_batch {
    uint32_t magic;                 //  BATCH_MAGIC
    bool replies;                   //  ReplyBatch, else RequestBatch
    uint8_t *data;                  //  the entries, in wire form
    size_t size;
    size_t capacity;
    size_t count;
    size_t first_at;                //  first entry's packed bytes
    size_t first_size;
};

ts_batch *
ts_batch_new (bool replies)
{
    ts_batch *self = calloc (1, sizeof (ts_batch));
    assert (self);
    self->magic = BATCH_MAGIC;
    self->replies = replies;
    return self;
}

void
ts_batch_destroy (ts_batch **self_p)
{
    assert (self_p);
    ts_batch *self = *self_p;
    if (!self)
        return;
    assert (self->magic == BATCH_MAGIC);
    free (self->data);
    self->magic = 0;
    free (self);
    *self_p = NULL;
}

static size_t
s_varint (uint64_t value, uint8_t *out)
{
    size_t n = 0;
    do {
        out [n] = (uint8_t) (value & 0x7f);
        value >>= 7;
        if (value)
            out [n] |= 0x80;
        n++;
    } while (value);
    return n;
}

static void
s_reserve (ts_batch *self, size_t more)
{
    if (self->size + more <= self->capacity)
        return;
    size_t capacity = self->capacity ? self->capacity : 4096;
    while (capacity < self->size + more)
        capacity *= 2;
    self->data = realloc (self->data, capacity);
    assert (self->data);
    self->capacity = capacity;
}

void
ts_batch_add (ts_batch *self, const ProtobufCMessage *entry)
{
    assert (self && self->magic == BATCH_MAGIC && entry);
    assert (entry->descriptor == (self->replies ? &tashan__reply__descriptor
                                                : &tashan__request__descriptor));
    assert (self->count < TS_BATCH_MAX);
    size_t size = protobuf_c_message_get_packed_size (entry);
    s_reserve (self, 1 + VARINT_MAX_BYTES + size);
    self->data [self->size++] = ENTRY_TAG;
    self->size += s_varint (size, self->data + self->size);
    if (self->count == 0) {
        self->first_at = self->size;
        self->first_size = size;
    }
    self->size += protobuf_c_message_pack (entry, self->data + self->size);
    self->count++;
}

size_t
ts_batch_count (const ts_batch *self)
{
    return self->count;
}

size_t
ts_batch_bytes (const ts_batch *self)
{
    return self->size;
}

bool
ts_batch_full (const ts_batch *self, size_t entry_bytes)
{
    return self->count >= TS_BATCH_MAX
        || (self->count > 0 && self->size + entry_bytes > TS_BATCH_FLUSH_BYTES);
}

//  The envelope of a batch of more than one entry, its body the entries.
static void
s_envelope (const ts_batch *self, uint64_t corr_id, Tashan__Request *req,
            Tashan__Reply *rep, Tashan__Status *status)
{
    if (self->replies) {
        tashan__reply__init (rep);
        tashan__status__init (status);
        status->code = TS_OK;
        rep->corr_id = corr_id;
        rep->status = status;
        rep->body.data = self->data;
        rep->body.len = self->size;
    }
    else {
        tashan__request__init (req);
        req->corr_id = corr_id;
        req->method = TS_BATCH_METHOD;
        req->body.data = self->data;
        req->body.len = self->size;
    }
}

size_t
ts_batch_sealed_size (const ts_batch *self, uint64_t corr_id)
{
    assert (self && self->magic == BATCH_MAGIC && self->count > 0);
    if (self->count == 1)
        return self->first_size;
    Tashan__Request req;
    Tashan__Reply rep;
    Tashan__Status status;
    s_envelope (self, corr_id, &req, &rep, &status);
    return protobuf_c_message_get_packed_size (self->replies ? &rep.base : &req.base);
}

void
ts_batch_seal (const ts_batch *self, uint64_t corr_id, uint8_t *out)
{
    assert (self && self->magic == BATCH_MAGIC && self->count > 0);
    if (self->count == 1) {
        memcpy (out, self->data + self->first_at, self->first_size);
        return;
    }
    Tashan__Request req;
    Tashan__Reply rep;
    Tashan__Status status;
    s_envelope (self, corr_id, &req, &rep, &status);
    protobuf_c_message_pack (self->replies ? &rep.base : &req.base, out);
}

void
ts_batch_clear (ts_batch *self)
{
    assert (self && self->magic == BATCH_MAGIC);
    self->size = self->count = self->first_at = self->first_size = 0;
    //  A burst of large entries does not keep its memory: a daemon holds
    //  16 builders and every client one per daemon.
    if (self->capacity > KEEP_BYTES_MAX) {
        free (self->data);
        self->data = NULL;
        self->capacity = 0;
    }
}

unsigned
ts_batch_requests (const Tashan__Request *batch, ts_arena *arena,
                   Tashan__RequestBatch **entries, const char **why)
{
    assert (batch && arena && entries && why);
    *entries = (Tashan__RequestBatch *) protobuf_c_message_unpack (
        &tashan__request_batch__descriptor, ts_arena_pb (arena), batch->body.len,
        batch->body.data);
    *why = NULL;
    if (!*entries)
        *why = "sys.Batch body is not a packed tashan.RequestBatch";
    else
    if ((*entries)->n_requests == 0)
        *why = "sys.Batch holds no request";
    else
    if ((*entries)->n_requests > TS_BATCH_MAX) {
        *why = "sys.Batch holds more than 512 requests (TS_BATCH_MAX)";
        *entries = NULL;
        return TS_TOO_LARGE;
    }
    for (size_t i = 0; !*why && i < (*entries)->n_requests; i++)
        if (strcmp ((*entries)->requests [i]->method, TS_BATCH_METHOD) == 0)
            *why = "a sys.Batch entry may not be a batch";
    if (!*why)
        return 0;
    *entries = NULL;
    return TS_BAD_REQUEST;
}

Tashan__ReplyBatch *
ts_batch_replies (const Tashan__Reply *reply, ts_arena *arena)
{
    assert (reply && arena);
    Tashan__ReplyBatch *batch = (Tashan__ReplyBatch *) protobuf_c_message_unpack (
        &tashan__reply_batch__descriptor, ts_arena_pb (arena), reply->body.len,
        reply->body.data);
    if (batch && batch->n_replies > TS_BATCH_MAX)
        return NULL;
    return batch;
}
