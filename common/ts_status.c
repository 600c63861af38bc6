/*  ts_status - the JSON error word of each reply code. */
#include "ts_status.h"

const char *
ts_status_word (unsigned code)
{
    switch (code) {
        case TS_OK: return "ok";
        case TS_CREATED: return "created";
        case TS_ACCEPTED: return "accepted";
        case TS_BAD_REQUEST: return "bad_request";
        case TS_UNAUTHORIZED: return "unauthorized";
        case TS_FORBIDDEN: return "forbidden";
        case TS_NOT_FOUND: return "not_found";
        case TS_CONFLICT: return "conflict";
        case TS_TOO_LARGE: return "too_large";
        case TS_UNPROCESSABLE: return "unprocessable";
        case TS_TOO_MANY: return "too_many_requests";
        case TS_INTERNAL: return "internal";
        case TS_UNAVAILABLE: return "unavailable";
        case TS_TIMEOUT: return "timeout";
        case TS_INSUFFICIENT_STORAGE: return "insufficient_storage";
        default: return code >= 500 ? "internal" : "bad_request";
    }
}
