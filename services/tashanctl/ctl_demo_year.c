/*  ctl_demo_year - tashanctl demo, the year part: the Tashan community as
    it looks after a year, made through the daemons' own methods with the
    caller a real client has (ctl_call_as), never a seeding back door.

    - credit: twelve months (--months) of covenant evaluations by the
      evaluation panel 评定小组 (role panel, ledger.EvaluateBatch dated by
      observed_on into their month), most residents a little positive, a
      few bad months; the schools' monthly medal batches (role school,
      S1/S2); every past month closed by ops (boards published); appeals
      filed and decided;
    - merchants: the 447 units (27 co-building: the proposals part, run
      after this one, takes its tender bidders from them), complaints (two
      on "watch"), 27 convenience markets with 120 enrolled merchants and
      about 1,000 check-ins, notices 企业微圈;
    - the card's offers: the community shop and two course providers,
      pupils' redemptions.
    --scale K: K × all of it, copy r of the registry, markets and
    redemptions serving copy r of the community (ctl_demo.h), three
    appeals from each copy's residents, each notice once per copy with
    the copy's area in its title; the evaluations and medals scale with
    the persons by themselves.
    Deterministic for a seed: the choices are hashes of the seed and what
    they are about; every keyed write carries a key derived from it.
    tashanctl demo runs only on empty stores (ctl_demo_stores.c). Calls
    that come in numbers go many at a time on one DEALER (ctl_demo_pipeline), so
    the daemons commit them in groups.
    Check-ins carry their market's day (served_at). A card code is valid
    only from its issue on and the ledger issues it now, so a code shown
    at a past market cannot exist: those markets' sign-in sheets were on
    paper, and the office enters them as ops with the person and the
    reason (the override the API has for a resident without a code, kept
    with the check-in as such). The last market is today's: there the
    merchants' apps scan card codes the residents show. */
#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ctl_demo.h"
#include "ledger.pb-c.h"
#include "merchants.pb-c.h"
#include "residents.pb-c.h"
#include "ts_time.h"

#define BATCH_MAX 1000
#define WAIT_MS 60000
//  447 units and 27 co-building ones in all: the proposals part adds its
//  four co-building units (ctl_demo_proposals.c) to these.
#define MERCHANTS 447               //  per copy (--scale)
#define CO_BUILDING 27
#define MARKETS 27
#define MARKET_POOL 120
#define CHECKINS 1000
#define SERVED_POOL 400
#define MARKET_EVERY_DAYS 13
#define ENROLLED 18                 //  merchants a market

#define F_PUPIL 1
#define F_PARTY 2
#define F_VETERAN 4
#define F_CONSENT 8

typedef struct {
    char id [24];
    char school [8];
    char pupil_no [24];
    unsigned flags;
} y_person;

typedef struct {
    char id [24];
    const char *free_service;       //  static; NULL when not at markets
} y_merchant;

typedef struct {
    ctl_t *ctl;
    uint64_t seed;
    y_person *persons;
    size_t n_persons, cap_persons;
    y_merchant *merchants;          //  MERCHANTS × scale, copy r from r × MERCHANTS
    size_t n_merchants;             //  MERCHANTS × scale
    size_t n_registered;            //  of them, those the registry took
    int month0;                     //  month index of the first month
    uint32_t months, scale;
    ctl_progress *progress;
    int today_day;                  //  day of the month today (local)
    //  counts for the summary
    unsigned evals, evals_bad, eval_dups, eval_rejected, closed, medals [2], medal_dups;
    unsigned appeals_accepted, appeals_refused, appeals_open;
    unsigned co_building, complaints, watch, markets, enrolments, checkins, codes, notices;
    unsigned offers, redeemed, short_cards;
    unsigned failed;
} y_demo;

static double
s_seconds (void)
{
    struct timespec ts;
    clock_gettime (CLOCK_MONOTONIC, &ts);
    return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}

static const char *const s_panel [] = {
    "panel:王德顺", "panel:李桂兰", "panel:张建国", "panel:刘振华"
};

