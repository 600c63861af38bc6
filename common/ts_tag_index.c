/*  =========================================================================
    ts_tag_index - an index in memory from a key's hash to the records
    that may hold the key. See ts_tag_index.h.
    =========================================================================
*/
#include "ts_tag_index.h"

#include <assert.h>
#include <stdlib.h>

#define TAG_MASK ((UINT64_C (1) << TS_TAG_BITS) - 1)
#define INDEX_MAGIC 0x54414758u         //  "TAGX"

struct ts_tag_index {
    uint32_t magic;                 //  INDEX_MAGIC
    uint64_t *slots;                //  slot_count slots, 0 = free
    size_t slot_count;              //  a power of two
    size_t used;                    //  slots taken
    size_t max_slots;               //  the bound on slot_count
};

static bool
s_power_of_two (size_t n)
{
    return n > 0 && (n & (n - 1)) == 0;
}

ts_tag_index *
ts_tag_index_new (size_t max_slots)
{
    assert (s_power_of_two (max_slots) && max_slots >= TS_TAG_INDEX_SLOTS_MIN);
    ts_tag_index *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->slot_count = TS_TAG_INDEX_SLOTS_MIN;
    self->slots = calloc (self->slot_count, sizeof *self->slots);
    if (!self->slots) {
        free (self);
        return NULL;
    }
    self->max_slots = max_slots;
    self->magic = INDEX_MAGIC;
    return self;
}

void
ts_tag_index_destroy (ts_tag_index **self_p)
{
    assert (self_p);
    ts_tag_index *self = *self_p;
    if (!self)
        return;
    assert (self->magic == INDEX_MAGIC);
    free (self->slots);
    self->magic = 0;
    free (self);
    *self_p = NULL;
}

uint32_t
ts_tag_of (const uint8_t *hash)
{
    assert (hash);
    uint32_t first = (uint32_t) hash [0] << 24 | (uint32_t) hash [1] << 16
                   | (uint32_t) hash [2] << 8 | hash [3];
    return first >> (32 - TS_TAG_BITS);
}

//  The home slot of a tag: from the tag alone (spread by a multiply), so
//  the index can grow without reading the records again.
static size_t
s_home (uint32_t tag, size_t slot_count)
{
    return (size_t) (((uint64_t) tag * UINT64_C (0x9E3779B97F4A7C15)) >> 32) & (slot_count - 1);
}

//  Put slot into slots (slot_count of them, one free at least).
static void
s_place (uint64_t *slots, size_t slot_count, uint64_t slot)
{
    assert (slot >> TS_TAG_BITS > 0);
    size_t mask = slot_count - 1;
    size_t at = s_home ((uint32_t) (slot & TAG_MASK), slot_count);
    for (size_t probe = 0; probe < slot_count; probe++, at = (at + 1) & mask)
        if (slots [at] == 0) {
            slots [at] = slot;
            return;
        }
    assert (false);                 //  a quarter of the slots are free
}

//  Move the slots that keep() says (all when keep is NULL) into a new
//  table of slot_count slots. False when out of memory.
static bool
s_rebuild (ts_tag_index *self, size_t slot_count,
           bool (*keep) (uint64_t value, void *arg), void *arg)
{
    uint64_t *slots = calloc (slot_count, sizeof *slots);
    if (!slots)
        return false;
    size_t used = 0;
    for (size_t i = 0; i < self->slot_count; i++) {
        uint64_t slot = self->slots [i];
        if (slot && (!keep || keep (slot >> TS_TAG_BITS, arg))) {
            s_place (slots, slot_count, slot);
            used++;
        }
    }
    assert (used <= self->used);
    free (self->slots);
    self->slots = slots;
    self->slot_count = slot_count;
    self->used = used;
    return true;
}

bool
ts_tag_index_add (ts_tag_index *self, uint32_t tag, uint64_t value)
{
    assert (self && self->magic == INDEX_MAGIC);
    assert (tag <= TAG_MASK);
    assert (value > 0 && value <= TS_TAG_VALUE_MAX);
    if ((self->used + 1) * 4 > self->slot_count * 3) {
        if (self->slot_count * 2 > self->max_slots
        ||  !s_rebuild (self, self->slot_count * 2, NULL, NULL))
            return false;
    }
    s_place (self->slots, self->slot_count, value << TS_TAG_BITS | tag);
    self->used++;
    assert ((self->used) * 4 <= self->slot_count * 3);
    return true;
}

void
ts_tag_index_set_max (ts_tag_index *self, size_t max_slots)
{
    assert (self && self->magic == INDEX_MAGIC);
    assert (s_power_of_two (max_slots) && max_slots >= TS_TAG_INDEX_SLOTS_MIN);
    self->max_slots = max_slots;
}

void
ts_tag_index_probe (const ts_tag_index *self, uint32_t tag, ts_tag_probe *probe)
{
    assert (self && self->magic == INDEX_MAGIC && probe);
    assert (tag <= TAG_MASK);
    probe->index = self;
    probe->tag = tag;
    probe->at = s_home (tag, self->slot_count);
    probe->probes = 0;
}

bool
ts_tag_probe_next (ts_tag_probe *probe, uint64_t *value)
{
    assert (probe && value);
    const ts_tag_index *self = probe->index;
    size_t mask = self->slot_count - 1;
    //  Bounded: every slot once at most (a quarter are free, so a free
    //  one ends the probe long before).
    while (probe->probes < self->slot_count) {
        uint64_t slot = self->slots [probe->at];
        probe->at = (probe->at + 1) & mask;
        probe->probes++;
        if (slot == 0) {
            probe->probes = self->slot_count;
            return false;
        }
        if ((slot & TAG_MASK) == probe->tag) {
            *value = slot >> TS_TAG_BITS;
            return true;
        }
    }
    return false;
}

bool
ts_tag_index_retain (ts_tag_index *self, bool (*keep) (uint64_t value, void *arg), void *arg)
{
    assert (self && self->magic == INDEX_MAGIC && keep);
    return s_rebuild (self, self->slot_count, keep, arg);
}

size_t
ts_tag_index_used (const ts_tag_index *self)
{
    assert (self && self->magic == INDEX_MAGIC);
    return self->used;
}

size_t
ts_tag_index_slots (const ts_tag_index *self)
{
    assert (self && self->magic == INDEX_MAGIC);
    return self->slot_count;
}
