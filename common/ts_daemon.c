/*  =========================================================================
    ts_daemon - the event loop of every domain daemon

    One thread, one libuv loop:
      ROUTER socket (ts_zwatch)  -> drain up to TS_BATCH_MAX requests
                                    (and TS_BATCH_MAX_BYTES of them)
                                 -> ts_dispatch_run_batch (group commit)
                                 -> one reply per request
      sys.Batch messages         many requests in one message (ts_batch.h):
                                 each entry becomes a job of the same
                                 group commit (the jobs drained before it
                                 are run first when it would not fit);
                                 the answers to one batch leave as one
                                 ReplyBatch message (more when they pass
                                 TS_BATCH_FLUSH_BYTES)
      built-in methods           sys.Health, sys.Fetch (long-poll outbox
                                 reads for consumers), sys.Backup
      subscriptions              one DEALER per producer: fetch after our
                                 position, apply the events with the new
                                 position in one transaction, repeat
      tick (ts_ticker)           the service's periodic work, on the
                                 loop or on a worker thread: then a
                                 write waits for it, reads do not
      SIGINT/SIGTERM             close every handle; the loop ends
    =========================================================================
*/
#include "ts_service.h"

#include <assert.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zmq.h>

#include "ts_batch.h"
#include "ts_config.h"
#include "ts_dispatch.h"
#include "ts_log.h"
#include "ts_memory.h"
#include "ts_park.h"
#include "ts_reqlog.h"
#include "ts_valid.h"
#include "ts_verify.h"
#include "ts_rpc.h"
#include "ts_ticker.h"
#include "ts_warnlimit.h"
#include "ts_zap.h"
#include "ts_zmq.h"
#include "ts_zwatch.h"

#define DAEMON_MAGIC 0x44414d4eu
#define IDENTITY_MAX 256
#define METHOD_MAX_CHARS 64
#define SUBS_MAX 8
#define FETCH_WAIT_MAX_MS 5000
#define FETCH_WAIT_MS 1500           //  our long-poll: one idle call per 1.5 s
#define FETCH_TIMEOUT_MS 2500        //  a fetch lost with its producer is retried soon
#define SUB_RETRY_MS 300
#define WAITER_SWEEP_MS 100
#define FRAMES_MAX (1 << 20)        //  frames read of one message, at most
                                    //  (it is in memory already: drain it)
#define BATCH_ARENA_KEEP_BYTES (1024u * 1024)  //  a batch's memory kept for the next
//  Batch size buckets of HealthReply.batch_sizes: at most 1, 2, 4 ... 512
//  (TS_BATCH_MAX) requests.
#define TS_BATCH_SIZE_BUCKETS 10
#define PAUSE_HOLD_MAX_MS 600000     //  sys.Pause: ten minutes at most
#define ANSWERS_MAX 16              //  sys.Batch messages answered per drain

typedef struct {
    uint8_t identity [IDENTITY_MAX];//  ROUTER identity of the consumer
    size_t identity_size;
    uint64_t corr_id;
    uint64_t after_seq;
    uint32_t max_events;
    uint64_t deadline_ms;           //  uv_now time to answer empty
    bool used;
} waiter_t;

typedef struct {
    struct ts_daemon *daemon;
    const ts_subscription *sub;
    ts_rpc *rpc;                    //  to the producer
    uint64_t applied_seq;           //  our position (mirrors LMDB)
    uint64_t head_seq;              //  producer's head as last seen
    uint64_t generation;            //  producer's outbox generation (0 unknown)
    uint64_t held_until_ms;         //  sys.Pause: no applying before (uv_now)
    char error [320];               //  why consuming stopped ("" running)
    bool fetching;                  //  a fetch is in flight
    bool stopping;
    uv_timer_t retry;               //  back-off after an error
} sub_t;

typedef struct {
    uint8_t identity [IDENTITY_MAX];
    size_t identity_size;
    uint64_t corr_id;
    uint64_t start_ns;              //  uv_hrtime when it was dequeued
    const char *request_id;         //  the caller's, "" when none (batch arena)
    uint32_t answer;                //  1 + its batch's index in answers, 0 alone
} origin_t;

//  The answers to one sys.Batch message, collected while it is served.
typedef struct {
    uint8_t identity [IDENTITY_MAX];
    size_t identity_size;
    uint64_t corr_id;               //  the batch's
    ts_batch *replies;              //  ReplyBatch builder, kept for reuse
} answer_t;

//  What s_recv_request read of one message.
typedef enum {
    RECV_NONE = 0,                  //  nothing waiting
    RECV_REQUEST,                   //  a request: answer it
    RECV_BAD,                       //  not one: answer err_code, err_text
} recv_result_t;

typedef struct {
    Tashan__Request *req;           //  RECV_REQUEST (arena memory)
    bool req_envelope;              //  sent by a REQ socket (empty delimiter)
    unsigned err_code;              //  RECV_BAD: 400 or 413
    const char *err_text;
    char peer_name [TS_KEYS_NAME_MAX_CHARS + 1];    //  CURVE: User-Id
    char peer_key [TS_KEYS_Z85_CHARS + 1];          //  CURVE: X-Key
} incoming_t;

struct ts_daemon {
    uint32_t magic;                 //  DAEMON_MAGIC
    const ts_service *service;
    ts_config cfg;
    uv_loop_t loop;
    ts_dispatch *dispatch;
    void *router;                   //  ROUTER socket
    ts_zwatch *watch;
    ts_zap *zap;                    //  CURVE: client authentication, else NULL
    ts_warnlimit warn_limit;        //  bad frames, refused clients
    uv_signal_t sigint, sigterm;
    ts_ticker *ticker;              //  the service's tick, or NULL
    uv_timer_t sweep;               //  long-poll deadlines
    waiter_t waiters [TS_FETCH_WAITERS_MAX];
    sub_t subs [SUBS_MAX];
    size_t sub_count;
    ts_arena *arena;                //  per batch
    ts_job jobs [TS_BATCH_MAX];
    origin_t origins [TS_BATCH_MAX];
    answer_t answers [ANSWERS_MAX]; //  sys.Batch messages of this drain
    size_t answer_count;
    ts_park *park;                  //  requests whose outcome is not final yet
    uint64_t start_ms;
    uint64_t requests_total;
    uint64_t batch_messages_total;  //  sys.Batch messages received
    uint64_t batches_total;
    uint64_t batch_jobs_total;      //  requests run in batches
    uint64_t batch_sizes [TS_BATCH_SIZE_BUCKETS];   //  see HealthReply
    bool stopping;
    //  sys.Backup runs on a worker thread
    uv_work_t backup_work;
    bool backup_busy;
    origin_t backup_origin;
    char backup_dir [TS_PATH_MAX];
    int backup_rc;
};

const char *
ts_daemon_data_dir (ts_daemon *self)
{
    assert (self && self->magic == DAEMON_MAGIC);
    return self->cfg.data_dir;
}

//  --------------------------------------------------------------------
//  Replies

