/*  merchants_code - the public merchant code: key file, keyed MAC, base32
    text and the QR symbol as SVG. See merchants_code.h for the format. */
#include "merchants_code.h"

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <qrencode.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ts_keyfile.h"
#include "ts_store.h"

static const char s_alphabet [] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
static const char s_domain [] = "tashan.merchant.code.v1";
static const char s_fingerprint_domain [] = "tashan.merchant.code.fingerprint.v1";

//  --------------------------------------------------------------------
//  Load (or create on first start) the code key.

int
merchants_code_key_load (const char *dir, uint8_t key [MERCHANTS_CODE_KEY_BYTES],
                         char *err, size_t err_size)
{
    assert (dir && key);
    return ts_keyfile_load (dir, "code.key", key, MERCHANTS_CODE_KEY_BYTES, err, err_size);
}

//  --------------------------------------------------------------------
//  Fingerprint of the key, recorded in the store to catch a swapped key.

void
merchants_code_fingerprint (const uint8_t key [MERCHANTS_CODE_KEY_BYTES],
                            uint8_t out [MERCHANTS_CODE_FINGERPRINT_BYTES])
{
    crypto_generichash (out, MERCHANTS_CODE_FINGERPRINT_BYTES,
                        (const uint8_t *) s_fingerprint_domain,
                        sizeof s_fingerprint_domain - 1,
                        key, MERCHANTS_CODE_KEY_BYTES);
}

//  The 12-byte MAC of a 4-byte merchant number.
static void
s_mac (const uint8_t key [MERCHANTS_CODE_KEY_BYTES], const uint8_t id_be [4],
       uint8_t mac [MERCHANTS_CODE_MAC_BYTES])
{
    uint8_t full [crypto_generichash_BYTES_MIN];
    crypto_generichash_state st;
    crypto_generichash_init (&st, key, MERCHANTS_CODE_KEY_BYTES, sizeof full);
    crypto_generichash_update (&st, (const uint8_t *) s_domain, sizeof s_domain - 1);
    crypto_generichash_update (&st, id_be, 4);
    crypto_generichash_final (&st, full, sizeof full);
    memcpy (mac, full, MERCHANTS_CODE_MAC_BYTES);
}

//  --------------------------------------------------------------------
//  Make the code of merchant number id.

void
merchants_code_make (const uint8_t key [MERCHANTS_CODE_KEY_BYTES], uint64_t id,
                     char out [MERCHANTS_CODE_CHARS + 1])
{
    assert (id >= 1 && id <= UINT32_MAX);
    uint8_t raw [MERCHANTS_CODE_RAW_BYTES];
    ts_be32_put (raw, (uint32_t) id);
    s_mac (key, raw, raw + 4);
    //  Base32: 5 bits per character, most significant first; the last
    //  character carries 3 bits and two zero bits.
    uint32_t acc = 0;
    int bits = 0;
    size_t n = 0;
    for (size_t i = 0; i < sizeof raw; i++) {
        acc = (acc << 8) | raw [i];
        bits += 8;
        while (bits >= 5) {
            out [n++] = s_alphabet [(acc >> (bits - 5)) & 31];
            bits -= 5;
        }
    }
    assert (bits == 3);
    out [n++] = s_alphabet [(acc << 2) & 31];
    assert (n == MERCHANTS_CODE_CHARS);
    out [n] = 0;
}

//  --------------------------------------------------------------------
//  Check a code: canonical base32 of the right length with a valid MAC.

bool
merchants_code_check (const uint8_t key [MERCHANTS_CODE_KEY_BYTES],
                      const char *code, uint64_t *id)
{
    assert (key && id);
    if (!code || strnlen (code, MERCHANTS_CODE_CHARS + 1) != MERCHANTS_CODE_CHARS)
        return false;
    uint8_t raw [MERCHANTS_CODE_RAW_BYTES];
    uint32_t acc = 0;
    int bits = 0;
    size_t n = 0;
    for (size_t i = 0; i < MERCHANTS_CODE_CHARS; i++) {
        char c = code [i];
        uint32_t v;
        if (c >= 'A' && c <= 'Z')
            v = (uint32_t) (c - 'A');
        else
        if (c >= '2' && c <= '7')
            v = (uint32_t) (c - '2') + 26;
        else
            return false;
        acc = (acc << 5) | v;
        bits += 5;
        if (bits >= 8) {
            assert (n < sizeof raw);
            raw [n++] = (uint8_t) (acc >> (bits - 8));
            bits -= 8;
        }
    }
    //  Two leftover bits: must be zero, or two texts would name one code.
    if (n != sizeof raw || bits != 2 || (acc & 3) != 0)
        return false;
    uint8_t mac [MERCHANTS_CODE_MAC_BYTES];
    s_mac (key, raw, mac);
    if (sodium_memcmp (mac, raw + 4, sizeof mac) != 0)
        return false;
    uint32_t number = ts_be32_get (raw);
    if (number == 0)
        return false;
    *id = number;
    return true;
}

//  --------------------------------------------------------------------
//  QR symbol as SVG: one path of horizontal runs, 4-module quiet zone.

char *
merchants_code_svg (ts_arena *arena, const char *text, size_t *size_bytes)
{
    assert (arena && text && size_bytes);
    QRcode *qr = QRcode_encodeString (text, 0, QR_ECLEVEL_M, QR_MODE_8, 1);
    if (!qr)
        return NULL;
    const int width = qr->width;
    assert (width > 0 && width <= 177);
    const int quiet = 4;
    const int side = width + 2 * quiet;
    //  At most width/2+1 runs per row, each "M%d %dh%dv1h-%dz" <= 28 chars.
    size_t cap = (size_t) width * (size_t) (width / 2 + 1) * 28 + 512;
    char *out = ts_arena_alloc (arena, cap);
    size_t len = (size_t) snprintf (out, cap,
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
        "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 %d %d\" "
        "width=\"%d\" height=\"%d\" shape-rendering=\"crispEdges\">"
        "<rect width=\"%d\" height=\"%d\" fill=\"#fff\"/><path fill=\"#000\" d=\"",
        side, side, side * 8, side * 8, side, side);
    assert (len < cap);
    for (int y = 0; y < width; y++) {
        int x = 0;
        while (x < width) {
            if (!(qr->data [y * width + x] & 1)) {
                x++;
                continue;
            }
            int run = 1;
            while (x + run < width && (qr->data [y * width + x + run] & 1))
                run++;
            int wrote = snprintf (out + len, cap - len, "M%d %dh%dv1h-%dz",
                                  x + quiet, y + quiet, run, run);
            assert (wrote > 0 && (size_t) wrote < cap - len);
            len += (size_t) wrote;
            x += run;
        }
    }
    int wrote = snprintf (out + len, cap - len, "\"/></svg>\n");
    assert (wrote > 0 && (size_t) wrote < cap - len);
    len += (size_t) wrote;
    QRcode_free (qr);
    *size_bytes = len;
    return out;
}
