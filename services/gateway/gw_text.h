/*  =========================================================================
    gw_text - the two string helpers the gateway's per-request paths use
    instead of snprintf (whose format parsing showed in the profiles):
    a bounded copy, and an unsigned integer in decimal.
    =========================================================================
*/
#ifndef GW_TEXT_H
#define GW_TEXT_H

#include <assert.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

//  Copy src into dst (dst_size > 0), cut to dst_size - 1 bytes, always
//  NUL-terminated, as snprintf (dst, dst_size, "%s", src) would. Returns
//  the bytes copied.
static inline size_t
gw_text_copy (char *dst, size_t dst_size, const char *src)
{
    assert (dst && dst_size > 0 && src);
    size_t len = strnlen (src, dst_size - 1);
    memcpy (dst, src, len);
    dst [len] = '\0';
    return len;
}

//  value in decimal into out (at least 21 bytes), NUL-terminated.
//  Returns the digits written.
static inline size_t
gw_text_u64 (char *out, uint64_t value)
{
    char digits [20];
    size_t at = sizeof digits;
    do {
        digits [--at] = (char) ('0' + value % 10);
        value /= 10;
    } while (value && at > 0);
    size_t len = sizeof digits - at;
    memcpy (out, digits + at, len);
    out [len] = '\0';
    return len;
}

//  A signed value in decimal into out (at least 21 bytes).
static inline size_t
gw_text_i64 (char *out, int64_t value)
{
    if (value >= 0)
        return gw_text_u64 (out, (uint64_t) value);
    out [0] = '-';
    //  Negated as unsigned: INT64_MIN has no positive int64.
    return 1 + gw_text_u64 (out + 1, 0 - (uint64_t) value);
}

#endif
