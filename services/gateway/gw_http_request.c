/*  =========================================================================
    gw_http_request - one HTTP request: the http-parser callbacks that fill
    it in (within the configured limits), its accessors for the handler,
    and gw_http_respond, which queues its answer.
    =========================================================================
*/
//  Invariant asserts stay on in release builds (STYLE: broken invariants
//  are asserts that stay on in production).
#undef NDEBUG
#include <assert.h>
#include <errno.h>
#include <inttypes.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "gw_http_internal.h"
#include "gw_text.h"

//  =========================================================================
//  Requests


//  --------------------------------------------------------------------------
//  Create an empty request for conn.

gw_http_request *
gw_http__req_new (gw_http_conn *conn)
{
    gw_http *server = conn->server;
    gw_http_request *req = server->req_pool;
    if (req) {
        //  A spare: keep its buffers, forget the rest.
        assert (req->magic == 0 && server->req_pool_count > 0);
        server->req_pool = req->next;
        server->req_pool_count--;
        gw_http_request spare = *req;
        *req = (gw_http_request) {
            .head = spare.head, .head_cap = spare.head_cap,
            .headers = spare.headers, .header_cap = spare.header_cap,
            .body = spare.body, .body_cap = spare.body_cap,
            .response = spare.response, .response_cap = spare.response_cap,
        };
        //  The body reads as a string: no bytes of the last request.
        if (req->body)
            req->body [0] = '\0';
    }
    else
        req = calloc (1, sizeof *req);
    if (!req)
        return NULL;
    req->magic = GW_HTTP_REQ_MAGIC;
    req->state = REQ_PARSING;
    req->conn = conn;
    req->path = "/";
    req->query = "";
    memcpy (req->remote, conn->remote, sizeof req->remote);
    memcpy (req->remote_ip, conn->remote_ip, sizeof req->remote_ip);
    return req;
}


//  --------------------------------------------------------------------------
//  Free a request and everything it holds.

//  Free a buffer a spare should not keep (a large one).
static void
s_trim (void **buf, size_t *cap, size_t unit_bytes)
{
    if (*cap * unit_bytes > GW_HTTP_POOL_BUF_BYTES) {
        free (*buf);
        *buf = NULL;
        *cap = 0;
    }
}

void
gw_http__req_free (gw_http_request *req)
{
    assert (req);
    assert (req->magic == GW_HTTP_REQ_MAGIC);
    //  A stale pointer used after this fails the magic check at once.
    req->magic = 0;
    //  A detached request may outlive its server: only one with a live
    //  connection goes back to the pool.
    gw_http *server = req->conn? req->conn->server: NULL;
    if (server && !server->destroyed && server->req_pool_count < GW_HTTP_REQ_POOL_MAX) {
        s_trim ((void **) &req->head, &req->head_cap, 1);
        s_trim ((void **) &req->headers, &req->header_cap, sizeof *req->headers);
        s_trim ((void **) &req->body, &req->body_cap, 1);
        s_trim ((void **) &req->response, &req->response_cap, 1);
        req->next = server->req_pool;
        server->req_pool = req;
        server->req_pool_count++;
        return;
    }
    free (req->head);
    free (req->headers);
    free (req->body);
    free (req->response);
    free (req);
}

void
gw_http__req_pool_free (gw_http *server)
{
    uint32_t freed = 0;
    while (server->req_pool) {
        gw_http_request *req = server->req_pool;
        assert (++freed <= GW_HTTP_REQ_POOL_MAX);
        server->req_pool = req->next;
        free (req->head);
        free (req->headers);
        free (req->body);
        free (req->response);
        free (req);
    }
    server->req_pool_count = 0;
}


//  --------------------------------------------------------------------------
//  Append bytes to the request's head buffer; the caller has checked the
//  limits, so growth is bounded by them.

