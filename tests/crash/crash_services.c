/*  =========================================================================
    crash_services - producer and consumer for the exactly-once crash test

    producer ("volunteers" endpoint)
        crash.Emit {key}  idempotent on key: stores key and emits one
                          "crash.item" event (payload CreditRequest with
                          idempotency_key = key) in the same transaction
    consumer ("proposals" endpoint)
        subscribes to the producer; applying an event increments
        applied[key] in the transaction that saves the position
        crash.Stats       distinct keys, keys applied twice, total, position

    Tables: producer  keys:    key\0 -> u64 seq
            consumer  applied: key\0 -> u64 count
                      totals:  "distinct" | "duplicates" | "total" -> u64
    =========================================================================
*/
#include "crash_services.h"

#include <string.h>

#include "crashtest.pb-c.h"
#include "events.pb-c.h"
#include "ts_dispatch.h"
#include "ts_valid.h"

static unsigned
s_emit (ts_ctx *ctx, const void *req_, void *rep_)
{
    const Tashan__Crashtest__EmitRequest *req = req_;
    Tashan__Crashtest__EmitReply *rep = rep_;
    unsigned rc = ts_check_str (ctx, "key", req->key, 100, true);
    if (rc)
        return rc;
    Tashan__Events__CreditRequest item = TASHAN__EVENTS__CREDIT_REQUEST__INIT;
    item.idempotency_key = req->key;
    item.rule = "crash.item";
    item.quantity = 1;
    ts_emit (ctx, "crash.item", &item.base);
    ts_key k;
    ts_key_init (&k);
    ts_key_str (&k, req->key);
    ts_txn_put_u64 (ctx->txn, ts_store_table (ts_txn_store (ctx->txn), "keys"),
                    k.data, k.size, ctx->last_event_seq);
    rep->seq = ctx->last_event_seq;
    return TS_CREATED;
}

static unsigned
s_producer_stats (ts_ctx *ctx, const void *req_, void *rep_)
{
    (void) req_;
    Tashan__Crashtest__StatsReply *rep = rep_;
    rep->position = ts_dispatch_outbox_head (ctx->dispatch);
    return TS_OK;
}

static const ts_table_def s_producer_tables [] = { { "keys", 0 } };

static const ts_method s_producer_methods [] = {
    { "crash.Emit", &tashan__crashtest__emit_request__descriptor,
      &tashan__crashtest__emit_reply__descriptor, s_emit, TS_METHOD_WRITE,
      TS_ROLE_SYSTEM, "key" },
    { "crash.Stats", &tashan__empty__descriptor,
      &tashan__crashtest__stats_reply__descriptor, s_producer_stats, TS_METHOD_READ,
      TS_ROLE_SYSTEM, NULL },
};

const ts_service crash_producer_service = {
    .name = "volunteers",
    .summary = "crash-test producer",
    .schema_version = 1,
    .tables = s_producer_tables,
    .table_count = 1,
    .methods = s_producer_methods,
    .method_count = 2,
};

//  --------------------------------------------------------------------

static void
s_total_add (ts_ctx *ctx, const char *name, int64_t delta)
{
    ts_table totals = ts_store_table (ts_txn_store (ctx->txn), "totals");
    ts_txn_add_i64 (ctx->txn, totals, name, strlen (name), delta);
}

static unsigned
s_apply_item (ts_ctx *ctx, const void *payload, const Tashan__Event *event)
{
    (void) event;
    const Tashan__Events__CreditRequest *item = payload;
    ts_table applied = ts_store_table (ts_txn_store (ctx->txn), "applied");
    ts_key k;
    ts_key_init (&k);
    ts_key_str (&k, item->idempotency_key);
    int64_t count = ts_txn_add_i64 (ctx->txn, applied, k.data, k.size, 1);
    if (count == 1)
        s_total_add (ctx, "distinct", 1);
    if (count == 2)
        s_total_add (ctx, "duplicates", 1);
    s_total_add (ctx, "total", 1);
    return TS_OK;
}

static unsigned
s_consumer_stats (ts_ctx *ctx, const void *req_, void *rep_)
{
    (void) req_;
    Tashan__Crashtest__StatsReply *rep = rep_;
    ts_table totals = ts_store_table (ts_txn_store (ctx->txn), "totals");
    rep->distinct = ts_txn_get_u64 (ctx->txn, totals, "distinct", 8, 0);
    rep->duplicates = ts_txn_get_u64 (ctx->txn, totals, "duplicates", 10, 0);
    rep->total = ts_txn_get_u64 (ctx->txn, totals, "total", 5, 0);
    rep->position = ts_dispatch_position (ctx->dispatch, "volunteers");
    return TS_OK;
}

static const ts_table_def s_consumer_tables [] = { { "applied", 0 }, { "totals", 0 } };

static const ts_method s_consumer_methods [] = {
    { "crash.Stats", &tashan__empty__descriptor,
      &tashan__crashtest__stats_reply__descriptor, s_consumer_stats, TS_METHOD_READ,
      TS_ROLE_SYSTEM, NULL },
};

static const ts_topic_handler s_topics [] = {
    { "crash.item", &tashan__events__credit_request__descriptor, s_apply_item },
};

static const ts_subscription s_subscriptions [] = {
    { "volunteers", s_topics, 1 },
};

const ts_service crash_consumer_service = {
    .name = "proposals",
    .summary = "crash-test consumer",
    .schema_version = 1,
    .tables = s_consumer_tables,
    .table_count = 2,
    .methods = s_consumer_methods,
    .method_count = 1,
    .subscriptions = s_subscriptions,
    .subscription_count = 1,
};
