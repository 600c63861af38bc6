/*  =========================================================================
    ts_store - LMDB environment, named tables, sticky-error transactions.
    See ts_store.h.

    Data layout owned by this file: the "meta" table.
        "schema_version"   -> u32 BE  version the data was written with
        "seq:<name>"       -> u64 BE  last id handed out by ts_txn_next_id
        "generation"       -> u64 BE  random, made when the store is
                                      created (or first opened by a build
                                      that knows it): the outbox's
                                      generation, so a consumer can tell a
                                      recreated producer from the one its
                                      position is in
    =========================================================================
*/
#include "ts_store.h"

#include <assert.h>
#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "ts_config.h"
#include "ts_status.h"

#define STORE_MAGIC 0x53544f52u
#define TXN_MAGIC 0x54584e21u
#define TABLES_MAX 48
#define MAP_SIZE_INITIAL ((size_t) 64 * 1024 * 1024)
#define MAP_SIZE_MAX ((size_t) 1 << 40)
#define PAGEMAP_ENTRIES 2048        //  pagemap entries read per pread (16 KiB)
#define PAGEMAP_PRESENT ((uint64_t) 1 << 63)
#define MAP_META_PAGES 2            //  LMDB's meta pages, first in the file
#define TRIM_SLACK_PARTS 8          //  a map trim leaves budget - budget/8 mapped

typedef struct {
    char name [33];                 //  table name
    MDB_dbi dbi;                    //  its handle
    bool not_data;                  //  TS_TABLE_NOT_DATA: holds_data skips it
} table_entry;

struct ts_store {
    uint32_t magic;                 //  STORE_MAGIC
    MDB_env *env;                   //  the environment
    MDB_dbi meta;                   //  schema version and sequences
    table_entry tables [TABLES_MAX];//  tables opened at start
    size_t table_count;
    MDB_txn *read_txn;              //  reusable read txn (reset when idle)
    atomic_bool read_busy;          //  read_txn is handed out now (a trim
                                    //  on a tick's thread reads it)
    //  These two are atomic: a service's tick may write from a worker
    //  thread (ts_ticker) while the loop reads them.
    atomic_int open_writes;         //  top-level write txns open (0 or 1)
    atomic_int full_errno;          //  ENOSPC/EDQUOT of the last write, else 0
    uint64_t generation;            //  meta "generation", never 0
};

struct ts_txn {
    uint32_t magic;                 //  TXN_MAGIC
    ts_store *store;                //  owning store
    MDB_txn *mdb;                   //  LMDB handle
    ts_txn *parent;                 //  NULL for a top-level txn
    int err;                        //  sticky error, 0 when fine
    bool write;                     //  write transaction?
    bool reused_read;               //  the store's reusable read txn?
};

static size_t s_initial_map_bytes = MAP_SIZE_INITIAL;

void
ts_store_set_initial_map_size (size_t size_bytes)
{
    assert (size_bytes >= 64 * 1024);
    s_initial_map_bytes = size_bytes;
}

//  --------------------------------------------------------------------
//  Open the environment, every table, and check the schema version.

//  Create the LMDB environment and open it on dir. Returns 0 or an LMDB
//  error (self->env may be set then: the caller closes it).
static int
s_env_open (ts_store *self, const char *dir)
{
    int rc = mdb_env_create (&self->env);
    if (rc == 0)
        rc = mdb_env_set_maxdbs (self->env, TABLES_MAX + 1);
    if (rc == 0)
        rc = mdb_env_set_mapsize (self->env, s_initial_map_bytes);
    if (rc == 0)
        rc = mdb_env_set_maxreaders (self->env, 126);
    //  MDB_NOTLS: read txns are tied to the txn object, not the thread, so
    //  backups can run on a worker thread beside the loop's reads.
    if (rc == 0)
        rc = mdb_env_open (self->env, dir, MDB_NOTLS, 0600);
    return rc;
}

//  s_schema_check's answer for a store of another schema version: not an
//  LMDB error code (those are errno values or MDB_* below -30000).
#define SCHEMA_MISMATCH (-1)

//  Check the schema version in meta, or write it into a new store.
//  Returns 0, an LMDB error, or SCHEMA_MISMATCH with err filled when the
//  stored version is not ours.
//  A store of a version from migrates_from up is taken and marked with
//  schema_version: the service's open() migrates what it finds (it must
//  do so whatever the stored version says, as the mark is written first).
static int
s_schema_check (ts_store *self, MDB_txn *txn, const char *dir, uint32_t schema_version,
                uint32_t migrates_from, char *err, size_t err_size)
{
    assert (migrates_from <= schema_version);
    MDB_val key = { 14, "schema_version" }, val;
    int got = mdb_get (txn, self->meta, &key, &val);
    uint32_t stored = got == 0 && val.mv_size == 4 ? ts_be32_get (val.mv_data) : 0;
    if (got == MDB_NOTFOUND
    ||  (got == 0 && stored < schema_version && stored >= migrates_from && stored > 0)) {
        uint8_t buf [4];
        ts_be32_put (buf, schema_version);
        MDB_val nv = { 4, buf };
        return mdb_put (txn, self->meta, &key, &nv, 0);
    }
    if (got != 0)
        return got;
    if (stored != schema_version) {
        snprintf (err, err_size,
                  "store %s has schema version %u, this build needs %u "
                  "(restore a matching backup or migrate)", dir, stored, schema_version);
        return SCHEMA_MISMATCH;
    }
    return 0;
}

