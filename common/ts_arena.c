/*  ts_arena - bump allocator for one unit of work. See ts_arena.h. */
#include "ts_arena.h"

#include <assert.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ARENA_MAGIC 0x41524e41u
#define CHUNK_MIN_BYTES (16u * 1024)
#define ALIGN 16u
#define KEEP_DEFAULT_BYTES (4u * CHUNK_MIN_BYTES)
#define KEEP_MAX_BYTES ((size_t) 16 * 1024 * 1024)

typedef struct chunk {
    struct chunk *next;             //  older chunk
    size_t size;                    //  usable bytes in data
    size_t used;                    //  bytes handed out
    max_align_t data [];            //  the memory itself
} chunk;

struct ts_arena {
    uint32_t magic;                 //  ARENA_MAGIC while alive
    chunk *head;                    //  newest chunk
    size_t used_total;              //  bytes handed out since reset
    size_t keep_bytes;              //  the largest chunk a reset keeps
    ProtobufCAllocator pb;          //  allocator view for protobuf-c
};

static void *
s_pb_alloc (void *data, size_t size)
{
    return ts_arena_alloc ((ts_arena *) data, size);
}

static void
s_pb_free (void *data, void *ptr)
{
    //  Freed with the arena.
    (void) data;
    (void) ptr;
}

static chunk *
s_chunk_new (size_t size_bytes)
{
    chunk *c = malloc (sizeof (chunk) + size_bytes);
    if (!c) {
        fprintf (stderr, "ts_arena: out of memory (%zu bytes)\n", size_bytes);
        abort ();
    }
    c->next = NULL;
    c->size = size_bytes;
    c->used = 0;
    return c;
}

ts_arena *
ts_arena_new (void)
{
    ts_arena *self = calloc (1, sizeof (ts_arena));
    if (!self)
        return NULL;
    self->magic = ARENA_MAGIC;
    self->head = s_chunk_new (CHUNK_MIN_BYTES);
    self->keep_bytes = KEEP_DEFAULT_BYTES;
    self->pb.alloc = s_pb_alloc;
    self->pb.free = s_pb_free;
    self->pb.allocator_data = self;
    return self;
}

void
ts_arena_destroy (ts_arena **self_p)
{
    assert (self_p);
    ts_arena *self = *self_p;
    if (!self)
        return;
    assert (self->magic == ARENA_MAGIC);
    chunk *c = self->head;
    while (c) {
        chunk *next = c->next;
        free (c);
        c = next;
    }
    self->magic = 0;
    free (self);
    *self_p = NULL;
}

void
ts_arena_keep (ts_arena *self, size_t keep_bytes)
{
    assert (self && self->magic == ARENA_MAGIC);
    assert (keep_bytes >= CHUNK_MIN_BYTES && keep_bytes <= KEEP_MAX_BYTES);
    self->keep_bytes = keep_bytes;
}

void
ts_arena_reset (ts_arena *self)
{
    assert (self && self->magic == ARENA_MAGIC);
    //  Keep the largest chunk within keep_bytes for the next unit of work:
    //  a chunk freed and allocated again comes back as fresh pages after
    //  glibc trims its heap, and a page fault costs more than the work.
    chunk *keep = NULL;
    chunk *c = self->head;
    for (size_t i = 0; c && i < 64; i++) {      //  sizes double: few chunks
        chunk *next = c->next;
        if (!keep && c->size <= self->keep_bytes)
            keep = c;
        else
            free (c);
        c = next;
    }
    assert (c == NULL);
    if (!keep)
        keep = s_chunk_new (CHUNK_MIN_BYTES);
    keep->next = NULL;
    keep->used = 0;
    self->head = keep;
    self->used_total = 0;
}

void *
ts_arena_alloc (ts_arena *self, size_t size_bytes)
{
    assert (self && self->magic == ARENA_MAGIC);
    size_t rounded = (size_bytes + ALIGN - 1) & ~(size_t) (ALIGN - 1);
    if (rounded == 0)
        rounded = ALIGN;
    if (self->used_total + rounded > TS_ARENA_MAX_BYTES) {
        fprintf (stderr, "ts_arena: unit of work exceeds %zu bytes\n",
                 (size_t) TS_ARENA_MAX_BYTES);
        abort ();
    }
    chunk *c = self->head;
    if (c->size - c->used < rounded) {
        size_t want = c->size * 2;
        if (want < rounded)
            want = rounded;
        if (want < CHUNK_MIN_BYTES)
            want = CHUNK_MIN_BYTES;
        chunk *fresh = s_chunk_new (want);
        fresh->next = c;
        self->head = c = fresh;
    }
    void *ptr = (char *) c->data + c->used;
    c->used += rounded;
    self->used_total += rounded;
    assert (c->used <= c->size);
    memset (ptr, 0, size_bytes);
    return ptr;
}

char *
ts_arena_strndup (ts_arena *self, const char *s, size_t len)
{
    char *copy = ts_arena_alloc (self, len + 1);
    memcpy (copy, s, len);
    copy [len] = 0;
    return copy;
}

char *
ts_arena_strdup (ts_arena *self, const char *s)
{
    return ts_arena_strndup (self, s, strlen (s));
}

void *
ts_arena_memdup (ts_arena *self, const void *data, size_t size_bytes)
{
    void *copy = ts_arena_alloc (self, size_bytes);
    if (size_bytes)
        memcpy (copy, data, size_bytes);
    return copy;
}

char *
ts_arena_printf (ts_arena *self, const char *fmt, ...)
{
    va_list args;
    va_start (args, fmt);
    int len = vsnprintf (NULL, 0, fmt, args);
    va_end (args);
    assert (len >= 0);
    char *out = ts_arena_alloc (self, (size_t) len + 1);
    va_start (args, fmt);
    vsnprintf (out, (size_t) len + 1, fmt, args);
    va_end (args);
    return out;
}

ProtobufCAllocator *
ts_arena_pb (ts_arena *self)
{
    assert (self && self->magic == ARENA_MAGIC);
    return &self->pb;
}

size_t
ts_arena_used (ts_arena *self)
{
    assert (self && self->magic == ARENA_MAGIC);
    return self->used_total;
}
