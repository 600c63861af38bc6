/*  ts_warnlimit - warnings that a hostile client cannot turn into a full
    disk: at most TS_WARN_PER_WINDOW lines per TS_WARN_WINDOW_MS per limit;
    the rest are counted and the count is printed (suppressed=N) with the
    next line that gets through. */
#ifndef TS_WARNLIMIT_H
#define TS_WARNLIMIT_H

#include <stdint.h>

#define TS_WARN_WINDOW_MS 10000
#define TS_WARN_PER_WINDOW 10

typedef struct {
    uint64_t window_start_ms;       //  monotonic
    unsigned lines;                 //  printed in this window
    uint64_t suppressed;            //  not printed since the last line
} ts_warnlimit;

//  Log a warning line (event, then the key=value text, then suppressed=N)
//  unless this window's lines are used up.
void ts_warnlimit_log (ts_warnlimit *self, const char *event, const char *fmt, ...)
    __attribute__ ((format (printf, 3, 4)));

#endif
