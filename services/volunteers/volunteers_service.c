/*  =========================================================================
    volunteers_service - the volunteers daemon's declaration: its method
    table, the residents events it mirrors, and its tick (timers of
    escalation, reminders and no-shows, then open orders re-dispatched).
    The domain and its table layout: volunteers_core.h.
    =========================================================================
*/
#include "volunteers_service.h"
#include "volunteers_verify.h"
#include "volunteers_core.h"

#include <string.h>

#define D(name) &tashan__volunteers__##name##__descriptor
#define V(name) Tashan__Volunteers__##name
#define W TS_METHOD_WRITE
#define R TS_METHOD_READ
#define OPS TS_ROLE_OPS
#define OPS_SYS (TS_ROLE_OPS | TS_ROLE_SYSTEM)

TS_APPLY (s_apply_person, vol_apply_person, Tashan__Events__Person)
TS_APPLY (s_apply_need, vol_apply_need, Tashan__Events__Need)

TS_HANDLER (s_get_person, vol_get_person, V (GetPersonRequest), V (Person))
TS_HANDLER (s_register, vol_register, V (RegisterRequest), V (Volunteer))
TS_HANDLER (s_volunteer_get, vol_volunteer_get, V (GetVolunteerRequest), V (Volunteer))
TS_HANDLER (s_volunteer_list, vol_volunteer_list, V (ListVolunteersRequest),
            V (ListVolunteersReply))
TS_HANDLER (s_circle_create, vol_circle_create, V (CreateCircleRequest), V (Circle))
TS_HANDLER (s_circle_add_member, vol_circle_add_member, V (AddMemberRequest), V (Circle))
TS_HANDLER (s_circle_get, vol_circle_get, V (GetRequest), V (Circle))
TS_HANDLER (s_circle_list, vol_circle_list, V (ListCirclesRequest), V (ListCirclesReply))
TS_HANDLER (s_post_create, vol_post_create, V (CreatePostRequest), V (Post))
TS_HANDLER (s_post_get, vol_post_get, V (GetRequest), V (Post))
TS_HANDLER (s_post_list, vol_post_list, V (ListPostsRequest), V (ListPostsReply))
TS_HANDLER (s_post_suggest, vol_post_suggest, V (SuggestPostsRequest), V (SuggestPostsReply))
TS_HANDLER (s_order_create, vol_order_create, V (CreateOrderRequest), V (Order))
TS_HANDLER (s_order_accept, vol_order_accept, V (AcceptRequest), V (Order))
TS_HANDLER (s_order_decline, vol_order_decline, V (DeclineRequest), V (Order))
TS_HANDLER (s_order_done, vol_order_done, V (DoneRequest), V (Order))
TS_HANDLER (s_order_confirm, vol_order_confirm, V (ConfirmRequest), V (Order))
TS_HANDLER (s_order_get, vol_order_get, V (GetRequest), V (Order))
TS_HANDLER (s_order_list, vol_order_list, V (ListOrdersRequest), V (ListOrdersReply))
TS_HANDLER (s_settings_get, vol_settings_get, V (GetSettingsRequest), V (Settings))
TS_HANDLER (s_settings_set, vol_settings_set, V (Settings), V (Settings))
TS_HANDLER (s_project_create, vol_project_create, V (CreateProjectRequest), V (Project))
TS_HANDLER (s_project_get, vol_project_get, V (GetRequest), V (Project))
TS_HANDLER (s_project_list, vol_project_list, V (ListProjectsRequest), V (ListProjectsReply))
TS_HANDLER (s_session_create, vol_session_create, V (CreateSessionRequest), V (Session))
TS_HANDLER (s_session_get, vol_session_get, V (GetRequest), V (Session))
TS_HANDLER (s_session_list, vol_session_list, V (ListSessionsRequest), V (ListSessionsReply))
TS_HANDLER (s_signup, vol_signup, V (SignUpRequest), V (Signup))
TS_HANDLER (s_attend, vol_attend, V (AttendRequest), V (Signup))
TS_HANDLER (s_report_hours, vol_report_hours, V (ReportHoursRequest), V (HourReport))
TS_HANDLER (s_confirm_hours, vol_confirm_hours, V (ConfirmHoursRequest), V (HourReport))
TS_HANDLER (s_list_reports, vol_list_reports, V (ListHourReportsRequest),
            V (ListHourReportsReply))
TS_HANDLER (s_month_hours, vol_month_hours, V (MonthHoursRequest), V (MonthHoursReply))
TS_HANDLER (s_notifications, vol_notifications, V (ListNotificationsRequest),
            V (ListNotificationsReply))

static const ts_table_def s_tables [] = {
    { "persons", 0 }, { "needs", 0 }, { "hh_needs", 0 }, { "vols", 0 }, { "vol_skill", 0 },
    { "circles", 0 }, { "posts", 0 }, { "orders", 0 }, { "open_ord", 0 }, { "timers", 0 },
    { "projects", 0 }, { "sessions", 0 }, { "signups", 0 }, { "notes", 0 },
    { "minutes", 0 }, { "reports", 0 }, { "settings", 0 },
};

