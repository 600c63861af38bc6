/*  ctl_demo_volunteers - tashanctl demo, the volunteers part: the seed's
    "Red Tashan" team 红色塔山, through the volunteers daemon's own methods
    as any client would call them (no seeding back door).

    - 160 volunteers: residents who offer a skill or a volunteer service in
      their household files (the residents daemon's resource list), with
      those categories as skills;
    - 60 party-member pioneer circles, 5 grid elderly mutual-aid circles,
      9 interest circles and 1 mothers' help group, each with a leader
      and members (a volunteer may be in several);
    - posts tailored to skills, one per skill the team holds;
    - the volunteer projects 板凳课堂宣讲团, 红色影院, 幸福来敲门 and the
      neighbourhood-space programmes 老龄竞技赛, 儿童艺点通, 形体礼仪课, each
      with sessions, sign-ups and (for a session just begun) attendance;
    - a few hundred service orders in every state, some made from needs.
    A second run finds the team in place and changes nothing.
    --scale K: K × the team, the orders and the residents they serve, and
    K copies of the circles, projects and programmes (copy r led by and
    signing up copy r's share of the team and residents, its names
    carrying the copy's area as the compounds' do, "(2区)").
    Calls that do not depend on each other (registrations, circle members,
    sign-ups, attendance) go in pipelines (ctl_demo_pipeline.c); the rest,
    the orders' steps above all, one at a time on one socket: the daemon
    dispatches an order by the open orders the steps before left, so
    pipelining them would change who serves whom. */
#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ctl_demo.h"
#include "residents.pb-c.h"
#include "ts_time.h"
#include "volunteers.pb-c.h"

#define TEAM 160
#define SKILLS_MAX 16
#define ORDERS 300
#define LIST_PAGES_MAX 200
#define REPLICATION_WAIT_MS 60000
#define CIRCLES 75                  //  per copy: 60 + 5 + 9 + 1
#define PROJECTS 6                  //  per copy: 3 volunteer projects, 3 programmes

typedef struct {
    char id [64];                   //  person id
    char grid [64];
    char *skills [SKILLS_MAX];      //  static vocabulary strings
    size_t n_skills;
    bool volunteer_kind;            //  offers a volunteer service
} s_member;

typedef struct {
    ctl_t *ctl;
    s_member *team;                 //  up to team_max
    size_t n_team, team_max;        //  TEAM × scale
    uint32_t scale;                 //  copies of the circles and projects
    uint32_t orders;                //  ORDERS × scale
    ctl_progress *progress;         //  the run's, shown as orders go (may be NULL)
    ctl_demo_line *line;            //  to the volunteers daemon, kept open
    uint64_t rng;
    unsigned calls_failed;
} s_demo;

static uint32_t
s_below (s_demo *d, uint32_t n)
{
    d->rng ^= d->rng << 13;
    d->rng ^= d->rng >> 7;
    d->rng ^= d->rng << 17;
    return (uint32_t) (d->rng % n);
}

//  One call to the volunteers daemon on the line; quiet about the
//  expected codes.
static unsigned
s_call (s_demo *d, const char *method, const ProtobufCMessage *req,
        const ProtobufCMessageDescriptor *reply_desc, ts_arena *arena, void *reply)
{
    unsigned code = ctl_demo_line_call (d->line, method, req, reply_desc, arena, reply);
    if (code >= 400)
        d->calls_failed++;
    return code;
}

//  One step of an order (decline, accept, done, confirm): *o becomes the
//  order as the step left it, and stays as it was when the step failed.
static unsigned
s_order_step (s_demo *d, const char *method, const ProtobufCMessage *req, ts_arena *arena,
              Tashan__Volunteers__Order **o)
{
    Tashan__Volunteers__Order *next = NULL;
    unsigned code = s_call (d, method, req, &tashan__volunteers__order__descriptor, arena,
                            &next);
    if (code == 200 && next)
        *o = next;
    return code;
}