static void
s_send_reply (ts_daemon *self, const uint8_t *identity, size_t identity_size,
              uint64_t corr_id, unsigned code, const char *message,
              const uint8_t *body, size_t body_size)
{
    Tashan__Status status = TASHAN__STATUS__INIT;
    status.code = code;
    status.message = (char *) (message ? message : "");
    Tashan__Reply reply = TASHAN__REPLY__INIT;
    reply.corr_id = corr_id;
    reply.status = &status;
    reply.body.data = (uint8_t *) body;
    reply.body.len = body_size;
    size_t size = protobuf_c_message_get_packed_size (&reply.base);
    zmq_msg_t msg;
    zmq_msg_init_size (&msg, size);
    protobuf_c_message_pack (&reply.base, zmq_msg_data (&msg));
    ts_zwatch_touch (self->watch);  //  sent from timers too: look again
    //  A peer that vanished (EHOSTUNREACH) or is flooded (EAGAIN) loses
    //  this reply; its own deadline tells it.
    if (zmq_send (self->router, identity, identity_size, ZMQ_SNDMORE | ZMQ_DONTWAIT) < 0
    ||  zmq_msg_send (&msg, self->router, ZMQ_DONTWAIT) < 0) {
        zmq_msg_close (&msg);
        ts_log_debug ("reply_dropped", "corr_id=%llu error=\"%s\"",
                      (unsigned long long) corr_id, zmq_strerror (errno));
    }
}

//  Send what a batch's answer holds: one Reply alone, more as a
//  ReplyBatch in a Reply with the batch's corr_id.
static void
s_answer_flush (ts_daemon *self, answer_t *answer)
{
    if (ts_batch_count (answer->replies) == 0)
        return;
    size_t size = ts_batch_sealed_size (answer->replies, answer->corr_id);
    zmq_msg_t msg;
    zmq_msg_init_size (&msg, size);
    ts_batch_seal (answer->replies, answer->corr_id, zmq_msg_data (&msg));
    ts_zwatch_touch (self->watch);
    if (zmq_send (self->router, answer->identity, answer->identity_size,
                  ZMQ_SNDMORE | ZMQ_DONTWAIT) < 0
    ||  zmq_msg_send (&msg, self->router, ZMQ_DONTWAIT) < 0) {
        zmq_msg_close (&msg);
        ts_log_debug ("reply_dropped", "batch_corr_id=%llu replies=%zu error=\"%s\"",
                      (unsigned long long) answer->corr_id, ts_batch_count (answer->replies),
                      zmq_strerror (errno));
    }
    ts_batch_clear (answer->replies);
}

//  Every batch answered in this drain leaves; the table is free again.
static void
s_answers_flush (ts_daemon *self)
{
    for (size_t i = 0; i < self->answer_count; i++)
        s_answer_flush (self, &self->answers [i]);
    self->answer_count = 0;
}

//  Answer a request: alone, or into its batch's answer (which leaves
//  early when the next reply would make it too big for one frame).
static void
s_answer (ts_daemon *self, const origin_t *to, unsigned code, const char *message,
          const uint8_t *body, size_t body_size)
{
    if (to->answer == 0) {
        s_send_reply (self, to->identity, to->identity_size, to->corr_id, code, message,
                      body, body_size);
        return;
    }
    assert (to->answer <= self->answer_count);
    answer_t *answer = &self->answers [to->answer - 1];
    Tashan__Status status = TASHAN__STATUS__INIT;
    status.code = code;
    status.message = (char *) (message ? message : "");
    Tashan__Reply reply = TASHAN__REPLY__INIT;
    reply.corr_id = to->corr_id;
    reply.status = &status;
    reply.body.data = (uint8_t *) body;
    reply.body.len = body_size;
    if (ts_batch_full (answer->replies, protobuf_c_message_get_packed_size (&reply.base) + 11))
        s_answer_flush (self, answer);
    ts_batch_add (answer->replies, &reply.base);
}

//  ts_park's reply callback.
static void
s_park_reply (void *arg, const uint8_t *identity, size_t identity_size, uint64_t corr_id,
              unsigned code, const char *message, const uint8_t *body, size_t body_size)
{
    s_send_reply (arg, identity, identity_size, corr_id, code, message, body, body_size);
}

//  Events were applied (or the tick ran): parked requests may be final.
static void
s_park_rerun (ts_daemon *self)
{
    if (ts_park_count (self->park) > 0)
        ts_park_rerun (self->park, self->dispatch, uv_now (&self->loop), s_park_reply, self);
}

static void
s_reply_msg (ts_daemon *self, const origin_t *to, unsigned code, const char *message,
             const ProtobufCMessage *body)
{
    uint8_t *buf = NULL;
    size_t size = 0;
    if (body) {
        size = protobuf_c_message_get_packed_size (body);
        buf = malloc (size ? size : 1);
        assert (buf);
        protobuf_c_message_pack (body, buf);
    }
    s_answer (self, to, code, message, buf, size);
    free (buf);
}

//  --------------------------------------------------------------------
//  sys.Fetch: outbox reads for consumers, held until events arrive.

static void
s_answer_fetch (ts_daemon *self, const uint8_t *identity, size_t identity_size,
                uint64_t corr_id, uint64_t after_seq, uint32_t max_events)
{
    ts_arena *arena = ts_arena_new ();
    Tashan__Event **events = NULL;
    size_t n = ts_dispatch_events (self->dispatch, after_seq, max_events, arena, &events);
    Tashan__FetchReply reply = TASHAN__FETCH_REPLY__INIT;
    reply.events = events;
    reply.n_events = n;
    reply.head_seq = ts_dispatch_outbox_head (self->dispatch);
    reply.generation = ts_store_generation (ts_dispatch_store (self->dispatch));
    origin_t to = { .answer = 0 };
    assert (identity_size <= IDENTITY_MAX);
    memcpy (to.identity, identity, identity_size);
    to.identity_size = identity_size;
    to.corr_id = corr_id;
    s_reply_msg (self, &to, TS_OK, "", &reply.base);
    ts_arena_destroy (&arena);
}

static void
s_wake_waiters (ts_daemon *self, bool expire_only)
{
    uint64_t head = ts_dispatch_outbox_head (self->dispatch);
    uint64_t now = uv_now (&self->loop);
    for (size_t i = 0; i < TS_FETCH_WAITERS_MAX; i++) {
        waiter_t *w = &self->waiters [i];
        if (!w->used)
            continue;
        bool ready = !expire_only && head > w->after_seq;
        if (ready || w->deadline_ms <= now || self->stopping) {
            s_answer_fetch (self, w->identity, w->identity_size, w->corr_id,
                            w->after_seq, w->max_events);
            w->used = false;
        }
    }
}

static void
s_on_sweep (uv_timer_t *timer)
{
    ts_daemon *self = timer->data;
    s_wake_waiters (self, true);
    ts_park_expire (self->park, uv_now (&self->loop), s_park_reply, self);
    ts_memory_tick (ts_dispatch_store (self->dispatch), uv_now (&self->loop));
}

