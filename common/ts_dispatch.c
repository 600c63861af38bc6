/*  =========================================================================
    ts_dispatch - the request and event path of a daemon, without sockets.
    See ts_dispatch.h for the runtime tables it owns.
    =========================================================================
*/
#include "ts_dispatch.h"

#include <assert.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sodium.h>

#include "ts_log.h"

#define DISPATCH_MAGIC 0x44535054u
#define TABLES_MAX 40
#define BATCH_ATTEMPTS_MAX 12       //  map doublings before we give up
#define IDEM_HASH_BYTES 32
//  s_job_execute's word that a TS_METHOD_FLAT job failed: neither an
//  LMDB code (errno values, MDB_* below -30000) nor TS_STORE_CORRUPT.
#define FLAT_FAILED (-40101)
#define LATE_RERUNS_MAX 4           //  batches re-run for jobs past deadline

struct ts_dispatch {
    uint32_t magic;                 //  DISPATCH_MAGIC
    const ts_service *service;      //  what we run
    ts_store *store;                //  the service's LMDB
    void *state;                    //  from service->open
    ts_table outbox;                //  seq -> Event
    ts_table idem;                  //  idempotency records
    ts_table inbox;                 //  producer -> position
    int64_t fixed_now_ms;           //  tests: frozen clock, 0 = real
    uint64_t outbox_head;           //  newest committed seq
    ts_dispatch_gate_fn *write_gate;//  before a write on the loop, or NULL
    void *write_gate_arg;
};

static const char *const s_role_names [] = {
    "public", "ops", "panel", "school", "merchant", "system"
};

unsigned
ts_role_bit (const char *role)
{
    for (unsigned i = 0; i < 6; i++)
        if (role && strcmp (role, s_role_names [i]) == 0)
            return 1u << i;
    return 0;
}

Tashan__Caller
ts_caller (const char *role, const char *binding, const char *principal)
{
    Tashan__Caller caller = TASHAN__CALLER__INIT;
    caller.role = (char *) role;
    caller.binding = (char *) (binding ? binding : "");
    caller.principal = (char *) (principal ? principal : "");
    return caller;
}

//  --------------------------------------------------------------------
//  Handler helpers

ts_table
ts_ctx_table (ts_ctx *ctx, const char *name)
{
    assert (ctx && ctx->txn && name);
    return ts_store_table (ts_txn_store (ctx->txn), name);
}

void
ts_reply_packed (ts_ctx *ctx, const uint8_t *bytes, size_t size)
{
    assert (ctx);
    assert (bytes || size == 0);
    ctx->reply_bytes = bytes ? bytes : (const uint8_t *) "";
    ctx->reply_size = size;
}

unsigned
ts_fail (ts_ctx *ctx, unsigned code, const char *fmt, ...)
{
    assert (ctx);
    assert (code >= 400 && code < 600);
    va_list args;
    va_start (args, fmt);
    vsnprintf (ctx->message, sizeof ctx->message, fmt, args);
    va_end (args);
    ctx->code = code;
    return code;
}

void
ts_emit (ts_ctx *ctx, const char *topic, const ProtobufCMessage *payload)
{
    assert (ctx && ctx->dispatch && topic && payload);
    assert (ts_txn_writable (ctx->txn));
    ts_dispatch *self = ctx->dispatch;
    uint64_t seq = ts_txn_next_id (ctx->txn, "outbox");
    Tashan__Event event = TASHAN__EVENT__INIT;
    event.seq = seq;
    event.topic = (char *) topic;
    event.created_ms = ctx->now_ms;
    size_t size = protobuf_c_message_get_packed_size (payload);
    uint8_t *buf = ts_arena_alloc (ctx->arena, size ? size : 1);
    protobuf_c_message_pack (payload, buf);
    event.payload.data = buf;
    event.payload.len = size;
    uint8_t key [8];
    ts_be64_put (key, seq);
    ts_txn_put_msg (ctx->txn, self->outbox, key, 8, &event.base);
    ctx->events_emitted++;
    ctx->last_event_seq = seq;
}

//  Run the service's open() in its own write transaction: it seeds
//  defaults and sets self->state. Like any write it may need a bigger
//  map: then the store grows and open() runs again. Returns 0 or -1 with
//  err filled.
static int
s_open_service (ts_dispatch *self, char *err, size_t err_size)
{
    const ts_service *service = self->service;
    for (int attempt = 0; attempt < BATCH_ATTEMPTS_MAX; attempt++) {
        ts_arena *arena = ts_arena_new ();
        Tashan__Caller caller = ts_caller ("system", "", service->name);
        ts_ctx ctx = { 0 };
        ctx.txn = ts_txn_begin (self->store, true);
        ctx.caller = &caller;
        ctx.now_ms = ts_dispatch_now (self);
        ctx.arena = arena;
        ctx.dispatch = self;
        unsigned code = service->open ? service->open (&ctx, &self->state) : TS_OK;
        if (code >= 400) {
            ts_txn_abort (&ctx.txn);
            snprintf (err, err_size, "%s: open failed: %s", service->name, ctx.message);
            ts_arena_destroy (&arena);
            return -1;
        }
        int rc = ts_txn_commit (&ctx.txn);
        ts_arena_destroy (&arena);
        if (rc == TS_STORE_MAP_FULL && ts_store_grow (self->store) == 0) {
            if (service->close && self->state)
                service->close (self->state);
            self->state = NULL;
            continue;
        }
        if (rc != 0) {
            snprintf (err, err_size, "%s: open failed: %s", service->name, mdb_strerror (rc));
            return -1;
        }
        return 0;
    }
    snprintf (err, err_size, "%s: open failed: the store cannot grow enough", service->name);
    return -1;
}

