/*  ts_page - one page of a list read from a table. See ts_page.h. */
#include "ts_page.h"

#include <assert.h>
#include <string.h>
#include <sodium.h>

#include "ts_valid.h"

static const char s_bad_token [] = "page_token is not a token this list gave";

unsigned
ts_page_size (ts_ctx *ctx, uint32_t requested, uint32_t *out)
{
    if (requested > TS_PAGE_MAX)
        return ts_fail (ctx, TS_BAD_REQUEST, "page_size must be at most %d", TS_PAGE_MAX);
    *out = requested ? requested : TS_PAGE_DEFAULT;
    return 0;
}

char *
ts_page_token_make (ts_arena *arena, const void *rest, size_t size)
{
    char *hex = ts_arena_alloc (arena, size * 2 + 1);
    sodium_bin2hex (hex, size * 2 + 1, rest, size);
    return hex;
}

long
ts_page_token_parse (ts_ctx *ctx, const char *token, uint8_t *out, size_t max_bytes)
{
    size_t len = token ? strnlen (token, 2 * max_bytes + 1) : 0;
    size_t bytes = 0;
    const char *end = NULL;
    //  Lower-case hex only: the tokens we give; anything else is refused.
    for (size_t i = 0; i < len; i++)
        if (!((token [i] >= '0' && token [i] <= '9') || (token [i] >= 'a' && token [i] <= 'f'))) {
            ts_fail (ctx, TS_BAD_REQUEST, "%s", s_bad_token);
            return -1;
        }
    if (len % 2 || len / 2 > max_bytes
    ||  (len && (sodium_hex2bin (out, max_bytes, token, len, NULL, &bytes, &end) != 0
                 || end != token + len))) {
        ts_fail (ctx, TS_BAD_REQUEST, "%s", s_bad_token);
        return -1;
    }
    return (long) bytes;
}

unsigned
ts_page_open (ts_ctx *ctx, ts_page *self, ts_table table, const void *prefix,
              size_t prefix_size, const char *token, uint32_t requested_size)
{
    assert (self && ctx);
    memset (self, 0, sizeof *self);
    unsigned rc = ts_page_size (ctx, requested_size, &self->size);
    if (rc)
        return rc;
    assert (prefix_size < TS_KEY_MAX);
    ts_key_init (&self->prefix);
    if (prefix_size)
        ts_key_bytes (&self->prefix, prefix, prefix_size);
    uint8_t rest [TS_KEY_MAX];
    long rest_size = ts_page_token_parse (ctx, token, rest, TS_KEY_MAX - prefix_size);
    if (rest_size < 0)
        return ctx->code;
    ts_key start = self->prefix;
    ts_key_bytes (&start, rest, (size_t) rest_size);
    ts_cursor_open (&self->cur, ctx->txn, table);
    self->open = ts_cursor_seek (&self->cur, start.size ? start.data : NULL, start.size)
              && ts_cursor_has_prefix (&self->cur, self->prefix.data, self->prefix.size);
    return 0;
}

bool
ts_page_more (ts_page *self)
{
    assert (self->taken <= self->size);
    return self->open && self->taken < self->size && self->scanned < TS_PAGE_SCAN_MAX;
}

void
ts_page_next (ts_page *self)
{
    assert (self->open);
    self->scanned++;
    self->open = ts_cursor_next (&self->cur)
              && ts_cursor_has_prefix (&self->cur, self->prefix.data, self->prefix.size);
}

void
ts_page_take (ts_page *self)
{
    assert (self->taken < self->size);
    self->taken++;
}

const uint8_t *
ts_page_rest (const ts_page *self, size_t *size)
{
    assert (self->open && self->cur.key.size >= self->prefix.size);
    *size = self->cur.key.size - self->prefix.size;
    return (const uint8_t *) self->cur.key.data + self->prefix.size;
}

void *
ts_page_msg (ts_page *self, const ProtobufCMessageDescriptor *desc, ts_arena *arena)
{
    assert (self->open);
    return ts_cursor_msg (&self->cur, desc, arena);
}

char *
ts_page_close (ts_page *self, ts_arena *arena)
{
    char *token;
    if (self->open) {
        size_t size;
        const uint8_t *rest = ts_page_rest (self, &size);
        token = ts_page_token_make (arena, rest, size);
    }
    else
        token = ts_arena_strdup (arena, "");
    ts_cursor_close (&self->cur);
    self->open = false;
    return token;
}

unsigned
ts_page_token_refuse (ts_ctx *ctx)
{
    return ts_fail (ctx, TS_BAD_REQUEST, "%s", s_bad_token);
}

unsigned
ts_page_token_exact (ts_ctx *ctx, const char *token, uint8_t *out, size_t size,
                     bool *resume)
{
    assert (out && size > 0 && resume);
    *resume = false;
    long bytes = ts_page_token_parse (ctx, token, out, size);
    if (bytes < 0)
        return ctx->code;
    if (bytes == 0)
        return 0;
    if ((size_t) bytes != size)
        return ts_page_token_refuse (ctx);
    *resume = true;
    return 0;
}

unsigned
ts_page_offset_open (ts_ctx *ctx, const char *token, uint32_t requested_size,
                     uint32_t *offset, uint32_t *size)
{
    assert (offset && size);
    uint8_t tok [4];
    bool resume;
    unsigned rc;
    if ((rc = ts_page_size (ctx, requested_size, size))
    ||  (rc = ts_page_token_exact (ctx, token, tok, sizeof tok, &resume)))
        return rc;
    *offset = resume ? ts_be32_get (tok) : 0;
    return 0;
}

char *
ts_page_offset_close (ts_arena *arena, uint32_t offset, uint32_t taken, size_t count)
{
    uint64_t next = (uint64_t) offset + taken;
    if (next >= count)
        return ts_arena_strdup (arena, "");
    assert (next <= UINT32_MAX);
    uint8_t tok [4];
    ts_be32_put (tok, (uint32_t) next);
    return ts_page_token_make (arena, tok, sizeof tok);
}