//  The skill of a vocabulary string, as a static string (NULL if none).
static char *
s_skill (const char *category)
{
    static const char *const vocabulary [] = {
        "elderly_care", "child_care", "medical", "repair", "cleaning", "shopping",
        "tutoring", "counselling", "legal", "employment", "transport",
        "companionship", "haircut", "other", NULL
    };
    for (size_t i = 0; vocabulary [i]; i++)
        if (strcmp (vocabulary [i], category) == 0)
            return (char *) vocabulary [i];
    return NULL;
}

static s_member *
s_find (s_demo *d, const char *person_id)
{
    for (size_t i = 0; i < d->n_team; i++)
        if (strcmp (d->team [i].id, person_id) == 0)
            return &d->team [i];
    return NULL;
}

//  The team: providers of resident skills and volunteer services from the
//  household files, volunteer offers first, up to TEAM.
static int
s_pick_team (s_demo *d)
{
    char token [256] = "";
    for (int pass = 0; pass < 2; pass++) {
        token [0] = 0;
        for (int page = 0; page < LIST_PAGES_MAX && d->n_team < d->team_max; page++) {
            ts_arena *arena = ts_arena_new ();
            Tashan__Residents__ListResourcesRequest req =
                TASHAN__RESIDENTS__LIST_RESOURCES_REQUEST__INIT;
            req.page_size = 1000;
            req.page_token = token;
            Tashan__Residents__ListResourcesReply *rep = NULL;
            if (ctl_call (d->ctl, "residents", "residents.ListResources", &req.base,
                          &tashan__residents__list_resources_reply__descriptor, arena,
                          (ProtobufCMessage **) &rep, 30000, false) >= 400 || !rep) {
                ts_arena_destroy (&arena);
                return -1;
            }
            for (size_t i = 0; i < rep->n_resources; i++) {
                Tashan__Residents__Resource *r = rep->resources [i];
                bool volunteer = strcmp (r->provider_kind, "volunteer") == 0;
                bool resident = strcmp (r->provider_kind, "resident") == 0;
                //  Pass 0: volunteer offers; pass 1: residents' skills.
                if ((pass == 0 && !volunteer) || (pass == 1 && !(volunteer || resident))
                ||  strlen (r->provider_id) >= sizeof d->team [0].id
                ||  strlen (r->grid) >= sizeof d->team [0].grid)
                    continue;
                char *skill = s_skill (r->category);
                s_member *m = s_find (d, r->provider_id);
                if (!m) {
                    if (d->n_team == d->team_max)
                        continue;
                    m = &d->team [d->n_team++];
                    memset (m, 0, sizeof *m);
                    snprintf (m->id, sizeof m->id, "%s", r->provider_id);
                    snprintf (m->grid, sizeof m->grid, "%s", r->grid);
                    m->volunteer_kind = volunteer;
                }
                bool held = false;
                for (size_t k = 0; k < m->n_skills; k++)
                    held |= m->skills [k] == skill;
                if (skill && !held && m->n_skills < SKILLS_MAX)
                    m->skills [m->n_skills++] = skill;
            }
            snprintf (token, sizeof token, "%s", rep->next_page_token);
            ts_arena_destroy (&arena);
            if (!token [0])
                break;
        }
    }
    return 0;
}

//  Wait until the volunteers daemon has the team's persons (it learns them
//  from the residents daemon's events).
static int
s_wait_replicated (s_demo *d)
{
    for (int waited_ms = 0; waited_ms < REPLICATION_WAIT_MS; waited_ms += 100) {
        ts_arena *arena = ts_arena_new ();
        ctl_demo_call *calls = ts_arena_alloc (arena, d->n_team * sizeof *calls);
        Tashan__Volunteers__GetPersonRequest *reqs =
            ts_arena_alloc (arena, d->n_team * sizeof *reqs);
        for (size_t i = 0; i < d->n_team; i++) {
            tashan__volunteers__get_person_request__init (&reqs [i]);
            reqs [i].id = d->team [i].id;
            calls [i] = (ctl_demo_call) { .method = "volunteers.GetPerson", .req = &reqs [i].base };
        }
        ctl_demo_line_run (d->line, calls, d->n_team, NULL, arena);
        bool all = true;
        for (size_t i = 0; i < d->n_team; i++)
            all &= calls [i].code == 200;
        ts_arena_destroy (&arena);
        if (all)
            return 0;
        usleep (100 * 1000);
    }
    fprintf (stderr, "tashanctl: the volunteers daemon did not learn the community's persons\n");
    return -1;
}

