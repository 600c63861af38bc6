/*  =========================================================================
    volunteers_projects - projects (项目化) and the neighbourhood space
    (睦邻空间): sessions, sign-ups, attendance, reminders, no-shows

    A project is `volunteer` (staffed by volunteers: bench-classroom talks,
    red cinema, home visits) or `programme` (open to every resident: the
    elders' contests, children's art, the etiquette class). A session has
    a start, a place, a capacity and a length. Sign-ups close at starts_at
    (409), capacity is enforced (409), a volunteer project takes volunteers
    only (422). Attendance is recorded from starts_at on, once per (session,
    person), for signed-up persons; it credits volunteer.hour (a volunteer
    project: the minutes count as service hours) or programme.attended,
    keyed "attend:<session>:<person>" so the ledger credits it once.
    Timers: reminders 24 h and 2 h before the start to every sign-up, and
    at the end of the session the sign-ups not attended become no_show.
    =========================================================================
*/
#include "volunteers_core.h"

#include <assert.h>
#include <stdio.h>
#include <string.h>

#include "ts_id.h"
#include "ts_page.h"
#include "ts_time.h"
#include "ts_valid.h"

static const char *const s_project_kinds [] = { "volunteer", "programme", NULL };

typedef Tashan__Volunteers__Signup vol_signup_rec;

#define SIGNUPS_MAX VOL_CAPACITY_MAX

//  --------------------------------------------------------------------
//  Records

static vol_project *
s_project_load (ts_ctx *ctx, uint64_t no)
{
    return vol_load (ctx, "projects", no, &tashan__volunteers__project__descriptor);
}

static void
s_project_save (ts_ctx *ctx, uint64_t no, const vol_project *p)
{
    vol_save (ctx, "projects", no, &p->base);
}

static vol_session *
s_session_load (ts_ctx *ctx, uint64_t no)
{
    return vol_load (ctx, "sessions", no, &tashan__volunteers__session__descriptor);
}

static void
s_session_save (ts_ctx *ctx, uint64_t no, const vol_session *s)
{
    assert (s->signed_up <= s->capacity);
    assert (s->n_signups == 0);     //  sign-ups live in their own table
    vol_save (ctx, "sessions", no, &s->base);
}

static void
s_signup_key (ts_key *k, uint64_t session_no, const char *person_id)
{
    ts_key_init (k);
    ts_key_u64 (k, session_no);
    ts_key_str (k, person_id);
}

static vol_signup_rec *
s_signup_load (ts_ctx *ctx, uint64_t session_no, const char *person_id)
{
    ts_key k;
    s_signup_key (&k, session_no, person_id);
    return ts_txn_get_msg (ctx->txn, ts_ctx_table (ctx, "signups"), k.data, k.size,
                           &tashan__volunteers__signup__descriptor, ctx->arena);
}

static void
s_signup_save (ts_ctx *ctx, uint64_t session_no, const vol_signup_rec *s)
{
    ts_key k;
    s_signup_key (&k, session_no, s->person_id);
    ts_txn_put_msg (ctx->txn, ts_ctx_table (ctx, "signups"), k.data, k.size, &s->base);
}

//  The sign-ups of a session, in person order (at most SIGNUPS_MAX).
static size_t
s_signups (ts_ctx *ctx, uint64_t session_no, vol_signup_rec ***out)
{
    ts_key prefix;
    vol_key_u64 (&prefix, session_no);
    size_t cap = 16, n = 0;
    vol_signup_rec **list = ts_arena_alloc (ctx->arena, cap * sizeof (void *));
    ts_cursor cur;
    ts_cursor_open (&cur, ctx->txn, ts_ctx_table (ctx, "signups"));
    bool ok = ts_cursor_seek (&cur, prefix.data, prefix.size);
    for (; ok && n < SIGNUPS_MAX; ok = ts_cursor_next (&cur)) {
        if (!ts_cursor_has_prefix (&cur, prefix.data, prefix.size))
            break;
        vol_signup_rec *s = ts_cursor_msg (&cur, &tashan__volunteers__signup__descriptor,
                                           ctx->arena);
        if (!s)
            break;
        if (n == cap) {
            void *more = ts_arena_alloc (ctx->arena, 2 * cap * sizeof (void *));
            memcpy (more, list, n * sizeof (void *));
            list = more;
            cap *= 2;
        }
        list [n++] = s;
    }
    ts_cursor_close (&cur);
    *out = list;
    return n;
}

