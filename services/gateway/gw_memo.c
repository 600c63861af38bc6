/*  =========================================================================
    gw_memo - a daemon's reply as JSON, remembered per route. See gw_memo.h.
    =========================================================================
*/
#include "gw_memo.h"

#include <assert.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "gw_json.h"

#define MEMO_MAGIC 0x4d454d4fu
#define PRINT_KEEP_BYTES (256 * 1024)   //  a larger print buffer is not kept

//  A reply of a route and its JSON, in one buffer: the reply's bytes at
//  [0, body_len), the JSON after them.
typedef struct {
    const void *key;                    //  the route; NULL: slot empty
    const ProtobufCMessageDescriptor *desc;     //  the reply's type
    uint8_t *data;                      //  reply bytes, then JSON
    size_t body_len;                    //  bytes of reply at data
    size_t json_len;                    //  bytes of JSON after them
    size_t capacity;                    //  bytes allocated at data
    uint64_t used_tick;                 //  last kept or hit (LRU in its set)
} slot_t;

struct gw_memo {
    uint32_t magic;                     //  MEMO_MAGIC
    slot_t slots [GW_MEMO_SLOTS];       //  GW_MEMO_WAYS per set
    char *print;                        //  a miss is printed here (reused)
    size_t print_cap;                   //  bytes at print
    uint64_t tick;                      //  LRU clock
    uint64_t hits;                      //  renders answered from a slot
    uint64_t misses;                    //  renders unpacked and printed
};

#define SETS (GW_MEMO_SLOTS / GW_MEMO_WAYS)
_Static_assert ((SETS & (SETS - 1)) == 0 && SETS * GW_MEMO_WAYS == GW_MEMO_SLOTS,
                "sets: a power of two");
//  A route keeps at most this many replies (views) in its set, so a route
//  whose every reply differs (a person's page) cannot push out the
//  others' replies that do come again.
#define ROUTE_WAYS_MAX (GW_MEMO_WAYS / 2)

//  --------------------------------------------------------------------------
//  Constructor and destructor

gw_memo *
gw_memo_new (void)
{
    gw_memo *self = calloc (1, sizeof (gw_memo));
    if (!self)
        return NULL;
    self->magic = MEMO_MAGIC;
    return self;
}

void
gw_memo_destroy (gw_memo **self_p)
{
    assert (self_p);
    gw_memo *self = *self_p;
    if (!self)
        return;
    assert (self->magic == MEMO_MAGIC);
    for (size_t index = 0; index < GW_MEMO_SLOTS; index++)
        free (self->slots [index].data);
    free (self->print);
    self->magic = 0;
    free (self);
    *self_p = NULL;
}


//  --------------------------------------------------------------------------
//  The set of a route: routes are static descriptors, so their addresses
//  differ in the low bits after the alignment; a multiplicative hash
//  spreads them.

static slot_t *
s_set (gw_memo *self, const void *key)
{
    uint64_t hash = ((uint64_t) (uintptr_t) key >> 3) * 0x9e3779b97f4a7c15ull;
    size_t index = (size_t) (hash >> 40) & (SETS - 1);
    return &self->slots [index * GW_MEMO_WAYS];
}

//  The slot a miss of key fills: the least recently used of the key's own
//  once it holds ROUTE_WAYS_MAX, else an empty one, else the least
//  recently used of the set.
static slot_t *
s_victim (slot_t *set, const void *key)
{
    slot_t *own = NULL, *any = NULL;
    size_t owned = 0;
    for (size_t way = 0; way < GW_MEMO_WAYS; way++) {
        slot_t *slot = &set [way];
        if (slot->key == key) {
            owned++;
            if (!own || slot->used_tick < own->used_tick)
                own = slot;
        }
        if (!any || (any->key && (!slot->key || slot->used_tick < any->used_tick)))
            any = slot;
    }
    assert (any && owned <= ROUTE_WAYS_MAX);
    return owned == ROUTE_WAYS_MAX? own: any;
}

