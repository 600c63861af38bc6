/*  fuzz_ts_batch - the batch frame of the daemons' wire (ts_batch.h) fed
    arbitrary bytes, as a daemon and a client meet them: the bytes as the
    body of a sys.Batch Request (ts_batch_requests: refused whole, or
    entries that a builder packs again into the same entries, in order),
    and as the body of a batch's Reply (ts_batch_replies). Nothing may
    crash, leak, or take more than the bounds allow. */
#include <assert.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ts_batch.h"
#include "ts_service.h"
#include "ts_status.h"

//  Entries the daemon took: packed again and unpacked, they are the same.
static void
s_round_trip (const Tashan__RequestBatch *entries, ts_arena *arena)
{
    assert (entries->n_requests >= 1 && entries->n_requests <= TS_BATCH_MAX);
    ts_batch *batch = ts_batch_new (false);
    for (size_t i = 0; i < entries->n_requests; i++) {
        //  Unknown fields are kept as they came, and protobuf-c takes a
        //  field 0 written as an overlong varint that it refuses written
        //  plainly: the round trip is about the builder, not about them.
        entries->requests [i]->base.n_unknown_fields = 0;
        if (entries->requests [i]->caller)
            entries->requests [i]->caller->base.n_unknown_fields = 0;
        if (ts_batch_full (batch, protobuf_c_message_get_packed_size (
                                      &entries->requests [i]->base)))
            break;                  //  the client would send what it holds
        ts_batch_add (batch, &entries->requests [i]->base);
    }
    size_t count = ts_batch_count (batch);
    size_t size = ts_batch_sealed_size (batch, 1);
    uint8_t *frame = ts_arena_alloc (arena, size + 1);
    ts_batch_seal (batch, 1, frame);
    Tashan__Request *outer = (Tashan__Request *) protobuf_c_message_unpack (
        &tashan__request__descriptor, ts_arena_pb (arena), size, frame);
    assert (outer);
    if (count > 1) {
        Tashan__RequestBatch *again;
        const char *why;
        assert (ts_batch_requests (outer, arena, &again, &why) == 0);
        assert (again->n_requests == count);
        for (size_t i = 0; i < count; i++)
            assert (again->requests [i]->corr_id == entries->requests [i]->corr_id);
    }
    else
        assert (outer->corr_id == entries->requests [0]->corr_id);
    ts_batch_destroy (&batch);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    ts_arena *arena = ts_arena_new ();
    Tashan__Request request = TASHAN__REQUEST__INIT;
    request.method = TS_BATCH_METHOD;
    request.body.data = (uint8_t *) data;
    request.body.len = size;
    Tashan__RequestBatch *entries;
    const char *why;
    unsigned code = ts_batch_requests (&request, arena, &entries, &why);
    if (code == 0)
        s_round_trip (entries, arena);
    else
        assert ((code == TS_BAD_REQUEST || code == TS_TOO_LARGE) && why && !entries);
    Tashan__Reply reply = TASHAN__REPLY__INIT;
    reply.body.data = (uint8_t *) data;
    reply.body.len = size;
    Tashan__ReplyBatch *replies = ts_batch_replies (&reply, arena);
    assert (!replies || replies->n_replies <= TS_BATCH_MAX);
    ts_arena_destroy (&arena);
    return 0;
}
