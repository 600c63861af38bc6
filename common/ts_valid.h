/*  ts_valid - input checks shared by every handler. Each returns 0 when
    the value is fine, or records a 400 on ctx via ts_fail and returns it,
    so handlers write:  if ((rc = ts_check_str (ctx, "name", r->name, 64, true))) return rc;  */
#ifndef TS_VALID_H
#define TS_VALID_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "ts_service.h"
#include "ts_id.h"
#include "ts_page.h"
#include "ts_time.h"

#define TS_STR_MAX_CHARS 1000       //  default limit of SPEC section 4
#define TS_NAME_MAX_CHARS 64
#define TS_BATCH_ITEMS_MAX 1000

//  The one UTF-8 validator of the project (the gateway's JSON uses it too).
//  Overlong forms, surrogates and code points past U+10FFFF are invalid.

//  Length of the valid UTF-8 sequence at s (len > 0 bytes available), or
//  0 if there is none there.
size_t ts_utf8_sequence_len (const unsigned char *s, size_t len);

//  Are the len bytes of text valid UTF-8?
bool ts_utf8_valid (const char *text, size_t len);

//  Characters (UTF-8 code points) in s; -1 if s is not valid UTF-8.
long ts_utf8_chars (const char *s);

//  s must be valid UTF-8 with at most max_chars characters, no control
//  characters but tab/newline; when required, not empty.
unsigned ts_check_str (ts_ctx *ctx, const char *field, const char *s,
                       size_t max_chars, bool required);
//  A human name or title (a person, household, merchant, circle, notice,
//  proposal...): ts_check_str, and besides no control character at all
//  (tab and newline included), no line or paragraph separator, no bidi
//  override, embedding, isolate or mark (U+061C, U+200E/F, U+202A..E,
//  U+2066..9), no noncharacter (U+FDD0..U+FDEF, U+xFFFE/U+xFFFF); at
//  least one visible character; and no leading or trailing whitespace or
//  invisible character. Such names are refused, not trimmed: what is
//  stored is exactly what the client sent, and a client learns at once
//  that "王芳 " is not "王芳".
unsigned ts_check_name (ts_ctx *ctx, const char *field, const char *s,
                        size_t max_chars, bool required);
//  The rule in words, for API descriptions (docs/openapi.json).
#define TS_NAME_RULE_TEXT \
    "valid UTF-8, no control character (tab and newline included), no bidi control " \
    "(U+202A-E, U+2066-9, marks), no noncharacter (U+FDD0-FDEF, U+xFFFE/F), at least one " \
    "visible character, no space or invisible character at either end: refused with 400, " \
    "never trimmed"
//  The code point of the valid UTF-8 sequence of n bytes at s.
uint32_t ts_utf8_code (const unsigned char *s, size_t n);
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

//  An RFC 3339 time (ts_time_parse) into *unix_ms; an empty one is 0
//  (or 400 when required).
unsigned ts_check_time (ts_ctx *ctx, const char *field, const char *text,
                        bool required, int64_t *unix_ms);
//  A day "YYYY-MM-DD" into the unix ms of its local midnight.
unsigned ts_check_day (ts_ctx *ctx, const char *field, const char *text,
                       int64_t *unix_ms);

#endif
