/*  ts_zap - the ZAP handler of a CURVE daemon. See ts_zap.h. */
#include "ts_zap.h"

#include <assert.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "ts_config.h"
#include "ts_log.h"
#include "ts_warnlimit.h"
#include "ts_zmq.h"
#include "ts_zwatch.h"

#define ZAP_MAGIC 0x5a415048u
#define ZAP_FRAMES_MAX 8            //  a request has 7 (CURVE: 1 credential)
#define ZAP_FRAME_MAX_BYTES 256
#define ZAP_REQUESTS_PER_TURN 64

struct ts_zap {
    uint32_t magic;                 //  ZAP_MAGIC
    void *sock;                     //  REP bound on TS_ZAP_ENDPOINT
    ts_zwatch *watch;               //  on the daemon's loop, NULL when stopped
    ts_keys *keys;                  //  the file's entries + the daemons' key
    char path [TS_PATH_MAX];        //  the keys file
    char daemon_key [TS_KEYS_Z85_CHARS + 1];
    struct stat seen;               //  the file as last loaded (st_ino 0: absent)
    uint64_t checked_ms;            //  monotonic time of the last stat
    bool file_bad;                  //  the last load failed: file keys refused
    ts_warnlimit warn_limit;        //  refused handshakes
};

static uint64_t
s_now_ms (void)
{
    struct timespec ts;
    clock_gettime (CLOCK_MONOTONIC, &ts);
    return (uint64_t) ts.tv_sec * 1000 + (uint64_t) ts.tv_nsec / 1000000;
}

//  Load the file into the table (the daemons' key added). Returns 0 or -1
//  with err filled; on error only the daemons' key remains.
static int
s_load (ts_zap *self, char *err, size_t err_size)
{
    int rc = ts_keys_load (self->keys, self->path, err, err_size);
    ts_keys_set_daemon_key (self->keys, self->daemon_key);
    self->file_bad = rc != 0;
    return rc;
}

static bool
s_same_file (const struct stat *a, const struct stat *b)
{
    return a->st_ino == b->st_ino && a->st_dev == b->st_dev && a->st_size == b->st_size
        && a->st_mtim.tv_sec == b->st_mtim.tv_sec && a->st_mtim.tv_nsec == b->st_mtim.tv_nsec;
}

//  Re-read the keys file if it changed (at most once per TS_ZAP_RELOAD_MS
//  unless force).
static void
s_refresh (ts_zap *self, bool force)
{
    uint64_t now_ms = s_now_ms ();
    if (!force && now_ms - self->checked_ms < TS_ZAP_RELOAD_MS)
        return;
    self->checked_ms = now_ms;
    struct stat st;
    if (stat (self->path, &st) != 0)
        memset (&st, 0, sizeof st);
    if (s_same_file (&st, &self->seen))
        return;
    self->seen = st;
    char err [512];
    if (s_load (self, err, sizeof err) != 0)
        ts_log_error ("keys_file_invalid", "reason=\"%s\" effect=\"every client key "
                      "but the daemons' own is refused until it is fixed\"", err);
    else
        ts_log_info ("keys_file_loaded", "path=%s keys=%zu", self->path,
                     ts_keys_count (self->keys) - 1);
}

//  --------------------------------------------------------------------
//  The ZAP exchange

typedef struct {
    zmq_msg_t frames [ZAP_FRAMES_MAX];
    int count;
    bool too_many;
} zap_request_t;

static bool
s_frame_is (zap_request_t *r, int i, const char *text)
{
    return i < r->count && zmq_msg_size (&r->frames [i]) == strlen (text)
        && memcmp (zmq_msg_data (&r->frames [i]), text, strlen (text)) == 0;
}

//  Metadata as ZMTP encodes properties: name length (1 byte), name,
//  value length (4 bytes, big-endian), value.
static size_t
s_metadata (uint8_t *out, const char *name, const char *value)
{
    size_t n = strlen (name), v = strlen (value);
    out [0] = (uint8_t) n;
    memcpy (out + 1, name, n);
    out [1 + n] = (uint8_t) (v >> 24);
    out [2 + n] = (uint8_t) (v >> 16);
    out [3 + n] = (uint8_t) (v >> 8);
    out [4 + n] = (uint8_t) v;
    memcpy (out + 5 + n, value, v);
    return 5 + n + v;
}

