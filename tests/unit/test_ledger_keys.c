/*  test_ledger_keys - idempotency records in generations (ledger_keys.c):
    every key ever used answers with its first entry across sealed
    generations and restarts, and a store written before generations (the
    single keys table) is migrated on open. Generations of 4 entries here
    (ledger_keys_set_gen_shift), so a few dozen entries seal many. */
#include "test_ledger_fixture.h"
#include "ts_tag_index.h"
#include "ledger_keys.h"

#define KEYS 60

static void
s_key (char *key, size_t size, int i)
{
    //  Every tenth key is longer than 200 bytes: named by its hash.
    if (i % 10 == 9)
        snprintf (key, size, "%0240d", i);
    else
        snprintf (key, size, "k%d", i);
}

//  Evaluate KEYS keys in batches of 7 (a batch spans generations), then
//  every key again, singly and in one batch: repeats, no second effect.
static void
s_evaluate_all (fx_t *f, int expect_accepted)
{
    static char keys [KEYS][256];
    Tashan__Ledger__EvaluateRequest items [KEYS], *ptrs [KEYS];
    for (int i = 0; i < KEYS; i++) {
        s_key (keys [i], sizeof keys [i], i);
        tashan__ledger__evaluate_request__init (&items [i]);
        items [i].person_id = i % 2 ? "p1" : "p2";
        items [i].rule = "civil_conduct.good";
        items [i].idempotency_key = keys [i];
        ptrs [i] = &items [i];
    }
    int accepted = 0, duplicates = 0;
    for (int first = 0; first < KEYS; first += 7) {
        Tashan__Ledger__EvaluateBatchRequest b = TASHAN__LEDGER__EVALUATE_BATCH_REQUEST__INIT;
        b.evaluations = ptrs + first;
        b.n_evaluations = first + 7 <= KEYS ? 7 : (size_t) (KEYS - first);
        Tashan__Ledger__BatchReply *rep = NULL;
        assert_int_equal (fx_call (f, "ledger.EvaluateBatch", "panel", "", &b.base, &rep), 200);
        assert_int_equal (rep->n_rejected, 0);
        accepted += (int) rep->accepted;
        duplicates += (int) rep->duplicates;
    }
    assert_int_equal (accepted, expect_accepted);
    assert_int_equal (duplicates, KEYS - expect_accepted);
    for (int i = 0; i < KEYS; i += 3) {
        Tashan__Ledger__Entry *e = NULL;
        assert_int_equal (fx_call (f, "ledger.Evaluate", "panel", "", &items [i].base, &e), 200);
        assert_string_equal (e->person_id, items [i].person_id);
    }
    Tashan__Ledger__EvaluateBatchRequest all = TASHAN__LEDGER__EVALUATE_BATCH_REQUEST__INIT;
    all.evaluations = ptrs;
    all.n_evaluations = KEYS;
    Tashan__Ledger__BatchReply *rep = NULL;
    assert_int_equal (fx_call (f, "ledger.EvaluateBatch", "panel", "", &all.base, &rep), 200);
    assert_int_equal (rep->duplicates, KEYS);
    assert_int_equal (rep->accepted, 0);
}

static int
s_setup (void **state)
{
    ledger_keys_set_gen_shift (2);
    int rc = fx_setup (state);
    fx_t *f = *state;
    ts_dispatch_set_now (f->d, T_MAR15);
    fx_person (f, "p1", "褚四", "h1", "12");
    fx_person (f, "p2", "卫五", "h2", "12");
    //  No monthly cap: every evaluation moves the index.
    Tashan__Ledger__PutRuleRequest pr = TASHAN__LEDGER__PUT_RULE_REQUEST__INIT;
    char *roles [] = { "panel" };
    pr.code = "civil_conduct.good";
    pr.points = 3;
    pr.n_roles = 1;
    pr.roles = roles;
    assert_int_equal (fx_call (f, "ledger.PutRule", "ops", "", &pr.base, NULL), 200);
    return rc;
}

static int
s_teardown (void **state)
{
    int rc = fx_teardown (state);
    ledger_keys_set_gen_shift (LEDGER_KEYS_GEN_SHIFT);
    return rc;
}

static int64_t
s_index_sum (fx_t *f)
{
    return fx_credit (f, "p1")->index + fx_credit (f, "p2")->index;
}


