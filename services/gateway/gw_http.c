/*  =========================================================================
    gw_http - the gateway's HTTP/1.1 server on libuv and http-parser 2.9
    (this file: the server itself and response formatting; the other
    parts are listed in gw_http_internal.h)

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

    Performance (syscalls are the cost on a loaded or virtual machine):
    one shared 64 KiB read buffer per server (reads on a loop are
    sequential); request bytes are copied once into per-request buffers;
    requests and their buffers are reused from a small pool, so a
    keep-alive request allocates nothing; answers are formatted without
    printf; the answers ready in one loop turn leave at its end in one
    writev per connection (uv_try_write: no write request, no epoll
    change), and only what the socket does not take is copied and queued.
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
//  Write {"error":{"code":...,"message":...}} into out; a message longer
//  than out holds is cut (at a whole character or escape).

size_t
gw_http__error_json (const char *code, const char *message, char *out, size_t out_size)
{
    assert (code);
    assert (message);
    size_t code_len = strnlen (code, 64);
    size_t message_len = strnlen (message, GW_HTTP_ERROR_MESSAGE_BYTES);
    //  The frame and the code, each byte escaped at worst (6 bytes).
    assert (out_size >= 40 + 6 * code_len);
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
            //  Room for this character escaped and the closing "}} NUL.
            if (n + 6 + 4 > out_size)
                break;
            if (c == '"' || c == '\\') {
                out [n++] = '\\';
                out [n++] = (char) c;
            }
            else
            if (c < 0x20) {
                static const char hex [] = "0123456789abcdef";
                memcpy (out + n, "\\u00", 4);
                out [n + 4] = hex [c >> 4];
                out [n + 5] = hex [c & 15];
                n += 6;
            }
            else
                out [n++] = (char) c;
        }
    }
    memcpy (out + n, "\"}}", 3);
    n += 3;
    assert (n < out_size);
    out [n] = '\0';
    return n;
}


//  --------------------------------------------------------------------------
//  True when s holds no CR, LF or other control byte (header injection).

bool
gw_http__header_text_ok (const char *s)
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

bool
gw_http__header_name_ok (const char *s)
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
//  Appending to a response without printf (a hot path: one response per
//  request). With data NULL it only counts, so one function measures the
//  head and then writes it into a buffer of exactly that size.

typedef struct {
    char *data;                     //  NULL: count only
    size_t len;                     //  bytes appended (or counted)
    size_t cap;                     //  bytes at data
} out_t;

static void
s_put (out_t *out, const char *text, size_t len)
{
    if (out->data) {
        assert (out->len + len <= out->cap);
        memcpy (out->data + out->len, text, len);
    }
    out->len += len;
}

static void
s_puts (out_t *out, const char *text)
{
    s_put (out, text, strlen (text));
}

static void
s_put_size (out_t *out, size_t value)
{
    char digits [24];
    s_put (out, digits, gw_text_u64 (digits, value));
}

//  One header line "name: value".
static void
s_put_header (out_t *out, const char *name, const char *value)
{
    s_puts (out, name);
    s_put (out, ": ", 2);
    s_puts (out, value);
    s_put (out, "\r\n", 2);
}

//  The status line and headers, up to and with the empty line.
static void
s_put_head (out_t *out, gw_http *server, unsigned status, const char *content_type,
            size_t content_length, const char *const *extra, bool close)
{
    s_put (out, "HTTP/1.1 ", 9);
    s_put_size (out, status);
    s_put (out, " ", 1);
    s_puts (out, s_reason (status));
    s_put (out, "\r\n", 2);
    s_put_header (out, "Date", s_server_date (server));
    if (content_type)
        s_put_header (out, "Content-Type", content_type);
    if (status != 204) {
        s_put (out, "Content-Length: ", 16);
        s_put_size (out, content_length);
        s_put (out, "\r\n", 2);
    }
    s_put_header (out, "Connection", close? "close": "keep-alive");
    //  Every answer: browsers must not guess another type than ours.
    s_put_header (out, "X-Content-Type-Options", "nosniff");
    for (size_t i = 0; extra && extra [i]; i += 2) {
        assert (extra [i + 1]);
        s_put_header (out, extra [i], extra [i + 1]);
    }
    s_put (out, "\r\n", 2);
}


//  --------------------------------------------------------------------------
//  Format a whole response (head and body) into req->response.

int
gw_http__format_response (gw_http_request *req, gw_http *server, unsigned status,
                          const char *content_type, const void *body, size_t body_len,
                          const char *const *extra, bool head_only, bool close)
{
    assert (status >= 200 && status <= 599);
    //  RFC 7230 3.3: these never carry a body, and 204 no Content-Length.
    bool no_body = status == 204 || status == 304;
    bool send_body = !no_body && !head_only && body_len > 0;
    size_t content_length = no_body? 0: body_len;

    out_t count = { NULL, 0, 0 };
    s_put_head (&count, server, status, content_type, content_length, extra, close);
    size_t size = count.len + (send_body? body_len: 0);
    if (size > req->response_cap) {
        //  realloc would copy the old answer for nothing.
        free (req->response);
        req->response_cap = 0;
        req->response = malloc (size);
        if (!req->response)
            return -ENOMEM;
        req->response_cap = size;
    }
    out_t out = { req->response, 0, req->response_cap };
    s_put_head (&out, server, status, content_type, content_length, extra, close);
    assert (out.len == count.len);
    if (send_body)
        s_put (&out, body, body_len);
    req->response_len = out.len;
    return 0;
}


//  --------------------------------------------------------------------------
//  "1.2.3.4:5" or "[::1]:5" for a socket address.

void
gw_http__format_addr (const struct sockaddr_storage *ss, char *out, size_t size)
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


//  --------------------------------------------------------------------------
//  "1.2.3.4" or "::1" for a socket address.

void
gw_http__format_ip (const struct sockaddr_storage *ss, char *out, size_t size)
{
    int rc = -1;
    if (ss->ss_family == AF_INET)
        rc = uv_ip4_name ((const struct sockaddr_in *) ss, out, size);
    else
    if (ss->ss_family == AF_INET6)
        rc = uv_ip6_name ((const struct sockaddr_in6 *) ss, out, size);
    if (rc != 0)
        snprintf (out, size, "unknown");
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
        .max_connections_per_address = 64,
        .max_inflight = 32,
        .max_write_pending_bytes = 4 * 1024 * 1024,
        .request_timeout_ms = 10000,
        .idle_timeout_ms = 30000,
        .first_byte_timeout_ms = 5000,
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
    S_DEFAULT (max_connections_per_address);
    S_DEFAULT (max_inflight);
    S_DEFAULT (max_write_pending_bytes);
    S_DEFAULT (request_timeout_ms);
    S_DEFAULT (idle_timeout_ms);
    S_DEFAULT (first_byte_timeout_ms);
    S_DEFAULT (write_timeout_ms);
    S_DEFAULT (linger_ms);
    S_DEFAULT (backlog);
#undef S_DEFAULT
    //  Offsets into a request's head buffer are 32-bit.
    assert (self->cfg.max_url_bytes + self->cfg.max_header_bytes < UINT32_MAX / 2);
    assert (self->cfg.max_headers < UINT32_MAX / 4);
    gw_http__cors_set (self, self->cfg.cors_origins);
    self->cfg.cors_origins = NULL;  //  the copy in self->cors_origins serves
    if (gw_http__limits_init (self) != 0) {
        free (self);
        return NULL;
    }
    int rc = uv_idle_init (loop, &self->idle);
    assert (rc == 0);
    self->idle.data = self;
    rc = uv_idle_init (loop, &self->flush_idle);
    assert (rc == 0);
    self->flush_idle.data = self;
    rc = uv_check_init (loop, &self->flush_check);
    assert (rc == 0);
    self->flush_check.data = self;
    self->handles_open = 3;
    self->date_s = (time_t) -1;
    return self;
}


//  --------------------------------------------------------------------------
//  Free the server once destroyed and every handle is closed.

void
gw_http__server_maybe_free (gw_http *self)
{
    assert (self->magic == GW_HTTP_MAGIC);
    if (!self->destroyed || self->handles_open > 0 || self->conn_count > 0)
        return;
    assert (self->conns == NULL);
    assert (self->resume_head == NULL && self->flush_head == NULL);
    assert (self->live_count == 0 && self->idle_head == NULL);
    gw_http__req_pool_free (self);
    gw_http__limits_free (self);
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
    gw_http__server_maybe_free (self);
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
    uv_idle_stop (&self->flush_idle);
    uv_close ((uv_handle_t *) &self->flush_idle, s_on_server_handle_close);
    uv_check_stop (&self->flush_check);
    uv_close ((uv_handle_t *) &self->flush_check, s_on_server_handle_close);
    uint32_t seen = 0;
    for (gw_http_conn *conn = self->conns; conn; conn = conn->next) {
        assert (++seen <= self->conn_count);
        gw_http__conn_close (conn);
    }
    assert (self->resume_head == NULL && self->flush_head == NULL);
    gw_http__server_maybe_free (self);
}


//  "ip:port" or "[ip6]:port" into ss. 0, or a negative error with err
//  filled.
static int
s_parse_address (const char *address, struct sockaddr_storage *ss, char *err,
                 size_t err_size)
{
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

    memset (ss, 0, sizeof *ss);
    int rc = ipv6? uv_ip6_addr (host, (int) port, (struct sockaddr_in6 *) ss)
                 : uv_ip4_addr (host, (int) port, (struct sockaddr_in *) ss);
    if (rc)
        snprintf (err, err_size, "bad address '%s': %s", address, uv_strerror (rc));
    return rc;
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
    struct sockaddr_storage ss;
    int rc = s_parse_address (address, &ss, err, err_size);
    if (rc)
        return rc;
    rc = uv_tcp_init (self->loop, &self->listener);
    assert (rc == 0);
    self->listener.data = self;
    self->listener_inited = true;
    self->handles_open++;
    rc = uv_tcp_bind (&self->listener, (const struct sockaddr *) &ss, 0);
    if (rc == 0)
        rc = uv_listen ((uv_stream_t *) &self->listener, self->cfg.backlog,
                        gw_http__on_connection);
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
    stats->connections_open = self->live_count;
}