static unsigned
s_ref_session (ts_ctx *ctx, const char *id, uint64_t *no, vol_session **out)
{
    unsigned rc = ts_check_id (ctx, "id", id, 's', "session", TS_NOT_FOUND, no);
    if (rc)
        return rc;
    vol_session *s = s_session_load (ctx, *no);
    if (!s)
        return ts_fail (ctx, TS_NOT_FOUND, "no session %s", id);
    *out = s;
    return 0;
}

//  --------------------------------------------------------------------
//  Projects

unsigned
vol_project_create (ts_ctx *ctx, const Tashan__Volunteers__CreateProjectRequest *req,
                    vol_project *rep)
{
    unsigned rc;
    if ((rc = ts_check_name (ctx, "name", req->name, TS_NAME_MAX_CHARS, true))
    ||  (rc = ts_check_enum (ctx, "kind", req->kind, s_project_kinds))
    ||  (rc = ts_check_str (ctx, "detail", req->detail, TS_STR_MAX_CHARS, false)))
        return rc;
    if (req->circle_id [0]) {
        uint64_t circle_no;
        vol_circle *c;
        if ((rc = vol_ref_circle (ctx, "circle_id", req->circle_id, TS_UNPROCESSABLE,
                                  &circle_no, &c)))
            return rc;
    }
    uint64_t no = ts_txn_next_id (ctx->txn, "project");
    vol_project p = TASHAN__VOLUNTEERS__PROJECT__INIT;
    p.id = ts_id_text (ctx->arena, 'j', no);
    p.name = req->name;
    p.circle_id = req->circle_id;
    p.kind = req->kind;
    p.detail = req->detail;
    p.created_at = ts_time_text (ctx->arena, ctx->now_ms);
    s_project_save (ctx, no, &p);
    *rep = p;
    return TS_CREATED;
}

unsigned
vol_project_get (ts_ctx *ctx, const Tashan__Volunteers__GetRequest *req, vol_project *rep)
{
    uint64_t no;
    unsigned rc = ts_check_id (ctx, "id", req->id, 'j', "project", TS_NOT_FOUND, &no);
    if (rc)
        return rc;
    vol_project *p = s_project_load (ctx, no);
    if (!p)
        return ts_fail (ctx, TS_NOT_FOUND, "no project %s", req->id);
    *rep = *p;
    return TS_OK;
}

unsigned
vol_project_list (ts_ctx *ctx, const Tashan__Volunteers__ListProjectsRequest *req,
                  Tashan__Volunteers__ListProjectsReply *rep)
{
    unsigned rc;
    if (req->kind [0] && (rc = ts_check_enum (ctx, "kind", req->kind, s_project_kinds)))
        return rc;
    ts_page pg;
    if ((rc = ts_page_open (ctx, &pg, ts_ctx_table (ctx, "projects"), NULL, 0,
                            req->page_token, req->page_size)))
        return rc;
    rep->projects = ts_arena_alloc (ctx->arena, pg.size * sizeof (void *));
    for (; ts_page_more (&pg); ts_page_next (&pg)) {
        vol_project *p = ts_page_msg (&pg, &tashan__volunteers__project__descriptor, ctx->arena);
        if (!p)
            break;
        if (req->kind [0] && strcmp (p->kind, req->kind) != 0)
            continue;
        rep->projects [rep->n_projects++] = p;
        ts_page_take (&pg);
    }
    rep->next_page_token = ts_page_close (&pg, ctx->arena);
    return TS_OK;
}

//  --------------------------------------------------------------------
//  Sessions

