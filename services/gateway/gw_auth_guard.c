/*  gw_auth_guard - authenticating an HTTP request. A failure (no token, a
    malformed, unknown, revoked or expired one) costs the client: it counts
    against the per-address rate limit (so a flood of guesses soon gets 429
    with Retry-After instead of more 401s), and it is logged, at most
    GW_AUTH_FAIL_LOG_PER_S lines a second, each saying how many failures
    went unlogged before it. See gw_auth.h. */
#include "gw_auth_internal.h"

#include <assert.h>
#include <stdio.h>
#include <string.h>

#include "ts_log.h"
#include "ts_status.h"

void
gw_auth_guard (gw_auth *self, gw_ratelimit *per_address, uv_loop_t *loop)
{
    assert (self && self->magic == AUTH_MAGIC);
    assert (!per_address || loop);
    self->per_address = per_address;
    self->loop = loop;
}

//  Log one failure unless this second's lines are spent.
static void
s_log_failure (gw_auth *self, gw_http_request *req, bool limited, uint64_t now_ms)
{
    uint64_t window_ms = now_ms - now_ms % 1000;
    if (window_ms != self->fail_window_ms) {
        self->fail_window_ms = window_ms;
        self->fail_logged = 0;
    }
    if (self->fail_logged >= GW_AUTH_FAIL_LOG_PER_S) {
        self->fail_suppressed++;
        return;
    }
    self->fail_logged++;
    const char *authorization = gw_http_request_header (req, "Authorization");
    //  Never the token itself: only whether one was given.
    ts_log_warn ("auth_failed", "address=%s method=%s path=\"%.100s\" token=%s answer=%u "
                 "unlogged_before=%llu", gw_http_request_remote_ip (req),
                 gw_http_request_method (req), gw_http_request_path (req),
                 authorization ? "given" : "none", limited ? 429u : 401u,
                 (unsigned long long) self->fail_suppressed);
    self->fail_suppressed = 0;
}

unsigned
gw_auth_request (gw_auth *self, gw_http_request *req, ts_arena *arena,
                 const char **role, const char **binding, const char **principal)
{
    assert (self && self->magic == AUTH_MAGIC);
    if (gw_auth_check (self, gw_http_request_header (req, "Authorization"), arena,
                       role, binding, principal))
        return TS_OK;
    bool limited = false;
    uint64_t now_ms = self->loop ? uv_now (self->loop) : 0;
    if (self->per_address)
        limited = !gw_ratelimit_allow (self->per_address, gw_http_request_remote_ip (req), now_ms);
    s_log_failure (self, req, limited, now_ms);
    return limited ? TS_TOO_MANY : TS_UNAUTHORIZED;
}
