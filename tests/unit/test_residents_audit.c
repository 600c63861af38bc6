/*  =========================================================================
    test_residents_audit - the read audit written in batches: reads are
    journalled and folded once, in order; what was journalled survives a
    restart (and a journal cut or replaced at the worst moment) without
    loss or double counting; rows past the retention become daily counts.
    =========================================================================
*/
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "test_fixture.h"
#include "residents_core.h"
#include "residents_service.h"

#define NOW_MS 1796400000000LL      //  2026-12-03
#define DAY_MS (24 * 60 * 60 * 1000LL)

typedef struct {
    char dir [TEST_DIR_MAX];
    ts_dispatch *d;
    ts_arena *arena;
    char message [256];
} fixture;

static void
s_open (fixture *f)
{
    char err [256];
    f->d = ts_dispatch_new (&residents_service, f->dir, err, sizeof err);
    assert_non_null (f->d);
    ts_dispatch_set_now (f->d, NOW_MS);
}

//  One building, household h1 with person p1.
static int
s_setup (void **state)
{
    fixture *f = calloc (1, sizeof *f);
    assert_int_equal (test_dir_make (f->dir, sizeof f->dir, "audit"), 0);
    s_open (f);
    f->arena = ts_arena_new ();
    Tashan__Residents__CreateBuildingRequest b = TASHAN__RESIDENTS__CREATE_BUILDING_REQUEST__INIT;
    b.number = "12";
    b.grid = "G1";
    assert_int_equal (test_call (f->d, f->arena, "residents.CreateBuilding", "ops", "",
                                 &b.base, NULL, f->message, sizeof f->message), 201);
    Tashan__Residents__MemberInput m = TASHAN__RESIDENTS__MEMBER_INPUT__INIT;
    m.name = "王伟";
    m.birth_year = 1980;
    Tashan__Residents__MemberInput *ms [1] = { &m };
    Tashan__Residents__CreateHouseholdRequest h = TASHAN__RESIDENTS__CREATE_HOUSEHOLD_REQUEST__INIT;
    h.building = "12";
    h.room = "101";
    h.members = ms;
    h.n_members = 1;
    assert_int_equal (test_call (f->d, f->arena, "residents.CreateHousehold", "ops", "",
                                 &h.base, NULL, f->message, sizeof f->message), 201);
    *state = f;
    return 0;
}

static int
s_teardown (void **state)
{
    fixture *f = *state;
    ts_dispatch_destroy (&f->d);
    ts_arena_destroy (&f->arena);
    test_dir_remove (f->dir);
    free (f);
    return 0;
}

//  n reads of h1 (GetHousehold) as role.
static void
s_reads (fixture *f, const char *role, size_t n)
{
    Tashan__Residents__GetRequest r = TASHAN__RESIDENTS__GET_REQUEST__INIT;
    r.id = "h1";
    for (size_t i = 0; i < n; i++)
        assert_int_equal (test_call (f->d, f->arena, "residents.GetHousehold", role, "",
                                     &r.base, NULL, f->message, sizeof f->message), 200);
}

//  The audit of h1 (all of it: pages of 1,000), checking seqs ascend.
static Tashan__Residents__AuditReply *
s_audit_list (fixture *f)
{
    Tashan__Residents__PageRequest pr = TASHAN__RESIDENTS__PAGE_REQUEST__INIT;
    pr.id = "h1";
    pr.page_size = 1000;
    Tashan__Residents__AuditReply *a;
    assert_int_equal (test_call (f->d, f->arena, "residents.ListAudit", "ops", "", &pr.base,
                                 &a, f->message, sizeof f->message), 200);
    for (size_t i = 1; i < a->n_entries; i++)
        assert_true (a->entries [i]->seq > a->entries [i - 1]->seq);
    assert_string_equal (a->next_page_token, "");
    return a;
}

static size_t
s_audit_count (fixture *f)
{
    return s_audit_list (f)->n_entries;
}

static off_t
s_journal_size (fixture *f)
{
    char path [TEST_DIR_MAX + 64];
    snprintf (path, sizeof path, "%s/residents/audit/journal", f->dir);
    struct stat st;
    assert_int_equal (stat (path, &st), 0);
    return st.st_size;
}

//  Replace the journal's content (the header of generation, plus extra).
static void
s_journal_write (fixture *f, uint64_t generation, bool header, const char *extra)
{
    char path [TEST_DIR_MAX + 64];
    snprintf (path, sizeof path, "%s/residents/audit/journal", f->dir);
    int fd = open (path, O_WRONLY | O_TRUNC);
    assert_true (fd >= 0);
    uint8_t h [8];
    ts_be64_put (h, generation);
    if (header)
        assert_int_equal (write (fd, h, sizeof h), (ssize_t) sizeof h);
    if (extra)
        assert_int_equal (write (fd, extra, strlen (extra)), (ssize_t) strlen (extra));
    close (fd);
}

