/*  test_gw_auth - bearer tokens: the bootstrap ops token file, creation
    with roles and bindings, validation, revocation, header parsing, and
    that only hashes are stored. Each test has its own temp data dir. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "test_fixture.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "gw_auth.h"
#include "ts_status.h"

typedef struct {
    char dir [64];                  //  temp data dir
    char token_path [128];          //  <dir>/gateway/ops.token
    gw_auth *auth;
    ts_arena *arena;
    char ops [160];                 //  the ops token from the file
    char message [256];
} fx_t;

//  Read the token file into out (without its newline).
static void
s_read_token (fx_t *f, char *out, size_t size)
{
    FILE *file = fopen (f->token_path, "r");
    assert_non_null (file);
    assert_non_null (fgets (out, (int) size, file));
    fclose (file);
    size_t len = strlen (out);
    assert_true (len > 1 && out [len - 1] == '\n');
    out [len - 1] = 0;
}

static void
s_open (fx_t *f)
{
    char err [256] = "";
    f->auth = gw_auth_new (f->dir, err, sizeof err);
    if (!f->auth)
        fprintf (stderr, "gw_auth_new: %s\n", err);
    assert_non_null (f->auth);
}

static int
s_setup (void **state)
{
    fx_t *f = calloc (1, sizeof *f);
    assert_int_equal (test_dir_make (f->dir, sizeof f->dir, "gw-auth"), 0);
    snprintf (f->token_path, sizeof f->token_path, "%s/gateway/ops.token", f->dir);
    s_open (f);
    s_read_token (f, f->ops, sizeof f->ops);
    f->arena = ts_arena_new ();
    *state = f;
    return 0;
}

static int
s_teardown (void **state)
{
    fx_t *f = *state;
    gw_auth_destroy (&f->auth);
    ts_arena_destroy (&f->arena);
    test_dir_remove (f->dir);
    free (f);
    return 0;
}

//  Check "Bearer <token>"; role/binding/principal NULL when refused.
static bool
s_check_token (fx_t *f, const char *token, const char **role, const char **binding,
               const char **principal)
{
    char header [256];
    snprintf (header, sizeof header, "Bearer %s", token);
    *role = *binding = *principal = NULL;
    return gw_auth_check (f->auth, header, f->arena, role, binding, principal);
}

static unsigned
s_create (fx_t *f, const char *role, const char *school, const char *merchant,
          const char *note, Tashan__Gateway__Token *out)
{
    Tashan__Gateway__CreateTokenRequest req = TASHAN__GATEWAY__CREATE_TOKEN_REQUEST__INIT;
    req.role = (char *) role;
    req.school_id = (char *) school;
    req.merchant_id = (char *) merchant;
    req.note = (char *) note;
    tashan__gateway__token__init (out);
    f->message [0] = 0;
    return gw_auth_create (f->auth, &req, "t1", f->arena, out, f->message, sizeof f->message);
}

//  --------------------------------------------------------------------
//  The ops token file

static void
test_ops_token_file_mode_0600 (void **state)
{
    fx_t *f = *state;
    struct stat st;
    assert_int_equal (stat (f->token_path, &st), 0);
    assert_true (S_ISREG (st.st_mode));
    assert_int_equal (st.st_mode & 0777, 0600);
    assert_int_equal (strncmp (f->ops, "tsn_", 4), 0);
    assert_int_equal (strlen (f->ops), 4 + 43);    //  32 bytes, base64url without padding
    //  No temp file left behind.
    char tmp [160];
    snprintf (tmp, sizeof tmp, "%s.tmp", f->token_path);
    assert_int_not_equal (access (tmp, F_OK), 0);
}

static void
test_ops_token_authenticates_as_ops (void **state)
{
    fx_t *f = *state;
    const char *role, *binding, *principal;
    assert_true (s_check_token (f, f->ops, &role, &binding, &principal));
    assert_string_equal (role, "ops");
    assert_string_equal (binding, "");
    assert_string_equal (principal, "t1");
}

static void
test_reopen_keeps_ops_token (void **state)
{
    fx_t *f = *state;
    gw_auth_destroy (&f->auth);
    assert_null (f->auth);
    s_open (f);
    char again [160];
    s_read_token (f, again, sizeof again);
    assert_string_equal (again, f->ops);
    const char *role, *binding, *principal;
    assert_true (s_check_token (f, f->ops, &role, &binding, &principal));
    assert_string_equal (role, "ops");
    //  No second bootstrap token was stored: the next id is t2.
    Tashan__Gateway__Token tok;
    assert_int_equal (s_create (f, "panel", "", "", "", &tok), TS_CREATED);
    assert_string_equal (tok.id, "t2");
}

static void
test_deleted_file_makes_new_ops_token (void **state)
{
    fx_t *f = *state;
    gw_auth_destroy (&f->auth);
    assert_int_equal (unlink (f->token_path), 0);
    s_open (f);
    char fresh [160];
    s_read_token (f, fresh, sizeof fresh);
    assert_string_not_equal (fresh, f->ops);
    struct stat st;
    assert_int_equal (stat (f->token_path, &st), 0);
    assert_int_equal (st.st_mode & 0777, 0600);
    const char *role, *binding, *principal;
    assert_true (s_check_token (f, fresh, &role, &binding, &principal));
    assert_string_equal (role, "ops");
    assert_string_equal (principal, "t2");
    //  The old one stays valid until ops revokes it.
    assert_true (s_check_token (f, f->ops, &role, &binding, &principal));
    assert_int_equal (gw_auth_revoke (f->auth, "t1", "t2", false, f->message, sizeof f->message), TS_OK);
    assert_false (s_check_token (f, f->ops, &role, &binding, &principal));
    assert_true (s_check_token (f, fresh, &role, &binding, &principal));
}

//  --------------------------------------------------------------------
//  Creating tokens

static void
test_create_panel_token (void **state)
{
    fx_t *f = *state;
    Tashan__Gateway__Token tok;
    assert_int_equal (s_create (f, "panel", "", "", "for the panel", &tok), TS_CREATED);
    assert_string_equal (tok.id, "t2");
    assert_int_equal (strncmp (tok.token, "tsn_", 4), 0);
    assert_string_not_equal (tok.token, f->ops);
    assert_string_equal (tok.role, "panel");
    assert_string_equal (tok.school_id, "");
    assert_string_equal (tok.merchant_id, "");
    assert_string_equal (tok.note, "for the panel");
    assert_true (tok.created_ms > 1700000000000LL);
    const char *role, *binding, *principal;
    assert_true (s_check_token (f, tok.token, &role, &binding, &principal));
    assert_string_equal (role, "panel");
    assert_string_equal (binding, "");
    assert_string_equal (principal, tok.id);
}

static void
test_create_school_token_binds_school (void **state)
{
    fx_t *f = *state;
    Tashan__Gateway__Token tok;
    assert_int_equal (s_create (f, "school", "S1", "", "", &tok), TS_CREATED);
    assert_string_equal (tok.role, "school");
    assert_string_equal (tok.school_id, "S1");
    assert_string_equal (tok.merchant_id, "");
    const char *role, *binding, *principal;
    assert_true (s_check_token (f, tok.token, &role, &binding, &principal));
    assert_string_equal (role, "school");
    assert_string_equal (binding, "S1");
}

static void
test_create_merchant_token_binds_merchant (void **state)
{
    fx_t *f = *state;
    Tashan__Gateway__Token tok;
    assert_int_equal (s_create (f, "merchant", "", "m1", "", &tok), TS_CREATED);
    assert_string_equal (tok.merchant_id, "m1");
    assert_string_equal (tok.school_id, "");
    const char *role, *binding, *principal;
    assert_true (s_check_token (f, tok.token, &role, &binding, &principal));
    assert_string_equal (role, "merchant");
    assert_string_equal (binding, "m1");
}

static void
test_tokens_are_distinct (void **state)
{
    fx_t *f = *state;
    Tashan__Gateway__Token a, b;
    assert_int_equal (s_create (f, "panel", "", "", "", &a), TS_CREATED);
    assert_int_equal (s_create (f, "panel", "", "", "", &b), TS_CREATED);
    assert_string_not_equal (a.token, b.token);
    assert_string_not_equal (a.id, b.id);
    const char *role, *binding, *principal;
    assert_true (s_check_token (f, b.token, &role, &binding, &principal));
    assert_string_equal (principal, b.id);
}

static void
test_create_validation_errors (void **state)
{
    fx_t *f = *state;
    Tashan__Gateway__Token tok;
    char long64 [65], long65 [66];
    memset (long64, 's', 64);
    long64 [64] = 0;
    memset (long65, 's', 65);
    long65 [65] = 0;
    char note201 [202];
    memset (note201, 'n', 201);
    note201 [201] = 0;
    struct { const char *role, *school, *merchant, *note, *want; } bad [] = {
        { "admin", "", "", "", "role" },
        { "", "", "", "", "role" },
        { "system", "", "", "", "role" },
        { "public", "", "", "", "role" },
        { "school", "", "", "", "school_id" },
        { "school", long65, "", "", "school_id" },
        { "school", "S\xc0\xaf", "", "", "school_id" },
        { "panel", "S1", "", "", "school_id" },
        { "merchant", "S1", "m1", "", "school_id" },
        { "merchant", "", "", "", "merchant_id" },
        { "merchant", "", long65, "", "merchant_id" },
        { "school", "S1", "m1", "", "merchant_id" },
        { "ops", "", "m1", "", "merchant_id" },
        { "panel", "", "", note201, "note" },
        { "panel", "", "", "bad \xff", "note" },
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad [0]; i++) {
        unsigned code = s_create (f, bad [i].role, bad [i].school, bad [i].merchant,
                                  bad [i].note, &tok);
        if (code != TS_BAD_REQUEST || !strstr (f->message, bad [i].want))
            fail_msg ("case %zu (role '%s'): %u '%s'", i, bad [i].role, code, f->message);
    }
    //  Nothing was stored by the refusals: the next token is t2.
    assert_int_equal (s_create (f, "school", long64, "", "", &tok), TS_CREATED);
    assert_string_equal (tok.id, "t2");
}

static void
test_binding_limit_counts_characters (void **state)
{
    fx_t *f = *state;
    char chinese [64 * 3 + 1] = "";
    for (int i = 0; i < 64; i++)
        strcat (chinese, "校");
    Tashan__Gateway__Token tok;
    assert_int_equal (s_create (f, "school", chinese, "", "", &tok), TS_CREATED);
    const char *role, *binding, *principal;
    assert_true (s_check_token (f, tok.token, &role, &binding, &principal));
    assert_string_equal (binding, chinese);
}

//  --------------------------------------------------------------------
//  Revocation

static void
test_revoke_then_check_fails (void **state)
{
    fx_t *f = *state;
    Tashan__Gateway__Token tok;
    assert_int_equal (s_create (f, "panel", "", "", "", &tok), TS_CREATED);
    char token [160];
    snprintf (token, sizeof token, "%s", tok.token);
    const char *role, *binding, *principal;
    assert_true (s_check_token (f, token, &role, &binding, &principal));
    assert_int_equal (gw_auth_revoke (f->auth, tok.id, "t1", false, f->message, sizeof f->message), TS_OK);
    assert_false (s_check_token (f, token, &role, &binding, &principal));
    //  Revoking twice is fine; other tokens are untouched.
    assert_int_equal (gw_auth_revoke (f->auth, tok.id, "t1", false, f->message, sizeof f->message), TS_OK);
    assert_true (s_check_token (f, f->ops, &role, &binding, &principal));
    //  And it stays revoked after a restart.
    gw_auth_destroy (&f->auth);
    s_open (f);
    assert_false (s_check_token (f, token, &role, &binding, &principal));
}

static void
test_revoke_unknown_is_not_found (void **state)
{
    fx_t *f = *state;
    assert_int_equal (gw_auth_revoke (f->auth, "t999", "t1", false, f->message, sizeof f->message), TS_NOT_FOUND);
    assert_non_null (strstr (f->message, "t999"));
    assert_int_equal (gw_auth_revoke (f->auth, "", "t1", false, f->message, sizeof f->message), TS_NOT_FOUND);
    char long_id [80];
    memset (long_id, '9', sizeof long_id - 1);
    long_id [sizeof long_id - 1] = 0;
    assert_int_equal (gw_auth_revoke (f->auth, long_id, "t1", false, f->message, sizeof f->message), TS_NOT_FOUND);
}

//  No self-lockout: the last live ops token and the caller's own token
//  are refused (409) and stay valid.
static void
test_revoke_refuses_self_lockout (void **state)
{
    fx_t *f = *state;
    const char *role, *binding, *principal;
    assert_int_equal (gw_auth_revoke (f->auth, "t1", "t1", false, f->message, sizeof f->message),
                      TS_CONFLICT);
    assert_non_null (strstr (f->message, "self=true"));
    assert_int_equal (gw_auth_revoke (f->auth, "t1", "t1", true, f->message, sizeof f->message),
                      TS_CONFLICT);
    assert_non_null (strstr (f->message, "last live ops token"));
    assert_true (s_check_token (f, f->ops, &role, &binding, &principal));
    //  A panel token does not count as ops; a second ops token does.
    Tashan__Gateway__Token panel, ops2;
    assert_int_equal (s_create (f, "panel", "", "", "", &panel), TS_CREATED);
    assert_int_equal (gw_auth_revoke (f->auth, "t1", "", false, f->message, sizeof f->message),
                      TS_CONFLICT);
    assert_int_equal (s_create (f, "ops", "", "", "", &ops2), TS_CREATED);
    assert_int_equal (gw_auth_revoke (f->auth, "t1", ops2.id, false, f->message,
                                      sizeof f->message), TS_OK);
    assert_false (s_check_token (f, f->ops, &role, &binding, &principal));
    //  Now ops2 is the last one, even for itself with self=true.
    assert_int_equal (gw_auth_revoke (f->auth, ops2.id, ops2.id, true, f->message,
                                      sizeof f->message), TS_CONFLICT);
}

//  expires_at: in the past is refused at creation; once passed, the
//  token no longer authenticates.
static void
test_token_expiry (void **state)
{
    fx_t *f = *state;
    Tashan__Gateway__CreateTokenRequest req = TASHAN__GATEWAY__CREATE_TOKEN_REQUEST__INIT;
    Tashan__Gateway__Token tok = TASHAN__GATEWAY__TOKEN__INIT;
    req.role = "panel";
    req.expires_at = "2020-01-01T00:00:00Z";
    assert_int_equal (gw_auth_create (f->auth, &req, "t1", f->arena, &tok, f->message,
                                      sizeof f->message), TS_BAD_REQUEST);
    req.expires_at = "tomorrow";
    assert_int_equal (gw_auth_create (f->auth, &req, "t1", f->arena, &tok, f->message,
                                      sizeof f->message), TS_BAD_REQUEST);
    time_t soon = time (NULL) + 2;
    struct tm tm;
    gmtime_r (&soon, &tm);
    char when [40];
    strftime (when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm);
    req.expires_at = when;
    assert_int_equal (gw_auth_create (f->auth, &req, "t1", f->arena, &tok, f->message,
                                      sizeof f->message), TS_CREATED);
    assert_true (tok.expires_at [0]);
    const char *role, *binding, *principal;
    assert_true (s_check_token (f, tok.token, &role, &binding, &principal));
    sleep (3);
    assert_false (s_check_token (f, tok.token, &role, &binding, &principal));
}

//  The list names every token, with its last use, and never a secret.
static void
test_list_tokens (void **state)
{
    fx_t *f = *state;
    Tashan__Gateway__Token tok;
    assert_int_equal (s_create (f, "merchant", "", "m7", "till", &tok), TS_CREATED);
    const char *role, *binding, *principal;
    assert_true (s_check_token (f, f->ops, &role, &binding, &principal));
    Tashan__Gateway__ListTokensRequest req = TASHAN__GATEWAY__LIST_TOKENS_REQUEST__INIT;
    Tashan__Gateway__ListTokensReply rep = TASHAN__GATEWAY__LIST_TOKENS_REPLY__INIT;
    assert_int_equal (gw_auth_list (f->auth, &req, f->arena, &rep, f->message, sizeof f->message),
                      TS_OK);
    assert_int_equal (rep.n_tokens, 2);
    assert_string_equal (rep.tokens [0]->id, "t1");
    assert_string_equal (rep.tokens [0]->role, "ops");
    assert_true (rep.tokens [0]->last_used_at [0]);     //  from memory
    assert_string_equal (rep.tokens [1]->binding, "m7");
    assert_string_equal (rep.tokens [1]->last_used_at, "");
    //  Pages; last use survives a restart (flushed at destroy).
    req.page_size = 1;
    assert_int_equal (gw_auth_list (f->auth, &req, f->arena, &rep, f->message, sizeof f->message),
                      TS_OK);
    assert_int_equal (rep.n_tokens, 1);
    assert_string_equal (rep.next_page_token, "t1");
    gw_auth_destroy (&f->auth);
    s_open (f);
    req.page_token = "t1";
    assert_int_equal (gw_auth_list (f->auth, &req, f->arena, &rep, f->message, sizeof f->message),
                      TS_OK);
    assert_int_equal (rep.n_tokens, 1);
    assert_string_equal (rep.tokens [0]->id, "t2");
    assert_string_equal (rep.next_page_token, "");
    req.page_token = "";
    assert_int_equal (gw_auth_list (f->auth, &req, f->arena, &rep, f->message, sizeof f->message),
                      TS_OK);
    assert_true (rep.tokens [0]->last_used_at [0]);
    req.page_size = 1001;
    assert_int_equal (gw_auth_list (f->auth, &req, f->arena, &rep, f->message, sizeof f->message),
                      TS_BAD_REQUEST);
}

//  One writer: while the gateway holds the store, tashanctl cannot open
//  it; once closed, it can (and makes no ops token file).
static void
test_offline_open_needs_the_lock (void **state)
{
    fx_t *f = *state;
    char err [300] = "";
    assert_null (gw_auth_open_offline (f->dir, err, sizeof err));
    assert_non_null (strstr (err, "gateway.lock"));
    gw_auth_destroy (&f->auth);
    gw_auth *offline = gw_auth_open_offline (f->dir, err, sizeof err);
    assert_non_null (offline);
    assert_null (gw_auth_new (f->dir, err, sizeof err));
    gw_auth_destroy (&offline);
    s_open (f);
}

//  --------------------------------------------------------------------
//  Authorization headers

static void
test_malformed_headers_fail (void **state)
{
    fx_t *f = *state;
    char with_extra [200], basic [200], truncated [200];
    snprintf (with_extra, sizeof with_extra, "Bearer %sx", f->ops);
    snprintf (basic, sizeof basic, "Basic %s", f->ops);
    snprintf (truncated, sizeof truncated, "Bearer %.*s", (int) strlen (f->ops) - 1, f->ops);
    const char *const headers [] = {
        "", "Basic x", "Bearer", "Bearer ", "Bearer      ", "Bearer tsn_wrongtoken",
        "Bearer tsn_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", "Bearertsn_abcdefgh",
        with_extra, basic, truncated, f->ops,
    };
    for (size_t i = 0; i < sizeof headers / sizeof headers [0]; i++) {
        const char *role = NULL, *binding = NULL, *principal = NULL;
        if (gw_auth_check (f->auth, headers [i], f->arena, &role, &binding, &principal))
            fail_msg ("header %zu '%s' was accepted", i, headers [i]);
        assert_null (role);
    }
    const char *role = NULL, *binding = NULL, *principal = NULL;
    assert_false (gw_auth_check (f->auth, NULL, f->arena, &role, &binding, &principal));
    //  A very long header is refused without trouble.
    char *huge = malloc (100000);
    memcpy (huge, "Bearer ", 7);
    memset (huge + 7, 'A', 100000 - 8);
    huge [100000 - 1] = 0;
    assert_false (gw_auth_check (f->auth, huge, f->arena, &role, &binding, &principal));
    free (huge);
}

static void
test_scheme_is_case_insensitive (void **state)
{
    fx_t *f = *state;
    char header [200];
    snprintf (header, sizeof header, "bearer %s", f->ops);
    const char *role = NULL, *binding = NULL, *principal = NULL;
    assert_true (gw_auth_check (f->auth, header, f->arena, &role, &binding, &principal));
    assert_string_equal (role, "ops");
}

//  --------------------------------------------------------------------
//  Only hashes are stored

static bool
s_file_contains (const char *path, const char *needle)
{
    FILE *file = fopen (path, "rb");
    assert_non_null (file);
    fseek (file, 0, SEEK_END);
    long size = ftell (file);
    fseek (file, 0, SEEK_SET);
    char *data = malloc ((size_t) size + 1);
    assert_int_equal (fread (data, 1, (size_t) size, file), (size_t) size);
    fclose (file);
    bool found = memmem (data, (size_t) size, needle, strlen (needle)) != NULL;
    free (data);
    return found;
}

static void
test_store_holds_no_plaintext_token (void **state)
{
    fx_t *f = *state;
    Tashan__Gateway__Token a, b;
    assert_int_equal (s_create (f, "panel", "", "", "n", &a), TS_CREATED);
    assert_int_equal (s_create (f, "merchant", "", "m1", "n", &b), TS_CREATED);
    char tokens [3][160];
    snprintf (tokens [0], sizeof tokens [0], "%s", f->ops);
    snprintf (tokens [1], sizeof tokens [1], "%s", a.token);
    snprintf (tokens [2], sizeof tokens [2], "%s", b.token);
    gw_auth_destroy (&f->auth);
    char path [128];
    snprintf (path, sizeof path, "%s/gateway/data.mdb", f->dir);
    //  The scan works: the binding and an id are in there.
    assert_true (s_file_contains (path, "m1"));
    assert_true (s_file_contains (path, "bootstrap"));
    for (int i = 0; i < 3; i++) {
        assert_false (s_file_contains (path, tokens [i]));
        assert_false (s_file_contains (path, tokens [i] + 4));     //  secret part alone
        char half [40];
        snprintf (half, sizeof half, "%.20s", tokens [i] + 4);
        assert_false (s_file_contains (path, half));
    }
    s_open (f);
}

#define T(name) cmocka_unit_test_setup_teardown (name, s_setup, s_teardown)

int
main (void)
{
    const struct CMUnitTest tests [] = {
        T (test_ops_token_file_mode_0600),
        T (test_ops_token_authenticates_as_ops),
        T (test_reopen_keeps_ops_token),
        T (test_deleted_file_makes_new_ops_token),
        T (test_create_panel_token),
        T (test_create_school_token_binds_school),
        T (test_create_merchant_token_binds_merchant),
        T (test_tokens_are_distinct),
        T (test_create_validation_errors),
        T (test_binding_limit_counts_characters),
        T (test_revoke_then_check_fails),
        T (test_revoke_unknown_is_not_found),
        T (test_revoke_refuses_self_lockout),
        T (test_token_expiry),
        T (test_list_tokens),
        T (test_offline_open_needs_the_lock),
        T (test_malformed_headers_fail),
        T (test_scheme_is_case_insensitive),
        T (test_store_holds_no_plaintext_token),
    };
    return cmocka_run_group_tests_name ("gw_auth", tests, NULL, NULL);
}
