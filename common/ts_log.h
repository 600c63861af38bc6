/*  ts_log - one line per event on stderr, key=value.

    ts_log_info ("batch_committed", "requests=%d commit_us=%ld", n, us);
    prints: ts=2026-11-27T01:02:03.456Z level=info svc=ledger
            event=batch_committed requests=12 commit_us=310
*/
#ifndef TS_LOG_H
#define TS_LOG_H

#include <stdint.h>

typedef enum { TS_LOG_DEBUG = 0, TS_LOG_INFO, TS_LOG_WARN, TS_LOG_ERROR } ts_log_level;

//  Log files are 0640 (in a 0750 directory: deploy/up.sh makes logs/ so).
#define TS_LOG_FILE_MODE 0640
#define TS_LOG_DIR_MODE 0750

//  Name the service and the level; when stderr is a regular file of ours
//  (a log file), narrow its mode to TS_LOG_FILE_MODE if it is looser.
void ts_log_init (const char *service, ts_log_level level);
//  Parse "debug|info|warn|error"; returns -1 when unknown.
int ts_log_level_parse (const char *name);
//  Lines dropped whole because stderr would not take them (disk full).
uint64_t ts_log_dropped (void);
void ts_log (ts_log_level level, const char *event, const char *fmt, ...)
    __attribute__ ((format (printf, 3, 4)));

#define ts_log_debug(ev, ...) ts_log (TS_LOG_DEBUG, ev, __VA_ARGS__)
#define ts_log_info(ev, ...)  ts_log (TS_LOG_INFO, ev, __VA_ARGS__)
#define ts_log_warn(ev, ...)  ts_log (TS_LOG_WARN, ev, __VA_ARGS__)
#define ts_log_error(ev, ...) ts_log (TS_LOG_ERROR, ev, __VA_ARGS__)

#endif