unsigned
vol_session_create (ts_ctx *ctx, const Tashan__Volunteers__CreateSessionRequest *req,
                    vol_session *rep)
{
    unsigned rc;
    uint64_t project_no;
    int64_t starts_ms;
    if ((rc = ts_check_id (ctx, "id", req->id, 'j', "project", TS_NOT_FOUND, &project_no))
    ||  (rc = ts_check_time (ctx, "starts_at", req->starts_at, true, &starts_ms))
    ||  (rc = ts_check_str (ctx, "place", req->place, TS_STR_MAX_CHARS, true))
    ||  (rc = ts_check_range (ctx, "capacity", req->capacity, 1, VOL_CAPACITY_MAX))
    ||  (req->duration_minutes
         && (rc = ts_check_range (ctx, "duration_minutes", req->duration_minutes, 1,
                                  VOL_MINUTES_MAX))))
        return rc;
    vol_project *p = s_project_load (ctx, project_no);
    if (!p)
        return ts_fail (ctx, TS_NOT_FOUND, "no project %s", req->id);
    uint64_t no = ts_txn_next_id (ctx->txn, "session");
    vol_session s = TASHAN__VOLUNTEERS__SESSION__INIT;
    s.id = ts_id_text (ctx->arena, 's', no);
    s.project_id = p->id;
    s.project_kind = p->kind;
    s.starts_ms = starts_ms;
    s.starts_at = ts_time_text (ctx->arena, starts_ms);
    s.place = req->place;
    s.capacity = req->capacity;
    s.duration_minutes = req->duration_minutes ? req->duration_minutes
                                               : vol_settings_load (ctx)->session_minutes;
    s_session_save (ctx, no, &s);
    p->sessions++;
    s_project_save (ctx, project_no, p);
    //  Reminders (those still ahead) and the no-show mark at its end.
    vol_remind_before (ctx, starts_ms, VOL_TIMER_SESSION_REMIND, no);
    vol_timer_set (ctx, starts_ms + s.duration_minutes * TS_MINUTE_MS, VOL_TIMER_NO_SHOW, no,
                   (uint64_t) starts_ms);
    *rep = s;
    return TS_CREATED;
}

unsigned
vol_session_get (ts_ctx *ctx, const Tashan__Volunteers__GetRequest *req, vol_session *rep)
{
    uint64_t no;
    vol_session *s;
    unsigned rc = s_ref_session (ctx, req->id, &no, &s);
    if (rc)
        return rc;
    *rep = *s;
    rep->n_signups = s_signups (ctx, no, &rep->signups);
    return TS_OK;
}

unsigned
vol_session_list (ts_ctx *ctx, const Tashan__Volunteers__ListSessionsRequest *req,
                  Tashan__Volunteers__ListSessionsReply *rep)
{
    uint64_t project_no;
    unsigned rc = ts_check_id (ctx, "id", req->id, 'j', "project", TS_NOT_FOUND, &project_no);
    if (rc)
        return rc;
    if (!s_project_load (ctx, project_no))
        return ts_fail (ctx, TS_NOT_FOUND, "no project %s", req->id);
    ts_page pg;
    if ((rc = ts_page_open (ctx, &pg, ts_ctx_table (ctx, "sessions"), NULL, 0,
                            req->page_token, req->page_size)))
        return rc;
    rep->sessions = ts_arena_alloc (ctx->arena, pg.size * sizeof (void *));
    for (; ts_page_more (&pg); ts_page_next (&pg)) {
        vol_session *s = ts_page_msg (&pg, &tashan__volunteers__session__descriptor, ctx->arena);
        if (!s)
            break;
        if (strcmp (s->project_id, req->id) != 0)
            continue;
        rep->sessions [rep->n_sessions++] = s;
        ts_page_take (&pg);
    }
    rep->next_page_token = ts_page_close (&pg, ctx->arena);
    return TS_OK;
}

//  --------------------------------------------------------------------
//  Sign-ups and attendance

unsigned
vol_signup (ts_ctx *ctx, const Tashan__Volunteers__SignUpRequest *req, vol_signup_rec *rep)
{
    unsigned rc;
    uint64_t no;
    vol_session *s;
    vol_person *person;
    if ((rc = s_ref_session (ctx, req->id, &no, &s))
    ||  (rc = vol_ref_person (ctx, "person_id", req->person_id, &person)))
        return rc;
    if (strcmp (s->project_kind, "volunteer") == 0 && !vol_volunteer_load (ctx, req->person_id))
        return ts_fail (ctx, TS_UNPROCESSABLE, "person_id: %s is not a volunteer, and %s is a "
                        "volunteer project's session", req->person_id, s->id);
    if (ctx->now_ms >= s->starts_ms)
        return ts_fail (ctx, TS_CONFLICT, "session %s has started: sign-ups are closed", s->id);
    if (s_signup_load (ctx, no, req->person_id))
        return ts_fail (ctx, TS_CONFLICT, "%s is already signed up for %s", req->person_id,
                        s->id);
    if (s->signed_up >= s->capacity)
        return ts_fail (ctx, TS_CONFLICT, "session %s is full (%u places)", s->id, s->capacity);
    vol_signup_rec r = TASHAN__VOLUNTEERS__SIGNUP__INIT;
    r.person_id = req->person_id;
    r.status = "signed_up";
    r.signed_up_at = ts_time_text (ctx->arena, ctx->now_ms);
    s_signup_save (ctx, no, &r);
    s->signed_up++;
    s_session_save (ctx, no, s);
    *rep = r;
    return TS_CREATED;
}