//  Every member registered, in one pipeline.
static void
s_register (s_demo *d)
{
    ts_arena *arena = ts_arena_new ();
    ctl_demo_call *calls = ts_arena_alloc (arena, d->n_team * sizeof *calls);
    Tashan__Volunteers__RegisterRequest *reqs = ts_arena_alloc (arena, d->n_team * sizeof *reqs);
    for (size_t i = 0; i < d->n_team; i++) {
        s_member *m = &d->team [i];
        if (m->n_skills == 0)
            m->skills [m->n_skills++] = s_skill ("companionship");
        static char *days [] = { "mon", "tue", "wed", "thu", "fri", "sat", "sun" };
        uint32_t first = s_below (d, 7);
        char **avail = ts_arena_alloc (arena, 4 * sizeof *avail);
        for (uint32_t k = 0; k < 4; k++)
            avail [k] = days [(first + k * 2) % 7];
        Tashan__Volunteers__RegisterRequest *req = &reqs [i];
        tashan__volunteers__register_request__init (req);
        req->person_id = m->id;
        req->n_skills = m->n_skills;
        req->skills = m->skills;
        req->n_availability = i % 3 == 0 ? 0 : 4;          //  a third any day
        req->availability = avail;
        calls [i] = (ctl_demo_call) { .method = "volunteers.Register", .req = &req->base };
    }
    ctl_demo_line_run (d->line, calls, d->n_team, NULL, arena);
    for (size_t i = 0; i < d->n_team; i++)
        d->calls_failed += calls [i].code >= 400;
    ts_arena_destroy (&arena);
}

//  One circle led by team member `leader` with `members` more after it.
static void
s_circle (s_demo *d, const char *name, const char *kind, size_t leader, size_t members,
          char *out_id, size_t out_size)
{
    ts_arena *arena = ts_arena_new ();
    Tashan__Volunteers__CreateCircleRequest req = TASHAN__VOLUNTEERS__CREATE_CIRCLE_REQUEST__INIT;
    req.name = (char *) name;
    req.kind = (char *) kind;
    req.leader_person_id = d->team [leader % d->n_team].id;
    Tashan__Volunteers__Circle *c = NULL;
    if (s_call (d, "volunteers.CreateCircle", &req.base, &tashan__volunteers__circle__descriptor,
                arena, &c) == 201 && c) {
        if (out_id)
            snprintf (out_id, out_size, "%s", c->id);
        ctl_demo_call *calls = ts_arena_alloc (arena, (members + 1) * sizeof *calls);
        Tashan__Volunteers__AddMemberRequest *am =
            ts_arena_alloc (arena, (members + 1) * sizeof *am);
        for (size_t k = 1; k <= members; k++) {
            tashan__volunteers__add_member_request__init (&am [k]);
            am [k].id = c->id;
            am [k].person_id = d->team [(leader + k * 7) % d->n_team].id;
            calls [k - 1] = (ctl_demo_call) { .method = "volunteers.AddMember",
                                              .req = &am [k].base };
        }
        ctl_demo_line_run (d->line, calls, members, NULL, arena);
    }
    ts_arena_destroy (&arena);
}