//  Read the store's generation, or make one (a fresh store, or one
//  written before generations existed). Returns 0 or an LMDB error.
static int
s_generation_load (ts_store *self, MDB_txn *txn)
{
    MDB_val key = { 10, "generation" }, val;
    int rc = mdb_get (txn, self->meta, &key, &val);
    if (rc == 0 && val.mv_size == 8) {
        self->generation = ts_be64_get (val.mv_data);
        return self->generation ? 0 : MDB_CORRUPTED;
    }
    if (rc != 0 && rc != MDB_NOTFOUND)
        return rc;
    uint64_t generation = 0;
    for (int tries = 0; generation == 0 && tries < 8; tries++)
        if (getrandom (&generation, sizeof generation, 0) != sizeof generation)
            generation = 0;
    if (generation == 0)
        return EIO;
    uint8_t buf [8];
    ts_be64_put (buf, generation);
    MDB_val nv = { 8, buf };
    self->generation = generation;
    return mdb_put (txn, self->meta, &key, &nv, 0);
}

//  Open meta and every table in one write transaction, and check the
//  schema version. Returns 0, or -1 with err filled.
static int
s_tables_open (ts_store *self, const char *dir, const ts_table_def *tables,
               size_t table_count, uint32_t schema_version, uint32_t migrates_from,
               char *err, size_t err_size)
{
    //  A file bigger than our initial map keeps its own size (LMDB reads it
    //  from the meta page), so nothing to do for reopened stores.
    MDB_txn *txn;
    int rc = mdb_txn_begin (self->env, NULL, 0, &txn);
    if (rc == 0)
        rc = mdb_dbi_open (txn, "meta", MDB_CREATE, &self->meta);
    for (size_t i = 0; rc == 0 && i < table_count; i++) {
        assert (strlen (tables [i].name) <= 32);
        assert (strcmp (tables [i].name, "meta") != 0);
        snprintf (self->tables [i].name, sizeof self->tables [i].name, "%s", tables [i].name);
        self->tables [i].not_data = (tables [i].flags & TS_TABLE_NOT_DATA) != 0;
        rc = mdb_dbi_open (txn, tables [i].name,
                           MDB_CREATE | (tables [i].flags & ~TS_TABLE_NOT_DATA),
                           &self->tables [i].dbi);
        self->table_count = i + 1;
    }
    if (rc == 0)
        rc = s_schema_check (self, txn, dir, schema_version, migrates_from, err, err_size);
    if (rc == 0)
        rc = s_generation_load (self, txn);
    if (rc == SCHEMA_MISMATCH) {
        mdb_txn_abort (txn);
        return -1;
    }
    if (rc == 0)
        rc = mdb_txn_commit (txn);
    else
        mdb_txn_abort (txn);
    if (rc != 0) {
        snprintf (err, err_size, "cannot open tables in %s: %s", dir, mdb_strerror (rc));
        return -1;
    }
    return 0;
}

ts_store *
ts_store_new (const char *dir, const ts_table_def *tables, size_t table_count,
              uint32_t schema_version, char *err, size_t err_size)
{
    return ts_store_new_migrating (dir, tables, table_count, schema_version, schema_version,
                                   err, err_size);
}

ts_store *
ts_store_new_migrating (const char *dir, const ts_table_def *tables, size_t table_count,
                        uint32_t schema_version, uint32_t migrates_from, char *err,
                        size_t err_size)
{
    assert (dir);
    assert (table_count < TABLES_MAX);
    if (ts_mkdir_p (dir) != 0) {
        snprintf (err, err_size, "cannot create %s: %s", dir, strerror (errno));
        return NULL;
    }
    ts_store *self = calloc (1, sizeof (ts_store));
    assert (self);
    self->magic = STORE_MAGIC;
    int rc = s_env_open (self, dir);
    if (rc != 0) {
        snprintf (err, err_size, "cannot open LMDB in %s: %s", dir, mdb_strerror (rc));
        if (self->env)
            mdb_env_close (self->env);
        free (self);
        return NULL;
    }
    if (s_tables_open (self, dir, tables, table_count, schema_version, migrates_from, err,
                       err_size) != 0) {
        mdb_env_close (self->env);
        free (self);
        return NULL;
    }
    return self;
}

