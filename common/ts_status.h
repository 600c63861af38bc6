/*  ts_status - reply codes shared by every daemon and the gateway.
    They are HTTP status numbers so the gateway maps them one to one. */
#ifndef TS_STATUS_H
#define TS_STATUS_H

enum {
    TS_OK = 200,
    TS_CREATED = 201,
    //  A write whose outcome is not final yet (a saga across daemons is in
    //  flight): the daemon parks the request and runs it again as events
    //  arrive, answering when it is final or 503 when its time is up
    //  (ts_park.h). Never seen by a client.
    TS_ACCEPTED = 202,
    TS_BAD_REQUEST = 400,
    TS_UNAUTHORIZED = 401,
    TS_FORBIDDEN = 403,
    TS_NOT_FOUND = 404,
    TS_CONFLICT = 409,
    TS_TOO_LARGE = 413,
    TS_UNPROCESSABLE = 422,
    TS_TOO_MANY = 429,
    TS_INTERNAL = 500,
    TS_UNAVAILABLE = 503,
    TS_TIMEOUT = 504,
    //  The disk is full: the write was not applied; reads still work.
    TS_INSUFFICIENT_STORAGE = 507,
};

//  The short word used in JSON errors: "bad_request", "not_found"...
const char *ts_status_word (unsigned code);

static inline int ts_status_is_error (unsigned code) { return code >= 400; }

#endif
