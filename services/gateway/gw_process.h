/*  =========================================================================
    gw_process - this process's resource use, read from /proc, for the
    standard Prometheus process_* metrics
    =========================================================================
*/
#ifndef GW_PROCESS_H
#define GW_PROCESS_H

#include <stdbool.h>
#include <stdint.h>

typedef struct {
    double cpu_seconds;             //  user + system
    uint64_t resident_bytes;
    uint64_t open_fds;
    double start_time_seconds;      //  since the Unix epoch
    uint64_t max_fds;               //  the soft limit
} gw_process_stats;

//  Fill st from /proc/self; false (st zeroed) where /proc cannot be read.
bool gw_process_read (gw_process_stats *st);

#endif
