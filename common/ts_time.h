/*  =========================================================================
    ts_time - the community's clock: Asia/Shanghai months, weeks, days and
    RFC 3339 timestamps

    The community lives in Asia/Shanghai, UTC+8 all year (no DST since
    1991), so local time is UTC plus a fixed offset and needs no tz
    database. Every daemon dates things with these helpers, so "which
    month is this entry in" has one answer across the system.

    Convention for API fields (see common/README.md): instants are
    RFC 3339 text in the community's offset with milliseconds,
    "2026-12-04T22:12:11.000+08:00"; months "YYYY-MM"; days "YYYY-MM-DD".
    Parsers accept any RFC 3339 offset ("Z", "+00:00", "-05:30").
    =========================================================================
*/
#ifndef TS_TIME_H
#define TS_TIME_H

#include <stdbool.h>
#include <stdint.h>
#include "ts_arena.h"

#define TS_TZ_OFFSET_S (8 * 3600)   //  Asia/Shanghai, seconds east of UTC
#define TS_DAY_MS (86400 * 1000LL)
#define TS_HOUR_MS (3600 * 1000LL)
#define TS_MINUTE_MS (60 * 1000LL)
#define TS_TIME_TEXT_MAX 40         //  longest RFC 3339 text we accept

//  The wall clock now, unix ms (CLOCK_REALTIME): what deadlines and
//  records carry between processes.
int64_t ts_time_now_ms (void);

//  "YYYY-MM" of a unix ms time, in the community's time zone.
void ts_month_of (int64_t unix_ms, char out [8]);
//  Months as an integer (year*12 + month-1) for comparisons; -1 when the
//  text is not "YYYY-MM" with a year 2000..2100.
int ts_month_index (const char *month);
//  "YYYY-MM" of a month index, in arena memory.
char *ts_month_text (ts_arena *arena, int month_index);
//  Month index of a unix ms time.
int ts_month_index_of (int64_t unix_ms);
//  Unix ms of the first instant of a month index (local midnight).
int64_t ts_month_start_ms (int month_index);

//  Week number since 1970-01-05 (the first Monday), weeks starting on
//  Monday in local time; 0 before it.
uint32_t ts_week_of (int64_t unix_ms);
//  Local day number since 1970-01-01 (may be negative).
int64_t ts_day_of (int64_t unix_ms);

//  RFC 3339 text of a unix ms time, local offset, milliseconds.
char *ts_time_text (ts_arena *arena, int64_t unix_ms);
//  The same into a caller's buffer (at least TS_TIME_TEXT_MAX bytes).
void ts_time_format (int64_t unix_ms, char *out, size_t out_size);
//  Parse RFC 3339 ("2026-12-04T22:12:11Z", "...T22:12:11.5+08:00"; a
//  lower-case t/z and a space for T are accepted as the RFC allows).
//  Returns false for anything else, or a date outside 1970..2100.
bool ts_time_parse (const char *text, int64_t *unix_ms);
//  Parse "YYYY-MM-DD" (a valid calendar day, 2000..2100) into the unix ms
//  of its local midnight.
bool ts_day_parse (const char *text, int64_t *unix_ms);

#endif