//  --------------------------------------------------------------------
//  Open the store with the service's tables plus the runtime's.

ts_dispatch *
ts_dispatch_new (const ts_service *service, const char *data_dir, char *err,
                 size_t err_size)
{
    assert (service && data_dir);
    assert (service->table_count + 3 <= TABLES_MAX);
    if (sodium_init () < 0) {
        snprintf (err, err_size, "libsodium failed to initialise");
        return NULL;
    }
    ts_table_def tables [TABLES_MAX];
    size_t n = 0;
    for (size_t i = 0; i < service->table_count; i++)
        tables [n++] = service->tables [i];
    tables [n++] = (ts_table_def) { "outbox", TS_TABLE_NOT_DATA };
    tables [n++] = (ts_table_def) { "idem", TS_TABLE_NOT_DATA };
    tables [n++] = (ts_table_def) { "inbox", TS_TABLE_NOT_DATA };
    char dir [1024];
    snprintf (dir, sizeof dir, "%s/%s", data_dir, service->name);
    uint32_t migrates_from = service->schema_migrates_from ? service->schema_migrates_from
                                                           : service->schema_version;
    ts_store *store = ts_store_new_migrating (dir, tables, n, service->schema_version,
                                              migrates_from, err, err_size);
    if (!store)
        return NULL;
    ts_dispatch *self = calloc (1, sizeof (ts_dispatch));
    assert (self);
    self->magic = DISPATCH_MAGIC;
    self->service = service;
    self->store = store;
    self->outbox = ts_store_table (store, "outbox");
    self->idem = ts_store_table (store, "idem");
    self->inbox = ts_store_table (store, "inbox");

    if (s_open_service (self, err, err_size) != 0) {
        ts_dispatch_destroy (&self);
        return NULL;
    }
    ts_txn *txn = ts_txn_begin (store, false);
    ts_cursor cur;
    if (ts_cursor_open (&cur, txn, self->outbox) && ts_cursor_seek_last (&cur, NULL, 0)
    &&  cur.key.size == 8)
        self->outbox_head = ts_be64_get (cur.key.data);
    ts_cursor_close (&cur);
    ts_txn_abort (&txn);
    return self;
}

void
ts_dispatch_destroy (ts_dispatch **self_p)
{
    assert (self_p);
    ts_dispatch *self = *self_p;
    if (!self)
        return;
    assert (self->magic == DISPATCH_MAGIC);
    if (self->service->close && self->state)
        self->service->close (self->state);
    ts_store_destroy (&self->store);
    self->magic = 0;
    free (self);
    *self_p = NULL;
}

ts_store *
ts_dispatch_store (ts_dispatch *self)
{
    assert (self && self->magic == DISPATCH_MAGIC);
    return self->store;
}

const ts_service *
ts_dispatch_service (ts_dispatch *self)
{
    assert (self && self->magic == DISPATCH_MAGIC);
    return self->service;
}

void *
ts_dispatch_state (ts_dispatch *self)
{
    assert (self && self->magic == DISPATCH_MAGIC);
    return self->state;
}

void
ts_dispatch_set_now (ts_dispatch *self, int64_t now_ms)
{
    self->fixed_now_ms = now_ms;
}

