/*  =========================================================================
    ts_arena - bump allocator for one unit of work (a request, an event)

    Everything a handler allocates (unpacked protobuf messages, reply
    strings, scratch) comes from the arena of its request and is freed in
    one go when the reply has been sent. Handlers never call free().
    =========================================================================
*/
#ifndef TS_ARENA_H
#define TS_ARENA_H

#include <stddef.h>
#include <stdarg.h>
#include <protobuf-c/protobuf-c.h>

typedef struct ts_arena ts_arena;

//  Create an arena. Chunks grow as needed; a single allocation may be as
//  large as the process can give (bounded by TS_ARENA_MAX_BYTES in total).
ts_arena *ts_arena_new (void);
void ts_arena_destroy (ts_arena **self_p);

//  Forget every allocation; the largest chunk of at most keep_bytes
//  (default 64 KiB) stays for reuse.
void ts_arena_reset (ts_arena *self);
//  How much a reset may keep: 16 KiB to 16 MiB. An arena reset after
//  every batch keeps its usual batch's memory instead of faulting it in
//  again; the bound is memory the process holds while idle.
void ts_arena_keep (ts_arena *self, size_t keep_bytes);

//  Zeroed memory, 16-byte aligned. Aborts the process on OOM (as malloc
//  failure in a daemon is not recoverable per request).
void *ts_arena_alloc (ts_arena *self, size_t size_bytes);
char *ts_arena_strdup (ts_arena *self, const char *s);
char *ts_arena_strndup (ts_arena *self, const char *s, size_t len);
char *ts_arena_printf (ts_arena *self, const char *fmt, ...)
    __attribute__ ((format (printf, 2, 3)));
void *ts_arena_memdup (ts_arena *self, const void *data, size_t size_bytes);

//  A protobuf-c allocator that draws from this arena (free is a no-op).
//  Use it for protobuf_c_message_unpack so unpacked messages die with the
//  arena.
ProtobufCAllocator *ts_arena_pb (ts_arena *self);

//  Total bytes handed out since the last reset.
size_t ts_arena_used (ts_arena *self);

#define TS_ARENA_MAX_BYTES ((size_t) 256 * 1024 * 1024)

#endif