static void
s_handle_fetch (ts_daemon *self, const origin_t *from, const Tashan__Request *req)
{
    Tashan__FetchRequest *fr = (Tashan__FetchRequest *) protobuf_c_message_unpack (
        &tashan__fetch_request__descriptor, ts_arena_pb (self->arena),
        req->body.len, req->body.data);
    if (!fr || fr->max_events < 1 || fr->max_events > TS_FETCH_MAX_EVENTS
    ||  fr->wait_ms > FETCH_WAIT_MAX_MS) {
        s_reply_msg (self, from, TS_BAD_REQUEST,
                     "fetch needs max_events 1..1000 and wait_ms 0..5000", NULL);
        return;
    }
    uint64_t head = ts_dispatch_outbox_head (self->dispatch);
    if (head > fr->after_seq || fr->wait_ms == 0 || self->stopping) {
        s_answer_fetch (self, from->identity, from->identity_size, from->corr_id,
                        fr->after_seq, fr->max_events);
        return;
    }
    for (size_t i = 0; i < TS_FETCH_WAITERS_MAX; i++) {
        waiter_t *w = &self->waiters [i];
        if (w->used)
            continue;
        memcpy (w->identity, from->identity, from->identity_size);
        w->identity_size = from->identity_size;
        w->corr_id = from->corr_id;
        w->after_seq = fr->after_seq;
        w->max_events = fr->max_events;
        w->deadline_ms = uv_now (&self->loop) + fr->wait_ms;
        w->used = true;
        return;
    }
    //  Every waiter slot busy: answer now (empty), the consumer asks again.
    s_answer_fetch (self, from->identity, from->identity_size, from->corr_id,
                    fr->after_seq, fr->max_events);
}

//  --------------------------------------------------------------------
//  sys.Health and sys.Backup

static void
s_handle_health (ts_daemon *self, const origin_t *from)
{
    Tashan__HealthReply reply = TASHAN__HEALTH_REPLY__INIT;
    reply.service = (char *) self->service->name;
    reply.version = (char *) TASHAN_VERSION;
    reply.uptime_ms = (int64_t) (uv_now (&self->loop) - self->start_ms);
    reply.outbox_head_seq = ts_dispatch_outbox_head (self->dispatch);
    reply.requests_total = self->requests_total;
    reply.batches_total = self->batches_total;
    ts_store *store = ts_dispatch_store (self->dispatch);
    reply.map_size_bytes = ts_store_map_size (store);
    reply.map_used_bytes = ts_store_used_bytes (store);
    int full = ts_store_full (store);
    reply.store_degraded = full != 0;
    reply.store_degraded_reason = full ? strerror (full) : "";
    reply.batch_jobs_total = self->batch_jobs_total;
    reply.batch_sizes = self->batch_sizes;
    reply.n_batch_sizes = TS_BATCH_SIZE_BUCKETS;
    reply.log_lines_dropped = ts_log_dropped ();
    reply.holds_data = ts_store_holds_data (store);
    reply.outbox_generation = ts_store_generation (store);
    reply.schema_version = self->service->schema_version;
    reply.batch_messages_total = self->batch_messages_total;
    Tashan__ConsumerPosition positions [SUBS_MAX];
    Tashan__ConsumerPosition *ptrs [SUBS_MAX];
    for (size_t i = 0; i < self->sub_count; i++) {
        tashan__consumer_position__init (&positions [i]);
        positions [i].producer = (char *) self->subs [i].sub->producer;
        positions [i].applied_seq = self->subs [i].applied_seq;
        positions [i].producer_head_seq = self->subs [i].head_seq;
        positions [i].generation = self->subs [i].generation;
        positions [i].error = self->subs [i].error;
        ptrs [i] = &positions [i];
    }
    reply.consumers = ptrs;
    reply.n_consumers = self->sub_count;
    s_reply_msg (self, from, TS_OK, "", &reply.base);
}

//  sys.Pause: hold (or release) consuming from the named producers (none
//  named: every one). Answered with our health, whose positions hold
//  still until the hold ends: a fetch in flight is dropped, not applied.
static void
s_handle_pause (ts_daemon *self, const origin_t *from, const Tashan__Request *req)
{
    Tashan__PauseRequest *pr = (Tashan__PauseRequest *) protobuf_c_message_unpack (
        &tashan__pause_request__descriptor, ts_arena_pb (self->arena),
        req->body.len, req->body.data);
    if (!pr || pr->hold_ms > PAUSE_HOLD_MAX_MS || pr->n_producers > SUBS_MAX) {
        s_reply_msg (self, from, TS_BAD_REQUEST,
                     "pause needs hold_ms 0..600000 and at most 8 producers", NULL);
        return;
    }
    for (size_t p = 0; p < pr->n_producers; p++) {
        bool known = false;
        for (size_t i = 0; i < self->sub_count; i++)
            known |= strcmp (self->subs [i].sub->producer, pr->producers [p]) == 0;
        if (!known) {
            s_reply_msg (self, from, TS_NOT_FOUND, "not a producer this daemon consumes", NULL);
            return;
        }
    }
    uint64_t until_ms = uv_now (&self->loop) + pr->hold_ms;
    for (size_t i = 0; i < self->sub_count; i++) {
        bool named = pr->n_producers == 0;
        for (size_t p = 0; p < pr->n_producers; p++)
            named |= strcmp (self->subs [i].sub->producer, pr->producers [p]) == 0;
        if (named)
            self->subs [i].held_until_ms = pr->hold_ms ? until_ms : 0;
    }
    ts_log_info ("consumers_paused", "producers=%zu hold_ms=%u", pr->n_producers, pr->hold_ms);
    s_handle_health (self, from);
}

//  sys.Verify: the service's own check of its derived records.
static void
s_handle_verify (ts_daemon *self, const origin_t *from)
{
    Tashan__VerifyReply reply = TASHAN__VERIFY_REPLY__INIT;
    unsigned code = ts_verify_run (self->dispatch, self->arena, &reply);
    ts_log_info ("verified", "checked=%llu findings=%zu", (unsigned long long) reply.checked,
                 reply.n_findings);
    s_reply_msg (self, from, code, code == TS_OK ? "" : reply.findings [0], &reply.base);
}

//  Copy a small file (a service's key kept beside its store).
static int
s_copy_small_file (const char *from, const char *to)
{
    FILE *in = fopen (from, "rb");
    if (!in)
        return -1;
    char buf [64 * 1024];
    size_t n = fread (buf, 1, sizeof buf, in);
    bool whole = feof (in);
    fclose (in);
    if (!whole)
        return -1;                  //  not a key: too big to be one
    int fd = open (to, O_WRONLY | O_CREAT | O_EXCL, 0600);
    if (fd < 0)
        return -1;
    int rc = (write (fd, buf, n) == (ssize_t) n && fsync (fd) == 0) ? 0 : -1;
    close (fd);
    return rc;
}

static void
s_backup_work (uv_work_t *work)
{
    ts_daemon *self = work->data;
    ts_store *store = ts_dispatch_store (self->dispatch);
    self->backup_rc = ts_store_copy (store, self->backup_dir);
    if (self->backup_rc != 0)
        return;
    //  Keys kept next to the store (signing, hashing) belong to it: a
    //  restore without them could not verify what the store holds.
    const char *dir = NULL;
    mdb_env_get_path (ts_store_env (store), &dir);
    DIR *d = dir ? opendir (dir) : NULL;
    for (struct dirent *e; d && (e = readdir (d)) != NULL; ) {
        if (e->d_type != DT_REG || !strcmp (e->d_name, "data.mdb") || !strcmp (e->d_name, "lock.mdb"))
            continue;
        char from [TS_PATH_MAX + 300], to [TS_PATH_MAX + 300];
        snprintf (from, sizeof from, "%s/%s", dir, e->d_name);
        snprintf (to, sizeof to, "%s/%s", self->backup_dir, e->d_name);
        if (s_copy_small_file (from, to) != 0)
            self->backup_rc = EIO;
    }
    if (d)
        closedir (d);
}

