/*  ts_valid - input checks shared by every handler. See ts_valid.h. */
#include "ts_valid.h"

#include <assert.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

//  Length of the valid UTF-8 sequence at s, or 0 if there is none there
//  (overlong forms, surrogates and code points past U+10FFFF are invalid).
size_t
ts_utf8_sequence_len (const unsigned char *s, size_t len)
{
    assert (len > 0);
    unsigned char c = s [0];
    if (c < 0x80)
        return 1;
    size_t need;
    uint32_t code;
    if (c >= 0xc2 && c <= 0xdf) {
        need = 2;
        code = c & 0x1f;
    }
    else
    if (c >= 0xe0 && c <= 0xef) {
        need = 3;
        code = c & 0x0f;
    }
    else
    if (c >= 0xf0 && c <= 0xf4) {
        need = 4;
        code = c & 0x07;
    }
    else
        return 0;
    if (len < need)
        return 0;
    for (size_t index = 1; index < need; index++) {
        if ((s [index] & 0xc0) != 0x80)
            return 0;
        code = (code << 6) | (s [index] & 0x3f);
    }
    if ((need == 3 && code < 0x800)
    ||  (need == 4 && code < 0x10000)
    ||  (code >= 0xd800 && code <= 0xdfff)
    ||  code > 0x10ffff)
        return 0;
    return need;
}

bool
ts_utf8_valid (const char *text, size_t len)
{
    const unsigned char *s = (const unsigned char *) text;
    size_t index = 0;
    while (index < len) {
        size_t n = ts_utf8_sequence_len (s + index, len - index);
        if (n == 0)
            return false;
        index += n;
    }
    return true;
}

long
ts_utf8_chars (const char *s)
{
    const unsigned char *p = (const unsigned char *) s;
    size_t len = strlen (s);
    long chars = 0;
    for (size_t index = 0; index < len; chars++) {
        size_t n = ts_utf8_sequence_len (p + index, len - index);
        if (n == 0)
            return -1;
        index += n;
    }
    return chars;
}

unsigned
ts_check_str (ts_ctx *ctx, const char *field, const char *s, size_t max_chars,
              bool required)
{
    if (!s || !*s) {
        if (required)
            return ts_fail (ctx, TS_BAD_REQUEST, "%s is required", field);
        return 0;
    }
    long chars = ts_utf8_chars (s);
    if (chars < 0)
        return ts_fail (ctx, TS_BAD_REQUEST, "%s is not valid UTF-8", field);
    if ((size_t) chars > max_chars)
        return ts_fail (ctx, TS_BAD_REQUEST, "%s is longer than %zu characters",
                        field, max_chars);
    for (const unsigned char *p = (const unsigned char *) s; *p; p++)
        //  C0 controls but tab/newline, DEL, and C1 controls (U+0080..U+009F,
        //  UTF-8 C2 80..C2 9F: NEL, CSI terminal escapes...).
        if ((*p < 0x20 && *p != '\t' && *p != '\n') || *p == 0x7f
        ||  (*p == 0xc2 && p [1] >= 0x80 && p [1] <= 0x9f))
            return ts_fail (ctx, TS_BAD_REQUEST, "%s contains a control character", field);
    return 0;
}

unsigned
ts_check_range (ts_ctx *ctx, const char *field, int64_t v, int64_t lo, int64_t hi)
{
    if (v < lo || v > hi)
        return ts_fail (ctx, TS_BAD_REQUEST, "%s must be between %lld and %lld",
                        field, (long long) lo, (long long) hi);
    return 0;
}

unsigned
ts_check_month (ts_ctx *ctx, const char *field, const char *month)
{
    if (ts_month_index (month) < 0)
        return ts_fail (ctx, TS_BAD_REQUEST, "%s must be a month YYYY-MM", field);
    return 0;
}

unsigned
ts_check_enum (ts_ctx *ctx, const char *field, const char *s,
               const char *const *allowed)
{
    for (size_t i = 0; allowed [i] && i < 256; i++)
        if (s && strcmp (s, allowed [i]) == 0)
            return 0;
    char list [512] = "";
    size_t used = 0;
    for (size_t i = 0; allowed [i] && i < 256 && used < sizeof list - 1; i++)
        used += (size_t) snprintf (list + used, sizeof list - used, "%s%s",
                                   i ? ", " : "", allowed [i]);
    return ts_fail (ctx, TS_BAD_REQUEST, "%s must be one of: %s", field, list);
}

unsigned
ts_check_count (ts_ctx *ctx, const char *field, size_t n, size_t max)
{
    if (n > max)
        return ts_fail (ctx, TS_BAD_REQUEST, "%s has more than %zu items", field, max);
    return 0;
}

unsigned
ts_check_time (ts_ctx *ctx, const char *field, const char *text, bool required,
               int64_t *unix_ms)
{
    *unix_ms = 0;
    if (!text || !*text) {
        if (required)
            return ts_fail (ctx, TS_BAD_REQUEST, "%s is required", field);
        return 0;
    }
    if (!ts_time_parse (text, unix_ms))
        return ts_fail (ctx, TS_BAD_REQUEST,
                        "%s must be an RFC 3339 time such as 2026-12-04T09:30:00+08:00",
                        field);
    return 0;
}

unsigned
ts_check_day (ts_ctx *ctx, const char *field, const char *text, int64_t *unix_ms)
{
    if (!ts_day_parse (text, unix_ms))
        return ts_fail (ctx, TS_BAD_REQUEST, "%s must be a day YYYY-MM-DD", field);
    return 0;
}
