/*  =========================================================================
    residents_audit - the read audit of household files: who read which
    household's personal data, and when; written in batches, kept bounded.

    A read (GetHousehold, GetHistory, GetPerson) is a read method: it runs
    in a read transaction and never waits on a disk sync. Its audit record
    is queued in memory, and the batch's records are appended to a journal
    file, <store dir>/audit/journal, with one write(2) once the batch has
    run and before any of its replies is sent (ts_service batch_done; a
    full queue, RES_AUDIT_BATCH_BYTES, is appended at once): once a reply
    has left, its record is in the kernel's page cache and survives a
    kill -9 of the daemon. When the append fails every read of the batch
    fails (500): no answered read goes unrecorded.

    The tick (every RES_AUDIT_TICK_MS, on a worker thread: ts_ticker, so
    that its disk sync holds up no read) folds the journal into LMDB, at most
    RES_AUDIT_FOLD_MAX_BYTES of records in one write transaction, together
    with how far it got (journal generation, offset): a crash between the
    commit and anything after it folds nothing twice. Once a committed fold
    has reached the end, the next tick starts a new generation (truncate,
    new header); a fold that sees a newer file generation than the one it
    stored knows the old file was folded whole. A power cut (not a kill -9)
    may lose the records of reads answered since the last fold (at most a
    tick). ListAudit folds first, so it lists every read answered before it.
    A read that runs in a batch that is run again (the map grew) is
    recorded twice: the audit may over-record, never under-record.

    Retention (the policy, enforced by the tick): raw rows are kept for
    RES_AUDIT_RAW_DAYS (180) days; older ones are rolled up into daily
    counts per household, day and reader (role, principal, binding,
    action) and deleted, oldest first through the audit_seq index, at most
    RES_AUDIT_ROLLUP_MAX rows per tick. So the audit grows with the reads
    of half a year plus one small row per reader and day.

    The journal sits in a folder of its own: a backup (which copies the
    store and the key files beside it) holds the audit as folded when its
    snapshot was taken, so the reads of the last tick before it may be
    missing from the backup (never from the live system).

    Journal: an 8-byte header (u64 BE generation), then records: u32 BE
    size of what follows, u64 BE household id, a packed AuditEntry (seq 0:
    the seq is given when folded).
    =========================================================================
*/
#include "residents_core.h"
#include "ts_log.h"
#include "ts_memory.h"
#include "ts_time.h"

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define JOURNAL_DIR "audit"
#define JOURNAL_FILE "journal"
#define HEADER_BYTES 8
#define RECORD_HEAD_BYTES 4
#define RECORD_MAX_BYTES 4096       //  household id + entry; callers' strings are short
#define DAY_MS (24 * 60 * 60 * 1000LL)
#define FOLD_STEP_RECORDS 64         //  records between two ts_memory_step

//  Where the fold has got to, in table audit_meta.
static const char s_done_key [] = "journal_done";

//  The service's state (this file sits below residents_core.c).
static res_state *
s_state (ts_ctx *ctx)
{
    res_state *self = ctx->state;
    assert (self && self->magic == RES_STATE_MAGIC);
    return self;
}

//  --------------------------------------------------------------------
//  The journal file.

//  Start generation: a new file holding only its header, renamed over the
//  journal (a crash leaves the old file or the new one, never a file
//  without a header), then taking the journal's descriptor number.
static int
s_journal_new (res_state *self, uint64_t generation)
{
    char path [RES_PATH_MAX + 16];
    snprintf (path, sizeof path, "%s.new", self->journal_path);
    int fd = open (path, O_RDWR | O_APPEND | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0)
        return -1;
    uint8_t header [HEADER_BYTES];
    ts_be64_put (header, generation);
    int rc = write (fd, header, sizeof header) == (ssize_t) sizeof header ? 0 : -1;
    if (rc == 0)
        rc = rename (path, self->journal_path);
    if (rc == 0 && self->journal_fd >= 0)
        rc = dup3 (fd, self->journal_fd, O_CLOEXEC) >= 0 ? 0 : -1;
    else
    if (rc == 0)
        self->journal_fd = fd;
    if (fd != self->journal_fd)
        close (fd);
    return rc;
}

