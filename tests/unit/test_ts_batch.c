/*  test_ts_batch - the batch frame of the daemons' wire (ts_batch.h):
    one entry seals to that entry as it is, more to a sys.Batch Request /
    a ReplyBatch Reply that unpack to the same entries in order; the
    bounds (TS_BATCH_MAX entries, TS_BATCH_FLUSH_BYTES); and what the
    daemon refuses whole (not a RequestBatch, empty, too many, nested). */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "ts_batch.h"
#include "ts_service.h"
#include "ts_status.h"

static void
s_add_request (ts_batch *batch, uint64_t corr_id, const char *method, size_t body_size)
{
    static uint8_t body [TS_BATCH_FLUSH_BYTES];
    Tashan__Request req = TASHAN__REQUEST__INIT;
    req.corr_id = corr_id;
    req.method = (char *) method;
    req.body.data = body;
    req.body.len = body_size;
    req.deadline_ms = 1234;
    ts_batch_add (batch, &req.base);
}

//  Seal batch into arena memory; *size its bytes.
static uint8_t *
s_seal (ts_batch *batch, uint64_t corr_id, ts_arena *arena, size_t *size)
{
    *size = ts_batch_sealed_size (batch, corr_id);
    uint8_t *out = ts_arena_alloc (arena, *size + 1);
    ts_batch_seal (batch, corr_id, out);
    return out;
}

//  Seal batch and unpack the frame as desc (a Request or a Reply).
static void *
s_unpack_sealed (ts_batch *batch, uint64_t corr_id, ts_arena *arena,
                 const ProtobufCMessageDescriptor *desc)
{
    size_t size;
    uint8_t *frame = s_seal (batch, corr_id, arena, &size);
    void *msg = protobuf_c_message_unpack (desc, ts_arena_pb (arena), size, frame);
    assert_non_null (msg);
    return msg;
}

static void
test_one_entry_goes_alone (void **state)
{
    (void) state;
    ts_arena *arena = ts_arena_new ();
    ts_batch *batch = ts_batch_new (false);
    s_add_request (batch, 77, "ledger.Evaluate", 5);
    assert_int_equal (ts_batch_count (batch), 1);
    size_t size;
    uint8_t *frame = s_seal (batch, 99, arena, &size);
    //  Exactly the Request as it would have been sent without batching.
    Tashan__Request req = TASHAN__REQUEST__INIT;
    req.corr_id = 77;
    req.method = "ledger.Evaluate";
    req.body.data = ts_arena_alloc (arena, 5);
    req.body.len = 5;
    req.deadline_ms = 1234;
    assert_int_equal (size, protobuf_c_message_get_packed_size (&req.base));
    uint8_t *plain = ts_arena_alloc (arena, size);
    protobuf_c_message_pack (&req.base, plain);
    assert_memory_equal (frame, plain, size);
    ts_batch_destroy (&batch);
    assert_null (batch);
    ts_arena_destroy (&arena);
}

static void
test_requests_round_trip_in_order (void **state)
{
    (void) state;
    ts_arena *arena = ts_arena_new ();
    ts_batch *batch = ts_batch_new (false);
    for (uint64_t i = 1; i <= 300; i++)
        s_add_request (batch, i, i % 2 ? "ledger.Evaluate" : "sys.Health", (size_t) i);
    Tashan__Request *outer = s_unpack_sealed (batch, 4242, arena, &tashan__request__descriptor);
    assert_string_equal (outer->method, TS_BATCH_METHOD);
    assert_int_equal (outer->corr_id, 4242);
    assert_int_equal (outer->body.len, ts_batch_bytes (batch));
    Tashan__RequestBatch *entries;
    const char *why;
    assert_int_equal (ts_batch_requests (outer, arena, &entries, &why), 0);
    assert_int_equal (entries->n_requests, 300);
    for (size_t i = 0; i < 300; i++) {
        assert_int_equal (entries->requests [i]->corr_id, i + 1);
        assert_int_equal (entries->requests [i]->body.len, i + 1);
        assert_int_equal (entries->requests [i]->deadline_ms, 1234);
    }
    //  Cleared, the builder starts again.
    ts_batch_clear (batch);
    assert_int_equal (ts_batch_count (batch), 0);
    assert_int_equal (ts_batch_bytes (batch), 0);
    ts_batch_destroy (&batch);
    ts_arena_destroy (&arena);
}

static void
test_replies_round_trip (void **state)
{
    (void) state;
    ts_arena *arena = ts_arena_new ();
    ts_batch *batch = ts_batch_new (true);
    for (uint64_t i = 1; i <= 3; i++) {
        Tashan__Status status = TASHAN__STATUS__INIT;
        status.code = i == 2 ? TS_NOT_FOUND : TS_OK;
        status.message = i == 2 ? "no person" : "";
        Tashan__Reply rep = TASHAN__REPLY__INIT;
        rep.corr_id = i;
        rep.status = &status;
        ts_batch_add (batch, &rep.base);
    }
    Tashan__Reply *outer = s_unpack_sealed (batch, 7, arena, &tashan__reply__descriptor);
    assert_int_equal (outer->corr_id, 7);
    assert_int_equal (outer->status->code, TS_OK);
    Tashan__ReplyBatch *replies = ts_batch_replies (outer, arena);
    assert_non_null (replies);
    assert_int_equal (replies->n_replies, 3);
    assert_int_equal (replies->replies [1]->corr_id, 2);
    assert_int_equal (replies->replies [1]->status->code, TS_NOT_FOUND);
    assert_string_equal (replies->replies [1]->status->message, "no person");
    //  Not a ReplyBatch: NULL.
    outer->body.data = (uint8_t *) "\xff\xff\xff";
    outer->body.len = 3;
    assert_null (ts_batch_replies (outer, arena));
    ts_batch_destroy (&batch);
    ts_arena_destroy (&arena);
}