static int
req_head_append (gw_http_request *req, gw_http *server, const char *data,
                 size_t len)
{
    size_t hard_cap = server->cfg.max_url_bytes + server->cfg.max_header_bytes
                    + 2 * server->cfg.max_headers + 16;
    assert (req->head_len + len + 1 <= hard_cap);
    if (req->head_len + len + 1 > req->head_cap) {
        size_t cap = req->head_cap? req->head_cap * 2: 512;
        while (cap < req->head_len + len + 1)
            cap *= 2;
        if (cap > hard_cap)
            cap = hard_cap;
        char *head = realloc (req->head, cap);
        if (!head)
            return -ENOMEM;
        req->head = head;
        req->head_cap = cap;
    }
    memcpy (req->head + req->head_len, data, len);
    req->head_len += len;
    return 0;
}


//  --------------------------------------------------------------------------
//  Append the request to the connection's queue.

void
gw_http__conn_enqueue (gw_http_conn *conn, gw_http_request *req)
{
    assert (req->next == NULL);
    assert (conn->inflight <= conn->server->cfg.max_inflight);
    if (conn->queue_tail)
        conn->queue_tail->next = req;
    else
        conn->queue_head = req;
    conn->queue_tail = req;
    conn->inflight++;
}


//  =========================================================================
//  http-parser callbacks. They never free the connection: a callback that
//  refuses input records error_status and returns -1; gw_http__conn_parse answers.


//  --------------------------------------------------------------------------
//  Record why the parser was stopped; gw_http__conn_parse sends the answer.

static int
s_refuse (gw_http_conn *conn, unsigned status, const char *code,
          const char *message)
{
    assert (conn->error_status == 0);
    conn->error_status = status;
    conn->error_code = code;
    snprintf (conn->error_message, sizeof conn->error_message, "%s", message);
    return -1;
}

static int
s_refuse_oom (gw_http_conn *conn)
{
    return s_refuse (conn, 503, "unavailable", "out of memory");
}

//  Refuse with a message naming the configured limit.
static int
s_refuse_limit (gw_http_conn *conn, unsigned status, const char *code,
                const char *what, size_t limit)
{
    char message [96];
    snprintf (message, sizeof message, "%s over %zu bytes", what, limit);
    return s_refuse (conn, status, code, message);
}

static int
on_message_begin (http_parser *parser)
{
    gw_http_conn *conn = parser->data;
    assert (conn->req == NULL);
    //  message_complete pauses the parser at the bound.
    assert (conn->inflight < conn->server->cfg.max_inflight);
    gw_http_request *req = gw_http__req_new (conn);
    if (!req)
        return s_refuse_oom (conn);
    req->start_ns = uv_hrtime ();
    req->deadline_ms = uv_now (conn->server->loop)
                     + conn->server->cfg.request_timeout_ms;
    conn->req = req;
    conn->started = true;
    return 0;
}

static int
on_url (http_parser *parser, const char *at, size_t len)
{
    gw_http_conn *conn = parser->data;
    gw_http_request *req = conn->req;
    gw_http *server = conn->server;
    assert (req && req->state == REQ_PARSING);
    if (req->url_len + len > server->cfg.max_url_bytes) {
        server->stats.header_too_large++;
        return s_refuse_limit (conn, 414, "uri_too_long", "request target",
                               server->cfg.max_url_bytes);
    }
    if (req_head_append (req, server, at, len))
        return s_refuse_oom (conn);
    req->url_len += len;
    req->last = LAST_URL;
    return 0;
}


//  --------------------------------------------------------------------------
//  Count header bytes against the limit; trailers count too.

static int
s_header_budget (gw_http_conn *conn, gw_http_request *req, size_t len)
{
    gw_http *server = conn->server;
    req->header_bytes += len;
    if (req->header_bytes > server->cfg.max_header_bytes) {
        server->stats.header_too_large++;
        return s_refuse_limit (conn, 431, "headers_too_large",
                               "request headers", server->cfg.max_header_bytes);
    }
    return 0;
}

