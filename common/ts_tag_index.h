/*  =========================================================================
    ts_tag_index - an index in memory from a key's hash to the records
    that may hold the key

    Why: a durable write that is idempotent by a client's key must find
    whether the key was used before. A B-tree of the keys' hashes
    dirties a leaf at a random place per write; instead the records are
    appended in the order they come (the ledger's key_log, the merchants'
    check-ins), and this index, rebuilt from them at open, names the
    records a key's lookup must read. A slot only names a candidate: the
    caller reads the record in its transaction and compares the whole key,
    so a slot left by a write that was rolled back answers nothing.

    A slot (8 bytes) is value << TS_TAG_BITS | the hash's first
    TS_TAG_BITS bits, 0 when free; open addressing, linear probing from a
    home spread by a multiply, a quarter of the slots free at least, grown
    by doubling up to a bound (past it, add() says no and the caller keeps
    the key elsewhere). With 28 bits of tag, a lookup among n keys reads
    another key's record n / 2^28 of the time (one in 256 at a million
    keys; with 24 bits it was one in 16, each read a random page and
    often a page fault).
    =========================================================================
*/
#ifndef TS_TAG_INDEX_H
#define TS_TAG_INDEX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TS_TAG_BITS 28u
#define TS_TAG_VALUE_MAX ((UINT64_C (1) << (64 - TS_TAG_BITS)) - 1)
#define TS_TAG_INDEX_SLOTS_MIN 1024u            //  a power of two

typedef struct ts_tag_index ts_tag_index;

//  An empty index that may grow to max_slots slots (a power of two, at
//  least TS_TAG_INDEX_SLOTS_MIN). NULL when out of memory.
ts_tag_index *ts_tag_index_new (size_t max_slots);
void ts_tag_index_destroy (ts_tag_index **self_p);

//  The tag of a hash: its first TS_TAG_BITS bits (hash has 4 bytes at
//  least).
uint32_t ts_tag_of (const uint8_t *hash);

//  Name value (1 .. TS_TAG_VALUE_MAX) as a record that may hold a key of
//  this tag. False when the index is at its bound (or out of memory to
//  grow): nothing is added.
bool ts_tag_index_add (ts_tag_index *self, uint32_t tag, uint64_t value);

//  The bound on slots from now on (a power of two >= the minimum); an
//  index already bigger keeps its slots and takes no more.
void ts_tag_index_set_max (ts_tag_index *self, size_t max_slots);

//  The values named for tag, one per call of next(): in order of the
//  probe, some of them other keys'. Read-only: no add() or retain() in
//  between.
typedef struct {
    const ts_tag_index *index;
    uint32_t tag;
    size_t at;                      //  the next slot to look at
    size_t probes;                  //  slots looked at: at most all
} ts_tag_probe;

void ts_tag_index_probe (const ts_tag_index *self, uint32_t tag, ts_tag_probe *probe);
bool ts_tag_probe_next (ts_tag_probe *probe, uint64_t *value);

//  Keep only the slots whose value keep() says (the index is rebuilt).
//  False when out of memory: the index is unchanged.
bool ts_tag_index_retain (ts_tag_index *self, bool (*keep) (uint64_t value, void *arg),
                          void *arg);

//  Slots taken (those of rolled-back writes too), and slots in all.
size_t ts_tag_index_used (const ts_tag_index *self);
size_t ts_tag_index_slots (const ts_tag_index *self);

#endif
