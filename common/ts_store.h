/*  =========================================================================
    ts_store - a daemon's LMDB environment, its named tables, and
    transactions with a sticky error

    One environment per daemon under <data-dir>/<service>/. All named
    tables are opened in one transaction at start; a "meta" table holds the
    schema version, checked before serving. Transactions carry a sticky
    error (Knot DNS / back-mdb style): once an operation fails, later calls
    do nothing and commit becomes abort, so callers check once, at the end.

    MDB_MAP_FULL never reaches a user: ts_txn_commit returns
    TS_STORE_MAP_FULL, the caller aborts its whole unit of work, calls
    ts_store_grow() (no transaction may be open then) and runs it again.
    Read transactions are reused (mdb_txn_reset / mdb_txn_renew).
    =========================================================================
*/
#ifndef TS_STORE_H
#define TS_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <lmdb.h>
#include <protobuf-c/protobuf-c.h>
#include "ts_arena.h"

typedef struct ts_store ts_store;
typedef struct ts_txn ts_txn;
typedef MDB_dbi ts_table;

//  Error codes returned by ts_txn_error / ts_txn_commit (0 = fine). Other
//  values are LMDB's own (see mdb_strerror).
#define TS_STORE_MAP_FULL MDB_MAP_FULL
#define TS_STORE_CORRUPT (-40001)   //  a stored value failed to unpack

typedef struct {
    const char *name;               //  table name, at most 32 chars
    unsigned flags;                 //  extra mdb_dbi_open flags (MDB_DUPSORT...)
} ts_table_def;

//  A flag of ts_table_def (not LMDB's: masked off before mdb_dbi_open): the
//  table holds no domain data, only what a fresh store has too (keys,
//  rules, settings seeded at open; the runtime's outbox, idem, inbox), so
//  ts_store_holds_data does not look at it.
#define TS_TABLE_NOT_DATA 0x40000000u

typedef struct {
    const void *data;               //  points into the map: valid until txn ends
    size_t size;                    //  bytes
} ts_val;

//  Open (creating if needed) the environment in dir, open every table and
//  check the schema version: a fresh store gets schema_version; a store
//  with another version is refused (returns NULL with err filled).
ts_store *ts_store_new (const char *dir, const ts_table_def *tables,
                        size_t table_count, uint32_t schema_version,
                        char *err, size_t err_size);
//  The same, also taking a store of a version from migrates_from up to
//  schema_version (marked schema_version at once: the caller migrates
//  its data after opening, whatever the version said).
ts_store *ts_store_new_migrating (const char *dir, const ts_table_def *tables,
                                  size_t table_count, uint32_t schema_version,
                                  uint32_t migrates_from, char *err, size_t err_size);
void ts_store_destroy (ts_store **self_p);

//  Map size a new environment starts with (default 64 MiB; it doubles as
//  it fills). Tests set a small one to exercise growth.
void ts_store_set_initial_map_size (size_t size_bytes);

//  Handle of a table opened at start; asserts that it exists.
ts_table ts_store_table (ts_store *self, const char *name);

//  Double the map size. Call only with no transaction open.
int ts_store_grow (ts_store *self);
size_t ts_store_map_size (ts_store *self);

//  Whether any table not flagged TS_TABLE_NOT_DATA has an entry: a store
//  that holds domain data (tashanctl demo never seeds one). Opens a read
//  transaction: call with none open.
bool ts_store_holds_data (ts_store *self);
//  Bytes of the map in use (pages up to the last one written).
size_t ts_store_used_bytes (ts_store *self);

//  Disk full (as opposed to MDB_MAP_FULL, which the map grows out of):
//  the errno (ENOSPC, EDQUOT) of the last top-level write commit when it
//  failed for lack of space, 0 once one commits again. Reads keep working.
int ts_store_full (ts_store *self);
//  The reply status of a failed commit rc (0 excluded): 507 with a clear
//  message for a full disk, else 500 "storage error".
unsigned ts_store_error_status (int rc, const char **message);
MDB_env *ts_store_env (ts_store *self);
//  The store's random outbox generation (meta "generation", never 0):
//  made when the store is created, kept by backups and restores.
uint64_t ts_store_generation (ts_store *self);

//  --------------------------------------------------------------------
//  The map's resident pages. LMDB reads through a shared read-only
//  mapping of data.mdb: every page a read (or a write's copy-on-write)
//  touches stays mapped, and counts in the process's RSS, until the
//  kernel reclaims it, and a fault maps its neighbours too (fault-around,
//  large page-cache folios: up to 1 MiB a fault on kernel 6.18). These
//  let a daemon hold its share of the page cache to a budget.