static uint64_t
s_journal_generation (fixture *f)
{
    char path [TEST_DIR_MAX + 64];
    snprintf (path, sizeof path, "%s/residents/audit/journal", f->dir);
    FILE *file = fopen (path, "rb");
    assert_non_null (file);
    uint8_t h [8];
    assert_int_equal (fread (h, 1, sizeof h, file), sizeof h);
    fclose (file);
    return ts_be64_get (h);
}

//  --------------------------------------------------------------------

static void
test_reads_are_folded_once_in_order (void **state)
{
    fixture *f = *state;
    s_reads (f, "ops", 5);
    Tashan__Residents__GetRequest p = TASHAN__RESIDENTS__GET_REQUEST__INIT;
    p.id = "p1";
    assert_int_equal (test_call (f->d, f->arena, "residents.GetPerson", "system", "", &p.base,
                                 NULL, f->message, sizeof f->message), 200);
    assert_true (s_journal_size (f) > 8);
    //  The tick folds; the next one starts a new, empty journal.
    assert_true (ts_dispatch_tick (f->d) < 400);
    assert_int_equal (s_audit_count (f), 6);
    uint64_t generation = s_journal_generation (f);
    assert_true (ts_dispatch_tick (f->d) < 400);
    assert_int_equal (s_journal_size (f), 8);
    assert_int_equal (s_journal_generation (f), generation + 1);
    assert_int_equal (s_audit_count (f), 6);
    s_reads (f, "system", 3);
    //  ListAudit folds what the tick has not yet.
    assert_int_equal (s_audit_count (f), 9);
    assert_true (ts_dispatch_tick (f->d) < 400);
    assert_true (ts_dispatch_tick (f->d) < 400);
    assert_int_equal (s_audit_count (f), 9);
}

static void
test_journal_survives_restart_and_cuts (void **state)
{
    fixture *f = *state;
    s_reads (f, "ops", 4);
    //  Killed before any fold: the reads are in the journal only.
    ts_dispatch_destroy (&f->d);
    s_open (f);
    assert_int_equal (s_audit_count (f), 4);
    s_reads (f, "ops", 2);
    //  A record cut short at the end (its append failed): cut off at open.
    ts_dispatch_destroy (&f->d);
    char path [TEST_DIR_MAX + 64];
    snprintf (path, sizeof path, "%s/residents/audit/journal", f->dir);
    int fd = open (path, O_WRONLY | O_APPEND);
    assert_true (fd >= 0);
    assert_int_equal (write (fd, "\0\0\0\x40xx", 6), 6);
    close (fd);
    off_t cut_size = s_journal_size (f);
    s_open (f);
    assert_int_equal (s_journal_size (f), cut_size - 6);
    assert_int_equal (s_audit_count (f), 6);
}

static void
test_new_generation_never_folds_twice (void **state)
{
    fixture *f = *state;
    s_reads (f, "ops", 3);
    assert_true (ts_dispatch_tick (f->d) < 400);
    uint64_t generation = s_journal_generation (f);
    //  Killed after truncating, before the header: a new header at open.
    ts_dispatch_destroy (&f->d);
    s_journal_write (f, 0, false, NULL);
    s_open (f);
    assert_int_equal (s_journal_size (f), 8);
    assert_int_equal (s_audit_count (f), 3);
    //  The new generation written, its position not committed: the
    //  records of the old file are not folded again.
    ts_dispatch_destroy (&f->d);
    s_journal_write (f, generation + 5, true, NULL);
    s_open (f);
    s_reads (f, "ops", 2);
    assert_int_equal (s_audit_count (f), 5);
    assert_true (ts_dispatch_tick (f->d) < 400);
    assert_int_equal (s_audit_count (f), 5);
}

//  The daily counts of h1: sum of every audit_days row, and the rows.
static uint64_t
s_rollup_sum (fixture *f, size_t *rows)
{
    ts_store *store = ts_dispatch_store (f->d);
    ts_txn *txn = ts_txn_begin (store, false);
    ts_cursor c;
    uint64_t sum = 0;
    *rows = 0;
    bool more = ts_cursor_open (&c, txn, ts_store_table (store, "audit_days"))
             && ts_cursor_seek (&c, NULL, 0);
    for (; more && *rows < 100; (*rows)++) {
        assert_int_equal (c.value.size, 8);
        assert_int_equal (ts_be64_get (c.key.data), 1);     //  h1
        sum += ts_be64_get (c.value.data);
        more = ts_cursor_next (&c);
    }
    ts_cursor_close (&c);
    ts_txn_abort (&txn);
    return sum;
}

