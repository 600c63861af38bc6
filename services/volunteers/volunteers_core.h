/*  =========================================================================
    volunteers_core - the volunteers domain (SPEC §2 "volunteers", §4
    "Volunteers"): the "Red Tashan" team 红色塔山, its circles, posts
    tailored to skills 量身定岗, closed-loop service orders 按需服务、闭环
    运作 with escalation, projects and the neighbourhood space 睦邻空间,
    reminders and hours.

    Files, each calling only the ones above it:
        volunteers_people.c    persons/needs mirror, volunteers, circles
        volunteers_hours.c     minutes counted, credit events, self-reports,
                               the month's top volunteers and circles
        volunteers_notify.c    the per-person feed and the timers table
        volunteers_dispatch.c  ranking volunteers for one order
        volunteers_orders.c    the order state machine and escalation
        volunteers_posts.c     posts and post suggestions
        volunteers_projects.c  projects, sessions, sign-ups, attendance
        volunteers_service.c   the method table, subscriptions and tick

    Tables (table -> key -> value):
        persons   person_id\0                   -> Person (mirror of residents)
        needs     need_id\0                     -> household_id\0 (open needs)
        hh_needs  household_id\0                -> u64 open needs
        vols      person_id\0                   -> Volunteer
        vol_skill skill\0 person_id\0           -> "" (dispatch index)
        circles   u64 circle no                 -> Circle
        posts     u64 post no                   -> Post
        orders    u64 order no                  -> Order
        open_ord  u64 order no                  -> "" (orders in state open)
        timers    u64 fire_ms, u8 kind, u64 ref -> u64 check (see notify)
        projects  u64 project no                -> Project
        sessions  u64 session no                -> Session (signups empty)
        signups   u64 session no, person_id\0   -> Signup
        notes     person_id\0 u64 seq           -> Notification
        minutes   u32 month, u8 'v'|'c', id\0   -> u64 minutes that month
        reports   u64 report no                 -> HourReport
        settings  "settings"                    -> Settings
    Ids: circles q, posts t, orders o, projects j, sessions s, hour
    reports w, notifications z (ts_id).
    =========================================================================
*/
#ifndef VOLUNTEERS_CORE_H
#define VOLUNTEERS_CORE_H

#include <stdbool.h>
#include <stdint.h>

#include "events.pb-c.h"
#include "ts_service.h"
#include "volunteers.pb-c.h"

typedef Tashan__Volunteers__Person vol_person;
typedef Tashan__Volunteers__Volunteer vol_volunteer;
typedef Tashan__Volunteers__Circle vol_circle;
typedef Tashan__Volunteers__Order vol_order;
typedef Tashan__Volunteers__Settings vol_settings;
typedef Tashan__Volunteers__Session vol_session;
typedef Tashan__Volunteers__Project vol_project;

#define VOL_MAX_OPEN_DEFAULT 3      //  open orders a volunteer takes at once
#define VOL_MAX_OPEN_LIMIT 20
#define VOL_SKILLS_MAX 16
#define VOL_CIRCLES_MAX 32          //  circles one volunteer may be in
#define VOL_MEMBERS_MAX 1000        //  members of one circle
#define VOL_EVENTS_MAX 200          //  events of one order
#define VOL_CANDIDATES_MAX 10000    //  volunteers one dispatch looks at
#define VOL_TIMERS_PER_TICK 1000
#define VOL_OPEN_PER_TICK 64        //  open orders re-dispatched per tick
#define VOL_MINUTES_MAX 1440
#define VOL_CAPACITY_MAX 10000
#define VOL_TOP_DEFAULT 10
#define VOL_TOP_MAX 100

//  Timer kinds (volunteers_notify.c).
enum {
    VOL_TIMER_ESCALATE = 'E',       //  ref order; check = the order's timer_version
    VOL_TIMER_ORDER_REMIND = 'R',   //  ref order; check = the order's due_ms
    VOL_TIMER_SESSION_REMIND = 'S', //  ref session; check = starts_ms
    VOL_TIMER_NO_SHOW = 'N',        //  ref session; check = starts_ms
};