//  Bytes of the map (its used part) mapped into this process now, read
//  from /proc/self/pagemap's present bits; the used bytes when pagemap
//  cannot be read (the most it can be).
size_t ts_store_map_resident_bytes (ts_store *self);
//  Unmap the map's pages from this process (madvise MADV_DONTNEED): they
//  stay in the page cache, and the next read refaults them, with the
//  same bytes (a shared file mapping loses nothing). For the loop
//  thread between batches: returns EBUSY (and drops nothing) while a
//  transaction of ts_txn_begin is open, else 0 or madvise's errno.
int ts_store_map_drop (ts_store *self);
//  When more than budget_bytes of the map are resident, unmap pages down
//  to 7/8 of the budget (not all of them, so that a steady load refaults
//  only what is over the budget), in one stretch from *hand_p on (round
//  the map, wrapping: a clock the caller keeps, 0 at first). Returns the
//  bytes that were resident when it dropped some, 0 when it did not.
//  On the loop thread: does nothing while its read transaction is handed
//  out; a write open on the ticker's thread does not stop it.
size_t ts_store_map_trim (ts_store *self, size_t budget_bytes, size_t *hand_p);

//  Compacting copy of the environment to dir (which must exist and be
//  empty). Consistent: runs in one read transaction. Safe from a thread
//  other than the loop's.
int ts_store_copy (ts_store *self, const char *dir);

//  --------------------------------------------------------------------
//  Transactions

//  Begin a top-level transaction. Read transactions reuse one handle per
//  store (only one read txn may be open at a time from ts_txn_begin).
//  Threads: read transactions belong to the loop's thread; one write
//  transaction may be open at a time, on the loop or on a worker thread
//  (ts_ticker) while the loop opens none: its reads go on meanwhile.
ts_txn *ts_txn_begin (ts_store *self, bool write);
//  Begin a child of a write transaction: its effects vanish if aborted.
ts_txn *ts_txn_begin_nested (ts_txn *parent);
//  Commit: returns 0, or the sticky error (then the txn was aborted).
int ts_txn_commit (ts_txn **self_p);
void ts_txn_abort (ts_txn **self_p);
int ts_txn_error (ts_txn *self);
//  Set the sticky error by hand (e.g. a value that breaks an invariant).
void ts_txn_fail (ts_txn *self, int err);
bool ts_txn_writable (ts_txn *self);
MDB_txn *ts_txn_mdb (ts_txn *self);
ts_store *ts_txn_store (ts_txn *self);

//  Reads return false when absent (or on sticky error).
bool ts_txn_get (ts_txn *self, ts_table table, const void *key,
                 size_t key_size, ts_val *value);
//  Writes; a failure sets the sticky error.
void ts_txn_put (ts_txn *self, ts_table table, const void *key,
                 size_t key_size, const void *value, size_t value_size);
//  Insert only if absent: returns false (no sticky error) if present.
bool ts_txn_insert (ts_txn *self, ts_table table, const void *key,
                    size_t key_size, const void *value, size_t value_size);
//  Returns true if something was deleted.
bool ts_txn_del (ts_txn *self, ts_table table, const void *key,
                 size_t key_size);
//  Append to an append-only table (MDB_APPEND: no search; keys must come
//  in increasing order): a key that does not sort after every key already
//  in the table sets the sticky error MDB_KEYEXIST and writes nothing.
void ts_txn_append (ts_txn *self, ts_table table, const void *key,
                    size_t key_size, const void *value, size_t value_size);

//  Protobuf values: pack into the table / unpack into an arena. A value
//  that fails to unpack sets TS_STORE_CORRUPT and returns NULL.
void ts_txn_put_msg (ts_txn *self, ts_table table, const void *key,
                     size_t key_size, const ProtobufCMessage *msg);
void *ts_txn_get_msg (ts_txn *self, ts_table table, const void *key,
                      size_t key_size, const ProtobufCMessageDescriptor *desc,
                      ts_arena *arena);
//  A value already read (ts_txn_get, a cursor) unpacked into the arena;
//  one that fails to unpack sets TS_STORE_CORRUPT and returns NULL (so
//  does a transaction that already failed).
void *ts_txn_unpack (ts_txn *self, const ts_val *value,
                     const ProtobufCMessageDescriptor *desc, ts_arena *arena);