static int
on_header_field (http_parser *parser, const char *at, size_t len)
{
    gw_http_conn *conn = parser->data;
    gw_http_request *req = conn->req;
    gw_http *server = conn->server;
    assert (req && req->state == REQ_PARSING);
    if (req->last != LAST_FIELD) {
        //  ": " and CRLF of each line count, so many empty headers cost.
        if (s_header_budget (conn, req, 4))
            return -1;
    }
    if (s_header_budget (conn, req, len))
        return -1;
    //  http-parser 2.9 (not built strict) lets a blank into a field name;
    //  RFC 9112 5.1: no whitespace between the name and the colon.
    if (memchr (at, ' ', len) || memchr (at, '\t', len)) {
        server->stats.parse_errors++;
        return s_refuse (conn, 400, "bad_request", "whitespace in a header field name");
    }
    if (req->headers_done) {
        //  Chunked trailers: bounded above, then ignored.
        req->last = LAST_FIELD;
        return 0;
    }
    if (req->last != LAST_FIELD) {
        if (req->header_count == server->cfg.max_headers) {
            server->stats.header_too_large++;
            return s_refuse (conn, 431, "headers_too_large",
                             "too many header lines");
        }
        if (req->header_count == req->header_cap) {
            size_t cap = req->header_cap? req->header_cap * 2: 16;
            if (cap > server->cfg.max_headers)
                cap = server->cfg.max_headers;
            header_slot *slots = realloc (req->headers, cap * sizeof *slots);
            if (!slots)
                return s_refuse_oom (conn);
            req->headers = slots;
            req->header_cap = cap;
        }
        //  The NUL ends the URL or the previous value.
        if (req_head_append (req, server, "", 1))
            return s_refuse_oom (conn);
        header_slot *slot = &req->headers [req->header_count++];
        slot->name_off = (uint32_t) req->head_len;
        slot->name_len = 0;
        slot->value_off = 0;
        slot->value_len = 0;
    }
    assert (req->header_count > 0);
    if (req_head_append (req, server, at, len))
        return s_refuse_oom (conn);
    req->headers [req->header_count - 1].name_len += (uint32_t) len;
    req->last = LAST_FIELD;
    return 0;
}

static int
on_header_value (http_parser *parser, const char *at, size_t len)
{
    gw_http_conn *conn = parser->data;
    gw_http_request *req = conn->req;
    gw_http *server = conn->server;
    assert (req && req->state == REQ_PARSING);
    if (s_header_budget (conn, req, len))
        return -1;
    if (req->headers_done) {
        req->last = LAST_VALUE;
        return 0;
    }
    //  http-parser calls the value callback (with len 0 for an empty
    //  value) only after a field.
    assert (req->last == LAST_FIELD || req->last == LAST_VALUE);
    assert (req->header_count > 0);
    header_slot *slot = &req->headers [req->header_count - 1];
    if (req->last == LAST_FIELD) {
        if (req_head_append (req, server, "", 1))
            return s_refuse_oom (conn);
        slot->value_off = (uint32_t) req->head_len;
    }
    if (req_head_append (req, server, at, len))
        return s_refuse_oom (conn);
    slot->value_len += (uint32_t) len;
    req->last = LAST_VALUE;
    return 0;
}

//  Terminate every header value in head (trailing blanks dropped; a
//  field cut short by the end of headers is empty).
static void
s_terminate_headers (gw_http_request *req)
{
    req->head [req->url_len] = '\0';
    for (size_t i = 0; i < req->header_count; i++) {
        header_slot *slot = &req->headers [i];
        if (slot->value_off == 0) {
            //  A field cut short by the end of headers; treat as empty.
            slot->value_off = slot->name_off + slot->name_len;
            slot->value_len = 0;
        }
        //  http-parser strips leading whitespace, not trailing.
        while (slot->value_len > 0) {
            char c = req->head [slot->value_off + slot->value_len - 1];
            if (c != ' ' && c != '\t')
                break;
            slot->value_len--;
        }
        req->head [slot->value_off + slot->value_len] = '\0';
    }
}

