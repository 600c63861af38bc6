/*  =========================================================================
    ts_reqlog - what every process logs about the requests it serves, and
    the request ids and idempotency keys that travel with them

    One info line per request (the gateway's per HTTP request, a daemon's
    per request it ran), filtered by one switch read from the config:
        log.requests = all | errors | off     (default all)
        log.requests_sample = N               (default 1)
    "errors" keeps answers >= 400 only; with "all", answers >= 400 are
    always logged and one success in N (so a busy system can keep its
    logs small without losing a failure). The lines are at info level, so
    log_level = warn silences them too.

    A request id is what the gateway got in X-Request-Id (or made), carried
    to the daemon in Request.request_id so one id follows the request
    through every log. Its characters are restricted so a log line stays
    one key=value token per field without quoting.
    =========================================================================
*/
#ifndef TS_REQLOG_H
#define TS_REQLOG_H

#include <stdbool.h>
#include <stddef.h>

#define TS_REQUEST_ID_MAX_CHARS 64
#define TS_IDEMPOTENCY_KEY_MAX_CHARS 255
#define TS_REQLOG_SAMPLE_MAX 1000000

typedef enum {
    TS_REQLOG_ALL = 0,              //  every error, one success in sample
    TS_REQLOG_ERRORS,               //  answers >= 400 only
    TS_REQLOG_OFF,                  //  none
} ts_reqlog_mode;

//  Parse "all|errors|off"; -1 when unknown.
int ts_reqlog_mode_parse (const char *name);
//  Set the process's switch (sample 1..TS_REQLOG_SAMPLE_MAX).
void ts_reqlog_set (ts_reqlog_mode mode, unsigned sample);
//  Should the request that got this status be logged? Counts successes
//  for the sampling, so call it once per request.
bool ts_reqlog_wanted (unsigned status);

//  A request id a daemon accepts: 1..64 printable ASCII characters
//  without blanks, '"' or '\'.
bool ts_request_id_ok (const char *id);
//  What the gateway accepts in X-Request-Id (stricter, so a client's id
//  is safe anywhere): 1..64 of [A-Za-z0-9._-].
bool ts_request_id_header_ok (const char *id);
//  A fresh id: 16 lowercase hex characters (64 random bits) into out.
void ts_request_id_make (char *out, size_t out_size);
//  An idempotency key: 1..255 printable ASCII characters without blanks.
bool ts_idempotency_key_ok (const char *key);

#endif