static void
test_generations (void **state)
{
    fx_t *f = *state;
    s_evaluate_all (f, KEYS);
    assert_int_equal (s_index_sum (f), 2000 + 3 * KEYS);
    //  The generation taking writes (e60..e63) keeps its records in
    //  key_log; the sealed ones were moved into key_gens.
    assert_int_equal (fx_records (f, "key_log"), 1);
    assert_int_equal (fx_records (f, "key_gens"), KEYS - 1);
    //  A key of an old generation (sealed: its filter) and of the newest.
    Tashan__Ledger__Entry *e = NULL;
    assert_int_equal (fx_evaluate (f, "p2", "civil_conduct.good", "k0", &e), 409);
    fx_reopen (f);
    s_evaluate_all (f, 0);
    assert_int_equal (s_index_sum (f), 2000 + 3 * KEYS);
    //  A new key after the restart is new.
    assert_int_equal (fx_evaluate (f, "p2", "civil_conduct.good", "fresh", &e), 201);
}

//  Turn the store back into the layout before generations: the records
//  in the keys table under ledger_scope_key, none in key_gens, no filters.
static void
s_make_old_layout (fx_t *f)
{
    ts_store *store = ts_dispatch_store (f->d);
    ts_txn *txn = ts_txn_begin (store, true);
    ts_table keys = ts_store_table (store, "keys");
    ts_table gens = ts_store_table (store, "key_gens");
    ts_table blooms = ts_store_table (store, "key_blooms");
    ts_table config = ts_store_table (store, "config");
    //  The entries are e1.. in the order posted (the batches of s_evaluate_all).
    for (int i = 0; i < KEYS; i++) {
        char key [256];
        s_key (key, sizeof key, i);
        ts_key k;
        ledger_scope_key (&k, "panel", key);
        ts_txn_put_u64 (txn, keys, k.data, k.size, (uint64_t) i + 1);
    }
    assert_int_equal (mdb_drop (ts_txn_mdb (txn), gens, 0), 0);
    assert_int_equal (mdb_drop (ts_txn_mdb (txn), blooms, 0), 0);
    ts_txn_del (txn, config, "key_sealed", 10);
    //  And the schema version of that layout.
    MDB_dbi meta;
    assert_int_equal (mdb_dbi_open (ts_txn_mdb (txn), "meta", 0, &meta), 0);
    MDB_val k = { 14, "schema_version" }, v = { 4, "\0\0\0\2" };
    assert_int_equal (mdb_put (ts_txn_mdb (txn), meta, &k, &v, 0), 0);
    assert_int_equal (ts_txn_commit (&txn), 0);
}

static uint32_t
s_schema (fx_t *f)
{
    ts_txn *txn = ts_txn_begin (ts_dispatch_store (f->d), false);
    MDB_dbi meta;
    MDB_val k = { 14, "schema_version" }, v;
    assert_int_equal (mdb_dbi_open (ts_txn_mdb (txn), "meta", 0, &meta), 0);
    assert_int_equal (mdb_get (ts_txn_mdb (txn), meta, &k, &v), 0);
    assert_int_equal (v.mv_size, 4);
    uint32_t version = ts_be32_get (v.mv_data);
    ts_txn_abort (&txn);
    return version;
}

static void
test_migration (void **state)
{
    fx_t *f = *state;
    s_evaluate_all (f, KEYS);
    s_make_old_layout (f);
    assert_int_equal (fx_records (f, "keys"), KEYS);
    assert_int_equal (fx_records (f, "key_gens"), 0);
    fx_reopen (f);
    assert_int_equal (s_schema (f), 5);
    assert_int_equal (fx_records (f, "keys"), 0);
    assert_int_equal (fx_records (f, "key_gens"), KEYS);
    assert_int_equal (fx_records (f, "key_blooms"), (KEYS + 1) >> 2);
    s_evaluate_all (f, 0);
    assert_int_equal (s_index_sum (f), 2000 + 3 * KEYS);
}