extern const char *const vol_skills [];         //  the needs vocabulary
extern const char *const vol_circle_kinds [];
extern const char *const vol_weekdays [];       //  mon..sun

//  --------------------------------------------------------------------
//  volunteers_people.c

//  Key of one number.
void vol_key_u64 (ts_key *k, uint64_t n);
//  Does list (n items) hold s?
bool vol_has (char **list, size_t n, const char *s);
//  A list field: at most max items, each one of allowed, none twice.
unsigned vol_check_list (ts_ctx *ctx, const char *field, char **list, size_t n, size_t max,
                         const char *const *allowed);
//  A record kept under its number (circles, posts, orders, projects...).
void *vol_load (ts_ctx *ctx, const char *table, uint64_t no,
                const ProtobufCMessageDescriptor *desc);
void vol_save (ts_ctx *ctx, const char *table, uint64_t no, const ProtobufCMessage *msg);

unsigned vol_apply_person (ts_ctx *ctx, const Tashan__Events__Person *p,
                           const Tashan__Event *event);
unsigned vol_apply_need (ts_ctx *ctx, const Tashan__Events__Need *n,
                         const Tashan__Event *event);
unsigned vol_get_person (ts_ctx *ctx, const Tashan__Volunteers__GetPersonRequest *req,
                         vol_person *rep);
//  The mirrored person, NULL when unknown.
vol_person *vol_person_load (ts_ctx *ctx, const char *person_id);
//  An active (not archived) known person named by a request field, or 422.
unsigned vol_ref_person (ts_ctx *ctx, const char *field, const char *id, vol_person **out);
//  Is need_id an open need? Its household into *household (arena).
bool vol_need_open (ts_ctx *ctx, const char *need_id, char **household);

vol_volunteer *vol_volunteer_load (ts_ctx *ctx, const char *person_id);
void vol_volunteer_save (ts_ctx *ctx, const vol_volunteer *v);
//  A volunteer named by a request field, or `code` (404 / 422).
unsigned vol_ref_volunteer (ts_ctx *ctx, const char *field, const char *id,
                            unsigned code, vol_volunteer **out);
unsigned vol_register (ts_ctx *ctx, const Tashan__Volunteers__RegisterRequest *req,
                       vol_volunteer *rep);
unsigned vol_volunteer_get (ts_ctx *ctx, const Tashan__Volunteers__GetVolunteerRequest *req,
                            vol_volunteer *rep);
unsigned vol_volunteer_list (ts_ctx *ctx, const Tashan__Volunteers__ListVolunteersRequest *req,
                             Tashan__Volunteers__ListVolunteersReply *rep);

vol_circle *vol_circle_load (ts_ctx *ctx, uint64_t no);
void vol_circle_save (ts_ctx *ctx, uint64_t no, const vol_circle *c);
unsigned vol_ref_circle (ts_ctx *ctx, const char *field, const char *id, unsigned code,
                         uint64_t *no, vol_circle **out);
unsigned vol_circle_create (ts_ctx *ctx, const Tashan__Volunteers__CreateCircleRequest *req,
                            vol_circle *rep);
unsigned vol_circle_add_member (ts_ctx *ctx, const Tashan__Volunteers__AddMemberRequest *req,
                                vol_circle *rep);
unsigned vol_circle_get (ts_ctx *ctx, const Tashan__Volunteers__GetRequest *req, vol_circle *rep);
unsigned vol_circle_list (ts_ctx *ctx, const Tashan__Volunteers__ListCirclesRequest *req,
                          Tashan__Volunteers__ListCirclesReply *rep);
//  The leader of the first circle of v that someone else leads; NULL if none.
const char *vol_leader_of (ts_ctx *ctx, const vol_volunteer *v);
//  Does leader lead a circle that person belongs to?
bool vol_leads (ts_ctx *ctx, const char *leader, const vol_volunteer *member);

