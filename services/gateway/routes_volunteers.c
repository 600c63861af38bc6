/*  routes_volunteers - HTTP routes served by the volunteers daemon (SPEC
    section 4 "Volunteers"): volunteers, circles, posts, closed-loop service
    orders, projects and sessions of the neighbourhood space, self-reported
    hours, the month's hours and the notification feed. Roles are enforced
    by the daemon's method table (volunteers_service.c). Literal segments
    come before parameters: the router takes the first pattern that fits. */
#include "gw_route.h"
#include "volunteers.pb-c.h"

#define RQ(name) &tashan__volunteers__##name##__descriptor

const gw_route gw_routes_volunteers [] = {
    //  The persons mirror and the settings (literal before {person_id})
    { "GET", "/v1/volunteers/persons/{id}", "volunteers", "volunteers.GetPerson",
      RQ (get_person_request), RQ (person), 0 },
    { "GET", "/v1/volunteers/settings", "volunteers", "volunteers.GetSettings",
      RQ (get_settings_request), RQ (settings), 0 },
    { "PUT", "/v1/volunteers/settings", "volunteers", "volunteers.SetSettings",
      RQ (settings), RQ (settings), GW_BODY },
    //  Volunteers
    { "POST", "/v1/volunteers", "volunteers", "volunteers.Register",
      RQ (register_request), RQ (volunteer), GW_BODY },
    { "GET", "/v1/volunteers", "volunteers", "volunteers.ListVolunteers",
      RQ (list_volunteers_request), RQ (list_volunteers_reply), 0 },
    { "GET", "/v1/volunteers/{person_id}", "volunteers", "volunteers.GetVolunteer",
      RQ (get_volunteer_request), RQ (volunteer), 0 },
    { "GET", "/v1/volunteers/{person_id}/posts", "volunteers", "volunteers.SuggestPosts",
      RQ (suggest_posts_request), RQ (suggest_posts_reply), 0 },
    //  Circles
    { "POST", "/v1/circles", "volunteers", "volunteers.CreateCircle",
      RQ (create_circle_request), RQ (circle), GW_BODY },
    { "GET", "/v1/circles", "volunteers", "volunteers.ListCircles",
      RQ (list_circles_request), RQ (list_circles_reply), 0 },
    { "GET", "/v1/circles/{id}", "volunteers", "volunteers.GetCircle",
      RQ (get_request), RQ (circle), 0 },
    { "POST", "/v1/circles/{id}/members", "volunteers", "volunteers.AddMember",
      RQ (add_member_request), RQ (circle), GW_BODY },
    //  Posts
    { "POST", "/v1/posts", "volunteers", "volunteers.CreatePost",
      RQ (create_post_request), RQ (post), GW_BODY },
    { "GET", "/v1/posts", "volunteers", "volunteers.ListPosts",
      RQ (list_posts_request), RQ (list_posts_reply), 0 },
    { "GET", "/v1/posts/{id}", "volunteers", "volunteers.GetPost",
      RQ (get_request), RQ (post), 0 },
    //  Service orders
    { "POST", "/v1/service-orders", "volunteers", "volunteers.CreateOrder",
      RQ (create_order_request), RQ (order), GW_BODY },
    { "GET", "/v1/service-orders", "volunteers", "volunteers.ListOrders",
      RQ (list_orders_request), RQ (list_orders_reply), 0 },
    { "GET", "/v1/service-orders/{id}", "volunteers", "volunteers.GetOrder",
      RQ (get_request), RQ (order), 0 },
    { "POST", "/v1/service-orders/{id}/accept", "volunteers", "volunteers.Accept",
      RQ (accept_request), RQ (order), GW_BODY },
    { "POST", "/v1/service-orders/{id}/decline", "volunteers", "volunteers.Decline",
      RQ (decline_request), RQ (order), GW_BODY },
    { "POST", "/v1/service-orders/{id}/done", "volunteers", "volunteers.Done",
      RQ (done_request), RQ (order), GW_BODY },
    { "POST", "/v1/service-orders/{id}/confirm", "volunteers", "volunteers.Confirm",
      RQ (confirm_request), RQ (order), GW_BODY },
    //  Projects and sessions
    { "POST", "/v1/projects", "volunteers", "volunteers.CreateProject",
      RQ (create_project_request), RQ (project), GW_BODY },
    { "GET", "/v1/projects", "volunteers", "volunteers.ListProjects",
      RQ (list_projects_request), RQ (list_projects_reply), 0 },
    { "GET", "/v1/projects/{id}", "volunteers", "volunteers.GetProject",
      RQ (get_request), RQ (project), 0 },
    { "POST", "/v1/projects/{id}/sessions", "volunteers", "volunteers.CreateSession",
      RQ (create_session_request), RQ (session), GW_BODY },
    { "GET", "/v1/projects/{id}/sessions", "volunteers", "volunteers.ListSessions",
      RQ (list_sessions_request), RQ (list_sessions_reply), 0 },
    { "GET", "/v1/sessions/{id}", "volunteers", "volunteers.GetSession",
      RQ (get_request), RQ (session), 0 },
    { "POST", "/v1/sessions/{id}/signups", "volunteers", "volunteers.SignUp",
      RQ (sign_up_request), RQ (signup), GW_BODY },
    { "POST", "/v1/sessions/{id}/attendance", "volunteers", "volunteers.Attend",
      RQ (attend_request), RQ (signup), GW_BODY },
    //  Self-reported hours, the month's hours, the feed
    { "POST", "/v1/hour-reports", "volunteers", "volunteers.ReportHours",
      RQ (report_hours_request), RQ (hour_report), GW_BODY },
    { "GET", "/v1/hour-reports", "volunteers", "volunteers.ListHourReports",
      RQ (list_hour_reports_request), RQ (list_hour_reports_reply), 0 },
    { "POST", "/v1/hour-reports/{id}/confirm", "volunteers", "volunteers.ConfirmHours",
      RQ (confirm_hours_request), RQ (hour_report), GW_BODY },
    { "GET", "/v1/volunteer-hours", "volunteers", "volunteers.MonthHours",
      RQ (month_hours_request), RQ (month_hours_reply), 0 },
    { "GET", "/v1/notifications", "volunteers", "volunteers.ListNotifications",
      RQ (list_notifications_request), RQ (list_notifications_reply), 0 },
};
const size_t gw_routes_volunteers_count = sizeof gw_routes_volunteers / sizeof gw_routes_volunteers [0];
