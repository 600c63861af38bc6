/*  gw_auth - bearer tokens: the store and its lock, the ops token file,
    create, check and revoke. See gw_auth.h. */
#include "gw_auth_internal.h"

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <sodium.h>

#include "ts_config.h"
#include "ts_log.h"
#include "ts_status.h"
#include "ts_time.h"
#include "ts_valid.h"

#define TOKEN_SECRET_BYTES 32
#define TOKEN_PREFIX "tsn_"
#define TOKEN_TEXT_MAX 128
#define BINDING_MAX_CHARS 64
#define NOTE_MAX_CHARS 200
#define WRITE_ATTEMPTS 8
#define TOKENS_SCAN_MAX 1000000     //  bound of a walk over every token

int64_t
gw_auth__now_ms (void)
{
    struct timespec ts;
    clock_gettime (CLOCK_REALTIME, &ts);
    return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

#define s_now_ms gw_auth__now_ms

static void
s_hash (const char *token, uint8_t hash [TOKEN_HASH_BYTES])
{
    crypto_generichash (hash, TOKEN_HASH_BYTES, (const uint8_t *) token, strlen (token), NULL, 0);
}

//  Store a new token record under a fresh id (written to id, which
//  rec->id then points at), growing the map if it is full.
static int
s_store_token (gw_auth *self, const char *token, Tashan__Gateway__TokenRecord *rec,
               char *id, size_t id_size)
{
    uint8_t hash [TOKEN_HASH_BYTES];
    s_hash (token, hash);
    for (int attempt = 0; attempt < 8; attempt++) {
        ts_txn *txn = ts_txn_begin (self->store, true);
        uint64_t n = ts_txn_next_id (txn, "token");
        snprintf (id, id_size, "t%llu", (unsigned long long) n);
        rec->id = id;
        ts_key k;
        ts_key_init (&k);
        ts_key_str (&k, id);
        ts_txn_put (txn, self->token_ids, k.data, k.size, hash, sizeof hash);
        ts_txn_put_msg (txn, self->tokens, hash, sizeof hash, &rec->base);
        int rc = ts_txn_commit (&txn);
        if (rc == TS_STORE_MAP_FULL && ts_store_grow (self->store) == 0)
            continue;
        return rc;
    }
    return TS_STORE_MAP_FULL;
}

static void
s_new_secret (char *out, size_t size)
{
    uint8_t raw [TOKEN_SECRET_BYTES];
    randombytes_buf (raw, sizeof raw);
    char b64 [sodium_base64_ENCODED_LEN (TOKEN_SECRET_BYTES, sodium_base64_VARIANT_URLSAFE_NO_PADDING)];
    sodium_bin2base64 (b64, sizeof b64, raw, sizeof raw, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    snprintf (out, size, "%s%s", TOKEN_PREFIX, b64);
    sodium_memzero (raw, sizeof raw);
}

//  Write the ops token file atomically (temp file, fsync, rename).
static int
s_write_token_file (const char *path, const char *token)
{
    char tmp [1200];
    snprintf (tmp, sizeof tmp, "%s.tmp", path);
    int fd = open (tmp, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (fd < 0)
        return -1;
    size_t len = strlen (token);
    int rc = (write (fd, token, len) == (ssize_t) len && write (fd, "\n", 1) == 1
              && fsync (fd) == 0) ? 0 : -1;
    close (fd);
    if (rc == 0)
        rc = rename (tmp, path);
    else
        unlink (tmp);
    return rc;
}

//  Take <dir>/gateway.lock (exclusive, not waiting): one writer at a time.
static int
s_lock (const char *dir, char *err, size_t err_size)
{
    char path [1100];
    snprintf (path, sizeof path, "%s/gateway.lock", dir);
    int fd = open (path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0) {
        snprintf (err, err_size, "cannot open %s: %s", path, strerror (errno));
        return -1;
    }
    if (flock (fd, LOCK_EX | LOCK_NB) != 0) {
        snprintf (err, err_size, "%s is held by another process (a running gateway, or "
                  "tashanctl token create): one writer at a time", path);
        close (fd);
        return -1;
    }
    return fd;
}

//  Open the store under its lock; no token file is touched.
static gw_auth *
s_open (const char *data_dir, char *dir, size_t dir_size, char *err, size_t err_size)
{
    if (sodium_init () < 0) {
        snprintf (err, err_size, "libsodium failed to initialise");
        return NULL;
    }
    snprintf (dir, dir_size, "%s/gateway", data_dir);
    if (ts_mkdir_p (dir) != 0) {
        snprintf (err, err_size, "cannot make %s: %s", dir, strerror (errno));
        return NULL;
    }
    int lock_fd = s_lock (dir, err, err_size);
    if (lock_fd < 0)
        return NULL;
    static const ts_table_def tables [] = { { "tokens", 0 }, { "token_ids", 0 } };
    ts_store *store = ts_store_new (dir, tables, 2, 1, err, err_size);
    if (!store) {
        close (lock_fd);
        return NULL;
    }
    gw_auth *self = calloc (1, sizeof (gw_auth));
    assert (self);
    self->magic = AUTH_MAGIC;
    self->store = store;
    self->lock_fd = lock_fd;
    self->tokens = ts_store_table (store, "tokens");
    self->token_ids = ts_store_table (store, "token_ids");
    self->flushed_ms = s_now_ms ();
    return self;
}

gw_auth *
gw_auth_open_offline (const char *data_dir, char *err, size_t err_size)
{
    char dir [1024];
    return s_open (data_dir, dir, sizeof dir, err, err_size);
}

//  No ops token file: make a fresh ops token and write it there.
static int
s_bootstrap (gw_auth *self, const char *path, char *err, size_t err_size)
{
    char token [TOKEN_TEXT_MAX];
    s_new_secret (token, sizeof token);
    Tashan__Gateway__TokenRecord rec = TASHAN__GATEWAY__TOKEN_RECORD__INIT;
    rec.role = "ops";
    rec.note = "bootstrap ops token";
    rec.created_by = "bootstrap";
    rec.created_ms = s_now_ms ();
    char id [32];
    int rc = s_store_token (self, token, &rec, id, sizeof id);
    if (rc != 0 || s_write_token_file (path, token) != 0) {
        snprintf (err, err_size, "cannot create the ops token %s: %s", path,
                  rc ? mdb_strerror (rc) : strerror (errno));
        sodium_memzero (token, sizeof token);
        return -1;
    }
    sodium_memzero (token, sizeof token);
    ts_log_info ("ops_token_created", "path=%s id=%s", path, rec.id);
    return 0;
}

gw_auth *
gw_auth_new (const char *data_dir, char *err, size_t err_size)
{
    char dir [1024];
    gw_auth *self = s_open (data_dir, dir, sizeof dir, err, err_size);
    if (!self)
        return NULL;
    char path [1100];
    snprintf (path, sizeof path, "%s/ops.token", dir);
    struct stat st;
    if (stat (path, &st) != 0) {
        if (s_bootstrap (self, path, err, err_size) != 0)
            gw_auth_destroy (&self);
    }
    else
    if ((st.st_mode & 077) != 0)
        ts_log_warn ("ops_token_mode", "path=%s mode=%o reason=\"readable by others; chmod 600\"",
                     path, (unsigned) (st.st_mode & 0777));
    return self;
}

void
gw_auth_destroy (gw_auth **self_p)
{
    assert (self_p);
    gw_auth *self = *self_p;
    if (!self)
        return;
    assert (self->magic == AUTH_MAGIC);
    gw_auth_flush (self, true);
    ts_store_destroy (&self->store);
    if (self->lock_fd >= 0)
        close (self->lock_fd);
    self->magic = 0;
    free (self);
    *self_p = NULL;
}

bool
gw_auth_check (gw_auth *self, const char *authorization, ts_arena *arena,
               const char **role, const char **binding, const char **principal)
{
    assert (self && self->magic == AUTH_MAGIC);
    if (!authorization || strncasecmp (authorization, "Bearer ", 7) != 0)
        return false;
    const char *token = authorization + 7;
    while (*token == ' ')
        token++;
    size_t len = strlen (token);
    if (len < 8 || len > TOKEN_TEXT_MAX)
        return false;
    uint8_t hash [TOKEN_HASH_BYTES];
    s_hash (token, hash);
    ts_txn *txn = ts_txn_begin (self->store, false);
    Tashan__Gateway__TokenRecord *rec = ts_txn_get_msg (txn, self->tokens, hash, sizeof hash,
        &tashan__gateway__token_record__descriptor, arena);
    ts_txn_abort (&txn);
    if (!rec || rec->revoked)
        return false;
    int64_t now_ms = s_now_ms ();
    if (rec->expires_ms && now_ms >= rec->expires_ms)
        return false;
    gw_auth__touch (self, rec->id, now_ms);
    *role = rec->role;
    *binding = rec->binding;
    *principal = rec->id;
    return true;
}

//  Check a token request: a known role, the binding its role needs (and
//  no other), a short UTF-8 note. Sets *binding (school or merchant id,
//  else ""). Returns TS_OK, or TS_BAD_REQUEST with message filled.
static unsigned
s_check_create (const Tashan__Gateway__CreateTokenRequest *req, const char **binding,
                char *message, size_t message_size)
{
    static const char *const roles [] = { "ops", "panel", "school", "merchant", NULL };
    bool known = false;
    for (int i = 0; roles [i]; i++)
        known = known || strcmp (req->role, roles [i]) == 0;
    if (!known) {
        snprintf (message, message_size, "role must be one of: ops, panel, school, merchant");
        return TS_BAD_REQUEST;
    }
    bool is_school = strcmp (req->role, "school") == 0;
    bool is_merchant = strcmp (req->role, "merchant") == 0;
    if (is_school) {
        *binding = req->school_id;
        long chars = ts_utf8_chars (*binding);
        if (chars <= 0 || chars > BINDING_MAX_CHARS) {
            snprintf (message, message_size, "school_id is required for role school (at most %d characters)",
                      BINDING_MAX_CHARS);
            return TS_BAD_REQUEST;
        }
    }
    else
    if (req->school_id [0]) {
        snprintf (message, message_size, "school_id is only for role school");
        return TS_BAD_REQUEST;
    }
    if (is_merchant) {
        *binding = req->merchant_id;
        long chars = ts_utf8_chars (*binding);
        if (chars <= 0 || chars > BINDING_MAX_CHARS) {
            snprintf (message, message_size, "merchant_id is required for role merchant (at most %d characters)",
                      BINDING_MAX_CHARS);
            return TS_BAD_REQUEST;
        }
    }
    else
    if (req->merchant_id [0]) {
        snprintf (message, message_size, "merchant_id is only for role merchant");
        return TS_BAD_REQUEST;
    }
    long note_chars = ts_utf8_chars (req->note);
    if (note_chars < 0 || note_chars > NOTE_MAX_CHARS) {
        snprintf (message, message_size, "note must be UTF-8 of at most %d characters", NOTE_MAX_CHARS);
        return TS_BAD_REQUEST;
    }
    return TS_OK;
}

//  expires_at: "" (never) or an RFC 3339 time in the future, into *ms.
static unsigned
s_check_expiry (const char *expires_at, int64_t now_ms, int64_t *ms, char *message,
                size_t message_size)
{
    *ms = 0;
    if (!expires_at [0])
        return TS_OK;
    if (!ts_time_parse (expires_at, ms) || *ms <= now_ms) {
        snprintf (message, message_size, "expires_at must be an RFC 3339 time in the future, "
                  "e.g. 2027-01-31T00:00:00+08:00");
        return TS_BAD_REQUEST;
    }
    return TS_OK;
}

unsigned
gw_auth_create_check (const Tashan__Gateway__CreateTokenRequest *req, char *message,
                      size_t message_size)
{
    assert (req && message);
    const char *binding = "";
    int64_t expires_ms = 0;
    unsigned code = s_check_create (req, &binding, message, message_size);
    if (code == TS_OK)
        code = s_check_expiry (req->expires_at, s_now_ms (), &expires_ms, message, message_size);
    return code;
}

unsigned
gw_auth_create (gw_auth *self, const Tashan__Gateway__CreateTokenRequest *req,
                const char *created_by, ts_arena *arena, Tashan__Gateway__Token *out,
                char *message, size_t message_size)
{
    assert (self && self->magic == AUTH_MAGIC);
    const char *binding = "";
    unsigned code = s_check_create (req, &binding, message, message_size);
    Tashan__Gateway__TokenRecord rec = TASHAN__GATEWAY__TOKEN_RECORD__INIT;
    rec.created_ms = s_now_ms ();
    if (code == TS_OK)
        code = s_check_expiry (req->expires_at, rec.created_ms, &rec.expires_ms, message,
                               message_size);
    if (code != TS_OK)
        return code;
    bool is_school = strcmp (req->role, "school") == 0;
    bool is_merchant = strcmp (req->role, "merchant") == 0;
    char token [TOKEN_TEXT_MAX];
    s_new_secret (token, sizeof token);
    rec.role = req->role;
    rec.binding = (char *) binding;
    rec.note = req->note;
    rec.created_by = (char *) created_by;
    char id [32];
    int rc = s_store_token (self, token, &rec, id, sizeof id);
    if (rc != 0) {
        snprintf (message, message_size, "storage error");
        return TS_INTERNAL;
    }
    out->id = ts_arena_strdup (arena, rec.id);
    out->token = ts_arena_strdup (arena, token);
    out->role = req->role;
    out->school_id = is_school ? (char *) binding : "";
    out->merchant_id = is_merchant ? (char *) binding : "";
    out->note = req->note;
    out->created_ms = rec.created_ms;
    out->expires_at = rec.expires_ms ? ts_time_text (arena, rec.expires_ms) : "";
    sodium_memzero (token, sizeof token);
    ts_log_info ("token_created", "id=%s role=%s binding=%s by=%s expires_ms=%lld", out->id,
                 out->role, binding, created_by, (long long) rec.expires_ms);
    return TS_CREATED;
}

//  --------------------------------------------------------------------
//  Revocation

unsigned
gw_auth__write (gw_auth *self, gw_auth_txn_fn body, void *arg, char *message,
                size_t message_size)
{
    for (int attempt = 0; attempt < WRITE_ATTEMPTS; attempt++) {
        ts_arena *arena = ts_arena_new ();
        ts_txn *txn = ts_txn_begin (self->store, true);
        unsigned code = body (self, txn, arena, arg);
        if (code >= 400) {
            ts_txn_abort (&txn);
            ts_arena_destroy (&arena);
            return code;
        }
        int rc = ts_txn_commit (&txn);
        ts_arena_destroy (&arena);
        if (rc == TS_STORE_MAP_FULL && ts_store_grow (self->store) == 0)
            continue;
        if (rc != 0)
            break;
        return code;
    }
    snprintf (message, message_size, "storage error");
    return TS_INTERNAL;
}

//  Live ops tokens other than the one whose hash is skip.
static uint32_t
s_other_live_ops (gw_auth *self, ts_txn *txn, ts_arena *arena, const uint8_t *skip)
{
    uint32_t live = 0;
    int64_t now_ms = s_now_ms ();
    ts_cursor cursor;
    bool more = ts_cursor_open (&cursor, txn, self->tokens) && ts_cursor_seek (&cursor, NULL, 0);
    for (uint32_t n = 0; more && n < TOKENS_SCAN_MAX; n++, more = ts_cursor_next (&cursor)) {
        if (cursor.key.size == TOKEN_HASH_BYTES && memcmp (cursor.key.data, skip, TOKEN_HASH_BYTES) == 0)
            continue;
        Tashan__Gateway__TokenRecord *rec = ts_cursor_msg (&cursor,
            &tashan__gateway__token_record__descriptor, arena);
        if (rec && !rec->revoked && strcmp (rec->role, "ops") == 0
        &&  (!rec->expires_ms || now_ms < rec->expires_ms))
            live++;
    }
    ts_cursor_close (&cursor);
    return live;
}

typedef struct {
    const char *id;
    const char *by;
    bool allow_self;
    char *message;
    size_t message_size;
    char role [16];                 //  of the revoked token, for the log
} revoke_t;

static unsigned
s_revoke_txn (gw_auth *self, ts_txn *txn, ts_arena *arena, void *arg)
{
    revoke_t *r = arg;
    ts_key k;
    ts_key_init (&k);
    ts_key_str (&k, r->id);
    ts_val hash;
    uint8_t hash_copy [TOKEN_HASH_BYTES];
    Tashan__Gateway__TokenRecord *rec = NULL;
    if (ts_txn_get (txn, self->token_ids, k.data, k.size, &hash) && hash.size == TOKEN_HASH_BYTES) {
        memcpy (hash_copy, hash.data, TOKEN_HASH_BYTES);
        rec = ts_txn_get_msg (txn, self->tokens, hash_copy, TOKEN_HASH_BYTES,
                              &tashan__gateway__token_record__descriptor, arena);
    }
    if (!rec) {
        snprintf (r->message, r->message_size, "no token %s", r->id);
        return TS_NOT_FOUND;
    }
    snprintf (r->role, sizeof r->role, "%s", rec->role);
    if (rec->revoked)
        return TS_OK;
    if (strcmp (r->id, r->by) == 0 && !r->allow_self) {
        snprintf (r->message, r->message_size, "%s is the token this call is made with; "
                  "to revoke it anyway add ?self=true", r->id);
        return TS_CONFLICT;
    }
    if (strcmp (rec->role, "ops") == 0 && s_other_live_ops (self, txn, arena, hash_copy) == 0) {
        snprintf (r->message, r->message_size, "%s is the last live ops token: create another "
                  "ops token first (POST /v1/tokens), then revoke this one", r->id);
        return TS_CONFLICT;
    }
    rec->revoked = true;
    rec->revoked_ms = s_now_ms ();
    rec->revoked_by = (char *) r->by;
    ts_txn_put_msg (txn, self->tokens, hash_copy, TOKEN_HASH_BYTES, &rec->base);
    return TS_OK;
}

unsigned
gw_auth_revoke (gw_auth *self, const char *id, const char *by, bool allow_self,
                char *message, size_t message_size)
{
    assert (self && self->magic == AUTH_MAGIC);
    assert (id && by);
    if (strlen (id) > TOKEN_ID_MAX - 1 || !id [0]) {
        snprintf (message, message_size, "no token %.32s", id);
        return TS_NOT_FOUND;
    }
    revoke_t r = { .id = id, .by = by, .allow_self = allow_self, .message = message,
                   .message_size = message_size };
    unsigned code = gw_auth__write (self, s_revoke_txn, &r, message, message_size);
    if (code == TS_OK)
        ts_log_info ("token_revoked", "id=%s role=%s by=%s", id, r.role, by [0] ? by : "-");
    else
    if (code == TS_CONFLICT)
        ts_log_info ("token_revoke_refused", "id=%s by=%s reason=\"%s\"", id, by, message);
    return code;
}