//  --------------------------------------------------------------------
//  Close the environment. Safe to call twice.

void
ts_store_destroy (ts_store **self_p)
{
    assert (self_p);
    ts_store *self = *self_p;
    if (!self)
        return;
    assert (self->magic == STORE_MAGIC);
    assert (!self->read_busy);
    assert (self->open_writes == 0);
    if (self->read_txn)
        mdb_txn_abort (self->read_txn);
    mdb_env_close (self->env);
    self->magic = 0;
    free (self);
    *self_p = NULL;
}

ts_table
ts_store_table (ts_store *self, const char *name)
{
    assert (self && self->magic == STORE_MAGIC);
    for (size_t i = 0; i < self->table_count; i++)
        if (strcmp (self->tables [i].name, name) == 0)
            return self->tables [i].dbi;
    fprintf (stderr, "ts_store: no table '%s' was declared\n", name);
    abort ();
}

//  --------------------------------------------------------------------
//  Double the map. LMDB requires that no transaction is active in this
//  process, so the idle read handle is dropped too.

int
ts_store_grow (ts_store *self)
{
    assert (self && self->magic == STORE_MAGIC);
    assert (!self->read_busy && self->open_writes == 0);
    if (self->read_txn) {
        mdb_txn_abort (self->read_txn);
        self->read_txn = NULL;
    }
    MDB_envinfo info;
    mdb_env_info (self->env, &info);
    size_t size = info.me_mapsize * 2;
    if (size > MAP_SIZE_MAX)
        return MDB_MAP_FULL;
    return mdb_env_set_mapsize (self->env, size);
}

size_t
ts_store_map_size (ts_store *self)
{
    MDB_envinfo info;
    mdb_env_info (self->env, &info);
    return info.me_mapsize;
}

bool
ts_store_holds_data (ts_store *self)
{
    assert (self && self->magic == STORE_MAGIC);
    ts_txn *txn = ts_txn_begin (self, false);
    bool holds = false;
    for (size_t i = 0; i < self->table_count && !holds; i++) {
        MDB_stat stat;
        if (self->tables [i].not_data)
            continue;
        //  A table that cannot be read counts as holding data: the safe
        //  answer for a caller that would otherwise seed it.
        holds = mdb_stat (ts_txn_mdb (txn), self->tables [i].dbi, &stat) != 0
             || stat.ms_entries > 0;
    }
    ts_txn_abort (&txn);
    return holds;
}

size_t
ts_store_used_bytes (ts_store *self)
{
    assert (self && self->magic == STORE_MAGIC);
    MDB_envinfo info;
    MDB_stat stat;
    mdb_env_info (self->env, &info);
    mdb_env_stat (self->env, &stat);
    return (size_t) (info.me_last_pgno + 1) * stat.ms_psize;
}

//  Where LMDB mapped data.mdb: mdb_env_info gives the address only for
//  MDB_FIXEDMAP, so it is looked up in /proc/self/maps by the file's
//  device and inode. NULL when not found.
static uint8_t *
s_map_find (ts_store *self)
{
    int fd;
    struct stat st;
    if (mdb_env_get_fd (self->env, &fd) != 0 || fstat (fd, &st) != 0)
        return NULL;
    FILE *maps = fopen ("/proc/self/maps", "re");
    if (!maps)
        return NULL;
    char line [512];
    uint8_t *addr = NULL;
    bool line_start = true;         //  line holds the start of a line
    //  Bounded by the process's mappings (the kernel's limit).
    while (!addr && fgets (line, sizeof line, maps)) {
        unsigned long start, offset, inode;
        unsigned dev_major, dev_minor;
        //  The mapping of the file from its first byte (LMDB maps it once,
        //  whole); the rest of a long line (a long path) is no mapping.
        if (line_start
        &&  sscanf (line, "%lx-%*x %*s %lx %x:%x %lu", &start, &offset, &dev_major,
                    &dev_minor, &inode) == 5
        &&  offset == 0 && inode == (unsigned long) st.st_ino
        &&  dev_major == major (st.st_dev) && dev_minor == minor (st.st_dev))
            addr = (uint8_t *) start;
        line_start = strchr (line, '\n') != NULL;
    }
    fclose (maps);
    return addr;
}

//  The used part of the map: its address and length in whole OS pages
//  (0 when the map was not found). Looked up every time, not kept: LMDB
//  maps the file anew when the map grows (here, or when a write txn
//  finds that another process grew it), and a stale address given to
//  madvise would drop someone else's memory.
static size_t
s_map_used (ts_store *self, uint8_t **addr_p, size_t page_bytes)
{
    *addr_p = s_map_find (self);
    if (!*addr_p)
        return 0;
    assert (((uintptr_t) *addr_p % page_bytes) == 0);
    size_t used = ts_store_used_bytes (self);
    size_t map_bytes = ts_store_map_size (self);
    if (used > map_bytes)
        used = map_bytes;
    return (used + page_bytes - 1) / page_bytes * page_bytes;
}