//  A refused evaluation gives its key back, and the next entry takes its
//  seq: the index's slot of the refused key then names another key's
//  record, which does not count. Every key has its effect exactly once.
static void
test_refused_key_reused_seq (void **state)
{
    fx_t *f = *state;
    ledger_keys_set_gen_shift (LEDGER_KEYS_GEN_SHIFT);
    Tashan__Ledger__Entry *e = NULL;
    for (int round = 0; round < 3; round++) {
        int64_t before = s_index_sum (f);
        char a [32], b [32];
        snprintf (a, sizeof a, "a%d", round);
        snprintf (b, sizeof b, "b%d", round);
        assert_int_equal (fx_evaluate (f, "p1", "no.such.rule", a, &e), 422);
        assert_int_equal (fx_evaluate (f, "p1", "civil_conduct.good", b, &e), 201);
        assert_int_equal (fx_evaluate (f, "p1", "civil_conduct.good", a, &e), 201);
        assert_int_equal (fx_evaluate (f, "p1", "civil_conduct.good", a, &e), 200);
        assert_int_equal (fx_evaluate (f, "p1", "civil_conduct.good", b, &e), 200);
        assert_int_equal (s_index_sum (f), before + 6);
    }
    assert_int_equal (fx_records (f, "key_log"), 6);
    fx_reopen (f);
    assert_int_equal (fx_evaluate (f, "p1", "civil_conduct.good", "a1", &e), 200);
    assert_int_equal (fx_evaluate (f, "p1", "civil_conduct.good", "b2", &e), 200);
}

enum { MANY = 1000, BATCH = 100 };

//  MANY new keys in batches of BATCH, then twice again (a restart between):
//  every key has its effect once. Checks key_log holds first_log records
//  after the first pass, log_records after the others, and key_gens the
//  rest.
static void
s_evaluate_many (fx_t *f, size_t first_log, size_t log_records)
{
    static char keys [MANY][16];
    static Tashan__Ledger__EvaluateRequest items [MANY];
    static Tashan__Ledger__EvaluateRequest *ptrs [MANY];
    for (int i = 0; i < MANY; i++) {
        snprintf (keys [i], sizeof keys [i], "m%d", i);
        tashan__ledger__evaluate_request__init (&items [i]);
        items [i].person_id = i % 2 ? "p1" : "p2";
        items [i].rule = "civil_conduct.good";
        items [i].idempotency_key = keys [i];
        ptrs [i] = &items [i];
    }
    for (int pass = 0; pass < 3; pass++) {
        int accepted = 0, duplicates = 0;
        for (int first = 0; first < MANY; first += BATCH) {
            Tashan__Ledger__EvaluateBatchRequest b = TASHAN__LEDGER__EVALUATE_BATCH_REQUEST__INIT;
            b.evaluations = ptrs + first;
            b.n_evaluations = BATCH;
            Tashan__Ledger__BatchReply *rep = NULL;
            assert_int_equal (fx_call (f, "ledger.EvaluateBatch", "panel", "", &b.base, &rep),
                              200);
            accepted += (int) rep->accepted;
            duplicates += (int) rep->duplicates;
        }
        assert_int_equal (accepted, pass == 0 ? MANY : 0);
        assert_int_equal (duplicates, pass == 0 ? 0 : MANY);
        size_t logged = pass == 0 ? first_log : log_records;
        assert_int_equal (fx_records (f, "key_log"), logged);
        assert_int_equal (fx_records (f, "key_gens"), MANY - logged);
        if (pass == 1)
            fx_reopen (f);
    }
    assert_int_equal (s_index_sum (f), 2000 + 3 * MANY);
}

//  Past the index's bound, records go to key_gens and are found there,
//  before and after a restart; the keys in key_log are found too.
static void
test_index_bound (void **state)
{
    ledger_keys_set_gen_shift (LEDGER_KEYS_GEN_SHIFT);
    ledger_keys_set_index_max (1024);
    //  3/4 of 1024 slots in key_log, the rest in key_gens.
    s_evaluate_many (*state, 768, 768);
    ledger_keys_set_index_max (1u << 21);
}

//  A sealed generation's slots leave the index once its seal committed:
//  through 250 generations of 4 entries, an index of 1024 slots (768
//  records) never fills. A request seals the generations below its
//  first entry's, so after the first pass the last batch's 101 records
//  (e900..e1000) are still in key_log (none went to key_gens: the index
//  had room), after the next ones only the newest generation's (e1000).
static void
test_index_tidied_after_seal (void **state)
{
    ledger_keys_set_index_max (1024);
    s_evaluate_many (*state, 101, 1);
    ledger_keys_set_index_max (1u << 21);
}

