/*  =========================================================================
    ledger_board - month aggregates kept as entries arrive, and the honour
    board (诚信红灰榜) and rankings (最美家庭, 和谐楼宇) read from them

    Performance: an entry touches a constant number of keys (the subject's
    month total, one board row moved, its household's and building's month
    sums), and a request's working set (ledger_cache) writes each of them
    once however many of its entries moved it; so a month's board is a
    short cursor walk: the red list is the first N rows of the month, the
    grey list a walk back over its negative rows, whatever the number of
    persons and entries.
    =========================================================================
*/
#ifndef LEDGER_BOARD_H
#define LEDGER_BOARD_H

#include "ledger_core.h"

//  The subject's net points in a month: its record holds its latest month
//  (current_month), keys id\0 'm' month the earlier ones.
int64_t ledger_board_month_points (ts_ctx *ctx, const ledger_subject *subject,
                                   int month_index);
//  The key of an earlier month: false (and 0 points) when absent.
bool ledger_board_month_load (ts_ctx *ctx, const char *subject_id, int month_index,
                              int64_t *points);
//  Keys: a subject's earlier month (subjects table), a board row (board),
//  a household's or building's month sum (hh_month, bld_month).
void ledger_board_month_key (ts_key *key, const char *subject_id, int month_index);
void ledger_board_row_key (ts_key *key, int month_index, int64_t points, const char *id);
void ledger_board_sum_key (ts_key *key, int month_index, const char *name);
//  Add to a household's (hh_month) or building's (bld_month) month sum;
//  a sum that comes back to 0 is deleted.
void ledger_board_sum_add (ts_ctx *ctx, ts_table table, int month_index, const char *name,
                           int64_t delta_points);
//  Add delta (+1 or -1) to name's count in table (name\0 -> u64 count,
//  then building, if given); a count that reaches 0 is deleted. strict:
//  assert a count never goes below 0; else such a -1 does nothing.
void ledger_board_count_add (ts_ctx *ctx, ts_table table, const char *name,
                             const char *building, int64_t delta, bool strict);
//  Take a listed subject out of every month's board and rankings (consent
//  withdrawn, moved out, moving household) / put it back in.
void ledger_board_detach (ts_ctx *ctx, const ledger_subject *subject);
void ledger_board_attach (ts_ctx *ctx, const ledger_subject *subject);

//  A minor in year (under LEDGER_ADULT_AGE by birth year; with no birth
//  year, a pupil): on no board but the one ops reads.
#define LEDGER_ADULT_AGE 18
bool ledger_board_minor (const ledger_subject *subject, int year);

//  "王*明": first and last character kept, the rest masked (UTF-8 aware).
char *ledger_mask_name (ts_arena *arena, const char *name);

//  The month of a board request ("" = this month), or a 400.
unsigned ledger_board_month_arg (ts_ctx *ctx, const char *month, int *month_index);

//  The key of a board read's reply in ledger_replies: kind ('h' honour
//  board, 'H'/'B' rankings), full names or masked, month, page; false
//  when the page token is longer than any the boards make (not kept).
bool ledger_board_reply_key (ts_key *key, char kind, bool full_names, int month_index,
                             uint32_t page_size, const char *page_token);

//  Handler: the honour board (rankings: ledger_rankings.h). Its replies
//  are kept per view and snapshot (ledger_replies.h).
unsigned ledger_board_honor (ts_ctx *ctx, const Tashan__Ledger__BoardRequest *r,
                             Tashan__Ledger__HonorBoard *rep);

#endif
