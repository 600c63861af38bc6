/*  =========================================================================
    gw_http - the gateway's HTTP/1.1 server on libuv and http-parser 2.9

    Shape of one connection:

        socket --read--> http-parser --callbacks--> request being parsed
                                                    |  message complete
                                                    v
        queue (FIFO): [dispatched][responded][dispatched]...  <= max_inflight
                        ^ app holds it          respond() fills it in
        flush: write the ready prefix of the queue, in order, batched

    Connection states: OPEN (reading requests) -> DRAINING (no more
    requests; answer the queued ones) -> SHUTDOWN (our FIN sent; discard
    input until the peer's EOF or linger_ms, so an early error such as 413
    is not destroyed by a TCP reset) -> CLOSED (uv_close called; memory
    goes in the last close callback). Any state may jump to CLOSED.

    One timer per connection serves four purposes, chosen by state: the
    whole-request deadline (408), keep-alive idleness, pending writes that
    do not finish (a client not reading) and the linger after shutdown.

    Reading stops while the connection is at max_inflight, has more than
    max_write_pending_bytes unsent, or holds parsed-ahead bytes
    ("leftover": pipelined requests beyond the in-flight bound). Resuming
    from leftover must not re-enter http-parser from inside a callback, so
    it is deferred to an idle handle (the resume list).

    Performance: one shared 64 KiB read buffer per server (reads on a loop
    are sequential); request bytes are copied once into per-request
    buffers; ready responses leave in one uv_write of up to 16 buffers.
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

#include <http_parser.h>

#include "gw_http.h"

#define GW_HTTP_MAGIC       0x67774854u     //  "gwHT"
#define GW_HTTP_CONN_MAGIC  0x67774843u     //  "gwHC"
#define GW_HTTP_REQ_MAGIC   0x67774852u     //  "gwHR"

#define GW_HTTP_READ_BUF_BYTES  (64 * 1024)
#define GW_HTTP_WRITE_BATCH     16          //  responses per uv_write
#define GW_HTTP_MEMORY_SINK_BYTES (64 * 1024)
#define GW_HTTP_MAX_EXTRA_HEADERS 32        //  name/value pairs per response
#define GW_HTTP_REMOTE_BYTES    64
#define GW_HTTP_ERROR_MESSAGE_BYTES 1024    //  JSON error message, truncated

typedef enum {
    REQ_PARSING = 1,                //  bytes still arriving; conn owns it
    REQ_DISPATCHED,                 //  handed to the handler; app owns it
    REQ_RESPONDED,                  //  answer ready, waiting for its turn
} req_state;

typedef enum {
    CONN_OPEN = 1,
    CONN_DRAINING,
    CONN_SHUTDOWN,
    CONN_CLOSED,
} conn_state;

typedef enum {
    TIMER_NONE = 0,
    TIMER_REQUEST,
    TIMER_IDLE,
    TIMER_WRITE,
    TIMER_LINGER,
} timer_purpose;

typedef enum {
    LAST_NONE = 0,
    LAST_URL,
    LAST_FIELD,
    LAST_VALUE,
} last_cb;

typedef struct {
    uint32_t name_off;              //  offset of the name in req->head
    uint32_t name_len;
    uint32_t value_off;             //  offset of the value in req->head
    uint32_t value_len;
} header_slot;

struct _gw_http_request {
    uint32_t magic;                 //  GW_HTTP_REQ_MAGIC while alive
    req_state state;                //  who owns it and what it waits for
    gw_http_conn *conn;             //  NULL once detached
    gw_http_request *next;          //  next in the connection's queue
    uint8_t method;                 //  enum http_method
    bool keep_alive;                //  client allows another request after
    bool headers_done;              //  later header callbacks are trailers
    bool close_after;               //  close the connection after response
    last_cb last;                   //  previous data callback, to join pieces
    uint64_t start_ns;              //  uv_hrtime at the first byte
    uint64_t deadline_ms;           //  uv_now by which it must be complete
    size_t url_len;                 //  raw request target bytes
    size_t header_bytes;            //  names + values + 4 per line
    char *head;                     //  url \0 name \0 value \0 name ...
    size_t head_len;
    size_t head_cap;
    header_slot *headers;           //  one slot per header line
    size_t header_count;
    size_t header_cap;
    const char *path;               //  into head (or a literal)
    const char *query;              //  into head (or a literal)
    char *body;                     //  body bytes + a NUL
    size_t body_len;
    size_t body_cap;
    char *response;                 //  formatted response, until written
    size_t response_len;
    void *user;                     //  the application's pointer
    char remote [GW_HTTP_REMOTE_BYTES]; //  peer address, copied
};

struct _gw_http_conn {
    uint32_t magic;                 //  GW_HTTP_CONN_MAGIC while alive
    gw_http *server;                //  owner
    conn_state state;
    bool in_memory;                    //  no socket: fuzzer / tests
    bool reading;                   //  uv_read_start is in effect
    bool eof;                       //  the peer sent FIN
    bool in_parse;                  //  inside http_parser_execute
    bool in_resume_list;
    timer_purpose timer_purpose;    //  what the armed timer means
    unsigned handles_open;          //  tcp + timer not yet closed
    uv_tcp_t tcp;                   //  the socket
    uv_timer_t timer;               //  see timer_purpose
    uv_shutdown_t shutdown;         //  our FIN
    http_parser parser;
    unsigned error_status;          //  set by a callback that refuses input
    const char *error_code;         //  JSON "code" for that error
    char error_message [128];       //  JSON "message" for that error
    gw_http_request *req;           //  request being parsed, or NULL
    gw_http_request *queue_head;    //  dispatched or responded, in order
    gw_http_request *queue_tail;
    uint32_t inflight;              //  length of the queue
    char *leftover;                 //  parsed-ahead bytes, owned
    size_t leftover_off;
    size_t leftover_len;
    char *resuming;                 //  leftover buffer being re-parsed
    size_t write_pending_bytes;     //  handed to uv_write, not yet done
    uint64_t idle_since_ms;         //  uv_now when it last became idle
    gw_http_conn *prev;             //  server's list of connections
    gw_http_conn *next;
    gw_http_conn *rprev;            //  server's resume list
    gw_http_conn *rnext;
    char remote [GW_HTTP_REMOTE_BYTES];
    char *sink;                     //  in memory: what would have been written
    size_t sink_len;
};

struct _gw_http {
    uint32_t magic;                 //  GW_HTTP_MAGIC while alive
    uv_loop_t *loop;
    gw_http_config cfg;             //  defaults filled in
    gw_http_handler_fn on_request;
    void *arg;                      //  for on_request
    uv_tcp_t listener;
    bool listener_inited;           //  listener is a live handle
    uv_idle_t idle;                 //  runs the resume list
    unsigned handles_open;          //  listener + idle not yet closed
    bool destroyed;                 //  waiting for close callbacks
    gw_http_conn *conns;            //  every connection, in-memory ones included
    uint32_t conn_count;
    uint32_t memory_count;
    gw_http_conn *resume_head;      //  connections with leftover to parse
    bool read_buf_busy;             //  lent to libuv between alloc and read
    time_t date_s;                  //  second of the cached Date
    char date [40];                 //  "Sun, 06 Nov 1994 08:49:37 GMT"
    gw_http_stats stats;
    char read_buf [GW_HTTP_READ_BUF_BYTES];
};

typedef struct {
    uv_write_t req;                 //  libuv write request
    gw_http_conn *conn;
    size_t size_bytes;              //  sum of buffer lengths
    unsigned buf_count;
    uv_buf_t bufs [GW_HTTP_WRITE_BATCH]; //  each base malloc'd, freed here
} write_op;

static void conn_update (gw_http_conn *conn);
static void conn_close (gw_http_conn *conn);
static void conn_flush (gw_http_conn *conn);
static void conn_fail (gw_http_conn *conn, unsigned status, const char *code,
                       const char *message);
static void conn_parse (gw_http_conn *conn, const char *data, size_t len);
static int conn_write (gw_http_conn *conn, uv_buf_t *bufs, unsigned count);
static bool conn_blocked (gw_http_conn *conn);
static void s_on_idle (uv_idle_t *idle);
static void s_on_write (uv_write_t *wreq, int status);
static void s_on_timer (uv_timer_t *timer);
static void s_on_alloc (uv_handle_t *handle, size_t suggested, uv_buf_t *buf);
static void s_on_read (uv_stream_t *stream, ssize_t nread, const uv_buf_t *buf);
static void s_server_maybe_free (gw_http *self);

//  =========================================================================
//  Small helpers


//  --------------------------------------------------------------------------
//  Reason phrase for a status line.

static const char *
s_reason (unsigned status)
{
    switch (status) {
        //  http_status_str lacks some of ours and says "<unknown>"
        case 408: return "Request Timeout";
        case 413: return "Payload Too Large";
        case 414: return "URI Too Long";
        case 422: return "Unprocessable Entity";
        case 429: return "Too Many Requests";
        case 431: return "Request Header Fields Too Large";
        default: break;
    }
    const char *reason = http_status_str ((enum http_status) status);
    if (!reason || reason [0] == '<')
        return "Unknown";
    return reason;
}


//  --------------------------------------------------------------------------
//  Write {"error":{"code":...,"message":...}} into a new buffer.

static char *
s_error_json (const char *code, const char *message, size_t *len)
{
    assert (code);
    assert (message);
    size_t code_len = strnlen (code, 64);
    size_t message_len = strnlen (message, GW_HTTP_ERROR_MESSAGE_BYTES);
    //  Worst case every byte becomes \u00XX (6 bytes).
    size_t cap = 40 + 6 * (code_len + message_len);
    char *out = malloc (cap);
    if (!out)
        return NULL;
    size_t n = 0;
    const char *parts [2] = { code, message };
    size_t lens [2] = { code_len, message_len };
    const char *prefix [2] = { "{\"error\":{\"code\":\"", "\",\"message\":\"" };
    for (int part = 0; part < 2; part++) {
        size_t plen = strlen (prefix [part]);
        memcpy (out + n, prefix [part], plen);
        n += plen;
        for (size_t i = 0; i < lens [part]; i++) {
            unsigned char c = (unsigned char) parts [part][i];
            if (c == '"' || c == '\\') {
                out [n++] = '\\';
                out [n++] = (char) c;
            }
            else
            if (c < 0x20) {
                n += (size_t) snprintf (out + n, cap - n, "\\u%04x", c);
            }
            else
                out [n++] = (char) c;
        }
    }
    memcpy (out + n, "\"}}", 3);
    n += 3;
    assert (n < cap);
    out [n] = '\0';
    *len = n;
    return out;
}


//  --------------------------------------------------------------------------
//  True when s holds no CR, LF or other control byte (header injection).

static bool
s_header_text_ok (const char *s)
{
    for (size_t i = 0; s [i]; i++) {
        unsigned char c = (unsigned char) s [i];
        if ((c < 0x20 && c != '\t') || c == 0x7f)
            return false;
        if (i > 8192)
            return false;
    }
    return true;
}


//  --------------------------------------------------------------------------
//  True when s is a header field name (RFC 7230 token).

static bool
s_header_name_ok (const char *s)
{
    if (!s [0])
        return false;
    for (size_t i = 0; s [i]; i++) {
        unsigned char c = (unsigned char) s [i];
        if (c <= 0x20 || c >= 0x7f || strchr ("\"(),/:;<=>?@[\\]{}", c))
            return false;
        if (i > 256)
            return false;
    }
    return true;
}


//  --------------------------------------------------------------------------
//  The Date header value, recomputed at most once a second.

static const char *
s_server_date (gw_http *self)
{
    time_t now = time (NULL);
    if (now != self->date_s) {
        struct tm tm;
        gmtime_r (&now, &tm);
        //  strftime's day and month names come from the C locale, which
        //  the daemons never change, so they are the English ones RFC 7231
        //  requires.
        strftime (self->date, sizeof self->date, "%a, %d %b %Y %H:%M:%S GMT", &tm);
        self->date_s = now;
    }
    return self->date;
}


//  --------------------------------------------------------------------------
//  Format a whole response (head and body) into one new buffer.

static char *
s_format_response (gw_http *server, unsigned status, const char *content_type,
                   const void *body, size_t body_len,
                   const char *const *extra, bool head_only, bool close,
                   size_t *out_len)
{
    assert (status >= 200 && status <= 599);
    //  RFC 7230 3.3: these never carry a body, and 204 no Content-Length.
    bool no_body = status == 204 || status == 304;
    bool send_body = !no_body && !head_only && body_len > 0;

    size_t extra_bytes = 0;
    for (size_t i = 0; extra && extra [i]; i += 2) {
        assert (extra [i + 1]);
        extra_bytes += strlen (extra [i]) + strlen (extra [i + 1]) + 4;
    }
    size_t ctype_bytes = content_type? strlen (content_type) + 16: 0;
    //  status line 64 (reason <= 32) + Date 40 + Content-Length 40 +
    //  Connection 30 + final CRLF.
    size_t head_cap = 64 + 40 + 40 + 30 + 2 + ctype_bytes + extra_bytes + 16;
    size_t cap = head_cap + (send_body? body_len: 0);
    char *out = malloc (cap);
    if (!out)
        return NULL;

    size_t n = 0;
    n += (size_t) snprintf (out + n, head_cap - n, "HTTP/1.1 %u %s\r\n",
                            status, s_reason (status));
    n += (size_t) snprintf (out + n, head_cap - n, "Date: %s\r\n",
                            s_server_date (server));
    if (content_type)
        n += (size_t) snprintf (out + n, head_cap - n, "Content-Type: %s\r\n",
                                content_type);
    if (status != 204)
        n += (size_t) snprintf (out + n, head_cap - n,
                                "Content-Length: %zu\r\n",
                                no_body? (size_t) 0: body_len);
    n += (size_t) snprintf (out + n, head_cap - n, "Connection: %s\r\n",
                            close? "close": "keep-alive");
    for (size_t i = 0; extra && extra [i]; i += 2)
        n += (size_t) snprintf (out + n, head_cap - n, "%s: %s\r\n",
                                extra [i], extra [i + 1]);
    assert (n + 2 < head_cap);
    memcpy (out + n, "\r\n", 2);
    n += 2;
    if (send_body) {
        memcpy (out + n, body, body_len);
        n += body_len;
    }
    assert (n <= cap);
    *out_len = n;
    return out;
}


//  --------------------------------------------------------------------------
//  "1.2.3.4:5" or "[::1]:5" for a socket address.

static void
s_format_addr (const struct sockaddr_storage *ss, char *out, size_t size)
{
    char ip [INET6_ADDRSTRLEN] = "?";  //  so "[ip]:port" fits the 64 bytes
    unsigned port = 0;
    if (ss->ss_family == AF_INET) {
        const struct sockaddr_in *sin = (const struct sockaddr_in *) ss;
        uv_ip4_name (sin, ip, sizeof ip);
        port = ntohs (sin->sin_port);
        snprintf (out, size, "%s:%u", ip, port);
    }
    else
    if (ss->ss_family == AF_INET6) {
        const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *) ss;
        uv_ip6_name (sin6, ip, sizeof ip);
        port = ntohs (sin6->sin6_port);
        snprintf (out, size, "[%s]:%u", ip, port);
    }
    else
        snprintf (out, size, "unknown");
}


//  =========================================================================
//  Requests


//  --------------------------------------------------------------------------
//  Create an empty request for conn.

static gw_http_request *
req_new (gw_http_conn *conn)
{
    gw_http_request *req = calloc (1, sizeof *req);
    if (!req)
        return NULL;
    req->magic = GW_HTTP_REQ_MAGIC;
    req->state = REQ_PARSING;
    req->conn = conn;
    req->path = "/";
    req->query = "";
    memcpy (req->remote, conn->remote, sizeof req->remote);
    return req;
}


//  --------------------------------------------------------------------------
//  Free a request and everything it holds.

static void
req_free (gw_http_request *req)
{
    assert (req);
    assert (req->magic == GW_HTTP_REQ_MAGIC);
    free (req->head);
    free (req->headers);
    free (req->body);
    free (req->response);
    //  A stale pointer used after this fails the magic check at once.
    req->magic = 0;
    free (req);
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

static void
conn_enqueue (gw_http_conn *conn, gw_http_request *req)
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
//  refuses input records error_status and returns -1; conn_parse answers.


//  --------------------------------------------------------------------------
//  Record why the parser was stopped; conn_parse sends the answer.

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
    gw_http_request *req = req_new (conn);
    if (!req)
        return s_refuse_oom (conn);
    req->start_ns = uv_hrtime ();
    req->deadline_ms = uv_now (conn->server->loop)
                     + conn->server->cfg.request_timeout_ms;
    conn->req = req;
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

static int
on_headers_complete (http_parser *parser)
{
    gw_http_conn *conn = parser->data;
    gw_http_request *req = conn->req;
    gw_http *server = conn->server;
    assert (req && req->state == REQ_PARSING);
    assert (!req->headers_done);

    //  Terminate the last value (or the URL); head never grows after this,
    //  so pointers into it stay valid.
    if (req_head_append (req, server, "", 1))
        return s_refuse_oom (conn);
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
    req->headers_done = true;
    req->method = (uint8_t) parser->method;

    if (parser->method == HTTP_CONNECT) {
        server->stats.parse_errors++;
        return s_refuse (conn, 400, "bad_request", "CONNECT not supported");
    }
    //  RFC 7230 3.3.3: Transfer-Encoding with Content-Length is how
    //  request smuggling starts; 2.9.4 rejects it too, but cheaply sure.
    if (parser->uses_transfer_encoding
    && ((parser->flags & F_CONTENTLENGTH) || !(parser->flags & F_CHUNKED))) {
        server->stats.parse_errors++;
        return s_refuse (conn, 400, "bad_request", "ambiguous Transfer-Encoding");
    }
    struct http_parser_url url;
    http_parser_url_init (&url);
    if (req->url_len == 0
    ||  http_parser_parse_url (req->head, req->url_len, 0, &url)) {
        server->stats.parse_errors++;
        return s_refuse (conn, 400, "bad_request", "malformed request target");
    }
    //  NULs go over '?' and '#', which no caller needs.
    if (url.field_set & (1 << UF_PATH)) {
        size_t off = url.field_data [UF_PATH].off;
        size_t len = url.field_data [UF_PATH].len;
        req->head [off + len] = '\0';
        req->path = req->head + off;
    }
    if (url.field_set & (1 << UF_QUERY)) {
        size_t off = url.field_data [UF_QUERY].off;
        size_t len = url.field_data [UF_QUERY].len;
        req->head [off + len] = '\0';
        req->query = req->head + off;
    }
    if ((parser->flags & F_CONTENTLENGTH)
    &&  parser->content_length > server->cfg.max_body_bytes) {
        //  Refused before reading the body: the client may stop sending.
        server->stats.too_large++;
        return s_refuse_limit (conn, 413, "too_large", "request body",
                               server->cfg.max_body_bytes);
    }
    //  curl and others wait for "100 Continue" before a body. Only safe to
    //  send when no earlier response is still to come on this connection.
    const char *expect = gw_http_request_header (req, "Expect");
    bool has_body = (parser->flags & F_CHUNKED) || parser->content_length > 0;
    if (expect && has_body && strcasecmp (expect, "100-continue") == 0
    &&  conn->queue_head == NULL && conn->write_pending_bytes == 0) {
        static const char cont [] = "HTTP/1.1 100 Continue\r\n\r\n";
        char *copy = malloc (sizeof cont - 1);
        if (copy) {
            memcpy (copy, cont, sizeof cont - 1);
            uv_buf_t buf = uv_buf_init (copy, sizeof cont - 1);
            if (conn_write (conn, &buf, 1) < 0)
                return -1;          //  closed; conn_parse sees CONN_CLOSED
        }
    }
    return 0;
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
    conn_enqueue (conn, req);
    server->stats.requests_parsed++;
    if (!req->keep_alive)
        conn->state = CONN_DRAINING;

    server->on_request (req, server->arg);

    //  The handler may have answered, closed or destroyed everything.
    if (conn->state == CONN_CLOSED)
        return -1;
    //  Stop at the bounds; the rest of the buffer waits as leftover.
    if (conn->state != CONN_OPEN || conn_blocked (conn))
        http_parser_pause (parser, 1);
    return 0;
}

static const http_parser_settings s_settings = {
    .on_message_begin = on_message_begin,
    .on_url = on_url,
    .on_header_field = on_header_field,
    .on_header_value = on_header_value,
    .on_headers_complete = on_headers_complete,
    .on_body = on_body,
    .on_message_complete = on_message_complete,
};


//  =========================================================================
//  Connections


//  --------------------------------------------------------------------------
//  Add or remove conn from the server's resume list (connections with
//  parsed-ahead bytes waiting for a free in-flight slot).

static void
resume_list_add (gw_http_conn *conn)
{
    gw_http *server = conn->server;
    if (conn->in_resume_list)
        return;
    conn->rprev = NULL;
    conn->rnext = server->resume_head;
    if (server->resume_head)
        server->resume_head->rprev = conn;
    server->resume_head = conn;
    conn->in_resume_list = true;
    if (!uv_is_active ((uv_handle_t *) &server->idle))
        uv_idle_start (&server->idle, s_on_idle);
}

static void
resume_list_remove (gw_http_conn *conn)
{
    gw_http *server = conn->server;
    if (!conn->in_resume_list)
        return;
    if (conn->rprev)
        conn->rprev->rnext = conn->rnext;
    else
        server->resume_head = conn->rnext;
    if (conn->rnext)
        conn->rnext->rprev = conn->rprev;
    conn->rprev = conn->rnext = NULL;
    conn->in_resume_list = false;
}


//  --------------------------------------------------------------------------
//  Link a new connection into the server's list.

static void
s_conn_link (gw_http *server, gw_http_conn *conn)
{
    conn->prev = NULL;
    conn->next = server->conns;
    if (server->conns)
        server->conns->prev = conn;
    server->conns = conn;
    server->conn_count++;
}


//  --------------------------------------------------------------------------
//  Unlink a connection from the server's list.

static void
s_conn_unlink (gw_http_conn *conn)
{
    gw_http *server = conn->server;
    if (conn->prev)
        conn->prev->next = conn->next;
    else
        server->conns = conn->next;
    if (conn->next)
        conn->next->prev = conn->prev;
    assert (server->conn_count > 0);
    server->conn_count--;
}


//  --------------------------------------------------------------------------
//  True while the connection must not take more requests.

static bool
conn_blocked (gw_http_conn *conn)
{
    gw_http *server = conn->server;
    return conn->inflight >= server->cfg.max_inflight
        || conn->write_pending_bytes > server->cfg.max_write_pending_bytes;
}


//  --------------------------------------------------------------------------
//  Hand buffers to the socket (or the in-memory sink); takes ownership of every
//  bufs[i].base. Returns 0 or a negative errno (the connection is closed).

static int
conn_write (gw_http_conn *conn, uv_buf_t *bufs, unsigned count)
{
    assert (count > 0 && count <= GW_HTTP_WRITE_BATCH);
    assert (conn->state != CONN_CLOSED);
    size_t size = 0;
    for (unsigned i = 0; i < count; i++)
        size += bufs [i].len;

    if (conn->in_memory) {
        for (unsigned i = 0; i < count; i++) {
            size_t room = GW_HTTP_MEMORY_SINK_BYTES - conn->sink_len;
            size_t take = bufs [i].len < room? bufs [i].len: room;
            if (take > 0) {
                memcpy (conn->sink + conn->sink_len, bufs [i].base, take);
                conn->sink_len += take;
            }
            free (bufs [i].base);
        }
        conn->server->stats.bytes_written += size;
        return 0;
    }
    write_op *op = malloc (sizeof *op);
    if (!op) {
        for (unsigned i = 0; i < count; i++)
            free (bufs [i].base);
        conn_close (conn);
        return -ENOMEM;
    }
    op->conn = conn;
    op->size_bytes = size;
    op->buf_count = count;
    memcpy (op->bufs, bufs, count * sizeof *bufs);
    conn->write_pending_bytes += size;
    int rc = uv_write (&op->req, (uv_stream_t *) &conn->tcp, op->bufs, count,
                       s_on_write);
    if (rc < 0) {
        conn->write_pending_bytes -= size;
        for (unsigned i = 0; i < count; i++)
            free (op->bufs [i].base);
        free (op);
        conn_close (conn);
        return rc;
    }
    return 0;
}

static void
s_on_write (uv_write_t *wreq, int status)
{
    write_op *op = (write_op *) wreq;
    gw_http_conn *conn = op->conn;
    assert (conn->magic == GW_HTTP_CONN_MAGIC);
    assert (conn->write_pending_bytes >= op->size_bytes);
    conn->write_pending_bytes -= op->size_bytes;
    for (unsigned i = 0; i < op->buf_count; i++)
        free (op->bufs [i].base);
    if (status == 0)
        conn->server->stats.bytes_written += op->size_bytes;
    free (op);
    //  After uv_close libuv cancels pending writes (UV_ECANCELED) before
    //  the close callback, so conn is still here but must not act.
    if (conn->state == CONN_CLOSED)
        return;
    if (status < 0) {
        conn_close (conn);
        return;
    }
    if (conn->write_pending_bytes == 0)
        conn->idle_since_ms = uv_now (conn->server->loop);
    conn_update (conn);
}


//  --------------------------------------------------------------------------
//  Last handle of a connection closed: unlink and free it.

static void
s_conn_free (gw_http_conn *conn)
{
    gw_http *server = conn->server;
    assert (conn->state == CONN_CLOSED);
    assert (conn->queue_head == NULL && conn->req == NULL);
    assert (!conn->in_resume_list);
    assert (conn->write_pending_bytes == 0);
    s_conn_unlink (conn);
    free (conn->sink);
    free (conn->resuming);
    conn->magic = 0;
    free (conn);
    s_server_maybe_free (server);
}

static void
s_on_conn_handle_close (uv_handle_t *handle)
{
    gw_http_conn *conn = handle->data;
    assert (conn->magic == GW_HTTP_CONN_MAGIC);
    assert (conn->handles_open > 0);
    if (--conn->handles_open == 0)
        s_conn_free (conn);
}


//  --------------------------------------------------------------------------
//  Close now: free what the connection owns, detach what the application
//  holds, and start closing the handles. Idempotent.

static void
conn_close (gw_http_conn *conn)
{
    assert (conn->magic == GW_HTTP_CONN_MAGIC);
    if (conn->state == CONN_CLOSED)
        return;
    conn->state = CONN_CLOSED;
    gw_http *server = conn->server;
    if (conn->req) {
        req_free (conn->req);
        conn->req = NULL;
    }
    gw_http_request *req = conn->queue_head;
    uint32_t seen = 0;
    while (req) {
        assert (++seen <= conn->inflight);
        gw_http_request *next = req->next;
        req->next = NULL;
        if (req->state == REQ_DISPATCHED) {
            //  The application still holds it: leave it alive, detached.
            req->conn = NULL;
            server->stats.requests_abandoned++;
        }
        else
            req_free (req);
        req = next;
    }
    conn->queue_head = conn->queue_tail = NULL;
    conn->inflight = 0;
    free (conn->leftover);
    conn->leftover = NULL;
    conn->leftover_len = conn->leftover_off = 0;
    resume_list_remove (conn);
    conn->reading = false;
    conn->timer_purpose = TIMER_NONE;
    if (conn->in_memory)
        return;
    uv_timer_stop (&conn->timer);
    uv_close ((uv_handle_t *) &conn->timer, s_on_conn_handle_close);
    uv_close ((uv_handle_t *) &conn->tcp, s_on_conn_handle_close);
}


//  --------------------------------------------------------------------------
//  Our FIN is out: linger, discarding input, so the peer reads our last
//  response before the socket closes (closing with unread input sends a
//  TCP reset, which can destroy the response in the peer's buffer).

static void
s_on_shutdown (uv_shutdown_t *sreq, int status)
{
    gw_http_conn *conn = sreq->data;
    assert (conn->magic == GW_HTTP_CONN_MAGIC);
    if (conn->state == CONN_CLOSED)
        return;
    assert (conn->state == CONN_SHUTDOWN);
    if (status < 0 || conn->eof) {
        conn_close (conn);
        return;
    }
    if (!conn->reading) {
        if (uv_read_start ((uv_stream_t *) &conn->tcp, s_on_alloc, s_on_read)) {
            conn_close (conn);
            return;
        }
        conn->reading = true;
    }
    conn->timer_purpose = TIMER_LINGER;
    uv_timer_start (&conn->timer, s_on_timer, conn->server->cfg.linger_ms, 0);
}


//  --------------------------------------------------------------------------
//  Every response is handed over: send FIN (after pending writes).

static void
conn_shutdown (gw_http_conn *conn)
{
    assert (conn->state == CONN_DRAINING);
    assert (conn->queue_head == NULL);
    conn->state = CONN_SHUTDOWN;
    if (conn->in_memory) {
        conn_close (conn);
        return;
    }
    if (conn->reading) {
        uv_read_stop ((uv_stream_t *) &conn->tcp);
        conn->reading = false;
    }
    conn->shutdown.data = conn;
    if (uv_shutdown (&conn->shutdown, (uv_stream_t *) &conn->tcp, s_on_shutdown)) {
        conn_close (conn);
        return;
    }
    conn_update (conn);
}


//  --------------------------------------------------------------------------
//  Arm the one timer for what the connection is waiting on now.

static void
conn_arm_timer (gw_http_conn *conn)
{
    if (conn->in_memory || conn->state == CONN_CLOSED)
        return;
    if (conn->timer_purpose == TIMER_LINGER)
        return;                     //  set once, in s_on_shutdown
    gw_http *server = conn->server;
    uint64_t now_ms = uv_now (server->loop);
    timer_purpose purpose = TIMER_NONE;
    uint64_t due_ms = 0;
    if (conn->state == CONN_OPEN && conn->req) {
        //  A fixed deadline, not reset by reads: a client trickling one
        //  byte a second must not hold the request open.
        purpose = TIMER_REQUEST;
        due_ms = conn->req->deadline_ms > now_ms? conn->req->deadline_ms - now_ms: 0;
    }
    else
    if (conn->write_pending_bytes > 0) {
        purpose = TIMER_WRITE;
        due_ms = server->cfg.write_timeout_ms;
    }
    else
    if (conn->state == CONN_OPEN && conn->queue_head == NULL) {
        //  Measured from when it became idle, so stray bytes (CRLFs that
        //  begin no request) do not keep a connection forever.
        purpose = TIMER_IDLE;
        uint64_t end_ms = conn->idle_since_ms + server->cfg.idle_timeout_ms;
        due_ms = end_ms > now_ms? end_ms - now_ms: 0;
    }
    conn->timer_purpose = purpose;
    if (purpose == TIMER_NONE)
        uv_timer_stop (&conn->timer);
    else
        uv_timer_start (&conn->timer, s_on_timer, due_ms, 0);
}

static void
s_on_timer (uv_timer_t *timer)
{
    gw_http_conn *conn = timer->data;
    assert (conn->magic == GW_HTTP_CONN_MAGIC);
    if (conn->state == CONN_CLOSED)
        return;
    gw_http *server = conn->server;
    timer_purpose purpose = conn->timer_purpose;
    conn->timer_purpose = TIMER_NONE;
    switch (purpose) {
        case TIMER_REQUEST: {
            if (conn->state != CONN_OPEN || !conn->req) {
                conn_update (conn);
                break;
            }
            server->stats.request_timeouts++;
            char message [96];
            snprintf (message, sizeof message,
                      "request not complete within %" PRIu64 " ms",
                      server->cfg.request_timeout_ms);
            conn_fail (conn, 408, "timeout", message);
            break;
        }
        case TIMER_IDLE:
            server->stats.idle_timeouts++;
            conn_close (conn);
            break;
        case TIMER_WRITE:
            server->stats.write_timeouts++;
            conn_close (conn);
            break;
        case TIMER_LINGER:
            conn_close (conn);
            break;
        case TIMER_NONE:
            break;
    }
}


//  --------------------------------------------------------------------------
//  Bring reading, resuming and the timer in line with the state. Called
//  after anything changes the bounds (parse, respond, write done).

static void
conn_update (gw_http_conn *conn)
{
    if (conn->state == CONN_CLOSED)
        return;
    gw_http *server = conn->server;
    if (conn->state == CONN_OPEN) {
        bool blocked = conn_blocked (conn);
        //  Parsed-ahead bytes are parsed from the idle handle, never from
        //  here: we may be inside http_parser_execute.
        if (conn->leftover_len > 0 && !blocked)
            resume_list_add (conn);
        bool want_read = !blocked && conn->leftover_len == 0 && !conn->in_memory;
        if (want_read && !conn->reading) {
            if (uv_read_start ((uv_stream_t *) &conn->tcp, s_on_alloc, s_on_read)) {
                conn_close (conn);
                return;
            }
            conn->reading = true;
        }
        else
        if (!want_read && conn->reading) {
            uv_read_stop ((uv_stream_t *) &conn->tcp);
            conn->reading = false;
            server->stats.read_pauses++;
        }
    }
    else
    if (conn->state == CONN_DRAINING && conn->reading) {
        //  No more requests; unread input waits in the kernel (TCP flow
        //  control) until the linger after shutdown discards it.
        uv_read_stop ((uv_stream_t *) &conn->tcp);
        conn->reading = false;
    }
    conn_arm_timer (conn);
}


//  --------------------------------------------------------------------------
//  Write out the ready prefix of the queue, in order.

static void
conn_flush (gw_http_conn *conn)
{
    if (conn->state == CONN_CLOSED || conn->state == CONN_SHUTDOWN)
        return;
    gw_http *server = conn->server;
    bool wrote = false;
    //  Each round takes at least one request off a queue bounded by
    //  max_inflight (+1 for an error entry).
    for (uint32_t round = 0; round <= server->cfg.max_inflight + 1; round++) {
        uv_buf_t bufs [GW_HTTP_WRITE_BATCH];
        unsigned count = 0;
        bool close_after = false;
        while (conn->queue_head && conn->queue_head->state == REQ_RESPONDED
        &&     count < GW_HTTP_WRITE_BATCH && !close_after) {
            gw_http_request *req = conn->queue_head;
            conn->queue_head = req->next;
            if (!conn->queue_head)
                conn->queue_tail = NULL;
            assert (conn->inflight > 0);
            conn->inflight--;
            bufs [count++] = uv_buf_init (req->response, (unsigned) req->response_len);
            req->response = NULL;
            close_after = req->close_after;
            req_free (req);
            server->stats.responses_sent++;
        }
        if (count == 0)
            break;
        wrote = true;
        if (close_after) {
            //  Only the last request (no keep-alive) or an error closes,
            //  and nothing is parsed after either.
            assert (conn->queue_head == NULL);
            conn->state = CONN_DRAINING;
        }
        if (conn_write (conn, bufs, count) < 0)
            return;
        if (close_after)
            break;
    }
    if (conn->state == CONN_DRAINING && conn->queue_head == NULL) {
        conn_shutdown (conn);
        return;
    }
    if (wrote)
        conn_update (conn);
}


//  --------------------------------------------------------------------------
//  Refuse the connection's input: queue a JSON error with
//  Connection: close behind the responses still owed, read no more.

static void
conn_fail (gw_http_conn *conn, unsigned status, const char *code,
           const char *message)
{
    assert (conn->state == CONN_OPEN);
    assert (status >= 400 && status <= 599);
    gw_http *server = conn->server;
    if (conn->req) {
        req_free (conn->req);
        conn->req = NULL;
    }
    free (conn->leftover);
    conn->leftover = NULL;
    conn->leftover_len = conn->leftover_off = 0;
    conn->state = CONN_DRAINING;

    gw_http_request *req = req_new (conn);
    size_t body_len = 0;
    char *body = s_error_json (code, message, &body_len);
    if (req && body)
        req->response = s_format_response (server, status, "application/json",
                                           body, body_len, NULL, false, true,
                                           &req->response_len);
    free (body);
    if (!req || !req->response) {
        if (req)
            req_free (req);
        conn_close (conn);
        return;
    }
    req->state = REQ_RESPONDED;
    req->close_after = true;
    conn_enqueue (conn, req);
    conn_flush (conn);
}


//  --------------------------------------------------------------------------
//  Keep bytes the parser was paused before (pipelined beyond the bound).

static void
conn_keep_leftover (gw_http_conn *conn, const char *data, size_t len)
{
    assert (conn->leftover_len == 0 && conn->leftover == NULL);
    assert (len > 0);
    if (conn->resuming && data >= conn->resuming) {
        //  A suffix of the buffer being re-parsed: keep it in place, so
        //  draining a long pipeline is not quadratic.
        conn->leftover = conn->resuming;
        conn->leftover_off = (size_t) (data - conn->resuming);
        conn->resuming = NULL;
    }
    else {
        conn->leftover = malloc (len);
        if (!conn->leftover) {
            conn_close (conn);
            return;
        }
        memcpy (conn->leftover, data, len);
        conn->leftover_off = 0;
    }
    conn->leftover_len = len;
}


//  --------------------------------------------------------------------------
//  Run bytes through http-parser and act on how it stopped.

static void
conn_parse (gw_http_conn *conn, const char *data, size_t len)
{
    assert (len > 0);
    assert (conn->state == CONN_OPEN);
    assert (!conn->in_parse);
    assert (conn->error_status == 0);
    gw_http *server = conn->server;

    conn->in_parse = true;
    size_t parsed = http_parser_execute (&conn->parser, &s_settings, data, len);
    conn->in_parse = false;
    enum http_errno err = HTTP_PARSER_ERRNO (&conn->parser);
    assert (parsed <= len);
    if (conn->state == CONN_CLOSED)
        return;

    if (err == HPE_PAUSED) {
        //  message_complete paused at the in-flight bound or at the last
        //  request of the connection.
        http_parser_pause (&conn->parser, 0);
        if (conn->state == CONN_OPEN && parsed < len)
            conn_keep_leftover (conn, data + parsed, len - parsed);
    }
    else
    if (err != HPE_OK) {
        unsigned status = conn->error_status;
        conn->error_status = 0;
        if (conn->state != CONN_OPEN)
            return;
        if (status)
            conn_fail (conn, status, conn->error_code, conn->error_message);
        else
        if (err == HPE_HEADER_OVERFLOW) {
            server->stats.header_too_large++;
            conn_fail (conn, 431, "headers_too_large", "request headers too large");
        }
        else {
            server->stats.parse_errors++;
            char message [128];
            snprintf (message, sizeof message, "malformed request: %s",
                      http_errno_description (err));
            conn_fail (conn, 400, "bad_request", message);
        }
        return;
    }
    else
        assert (parsed == len || conn->parser.upgrade);
    conn_update (conn);
}


//  --------------------------------------------------------------------------
//  Parse the leftover of a connection that has room again.

static void
conn_resume (gw_http_conn *conn)
{
    assert (!conn->in_parse);
    assert (conn->resuming == NULL);
    if (conn->state != CONN_OPEN || conn->leftover_len == 0)
        return;
    if (conn_blocked (conn))
        return;                     //  kicked again when a slot frees
    conn->resuming = conn->leftover;
    const char *data = conn->leftover + conn->leftover_off;
    size_t len = conn->leftover_len;
    conn->leftover = NULL;
    conn->leftover_off = conn->leftover_len = 0;
    conn_parse (conn, data, len);
    free (conn->resuming);
    conn->resuming = NULL;
}

static void
s_on_idle (uv_idle_t *idle)
{
    gw_http *server = idle->data;
    assert (server->magic == GW_HTTP_MAGIC);
    //  Bounded: each connection is taken off the list before it runs.
    uint32_t budget = server->conn_count;
    while (server->resume_head && budget-- > 0) {
        gw_http_conn *conn = server->resume_head;
        resume_list_remove (conn);
        conn_resume (conn);
    }
    if (!server->resume_head)
        uv_idle_stop (idle);
}


//  --------------------------------------------------------------------------
//  The peer sent FIN: answer what was asked, then close.

static void
conn_eof (gw_http_conn *conn)
{
    conn->eof = true;
    if (conn->reading) {
        uv_read_stop ((uv_stream_t *) &conn->tcp);
        conn->reading = false;
    }
    if (conn->state == CONN_SHUTDOWN) {
        conn_close (conn);
        return;
    }
    if (conn->state == CONN_OPEN) {
        //  A request cut short by EOF gets no answer: nobody can send
        //  the rest of it.
        if (conn->req) {
            req_free (conn->req);
            conn->req = NULL;
        }
        free (conn->leftover);
        conn->leftover = NULL;
        conn->leftover_len = conn->leftover_off = 0;
        conn->state = CONN_DRAINING;
    }
    if (conn->queue_head == NULL) {
        conn_close (conn);
        return;
    }
    conn_update (conn);
}


//  --------------------------------------------------------------------------
//  libuv read path. One buffer per server: libuv calls alloc then read
//  back to back for one stream, so no two reads share it.

static void
s_on_alloc (uv_handle_t *handle, size_t suggested, uv_buf_t *buf)
{
    gw_http_conn *conn = handle->data;
    gw_http *server = conn->server;
    assert (!server->read_buf_busy);
    server->read_buf_busy = true;
    *buf = uv_buf_init (server->read_buf, sizeof server->read_buf);
}

static void
s_on_read (uv_stream_t *stream, ssize_t nread, const uv_buf_t *buf)
{
    gw_http_conn *conn = stream->data;
    assert (conn->magic == GW_HTTP_CONN_MAGIC);
    gw_http *server = conn->server;
    if (buf && buf->base == server->read_buf)
        server->read_buf_busy = false;
    if (nread == 0 || conn->state == CONN_CLOSED)
        return;
    if (nread < 0) {
        if (nread == UV_EOF)
            conn_eof (conn);
        else
            conn_close (conn);
        return;
    }
    server->stats.bytes_read += (uint64_t) nread;
    if (conn->state != CONN_OPEN)
        return;                     //  lingering: discard
    assert (conn->leftover_len == 0);
    conn_parse (conn, buf->base, (size_t) nread);
}


//  --------------------------------------------------------------------------
//  A connection arrived on the listener.

static void
s_on_reject_close (uv_handle_t *handle)
{
    free (handle);
}

static void
s_on_connection (uv_stream_t *listener, int status)
{
    gw_http *server = listener->data;
    assert (server->magic == GW_HTTP_MAGIC);
    if (status < 0 || server->destroyed)
        return;                     //  e.g. EMFILE; libuv keeps listening
    if (server->conn_count >= server->cfg.max_connections) {
        //  Must accept: libuv stops polling the listener until we do.
        uv_tcp_t *tcp = malloc (sizeof *tcp);
        if (!tcp)
            return;
        server->stats.connections_rejected++;
        int rc = uv_tcp_init (server->loop, tcp);
        assert (rc == 0);
        uv_accept (listener, (uv_stream_t *) tcp);
        uv_close ((uv_handle_t *) tcp, s_on_reject_close);
        return;
    }
    gw_http_conn *conn = calloc (1, sizeof *conn);
    if (!conn)
        return;
    conn->magic = GW_HTTP_CONN_MAGIC;
    conn->server = server;
    conn->state = CONN_OPEN;
    int rc = uv_tcp_init (server->loop, &conn->tcp);
    assert (rc == 0);
    rc = uv_timer_init (server->loop, &conn->timer);
    assert (rc == 0);
    conn->tcp.data = conn;
    conn->timer.data = conn;
    conn->handles_open = 2;
    s_conn_link (server, conn);
    http_parser_init (&conn->parser, HTTP_REQUEST);
    conn->parser.data = conn;
    snprintf (conn->remote, sizeof conn->remote, "unknown");
    if (uv_accept (listener, (uv_stream_t *) &conn->tcp)) {
        conn_close (conn);
        return;
    }
    //  Whole responses go out in one write; Nagle would hold the tail of
    //  pipelined ones for a delayed ACK.
    uv_tcp_nodelay (&conn->tcp, 1);
    struct sockaddr_storage ss;
    int ss_len = sizeof ss;
    if (uv_tcp_getpeername (&conn->tcp, (struct sockaddr *) &ss, &ss_len) == 0)
        s_format_addr (&ss, conn->remote, sizeof conn->remote);
    conn->idle_since_ms = uv_now (server->loop);
    server->stats.connections_accepted++;
    conn_update (conn);
}


//  =========================================================================
//  Server


//  --------------------------------------------------------------------------
//  Fill cfg with the defaults.

void
gw_http_config_defaults (gw_http_config *cfg)
{
    assert (cfg);
    *cfg = (gw_http_config) {
        .max_url_bytes = 4096,
        .max_header_bytes = 8192,
        .max_headers = 64,
        .max_body_bytes = 1024 * 1024,
        .max_connections = 10000,
        .max_inflight = 32,
        .max_write_pending_bytes = 4 * 1024 * 1024,
        .request_timeout_ms = 10000,
        .idle_timeout_ms = 30000,
        .write_timeout_ms = 30000,
        .linger_ms = 1000,
        .backlog = 511,
    };
}


//  --------------------------------------------------------------------------
//  Create a server.

gw_http *
gw_http_new (uv_loop_t *loop, const gw_http_config *cfg,
             gw_http_handler_fn on_request, void *arg)
{
    assert (loop);
    assert (on_request);
    gw_http *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->magic = GW_HTTP_MAGIC;
    self->loop = loop;
    self->on_request = on_request;
    self->arg = arg;
    gw_http_config defaults;
    gw_http_config_defaults (&defaults);
    self->cfg = cfg? *cfg: defaults;
#define S_DEFAULT(field) if (!self->cfg.field) self->cfg.field = defaults.field
    S_DEFAULT (max_url_bytes);
    S_DEFAULT (max_header_bytes);
    S_DEFAULT (max_headers);
    S_DEFAULT (max_body_bytes);
    S_DEFAULT (max_connections);
    S_DEFAULT (max_inflight);
    S_DEFAULT (max_write_pending_bytes);
    S_DEFAULT (request_timeout_ms);
    S_DEFAULT (idle_timeout_ms);
    S_DEFAULT (write_timeout_ms);
    S_DEFAULT (linger_ms);
    S_DEFAULT (backlog);
#undef S_DEFAULT
    //  Offsets into a request's head buffer are 32-bit.
    assert (self->cfg.max_url_bytes + self->cfg.max_header_bytes < UINT32_MAX / 2);
    assert (self->cfg.max_headers < UINT32_MAX / 4);
    int rc = uv_idle_init (loop, &self->idle);
    assert (rc == 0);
    self->idle.data = self;
    self->handles_open = 1;
    self->date_s = (time_t) -1;
    return self;
}


//  --------------------------------------------------------------------------
//  Free the server once destroyed and every handle is closed.

static void
s_server_maybe_free (gw_http *self)
{
    assert (self->magic == GW_HTTP_MAGIC);
    if (!self->destroyed || self->handles_open > 0 || self->conn_count > 0)
        return;
    assert (self->conns == NULL);
    assert (self->resume_head == NULL);
    self->magic = 0;
    free (self);
}

static void
s_on_server_handle_close (uv_handle_t *handle)
{
    gw_http *self = handle->data;
    assert (self->magic == GW_HTTP_MAGIC);
    assert (self->handles_open > 0);
    self->handles_open--;
    s_server_maybe_free (self);
}


//  --------------------------------------------------------------------------
//  Destroy the server; memory goes when the loop has run the closes.

void
gw_http_destroy (gw_http **self_p)
{
    if (!self_p || !*self_p)
        return;
    gw_http *self = *self_p;
    *self_p = NULL;
    assert (self->magic == GW_HTTP_MAGIC);
    if (self->destroyed)
        return;
    //  In-memory connections are freed by their owner, never by close callbacks.
    assert (self->memory_count == 0);
    self->destroyed = true;
    if (self->listener_inited)
        uv_close ((uv_handle_t *) &self->listener, s_on_server_handle_close);
    uv_idle_stop (&self->idle);
    uv_close ((uv_handle_t *) &self->idle, s_on_server_handle_close);
    uint32_t seen = 0;
    for (gw_http_conn *conn = self->conns; conn; conn = conn->next) {
        assert (++seen <= self->conn_count);
        conn_close (conn);
    }
    assert (self->resume_head == NULL);
    s_server_maybe_free (self);
}


//  --------------------------------------------------------------------------
//  Listen on "ip:port" or "[ip6]:port"; returns the bound port.

int
gw_http_listen (gw_http *self, const char *address, char *err, size_t err_size)
{
    assert (self);
    assert (self->magic == GW_HTTP_MAGIC);
    assert (!self->destroyed);
    assert (address);
    char scratch [8];
    if (!err) {
        err = scratch;
        err_size = sizeof scratch;
    }
    if (self->listener_inited) {
        snprintf (err, err_size, "already listening");
        return -EALREADY;
    }
    char host [64];
    const char *port_text;
    size_t host_len;
    bool ipv6 = address [0] == '[';
    if (ipv6) {
        const char *close = strchr (address, ']');
        if (!close || close [1] != ':') {
            snprintf (err, err_size, "bad address '%s': want [ip6]:port", address);
            return -EINVAL;
        }
        host_len = (size_t) (close - address - 1);
        memcpy (host, address + 1, host_len < sizeof host? host_len: 0);
        port_text = close + 2;
    }
    else {
        const char *colon = strrchr (address, ':');
        if (!colon) {
            snprintf (err, err_size, "bad address '%s': want ip:port", address);
            return -EINVAL;
        }
        host_len = (size_t) (colon - address);
        memcpy (host, address, host_len < sizeof host? host_len: 0);
        port_text = colon + 1;
    }
    char *end = NULL;
    errno = 0;
    unsigned long port = strtoul (port_text, &end, 10);
    if (host_len == 0 || host_len >= sizeof host || !port_text [0]
    ||  *end != '\0' || errno || port > 65535 || port_text [0] == '-') {
        snprintf (err, err_size, "bad address '%s'", address);
        return -EINVAL;
    }
    host [host_len] = '\0';

    struct sockaddr_storage ss;
    memset (&ss, 0, sizeof ss);
    int rc = ipv6? uv_ip6_addr (host, (int) port, (struct sockaddr_in6 *) &ss)
                 : uv_ip4_addr (host, (int) port, (struct sockaddr_in *) &ss);
    if (rc) {
        snprintf (err, err_size, "bad address '%s': %s", address, uv_strerror (rc));
        return rc;
    }
    rc = uv_tcp_init (self->loop, &self->listener);
    assert (rc == 0);
    self->listener.data = self;
    self->listener_inited = true;
    self->handles_open++;
    rc = uv_tcp_bind (&self->listener, (const struct sockaddr *) &ss, 0);
    if (rc == 0)
        rc = uv_listen ((uv_stream_t *) &self->listener, self->cfg.backlog,
                        s_on_connection);
    if (rc) {
        //  libuv reports a busy port from listen, not bind.
        snprintf (err, err_size, "listen on %s: %s", address, uv_strerror (rc));
        return rc;
    }
    struct sockaddr_storage bound;
    int bound_len = sizeof bound;
    rc = uv_tcp_getsockname (&self->listener, (struct sockaddr *) &bound, &bound_len);
    if (rc) {
        snprintf (err, err_size, "getsockname: %s", uv_strerror (rc));
        return rc;
    }
    return bound.ss_family == AF_INET6
         ? ntohs (((struct sockaddr_in6 *) &bound)->sin6_port)
         : ntohs (((struct sockaddr_in *) &bound)->sin_port);
}


//  --------------------------------------------------------------------------
//  Copy the counters.

void
gw_http_stats_get (gw_http *self, gw_http_stats *stats)
{
    assert (self);
    assert (self->magic == GW_HTTP_MAGIC);
    assert (stats);
    *stats = self->stats;
    stats->connections_open = self->conn_count;
}


//  =========================================================================
//  Request accessors

#define S_REQ_CHECK(req) do { \
    assert (req); \
    assert ((req)->magic == GW_HTTP_REQ_MAGIC); \
    assert ((req)->headers_done); \
} while (0)

const char *
gw_http_request_method (gw_http_request *req)
{
    S_REQ_CHECK (req);
    return http_method_str ((enum http_method) req->method);
}

const char *
gw_http_request_path (gw_http_request *req)
{
    S_REQ_CHECK (req);
    return req->path;
}

const char *
gw_http_request_query (gw_http_request *req)
{
    S_REQ_CHECK (req);
    return req->query;
}

const char *
gw_http_request_header (gw_http_request *req, const char *name)
{
    S_REQ_CHECK (req);
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
    S_REQ_CHECK (req);
    return req->header_count;
}

int
gw_http_request_header_at (gw_http_request *req, size_t index,
                           const char **name, const char **value)
{
    S_REQ_CHECK (req);
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
    S_REQ_CHECK (req);
    if (len)
        *len = req->body_len;
    return req->body? req->body: "";
}

const char *
gw_http_request_remote (gw_http_request *req)
{
    S_REQ_CHECK (req);
    return req->remote;
}

uint64_t
gw_http_request_start_ns (gw_http_request *req)
{
    S_REQ_CHECK (req);
    return req->start_ns;
}

bool
gw_http_request_detached (gw_http_request *req)
{
    S_REQ_CHECK (req);
    return req->conn == NULL;
}

void
gw_http_request_set_user (gw_http_request *req, void *user)
{
    S_REQ_CHECK (req);
    req->user = user;
}

void *
gw_http_request_user (gw_http_request *req)
{
    S_REQ_CHECK (req);
    return req->user;
}


//  --------------------------------------------------------------------------
//  Answer a request; consumes it.

int
gw_http_respond (gw_http_request *req, unsigned status,
                 const char *content_type, const void *body, size_t body_len,
                 const char *const *extra_headers)
{
    S_REQ_CHECK (req);
    //  Exactly once: a second respond finds REQ_RESPONDED or freed memory.
    assert (req->state == REQ_DISPATCHED);
    assert (body || body_len == 0);
    gw_http_conn *conn = req->conn;
    if (!conn) {
        req_free (req);
        return -ENOTCONN;
    }
    assert (conn->magic == GW_HTTP_CONN_MAGIC);
    assert (conn->state == CONN_OPEN || conn->state == CONN_DRAINING);

    //  uv_buf_t lengths are 32-bit; no answer of ours comes near this.
    bool valid = status >= 200 && status <= 599 && body_len < (1u << 30)
              && (!content_type || s_header_text_ok (content_type));
    for (size_t pair = 0; valid && extra_headers && extra_headers [2 * pair]; pair++) {
        if (pair == GW_HTTP_MAX_EXTRA_HEADERS
        ||  !extra_headers [2 * pair + 1]
        ||  !s_header_name_ok (extra_headers [2 * pair])
        ||  !s_header_text_ok (extra_headers [2 * pair + 1]))
            valid = false;
    }
    int rc = 0;
    char *fallback = NULL;
    if (!valid) {
        //  A programming error in the application; the client still gets
        //  an answer and the connection stays in order.
        rc = -EINVAL;
        status = 500;
        content_type = "application/json";
        extra_headers = NULL;
        body_len = 0;
        fallback = s_error_json ("internal", "invalid response", &body_len);
        body = fallback;
    }
    req->close_after = !req->keep_alive;
    req->response = s_format_response (conn->server, status, content_type,
                                       body, body_len, extra_headers,
                                       req->method == HTTP_HEAD,
                                       req->close_after, &req->response_len);
    free (fallback);
    if (!req->response) {
        //  Later responses must not overtake this one: give up the
        //  connection (which detaches req), then free req.
        conn_close (conn);
        req_free (req);
        return -ENOMEM;
    }
    req->state = REQ_RESPONDED;
    conn_flush (conn);
    return rc;
}


//  --------------------------------------------------------------------------
//  Answer with a JSON error; consumes the request.

int
gw_http_respond_error (gw_http_request *req, unsigned status,
                       const char *code, const char *message)
{
    S_REQ_CHECK (req);
    assert (code);
    size_t len = 0;
    char *body = s_error_json (code, message? message: "", &len);
    int rc = gw_http_respond (req, status, "application/json", body, len, NULL);
    free (body);
    return rc;
}


//  =========================================================================
//  URL helpers

static int
s_hex (char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

ssize_t
gw_http_decode (const char *src, size_t src_len, char *dst, size_t dst_size,
                bool plus_is_space)
{
    assert (src || src_len == 0);
    assert (dst);
    assert (dst_size > 0);
    size_t n = 0;
    for (size_t i = 0; i < src_len; i++) {
        char c = src [i];
        if (c == '%') {
            if (src_len - i < 3)
                return -EINVAL;
            int hi = s_hex (src [i + 1]);
            int lo = s_hex (src [i + 2]);
            if (hi < 0 || lo < 0)
                return -EINVAL;
            c = (char) (hi * 16 + lo);
            i += 2;
        }
        else
        if (c == '+' && plus_is_space)
            c = ' ';
        //  An embedded NUL would silently cut every C string after it.
        if (c == '\0')
            return -EINVAL;
        if (n + 1 >= dst_size)
            return -ENOSPC;
        dst [n++] = c;
    }
    dst [n] = '\0';
    return (ssize_t) n;
}

bool
gw_http_query_next (const char **cursor, gw_http_param *param)
{
    assert (cursor);
    assert (param);
    const char *s = *cursor;
    if (!s)
        return false;
    while (*s == '&')
        s++;
    if (*s == '\0') {
        *cursor = s;
        return false;
    }
    const char *end = strchr (s, '&');
    if (!end)
        end = s + strlen (s);
    const char *eq = memchr (s, '=', (size_t) (end - s));
    param->key = s;
    if (eq) {
        param->key_len = (size_t) (eq - s);
        param->value = eq + 1;
        param->value_len = (size_t) (end - eq - 1);
    }
    else {
        param->key_len = (size_t) (end - s);
        param->value = "";
        param->value_len = 0;
    }
    *cursor = *end? end + 1: end;
    return true;
}

ssize_t
gw_http_query_get (gw_http_request *req, const char *key, char *dst,
                   size_t dst_size)
{
    S_REQ_CHECK (req);
    assert (key);
    const char *cursor = req->query;
    gw_http_param param;
    char decoded [256];
    while (gw_http_query_next (&cursor, &param)) {
        ssize_t len = gw_http_decode (param.key, param.key_len, decoded,
                                      sizeof decoded, true);
        if (len < 0 || strcmp (decoded, key) != 0)
            continue;
        return gw_http_decode (param.value, param.value_len, dst, dst_size, true);
    }
    return -ENOENT;
}


//  =========================================================================
//  In-memory connections (fuzzing, tests)

gw_http_conn *
gw_http__conn_new_memory (gw_http *self)
{
    assert (self);
    assert (self->magic == GW_HTTP_MAGIC);
    assert (!self->destroyed);
    gw_http_conn *conn = calloc (1, sizeof *conn);
    char *sink = malloc (GW_HTTP_MEMORY_SINK_BYTES);
    if (!conn || !sink) {
        free (conn);
        free (sink);
        return NULL;
    }
    conn->magic = GW_HTTP_CONN_MAGIC;
    conn->server = self;
    conn->state = CONN_OPEN;
    conn->in_memory = true;
    conn->sink = sink;
    snprintf (conn->remote, sizeof conn->remote, "memory:0");
    http_parser_init (&conn->parser, HTTP_REQUEST);
    conn->parser.data = conn;
    conn->idle_since_ms = uv_now (self->loop);
    s_conn_link (self, conn);
    self->memory_count++;
    return conn;
}

int
gw_http__feed (gw_http_conn *conn, const void *data, size_t len)
{
    assert (conn);
    assert (conn->magic == GW_HTTP_CONN_MAGIC);
    assert (conn->in_memory);
    assert (!conn->in_parse);
    if (len == 0) {
        if (conn->state == CONN_OPEN || conn->state == CONN_DRAINING)
            conn_eof (conn);
        return 0;
    }
    if (conn->state != CONN_OPEN)
        return -EPIPE;
    //  A socket would not be read now either.
    if (conn->leftover_len > 0 || conn_blocked (conn))
        return -EAGAIN;
    conn->server->stats.bytes_read += len;
    conn_parse (conn, data, len);
    return 0;
}

size_t
gw_http__memory_output (gw_http_conn *conn, const char **data)
{
    assert (conn);
    assert (conn->magic == GW_HTTP_CONN_MAGIC);
    assert (conn->in_memory);
    if (data)
        *data = conn->sink;
    return conn->sink_len;
}

bool
gw_http__memory_closed (gw_http_conn *conn)
{
    assert (conn);
    assert (conn->magic == GW_HTTP_CONN_MAGIC);
    return conn->state == CONN_CLOSED;
}

void
gw_http__conn_destroy_memory (gw_http_conn **conn_p)
{
    if (!conn_p || !*conn_p)
        return;
    gw_http_conn *conn = *conn_p;
    *conn_p = NULL;
    assert (conn->magic == GW_HTTP_CONN_MAGIC);
    assert (conn->in_memory);
    assert (!conn->in_parse);
    conn_close (conn);
    gw_http *server = conn->server;
    s_conn_unlink (conn);
    assert (server->memory_count > 0);
    server->memory_count--;
    free (conn->sink);
    free (conn->resuming);
    conn->magic = 0;
    free (conn);
}