int64_t
ts_dispatch_now (ts_dispatch *self)
{
    if (self->fixed_now_ms)
        return self->fixed_now_ms;
    struct timespec ts;
    clock_gettime (CLOCK_REALTIME, &ts);
    return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

uint64_t
ts_dispatch_outbox_head (ts_dispatch *self)
{
    return self->outbox_head;
}

void
ts_dispatch_set_write_gate (ts_dispatch *self, ts_dispatch_gate_fn *gate, void *arg)
{
    assert (self && self->magic == DISPATCH_MAGIC);
    self->write_gate = gate;
    self->write_gate_arg = arg;
}

//  Every write transaction the loop begins: through the gate first.
static ts_txn *
s_write_begin (ts_dispatch *self)
{
    if (self->write_gate)
        self->write_gate (self->write_gate_arg);
    return ts_txn_begin (self->store, true);
}

//  --------------------------------------------------------------------
//  One request in the batch transaction, in four steps: authorise,
//  idempotency lookup, execute, store (s_run_job ties them together).

static const ts_method *
s_find_method (ts_dispatch *self, const char *name)
{
    for (size_t i = 0; i < self->service->method_count; i++)
        if (strcmp (self->service->methods [i].name, name) == 0)
            return &self->service->methods [i];
    return NULL;
}

//  Keys from the Idempotency-Key header are hashed with this key, so they
//  never meet a body field's key of the same text.
#define IDEM_HEADER_SALT "tashan idempotency-key header"

static void
s_idem_key (ts_key *k, const ts_method *m, const Tashan__Caller *caller,
            const char *key, bool from_header)
{
    //  The client's key is hashed: it may be up to 1,000 characters,
    //  more than an LMDB key holds with the scope in front of it.
    uint8_t hash [32];
    crypto_generichash (hash, sizeof hash, (const uint8_t *) key, strlen (key),
                        from_header ? (const uint8_t *) IDEM_HEADER_SALT : NULL,
                        from_header ? sizeof IDEM_HEADER_SALT - 1 : 0);
    ts_key_init (k);
    ts_key_str (k, m->name);
    ts_key_str (k, caller->role);
    char binding [128];
    snprintf (binding, sizeof binding, "%s", caller->binding);
    ts_key_str (k, binding);
    ts_key_bytes (k, hash, sizeof hash);
}

static unsigned
s_job_fail (ts_job *job, unsigned code, const char *fmt, ...)
    __attribute__ ((format (printf, 3, 4)));

static unsigned
s_job_fail (ts_job *job, unsigned code, const char *fmt, ...)
{
    va_list args;
    va_start (args, fmt);
    vsnprintf (job->message, sizeof job->message, fmt, args);
    va_end (args);
    job->code = code;
    job->reply = NULL;
    job->reply_size = 0;
    return code;
}

//  The idempotency record of one job: where its outcome is stored, and
//  the hash of the request that made it (a repeat must match it).
typedef struct {
    bool used;                      //  the method has an idempotency field
    ts_key key;                     //  idem table key: method, caller, key hash
    uint8_t req_hash [IDEM_HASH_BYTES];
} idem_t;

//  Authorise: find the method, check the caller's role may call it and
//  decode the request. Returns the method with *req set, or NULL when the
//  job has failed (404, 403, 400).
static const ts_method *
s_job_authorise (ts_dispatch *self, ts_job *job, ts_arena *arena,
                 ProtobufCMessage **req)
{
    const ts_method *m = s_find_method (self, job->method);
    if (!m) {
        s_job_fail (job, TS_NOT_FOUND, "%s has no method '%s'", self->service->name, job->method);
        return NULL;
    }
    if (!(m->roles & ts_role_bit (job->caller->role))) {
        s_job_fail (job, TS_FORBIDDEN, "role '%s' may not call %s", job->caller->role, m->name);
        return NULL;
    }
    *req = protobuf_c_message_unpack (m->request, ts_arena_pb (arena), job->body_size, job->body);
    if (!*req) {
        s_job_fail (job, TS_BAD_REQUEST, "malformed %s request", m->name);
        return NULL;
    }
    return m;
}

//  Idempotency lookup: a repeat gets the stored outcome, not a second
//  effect. Fills idem for a method with an idempotency field. Returns
//  true when the job is answered (a stored reply, a 400 or 409, or a
//  corrupt record in *store_err), false when it must run.
//  The client's key of a job: the method's own field when it has one
//  (then that field is the key, required), else the Idempotency-Key the
//  job came with (writes only). *name is what to call it in messages.
//  NULL when there is none.
static const char *
s_idem_client_key (const ts_job *job, const ts_method *m, const ProtobufCMessage *req,
                   const char **name, bool *from_header)
{
    *from_header = false;
    *name = m->idempotency_field;
    if (m->idempotency_field) {
        const ProtobufCFieldDescriptor *f =
            protobuf_c_message_descriptor_get_field_by_name (m->request, m->idempotency_field);
        assert (f && f->type == PROTOBUF_C_TYPE_STRING && f->label != PROTOBUF_C_LABEL_REPEATED);
        const char *key = *(char **) ((char *) req + f->offset);
        return key && *key ? key : NULL;
    }
    if ((m->flags & TS_METHOD_WRITE) && job->idempotency_key && *job->idempotency_key) {
        *from_header = true;
        *name = "Idempotency-Key";
        return job->idempotency_key;
    }
    return NULL;
}

static bool
s_job_idem_lookup (ts_dispatch *self, ts_txn *batch_txn, ts_job *job,
                   const ts_method *m, const ProtobufCMessage *req,
                   ts_arena *arena, idem_t *idem, int *store_err)
{
    assert (!m->idempotency_field || (m->flags & TS_METHOD_WRITE));
    const char *name;
    bool from_header;
    const char *key = s_idem_client_key (job, m, req, &name, &from_header);
    idem->used = key != NULL;
    if (!key && m->idempotency_field) {
        s_job_fail (job, TS_BAD_REQUEST, "%s is required", m->idempotency_field);
        return true;
    }
    if (!key)
        return false;
    if (strlen (key) > 1000) {
        s_job_fail (job, TS_BAD_REQUEST, "%s is longer than 1000 characters", name);
        return true;
    }
    crypto_generichash (idem->req_hash, sizeof idem->req_hash, job->body, job->body_size, NULL, 0);
    s_idem_key (&idem->key, m, job->caller, key, from_header);
    ts_val stored;
    if (!ts_txn_get (batch_txn, self->idem, idem->key.data, idem->key.size, &stored))
        return false;
    if (stored.size < 4 + IDEM_HASH_BYTES) {
        *store_err = TS_STORE_CORRUPT;
        return true;
    }
    if (memcmp ((const uint8_t *) stored.data + 4, idem->req_hash, IDEM_HASH_BYTES) != 0) {
        s_job_fail (job, TS_CONFLICT, "%s '%.300s' was already used for a different request",
                    name, key);
        return true;
    }
    job->code = TS_OK;
    job->reply_size = stored.size - 4 - IDEM_HASH_BYTES;
    job->reply = ts_arena_memdup (arena, (const uint8_t *) stored.data + 4 + IDEM_HASH_BYTES,
                                  job->reply_size);
    return true;
}

//  Execute: run the handler in ctx (set up by the caller, its txn nested
//  when the batch writes) and pack its reply into the job. Returns true
//  when the outcome must be stored (a successful write, ctx->txn still
//  open); false when done: a read, a failure (its writes dropped), or a
//  map-full error in *store_err that makes the batch retry.
static bool
s_job_execute (ts_job *job, const ts_method *m, const ProtobufCMessage *req,
               ts_ctx *ctx, bool nested, int *store_err)
{
    ProtobufCMessage *rep = ts_arena_alloc (ctx->arena, m->reply->sizeof_message);
    m->reply->message_init (rep);
    unsigned code = m->handler (ctx, req, rep);
    assert (code >= 200 && code < 600);
    bool write = (m->flags & TS_METHOD_WRITE) != 0;
    int rc = ts_txn_error (ctx->txn);
    if (!nested && write && (code >= 400 || (rc != 0 && rc != TS_STORE_MAP_FULL))) {
        //  A flat job failed: what it wrote is in the batch's own
        //  transaction, so the batch runs again with every job nested.
        *store_err = FLAT_FAILED;
        return false;
    }
    if (rc != 0) {
        if (nested)
            ts_txn_abort (&ctx->txn);
        if (rc == TS_STORE_MAP_FULL) {
            *store_err = rc;
            return false;
        }
        ts_log_error ("store_error", "method=%s error=\"%s\"", m->name,
                      rc == TS_STORE_CORRUPT ? "corrupt value" : mdb_strerror (rc));
        s_job_fail (job, TS_INTERNAL, "storage error");
        return false;
    }
    if (code >= 400 || !write) {
        //  Errors change nothing; reads never change anything.
        if (nested)
            ts_txn_abort (&ctx->txn);
        if (code >= 400) {
            s_job_fail (job, code, "%s", ctx->message [0] ? ctx->message : ts_status_word (code));
            return false;
        }
    }
    job->code = code;
    if (ctx->reply_bytes) {
        //  Copied: a service's kept reply may go before the job's is sent.
        job->reply_size = ctx->reply_size;
        job->reply = ts_arena_alloc (ctx->arena, job->reply_size ? job->reply_size : 1);
        memcpy (job->reply, ctx->reply_bytes, job->reply_size);
        return write;
    }
    job->reply_size = protobuf_c_message_get_packed_size (rep);
    job->reply = ts_arena_alloc (ctx->arena, job->reply_size ? job->reply_size : 1);
    protobuf_c_message_pack (rep, job->reply);
    return write;
}

//  Store: keep a write's outcome for repeats (idempotent methods) and
//  commit its nested transaction into the batch.
static void
s_job_store (ts_dispatch *self, ts_job *job, const idem_t *idem, ts_ctx *ctx,
             bool nested, int *store_err, uint64_t *last_seq)
{
    //  A 202 is not an outcome: the request runs again until it has one,
    //  and only that is stored for repeats.
    if (idem->used && job->code != TS_ACCEPTED) {
        size_t size = 4 + IDEM_HASH_BYTES + job->reply_size;
        uint8_t *rec = ts_arena_alloc (ctx->arena, size);
        ts_be32_put (rec, job->code);
        memcpy (rec + 4, idem->req_hash, IDEM_HASH_BYTES);
        memcpy (rec + 4 + IDEM_HASH_BYTES, job->reply, job->reply_size);
        ts_txn_put (ctx->txn, self->idem, idem->key.data, idem->key.size, rec, size);
    }
    int rc = nested ? ts_txn_commit (&ctx->txn) : ts_txn_error (ctx->txn);
    if (rc != 0) {
        *store_err = rc;
        return;
    }
    job->wrote = true;
    if (ctx->last_event_seq > *last_seq)
        *last_seq = ctx->last_event_seq;
}

//  --------------------------------------------------------------------
//  Deadlines: a request is never applied after its deadline.

//  A job whose deadline is at or before expire_ms gets 504 and is not
//  run. Returns true then.
static bool
s_job_expired (ts_job *job, int64_t expire_ms)
{
    if (job->deadline_ms == 0 || expire_ms < job->deadline_ms)
        return false;
    s_job_fail (job, TS_TIMEOUT, "the deadline passed before the request was applied "
                "(nothing was changed)");
    return true;
}

//  Right before the batch commits: did a job that wrote pass its
//  deadline meanwhile? Then the batch must run again without it.
static bool
s_batch_has_late_write (const ts_job *jobs, size_t job_count, int64_t now_ms)
{
    for (size_t i = 0; i < job_count; i++)
        if (jobs [i].wrote && jobs [i].deadline_ms != 0 && now_ms >= jobs [i].deadline_ms)
            return true;
    return false;
}

//  Give up on a batch whose writes keep passing their deadlines: every
//  write job answers 504 (nothing was committed), reads keep their answer.
static void
s_batch_fail_writes (ts_dispatch *self, ts_job *jobs, size_t job_count)
{
    for (size_t i = 0; i < job_count; i++) {
        const ts_method *m = s_find_method (self, jobs [i].method);
        if (m && (m->flags & TS_METHOD_WRITE) && jobs [i].code < 400) {
            s_job_fail (&jobs [i], TS_TIMEOUT, "the deadline passed before the request "
                        "was applied (nothing was changed)");
            jobs [i].wrote = false;
        }
    }
}

//  One job in the batch transaction: authorise, idempotency lookup,
//  execute, store. The job gets its code and reply; *store_err an LMDB
//  error that must abort (or, map full, retry) the whole batch.
static void
s_run_job (ts_dispatch *self, ts_txn *batch_txn, ts_job *job, ts_arena *arena,
           int64_t now_ms, int64_t expire_ms, bool flat_ok, int *store_err,
           uint64_t *last_seq)
{
    job->message [0] = 0;
    job->reply = NULL;
    job->reply_size = 0;
    job->wrote = false;
    if (s_job_expired (job, expire_ms))
        return;
    ProtobufCMessage *req = NULL;
    const ts_method *m = s_job_authorise (self, job, arena, &req);
    if (!m)
        return;
    assert (!(m->flags & TS_METHOD_WRITE) || ts_txn_writable (batch_txn));
    idem_t idem;
    if (s_job_idem_lookup (self, batch_txn, job, m, req, arena, &idem, store_err))
        return;

    //  Writes (and reads inside a write batch, so they see the batch's
    //  earlier writes) run in a child that can be dropped on its own;
    //  a TS_METHOD_FLAT write runs in the batch's transaction itself.
    bool nested = ts_txn_writable (batch_txn);
    if (nested && flat_ok && (m->flags & TS_METHOD_FLAT))
        nested = false;
    ts_ctx ctx = { 0 };
    ctx.txn = nested ? ts_txn_begin_nested (batch_txn) : batch_txn;
    ctx.flat = !nested && ts_txn_writable (batch_txn);
    ctx.caller = job->caller;
    ctx.now_ms = now_ms;
    ctx.arena = arena;
    ctx.state = self->state;
    ctx.dispatch = self;
    if (s_job_execute (job, m, req, &ctx, nested, store_err))
        s_job_store (self, job, &idem, &ctx, nested, store_err, last_seq);
}

//  Whether any job of the batch is a write (else it runs in a read
//  transaction and commits nothing).
static bool
s_batch_writes (ts_dispatch *self, const ts_job *jobs, size_t job_count)
{
    for (size_t i = 0; i < job_count; i++) {
        const ts_method *m = s_find_method (self, jobs [i].method);
        if (m && (m->flags & TS_METHOD_WRITE))
            return true;
    }
    return false;
}

//  The batch's commit failed with rc (not a full map): every job fails
//  with its status; on a full disk the reads run again alone, in a read
//  transaction, so reads keep working even when batched with writes.
static void
s_batch_failed (ts_dispatch *self, ts_job *jobs, size_t job_count, ts_arena *arena, int rc)
{
    ts_log_error ("batch_failed", "jobs=%zu error=\"%s\"", job_count,
                  rc == TS_STORE_CORRUPT ? "corrupt value" : mdb_strerror (rc));
    const char *why;
    unsigned code = ts_store_error_status (rc, &why);
    for (size_t i = 0; i < job_count; i++)
        s_job_fail (&jobs [i], code, "%s", why);
    for (size_t i = 0; i < job_count && code == TS_INSUFFICIENT_STORAGE; i++) {
        const ts_method *m = s_find_method (self, jobs [i].method);
        if (m && !(m->flags & TS_METHOD_WRITE))
            ts_dispatch_run_batch (self, &jobs [i], 1, arena);
    }
}

//  After a batch: the service's batch_done (ts_service.h); when it
//  fails, no read of the batch is answered as a success.
static void
s_batch_done (ts_dispatch *self, ts_job *jobs, size_t job_count)
{
    if (!self->service->batch_done)
        return;
    char why [200] = "";
    unsigned code = self->service->batch_done (self->state, why, sizeof why);
    if (code < 400)
        return;
    assert (code < 600);
    for (size_t i = 0; i < job_count; i++) {
        const ts_method *m = s_find_method (self, jobs [i].method);
        if (m && !(m->flags & TS_METHOD_WRITE) && jobs [i].code < 400)
            s_job_fail (&jobs [i], code, "%s", why [0] ? why : ts_status_word (code));
    }
}

static int s_run_batch (ts_dispatch *self, ts_job *jobs, size_t job_count, ts_arena *arena);

int
ts_dispatch_run_batch (ts_dispatch *self, ts_job *jobs, size_t job_count,
                       ts_arena *arena)
{
    int commits = s_run_batch (self, jobs, job_count, arena);
    s_batch_done (self, jobs, job_count);
    return commits;
}

static int
s_run_batch (ts_dispatch *self, ts_job *jobs, size_t job_count, ts_arena *arena)
{
    assert (self && self->magic == DISPATCH_MAGIC);
    assert (job_count <= TS_BATCH_MAX * 4);
    bool any_write = s_batch_writes (self, jobs, job_count);
    int late_reruns = 0;
    int64_t margin_ms = 0;          //  after a late write: what a run takes, twice
    bool flat_ok = true;            //  until a flat job fails (once a batch)
    for (int attempt = 0; attempt < BATCH_ATTEMPTS_MAX; attempt++) {
        int64_t now_ms = ts_dispatch_now (self);
        ts_txn *txn = any_write ? s_write_begin (self) : ts_txn_begin (self->store, false);
        int store_err = ts_txn_error (txn);
        uint64_t last_seq = 0;
        for (size_t i = 0; i < job_count && store_err == 0; i++)
            s_run_job (self, txn, &jobs [i], arena, now_ms, now_ms + margin_ms, flat_ok,
                       &store_err, &last_seq);
        if (store_err == FLAT_FAILED) {
            //  Not a map attempt: the same jobs again, each in a child, so
            //  the failed one changes nothing and the others still commit.
            assert (flat_ok);
            ts_txn_abort (&txn);
            flat_ok = false;
            attempt--;
            continue;
        }
        if (store_err == 0)
            store_err = ts_txn_error (txn);
        int64_t checked_ms = ts_dispatch_now (self);
        if (store_err == 0 && any_write
        &&  s_batch_has_late_write (jobs, job_count, checked_ms)) {
            //  Not a map attempt: run again without the late jobs (504),
            //  nor those that would be late by the end of the re-run, so
            //  an overloaded daemon does not re-run a batch for nothing.
            ts_txn_abort (&txn);
            attempt--;
            margin_ms = 2 * (checked_ms > now_ms ? checked_ms - now_ms : 0) + 1;
            if (++late_reruns < LATE_RERUNS_MAX)
                continue;
            s_batch_fail_writes (self, jobs, job_count);
            return 0;
        }
        int rc;
        if (store_err != 0) {
            ts_txn_abort (&txn);
            rc = store_err;
        }
        else
        if (any_write)
            rc = ts_txn_commit (&txn);
        else {
            ts_txn_abort (&txn);
            return 0;
        }
        if (rc == 0) {
            if (last_seq > self->outbox_head)
                self->outbox_head = last_seq;
            return 1;
        }
        if (rc == TS_STORE_MAP_FULL && ts_store_grow (self->store) == 0) {
            ts_log_info ("map_grown", "map_size_bytes=%zu", ts_store_map_size (self->store));
            continue;
        }
        s_batch_failed (self, jobs, job_count, arena, rc);
        return 0;
    }
    for (size_t i = 0; i < job_count; i++)
        s_job_fail (&jobs [i], TS_INTERNAL, "storage full");
    return 0;
}

unsigned
ts_dispatch_call (ts_dispatch *self, const char *method, const Tashan__Caller *caller,
                  const ProtobufCMessage *request, ts_arena *arena,
                  ProtobufCMessage **reply, char *message, size_t message_size)
{
    assert (self && self->magic == DISPATCH_MAGIC);
    ts_job job = { 0 };
    job.method = method;
    job.caller = caller;
    job.body_size = protobuf_c_message_get_packed_size (request);
    uint8_t *body = ts_arena_alloc (arena, job.body_size ? job.body_size : 1);
    protobuf_c_message_pack (request, body);
    job.body = body;
    ts_dispatch_run_batch (self, &job, 1, arena);
    if (message)
        snprintf (message, message_size, "%s", job.message);
    if (reply) {
        *reply = NULL;
        const ts_method *m = s_find_method (self, method);
        if (m && job.code < 400)
            *reply = protobuf_c_message_unpack (m->reply, ts_arena_pb (arena),
                                                job.reply_size, job.reply);
    }
    return job.code;
}

//  --------------------------------------------------------------------
//  Events

static const ts_subscription *
s_find_subscription (ts_dispatch *self, const char *producer)
{
    for (size_t i = 0; i < self->service->subscription_count; i++)
        if (strcmp (self->service->subscriptions [i].producer, producer) == 0)
            return &self->service->subscriptions [i];
    return NULL;
}

//  Position record: u64 applied seq, u64 producer head seen.
static void
s_position_get (ts_dispatch *self, ts_txn *txn, const char *producer,
                uint64_t *applied, uint64_t *head)
{
    ts_key k;
    ts_key_init (&k);
    ts_key_str (&k, producer);
    ts_val v;
    *applied = *head = 0;
    if (ts_txn_get (txn, self->inbox, k.data, k.size, &v) && v.size >= 16) {
        *applied = ts_be64_get (v.data);
        *head = ts_be64_get ((const uint8_t *) v.data + 8);
    }
}

//  The producer generation the position is in (0: not known yet; a
//  position written before generations existed is 16 bytes).
static uint64_t
s_generation_get (ts_dispatch *self, ts_txn *txn, const char *producer)
{
    ts_key k;
    ts_key_init (&k);
    ts_key_str (&k, producer);
    ts_val v;
    if (ts_txn_get (txn, self->inbox, k.data, k.size, &v) && v.size == 24)
        return ts_be64_get ((const uint8_t *) v.data + 16);
    return 0;
}

static void
s_position_write (ts_dispatch *self, ts_txn *txn, const char *producer,
                  uint64_t applied, uint64_t head, uint64_t generation)
{
    ts_key k;
    ts_key_init (&k);
    ts_key_str (&k, producer);
    uint8_t v [24];
    ts_be64_put (v, applied);
    ts_be64_put (v + 8, head);
    ts_be64_put (v + 16, generation);
    ts_txn_put (txn, self->inbox, k.data, k.size, v, 24);
}

static void
s_position_put (ts_dispatch *self, ts_txn *txn, const char *producer,
                uint64_t applied, uint64_t head)
{
    s_position_write (self, txn, producer, applied, head,
                      s_generation_get (self, txn, producer));
}

static void
s_apply_one (ts_dispatch *self, ts_txn *txn, const ts_subscription *sub,
             const char *producer, const Tashan__Event *event, ts_arena *arena,
             int64_t now_ms, uint64_t *last_seq)
{
    const ts_topic_handler *th = NULL;
    for (size_t i = 0; sub && i < sub->topic_count; i++)
        if (strcmp (sub->topics [i].topic, event->topic) == 0)
            th = &sub->topics [i];
    if (!th)
        return;                     //  not a topic we use
    void *payload = protobuf_c_message_unpack (th->payload, ts_arena_pb (arena),
                                               event->payload.len, event->payload.data);
    if (!payload) {
        ts_log_warn ("event_skipped", "producer=%s seq=%llu topic=%s reason=\"malformed payload\"",
                     producer, (unsigned long long) event->seq, event->topic);
        return;
    }
    char principal [64];
    snprintf (principal, sizeof principal, "%s", producer);
    Tashan__Caller caller = ts_caller ("system", "", principal);
    ts_ctx ctx = { 0 };
    ctx.txn = ts_txn_begin_nested (txn);
    ctx.caller = &caller;
    ctx.now_ms = now_ms;
    ctx.arena = arena;
    ctx.state = self->state;
    ctx.dispatch = self;
    unsigned code = th->apply (&ctx, payload, event);
    int rc = ts_txn_error (ctx.txn);
    if (code >= 400 || rc != 0) {
        ts_txn_abort (&ctx.txn);
        if (rc == TS_STORE_MAP_FULL) {
            ts_txn_fail (txn, rc);
            return;
        }
        ts_log_warn ("event_skipped", "producer=%s seq=%llu topic=%s code=%u reason=\"%s\"",
                     producer, (unsigned long long) event->seq, event->topic, code,
                     rc ? mdb_strerror (rc) : ctx.message);
        return;
    }
    rc = ts_txn_commit (&ctx.txn);
    if (rc != 0)
        ts_txn_fail (txn, rc);
    else
    if (ctx.last_event_seq > *last_seq)
        *last_seq = ctx.last_event_seq;
}

int
ts_dispatch_apply_batch (ts_dispatch *self, const char *producer,
                         Tashan__Event **events, size_t event_count,
                         uint64_t producer_head_seq)
{
    assert (self && self->magic == DISPATCH_MAGIC);
    assert (event_count <= TS_FETCH_MAX_EVENTS);
    const ts_subscription *sub = s_find_subscription (self, producer);
    for (int attempt = 0; attempt < BATCH_ATTEMPTS_MAX; attempt++) {
        ts_arena *arena = ts_arena_new ();
        int64_t now_ms = ts_dispatch_now (self);
        ts_txn *txn = s_write_begin (self);
        uint64_t applied, head, last_seq = 0;
        s_position_get (self, txn, producer, &applied, &head);
        for (size_t i = 0; i < event_count && ts_txn_error (txn) == 0; i++) {
            const Tashan__Event *ev = events [i];
            if (ev->seq <= applied)
                continue;           //  seen before: a redelivery
            if (ev->seq != applied + 1)
                ts_log_warn ("event_gap", "producer=%s expected=%llu got=%llu", producer,
                             (unsigned long long) applied + 1, (unsigned long long) ev->seq);
            s_apply_one (self, txn, sub, producer, ev, arena, now_ms, &last_seq);
            applied = ev->seq;
        }
        if (producer_head_seq > head)
            head = producer_head_seq;
        if (head < applied)
            head = applied;
        s_position_put (self, txn, producer, applied, head);
        int rc = ts_txn_commit (&txn);
        ts_arena_destroy (&arena);
        if (rc == 0) {
            if (last_seq > self->outbox_head)
                self->outbox_head = last_seq;
            return 0;
        }
        if (rc == TS_STORE_MAP_FULL && ts_store_grow (self->store) == 0)
            continue;
        ts_log_error ("apply_failed", "producer=%s error=\"%s\"", producer, mdb_strerror (rc));
        return -1;
    }
    return -1;
}

unsigned
ts_dispatch_apply (ts_dispatch *self, const char *producer, const Tashan__Event *event)
{
    Tashan__Event *one = (Tashan__Event *) event;
    return ts_dispatch_apply_batch (self, producer, &one, 1, 0) == 0 ? TS_OK : TS_INTERNAL;
}

uint64_t
ts_dispatch_position (ts_dispatch *self, const char *producer)
{
    ts_txn *txn = ts_txn_begin (self->store, false);
    uint64_t applied, head;
    s_position_get (self, txn, producer, &applied, &head);
    ts_txn_abort (&txn);
    return applied;
}

uint64_t
ts_dispatch_producer_generation (ts_dispatch *self, const char *producer)
{
    ts_txn *txn = ts_txn_begin (self->store, false);
    uint64_t generation = s_generation_get (self, txn, producer);
    ts_txn_abort (&txn);
    return generation;
}

int
ts_dispatch_adopt_generation (ts_dispatch *self, const char *producer, uint64_t generation)
{
    assert (self && self->magic == DISPATCH_MAGIC);
    assert (generation != 0);
    for (int attempt = 0; attempt < BATCH_ATTEMPTS_MAX; attempt++) {
        ts_txn *txn = s_write_begin (self);
        uint64_t applied, head;
        s_position_get (self, txn, producer, &applied, &head);
        s_position_write (self, txn, producer, applied, head, generation);
        int rc = ts_txn_commit (&txn);
        if (rc == 0)
            return 0;
        if (rc != TS_STORE_MAP_FULL || ts_store_grow (self->store) != 0)
            return -1;
    }
    return -1;
}

uint64_t
ts_dispatch_producer_head (ts_dispatch *self, const char *producer)
{
    ts_txn *txn = ts_txn_begin (self->store, false);
    uint64_t applied, head;
    s_position_get (self, txn, producer, &applied, &head);
    ts_txn_abort (&txn);
    return head;
}

size_t
ts_dispatch_events (ts_dispatch *self, uint64_t after_seq, size_t max,
                    ts_arena *arena, Tashan__Event ***events)
{
    assert (self && self->magic == DISPATCH_MAGIC);
    if (max > TS_FETCH_MAX_EVENTS)
        max = TS_FETCH_MAX_EVENTS;
    if (after_seq == UINT64_MAX) {
        *events = NULL;
        return 0;                   //  nothing can come after the last seq
    }
    Tashan__Event **out = ts_arena_alloc (arena, sizeof (Tashan__Event *) * (max ? max : 1));
    size_t n = 0;
    ts_txn *txn = ts_txn_begin (self->store, false);
    ts_cursor cur;
    uint8_t key [8];
    ts_be64_put (key, after_seq + 1);
    if (ts_cursor_open (&cur, txn, self->outbox)) {
        for (bool ok = ts_cursor_seek (&cur, key, 8); ok && n < max; ok = ts_cursor_next (&cur)) {
            Tashan__Event *ev = (Tashan__Event *) protobuf_c_message_unpack (
                &tashan__event__descriptor, ts_arena_pb (arena), cur.value.size, cur.value.data);
            if (!ev) {
                ts_log_error ("outbox_corrupt", "seq=%llu",
                              (unsigned long long) ts_be64_get (cur.key.data));
                break;
            }
            out [n++] = ev;
        }
        ts_cursor_close (&cur);
    }
    ts_txn_abort (&txn);
    *events = out;
    return n;
}

//  --------------------------------------------------------------------
//  The service's periodic work, in its own write transaction.

unsigned
ts_dispatch_tick_once (ts_dispatch *self, int *rc_out, uint64_t *last_event_seq_out)
{
    assert (self && self->magic == DISPATCH_MAGIC && self->service->tick);
    assert (rc_out && last_event_seq_out);
    ts_arena *arena = ts_arena_new ();
    Tashan__Caller caller = ts_caller ("system", "", "tick");
    ts_ctx ctx = { 0 };
    ctx.txn = ts_txn_begin (self->store, true);
    ctx.caller = &caller;
    ctx.now_ms = ts_dispatch_now (self);
    ctx.arena = arena;
    ctx.state = self->state;
    ctx.dispatch = self;
    unsigned code = self->service->tick (&ctx);
    int rc;
    if (code >= 400) {
        ts_txn_abort (&ctx.txn);
        ts_log_warn ("tick_failed", "code=%u reason=\"%s\"", code, ctx.message);
        rc = 0;
    }
    else
        rc = ts_txn_commit (&ctx.txn);
    ts_arena_destroy (&arena);
    *rc_out = rc;
    *last_event_seq_out = rc == 0 && code < 400 ? ctx.last_event_seq : 0;
    return code;
}

void
ts_dispatch_tick_committed (ts_dispatch *self, uint64_t last_event_seq)
{
    assert (self && self->magic == DISPATCH_MAGIC);
    if (last_event_seq > self->outbox_head)
        self->outbox_head = last_event_seq;
}

unsigned
ts_dispatch_tick (ts_dispatch *self)
{
    assert (self && self->magic == DISPATCH_MAGIC);
    if (!self->service->tick)
        return TS_OK;
    for (int attempt = 0; attempt < BATCH_ATTEMPTS_MAX; attempt++) {
        int rc;
        uint64_t last_event_seq;
        if (self->write_gate)
            self->write_gate (self->write_gate_arg);
        unsigned code = ts_dispatch_tick_once (self, &rc, &last_event_seq);
        if (rc == TS_STORE_MAP_FULL && ts_store_grow (self->store) == 0)
            continue;
        if (rc != 0) {
            ts_log_error ("tick_failed", "error=\"%s\"", mdb_strerror (rc));
            return TS_INTERNAL;
        }
        ts_dispatch_tick_committed (self, last_event_seq);
        return code;
    }
    return TS_INTERNAL;
}