//  ts_txn_append of a packed protobuf value (packed straight into the map).
void ts_txn_append_msg (ts_txn *self, ts_table table, const void *key,
                        size_t key_size, const ProtobufCMessage *msg);

//  Counters kept in a table as 8-byte big-endian values.
uint64_t ts_txn_get_u64 (ts_txn *self, ts_table table, const void *key,
                         size_t key_size, uint64_t fallback);
void ts_txn_put_u64 (ts_txn *self, ts_table table, const void *key,
                     size_t key_size, uint64_t value);
//  Read-modify-write add (signed) to an 8-byte counter; returns new value.
int64_t ts_txn_add_i64 (ts_txn *self, ts_table table, const void *key,
                        size_t key_size, int64_t delta);

//  Next value of a named sequence kept in the meta table (1, 2, 3...).
uint64_t ts_txn_next_id (ts_txn *self, const char *sequence);

//  --------------------------------------------------------------------
//  Cursors (stack-allocated). Iterate keys in order; every loop that uses
//  one must carry its own bound.

typedef struct {
    ts_txn *txn;                    //  owning transaction
    MDB_cursor *cursor;             //  LMDB cursor, NULL when closed
    ts_val key;                     //  current key
    ts_val value;                   //  current value
} ts_cursor;

bool ts_cursor_open (ts_cursor *self, ts_txn *txn, ts_table table);
//  Position at the first key >= key (key NULL: the first key).
bool ts_cursor_seek (ts_cursor *self, const void *key, size_t key_size);
//  Position at the last key <= key (key NULL: the last key).
bool ts_cursor_seek_last (ts_cursor *self, const void *key, size_t key_size);
bool ts_cursor_next (ts_cursor *self);
bool ts_cursor_prev (ts_cursor *self);
//  Does the current key start with prefix?
bool ts_cursor_has_prefix (ts_cursor *self, const void *prefix, size_t size);
//  Writes through a cursor (write transactions). A cursor that stands on
//  the leaf page where key belongs finds its place there, without a
//  descent from the root: writes in key order through one cursor cost a
//  page-local search each. Put leaves the cursor on key; del removes the
//  item under the cursor (after a seek that landed on it). After either,
//  self->key and self->value are unset until the next move. A failure
//  sets the transaction's sticky error.
void ts_cursor_put (ts_cursor *self, const void *key, size_t key_size,
                    const void *value, size_t value_size);
void ts_cursor_del (ts_cursor *self);
//  The value under the cursor unpacked (ts_txn_unpack): NULL and the
//  sticky TS_STORE_CORRUPT when it does not unpack.
void *ts_cursor_msg (ts_cursor *self, const ProtobufCMessageDescriptor *desc,
                     ts_arena *arena);
void ts_cursor_close (ts_cursor *self);

//  --------------------------------------------------------------------
//  Keys: big-endian integers so LMDB's byte order is numeric order.

static inline void ts_be64_put (uint8_t *out, uint64_t v)
{
    for (int i = 7; i >= 0; i--) { out [i] = (uint8_t) v; v >>= 8; }
}
static inline uint64_t ts_be64_get (const uint8_t *in)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++) v = (v << 8) | in [i];
    return v;
}
static inline void ts_be32_put (uint8_t *out, uint32_t v)
{
    for (int i = 3; i >= 0; i--) { out [i] = (uint8_t) v; v >>= 8; }
}
static inline uint32_t ts_be32_get (const uint8_t *in)
{
    uint32_t v = 0;
    for (int i = 0; i < 4; i++) v = (v << 8) | in [i];
    return v;
}

//  A small key builder: ts_key k; ts_key_init (&k); ts_key_str (&k, "p");
//  ts_key_u64 (&k, id); then use k.data / k.size. Strings are written
//  with a 0 terminator so "ab"+"c" and "a"+"bc" differ. Overflow asserts.
#define TS_KEY_MAX 480
typedef struct {
    uint8_t data [TS_KEY_MAX];      //  key bytes (LMDB max key is 511)
    size_t size;                    //  bytes used
} ts_key;
void ts_key_init (ts_key *self);
void ts_key_str (ts_key *self, const char *s);
//  A key of one string: ts_key_init, then ts_key_str.
void ts_key_text (ts_key *self, const char *s);
void ts_key_u64 (ts_key *self, uint64_t v);
void ts_key_u32 (ts_key *self, uint32_t v);
void ts_key_bytes (ts_key *self, const void *data, size_t size);

#endif