static int64_t
s_journal_size (int fd)
{
    struct stat st;
    return fstat (fd, &st) == 0 ? (int64_t) st.st_size : -1;
}

//  The stored fold position: generation and offset (0, 0 when none).
static void
s_done_get (ts_txn *txn, res_state *st, uint64_t *generation, uint64_t *offset)
{
    ts_val v;
    *generation = *offset = 0;
    if (ts_txn_get (txn, st->audit_meta, s_done_key, sizeof s_done_key, &v) && v.size == 16) {
        *generation = ts_be64_get (v.data);
        *offset = ts_be64_get ((const uint8_t *) v.data + 8);
    }
}

static void
s_done_put (ts_txn *txn, res_state *st, uint64_t generation, uint64_t offset)
{
    uint8_t v [16];
    ts_be64_put (v, generation);
    ts_be64_put (v + 8, offset);
    ts_txn_put (txn, st->audit_meta, s_done_key, sizeof s_done_key, v, sizeof v);
}

//  The journal's generation, from its header (0 when unreadable).
static uint64_t
s_generation (res_state *st)
{
    uint8_t header [HEADER_BYTES];
    if (pread (st->journal_fd, header, sizeof header, 0) != (ssize_t) sizeof header)
        return 0;
    return ts_be64_get (header);
}

