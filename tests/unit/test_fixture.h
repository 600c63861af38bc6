/*  =========================================================================
    test_fixture - what unit tests share: a temp dir of their own, and
    driving a service through ts_dispatch (an event from a producer, a
    call as a role)

    test_dir_make (dir, size, "name") makes "$TMPDIR/tashan-name-XXXXXX"
    ($TMPDIR unset or empty: /tmp) and writes its path into dir;
    test_dir_remove (dir) removes it with everything in it. Keep TMPDIR
    short when a test binds ipc:// sockets in its dir (a socket path holds
    107 bytes at most).

        char dir [TEST_DIR_MAX];
        assert_int_equal (test_dir_make (dir, sizeof dir, "store"), 0);
        ...
        test_dir_remove (dir);
    =========================================================================
*/
#ifndef TEST_FIXTURE_H
#define TEST_FIXTURE_H

#include <ftw.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "ts_dispatch.h"

#define TEST_DIR_MAX 256            //  room for any dir test_dir_make makes

//  Make a fresh temp dir; 0, or -1 (errno set) when it cannot.
static inline int
test_dir_make (char *dir, size_t size, const char *name)
{
    const char *tmp = getenv ("TMPDIR");
    if (!tmp || !*tmp)
        tmp = "/tmp";
    if (snprintf (dir, size, "%s/tashan-%s-XXXXXX", tmp, name) >= (int) size)
        return -1;
    return mkdtemp (dir) ? 0 : -1;
}

static inline int
test_dir_remove_one (const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void) st;
    (void) flag;
    (void) ftw;
    return remove (path);
}

//  Remove dir and everything below it (safe on a dir that is gone).
static inline void
test_dir_remove (const char *dir)
{
    if (dir && *dir)
        nftw (dir, test_dir_remove_one, 16, FTW_DEPTH | FTW_PHYS);
}

//  Apply payload as event seq of producer, as the subscriber would (the
//  packed payload lives in arena). Returns the apply's status.
static inline unsigned
test_event (ts_dispatch *d, ts_arena *arena, const char *producer, uint64_t seq,
            const char *topic, const ProtobufCMessage *payload)
{
    Tashan__Event ev = TASHAN__EVENT__INIT;
    ev.seq = seq;
    ev.topic = (char *) topic;
    ev.created_ms = ts_dispatch_now (d);
    ev.payload.len = protobuf_c_message_get_packed_size (payload);
    ev.payload.data = ts_arena_alloc (arena, ev.payload.len + 1);
    protobuf_c_message_pack (payload, ev.payload.data);
    return ts_dispatch_apply (d, producer, &ev);
}

//  Call method as role/binding (principal "test"); *reply_p (may be NULL)
//  gets the reply, message the status text. Returns the status.
static inline unsigned
test_call (ts_dispatch *d, ts_arena *arena, const char *method, const char *role,
           const char *binding, const ProtobufCMessage *req, void *reply_p, char *message,
           size_t message_size)
{
    Tashan__Caller caller = ts_caller (role, binding, "test");
    ProtobufCMessage *reply = NULL;
    unsigned code = ts_dispatch_call (d, method, &caller, req, arena, &reply, message,
                                      message_size);
    if (reply_p)
        *(ProtobufCMessage **) reply_p = reply;
    return code;
}

//  Records in a table of the daemon's store (SIZE_MAX if it cannot be read).
static inline size_t
test_table_entries (ts_dispatch *d, const char *table)
{
    ts_store *store = ts_dispatch_store (d);
    ts_txn *txn = ts_txn_begin (store, false);
    MDB_stat st;
    int rc = mdb_stat (ts_txn_mdb (txn), ts_store_table (store, table), &st);
    ts_txn_abort (&txn);
    return rc == 0 ? st.ms_entries : SIZE_MAX;
}

//  Two keys "<prefix><n>" whose tag_of values are equal (an index's few
//  bits of a key's hash), tried in order: writes them into a and b (size
//  bytes each) and returns true, false when none of the first tries_max
//  collide. With 28-bit tags a pair turns up after about 20,000 tries.
#define TEST_TWINS_SLOTS ((uint32_t) 1 << 20)
static inline bool
test_find_twins (const char *prefix, uint32_t (*tag_of) (const char *key),
                 uint32_t tries_max, char *a, char *b, size_t size)
{
    uint32_t *seen = calloc (TEST_TWINS_SLOTS, sizeof *seen);    //  try + 1, 0 free
    if (!seen)
        return false;
    bool found = false;
    for (uint32_t i = 0; i < tries_max && i + 1 < TEST_TWINS_SLOTS && !found; i++) {
        char key [64];
        snprintf (key, sizeof key, "%s%u", prefix, i);
        uint32_t tag = tag_of (key);
        uint32_t slot = tag & (TEST_TWINS_SLOTS - 1);
        //  Open addressing on the tag; a slot's tag is computed again.
        for (; seen [slot]; slot = (slot + 1) & (TEST_TWINS_SLOTS - 1)) {
            char other [64];
            snprintf (other, sizeof other, "%s%u", prefix, seen [slot] - 1);
            if (tag_of (other) == tag) {
                snprintf (a, size, "%s", other);
                snprintf (b, size, "%s", key);
                found = true;
                break;
            }
        }
        if (!found)
            seen [slot] = i + 1;
    }
    free (seen);
    return found;
}

#endif
