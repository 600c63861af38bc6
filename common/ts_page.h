/*  =========================================================================
    ts_page - one page of a list read from a table

    Lists are paged (SPEC section 4: page_size default 100, max 1,000;
    page_token; next_page_token empty on the last page). The items of a
    list are the keys of one table that start with a prefix; the token is
    the hex of the rest of the next key, so it is opaque to clients, and a
    token a list did not give is answered with one message everywhere:
    400 "page_token is not a token this list gave".

    A page reads at most TS_PAGE_SCAN_MAX keys, whatever the filter skips,
    so a request's cost is bounded; the token then resumes where it
    stopped (a page may come back short with a non-empty token).

        ts_page pg;
        if ((rc = ts_page_open (ctx, &pg, table, prefix.data, prefix.size,
                                req->page_token, req->page_size)))
            return rc;
        rep->items = ts_arena_alloc (ctx->arena, pg.size * sizeof (void *));
        for (; ts_page_more (&pg); ts_page_next (&pg)) {
            Item *it = ts_page_msg (&pg, &item__descriptor, ctx->arena);
            if (!it)
                break;                   //  corrupt: the txn failed
            if (!wanted (it))
                continue;
            rep->items [rep->n_items++] = it;
            ts_page_take (&pg);
        }
        rep->next_page_token = ts_page_close (&pg, ctx->arena);
    =========================================================================
*/
#ifndef TS_PAGE_H
#define TS_PAGE_H

#include <stdbool.h>
#include <stdint.h>
#include "ts_service.h"

#define TS_PAGE_DEFAULT 100
#define TS_PAGE_MAX 1000
//  Keys one page may look at (items and skipped ones together).
#define TS_PAGE_SCAN_MAX 100000

typedef struct {
    ts_cursor cur;                  //  on the next key to look at
    ts_key prefix;                  //  keys of the list start with it
    uint32_t size;                  //  items per page (validated)
    uint32_t taken;                 //  items put on this page
    uint32_t scanned;               //  keys looked at
    bool open;                      //  cursor on a key of the list
} ts_page;

//  page_size 0 → TS_PAGE_DEFAULT; 1..TS_PAGE_MAX fine; above → 400.
unsigned ts_page_size (ts_ctx *ctx, uint32_t requested, uint32_t *out);

//  Validate page_size and page_token and place the cursor on the first
//  key of the page. 0, or a 400 recorded on ctx.
unsigned ts_page_open (ts_ctx *ctx, ts_page *self, ts_table table,
                       const void *prefix, size_t prefix_size,
                       const char *token, uint32_t requested_size);
//  Is there a key of the list under the cursor, room on the page and
//  scan budget left?
bool ts_page_more (ts_page *self);
//  Move to the next key (counts against the scan bound).
void ts_page_next (ts_page *self);
//  Count one item put on the page.
void ts_page_take (ts_page *self);
//  The key under the cursor without the prefix.
const uint8_t *ts_page_rest (const ts_page *self, size_t *size);
//  The value under the cursor unpacked (ts_cursor_msg).
void *ts_page_msg (ts_page *self, const ProtobufCMessageDescriptor *desc,
                   ts_arena *arena);
//  Close the cursor; returns next_page_token: "" when the list is done.
char *ts_page_close (ts_page *self, ts_arena *arena);

//  The token of a key's rest (for lists that page by hand).
char *ts_page_token_make (ts_arena *arena, const void *rest, size_t size);
//  Parse a token into out (at most max_bytes): the byte count, or -1
//  with the 400 recorded on ctx. An empty token is 0 bytes (first page).
long ts_page_token_parse (ts_ctx *ctx, const char *token, uint8_t *out,
                          size_t max_bytes);
//  Refuse a token that parsed but that the list cannot have given (a
//  size or a value it never makes): the one 400, recorded on ctx.
unsigned ts_page_token_refuse (ts_ctx *ctx);
//  A token of exactly size bytes, for lists that page by hand with a
//  position of fixed size (an offset, a seq, a month and a seq): 0 with
//  *resume false on the first page (empty token), 0 with *resume true and
//  out filled, or the one 400 recorded on ctx.
unsigned ts_page_token_exact (ts_ctx *ctx, const char *token, uint8_t *out,
                              size_t size, bool *resume);

//  Lists ranked afresh on each request (a sort, not a key order) page by
//  an offset into the ranking: page_size and page_token are checked as
//  by ts_page_open; *offset is the rank (from 0) the page starts at.
unsigned ts_page_offset_open (ts_ctx *ctx, const char *token, uint32_t requested_size,
                              uint32_t *offset, uint32_t *size);
//  next_page_token after a page that started at offset and took `taken`
//  items of a ranking of `count`: "" when nothing is left.
char *ts_page_offset_close (ts_arena *arena, uint32_t offset, uint32_t taken,
                            size_t count);

#endif