//  curl and others wait for "100 Continue" before a body. Only safe to
//  send when no earlier response is still to come on this connection.
//  Returns -1 when the write closed the connection.
static int
s_maybe_continue (gw_http_conn *conn, gw_http_request *req, http_parser *parser)
{
    const char *expect = gw_http_request_header (req, "Expect");
    bool has_body = (parser->flags & F_CHUNKED) || parser->content_length > 0;
    if (!expect || !has_body || strcasecmp (expect, "100-continue") != 0
    ||  conn->queue_head != NULL || conn->write_pending_bytes != 0)
        return 0;
    static const char cont [] = "HTTP/1.1 100 Continue\r\n\r\n";
    uv_buf_t buf = uv_buf_init ((char *) cont, sizeof cont - 1);
    if (gw_http__conn_write (conn, &buf, 1) < 0)
        return -1;                  //  closed; gw_http__conn_parse sees CONN_CLOSED
    return 0;
}

//  How many header lines are named name, and the value of the first.
static size_t
s_header_lines (gw_http_request *req, const char *name, const char **first)
{
    size_t count = 0;
    *first = NULL;
    for (size_t i = 0; i < req->header_count; i++)
        if (strcasecmp (req->head + req->headers [i].name_off, name) == 0) {
            if (count++ == 0)
                *first = req->head + req->headers [i].value_off;
        }
    return count;
}

//  True when the Host value is one or more visible ASCII bytes (no
//  blanks, controls or 8-bit bytes: RFC 3986 uri-host [":" port]).
static bool
s_host_ok (const char *host)
{
    size_t i = 0;
    for (; host [i]; i++)
        if ((unsigned char) host [i] <= 0x20 || (unsigned char) host [i] >= 0x7f
        ||  i >= 255)
            return false;
    return i > 0;
}

//  The MUSTs of RFC 9110/9112 about the request line and framing: 501
//  for a method we do not implement or a transfer coding other than
//  chunked; 400 for Transfer-Encoding with Content-Length (smuggling),
//  and for a missing (HTTP/1.1), repeated or invalid Host. Returns 0 or
//  the refusal.
static int
s_check_framing (gw_http_conn *conn, gw_http_request *req, http_parser *parser)
{
    gw_http *server = conn->server;
    static const unsigned implemented [] = { HTTP_GET, HTTP_HEAD, HTTP_POST, HTTP_PUT,
                                             HTTP_PATCH, HTTP_DELETE, HTTP_OPTIONS };
    bool known = false;
    for (size_t i = 0; i < sizeof implemented / sizeof implemented [0]; i++)
        known = known || parser->method == implemented [i];
    if (!known) {
        server->stats.not_implemented++;
        return s_refuse (conn, 501, "not_implemented", "request method not implemented");
    }
    const char *coding;
    size_t te_lines = s_header_lines (req, "Transfer-Encoding", &coding);
    //  http-parser 2.9.4 refuses TE with Content-Length before we see it;
    //  checked again here all the same.
    if (te_lines && (parser->flags & F_CONTENTLENGTH)) {
        server->stats.parse_errors++;
        return s_refuse (conn, 400, "bad_request", "Transfer-Encoding with Content-Length");
    }
    if (te_lines > 1 || (te_lines == 1 && strcasecmp (coding, "chunked") != 0)
    ||  (parser->uses_transfer_encoding && !(parser->flags & F_CHUNKED))) {
        server->stats.not_implemented++;
        return s_refuse (conn, 501, "not_implemented",
                         "transfer coding not implemented (only chunked)");
    }
    const char *host;
    size_t host_lines = s_header_lines (req, "Host", &host);
    bool http11 = parser->http_major > 1 || (parser->http_major == 1 && parser->http_minor >= 1);
    if (host_lines > 1 || (host_lines == 1 && !s_host_ok (host)) || (host_lines == 0 && http11)) {
        server->stats.parse_errors++;
        return s_refuse (conn, 400, "bad_request", host_lines > 1 ? "more than one Host header"
                         : host_lines ? "invalid Host header" : "the Host header is required");
    }
    return 0;
}