//  --------------------------------------------------------------------
//  volunteers_hours.c

//  Count minutes of a volunteer this month (volunteer, their circles) and
//  request the ledger's volunteer.hour credit under key (once: keys are
//  unique per order / attendance / report). confirmed: an order counted.
void vol_hours_count (ts_ctx *ctx, vol_volunteer *v, uint32_t minutes, const char *key,
                      const char *note, bool order_confirmed);
//  Request a ledger credit (credit.requested) for any rule.
void vol_credit (ts_ctx *ctx, const char *person_id, const char *rule, int32_t quantity,
                 const char *key, const char *note);
int64_t vol_month_minutes (ts_ctx *ctx, char kind, const char *id, int month_index);
unsigned vol_month_hours (ts_ctx *ctx, const Tashan__Volunteers__MonthHoursRequest *req,
                          Tashan__Volunteers__MonthHoursReply *rep);
unsigned vol_report_hours (ts_ctx *ctx, const Tashan__Volunteers__ReportHoursRequest *req,
                           Tashan__Volunteers__HourReport *rep);
unsigned vol_confirm_hours (ts_ctx *ctx, const Tashan__Volunteers__ConfirmHoursRequest *req,
                            Tashan__Volunteers__HourReport *rep);
unsigned vol_list_reports (ts_ctx *ctx, const Tashan__Volunteers__ListHourReportsRequest *req,
                           Tashan__Volunteers__ListHourReportsReply *rep);

//  --------------------------------------------------------------------
//  volunteers_notify.c

void vol_notify (ts_ctx *ctx, const char *person_id, const char *kind, const char *ref,
                 const char *text);
void vol_timer_set (ts_ctx *ctx, int64_t fire_ms, char kind, uint64_t ref, uint64_t check);
//  Reminder timers 24 h and 2 h before at_ms (those still ahead), check at_ms.
void vol_remind_before (ts_ctx *ctx, int64_t at_ms, char kind, uint64_t ref);
unsigned vol_notifications (ts_ctx *ctx, const Tashan__Volunteers__ListNotificationsRequest *req,
                            Tashan__Volunteers__ListNotificationsReply *rep);
//  One fired timer; the handler of its kind decides whether it still holds.
typedef void (*vol_timer_fn) (ts_ctx *ctx, char kind, uint64_t ref, uint64_t check,
                              int64_t fire_ms);
//  Fire every timer due at ctx->now_ms (at most VOL_TIMERS_PER_TICK),
//  deleting each. Returns the count fired.
uint32_t vol_timers_run (ts_ctx *ctx, vol_timer_fn fn);

//  Settings (defaults when never set).
vol_settings *vol_settings_load (ts_ctx *ctx);
unsigned vol_settings_get (ts_ctx *ctx, const Tashan__Volunteers__GetSettingsRequest *req,
                           vol_settings *rep);
unsigned vol_settings_set (ts_ctx *ctx, const vol_settings *req, vol_settings *rep);

//  --------------------------------------------------------------------
//  volunteers_dispatch.c

//  The rank of one candidate: lower is better. Same grid first, then
//  fewest open orders, then available today, then the older volunteer.
typedef struct {
    uint32_t grid_miss;             //  0 same grid as the requester, 1 not
    uint32_t open_orders;           //  dispatched or accepted now
    uint32_t unavailable;           //  0 available today (or any day), 1 not
} vol_rank;
//  Is a better than b (strictly)?
bool vol_rank_better (const vol_rank *a, const vol_rank *b);
//  Weekday index 0 (mon) .. 6 (sun) of a unix ms time, local.
int vol_weekday (int64_t unix_ms);
//  The best free volunteer for category at grid, none of excluded (n),
//  never the requester. Returns an arena copy of the id, NULL if none.
char *vol_dispatch_pick (ts_ctx *ctx, const char *category, const char *grid,
                         const char *requester, char **excluded, size_t n_excluded);