static void
s_backup_done (uv_work_t *work, int status)
{
    ts_daemon *self = work->data;
    self->backup_busy = false;
    if (status != 0 || self->backup_rc != 0) {
        char why [TS_PATH_MAX + 128];
        snprintf (why, sizeof why, "backup to %s failed: %s", self->backup_dir,
                  status ? uv_strerror (status)
                  : self->backup_rc == EIO ? "cannot copy a key file" : mdb_strerror (self->backup_rc));
        ts_log_error ("backup_failed", "dir=%s", self->backup_dir);
        s_reply_msg (self, &self->backup_origin, TS_INTERNAL, why, NULL);
        return;
    }
    char path [TS_PATH_MAX + 16];
    snprintf (path, sizeof path, "%s/data.mdb", self->backup_dir);
    struct stat st;
    Tashan__BackupReply reply = TASHAN__BACKUP_REPLY__INIT;
    reply.path = path;
    reply.size_bytes = stat (path, &st) == 0 ? (uint64_t) st.st_size : 0;
    ts_log_info ("backup_done", "path=%s size_bytes=%llu", path,
                 (unsigned long long) reply.size_bytes);
    s_reply_msg (self, &self->backup_origin, TS_OK, "", &reply.base);
}

static bool
s_path_under (const char *path, const char *root)
{
    size_t n = strlen (root);
    return strncmp (path, root, n) == 0 && (path [n] == 0 || path [n] == '/'
                                            || (n == 1 && root [0] == '/'));
}

//  sys.Backup writes only under backup.root: dir must be absolute, have no
//  '..', and its deepest existing ancestor must resolve (symlinks
//  followed) to the root or below it. Returns 0, 400 or 403 with why.
static unsigned
s_backup_dir_check (ts_daemon *self, const char *dir, char *why, size_t why_size)
{
    if (dir [0] != '/' || strlen (dir) > 400 || strstr (dir, "..")) {
        snprintf (why, why_size, "backup dir must be an absolute path of at most 400 bytes "
                  "without '..'");
        return TS_BAD_REQUEST;
    }
    char root [PATH_MAX], probe [TS_PATH_MAX], real [PATH_MAX];
    if (!realpath (self->cfg.backup_root, root)) {
        snprintf (why, why_size, "backup.root %s: %s", self->cfg.backup_root, strerror (errno));
        return TS_INTERNAL;
    }
    snprintf (probe, sizeof probe, "%s", dir);
    for (int depth = 0; !realpath (probe, real); depth++) {
        char *slash = strrchr (probe, '/');
        if (errno != ENOENT || depth > 200 || !slash) {
            snprintf (why, why_size, "backup dir %s: %s", dir, strerror (errno));
            return TS_BAD_REQUEST;
        }
        slash [slash == probe ? 1 : 0] = 0;
    }
    if (!s_path_under (real, root)) {
        snprintf (why, why_size, "backup dir %.400s is outside backup.root %.400s", dir, root);
        return TS_FORBIDDEN;
    }
    return 0;
}

static void
s_handle_backup (ts_daemon *self, const origin_t *from, const Tashan__Request *req)
{
    Tashan__BackupRequest *br = (Tashan__BackupRequest *) protobuf_c_message_unpack (
        &tashan__backup_request__descriptor, ts_arena_pb (self->arena),
        req->body.len, req->body.data);
    char why [1024];
    unsigned code = br ? s_backup_dir_check (self, br->dir, why, sizeof why) : TS_BAD_REQUEST;
    if (code != 0) {
        s_reply_msg (self, from, code, br ? why : "body is not a tashan.BackupRequest", NULL);
        return;
    }
    if (self->backup_busy) {
        s_reply_msg (self, from, TS_CONFLICT, "a backup is already running", NULL);
        return;
    }
    snprintf (self->backup_dir, sizeof self->backup_dir, "%s/%s", br->dir, self->service->name);
    if (ts_mkdir_p (self->backup_dir) != 0) {
        snprintf (why, sizeof why, "cannot create %s: %s", self->backup_dir, strerror (errno));
        s_reply_msg (self, from, TS_BAD_REQUEST, why, NULL);
        return;
    }
    //  Again on the made dir: <dir>/<service> may be a symlink out.
    code = s_backup_dir_check (self, self->backup_dir, why, sizeof why);
    if (code != 0) {
        s_reply_msg (self, from, code, why, NULL);
        return;
    }
    char existing [TS_PATH_MAX + 16];
    snprintf (existing, sizeof existing, "%s/data.mdb", self->backup_dir);
    struct stat st;
    if (stat (existing, &st) == 0) {
        s_reply_msg (self, from, TS_CONFLICT, "backup dir already holds a data.mdb", NULL);
        return;
    }
    self->backup_busy = true;
    self->backup_origin = *from;
    self->backup_origin.answer = 0;     //  answered alone, after this drain
    self->backup_work.data = self;
    uv_queue_work (&self->loop, &self->backup_work, s_backup_work, s_backup_done);
}

//  --------------------------------------------------------------------
//  The ROUTER: drain, run one group commit, reply.

//  An error Reply in the envelope the peer used (REQ sockets expect an
//  empty delimiter frame before the body).
static void
s_send_bad (ts_daemon *self, const origin_t *to, bool req_envelope, unsigned code,
            const char *text)
{
    if (!req_envelope) {
        s_send_reply (self, to->identity, to->identity_size, to->corr_id, code, text, NULL, 0);
        return;
    }
    Tashan__Status status = TASHAN__STATUS__INIT;
    status.code = code;
    status.message = (char *) text;
    Tashan__Reply reply = TASHAN__REPLY__INIT;
    reply.corr_id = to->corr_id;
    reply.status = &status;
    uint8_t buf [512];
    assert (protobuf_c_message_get_packed_size (&reply.base) <= sizeof buf);
    size_t size = protobuf_c_message_pack (&reply.base, buf);
    ts_zwatch_touch (self->watch);
    if (zmq_send (self->router, to->identity, to->identity_size, ZMQ_SNDMORE | ZMQ_DONTWAIT) < 0
    ||  zmq_send (self->router, "", 0, ZMQ_SNDMORE | ZMQ_DONTWAIT) < 0
    ||  zmq_send (self->router, buf, size, ZMQ_DONTWAIT) < 0)
        ts_log_debug ("reply_dropped", "corr_id=%llu error=\"%s\"",
                      (unsigned long long) to->corr_id, zmq_strerror (errno));
}

