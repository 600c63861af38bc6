/*  ts_cardcode - the resident's card code. See ts_cardcode.h. */
#include "ts_cardcode.h"

#include <assert.h>
#include <string.h>
#include <sodium.h>

#include "ts_store.h"

#define PREFIX_LEN (sizeof TS_CARDCODE_PREFIX - 1)
#define VERSION 1

void
ts_cardcode_keypair (const uint8_t master [32], uint32_t key_id,
                     uint8_t public_key [TS_CARDCODE_KEY_BYTES], uint8_t secret_key [64])
{
    //  seed = BLAKE2b-256 keyed by the master over "tashan card code" || key_id
    uint8_t msg [20] = "tashan card code";
    ts_be32_put (msg + 16, key_id);
    uint8_t seed [TS_CARDCODE_SEED_BYTES];
    crypto_generichash (seed, sizeof seed, msg, sizeof msg, master, 32);
    crypto_sign_seed_keypair (public_key, secret_key, seed);
    sodium_memzero (seed, sizeof seed);
}

//  The payload before the signature into out; returns its size.
static size_t
s_pack (const ts_cardcode *code, uint8_t *out)
{
    size_t tier_len = strnlen (code->tier, TS_CARDCODE_TIER_MAX + 1);
    size_t person_len = strnlen (code->person_id, TS_CARDCODE_PERSON_MAX + 1);
    assert (tier_len <= TS_CARDCODE_TIER_MAX && person_len <= TS_CARDCODE_PERSON_MAX);
    size_t at = 0;
    out [at++] = VERSION;
    ts_be32_put (out + at, code->key_id);
    at += 4;
    ts_be64_put (out + at, code->serial);
    at += 8;
    ts_be64_put (out + at, (uint64_t) code->issued_ms);
    at += 8;
    ts_be64_put (out + at, (uint64_t) code->expires_ms);
    at += 8;
    out [at++] = (uint8_t) code->flags;
    out [at++] = (uint8_t) tier_len;
    memcpy (out + at, code->tier, tier_len);
    at += tier_len;
    out [at++] = (uint8_t) person_len;
    memcpy (out + at, code->person_id, person_len);
    at += person_len;
    assert (at + TS_CARDCODE_SIG_BYTES <= TS_CARDCODE_MAX_BYTES);
    return at;
}

char *
ts_cardcode_sign (ts_arena *arena, const ts_cardcode *code, const uint8_t secret_key [64])
{
    assert (code && secret_key);
    assert (code->expires_ms > code->issued_ms);
    uint8_t raw [TS_CARDCODE_MAX_BYTES];
    size_t size = s_pack (code, raw);
    crypto_sign_detached (raw + size, NULL, raw, size, secret_key);
    size += TS_CARDCODE_SIG_BYTES;
    size_t b64 = sodium_base64_ENCODED_LEN (size, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    char *text = ts_arena_alloc (arena, PREFIX_LEN + b64);
    memcpy (text, TS_CARDCODE_PREFIX, PREFIX_LEN);
    sodium_bin2base64 (text + PREFIX_LEN, b64, raw, size,
                       sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    return text;
}

//  The raw bytes of text; 0 when it is not base64url of a plausible size.
static size_t
s_raw (const char *text, uint8_t raw [TS_CARDCODE_MAX_BYTES])
{
    if (!text || strncmp (text, TS_CARDCODE_PREFIX, PREFIX_LEN) != 0)
        return 0;
    const char *b64 = text + PREFIX_LEN;
    size_t len = strnlen (b64, TS_CARDCODE_MAX_CHARS + 1);
    if (len > TS_CARDCODE_MAX_CHARS)
        return 0;
    size_t size = 0;
    const char *end = NULL;
    if (sodium_base642bin (raw, TS_CARDCODE_MAX_BYTES, b64, len, NULL, &size, &end,
                           sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0
    ||  end != b64 + len)
        return 0;
    return size;
}

int
ts_cardcode_decode (const char *text, ts_cardcode *code)
{
    assert (code);
    memset (code, 0, sizeof *code);
    uint8_t raw [TS_CARDCODE_MAX_BYTES];
    size_t size = s_raw (text, raw);
    //  version .. flags (30 bytes), two lengths, the signature
    if (size < 30 + 2 + TS_CARDCODE_SIG_BYTES || raw [0] != VERSION)
        return -1;
    size_t body = size - TS_CARDCODE_SIG_BYTES;
    code->key_id = ts_be32_get (raw + 1);
    code->serial = ts_be64_get (raw + 5);
    code->issued_ms = (int64_t) ts_be64_get (raw + 13);
    code->expires_ms = (int64_t) ts_be64_get (raw + 21);
    code->flags = raw [29];
    size_t at = 30;
    size_t tier_len = raw [at++];
    if (tier_len > TS_CARDCODE_TIER_MAX || at + tier_len + 1 > body)
        return -1;
    memcpy (code->tier, raw + at, tier_len);
    at += tier_len;
    size_t person_len = raw [at++];
    if (person_len == 0 || person_len > TS_CARDCODE_PERSON_MAX || at + person_len != body)
        return -1;
    memcpy (code->person_id, raw + at, person_len);
    //  Text fields are printable ASCII: ids and tier names are.
    for (size_t i = 0; i < tier_len + person_len; i++) {
        char c = i < tier_len ? code->tier [i] : code->person_id [i - tier_len];
        if (c < 0x21 || c > 0x7e)
            return -1;
    }
    if (code->expires_ms <= code->issued_ms || code->issued_ms < 0 || (code->flags & ~3u))
        return -1;
    return 0;
}

bool
ts_cardcode_verify (const char *text, const uint8_t public_key [TS_CARDCODE_KEY_BYTES])
{
    uint8_t raw [TS_CARDCODE_MAX_BYTES];
    size_t size = s_raw (text, raw);
    if (size <= TS_CARDCODE_SIG_BYTES)
        return false;
    size_t body = size - TS_CARDCODE_SIG_BYTES;
    return crypto_sign_verify_detached (raw + body, raw, body, public_key) == 0;
}

bool
ts_cardcode_valid_at (const ts_cardcode *code, int64_t t_ms)
{
    return code->issued_ms <= t_ms && t_ms < code->expires_ms;
}