//  How many pages of the map's pages [from, to) are mapped, read from
//  pagemap (fd), stopping at the one that makes stop_after: *end_p is the
//  page after the last one looked at. SIZE_MAX when pagemap cannot be read.
static size_t
s_mapped_in (int fd, const uint8_t *addr, size_t page_bytes, size_t from, size_t to,
             size_t stop_after, size_t *end_p)
{
    assert (from <= to && stop_after > 0);
    uint64_t entries [PAGEMAP_ENTRIES];
    off_t first = (off_t) ((uintptr_t) addr / page_bytes * sizeof (uint64_t));
    size_t mapped = 0, done = from;
    //  Bounded: each pass reads at least one entry of the pages left.
    while (done < to && mapped < stop_after) {
        size_t want = to - done < PAGEMAP_ENTRIES ? to - done : PAGEMAP_ENTRIES;
        ssize_t got = pread (fd, entries, want * sizeof (uint64_t),
                             first + (off_t) (done * sizeof (uint64_t)));
        if (got < (ssize_t) sizeof (uint64_t))
            return SIZE_MAX;
        size_t count = (size_t) got / sizeof (uint64_t), i = 0;
        for (; i < count && mapped < stop_after; i++)
            mapped += (entries [i] & PAGEMAP_PRESENT) != 0;
        done += i;
    }
    *end_p = done;
    assert (mapped <= to - from && done <= to);
    return mapped;
}

size_t
ts_store_map_resident_bytes (ts_store *self)
{
    assert (self && self->magic == STORE_MAGIC);
    size_t page_bytes = (size_t) sysconf (_SC_PAGESIZE);
    uint8_t *addr;
    size_t used = s_map_used (self, &addr, page_bytes);
    int fd = addr ? open ("/proc/self/pagemap", O_RDONLY | O_CLOEXEC) : -1;
    if (fd < 0)
        return ts_store_used_bytes (self);   //  unknown: the most it can be
    size_t end, pages = used / page_bytes;
    size_t resident = s_mapped_in (fd, addr, page_bytes, 0, pages, SIZE_MAX, &end);
    close (fd);
    //  Unreadable: assume the most.
    return (resident == SIZE_MAX ? pages : resident) * page_bytes;
}

int
ts_store_map_drop (ts_store *self)
{
    assert (self && self->magic == STORE_MAGIC);
    //  Not needed for safety (a shared file mapping refaults the same
    //  bytes), but a cursor walking the map would refault at once.
    if (self->read_busy || self->open_writes > 0)
        return EBUSY;
    size_t page_bytes = (size_t) sysconf (_SC_PAGESIZE);
    uint8_t *addr;
    size_t used = s_map_used (self, &addr, page_bytes);
    if (!addr)
        return ENOENT;
    if (used == 0)
        return 0;
    return madvise (addr, used, MADV_DONTNEED) == 0 ? 0 : errno;
}

//  Unmap the map's pages [from, to). 0 or madvise's errno.
static int
s_map_unmap (uint8_t *addr, size_t page_bytes, size_t from, size_t to)
{
    assert (from <= to);
    if (from == to)
        return 0;
    return madvise (addr + from * page_bytes, (to - from) * page_bytes, MADV_DONTNEED) == 0
         ? 0 : errno;
}

