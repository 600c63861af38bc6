/*  ts_keyfile - a service's secret key kept in a file beside its store
    (the residents' ID-number hash key, the merchants' code key)

    On first start a fresh random key is written once: exclusive create,
    mode 0600, fsynced with its directory entry, never replaced. Later
    starts load it and refuse a file of the wrong size or one that group
    or others may read. Backups copy it with the store (ts_daemon). */
#ifndef TS_KEYFILE_H
#define TS_KEYFILE_H

#include <stddef.h>
#include <stdint.h>

//  Load <dir>/<name> into key (size_bytes), creating it when absent.
//  Returns 0, or -1 with err filled.
int ts_keyfile_load (const char *dir, const char *name, uint8_t *key,
                     size_t size_bytes, char *err, size_t err_size);

#endif
