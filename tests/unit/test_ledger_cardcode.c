/*  test_ledger_cardcode - the ledger issues, lists, revokes and signs
    residents' card codes, and publishes and rotates the keys. */
#include "test_ledger_fixture.h"

#include <sodium.h>

#include "ts_cardcode.h"
#include "ts_valid.h"

static unsigned
s_issue (fx_t *f, const char *person, uint32_t hours, bool printed, bool replace,
         Tashan__Ledger__CardCode **out)
{
    Tashan__Ledger__IssueCardCodeRequest r = TASHAN__LEDGER__ISSUE_CARD_CODE_REQUEST__INIT;
    r.id = (char *) person;
    r.valid_hours = hours;
    r.printed = printed;
    r.replace = replace;
    return fx_call (f, "ledger.IssueCardCode", "ops", "", &r.base, out);
}

static Tashan__Ledger__ResidentKeys *
s_keys (fx_t *f)
{
    Tashan__Ledger__ResidentKeysRequest r = TASHAN__LEDGER__RESIDENT_KEYS_REQUEST__INIT;
    Tashan__Ledger__ResidentKeys *keys = NULL;
    assert_int_equal (fx_call (f, "ledger.ResidentKeys", "public", "", &r.base, &keys), 200);
    return keys;
}

//  Verify text with the published key it names, as a merchant app would.
static bool
s_verifies (fx_t *f, const char *text, ts_cardcode *code)
{
    if (ts_cardcode_decode (text, code) != 0)
        return false;
    Tashan__Ledger__ResidentKeys *keys = s_keys (f);
    for (size_t i = 0; i < keys->n_keys; i++)
        if (keys->keys [i]->key_id == code->key_id) {
            uint8_t pk [64];
            size_t size = 0;
            assert_int_equal (sodium_base642bin (pk, sizeof pk, keys->keys [i]->public_key,
                                                 strlen (keys->keys [i]->public_key), NULL,
                                                 &size, NULL, sodium_base64_VARIANT_ORIGINAL), 0);
            assert_int_equal (size, 32);
            return ts_cardcode_verify (text, pk);
        }
    return false;
}

//  Events of topic in the ledger's outbox.
static size_t
s_events (fx_t *f, const char *topic)
{
    Tashan__Event **ev;
    size_t n = ts_dispatch_events (f->d, 0, 1000, f->arena, &ev), count = 0;
    for (size_t i = 0; i < n; i++)
        count += strcmp (ev [i]->topic, topic) == 0;
    return count;
}

static void
test_issue_and_verify (void **state)
{
    fx_t *f = *state;
    fx_person (f, "p1", "Li Hua", "h1", "12");
    Tashan__Ledger__CardCode *c;
    assert_int_equal (s_issue (f, "p1", 0, false, false, &c), 201);
    assert_string_equal (c->person_id, "p1");
    assert_string_equal (c->tier, fx_credit (f, "p1")->tier);
    ts_cardcode code;
    assert_true (s_verifies (f, c->code, &code));
    assert_true (code.expires_ms - code.issued_ms == 24 * 3600000LL);
    assert_true (code.issued_ms == T_MAR15);
    assert_string_equal (code.person_id, "p1");
    char expires [64];
    ts_time_format (T_MAR15 + 24 * 3600000LL, expires, sizeof expires);
    assert_string_equal (c->expires_at, expires);
    //  No name in it: the payload holds the id and the tier, not "Li Hua".
    uint8_t raw [TS_CARDCODE_MAX_BYTES];
    size_t raw_size = 0;
    assert_int_equal (sodium_base642bin (raw, sizeof raw, c->code + 4, strlen (c->code + 4),
                                         NULL, &raw_size, NULL,
                                         sodium_base64_VARIANT_URLSAFE_NO_PADDING), 0);
    assert_null (memmem (raw, raw_size, "Li Hua", 6));
    assert_non_null (memmem (raw, raw_size, "p1", 2));
    assert_int_equal (s_issue (f, "p1", 9000, true, false, &c), 201);
    assert_true (s_verifies (f, c->code, &code));
    assert_true (code.flags & TS_CARDCODE_PRINTED);
    assert_int_equal (s_events (f, "resident_key.published"), 1);
}