size_t
ts_store_map_trim (ts_store *self, size_t budget_bytes, size_t *hand_p)
{
    assert (self && self->magic == STORE_MAGIC);
    assert (hand_p);
    //  A store smaller than the budget cannot exceed it: no pagemap read.
    if (ts_store_used_bytes (self) <= budget_bytes)
        return 0;
    //  Only the loop's own read is waited for (a cursor of it would
    //  refault at once). A write open on the ticker's thread does not stop
    //  a trim: the shared file mapping refaults the same bytes, the map
    //  does not move while it is open (only the loop grows it, after the
    //  tick), and its pages come from pwrite, not from the map. Skipping
    //  then let a store with a tick always in flight (the residents'
    //  audit fold under reads) keep twice its budget mapped.
    if (self->read_busy)
        return 0;
    size_t page_bytes = (size_t) sysconf (_SC_PAGESIZE);
    uint8_t *addr;
    size_t pages = s_map_used (self, &addr, page_bytes) / page_bytes;
    int fd = addr ? open ("/proc/self/pagemap", O_RDONLY | O_CLOEXEC) : -1;
    if (fd < 0)
        return 0;
    size_t end, budget_pages = budget_bytes / page_bytes;
    size_t mapped = s_mapped_in (fd, addr, page_bytes, 0, pages, SIZE_MAX, &end);
    if (mapped == SIZE_MAX || mapped <= budget_pages) {
        close (fd);
        return 0;
    }
    //  Down to 7/8 of the budget, not to nothing: every dropped page that
    //  the load reads again costs a fault (and a fault maps the page's
    //  whole folio, 64 KiB to 2 MiB, so a load over the whole store maps
    //  it all again within one check): the fewer dropped, the fewer
    //  faults. The pages go in one stretch from the clock hand on (two
    //  when it wraps), as each madvise costs a TLB shootdown on every
    //  CPU (an IPI each: 100 madvise calls a trim took 14 % of the
    //  ledger's CPU), and round the clock no page is always the one
    //  dropped.
    size_t need = mapped - (budget_pages - budget_pages / TRIM_SLACK_PARTS);
    //  LMDB's two meta pages are left out: every transaction reads one.
    size_t hand = *hand_p >= MAP_META_PAGES && *hand_p < pages ? *hand_p : MAP_META_PAGES;
    size_t got = s_mapped_in (fd, addr, page_bytes, hand, pages, need, &end);
    int rc = got == SIZE_MAX ? EIO : s_map_unmap (addr, page_bytes, hand, end);
    if (rc == 0 && got < need) {
        got = s_mapped_in (fd, addr, page_bytes, MAP_META_PAGES, hand, need - got, &end);
        rc = got == SIZE_MAX ? EIO : s_map_unmap (addr, page_bytes, MAP_META_PAGES, end);
    }
    close (fd);
    *hand_p = end;
    return rc == 0 ? mapped * page_bytes : 0;
}

int
ts_store_full (ts_store *self)
{
    assert (self && self->magic == STORE_MAGIC);
    return self->full_errno;
}

//  Out of disk space is the operator's to fix, not a bug: it gets its own
//  status so clients know the write was not applied and may retry later.
static bool
s_is_full (int rc)
{
    return rc == ENOSPC || rc == EDQUOT;
}

unsigned
ts_store_error_status (int rc, const char **message)
{
    assert (rc != 0 && message);
    if (s_is_full (rc)) {
        *message = "the disk is full: the write was not applied (reads still work)";
        return TS_INSUFFICIENT_STORAGE;
    }
    *message = "storage error";
    return TS_INTERNAL;
}

uint64_t
ts_store_generation (ts_store *self)
{
    assert (self && self->magic == STORE_MAGIC);
    assert (self->generation != 0);
    return self->generation;
}

MDB_env *
ts_store_env (ts_store *self)
{
    assert (self && self->magic == STORE_MAGIC);
    return self->env;
}

int
ts_store_copy (ts_store *self, const char *dir)
{
    assert (self && self->magic == STORE_MAGIC);
    return mdb_env_copy2 (self->env, dir, MDB_CP_COMPACT);
}

//  --------------------------------------------------------------------
//  Transactions

ts_txn *
ts_txn_begin (ts_store *store, bool write)
{
    assert (store && store->magic == STORE_MAGIC);
    ts_txn *self = calloc (1, sizeof (ts_txn));
    assert (self);
    self->magic = TXN_MAGIC;
    self->store = store;
    self->write = write;
    int rc;
    if (write) {
        assert (store->open_writes == 0);
        rc = mdb_txn_begin (store->env, NULL, 0, &self->mdb);
        if (rc == 0)
            store->open_writes++;
    }
    else
    if (!store->read_busy) {
        //  Reuse the idle read handle: renew is much cheaper than begin.
        if (store->read_txn)
            rc = mdb_txn_renew (store->read_txn);
        else
            rc = mdb_txn_begin (store->env, NULL, MDB_RDONLY, &store->read_txn);
        if (rc == 0) {
            self->mdb = store->read_txn;
            self->reused_read = true;
            store->read_busy = true;
        }
    }
    else
        rc = mdb_txn_begin (store->env, NULL, MDB_RDONLY, &self->mdb);
    if (rc != 0) {
        //  Hand back a txn in error state: callers check once, at the end.
        self->mdb = NULL;
        self->err = rc;
    }
    return self;
}

ts_txn *
ts_txn_begin_nested (ts_txn *parent)
{
    assert (parent && parent->magic == TXN_MAGIC);
    assert (parent->write);
    ts_txn *self = calloc (1, sizeof (ts_txn));
    assert (self);
    self->magic = TXN_MAGIC;
    self->store = parent->store;
    self->parent = parent;
    self->write = true;
    if (parent->err)
        self->err = parent->err;
    else {
        int rc = mdb_txn_begin (parent->store->env, parent->mdb, 0, &self->mdb);
        if (rc != 0) {
            self->mdb = NULL;
            self->err = rc;
        }
    }
    return self;
}