//  Copy `copy` of the circles, into circle_ids [0..CIRCLES): led by the
//  copy's share of the team.
static void
s_circles_copy (s_demo *d, uint32_t copy, char circle_ids [][24])
{
    ts_arena *arena = ts_arena_new ();
    size_t base = (size_t) copy * TEAM;
    char name [64];
    //  60 party-member pioneer circles, 5 grid elderly mutual-aid circles,
    //  9 interest circles and 1 mothers' help group.
    for (size_t i = 0; i < 60; i++) {
        snprintf (name, sizeof name, "党员先锋岗 第%zu组", i + 1);
        s_circle (d, ctl_demo_copy_name (arena, name, copy), "party_pioneer", base + i, 2,
                  circle_ids [i], 24);
    }
    static const char *const grids [] = { "一", "二", "三", "四", "五" };
    for (size_t i = 0; i < 5; i++) {
        snprintf (name, sizeof name, "第%s网格老年互助圈", grids [i]);
        s_circle (d, ctl_demo_copy_name (arena, name, copy), "elderly_mutual_aid",
                  base + 60 + i, 6, circle_ids [60 + i], 24);
    }
    static const char *const interests [] = {
        "书法兴趣圈", "太极拳队", "合唱团", "摄影圈", "棋牌圈", "手工编织圈", "广场舞队",
        "读书会", "园艺圈"
    };
    for (size_t i = 0; i < 9; i++)
        s_circle (d, ctl_demo_copy_name (arena, interests [i], copy), "interest",
                  base + 65 + i, 5, circle_ids [65 + i], 24);
    s_circle (d, ctl_demo_copy_name (arena, "妈妈帮", copy), "moms_help", base + 74, 8,
              circle_ids [74], 24);
    ts_arena_destroy (&arena);
}

static void
s_circles (s_demo *d, char circle_ids [][24])
{
    for (uint32_t copy = 0; copy < d->scale; copy++)
        s_circles_copy (d, copy, circle_ids + (size_t) copy * CIRCLES);
}

static void
s_posts (s_demo *d, char circle_ids [][24])
{
    static const struct { const char *skill, *title; } posts [] = {
        { "elderly_care", "独居老人上门探望" }, { "repair", "家电水电义务维修" },
        { "tutoring", "四点半课堂作业辅导" }, { "companionship", "陪伴聊天 幸福来敲门" },
        { "cleaning", "楼道环境整治" }, { "medical", "健康义诊 量血压" },
        { "haircut", "爱心理发" }, { "shopping", "代买代购" }, { "legal", "法律咨询" },
        { "child_care", "妈妈帮 临时看护" },
    };
    for (size_t i = 0; i < sizeof posts / sizeof posts [0]; i++) {
        ts_arena *arena = ts_arena_new ();
        Tashan__Volunteers__CreatePostRequest req = TASHAN__VOLUNTEERS__CREATE_POST_REQUEST__INIT;
        req.title = (char *) posts [i].title;
        req.skill = (char *) posts [i].skill;
        req.circle_id = circle_ids [strcmp (posts [i].skill, "child_care") == 0 ? 74
                                    : strcmp (posts [i].skill, "elderly_care") == 0 ? 60 : i];
        req.detail = "量身定岗";
        s_call (d, "volunteers.CreatePost", &req.base, &tashan__volunteers__post__descriptor,
                arena, NULL);
        ts_arena_destroy (&arena);
    }
}

typedef struct {
    const char **residents;         //  not on the team: programme sign-ups
    size_t n_residents;
    char (*circle_ids) [24];        //  CIRCLES per copy
    char (*just_begun) [24];        //  PROJECTS per copy: the session begun (or "")
    int64_t last_start_ms;          //  when the last of those begins
} s_projects_ctx;

