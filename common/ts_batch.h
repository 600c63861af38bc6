/*  =========================================================================
    ts_batch - the batch frame of the daemons' wire (proto/common.proto,
    sys.Batch): many Requests in one ZeroMQ message, and the Replies to
    them in one message back

    A builder collects packed entries (each already in the RequestBatch /
    ReplyBatch wire form: field 1, its length, its bytes), so a message is
    packed once, when the call is made, and the batch is the
    concatenation. Sealing it makes the frame to send: one entry goes
    alone, exactly as it would have without batching; more go inside an
    envelope (a Request "sys.Batch", or a Reply 200) carrying the batch's
    corr_id.

    Both ends' bounds live here: at most TS_BATCH_MAX entries, and a
    builder is flushed before it passes TS_BATCH_FLUSH_BYTES, well under
    the 2 MiB frame limit.
    =========================================================================
*/
#ifndef TS_BATCH_H
#define TS_BATCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "common.pb-c.h"
#include "ts_arena.h"

#define TS_BATCH_METHOD "sys.Batch"
//  A builder holding this many bytes is sealed (a larger single entry
//  goes alone).
#define TS_BATCH_FLUSH_BYTES (256u * 1024)

typedef struct ts_batch ts_batch;

//  replies: a ReplyBatch builder (daemon side), else a RequestBatch one.
ts_batch *ts_batch_new (bool replies);
void ts_batch_destroy (ts_batch **self_p);

//  Append one entry: a Tashan__Request or Tashan__Reply as the builder
//  holds. The caller flushes first when ts_batch_full says so.
void ts_batch_add (ts_batch *self, const ProtobufCMessage *entry);
//  Entries held, and their bytes on the wire.
size_t ts_batch_count (const ts_batch *self);
size_t ts_batch_bytes (const ts_batch *self);
//  Would one more entry of entry_bytes break the bounds?
bool ts_batch_full (const ts_batch *self, size_t entry_bytes);

//  The frame of what is held: its size, then the bytes (out has that
//  many). One entry: that entry as it is (corr_id unused); more: the
//  envelope with corr_id. Then ts_batch_clear.
size_t ts_batch_sealed_size (const ts_batch *self, uint64_t corr_id);
void ts_batch_seal (const ts_batch *self, uint64_t corr_id, uint8_t *out);
void ts_batch_clear (ts_batch *self);

//  Daemon side: the entries of a sys.Batch request, unpacked into arena.
//  Returns 0, or 400/413 with *why when the batch is refused whole (its
//  body does not unpack, it holds no entry, more than TS_BATCH_MAX, or
//  one that is itself a batch).
unsigned ts_batch_requests (const Tashan__Request *batch, ts_arena *arena,
                            Tashan__RequestBatch **entries, const char **why);
//  Client side: the replies inside a batch's Reply (status 200). NULL
//  when its body is not a ReplyBatch of at most TS_BATCH_MAX replies.
Tashan__ReplyBatch *ts_batch_replies (const Tashan__Reply *reply, ts_arena *arena);

#endif
