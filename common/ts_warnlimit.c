/*  ts_warnlimit - bounded warning lines. See ts_warnlimit.h. */
#include "ts_warnlimit.h"

#include <assert.h>
#include <stdarg.h>
#include <stdio.h>
#include <time.h>

#include "ts_log.h"

void
ts_warnlimit_log (ts_warnlimit *self, const char *event, const char *fmt, ...)
{
    assert (self && event && fmt);
    struct timespec ts;
    clock_gettime (CLOCK_MONOTONIC, &ts);
    uint64_t now_ms = (uint64_t) ts.tv_sec * 1000 + (uint64_t) ts.tv_nsec / 1000000;
    if (self->window_start_ms == 0 || now_ms - self->window_start_ms >= TS_WARN_WINDOW_MS) {
        self->window_start_ms = now_ms;
        self->lines = 0;
    }
    if (self->lines == TS_WARN_PER_WINDOW) {
        self->suppressed++;
        return;
    }
    self->lines++;
    char text [512];
    va_list args;
    va_start (args, fmt);
    vsnprintf (text, sizeof text, fmt, args);
    va_end (args);
    ts_log_warn (event, "%s suppressed=%llu", text, (unsigned long long) self->suppressed);
    self->suppressed = 0;
}
