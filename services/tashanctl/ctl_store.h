/*  =========================================================================
    ctl_store - what tashanctl knows about a store on disk: its files, and
    what its LMDB holds (schema version, outbox generation and head,
    consumer positions), read without the daemon; and the backup manifest
    that records all of it (MANIFEST, written last)

    Manifest (text, one record a line, DIR/MANIFEST, mode 0600):
        tashan-backup 1
        created_at 2026-12-04T17:00:00.000+08:00
        store NAME schema_version=N generation=HEX16 outbox_head=N
        position CONSUMER PRODUCER applied=N head=N generation=HEX16
        file NAME FILE size_bytes=N sha256=HEX64     (every file of a store)
        complete yes | complete no REASON            (the last line)
    =========================================================================
*/
#ifndef CTL_STORE_H
#define CTL_STORE_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "ctl.h"

#define CTL_STORES_MAX (TS_SERVICE_COUNT + 1)   //  the daemons and the gateway
#define CTL_POSITIONS_MAX 8
#define CTL_FILES_MAX 8
#define CTL_NAME_MAX 64

typedef struct {
    char producer [CTL_NAME_MAX];   //  the producer this position is on
    uint64_t applied_seq;           //  last event applied
    uint64_t head_seq;              //  producer head last seen
    uint64_t generation;            //  producer generation (0 unknown)
} ctl_position;

typedef struct {
    char name [CTL_NAME_MAX];       //  file name in the store's dir
    uint64_t size_bytes;
    char sha256 [65];               //  hex
} ctl_file;

typedef struct {
    char name [CTL_NAME_MAX];       //  "ledger", ..., "gateway"
    uint32_t schema_version;        //  meta schema_version (0: none)
    uint64_t generation;            //  meta generation (0: none)
    uint64_t outbox_head;           //  last outbox seq (0: empty or none)
    ctl_position positions [CTL_POSITIONS_MAX];
    size_t position_count;
    ctl_file files [CTL_FILES_MAX]; //  data.mdb first
    size_t file_count;
} ctl_store_info;

typedef struct {
    ctl_store_info stores [CTL_STORES_MAX];
    size_t store_count;
    bool complete;                  //  "complete yes" was the last line
    char reason [256];              //  why not complete
} ctl_manifest;

//  The store names, the domain daemons' then "gateway" (CTL_STORES_MAX).
const char *ctl_store_name (size_t index);

//  Look at the store in dir (data.mdb and its key files) without a
//  daemon: list and hash its files, check that data.mdb holds every page
//  its meta page names (a truncated file is refused before any page is
//  read: LMDB would SIGBUS), then open it read-only and read meta,
//  outbox and inbox. Returns 0, or -1 with err filled.
int ctl_store_inspect (const char *dir, const char *name, ctl_store_info *info,
                       char *err, size_t err_size);

//  SHA-256 of a file as hex, and its size. Returns 0 or -1 (errno).
int ctl_file_sha256 (const char *path, char hex [65], uint64_t *size_bytes);

//  Copy a file to a new file of mode 0600, fsynced. label: show progress
//  on stdout ("label 45%") as it goes (NULL: quiet). Returns 0 or -1.
int ctl_copy_file (const char *from, const char *to, const char *label);

//  Write DIR/MANIFEST (a temp file, fsync, rename: never half a manifest).
int ctl_manifest_write (const char *dir, const ctl_manifest *manifest);
//  Read DIR/MANIFEST. Returns 0, or -1 with err filled (missing, not ours,
//  unreadable line). An incomplete manifest reads fine: check ->complete.
int ctl_manifest_read (const char *dir, ctl_manifest *manifest, char *err,
                       size_t err_size);
const ctl_store_info *ctl_manifest_store (const ctl_manifest *manifest, const char *name);

#endif
