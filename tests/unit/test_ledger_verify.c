/*  test_ledger_verify - the ledger's sys.Verify hook: clean after
    evaluations and a redemption; a subject record that disagrees with its
    entries is found, named, and nothing else is. And the runtime side of
    outbox generations: a store keeps its generation across reopening, a
    recreated one gets another, and a consumer's adopted generation is
    kept with its position. */
#include "test_ledger_fixture.h"
#include "ts_verify.h"
#include "ledger_core.h"
#include "ledger_keys.h"

static Tashan__VerifyReply *
s_verify (fx_t *f)
{
    Tashan__VerifyReply *reply = ts_arena_alloc (f->arena, sizeof *reply);
    tashan__verify_reply__init (reply);
    assert_int_equal (ts_verify_run (f->d, f->arena, reply), 200);
    return reply;
}

//  Overwrite p's card in its record, as a bug might.
static void
s_corrupt_card (fx_t *f, const char *id, int64_t card_points)
{
    ts_ctx ctx = { 0 };
    ctx.txn = ts_txn_begin (ts_dispatch_store (f->d), true);
    ctx.arena = f->arena;
    ctx.state = ts_dispatch_state (f->d);
    ctx.dispatch = f->d;
    ledger_subject *s = ledger_subject_get (&ctx, id);
    assert_non_null (s);
    s->card_points = card_points;
    ledger_subject_put (&ctx, s);
    assert_int_equal (ts_txn_commit (&ctx.txn), 0);
}

static void
test_clean_then_found (void **state)
{
    fx_t *f = *state;
    fx_person (f, "p1", "王小明", "h1", "12");
    fx_person (f, "p2", "李华", "h1", "12");
    assert_int_equal (fx_evaluate (f, "p1", "garbage_sorting.good", "k1", NULL), 201);
    assert_int_equal (fx_evaluate (f, "p1", "parking.good", "k2", NULL), 201);
    assert_int_equal (fx_evaluate (f, "p2", "parking.bad", "k3", NULL), 201);
    Tashan__VerifyReply *r = s_verify (f);
    assert_int_equal (r->n_findings, 0);
    assert_int_equal (r->checked, 6);     //  3 entries, their 3 idempotency records
    s_corrupt_card (f, "p1", 77);
    r = s_verify (f);
    assert_int_equal (r->n_findings, 1);
    assert_non_null (strstr (r->findings [0], "p1"));
    assert_non_null (strstr (r->findings [0], "card 77"));
}

//  Does some finding of r hold both words?
static bool
s_finding (const Tashan__VerifyReply *r, const char *word, const char *other)
{
    for (size_t i = 0; i < r->n_findings; i++)
        if (strstr (r->findings [i], word) && strstr (r->findings [i], other))
            return true;
    return false;
}

//  An idempotency record that names no entry (as a lost write might
//  leave) is found, in key_gens and in key_log; so is one missing from
//  its sealed generation's filter.
static void
test_keys_found (void **state)
{
    fx_t *f = *state;
    fx_person (f, "p1", "王小明", "h1", "12");
    assert_int_equal (fx_evaluate (f, "p1", "garbage_sorting.good", "k1", NULL), 201);
    ts_store *store = ts_dispatch_store (f->d);
    ts_txn *txn = ts_txn_begin (store, true);
    ts_key k;
    ledger_scope_key (&k, "panel", "k404");
    ledger_key_hash hash;
    ledger_keys_hash (&hash, &k);
    ts_key record;
    ledger_keys_record_key (&record, &hash, 5);
    ts_txn_put_u64 (txn, ts_store_table (store, "key_gens"), record.data, record.size, 5);
    uint8_t gen0 [4] = { 0 }, empty [64] = { 0 };
    ts_txn_put (txn, ts_store_table (store, "key_blooms"), gen0, 4, empty, sizeof empty);
    ts_txn_put (txn, ts_store_table (store, "config"), "key_sealed", 10, "\0\0\0\1", 4);
    //  k1's record (e1) moved into the sealed generation, as sealing does.
    uint8_t seq1 [8] = { 0, 0, 0, 0, 0, 0, 0, 1 };
    assert_true (ts_txn_del (txn, ts_store_table (store, "key_log"), seq1, 8));
    ledger_scope_key (&k, "panel", "k1");
    ledger_keys_hash (&hash, &k);
    ledger_keys_record_key (&record, &hash, 1);
    ts_txn_put_u64 (txn, ts_store_table (store, "key_gens"), record.data, record.size, 1);
    //  And a record of the generation taking writes whose entry is lost.
    uint8_t seq9 [8] = { 0, 0, 0, 0, 0, 0, 0, 9 };
    ts_txn_put (txn, ts_store_table (store, "key_log"), seq9, 8, hash.bytes, sizeof hash.bytes);
    assert_int_equal (ts_txn_commit (&txn), 0);
    Tashan__VerifyReply *r = s_verify (f);
    assert_int_equal (r->n_findings, 3);
    assert_true (s_finding (r, "key_gens", "e5"));
    assert_true (s_finding (r, "filter of generation 0", "e1"));
    assert_true (s_finding (r, "key_log", "e9"));
}

static void
test_generations (void **state)
{
    fx_t *f = *state;
    uint64_t generation = ts_store_generation (ts_dispatch_store (f->d));
    assert_true (generation != 0);
    fx_reopen (f);
    assert_true (ts_store_generation (ts_dispatch_store (f->d)) == generation);
    //  A consumer's adopted generation stays with its position.
    assert_true (ts_dispatch_producer_generation (f->d, "residents") == 0);
    fx_person (f, "p1", "王小明", "h1", "12");
    assert_int_equal (ts_dispatch_adopt_generation (f->d, "residents", 0x1234), 0);
    uint64_t position = ts_dispatch_position (f->d, "residents");
    fx_person (f, "p2", "李华", "h1", "12");
    assert_true (ts_dispatch_producer_generation (f->d, "residents") == 0x1234);
    assert_true (ts_dispatch_position (f->d, "residents") == position + 1);
    //  A recreated store is another generation.
    ts_dispatch_destroy (&f->d);
    char cmd [300];
    snprintf (cmd, sizeof cmd, "rm -rf %s/ledger", f->dir);
    assert_int_equal (system (cmd), 0);
    fx_open (f);
    assert_true (ts_store_generation (ts_dispatch_store (f->d)) != generation);
}

int
main (void)
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test_setup_teardown (test_clean_then_found, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown (test_keys_found, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown (test_generations, fx_setup, fx_teardown),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
