/*  =========================================================================
    ts_memory - a domain daemon's memory held to a budget

    Issue 16 asks all daemons together to stay under 64 MiB with the demo
    loaded, during and after the benches. Measured after the demo, the
    memory a daemon holds beyond its code was two things, both kept long
    after the work that needed them:
      - pages of its store's map (data.mdb, mapped shared read-only): the
        demo's writes and the benches' reads touch every page of the
        ledger's 22 MB store, and each fault maps up to 1 MiB around it;
      - free heap glibc keeps: a big batch's arena chunks and protobuf
        buffers, freed below live allocations, so never trimmed from the
        top (the ledger held 11.6 MB anonymous, 2.0 MB after malloc_trim).
    ts_memory_tick, on the loop thread between batches, drops the first
    down to 7/8 of store.map_resident_mib when it exceeds it
    (ts_store_map_trim, checked every 200 ms, a stretch at a time round
    the map) and returns the second to the kernel when more than
    2 MiB is free (malloc_trim, checked every 5 s). A tick's writes read
    cold rows through the map: the map is trimmed after each tick, and
    a long tick (the residents' audit fold) trims as it goes
    (ts_memory_step).
    =========================================================================
*/
#ifndef TS_MEMORY_H
#define TS_MEMORY_H

#include <stddef.h>
#include <stdint.h>

#include "ts_config.h"
#include "ts_store.h"

//  At start: the map budget from the config (store.map_resident_mib), and
//  malloc's arenas to two: the main thread's, and one that every other
//  thread shares (ZeroMQ's I/O thread, the pool threads of ts_ticker and
//  sys.Backup); M_ARENA_MAX 1 would make the I/O thread share the main
//  thread's lock.
void ts_memory_setup (const ts_config *cfg);

//  Call often (every 100 ms) on the loop thread between batches, with a
//  monotonic now_ms (uv_now): every TS_MEMORY_CHECK_MS at most, trims the
//  store's map to the budget; every 5 s, the free heap. Cheap when
//  nothing is over: /proc/self/maps and a pagemap read of the map's used
//  part (none for a store smaller than the budget), and a mallinfo2.
void ts_memory_tick (ts_store *store, uint64_t now_ms);

//  After the service's tick has committed, on the loop thread: trims the
//  map now, without waiting for the next check. A tick reads the rows it
//  rewrites through the map (the audit fold: a hundred faults of 64 KiB
//  around scattered rows every 100 ms), pages no read wants afterwards;
//  left to the 200 ms check they held the residents' map at twice its
//  budget under household reads.
void ts_memory_after_tick (ts_store *store);

//  From a long loop inside a tick (the audit fold: every 64 records), on
//  whatever thread runs it: trims the map once this thread has taken
//  page faults worth an eighth of the budget since its last trim here
//  (each maps 64 KiB around its page), so the map stays near its budget
//  while the tick runs, not only after it. A getrusage when under that.
void ts_memory_step (ts_store *store);

#define TS_MEMORY_CHECK_MS 200

#endif