static void
test_rollup_after_retention (void **state)
{
    fixture *f = *state;
    s_reads (f, "ops", 3);
    s_reads (f, "system", 2);
    ts_dispatch_set_now (f->d, NOW_MS + DAY_MS);
    s_reads (f, "ops", 1);
    assert_true (ts_dispatch_tick (f->d) < 400);
    size_t rows;
    assert_int_equal (s_rollup_sum (f, &rows), 0);
    //  180 days on, the first day's reads are still kept raw.
    ts_dispatch_set_now (f->d, NOW_MS + RES_AUDIT_RAW_DAYS * DAY_MS - 1);
    assert_true (ts_dispatch_tick (f->d) < 400);
    assert_int_equal (s_audit_count (f), 6);
    //  One day later they are counted per reader and day; the second day's stays.
    ts_dispatch_set_now (f->d, NOW_MS + (RES_AUDIT_RAW_DAYS + 1) * DAY_MS - 1);
    s_reads (f, "ops", 1);
    assert_true (ts_dispatch_tick (f->d) < 400);
    assert_int_equal (s_audit_count (f), 2);
    assert_int_equal (s_rollup_sum (f, &rows), 5);
    assert_int_equal (rows, 2);                     //  ops and system, one day
    ts_dispatch_set_now (f->d, NOW_MS + (RES_AUDIT_RAW_DAYS + 2) * DAY_MS);
    assert_true (ts_dispatch_tick (f->d) < 400);
    assert_int_equal (s_audit_count (f), 1);
    assert_int_equal (s_rollup_sum (f, &rows), 6);
    assert_int_equal (rows, 3);                     //  plus ops on the second day
}


//  A batch of jobs: n reads of h1 by distinct principals (GetHousehold,
//  GetHistory and GetPerson in turn), then, if list, ListAudit.
#define BATCH_READS 24
typedef struct {
    ts_job jobs [BATCH_READS + 1];
    Tashan__Caller callers [BATCH_READS + 1];
    char principals [BATCH_READS][16];
} s_batch_t;

static size_t
s_batch_fill (fixture *f, s_batch_t *b, size_t n, bool list)
{
    assert_true (n <= BATCH_READS);
    memset (b, 0, sizeof *b);
    Tashan__Residents__GetRequest hh = TASHAN__RESIDENTS__GET_REQUEST__INIT;
    hh.id = "h1";
    Tashan__Residents__GetRequest p = TASHAN__RESIDENTS__GET_REQUEST__INIT;
    p.id = "p1";
    Tashan__Residents__PageRequest pr = TASHAN__RESIDENTS__PAGE_REQUEST__INIT;
    pr.id = "h1";
    pr.page_size = 1000;
    const char *methods [3] = { "residents.GetHousehold", "residents.GetHistory",
                                "residents.GetPerson" };
    const ProtobufCMessage *bodies [3] = { &hh.base, &pr.base, &p.base };
    size_t count = list ? n + 1 : n;
    for (size_t i = 0; i < count; i++) {
        bool reading = i < n;
        if (reading)
            snprintf (b->principals [i], sizeof b->principals [i], "reader-%zu", i);
        //  (GetHistory is ops' only)
        b->callers [i] = ts_caller (reading && i % 3 == 2 ? "system" : "ops", "",
                                    reading ? b->principals [i] : "lister");
        const ProtobufCMessage *body = reading ? bodies [i % 3] : &pr.base;
        b->jobs [i].method = reading ? methods [i % 3] : "residents.ListAudit";
        b->jobs [i].caller = &b->callers [i];
        b->jobs [i].body_size = protobuf_c_message_get_packed_size (body);
        uint8_t *packed = ts_arena_alloc (f->arena, b->jobs [i].body_size + 1);
        protobuf_c_message_pack (body, packed);
        b->jobs [i].body = packed;
    }
    return count;
}

