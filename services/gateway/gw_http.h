/*  =========================================================================
    gw_http - the gateway's HTTP/1.1 server on libuv and http-parser 2.9

    One object listens on one address and turns bytes into requests for a
    single handler. The handler returns at once; the answer comes later
    (after a ZeroMQ round trip) through gw_http_respond. Responses leave in
    request order on each connection, whatever order the application
    answers in, so pipelining is safe; they are written at the end of the
    loop turn in which they are answered, all of a connection's ready
    ones in one write (see socket_writes).

    Ownership, the one rule to remember:
      * The handler receives a request it now holds. The request stays
        valid until the application calls gw_http_respond (or
        gw_http_respond_error) on it, exactly once. That call consumes the
        request in every case, success or error.
      * If the client goes away or the server is destroyed first, the
        request is "detached": still valid, still owned by the application,
        and gw_http_respond on it just frees it and returns -ENOTCONN.
        gw_http_request_detached() tells the application early, so it can
        skip work nobody will read.
      * Bodies and headers given to respond are copied; the caller keeps
        its buffers.

    Everything is bounded by gw_http_config: URL, header bytes and count,
    body size, connections, requests in flight per connection, unsent
    response bytes per connection, and time (whole request, idle
    keep-alive, pending writes). When a client breaks a bound it receives a
    JSON error {"error":{"code":"...","message":"..."}} with
    Connection: close, in its turn after earlier responses.

    Threading: one libuv loop thread; nothing here is thread-safe.
    Errors are negative errno values (libuv style).
    =========================================================================
*/
#ifndef GW_HTTP_H
#define GW_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <uv.h>

typedef struct _gw_http gw_http;
typedef struct _gw_http_request gw_http_request;
typedef struct _gw_http_conn gw_http_conn;

//  Limits and timeouts. A field left 0 takes its default (shown), so
//  `gw_http_config cfg = { .request_timeout_ms = 200 };` is enough.
typedef struct {
    size_t max_url_bytes;           //  4 KiB; longer request target: 414
    size_t max_header_bytes;        //  8 KiB (names + values); over: 431
    size_t max_headers;             //  64 header lines; more: 431
    size_t max_body_bytes;          //  1 MiB (after de-chunking); over: 413
    uint32_t max_connections;       //  10,000; when full, the oldest idle
                                    //  connection is closed to make room (if
                                    //  none is idle, the new one is closed)
    uint32_t max_connections_per_address; //  64 open from one IP address;
                                    //  one more is accepted and closed
    uint32_t max_inflight;          //  32 requests per connection, then
                                    //  stop reading until one is answered
    size_t max_write_pending_bytes; //  4 MiB unsent; over: stop reading
    uint64_t request_timeout_ms;    //  10 s from first byte to last: 408
    uint64_t idle_timeout_ms;       //  30 s keep-alive with nothing to do
    uint64_t first_byte_timeout_ms; //  5 s for a new connection's first
                                    //  request to begin
    uint64_t write_timeout_ms;      //  30 s for a pending write to finish
                                    //  (client not reading): close
    uint64_t linger_ms;             //  1 s reading (discarding) after our
                                    //  FIN so the client sees the error
    int backlog;                    //  511, listen(2) backlog
    //  Origins (e.g. "https://portal.school.example") allowed to call from
    //  a browser (CORS), separated by blanks or commas; NULL or "": none.
    //  Copied by gw_http_new.
    const char *cors_origins;
} gw_http_config;

//  Counters for /metrics. Monotonic except connections_open.
typedef struct {
    uint64_t connections_open;      //  now, in-memory ones included
    uint64_t connections_accepted;  //  total accepted and served
    uint64_t connections_rejected;  //  closed at once: over max_connections
                                    //  with none idle, or over the per-address cap
    uint64_t connections_evicted;   //  idle ones closed to make room
    uint64_t requests_parsed;       //  complete requests handed to handler
    uint64_t responses_sent;        //  responses handed to the socket
    uint64_t requests_abandoned;    //  detached: client gone before answer
    uint64_t parse_errors;          //  400: malformed, smuggling, Host
    uint64_t not_implemented;       //  501: method or transfer coding
    uint64_t too_large;             //  413
    uint64_t header_too_large;      //  431 and 414
    uint64_t request_timeouts;      //  408: request not complete in time
    uint64_t idle_timeouts;         //  keep-alive idle closes
    uint64_t write_timeouts;        //  closed: client not reading responses
    uint64_t read_pauses;           //  stop reading: in-flight or write bound
    uint64_t bytes_read;
    uint64_t bytes_written;
    uint64_t socket_writes;         //  write syscalls (and queued writes):
                                    //  the answers ready in one loop turn
                                    //  share one per connection
} gw_http_stats;

