/*  ts_valid - input checks shared by every handler. See ts_valid.h. */
#include "ts_valid.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

long
ts_utf8_chars (const char *s)
{
    const unsigned char *p = (const unsigned char *) s;
    long chars = 0;
    while (*p) {
        unsigned c = *p;
        int extra;
        unsigned min;
        if (c < 0x80) { extra = 0; min = 0; }
        else if ((c & 0xe0) == 0xc0) { extra = 1; min = 0x80; c &= 0x1f; }
        else if ((c & 0xf0) == 0xe0) { extra = 2; min = 0x800; c &= 0x0f; }
        else if ((c & 0xf8) == 0xf0) { extra = 3; min = 0x10000; c &= 0x07; }
        else return -1;
        p++;
        for (int i = 0; i < extra; i++, p++) {
            if ((*p & 0xc0) != 0x80)
                return -1;
            c = (c << 6) | (*p & 0x3f);
        }
        //  Overlong forms, surrogates and values past U+10FFFF are invalid.
        if (c < min || (c >= 0xd800 && c <= 0xdfff) || c > 0x10ffff)
            return -1;
        chars++;
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

int
ts_month_index (const char *month)
{
    if (!month || strlen (month) != 7 || month [4] != '-')
        return -1;
    for (int i = 0; i < 7; i++)
        if (i != 4 && (month [i] < '0' || month [i] > '9'))
            return -1;
    int year = (month [0] - '0') * 1000 + (month [1] - '0') * 100
             + (month [2] - '0') * 10 + (month [3] - '0');
    int mon = (month [5] - '0') * 10 + (month [6] - '0');
    if (year < 2000 || year > 2100 || mon < 1 || mon > 12)
        return -1;
    return year * 12 + mon - 1;
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
ts_page_size (ts_ctx *ctx, uint32_t requested, uint32_t *out)
{
    if (requested > TS_PAGE_MAX)
        return ts_fail (ctx, TS_BAD_REQUEST, "page_size must be at most %d", TS_PAGE_MAX);
    *out = requested ? requested : TS_PAGE_DEFAULT;
    return 0;
}

char *
ts_page_token_make (ts_arena *arena, const void *key, size_t size)
{
    static const char hex [] = "0123456789abcdef";
    char *out = ts_arena_alloc (arena, size * 2 + 1);
    const uint8_t *bytes = key;
    for (size_t i = 0; i < size; i++) {
        out [2 * i] = hex [bytes [i] >> 4];
        out [2 * i + 1] = hex [bytes [i] & 15];
    }
    return out;
}

static int
s_hex_digit (char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

long
ts_hex_parse (const char *text, uint8_t *out, size_t max_bytes)
{
    size_t len = text ? strnlen (text, 2 * max_bytes + 1) : 0;
    if (len % 2 || len / 2 > max_bytes)
        return -1;
    for (size_t i = 0; i < len / 2; i++) {
        int hi = s_hex_digit (text [2 * i]), lo = s_hex_digit (text [2 * i + 1]);
        if (hi < 0 || lo < 0)
            return -1;
        out [i] = (uint8_t) (hi << 4 | lo);
    }
    return (long) (len / 2);
}

long
ts_page_token_parse (ts_ctx *ctx, const char *token, uint8_t *out, size_t max_bytes)
{
    long n = ts_hex_parse (token, out, max_bytes);
    if (n < 0)
        ts_fail (ctx, TS_BAD_REQUEST, "page_token is malformed");
    return n;
}

void
ts_month_of (int64_t unix_ms, char out [8])
{
    //  Asia/Shanghai is UTC+8 all year (no DST since 1991).
    time_t secs = (time_t) (unix_ms / 1000) + 8 * 3600;
    struct tm tm;
    gmtime_r (&secs, &tm);
    unsigned year = (unsigned) (tm.tm_year + 1900) % 10000u;
    unsigned mon = (unsigned) (tm.tm_mon + 1) % 100u;
    snprintf (out, 8, "%04u-%02u", year, mon);
}
