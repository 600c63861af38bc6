/*  ts_reqlog - the request-log switch, request ids and idempotency keys.
    See ts_reqlog.h. */
#include "ts_reqlog.h"

#include <assert.h>
#include <stdint.h>
#include <string.h>
#include <sodium.h>

static ts_reqlog_mode s_mode = TS_REQLOG_ALL;
static unsigned s_sample = 1;       //  log one success in s_sample
static unsigned s_successes;        //  successes seen, modulo s_sample

static const char *const s_mode_names [] = { "all", "errors", "off" };

int
ts_reqlog_mode_parse (const char *name)
{
    for (int i = 0; name && i < 3; i++)
        if (strcmp (name, s_mode_names [i]) == 0)
            return i;
    return -1;
}

void
ts_reqlog_set (ts_reqlog_mode mode, unsigned sample)
{
    assert (mode <= TS_REQLOG_OFF);
    assert (sample >= 1 && sample <= TS_REQLOG_SAMPLE_MAX);
    s_mode = mode;
    s_sample = sample;
    s_successes = 0;
}

bool
ts_reqlog_wanted (unsigned status)
{
    if (s_mode == TS_REQLOG_OFF)
        return false;
    if (status >= 400)
        return true;
    if (s_mode == TS_REQLOG_ERRORS)
        return false;
    //  The first success of every run of s_sample is logged.
    bool wanted = s_successes == 0;
    s_successes = (s_successes + 1) % s_sample;
    return wanted;
}

//  1..max characters, each accepted by ok().
static bool
s_chars_ok (const char *s, size_t max, bool (*ok) (char))
{
    if (!s || !*s)
        return false;
    size_t n = 0;
    for (; s [n]; n++)
        if (n == max || !ok (s [n]))
            return false;
    return true;
}

static bool
s_visible (char c)
{
    return c > ' ' && c < 0x7f;
}

static bool
s_id_char (char c)
{
    return s_visible (c) && c != '"' && c != '\\';
}

static bool
s_header_id_char (char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
        || c == '.' || c == '_' || c == '-';
}

bool
ts_request_id_ok (const char *id)
{
    return s_chars_ok (id, TS_REQUEST_ID_MAX_CHARS, s_id_char);
}

bool
ts_request_id_header_ok (const char *id)
{
    return s_chars_ok (id, TS_REQUEST_ID_MAX_CHARS, s_header_id_char);
}

void
ts_request_id_make (char *out, size_t out_size)
{
    assert (out && out_size >= 17);
    uint8_t bits [8];
    randombytes_buf (bits, sizeof bits);
    sodium_bin2hex (out, out_size, bits, sizeof bits);
}

bool
ts_idempotency_key_ok (const char *key)
{
    return s_chars_ok (key, TS_IDEMPOTENCY_KEY_MAX_CHARS, s_visible);
}