//  Judge the frames after the identity: one frame holding a Request (or,
//  from a REQ socket, an empty delimiter then that frame). body is the
//  frame that should hold it.
static recv_result_t
s_judge_frames (ts_daemon *self, origin_t *from, incoming_t *in, zmq_msg_t *body,
                int frame_count)
{
    size_t size = zmq_msg_size (body);
    if (frame_count > 2 || (frame_count == 2 && !in->req_envelope)) {
        in->err_text = "a request is one frame holding a packed tashan.Request";
        return RECV_BAD;
    }
    if (size > TS_FRAME_MAX_BYTES) {
        in->err_code = TS_TOO_LARGE;
        in->err_text = "frame larger than 2 MiB (TS_FRAME_MAX_BYTES)";
        return RECV_BAD;
    }
    in->req = (Tashan__Request *) protobuf_c_message_unpack (
        &tashan__request__descriptor, ts_arena_pb (self->arena), size, zmq_msg_data (body));
    if (!in->req) {
        in->err_text = "frame is not a packed tashan.Request";
        return RECV_BAD;
    }
    from->corr_id = in->req->corr_id;
    if (in->req_envelope) {
        in->err_text = "REQ envelope (empty delimiter frame): use a DEALER socket "
                       "and send one frame per request";
        return RECV_BAD;
    }
    return RECV_REQUEST;
}

//  Read one message (identity, then its frames, bounded) and judge it.
static recv_result_t
s_recv_request (ts_daemon *self, origin_t *from, incoming_t *in)
{
    zmq_msg_t id_msg, body, extra;
    zmq_msg_init (&id_msg);
    if (zmq_msg_recv (&id_msg, self->router, ZMQ_DONTWAIT) < 0) {
        zmq_msg_close (&id_msg);
        return RECV_NONE;
    }
    memset (in, 0, sizeof *in);
    in->err_code = TS_BAD_REQUEST;
    from->corr_id = 0;
    from->answer = 0;
    bool more = zmq_msg_more (&id_msg);
    from->identity_size = zmq_msg_size (&id_msg);
    assert (from->identity_size <= IDENTITY_MAX);   //  libzmq's limit is 255
    memcpy (from->identity, zmq_msg_data (&id_msg), from->identity_size);
    zmq_msg_close (&id_msg);
    zmq_msg_init (&body);
    int frame_count = 0;
    for (int i = 0; more && i < FRAMES_MAX; i++) {
        zmq_msg_init (&extra);
        if (zmq_msg_recv (&extra, self->router, ZMQ_DONTWAIT) < 0) {
            zmq_msg_close (&extra);
            break;
        }
        more = zmq_msg_more (&extra);
        frame_count++;
        //  The body is the first frame, or the second after an empty one.
        if (frame_count == 1)
            in->req_envelope = zmq_msg_size (&extra) == 0 && more;
        if (frame_count == 1 || (frame_count == 2 && in->req_envelope)) {
            zmq_msg_move (&body, &extra);       //  releases the previous body
        }
        zmq_msg_close (&extra);
    }
    ts_zap_peer_of (&body, in->peer_name, sizeof in->peer_name, in->peer_key,
                    sizeof in->peer_key);
    recv_result_t result = frame_count == 0 || more
                         ? (in->err_text = "message without a body", RECV_BAD)
                         : s_judge_frames (self, from, in, &body, frame_count);
    if (result == RECV_BAD)
        ts_warnlimit_log (&self->warn_limit, "bad_frame", "reason=\"%s\" size_bytes=%zu",
                          in->err_text, zmq_msg_size (&body));
    zmq_msg_close (&body);
    return result;
}

//  --------------------------------------------------------------------
//  The request path's envelope: request ids, deadlines, idempotency keys
//  and one log line per request served.

//  One info line for a request this daemon answered (ts_reqlog decides).
static void
s_log_request (const char *method, const Tashan__Caller *caller, const origin_t *from,
               unsigned code)
{
    if (!ts_reqlog_wanted (code))
        return;
    uint64_t duration_us = (uv_hrtime () - from->start_ns) / 1000;
    ts_log_info ("request", "method=%s status=%u duration_us=%llu request_id=%s principal=%s",
                 method, code, (unsigned long long) duration_us,
                 from->request_id [0] ? from->request_id : "-",
                 caller && caller->principal && caller->principal [0]
                     ? caller->principal : "-");
}

//  Answer a request at the door (it never becomes a job) and log it.
static void
s_refuse_request (ts_daemon *self, const origin_t *from, const Tashan__Request *req,
                  unsigned code, const char *message)
{
    s_reply_msg (self, from, code, message, NULL);
    s_log_request (req->method, req->caller, from, code);
}

//  Check what came with a request besides its body and make it the next
//  job. Returns false after answering it: a malformed request id or
//  idempotency key (400), or a deadline already past (504: a caller that
//  gave up must not find its write applied later).
static bool
s_admit_job (ts_daemon *self, origin_t *from, const Tashan__Request *req, ts_job *job)
{
    from->request_id = "";
    if (req->request_id [0] && !ts_request_id_ok (req->request_id)) {
        s_refuse_request (self, from, req, TS_BAD_REQUEST, "request_id must be 1 to 64 "
                          "printable ASCII characters without blanks, quotes or backslashes");
        return false;
    }
    from->request_id = req->request_id;
    if (req->idempotency_key [0] && !ts_idempotency_key_ok (req->idempotency_key)) {
        s_refuse_request (self, from, req, TS_BAD_REQUEST, "the idempotency key must be 1 to "
                          "255 printable ASCII characters without blanks");
        return false;
    }
    if (req->deadline_ms != 0 && ts_dispatch_now (self->dispatch) >= req->deadline_ms) {
        ts_log_debug ("request_expired", "method=%s request_id=%s late_ms=%lld", req->method,
                      from->request_id [0] ? from->request_id : "-",
                      (long long) (ts_dispatch_now (self->dispatch) - req->deadline_ms));
        s_refuse_request (self, from, req, TS_TIMEOUT, "the deadline passed before the "
                          "request was applied (nothing was changed)");
        return false;
    }
    memset (job, 0, sizeof *job);
    job->method = req->method;
    job->caller = req->caller;
    job->body = req->body.data;
    job->body_size = req->body.len;
    job->deadline_ms = req->deadline_ms;
    job->idempotency_key = req->idempotency_key;
    return true;
}

//  Run the drained requests as one group commit and answer each; a
//  request without an outcome yet (a saga in flight, 202) is parked and
//  answered when it has one (ts_park).
static void
s_run_jobs (ts_daemon *self, size_t job_count)
{
    self->batches_total += ts_dispatch_run_batch (self->dispatch, self->jobs, job_count,
                                                   self->arena);
    self->batch_jobs_total += job_count;
    size_t bucket = 0;
    assert (job_count > 0);
    while (bucket < TS_BATCH_SIZE_BUCKETS - 1 && ((size_t) 1 << bucket) < job_count)
        bucket++;
    self->batch_sizes [bucket]++;
    //  Consumers first: the events are durable now, and a consumer that
    //  has them before the client has its reply is seldom behind when
    //  the client's next call reaches it (read-your-writes in practice).
    s_wake_waiters (self, false);
    for (size_t i = 0; i < job_count; i++) {
        ts_job *job = &self->jobs [i];
        const origin_t *o = &self->origins [i];
        unsigned sent = job->code;
        if (job->code == TS_ACCEPTED
        &&  ts_park_add (self->park, o->identity, o->identity_size, o->corr_id, job,
                         uv_now (&self->loop)))
            ;                       //  answered when its saga has an outcome
        else
        if (job->code == TS_ACCEPTED) {
            sent = TS_UNAVAILABLE;
            s_answer (self, o, TS_UNAVAILABLE,
                      "too many requests are waiting for an outcome: retry", NULL, 0);
        }
        else
            s_answer (self, o, job->code, job->message, job->code < 400 ? job->reply : NULL,
                      job->code < 400 ? job->reply_size : 0);
        //  After the reply: the line costs the caller nothing.
        s_log_request (job->method, job->caller, o, sent);
    }
}

