/*  ts_valid - input checks shared by every handler. Each returns 0 when
    the value is fine, or records a 400 on ctx via ts_fail and returns it,
    so handlers write:  if ((rc = ts_check_str (ctx, "name", r->name, 64, true))) return rc;  */
#ifndef TS_VALID_H
#define TS_VALID_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "ts_service.h"

#define TS_STR_MAX_CHARS 1000       //  default limit of SPEC section 4
#define TS_NAME_MAX_CHARS 64
#define TS_PAGE_DEFAULT 100
#define TS_PAGE_MAX 1000
#define TS_BATCH_ITEMS_MAX 1000

//  Characters (UTF-8 code points) in s; -1 if s is not valid UTF-8.
long ts_utf8_chars (const char *s);

//  s must be valid UTF-8 with at most max_chars characters, no control
//  characters but tab/newline; when required, not empty.
unsigned ts_check_str (ts_ctx *ctx, const char *field, const char *s,
                       size_t max_chars, bool required);
//  lo <= v <= hi
unsigned ts_check_range (ts_ctx *ctx, const char *field, int64_t v,
                         int64_t lo, int64_t hi);
//  "YYYY-MM" with a month 01..12 and a year 2000..2100.
unsigned ts_check_month (ts_ctx *ctx, const char *field, const char *month);
//  The value must be one of the NULL-terminated list.
unsigned ts_check_enum (ts_ctx *ctx, const char *field, const char *s,
                        const char *const *allowed);
//  A list of at most max items.
unsigned ts_check_count (ts_ctx *ctx, const char *field, size_t n, size_t max);

//  page_size 0 → default 100; 1..1000 fine; above → 400. *out the size.
unsigned ts_page_size (ts_ctx *ctx, uint32_t requested, uint32_t *out);

//  Page tokens: the next key to read, as lower-case hex (opaque to
//  clients). make: arena string of 2*size chars. parse: the key bytes into
//  out (at most max_bytes); returns their count, or -1 (and records a 400
//  "page_token is malformed" on ctx) for anything else. An empty token
//  parses to 0 bytes (the first page).
char *ts_page_token_make (ts_arena *arena, const void *key, size_t size);
//  The bytes of lower-case hex text into out: their count, or -1.
long ts_hex_parse (const char *text, uint8_t *out, size_t max_bytes);
long ts_page_token_parse (ts_ctx *ctx, const char *token, uint8_t *out,
                          size_t max_bytes);

//  Month helpers in the community's time zone (Asia/Shanghai, UTC+8 with
//  no DST since 1991): "YYYY-MM" of a unix ms time, and months as an
//  integer index (year*12 + month-1) for comparisons.
void ts_month_of (int64_t unix_ms, char out [8]);
int ts_month_index (const char *month);   //  -1 when malformed

#endif
