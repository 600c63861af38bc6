/*  =========================================================================
    ts_hash - FNV-1a of a short string, for the fixed hash tables of the
    runtime and the gateway (token buckets, per-address connection counts,
    last-use times). Not for keys an attacker may choose to collide at
    will where a collision costs more than a longer bounded probe or chain.
    =========================================================================
*/
#ifndef TS_HASH_H
#define TS_HASH_H

#include <stddef.h>
#include <stdint.h>

//  FNV-1a of text, at most max_bytes of it (stops at the NUL).
static inline uint32_t
ts_hash_text (const char *text, size_t max_bytes)
{
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < max_bytes && text [i]; i++)
        h = (h ^ (unsigned char) text [i]) * 16777619u;
    return h;
}

#endif