static void
test_issue_refusals (void **state)
{
    fx_t *f = *state;
    fx_person (f, "p1", "Li Hua", "h1", "12");
    fx_person_full (f, "person.created", "p2", "Wang", "h2", "12", "", "", false, false);
    fx_person_full (f, "person.created", "p3", "Zhao", "h3", "12", "", "", true, true);
    Tashan__Ledger__CardCode *c;
    assert_int_equal (s_issue (f, "p1", 9001, false, false, &c), 400);
    assert_int_equal (s_issue (f, "p1", 0, false, true, &c), 400);
    assert_int_equal (s_issue (f, "p9", 0, false, false, &c), 404);
    assert_int_equal (s_issue (f, "x1", 0, false, false, &c), 404);
    assert_int_equal (s_issue (f, "", 0, false, false, &c), 400);
    assert_int_equal (s_issue (f, "p2", 0, false, false, &c), 409);
    assert_non_null (strstr (f->message, "consent"));
    assert_int_equal (s_issue (f, "p3", 0, false, false, &c), 409);
    Tashan__Ledger__IssueCardCodeRequest r = TASHAN__LEDGER__ISSUE_CARD_CODE_REQUEST__INIT;
    r.id = "p1";
    assert_int_equal (fx_call (f, "ledger.IssueCardCode", "panel", "", &r.base, &c), 403);
    assert_int_equal (fx_call (f, "ledger.IssueCardCode", "merchant", "m1", &r.base, &c), 403);
}

static void
test_revoke_and_replace (void **state)
{
    fx_t *f = *state;
    fx_person (f, "p1", "Li Hua", "h1", "12");
    Tashan__Ledger__CardCode *phone, *card1, *card2, *card3, *c;
    assert_int_equal (s_issue (f, "p1", 0, false, false, &phone), 201);
    assert_int_equal (s_issue (f, "p1", 9000, true, false, &card1), 201);
    assert_int_equal (s_issue (f, "p1", 9000, true, false, &card2), 201);
    Tashan__Ledger__RevokeCardCodeRequest rv = TASHAN__LEDGER__REVOKE_CARD_CODE_REQUEST__INIT;
    rv.id = card1->id;
    assert_int_equal (fx_call (f, "ledger.RevokeCardCode", "ops", "", &rv.base, &c), 400);
    rv.reason = "lost card";
    assert_int_equal (fx_call (f, "ledger.RevokeCardCode", "ops", "", &rv.base, &c), 200);
    assert_string_equal (c->revoke_reason, "lost card");
    assert_string_equal (c->revoked_by, "test");
    assert_int_equal (fx_call (f, "ledger.RevokeCardCode", "ops", "", &rv.base, &c), 409);
    rv.id = "g999";
    assert_int_equal (fx_call (f, "ledger.RevokeCardCode", "ops", "", &rv.base, &c), 404);
    assert_int_equal (s_events (f, "card_code.revoked"), 1);
    //  A replacement card revokes the printed ones still valid (card2),
    //  not the phone's code.
    assert_int_equal (s_issue (f, "p1", 9000, true, true, &card3), 201);
    assert_int_equal (s_events (f, "card_code.revoked"), 2);
    Tashan__Ledger__ListCardCodesRequest lr = TASHAN__LEDGER__LIST_CARD_CODES_REQUEST__INIT;
    lr.id = "p1";
    Tashan__Ledger__CardCodeList *list;
    assert_int_equal (fx_call (f, "ledger.ListCardCodes", "ops", "", &lr.base, &list), 200);
    assert_int_equal (list->n_codes, 4);
    assert_string_equal (list->codes [0]->id, phone->id);
    assert_string_equal (list->codes [0]->revoked_at, "");
    assert_string_not_equal (list->codes [1]->revoked_at, "");
    assert_string_not_equal (list->codes [2]->revoked_at, "");
    assert_string_equal (list->codes [2]->revoke_reason, "replaced by a new card");
    assert_string_equal (list->codes [3]->revoked_at, "");
    for (size_t i = 0; i < list->n_codes; i++)
        assert_string_equal (list->codes [i]->code, "");
    //  Pages.
    lr.page_size = 3;
    assert_int_equal (fx_call (f, "ledger.ListCardCodes", "ops", "", &lr.base, &list), 200);
    assert_int_equal (list->n_codes, 3);
    lr.page_token = ts_arena_strdup (f->arena, list->next_page_token);
    assert_int_equal (fx_call (f, "ledger.ListCardCodes", "ops", "", &lr.base, &list), 200);
    assert_int_equal (list->n_codes, 1);
    assert_string_equal (list->next_page_token, "");
    lr.page_token = "zz";
    assert_int_equal (fx_call (f, "ledger.ListCardCodes", "ops", "", &lr.base, &list), 400);
}