static void
s_txn_release (ts_txn *self, bool commit, int *rc_out)
{
    ts_store *store = self->store;
    int rc = self->err;
    bool wrote = false;
    if (self->reused_read) {
        mdb_txn_reset (self->mdb);
        store->read_busy = false;
    }
    else
    if (self->mdb) {
        //  A commit wrote when the environment's last txn id is its own
        //  after it (LMDB commits a transaction that changed nothing
        //  without writing: a tick with nothing to do).
        size_t txn_id = self->write && !self->parent ? mdb_txn_id (self->mdb) : 0;
        if (commit && rc == 0)
            rc = mdb_txn_commit (self->mdb);
        else
            mdb_txn_abort (self->mdb);
        if (commit && rc == 0 && txn_id) {
            MDB_envinfo info;
            wrote = mdb_env_info (store->env, &info) == 0 && info.me_last_txnid == txn_id;
        }
        //  A failed child poisons its parent for MAP_FULL: the parent's
        //  pages may be inconsistent, so it must abort too.
        if (self->parent && rc == MDB_MAP_FULL)
            self->parent->err = rc;
    }
    if (self->write && !self->parent && self->mdb) {
        store->open_writes--;
        //  Degraded from a write that found no space until one commits
        //  something (an empty commit proves nothing about the disk).
        if (commit && s_is_full (rc))
            store->full_errno = rc;
        else
        if (wrote)
            store->full_errno = 0;
    }
    if (rc_out)
        *rc_out = rc;
    self->magic = 0;
    free (self);
}

int
ts_txn_commit (ts_txn **self_p)
{
    assert (self_p && *self_p && (*self_p)->magic == TXN_MAGIC);
    int rc;
    s_txn_release (*self_p, true, &rc);
    *self_p = NULL;
    return rc;
}

void
ts_txn_abort (ts_txn **self_p)
{
    assert (self_p);
    if (!*self_p)
        return;
    assert ((*self_p)->magic == TXN_MAGIC);
    s_txn_release (*self_p, false, NULL);
    *self_p = NULL;
}

int
ts_txn_error (ts_txn *self)
{
    assert (self && self->magic == TXN_MAGIC);
    return self->err;
}

void
ts_txn_fail (ts_txn *self, int err)
{
    assert (self && self->magic == TXN_MAGIC);
    assert (err != 0);
    if (!self->err)
        self->err = err;
}

bool
ts_txn_writable (ts_txn *self)
{
    return self->write;
}

MDB_txn *
ts_txn_mdb (ts_txn *self)
{
    assert (self && self->magic == TXN_MAGIC);
    return self->mdb;
}

ts_store *
ts_txn_store (ts_txn *self)
{
    assert (self && self->magic == TXN_MAGIC);
    return self->store;
}

//  --------------------------------------------------------------------
//  Reads and writes

bool
ts_txn_get (ts_txn *self, ts_table table, const void *key, size_t key_size,
            ts_val *value)
{
    assert (self && self->magic == TXN_MAGIC);
    if (self->err)
        return false;
    MDB_val k = { key_size, (void *) key }, v;
    int rc = mdb_get (self->mdb, table, &k, &v);
    if (rc == MDB_NOTFOUND)
        return false;
    if (rc != 0) {
        self->err = rc;
        return false;
    }
    if (value) {
        value->data = v.mv_data;
        value->size = v.mv_size;
    }
    return true;
}

void
ts_txn_put (ts_txn *self, ts_table table, const void *key, size_t key_size,
            const void *value, size_t value_size)
{
    assert (self && self->magic == TXN_MAGIC);
    assert (self->write);
    if (self->err)
        return;
    MDB_val k = { key_size, (void *) key }, v = { value_size, (void *) value };
    int rc = mdb_put (self->mdb, table, &k, &v, 0);
    if (rc != 0)
        self->err = rc;
}

bool
ts_txn_insert (ts_txn *self, ts_table table, const void *key, size_t key_size,
               const void *value, size_t value_size)
{
    assert (self && self->magic == TXN_MAGIC);
    assert (self->write);
    if (self->err)
        return false;
    MDB_val k = { key_size, (void *) key }, v = { value_size, (void *) value };
    int rc = mdb_put (self->mdb, table, &k, &v, MDB_NOOVERWRITE);
    if (rc == MDB_KEYEXIST)
        return false;
    if (rc != 0) {
        self->err = rc;
        return false;
    }
    return true;
}

bool
ts_txn_del (ts_txn *self, ts_table table, const void *key, size_t key_size)
{
    assert (self && self->magic == TXN_MAGIC);
    assert (self->write);
    if (self->err)
        return false;
    MDB_val k = { key_size, (void *) key };
    int rc = mdb_del (self->mdb, table, &k, NULL);
    if (rc == MDB_NOTFOUND)
        return false;
    if (rc != 0) {
        self->err = rc;
        return false;
    }
    return true;
}

