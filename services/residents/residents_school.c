/*  residents_school - residents.GetSchool: is a school known to the
    community? Schools have no record of their own: a school exists while
    a current pupil carries its school_id. The gateway asks this before it
    binds a school token, so a token is never made for a school nobody
    knows. Declared in residents_core.h.

    Bounded work: one cursor seek into the pupils table (key
    school\0 pupil_no\0, residents_core.c's layout), never a scan. */
#include <assert.h>

#include "residents_core.h"
#include "ts_valid.h"

unsigned
residents_school_get (ts_ctx *ctx, const Tashan__Residents__GetSchoolRequest *req,
                      Tashan__Residents__School *rep)
{
    assert (ctx && req && rep);
    unsigned rc = residents_check_code (ctx, "school_id", req->school_id, true);
    if (rc)
        return rc;
    //  The pupils of a school are the keys starting with "school\0".
    ts_key prefix;
    ts_key_text (&prefix, req->school_id);
    ts_cursor c;
    bool known = ts_cursor_open (&c, ctx->txn, residents_state (ctx)->pupils)
              && ts_cursor_seek (&c, prefix.data, prefix.size)
              && ts_cursor_has_prefix (&c, prefix.data, prefix.size);
    ts_cursor_close (&c);
    if (!known)
        return ts_fail (ctx, TS_NOT_FOUND, "no school %s in the community (no pupil has this "
                        "school_id)", req->school_id);
    rep->school_id = ts_arena_strdup (ctx->arena, req->school_id);
    return TS_OK;
}