//  Called once per complete request, on the loop thread. Must not block.
typedef void (*gw_http_handler_fn) (gw_http_request *req, void *arg);

//  One parsed query parameter, raw (still percent-encoded), not
//  NUL-terminated: pointers into the query string.
typedef struct {
    const char *key;                //  raw key bytes
    size_t key_len;
    const char *value;              //  raw value bytes ("" when no '=')
    size_t value_len;
} gw_http_param;

//  ---------------------------------------------------------------------
//  Fill cfg with the defaults above.
void gw_http_config_defaults (gw_http_config *cfg);

//  ---------------------------------------------------------------------
//  Create a server on loop; cfg may be NULL (all defaults). Nothing
//  listens until gw_http_listen. Returns NULL on allocation failure.
gw_http *gw_http_new (uv_loop_t *loop, const gw_http_config *cfg,
                      gw_http_handler_fn on_request, void *arg);

//  ---------------------------------------------------------------------
//  Close the listener and every connection, detach every request the
//  application holds, and null *self_p. Safe on NULL, safe twice, safe
//  from inside any callback (a handler included). Memory is released in
//  libuv close callbacks: run the loop afterwards (uv_run) to drain.
void gw_http_destroy (gw_http **self_p);

//  ---------------------------------------------------------------------
//  Listen on "127.0.0.1:8080", "0.0.0.0:0" or "[::1]:8080". Returns the
//  bound port (useful with port 0) or a negative errno, with a message in
//  err (may be NULL). Call once; after a failure destroy the server.
int gw_http_listen (gw_http *self, const char *address, char *err,
                    size_t err_size);

//  ---------------------------------------------------------------------
//  Copy the counters.
void gw_http_stats_get (gw_http *self, gw_http_stats *stats);

//  ---------------------------------------------------------------------
//  Request accessors. Strings are NUL-terminated and live as long as req.
//  "GET", "POST"...
const char *gw_http_request_method (gw_http_request *req);
//  Raw path, still percent-encoded: "/v1/households/h%201".
const char *gw_http_request_path (gw_http_request *req);
//  Raw query after '?', "" when none: "month=2026-01&page_size=10".
const char *gw_http_request_query (gw_http_request *req);
//  First header of that name (case-insensitive), trimmed; NULL if absent.
const char *gw_http_request_header (gw_http_request *req, const char *name);
//  Number of headers, and the index-th (name, value) for iteration.
size_t gw_http_request_header_count (gw_http_request *req);
int gw_http_request_header_at (gw_http_request *req, size_t index,
                               const char **name, const char **value);
//  Body bytes (NUL-terminated for convenience; may hold NULs) and length.
const void *gw_http_request_body (gw_http_request *req, size_t *len);
//  Peer as "127.0.0.1:54321" or "[::1]:54321".
const char *gw_http_request_remote (gw_http_request *req);
//  Peer address without the port: "127.0.0.1" or "::1" (rate limits).
const char *gw_http_request_remote_ip (gw_http_request *req);
//  uv_hrtime() when the first byte of the request arrived (latency).
uint64_t gw_http_request_start_ns (gw_http_request *req);
//  True once the connection is gone (respond will only free).
bool gw_http_request_detached (gw_http_request *req);
//  One pointer of application state carried with the request.
void gw_http_request_set_user (gw_http_request *req, void *user);
void *gw_http_request_user (gw_http_request *req);
//  The id the answer carries as X-Request-Id (at most 64 characters,
//  copied; the caller has checked them).
void gw_http_request_set_id (gw_http_request *req, const char *id);
//  Have fn called once, just before req is consumed by its answer (also
//  when it was detached): what an access log needs. body_len is the
//  answer's body size.
typedef void (*gw_http_respond_fn) (gw_http_request *req, unsigned status,
                                    size_t body_len, void *arg);
