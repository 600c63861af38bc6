/*  =========================================================================
    gw_http_internal - what the files of the HTTP server share (not for use
    outside gw_http*.c): the request, connection and server structures and
    the functions one file calls in another.

        gw_http.c           the server: create, listen, destroy, stats, and
                            the response formatting every part uses
        gw_http_conn.c      connections: reading, http-parser, the response
                            queue, writes, timers, shutdown; in-memory ones
        gw_http_request.c   requests: parser callbacks that build them, the
                            accessors and gw_http_respond
        gw_http_url.c       percent-decoding and query strings
        gw_http_headers.c   the headers every response gets (security,
                            WWW-Authenticate, CORS) and OPTIONS answers
        gw_http_limits.c    who may connect: the per-address count, the
                            idle list and eviction when the table is full

    See gw_http.c for the shape of a connection.
    =========================================================================
*/
#ifndef GW_HTTP_INTERNAL_H
#define GW_HTTP_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <time.h>
#include <http_parser.h>
#include <uv.h>

#include "gw_http.h"

#define GW_HTTP_MAGIC       0x67774854u     //  "gwHT"
#define GW_HTTP_CONN_MAGIC  0x67774843u     //  "gwHC"
#define GW_HTTP_REQ_MAGIC   0x67774852u     //  "gwHR"

#define GW_HTTP_READ_BUF_BYTES  (64 * 1024)
#define GW_HTTP_WRITE_BATCH     16          //  responses per writev
#define GW_HTTP_REQ_POOL_MAX    64          //  spare requests kept for reuse
#define GW_HTTP_POOL_BUF_BYTES  (16 * 1024) //  a spare keeps buffers this small
#define GW_HTTP_MEMORY_SINK_BYTES (64 * 1024)
#define GW_HTTP_MAX_EXTRA_HEADERS 32        //  name/value pairs per response
#define GW_HTTP_REMOTE_BYTES    64
#define GW_HTTP_ERROR_MESSAGE_BYTES 1024    //  JSON error message, truncated
//  The JSON error of a 64-byte code and such a message, each byte escaped
#define GW_HTTP_ERROR_JSON_BYTES (40 + 6 * (64 + GW_HTTP_ERROR_MESSAGE_BYTES))
#define GW_HTTP_REQUEST_ID_BYTES 65         //  64 characters and a NUL
#define GW_HTTP_DEFAULT_HEADERS 12          //  pairs gw_http respond may add
#define GW_HTTP_CORS_BYTES      4096        //  the configured origin list

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
    size_t response_cap;            //  bytes allocated at response
    void *user;                     //  the application's pointer
    char id [GW_HTTP_REQUEST_ID_BYTES]; //  X-Request-Id of the answer, "" none
    gw_http_respond_fn on_respond;  //  the application's, at the answer
    void *on_respond_arg;
    char remote [GW_HTTP_REMOTE_BYTES]; //  peer address, copied
    char remote_ip [GW_HTTP_REMOTE_BYTES]; //  peer address without port
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
    bool started;                   //  a request has begun on it
    bool counted;                   //  in the per-address table
    bool in_idle_list;
    gw_http_conn *prev;             //  server's list of connections
    gw_http_conn *next;
    gw_http_conn *aprev;            //  chain of the per-address table
    gw_http_conn *anext;
    gw_http_conn *iprev;            //  server's idle list, oldest first
    gw_http_conn *inext;
    uint32_t addr_hash;             //  of remote_ip
    gw_http_conn *rprev;            //  server's resume list
    gw_http_conn *rnext;
    bool in_flush_list;
    gw_http_conn *fprev;            //  server's flush list: answers to
    gw_http_conn *fnext;            //  write at the end of the loop turn
    char remote [GW_HTTP_REMOTE_BYTES];
    char remote_ip [GW_HTTP_REMOTE_BYTES];
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
    uv_check_t flush_check;         //  writes the flush list after poll
    uv_idle_t flush_idle;           //  while the flush list is not empty:
                                    //  the loop must not block in poll
    unsigned handles_open;          //  listener + 3 loop handles not closed
    bool destroyed;                 //  waiting for close callbacks
    gw_http_conn *conns;            //  every connection, in-memory ones included
    uint32_t conn_count;
    uint32_t memory_count;
    gw_http_conn *resume_head;      //  connections with leftover to parse
    gw_http_conn *flush_head;       //  connections with answers to write
    gw_http_request *req_pool;      //  spare requests (linked by next)
    uint32_t req_pool_count;        //  <= GW_HTTP_REQ_POOL_MAX
    uint32_t live_count;            //  connections not yet CLOSED
    gw_http_conn **addr_buckets;    //  per-address table (chains)
    uint32_t addr_bucket_count;     //  a power of two
    gw_http_conn *idle_head;        //  idle connections, oldest first
    gw_http_conn *idle_tail;
    char cors_origins [GW_HTTP_CORS_BYTES]; //  " a b " (blank-framed), "" none
    bool read_buf_busy;             //  lent to libuv between alloc and read
    time_t date_s;                  //  second of the cached Date
    char date [40];                 //  "Sun, 06 Nov 1994 08:49:37 GMT"
    gw_http_stats stats;
    char read_buf [GW_HTTP_READ_BUF_BYTES];
};

//  What the socket did not take at once, copied: the rare case (a full
//  socket buffer) pays a copy so the common one needs no allocation.
typedef struct {
    uv_write_t req;                 //  libuv write request
    gw_http_conn *conn;
    size_t size_bytes;              //  bytes in data
    uv_buf_t buf;                   //  over data
    char data [];
} write_op;