//  Four sessions of project p of a copy (three weekly, then one starting
//  in 3 s whose attendance s_attend takes) with their sign-ups.
static void
s_sessions (s_demo *d, s_projects_ctx *x, uint32_t copy, size_t p, const char *project_id,
            const char *place, bool volunteer)
{
    ts_arena *arena = ts_arena_new ();
    size_t team_base = (size_t) copy * TEAM;
    size_t residents_base = x->n_residents / d->scale * copy;
    for (int s = 3; s >= 0; s--) {
        Tashan__Volunteers__CreateSessionRequest sr =
            TASHAN__VOLUNTEERS__CREATE_SESSION_REQUEST__INIT;
        int64_t now_ms = (int64_t) time (NULL) * 1000;
        int64_t starts_ms = s == 0 ? now_ms + 3000 : now_ms + s * 7 * TS_DAY_MS;
        if (s == 0)
            x->last_start_ms = starts_ms;
        sr.id = (char *) project_id;
        sr.starts_at = ts_time_text (arena, starts_ms);
        sr.place = (char *) place;
        sr.capacity = volunteer ? 12 : 30;
        sr.duration_minutes = 90;
        Tashan__Volunteers__Session *session = NULL;
        if (s_call (d, "volunteers.CreateSession", &sr.base,
                    &tashan__volunteers__session__descriptor, arena, &session) != 201
        ||  !session)
            continue;
        if (s == 0)
            snprintf (x->just_begun [copy * PROJECTS + p], 24, "%s", session->id);
        size_t signups = volunteer ? 8 : 20;
        ctl_demo_call calls [20];
        Tashan__Volunteers__SignUpRequest su [20];
        for (size_t k = 0; k < signups; k++) {
            tashan__volunteers__sign_up_request__init (&su [k]);
            su [k].id = session->id;
            su [k].person_id = volunteer || x->n_residents == 0
                ? d->team [(team_base + p * 13 + k * 3 + (size_t) s) % d->n_team].id
                : (char *) x->residents [(residents_base + p * 37 + k * 5) % x->n_residents];
            calls [k] = (ctl_demo_call) { .method = "volunteers.SignUp", .req = &su [k].base };
        }
        ctl_demo_line_run (d->line, calls, signups, NULL, arena);
    }
    ts_arena_destroy (&arena);
}

//  Copy `copy` of the projects and programmes, with their sessions.
static void
s_projects_copy (s_demo *d, s_projects_ctx *x, uint32_t copy)
{
    static const struct { const char *name, *kind, *place; size_t circle; } projects [] = {
        { "板凳课堂宣讲团", "volunteer", "小区凉亭", 0 },
        { "红色影院", "volunteer", "社区党群服务中心", 1 },
        { "幸福来敲门", "volunteer", "独居老人家中", 60 },
        { "老龄竞技赛", "programme", "睦邻空间", 0 },
        { "儿童艺点通", "programme", "睦邻空间", 0 },
        { "形体礼仪课", "programme", "睦邻空间", 0 },
    };
    static_assert (sizeof projects / sizeof projects [0] == PROJECTS, "PROJECTS");
    for (size_t p = 0; p < PROJECTS; p++) {
        ts_arena *arena = ts_arena_new ();
        bool volunteer = strcmp (projects [p].kind, "volunteer") == 0;
        Tashan__Volunteers__CreateProjectRequest req =
            TASHAN__VOLUNTEERS__CREATE_PROJECT_REQUEST__INIT;
        req.name = (char *) ctl_demo_copy_name (arena, projects [p].name, copy);
        req.kind = (char *) projects [p].kind;
        req.circle_id = volunteer ? x->circle_ids [copy * CIRCLES + projects [p].circle] : "";
        Tashan__Volunteers__Project *proj = NULL;
        if (s_call (d, "volunteers.CreateProject", &req.base,
                    &tashan__volunteers__project__descriptor, arena, &proj) == 201 && proj)
            s_sessions (d, x, copy, p, proj->id, projects [p].place, volunteer);
        ts_arena_destroy (&arena);
    }
}

