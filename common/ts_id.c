/*  ts_id - kind-prefixed ids. See ts_id.h. */
#include "ts_id.h"

#include <assert.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "ts_valid.h"

bool
ts_id_parse (const char *text, char kind, uint64_t *n)
{
    assert (n);
    if (!text || text [0] != kind || text [1] < '1' || text [1] > '9')
        return false;
    uint64_t v = 0;
    size_t i = 1;
    for (; text [i] && i <= 20; i++) {
        if (text [i] < '0' || text [i] > '9')
            return false;
        uint64_t digit = (uint64_t) (text [i] - '0');
        if (v > (UINT64_MAX - digit) / 10)
            return false;
        v = v * 10 + digit;
    }
    if (text [i])
        return false;
    *n = v;
    return v > 0;
}

void
ts_id_format (char kind, uint64_t n, char out [TS_ID_TEXT_MAX])
{
    snprintf (out, TS_ID_TEXT_MAX, "%c%" PRIu64, kind, n);
}

char *
ts_id_text (ts_arena *arena, char kind, uint64_t n)
{
    char *out = ts_arena_alloc (arena, TS_ID_TEXT_MAX);
    ts_id_format (kind, n, out);
    return out;
}

unsigned
ts_check_id (ts_ctx *ctx, const char *field, const char *text, char kind,
             const char *what, unsigned code, uint64_t *n)
{
    unsigned rc = ts_check_str (ctx, field, text, TS_ID_MAX_CHARS, true);
    if (rc)
        return rc;
    if (!ts_id_parse (text, kind, n))
        return ts_fail (ctx, code, "%s: no %s %s", field, what, text);
    return 0;
}
