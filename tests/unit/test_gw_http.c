/*  test_gw_http - the gateway's HTTP/1.1 server over real sockets.

    The server runs on a libuv loop in the test's thread; each test's
    client runs in its own thread with plain blocking POSIX sockets (3 s
    receive timeout, so a broken server fails a test instead of hanging
    it). The client never calls cmocka: it records its first failure in
    the fixture, and the test asserts after joining it. When the client
    needs the loop side to act mid-way (respond, destroy), it signals
    through a uv_async and waits on a semaphore.
*/
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "gw_http.h"

#define MAX_HELD 64

typedef struct fixture fixture;
typedef void (client_fn) (fixture *f);
typedef void (handler_fn) (fixture *f, gw_http_request *req);
typedef bool (poll_fn) (fixture *f);

struct fixture {
    uv_loop_t loop;
    gw_http *http;
    gw_http_config cfg;
    int port;
    uv_async_t signal;              //  client -> loop
    uv_timer_t poll;                //  runs on_poll every 5 ms
    pthread_t thread;
    sem_t go;                       //  loop -> client: carry on
    atomic_bool client_finished;
    client_fn *client;
    handler_fn *on_req;             //  NULL: echo at once
    void (*on_signal) (fixture *f); //  NULL: post go at once
    poll_fn *on_poll;               //  true: stop polling
    //  handler side
    gw_http_request *held [MAX_HELD];
    size_t held_count;
    size_t max_held_seen;
    size_t calls;
    char method [16];
    char path [256];
    char query [256];
    char auth [128];
    char ctype [128];
    char remote [64];
    char month [32];
    uint64_t start_ns;
    char body [4096];
    size_t body_len;
    size_t big_body_bytes;          //  handler answers this many bytes
    int respond_rc;
    uint64_t writes_before;         //  socket_writes before answering
    //  client side
    char client_error [256];
    int64_t elapsed_ms;
    gw_http_stats stats;
};

//  =========================================================================
//  Client side (runs in the client thread; no cmocka here)

typedef struct {
    int fd;
    char *buf;
    size_t len;
    size_t cap;
} cconn;

typedef struct {
    int status;
    char head [8192];
    char *body;
    size_t body_len;
} cresp;

static void
client_fail (fixture *f, int line, const char *what)
{
    if (!f->client_error [0])
        snprintf (f->client_error, sizeof f->client_error, "client line %d: %s",
                  line, what);
}