//  The head is complete: terminate it, refuse what is not allowed
//  (methods we do not implement, ambiguous framing, Host, a bad target,
//  a body over the limit), split the target into path and query, answer
//  Expect: 100-continue.
static int
on_headers_complete (http_parser *parser)
{
    gw_http_conn *conn = parser->data;
    gw_http_request *req = conn->req;
    gw_http *server = conn->server;
    assert (req && req->state == REQ_PARSING);
    assert (!req->headers_done);

    //  Head never grows after this, so pointers into it stay valid.
    if (req_head_append (req, server, "", 1))
        return s_refuse_oom (conn);
    s_terminate_headers (req);
    req->headers_done = true;
    req->method = (uint8_t) parser->method;

    if (s_check_framing (conn, req, parser) != 0)
        return -1;
    if (gw_http__split_target (req) != 0) {
        server->stats.parse_errors++;
        return s_refuse (conn, 400, "bad_request", "malformed request target");
    }
    if ((parser->flags & F_CONTENTLENGTH)
    &&  parser->content_length > server->cfg.max_body_bytes) {
        //  Refused before reading the body: the client may stop sending.
        server->stats.too_large++;
        return s_refuse_limit (conn, 413, "too_large", "request body",
                               server->cfg.max_body_bytes);
    }
    return s_maybe_continue (conn, req, parser);
}

static int
on_body (http_parser *parser, const char *at, size_t len)
{
    gw_http_conn *conn = parser->data;
    gw_http_request *req = conn->req;
    gw_http *server = conn->server;
    assert (req && req->state == REQ_PARSING);
    if (req->body_len + len > server->cfg.max_body_bytes) {
        //  Only chunked bodies get here; Content-Length was checked.
        server->stats.too_large++;
        return s_refuse_limit (conn, 413, "too_large", "request body",
                               server->cfg.max_body_bytes);
    }
    if (req->body_len + len + 1 > req->body_cap) {
        //  Grow as bytes arrive, not to the announced length, so a client
        //  announcing 1 MiB and sending nothing costs nothing.
        size_t cap = req->body_cap? req->body_cap * 2: 1024;
        while (cap < req->body_len + len + 1)
            cap *= 2;
        if (cap > server->cfg.max_body_bytes + 1)
            cap = server->cfg.max_body_bytes + 1;
        char *body = realloc (req->body, cap);
        if (!body)
            return s_refuse_oom (conn);
        req->body = body;
        req->body_cap = cap;
    }
    memcpy (req->body + req->body_len, at, len);
    req->body_len += len;
    req->body [req->body_len] = '\0';
    return 0;
}

static int
on_message_complete (http_parser *parser)
{
    gw_http_conn *conn = parser->data;
    gw_http *server = conn->server;
    gw_http_request *req = conn->req;
    assert (req && req->state == REQ_PARSING);
    assert (req->headers_done);
    conn->req = NULL;

    //  An Upgrade ends HTTP on this connection: answer, then close.
    req->keep_alive = http_should_keep_alive (parser) && !parser->upgrade;
    req->state = REQ_DISPATCHED;
    gw_http__conn_enqueue (conn, req);
    server->stats.requests_parsed++;
    if (!req->keep_alive)
        conn->state = CONN_DRAINING;

    server->on_request (req, server->arg);

    //  The handler may have answered, closed or destroyed everything.
    if (conn->state == CONN_CLOSED)
        return -1;
    //  Stop at the bounds; the rest of the buffer waits as leftover.
    if (conn->state != CONN_OPEN || gw_http__conn_blocked (conn))
        http_parser_pause (parser, 1);
    return 0;
}

