/*  =========================================================================
    ts_id - kind-prefixed ids ("p12", "h3", "m7"...)

    Every record a daemon creates is named by a one-letter kind and a
    sequence number from ts_txn_next_id: persons p, households h,
    buildings b, compounds c, needs n, resources r, merchants m, markets k,
    entries e, circles q, service orders o, projects j, sessions s,
    proposals x, bids d, problems y, surveys v, offers f... Ids of other
    daemons' records are carried as opaque strings of at most
    TS_ID_MAX_CHARS characters.
    =========================================================================
*/
#ifndef TS_ID_H
#define TS_ID_H

#include <stdbool.h>
#include <stdint.h>
#include "ts_service.h"

//  The longest id string any request field may carry (ours or another
//  daemon's, e.g. a school's pupil number or event id).
#define TS_ID_MAX_CHARS 64
//  The longest id this module makes: a kind letter and 20 digits.
#define TS_ID_TEXT_MAX 24

//  Parse "<kind><n>" (n a decimal 1..UINT64_MAX without leading zeros).
bool ts_id_parse (const char *text, char kind, uint64_t *n);
//  "<kind><n>" in arena memory.
char *ts_id_text (ts_arena *arena, char kind, uint64_t n);
//  The same into a caller's buffer of TS_ID_TEXT_MAX bytes.
void ts_id_format (char kind, uint64_t n, char out [TS_ID_TEXT_MAX]);

//  A request field naming one of our records: required, well formed and
//  of this kind, or it records `code` (TS_NOT_FOUND for a path id,
//  TS_UNPROCESSABLE for a reference in a body) with "<field>: no <what>
//  <text>" and returns it. The caller still checks that it exists.
unsigned ts_check_id (ts_ctx *ctx, const char *field, const char *text,
                      char kind, const char *what, unsigned code, uint64_t *n);

#endif