//  Attendance of a session's sign-ups, a few no-shows, in one pipeline;
//  the attendances recorded.
static unsigned
s_attend_session (s_demo *d, const Tashan__Volunteers__Session *s, ts_arena *arena)
{
    ctl_demo_call *calls = ts_arena_alloc (arena, (s->n_signups + 1) * sizeof *calls);
    Tashan__Volunteers__AttendRequest *ar =
        ts_arena_alloc (arena, (s->n_signups + 1) * sizeof *ar);
    size_t n = 0;
    for (size_t k = 0; k < s->n_signups; k++) {
        if (k % 5 == 4)
            continue;                   //  a few will be no-shows
        tashan__volunteers__attend_request__init (&ar [n]);
        ar [n].id = s->id;
        ar [n].person_id = s->signups [k]->person_id;
        ar [n].minutes = 60 + 15 * (uint32_t) (k % 4);
        calls [n] = (ctl_demo_call) { .method = "volunteers.Attend", .req = &ar [n].base };
        n++;
    }
    ctl_demo_line_run (d->line, calls, n, NULL, arena);
    unsigned attended = 0;
    for (size_t k = 0; k < n; k++) {
        attended += calls [k].code == 201;
        d->calls_failed += calls [k].code >= 400;
    }
    return attended;
}

//  Attendance at the sessions just begun.
static unsigned
s_attend (s_demo *d, s_projects_ctx *x)
{
    int64_t wait_ms = x->last_start_ms + 500 - (int64_t) time (NULL) * 1000;
    if (wait_ms > 0)
        usleep ((useconds_t) (wait_ms > 5000 ? 5000 : wait_ms) * 1000);
    unsigned attended = 0;
    for (size_t j = 0; j < (size_t) d->scale * PROJECTS; j++) {
        if (!x->just_begun [j][0])
            continue;
        ts_arena *arena = ts_arena_new ();
        Tashan__Volunteers__GetRequest gr = TASHAN__VOLUNTEERS__GET_REQUEST__INIT;
        gr.id = x->just_begun [j];
        Tashan__Volunteers__Session *s = NULL;
        if (s_call (d, "volunteers.GetSession", &gr.base, &tashan__volunteers__session__descriptor,
                    arena, &s) == 200 && s)
            attended += s_attend_session (d, s, arena);
        ts_arena_destroy (&arena);
    }
    return attended;
}

//  The projects of every copy, their sessions, sign-ups and attendance.
static unsigned
s_projects (s_demo *d, char circle_ids [][24], const char **residents, size_t n_residents)
{
    s_projects_ctx x = {
        .residents = residents, .n_residents = n_residents, .circle_ids = circle_ids,
        .just_begun = calloc ((size_t) d->scale * PROJECTS, 24)
    };
    for (uint32_t copy = 0; copy < d->scale; copy++)
        s_projects_copy (d, &x, copy);
    unsigned attended = s_attend (d, &x);
    free (x.just_begun);
    return attended;
}