//  With CURVE: may the authenticated peer make this request as its Caller
//  says? Without CURVE the file permissions of the ipc sockets (a 0700
//  dir) are the boundary and the Caller is believed. Returns true to go
//  on; false after replying.
static bool
s_authorize (ts_daemon *self, const origin_t *from, incoming_t *in)
{
    if (!self->zap)
        return true;
    char why [256];
    unsigned code = ts_zap_authorize (self->zap, in->peer_name, in->peer_key,
                                      in->req->method ? in->req->method : "",
                                      &in->req->caller, self->arena, why, sizeof why);
    if (code == 0)
        return true;
    ts_warnlimit_log (&self->warn_limit, "client_refused", "name=%s reason=\"%s\"",
                      in->peer_name [0] ? in->peer_name : "-", why);
    s_reply_msg (self, from, code, why, NULL);
    return false;
}

//  The built-in sys.* methods, answered at once (not batched).
static void
s_handle_sys (ts_daemon *self, const origin_t *from, const Tashan__Request *req)
{
    unsigned role = ts_role_bit (req->caller->role);
    if (strcmp (req->method, "sys.Health") == 0)
        s_handle_health (self, from);
    else
    if (role != TS_ROLE_SYSTEM)
        s_reply_msg (self, from, TS_FORBIDDEN, "system calls only", NULL);
    else
    if (strcmp (req->method, "sys.Fetch") == 0)
        s_handle_fetch (self, from, req);
    else
    if (strcmp (req->method, "sys.Backup") == 0)
        s_handle_backup (self, from, req);
    else
    if (strcmp (req->method, "sys.Pause") == 0)
        s_handle_pause (self, from, req);
    else
    if (strcmp (req->method, "sys.Verify") == 0)
        s_handle_verify (self, from);
    else
        s_reply_msg (self, from, TS_NOT_FOUND, "unknown system method", NULL);
}

//  One received request: answered now (errors, sys.*) or queued as a job
//  of the batch. Returns the request bytes queued (0 when answered).
static size_t
s_take_request (ts_daemon *self, origin_t *from, incoming_t *in, size_t *job_count)
{
    Tashan__Request *req = in->req;
    if (!s_authorize (self, from, in))
        return 0;
    if (!req->caller) {
        s_reply_msg (self, from, TS_BAD_REQUEST, "request without caller", NULL);
        return 0;
    }
    long chars = ts_utf8_chars (req->method);
    if (chars <= 0 || chars > METHOD_MAX_CHARS) {
        s_reply_msg (self, from, TS_BAD_REQUEST, "bad method name", NULL);
        return 0;
    }
    if (strncmp (req->method, "sys.", 4) == 0) {
        s_handle_sys (self, from, req);
        return 0;
    }
    from->start_ns = uv_hrtime ();
    if (!s_admit_job (self, from, req, &self->jobs [*job_count]))
        return 0;
    (*job_count)++;
    return req->body.len;
}

//  What s_on_router has drained so far: jobs for one group commit.
typedef struct {
    size_t job_count;
    size_t bytes;                   //  request bodies queued
} drain_t;

//  Run what was drained and send its answers: the group commit is full.
static void
s_drain_run (ts_daemon *self, drain_t *drain)
{
    if (drain->job_count > 0)
        s_run_jobs (self, drain->job_count);
    s_answers_flush (self);
    drain->job_count = 0;
    drain->bytes = 0;
}

//  A sys.Batch message: its entries become jobs of one group commit (the
//  one being drained, or, when they would not fit, the next one: what was
//  drained before runs first). Refused whole (one error reply, nothing
//  applied) when ts_batch_requests says so.
static void
s_take_batch (ts_daemon *self, const origin_t *batch_from, incoming_t *in, drain_t *drain)
{
    Tashan__RequestBatch *batch;
    const char *why;
    self->batch_messages_total++;
    unsigned code = ts_batch_requests (in->req, self->arena, &batch, &why);
    if (code != 0) {
        ts_warnlimit_log (&self->warn_limit, "bad_batch", "reason=\"%s\"", why);
        s_reply_msg (self, batch_from, code, why, NULL);
        return;
    }
    origin_t origin = *batch_from;  //  origins [] is reused below
    if (drain->job_count + batch->n_requests > TS_BATCH_MAX
    ||  drain->bytes + in->req->body.len > TS_BATCH_MAX_BYTES
    ||  self->answer_count == ANSWERS_MAX)
        s_drain_run (self, drain);
    answer_t *answer = &self->answers [self->answer_count++];
    memcpy (answer->identity, origin.identity, origin.identity_size);
    answer->identity_size = origin.identity_size;
    answer->corr_id = origin.corr_id;
    origin.answer = (uint32_t) self->answer_count;
    self->requests_total += batch->n_requests - 1;
    for (size_t i = 0; i < batch->n_requests; i++) {
        assert (drain->job_count < TS_BATCH_MAX);
        origin_t *from = &self->origins [drain->job_count];
        *from = origin;
        from->corr_id = batch->requests [i]->corr_id;
        incoming_t entry = *in;
        entry.req = batch->requests [i];
        drain->bytes += s_take_request (self, from, &entry, &drain->job_count);
    }
}

static void
s_on_router (void *arg)
{
    ts_daemon *self = arg;
    drain_t drain = { 0, 0 };
    for (size_t i = 0; i < TS_BATCH_MAX && drain.bytes < TS_BATCH_MAX_BYTES
                       && !self->stopping; i++) {
        origin_t *from = &self->origins [drain.job_count];
        incoming_t in;
        recv_result_t got = s_recv_request (self, from, &in);
        if (got == RECV_NONE)
            break;
        self->requests_total++;
        if (got == RECV_BAD)
            s_send_bad (self, from, in.req_envelope, in.err_code, in.err_text);
        else
        if (strcmp (in.req->method, TS_BATCH_METHOD) == 0)
            s_take_batch (self, from, &in, &drain);
        else
            drain.bytes += s_take_request (self, from, &in, &drain.job_count);
    }
    s_drain_run (self, &drain);
    ts_arena_reset (self->arena);
}

//  --------------------------------------------------------------------
//  Subscriptions: pull events from producers.

static void s_sub_fetch (sub_t *sub);

static void
s_sub_retry_fire (uv_timer_t *timer)
{
    s_sub_fetch (timer->data);
}

//  Stop consuming from this producer, loudly: applying on would skip the
//  events whose seqs we already hold (or mix two outboxes' seqs). Only an
//  operator can resync; the daemon keeps serving everything else.
static void
s_sub_stop_loudly (sub_t *sub, const char *why, uint64_t head, uint64_t generation)
{
    snprintf (sub->error, sizeof sub->error,
              "%s: position %llu (generation %016llx), producer head %llu "
              "(generation %016llx); resync: restore a backup of every store "
              "taken together (tashanctl backup/restore), then tashanctl verify",
              why, (unsigned long long) sub->applied_seq, (unsigned long long) sub->generation,
              (unsigned long long) head, (unsigned long long) generation);
    ts_log_error ("consumer_stopped", "producer=%s applied=%llu head=%llu "
                  "generation=%016llx producer_generation=%016llx reason=\"%s\"",
                  sub->sub->producer, (unsigned long long) sub->applied_seq,
                  (unsigned long long) head, (unsigned long long) sub->generation,
                  (unsigned long long) generation, sub->error);
}