static void
test_rotation (void **state)
{
    fx_t *f = *state;
    fx_person (f, "p1", "Li Hua", "h1", "12");
    Tashan__Ledger__CardCode *before, *after;
    assert_int_equal (s_issue (f, "p1", 0, false, false, &before), 201);
    Tashan__Ledger__RotateResidentKeyRequest r = TASHAN__LEDGER__ROTATE_RESIDENT_KEY_REQUEST__INIT;
    Tashan__Ledger__ResidentKey *k;
    assert_int_equal (fx_call (f, "ledger.RotateResidentKey", "panel", "", &r.base, &k), 403);
    assert_int_equal (fx_call (f, "ledger.RotateResidentKey", "ops", "", &r.base, &k), 201);
    assert_int_equal (k->key_id, 2);
    assert_true (k->current);
    assert_int_equal (s_issue (f, "p1", 0, false, false, &after), 201);
    assert_int_equal (after->key_id, 2);
    ts_cardcode code;
    assert_true (s_verifies (f, before->code, &code));
    assert_true (s_verifies (f, after->code, &code));
    Tashan__Ledger__ResidentKeys *keys = s_keys (f);
    assert_int_equal (keys->n_keys, 2);
    assert_false (keys->keys [0]->current);
    assert_true (keys->keys [1]->current);
    assert_string_equal (keys->keys [1]->algorithm, "ed25519");
    //  A restart keeps the keys; no new key is published.
    fx_reopen (f);
    assert_int_equal (s_keys (f)->n_keys, 2);
    assert_int_equal (s_events (f, "resident_key.published"), 2);
}

//  A replaced key file cannot sign for the published keys: a new key
//  takes over at the next start, the old ones stay published.
static void
test_key_file_replaced (void **state)
{
    fx_t *f = *state;
    fx_person (f, "p1", "Li Hua", "h1", "12");
    Tashan__Ledger__CardCode *before, *after;
    assert_int_equal (s_issue (f, "p1", 0, false, false, &before), 201);
    ts_dispatch_destroy (&f->d);
    char path [256];
    snprintf (path, sizeof path, "%s/ledger/card-code.key", f->dir);
    assert_int_equal (unlink (path), 0);
    fx_open (f);
    assert_int_equal (s_keys (f)->n_keys, 2);
    assert_int_equal (s_issue (f, "p1", 0, false, false, &after), 201);
    assert_int_equal (after->key_id, 2);
    ts_cardcode code;
    assert_true (s_verifies (f, before->code, &code));
    assert_true (s_verifies (f, after->code, &code));
}

int
main (void)
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test_setup_teardown (test_issue_and_verify, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown (test_issue_refusals, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown (test_revoke_and_replace, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown (test_rotation, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown (test_key_file_replaced, fx_setup, fx_teardown),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
