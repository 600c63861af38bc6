/*  =========================================================================
    gw_http_conn - one HTTP connection: reading into http-parser, the queue
    of requests in flight, batched writes in order, the one timer, FIN and
    linger; and in-memory connections for the fuzzer and tests.
    See gw_http.c for the shape of a connection.
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

static void conn_update (gw_http_conn *conn);
static void conn_fail (gw_http_conn *conn, unsigned status, const char *code,
                       const char *message);
static void s_on_idle (uv_idle_t *idle);
static void s_on_write (uv_write_t *wreq, int status);
static void s_on_timer (uv_timer_t *timer);
static void s_on_alloc (uv_handle_t *handle, size_t suggested, uv_buf_t *buf);
static void s_on_read (uv_stream_t *stream, ssize_t nread, const uv_buf_t *buf);

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
//  Add or remove conn from the server's flush list (answers to write at
//  the end of the loop turn). While the list is not empty the check
//  handle writes it after this turn's poll, and the idle handle keeps
//  the loop from blocking in poll first.

static void s_on_flush_check (uv_check_t *check);
static void s_on_flush_idle (uv_idle_t *idle);

static void
flush_list_add (gw_http_conn *conn)
{
    gw_http *server = conn->server;
    if (conn->in_flush_list)
        return;
    assert (!server->destroyed);
    conn->fprev = NULL;
    conn->fnext = server->flush_head;
    if (server->flush_head)
        server->flush_head->fprev = conn;
    server->flush_head = conn;
    conn->in_flush_list = true;
    if (!uv_is_active ((uv_handle_t *) &server->flush_check)) {
        uv_check_start (&server->flush_check, s_on_flush_check);
        uv_idle_start (&server->flush_idle, s_on_flush_idle);
    }
}

static void
flush_list_remove (gw_http_conn *conn)
{
    gw_http *server = conn->server;
    if (!conn->in_flush_list)
        return;
    if (conn->fprev)
        conn->fprev->fnext = conn->fnext;
    else
        server->flush_head = conn->fnext;
    if (conn->fnext)
        conn->fnext->fprev = conn->fprev;
    conn->fprev = conn->fnext = NULL;
    conn->in_flush_list = false;
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

bool
gw_http__conn_blocked (gw_http_conn *conn)
{
    gw_http *server = conn->server;
    return conn->inflight >= server->cfg.max_inflight
        || conn->write_pending_bytes > server->cfg.max_write_pending_bytes;
}


//  --------------------------------------------------------------------------
//  Hand buffers to the socket (or the in-memory sink). The caller keeps
//  its buffers: what the socket takes at once (uv_try_write: one writev,
//  no write request, no change to the loop's epoll set) is done; the
//  rest is copied into one queued uv_write. Returns 0 or a negative errno
//  (the connection is closed).

int
gw_http__conn_write (gw_http_conn *conn, const uv_buf_t *bufs, unsigned count)
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
        }
        conn->server->stats.bytes_written += size;
        return 0;
    }
    size_t done = 0;
    conn->server->stats.socket_writes++;
    //  Behind a queued write, libuv answers UV_EAGAIN: order is kept.
    int n = uv_try_write ((uv_stream_t *) &conn->tcp, bufs, count);
    if (n < 0 && n != UV_EAGAIN) {
        gw_http__conn_close (conn);
        return n;
    }
    if (n > 0)
        done = (size_t) n;
    assert (done <= size);
    conn->server->stats.bytes_written += done;
    if (done == size)
        return 0;
    write_op *op = malloc (sizeof *op + (size - done));
    if (!op) {
        gw_http__conn_close (conn);
        return -ENOMEM;
    }
    op->conn = conn;
    op->size_bytes = 0;
    size_t skip = done;
    for (unsigned i = 0; i < count; i++) {
        size_t from = skip < bufs [i].len? skip: bufs [i].len;
        skip -= from;
        memcpy (op->data + op->size_bytes, bufs [i].base + from, bufs [i].len - from);
        op->size_bytes += bufs [i].len - from;
    }
    assert (op->size_bytes == size - done);
    op->buf = uv_buf_init (op->data, (unsigned) op->size_bytes);
    conn->write_pending_bytes += op->size_bytes;
    int rc = uv_write (&op->req, (uv_stream_t *) &conn->tcp, &op->buf, 1, s_on_write);
    if (rc < 0) {
        conn->write_pending_bytes -= op->size_bytes;
        free (op);
        gw_http__conn_close (conn);
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
    if (status == 0)
        conn->server->stats.bytes_written += op->size_bytes;
    free (op);
    //  After uv_close libuv cancels pending writes (UV_ECANCELED) before
    //  the close callback, so conn is still here but must not act.
    if (conn->state == CONN_CLOSED)
        return;
    if (status < 0) {
        gw_http__conn_close (conn);
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
    assert (!conn->in_resume_list && !conn->in_flush_list);
    assert (conn->write_pending_bytes == 0);
    s_conn_unlink (conn);
    free (conn->sink);
    free (conn->resuming);
    conn->magic = 0;
    free (conn);
    gw_http__server_maybe_free (server);
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

void
gw_http__conn_close (gw_http_conn *conn)
{
    assert (conn->magic == GW_HTTP_CONN_MAGIC);
    if (conn->state == CONN_CLOSED)
        return;
    conn->state = CONN_CLOSED;
    gw_http *server = conn->server;
    assert (server->live_count > 0);
    server->live_count--;
    gw_http__limits_forget (conn);
    if (conn->req) {
        gw_http__req_free (conn->req);
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
            gw_http__req_free (req);
        req = next;
    }
    conn->queue_head = conn->queue_tail = NULL;
    conn->inflight = 0;
    free (conn->leftover);
    conn->leftover = NULL;
    conn->leftover_len = conn->leftover_off = 0;
    resume_list_remove (conn);
    flush_list_remove (conn);
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
        gw_http__conn_close (conn);
        return;
    }
    if (!conn->reading) {
        if (uv_read_start ((uv_stream_t *) &conn->tcp, s_on_alloc, s_on_read)) {
            gw_http__conn_close (conn);
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
        gw_http__conn_close (conn);
        return;
    }
    if (conn->reading) {
        uv_read_stop ((uv_stream_t *) &conn->tcp);
        conn->reading = false;
    }
    conn->shutdown.data = conn;
    if (uv_shutdown (&conn->shutdown, (uv_stream_t *) &conn->tcp, s_on_shutdown)) {
        gw_http__conn_close (conn);
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
    if (conn->timer_purpose == TIMER_LINGER) {
        gw_http__limits_idle (conn, false);
        return;                     //  set once, in s_on_shutdown
    }
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
        //  begin no request) do not keep a connection forever. A new
        //  connection gets a short while for its first request to begin.
        purpose = TIMER_IDLE;
        uint64_t end_ms = conn->idle_since_ms + (conn->started
                        ? server->cfg.idle_timeout_ms: server->cfg.first_byte_timeout_ms);
        due_ms = end_ms > now_ms? end_ms - now_ms: 0;
    }
    gw_http__limits_idle (conn, purpose == TIMER_IDLE);
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
            gw_http__conn_close (conn);
            break;
        case TIMER_WRITE:
            server->stats.write_timeouts++;
            gw_http__conn_close (conn);
            break;
        case TIMER_LINGER:
            gw_http__conn_close (conn);
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
        bool blocked = gw_http__conn_blocked (conn);
        //  Parsed-ahead bytes are parsed from the idle handle, never from
        //  here: we may be inside http_parser_execute.
        if (conn->leftover_len > 0 && !blocked)
            resume_list_add (conn);
        bool want_read = !blocked && conn->leftover_len == 0 && !conn->in_memory;
        if (want_read && !conn->reading) {
            if (uv_read_start ((uv_stream_t *) &conn->tcp, s_on_alloc, s_on_read)) {
                gw_http__conn_close (conn);
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
//  Take up to GW_HTTP_WRITE_BATCH answered requests off the head of the
//  queue, in order, stopping after one that closes. Returns how many.

static unsigned
s_take_ready (gw_http_conn *conn, gw_http_request **reqs, uv_buf_t *bufs,
              bool *close_after)
{
    unsigned count = 0;
    *close_after = false;
    while (conn->queue_head && conn->queue_head->state == REQ_RESPONDED
    &&     count < GW_HTTP_WRITE_BATCH && !*close_after) {
        gw_http_request *req = conn->queue_head;
        conn->queue_head = req->next;
        if (!conn->queue_head)
            conn->queue_tail = NULL;
        req->next = NULL;
        assert (conn->inflight > 0);
        conn->inflight--;
        bufs [count] = uv_buf_init (req->response, (unsigned) req->response_len);
        reqs [count++] = req;
        *close_after = req->close_after;
        conn->server->stats.responses_sent++;
    }
    return count;
}


//  --------------------------------------------------------------------------
//  Write out the ready prefix of the queue, in order.

void
gw_http__conn_flush (gw_http_conn *conn)
{
    flush_list_remove (conn);
    if (conn->state == CONN_CLOSED || conn->state == CONN_SHUTDOWN)
        return;
    gw_http *server = conn->server;
    bool wrote = false;
    //  Each round takes at least one request off a queue bounded by
    //  max_inflight (+1 for an error entry).
    for (uint32_t round = 0; round <= server->cfg.max_inflight + 1; round++) {
        gw_http_request *reqs [GW_HTTP_WRITE_BATCH];
        uv_buf_t bufs [GW_HTTP_WRITE_BATCH];
        bool close_after;
        unsigned count = s_take_ready (conn, reqs, bufs, &close_after);
        if (count == 0)
            break;
        wrote = true;
        if (close_after) {
            //  Only the last request (no keep-alive) or an error closes,
            //  and nothing is parsed after either.
            assert (conn->queue_head == NULL);
            conn->state = CONN_DRAINING;
        }
        int rc = gw_http__conn_write (conn, bufs, count);
        //  Written or copied: the requests (and their buffers) are free.
        for (unsigned i = 0; i < count; i++)
            gw_http__req_free (reqs [i]);
        if (rc < 0)
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
//  An answer is ready: write at the end of the loop turn.

void
gw_http__conn_flush_soon (gw_http_conn *conn)
{
    if (conn->in_memory) {
        gw_http__conn_flush (conn);
        return;
    }
    flush_list_add (conn);
}

static void
s_on_flush_check (uv_check_t *check)
{
    gw_http__flush_all (check->data);
}

static void
s_on_flush_idle (uv_idle_t *idle)
{
    //  An answer made after this turn's check (a close or check callback
    //  of someone else): write it before the loop polls again.
    gw_http__flush_all (idle->data);
}

void
gw_http__flush_all (gw_http *server)
{
    assert (server->magic == GW_HTTP_MAGIC);
    //  Bounded: each connection is taken off the list before it is
    //  written, and writing adds none back.
    uint32_t budget = server->conn_count;
    while (server->flush_head && budget-- > 0)
        gw_http__conn_flush (server->flush_head);
    assert (server->flush_head == NULL);
    uv_check_stop (&server->flush_check);
    uv_idle_stop (&server->flush_idle);
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
        gw_http__req_free (conn->req);
        conn->req = NULL;
    }
    free (conn->leftover);
    conn->leftover = NULL;
    conn->leftover_len = conn->leftover_off = 0;
    conn->state = CONN_DRAINING;

    gw_http_request *req = gw_http__req_new (conn);
    char body [GW_HTTP_ERROR_JSON_BYTES];
    size_t body_len = gw_http__error_json (code, message, body, sizeof body);
    if (!req || gw_http__format_response (req, server, status, "application/json", body,
                                          body_len, NULL, false, true) != 0) {
        if (req)
            gw_http__req_free (req);
        gw_http__conn_close (conn);
        return;
    }
    req->state = REQ_RESPONDED;
    req->close_after = true;
    gw_http__conn_enqueue (conn, req);
    gw_http__conn_flush (conn);
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
            gw_http__conn_close (conn);
            return;
        }
        memcpy (conn->leftover, data, len);
        conn->leftover_off = 0;
    }
    conn->leftover_len = len;
}


//  --------------------------------------------------------------------------
//  Run bytes through http-parser and act on how it stopped.

void
gw_http__conn_parse (gw_http_conn *conn, const char *data, size_t len)
{
    assert (len > 0);
    assert (conn->state == CONN_OPEN);
    assert (!conn->in_parse);
    assert (conn->error_status == 0);
    gw_http *server = conn->server;

    conn->in_parse = true;
    size_t parsed = http_parser_execute (&conn->parser, &gw_http__parser_settings, data, len);
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
        else
        if (err == HPE_INVALID_METHOD) {
            server->stats.not_implemented++;
            conn_fail (conn, 501, "not_implemented", "request method not implemented");
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
    if (gw_http__conn_blocked (conn))
        return;                     //  kicked again when a slot frees
    conn->resuming = conn->leftover;
    const char *data = conn->leftover + conn->leftover_off;
    size_t len = conn->leftover_len;
    conn->leftover = NULL;
    conn->leftover_off = conn->leftover_len = 0;
    gw_http__conn_parse (conn, data, len);
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
        gw_http__conn_close (conn);
        return;
    }
    if (conn->state == CONN_OPEN) {
        //  A request cut short by EOF gets no answer: nobody can send
        //  the rest of it.
        if (conn->req) {
            gw_http__req_free (conn->req);
            conn->req = NULL;
        }
        free (conn->leftover);
        conn->leftover = NULL;
        conn->leftover_len = conn->leftover_off = 0;
        conn->state = CONN_DRAINING;
    }
    if (conn->queue_head == NULL) {
        gw_http__conn_close (conn);
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
            gw_http__conn_close (conn);
        return;
    }
    server->stats.bytes_read += (uint64_t) nread;
    if (conn->state != CONN_OPEN)
        return;                     //  lingering: discard
    assert (conn->leftover_len == 0);
    gw_http__conn_parse (conn, buf->base, (size_t) nread);
}


//  --------------------------------------------------------------------------
//  A connection arrived on the listener.

static void
s_on_reject_close (uv_handle_t *handle)
{
    free (handle);
}

void
gw_http__on_connection (uv_stream_t *listener, int status)
{
    gw_http *server = listener->data;
    assert (server->magic == GW_HTTP_MAGIC);
    if (status < 0 || server->destroyed)
        return;                     //  e.g. EMFILE; libuv keeps listening
    //  Closed connections wait for their close callbacks; past this bound
    //  (a flood faster than the loop frees them) refuse outright.
    if (server->conn_count >= server->cfg.max_connections
                            + server->cfg.max_connections / 4 + 16) {
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
    server->live_count++;
    http_parser_init (&conn->parser, HTTP_REQUEST);
    conn->parser.data = conn;
    snprintf (conn->remote, sizeof conn->remote, "unknown");
    snprintf (conn->remote_ip, sizeof conn->remote_ip, "unknown");
    if (uv_accept (listener, (uv_stream_t *) &conn->tcp)) {
        gw_http__conn_close (conn);
        return;
    }
    //  Whole responses go out in one write; Nagle would hold the tail of
    //  pipelined ones for a delayed ACK.
    uv_tcp_nodelay (&conn->tcp, 1);
    struct sockaddr_storage ss;
    int ss_len = sizeof ss;
    if (uv_tcp_getpeername (&conn->tcp, (struct sockaddr *) &ss, &ss_len) == 0) {
        gw_http__format_addr (&ss, conn->remote, sizeof conn->remote);
        gw_http__format_ip (&ss, conn->remote_ip, sizeof conn->remote_ip);
    }
    if (!gw_http__limits_admit (conn)) {
        server->stats.connections_rejected++;
        gw_http__conn_close (conn);
        return;
    }
    conn->idle_since_ms = uv_now (server->loop);
    server->stats.connections_accepted++;
    conn_update (conn);
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
    snprintf (conn->remote_ip, sizeof conn->remote_ip, "memory");
    http_parser_init (&conn->parser, HTTP_REQUEST);
    conn->parser.data = conn;
    conn->idle_since_ms = uv_now (self->loop);
    s_conn_link (self, conn);
    self->live_count++;
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
    if (conn->leftover_len > 0 || gw_http__conn_blocked (conn))
        return -EAGAIN;
    conn->server->stats.bytes_read += len;
    gw_http__conn_parse (conn, data, len);
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
    gw_http__conn_close (conn);
    gw_http *server = conn->server;
    s_conn_unlink (conn);
    assert (server->memory_count > 0);
    server->memory_count--;
    free (conn->sink);
    free (conn->resuming);
    conn->magic = 0;
    free (conn);
}