//  Open (or create) the journal. A file cut short (killed between the
//  truncate and the header) gets a new header; a record cut short at the
//  end (a failed append: its read was refused) is cut off.
int
residents_audit_open (res_state *self, ts_txn *txn, const char *dir, char *err,
                      size_t err_size)
{
    assert (self && dir);
    char *path = self->journal_path;
    snprintf (path, RES_PATH_MAX, "%s/%s", dir, JOURNAL_DIR);
    if (mkdir (path, 0700) != 0 && errno != EEXIST) {
        snprintf (err, err_size, "cannot create %s: %s", path, strerror (errno));
        return -1;
    }
    snprintf (path, RES_PATH_MAX, "%s/%s/%s", dir, JOURNAL_DIR, JOURNAL_FILE);
    self->journal_fd = open (path, O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
    if (!self->journal_lock_ready)
        self->journal_lock_ready = pthread_mutex_init (&self->journal_lock, NULL) == 0;
    self->fold_buf = malloc (RES_AUDIT_FOLD_MAX_BYTES);
    self->audit_buf = malloc (RES_AUDIT_BATCH_BYTES);
    self->audit_used = 0;
    self->audit_failed = false;
    if (self->journal_fd < 0 || !self->fold_buf || !self->audit_buf
    ||  !self->journal_lock_ready) {
        snprintf (err, err_size, "cannot open %s: %s", path, strerror (errno));
        return -1;
    }
    uint64_t generation, offset;
    s_done_get (txn, self, &generation, &offset);
    int64_t size = s_journal_size (self->journal_fd);
    if (size >= 0 && size < HEADER_BYTES)
        size = s_journal_new (self, generation + 1) == 0 ? HEADER_BYTES : -1;
    for (int64_t at = HEADER_BYTES; size >= HEADER_BYTES && at < size; ) {
        uint8_t head [RECORD_HEAD_BYTES];
        uint32_t n = 0;
        if (pread (self->journal_fd, head, sizeof head, at) == (ssize_t) sizeof head)
            n = ts_be32_get (head);
        if (n == 0 || n > RECORD_MAX_BYTES || at + RECORD_HEAD_BYTES + n > size) {
            ts_log_warn ("audit_journal_cut", "offset=%lld size=%lld", (long long) at,
                         (long long) size);
            if (ftruncate (self->journal_fd, at) != 0)
                size = -1;
            break;
        }
        at += RECORD_HEAD_BYTES + n;
    }
    if (size < 0) {
        snprintf (err, err_size, "cannot repair %s: %s", path, strerror (errno));
        return -1;
    }
    return 0;
}

void
residents_audit_close (res_state *self)
{
    assert (self);
    //  Between batches the queue is empty: every batch appends its own.
    assert (self->audit_used == 0);
    if (self->journal_fd >= 0)
        close (self->journal_fd);
    self->journal_fd = -1;
    free (self->fold_buf);
    self->fold_buf = NULL;
    free (self->audit_buf);
    self->audit_buf = NULL;
    if (self->journal_lock_ready)
        pthread_mutex_destroy (&self->journal_lock);
    self->journal_lock_ready = false;
}

//  --------------------------------------------------------------------
//  Recording a read: queued, then one append for the whole batch, before
//  its replies.

//  Append the queued records in one write. 0, or -1 (logged; a record cut
//  short is cut off): then the batch's reads must fail (audit_failed).
static int
s_flush (res_state *st)
{
    assert (st->audit_used <= RES_AUDIT_BATCH_BYTES);
    if (st->audit_used == 0)
        return 0;
    size_t size = st->audit_used;
    st->audit_used = 0;
    pthread_mutex_lock (&st->journal_lock);
    //  O_APPEND: one write lands whole at the end, never interleaved.
    ssize_t written = write (st->journal_fd, st->audit_buf, size);
    int write_errno = errno;
    bool cut_failed = written > 0 && written != (ssize_t) size
                   && ftruncate (st->journal_fd, s_journal_size (st->journal_fd) - written) != 0;
    pthread_mutex_unlock (&st->journal_lock);
    if (written == (ssize_t) size)
        return 0;
    ts_log_error ("audit_append_failed", "error=\"%s\" bytes=%zu",
                  written < 0 ? strerror (write_errno) : "short write", size);
    if (cut_failed)
        ts_log_error ("audit_journal_cut_failed", "error=\"%s\"", strerror (errno));
    st->audit_failed = true;
    return -1;
}

unsigned
residents_audit (ts_ctx *ctx, uint64_t household_id, const char *action)
{
    res_state *st = s_state (ctx);
    assert (household_id > 0 && action);
    Tashan__Residents__AuditEntry e = TASHAN__RESIDENTS__AUDIT_ENTRY__INIT;
    e.at_ms = ctx->now_ms;
    e.role = (char *) ctx->caller->role;
    e.principal = (char *) ctx->caller->principal;
    e.binding = (char *) ctx->caller->binding;
    e.action = (char *) action;
    size_t n = 8 + protobuf_c_message_get_packed_size (&e.base);
    if (n > RECORD_MAX_BYTES)
        return ts_fail (ctx, TS_BAD_REQUEST, "caller names too long to audit");
    //  A full queue is appended now (still before any reply of the batch).
    if (st->audit_used + RECORD_HEAD_BYTES + n > RES_AUDIT_BATCH_BYTES)
        s_flush (st);
    if (st->audit_failed)
        return ts_fail (ctx, TS_INTERNAL, "the read could not be audited");
    uint8_t *rec = st->audit_buf + st->audit_used;
    ts_be32_put (rec, (uint32_t) n);
    ts_be64_put (rec + RECORD_HEAD_BYTES, household_id);
    protobuf_c_message_pack (&e.base, rec + RECORD_HEAD_BYTES + 8);
    st->audit_used += RECORD_HEAD_BYTES + n;
    return 0;
}

unsigned
residents_audit_batch_done (void *state, char *why, size_t why_size)
{
    res_state *st = state;
    assert (st && st->magic == RES_STATE_MAGIC);
    s_flush (st);
    bool failed = st->audit_failed;
    st->audit_failed = false;
    if (!failed)
        return 0;
    snprintf (why, why_size, "the read could not be audited");
    return TS_INTERNAL;
}

//  --------------------------------------------------------------------
//  Folding the journal into LMDB.

//  One record into the audit table and its seq index.
static void
s_fold_record (ts_ctx *ctx, res_state *st, const uint8_t *data, size_t size)
{
    Tashan__Residents__AuditEntry *e = tashan__residents__audit_entry__unpack (
        ts_arena_pb (ctx->arena), size - 8, data + 8);
    uint64_t household_id = ts_be64_get (data);
    if (!e || household_id == 0) {
        ts_log_error ("audit_record_corrupt", "size=%zu", size);
        return;
    }
    e->seq = ts_txn_next_id (ctx->txn, "audit");
    ts_key k;
    ts_key_init (&k);
    ts_key_u64 (&k, household_id);
    ts_key_u64 (&k, e->seq);
    ts_txn_put_msg (ctx->txn, st->audit, k.data, k.size, &e->base);
    uint8_t seq_key [8], hh [8];
    ts_be64_put (seq_key, e->seq);
    ts_be64_put (hh, household_id);
    ts_txn_append (ctx->txn, st->audit_seq, seq_key, sizeof seq_key, hh, sizeof hh);
}

//  Fold what one buffer holds from *offset on; returns false when the
//  journal is exhausted (or unreadable).
static bool
s_fold_chunk (ts_ctx *ctx, res_state *st, uint64_t *offset)
{
    ssize_t got = pread (st->journal_fd, st->fold_buf, RES_AUDIT_FOLD_MAX_BYTES, (off_t) *offset);
    if (got < 0)
        ts_log_error ("audit_journal_read", "error=\"%s\"", strerror (errno));
    size_t at = 0, records = 0;
    while (got > 0 && at + RECORD_HEAD_BYTES <= (size_t) got) {
        uint32_t n = ts_be32_get (st->fold_buf + at);
        if (n <= 8 || n > RECORD_MAX_BYTES) {
            //  Only a failed append that could not be cut off leaves this.
            ts_log_error ("audit_journal_corrupt", "offset=%llu",
                          (unsigned long long) (*offset + at));
            ts_txn_fail (ctx->txn, TS_STORE_CORRUPT);
            break;
        }
        if (at + RECORD_HEAD_BYTES + n > (size_t) got)
            break;                  //  the rest next chunk
        s_fold_record (ctx, st, st->fold_buf + at + RECORD_HEAD_BYTES, n);
        at += RECORD_HEAD_BYTES + n;
        //  Each record may fault in the page of its household's rows:
        //  the map is held near its budget during the fold, not after.
        if (++records % FOLD_STEP_RECORDS == 0)
            ts_memory_step (ts_txn_store (ctx->txn));
    }
    *offset += at;
    return records > 0 && got == RES_AUDIT_FOLD_MAX_BYTES;
}

//  The fold itself (the tick's part: no queue of the loop's touched).
static unsigned
s_fold (ts_ctx *ctx, res_state *st, size_t max_chunks)
{
    assert (ts_txn_writable (ctx->txn));
    uint64_t generation, offset;
    s_done_get (ctx->txn, st, &generation, &offset);
    uint64_t file_generation = s_generation (st);
    if (file_generation == 0)
        return ts_fail (ctx, TS_INTERNAL, "the audit journal has no header");
    bool changed = file_generation != generation;
    if (changed) {
        //  A new file: the old one was folded whole before it was replaced.
        generation = file_generation;
        offset = HEADER_BYTES;
    }
    uint64_t before = offset;
    for (size_t i = 0; i < max_chunks && s_fold_chunk (ctx, st, &offset); i++)
        ;
    if (changed || offset != before)
        s_done_put (ctx->txn, st, generation, offset);
    return 0;
}

unsigned
residents_audit_fold (ts_ctx *ctx, size_t max_chunks)
{
    res_state *st = s_state (ctx);
    //  Reads queued earlier in this batch (ListAudit lists them too).
    if (s_flush (st) != 0)
        return ts_fail (ctx, TS_INTERNAL, "the audit journal cannot be appended to");
    return s_fold (ctx, st, max_chunks);
}

//  A new generation when the committed fold has reached the end of the
//  file: the journal stays small.
//  Under the journal lock: an append between the size check and the new
//  file would land in the old one, unfolded.
static unsigned
s_rotate (ts_ctx *ctx, res_state *st)
{
    uint64_t generation, offset;
    s_done_get (ctx->txn, st, &generation, &offset);
    pthread_mutex_lock (&st->journal_lock);
    uint64_t file_generation = s_generation (st);
    int64_t size = s_journal_size (st->journal_fd);
    int rc = 0;
    if (file_generation == generation && size > HEADER_BYTES && (uint64_t) size == offset)
        rc = s_journal_new (st, generation + 1) == 0 ? 1 : -1;
    int new_errno = errno;
    pthread_mutex_unlock (&st->journal_lock);
    if (rc < 0)
        return ts_fail (ctx, TS_INTERNAL, "cannot start a new audit journal: %s",
                        strerror (new_errno));
    if (rc > 0)
        s_done_put (ctx->txn, st, generation + 1, HEADER_BYTES);
    return 0;
}

//  --------------------------------------------------------------------
//  Retention: raw rows older than RES_AUDIT_RAW_DAYS become daily counts.

static void
s_rollup_row (ts_ctx *ctx, res_state *st, uint64_t household_id,
              const Tashan__Residents__AuditEntry *e)
{
    int64_t day = ts_day_of (e->at_ms);
    assert (day >= 0 && day <= UINT32_MAX);
    char who [3][64];
    snprintf (who [0], sizeof who [0], "%s", e->role);
    snprintf (who [1], sizeof who [1], "%s", e->principal);
    snprintf (who [2], sizeof who [2], "%s", e->binding);
    ts_key k;
    ts_key_init (&k);
    ts_key_u64 (&k, household_id);
    ts_key_u32 (&k, (uint32_t) day);
    for (int i = 0; i < 3; i++)
        ts_key_str (&k, who [i]);
    ts_key_str (&k, e->action);
    ts_txn_add_i64 (ctx->txn, st->audit_days, k.data, k.size, 1);
}

unsigned
residents_audit_rollup (ts_ctx *ctx, size_t max_rows)
{
    res_state *st = s_state (ctx);
    int64_t cutoff_ms = ctx->now_ms - RES_AUDIT_RAW_DAYS * DAY_MS;
    size_t rows = 0;
    ts_cursor c;
    bool more = ts_cursor_open (&c, ctx->txn, st->audit_seq) && ts_cursor_seek (&c, NULL, 0);
    for (; more && rows < max_rows; rows++) {
        if (c.key.size != 8 || c.value.size != 8)
            break;
        uint64_t household_id = ts_be64_get (c.value.data);
        ts_key k;
        ts_key_init (&k);
        ts_key_u64 (&k, household_id);
        ts_key_bytes (&k, c.key.data, 8);
        Tashan__Residents__AuditEntry *e = ts_txn_get_msg (
            ctx->txn, st->audit, k.data, k.size, &tashan__residents__audit_entry__descriptor,
            ctx->arena);
        if (e && e->at_ms >= cutoff_ms)
            break;                  //  in seq order, so every later one is younger
        if (e) {
            s_rollup_row (ctx, st, household_id, e);
            ts_txn_del (ctx->txn, st->audit, k.data, k.size);
        }
        ts_cursor_del (&c);
        more = ts_cursor_seek (&c, NULL, 0);
    }
    ts_cursor_close (&c);
    return 0;
}

//  The residents' tick: fold, start a new journal when all is folded,
//  roll up what is past the retention. On a worker thread (tick_off_loop)
//  while the loop answers reads and appends their records: it touches
//  only its transaction, the fold buffer (no fold runs on the loop
//  meanwhile: ListAudit is a write, and writes wait for the tick) and the
//  journal (reads of complete records; a new generation under the lock).
unsigned
residents_tick (ts_ctx *ctx)
{
    res_state *st = s_state (ctx);
    unsigned rc = s_rotate (ctx, st);
    if (!rc)
        rc = s_fold (ctx, st, 1);
    if (!rc)
        rc = residents_audit_rollup (ctx, RES_AUDIT_ROLLUP_MAX);
    return rc;
}