#define C_CHECK(f, cond) do { \
    if (!(cond)) { client_fail ((f), __LINE__, #cond); return; } \
} while (0)

static int64_t
now_ms (void)
{
    struct timespec ts;
    clock_gettime (CLOCK_MONOTONIC, &ts);
    return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static cconn *
cc_open (int port)
{
    int fd = socket (AF_INET, SOCK_STREAM, 0);
    if (fd < 0)
        return NULL;
    struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons ((uint16_t) port) };
    inet_pton (AF_INET, "127.0.0.1", &sin.sin_addr);
    struct timeval tv = { .tv_sec = 3 };
    setsockopt (fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt (fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    if (connect (fd, (struct sockaddr *) &sin, sizeof sin)) {
        close (fd);
        return NULL;
    }
    cconn *c = calloc (1, sizeof *c);
    c->fd = fd;
    c->cap = 8 << 20;
    c->buf = malloc (c->cap);
    return c;
}

static void
cc_close (cconn *c)
{
    if (!c)
        return;
    if (c->fd >= 0)
        close (c->fd);
    free (c->buf);
    free (c);
}

//  Close with RST instead of FIN.
static void
cc_reset (cconn *c)
{
    struct linger lg = { .l_onoff = 1, .l_linger = 0 };
    setsockopt (c->fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
    close (c->fd);
    c->fd = -1;
}

static bool
cc_send (cconn *c, const char *data, size_t len)
{
    size_t sent = 0;
    while (sent < len) {
        ssize_t n = send (c->fd, data + sent, len - sent, MSG_NOSIGNAL);
        if (n <= 0)
            return false;
        sent += (size_t) n;
    }
    return true;
}

static bool
cc_sends (cconn *c, const char *text)
{
    return cc_send (c, text, strlen (text));
}

//  One recv into the buffer: >0 bytes, 0 EOF, <0 error or timeout.
static ssize_t
cc_fill (cconn *c)
{
    if (c->len == c->cap)
        return -1;
    ssize_t n = recv (c->fd, c->buf + c->len, c->cap - c->len, 0);
    if (n > 0)
        c->len += (size_t) n;
    return n;
}

static const char *
resp_header (cresp *r, const char *name)
{
    static __thread char value [256];
    size_t name_len = strlen (name);
    const char *line = strstr (r->head, "\r\n");
    while (line && line [2] != '\r') {
        line += 2;
        if (strncasecmp (line, name, name_len) == 0 && line [name_len] == ':') {
            const char *v = line + name_len + 1;
            while (*v == ' ')
                v++;
            const char *end = strstr (v, "\r\n");
            size_t len = (size_t) (end - v);
            if (len >= sizeof value)
                len = sizeof value - 1;
            memcpy (value, v, len);
            value [len] = '\0';
            return value;
        }
        line = strstr (line, "\r\n");
    }
    return NULL;
}

//  Read one whole response. head_only: a HEAD answer, no body bytes.
static int
cc_response (cconn *c, cresp *r, bool head_only)
{
    memset (r, 0, sizeof *r);
    char *end = NULL;
    while (true) {
        if (c->len > 0) {
            c->buf [c->len < c->cap? c->len: c->cap - 1] = '\0';
            end = memmem (c->buf, c->len, "\r\n\r\n", 4);
            if (end)
                break;
        }
        if (cc_fill (c) <= 0)
            return -1;
    }
    size_t head_len = (size_t) (end - c->buf) + 4;
    if (head_len >= sizeof r->head)
        return -1;
    memcpy (r->head, c->buf, head_len);
    r->head [head_len] = '\0';
    if (sscanf (r->head, "HTTP/1.1 %d", &r->status) != 1)
        return -1;
    const char *cl = resp_header (r, "Content-Length");
    size_t body_len = (cl && !head_only)? strtoul (cl, NULL, 10): 0;
    while (c->len < head_len + body_len)
        if (cc_fill (c) <= 0)
            return -1;
    r->body = malloc (body_len + 1);
    memcpy (r->body, c->buf + head_len, body_len);
    r->body [body_len] = '\0';
    r->body_len = body_len;
    memmove (c->buf, c->buf + head_len + body_len, c->len - head_len - body_len);
    c->len -= head_len + body_len;
    return 0;
}

static void
resp_free (cresp *r)
{
    free (r->body);
    r->body = NULL;
}

//  True when the server closed (EOF or reset) with nothing else unread.
static bool
cc_closed (cconn *c)
{
    if (c->len > 0)
        return false;
    ssize_t n = recv (c->fd, c->buf, c->cap, 0);
    return n == 0 || (n < 0 && errno == ECONNRESET);
}

//  Ask the loop side to act (fixture.on_signal) and wait until it has.
static void
client_signal (fixture *f)
{
    uv_async_send (&f->signal);
    sem_wait (&f->go);
}

//  =========================================================================
//  Loop side

static void
s_on_signal (uv_async_t *async)
{
    fixture *f = async->data;
    if (atomic_load (&f->client_finished)) {
        uv_stop (&f->loop);
        return;
    }
    if (f->on_signal)
        f->on_signal (f);
    else
        sem_post (&f->go);
}

static void
s_on_poll (uv_timer_t *timer)
{
    fixture *f = timer->data;
    if (f->on_poll && f->on_poll (f)) {
        f->on_poll = NULL;
        uv_timer_stop (timer);
    }
}

static void
start_poll (fixture *f, poll_fn *fn)
{
    f->on_poll = fn;
    uv_timer_start (&f->poll, s_on_poll, 5, 5);
}

//  Echo: "<method> <path> q=<query> b=<body>".
static void
echo (gw_http_request *req, int *rc)
{
    size_t body_len = 0;
    const char *body = gw_http_request_body (req, &body_len);
    char *out = malloc (body_len + 1024);
    int n = snprintf (out, 1024, "%s %s q=%s b=", gw_http_request_method (req),
                      gw_http_request_path (req), gw_http_request_query (req));
    memcpy (out + n, body, body_len);
    *rc = gw_http_respond (req, 200, "text/plain", out, (size_t) n + body_len, NULL);
    free (out);
}

static void
s_handler (gw_http_request *req, void *arg)
{
    fixture *f = arg;
    if (f->calls++ == 0) {
        snprintf (f->method, sizeof f->method, "%s", gw_http_request_method (req));
        snprintf (f->path, sizeof f->path, "%s", gw_http_request_path (req));
        snprintf (f->query, sizeof f->query, "%s", gw_http_request_query (req));
        const char *auth = gw_http_request_header (req, "authorization");
        snprintf (f->auth, sizeof f->auth, "%s", auth? auth: "(none)");
        const char *ctype = gw_http_request_header (req, "CONTENT-TYPE");
        snprintf (f->ctype, sizeof f->ctype, "%s", ctype? ctype: "(none)");
        snprintf (f->remote, sizeof f->remote, "%s", gw_http_request_remote (req));
        f->start_ns = gw_http_request_start_ns (req);
        size_t len = 0;
        const void *body = gw_http_request_body (req, &len);
        f->body_len = len;
        memcpy (f->body, body, len < sizeof f->body? len: sizeof f->body);
        gw_http_query_get (req, "month", f->month, sizeof f->month);
    }
    if (f->on_req)
        f->on_req (f, req);
    else
        echo (req, &f->respond_rc);
}

static void
hold (fixture *f, gw_http_request *req)
{
    assert_true (f->held_count < MAX_HELD);
    f->held [f->held_count++] = req;
    if (f->held_count > f->max_held_seen)
        f->max_held_seen = f->held_count;
}

static void *
s_client_main (void *arg)
{
    fixture *f = arg;
    int64_t start = now_ms ();
    f->client (f);
    f->elapsed_ms = now_ms () - start;
    atomic_store (&f->client_finished, true);
    uv_async_send (&f->signal);
    return NULL;
}

static fixture *
fixture_new (void)
{
    fixture *f = calloc (1, sizeof *f);
    assert_non_null (f);
    assert_int_equal (uv_loop_init (&f->loop), 0);
    return f;
}

//  Start the server with f->cfg and the client thread, run the loop until
//  the client is done, then destroy everything and check nothing leaked
//  a handle. Assertions on f follow.
static void
fixture_run (fixture *f, client_fn *client)
{
    f->http = gw_http_new (&f->loop, &f->cfg, s_handler, f);
    assert_non_null (f->http);
    char err [128] = "";
    f->port = gw_http_listen (f->http, "127.0.0.1:0", err, sizeof err);
    assert_true (f->port > 0);
    assert_int_equal (uv_async_init (&f->loop, &f->signal, s_on_signal), 0);
    f->signal.data = f;
    assert_int_equal (uv_timer_init (&f->loop, &f->poll), 0);
    f->poll.data = f;
    assert_int_equal (sem_init (&f->go, 0, 0), 0);
    f->client = client;
    assert_int_equal (pthread_create (&f->thread, NULL, s_client_main, f), 0);
    uv_run (&f->loop, UV_RUN_DEFAULT);
    pthread_join (f->thread, NULL);
    if (f->http)
        gw_http_stats_get (f->http, &f->stats);
}

static void
fixture_destroy (fixture **f_p)
{
    fixture *f = *f_p;
    gw_http_destroy (&f->http);
    gw_http_destroy (&f->http);     //  safe twice
    uv_close ((uv_handle_t *) &f->signal, NULL);
    uv_close ((uv_handle_t *) &f->poll, NULL);
    uv_run (&f->loop, UV_RUN_DEFAULT);
    //  Requests still held are detached now: respond only frees.
    for (size_t i = 0; i < f->held_count; i++)
        assert_int_equal (gw_http_respond (f->held [i], 200, NULL, NULL, 0, NULL),
                          -ENOTCONN);
    assert_int_equal (uv_loop_close (&f->loop), 0);
    sem_destroy (&f->go);
    assert_string_equal (f->client_error, "");
    free (f);
    *f_p = NULL;
}

//  =========================================================================
//  Tests without sockets: URL helpers and the in-memory connection

static void
s_memory_handler (gw_http_request *req, void *arg)
{
    fixture *f = arg;
    f->calls++;
    char value [64];
    assert_int_equal (gw_http_query_get (req, "a", value, sizeof value), 1);
    assert_string_equal (value, "1");
    assert_int_equal (gw_http_query_get (req, "b c", value, sizeof value), 3);
    assert_string_equal (value, "x y");
    assert_int_equal (gw_http_query_get (req, "flag", value, sizeof value), 0);
    assert_int_equal (gw_http_query_get (req, "missing", value, sizeof value), -ENOENT);
    assert_int_equal (gw_http_query_get (req, "bad", value, sizeof value), -EINVAL);
    assert_int_equal (gw_http_query_get (req, "b c", value, 3), -ENOSPC);
    assert_string_equal (gw_http_request_path (req), "/v1/x%2Fy");
    assert_string_equal (gw_http_request_header (req, "x-empty"), "");
    assert_string_equal (gw_http_request_header (req, "X-Trim"), "v");
    assert_int_equal (gw_http_request_header_count (req), 3);
    const char *name, *val;
    assert_int_equal (gw_http_request_header_at (req, 0, &name, &val), 0);
    assert_string_equal (name, "Host");
    assert_int_equal (gw_http_request_header_at (req, 3, &name, &val), -ENOENT);
    gw_http_request_set_user (req, f);
    assert_ptr_equal (gw_http_request_user (req), f);
    assert_false (gw_http_request_detached (req));
    gw_http_respond (req, 204, NULL, NULL, 0, NULL);
}

//  Requests are reused from a pool: the second request on a connection
//  must show nothing of the first (body, headers, id, user pointer).
static void
s_reuse_handler (gw_http_request *req, void *arg)
{
    fixture *f = arg;
    size_t len = 0;
    const char *body = gw_http_request_body (req, &len);
    if (f->calls++ == 0) {
        assert_string_equal (body, "hello");
        gw_http_request_set_id (req, "first-id");
        gw_http_request_set_user (req, f);
    }
    else {
        assert_int_equal (len, 0);
        assert_string_equal (body, "");
        assert_string_equal (gw_http_request_path (req), "/b");
        assert_int_equal (gw_http_request_header_count (req), 1);
        assert_null (gw_http_request_header (req, "X-One"));
        assert_null (gw_http_request_user (req));
    }
    gw_http_respond (req, 200, "text/plain", "ok", 2, NULL);
}

static void
test_reused_request_is_clean (void **state)
{
    fixture *f = fixture_new ();
    gw_http *http = gw_http_new (&f->loop, NULL, s_reuse_handler, f);
    assert_non_null (http);
    gw_http_conn *conn = gw_http__conn_new_memory (http);
    assert_non_null (conn);
    const char *first = "POST /a HTTP/1.1\r\nHost: h\r\nX-One: 1\r\n"
                        "Content-Length: 5\r\n\r\nhello";
    const char *second = "GET /b HTTP/1.1\r\nHost: h\r\n\r\n";
    assert_int_equal (gw_http__feed (conn, first, strlen (first)), 0);
    const char *out = NULL;
    size_t first_len = gw_http__memory_output (conn, &out);
    assert_non_null (memmem (out, first_len, "X-Request-Id: first-id", 22));
    assert_int_equal (gw_http__feed (conn, second, strlen (second)), 0);
    assert_int_equal (f->calls, 2);
    size_t all_len = gw_http__memory_output (conn, &out);
    assert_true (all_len > first_len);
    assert_null (memmem (out + first_len, all_len - first_len, "X-Request-Id", 12));
    gw_http__conn_destroy_memory (&conn);
    gw_http_destroy (&http);
    uv_run (&f->loop, UV_RUN_DEFAULT);
    assert_int_equal (uv_loop_close (&f->loop), 0);
    free (f);
}

static void
test_url_helpers (void **state)
{
    char out [32];
    assert_int_equal (gw_http_decode ("a%20b+c", 7, out, sizeof out, true), 5);
    assert_string_equal (out, "a b c");
    assert_int_equal (gw_http_decode ("a+b", 3, out, sizeof out, false), 3);
    assert_string_equal (out, "a+b");
    assert_int_equal (gw_http_decode ("%E4%B8%AD", 9, out, sizeof out, false), 3);
    assert_int_equal (gw_http_decode ("%2", 2, out, sizeof out, false), -EINVAL);
    assert_int_equal (gw_http_decode ("%zz", 3, out, sizeof out, false), -EINVAL);
    assert_int_equal (gw_http_decode ("%00", 3, out, sizeof out, false), -EINVAL);
    assert_int_equal (gw_http_decode ("abcd", 4, out, 4, false), -ENOSPC);
    assert_int_equal (gw_http_decode ("", 0, out, 1, false), 0);

    const char *cursor = "&a=1&&b&c=x=y&";
    gw_http_param p;
    assert_true (gw_http_query_next (&cursor, &p));
    assert_int_equal (p.key_len, 1);
    assert_memory_equal (p.key, "a", 1);
    assert_int_equal (p.value_len, 1);
    assert_true (gw_http_query_next (&cursor, &p));
    assert_memory_equal (p.key, "b", 1);
    assert_int_equal (p.value_len, 0);
    assert_true (gw_http_query_next (&cursor, &p));
    assert_int_equal (p.key_len, 1);
    assert_int_equal (p.value_len, 3);
    assert_memory_equal (p.value, "x=y", 3);
    assert_false (gw_http_query_next (&cursor, &p));
    assert_false (gw_http_query_next (&cursor, &p));

    //  Accessors through an in-memory connection (no socket).
    fixture *f = fixture_new ();
    gw_http *http = gw_http_new (&f->loop, NULL, s_memory_handler, f);
    assert_non_null (http);
    gw_http_conn *conn = gw_http__conn_new_memory (http);
    assert_non_null (conn);
    const char *req = "GET /v1/x%2Fy?a=1&b+c=x%20y&flag&bad=%zz HTTP/1.1\r\n"
                      "Host: h\r\nX-Empty:\r\nX-Trim:  v  \r\n\r\n";
    assert_int_equal (gw_http__feed (conn, req, strlen (req)), 0);
    assert_int_equal (f->calls, 1);
    const char *out_bytes = NULL;
    size_t out_len = gw_http__memory_output (conn, &out_bytes);
    assert_true (out_len > 0);
    assert_memory_equal (out_bytes, "HTTP/1.1 204 No Content\r\n", 25);
    assert_null (memmem (out_bytes, out_len, "Content-Length", 14));
    assert_false (gw_http__memory_closed (conn));
    assert_int_equal (gw_http__feed (conn, "", 0), 0);     //  EOF
    assert_true (gw_http__memory_closed (conn));
    gw_http__conn_destroy_memory (&conn);
    assert_null (conn);
    gw_http_destroy (&http);
    uv_run (&f->loop, UV_RUN_DEFAULT);
    assert_int_equal (uv_loop_close (&f->loop), 0);
    free (f);
}

static void
test_listen_errors (void **state)
{
    uv_loop_t loop;
    uv_loop_init (&loop);
    char err [128];
    gw_http *a = gw_http_new (&loop, NULL, (gw_http_handler_fn) abort, NULL);
    assert_int_equal (gw_http_listen (a, "localhost", err, sizeof err), -EINVAL);
    assert_true (strlen (err) > 0);
    gw_http_destroy (&a);

    a = gw_http_new (&loop, NULL, (gw_http_handler_fn) abort, NULL);
    assert_int_equal (gw_http_listen (a, "127.0.0.1:99999", err, sizeof err), -EINVAL);
    gw_http_destroy (&a);

    a = gw_http_new (&loop, NULL, (gw_http_handler_fn) abort, NULL);
    int port = gw_http_listen (a, "127.0.0.1:0", err, sizeof err);
    assert_true (port > 0);
    assert_int_equal (gw_http_listen (a, "127.0.0.1:0", err, sizeof err), -EALREADY);
    gw_http *b = gw_http_new (&loop, NULL, (gw_http_handler_fn) abort, NULL);
    char address [64];
    snprintf (address, sizeof address, "127.0.0.1:%d", port);
    assert_int_equal (gw_http_listen (b, address, err, sizeof err), UV_EADDRINUSE);
    gw_http_destroy (&b);
    gw_http_destroy (&a);

    //  IPv6 loopback, where the machine has it.
    a = gw_http_new (&loop, NULL, (gw_http_handler_fn) abort, NULL);
    port = gw_http_listen (a, "[::1]:0", err, sizeof err);
    assert_true (port > 0 || port == UV_EADDRNOTAVAIL || port == UV_EAFNOSUPPORT);
    gw_http_destroy (&a);
    uv_run (&loop, UV_RUN_DEFAULT);
    assert_int_equal (uv_loop_close (&loop), 0);
}

//  =========================================================================
//  Requests and responses

static void
client_simple_get (fixture *f)
{
    cconn *c = cc_open (f->port);
    C_CHECK (f, c);
    C_CHECK (f, cc_sends (c, "GET /v1/credit/persons/p1/entries?month=2026-01&page_size=10 HTTP/1.1\r\n"
                             "Host: localhost\r\nAuthorization: Bearer abc\r\n"
                             "Content-Type: application/json\r\n\r\n"));
    cresp r;
    C_CHECK (f, cc_response (c, &r, false) == 0);
    const char *want = "GET /v1/credit/persons/p1/entries q=month=2026-01&page_size=10 b=";
    C_CHECK (f, strncmp (r.head, "HTTP/1.1 200 OK\r\n", 17) == 0);
    C_CHECK (f, strcmp (resp_header (&r, "Content-Type"), "text/plain") == 0);
    C_CHECK (f, strtoul (resp_header (&r, "Content-Length"), NULL, 10) == strlen (want));
    C_CHECK (f, strcmp (resp_header (&r, "Connection"), "keep-alive") == 0);
    C_CHECK (f, resp_header (&r, "Date") != NULL);
    C_CHECK (f, strcmp (r.body, want) == 0);
    resp_free (&r);
    cc_close (c);
}

static void
test_simple_get (void **state)
{
    fixture *f = fixture_new ();
    fixture_run (f, client_simple_get);
    assert_string_equal (f->method, "GET");
    assert_string_equal (f->path, "/v1/credit/persons/p1/entries");
    assert_string_equal (f->query, "month=2026-01&page_size=10");
    assert_string_equal (f->month, "2026-01");
    assert_string_equal (f->auth, "Bearer abc");
    assert_string_equal (f->ctype, "application/json");
    assert_int_equal (strncmp (f->remote, "127.0.0.1:", 10), 0);
    assert_true (f->start_ns > 0 && f->start_ns <= uv_hrtime ());
    assert_int_equal (f->body_len, 0);
    assert_int_equal (f->respond_rc, 0);
    assert_int_equal (f->stats.requests_parsed, 1);
    assert_int_equal (f->stats.responses_sent, 1);
    assert_int_equal (f->stats.connections_accepted, 1);
    fixture_destroy (&f);
}

static void
client_post_body (fixture *f)
{
    cconn *c = cc_open (f->port);
    C_CHECK (f, c);
    C_CHECK (f, cc_sends (c, "POST /v1/tokens HTTP/1.1\r\nHost: x\r\n"
                             "Content-Type: application/json\r\nContent-Length: 16\r\n\r\n"
                             "{\"role\":\"panel\"}"));
    cresp r;
    C_CHECK (f, cc_response (c, &r, false) == 0);
    C_CHECK (f, r.status == 200);
    C_CHECK (f, strcmp (r.body, "POST /v1/tokens q= b={\"role\":\"panel\"}") == 0);
    resp_free (&r);
    cc_close (c);
}

static void
test_post_content_length (void **state)
{
    fixture *f = fixture_new ();
    fixture_run (f, client_post_body);
    assert_string_equal (f->method, "POST");
    assert_int_equal (f->body_len, 16);
    assert_memory_equal (f->body, "{\"role\":\"panel\"}", 16);
    fixture_destroy (&f);
}

static void
client_chunked (fixture *f)
{
    cconn *c = cc_open (f->port);
    C_CHECK (f, c);
    //  Sent in pieces so chunks straddle reads.
    C_CHECK (f, cc_sends (c, "POST /chunks HTTP/1.1\r\nHost: x\r\n"
                             "Transfer-Encoding: chunked\r\n\r\n5\r\nhel"));
    usleep (20000);
    C_CHECK (f, cc_sends (c, "lo\r\n6\r\n world\r\n0\r\nX-Trailer: t\r\n\r\n"));
    cresp r;
    C_CHECK (f, cc_response (c, &r, false) == 0);
    C_CHECK (f, r.status == 200);
    C_CHECK (f, strcmp (r.body, "POST /chunks q= b=hello world") == 0);
    resp_free (&r);
    cc_close (c);
}

static void
test_chunked_body (void **state)
{
    fixture *f = fixture_new ();
    fixture_run (f, client_chunked);
    assert_int_equal (f->body_len, 11);
    assert_memory_equal (f->body, "hello world", 11);
    fixture_destroy (&f);
}

static void
client_keep_alive (fixture *f)
{
    cconn *c = cc_open (f->port);
    C_CHECK (f, c);
    for (int i = 0; i < 2; i++) {
        char req [128];
        snprintf (req, sizeof req, "GET /n/%d HTTP/1.1\r\nHost: x\r\n\r\n", i);
        C_CHECK (f, cc_sends (c, req));
        cresp r;
        C_CHECK (f, cc_response (c, &r, false) == 0);
        char want [64];
        snprintf (want, sizeof want, "GET /n/%d q= b=", i);
        C_CHECK (f, strcmp (r.body, want) == 0);
        C_CHECK (f, strcmp (resp_header (&r, "Connection"), "keep-alive") == 0);
        resp_free (&r);
    }
    cc_close (c);
}

static void
test_keep_alive (void **state)
{
    fixture *f = fixture_new ();
    fixture_run (f, client_keep_alive);
    assert_int_equal (f->calls, 2);
    assert_int_equal (f->stats.connections_accepted, 1);
    fixture_destroy (&f);
}

//  Hold both, answer the second first: the wire order must not change.
static void
s_answer_backwards (fixture *f, gw_http_request *req)
{
    hold (f, req);
    if (f->held_count < 2)
        return;
    assert_int_equal (gw_http_respond (f->held [1], 200, "text/plain", "two", 3, NULL), 0);
    const char *const extra [] = { "X-Order", "1", "Cache-Control", "no-store", NULL };
    assert_int_equal (gw_http_respond (f->held [0], 201, "text/plain", "one", 3, extra), 0);
    f->held_count = 0;
}

static void
client_pipeline (fixture *f)
{
    cconn *c = cc_open (f->port);
    C_CHECK (f, c);
    C_CHECK (f, cc_sends (c, "GET /1 HTTP/1.1\r\nHost: x\r\n\r\n"
                             "POST /2 HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc"));
    cresp r;
    C_CHECK (f, cc_response (c, &r, false) == 0);
    C_CHECK (f, r.status == 201);
    C_CHECK (f, strcmp (r.body, "one") == 0);
    C_CHECK (f, strcmp (resp_header (&r, "X-Order"), "1") == 0);
    C_CHECK (f, strcmp (resp_header (&r, "Cache-Control"), "no-store") == 0);
    resp_free (&r);
    C_CHECK (f, cc_response (c, &r, false) == 0);
    C_CHECK (f, r.status == 200);
    C_CHECK (f, strcmp (r.body, "two") == 0);
    resp_free (&r);
    cc_close (c);
}

static void
test_pipeline_in_order (void **state)
{
    fixture *f = fixture_new ();
    f->on_req = s_answer_backwards;
    fixture_run (f, client_pipeline);
    assert_int_equal (f->calls, 2);
    assert_int_equal (f->stats.responses_sent, 2);
    fixture_destroy (&f);
}

//  In-flight bound: held requests are answered by a poll, in order.
static bool
s_answer_held (fixture *f)
{
    for (size_t i = 0; i < f->held_count; i++) {
        char body [16];
        int n = snprintf (body, sizeof body, "r%zu", f->calls - f->held_count + i);
        assert_int_equal (gw_http_respond (f->held [i], 200, "text/plain", body,
                                           (size_t) n, NULL), 0);
    }
    f->held_count = 0;
    return false;                   //  keep polling
}

static void
s_hold_and_poll (fixture *f, gw_http_request *req)
{
    hold (f, req);
    if (!f->on_poll)
        start_poll (f, s_answer_held);
}

static void
client_inflight_bound (fixture *f)
{
    cconn *c = cc_open (f->port);
    C_CHECK (f, c);
    char reqs [2048] = "";
    for (int i = 0; i < 7; i++) {
        char one [128];
        snprintf (one, sizeof one, "GET /%d HTTP/1.1\r\nHost: x\r\n\r\n", i);
        strcat (reqs, one);
    }
    C_CHECK (f, cc_sends (c, reqs));
    for (int i = 0; i < 7; i++) {
        cresp r;
        C_CHECK (f, cc_response (c, &r, false) == 0);
        char want [16];
        snprintf (want, sizeof want, "r%d", i);
        C_CHECK (f, strcmp (r.body, want) == 0);
        resp_free (&r);
    }
    cc_close (c);
}

static void
test_inflight_bound (void **state)
{
    fixture *f = fixture_new ();
    f->cfg.max_inflight = 2;
    f->on_req = s_hold_and_poll;
    fixture_run (f, client_inflight_bound);
    assert_int_equal (f->calls, 7);
    assert_int_equal (f->max_held_seen, 2);
    assert_true (f->stats.read_pauses >= 1);
    fixture_destroy (&f);
}

//  Answers ready in one loop turn leave in one write: seven pipelined
//  requests, held, then answered from one callback.
static bool
s_answer_all_seven (fixture *f)
{
    if (f->held_count < 7)
        return false;
    gw_http_stats st;
    gw_http_stats_get (f->http, &st);
    f->writes_before = st.socket_writes;
    s_answer_held (f);
    return true;
}

static void
s_hold_and_poll_all (fixture *f, gw_http_request *req)
{
    hold (f, req);
    if (!f->on_poll)
        start_poll (f, s_answer_all_seven);
}

static void
test_one_write_per_turn (void **state)
{
    fixture *f = fixture_new ();
    f->on_req = s_hold_and_poll_all;
    fixture_run (f, client_inflight_bound);
    assert_int_equal (f->calls, 7);
    assert_int_equal (f->stats.responses_sent, 7);
    assert_int_equal (f->stats.socket_writes - f->writes_before, 1);
    fixture_destroy (&f);
}

static void
client_connection_close (fixture *f)
{
    cconn *c = cc_open (f->port);
    C_CHECK (f, c);
    //  The second request after "close" must be ignored.
    C_CHECK (f, cc_sends (c, "GET /a HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
                             "GET /b HTTP/1.1\r\nHost: x\r\n\r\n"));
    cresp r;
    C_CHECK (f, cc_response (c, &r, false) == 0);
    C_CHECK (f, r.status == 200);
    C_CHECK (f, strcmp (resp_header (&r, "Connection"), "close") == 0);
    resp_free (&r);
    C_CHECK (f, cc_closed (c));
    cc_close (c);
}

static void
test_connection_close (void **state)
{
    fixture *f = fixture_new ();
    fixture_run (f, client_connection_close);
    assert_int_equal (f->calls, 1);
    fixture_destroy (&f);
}

static void
client_http10 (fixture *f)
{
    cconn *c = cc_open (f->port);
    C_CHECK (f, c);
    C_CHECK (f, cc_sends (c, "GET /old HTTP/1.0\r\n\r\n"));
    cresp r;
    C_CHECK (f, cc_response (c, &r, false) == 0);
    C_CHECK (f, strcmp (resp_header (&r, "Connection"), "close") == 0);
    resp_free (&r);
    C_CHECK (f, cc_closed (c));
    cc_close (c);

    c = cc_open (f->port);
    C_CHECK (f, c);
    for (int i = 0; i < 2; i++) {
        C_CHECK (f, cc_sends (c, "GET /old HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"));
        C_CHECK (f, cc_response (c, &r, false) == 0);
        C_CHECK (f, strcmp (resp_header (&r, "Connection"), "keep-alive") == 0);
        resp_free (&r);
    }
    cc_close (c);
}

static void
test_http10 (void **state)
{
    fixture *f = fixture_new ();
    fixture_run (f, client_http10);
    assert_int_equal (f->calls, 3);
    fixture_destroy (&f);
}

static void
client_head (fixture *f)
{
    cconn *c = cc_open (f->port);
    C_CHECK (f, c);
    C_CHECK (f, cc_sends (c, "HEAD /h HTTP/1.1\r\nHost: x\r\n\r\n"
                             "GET /g HTTP/1.1\r\nHost: x\r\n\r\n"));
    cresp r;
    C_CHECK (f, cc_response (c, &r, true) == 0);
    C_CHECK (f, r.status == 200);
    C_CHECK (f, strtoul (resp_header (&r, "Content-Length"), NULL, 10) == strlen ("HEAD /h q= b="));
    resp_free (&r);
    //  Had the HEAD answer carried a body, this would read it instead.
    C_CHECK (f, cc_response (c, &r, false) == 0);
    C_CHECK (f, strcmp (r.body, "GET /g q= b=") == 0);
    resp_free (&r);
    cc_close (c);
}

static void
test_head_no_body (void **state)
{
    fixture *f = fixture_new ();
    fixture_run (f, client_head);
    fixture_destroy (&f);
}

static void
client_expect_continue (fixture *f)
{
    cconn *c = cc_open (f->port);
    C_CHECK (f, c);
    C_CHECK (f, cc_sends (c, "PUT /e HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\n"
                             "Expect: 100-continue\r\n\r\n"));
    cresp r;
    C_CHECK (f, cc_response (c, &r, false) == 0);
    C_CHECK (f, r.status == 100);
    resp_free (&r);
    C_CHECK (f, cc_sends (c, "data"));
    C_CHECK (f, cc_response (c, &r, false) == 0);
    C_CHECK (f, strcmp (r.body, "PUT /e q= b=data") == 0);
    resp_free (&r);
    cc_close (c);
}

static void
test_expect_continue (void **state)
{
    fixture *f = fixture_new ();
    fixture_run (f, client_expect_continue);
    fixture_destroy (&f);
}

static void
s_respond_bad_header (fixture *f, gw_http_request *req)
{
    const char *const extra [] = { "X-Evil", "a\r\nSet-Cookie: x", NULL };
    f->respond_rc = gw_http_respond (req, 200, "text/plain", "x", 1, extra);
}

static void
client_bad_response (fixture *f)
{
    cconn *c = cc_open (f->port);
    C_CHECK (f, c);
    C_CHECK (f, cc_sends (c, "GET / HTTP/1.1\r\nHost: x\r\n\r\n"));
    cresp r;
    C_CHECK (f, cc_response (c, &r, false) == 0);
    C_CHECK (f, r.status == 500);
    C_CHECK (f, strstr (r.head, "Set-Cookie") == NULL);
    resp_free (&r);
    cc_close (c);
}

static void
test_respond_rejects_header_injection (void **state)
{
    fixture *f = fixture_new ();
    f->on_req = s_respond_bad_header;
    fixture_run (f, client_bad_response);
    assert_int_equal (f->respond_rc, -EINVAL);
    fixture_destroy (&f);
}

//  Big responses to a client that does not read: everything still
//  arrives, in order, with reading paused meanwhile.
static void
s_big (fixture *f, gw_http_request *req)
{
    char *body = malloc (f->big_body_bytes);
    memset (body, 'a' + (int) (f->calls % 26), f->big_body_bytes);
    assert_int_equal (gw_http_respond (req, 200, "application/octet-stream",
                                       body, f->big_body_bytes, NULL), 0);
    free (body);
}

static void
client_backpressure (fixture *f)
{
    cconn *c = cc_open (f->port);
    C_CHECK (f, c);
    C_CHECK (f, cc_sends (c, "GET /1 HTTP/1.1\r\nHost: x\r\n\r\n"
                             "GET /2 HTTP/1.1\r\nHost: x\r\n\r\n"
                             "GET /3 HTTP/1.1\r\nHost: x\r\n\r\n"));
    usleep (100000);
    for (int i = 1; i <= 3; i++) {
        cresp r;
        C_CHECK (f, cc_response (c, &r, false) == 0);
        C_CHECK (f, r.body_len == f->big_body_bytes);
        C_CHECK (f, r.body [0] == 'a' + i && r.body [r.body_len - 1] == 'a' + i);
        resp_free (&r);
    }
    cc_close (c);
}

static void
test_write_backpressure (void **state)
{
    fixture *f = fixture_new ();
    f->cfg.max_write_pending_bytes = 64 * 1024;
    f->big_body_bytes = 2 * 1024 * 1024;
    f->on_req = s_big;
    fixture_run (f, client_backpressure);
    assert_int_equal (f->calls, 3);
    assert_true (f->stats.read_pauses >= 1);
    fixture_destroy (&f);
}

static void
s_respond_error (fixture *f, gw_http_request *req)
{
    f->respond_rc = gw_http_respond_error (req, 404, "not_found", "no \"x\"\n");
}

static void
client_error_json (fixture *f)
{
    cconn *c = cc_open (f->port);
    C_CHECK (f, c);
    C_CHECK (f, cc_sends (c, "GET /v1/households/nope HTTP/1.1\r\nHost: x\r\n\r\n"));
    cresp r;
    C_CHECK (f, cc_response (c, &r, false) == 0);
    C_CHECK (f, strncmp (r.head, "HTTP/1.1 404 Not Found\r\n", 24) == 0);
    C_CHECK (f, strcmp (resp_header (&r, "Content-Type"), "application/json") == 0);
    C_CHECK (f, strcmp (r.body, "{\"error\":{\"code\":\"not_found\","
                                "\"message\":\"no \\\"x\\\"\\u000a\"}}") == 0);
    C_CHECK (f, strcmp (resp_header (&r, "Connection"), "keep-alive") == 0);
    resp_free (&r);
    cc_close (c);
}

static void
test_respond_error_json (void **state)
{
    fixture *f = fixture_new ();
    f->on_req = s_respond_error;
    fixture_run (f, client_error_json);
    assert_int_equal (f->respond_rc, 0);
    fixture_destroy (&f);
}

//  A client that never reads a big answer is cut off after
//  write_timeout_ms instead of pinning the buffers forever.
static bool
s_post_when_write_timeout (fixture *f)
{
    gw_http_stats stats;
    gw_http_stats_get (f->http, &stats);
    if (stats.write_timeouts == 0 || stats.connections_open > 0)
        return false;
    sem_post (&f->go);
    return true;
}

static void
s_signal_wait_write_timeout (fixture *f)
{
    start_poll (f, s_post_when_write_timeout);
}

static void
client_never_reads (fixture *f)
{
    cconn *c = cc_open (f->port);
    C_CHECK (f, c);
    int small = 4096;
    setsockopt (c->fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof small);
    //  From before the request, so a client thread descheduled after
    //  sending cannot make the timeout look early; the upper bound is wide
    //  (a loaded machine formats 32 MiB slowly) but still proves the cut.
    int64_t start = now_ms ();
    C_CHECK (f, cc_sends (c, "GET /big HTTP/1.1\r\nHost: x\r\n\r\n"));
    client_signal (f);
    int64_t elapsed = now_ms () - start;
    C_CHECK (f, elapsed >= 150 && elapsed < 10000);
    cc_close (c);
}

static void
test_write_timeout (void **state)
{
    fixture *f = fixture_new ();
    f->cfg.write_timeout_ms = 200;
    f->big_body_bytes = 32 * 1024 * 1024;
    f->on_req = s_big;
    f->on_signal = s_signal_wait_write_timeout;
    fixture_run (f, client_never_reads);
    assert_int_equal (f->stats.write_timeouts, 1);
    fixture_destroy (&f);
}

//  =========================================================================
//  Limits and malformed input

static void
client_too_large (fixture *f)
{
    cconn *c = cc_open (f->port);
    C_CHECK (f, c);
    C_CHECK (f, cc_sends (c, "POST /v1/households HTTP/1.1\r\nHost: x\r\n"
                             "Content-Length: 2000000\r\n\r\n"));
    char chunk [4096];
    memset (chunk, 'x', sizeof chunk);
    C_CHECK (f, cc_send (c, chunk, sizeof chunk));
    cresp r;
    C_CHECK (f, cc_response (c, &r, false) == 0);
    C_CHECK (f, r.status == 413);
    C_CHECK (f, strcmp (resp_header (&r, "Content-Type"), "application/json") == 0);
    C_CHECK (f, strcmp (resp_header (&r, "Connection"), "close") == 0);
    C_CHECK (f, strncmp (r.body, "{\"error\":{\"code\":\"too_large\",\"message\":\"", 40) == 0);
    resp_free (&r);
    C_CHECK (f, cc_closed (c));
    //  We keep our end open: the server's linger timer must end it.
    client_signal (f);
    cc_close (c);
}

static bool
s_post_when_no_connections (fixture *f)
{
    gw_http_stats stats;
    gw_http_stats_get (f->http, &stats);
    if (stats.connections_open > 0)
        return false;
    sem_post (&f->go);
    return true;
}

static void
s_signal_wait_closed (fixture *f)
{
    start_poll (f, s_post_when_no_connections);
}

static void
test_body_too_large (void **state)
{
    fixture *f = fixture_new ();
    f->cfg.linger_ms = 100;
    f->on_signal = s_signal_wait_closed;
    fixture_run (f, client_too_large);
    assert_int_equal (f->calls, 0);
    assert_int_equal (f->stats.too_large, 1);
    assert_int_equal (f->stats.connections_open, 0);
    fixture_destroy (&f);
}

static void
client_chunked_too_large (fixture *f)
{
    cconn *c = cc_open (f->port);
    C_CHECK (f, c);
    C_CHECK (f, cc_sends (c, "POST /c HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"));
    char chunk [700];
    memset (chunk, 'y', sizeof chunk);
    for (int i = 0; i < 3; i++) {
        C_CHECK (f, cc_sends (c, "2bc\r\n"));
        C_CHECK (f, cc_send (c, chunk, sizeof chunk));
        C_CHECK (f, cc_sends (c, "\r\n"));
    }
    cresp r;
    C_CHECK (f, cc_response (c, &r, false) == 0);
    C_CHECK (f, r.status == 413);
    C_CHECK (f, strstr (r.body, "\"too_large\"") != NULL);
    resp_free (&r);
    C_CHECK (f, cc_closed (c));
    cc_close (c);
}

static void
test_chunked_too_large (void **state)
{
    fixture *f = fixture_new ();
    f->cfg.max_body_bytes = 1024;
    fixture_run (f, client_chunked_too_large);
    assert_int_equal (f->calls, 0);
    assert_int_equal (f->stats.too_large, 1);
    fixture_destroy (&f);
}

static void
client_headers_too_large (fixture *f)
{
    cconn *c = cc_open (f->port);
    C_CHECK (f, c);
    char big [2100];
    memset (big, 'h', sizeof big - 1);
    big [sizeof big - 1] = '\0';
    C_CHECK (f, cc_sends (c, "GET / HTTP/1.1\r\nHost: x\r\nX-Big: "));
    C_CHECK (f, cc_sends (c, big));
    C_CHECK (f, cc_sends (c, "\r\n\r\n"));
    cresp r;
    C_CHECK (f, cc_response (c, &r, false) == 0);
    C_CHECK (f, r.status == 431);
    C_CHECK (f, strstr (r.body, "\"headers_too_large\"") != NULL);
    resp_free (&r);
    C_CHECK (f, cc_closed (c));
    cc_close (c);

    //  Many tiny header lines count too.
    c = cc_open (f->port);
    C_CHECK (f, c);
    C_CHECK (f, cc_sends (c, "GET / HTTP/1.1\r\n"));
    for (int i = 0; i < 40; i++)
        C_CHECK (f, cc_sends (c, "a: b\r\n"));
    C_CHECK (f, cc_sends (c, "\r\n"));
    C_CHECK (f, cc_response (c, &r, false) == 0);
    C_CHECK (f, r.status == 431);
    resp_free (&r);
    cc_close (c);
}

static void
test_headers_too_large (void **state)
{
    fixture *f = fixture_new ();
    f->cfg.max_header_bytes = 1024;
    f->cfg.max_headers = 32;
    fixture_run (f, client_headers_too_large);
    assert_int_equal (f->calls, 0);
    assert_int_equal (f->stats.header_too_large, 2);
    fixture_destroy (&f);
}

static void
client_url_too_long (fixture *f)
{
    cconn *c = cc_open (f->port);
    C_CHECK (f, c);
    char url [600];
    memset (url, 'u', sizeof url - 1);
    url [0] = '/';
    url [sizeof url - 1] = '\0';
    C_CHECK (f, cc_sends (c, "GET "));
    C_CHECK (f, cc_sends (c, url));
    C_CHECK (f, cc_sends (c, " HTTP/1.1\r\nHost: x\r\n\r\n"));
    cresp r;
    C_CHECK (f, cc_response (c, &r, false) == 0);
    C_CHECK (f, r.status == 414);
    resp_free (&r);
    C_CHECK (f, cc_closed (c));
    cc_close (c);
}

static void
test_url_too_long (void **state)
{
    fixture *f = fixture_new ();
    f->cfg.max_url_bytes = 512;
    fixture_run (f, client_url_too_long);
    assert_int_equal (f->calls, 0);
    fixture_destroy (&f);
}

static void
client_malformed (fixture *f)
{
    cconn *c = cc_open (f->port);
    C_CHECK (f, c);
    C_CHECK (f, cc_sends (c, "GET / HTTP/1.1\r\nHost: x\r\n\r\n"
                             "THIS IS NOT HTTP\r\n\r\n"));
    cresp r;
    //  The good request before the garbage is still answered, first.
    C_CHECK (f, cc_response (c, &r, false) == 0);
    C_CHECK (f, r.status == 200);
    resp_free (&r);
    C_CHECK (f, cc_response (c, &r, false) == 0);
    //  "THIS" is no method we know: 501 (RFC 9110 9.1).
    C_CHECK (f, r.status == 501);
    C_CHECK (f, strncmp (r.body, "{\"error\":{\"code\":\"not_implemented\"", 34) == 0);
    resp_free (&r);
    C_CHECK (f, cc_closed (c));
    cc_close (c);
}

static void
test_malformed_request (void **state)
{
    fixture *f = fixture_new ();
    fixture_run (f, client_malformed);
    assert_int_equal (f->calls, 1);
    assert_int_equal (f->stats.not_implemented, 1);
    fixture_destroy (&f);
}

//  RFC 9112 3.2 and 5.1, RFC 9110 9.1 and 6.1: each gets its status and
//  Connection: close, and no handler call.
static void
client_musts (fixture *f)
{
    static const struct { const char *request; int status; } cases [] = {
        { "GET / HTTP/1.1\r\n\r\n", 400 },                              //  no Host
        { "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400 },           //  two
        { "GET / HTTP/1.1\r\nHost: a b\r\n\r\n", 400 },                     //  invalid
        { "GET / HTTP/1.1\r\nHost : a\r\n\r\n", 400 },                      //  blank before ':'
        { "GET / HTTP/1.1\r\nHost: a\r\nX-Y\t: 1\r\n\r\n", 400 },
        { "GET / HTTP/1.1\r\nHost: a\r\nX-Y : 1\r\n\r\n", 400 },
        { "BREW / HTTP/1.1\r\nHost: a\r\n\r\n", 501 },                      //  unknown
        { "PROPFIND / HTTP/1.1\r\nHost: a\r\n\r\n", 501 },                  //  not ours
        { "CONNECT a:443 HTTP/1.1\r\nHost: a\r\n\r\n", 501 },
        { "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", 501 },
        { "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n"
          "Transfer-Encoding: chunked\r\n\r\n", 501 },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases [0]; i++) {
        cconn *c = cc_open (f->port);
        C_CHECK (f, c);
        C_CHECK (f, cc_sends (c, cases [i].request));
        cresp r;
        C_CHECK (f, cc_response (c, &r, false) == 0);
        if (r.status != cases [i].status)
            client_fail (f, __LINE__, cases [i].request);
        C_CHECK (f, strstr (r.head, "X-Content-Type-Options: nosniff\r\n"));
        resp_free (&r);
        C_CHECK (f, cc_closed (c));
        cc_close (c);
    }
    //  HTTP/1.0 may leave Host out.
    cconn *c = cc_open (f->port);
    C_CHECK (f, c);
    C_CHECK (f, cc_sends (c, "GET /old HTTP/1.0\r\n\r\n"));
    cresp r;
    C_CHECK (f, cc_response (c, &r, false) == 0);
    C_CHECK (f, r.status == 200);
    resp_free (&r);
    cc_close (c);
}

static void
test_rfc_musts (void **state)
{
    fixture *f = fixture_new ();
    fixture_run (f, client_musts);
    assert_int_equal (f->calls, 1);
    assert_int_equal (f->stats.parse_errors, 6);
    assert_int_equal (f->stats.not_implemented, 5);
    fixture_destroy (&f);
}

static void
client_smuggling (fixture *f)
{
    const char *attacks [] = {
        ("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\n"
         "Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n"),
        "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nContent-Length: 5\r\n\r\nabcde",
    };
    for (size_t i = 0; i < sizeof attacks / sizeof attacks [0]; i++) {
        cconn *c = cc_open (f->port);
        C_CHECK (f, c);
        C_CHECK (f, cc_sends (c, attacks [i]));
        cresp r;
        C_CHECK (f, cc_response (c, &r, false) == 0);
        C_CHECK (f, r.status == 400);
        resp_free (&r);
        C_CHECK (f, cc_closed (c));
        cc_close (c);
    }
}

static void
test_smuggling_rejected (void **state)
{
    fixture *f = fixture_new ();
    fixture_run (f, client_smuggling);
    assert_int_equal (f->calls, 0);
    assert_int_equal (f->stats.parse_errors, 2);
    fixture_destroy (&f);
}

//  =========================================================================
//  Time

static void
client_slow (fixture *f)
{
    cconn *c = cc_open (f->port);
    C_CHECK (f, c);
    int64_t start = now_ms ();
    C_CHECK (f, cc_sends (c, "GET /slow HTTP/1.1\r\nHost: x\r\n"));
    usleep (100000);
    //  Trickling bytes must not push the deadline back.
    C_CHECK (f, cc_sends (c, "X-A: 1\r\n"));
    cresp r;
    C_CHECK (f, cc_response (c, &r, false) == 0);
    int64_t elapsed = now_ms () - start;
    C_CHECK (f, r.status == 408);
    C_CHECK (f, strstr (r.body, "\"timeout\"") != NULL);
    C_CHECK (f, elapsed >= 150 && elapsed < 1500);
    resp_free (&r);
    C_CHECK (f, cc_closed (c));
    cc_close (c);
}

static void
test_slow_client_timeout (void **state)
{
    fixture *f = fixture_new ();
    f->cfg.request_timeout_ms = 200;
    fixture_run (f, client_slow);
    assert_int_equal (f->calls, 0);
    assert_int_equal (f->stats.request_timeouts, 1);
    fixture_destroy (&f);
}

static void
client_idle (fixture *f)
{
    cconn *c = cc_open (f->port);
    C_CHECK (f, c);
    C_CHECK (f, cc_sends (c, "GET / HTTP/1.1\r\nHost: x\r\n\r\n"));
    cresp r;
    C_CHECK (f, cc_response (c, &r, false) == 0);
    resp_free (&r);
    int64_t start = now_ms ();
    C_CHECK (f, cc_closed (c));
    int64_t elapsed = now_ms () - start;
    C_CHECK (f, elapsed >= 100 && elapsed < 1500);
    cc_close (c);
}

static void
test_idle_timeout (void **state)
{
    fixture *f = fixture_new ();
    f->cfg.idle_timeout_ms = 200;
    fixture_run (f, client_idle);
    assert_int_equal (f->stats.idle_timeouts, 1);
    assert_int_equal (f->stats.connections_open, 0);
    fixture_destroy (&f);
}

//  =========================================================================
//  Lifetimes

static void
s_hold (fixture *f, gw_http_request *req)
{
    hold (f, req);
}

static bool
s_respond_when_gone (fixture *f)
{
    gw_http_stats stats;
    gw_http_stats_get (f->http, &stats);
    if (stats.connections_open > 0)
        return false;
    assert_int_equal (f->held_count, 1);
    assert_true (gw_http_request_detached (f->held [0]));
    f->respond_rc = gw_http_respond (f->held [0], 200, "text/plain", "late", 4, NULL);
    f->held_count = 0;
    sem_post (&f->go);
    return true;
}

static void
s_signal_poll_gone (fixture *f)
{
    start_poll (f, s_respond_when_gone);
}

static void
client_reset_pending (fixture *f)
{
    cconn *c = cc_open (f->port);
    C_CHECK (f, c);
    C_CHECK (f, cc_sends (c, "GET /pending HTTP/1.1\r\nHost: x\r\n\r\n"));
    usleep (50000);                 //  let the handler take it
    cc_reset (c);
    client_signal (f);
    cc_close (c);
}

static void
test_disconnect_then_respond (void **state)
{
    fixture *f = fixture_new ();
    f->on_req = s_hold;
    f->on_signal = s_signal_poll_gone;
    fixture_run (f, client_reset_pending);
    assert_int_equal (f->calls, 1);
    assert_int_equal (f->respond_rc, -ENOTCONN);
    assert_int_equal (f->stats.requests_abandoned, 1);
    fixture_destroy (&f);
}

static bool
s_respond_held_later (fixture *f)
{
    if (f->held_count < 2)
        return false;
    for (size_t i = 0; i < f->held_count; i++)
        assert_int_equal (gw_http_respond (f->held [i], 200, "text/plain", "ok", 2, NULL), 0);
    f->held_count = 0;
    return true;
}

static void
s_hold_then_answer (fixture *f, gw_http_request *req)
{
    hold (f, req);
    if (f->held_count == 2)
        start_poll (f, s_respond_held_later);
}

static void
client_half_close (fixture *f)
{
    cconn *c = cc_open (f->port);
    C_CHECK (f, c);
    C_CHECK (f, cc_sends (c, "GET /a HTTP/1.1\r\nHost: x\r\n\r\n"
                             "GET /b HTTP/1.1\r\nHost: x\r\n\r\nGET /partial"));
    shutdown (c->fd, SHUT_WR);
    //  Both complete requests are answered after our FIN; then EOF.
    for (int i = 0; i < 2; i++) {
        cresp r;
        C_CHECK (f, cc_response (c, &r, false) == 0);
        C_CHECK (f, strcmp (r.body, "ok") == 0);
        resp_free (&r);
    }
    C_CHECK (f, cc_closed (c));
    cc_close (c);
}

static void
test_half_close_still_answered (void **state)
{
    fixture *f = fixture_new ();
    f->on_req = s_hold_then_answer;
    fixture_run (f, client_half_close);
    assert_int_equal (f->calls, 2);
    fixture_destroy (&f);
}

static void
s_destroy_now (fixture *f)
{
    //  From inside the loop, with connections in every state.
    assert_int_equal (f->held_count, 1);
    gw_http_stats_get (f->http, &f->stats);
    gw_http_destroy (&f->http);
    assert_null (f->http);
    assert_true (gw_http_request_detached (f->held [0]));
    f->respond_rc = gw_http_respond (f->held [0], 200, NULL, NULL, 0, NULL);
    f->held_count = 0;
    sem_post (&f->go);
}

static void
client_destroy_open (fixture *f)
{
    cconn *a = cc_open (f->port);
    cconn *b = cc_open (f->port);
    cconn *c = cc_open (f->port);
    C_CHECK (f, a && b && c);
    C_CHECK (f, cc_sends (a, "GET /held HTTP/1.1\r\nHost: x\r\n\r\n"));
    C_CHECK (f, cc_sends (c, "POST /partial HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nab"));
    usleep (50000);
    client_signal (f);
    C_CHECK (f, cc_closed (a));
    C_CHECK (f, cc_closed (b));
    C_CHECK (f, cc_closed (c));
    cc_close (a);
    cc_close (b);
    cc_close (c);
}

static void
test_destroy_with_open_connections (void **state)
{
    fixture *f = fixture_new ();
    f->on_req = s_hold;
    f->on_signal = s_destroy_now;
    fixture_run (f, client_destroy_open);
    assert_int_equal (f->stats.connections_open, 3);
    assert_int_equal (f->respond_rc, -ENOTCONN);
    fixture_destroy (&f);
}

static void
s_destroy_in_handler (fixture *f, gw_http_request *req)
{
    hold (f, req);
    gw_http_stats_get (f->http, &f->stats);
    gw_http_destroy (&f->http);
}

static void
client_quit (fixture *f)
{
    cconn *c = cc_open (f->port);
    cconn *idle = cc_open (f->port);
    C_CHECK (f, c && idle);
    C_CHECK (f, cc_sends (c, "GET /quit HTTP/1.1\r\nHost: x\r\n\r\nGET /after HTTP/1.1\r\n\r\n"));
    C_CHECK (f, cc_closed (c));
    C_CHECK (f, cc_closed (idle));
    cc_close (c);
    cc_close (idle);
}

static void
test_destroy_from_handler (void **state)
{
    fixture *f = fixture_new ();
    f->on_req = s_destroy_in_handler;
    fixture_run (f, client_quit);
    assert_int_equal (f->calls, 1);
    fixture_destroy (&f);           //  responds to the held one: -ENOTCONN
}

static void
client_max_connections (fixture *f)
{
    cconn *c [3] = { NULL };
    cresp r;
    for (int i = 0; i < 2; i++) {
        c [i] = cc_open (f->port);
        C_CHECK (f, c [i]);
        //  A round trip proves the server accepted this one.
        C_CHECK (f, cc_sends (c [i], "GET / HTTP/1.1\r\nHost: x\r\n\r\n"));
        C_CHECK (f, cc_response (c [i], &r, false) == 0);
        resp_free (&r);
    }
    //  The table is full of idle keep-alive connections: the oldest
    //  makes room for the newcomer.
    c [2] = cc_open (f->port);
    C_CHECK (f, c [2]);
    C_CHECK (f, cc_sends (c [2], "GET / HTTP/1.1\r\nHost: x\r\n\r\n"));
    C_CHECK (f, cc_response (c [2], &r, false) == 0);
    C_CHECK (f, r.status == 200);
    resp_free (&r);
    C_CHECK (f, cc_closed (c [0]));
    C_CHECK (f, cc_sends (c [1], "GET / HTTP/1.1\r\nHost: x\r\n\r\n"));
    C_CHECK (f, cc_response (c [1], &r, false) == 0);
    C_CHECK (f, r.status == 200);
    resp_free (&r);
    for (int i = 0; i < 3; i++)
        cc_close (c [i]);
}

static void
test_max_connections (void **state)
{
    fixture *f = fixture_new ();
    f->cfg.max_connections = 2;
    fixture_run (f, client_max_connections);
    assert_int_equal (f->stats.connections_evicted, 1);
    assert_int_equal (f->stats.connections_rejected, 0);
    assert_int_equal (f->stats.connections_accepted, 3);
    fixture_destroy (&f);
}

//  None idle (each holds a request): the newcomer is refused.
static void
client_full_busy (fixture *f)
{
    cconn *c [3] = { NULL };
    for (int i = 0; i < 2; i++) {
        c [i] = cc_open (f->port);
        C_CHECK (f, c [i]);
        C_CHECK (f, cc_sends (c [i], "GET /held HTTP/1.1\r\nHost: x\r\n\r\n"));
    }
    usleep (50000);
    c [2] = cc_open (f->port);
    C_CHECK (f, c [2]);
    C_CHECK (f, cc_closed (c [2]));
    client_signal (f);              //  answer the held ones
    for (int i = 0; i < 3; i++)
        cc_close (c [i]);
}

static void
s_release_held (fixture *f)
{
    for (size_t i = 0; i < f->held_count; i++)
        gw_http_respond (f->held [i], 200, NULL, NULL, 0, NULL);
    f->held_count = 0;
    sem_post (&f->go);
}

static void
test_full_table_of_busy_refuses (void **state)
{
    fixture *f = fixture_new ();
    f->cfg.max_connections = 2;
    f->on_req = s_hold;
    f->on_signal = s_release_held;
    fixture_run (f, client_full_busy);
    assert_int_equal (f->stats.connections_evicted, 0);
    assert_int_equal (f->stats.connections_rejected, 1);
    fixture_destroy (&f);
}

//  One address may hold max_connections_per_address; a silent new
//  connection is closed after first_byte_timeout_ms.
static void
client_per_address (fixture *f)
{
    cconn *c [3] = { NULL };
    for (int i = 0; i < 3; i++) {
        c [i] = cc_open (f->port);
        C_CHECK (f, c [i]);
    }
    C_CHECK (f, cc_closed (c [2]));
    int64_t start = now_ms ();
    C_CHECK (f, cc_closed (c [0]));
    int64_t waited = now_ms () - start;
    C_CHECK (f, waited >= 100 && waited < 1500);
    for (int i = 0; i < 3; i++)
        cc_close (c [i]);
}

static void
test_per_address_cap_and_first_byte (void **state)
{
    fixture *f = fixture_new ();
    f->cfg.max_connections_per_address = 2;
    f->cfg.first_byte_timeout_ms = 300;
    fixture_run (f, client_per_address);
    assert_int_equal (f->stats.connections_rejected, 1);
    assert_true (f->stats.idle_timeouts >= 1);
    fixture_destroy (&f);
}

int
main (void)
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (test_url_helpers),
        cmocka_unit_test (test_reused_request_is_clean),
        cmocka_unit_test (test_rfc_musts),
        cmocka_unit_test (test_full_table_of_busy_refuses),
        cmocka_unit_test (test_per_address_cap_and_first_byte),
        cmocka_unit_test (test_listen_errors),
        cmocka_unit_test (test_simple_get),
        cmocka_unit_test (test_post_content_length),
        cmocka_unit_test (test_chunked_body),
        cmocka_unit_test (test_keep_alive),
        cmocka_unit_test (test_pipeline_in_order),
        cmocka_unit_test (test_inflight_bound),
        cmocka_unit_test (test_one_write_per_turn),
        cmocka_unit_test (test_connection_close),
        cmocka_unit_test (test_http10),
        cmocka_unit_test (test_head_no_body),
        cmocka_unit_test (test_expect_continue),
        cmocka_unit_test (test_respond_rejects_header_injection),
        cmocka_unit_test (test_write_backpressure),
        cmocka_unit_test (test_respond_error_json),
        cmocka_unit_test (test_write_timeout),
        cmocka_unit_test (test_body_too_large),
        cmocka_unit_test (test_chunked_too_large),
        cmocka_unit_test (test_headers_too_large),
        cmocka_unit_test (test_url_too_long),
        cmocka_unit_test (test_malformed_request),
        cmocka_unit_test (test_smuggling_rejected),
        cmocka_unit_test (test_slow_client_timeout),
        cmocka_unit_test (test_idle_timeout),
        cmocka_unit_test (test_disconnect_then_respond),
        cmocka_unit_test (test_half_close_still_answered),
        cmocka_unit_test (test_destroy_with_open_connections),
        cmocka_unit_test (test_destroy_from_handler),
        cmocka_unit_test (test_max_connections),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