void gw_http_request_on_respond (gw_http_request *req, gw_http_respond_fn fn,
                                 void *arg);

//  ---------------------------------------------------------------------
//  Answer req and give it up (see ownership above). content_type may be
//  NULL (no Content-Type). extra_headers is NULL or a NULL-terminated list
//  of name, value pairs: { "Retry-After", "1", NULL }. HEAD gets the
//  headers only; 204 and 304 never carry a body. Added unless extra
//  names them: X-Content-Type-Options: nosniff (always); on text/html
//  Content-Security-Policy and X-Frame-Options: DENY; on /v1 paths
//  Cache-Control: no-store; on 401 WWW-Authenticate: Bearer (with
//  error="invalid_token" when the request carried Authorization); on 429
//  Retry-After: 1; for an Origin of cors_origins its CORS headers, and
//  Vary: Origin whenever CORS is configured. A 405 must name Allow.
//  Returns 0 when queued,
//  -ENOTCONN when the connection had gone, -EINVAL for a bad status or a
//  header with CR/LF (a 500 is sent instead), -ENOMEM.
int gw_http_respond (gw_http_request *req, unsigned status,
                     const char *content_type, const void *body,
                     size_t body_len, const char *const *extra_headers);

//  ---------------------------------------------------------------------
//  Answer with {"error":{"code":code,"message":message}} (JSON-escaped),
//  Content-Type application/json. Same ownership and returns as respond.
int gw_http_respond_error (gw_http_request *req, unsigned status,
                           const char *code, const char *message);

//  ---------------------------------------------------------------------
//  Answer OPTIONS: 204 with Allow (e.g. "GET, HEAD, OPTIONS") and, when
//  the request's Origin is one of cors_origins, the preflight's
//  Access-Control-Allow-Methods (allow), -Headers (Authorization,
//  Content-Type, Idempotency-Key, X-Request-Id) and -Max-Age. Consumes
//  req like gw_http_respond.
int gw_http_respond_options (gw_http_request *req, const char *allow);

//  ---------------------------------------------------------------------
//  True when origin is one of the configured cors_origins.
bool gw_http_cors_allowed (gw_http *self, const char *origin);

//  ---------------------------------------------------------------------
//  Percent-decode src[0..src_len) into dst, NUL-terminated; '+' becomes a
//  space when plus_is_space (query strings). Returns the decoded length,
//  -EINVAL for a bad escape or an encoded NUL, -ENOSPC when dst is short.
ssize_t gw_http_decode (const char *src, size_t src_len, char *dst,
                        size_t dst_size, bool plus_is_space);

//  ---------------------------------------------------------------------
//  Iterate "k=v&k2=v2": start with *cursor = the query string; each call
//  fills param and advances. Empty pieces ("a=1&&b") are skipped. Returns
//  false at the end. Bounded by the string length.
bool gw_http_query_next (const char **cursor, gw_http_param *param);

//  ---------------------------------------------------------------------
//  Decode the value of the first query parameter whose decoded key equals
//  key. Returns its length, -ENOENT when absent, -EINVAL, -ENOSPC.
ssize_t gw_http_query_get (gw_http_request *req, const char *key,
                           char *dst, size_t dst_size);

//  ---------------------------------------------------------------------
//  Internal, for the fuzzer and tests: a connection without a socket.
//  Bytes go to the same parser, limits and queue as a real connection;
//  responses are appended to an in-memory sink (first 64 KiB kept).
//  Parsed-ahead bytes resume from the loop's idle handle once a slot
//  frees: answer held requests, then uv_run (NOWAIT). Destroy in-memory
//  connections before the server.
gw_http_conn *gw_http__conn_new_memory (gw_http *self);
//  Feed bytes as if read from the socket; len 0 means the peer sent EOF.
//  Returns 0; -EAGAIN while a socket would not be read (in-flight bound
//  or parsed-ahead bytes pending; nothing consumed); -EPIPE once the
//  connection no longer reads.
int gw_http__feed (gw_http_conn *conn, const void *data, size_t len);
//  What the server "wrote" so far, and whether it would have closed.
size_t gw_http__memory_output (gw_http_conn *conn, const char **data);
bool gw_http__memory_closed (gw_http_conn *conn);
void gw_http__conn_destroy_memory (gw_http_conn **conn_p);

#endif