static void
s_send_reply (ts_zap *self, zap_request_t *r, const char *code, const char *text,
              const ts_key_entry *entry)
{
    uint8_t meta [128];
    size_t meta_size = entry ? s_metadata (meta, TS_ZAP_PROPERTY_KEY, entry->public_key) : 0;
    const char *user_id = entry ? entry->name : "";
    zmq_send (self->sock, "1.0", 3, ZMQ_SNDMORE);
    if (r->count > 1)
        zmq_send (self->sock, zmq_msg_data (&r->frames [1]), zmq_msg_size (&r->frames [1]),
                  ZMQ_SNDMORE);
    else
        zmq_send (self->sock, "", 0, ZMQ_SNDMORE);
    zmq_send (self->sock, code, strlen (code), ZMQ_SNDMORE);
    zmq_send (self->sock, text, strlen (text), ZMQ_SNDMORE);
    zmq_send (self->sock, user_id, strlen (user_id), ZMQ_SNDMORE);
    zmq_send (self->sock, meta, meta_size, 0);
}

//  Decide one request: 200 for a listed CURVE key, 400 for anything
//  that is not a ZAP 1.0 CURVE request.
static void
s_answer (ts_zap *self, zap_request_t *r)
{
    //  version, request id, domain, address, routing id, mechanism, key
    if (r->too_many || r->count != 7 || !s_frame_is (r, 0, "1.0")
    ||  !s_frame_is (r, 5, "CURVE") || zmq_msg_size (&r->frames [6]) != 32) {
        ts_warnlimit_log (&self->warn_limit, "zap_bad_request", "frames=%d", r->count);
        s_send_reply (self, r, "400", "not a ZAP 1.0 CURVE request", NULL);
        return;
    }
    char key [TS_KEYS_Z85_CHARS + 1];
    zmq_z85_encode (key, zmq_msg_data (&r->frames [6]), 32);
    s_refresh (self, true);
    const ts_key_entry *entry = ts_keys_find_key (self->keys, key);
    char address [64];
    snprintf (address, sizeof address, "%.*s", (int) zmq_msg_size (&r->frames [3]),
              (const char *) zmq_msg_data (&r->frames [3]));
    if (!entry) {
        ts_warnlimit_log (&self->warn_limit, "client_refused",
                          "key=%s address=%s reason=\"key not in %s\"", key, address, self->path);
        s_send_reply (self, r, "400", "unknown client key", NULL);
        return;
    }
    ts_log_debug ("client_accepted", "name=%s role=%s address=%s", entry->name,
                  entry->role, address);
    s_send_reply (self, r, "200", "OK", entry);
}

//  Read one request's frames (bounded); false when none was waiting.
static bool
s_recv (ts_zap *self, zap_request_t *r)
{
    r->count = 0;
    r->too_many = false;
    for (int more = 1, i = 0; more && i < 64; i++) {
        zmq_msg_t msg;
        zmq_msg_init (&msg);
        if (zmq_msg_recv (&msg, self->sock, i == 0 ? ZMQ_DONTWAIT : 0) < 0) {
            zmq_msg_close (&msg);
            return i > 0;
        }
        more = zmq_msg_more (&msg);
        if (r->count < ZAP_FRAMES_MAX && zmq_msg_size (&msg) <= ZAP_FRAME_MAX_BYTES)
            r->frames [r->count++] = msg;
        else {
            r->too_many = true;
            zmq_msg_close (&msg);
        }
    }
    return true;
}

static void
s_on_readable (void *arg)
{
    ts_zap *self = arg;
    assert (self && self->magic == ZAP_MAGIC);
    for (int i = 0; i < ZAP_REQUESTS_PER_TURN; i++) {
        zap_request_t r;
        if (!s_recv (self, &r))
            break;
        s_answer (self, &r);
        for (int f = 0; f < r.count; f++)
            zmq_msg_close (&r.frames [f]);
    }
}

//  --------------------------------------------------------------------
//  Life cycle

