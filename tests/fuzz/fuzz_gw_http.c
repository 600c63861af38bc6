/*  fuzz_gw_http - raw bytes into the gateway's HTTP connection parser.

    No sockets: an in-memory connection (gw_http__conn_new_memory) runs the same
    parser callbacks, limits, in-flight queue and response path as a real
    one. Input layout:
        byte 0   bit 0: tiny limits (hit 413/414/431 and the in-flight
                 bound often); bit 1: send EOF at the end; bit 2: destroy
                 the connection while requests are still held
        byte 1   seed for the handler: answer now, hold, answer an error
        byte 2   seed for the sizes of the pieces the bytes are fed in
        rest     the bytes from the "client"
    Oracle: whatever the server wrote must parse as a sequence of valid
    HTTP/1.1 responses (http-parser in response mode), one per answered
    request, and held requests answered after the connection is gone must
    return -ENOTCONN. ASan/UBSan/LSan catch the rest.
*/
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <http_parser.h>

#include "gw_http.h"

#define FUZZ_MAX_HELD 64
#define FUZZ_MAX_TRACKED 256

typedef struct {
    gw_http_request *held [FUZZ_MAX_HELD];
    size_t held_count;
    uint8_t seed;
    //  Methods in dispatch (= response) order, to skip HEAD bodies.
    bool is_head [FUZZ_MAX_TRACKED];
    size_t dispatched;
} fuzz_state;

#define FUZZ_CHECK(cond) do { if (!(cond)) abort (); } while (0)

//  Touch every accessor, so the fuzzer walks them with odd input.
static void
s_inspect (gw_http_request *req)
{
    FUZZ_CHECK (gw_http_request_method (req) != NULL);
    FUZZ_CHECK (gw_http_request_path (req) != NULL);
    const char *query = gw_http_request_query (req);
    FUZZ_CHECK (query != NULL);
    gw_http_request_header (req, "Authorization");
    gw_http_request_header (req, "content-type");
    size_t count = gw_http_request_header_count (req);
    for (size_t i = 0; i < count; i++) {
        const char *name = NULL, *value = NULL;
        FUZZ_CHECK (gw_http_request_header_at (req, i, &name, &value) == 0);
        FUZZ_CHECK (name && value);
    }
    size_t body_len = 0;
    const char *body = gw_http_request_body (req, &body_len);
    FUZZ_CHECK (body [body_len] == '\0');
    char decoded [128];
    const char *cursor = query;
    gw_http_param param;
    size_t params = 0;
    while (gw_http_query_next (&cursor, &param)) {
        FUZZ_CHECK (++params <= 8192);
        gw_http_decode (param.key, param.key_len, decoded, sizeof decoded, true);
        gw_http_decode (param.value, param.value_len, decoded, sizeof decoded, true);
    }
    gw_http_query_get (req, "month", decoded, sizeof decoded);
    const char *path = gw_http_request_path (req);
    gw_http_decode (path, strlen (path), decoded, sizeof decoded, false);
}

static void
s_on_request (gw_http_request *req, void *arg)
{
    fuzz_state *st = arg;
    s_inspect (req);
    if (st->dispatched < FUZZ_MAX_TRACKED)
        st->is_head [st->dispatched] = strcmp (gw_http_request_method (req), "HEAD") == 0;
    st->dispatched++;
    uint8_t choice = (uint8_t) (st->seed >> (st->dispatched % 4 * 2)) & 3;
    if (choice == 0)
        gw_http_respond (req, 200, "application/json", "{\"ok\":true}", 11, NULL);
    else
    if (choice == 1)
        gw_http_respond_error (req, 404, "not_found", "no such \"thing\"\n");
    else
    if (st->held_count < FUZZ_MAX_HELD)
        st->held [st->held_count++] = req;
    else
        gw_http_respond (req, 204, NULL, NULL, 0, NULL);
}

//  Answer held requests, newest first, so ordering is exercised.
static void
s_answer_held (fuzz_state *st)
{
    while (st->held_count > 0) {
        gw_http_request *req = st->held [--st->held_count];
        const char *const extra [] = { "Retry-After", "1", NULL };
        gw_http_respond (req, 503, "text/plain", "later", 5, extra);
    }
}

