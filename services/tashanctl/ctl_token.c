/*  ctl_token - `tashanctl token create`: a bearer token made on the box,
    for recovery when no ops token is left (every one revoked, expired or
    lost) or before the first start.

    The gateway is the only writer of its store while it runs: it holds
    <data-dir>/gateway/gateway.lock. This command takes the same lock, so
    it works only while the gateway is stopped (it says so otherwise),
    and the gateway does not start while it writes. The token is printed
    once on stdout; only its hash is stored. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"
#include "gw_auth.h"
#include "merchants.pb-c.h"
#include "residents.pb-c.h"

static const char s_token_usage [] =
    "Usage: tashanctl [--data-dir DIR] token create --role ROLE [--binding ID]\n"
    "                 [--note TEXT] [--expires-at RFC3339]\n"
    "Make a token in the gateway's store; the gateway must be stopped (it holds\n"
    "DIR/gateway/gateway.lock while it runs). Prints the token once on stdout.\n"
    "  --role ROLE         ops, panel, school or merchant\n"
    "  --binding ID        the school id (school: a current pupil's school_id,\n"
    "                      checked with the residents daemon) or merchant id\n"
    "                      (merchant: checked with the merchants daemon)\n"
    "  --note TEXT         who it is for (default \"made with tashanctl\")\n"
    "  --expires-at TIME   refuse it from then on (e.g. 2027-01-31T00:00:00+08:00)\n";

typedef struct {
    const char *role, *binding, *note, *expires_at;
} token_args_t;

//  The options after "token create". 0, or 2 after a message.
static int
s_parse (int argc, char **argv, token_args_t *a, bool *help)
{
    *a = (token_args_t) { "", "", "made with tashanctl", "" };
    *help = false;
    for (int i = 0; i < argc; i++) {
        const char **dst = strcmp (argv [i], "--role") == 0 ? &a->role
                         : strcmp (argv [i], "--binding") == 0 ? &a->binding
                         : strcmp (argv [i], "--note") == 0 ? &a->note
                         : strcmp (argv [i], "--expires-at") == 0 ? &a->expires_at : NULL;
        if (strcmp (argv [i], "--help") == 0 || strcmp (argv [i], "-h") == 0) {
            *help = true;
            return 0;
        }
        if (!dst || i + 1 == argc) {
            fprintf (stderr, "tashanctl token create: %s '%s' (see token create --help)\n",
                     dst ? "a value is needed after" : "unknown argument", argv [i]);
            return 2;
        }
        *dst = argv [++i];
    }
    if (!a->role [0]) {
        fprintf (stderr, "tashanctl token create: --role is required (see token create --help)\n");
        return 2;
    }
    return 0;
}

//  A binding must name a merchant that exists, or a school that a current
//  pupil names; asked of the daemon that owns it (as the gateway does).
//  0, or 1 after a message.
static int
s_check_binding (ctl_t *ctl, bool school, const char *id)
{
    ts_arena *arena = ts_arena_new ();
    Tashan__Residents__GetSchoolRequest get_school = TASHAN__RESIDENTS__GET_SCHOOL_REQUEST__INIT;
    Tashan__Merchants__GetMerchantRequest get_merchant =
        TASHAN__MERCHANTS__GET_MERCHANT_REQUEST__INIT;
    get_school.school_id = (char *) id;
    get_merchant.id = (char *) id;
    ProtobufCMessage *reply = NULL;
    unsigned code = school
        ? ctl_call (ctl, "residents", "residents.GetSchool", &get_school.base,
                    &tashan__residents__school__descriptor, arena, &reply, 3000, true)
        : ctl_call (ctl, "merchants", "merchants.Get", &get_merchant.base,
                    &tashan__merchants__merchant__descriptor, arena, &reply, 3000, true);
    ts_arena_destroy (&arena);
    const char *kind = school ? "school" : "merchant";
    if (code == TS_OK)
        return 0;
    if (code == TS_NOT_FOUND || code == TS_BAD_REQUEST)
        fprintf (stderr, "tashanctl token create: no %s %s%s\n", kind, id,
                 school ? " in the community (no pupil has this school_id)" : "");
    else
        fprintf (stderr, "tashanctl token create: cannot check %s %s: the %s daemon did not "
                 "answer (start it, then try again)\n", kind, id,
                 school ? "residents" : "merchants");
    return 1;
}

//  Store the token (the gateway stopped) and print it.
static int
s_create (ctl_t *ctl, const token_args_t *a)
{
    char err [600];
    gw_auth *auth = gw_auth_open_offline (ctl->cfg.data_dir, err, sizeof err);
    if (!auth) {
        fprintf (stderr, "tashanctl token create: %s\n"
                 "  stop the gateway first, or make the token with POST /v1/tokens\n", err);
        return 1;
    }
    Tashan__Gateway__CreateTokenRequest req = TASHAN__GATEWAY__CREATE_TOKEN_REQUEST__INIT;
    req.role = (char *) a->role;
    req.note = (char *) a->note;
    req.expires_at = (char *) a->expires_at;
    if (strcmp (a->role, "school") == 0)
        req.school_id = (char *) a->binding;
    else
    if (strcmp (a->role, "merchant") == 0)
        req.merchant_id = (char *) a->binding;
    else
    if (a->binding [0]) {
        fprintf (stderr, "tashanctl token create: --binding is only for roles school and merchant\n");
        gw_auth_destroy (&auth);
        return 2;
    }
    ts_arena *arena = ts_arena_new ();
    Tashan__Gateway__Token token = TASHAN__GATEWAY__TOKEN__INIT;
    unsigned code = gw_auth_create (auth, &req, "tashanctl", arena, &token, err, sizeof err);
    gw_auth_destroy (&auth);
    int rc = 0;
    if (code >= 400) {
        fprintf (stderr, "tashanctl token create: %s\n", err);
        rc = code == TS_BAD_REQUEST ? 2 : 1;
    }
    else {
        printf ("%s\n", token.token);
        fprintf (stderr, "created token %s (role %s%s%s); it is shown only this once\n",
                 token.id, token.role, a->binding [0] ? ", binding " : "", a->binding);
    }
    ts_arena_destroy (&arena);
    return rc;
}

int
ctl_token (ctl_t *ctl, int argc, char **argv)
{
    if (argc >= 1 && (strcmp (argv [0], "--help") == 0 || strcmp (argv [0], "-h") == 0)) {
        fputs (s_token_usage, stdout);
        return 0;
    }
    if (argc < 1 || strcmp (argv [0], "create") != 0) {
        fprintf (stderr, "tashanctl token: the subcommand is 'create' (see token --help)\n");
        return 2;
    }
    token_args_t a;
    bool help;
    int rc = s_parse (argc - 1, argv + 1, &a, &help);
    if (rc != 0 || help) {
        if (help)
            fputs (s_token_usage, stdout);
        return rc;
    }
    bool school = strcmp (a.role, "school") == 0;
    if ((school || strcmp (a.role, "merchant") == 0) && a.binding [0]
    &&  s_check_binding (ctl, school, a.binding))
        return 1;
    return s_create (ctl, &a);
}