static const ts_method s_methods [] = {
    { "volunteers.GetPerson", D (get_person_request), D (person), s_get_person, R, OPS_SYS, NULL },
    { "volunteers.Register", D (register_request), D (volunteer), s_register, W, OPS_SYS, NULL },
    { "volunteers.GetVolunteer", D (get_volunteer_request), D (volunteer), s_volunteer_get,
      R, OPS_SYS, NULL },
    { "volunteers.ListVolunteers", D (list_volunteers_request), D (list_volunteers_reply),
      s_volunteer_list, R, OPS_SYS, NULL },
    { "volunteers.CreateCircle", D (create_circle_request), D (circle), s_circle_create,
      W, OPS_SYS, NULL },
    { "volunteers.AddMember", D (add_member_request), D (circle), s_circle_add_member,
      W, OPS_SYS, NULL },
    { "volunteers.GetCircle", D (get_request), D (circle), s_circle_get, R, OPS_SYS, NULL },
    { "volunteers.ListCircles", D (list_circles_request), D (list_circles_reply),
      s_circle_list, R, OPS_SYS, NULL },
    { "volunteers.CreatePost", D (create_post_request), D (post), s_post_create,
      W, OPS_SYS, NULL },
    { "volunteers.GetPost", D (get_request), D (post), s_post_get, R, OPS_SYS, NULL },
    { "volunteers.ListPosts", D (list_posts_request), D (list_posts_reply), s_post_list,
      R, OPS_SYS, NULL },
    { "volunteers.SuggestPosts", D (suggest_posts_request), D (suggest_posts_reply),
      s_post_suggest, R, OPS_SYS, NULL },
    { "volunteers.CreateOrder", D (create_order_request), D (order), s_order_create,
      W, OPS_SYS, "idempotency_key" },
    { "volunteers.Accept", D (accept_request), D (order), s_order_accept, W, OPS_SYS, NULL },
    { "volunteers.Decline", D (decline_request), D (order), s_order_decline, W, OPS_SYS, NULL },
    { "volunteers.Done", D (done_request), D (order), s_order_done, W, OPS_SYS, NULL },
    { "volunteers.Confirm", D (confirm_request), D (order), s_order_confirm, W, OPS_SYS, NULL },
    { "volunteers.GetOrder", D (get_request), D (order), s_order_get, R, OPS_SYS, NULL },
    { "volunteers.ListOrders", D (list_orders_request), D (list_orders_reply), s_order_list,
      R, OPS_SYS, NULL },
    { "volunteers.GetSettings", D (get_settings_request), D (settings), s_settings_get,
      R, OPS_SYS, NULL },
    { "volunteers.SetSettings", D (settings), D (settings), s_settings_set, W, OPS_SYS, NULL },
    { "volunteers.CreateProject", D (create_project_request), D (project), s_project_create,
      W, OPS_SYS, NULL },
    { "volunteers.GetProject", D (get_request), D (project), s_project_get, R, OPS_SYS, NULL },
    { "volunteers.ListProjects", D (list_projects_request), D (list_projects_reply),
      s_project_list, R, OPS_SYS, NULL },
    { "volunteers.CreateSession", D (create_session_request), D (session), s_session_create,
      W, OPS_SYS, NULL },
    { "volunteers.GetSession", D (get_request), D (session), s_session_get, R, OPS_SYS, NULL },
    { "volunteers.ListSessions", D (list_sessions_request), D (list_sessions_reply),
      s_session_list, R, OPS_SYS, NULL },
    { "volunteers.SignUp", D (sign_up_request), D (signup), s_signup, W, OPS_SYS, NULL },
    { "volunteers.Attend", D (attend_request), D (signup), s_attend, W, OPS_SYS, NULL },
    { "volunteers.ReportHours", D (report_hours_request), D (hour_report), s_report_hours,
      W, OPS_SYS, "idempotency_key" },
    { "volunteers.ConfirmHours", D (confirm_hours_request), D (hour_report), s_confirm_hours,
      W, OPS_SYS, NULL },
    { "volunteers.ListHourReports", D (list_hour_reports_request), D (list_hour_reports_reply),
      s_list_reports, R, OPS_SYS, NULL },
    { "volunteers.MonthHours", D (month_hours_request), D (month_hours_reply), s_month_hours,
      R, OPS_SYS, NULL },
    { "volunteers.ListNotifications", D (list_notifications_request),
      D (list_notifications_reply), s_notifications, R, OPS_SYS, NULL },
};

static const ts_topic_handler s_residents_topics [] = {
    { "person.created", &tashan__events__person__descriptor, s_apply_person },
    { "person.updated", &tashan__events__person__descriptor, s_apply_person },
    { "person.moved", &tashan__events__person__descriptor, s_apply_person },
    { "person.archived", &tashan__events__person__descriptor, s_apply_person },
    { "need.opened", &tashan__events__need__descriptor, s_apply_need },
    { "need.closed", &tashan__events__need__descriptor, s_apply_need },
};

static const ts_subscription s_subscriptions [] = {
    TS_SUBSCRIPTION ("residents", s_residents_topics),
};

//  One fired timer, to the module that owns its kind.
static void
s_timer (ts_ctx *ctx, char kind, uint64_t ref, uint64_t check, int64_t fire_ms)
{
    if (kind == VOL_TIMER_ESCALATE || kind == VOL_TIMER_ORDER_REMIND)
        vol_order_timer (ctx, kind, ref, check, fire_ms);
    else
    if (kind == VOL_TIMER_SESSION_REMIND || kind == VOL_TIMER_NO_SHOW)
        vol_session_timer (ctx, kind, ref, check, fire_ms);
}

static unsigned
s_tick (ts_ctx *ctx)
{
    vol_timers_run (ctx, s_timer);
    vol_orders_redispatch (ctx);
    return TS_OK;
}

const ts_service volunteers_service = {
    .name = "volunteers",
    .summary = "tashan volunteers daemon (SPEC §2 volunteers): circles, posts, closed-loop "
               "service orders, projects and the neighbourhood space",
    .schema_version = 1,
    TS_TABLES (s_tables),
    TS_METHODS (s_methods),
    TS_SUBSCRIPTIONS (s_subscriptions),
    .tick = s_tick,
    .tick_ms = 1000,
    .verify = volunteers_verify,
};