//  Is the reply from the outbox our position is in, and not behind us?
//  Adopts the producer's generation on first contact. False: stopped.
static bool
s_sub_check_producer (sub_t *sub, const Tashan__FetchReply *reply)
{
    if (reply->generation != 0 && sub->generation == 0) {
        if (ts_dispatch_adopt_generation (sub->daemon->dispatch, sub->sub->producer,
                                          reply->generation) != 0)
            return false;           //  store failed: retried later
        sub->generation = reply->generation;
    }
    if (reply->generation != 0 && reply->generation != sub->generation) {
        s_sub_stop_loudly (sub, "the producer's outbox is another generation",
                           reply->head_seq, reply->generation);
        return false;
    }
    if (reply->head_seq < sub->applied_seq) {
        s_sub_stop_loudly (sub, "this consumer is ahead of its producer",
                           reply->head_seq, reply->generation);
        return false;
    }
    return true;
}

//  sys.Pause holds this subscription now: try again when the hold ends.
static bool
s_sub_held (sub_t *sub)
{
    uint64_t now = uv_now (&sub->daemon->loop);
    if (sub->held_until_ms <= now)
        return false;
    uv_timer_start (&sub->retry, s_sub_retry_fire, sub->held_until_ms - now, 0);
    return true;
}

static void
s_sub_on_reply (void *arg, unsigned code, const char *message, const uint8_t *body,
                size_t body_size)
{
    sub_t *sub = arg;
    ts_daemon *self = sub->daemon;
    sub->fetching = false;
    if (sub->stopping)
        return;
    if (code != TS_OK) {
        ts_log_debug ("fetch_failed", "producer=%s code=%u reason=\"%s\"",
                      sub->sub->producer, code, message);
        uv_timer_start (&sub->retry, s_sub_retry_fire, SUB_RETRY_MS, 0);
        return;
    }
    ts_arena *arena = ts_arena_new ();
    Tashan__FetchReply *reply = (Tashan__FetchReply *) protobuf_c_message_unpack (
        &tashan__fetch_reply__descriptor, ts_arena_pb (arena), body_size, body);
    if (!reply || reply->n_events > TS_FETCH_MAX_EVENTS) {
        ts_log_warn ("fetch_bad_reply", "producer=%s", sub->sub->producer);
        ts_arena_destroy (&arena);
        uv_timer_start (&sub->retry, s_sub_retry_fire, SUB_RETRY_MS, 0);
        return;
    }
    if (sub->error [0] || !s_sub_check_producer (sub, reply) || s_sub_held (sub)) {
        if (!sub->error [0] && !uv_is_active ((uv_handle_t *) &sub->retry))
            uv_timer_start (&sub->retry, s_sub_retry_fire, SUB_RETRY_MS, 0);
        ts_arena_destroy (&arena);
        return;                     //  stopped for good, or held: nothing applied
    }
    sub->head_seq = reply->head_seq;
    if (reply->n_events > 0) {
        if (ts_dispatch_apply_batch (self->dispatch, sub->sub->producer, reply->events,
                                     reply->n_events, reply->head_seq) != 0) {
            ts_arena_destroy (&arena);
            uv_timer_start (&sub->retry, s_sub_retry_fire, SUB_RETRY_MS, 0);
            return;
        }
        uint64_t last = reply->events [reply->n_events - 1]->seq;
        if (last > sub->applied_seq)
            sub->applied_seq = last;
        //  Applying may have emitted events of ours: wake our consumers;
        //  it may have settled a parked request's saga.
        s_wake_waiters (self, false);
        s_park_rerun (self);
    }
    ts_arena_destroy (&arena);
    s_sub_fetch (sub);
}

static void
s_sub_fetch (sub_t *sub)
{
    if (sub->stopping || sub->fetching || sub->error [0] || s_sub_held (sub))
        return;
    Tashan__FetchRequest fr = TASHAN__FETCH_REQUEST__INIT;
    fr.after_seq = sub->applied_seq;
    fr.generation = sub->generation;
    fr.max_events = TS_FETCH_MAX_EVENTS;
    fr.wait_ms = FETCH_WAIT_MS;
    fr.consumer = (char *) sub->daemon->service->name;
    Tashan__Caller caller = ts_caller ("system", "", sub->daemon->service->name);
    sub->fetching = true;
    ts_rpc_call_msg (sub->rpc, "sys.Fetch", &caller, &fr.base, FETCH_TIMEOUT_MS,
                     s_sub_on_reply, sub);
}

//  --------------------------------------------------------------------
//  Start and stop

//  ts_ticker's callback: a tick has run.
static void
s_on_ticked (void *arg)
{
    ts_daemon *self = arg;
    s_wake_waiters (self, false);
    if (!self->stopping)
        s_park_rerun (self);
    ts_memory_after_tick (ts_dispatch_store (self->dispatch));
}

//  The dispatch's write gate.
static void
s_tick_wait (void *arg)
{
    ts_daemon *self = arg;
    if (self->ticker)
        ts_ticker_wait (self->ticker);
}

static void
s_stop (ts_daemon *self)
{
    if (self->stopping)
        return;
    self->stopping = true;
    ts_log_info ("stopping", "requests_total=%llu", (unsigned long long) self->requests_total);
    s_wake_waiters (self, true);
    ts_park_expire (self->park, UINT64_MAX, s_park_reply, self);
    ts_zwatch_destroy (&self->watch);
    if (self->zap)
        ts_zap_stop (self->zap);
    for (size_t i = 0; i < self->sub_count; i++) {
        sub_t *sub = &self->subs [i];
        sub->stopping = true;
        uv_close ((uv_handle_t *) &sub->retry, NULL);
        ts_rpc_destroy (&sub->rpc);
    }
    uv_close ((uv_handle_t *) &self->sigint, NULL);
    uv_close ((uv_handle_t *) &self->sigterm, NULL);
    if (self->ticker)
        ts_ticker_stop (self->ticker);
    uv_close ((uv_handle_t *) &self->sweep, NULL);
}

static void
s_on_signal (uv_signal_t *handle, int signum)
{
    ts_daemon *self = handle->data;
    ts_log_info ("signal", "signum=%d", signum);
    s_stop (self);
}