//  A batch's reads: appended together before the batch's replies, each
//  recorded with who read and when; ListAudit in the same batch lists the
//  reads before it.
static void
test_batch_reads_recorded (void **state)
{
    fixture *f = *state;
    off_t before = s_journal_size (f);
    s_batch_t b;
    size_t count = s_batch_fill (f, &b, BATCH_READS, false);
    ts_dispatch_run_batch (f->d, b.jobs, count, f->arena);
    for (size_t i = 0; i < count; i++)
        assert_int_equal (b.jobs [i].code, 200);
    //  In the journal when the batch returns (before any reply leaves).
    assert_true (s_journal_size (f) > before + BATCH_READS * 20);
    Tashan__Residents__AuditReply *a = s_audit_list (f);
    assert_int_equal (a->n_entries, BATCH_READS);
    const char *actions [3] = { "read", "history", "read_person" };
    for (size_t i = 0; i < a->n_entries; i++) {
        Tashan__Residents__AuditEntry *e = a->entries [i];
        assert_string_equal (e->principal, b.principals [i]);
        assert_string_equal (e->role, i % 3 == 2 ? "system" : "ops");
        assert_int_equal (e->at_ms, NOW_MS);
        assert_string_equal (e->action, actions [i % 3]);
    }
    //  Reads and ListAudit in one batch: it lists them.
    ts_dispatch_set_now (f->d, NOW_MS + 1000);
    count = s_batch_fill (f, &b, 5, true);
    ts_dispatch_run_batch (f->d, b.jobs, count, f->arena);
    assert_int_equal (b.jobs [5].code, 200);
    a = tashan__residents__audit_reply__unpack (ts_arena_pb (f->arena), b.jobs [5].reply_size,
                                                b.jobs [5].reply);
    assert_non_null (a);
    assert_int_equal (a->n_entries, BATCH_READS + 5);
    assert_int_equal (a->entries [BATCH_READS + 4]->at_ms, NOW_MS + 1000);
    assert_int_equal (s_audit_count (f), BATCH_READS + 5);
}

//  When the batch's append fails, none of its reads is answered (500),
//  and nothing half-written stays; reads work again once it can append.
static void
test_batch_append_fails (void **state)
{
    fixture *f = *state;
    s_reads (f, "ops", 2);
    res_state *st = ts_dispatch_state (f->d);
    int saved = dup (st->journal_fd);
    int full = open ("/dev/full", O_WRONLY);
    assert_true (saved >= 0 && full >= 0);
    assert_true (dup2 (full, st->journal_fd) >= 0);
    s_batch_t b;
    size_t count = s_batch_fill (f, &b, 6, false);
    ts_dispatch_run_batch (f->d, b.jobs, count, f->arena);
    for (size_t i = 0; i < count; i++) {
        assert_int_equal (b.jobs [i].code, 500);
        assert_null (b.jobs [i].reply);
        assert_string_equal (b.jobs [i].message, "the read could not be audited");
    }
    assert_true (dup2 (saved, st->journal_fd) >= 0);
    close (saved);
    close (full);
    s_reads (f, "ops", 1);
    assert_int_equal (s_audit_count (f), 3);
}

//  More records than the queue holds in one batch: appended as it fills,
//  every one recorded.
static void
test_batch_queue_fills (void **state)
{
    fixture *f = *state;
    enum { READS = 150, NAME = 1000 };
    static ts_job jobs [READS];
    static Tashan__Caller callers [READS];
    static char names [READS][NAME + 1];
    Tashan__Residents__GetRequest hh = TASHAN__RESIDENTS__GET_REQUEST__INIT;
    hh.id = "h1";
    size_t size = protobuf_c_message_get_packed_size (&hh.base);
    uint8_t *body = ts_arena_alloc (f->arena, size);
    protobuf_c_message_pack (&hh.base, body);
    assert_true (READS * NAME > 2 * RES_AUDIT_BATCH_BYTES);
    memset (jobs, 0, sizeof jobs);
    for (size_t i = 0; i < READS; i++) {
        memset (names [i], 'a' + (char) (i % 26), NAME);
        names [i][NAME] = 0;
        callers [i] = ts_caller ("ops", "", names [i]);
        jobs [i] = (ts_job) { .method = "residents.GetHousehold", .caller = &callers [i],
                              .body = body, .body_size = size };
    }
    ts_dispatch_run_batch (f->d, jobs, READS, f->arena);
    for (size_t i = 0; i < READS; i++)
        assert_int_equal (jobs [i].code, 200);
    assert_int_equal (s_audit_count (f), READS);
}

int
main (void)
{
#define T(fn) cmocka_unit_test_setup_teardown (fn, s_setup, s_teardown)
    const struct CMUnitTest tests [] = {
        T (test_reads_are_folded_once_in_order),
        T (test_journal_survives_restart_and_cuts),
        T (test_new_generation_never_folds_twice),
        T (test_rollup_after_retention),
        T (test_batch_reads_recorded),
        T (test_batch_append_fails),
        T (test_batch_queue_fills),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
