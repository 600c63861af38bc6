/*  =========================================================================
    ts_memory - a domain daemon's memory held to a budget. See ts_memory.h.
    =========================================================================
*/
#include "ts_memory.h"

#include <assert.h>
#include <malloc.h>
#include <stdatomic.h>
#include <stdint.h>
#include <sys/resource.h>

#include "ts_log.h"

//  Free heap above this is handed back (malloc_trim): below it, a trim
//  would only make the next batches fault the same pages in again.
#define HEAP_FREE_MAX_BYTES ((size_t) 2 * 1024 * 1024)
//  And not more often: under load the batches' arenas free and reuse
//  megabytes all the time (more than 2 MiB free at every check), and a
//  trim every 200 ms cost the ledger 2 page faults and +50 % CPU per
//  durable evaluation. Every 5 s it is a few faults a second; an idle
//  daemon has given its heap back 5 s after its last batch.
#define HEAP_TRIM_INTERVAL_MS 5000

static size_t s_map_budget_bytes = (size_t) TS_CONFIG_MAP_RESIDENT_MIB * 1024 * 1024;
static uint64_t s_next_check_ms;    //  loop time (ms) of the next map check
static uint64_t s_next_heap_ms;     //  loop time (ms) of the next heap check
//  The map trims' clock hand (a page): the loop's trims and a tick's
//  (ts_memory_step, on its worker) may both move it.
static atomic_size_t s_map_hand;
//  What one page fault maps: the fault's page and its neighbours already
//  in the page cache (fault-around, 64 KiB on this kernel).
#define FAULT_MAPS_BYTES ((size_t) 64 * 1024)
//  The faults this thread had taken at its last trim from ts_memory_step,
//  -1 before its first call.
static _Thread_local long s_faults_at_step = -1;

//  malloc arenas: the loop's, and one for every other thread (ZeroMQ's I/O
//  thread, the ticker's and backup's pool threads). glibc gives each new
//  thread an arena of its own, up to 8 per core: a tick that ran on each
//  of the four pool threads in turn left ~0.6 MiB of free heap in each of
//  four arenas (the residents' and the ledger's folds). Those threads
//  seldom allocate at once, so sharing one arena costs no waiting.
#define HEAP_ARENAS_MAX 2

void
ts_memory_setup (const ts_config *cfg)
{
    assert (cfg);
    s_map_budget_bytes = (size_t) cfg->store_map_resident_mib * 1024 * 1024;
    if (mallopt (M_ARENA_MAX, HEAP_ARENAS_MAX) != 1)
        ts_log_warn ("heap_arenas", "reason=\"mallopt refused M_ARENA_MAX\"");
}

//  Hand free heap back to the kernel when there is much of it.
static void
s_heap_trim (uint64_t now_ms)
{
    if (now_ms < s_next_heap_ms)
        return;
    s_next_heap_ms = now_ms + HEAP_TRIM_INTERVAL_MS;
    struct mallinfo2 info = mallinfo2 ();
    if (info.fordblks <= HEAP_FREE_MAX_BYTES)
        return;
    malloc_trim (0);
    ts_log_debug ("heap_trim", "free_bytes=%zu", info.fordblks);
}

static void
s_map_trim (ts_store *store)
{
    if (s_map_budget_bytes == 0)
        return;
    size_t hand = atomic_load_explicit (&s_map_hand, memory_order_relaxed);
    size_t dropped = ts_store_map_trim (store, s_map_budget_bytes, &hand);
    atomic_store_explicit (&s_map_hand, hand, memory_order_relaxed);
    if (dropped)
        ts_log_debug ("map_trim", "resident_bytes=%zu budget_bytes=%zu", dropped,
                      s_map_budget_bytes);
}

void
ts_memory_tick (ts_store *store, uint64_t now_ms)
{
    assert (store);
    if (now_ms < s_next_check_ms)
        return;
    s_next_check_ms = now_ms + TS_MEMORY_CHECK_MS;
    s_map_trim (store);
    s_heap_trim (now_ms);
}

void
ts_memory_after_tick (ts_store *store)
{
    assert (store);
    s_map_trim (store);
}

void
ts_memory_step (ts_store *store)
{
    assert (store);
    if (s_map_budget_bytes == 0)
        return;
    struct rusage usage;
    if (getrusage (RUSAGE_THREAD, &usage) != 0)
        return;
    long faults = usage.ru_minflt;
    if (s_faults_at_step < 0 || faults < s_faults_at_step) {
        s_faults_at_step = faults;
        return;
    }
    if ((size_t) (faults - s_faults_at_step) * FAULT_MAPS_BYTES < s_map_budget_bytes / 8)
        return;
    s_faults_at_step = faults;
    s_map_trim (store);
}