ts_zap *
ts_zap_new (const char *keys_path, const char *daemon_public_z85, char *err,
            size_t err_size)
{
    assert (keys_path && daemon_public_z85);
    if (strlen (daemon_public_z85) != TS_KEYS_Z85_CHARS) {
        snprintf (err, err_size, "CURVE needs curve.public_key (the daemons' own public key) "
                  "beside curve.secret_key");
        return NULL;
    }
    ts_zap *self = calloc (1, sizeof (ts_zap));
    assert (self);
    self->magic = ZAP_MAGIC;
    self->keys = ts_keys_new ();
    snprintf (self->path, sizeof self->path, "%s", keys_path);
    snprintf (self->daemon_key, sizeof self->daemon_key, "%s", daemon_public_z85);
    if (stat (self->path, &self->seen) != 0)
        memset (&self->seen, 0, sizeof self->seen);
    self->checked_ms = s_now_ms ();
    self->sock = zmq_socket (ts_zmq_ctx (), ZMQ_REP);
    assert (self->sock);
    if (s_load (self, err, err_size) != 0
    ||  zmq_bind (self->sock, TS_ZAP_ENDPOINT) != 0) {
        if (!self->file_bad)
            snprintf (err, err_size, "cannot bind %s: %s", TS_ZAP_ENDPOINT, zmq_strerror (errno));
        ts_zap_destroy (&self);
        return NULL;
    }
    ts_log_info ("keys_file_loaded", "path=%s keys=%zu", self->path,
                 ts_keys_count (self->keys) - 1);
    return self;
}

void
ts_zap_watch (ts_zap *self, uv_loop_t *loop)
{
    assert (self && self->magic == ZAP_MAGIC && !self->watch);
    self->watch = ts_zwatch_new (loop, self->sock, s_on_readable, self);
    assert (self->watch);
}

void
ts_zap_stop (ts_zap *self)
{
    assert (self && self->magic == ZAP_MAGIC);
    ts_zwatch_destroy (&self->watch);
}

void
ts_zap_destroy (ts_zap **self_p)
{
    assert (self_p);
    ts_zap *self = *self_p;
    if (!self)
        return;
    assert (self->magic == ZAP_MAGIC);
    assert (!self->watch);
    int linger_ms = 0;
    zmq_setsockopt (self->sock, ZMQ_LINGER, &linger_ms, sizeof linger_ms);
    zmq_close (self->sock);
    ts_keys_destroy (&self->keys);
    self->magic = 0;
    free (self);
    *self_p = NULL;
}

//  --------------------------------------------------------------------
//  Per request

void
ts_zap_peer_of (zmq_msg_t *msg, char *name, size_t name_size, char *key, size_t key_size)
{
    const char *user_id = zmq_msg_gets (msg, "User-Id");
    const char *z85 = zmq_msg_gets (msg, TS_ZAP_PROPERTY_KEY);
    snprintf (name, name_size, "%s", user_id ? user_id : "");
    snprintf (key, key_size, "%s", z85 ? z85 : "");
}

unsigned
ts_zap_authorize (ts_zap *self, const char *name, const char *key, const char *method,
                  Tashan__Caller **caller, ts_arena *arena, char *why, size_t why_size)
{
    assert (self && self->magic == ZAP_MAGIC && name && key && method && caller);
    s_refresh (self, false);
    const ts_key_entry *entry = ts_keys_find_key (self->keys, key);
    if (!key [0] || !entry || strcmp (entry->name, name) != 0) {
        snprintf (why, why_size, "client key %s is not (or no longer) allowed%s",
                  name [0] ? name : "(unauthenticated)",
                  self->file_bad ? " (the daemon's keys file is invalid)" : "");
        return 401;
    }
    bool bound = entry->binding [0] || !strcmp (entry->role, "panel");
    if (!*caller && bound) {
        Tashan__Caller *c = ts_arena_alloc (arena, sizeof *c);
        tashan__caller__init (c);
        c->role = ts_arena_strdup (arena, entry->role);
        c->binding = ts_arena_strdup (arena, entry->binding);
        *caller = c;
    }
    if (!*caller)
        return 0;                   //  the daemon answers "request without caller"
    unsigned code = ts_keys_check_claim (entry, method, *caller, why, why_size);
    if (code == 0 && bound)
        (*caller)->principal = ts_arena_strdup (arena, entry->name);
    return code;
}
