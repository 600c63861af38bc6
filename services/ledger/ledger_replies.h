/*  =========================================================================
    ledger_replies - replies of the board reads (honour board, rankings)
    kept while nothing they read has changed

    Why: the honour board is rebuilt from ~100 subject records per
    request (each a lookup and an unpack) and a ranking from every
    household of the community, yet between two writes every request for
    the same view gets the same reply. A reply is kept with the snapshot
    it was read from (the LMDB transaction id of a read transaction: every
    commit makes a new one), and served again only to a request that reads
    the same snapshot: exactly as fresh as building it anew (a read after a
    write reads a newer snapshot, so it misses and rebuilds). A reply read
    inside a write batch (whose earlier writes are not committed) is never
    kept nor served, but for replies kept for good: a closed month's
    published rankings never change.

    Bounded: at most LEDGER_REPLIES_MAX replies holding at most
    LEDGER_REPLIES_MAX_BYTES of memory (counted as it is allocated); a
    reply taking more than a sixteenth of that is not kept; the least
    recently used goes first. A reply is kept packed, as the wire carries
    it: served, it is copied as it is (ts_reply_packed), neither
    unpacked nor packed again (packing the 7 KB honour board took a third
    of the ledger's time per board read).
    =========================================================================
*/
#ifndef LEDGER_REPLIES_H
#define LEDGER_REPLIES_H

#include "ledger_core.h"

#define LEDGER_REPLIES_MAX 32
#define LEDGER_REPLIES_MAX_BYTES (2u * 1024 * 1024)
//  The snapshot of a reply that stays true for good (a closed month's
//  published ranking).
#define LEDGER_REPLIES_FOREVER UINT64_MAX

typedef struct ledger_replies ledger_replies;

ledger_replies *ledger_replies_new (void);
void ledger_replies_destroy (ledger_replies **self_p);

//  The snapshot a handler running in ctx reads: its read transaction's
//  id, or 0 when it runs in a write transaction (nothing it reads may be
//  kept).
uint64_t ledger_replies_snapshot (ts_ctx *ctx);

//  When a reply is kept for key and snapshot (or for good), make it the
//  reply of the request in ctx (ts_reply_packed: the handler's own rep is
//  then ignored) and return true. False when there is none: build it,
//  then ledger_replies_keep.
bool ledger_replies_serve (ledger_replies *self, const ts_key *key, uint64_t snapshot,
                           ts_ctx *ctx);
//  Keep rep packed for key, read at snapshot (0: not kept), and, when
//  kept, reply those bytes to the request in ctx (packed once).
void ledger_replies_keep (ledger_replies *self, const ts_key *key, uint64_t snapshot,
                          const ProtobufCMessage *rep, ts_ctx *ctx);

//  Replies kept now, the memory they hold, and how many requests were
//  served from here (tests).
size_t ledger_replies_count (const ledger_replies *self);
size_t ledger_replies_bytes (const ledger_replies *self);
uint64_t ledger_replies_hits (const ledger_replies *self);

//  The cache of ctx's ledger (the service's state).
ledger_replies *ledger_replies_of (ts_ctx *ctx);

#endif