//  splitmix64 of the seed and two numbers: the same answer whatever the order.
static uint64_t
s_mix (uint64_t seed, uint64_t a, uint64_t b)
{
    uint64_t z = seed ^ (a * 0x9e3779b97f4a7c15ull) ^ (b * 0xbf58476d1ce4e5b9ull);
    z += 0x9e3779b97f4a7c15ull;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static unsigned
s_call (y_demo *d, const char *role, const char *binding, const char *principal,
        const char *service, const char *method, const ProtobufCMessage *req,
        const ProtobufCMessageDescriptor *reply_desc, ts_arena *arena, void *reply)
{
    return ctl_call_as (d->ctl, role, binding, principal, service, method, req, reply_desc,
                        arena, (ProtobufCMessage **) reply, 30000, true);
}

static bool
s_has_tag (Tashan__Residents__Member *m, const char *tag)
{
    for (size_t i = 0; i < m->n_tags; i++)
        if (strcmp (m->tags [i], tag) == 0)
            return true;
    return false;
}

//  --------------------------------------------------------------------
//  The community: every household's members.

static void
s_add_person (y_demo *d, Tashan__Residents__Member *m)
{
    if (m->archived || strlen (m->id) >= sizeof d->persons [0].id
    ||  strlen (m->school_id) >= sizeof d->persons [0].school
    ||  strlen (m->pupil_no) >= sizeof d->persons [0].pupil_no)
        return;
    if (d->n_persons == d->cap_persons) {
        d->cap_persons = d->cap_persons ? d->cap_persons * 2 : 1024;
        d->persons = realloc (d->persons, d->cap_persons * sizeof *d->persons);
    }
    y_person *p = &d->persons [d->n_persons++];
    memset (p, 0, sizeof *p);
    snprintf (p->id, sizeof p->id, "%s", m->id);
    snprintf (p->school, sizeof p->school, "%s", m->school_id);
    snprintf (p->pupil_no, sizeof p->pupil_no, "%s", m->pupil_no);
    p->flags = (s_has_tag (m, "pupil") && m->pupil_no [0] ? F_PUPIL : 0)
             | (s_has_tag (m, "party_member") ? F_PARTY : 0)
             | (s_has_tag (m, "veteran") ? F_VETERAN : 0)
             | (m->credit_consent ? F_CONSENT : 0);
}

static int
s_community (y_demo *d)
{
    char token [256] = "";
    for (int page = 0; page < 100; page++) {
        ts_arena *arena = ts_arena_new ();
        Tashan__Residents__ListHouseholdsRequest req =
            TASHAN__RESIDENTS__LIST_HOUSEHOLDS_REQUEST__INIT;
        req.page_size = 1000;
        req.page_token = token;
        Tashan__Residents__ListHouseholdsReply *rep = NULL;
        if (s_call (d, "system", "", "tashanctl", "residents", "residents.ListHouseholds",
                    &req.base, &tashan__residents__list_households_reply__descriptor, arena,
                    &rep) >= 400 || !rep) {
            ts_arena_destroy (&arena);
            return -1;
        }
        size_t n = rep->n_households;
        ctl_demo_call *calls = ts_arena_alloc (arena, (n ? n : 1) * sizeof *calls);
        Tashan__Residents__GetRequest *gets = ts_arena_alloc (arena, (n ? n : 1) * sizeof *gets);
        for (size_t i = 0; i < n; i++) {
            tashan__residents__get_request__init (&gets [i]);
            gets [i].id = rep->households [i]->id;
            calls [i] = (ctl_demo_call) { "residents.GetHousehold", "system", "", "tashanctl",
                                   &gets [i].base, 0, NULL };
        }
        ctl_demo_pipeline (d->ctl, "residents", calls, n, &tashan__residents__household__descriptor, arena);
        for (size_t i = 0; i < n; i++) {
            Tashan__Residents__Household *h = (Tashan__Residents__Household *) calls [i].reply;
            if (calls [i].code != 200 || !h) {
                d->failed++;
                continue;
            }
            for (size_t k = 0; k < h->n_members; k++)
                s_add_person (d, h->members [k]);
        }
        snprintf (token, sizeof token, "%s", rep->next_page_token);
        ts_arena_destroy (&arena);
        if (!token [0])
            break;
    }
    return d->n_persons ? 0 : -1;
}

//  The ledger learns persons from the residents' events: wait (bounded)
//  until it knows the last one.
static int
s_wait_ledger (y_demo *d)
{
    for (int waited = 0; waited < WAIT_MS; waited += 100) {
        ts_arena *arena = ts_arena_new ();
        Tashan__Ledger__GetPersonRequest req = TASHAN__LEDGER__GET_PERSON_REQUEST__INIT;
        req.id = d->persons [d->n_persons - 1].id;
        unsigned code = s_call (d, "system", "", "tashanctl", "ledger", "ledger.GetPerson",
                                &req.base, &tashan__ledger__person_credit__descriptor, arena,
                                NULL);
        ts_arena_destroy (&arena);
        if (code == 200)
            return 0;
        usleep (100 * 1000);
    }
    fprintf (stderr, "tashanctl: the ledger did not learn the community's persons\n");
    return -1;
}

//  --------------------------------------------------------------------
//  Credit: evaluations, medals, month close, appeals.

static const char *const s_good [] = {
    "garbage_sorting.good", "garbage_sorting.good", "parking.good", "civil_conduct.good"
};
static const char *const s_good_note [] = {
    "垃圾分类到位", "垃圾分类到位 桶边干净", "规范停车 不占消防通道", "文明出行 邻里互助"
};
static const char *const s_bad [] = {
    "garbage_sorting.bad", "parking.bad", "civil_conduct.bad"
};
static const char *const s_bad_note [] = {
    "垃圾未分类 随意丢放", "车辆堵塞消防通道", "深夜噪音扰民 不听劝阻"
};

//  What the panel saw of person p in month m (item k of up to 3): the
//  rule index (>= 0 good, < 0 bad as -1-index), or INT32_MIN for nothing.
static int
s_verdict (y_demo *d, size_t p, uint32_t m, int k, uint64_t *day_hash)
{
    uint64_t h = s_mix (d->seed, p, (uint64_t) m * 4 + (uint64_t) k);
    *day_hash = h >> 40;
    uint32_t roll = (uint32_t) (h % 1000);
    bool bad_month = s_mix (d->seed ^ 0xbad, p, m) % 1000 < 35;
    if (k == 2)
        return bad_month ? -1 - (int) ((h >> 20) % 3) : INT32_MIN;
    if (bad_month && roll < 700)
        return INT32_MIN;           //  a bad month: mostly nothing good seen
    if (k == 0)
        return roll < 620 ? (int) ((h >> 20) % 4) : INT32_MIN;
    return roll < 180 ? (int) ((h >> 20) % 4) : INT32_MIN;
}

static const char *
s_month (y_demo *d, ts_arena *arena, uint32_t m)
{
    return ts_month_text (arena, d->month0 + (int) m);
}

//  One EvaluateBatch of a month's pipeline: the items so far, as a panel
//  member (the four take turns).
static void
s_batch_add (ctl_demo_call *calls, size_t *n_calls, Tashan__Ledger__EvaluateRequest **items,
             size_t n, ts_arena *arena)
{
    Tashan__Ledger__EvaluateBatchRequest *req = ts_arena_alloc (arena, sizeof *req);
    tashan__ledger__evaluate_batch_request__init (req);
    req->evaluations = ts_arena_alloc (arena, n * sizeof *items);
    memcpy (req->evaluations, items, n * sizeof *items);
    req->n_evaluations = n;
    calls [*n_calls] = (ctl_demo_call) { "ledger.EvaluateBatch", "panel", "", s_panel [*n_calls % 4],
                                  &req->base, 0, NULL };
    (*n_calls)++;
}

static Tashan__Ledger__EvaluateRequest *
s_evaluation (y_demo *d, size_t p, uint32_t m, int k, const char *month, ts_arena *arena)
{
    uint64_t day_hash;
    int v = s_verdict (d, p, m, k, &day_hash);
    if (v == INT32_MIN)
        return NULL;
    int max_day = m == d->months - 1 ? d->today_day : 28;
    Tashan__Ledger__EvaluateRequest *e = ts_arena_alloc (arena, sizeof *e);
    tashan__ledger__evaluate_request__init (e);
    e->person_id = d->persons [p].id;
    e->rule = (char *) (v >= 0 ? s_good [v] : s_bad [-1 - v]);
    e->note = (char *) (v >= 0 ? s_good_note [v] : s_bad_note [-1 - v]);
    e->observed_on = ts_arena_printf (arena, "%s-%02d", month,
                                      1 + (int) (day_hash % (uint64_t) max_day));
    e->idempotency_key = ts_arena_printf (arena, "demo-%llu-ev-%s-%s-%d",
                                          (unsigned long long) d->seed, d->persons [p].id,
                                          month, k);
    d->evals_bad += v < 0;
    return e;
}

//  A month's evaluations in batches of up to 1,000, all in one pipeline.
static void
s_evaluations (y_demo *d, uint32_t m)
{
    ts_arena *arena = ts_arena_new ();
    const char *month = s_month (d, arena, m);
    Tashan__Ledger__EvaluateRequest **items =
        ts_arena_alloc (arena, BATCH_MAX * sizeof *items);
    size_t max_calls = d->n_persons * 3 / BATCH_MAX + 1, n_calls = 0, n = 0;
    ctl_demo_call *calls = ts_arena_alloc (arena, max_calls * sizeof *calls);
    for (size_t p = 0; p < d->n_persons; p++)
        for (int k = 0; k < 3; k++) {
            Tashan__Ledger__EvaluateRequest *e = s_evaluation (d, p, m, k, month, arena);
            if (e)
                items [n++] = e;
            if (n == BATCH_MAX) {
                assert (n_calls < max_calls);
                s_batch_add (calls, &n_calls, items, n, arena);
                n = 0;
            }
        }
    if (n)
        s_batch_add (calls, &n_calls, items, n, arena);
    ctl_demo_pipeline (d->ctl, "ledger", calls, n_calls, &tashan__ledger__batch_reply__descriptor, arena);
    for (size_t i = 0; i < n_calls; i++) {
        Tashan__Ledger__BatchReply *rep = (Tashan__Ledger__BatchReply *) calls [i].reply;
        if (calls [i].code >= 400 || !rep) {
            d->failed++;
            continue;
        }
        d->evals += rep->accepted;
        d->eval_dups += rep->duplicates;
        d->eval_rejected += (unsigned) rep->n_rejected;
    }
    ts_arena_destroy (&arena);
}

static void
s_medals_send (y_demo *d, int s, Tashan__Ledger__MedalEvent **events, size_t n,
               ts_arena *arena)
{
    static const char *const schools [] = { "S1", "S2" };
    Tashan__Ledger__MedalBatchRequest req = TASHAN__LEDGER__MEDAL_BATCH_REQUEST__INIT;
    req.events = events;
    req.n_events = n;
    Tashan__Ledger__BatchReply *rep = NULL;
    char principal [32];
    snprintf (principal, sizeof principal, "school:%s", schools [s]);
    if (s_call (d, "school", schools [s], principal, "ledger", "ledger.SubmitMedals",
                &req.base, &tashan__ledger__batch_reply__descriptor, arena, &rep) >= 400
    ||  !rep)
        d->failed++;
    else {
        d->medals [s] += rep->accepted;
        d->medal_dups += rep->duplicates;
    }
}

//  Each school's medals of a month for its pupils, in batches of 1,000.
static void
s_medals (y_demo *d, uint32_t m)
{
    static const char *const schools [] = { "S1", "S2" };
    static const char *const labels [] = {
        "信用小奖章", "劳动小奖章", "文明小奖章", "志愿服务小奖章"
    };
    for (int s = 0; s < 2; s++) {
        ts_arena *arena = ts_arena_new ();
        const char *month = s_month (d, arena, m);
        Tashan__Ledger__MedalEvent **events = ts_arena_alloc (arena, BATCH_MAX * sizeof *events);
        size_t n = 0;
        for (size_t p = 0; p < d->n_persons; p++) {
            y_person *pp = &d->persons [p];
            uint64_t h = s_mix (d->seed ^ 0x3ed, p, m);
            if (!(pp->flags & F_PUPIL) || strcmp (pp->school, schools [s]) != 0 || h % 100 >= 35)
                continue;
            Tashan__Ledger__MedalEvent *e = ts_arena_alloc (arena, sizeof *e);
            tashan__ledger__medal_event__init (e);
            e->event_id = ts_arena_printf (arena, "demo-%llu-md-%s-%s",
                                           (unsigned long long) d->seed, pp->pupil_no, month);
            e->pupil_no = pp->pupil_no;
            e->month = (char *) month;
            e->medal = (char *) labels [(h >> 16) % 4];
            events [n++] = e;
            if (n == BATCH_MAX) {
                s_medals_send (d, s, events, n, arena);
                n = 0;
            }
        }
        if (n)
            s_medals_send (d, s, events, n, arena);
        ts_arena_destroy (&arena);
    }
}

static void
s_close (y_demo *d, uint32_t m)
{
    ts_arena *arena = ts_arena_new ();
    Tashan__Ledger__CloseMonthRequest req = TASHAN__LEDGER__CLOSE_MONTH_REQUEST__INIT;
    req.month = (char *) s_month (d, arena, m);
    unsigned code = s_call (d, "ops", "", "ops:demo", "ledger", "ledger.CloseMonth", &req.base,
                            &tashan__ledger__month_close__descriptor, arena, NULL);
    if (code == 200 || code == 201 || code == 409)
        d->closed++;                //  409: already closed, as good as done
    else
        d->failed++;
    ts_arena_destroy (&arena);
}

//  Person p files an appeal against a penalty of past month m, the
//  copy's n-th (0 accepted, 1 refused, 2 left open). True when filed.
static bool
s_appeal (y_demo *d, size_t p, uint32_t m, int n)
{
    static const char *const reasons [] = {
        "当天是临时停车卸货, 十分钟内就挪走了", "垃圾是邻居放在我家门口的",
        "当晚是家里老人生病, 不是吵闹"
    };
    static const char *const decisions [] = {
        "评定小组复核属实: 临时卸货, 撤销扣分", "经评定小组复核, 现场照片清楚, 维持原评定"
    };
    ts_arena *arena = ts_arena_new ();
    Tashan__Ledger__ListAppealsRequest lr = TASHAN__LEDGER__LIST_APPEALS_REQUEST__INIT;
    lr.id = d->persons [p].id;
    lr.page_size = 10;
    Tashan__Ledger__AppealPage *ap = NULL;
    Tashan__Ledger__ListEntriesRequest er = TASHAN__LEDGER__LIST_ENTRIES_REQUEST__INIT;
    er.id = d->persons [p].id;
    er.month = (char *) s_month (d, arena, m);
    er.page_size = 100;
    Tashan__Ledger__EntryPage *ep = NULL;
    if (s_call (d, "ops", "", "ops:demo", "ledger", "ledger.ListAppeals", &lr.base,
                &tashan__ledger__appeal_page__descriptor, arena, &ap) != 200 || !ap
    ||  ap->n_appeals > 0
    ||  s_call (d, "ops", "", "ops:demo", "ledger", "ledger.ListEntries", &er.base,
                &tashan__ledger__entry_page__descriptor, arena, &ep) != 200 || !ep) {
        ts_arena_destroy (&arena);
        return false;
    }
    bool filed = false;
    for (size_t i = 0; i < ep->n_entries && !filed; i++) {
        if (strcmp (ep->entries [i]->kind, "penalty") != 0)
            continue;
        Tashan__Ledger__FileAppealRequest fr = TASHAN__LEDGER__FILE_APPEAL_REQUEST__INIT;
        fr.entry_id = ep->entries [i]->id;
        fr.reason = (char *) reasons [n];
        Tashan__Ledger__Appeal *a = NULL;
        if (s_call (d, "ops", "", "ops:demo", "ledger", "ledger.FileAppeal", &fr.base,
                    &tashan__ledger__appeal__descriptor, arena, &a) >= 400 || !a) {
            d->failed++;
            break;
        }
        filed = true;
        if (n == 2) {
            d->appeals_open++;
            break;
        }
        Tashan__Ledger__DecideAppealRequest dr = TASHAN__LEDGER__DECIDE_APPEAL_REQUEST__INIT;
        dr.id = a->id;
        dr.accept = n == 0;
        dr.reason = (char *) decisions [n];
        if (s_call (d, "ops", "", "ops:demo", "ledger", "ledger.DecideAppeal", &dr.base,
                    &tashan__ledger__appeal__descriptor, arena, NULL) >= 400)
            d->failed++;
        else
        if (n == 0)
            d->appeals_accepted++;
        else
            d->appeals_refused++;
    }
    ts_arena_destroy (&arena);
    return filed;
}

//  In each copy of the community three residents appeal a bad evaluation
//  of a past month: one accepted, one refused, one still open.
static void
s_appeals (y_demo *d)
{
    for (uint32_t copy = 0; copy < d->scale; copy++) {
        size_t first = d->n_persons * copy / d->scale;
        size_t end = d->n_persons * (copy + 1) / d->scale;
        int found = 0;
        for (uint32_t m = 0; m + 1 < d->months && found < 3; m++)
            for (size_t p = first; p < end && found < 3; p++) {
                uint64_t day_hash;
                if (s_verdict (d, p, m, 2, &day_hash) != INT32_MIN
                &&  (d->persons [p].flags & F_CONSENT) && s_mix (d->seed ^ 0xa99, p, m) % 4 == 0
                &&  s_appeal (d, p, m, found))
                    found++;
            }
    }
}

static void
s_credit (y_demo *d)
{
    for (uint32_t m = 0; m < d->months; m++) {
        s_evaluations (d, m);
        s_medals (d, m);            //  before the close: closed months refuse medals
        if (m + 1 < d->months)
            s_close (d, m);
        ctl_progress_add (d->progress, "credit: the panel's months",
                          (uint64_t) d->scale * CTL_DEMO_UNITS_MONTH);
    }
    s_appeals (d);
}

//  --------------------------------------------------------------------
//  Merchants, markets, notices.

static const char *const s_places [] = {
    "塔山", "环翠", "威海", "新威", "海滨", "福泰", "华夏", "金海", "东城", "蓝天", "鲁东",
    "胶东"
};
static const struct { const char *biz, *category, *free; } s_firms [] = {
    { "物业服务有限公司", "property", NULL }, { "建筑装饰工程有限公司", "renovation", NULL },
    { "电子科技有限公司", "electronics", "免费维修" }, { "商贸有限公司", "retail", NULL },
    { "餐饮管理有限公司", "food", NULL }, { "家政服务有限公司", "housekeeping", "按摩" },
    { "物流有限公司", "logistics", NULL }, { "大药房连锁有限公司", "health", "按摩" },
    { "眼镜有限公司", "optical", "免费维修" }, { "通信器材有限公司", "electronics", "免费维修" },
    { "文化传媒有限公司", "media", NULL }, { "食品有限公司", "food", NULL },
};
static const struct { const char *name; bool co_building; } s_units [] = {
    { "塔山中学", true }, { "塔山小学", true }, { "环翠楼街道办事处", true },
    { "环翠区图书馆塔山分馆", true },
    { "威海市公安局环翠分局塔山警务室", true }, { "中国邮政威海塔山支局", true },
    { "国网威海供电公司塔山供电所", true }, { "威海市自来水公司塔山营业厅", true },
    { "威海港华燃气塔山服务站", true }, { "中国工商银行威海塔山支行", true },
    { "中国农业银行威海新威路支行", true }, { "威海市商业银行塔山支行", true },
    { "环翠区市场监督管理局塔山所", true }, { "环翠区消防救援大队塔山站", true },
    { "威海市第二人民医院社区门诊", true }, { "环翠区文化馆", true },
    { "塔山幼儿园", true }, { "环翠区老年大学塔山教学点", true },
    { "威海市红十字会环翠服务站", true }, { "环翠区税务局塔山办税点", false },
    { "中国移动塔山营业厅", false }, { "中国联通新威路营业厅", false },
    { "环翠区司法所塔山调解室", false }, { "塔山社区居民委员会", false },
    { "威海市慈善总会环翠工作站", false }, { "环翠区人社局塔山服务点", false },
    { "环翠区民政局养老服务站", false },
};
#define UNITS (sizeof s_units / sizeof s_units [0])
static const char *const s_surnames [] = {
    "王", "李", "张", "刘", "陈", "杨", "赵", "黄", "周", "吴", "徐", "孙", "马", "朱", "胡",
    "郭", "何", "林", "高", "罗"
};
static const struct { const char *shop, *category, *service, *free; } s_shops [] = {
    { "家理发店", "beauty", "理发", "义务理发" }, { "师傅家电维修", "repair", "家电维修", "免费维修" },
    { "记小吃", "food", "小吃", NULL }, { "氏推拿馆", "health", "推拿按摩", "按摩" },
    { "记修鞋配钥匙", "repair", "修鞋 配钥匙", "免费维修" }, { "记水果店", "food", "水果", NULL },
    { "姐美发工作室", "beauty", "美发", "义务理发" }, { "记包子铺", "food", "早点", NULL },
    { "家便利店", "retail", "日用百货", NULL }, { "记五金水暖", "repair", "水暖维修", "免费维修" },
    { "氏裁缝铺", "tailoring", "改衣 缝补", NULL }, { "记烧烤", "food", "烧烤", NULL },
    { "家花店", "retail", "鲜花", NULL }, { "记干洗店", "laundry", "干洗", NULL },
    { "氏足疗养生馆", "health", "足疗 按摩", "按摩" },
};
#define SHOPS (sizeof s_shops / sizeof s_shops [0])

//  The registry is made in one pipeline: the requests first.
typedef struct {
    Tashan__Merchants__CreateMerchantRequest req [MERCHANTS];
    char *services [MERCHANTS][1], *frees [MERCHANTS][1];
    const char *free [MERCHANTS];
    size_t n;
    const char *area;               //  a copy's suffix of names ("" for copy 0)
    ts_arena *arena;
} y_registry;

static void
s_spec (y_registry *r, const char *name, const char *kind, const char *category,
        const char *service, const char *free, bool co_building)
{
    if (r->n == MERCHANTS)
        return;
    Tashan__Merchants__CreateMerchantRequest *req = &r->req [r->n];
    tashan__merchants__create_merchant_request__init (req);
    req->name = ts_arena_printf (r->arena, "%s%s", name, r->area);
    req->kind = (char *) kind;
    req->category = (char *) category;
    req->address = "威海市环翠区塔山社区";
    r->services [r->n][0] = (char *) service;
    r->frees [r->n][0] = (char *) free;
    req->n_services = service ? 1 : 0;
    req->services = r->services [r->n];
    req->n_free_services = free ? 1 : 0;
    req->free_services = r->frees [r->n];
    req->co_building = co_building;
    r->free [r->n] = free;
    r->n++;
}

//  The registry of copy `copy`: the card's shop and course providers
//  first, then the units, firms and individual businesses, into
//  d->merchants from copy × MERCHANTS (an id left empty where one failed).
static void
s_registry (y_demo *d, uint32_t copy)
{
    y_registry *r = calloc (1, sizeof *r);
    r->arena = ts_arena_new ();
    r->area = copy ? ts_arena_printf (r->arena, " (%u区)", copy + 1) : "";
    s_spec (r, "塔山社区小超市", "individual", "retail", "日用百货 文具", NULL, false);
    s_spec (r, "童心手工坊", "individual", "education", "儿童手工课", NULL, false);
    s_spec (r, "乐韵音乐培训学校", "enterprise", "education", "音乐课程", NULL, false);
    unsigned co = 0;
    for (size_t i = 0; i < UNITS; i++) {
        co += s_units [i].co_building;
        s_spec (r, s_units [i].name, "institution", "public_service", "便民服务", NULL,
                s_units [i].co_building);
    }
    //  Firms: the first few are co-building units too.
    size_t firms = MERCHANTS - 3 - UNITS - 20 * SHOPS;
    for (size_t i = 0; i < firms; i++) {
        size_t f = i % 12, place = (i / 12) % 12;
        char name [128];
        snprintf (name, sizeof name, "威海%s%s", s_places [place], s_firms [f].biz);
        bool cb = co < CO_BUILDING && (f == 0 || f == 1 || f == 6 || f == 10);
        co += cb;
        s_spec (r, name, "enterprise", s_firms [f].category, s_firms [f].biz, s_firms [f].free,
                cb);
    }
    for (size_t i = 0; i < 20 * SHOPS; i++) {
        size_t s = i % SHOPS, surname = (i / SHOPS) % 20;
        char name [128];
        snprintf (name, sizeof name, "%s%s", s_surnames [surname], s_shops [s].shop);
        s_spec (r, name, "individual", s_shops [s].category, s_shops [s].service,
                s_shops [s].free, false);
    }
    ctl_demo_call *calls = ts_arena_alloc (r->arena, r->n * sizeof *calls);
    for (size_t i = 0; i < r->n; i++)
        calls [i] = (ctl_demo_call) { "merchants.Create", "ops", "", "ops:demo", &r->req [i].base,
                               0, NULL };
    ctl_demo_pipeline (d->ctl, "merchants", calls, r->n, &tashan__merchants__merchant__descriptor,
                r->arena);
    assert (r->n == MERCHANTS);
    for (size_t i = 0; i < r->n; i++) {
        Tashan__Merchants__Merchant *m = (Tashan__Merchants__Merchant *) calls [i].reply;
        y_merchant *y = &d->merchants [copy * MERCHANTS + i];
        if (calls [i].code >= 400 || !m || strlen (m->id) >= sizeof y->id) {
            d->failed++;
            continue;
        }
        snprintf (y->id, sizeof y->id, "%s", m->id);
        y->free_service = r->free [i];
        d->co_building += m->co_building;
        d->n_registered++;
    }
    ts_arena_destroy (&r->arena);
    free (r);
}

//  Complaints on a few merchants that never come to markets: two of them
//  twice (open), which puts them on "watch".
static void
s_complaints (y_demo *d, uint32_t copy)
{
    static const struct { const char *summary, *category, *status, *note; } c [] = {
        { "标价与结账价格不一致", "price", "", "" },
        { "油烟扰民, 夜间营业噪音大", "conduct", "", "" },
        { "售出水果短斤少两", "price", "", "" },
        { "占道经营堵塞人行道", "conduct", "", "" },
        { "维修后一周又坏", "quality", "dismissed", "经核实为使用不当, 商户已免费复修" },
        { "服务态度差", "conduct", "upheld", "商户已道歉并整改" },
    };
    size_t targets [6] = { 0 }, n = 0;
    for (size_t i = (copy + 1) * MERCHANTS; i-- > copy * MERCHANTS && n < 4; )
        if (!d->merchants [i].free_service && d->merchants [i].id [0])
            targets [n++] = i;
    if (n < 4)
        return;
    size_t which [6] = { targets [0], targets [0], targets [1], targets [1], targets [2],
                         targets [3] };
    for (size_t i = 0; i < 6; i++) {
        ts_arena *arena = ts_arena_new ();
        Tashan__Merchants__AddComplaintRequest req =
            TASHAN__MERCHANTS__ADD_COMPLAINT_REQUEST__INIT;
        req.id = d->merchants [which [i]].id;
        req.summary = (char *) c [i].summary;
        req.category = (char *) c [i].category;
        req.status = (char *) c [i].status;
        req.resolution_note = (char *) c [i].note;
        if (s_call (d, "ops", "", "ops:demo", "merchants", "merchants.AddComplaint", &req.base,
                    &tashan__merchants__complaint__descriptor, arena, NULL) >= 400)
            d->failed++;
        else
            d->complaints++;
        ts_arena_destroy (&arena);
    }
    for (size_t i = 0; i < 2; i++) {
        ts_arena *arena = ts_arena_new ();
        Tashan__Merchants__GetMerchantRequest req = TASHAN__MERCHANTS__GET_MERCHANT_REQUEST__INIT;
        req.id = d->merchants [targets [i]].id;
        Tashan__Merchants__Merchant *m = NULL;
        if (s_call (d, "ops", "", "ops:demo", "merchants", "merchants.Get", &req.base,
                    &tashan__merchants__merchant__descriptor, arena, &m) == 200 && m
        &&  strcmp (m->standing, "watch") == 0)
            d->watch++;
        ts_arena_destroy (&arena);
    }
}

static void
s_notice (y_demo *d, const char *title, const char *body, const char *audience)
{
    //  Each copy of the community has its own notices, titled with its area.
    for (uint32_t copy = 0; copy < d->scale; copy++) {
        ts_arena *arena = ts_arena_new ();
        Tashan__Merchants__PostNoticeRequest req = TASHAN__MERCHANTS__POST_NOTICE_REQUEST__INIT;
        req.title = (char *) ctl_demo_copy_name (arena, title, copy);
        req.body = (char *) body;
        req.audience = (char *) audience;
        if (s_call (d, "ops", "", "ops:demo", "merchants", "merchants.PostNotice", &req.base,
                    &tashan__merchants__notice__descriptor, arena, NULL) >= 400)
            d->failed++;
        else
            d->notices++;
        ts_arena_destroy (&arena);
    }
}

//  The residents served at markets: SERVED_POOL × scale adults who
//  consent, drawn by hash from the whole community.
static size_t
s_served_pool (y_demo *d, size_t *who, size_t max)
{
    bool *chosen = calloc (d->n_persons, sizeof *chosen);
    size_t n = 0;
    for (size_t i = 0; i < d->n_persons && n < max; i++) {
        size_t p = (size_t) (s_mix (d->seed ^ 0xc0de, i, 0) % d->n_persons);
        y_person *pp = &d->persons [p];
        if (chosen [p] || !(pp->flags & F_CONSENT) || (pp->flags & F_PUPIL))
            continue;
        chosen [p] = true;
        who [n++] = p;
    }
    free (chosen);
    return n;
}

//  Card codes for today's market: each resident's phone shows one, issued
//  now (role ops, as the office's kiosk does). codes [i] stays "" when
//  the ledger refused.
static void
s_issue_codes (y_demo *d, const size_t *who, size_t n, char (*codes) [512])
{
    ts_arena *arena = ts_arena_new ();
    ctl_demo_call *calls = ts_arena_alloc (arena, (n ? n : 1) * sizeof *calls);
    Tashan__Ledger__IssueCardCodeRequest *reqs = ts_arena_alloc (arena, (n ? n : 1) * sizeof *reqs);
    for (size_t i = 0; i < n; i++) {
        tashan__ledger__issue_card_code_request__init (&reqs [i]);
        reqs [i].id = d->persons [who [i]].id;
        reqs [i].valid_hours = 24;
        calls [i] = (ctl_demo_call) { "ledger.IssueCardCode", "ops", "", "ops:demo", &reqs [i].base,
                               0, NULL };
    }
    ctl_demo_pipeline (d->ctl, "ledger", calls, n, &tashan__ledger__card_code__descriptor, arena);
    for (size_t i = 0; i < n; i++) {
        Tashan__Ledger__CardCode *c = (Tashan__Ledger__CardCode *) calls [i].reply;
        codes [i][0] = 0;
        if (calls [i].code >= 400 || !c || strlen (c->code) >= sizeof codes [0]) {
            d->failed++;
            continue;
        }
        snprintf (codes [i], sizeof codes [0], "%s", c->code);
        d->codes++;
    }
    ts_arena_destroy (&arena);
}

//  One check-in alone, retried (bounded) on 422/429/503: the merchants
//  daemon learns the ledger's key and the persons from events.
static bool
s_checkin_alone (y_demo *d, ctl_demo_call *c, int tries)
{
    for (int t = 0; t < tries; t++) {
        ts_arena *arena = ts_arena_new ();
        unsigned rc = s_call (d, c->role, c->binding, c->principal, "merchants",
                              "merchants.Checkin", c->req,
                              &tashan__merchants__checkin_reply__descriptor, arena, NULL);
        ts_arena_destroy (&arena);
        if (rc < 400)
            return true;
        if (rc != 422 && rc != 429 && rc != 503)
            break;
        usleep (rc == 429 ? 1000 * 1000 : 250 * 1000);
    }
    return false;
}

//  What one market day is: its date, the first service time, the place.
typedef struct {
    uint32_t copy;
    unsigned k;                     //  0..MARKETS-1, the last one today
    const char *id;
    int64_t opens_ms;               //  09:00 local on its day
    bool today;
    y_merchant *enrolled [ENROLLED];
    size_t n_enrolled;
} y_market;

//  A market's check-ins: at a past one the office enters the paper sheet
//  (ops, person and reason, served_at on the market day); today the
//  merchants' apps scan the residents' card codes.
static void
s_market_checkins (y_demo *d, y_market *mk, const size_t *who, size_t n_who,
                   unsigned *checkin_no, ts_arena *arena)
{
    unsigned quota = CHECKINS / MARKETS + (mk->k < CHECKINS % MARKETS);
    ctl_demo_call calls [64];
    Tashan__Merchants__CheckinRequest reqs [64];
    size_t served [64];
    char (*codes) [512] = calloc (64, sizeof *codes);
    unsigned n = 0;
    for (; n < quota && n < 64; n++)
        served [n] = who [s_mix (d->seed ^ 0xc4ec, mk->copy * MARKETS + mk->k, n) % n_who];
    if (mk->today)
        s_issue_codes (d, served, n, codes);
    for (unsigned c = 0; c < n; c++) {
        uint64_t h = s_mix (d->seed ^ 0xc4ec, mk->k, c);
        y_merchant *m = mk->enrolled [h % mk->n_enrolled];
        Tashan__Merchants__CheckinRequest *r = &reqs [c];
        tashan__merchants__checkin_request__init (r);
        r->checkin_id = ts_arena_printf (arena, "demo-%llu-ci-%u",
                                         (unsigned long long) d->seed, (*checkin_no)++);
        r->merchant_id = m->id;
        r->service = (char *) m->free_service;
        r->market_id = (char *) mk->id;
        if (mk->today) {
            r->resident_code = codes [c];
            calls [c] = (ctl_demo_call) { "merchants.Checkin", "merchant", m->id,
                                   ts_arena_printf (arena, "merchant:%s", m->id), &r->base,
                                   0, NULL };
            continue;
        }
        r->person_id = d->persons [served [c]].id;
        r->served_at = ts_time_text (arena, mk->opens_ms + (int64_t) (h >> 24) % (3 * 3600000));
        r->override_reason = ts_arena_printf (arena, "补录: 第%u场便民集市纸质签到表",
                                              mk->k + 1);
        calls [c] = (ctl_demo_call) { "merchants.Checkin", "ops", "", "ops:demo", &r->base, 0, NULL };
    }
    //  The demo's first check-in alone (the merchants daemon may still be
    //  learning the persons and the ledger's key), the rest in a pipeline.
    bool first = *checkin_no == n;
    if (first && n && s_checkin_alone (d, &calls [0], 60))
        d->checkins++;
    size_t from = first ? 1 : 0;
    ctl_demo_pipeline (d->ctl, "merchants", calls + from, n - from, NULL, arena);
    for (size_t c = from; c < n; c++)
        if (calls [c].code < 400 || s_checkin_alone (d, &calls [c], 5))
            d->checkins++;
        else
            d->failed++;
    free (codes);
}

//  Create a market of copy mk->copy and enrol its merchants (ENROLLED of
//  the copy's pool, rotating).
static int
s_market_open (y_demo *d, y_market *mk, y_merchant **pool, size_t n_pool, ts_arena *arena)
{
    static const char *const places [] = { "塔山社区广场", "新威路口小广场", "树山印迹馆前" };
    const char *area = mk->copy ? ts_arena_printf (arena, " (%u区)", mk->copy + 1) : "";
    Tashan__Merchants__CreateMarketRequest req = TASHAN__MERCHANTS__CREATE_MARKET_REQUEST__INIT;
    req.date = ts_arena_printf (arena, "%.10s", ts_time_text (arena, mk->opens_ms));
    req.place = ts_arena_printf (arena, "%s%s", places [mk->k % 3], area);
    req.title = ts_arena_printf (arena, "塔山便民集市 第%u场%s", mk->k + 1, area);
    Tashan__Merchants__Market *market = NULL;
    if (s_call (d, "ops", "", "ops:demo", "merchants", "merchants.CreateMarket", &req.base,
                &tashan__merchants__market__descriptor, arena, &market) >= 400 || !market) {
        d->failed++;
        return -1;
    }
    d->markets++;
    mk->id = market->id;
    y_merchant *wanted [ENROLLED];
    ctl_demo_call calls [ENROLLED];
    Tashan__Merchants__EnrolRequest enrols [ENROLLED];
    for (size_t j = 0; j < ENROLLED; j++) {
        wanted [j] = pool [(mk->k * ENROLLED + j) % n_pool];
        tashan__merchants__enrol_request__init (&enrols [j]);
        enrols [j].id = market->id;
        enrols [j].merchant_id = wanted [j]->id;
        calls [j] = (ctl_demo_call) { "merchants.Enrol", "ops", "", "ops:demo", &enrols [j].base,
                               0, NULL };
    }
    ctl_demo_pipeline (d->ctl, "merchants", calls, ENROLLED, NULL, arena);
    mk->n_enrolled = 0;
    for (size_t j = 0; j < ENROLLED; j++)
        if (calls [j].code < 400) {
            mk->enrolled [mk->n_enrolled++] = wanted [j];
            d->enrolments++;
        }
        else
            d->failed++;
    return mk->n_enrolled ? 0 : -1;
}

//  Copy `copy`'s 27 markets, one every 13 days up to today's.
static void
s_markets (y_demo *d, uint32_t copy, const size_t *who, size_t n_who, unsigned *checkin_no)
{
    y_merchant *pool [MARKET_POOL];
    size_t n_pool = 0;
    for (size_t i = copy * MERCHANTS; i < (copy + 1) * MERCHANTS && n_pool < MARKET_POOL; i++)
        if (d->merchants [i].free_service && d->merchants [i].id [0])
            pool [n_pool++] = &d->merchants [i];
    if (n_pool == 0 || n_who == 0)
        return;
    int64_t now_ms = (int64_t) time (NULL) * 1000;
    for (unsigned k = 0; k < MARKETS; k++) {
        ts_arena *arena = ts_arena_new ();
        y_market mk = { .copy = copy, .k = k, .today = k == MARKETS - 1 };
        int64_t day_ms = now_ms - (int64_t) (MARKETS - 1 - k) * MARKET_EVERY_DAYS * TS_DAY_MS;
        //  09:00 local: the community's day starts at 00:00 +08:00.
        mk.opens_ms = ts_day_of (day_ms) * TS_DAY_MS - 8 * 3600000LL + 9 * 3600000LL;
        if (mk.today)
            mk.opens_ms = now_ms;
        if (s_market_open (d, &mk, pool, n_pool, arena) == 0)
            s_market_checkins (d, &mk, who, n_who, checkin_no, arena);
        ts_arena_destroy (&arena);
        ctl_progress_add (d->progress, "merchants: markets and check-ins",
                          CTL_DEMO_UNITS_MARKET);
    }
}

//  --------------------------------------------------------------------
//  The card's offers and pupils' redemptions.

//  Copy `copy`'s offers: its shop's and course providers'. Their ids and
//  points into ids and costs; returns how many.
static size_t
s_offers_create (y_demo *d, uint32_t copy, char ids [8][24], int64_t costs [8])
{
    const y_merchant *shops = &d->merchants [copy * MERCHANTS];
    int64_t now_ms = (int64_t) time (NULL) * 1000;
    static const struct {
        int merchant; const char *title, *kind, *course, *session; int64_t points; uint32_t stock;
    } offers [] = {
        { 0, "文具套装 (铅笔 橡皮 笔记本)", "item", "", "", 20, 200 },
        { 0, "课外读物一本", "item", "", "", 40, 100 },
        { 0, "跳绳", "item", "", "", 15, 100 },
        { 0, "牛奶一箱", "item", "", "", 60, 50 },
        { 1, "寒假手工课 一个名额", "course_seat", "手工", "周六 9:00-10:30", 80, 30 },
        { 2, "寒假音乐启蒙课 一个名额", "course_seat", "音乐", "周日 14:00-15:30", 100, 30 },
        { 2, "智慧网络课堂 一个名额", "course_seat", "智慧网络课堂", "周三 16:30-17:30", 60, 40 },
    };
    size_t n_offers = sizeof offers / sizeof offers [0];
    size_t n_ids = 0;
    for (size_t i = 0; i < n_offers; i++) {
        ts_arena *arena = ts_arena_new ();
        Tashan__Merchants__CreateOfferRequest req = TASHAN__MERCHANTS__CREATE_OFFER_REQUEST__INIT;
        req.merchant_id = (char *) shops [offers [i].merchant].id;
        req.title = (char *) offers [i].title;
        req.kind = (char *) offers [i].kind;
        req.points = offers [i].points;
        req.stock = offers [i].stock;
        char *session = (char *) offers [i].session;
        if (offers [i].course [0]) {
            req.course = (char *) offers [i].course;
            req.n_sessions = 1;
            req.sessions = &session;
            req.starts_on = ts_arena_printf (arena, "%.10s",
                                             ts_time_text (arena, now_ms + 45 * TS_DAY_MS));
            req.ends_on = ts_arena_printf (arena, "%.10s",
                                           ts_time_text (arena, now_ms + 75 * TS_DAY_MS));
        }
        Tashan__Merchants__Offer *o = NULL;
        if (s_call (d, "ops", "", "ops:demo", "merchants", "merchants.CreateOffer", &req.base,
                    &tashan__merchants__offer__descriptor, arena, &o) < 400 && o
        &&  strlen (o->id) < sizeof ids [0]) {
            snprintf (ids [n_ids], sizeof ids [0], "%s", o->id);
            costs [n_ids++] = o->points;
            d->offers++;
        }
        else
            d->failed++;
        ts_arena_destroy (&arena);
    }
    return n_ids;
}

//  Pupils spend at the shop and on course seats (as the office does at
//  the counter for a child: ops with the person id), mostly on something
//  their card covers (its balance read first), sometimes not (the card
//  is short: 409); in one pipeline, a 503 (the ledger busy) retried with
//  the same key. Copy r's pupils (the persons are listed copy by copy)
//  at copy r's offers.
static void
s_redemptions (y_demo *d, uint32_t copy, char ids [8][24], const int64_t costs [8],
               size_t n_ids)
{
    ts_arena *arena = ts_arena_new ();
    enum { TRIES = 160 };
    ctl_demo_call *calls = ts_arena_alloc (arena, TRIES * sizeof *calls);
    Tashan__Merchants__RedeemOfferRequest *reqs = ts_arena_alloc (arena, TRIES * sizeof *reqs);
    Tashan__Ledger__GetPersonRequest *gets = ts_arena_alloc (arena, TRIES * sizeof *gets);
    uint64_t hashes [TRIES];
    size_t n = 0;
    size_t first = d->n_persons * copy / d->scale, end = d->n_persons * (copy + 1) / d->scale;
    for (size_t p = first; p < end && n < TRIES; p++) {
        y_person *pp = &d->persons [p];
        uint64_t h = s_mix (d->seed ^ 0x7ed, p, 0);
        if (!(pp->flags & F_PUPIL) || !(pp->flags & F_CONSENT) || h % 100 >= 60)
            continue;
        tashan__ledger__get_person_request__init (&gets [n]);
        gets [n].id = pp->id;
        calls [n] = (ctl_demo_call) { "ledger.GetPerson", "system", "", "tashanctl", &gets [n].base,
                               0, NULL };
        tashan__merchants__redeem_offer_request__init (&reqs [n]);
        reqs [n].person_id = pp->id;
        reqs [n].idempotency_key = ts_arena_printf (arena, "demo-%llu-rd-%s",
                                                    (unsigned long long) d->seed, pp->id);
        hashes [n++] = h;
    }
    ctl_demo_pipeline (d->ctl, "ledger", calls, n, &tashan__ledger__person_credit__descriptor, arena);
    for (size_t i = 0; i < n; i++) {
        Tashan__Ledger__PersonCredit *pc = (Tashan__Ledger__PersonCredit *) calls [i].reply;
        int64_t card = calls [i].code == 200 && pc ? pc->card : 0;
        size_t pick = (hashes [i] >> 16) % n_ids;
        //  Four in five choose within their card: the dearest they can pay.
        if ((hashes [i] >> 32) % 5) {
            for (size_t k = 0; k < n_ids; k++)
                if (costs [k] <= card && (costs [pick] > card || costs [k] > costs [pick]))
                    pick = k;
        }
        reqs [i].id = ids [pick];
        calls [i] = (ctl_demo_call) { "merchants.RedeemOffer", "ops", "", "ops:demo", &reqs [i].base,
                               0, NULL };
    }
    ctl_demo_pipeline (d->ctl, "merchants", calls, n, NULL, arena);
    for (size_t i = 0; i < n; i++) {
        unsigned rc = calls [i].code;
        for (int t = 0; t < 10 && (rc == 503 || rc == 504); t++) {
            usleep (200 * 1000);
            rc = s_call (d, "ops", "", "ops:demo", "merchants", "merchants.RedeemOffer",
                         &reqs [i].base, &tashan__merchants__redeem_offer_reply__descriptor,
                         arena, NULL);
        }
        if (rc == 200 || rc == 201)
            d->redeemed++;
        else
        if (rc == 409)
            d->short_cards++;
        else
            d->failed++;
    }
    ts_arena_destroy (&arena);
}

static void
s_offers (y_demo *d)
{
    for (uint32_t copy = 0; copy < d->scale; copy++) {
        char ids [8][24];
        int64_t costs [8];
        size_t n_ids = d->merchants [copy * MERCHANTS].id [0]
                    && d->merchants [copy * MERCHANTS + 2].id [0]
                     ? s_offers_create (d, copy, ids, costs) : 0;
        if (n_ids)
            s_redemptions (d, copy, ids, costs, n_ids);
    }
}

//  --------------------------------------------------------------------

//  The merchants' side, copy by copy: registry, complaints, markets.
static void
s_merchants (y_demo *d)
{
    s_notice (d, "企业微圈开通: 塔山社区商户群",
              "社区商户、共建单位请关注本群通知: 便民集市报名、诚信经营提示。", "");
    size_t max_who = (size_t) SERVED_POOL * d->scale;
    size_t *who = calloc (max_who, sizeof *who);
    size_t n_who = s_served_pool (d, who, max_who);
    unsigned checkin_no = 0;
    for (uint32_t copy = 0; copy < d->scale; copy++) {
        s_registry (d, copy);
        s_complaints (d, copy);
        ctl_progress_add (d->progress, "merchants: the registry", CTL_DEMO_UNITS_REST / 2);
        s_markets (d, copy, who, n_who, &checkin_no);
    }
    free (who);
    s_notice (d, "便民集市招募", "下月便民集市招募免费维修、义务理发、按摩商户, 诚信商户优先。", "");
    s_notice (d, "共建单位问题清单认领", "管家团队已列出本季度问题清单, 请共建单位认领。",
              "co_building");
    s_notice (d, "诚信经营提醒", "明码标价、不占道经营; 居民投诉将影响商户信誉等级。", "");
    s_notice (d, "一卡通兑换说明", "社区小超市与假期课程可用诚信储值卡兑换。", "");
}

static void
s_summary (y_demo *d, double t0, double t1, double t2, double t3, double t4)
{
    printf ("demo year (seed %llu, %u months, scale %u): %u evaluations (%u bad) by the panel "
            "王德顺/李桂兰/张建国/刘振华, %u months closed, %u medals (S1 %u, S2 %u), "
            "appeals %u accepted %u refused %u open\n", (unsigned long long) d->seed, d->months,
            d->scale, d->evals, d->evals_bad, d->closed, d->medals [0] + d->medals [1],
            d->medals [0], d->medals [1], d->appeals_accepted, d->appeals_refused,
            d->appeals_open);
    printf ("demo year: %zu merchants (%u co-building, %u complaints, %u on watch), %u markets "
            "(%u enrolments), %u card codes, %u check-ins, %u notices, %u offers, "
            "%u redemptions (%u cards short)\n", d->n_registered, d->co_building, d->complaints,
            d->watch, d->markets, d->enrolments, d->codes, d->checkins, d->notices, d->offers,
            d->redeemed, d->short_cards);
    printf ("demo year: %.1f s (community %.1f s, credit %.1f s, merchants and markets "
            "%.1f s, offers %.1f s)\n", t4 - t0, t1 - t0, t2 - t1, t3 - t2, t4 - t3);
    if (d->eval_dups || d->eval_rejected || d->medal_dups || d->failed)
        printf ("demo year: %u duplicate and %u refused evaluations, %u duplicate medals, "
                "%u calls failed\n", d->eval_dups, d->eval_rejected, d->medal_dups, d->failed);
}

int
ctl_demo_year (ctl_t *ctl, const ctl_demo_opts *opts)
{
    y_demo *d = calloc (1, sizeof *d);
    d->ctl = ctl;
    d->seed = opts->seed;
    d->months = opts->months;
    d->scale = opts->scale;
    d->progress = opts->progress;
    d->n_merchants = (size_t) MERCHANTS * opts->scale;
    d->merchants = calloc (d->n_merchants, sizeof *d->merchants);
    int64_t now_ms = (int64_t) time (NULL) * 1000;
    d->month0 = ts_month_index_of (now_ms) - (int) d->months + 1;
    d->today_day = (int) ((ts_day_of (now_ms) - ts_day_of (ts_month_start_ms (
                   ts_month_index_of (now_ms)))) + 1);
    int rc = 1;
    double t0 = s_seconds ();
    if (s_community (d) || s_wait_ledger (d))
        goto done;
    double t1 = s_seconds ();
    s_credit (d);
    double t2 = s_seconds ();
    s_merchants (d);
    double t3 = s_seconds ();
    s_offers (d);
    ctl_progress_add (d->progress, "merchants: offers and redemptions",
                      (uint64_t) d->scale * (CTL_DEMO_UNITS_REST / 2 - CTL_DEMO_UNITS_REST / 4));
    s_summary (d, t0, t1, t2, t3, s_seconds ());
    rc = 0;
done:
    free (d->merchants);
    free (d->persons);
    free (d);
    return rc;
}