void
ts_txn_append (ts_txn *self, ts_table table, const void *key, size_t key_size,
               const void *value, size_t value_size)
{
    assert (self && self->magic == TXN_MAGIC);
    assert (self->write);
    if (self->err)
        return;
    MDB_val k = { key_size, (void *) key }, v = { value_size, (void *) value };
    int rc = mdb_put (self->mdb, table, &k, &v, MDB_APPEND);
    if (rc != 0)
        self->err = rc;
}

//  Pack a message straight into the map (MDB_RESERVE: no intermediate
//  buffer; not allowed on DUPSORT tables, and messages never live in
//  those), with extra put flags (MDB_APPEND for append-only tables).
static void
s_put_msg (ts_txn *self, ts_table table, const void *key, size_t key_size,
           const ProtobufCMessage *msg, unsigned flags)
{
    assert (self && self->magic == TXN_MAGIC);
    assert (self->write);
    assert (msg);
    if (self->err)
        return;
    size_t size = protobuf_c_message_get_packed_size (msg);
    MDB_val k = { key_size, (void *) key }, v = { size, NULL };
    int rc = mdb_put (self->mdb, table, &k, &v, MDB_RESERVE | flags);
    if (rc != 0) {
        self->err = rc;
        return;
    }
    size_t packed = protobuf_c_message_pack (msg, v.mv_data);
    assert (packed == size);
}

void
ts_txn_append_msg (ts_txn *self, ts_table table, const void *key, size_t key_size,
                   const ProtobufCMessage *msg)
{
    s_put_msg (self, table, key, key_size, msg, MDB_APPEND);
}

void
ts_txn_put_msg (ts_txn *self, ts_table table, const void *key, size_t key_size,
                const ProtobufCMessage *msg)
{
    s_put_msg (self, table, key, key_size, msg, 0);
}

void *
ts_txn_get_msg (ts_txn *self, ts_table table, const void *key, size_t key_size,
                const ProtobufCMessageDescriptor *desc, ts_arena *arena)
{
    ts_val v;
    if (!ts_txn_get (self, table, key, key_size, &v))
        return NULL;
    return ts_txn_unpack (self, &v, desc, arena);
}

void *
ts_txn_unpack (ts_txn *self, const ts_val *value,
               const ProtobufCMessageDescriptor *desc, ts_arena *arena)
{
    assert (self && value && desc && arena);
    if (self->err)
        return NULL;
    ProtobufCMessage *msg = protobuf_c_message_unpack (desc, ts_arena_pb (arena),
                                                       value->size, value->data);
    if (!msg)
        self->err = TS_STORE_CORRUPT;
    return msg;
}

void *
ts_cursor_msg (ts_cursor *self, const ProtobufCMessageDescriptor *desc,
               ts_arena *arena)
{
    assert (self && self->cursor && self->value.data);
    return ts_txn_unpack (self->txn, &self->value, desc, arena);
}

uint64_t
ts_txn_get_u64 (ts_txn *self, ts_table table, const void *key, size_t key_size,
                uint64_t fallback)
{
    ts_val v;
    if (!ts_txn_get (self, table, key, key_size, &v))
        return fallback;
    if (v.size != 8) {
        self->err = TS_STORE_CORRUPT;
        return fallback;
    }
    return ts_be64_get (v.data);
}

void
ts_txn_put_u64 (ts_txn *self, ts_table table, const void *key, size_t key_size,
                uint64_t value)
{
    uint8_t buf [8];
    ts_be64_put (buf, value);
    ts_txn_put (self, table, key, key_size, buf, 8);
}

int64_t
ts_txn_add_i64 (ts_txn *self, ts_table table, const void *key, size_t key_size,
                int64_t delta)
{
    int64_t v = (int64_t) ts_txn_get_u64 (self, table, key, key_size, 0);
    v += delta;
    ts_txn_put_u64 (self, table, key, key_size, (uint64_t) v);
    return v;
}

uint64_t
ts_txn_next_id (ts_txn *self, const char *sequence)
{
    assert (self && self->magic == TXN_MAGIC);
    ts_key k;
    ts_key_init (&k);
    ts_key_bytes (&k, "seq:", 4);
    ts_key_bytes (&k, sequence, strlen (sequence));
    uint64_t next = ts_txn_get_u64 (self, self->store->meta, k.data, k.size, 0) + 1;
    ts_txn_put_u64 (self, self->store->meta, k.data, k.size, next);
    return next;
}

//  --------------------------------------------------------------------
//  Cursors