unsigned
vol_attend (ts_ctx *ctx, const Tashan__Volunteers__AttendRequest *req, vol_signup_rec *rep)
{
    unsigned rc;
    uint64_t no;
    vol_session *s;
    if ((rc = s_ref_session (ctx, req->id, &no, &s))
    ||  (rc = ts_check_str (ctx, "person_id", req->person_id, TS_ID_MAX_CHARS, true))
    ||  (rc = ts_check_range (ctx, "minutes", req->minutes, 1, VOL_MINUTES_MAX)))
        return rc;
    vol_signup_rec *r = s_signup_load (ctx, no, req->person_id);
    if (!r)
        return ts_fail (ctx, TS_UNPROCESSABLE, "person_id: %s did not sign up for %s",
                        req->person_id, s->id);
    if (ctx->now_ms < s->starts_ms)
        return ts_fail (ctx, TS_CONFLICT, "session %s has not started yet", s->id);
    if (strcmp (r->status, "attended") == 0)
        return ts_fail (ctx, TS_CONFLICT, "%s's attendance at %s is already recorded",
                        req->person_id, s->id);
    r->status = "attended";
    r->minutes = req->minutes;
    r->attended_at = ts_time_text (ctx->arena, ctx->now_ms);
    s_signup_save (ctx, no, r);
    char key [2 * TS_ID_MAX_CHARS + 16];
    snprintf (key, sizeof key, "attend:%s:%s", s->id, req->person_id);
    char note [128];
    snprintf (note, sizeof note, "session %s of project %s", s->id, s->project_id);
    if (strcmp (s->project_kind, "volunteer") == 0) {
        vol_volunteer *v = vol_volunteer_load (ctx, req->person_id);
        if (!v)
            return ts_fail (ctx, TS_UNPROCESSABLE, "person_id: %s is no volunteer",
                            req->person_id);
        vol_hours_count (ctx, v, req->minutes, key, note, false);
    }
    else
        vol_credit (ctx, req->person_id, "programme.attended", 1, key, note);
    *rep = *r;
    return TS_CREATED;
}

//  --------------------------------------------------------------------
//  Timers

void
vol_session_timer (ts_ctx *ctx, char kind, uint64_t ref, uint64_t check, int64_t fire_ms)
{
    vol_session *s = s_session_load (ctx, ref);
    if (!s || (int64_t) check != s->starts_ms)
        return;
    vol_signup_rec **list;
    size_t n = s_signups (ctx, ref, &list);
    if (kind == VOL_TIMER_SESSION_REMIND) {
        int64_t hours = (s->starts_ms - fire_ms + TS_HOUR_MS / 2) / TS_HOUR_MS;
        char text [256];
        snprintf (text, sizeof text, "Reminder: session %s starts in %lld h at %.160s",
                  s->id, (long long) hours, s->place);
        for (size_t i = 0; i < n; i++)
            if (strcmp (list [i]->status, "signed_up") == 0)
                vol_notify (ctx, list [i]->person_id, "session_reminder", s->id, text);
    }
    else
    if (kind == VOL_TIMER_NO_SHOW && !s->closed) {
        for (size_t i = 0; i < n; i++) {
            if (strcmp (list [i]->status, "signed_up") != 0)
                continue;
            list [i]->status = "no_show";
            s_signup_save (ctx, ref, list [i]);
            vol_notify (ctx, list [i]->person_id, "no_show", s->id,
                        "You were marked absent from a session you signed up for");
        }
        s->closed = true;
        s_session_save (ctx, ref, s);
    }
}