const http_parser_settings gw_http__parser_settings = {
    .on_message_begin = on_message_begin,
    .on_url = on_url,
    .on_header_field = on_header_field,
    .on_header_value = on_header_value,
    .on_headers_complete = on_headers_complete,
    .on_body = on_body,
    .on_message_complete = on_message_complete,
};


//  =========================================================================
//  Request accessors

const char *
gw_http_request_method (gw_http_request *req)
{
    REQ_CHECK (req);
    return http_method_str ((enum http_method) req->method);
}

const char *
gw_http_request_path (gw_http_request *req)
{
    REQ_CHECK (req);
    return req->path;
}

const char *
gw_http_request_query (gw_http_request *req)
{
    REQ_CHECK (req);
    return req->query;
}

const char *
gw_http_request_header (gw_http_request *req, const char *name)
{
    REQ_CHECK (req);
    assert (name);
    for (size_t i = 0; i < req->header_count; i++) {
        const header_slot *slot = &req->headers [i];
        if (strcasecmp (req->head + slot->name_off, name) == 0)
            return req->head + slot->value_off;
    }
    return NULL;
}

size_t
gw_http_request_header_count (gw_http_request *req)
{
    REQ_CHECK (req);
    return req->header_count;
}

int
gw_http_request_header_at (gw_http_request *req, size_t index,
                           const char **name, const char **value)
{
    REQ_CHECK (req);
    if (index >= req->header_count)
        return -ENOENT;
    const header_slot *slot = &req->headers [index];
    if (name)
        *name = req->head + slot->name_off;
    if (value)
        *value = req->head + slot->value_off;
    return 0;
}

const void *
gw_http_request_body (gw_http_request *req, size_t *len)
{
    REQ_CHECK (req);
    if (len)
        *len = req->body_len;
    return req->body? req->body: "";
}

const char *
gw_http_request_remote (gw_http_request *req)
{
    REQ_CHECK (req);
    return req->remote;
}

const char *
gw_http_request_remote_ip (gw_http_request *req)
{
    REQ_CHECK (req);
    return req->remote_ip;
}

uint64_t
gw_http_request_start_ns (gw_http_request *req)
{
    REQ_CHECK (req);
    return req->start_ns;
}

bool
gw_http_request_detached (gw_http_request *req)
{
    REQ_CHECK (req);
    return req->conn == NULL;
}

void
gw_http_request_set_user (gw_http_request *req, void *user)
{
    REQ_CHECK (req);
    req->user = user;
}

void *
gw_http_request_user (gw_http_request *req)
{
    REQ_CHECK (req);
    return req->user;
}

void
gw_http_request_set_id (gw_http_request *req, const char *id)
{
    REQ_CHECK (req);
    assert (id && strlen (id) < sizeof req->id);
    gw_text_copy (req->id, sizeof req->id, id);
}

void
gw_http_request_on_respond (gw_http_request *req, gw_http_respond_fn fn, void *arg)
{
    REQ_CHECK (req);
    req->on_respond = fn;
    req->on_respond_arg = arg;
}

//  The application's extra headers plus X-Request-Id, into with (room for
//  GW_HTTP_MAX_EXTRA_HEADERS + 1 pairs and the NULL). Returns with, or
//  extra as it was when the request has no id.
static const char *const *
s_with_request_id (gw_http_request *req, const char *const *extra, const char **with)
{
    if (!req->id [0])
        return extra;
    size_t n = 0;
    for (; extra && extra [n] && n < 2 * GW_HTTP_MAX_EXTRA_HEADERS; n += 2) {
        with [n] = extra [n];
        with [n + 1] = extra [n + 1];
    }
    with [n] = "X-Request-Id";
    with [n + 1] = req->id;
    with [n + 2] = NULL;
    return with;
}


