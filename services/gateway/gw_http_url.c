/*  =========================================================================
    gw_http_url - the request target's parts: percent-decoding and
    key=value&... query strings.
    =========================================================================
*/
//  Invariant asserts stay on in release builds (STYLE: broken invariants
//  are asserts that stay on in production).
#undef NDEBUG
#include <assert.h>
#include <errno.h>
#include <inttypes.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <sodium.h>

#include "gw_http_internal.h"

//  =========================================================================
//  URL helpers

int
gw_http__split_target (gw_http_request *req)
{
    assert (req && req->headers_done);
    struct http_parser_url url;
    http_parser_url_init (&url);
    if (req->url_len == 0
    ||  http_parser_parse_url (req->head, req->url_len, 0, &url))
        return -1;
    //  NULs go over '?' and '#', which no caller needs.
    if (url.field_set & (1 << UF_PATH)) {
        size_t off = url.field_data [UF_PATH].off;
        size_t len = url.field_data [UF_PATH].len;
        req->head [off + len] = '\0';
        req->path = req->head + off;
    }
    if (url.field_set & (1 << UF_QUERY)) {
        size_t off = url.field_data [UF_QUERY].off;
        size_t len = url.field_data [UF_QUERY].len;
        req->head [off + len] = '\0';
        req->query = req->head + off;
    }
    return 0;
}

//  The byte of a %XX escape (libsodium's hex decoder, either case), or
//  -1 when the two characters are not hex digits.
static int
s_hex_byte (const char *hex)
{
    unsigned char byte;
    size_t len = 0;
    if (sodium_hex2bin (&byte, 1, hex, 2, NULL, &len, NULL) != 0 || len != 1)
        return -1;
    return byte;
}

ssize_t
gw_http_decode (const char *src, size_t src_len, char *dst, size_t dst_size,
                bool plus_is_space)
{
    assert (src || src_len == 0);
    assert (dst);
    assert (dst_size > 0);
    size_t n = 0;
    for (size_t i = 0; i < src_len; i++) {
        char c = src [i];
        if (c == '%') {
            if (src_len - i < 3)
                return -EINVAL;
            int byte = s_hex_byte (src + i + 1);
            if (byte < 0)
                return -EINVAL;
            c = (char) byte;
            i += 2;
        }
        else
        if (c == '+' && plus_is_space)
            c = ' ';
        //  An embedded NUL would silently cut every C string after it.
        if (c == '\0')
            return -EINVAL;
        if (n + 1 >= dst_size)
            return -ENOSPC;
        dst [n++] = c;
    }
    dst [n] = '\0';
    return (ssize_t) n;
}

bool
gw_http_query_next (const char **cursor, gw_http_param *param)
{
    assert (cursor);
    assert (param);
    const char *s = *cursor;
    if (!s)
        return false;
    while (*s == '&')
        s++;
    if (*s == '\0') {
        *cursor = s;
        return false;
    }
    const char *end = strchr (s, '&');
    if (!end)
        end = s + strlen (s);
    const char *eq = memchr (s, '=', (size_t) (end - s));
    param->key = s;
    if (eq) {
        param->key_len = (size_t) (eq - s);
        param->value = eq + 1;
        param->value_len = (size_t) (end - eq - 1);
    }
    else {
        param->key_len = (size_t) (end - s);
        param->value = "";
        param->value_len = 0;
    }
    *cursor = *end? end + 1: end;
    return true;
}

ssize_t
gw_http_query_get (gw_http_request *req, const char *key, char *dst,
                   size_t dst_size)
{
    REQ_CHECK (req);
    assert (key);
    const char *cursor = req->query;
    gw_http_param param;
    char decoded [256];
    while (gw_http_query_next (&cursor, &param)) {
        ssize_t len = gw_http_decode (param.key, param.key_len, decoded,
                                      sizeof decoded, true);
        if (len < 0 || strcmp (decoded, key) != 0)
            continue;
        return gw_http_decode (param.value, param.value_len, dst, dst_size, true);
    }
    return -ENOENT;
}