//  --------------------------------------------------------------------
//  volunteers_orders.c

//  May an order in state go through action ("accept", "decline", "done",
//  "confirm")? The whole transition table, for tests.
bool vol_order_allowed (const char *state, const char *action);
vol_order *vol_order_load (ts_ctx *ctx, uint64_t no);
unsigned vol_order_create (ts_ctx *ctx, const Tashan__Volunteers__CreateOrderRequest *req,
                           vol_order *rep);
unsigned vol_order_accept (ts_ctx *ctx, const Tashan__Volunteers__AcceptRequest *req,
                           vol_order *rep);
unsigned vol_order_decline (ts_ctx *ctx, const Tashan__Volunteers__DeclineRequest *req,
                            vol_order *rep);
unsigned vol_order_done (ts_ctx *ctx, const Tashan__Volunteers__DoneRequest *req,
                         vol_order *rep);
unsigned vol_order_confirm (ts_ctx *ctx, const Tashan__Volunteers__ConfirmRequest *req,
                            vol_order *rep);
unsigned vol_order_get (ts_ctx *ctx, const Tashan__Volunteers__GetRequest *req, vol_order *rep);
unsigned vol_order_list (ts_ctx *ctx, const Tashan__Volunteers__ListOrdersRequest *req,
                         Tashan__Volunteers__ListOrdersReply *rep);
//  Timers of orders (escalation, reminders).
void vol_order_timer (ts_ctx *ctx, char kind, uint64_t ref, uint64_t check, int64_t fire_ms);
//  Try to dispatch open orders (the tick). Returns the count dispatched.
uint32_t vol_orders_redispatch (ts_ctx *ctx);

//  --------------------------------------------------------------------
//  volunteers_posts.c

unsigned vol_post_create (ts_ctx *ctx, const Tashan__Volunteers__CreatePostRequest *req,
                          Tashan__Volunteers__Post *rep);
unsigned vol_post_get (ts_ctx *ctx, const Tashan__Volunteers__GetRequest *req,
                       Tashan__Volunteers__Post *rep);
unsigned vol_post_list (ts_ctx *ctx, const Tashan__Volunteers__ListPostsRequest *req,
                        Tashan__Volunteers__ListPostsReply *rep);
unsigned vol_post_suggest (ts_ctx *ctx, const Tashan__Volunteers__SuggestPostsRequest *req,
                           Tashan__Volunteers__SuggestPostsReply *rep);

//  --------------------------------------------------------------------
//  volunteers_projects.c

unsigned vol_project_create (ts_ctx *ctx, const Tashan__Volunteers__CreateProjectRequest *req,
                             vol_project *rep);
unsigned vol_project_get (ts_ctx *ctx, const Tashan__Volunteers__GetRequest *req,
                          vol_project *rep);
unsigned vol_project_list (ts_ctx *ctx, const Tashan__Volunteers__ListProjectsRequest *req,
                           Tashan__Volunteers__ListProjectsReply *rep);
unsigned vol_session_create (ts_ctx *ctx, const Tashan__Volunteers__CreateSessionRequest *req,
                             vol_session *rep);
unsigned vol_session_get (ts_ctx *ctx, const Tashan__Volunteers__GetRequest *req,
                          vol_session *rep);
unsigned vol_session_list (ts_ctx *ctx, const Tashan__Volunteers__ListSessionsRequest *req,
                           Tashan__Volunteers__ListSessionsReply *rep);
unsigned vol_signup (ts_ctx *ctx, const Tashan__Volunteers__SignUpRequest *req,
                     Tashan__Volunteers__Signup *rep);
unsigned vol_attend (ts_ctx *ctx, const Tashan__Volunteers__AttendRequest *req,
                     Tashan__Volunteers__Signup *rep);
//  Timers of sessions (reminders, no-shows).
void vol_session_timer (ts_ctx *ctx, char kind, uint64_t ref, uint64_t check, int64_t fire_ms);

#endif
