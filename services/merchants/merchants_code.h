/*  =========================================================================
    merchants_code - the public merchant code (一户一码): keyed MAC, text
    form, QR rendering

    A code is 26 characters of RFC 4648 base32 (A-Z, 2-7, no padding) over
    16 bytes: the merchant's number (u32 big-endian) followed by the first
    12 bytes of BLAKE2b (libsodium crypto_generichash) keyed with the
    daemon's 32-byte code key, over a domain tag and that number. 96 bits
    of MAC: forging one is a 2^-96 guess per try. Only upper-case base32 in
    canonical form is accepted (the two spare bits of the last character
    must be zero), so every accepted text maps to exactly one 16-byte value:
    any altered character, a truncated code or a case change fails.

    Why a MAC and not an Ed25519 signature: only this daemon ever checks a
    code (GET /v1/codes/{code} is answered here), so a public key buys
    nothing, and a 64-byte signature would make the QR symbol three
    versions larger. Upper-case base32 fits the QR alphanumeric mode, so
    the symbol is a small version 2 (25x25 modules) at error level M.

    The key lives in <data-dir>/merchants/code.key (mode 0600), created on
    first start. Lose it and every printed code stops verifying: back it
    up with the store (the daemon refuses to start with a key whose
    fingerprint differs from the one recorded in its store).
    =========================================================================
*/
#ifndef MERCHANTS_CODE_H
#define MERCHANTS_CODE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "ts_arena.h"

#define MERCHANTS_CODE_KEY_BYTES 32
#define MERCHANTS_CODE_RAW_BYTES 16         //  4 id + 12 MAC
#define MERCHANTS_CODE_MAC_BYTES 12
#define MERCHANTS_CODE_CHARS 26             //  base32 of 16 bytes
#define MERCHANTS_CODE_FINGERPRINT_BYTES 16

//  Load the key from dir/code.key, creating it (random, 0600, fsynced)
//  when absent. Returns 0, or -1 with err filled (bad size, unreadable).
int merchants_code_key_load (const char *dir,
                             uint8_t key [MERCHANTS_CODE_KEY_BYTES],
                             char *err, size_t err_size);

//  A fingerprint of the key (not the key) to record in the store.
void merchants_code_fingerprint (const uint8_t key [MERCHANTS_CODE_KEY_BYTES],
                                 uint8_t out [MERCHANTS_CODE_FINGERPRINT_BYTES]);

//  The code of merchant number id (1..UINT32_MAX); out gets 26 chars + NUL.
void merchants_code_make (const uint8_t key [MERCHANTS_CODE_KEY_BYTES],
                          uint64_t id, char out [MERCHANTS_CODE_CHARS + 1]);

//  Is code genuine? On true *id is the merchant number it names.
bool merchants_code_check (const uint8_t key [MERCHANTS_CODE_KEY_BYTES],
                           const char *code, uint64_t *id);

//  Render text as a QR code in SVG (arena memory, NUL-terminated);
//  *size_bytes gets its length. NULL when text cannot be encoded.
char *merchants_code_svg (ts_arena *arena, const char *text,
                          size_t *size_bytes);

#endif
