/*  ts_time - the community's clock. See ts_time.h. */
#include "ts_time.h"

#include <assert.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

//  Days since 1970-01-01 of a civil date (Howard Hinnant's algorithm): no
//  timegm, no locale, valid for every year we accept.
static int64_t
s_days_from_civil (int64_t y, unsigned m, unsigned d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    unsigned yoe = (unsigned) (y - era * 400);
    unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t) doe - 719468;
}

static bool
s_leap (int y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int
s_days_in_month (int y, int m)
{
    static const int days [12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
    return m == 2 && s_leap (y) ? 29 : days [m - 1];
}

//  Local broken-down time of a unix ms time.
static void
s_local (int64_t unix_ms, struct tm *tm, int *ms_out)
{
    int64_t ms = unix_ms % 1000;
    if (ms < 0)
        ms += 1000;
    time_t secs = (time_t) ((unix_ms - ms) / 1000) + TS_TZ_OFFSET_S;
    gmtime_r (&secs, tm);
    if (ms_out)
        *ms_out = (int) ms;
}

int64_t
ts_time_now_ms (void)
{
    struct timespec ts;
    clock_gettime (CLOCK_REALTIME, &ts);
    return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void
ts_month_of (int64_t unix_ms, char out [8])
{
    struct tm tm;
    s_local (unix_ms, &tm, NULL);
    unsigned year = (unsigned) (tm.tm_year + 1900) % 10000u;
    unsigned mon = (unsigned) (tm.tm_mon + 1) % 100u;
    snprintf (out, 8, "%04u-%02u", year, mon);
}

int
ts_month_index (const char *month)
{
    if (!month || strnlen (month, 8) != 7 || month [4] != '-')
        return -1;
    for (int i = 0; i < 7; i++)
        if (i != 4 && (month [i] < '0' || month [i] > '9'))
            return -1;
    int year = (month [0] - '0') * 1000 + (month [1] - '0') * 100
             + (month [2] - '0') * 10 + (month [3] - '0');
    int mon = (month [5] - '0') * 10 + (month [6] - '0');
    if (year < 2000 || year > 2100 || mon < 1 || mon > 12)
        return -1;
    return year * 12 + mon - 1;
}

char *
ts_month_text (ts_arena *arena, int month_index)
{
    assert (month_index >= 0);
    return ts_arena_printf (arena, "%04d-%02d", month_index / 12 % 10000,
                            month_index % 12 + 1);
}

int
ts_month_index_of (int64_t unix_ms)
{
    struct tm tm;
    s_local (unix_ms, &tm, NULL);
    return (tm.tm_year + 1900) * 12 + tm.tm_mon;
}

int64_t
ts_month_start_ms (int month_index)
{
    assert (month_index >= 0);
    int64_t days = s_days_from_civil (month_index / 12, (unsigned) (month_index % 12 + 1), 1);
    return (days * 86400 - TS_TZ_OFFSET_S) * 1000;
}

int64_t
ts_day_of (int64_t unix_ms)
{
    int64_t local_ms = unix_ms + (int64_t) TS_TZ_OFFSET_S * 1000;
    int64_t days = local_ms / TS_DAY_MS;
    if (local_ms % TS_DAY_MS < 0)
        days--;
    return days;
}

uint32_t
ts_week_of (int64_t unix_ms)
{
    int64_t days = ts_day_of (unix_ms);
    if (days < 4)
        return 0;
    //  Day 4 (1970-01-05) is the first Monday.
    return (uint32_t) ((days + 3) / 7);
}

void
ts_time_format (int64_t unix_ms, char *out, size_t out_size)
{
    assert (out && out_size >= TS_TIME_TEXT_MAX);
    struct tm tm;
    int ms;
    s_local (unix_ms, &tm, &ms);
    snprintf (out, out_size, "%04d-%02d-%02dT%02d:%02d:%02d.%03d+08:00",
              (tm.tm_year + 1900) % 10000, tm.tm_mon + 1, tm.tm_mday,
              tm.tm_hour, tm.tm_min, tm.tm_sec, ms);
}

char *
ts_time_text (ts_arena *arena, int64_t unix_ms)
{
    char *out = ts_arena_alloc (arena, TS_TIME_TEXT_MAX);
    ts_time_format (unix_ms, out, TS_TIME_TEXT_MAX);
    return out;
}

//  n decimal digits at s into *out; false when one is not a digit.
static bool
s_digits (const char *s, int n, int *out)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (s [i] < '0' || s [i] > '9')
            return false;
        v = v * 10 + (s [i] - '0');
    }
    *out = v;
    return true;
}

//  "YYYY-MM-DD" at s: days since the epoch; false when not a real day.
static bool
s_date (const char *s, int year_lo, int64_t *days)
{
    int y, m, d;
    if (!s_digits (s, 4, &y) || s [4] != '-' || !s_digits (s + 5, 2, &m)
    ||  s [7] != '-' || !s_digits (s + 8, 2, &d))
        return false;
    if (y < year_lo || y > 2100 || m < 1 || m > 12 || d < 1 || d > s_days_in_month (y, m))
        return false;
    *days = s_days_from_civil (y, (unsigned) m, (unsigned) d);
    return true;
}

bool
ts_day_parse (const char *text, int64_t *unix_ms)
{
    int64_t days;
    if (!text || strnlen (text, 11) != 10 || !s_date (text, 2000, &days))
        return false;
    *unix_ms = (days * 86400 - TS_TZ_OFFSET_S) * 1000;
    return true;
}

bool
ts_time_parse (const char *text, int64_t *unix_ms)
{
    if (!text)
        return false;
    size_t len = strnlen (text, TS_TIME_TEXT_MAX + 1);
    if (len < 20 || len > TS_TIME_TEXT_MAX)
        return false;
    int64_t days;
    int hh, mi, ss;
    if (!s_date (text, 1970, &days)
    ||  (text [10] != 'T' && text [10] != 't' && text [10] != ' ')
    ||  !s_digits (text + 11, 2, &hh) || text [13] != ':'
    ||  !s_digits (text + 14, 2, &mi) || text [16] != ':'
    ||  !s_digits (text + 17, 2, &ss))
        return false;
    //  A leap second (60) is refused: the system clock never shows one.
    if (hh > 23 || mi > 59 || ss > 59)
        return false;
    const char *p = text + 19;
    int64_t ms = 0;
    if (*p == '.') {
        p++;
        int digits = 0;
        int64_t scale = 100;
        //  Up to 9 fraction digits (nanoseconds); milliseconds are kept.
        for (; *p >= '0' && *p <= '9' && digits < 9; p++, digits++) {
            ms += (*p - '0') * scale;
            scale /= 10;
        }
        if (digits == 0)
            return false;
    }
    int64_t offset_s = 0;
    if ((*p == 'Z' || *p == 'z') && p [1] == 0)
        offset_s = 0;
    else
    if ((*p == '+' || *p == '-') && strlen (p) == 6 && p [3] == ':') {
        int oh, om;
        if (!s_digits (p + 1, 2, &oh) || !s_digits (p + 4, 2, &om) || oh > 23 || om > 59)
            return false;
        offset_s = (int64_t) (oh * 3600 + om * 60) * (*p == '-' ? -1 : 1);
    }
    else
        return false;
    //  Out of range (before the epoch) leaves *unix_ms as it was, like
    //  every other refusal.
    int64_t parsed = (days * 86400 + hh * 3600 + mi * 60 + ss - offset_s) * 1000 + ms;
    if (parsed < 0)
        return false;
    *unix_ms = parsed;
    return true;
}