static bool
s_cursor_load (ts_cursor *self, MDB_cursor_op op, MDB_val *k)
{
    MDB_val key = k ? *k : (MDB_val) { 0, NULL }, val;
    int rc = mdb_cursor_get (self->cursor, &key, &val, op);
    if (rc != 0) {
        if (rc != MDB_NOTFOUND)
            ts_txn_fail (self->txn, rc);
        self->key = (ts_val) { NULL, 0 };
        self->value = (ts_val) { NULL, 0 };
        return false;
    }
    self->key = (ts_val) { key.mv_data, key.mv_size };
    self->value = (ts_val) { val.mv_data, val.mv_size };
    return true;
}

bool
ts_cursor_open (ts_cursor *self, ts_txn *txn, ts_table table)
{
    assert (self && txn && txn->magic == TXN_MAGIC);
    memset (self, 0, sizeof *self);
    self->txn = txn;
    if (txn->err)
        return false;
    int rc = mdb_cursor_open (txn->mdb, table, &self->cursor);
    if (rc != 0) {
        txn->err = rc;
        self->cursor = NULL;
        return false;
    }
    return true;
}

bool
ts_cursor_seek (ts_cursor *self, const void *key, size_t key_size)
{
    if (!self->cursor)
        return false;
    if (!key)
        return s_cursor_load (self, MDB_FIRST, NULL);
    MDB_val k = { key_size, (void *) key };
    return s_cursor_load (self, MDB_SET_RANGE, &k);
}

bool
ts_cursor_seek_last (ts_cursor *self, const void *key, size_t key_size)
{
    if (!self->cursor)
        return false;
    if (!key)
        return s_cursor_load (self, MDB_LAST, NULL);
    MDB_val k = { key_size, (void *) key };
    if (!s_cursor_load (self, MDB_SET_RANGE, &k))
        return s_cursor_load (self, MDB_LAST, NULL);
    //  Landed on the first key >= key: step back unless it is key itself.
    if (self->key.size == key_size && memcmp (self->key.data, key, key_size) == 0)
        return true;
    return s_cursor_load (self, MDB_PREV, NULL);
}

bool
ts_cursor_next (ts_cursor *self)
{
    return self->cursor && s_cursor_load (self, MDB_NEXT, NULL);
}

bool
ts_cursor_prev (ts_cursor *self)
{
    return self->cursor && s_cursor_load (self, MDB_PREV, NULL);
}

bool
ts_cursor_has_prefix (ts_cursor *self, const void *prefix, size_t size)
{
    return self->key.data && self->key.size >= size
        && memcmp (self->key.data, prefix, size) == 0;
}

void
ts_cursor_put (ts_cursor *self, const void *key, size_t key_size, const void *value,
               size_t value_size)
{
    assert (self && self->txn && self->txn->magic == TXN_MAGIC);
    assert (self->txn->write);
    self->key = (ts_val) { NULL, 0 };
    self->value = (ts_val) { NULL, 0 };
    if (!self->cursor || self->txn->err)
        return;
    MDB_val k = { key_size, (void *) key }, v = { value_size, (void *) value };
    int rc = mdb_cursor_put (self->cursor, &k, &v, 0);
    if (rc != 0)
        ts_txn_fail (self->txn, rc);
}

void
ts_cursor_del (ts_cursor *self)
{
    assert (self && self->txn && self->txn->magic == TXN_MAGIC);
    assert (self->txn->write);
    bool on_item = self->key.data != NULL;
    self->key = (ts_val) { NULL, 0 };
    self->value = (ts_val) { NULL, 0 };
    if (!self->cursor || self->txn->err)
        return;
    assert (on_item);               //  a seek landed on the item
    int rc = mdb_cursor_del (self->cursor, 0);
    if (rc != 0)
        ts_txn_fail (self->txn, rc);
}

void
ts_cursor_close (ts_cursor *self)
{
    if (self->cursor)
        mdb_cursor_close (self->cursor);
    self->cursor = NULL;
}

//  --------------------------------------------------------------------
//  Keys

void
ts_key_init (ts_key *self)
{
    self->size = 0;
}

void
ts_key_bytes (ts_key *self, const void *data, size_t size)
{
    assert (self->size + size <= TS_KEY_MAX);
    memcpy (self->data + self->size, data, size);
    self->size += size;
}

void
ts_key_text (ts_key *self, const char *s)
{
    ts_key_init (self);
    ts_key_str (self, s);
}

void
ts_key_str (ts_key *self, const char *s)
{
    ts_key_bytes (self, s, strlen (s) + 1);
}

void
ts_key_u64 (ts_key *self, uint64_t v)
{
    assert (self->size + 8 <= TS_KEY_MAX);
    ts_be64_put (self->data + self->size, v);
    self->size += 8;
}

void
ts_key_u32 (ts_key *self, uint32_t v)
{
    assert (self->size + 4 <= TS_KEY_MAX);
    ts_be32_put (self->data + self->size, v);
    self->size += 4;
}
