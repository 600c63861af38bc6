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

//  --------------------------------------------------------------------
//  Names: what a character is to a name.

typedef enum {
    NAME_VISIBLE,                   //  letters, digits, punctuation, CJK...
    NAME_SPACE,                     //  Unicode White_Space but line breaks
    NAME_INVISIBLE,                 //  zero-width and filler characters
    NAME_CONTROL,                   //  C0, DEL, C1, line/paragraph separators
    NAME_BIDI,                      //  bidi overrides, embeddings, isolates, marks
    NAME_NONCHAR,                   //  U+FDD0..U+FDEF, U+xFFFE, U+xFFFF
} s_name_class;

uint32_t
ts_utf8_code (const unsigned char *s, size_t n)
{
    assert (n >= 1 && n <= 4);
    static const unsigned char lead_mask [5] = { 0, 0x7f, 0x1f, 0x0f, 0x07 };
    uint32_t code = s [0] & lead_mask [n];
    for (size_t index = 1; index < n; index++)
        code = (code << 6) | (s [index] & 0x3f);
    return code;
}

static bool
s_in (uint32_t c, uint32_t lo, uint32_t hi)
{
    return c >= lo && c <= hi;
}

static s_name_class
s_name_class_of (uint32_t c)
{
    if (c < 0x20 || s_in (c, 0x7f, 0x9f) || c == 0x2028 || c == 0x2029)
        return NAME_CONTROL;
    if (c == 0x061c || c == 0x200e || c == 0x200f
    ||  s_in (c, 0x202a, 0x202e) || s_in (c, 0x2066, 0x2069))
        return NAME_BIDI;
    if (s_in (c, 0xfdd0, 0xfdef) || (c & 0xfffe) == 0xfffe)
        return NAME_NONCHAR;
    if (c == 0x20 || c == 0xa0 || c == 0x1680 || s_in (c, 0x2000, 0x200a)
    ||  c == 0x202f || c == 0x205f || c == 0x3000)
        return NAME_SPACE;
    //  Characters that draw nothing: soft hyphen, combining grapheme
    //  joiner, Hangul fillers, Khmer inherent vowels, Mongolian selectors,
    //  zero-width space/joiners, word joiner and invisible operators,
    //  deprecated format controls, braille blank, variation selectors, BOM,
    //  musical format controls, tags and supplementary selectors.
    if (c == 0xad || c == 0x34f || c == 0x115f || c == 0x1160 || s_in (c, 0x17b4, 0x17b5)
    ||  s_in (c, 0x180b, 0x180f) || s_in (c, 0x200b, 0x200d) || s_in (c, 0x2060, 0x2065)
    ||  s_in (c, 0x206a, 0x206f) || c == 0x2800 || c == 0x3164 || s_in (c, 0xfe00, 0xfe0f)
    ||  c == 0xfeff || c == 0xffa0 || s_in (c, 0x1d173, 0x1d17a)
    ||  s_in (c, 0xe0000, 0xe0fff))
        return NAME_INVISIBLE;
    return NAME_VISIBLE;
}

unsigned
ts_check_name (ts_ctx *ctx, const char *field, const char *s, size_t max_chars,
               bool required)
{
    unsigned rc = ts_check_str (ctx, field, s, max_chars, required);
    if (rc || !s || !*s)
        return rc;
    const unsigned char *p = (const unsigned char *) s;
    size_t len = strlen (s);
    bool visible = false;
    s_name_class first = NAME_VISIBLE, last = NAME_VISIBLE;
    //  ts_check_str bounded the length: at most max_chars sequences.
    for (size_t index = 0; index < len; ) {
        size_t n = ts_utf8_sequence_len (p + index, len - index);
        assert (n > 0);
        uint32_t c = ts_utf8_code (p + index, n);
        s_name_class k = s_name_class_of (c);
        if (k == NAME_CONTROL)
            return ts_fail (ctx, TS_BAD_REQUEST, "%s contains a control character "
                            "(U+%04X)", field, (unsigned) c);
        if (k == NAME_BIDI)
            return ts_fail (ctx, TS_BAD_REQUEST, "%s contains a bidirectional control "
                            "character (U+%04X)", field, (unsigned) c);
        if (k == NAME_NONCHAR)
            return ts_fail (ctx, TS_BAD_REQUEST, "%s contains a noncharacter (U+%04X)",
                            field, (unsigned) c);
        if (index == 0)
            first = k;
        last = k;
        visible = visible || k == NAME_VISIBLE;
        index += n;
    }
    if (!visible)
        return ts_fail (ctx, TS_BAD_REQUEST, "%s has no visible character", field);
    if (first != NAME_VISIBLE || last != NAME_VISIBLE)
        return ts_fail (ctx, TS_BAD_REQUEST, "%s begins or ends with a space or an "
                        "invisible character", field);
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