//  Evaluate keys <prefix>from..to-1 in batches of up to BATCH; each is
//  new (expect_new) or a repeat.
static void
s_keys_batch (fx_t *f, char prefix, int from, int to, bool expect_new)
{
    static char keys [BATCH][16];
    Tashan__Ledger__EvaluateRequest items [BATCH], *ptrs [BATCH];
    for (int first = from; first < to; first += BATCH) {
        size_t n = to - first < BATCH ? (size_t) (to - first) : BATCH;
        for (size_t i = 0; i < n; i++) {
            snprintf (keys [i], sizeof keys [i], "%c%d", prefix, first + (int) i);
            ptrs [i] = fx_batch_item (&items [i], i % 2 ? "p1" : "p2", "civil_conduct.good",
                                      keys [i]);
        }
        Tashan__Ledger__EvaluateBatchRequest b = TASHAN__LEDGER__EVALUATE_BATCH_REQUEST__INIT;
        b.evaluations = ptrs;
        b.n_evaluations = n;
        Tashan__Ledger__BatchReply *rep = NULL;
        assert_int_equal (fx_call (f, "ledger.EvaluateBatch", "panel", "", &b.base, &rep), 200);
        assert_int_equal (rep->n_rejected, 0);
        assert_int_equal (rep->accepted, expect_new ? n : 0);
        assert_int_equal (rep->duplicates, expect_new ? 0 : n);
    }
}

//  A generation sealed while records of it are in key_gens already (they
//  went there past the index's bound): the seal merges the moved ones
//  with them, and its filter takes both; every key is found after the
//  seal and after a restart. (A generation alone in key_gens is appended
//  there: test_generations.)
static void
test_seal_beside_spilled_records (void **state)
{
    fx_t *f = *state;
    ledger_keys_set_gen_shift (10);
    ledger_keys_set_index_max (1024);
    //  900 keys of generation 0: 768 in key_log (the index's bound), the
    //  rest in key_gens.
    s_keys_batch (f, 'a', 0, 900, true);
    assert_int_equal (fx_records (f, "key_gens"), 900 - 768);
    assert_int_equal (fx_records (f, "key_blooms"), 0);
    //  Past entry 1023: generation 0 is sealed.
    s_keys_batch (f, 'b', 0, 300, true);
    assert_int_equal (fx_records (f, "key_blooms"), 1);
    assert_true (fx_records (f, "key_log") < 300);
    assert_int_equal (fx_records (f, "key_log") + fx_records (f, "key_gens"), 1200);
    for (int round = 0; round < 2; round++) {
        s_keys_batch (f, 'a', 0, 900, false);
        s_keys_batch (f, 'b', 0, 300, false);
        fx_reopen (f);
    }
    s_keys_batch (f, 'c', 0, 10, true);
    ledger_keys_set_index_max (1u << 21);
}

//  Two keys whose hashes share their first 28 bits (the index's part of a
//  hash, found by trying keys: about 20,000 on average) have slots that
//  name each other as candidates: each counts only with its whole hash in
//  key_log, so the second key is a new evaluation, not a repeat (or a
//  conflict) of the first, before and after a restart (the index is
//  rebuilt from key_log).
static uint32_t
s_index_tag (const char *key)
{
    ts_key k;
    ledger_scope_key (&k, "panel", key);
    ledger_key_hash h;
    ledger_keys_hash (&h, &k);
    return ts_tag_of (h.bytes);
}

static void
test_index_twins (void **state)
{
    fx_t *f = *state;
    ledger_keys_set_gen_shift (LEDGER_KEYS_GEN_SHIFT);
    char a [64] = "", b [64] = "";
    assert_true (test_find_twins ("twin-", s_index_tag, 400000, a, b, sizeof a));
    assert_true (a [0] && b [0]);
    int64_t before = s_index_sum (f);
    Tashan__Ledger__Entry *e = NULL;
    assert_int_equal (fx_evaluate (f, "p1", "civil_conduct.good", a, &e), 201);
    assert_int_equal (fx_evaluate (f, "p2", "civil_conduct.good", b, &e), 201);
    for (int round = 0; round < 2; round++) {
        assert_int_equal (fx_evaluate (f, "p1", "civil_conduct.good", a, &e), 200);
        assert_string_equal (e->person_id, "p1");
        assert_int_equal (fx_evaluate (f, "p2", "civil_conduct.good", b, &e), 200);
        assert_string_equal (e->person_id, "p2");
        fx_reopen (f);
    }
    assert_int_equal (s_index_sum (f), before + 6);
}

int
main (void)
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test_setup_teardown (test_generations, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_migration, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_refused_key_reused_seq, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_index_bound, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_index_tidied_after_seal, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_seal_beside_spilled_records, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_index_twins, s_setup, s_teardown),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