//  -------------------------------------------------------------------------
//  The oracle: parse what the server wrote as HTTP responses.

typedef struct {
    fuzz_state *st;
    size_t responses;               //  final responses seen
} oracle;

static int
s_oracle_headers_complete (http_parser *parser)
{
    oracle *o = parser->data;
    if (parser->status_code == 100)
        return 1;                   //  interim "100 Continue"
    size_t index = o->responses++;
    //  Error answers (400/408/413...) come after every dispatched one.
    if (index < o->st->dispatched && index < FUZZ_MAX_TRACKED && o->st->is_head [index])
        return 1;                   //  HEAD: headers only
    return 0;
}

static void
s_check_output (gw_http_conn *conn, fuzz_state *st)
{
    const char *out = NULL;
    size_t len = gw_http__memory_output (conn, &out);
    if (len == 0)
        return;
    FUZZ_CHECK (len >= 9 && memcmp (out, "HTTP/1.1 ", 9) == 0);
    if (len >= 64 * 1024 || st->dispatched > FUZZ_MAX_TRACKED)
        return;                     //  the sink truncates; nothing to parse
    http_parser_settings settings;
    http_parser_settings_init (&settings);
    settings.on_headers_complete = s_oracle_headers_complete;
    oracle o = { .st = st };
    http_parser parser;
    http_parser_init (&parser, HTTP_RESPONSE);
    parser.data = &o;
    size_t parsed = http_parser_execute (&parser, &settings, out, len);
    FUZZ_CHECK (HTTP_PARSER_ERRNO (&parser) == HPE_OK);
    FUZZ_CHECK (parsed == len);
    //  Every response carries Content-Length, so none ends mid-way.
    FUZZ_CHECK (o.responses <= st->dispatched + 1);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    static uv_loop_t loop;
    static bool loop_ready = false;
    if (!loop_ready) {
        FUZZ_CHECK (uv_loop_init (&loop) == 0);
        loop_ready = true;
    }
    if (size < 3)
        return 0;
    uint8_t flags = data [0];
    fuzz_state st = { .seed = data [1] };
    uint8_t piece_seed = data [2];
    data += 3;
    size -= 3;

    gw_http_config cfg = { .max_inflight = 4 };
    if (flags & 1) {
        cfg.max_url_bytes = 64;
        cfg.max_header_bytes = 256;
        cfg.max_headers = 8;
        cfg.max_body_bytes = 256;
        cfg.max_inflight = 2;
    }
    gw_http *http = gw_http_new (&loop, &cfg, s_on_request, &st);
    FUZZ_CHECK (http);
    gw_http_conn *conn = gw_http__conn_new_memory (http);
    FUZZ_CHECK (conn);

    size_t offset = 0;
    unsigned round = 0;
    while (offset < size) {
        //  Piece sizes 1..64 so every callback sees split tokens.
        size_t piece = 1 + ((piece_seed * 31u + round * 7u) % 64);
        round++;
        if (piece > size - offset)
            piece = size - offset;
        int rc = gw_http__feed (conn, data + offset, piece);
        for (int tries = 0; rc == -EAGAIN && tries < 64; tries++) {
            //  At a bound: answer, let the loop resume parsed-ahead bytes.
            s_answer_held (&st);
            uv_run (&loop, UV_RUN_NOWAIT);
            rc = gw_http__feed (conn, data + offset, piece);
        }
        if (rc != 0)
            break;
        offset += piece;
    }
    if (flags & 2)
        gw_http__feed (conn, NULL, 0);
    if (!(flags & 4)) {
        s_answer_held (&st);
        uv_run (&loop, UV_RUN_NOWAIT);
        s_check_output (conn, &st);
    }
    gw_http__conn_destroy_memory (&conn);
    //  The connection is gone: answering only frees.
    while (st.held_count > 0)
        FUZZ_CHECK (gw_http_respond (st.held [--st.held_count], 200, NULL, NULL, 0, NULL)
                    == -ENOTCONN);
    gw_http_stats stats;
    gw_http_stats_get (http, &stats);
    FUZZ_CHECK (stats.connections_open == 0);
    gw_http_destroy (&http);
    uv_run (&loop, UV_RUN_DEFAULT);
    return 0;
}
