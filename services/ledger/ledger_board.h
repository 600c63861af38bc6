/*  =========================================================================
    ledger_board - month aggregates kept as entries arrive, and the honour
    board (诚信红灰榜) and rankings (最美家庭, 和谐楼宇) read from them

    Performance: an entry touches a constant number of keys (the subject's
    month total, one board row moved, its household's and building's month
    sums), so a month's board is a short cursor walk: the red list is the
    first N rows of the month, the grey list a walk back over its negative
    rows, whatever the number of persons and entries.
    =========================================================================
*/
#ifndef LEDGER_BOARD_H
#define LEDGER_BOARD_H

#include "ledger_core.h"

//  Add delta points to subject's month (every subject), and when the
//  subject is listed to the board and its household/building sums.
void ledger_board_add (ts_ctx *ctx, const ledger_subject *subject,
                       int month_index, int64_t delta_points);
//  The subject's net points in a month.
int64_t ledger_board_month_points (ts_ctx *ctx, const char *subject_id,
                                   int month_index);
//  Take a listed subject out of every month's board and rankings (consent
//  withdrawn, moved out, moving household) / put it back in.
void ledger_board_detach (ts_ctx *ctx, const ledger_subject *subject);
void ledger_board_attach (ts_ctx *ctx, const ledger_subject *subject);

//  "王*明": first and last character kept, the rest masked (UTF-8 aware).
char *ledger_mask_name (ts_arena *arena, const char *name);

//  Handlers.
unsigned ledger_board_honor (ts_ctx *ctx, const void *req, void *rep);
unsigned ledger_board_households (ts_ctx *ctx, const void *req, void *rep);
unsigned ledger_board_buildings (ts_ctx *ctx, const void *req, void *rep);

#endif