//  Does a reply of size bytes and its JSON fit in an entry?
static bool
s_fits (size_t size, size_t json_len)
{
    return size <= GW_MEMO_ENTRY_MAX_BYTES && json_len <= GW_MEMO_ENTRY_MAX_BYTES - size;
}

//  Keep body and its JSON in slot (replacing what it held); when memory
//  runs out the slot is left empty.
static void
s_keep (slot_t *slot, uint64_t tick, const void *key, const ProtobufCMessageDescriptor *desc,
        const uint8_t *body, size_t size, const char *json, size_t json_len)
{
    assert (s_fits (size, json_len));
    slot->key = NULL;                   //  empty until filled in full
    size_t need = size + json_len;
    if (need > slot->capacity) {
        //  Grown in steps so a route whose reply grows by a few bytes
        //  does not realloc each time.
        size_t capacity = slot->capacity? slot->capacity: 1024;
        while (capacity < need)
            capacity *= 2;
        uint8_t *data = realloc (slot->data, capacity);
        if (!data)
            return;                     //  not kept: rendered next time
        slot->data = data;
        slot->capacity = capacity;
    }
    assert (need <= slot->capacity && slot->capacity <= 2 * GW_MEMO_ENTRY_MAX_BYTES);
    if (size > 0)
        memcpy (slot->data, body, size);
    memcpy (slot->data + size, json, json_len);
    slot->key = key;
    slot->desc = desc;
    slot->body_len = size;
    slot->json_len = json_len;
    slot->used_tick = tick;
}


//  --------------------------------------------------------------------------
//  The JSON of a route's reply: the remembered one when the bytes are the
//  same as last time, else unpacked, printed and remembered.

long
gw_memo_render (gw_memo *self, const void *key, const ProtobufCMessageDescriptor *desc,
                const uint8_t *body, size_t size, ProtobufCAllocator *allocator,
                const char **json_p)
{
    assert (self && self->magic == MEMO_MAGIC);
    assert (key && desc && json_p);
    assert (body || size == 0);
    *json_p = NULL;
    //  The last miss's text is the caller's no more: a large buffer goes.
    if (self->print_cap > PRINT_KEEP_BYTES) {
        free (self->print);
        self->print = NULL;
        self->print_cap = 0;
    }
    slot_t *set = s_set (self, key);
    self->tick++;
    for (size_t way = 0; way < GW_MEMO_WAYS; way++) {
        slot_t *slot = &set [way];
        if (slot->key == key && slot->desc == desc && slot->body_len == size
        &&  (size == 0 || memcmp (slot->data, body, size) == 0)) {
            self->hits++;
            slot->used_tick = self->tick;
            assert (slot->json_len > 0);
            *json_p = (const char *) slot->data + slot->body_len;
            return (long) slot->json_len;
        }
    }
    self->misses++;
    ProtobufCMessage *msg = protobuf_c_message_unpack (desc, allocator, size, body);
    if (!msg)
        return GW_MEMO_MALFORMED;
    long len = gw_json_print_to (msg, &self->print, &self->print_cap);
    protobuf_c_message_free_unpacked (msg, allocator);
    if (len < 0)
        return GW_MEMO_UNPRINTABLE;
    //  A reply too large to keep does not push out one that fits.
    if (s_fits (size, (size_t) len))
        s_keep (s_victim (set, key), self->tick, key, desc, body, size, self->print,
                (size_t) len);
    *json_p = self->print;
    return len;
}


//  --------------------------------------------------------------------------
//  Counters

uint64_t
gw_memo_hits (gw_memo *self)
{
    assert (self && self->magic == MEMO_MAGIC);
    return self->hits;
}

uint64_t
gw_memo_misses (gw_memo *self)
{
    assert (self && self->magic == MEMO_MAGIC);
    return self->misses;
}