//  Orders: from open needs of the households first, then direct requests;
//  taken to every state of the loop.
static void
s_orders (s_demo *d, const char **residents, size_t n_residents, unsigned counts [6])
{
    ts_arena *needs_arena = ts_arena_new ();
    Tashan__Residents__ListNeedsRequest nr = TASHAN__RESIDENTS__LIST_NEEDS_REQUEST__INIT;
    nr.status = "open";
    nr.page_size = 1000;
    Tashan__Residents__ListNeedsReply *needs = NULL;
    if (ctl_call (d->ctl, "residents", "residents.ListNeeds", &nr.base,
                  &tashan__residents__list_needs_reply__descriptor, needs_arena,
                  (ProtobufCMessage **) &needs, 30000, false) >= 400)
        needs = NULL;
    size_t need_next = 0;
    uint64_t units = (uint64_t) CTL_DEMO_UNITS_ORDERS * (d->orders / ORDERS), shown = 0;
    for (uint32_t i = 0; i < d->orders; i++) {
        uint64_t due = units * i / d->orders;
        ctl_progress_add (d->progress, "volunteers: service orders", due - shown);
        shown = due;
        ts_arena *arena = ts_arena_new ();
        Tashan__Volunteers__CreateOrderRequest req = TASHAN__VOLUNTEERS__CREATE_ORDER_REQUEST__INIT;
        char key [32];
        snprintf (key, sizeof key, "demo-order-%u", i);
        req.idempotency_key = key;
        req.detail = "社区志愿服务";
        while (needs && need_next < needs->n_needs && i % 3 == 0) {
            Tashan__Residents__Need *n = needs->needs [need_next++];
            if (!n->person_id [0] || !s_skill (n->category))
                continue;
            req.need_id = n->id;
            req.requester_person_id = n->person_id;
            req.category = n->category;
            req.detail = n->detail;
            break;
        }
        if (!req.need_id [0]) {
            if (n_residents == 0)
                break;
            req.requester_person_id = (char *) residents [s_below (d, (uint32_t) n_residents)];
            s_member *m = &d->team [s_below (d, (uint32_t) d->n_team)];
            req.category = m->skills [s_below (d, (uint32_t) m->n_skills)];
        }
        Tashan__Volunteers__Order *o = NULL;
        if (s_call (d, "volunteers.CreateOrder", &req.base, &tashan__volunteers__order__descriptor,
                    arena, &o) >= 400 || !o) {
            ts_arena_destroy (&arena);
            continue;
        }
        //  Spread over the loop: 0 dispatched (or open), 1 declined and
        //  re-dispatched, 2 accepted, 3 done, 4-5 confirmed.
        uint32_t target = i % 6;
        char *vol = o->volunteer_person_id;
        if (vol [0] && target == 1) {
            //  Declined once; every other one of the first ORDERS until
            //  nobody is left to take it (back to open), at most TEAM
            //  times (a larger team is not asked through).
            int declines = i % 12 == 1 && i < ORDERS ? TEAM : 1;
            for (int k = 0; k < declines && o->volunteer_person_id [0]; k++) {
                Tashan__Volunteers__DeclineRequest dr =
                    TASHAN__VOLUNTEERS__DECLINE_REQUEST__INIT;
                dr.id = o->id;
                dr.volunteer_person_id = o->volunteer_person_id;
                dr.reason = "临时有事";
                if (s_order_step (d, "volunteers.Decline", &dr.base, arena, &o) != 200)
                    break;
            }
        }
        else
        if (vol [0] && target >= 2) {
            Tashan__Volunteers__AcceptRequest ar = TASHAN__VOLUNTEERS__ACCEPT_REQUEST__INIT;
            ar.id = o->id;
            ar.volunteer_person_id = vol;
            Tashan__Volunteers__DoneRequest dn = TASHAN__VOLUNTEERS__DONE_REQUEST__INIT;
            dn.id = o->id;
            dn.minutes = 30 + 15 * s_below (d, 8);
            Tashan__Volunteers__ConfirmRequest cr = TASHAN__VOLUNTEERS__CONFIRM_REQUEST__INIT;
            cr.id = o->id;
            cr.rating = 4 + s_below (d, 2);
            cr.comment = "谢谢志愿者";
            if (s_order_step (d, "volunteers.Accept", &ar.base, arena, &o) == 200
            &&  target >= 3
            &&  s_order_step (d, "volunteers.Done", &dn.base, arena, &o) == 200 && target >= 4)
                s_order_step (d, "volunteers.Confirm", &cr.base, arena, &o);
        }
        static const char *const states [] = {
            "open", "dispatched", "accepted", "done", "confirmed"
        };
        for (size_t k = 0; k < 5; k++)
            if (strcmp (o->state, states [k]) == 0)
                counts [k]++;
        counts [5] += o->need_id [0] != 0;
        ts_arena_destroy (&arena);
    }
    ts_arena_destroy (&needs_arena);
}

//  Residents who are not on the team (requesters, programme sign-ups):
//  the persons of the first households, at most max.
static size_t
s_residents (s_demo *d, ts_arena *keep, const char **out, size_t max)
{
    Tashan__Residents__ListNeedsRequest req = TASHAN__RESIDENTS__LIST_NEEDS_REQUEST__INIT;
    req.page_size = 1000;
    Tashan__Residents__ListNeedsReply *rep = NULL;
    size_t n = 0;
    if (ctl_call (d->ctl, "residents", "residents.ListNeeds", &req.base,
                  &tashan__residents__list_needs_reply__descriptor, keep,
                  (ProtobufCMessage **) &rep, 30000, false) >= 400 || !rep)
        return 0;
    for (size_t i = 0; i < rep->n_needs && n < max; i++)
        if (rep->needs [i]->person_id [0] && !s_find (d, rep->needs [i]->person_id))
            out [n++] = rep->needs [i]->person_id;
    return n;
}