static void
test_bounds (void **state)
{
    (void) state;
    ts_batch *batch = ts_batch_new (false);
    //  Empty: never full, whatever the next entry's size (it goes alone).
    assert_false (ts_batch_full (batch, 10 * TS_BATCH_FLUSH_BYTES));
    s_add_request (batch, 1, "m.M", 100);
    assert_false (ts_batch_full (batch, 1000));
    assert_true (ts_batch_full (batch, TS_BATCH_FLUSH_BYTES));
    for (uint64_t i = 2; i <= TS_BATCH_MAX; i++) {
        assert_false (ts_batch_full (batch, 0));
        s_add_request (batch, i, "m.M", 1);
    }
    assert_int_equal (ts_batch_count (batch), TS_BATCH_MAX);
    assert_true (ts_batch_full (batch, 0));
    //  A large entry, cleared (its memory given back), then a small one.
    ts_batch_clear (batch);
    s_add_request (batch, 1, "m.M", TS_BATCH_FLUSH_BYTES - 100);
    assert_true (ts_batch_bytes (batch) > TS_BATCH_FLUSH_BYTES - 100);
    ts_batch_clear (batch);
    s_add_request (batch, 2, "m.M", 3);
    assert_int_equal (ts_batch_count (batch), 1);
    ts_arena *arena = ts_arena_new ();
    Tashan__Request *alone = s_unpack_sealed (batch, 0, arena, &tashan__request__descriptor);
    assert_int_equal (alone->corr_id, 2);
    ts_arena_destroy (&arena);
    ts_batch_destroy (&batch);
}

//  A sys.Batch Request whose body is body.
static Tashan__Request
s_outer (const uint8_t *body, size_t size)
{
    Tashan__Request outer = TASHAN__REQUEST__INIT;
    outer.method = TS_BATCH_METHOD;
    outer.corr_id = 5;
    outer.body.data = (uint8_t *) body;
    outer.body.len = size;
    return outer;
}

static void
test_refused_whole (void **state)
{
    (void) state;
    ts_arena *arena = ts_arena_new ();
    Tashan__RequestBatch *entries;
    const char *why;
    //  Not a RequestBatch.
    Tashan__Request outer = s_outer ((const uint8_t *) "\x0a\xff\x01", 3);
    assert_int_equal (ts_batch_requests (&outer, arena, &entries, &why), TS_BAD_REQUEST);
    assert_null (entries);
    assert_non_null (strstr (why, "not a packed tashan.RequestBatch"));
    //  Empty.
    outer = s_outer (NULL, 0);
    assert_int_equal (ts_batch_requests (&outer, arena, &entries, &why), TS_BAD_REQUEST);
    assert_non_null (strstr (why, "no request"));
    //  A batch inside a batch.
    ts_batch *batch = ts_batch_new (false);
    s_add_request (batch, 1, "ledger.Evaluate", 0);
    s_add_request (batch, 2, TS_BATCH_METHOD, 0);
    Tashan__Request *sealed = s_unpack_sealed (batch, 9, arena, &tashan__request__descriptor);
    assert_int_equal (ts_batch_requests (sealed, arena, &entries, &why), TS_BAD_REQUEST);
    assert_non_null (strstr (why, "may not be a batch"));
    //  More than TS_BATCH_MAX entries (a builder will not make one: the
    //  entries are written out by hand, field 1 and a one-byte length).
    Tashan__Request one = TASHAN__REQUEST__INIT;
    one.corr_id = 1;
    one.method = "m.M";
    size_t one_size = protobuf_c_message_get_packed_size (&one.base);
    assert_true (one_size < 128);
    size_t stride = 2 + one_size;
    uint8_t *many = ts_arena_alloc (arena, stride * (TS_BATCH_MAX + 1));
    for (size_t i = 0; i <= TS_BATCH_MAX; i++) {
        many [i * stride] = 0x0a;
        many [i * stride + 1] = (uint8_t) one_size;
        protobuf_c_message_pack (&one.base, many + i * stride + 2);
    }
    outer = s_outer (many, stride * (TS_BATCH_MAX + 1));
    assert_int_equal (ts_batch_requests (&outer, arena, &entries, &why), TS_TOO_LARGE);
    assert_null (entries);
    assert_non_null (strstr (why, "more than 512"));
    //  Exactly TS_BATCH_MAX: taken.
    outer = s_outer (many, stride * TS_BATCH_MAX);
    assert_int_equal (ts_batch_requests (&outer, arena, &entries, &why), 0);
    assert_int_equal (entries->n_requests, TS_BATCH_MAX);
    ts_batch_destroy (&batch);
    ts_arena_destroy (&arena);
}

int
main (void)
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (test_one_entry_goes_alone),
        cmocka_unit_test (test_requests_round_trip_in_order),
        cmocka_unit_test (test_replies_round_trip),
        cmocka_unit_test (test_bounds),
        cmocka_unit_test (test_refused_whole),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
