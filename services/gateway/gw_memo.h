/*  =========================================================================
    gw_memo - a daemon's reply as JSON, remembered per route: when the next
    reply of a route is byte for byte the one rendered last time, its JSON
    is reused instead of unpacking and printing the protobuf again.

    Why: replies that many callers share come again and again with the
    same bytes (the ledger keeps the honour board's reply per snapshot, a
    6.9 KB JSON whose unpacking and printing was half of the gateway's CPU
    on that route). The JSON is a function of the reply's bytes and its
    message type alone (gw_json_print reads nothing else: no caller, no
    header, no query option; masking by role is done by the daemon before
    it packs the reply), so equal bytes of the same type give equal JSON
    and reuse cannot show one caller what another was meant to see: a
    caller whose view differs gets different bytes, and a miss.

    Bounded: GW_MEMO_SLOTS entries in sets of GW_MEMO_WAYS, a route's set
    chosen by its key, least recently used out first; a route keeps at
    most half of its set (so a few views of one route, as the honour
    board's per role, each stay, and a route whose replies never repeat
    cannot push out those that do). Each entry holds at most
    GW_MEMO_ENTRY_MAX_BYTES of reply plus JSON; a larger reply is rendered
    every time. Not thread-safe (the gateway's loop thread only).
    =========================================================================
*/
#ifndef GW_MEMO_H
#define GW_MEMO_H

#include <protobuf-c/protobuf-c.h>
#include <stddef.h>
#include <stdint.h>

#define GW_MEMO_SLOTS 64                    //  entries in all
#define GW_MEMO_WAYS 4                      //  entries per set (a power of two)
#define GW_MEMO_ENTRY_MAX_BYTES (32 * 1024) //  reply + JSON kept per slot

//  gw_memo_render's failures.
#define GW_MEMO_MALFORMED (-1)              //  the bytes do not unpack
#define GW_MEMO_UNPRINTABLE (-2)            //  out of memory, too deep

typedef struct gw_memo gw_memo;

//  NULL when out of memory.
gw_memo *gw_memo_new (void);
void gw_memo_destroy (gw_memo **self_p);

//  The JSON of body (size bytes, a packed message of type desc), the reply
//  of the route named by key (any pointer that stays the same for the
//  route, and differs between routes). Sets *json_p to text that stays
//  valid until the next call and returns its length, or returns
//  GW_MEMO_MALFORMED or GW_MEMO_UNPRINTABLE. allocator (NULL: malloc) is
//  for the unpacked message of a miss.
long gw_memo_render (gw_memo *self, const void *key, const ProtobufCMessageDescriptor *desc,
                     const uint8_t *body, size_t size, ProtobufCAllocator *allocator,
                     const char **json_p);

//  Renders answered from memory, and renders done (for tests, metrics).
uint64_t gw_memo_hits (gw_memo *self);
uint64_t gw_memo_misses (gw_memo *self);

#endif