int
ctl_demo_volunteers (ctl_t *ctl, const ctl_demo_opts *opts)
{
    s_demo *d = calloc (1, sizeof *d);
    d->ctl = ctl;
    d->rng = opts->seed * 2654435761u + 0x9e3779b97f4a7c15ull;
    d->team_max = (size_t) TEAM * opts->scale;
    d->team = calloc (d->team_max, sizeof *d->team);
    d->orders = ORDERS * opts->scale;
    d->scale = opts->scale;
    d->progress = opts->progress;
    d->line = ctl_demo_line_new (ctl, "volunteers");
    double start_s = opts->progress ? ctl_progress_seconds (opts->progress) : 0;
    size_t residents_max = 400 * (size_t) opts->scale;
    const char **residents = calloc (residents_max, sizeof *residents);
    char (*circle_ids) [24] = NULL;
    int rc = 1;
    ctl_progress_add (opts->progress, "volunteers", 0);
    //  Already there? A second run changes nothing.
    ts_arena *arena = ts_arena_new ();
    Tashan__Volunteers__ListVolunteersRequest lr =
        TASHAN__VOLUNTEERS__LIST_VOLUNTEERS_REQUEST__INIT;
    lr.page_size = 1;
    Tashan__Volunteers__ListVolunteersReply *present = NULL;
    if (ctl_call (ctl, "volunteers", "volunteers.ListVolunteers", &lr.base,
                  &tashan__volunteers__list_volunteers_reply__descriptor, arena,
                  (ProtobufCMessage **) &present, 10000, false) >= 400 || !present)
        goto done;
    if (present->n_volunteers > 0) {
        printf ("volunteers: the team is already present: nothing changed\n");
        rc = 0;
        goto done;
    }
    if (s_pick_team (d) || d->n_team == 0 || s_wait_replicated (d))
        goto done;
    s_register (d);
    circle_ids = calloc ((size_t) d->scale * CIRCLES, sizeof *circle_ids);
    s_circles (d, circle_ids);
    s_posts (d, circle_ids);
    size_t n_residents = s_residents (d, arena, residents, residents_max);
    for (size_t i = 0; n_residents == 0 && i < d->n_team; i++)
        residents [i] = d->team [i].id;
    if (n_residents == 0)
        n_residents = d->n_team;
    unsigned attended = s_projects (d, circle_ids, residents, n_residents);
    unsigned counts [6] = { 0 };
    s_orders (d, residents, n_residents, counts);
    unsigned k = d->scale;
    printf ("volunteers: %zu volunteers, %u circles (%u party pioneer, %u elderly mutual aid, "
            "%u interest, %u moms' help), %u volunteer projects and %u programmes with sessions "
            "(%u attendances), %u orders: %u open, %u dispatched, %u accepted, %u done, "
            "%u confirmed (%u from needs)\n", d->n_team, CIRCLES * k, 60 * k, 5 * k, 9 * k, k,
            3 * k, 3 * k, attended,
            counts [0] + counts [1] + counts [2] + counts [3] + counts [4], counts [0],
            counts [1], counts [2], counts [3], counts [4], counts [5]);
    if (d->calls_failed)
        printf ("volunteers: %u calls refused (e.g. a circle member already in)\n",
                d->calls_failed);
    if (opts->progress)
        printf ("volunteers: %.1f s\n", ctl_progress_seconds (opts->progress) - start_s);
    rc = 0;
done:
    ctl_progress_add (opts->progress, "volunteers", (uint64_t) opts->scale * CTL_DEMO_UNITS_REST / 8);
    ts_arena_destroy (&arena);
    free (residents);
    free (circle_ids);
    ctl_demo_line_destroy (&d->line);
    free (d->team);
    free (d);
    return rc;
}
