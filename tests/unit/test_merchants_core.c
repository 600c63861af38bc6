/*  test_merchants_core - the merchants daemon's methods and event
    appliers, driven through ts_dispatch (no sockets): registry, code,
    complaints and standing rules, discount table, market, check-ins and
    their idempotency, notices. One behaviour per test. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include "test_fixture.h"
#include "ts_tag_index.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sodium.h>

#include "ts_cardcode.h"
#include "ts_id.h"
#include "ts_time.h"
#include "ts_dispatch.h"
#include "events.pb-c.h"
#include "merchants.pb-c.h"
#include "merchants_cardcode.h"
#include "merchants_checkin_keys.h"
#include "merchants_code.h"
#include "merchants_service.h"

#define NOW_MS 1780000000000LL              //  2026-05-28, a fixed clock

typedef struct {
    char dir [64];                  //  temp data dir
    ts_dispatch *d;                 //  the merchants service
    ts_arena *arena;                //  replies of the current test
    uint64_t residents_seq;         //  events fed from residents
    uint64_t ledger_seq;            //  events fed from ledger
    char msg [256];                 //  last status message
    Tashan__Caller ops, panel, public_;
    uint8_t master [32];            //  the ledger's card-code secret, for signing
    uint64_t serial;                //  last card code signed
    struct { char person [16]; char tier [8]; } tiers [16];  //  what the ledger says
    size_t tier_count;
} fixture;

static void s_publish_key (fixture *f, uint32_t key_id);

static int
s_setup (void **state)
{
    fixture *f = calloc (1, sizeof *f);
    assert_int_equal (test_dir_make (f->dir, sizeof f->dir, "merchants"), 0);
    char err [256] = "";
    f->d = ts_dispatch_new (&merchants_service, f->dir, err, sizeof err);
    if (!f->d)
        fail_msg ("dispatch: %s", err);
    ts_dispatch_set_now (f->d, NOW_MS);
    f->arena = ts_arena_new ();
    f->ops = ts_caller ("ops", "", "tok-ops");
    f->panel = ts_caller ("panel", "", "tok-panel");
    f->public_ = ts_caller ("public", "", "");
    randombytes_buf (f->master, sizeof f->master);
    s_publish_key (f, 1);
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

static unsigned
s_call (fixture *f, const char *method, const Tashan__Caller *caller,
        const void *req, void *rep_p)
{
    return ts_dispatch_call (f->d, method, caller, (const ProtobufCMessage *) req,
                             f->arena, (ProtobufCMessage **) rep_p, f->msg, sizeof f->msg);
}

//  Feed an event as if from producer.
static unsigned
s_event (fixture *f, const char *producer, uint64_t *seq, const char *topic,
         const ProtobufCMessage *payload)
{
    size_t size = protobuf_c_message_get_packed_size (payload);
    uint8_t *buf = ts_arena_alloc (f->arena, size ? size : 1);
    protobuf_c_message_pack (payload, buf);
    Tashan__Event ev = TASHAN__EVENT__INIT;
    ev.seq = ++*seq;
    ev.topic = (char *) topic;
    ev.created_ms = NOW_MS;
    ev.payload.data = buf;
    ev.payload.len = size;
    return ts_dispatch_apply (f->d, producer, &ev);
}

static void
s_person (fixture *f, const char *id, bool archived)
{
    Tashan__Events__Person p = TASHAN__EVENTS__PERSON__INIT;
    p.person_id = (char *) id;
    p.name = "someone";
    p.archived = archived;
    assert_int_equal (s_event (f, "residents", &f->residents_seq,
                               archived ? "person.archived" : "person.created", &p.base), 200);
}

//  The ledger publishes card-code key key_id (derived from the master).
static void
s_publish_key (fixture *f, uint32_t key_id)
{
    Tashan__Events__ResidentKey k = TASHAN__EVENTS__RESIDENT_KEY__INIT;
    uint8_t pk [TS_CARDCODE_KEY_BYTES], sk [64];
    ts_cardcode_keypair (f->master, key_id, pk, sk);
    k.key_id = key_id;
    k.public_key.data = pk;
    k.public_key.len = sizeof pk;
    k.created_ms = NOW_MS;
    assert_int_equal (s_event (f, "ledger", &f->ledger_seq, "resident_key.published", &k.base),
                      200);
}

//  The tier the ledger would put in person's code ("A" by default).
static const char *
s_tier_of (fixture *f, const char *person)
{
    for (size_t i = 0; i < f->tier_count; i++)
        if (strcmp (f->tiers [i].person, person) == 0)
            return f->tiers [i].tier;
    return "A";
}

//  A card code for person as the ledger issues it: valid from issued_ms
//  for hours, signed with key_id.
static char *
s_code_serial (fixture *f, const char *person, int64_t issued_ms, int hours, uint32_t key_id,
               uint64_t serial)
{
    ts_cardcode c = { 0 };
    c.key_id = key_id;
    c.serial = serial;
    c.issued_ms = issued_ms;
    c.expires_ms = issued_ms + hours * 3600000LL;
    c.flags = TS_CARDCODE_SPENDABLE;
    snprintf (c.tier, sizeof c.tier, "%s", s_tier_of (f, person));
    snprintf (c.person_id, sizeof c.person_id, "%s", person);
    uint8_t pk [TS_CARDCODE_KEY_BYTES], sk [64];
    ts_cardcode_keypair (f->master, key_id, pk, sk);
    return ts_cardcode_sign (f->arena, &c, sk);
}

static char *
s_code_at (fixture *f, const char *person, int64_t issued_ms, int hours, uint32_t key_id)
{
    return s_code_serial (f, person, issued_ms, hours, key_id, ++f->serial);
}

//  The code a resident shows (the same text each time, as a phone would).
static char *
s_code (fixture *f, const char *person)
{
    uint64_t serial = 1000000;
    for (const char *p = person; *p; p++)
        serial = serial * 31 + (uint8_t) *p;
    return s_code_serial (f, person, NOW_MS - 60000, 24, 1, serial);
}

static void
s_standing (fixture *f, const char *subject, int64_t index, const char *tier)
{
    //  The tier a newly issued code of this person carries.
    size_t i = 0;
    while (i < f->tier_count && strcmp (f->tiers [i].person, subject) != 0)
        i++;
    if (i == f->tier_count && f->tier_count < 16)
        f->tier_count++;
    if (i < 16) {
        snprintf (f->tiers [i].person, sizeof f->tiers [i].person, "%s", subject);
        snprintf (f->tiers [i].tier, sizeof f->tiers [i].tier, "%s", tier);
    }
    Tashan__Events__Standing s = TASHAN__EVENTS__STANDING__INIT;
    s.subject_id = (char *) subject;
    s.index = index;
    s.tier = (char *) tier;
    assert_int_equal (s_event (f, "ledger", &f->ledger_seq, "standing.changed", &s.base), 200);
}

static char *s_services [] = { "haircut", "repair" };
static char *s_free [] = { "free haircut", "knife sharpening" };

//  Register a merchant; returns its reply.
static Tashan__Merchants__Merchant *
s_merchant (fixture *f, const char *name, const char *licence)
{
    Tashan__Merchants__CreateMerchantRequest req =
        TASHAN__MERCHANTS__CREATE_MERCHANT_REQUEST__INIT;
    req.name = (char *) name;
    req.kind = "individual";
    req.category = "beauty";
    req.address = "Building 12, shop 3";
    req.n_services = 2;
    req.services = s_services;
    req.n_free_services = 2;
    req.free_services = s_free;
    req.licence_no = (char *) licence;
    req.contact = "13812345678";
    Tashan__Merchants__Merchant *m = NULL;
    unsigned code = s_call (f, "merchants.Create", &f->ops, &req, &m);
    if (code != 201)
        fail_msg ("create: %u %s", code, f->msg);
    return m;
}

static Tashan__Caller
s_merchant_caller (const char *id)
{
    return ts_caller ("merchant", id, "tok-merchant");
}

static unsigned
s_complaint (fixture *f, const char *merchant, const char *status,
             Tashan__Merchants__Complaint **out)
{
    Tashan__Merchants__AddComplaintRequest req = TASHAN__MERCHANTS__ADD_COMPLAINT_REQUEST__INIT;
    req.id = (char *) merchant;
    req.summary = "overcharged";
    req.category = "price";
    req.status = (char *) status;
    Tashan__Merchants__Complaint *c = NULL;
    unsigned code = s_call (f, "merchants.AddComplaint", &f->ops, &req, &c);
    if (out)
        *out = c;
    return code;
}

static const char *
s_standing_of (fixture *f, const char *merchant)
{
    Tashan__Merchants__GetMerchantRequest req = TASHAN__MERCHANTS__GET_MERCHANT_REQUEST__INIT;
    req.id = (char *) merchant;
    Tashan__Merchants__Merchant *m = NULL;
    assert_int_equal (s_call (f, "merchants.Get", &f->ops, &req, &m), 200);
    return m->standing;
}

static Tashan__Merchants__Market *
s_market (fixture *f, const char *date)
{
    Tashan__Merchants__CreateMarketRequest req = TASHAN__MERCHANTS__CREATE_MARKET_REQUEST__INIT;
    req.date = (char *) date;
    req.place = "Tashan square";
    req.title = "Convenience market";
    Tashan__Merchants__Market *k = NULL;
    assert_int_equal (s_call (f, "merchants.CreateMarket", &f->ops, &req, &k), 201);
    return k;
}

static unsigned
s_enrol (fixture *f, const Tashan__Caller *caller, const char *market, const char *merchant)
{
    Tashan__Merchants__EnrolRequest req = TASHAN__MERCHANTS__ENROL_REQUEST__INIT;
    req.id = (char *) market;
    req.merchant_id = (char *) merchant;
    Tashan__Merchants__Enrolment *e = NULL;
    return s_call (f, "merchants.Enrol", caller, &req, &e);
}

static unsigned
s_checkin (fixture *f, const char *checkin_id, const char *merchant, const char *person,
           const char *service, const char *market, Tashan__Merchants__CheckinReply **out)
{
    Tashan__Merchants__CheckinRequest req = TASHAN__MERCHANTS__CHECKIN_REQUEST__INIT;
    req.checkin_id = (char *) checkin_id;
    req.merchant_id = (char *) merchant;
    req.resident_code = s_code (f, person);
    req.service = (char *) service;
    req.market_id = (char *) (market ? market : "");
    Tashan__Caller caller = s_merchant_caller (merchant);
    Tashan__Merchants__CheckinReply *rep = NULL;
    unsigned code = s_call (f, "merchants.Checkin", &caller, &req, &rep);
    if (out)
        *out = rep;
    return code;
}

static Tashan__Merchants__MarketStats *
s_stats (fixture *f, const char *market)
{
    Tashan__Merchants__GetMarketRequest req = TASHAN__MERCHANTS__GET_MARKET_REQUEST__INIT;
    req.id = (char *) market;
    Tashan__Merchants__MarketStats *st = NULL;
    assert_int_equal (s_call (f, "merchants.MarketStats", &f->ops, &req, &st), 200);
    return st;
}

static size_t
s_events (fixture *f, const char *topic, Tashan__Event ***out)
{
    Tashan__Event **all = NULL;
    size_t n = ts_dispatch_events (f->d, 0, 1000, f->arena, &all);
    Tashan__Event **hits = ts_arena_alloc (f->arena, (n + 1) * sizeof *hits);
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (strcmp (all [i]->topic, topic) == 0)
            hits [k++] = all [i];
    if (out)
        *out = hits;
    return k;
}

//  --------------------------------------------------------------------
//  Registry

static void
test_create_returns_id_code_and_event (void **state)
{
    fixture *f = *state;
    Tashan__Merchants__Merchant *m = s_merchant (f, "Wang's barber", "L-001");
    assert_string_equal (m->id, "m1");
    assert_int_equal (strlen (m->code), MERCHANTS_CODE_CHARS);
    assert_string_equal (m->standing, "good");
    assert_string_equal (m->contact, "13812345678");       //  ops sees it
    assert_int_equal (m->version, 1);
    assert_int_equal (m->created_at_ms, NOW_MS);
    Tashan__Event **ev;
    assert_int_equal (s_events (f, "merchant.registered", &ev), 1);
    Tashan__Events__Merchant *em = tashan__events__merchant__unpack (
        ts_arena_pb (f->arena), ev [0]->payload.len, ev [0]->payload.data);
    assert_string_equal (em->merchant_id, "m1");
    assert_string_equal (em->name, "Wang's barber");
}

static void
test_create_bad_input_changes_nothing (void **state)
{
    fixture *f = *state;
    s_merchant (f, "First", "L-001");
    Tashan__Merchants__CreateMerchantRequest req =
        TASHAN__MERCHANTS__CREATE_MERCHANT_REQUEST__INIT;
    Tashan__Merchants__Merchant *m;
    //  Each case: a field broken, the message names it.
    req.kind = "individual";
    req.category = "food";
    assert_int_equal (s_call (f, "merchants.Create", &f->ops, &req, &m), 400);
    assert_non_null (strstr (f->msg, "name"));
    req.name = "x";
    req.kind = "shop";
    assert_int_equal (s_call (f, "merchants.Create", &f->ops, &req, &m), 400);
    assert_non_null (strstr (f->msg, "kind"));
    req.kind = "enterprise";
    char long_name [80];
    memset (long_name, 'a', 65);
    long_name [65] = 0;
    req.name = long_name;
    assert_int_equal (s_call (f, "merchants.Create", &f->ops, &req, &m), 400);
    assert_non_null (strstr (f->msg, "name"));
    req.name = "x";
    char *dup [] = { "a", "a" };
    req.n_services = 2;
    req.services = dup;
    assert_int_equal (s_call (f, "merchants.Create", &f->ops, &req, &m), 400);
    assert_non_null (strstr (f->msg, "services[1]"));
    char *one [] = { "a" };
    req.n_services = 1;
    req.services = one;
    req.n_free_services = 1;
    req.free_services = one;
    assert_int_equal (s_call (f, "merchants.Create", &f->ops, &req, &m), 400);
    assert_non_null (strstr (f->msg, "free_services[0]"));
    req.n_free_services = 0;
    Tashan__Merchants__TierDiscount row = TASHAN__MERCHANTS__TIER_DISCOUNT__INIT;
    row.tier = "AAA";
    row.discount_percent = 101;
    Tashan__Merchants__TierDiscount *rows [] = { &row };
    req.n_discounts = 1;
    req.discounts = rows;
    assert_int_equal (s_call (f, "merchants.Create", &f->ops, &req, &m), 400);
    assert_non_null (strstr (f->msg, "discount_percent"));
    req.n_discounts = 0;
    //  A licence already registered: 409.
    req.licence_no = "L-001";
    assert_int_equal (s_call (f, "merchants.Create", &f->ops, &req, &m), 409);
    assert_non_null (strstr (f->msg, "licence_no"));
    //  A panel token may not register merchants.
    req.licence_no = "";
    assert_int_equal (s_call (f, "merchants.Create", &f->panel, &req, &m), 403);

    //  Nothing of the above exists: only m1, and no extra events.
    Tashan__Merchants__ListMerchantsRequest lreq = TASHAN__MERCHANTS__LIST_MERCHANTS_REQUEST__INIT;
    Tashan__Merchants__ListMerchantsReply *list;
    assert_int_equal (s_call (f, "merchants.List", &f->ops, &lreq, &list), 200);
    assert_int_equal (list->n_merchants, 1);
    assert_int_equal (s_events (f, "merchant.registered", NULL), 1);
    //  The next one gets m2 (failed attempts burnt no number).
    assert_string_equal (s_merchant (f, "Second", "")->id, "m2");
}

static void
test_get_masks_contact_and_binds_merchant (void **state)
{
    fixture *f = *state;
    s_merchant (f, "A", "");
    s_merchant (f, "B", "");
    Tashan__Merchants__GetMerchantRequest req = TASHAN__MERCHANTS__GET_MERCHANT_REQUEST__INIT;
    req.id = "m1";
    Tashan__Merchants__Merchant *m;
    Tashan__Caller own = s_merchant_caller ("m1"), other = s_merchant_caller ("m2");
    assert_int_equal (s_call (f, "merchants.Get", &own, &req, &m), 200);
    assert_string_equal (m->contact, "138****5678");
    assert_int_equal (s_call (f, "merchants.Get", &other, &req, &m), 403);
    assert_int_equal (s_call (f, "merchants.Get", &f->panel, &req, &m), 403);
    req.id = "m9";
    assert_int_equal (s_call (f, "merchants.Get", &f->ops, &req, &m), 404);
    req.id = "m01";
    assert_int_equal (s_call (f, "merchants.Get", &f->ops, &req, &m), 404);
    //  List is for ops only.
    Tashan__Merchants__ListMerchantsRequest lreq = TASHAN__MERCHANTS__LIST_MERCHANTS_REQUEST__INIT;
    Tashan__Merchants__ListMerchantsReply *list;
    assert_int_equal (s_call (f, "merchants.List", &own, &lreq, &list), 403);
}

static void
test_list_pages (void **state)
{
    fixture *f = *state;
    for (int i = 0; i < 5; i++)
        s_merchant (f, "shop", "");
    Tashan__Merchants__ListMerchantsRequest req = TASHAN__MERCHANTS__LIST_MERCHANTS_REQUEST__INIT;
    req.page_size = 2;
    Tashan__Merchants__ListMerchantsReply *list;
    char seen [16] = "";
    for (int page = 0; page < 5; page++) {
        assert_int_equal (s_call (f, "merchants.List", &f->ops, &req, &list), 200);
        for (size_t i = 0; i < list->n_merchants; i++)
            strcat (seen, list->merchants [i]->id + 1);
        if (!list->next_page_token [0])
            break;
        req.page_token = list->next_page_token;
    }
    assert_string_equal (seen, "12345");
    req.page_token = "zz";
    assert_int_equal (s_call (f, "merchants.List", &f->ops, &req, &list), 400);
    req.page_token = "";
    req.page_size = 1001;
    assert_int_equal (s_call (f, "merchants.List", &f->ops, &req, &list), 400);
    req.page_size = 0;
    req.kind = "enterprise";
    assert_int_equal (s_call (f, "merchants.List", &f->ops, &req, &list), 200);
    assert_int_equal (list->n_merchants, 0);
}

static void
test_update_suspend_keeps_history (void **state)
{
    fixture *f = *state;
    s_merchant (f, "A", "L-1");
    Tashan__Merchants__UpdateMerchantRequest req = TASHAN__MERCHANTS__UPDATE_MERCHANT_REQUEST__INIT;
    req.id = "m1";
    Tashan__Merchants__Merchant *m;
    //  Nothing to change: 400.
    assert_int_equal (s_call (f, "merchants.Update", &f->ops, &req, &m), 400);
    req.suspended_set_case = TASHAN__MERCHANTS__UPDATE_MERCHANT_REQUEST__SUSPENDED_SET_SUSPENDED;
    req.suspended = true;
    req.licence_no = "L-2";
    assert_int_equal (s_call (f, "merchants.Update", &f->ops, &req, &m), 200);
    assert_true (m->suspended);
    assert_string_equal (m->standing, "suspended");
    assert_int_equal (m->version, 2);
    assert_string_equal (m->name, "A");
    //  The old licence is free again, the new one is taken.
    s_merchant (f, "B", "L-1");
    Tashan__Merchants__CreateMerchantRequest c = TASHAN__MERCHANTS__CREATE_MERCHANT_REQUEST__INIT;
    c.name = "C";
    c.kind = "enterprise";
    c.category = "food";
    c.licence_no = "L-2";
    assert_int_equal (s_call (f, "merchants.Create", &f->ops, &c, &m), 409);
    //  History: both versions, oldest first.
    Tashan__Merchants__MerchantHistoryRequest h = TASHAN__MERCHANTS__MERCHANT_HISTORY_REQUEST__INIT;
    h.id = "m1";
    Tashan__Merchants__MerchantHistoryReply *hist;
    assert_int_equal (s_call (f, "merchants.History", &f->ops, &h, &hist), 200);
    assert_int_equal (hist->n_versions, 2);
    assert_false (hist->versions [0]->suspended);
    assert_true (hist->versions [1]->suspended);
    assert_string_equal (hist->versions [1]->updated_by, "tok-ops");
    assert_int_equal (s_events (f, "merchant.updated", NULL), 1);
    //  A merchant token may not patch.
    Tashan__Caller own = s_merchant_caller ("m1");
    assert_int_equal (s_call (f, "merchants.Update", &own, &req, &m), 403);
    req.id = "m7";
    assert_int_equal (s_call (f, "merchants.Update", &f->ops, &req, &m), 404);
}

//  --------------------------------------------------------------------
//  The code

static void
test_disclosure_by_code (void **state)
{
    fixture *f = *state;
    Tashan__Merchants__Merchant *m = s_merchant (f, "Wang's barber", "L-9");
    Tashan__Merchants__CodeRequest req = TASHAN__MERCHANTS__CODE_REQUEST__INIT;
    req.code = m->code;
    Tashan__Merchants__Disclosure *d;
    assert_int_equal (s_call (f, "merchants.Disclose", &f->public_, &req, &d), 200);
    assert_string_equal (d->merchant_id, "m1");
    assert_string_equal (d->name, "Wang's barber");
    assert_string_equal (d->licence_no, "L-9");
    assert_string_equal (d->standing, "good");
    assert_int_equal (d->n_services, 2);
    assert_int_equal (d->complaint_count, 0);
    //  Altered, truncated, forged: 404.
    char bad [MERCHANTS_CODE_CHARS + 1];
    strcpy (bad, m->code);
    bad [3] = bad [3] == 'A' ? 'B' : 'A';
    req.code = bad;
    assert_int_equal (s_call (f, "merchants.Disclose", &f->public_, &req, &d), 404);
    strcpy (bad, m->code);
    bad [MERCHANTS_CODE_CHARS - 1] = 0;
    assert_int_equal (s_call (f, "merchants.Disclose", &f->public_, &req, &d), 404);
    req.code = "AAAAAAAAAAAAAAAAAAAAAAAAAA";
    assert_int_equal (s_call (f, "merchants.Disclose", &f->public_, &req, &d), 404);
    //  A genuine code of a merchant this store does not hold: 404.
    uint8_t key [MERCHANTS_CODE_KEY_BYTES];
    char err [128];
    char dir [128];
    snprintf (dir, sizeof dir, "%s/merchants", f->dir);
    assert_int_equal (merchants_code_key_load (dir, key, err, sizeof err), 0);
    char other [MERCHANTS_CODE_CHARS + 1];
    merchants_code_make (key, 99, other);
    req.code = other;
    assert_int_equal (s_call (f, "merchants.Disclose", &f->public_, &req, &d), 404);
}

static void
test_code_svg (void **state)
{
    fixture *f = *state;
    s_merchant (f, "A", "");
    s_merchant (f, "B", "");
    Tashan__Merchants__CodeSvgRequest req = TASHAN__MERCHANTS__CODE_SVG_REQUEST__INIT;
    req.id = "m1";
    Tashan__Merchants__RawReply *raw;
    Tashan__Caller own = s_merchant_caller ("m1"), other = s_merchant_caller ("m2");
    assert_int_equal (s_call (f, "merchants.CodeSvg", &own, &req, &raw), 200);
    assert_string_equal (raw->content_type, "image/svg+xml");
    assert_true (raw->data.len > 100);
    assert_memory_equal (raw->data.data, "<?xml", 5);
    assert_int_equal (s_call (f, "merchants.CodeSvg", &other, &req, &raw), 403);
    assert_int_equal (s_call (f, "merchants.CodeSvg", &f->public_, &req, &raw), 403);
}

//  A key that is not the store's stops the daemon from starting.
static void
test_swapped_key_refused (void **state)
{
    fixture *f = *state;
    s_merchant (f, "A", "");
    ts_dispatch_destroy (&f->d);
    char path [128];
    snprintf (path, sizeof path, "%s/merchants/code.key", f->dir);
    FILE *k = fopen (path, "r+b");
    assert_non_null (k);
    fputc ('!', k);
    fclose (k);
    char err [256] = "";
    f->d = ts_dispatch_new (&merchants_service, f->dir, err, sizeof err);
    assert_null (f->d);
    assert_non_null (strstr (err, "code.key does not match"));
    //  Put a fresh dispatch back for teardown (on a new dir).
    unlink (path);
    char cmd [160];
    snprintf (cmd, sizeof cmd, "rm -rf %s/merchants", f->dir);
    assert_int_equal (system (cmd), 0);
    f->d = ts_dispatch_new (&merchants_service, f->dir, err, sizeof err);
    assert_non_null (f->d);
}

//  --------------------------------------------------------------------
//  Complaints and standing rules

static void
test_standing_from_complaints (void **state)
{
    fixture *f = *state;
    s_merchant (f, "A", "");
    Tashan__Merchants__Complaint *c1, *c2, *c3;
    assert_int_equal (s_complaint (f, "m1", "", &c1), 201);
    assert_string_equal (c1->status, "open");
    assert_string_equal (s_standing_of (f, "m1"), "good");      //  1 < watch 2
    assert_int_equal (s_complaint (f, "m1", "open", &c2), 201);
    assert_string_equal (s_standing_of (f, "m1"), "watch");     //  2 open
    //  Dismissing one brings it back to good.
    Tashan__Merchants__ResolveComplaintRequest r = TASHAN__MERCHANTS__RESOLVE_COMPLAINT_REQUEST__INIT;
    r.id = "m1";
    r.complaint_id = c2->id;
    r.status = "dismissed";
    r.resolution_note = "not our shop";
    Tashan__Merchants__Complaint *res;
    assert_int_equal (s_call (f, "merchants.ResolveComplaint", &f->ops, &r, &res), 200);
    assert_string_equal (res->status, "dismissed");
    assert_int_equal (res->resolved_at_ms, NOW_MS);
    assert_string_equal (s_standing_of (f, "m1"), "good");
    assert_int_equal (s_call (f, "merchants.ResolveComplaint", &f->ops, &r, &res), 409);
    //  Three upheld: suspended.
    r.complaint_id = c1->id;
    r.status = "upheld";
    assert_int_equal (s_call (f, "merchants.ResolveComplaint", &f->ops, &r, &res), 200);
    assert_int_equal (s_complaint (f, "m1", "upheld", &c3), 201);
    assert_string_equal (s_standing_of (f, "m1"), "watch");
    assert_int_equal (s_complaint (f, "m1", "upheld", NULL), 201);
    assert_string_equal (s_standing_of (f, "m1"), "suspended");
    //  Bad input.
    assert_int_equal (s_complaint (f, "m1", "maybe", NULL), 400);
    assert_int_equal (s_complaint (f, "m5", "", NULL), 404);
    r.status = "open";
    assert_int_equal (s_call (f, "merchants.ResolveComplaint", &f->ops, &r, &res), 400);
    r.status = "upheld";
    r.complaint_id = "q99";
    assert_int_equal (s_call (f, "merchants.ResolveComplaint", &f->ops, &r, &res), 404);
    //  The list holds them all; the disclosure counts open + upheld.
    Tashan__Merchants__ListComplaintsRequest l = TASHAN__MERCHANTS__LIST_COMPLAINTS_REQUEST__INIT;
    l.id = "m1";
    Tashan__Merchants__ListComplaintsReply *list;
    Tashan__Caller own = s_merchant_caller ("m1");
    assert_int_equal (s_call (f, "merchants.ListComplaints", &own, &l, &list), 200);
    assert_int_equal (list->n_complaints, 4);
    Tashan__Merchants__GetMerchantRequest g = TASHAN__MERCHANTS__GET_MERCHANT_REQUEST__INIT;
    g.id = "m1";
    Tashan__Merchants__Merchant *m;
    assert_int_equal (s_call (f, "merchants.Get", &f->ops, &g, &m), 200);
    Tashan__Merchants__CodeRequest cr = TASHAN__MERCHANTS__CODE_REQUEST__INIT;
    cr.code = m->code;
    Tashan__Merchants__Disclosure *d;
    assert_int_equal (s_call (f, "merchants.Disclose", &f->public_, &cr, &d), 200);
    assert_int_equal (d->complaint_count, 3);
    assert_string_equal (d->standing, "suspended");
    //  Complaints are recorded by ops only.
    Tashan__Merchants__AddComplaintRequest a = TASHAN__MERCHANTS__ADD_COMPLAINT_REQUEST__INIT;
    a.id = "m1";
    a.summary = "x";
    assert_int_equal (s_call (f, "merchants.AddComplaint", &own, &a, &res), 403);
}

static void
test_standing_from_ledger_index (void **state)
{
    fixture *f = *state;
    s_merchant (f, "A", "");
    s_standing (f, "m1", 900, "B");
    assert_string_equal (s_standing_of (f, "m1"), "good");
    s_standing (f, "m1", 849, "C");
    assert_string_equal (s_standing_of (f, "m1"), "watch");
    s_standing (f, "m1", 599, "D");
    assert_string_equal (s_standing_of (f, "m1"), "suspended");
    s_standing (f, "m1", 1000, "A");
    assert_string_equal (s_standing_of (f, "m1"), "good");
}

static void
test_rules_are_data (void **state)
{
    fixture *f = *state;
    s_merchant (f, "A", "");
    Tashan__Merchants__GetRulesRequest g = TASHAN__MERCHANTS__GET_RULES_REQUEST__INIT;
    Tashan__Merchants__Rules *rules;
    assert_int_equal (s_call (f, "merchants.GetRules", &f->ops, &g, &rules), 200);
    assert_int_equal (rules->watch_complaints, 2);
    assert_int_equal (rules->n_discounts, 6);
    //  One open complaint now means watch.
    rules->watch_complaints = 1;
    Tashan__Merchants__Rules *set;
    assert_int_equal (s_call (f, "merchants.SetRules", &f->ops, rules, &set), 200);
    assert_int_equal (s_complaint (f, "m1", "", NULL), 201);
    assert_string_equal (s_standing_of (f, "m1"), "watch");
    //  Bad rules are refused and change nothing.
    rules->watch_complaints = 0;
    assert_int_equal (s_call (f, "merchants.SetRules", &f->ops, rules, &set), 400);
    assert_non_null (strstr (f->msg, "watch_complaints"));
    rules->watch_complaints = 1;
    rules->suspend_below_index = rules->watch_below_index + 1;
    assert_int_equal (s_call (f, "merchants.SetRules", &f->ops, rules, &set), 400);
    assert_non_null (strstr (f->msg, "suspend_below_index"));
    rules->suspend_below_index = 600;
    rules->code_url_prefix = "has space";
    assert_int_equal (s_call (f, "merchants.SetRules", &f->ops, rules, &set), 400);
    rules->code_url_prefix = "";
    rules->n_discounts = 0;
    assert_int_equal (s_call (f, "merchants.SetRules", &f->ops, rules, &set), 400);
    Tashan__Caller own = s_merchant_caller ("m1");
    assert_int_equal (s_call (f, "merchants.SetRules", &own, rules, &set), 403);
    assert_int_equal (s_call (f, "merchants.GetRules", &f->ops, &g, &rules), 200);
    assert_int_equal (rules->watch_complaints, 1);
    assert_int_equal (rules->n_discounts, 6);
}

//  --------------------------------------------------------------------
//  Discount table

static void
test_discount_by_tier (void **state)
{
    fixture *f = *state;
    s_merchant (f, "A", "");
    s_person (f, "p1", false);
    s_person (f, "p2", false);
    s_person (f, "p3", false);
    s_standing (f, "p2", 1060, "AAA");
    s_standing (f, "p3", 700, "C");
    Tashan__Merchants__CheckinReply *r;
    //  p1: the ledger never spoke: the default tier A, 5%.
    assert_int_equal (s_checkin (f, "c1", "m1", "p1", "haircut", NULL, &r), 201);
    assert_string_equal (r->tier, "A");
    assert_int_equal (r->discount_percent, 5);
    assert_int_equal (s_checkin (f, "c2", "m1", "p2", "haircut", NULL, &r), 201);
    assert_string_equal (r->tier, "AAA");
    assert_int_equal (r->discount_percent, 15);
    assert_int_equal (s_checkin (f, "c3", "m1", "p3", "haircut", NULL, &r), 201);
    assert_string_equal (r->tier, "C");
    assert_int_equal (r->discount_percent, 0);
    //  The merchant's own table wins over the community's for its tiers.
    Tashan__Merchants__UpdateMerchantRequest u = TASHAN__MERCHANTS__UPDATE_MERCHANT_REQUEST__INIT;
    u.id = "m1";
    Tashan__Merchants__TierDiscount row = TASHAN__MERCHANTS__TIER_DISCOUNT__INIT;
    row.tier = "AAA";
    row.discount_percent = 30;
    Tashan__Merchants__TierDiscount *rows [] = { &row };
    u.n_discounts = 1;
    u.discounts = rows;
    Tashan__Merchants__Merchant *m;
    assert_int_equal (s_call (f, "merchants.Update", &f->ops, &u, &m), 200);
    assert_int_equal (s_checkin (f, "c4", "m1", "p2", "haircut", NULL, &r), 201);
    assert_int_equal (r->discount_percent, 30);
    assert_int_equal (s_checkin (f, "c5", "m1", "p1", "haircut", NULL, &r), 201);
    assert_int_equal (r->discount_percent, 5);
    //  A tier change from the ledger applies at once.
    s_standing (f, "p1", 1031, "AA");
    assert_int_equal (s_checkin (f, "c6", "m1", "p1", "haircut", NULL, &r), 201);
    assert_string_equal (r->tier, "AA");
    assert_int_equal (r->discount_percent, 10);
}

//  --------------------------------------------------------------------
//  Market and check-ins

static void
test_enrol_needs_good_standing (void **state)
{
    fixture *f = *state;
    s_merchant (f, "A", "");
    s_merchant (f, "B", "");
    Tashan__Merchants__Market *k = s_market (f, "2026-06-06");
    assert_string_equal (k->id, "k1");
    assert_int_equal (s_enrol (f, &f->ops, "k1", "m1"), 201);
    assert_int_equal (s_enrol (f, &f->ops, "k1", "m1"), 200);     //  no second effect
    assert_int_equal (s_stats (f, "k1")->merchants, 1);
    //  m2 on watch: refused with the reason.
    s_complaint (f, "m2", "", NULL);
    s_complaint (f, "m2", "", NULL);
    assert_int_equal (s_enrol (f, &f->ops, "k1", "m2"), 409);
    assert_non_null (strstr (f->msg, "good standing (watch)"));
    //  A merchant enrols itself only.
    Tashan__Caller m2 = s_merchant_caller ("m2");
    assert_int_equal (s_enrol (f, &m2, "k1", "m1"), 403);
    assert_int_equal (s_enrol (f, &f->ops, "k9", "m1"), 404);
    assert_int_equal (s_enrol (f, &f->ops, "k1", "m9"), 422);
    assert_int_equal (s_enrol (f, &f->ops, "k1", ""), 400);
    assert_int_equal (s_stats (f, "k1")->merchants, 1);
}

static void
test_market_create_validates (void **state)
{
    fixture *f = *state;
    Tashan__Merchants__CreateMarketRequest req = TASHAN__MERCHANTS__CREATE_MARKET_REQUEST__INIT;
    Tashan__Merchants__Market *k;
    req.place = "square";
    req.title = "market";
    const char *bad [] = { "", "2026-02-30", "2025-02-29", "2026-13-01", "2026-1-01",
                           "26-01-01", "2026-01-01x", "1999-12-31" };
    for (size_t i = 0; i < sizeof bad / sizeof bad [0]; i++) {
        req.date = (char *) bad [i];
        assert_int_equal (s_call (f, "merchants.CreateMarket", &f->ops, &req, &k), 400);
        assert_non_null (strstr (f->msg, "date"));
    }
    req.date = "2028-02-29";
    req.title = "";
    assert_int_equal (s_call (f, "merchants.CreateMarket", &f->ops, &req, &k), 400);
    req.title = "market";
    assert_int_equal (s_call (f, "merchants.CreateMarket", &f->ops, &req, &k), 201);
    assert_string_equal (k->id, "k1");
    Tashan__Caller m = s_merchant_caller ("m1");
    assert_int_equal (s_call (f, "merchants.CreateMarket", &m, &req, &k), 403);
}

static void
test_checkin_refusals (void **state)
{
    fixture *f = *state;
    s_merchant (f, "A", "");
    s_merchant (f, "B", "");
    s_market (f, "2026-06-06");
    s_person (f, "p1", false);
    s_person (f, "p2", true);
    Tashan__Merchants__CheckinReply *r;
    assert_int_equal (s_checkin (f, "c1", "m1", "p404", "haircut", NULL, &r), 422);
    assert_non_null (strstr (f->msg, "no person p404"));
    assert_int_equal (s_checkin (f, "c1", "m1", "p2", "haircut", NULL, &r), 422);
    assert_non_null (strstr (f->msg, "moved out"));
    assert_int_equal (s_checkin (f, "c1", "m9", "p1", "haircut", NULL, &r), 422);
    assert_int_equal (s_checkin (f, "c1", "m1", "p1", "haircut", "k9", &r), 422);
    assert_int_equal (s_checkin (f, "c1", "m1", "p1", "haircut", "k1", &r), 409);
    assert_non_null (strstr (f->msg, "not enrolled"));
    assert_int_equal (s_checkin (f, "c1", "m1", "p1", "", NULL, &r), 400);
    assert_int_equal (s_checkin (f, "", "m1", "p1", "haircut", NULL, &r), 400);
    //  A merchant token posting for another merchant.
    Tashan__Merchants__CheckinRequest req = TASHAN__MERCHANTS__CHECKIN_REQUEST__INIT;
    req.checkin_id = "c1";
    req.merchant_id = "m2";
    req.resident_code = s_code (f, "p1");
    req.service = "haircut";
    Tashan__Caller m1 = s_merchant_caller ("m1");
    assert_int_equal (s_call (f, "merchants.Checkin", &m1, &req, &r), 403);
    //  A suspended merchant.
    Tashan__Merchants__UpdateMerchantRequest u = TASHAN__MERCHANTS__UPDATE_MERCHANT_REQUEST__INIT;
    u.id = "m2";
    u.suspended_set_case = TASHAN__MERCHANTS__UPDATE_MERCHANT_REQUEST__SUSPENDED_SET_SUSPENDED;
    u.suspended = true;
    Tashan__Merchants__Merchant *m;
    assert_int_equal (s_call (f, "merchants.Update", &f->ops, &u, &m), 200);
    assert_int_equal (s_checkin (f, "c1", "m2", "p1", "haircut", NULL, &r), 409);
    //  None of this was recorded: c1 is still free to use.
    assert_int_equal (s_checkin (f, "c1", "m1", "p1", "haircut", NULL, &r), 201);
}

static void
test_checkin_idempotent_and_credit_once (void **state)
{
    fixture *f = *state;
    Tashan__Merchants__Merchant *m = s_merchant (f, "A", "");
    s_market (f, "2026-06-06");
    s_person (f, "p1", false);
    s_person (f, "p2", false);
    assert_int_equal (s_enrol (f, &f->ops, "k1", "m1"), 201);
    Tashan__Merchants__CheckinReply *r;
    assert_int_equal (s_checkin (f, "c1", "m1", "p1", "free haircut", "k1", &r), 201);
    assert_int_equal (r->discount_percent, 5);
    //  The same check-in again: 200, same body, no second effect.
    assert_int_equal (s_checkin (f, "c1", "m1", "p1", "free haircut", "k1", &r), 200);
    assert_int_equal (r->discount_percent, 5);
    assert_string_equal (r->tier, "A");
    //  The same id for another request: 409.
    assert_int_equal (s_checkin (f, "c1", "m1", "p2", "free haircut", "k1", &r), 409);
    Tashan__Event **ev;
    assert_int_equal (s_events (f, "credit.requested", &ev), 1);
    Tashan__Events__CreditRequest *cr = tashan__events__credit_request__unpack (
        ts_arena_pb (f->arena), ev [0]->payload.len, ev [0]->payload.data);
    assert_string_equal (cr->subject_id, "m1");
    assert_string_equal (cr->rule, "market.service");
    assert_string_equal (cr->idempotency_key, "checkin:m1:c1");
    assert_int_equal (cr->quantity, 1);
    //  A paid service at the market, and a free one in the shop: no credit.
    assert_int_equal (s_checkin (f, "c2", "m1", "p2", "haircut", "k1", &r), 201);
    assert_int_equal (s_checkin (f, "c3", "m1", "p2", "knife sharpening", NULL, &r), 201);
    assert_int_equal (s_checkin (f, "c4", "m1", "p2", "knife sharpening", "k1", &r), 201);
    assert_int_equal (s_events (f, "credit.requested", NULL), 2);
    //  A service the registry does not list is recorded as a paid one.
    assert_int_equal (s_checkin (f, "c5", "m1", "p2", "massage", "k1", &r), 201);
    assert_int_equal (s_events (f, "credit.requested", NULL), 2);

    Tashan__Merchants__MarketStats *st = s_stats (f, "k1");
    assert_int_equal (st->checkins, 4);
    assert_int_equal (st->residents_served, 2);
    assert_int_equal (st->merchants, 1);
    assert_int_equal (st->merchants_active, 1);
    assert_int_equal (st->free_services_given, 2);
    assert_int_equal (st->n_services, 4);
    //  By kind, in name order.
    assert_string_equal (st->services [0]->service, "free haircut");
    assert_true (st->services [0]->free);
    assert_int_equal (st->services [0]->count, 1);
    assert_string_equal (st->services [1]->service, "haircut");
    assert_false (st->services [1]->free);
    assert_string_equal (st->services [2]->service, "knife sharpening");
    assert_true (st->services [2]->free);
    assert_string_equal (st->services [3]->service, "massage");
    assert_false (st->services [3]->free);

    //  The disclosure counts services given and markets attended.
    Tashan__Merchants__CodeRequest creq = TASHAN__MERCHANTS__CODE_REQUEST__INIT;
    creq.code = m->code;
    Tashan__Merchants__Disclosure *d;
    assert_int_equal (s_call (f, "merchants.Disclose", &f->public_, &creq, &d), 200);
    assert_int_equal (d->services_given, 5);
    assert_int_equal (d->markets_attended, 1);
}

static void
test_market_totals_by_range (void **state)
{
    fixture *f = *state;
    s_merchant (f, "A", "");
    s_person (f, "p1", false);
    s_person (f, "p2", false);
    s_market (f, "2026-05-01");
    s_market (f, "2026-06-01");
    s_market (f, "2026-07-01");
    for (int i = 1; i <= 3; i++) {
        char k [8];
        snprintf (k, sizeof k, "k%d", i);
        assert_int_equal (s_enrol (f, &f->ops, k, "m1"), 201);
    }
    assert_int_equal (s_checkin (f, "a", "m1", "p1", "haircut", "k1", NULL), 201);
    assert_int_equal (s_checkin (f, "b", "m1", "p1", "haircut", "k2", NULL), 201);
    assert_int_equal (s_checkin (f, "c", "m1", "p2", "haircut", "k2", NULL), 201);
    assert_int_equal (s_checkin (f, "d", "m1", "p2", "repair", "k2", NULL), 201);
    assert_int_equal (s_checkin (f, "e", "m1", "p2", "repair", "k3", NULL), 201);

    Tashan__Merchants__ListMarketsRequest req = TASHAN__MERCHANTS__LIST_MARKETS_REQUEST__INIT;
    Tashan__Merchants__ListMarketsReply *list;
    req.from = "2026-05-15";
    req.to = "2026-07-01";
    assert_int_equal (s_call (f, "merchants.ListMarkets", &f->ops, &req, &list), 200);
    assert_int_equal (list->totals->markets, 2);
    assert_int_equal (list->totals->checkins, 4);
    assert_int_equal (list->totals->resident_visits, 3);
    assert_int_equal (list->totals->merchant_attendances, 2);
    assert_int_equal (list->n_markets, 2);
    assert_string_equal (list->markets [0]->market_id, "k2");
    assert_int_equal (list->markets [0]->residents_served, 2);
    //  Pages of one keep the totals of the whole range.
    req.from = "";
    req.to = "";
    req.page_size = 1;
    char seen [16] = "";
    for (int page = 0; page < 4; page++) {
        assert_int_equal (s_call (f, "merchants.ListMarkets", &f->ops, &req, &list), 200);
        assert_int_equal (list->totals->markets, 3);
        assert_int_equal (list->totals->checkins, 5);
        for (size_t i = 0; i < list->n_markets; i++)
            strcat (seen, list->markets [i]->market_id);
        if (!list->next_page_token [0])
            break;
        req.page_token = list->next_page_token;
    }
    assert_string_equal (seen, "k1k2k3");
    req.page_token = "";
    req.from = "2026-08-01";
    req.to = "2026-07-01";
    assert_int_equal (s_call (f, "merchants.ListMarkets", &f->ops, &req, &list), 400);
    req.from = "2026-8-01";
    assert_int_equal (s_call (f, "merchants.ListMarkets", &f->ops, &req, &list), 400);
    req.from = "";
    req.to = "";
    req.page_token = "00";
    assert_int_equal (s_call (f, "merchants.ListMarkets", &f->ops, &req, &list), 400);
}

//  --------------------------------------------------------------------
//  Events from other daemons

static void
test_bad_events_are_skipped (void **state)
{
    fixture *f = *state;
    //  A person event with no id is skipped and changes nothing; the
    //  stream goes on.
    Tashan__Events__Person p = TASHAN__EVENTS__PERSON__INIT;
    s_event (f, "residents", &f->residents_seq, "person.created", &p.base);
    assert_int_equal (ts_dispatch_position (f->d, "residents"), 1);
    s_person (f, "p1", false);
    s_merchant (f, "A", "");
    assert_int_equal (s_checkin (f, "c1", "m1", "p1", "haircut", NULL, NULL), 201);
    //  person.updated after archived brings the person back.
    s_person (f, "p1", true);
    assert_int_equal (s_checkin (f, "c2", "m1", "p1", "haircut", NULL, NULL), 422);
    Tashan__Events__Person back = TASHAN__EVENTS__PERSON__INIT;
    back.person_id = "p1";
    assert_int_equal (s_event (f, "residents", &f->residents_seq, "person.updated", &back.base),
                      200);
    assert_int_equal (s_checkin (f, "c2", "m1", "p1", "haircut", NULL, NULL), 201);
}

//  --------------------------------------------------------------------
//  Notices

static void
test_notices_since (void **state)
{
    fixture *f = *state;
    Tashan__Merchants__Merchant *m1 = s_merchant (f, "A", "");
    s_merchant (f, "B", "");
    Tashan__Merchants__UpdateMerchantRequest u = TASHAN__MERCHANTS__UPDATE_MERCHANT_REQUEST__INIT;
    u.id = "m2";
    u.co_building_set_case = TASHAN__MERCHANTS__UPDATE_MERCHANT_REQUEST__CO_BUILDING_SET_CO_BUILDING;
    u.co_building = true;
    Tashan__Merchants__Merchant *m;
    assert_int_equal (s_call (f, "merchants.Update", &f->ops, &u, &m), 200);
    assert_false (m1->co_building);

    Tashan__Merchants__PostNoticeRequest p = TASHAN__MERCHANTS__POST_NOTICE_REQUEST__INIT;
    Tashan__Merchants__Notice *n;
    p.title = "Market on Saturday";
    p.body = "Enrol by Thursday.";
    assert_int_equal (s_call (f, "merchants.PostNotice", &f->ops, &p, &n), 201);
    assert_int_equal (n->seq, 1);
    assert_string_equal (n->audience, "all");
    p.title = "Co-building meeting";
    p.audience = "co_building";
    assert_int_equal (s_call (f, "merchants.PostNotice", &f->ops, &p, &n), 201);
    p.title = "Fire safety";
    p.audience = "";
    assert_int_equal (s_call (f, "merchants.PostNotice", &f->ops, &p, &n), 201);
    p.audience = "everyone";
    assert_int_equal (s_call (f, "merchants.PostNotice", &f->ops, &p, &n), 400);
    p.audience = "";
    p.body = "";
    assert_int_equal (s_call (f, "merchants.PostNotice", &f->ops, &p, &n), 400);
    Tashan__Caller c1 = s_merchant_caller ("m1"), c2 = s_merchant_caller ("m2");
    p.body = "x";
    assert_int_equal (s_call (f, "merchants.PostNotice", &c1, &p, &n), 403);

    Tashan__Merchants__ListNoticesRequest l = TASHAN__MERCHANTS__LIST_NOTICES_REQUEST__INIT;
    Tashan__Merchants__ListNoticesReply *list;
    assert_int_equal (s_call (f, "merchants.ListNotices", &c1, &l, &list), 200);
    assert_int_equal (list->n_notices, 2);                  //  not the co-building one
    assert_int_equal (list->last_seq, 3);
    assert_string_equal (list->next_page_token, "");
    assert_int_equal (s_call (f, "merchants.ListNotices", &c2, &l, &list), 200);
    assert_int_equal (list->n_notices, 3);
    //  Since the last read: nothing new, then the new one only.
    l.since = 3;
    assert_int_equal (s_call (f, "merchants.ListNotices", &c1, &l, &list), 200);
    assert_int_equal (list->n_notices, 0);
    assert_int_equal (list->last_seq, 3);
    p.title = "New";
    assert_int_equal (s_call (f, "merchants.PostNotice", &f->ops, &p, &n), 201);
    assert_int_equal (s_call (f, "merchants.ListNotices", &c1, &l, &list), 200);
    assert_int_equal (list->n_notices, 1);
    assert_string_equal (list->notices [0]->title, "New");
    assert_int_equal (list->last_seq, 4);
    //  Pages of one.
    l.since = 0;
    l.page_size = 1;
    assert_int_equal (s_call (f, "merchants.ListNotices", &c2, &l, &list), 200);
    assert_int_equal (list->n_notices, 1);
    assert_int_equal (list->notices [0]->seq, 1);
    assert_string_not_equal (list->next_page_token, "");
    l.page_token = list->next_page_token;
    assert_int_equal (s_call (f, "merchants.ListNotices", &c2, &l, &list), 200);
    assert_int_equal (list->notices [0]->seq, 2);
    l.page_token = "xyz";
    assert_int_equal (s_call (f, "merchants.ListNotices", &c2, &l, &list), 400);
    //  A merchant token whose merchant does not exist.
    Tashan__Caller ghost = s_merchant_caller ("m99");
    l.page_token = "";
    assert_int_equal (s_call (f, "merchants.ListNotices", &ghost, &l, &list), 403);
}


//  --------------------------------------------------------------------
//  The resident's card code at a check-in

//  A check-in by m1 with the given code text and served_at ("" = now).
static unsigned
s_checkin_code (fixture *f, const char *checkin_id, const char *code, const char *served_at,
                Tashan__Merchants__CheckinReply **out)
{
    Tashan__Merchants__CheckinRequest req = TASHAN__MERCHANTS__CHECKIN_REQUEST__INIT;
    req.checkin_id = (char *) checkin_id;
    req.merchant_id = "m1";
    req.resident_code = (char *) code;
    req.service = "haircut";
    req.served_at = (char *) served_at;
    Tashan__Caller caller = s_merchant_caller ("m1");
    Tashan__Merchants__CheckinReply *rep = NULL;
    unsigned code_ = s_call (f, "merchants.Checkin", &caller, &req, &rep);
    if (out)
        *out = rep;
    return code_;
}

static void
test_cardcode_checkin (void **state)
{
    fixture *f = *state;
    s_merchant (f, "A", "");
    s_person (f, "p1", false);
    s_standing (f, "p1", 1060, "AAA");
    Tashan__Merchants__CheckinReply *r;
    //  The tier comes from the code, whatever the daemon heard before.
    char *code = s_code (f, "p1");
    assert_int_equal (s_checkin_code (f, "c1", code, "", &r), 201);
    assert_string_equal (r->tier, "AAA");
    //  Forged, altered, truncated, another version, an unknown key.
    char *altered = ts_arena_strdup (f->arena, code);
    size_t len = strlen (altered);
    altered [len - 5] = altered [len - 5] == 'A' ? 'B' : 'A';
    char *truncated = ts_arena_strdup (f->arena, code);
    truncated [len - 3] = 0;
    char *version = ts_arena_strdup (f->arena, code);
    version [2] = '2';
    const char *bad [] = { "TC1.AAAA", "hello", altered, truncated, version,
                           s_code_at (f, "p1", NOW_MS - 1000, 1, 7) };
    for (size_t i = 0; i < sizeof bad / sizeof bad [0]; i++) {
        char id [32];
        snprintf (id, sizeof id, "bad%zu", i);
        assert_int_equal (s_checkin_code (f, id, bad [i], "", &r), 422);
    }
    //  Every byte of the payload is covered by the signature: flip each.
    const char *b64 = code + 4;
    for (size_t i = 0; i + 4 < strlen (b64); i += 7) {
        char *t = ts_arena_strdup (f->arena, code);
        t [4 + i] = t [4 + i] == 'x' ? 'y' : 'x';
        char id [32];
        snprintf (id, sizeof id, "flip%zu", i);
        unsigned rc = s_checkin_code (f, id, t, "", &r);
        //  The rate limit may answer first once enough were refused.
        assert_true (rc == 422 || rc == 429);
    }
}

static void
test_cardcode_time_and_revocation (void **state)
{
    fixture *f = *state;
    s_merchant (f, "A", "");
    s_person (f, "p1", false);
    Tashan__Merchants__CheckinReply *r;
    //  A one-hour code, issued an hour and a half ago: expired now...
    char *code = s_code_at (f, "p1", NOW_MS - 90 * 60000LL, 1, 1);
    assert_int_equal (s_checkin_code (f, "c1", code, "", &r), 422);
    assert_non_null (strstr (f->msg, "expired"));
    //  ...but an app that served offline while it was valid syncs later.
    char served [64];
    ts_time_format (NOW_MS - 80 * 60000LL, served, sizeof served);
    assert_int_equal (s_checkin_code (f, "c2", code, served, &r), 201);
    assert_int_equal (s_checkin_code (f, "c2", code, served, &r), 200);
    //  Served before it was issued, or in the future: refused.
    ts_time_format (NOW_MS - 100 * 60000LL, served, sizeof served);
    assert_int_equal (s_checkin_code (f, "c3", code, served, &r), 422);
    assert_non_null (strstr (f->msg, "issued later"));
    ts_time_format (NOW_MS + 3600000LL, served, sizeof served);
    assert_int_equal (s_checkin_code (f, "c3", s_code (f, "p1"), served, &r), 400);
    assert_int_equal (s_checkin_code (f, "c3", s_code (f, "p1"), "yesterday", &r), 400);
    //  A printed card revoked ten minutes ago: fine for a service before,
    //  refused after.
    char *card = s_code_at (f, "p1", NOW_MS - 86400000LL, 9000, 1);
    Tashan__Events__CardCodeRevoked rev = TASHAN__EVENTS__CARD_CODE_REVOKED__INIT;
    rev.serial = f->serial;
    rev.person_id = "p1";
    rev.revoked_ms = NOW_MS - 10 * 60000LL;
    assert_int_equal (s_event (f, "ledger", &f->ledger_seq, "card_code.revoked", &rev.base), 200);
    ts_time_format (NOW_MS - 20 * 60000LL, served, sizeof served);
    assert_int_equal (s_checkin_code (f, "c4", card, served, &r), 201);
    assert_int_equal (s_checkin_code (f, "c5", card, "", &r), 422);
    assert_non_null (strstr (f->msg, "revoked"));
    //  Key rotation: a code signed with a newly published key verifies,
    //  and so do codes of the older key.
    s_publish_key (f, 2);
    assert_int_equal (s_checkin_code (f, "c6", s_code_at (f, "p1", NOW_MS - 1000, 24, 2), "", &r),
                      201);
    assert_int_equal (s_checkin_code (f, "c7", s_code (f, "p1"), "", &r), 201);
}

static void
test_cardcode_no_code_no_tier (void **state)
{
    fixture *f = *state;
    s_merchant (f, "A", "");
    s_person (f, "p1", false);
    s_standing (f, "p1", 1060, "AAA");
    Tashan__Merchants__CheckinRequest req = TASHAN__MERCHANTS__CHECKIN_REQUEST__INIT;
    req.checkin_id = "c1";
    req.merchant_id = "m1";
    req.service = "haircut";
    Tashan__Caller m1 = s_merchant_caller ("m1");
    Tashan__Merchants__CheckinReply *r = NULL;
    //  A merchant cannot name a person: no code, no check-in, no tier.
    assert_int_equal (s_call (f, "merchants.Checkin", &m1, &req, &r), 400);
    req.person_id = "p1";
    assert_int_equal (s_call (f, "merchants.Checkin", &m1, &req, &r), 400);
    req.override_reason = "card at home";
    assert_int_equal (s_call (f, "merchants.Checkin", &m1, &req, &r), 400);
    //  Ops may override, with a reason, and it is recorded as such.
    req.override_reason = "";
    assert_int_equal (s_call (f, "merchants.Checkin", &f->ops, &req, &r), 400);
    req.override_reason = "card at home";
    assert_int_equal (s_call (f, "merchants.Checkin", &f->ops, &req, &r), 201);
    //  Both a code and a person: refused.
    req.checkin_id = "c2";
    req.resident_code = s_code (f, "p1");
    assert_int_equal (s_call (f, "merchants.Checkin", &f->ops, &req, &r), 400);
}

static void
test_cardcode_refusals_rate_limited (void **state)
{
    fixture *f = *state;
    s_merchant (f, "A", "");
    s_merchant (f, "B", "");
    s_person (f, "p1", false);
    Tashan__Merchants__CheckinReply *r;
    //  Use a fresh minute so other tests' refusals do not count.
    int64_t now = (NOW_MS / 60000 + 1000) * 60000;
    ts_dispatch_set_now (f->d, now);
    for (int i = 0; i < MERCHANTS_REFUSED_CODES_PER_MINUTE; i++)
        assert_int_equal (s_checkin_code (f, "x", "TC1.AAAA", "", &r), 422);
    assert_int_equal (s_checkin_code (f, "x", "TC1.AAAA", "", &r), 429);
    //  Even a good code waits for the next minute; other merchants do not.
    char *good = s_code_at (f, "p1", now - 1000, 24, 1);
    assert_int_equal (s_checkin_code (f, "g1", good, "", &r), 429);
    ts_dispatch_set_now (f->d, now + 60000);
    assert_int_equal (s_checkin_code (f, "g1", good, "", &r), 201);
}


//  --------------------------------------------------------------------
//  Card offers: the merchants side of the redemption saga

static Tashan__Merchants__Offer *
s_offer (fixture *f, int64_t points, uint32_t stock)
{
    Tashan__Merchants__CreateOfferRequest req = TASHAN__MERCHANTS__CREATE_OFFER_REQUEST__INIT;
    req.merchant_id = "m1";
    req.title = "notebook";
    req.kind = "item";
    req.points = points;
    req.stock = stock;
    Tashan__Merchants__Offer *o = NULL;
    assert_int_equal (s_call (f, "merchants.CreateOffer", &f->ops, &req, &o), 201);
    return o;
}

static unsigned
s_redeem (fixture *f, const char *offer, const char *person, const char *key,
          Tashan__Merchants__RedeemOfferReply **out)
{
    Tashan__Merchants__RedeemOfferRequest req = TASHAN__MERCHANTS__REDEEM_OFFER_REQUEST__INIT;
    req.id = (char *) offer;
    req.person_id = (char *) person;
    req.idempotency_key = (char *) key;
    Tashan__Merchants__RedeemOfferReply *rep = NULL;
    unsigned code = s_call (f, "merchants.RedeemOffer", &f->ops, &req, &rep);
    if (out)
        *out = rep;
    return code;
}

static Tashan__Merchants__Offer *
s_offer_get (fixture *f, const char *id)
{
    Tashan__Merchants__GetOfferRequest req = TASHAN__MERCHANTS__GET_OFFER_REQUEST__INIT;
    req.id = (char *) id;
    Tashan__Merchants__Offer *o = NULL;
    assert_int_equal (s_call (f, "merchants.GetOffer", &f->ops, &req, &o), 200);
    return o;
}

//  The ledger's answer to redemption id.
static void
s_settled (fixture *f, const char *id, bool ok, const char *reason)
{
    Tashan__Events__RedemptionSettled ev = TASHAN__EVENTS__REDEMPTION_SETTLED__INIT;
    ev.redemption_id = (char *) id;
    ev.ok = ok;
    ev.reason = (char *) reason;
    ev.card_after = ok ? 7 : 0;
    ev.entry_id = ok ? "e9" : "";
    assert_int_equal (s_event (f, "ledger", &f->ledger_seq, "redemption.settled", &ev.base), 200);
}

static void
test_offer_saga_states (void **state)
{
    fixture *f = *state;
    s_merchant (f, "Shop", "");
    s_person (f, "p1", false);
    s_offer (f, 3, 2);
    Tashan__Merchants__RedeemOfferReply *r;
    //  Pending: one unit reserved, the ledger asked once.
    assert_int_equal (s_redeem (f, "f1", "p1", "k1", &r), 202);
    Tashan__Merchants__Offer *o = s_offer_get (f, "f1");
    assert_int_equal (o->reserved, 1);
    assert_int_equal (o->stock_left, 1);
    Tashan__Event **ev;
    assert_int_equal (s_events (f, "redemption.requested", &ev), 1);
    //  Asked again before the answer: still pending, nothing new.
    assert_int_equal (s_redeem (f, "f1", "p1", "k1", &r), 202);
    assert_int_equal (s_events (f, "redemption.requested", NULL), 1);
    assert_int_equal (s_offer_get (f, "f1")->reserved, 1);
    //  The same key for another person: refused.
    s_person (f, "p2", false);
    assert_int_equal (s_redeem (f, "f1", "p2", "k1", &r), 409);
    //  The ledger debited: taken, and the answer is final (201, then the
    //  runtime's stored 200 for repeats).
    s_settled (f, "i1", true, "");
    o = s_offer_get (f, "f1");
    assert_int_equal (o->reserved, 0);
    assert_int_equal (o->taken, 1);
    assert_int_equal (o->stock_left, 1);
    assert_int_equal (s_redeem (f, "f1", "p1", "k1", &r), 201);
    assert_string_equal (r->id, "i1");
    assert_int_equal (r->card_after, 7);
    assert_int_equal (s_redeem (f, "f1", "p1", "k1", &r), 200);
    //  A replayed answer changes nothing.
    s_settled (f, "i1", false, "late");
    assert_int_equal (s_offer_get (f, "f1")->taken, 1);
    //  Refused: the unit is released, the caller gets 409 with the reason.
    assert_int_equal (s_redeem (f, "f1", "p1", "k2", &r), 202);
    s_settled (f, "i2", false, "card balance 1 is less than 3 points");
    o = s_offer_get (f, "f1");
    assert_int_equal (o->reserved, 0);
    assert_int_equal (o->stock_left, 1);
    assert_int_equal (s_redeem (f, "f1", "p1", "k2", &r), 409);
    assert_non_null (strstr (f->msg, "card balance"));
    //  Out of stock: 409 at once, nothing asked of the ledger.
    assert_int_equal (s_redeem (f, "f1", "p1", "k3", &r), 202);
    assert_int_equal (s_redeem (f, "f1", "p2", "k4", &r), 409);
    assert_non_null (strstr (f->msg, "out of stock"));
    assert_int_equal (s_events (f, "redemption.requested", NULL), 3);
    //  Unknown and moved-out persons never reach the ledger.
    s_person (f, "p3", true);
    assert_int_equal (s_redeem (f, "f1", "p3", "k5", &r), 422);
    assert_int_equal (s_redeem (f, "f1", "p404", "k5", &r), 422);
}

static void
test_offer_invariant_random_walk (void **state)
{
    fixture *f = *state;
    s_merchant (f, "Shop", "");
    s_person (f, "p1", false);
    s_offer (f, 1, 20);
    //  Requests and answers in a random order: at every step
    //  stock = taken + reserved + stock_left, and no unit is lost.
    uint32_t seed = 12345, pending [64], n_pending = 0, taken = 0;
    Tashan__Merchants__RedeemOfferReply *r;
    for (int step = 0; step < 200; step++) {
        seed = seed * 1103515245 + 12345;
        char key [32], id [32];
        if ((seed >> 16) % 2 && n_pending < 64) {
            snprintf (key, sizeof key, "w%d", step);
            unsigned rc = s_redeem (f, "f1", "p1", key, &r);
            assert_true (rc == 202 || rc == 409);
            if (rc == 202) {
                Tashan__Event **ev;
                size_t n = s_events (f, "redemption.requested", &ev);
                Tashan__Events__RedemptionRequest *rq =
                    tashan__events__redemption_request__unpack (
                        NULL, ev [n - 1]->payload.len, ev [n - 1]->payload.data);
                uint64_t no = 0;
                assert_true (ts_id_parse (rq->redemption_id, 'i', &no));
                tashan__events__redemption_request__free_unpacked (rq, NULL);
                pending [n_pending++] = (uint32_t) no;
            }
        }
        else
        if (n_pending > 0) {
            uint32_t pick = (seed >> 8) % n_pending;
            bool ok = (seed >> 4) % 3 != 0;
            snprintf (id, sizeof id, "i%u", pending [pick]);
            s_settled (f, id, ok, ok ? "" : "card short");
            taken += ok;
            pending [pick] = pending [--n_pending];
        }
        Tashan__Merchants__Offer *o = s_offer_get (f, "f1");
        assert_int_equal (o->stock, 20);
        assert_int_equal (o->taken, taken);
        assert_int_equal (o->reserved, n_pending);
        assert_int_equal (o->stock_left + o->taken + o->reserved, o->stock);
        ts_arena_reset (f->arena);
    }
}

//  --------------------------------------------------------------------
//  A check-in's record is its idempotency record (merchants_checkin_keys.c)

static void
s_reopen (fixture *f)
{
    ts_dispatch_destroy (&f->d);
    char err [256] = "";
    f->d = ts_dispatch_new (&merchants_service, f->dir, err, sizeof err);
    if (!f->d)
        fail_msg ("dispatch: %s", err);
    ts_dispatch_set_now (f->d, NOW_MS);
}

static size_t
s_entries (fixture *f, const char *table)
{
    return test_table_entries (f->d, table);
}

static uint32_t
s_services_given (fixture *f, const Tashan__Merchants__Merchant *m)
{
    Tashan__Merchants__CodeRequest creq = TASHAN__MERCHANTS__CODE_REQUEST__INIT;
    creq.code = m->code;
    Tashan__Merchants__Disclosure *d;
    assert_int_equal (s_call (f, "merchants.Disclose", &f->public_, &creq, &d), 200);
    return d->services_given;
}

//  Past the index's bound keys go to checkin_keys; either way, and after
//  a restart (the index is rebuilt from the records), a repeat answers
//  200 with the first reply and another request 409, with no second effect.
static void
test_checkin_keys_bound_and_reopen (void **state)
{
    fixture *f = *state;
    enum { COUNT = 900 };           //  1024 slots hold 768 keys
    merchants_checkin_keys_set_max (1024);
    s_reopen (f);
    Tashan__Merchants__Merchant *m = s_merchant (f, "A", "");
    s_person (f, "p1", false);
    s_person (f, "p2", false);
    Tashan__Merchants__CheckinReply *r;
    char id [32];
    for (int i = 1; i <= COUNT; i++) {
        snprintf (id, sizeof id, "c%d", i);
        assert_int_equal (s_checkin (f, id, "m1", "p1", "haircut", NULL, &r), 201);
    }
    assert_int_equal (s_entries (f, "checkin_keys"), COUNT - 768);
    assert_int_equal (s_entries (f, "idem"), 0);
    for (int round = 0; round < 2; round++) {
        const char *ids [] = { "c1", "c768", "c769", "c900" };
        for (size_t i = 0; i < 4; i++) {
            assert_int_equal (s_checkin (f, ids [i], "m1", "p1", "haircut", NULL, &r), 200);
            assert_int_equal (r->discount_percent, 5);
            assert_string_equal (r->tier, "A");
            assert_int_equal (s_checkin (f, ids [i], "m1", "p2", "haircut", NULL, &r), 409);
        }
        assert_int_equal (s_checkin (f, "c901", "m1", "p2", "haircut", NULL, &r), round ? 200 : 201);
        assert_int_equal (s_services_given (f, m), COUNT + 1);
        s_reopen (f);
    }
    assert_int_equal (s_entries (f, "checkin_keys"), COUNT + 1 - 768);
    merchants_checkin_keys_set_max ((size_t) 1 << 20);
}

//  Two check-in ids whose hashes share their first 28 bits (the index's
//  tag) name each other's record as a candidate: each is its own
//  check-in, before and after a restart.
static uint32_t
s_checkin_tag (const char *checkin_id)
{
    uint8_t hash [MERCHANTS_CHECKIN_HASH_BYTES];
    merchants_checkin_keys_hash (hash, "m1", checkin_id);
    return ts_tag_of (hash);
}

static void
test_checkin_keys_twins (void **state)
{
    fixture *f = *state;
    char a [64], b [64];
    assert_true (test_find_twins ("twin-", s_checkin_tag, 400000, a, b, sizeof a));
    Tashan__Merchants__Merchant *m = s_merchant (f, "A", "");
    s_person (f, "p1", false);
    s_person (f, "p2", false);
    Tashan__Merchants__CheckinReply *r;
    assert_int_equal (s_checkin (f, a, "m1", "p1", "haircut", NULL, &r), 201);
    assert_int_equal (s_checkin (f, b, "m1", "p2", "haircut", NULL, &r), 201);
    for (int round = 0; round < 2; round++) {
        assert_int_equal (s_checkin (f, a, "m1", "p1", "haircut", NULL, &r), 200);
        assert_int_equal (s_checkin (f, b, "m1", "p2", "haircut", NULL, &r), 200);
        assert_int_equal (s_checkin (f, a, "m1", "p2", "haircut", NULL, &r), 409);
        assert_int_equal (s_checkin (f, b, "m1", "p1", "haircut", NULL, &r), 409);
        s_reopen (f);
    }
    assert_int_equal (s_services_given (f, m), 2);
}

//  The same checkin_id from another caller (ops, for the merchant) is
//  another request: 409, as when the runtime scoped its records by caller.
static void
test_checkin_repeat_by_another_caller (void **state)
{
    fixture *f = *state;
    s_merchant (f, "A", "");
    s_person (f, "p1", false);
    Tashan__Merchants__CheckinRequest req = TASHAN__MERCHANTS__CHECKIN_REQUEST__INIT;
    req.checkin_id = "c1";
    req.merchant_id = "m1";
    req.resident_code = s_code (f, "p1");
    req.service = "haircut";
    Tashan__Caller merchant = s_merchant_caller ("m1");
    Tashan__Merchants__CheckinReply *r;
    assert_int_equal (s_call (f, "merchants.Checkin", &merchant, &req, &r), 201);
    assert_int_equal (s_call (f, "merchants.Checkin", &f->ops, &req, &r), 409);
    assert_int_equal (s_call (f, "merchants.Checkin", &merchant, &req, &r), 200);
}

//  A store of schema 1: check-in records without request_hash (their
//  idempotency was the runtime's). Opened by schema 2, a repeat is
//  compared by the fields the record holds.
static void
test_checkin_migration_from_schema_1 (void **state)
{
    fixture *f = *state;
    s_merchant (f, "A", "");
    s_person (f, "p1", false);
    s_person (f, "p2", false);
    Tashan__Merchants__CheckinReply *r;
    assert_int_equal (s_checkin (f, "c1", "m1", "p1", "haircut", NULL, &r), 201);
    //  Make it a record of schema 1.
    ts_store *store = ts_dispatch_store (f->d);
    ts_txn *txn = ts_txn_begin (store, true);
    ts_table checkins = ts_store_table (store, "checkins");
    ts_key k;
    ts_key_init (&k);
    ts_key_u64 (&k, 1);
    ts_arena *arena = ts_arena_new ();
    Tashan__Merchants__Checkin *c = ts_txn_get_msg (txn, checkins, k.data, k.size,
                                                    &tashan__merchants__checkin__descriptor,
                                                    arena);
    assert_non_null (c);
    assert_int_equal (c->request_hash.len, MERCHANTS_CHECKIN_HASH_BYTES);
    c->request_hash.len = 0;
    ts_txn_put_msg (txn, checkins, k.data, k.size, &c->base);
    MDB_dbi meta;
    assert_int_equal (mdb_dbi_open (ts_txn_mdb (txn), "meta", 0, &meta), 0);
    MDB_val mk = { 14, "schema_version" }, mv = { 4, "\0\0\0\1" };
    assert_int_equal (mdb_put (ts_txn_mdb (txn), meta, &mk, &mv, 0), 0);
    assert_int_equal (ts_txn_commit (&txn), 0);
    ts_arena_destroy (&arena);

    s_reopen (f);
    txn = ts_txn_begin (ts_dispatch_store (f->d), false);
    assert_int_equal (mdb_dbi_open (ts_txn_mdb (txn), "meta", 0, &meta), 0);
    assert_int_equal (mdb_get (ts_txn_mdb (txn), meta, &mk, &mv), 0);
    assert_int_equal (ts_be32_get (mv.mv_data), 2);
    ts_txn_abort (&txn);
    assert_int_equal (s_checkin (f, "c1", "m1", "p1", "haircut", NULL, &r), 200);
    assert_int_equal (r->discount_percent, 5);
    assert_string_equal (r->tier, "A");
    assert_int_equal (s_checkin (f, "c1", "m1", "p1", "repair", NULL, &r), 409);
    assert_int_equal (s_checkin (f, "c2", "m1", "p2", "haircut", NULL, &r), 201);
    assert_int_equal (s_checkin (f, "c2", "m1", "p2", "haircut", NULL, &r), 200);
}

int
main (void)
{
    const struct CMUnitTest tests [] = {
#define T(name) cmocka_unit_test_setup_teardown (name, s_setup, s_teardown)
        T (test_create_returns_id_code_and_event),
        T (test_create_bad_input_changes_nothing),
        T (test_get_masks_contact_and_binds_merchant),
        T (test_list_pages),
        T (test_update_suspend_keeps_history),
        T (test_disclosure_by_code),
        T (test_code_svg),
        T (test_swapped_key_refused),
        T (test_standing_from_complaints),
        T (test_standing_from_ledger_index),
        T (test_rules_are_data),
        T (test_discount_by_tier),
        T (test_enrol_needs_good_standing),
        T (test_market_create_validates),
        T (test_checkin_refusals),
        T (test_cardcode_checkin),
        T (test_offer_saga_states),
        T (test_offer_invariant_random_walk),
        T (test_cardcode_time_and_revocation),
        T (test_cardcode_no_code_no_tier),
        T (test_cardcode_refusals_rate_limited),
        T (test_checkin_idempotent_and_credit_once),
        T (test_checkin_keys_twins),
        T (test_checkin_keys_bound_and_reopen),
        T (test_checkin_repeat_by_another_caller),
        T (test_checkin_migration_from_schema_1),
        T (test_market_totals_by_range),
        T (test_bad_events_are_skipped),
        T (test_notices_since),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