//  A live request whose head is complete (what the accessors may read).
#define REQ_CHECK(req) do { \
    assert (req); \
    assert ((req)->magic == GW_HTTP_REQ_MAGIC); \
    assert ((req)->headers_done); \
} while (0)

//  --------------------------------------------------------------------------
//  gw_http.c: formatting shared by connections and requests

//  Write {"error":{"code":...,"message":...}} into out (NUL-terminated;
//  GW_HTTP_ERROR_JSON_BYTES always hold it whole); returns its length.
size_t gw_http__error_json (const char *code, const char *message, char *out,
                            size_t out_size);

//  True when s holds no CR, LF or other control byte (header injection).
bool gw_http__header_text_ok (const char *s);

//  True when s is a header field name (RFC 7230 token).
bool gw_http__header_name_ok (const char *s);

//  Format a whole response (head and body) into req->response (grown
//  as needed, kept across reuses of req). 0 or -ENOMEM.
int gw_http__format_response (gw_http_request *req, gw_http *server, unsigned status,
                              const char *content_type, const void *body, size_t body_len,
                              const char *const *extra, bool head_only, bool close);

//  A peer address as "ip:port" or "[ip6]:port".
void gw_http__format_addr (const struct sockaddr_storage *ss, char *out, size_t size);

//  A peer address without the port: "ip" or "ip6".
void gw_http__format_ip (const struct sockaddr_storage *ss, char *out, size_t size);

//  Free the server once destroyed and every handle is closed.
void gw_http__server_maybe_free (gw_http *self);

//  --------------------------------------------------------------------------
//  gw_http_conn.c: connections

//  A connection arrived on the listener.
void gw_http__on_connection (uv_stream_t *listener, int status);

//  Run bytes through http-parser and act on how it stopped.
void gw_http__conn_parse (gw_http_conn *conn, const char *data, size_t len);

//  Hand buffers to the socket (or the in-memory sink): written at once
//  when the socket takes them, else copied and queued; the caller keeps
//  its buffers. 0, or a negative errno (the connection is closed).
int gw_http__conn_write (gw_http_conn *conn, const uv_buf_t *bufs, unsigned count);

//  True while the connection must not take more requests.
bool gw_http__conn_blocked (gw_http_conn *conn);

//  Close now: free what the connection owns, detach the application's.
void gw_http__conn_close (gw_http_conn *conn);

//  Write out the ready prefix of the queue, in order.
void gw_http__conn_flush (gw_http_conn *conn);

//  An answer is ready: write it at the end of this loop turn, with the
//  others ready by then (one write per connection per turn). In-memory
//  connections write at once.
void gw_http__conn_flush_soon (gw_http_conn *conn);

//  Write every connection of the flush list (the loop turn ends).
void gw_http__flush_all (gw_http *server);

//  --------------------------------------------------------------------------
//  gw_http_request.c: requests

//  The parser callbacks that build a request (http_parser_settings).
extern const http_parser_settings gw_http__parser_settings;

//  Create an empty request for conn (a spare one of the server's pool
//  when there is one).
gw_http_request *gw_http__req_new (gw_http_conn *conn);

//  Give up a request: back to its server's pool while it has a live
//  connection and the pool has room (small buffers kept), else freed.
void gw_http__req_free (gw_http_request *req);

//  Free the server's spare requests.
void gw_http__req_pool_free (gw_http *server);

//  Append the request to the connection's queue.
void gw_http__conn_enqueue (gw_http_conn *conn, gw_http_request *req);

//  Queue a formatted answer for req (gw_http_respond without the
//  default headers).
int gw_http__respond_raw (gw_http_request *req, unsigned status,
                          const char *content_type, const void *body,
                          size_t body_len, const char *const *extra_headers);

//  --------------------------------------------------------------------------
//  gw_http_headers.c

//  app's extra headers (NULL or pairs, NULL-terminated) followed by the
//  defaults gw_http_respond promises, into out (2 * (GW_HTTP_MAX_EXTRA_HEADERS
//  + GW_HTTP_DEFAULT_HEADERS) + 1 slots). Values live as long as req.
//  Returns false when app holds too many headers.
bool gw_http__with_defaults (gw_http_request *req, unsigned status,
                             const char *content_type, const char *const *app,
                             const char **out, size_t out_slots);

//  Copy the blank- or comma-separated origin list into the server.
void gw_http__cors_set (gw_http *self, const char *origins);

//  --------------------------------------------------------------------------
//  gw_http_limits.c

//  Set up the per-address table (at gw_http_new); 0 or -ENOMEM.
int gw_http__limits_init (gw_http *self);
void gw_http__limits_free (gw_http *self);

//  A connection was accepted from remote_ip: may it stay? Makes room by
//  closing the oldest idle connection when the table is full. Counts it
//  when admitted.
bool gw_http__limits_admit (gw_http_conn *conn);

//  The connection closes: uncount it, drop it from the idle list.
void gw_http__limits_forget (gw_http_conn *conn);

//  Keep the idle list in step: idle or not now.
void gw_http__limits_idle (gw_http_conn *conn, bool idle);

//  --------------------------------------------------------------------------
//  gw_http_url.c

//  Split the request target in head into path and query (NUL-terminated
//  in place). 0, or -1 when the target is malformed.
int gw_http__split_target (gw_http_request *req);

#endif
