/*  test_ledger_fixture - what the ledger's unit tests share: a ledger on a
    temp dir driven through ts_dispatch (no sockets), a fixed clock, and
    helpers to feed person/merchant/credit events and to call methods. */
#ifndef TEST_LEDGER_FIXTURE_H
#define TEST_LEDGER_FIXTURE_H

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include "test_fixture.h"

#include "ts_dispatch.h"
#include "ledger_service.h"
#include "ledger.pb-c.h"
#include "events.pb-c.h"

//  Unix ms of some Asia/Shanghai wall-clock times.
#define T_MAR15 1773547200000LL         //  2026-03-15 12:00 +08:00
#define T_MAR31_LAST 1774972799000LL    //  2026-03-31 23:59:59 +08:00
#define T_APR1_0700 1774998000000LL     //  2026-04-01 07:00 +08:00 (still March in UTC)
#define T_APR15 1776225600000LL         //  2026-04-15 12:00 +08:00
#define T_MAY15 1778817600000LL         //  2026-05-15 12:00 +08:00

typedef struct {
    char dir [128];                 //  temp data dir
    ts_dispatch *d;
    ts_arena *arena;                //  replies of the current test
    uint64_t seq [4];               //  next event seq per producer (below)
    char message [256];             //  status message of the last call
} fx_t;

enum { FX_RESIDENTS, FX_MERCHANTS, FX_VOLUNTEERS, FX_PROPOSALS };
static const char *const fx_producers [] = { "residents", "merchants", "volunteers", "proposals" };

static inline void
fx_open (fx_t *f)
{
    char err [256] = "";
    f->d = ts_dispatch_new (&ledger_service, f->dir, err, sizeof err);
    if (!f->d)
        fprintf (stderr, "ts_dispatch_new: %s\n", err);
    assert_non_null (f->d);
    ts_dispatch_set_now (f->d, T_MAR15);
}

static inline int
fx_setup (void **state)
{
    fx_t *f = calloc (1, sizeof *f);
    assert_int_equal (test_dir_make (f->dir, sizeof f->dir, "ledger"), 0);
    fx_open (f);
    f->arena = ts_arena_new ();
    *state = f;
    return 0;
}

static inline int
fx_teardown (void **state)
{
    fx_t *f = *state;
    ts_dispatch_destroy (&f->d);
    ts_arena_destroy (&f->arena);
    test_dir_remove (f->dir);
    free (f);
    return 0;
}

//  Close and reopen the store (what a restart sees).
static inline void
fx_reopen (fx_t *f)
{
    int64_t now = ts_dispatch_now (f->d);
    ts_dispatch_destroy (&f->d);
    fx_open (f);
    ts_dispatch_set_now (f->d, now);
}

static inline unsigned
fx_event (fx_t *f, int producer, const char *topic, const ProtobufCMessage *payload)
{
    return test_event (f->d, f->arena, fx_producers [producer], ++f->seq [producer], topic,
                       payload);
}

//  Records in one of the store's tables.
static inline size_t
fx_records (fx_t *f, const char *table)
{
    ts_store *store = ts_dispatch_store (f->d);
    ts_txn *txn = ts_txn_begin (store, false);
    MDB_stat st;
    assert_int_equal (mdb_stat (ts_txn_mdb (txn), ts_store_table (store, table), &st), 0);
    ts_txn_abort (&txn);
    return st.ms_entries;
}

//  A person as residents announces it.
static inline void
fx_person_full (fx_t *f, const char *topic, const char *id, const char *name,
                const char *household, const char *building, const char *school,
                const char *pupil, bool consent, bool archived)
{
    Tashan__Events__Person p = TASHAN__EVENTS__PERSON__INIT;
    p.person_id = (char *) id;
    p.name = (char *) name;
    p.household_id = (char *) household;
    p.building_number = (char *) building;
    p.school_id = (char *) school;
    p.pupil_no = (char *) pupil;
    p.credit_consent = consent;
    p.archived = archived;
    assert_int_equal (fx_event (f, FX_RESIDENTS, topic, &p.base), 200);
}

static inline void
fx_person (fx_t *f, const char *id, const char *name, const char *household,
           const char *building)
{
    fx_person_full (f, "person.created", id, name, household, building, "", "", true, false);
}

static inline unsigned
fx_call (fx_t *f, const char *method, const char *role, const char *binding,
         const ProtobufCMessage *req, void *reply_p)
{
    return test_call (f->d, f->arena, method, role, binding, req, reply_p, f->message,
                      sizeof f->message);
}

//  One item of an EvaluateBatch (the strings are the caller's).
static inline Tashan__Ledger__EvaluateRequest *
fx_batch_item (Tashan__Ledger__EvaluateRequest *item, const char *person, const char *rule,
               const char *key)
{
    tashan__ledger__evaluate_request__init (item);
    item->person_id = (char *) person;
    item->rule = (char *) rule;
    item->idempotency_key = (char *) key;
    return item;
}

//  Evaluate rule for person as the panel; returns the status.
static inline unsigned
fx_evaluate (fx_t *f, const char *person, const char *rule, const char *key,
             Tashan__Ledger__Entry **entry)
{
    Tashan__Ledger__EvaluateRequest r = TASHAN__LEDGER__EVALUATE_REQUEST__INIT;
    r.person_id = (char *) person;
    r.rule = (char *) rule;
    r.note = "seen by the panel";
    r.idempotency_key = (char *) key;
    return fx_call (f, "ledger.Evaluate", "panel", "", &r.base, entry);
}

static inline Tashan__Ledger__PersonCredit *
fx_credit (fx_t *f, const char *person)
{
    Tashan__Ledger__GetPersonRequest r = TASHAN__LEDGER__GET_PERSON_REQUEST__INIT;
    r.id = (char *) person;
    Tashan__Ledger__PersonCredit *c = NULL;
    assert_int_equal (fx_call (f, "ledger.GetPerson", "ops", "", &r.base, &c), 200);
    assert_non_null (c);
    return c;
}

static inline Tashan__Ledger__EntryPage *
fx_entries (fx_t *f, const char *person, const char *month, uint32_t page_size,
            const char *token)
{
    Tashan__Ledger__ListEntriesRequest r = TASHAN__LEDGER__LIST_ENTRIES_REQUEST__INIT;
    r.id = (char *) person;
    r.month = (char *) month;
    r.page_size = page_size;
    r.page_token = (char *) token;
    Tashan__Ledger__EntryPage *page = NULL;
    assert_int_equal (fx_call (f, "ledger.ListEntries", "ops", "", &r.base, &page), 200);
    return page;
}

//  Count standing.changed events for subject after outbox seq after.
static inline int
fx_standing_count (fx_t *f, const char *subject, const char *tier)
{
    Tashan__Event **events = NULL;
    size_t n = ts_dispatch_events (f->d, 0, 1000, f->arena, &events);
    int count = 0;
    for (size_t i = 0; i < n; i++) {
        if (strcmp (events [i]->topic, "standing.changed") != 0)
            continue;
        Tashan__Events__Standing *s = tashan__events__standing__unpack (
            ts_arena_pb (f->arena), events [i]->payload.len, events [i]->payload.data);
        assert_non_null (s);
        if (strcmp (s->subject_id, subject) == 0 && (!tier || strcmp (s->tier, tier) == 0))
            count++;
    }
    return count;
}

#endif