//  --------------------------------------------------------------------------
//  Answer a request with the default headers; consumes it.

int
gw_http_respond (gw_http_request *req, unsigned status,
                 const char *content_type, const void *body, size_t body_len,
                 const char *const *extra_headers)
{
    REQ_CHECK (req);
    const char *all [2 * (GW_HTTP_MAX_EXTRA_HEADERS + GW_HTTP_DEFAULT_HEADERS) + 1];
    if (!gw_http__with_defaults (req, status, content_type, extra_headers, all,
                                 sizeof all / sizeof all [0]))
        return gw_http__respond_raw (req, 0, NULL, NULL, 0, NULL);  //  a 500
    return gw_http__respond_raw (req, status, content_type, body, body_len, all);
}


//  --------------------------------------------------------------------------
//  Answer a request with exactly these headers; consumes it.

int
gw_http__respond_raw (gw_http_request *req, unsigned status,
                      const char *content_type, const void *body, size_t body_len,
                      const char *const *extra_headers)
{
    REQ_CHECK (req);
    //  Exactly once: a second respond finds REQ_RESPONDED or freed memory.
    assert (req->state == REQ_DISPATCHED);
    assert (body || body_len == 0);
    if (req->on_respond)
        req->on_respond (req, status, body_len, req->on_respond_arg);
    gw_http_conn *conn = req->conn;
    if (!conn) {
        gw_http__req_free (req);
        return -ENOTCONN;
    }
    assert (conn->magic == GW_HTTP_CONN_MAGIC);
    assert (conn->state == CONN_OPEN || conn->state == CONN_DRAINING);

    //  uv_buf_t lengths are 32-bit; no answer of ours comes near this.
    bool valid = status >= 200 && status <= 599 && body_len < (1u << 30)
              && (!content_type || gw_http__header_text_ok (content_type));
    for (size_t pair = 0; valid && extra_headers && extra_headers [2 * pair]; pair++) {
        if (pair == GW_HTTP_MAX_EXTRA_HEADERS + GW_HTTP_DEFAULT_HEADERS
        ||  !extra_headers [2 * pair + 1]
        ||  !gw_http__header_name_ok (extra_headers [2 * pair])
        ||  !gw_http__header_text_ok (extra_headers [2 * pair + 1]))
            valid = false;
    }
    int rc = 0;
    char fallback [512];
    if (!valid) {
        //  A programming error in the application; the client still gets
        //  an answer and the connection stays in order.
        rc = -EINVAL;
        status = 500;
        content_type = "application/json";
        extra_headers = NULL;
        body_len = gw_http__error_json ("internal", "invalid response", fallback,
                                        sizeof fallback);
        body = fallback;
    }
    req->close_after = !req->keep_alive;
    const char *with_id [2 * GW_HTTP_MAX_EXTRA_HEADERS + 3];
    extra_headers = s_with_request_id (req, extra_headers, with_id);
    if (gw_http__format_response (req, conn->server, status, content_type, body, body_len,
                                  extra_headers, req->method == HTTP_HEAD,
                                  req->close_after) != 0) {
        //  Later responses must not overtake this one: give up the
        //  connection (which detaches req), then free req.
        gw_http__conn_close (conn);
        gw_http__req_free (req);
        return -ENOMEM;
    }
    req->state = REQ_RESPONDED;
    gw_http__conn_flush_soon (conn);
    return rc;
}


//  --------------------------------------------------------------------------
//  Answer with a JSON error; consumes the request.

int
gw_http_respond_error (gw_http_request *req, unsigned status,
                       const char *code, const char *message)
{
    REQ_CHECK (req);
    assert (code);
    char body [GW_HTTP_ERROR_JSON_BYTES];
    size_t len = gw_http__error_json (code, message? message: "", body, sizeof body);
    return gw_http_respond (req, status, "application/json", body, len, NULL);
}