//  Before the ROUTER binds: the trust boundary. Without CURVE only ipc or
//  loopback tcp (whoever can reach it is on this host, and for ipc the
//  0700 run dir decides); with CURVE, the ZAP handler bound first so no
//  handshake can go unchecked. And the backup root, 0700. Returns 0 or -1
//  with err filled.
static int
s_open_auth (ts_daemon *self, const char *endpoint, char *err, size_t err_size)
{
    const ts_config *cfg = &self->cfg;
    if (ts_mkdir_p (cfg->backup_root) != 0) {
        snprintf (err, err_size, "cannot create backup.root %.300s: %s", cfg->backup_root,
                  strerror (errno));
        return -1;
    }
    if (!cfg->curve_secret [0]) {
        if (ts_config_endpoint_loopback (endpoint))
            return 0;
        snprintf (err, err_size, "endpoint %s is not on a loopback address and CURVE is off: "
                  "set curve.secret_key and curve.public_key (tashanctl keygen) or bind "
                  "to 127.0.0.1", endpoint);
        return -1;
    }
    self->zap = ts_zap_new (cfg->clients_file, cfg->curve_public, err, err_size);
    return self->zap ? 0 : -1;
}

//  Open what the daemon serves from: the run dir, the store (through
//  ts_dispatch) and the ROUTER socket. Returns 0, or -1 after logging why
//  (nothing left open).
static int
s_open (ts_daemon *self)
{
    const ts_service *service = self->service;
    char run_dir [TS_PATH_MAX + 8];
    snprintf (run_dir, sizeof run_dir, "%s/run", self->cfg.data_dir);
    if (ts_mkdir_p (run_dir) != 0) {
        ts_log_error ("start_failed", "reason=\"cannot create %s: %s\"", run_dir, strerror (errno));
        return -1;
    }
    char err [512];
    self->dispatch = ts_dispatch_new (service, self->cfg.data_dir, err, sizeof err);
    if (!self->dispatch) {
        ts_log_error ("start_failed", "reason=\"%s\"", err);
        return -1;
    }
    const char *endpoint = ts_config_endpoint (&self->cfg, service->name);
    assert (endpoint);
    if (s_open_auth (self, endpoint, err, sizeof err) == 0)
        self->router = ts_zmq_router (endpoint, &self->cfg, err, sizeof err);
    if (!self->router) {
        ts_log_error ("start_failed", "reason=\"%s\"", err);
        ts_zap_destroy (&self->zap);
        ts_dispatch_destroy (&self->dispatch);
        ts_zmq_term ();
        return -1;
    }
    return 0;
}

//  Put everything on the loop: the ROUTER's readiness, the signals, the
//  service's tick, the waiters' sweep, and one fetching subscription per
//  producer the service consumes.
static void
s_start_loop (ts_daemon *self)
{
    const ts_service *service = self->service;
    uv_loop_init (&self->loop);
    self->start_ms = uv_now (&self->loop);
    self->arena = ts_arena_new ();
    ts_arena_keep (self->arena, BATCH_ARENA_KEEP_BYTES);
    self->park = ts_park_new ();
    for (size_t i = 0; i < ANSWERS_MAX; i++)
        self->answers [i].replies = ts_batch_new (true);
    self->watch = ts_zwatch_new (&self->loop, self->router, s_on_router, self);
    if (self->zap)
        ts_zap_watch (self->zap, &self->loop);
    uv_signal_init (&self->loop, &self->sigint);
    uv_signal_init (&self->loop, &self->sigterm);
    self->sigint.data = self->sigterm.data = self;
    uv_signal_start (&self->sigint, s_on_signal, SIGINT);
    uv_signal_start (&self->sigterm, s_on_signal, SIGTERM);
    uv_timer_init (&self->loop, &self->sweep);
    self->sweep.data = self;
    if (service->tick && service->tick_ms > 0) {
        self->ticker = ts_ticker_new (&self->loop, self->dispatch, s_on_ticked, self);
        ts_dispatch_set_write_gate (self->dispatch, s_tick_wait, self);
        ts_ticker_start (self->ticker);
    }
    uv_timer_start (&self->sweep, s_on_sweep, WAITER_SWEEP_MS, WAITER_SWEEP_MS);
    assert (service->subscription_count <= SUBS_MAX);
    for (size_t i = 0; i < service->subscription_count; i++) {
        sub_t *sub = &self->subs [i];
        sub->daemon = self;
        sub->sub = &service->subscriptions [i];
        const char *producer_ep = ts_config_endpoint (&self->cfg, sub->sub->producer);
        assert (producer_ep);
        sub->rpc = ts_rpc_new (&self->loop, producer_ep, &self->cfg, 4);
        assert (sub->rpc);
        sub->applied_seq = ts_dispatch_position (self->dispatch, sub->sub->producer);
        sub->head_seq = ts_dispatch_producer_head (self->dispatch, sub->sub->producer);
        sub->generation = ts_dispatch_producer_generation (self->dispatch, sub->sub->producer);
        uv_timer_init (&self->loop, &sub->retry);
        sub->retry.data = sub;
        self->sub_count++;
        //  The first connect takes a moment; a retry soon after is cheap.
        uv_timer_start (&sub->retry, s_sub_retry_fire, 50, 0);
    }
}

//  After the loop has ended (every handle closed): close the socket, the
//  loop and the store.
static void
s_close (ts_daemon *self)
{
    int linger_ms = 0;
    zmq_setsockopt (self->router, ZMQ_LINGER, &linger_ms, sizeof linger_ms);
    zmq_close (self->router);
    ts_zap_destroy (&self->zap);
    ts_zmq_term ();
    int rc = uv_loop_close (&self->loop);
    if (rc != 0)
        ts_log_warn ("loop_close", "error=\"%s\"", uv_strerror (rc));
    ts_ticker_destroy (&self->ticker);
    ts_dispatch_destroy (&self->dispatch);
    ts_arena_destroy (&self->arena);
    ts_park_destroy (&self->park);
    for (size_t i = 0; i < ANSWERS_MAX; i++)
        ts_batch_destroy (&self->answers [i].replies);
}

int
ts_daemon_main (const ts_service *service, int argc, char **argv)
{
    assert (service && service->name);
    ts_daemon *self = calloc (1, sizeof (ts_daemon));
    assert (self);
    self->magic = DAEMON_MAGIC;
    self->service = service;
    char program [64];
    snprintf (program, sizeof program, "tashan-%s", service->name);
    switch (ts_config_parse (&self->cfg, argc, argv, program, service->summary, NULL, false)) {
        case TS_CONFIG_EXIT_OK: free (self); return 0;
        case TS_CONFIG_EXIT_USAGE: free (self); return 2;
        case TS_CONFIG_RUN: break;
    }
    ts_log_init (service->name, self->cfg.log_level);
    ts_reqlog_set ((ts_reqlog_mode) self->cfg.log_requests, self->cfg.log_requests_sample);
    ts_memory_setup (&self->cfg);
    signal (SIGPIPE, SIG_IGN);
    if (s_open (self) != 0) {
        free (self);
        return 1;
    }
    s_start_loop (self);
    ts_log_info ("started", "endpoint=%s data_dir=%s version=%s",
                 ts_config_endpoint (&self->cfg, service->name), self->cfg.data_dir,
                 TASHAN_VERSION);
    uv_run (&self->loop, UV_RUN_DEFAULT);
    s_close (self);
    //  Join libuv's pool threads (ts_ticker's ticks, sys.Backup) now,
    //  while nothing runs, rather than leave them parked until exit: a
    //  process that ends with threads asleep in futex waits could hang
    //  AddressSanitizer's exit-time leak check (it stops every thread).
    uv_library_shutdown ();
    ts_log_info ("stopped", "%s", "");
    self->magic = 0;
    free (self);
    return 0;
}
