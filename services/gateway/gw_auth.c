/*  gw_auth - bearer tokens. See gw_auth.h. */
#include "gw_auth.h"

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <sodium.h>

#include "ts_log.h"
#include "ts_status.h"
#include "ts_store.h"
#include "ts_valid.h"

#define AUTH_MAGIC 0x41555448u
#define TOKEN_SECRET_BYTES 32
#define TOKEN_HASH_BYTES 32
#define TOKEN_PREFIX "tsn_"
#define TOKEN_TEXT_MAX 128
#define BINDING_MAX_CHARS 64
#define NOTE_MAX_CHARS 200

struct gw_auth {
    uint32_t magic;                 //  AUTH_MAGIC
    ts_store *store;                //  <data-dir>/gateway
    ts_table tokens;                //  hash -> TokenRecord
    ts_table token_ids;             //  id -> hash
};

static int64_t
s_now_ms (void)
{
    struct timespec ts;
    clock_gettime (CLOCK_REALTIME, &ts);
    return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

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

gw_auth *
gw_auth_new (const char *data_dir, char *err, size_t err_size)
{
    if (sodium_init () < 0) {
        snprintf (err, err_size, "libsodium failed to initialise");
        return NULL;
    }
    char dir [1024];
    snprintf (dir, sizeof dir, "%s/gateway", data_dir);
    static const ts_table_def tables [] = { { "tokens", 0 }, { "token_ids", 0 } };
    ts_store *store = ts_store_new (dir, tables, 2, 1, err, err_size);
    if (!store)
        return NULL;
    gw_auth *self = calloc (1, sizeof (gw_auth));
    assert (self);
    self->magic = AUTH_MAGIC;
    self->store = store;
    self->tokens = ts_store_table (store, "tokens");
    self->token_ids = ts_store_table (store, "token_ids");

    char path [1100];
    snprintf (path, sizeof path, "%s/ops.token", dir);
    struct stat st;
    if (stat (path, &st) != 0) {
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
            gw_auth_destroy (&self);
            return NULL;
        }
        sodium_memzero (token, sizeof token);
        ts_log_info ("ops_token_created", "path=%s id=%s", path, rec.id);
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
    ts_store_destroy (&self->store);
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

unsigned
gw_auth_create (gw_auth *self, const Tashan__Gateway__CreateTokenRequest *req,
                const char *created_by, ts_arena *arena, Tashan__Gateway__Token *out,
                char *message, size_t message_size)
{
    assert (self && self->magic == AUTH_MAGIC);
    const char *binding = "";
    unsigned code = s_check_create (req, &binding, message, message_size);
    if (code != TS_OK)
        return code;
    bool is_school = strcmp (req->role, "school") == 0;
    bool is_merchant = strcmp (req->role, "merchant") == 0;
    char token [TOKEN_TEXT_MAX];
    s_new_secret (token, sizeof token);
    Tashan__Gateway__TokenRecord rec = TASHAN__GATEWAY__TOKEN_RECORD__INIT;
    rec.role = req->role;
    rec.binding = (char *) binding;
    rec.note = req->note;
    rec.created_ms = s_now_ms ();
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
    sodium_memzero (token, sizeof token);
    ts_log_info ("token_created", "id=%s role=%s by=%s", out->id, out->role, created_by);
    return TS_CREATED;
}

unsigned
gw_auth_revoke (gw_auth *self, const char *id, char *message, size_t message_size)
{
    assert (self && self->magic == AUTH_MAGIC);
    if (strlen (id) > 32) {
        snprintf (message, message_size, "no token %.32s", id);
        return TS_NOT_FOUND;
    }
    for (int attempt = 0; attempt < 8; attempt++) {
        ts_arena *arena = ts_arena_new ();
        ts_txn *txn = ts_txn_begin (self->store, true);
        ts_key k;
        ts_key_init (&k);
        ts_key_str (&k, id);
        ts_val hash;
        Tashan__Gateway__TokenRecord *rec = NULL;
        uint8_t hash_copy [TOKEN_HASH_BYTES];
        if (ts_txn_get (txn, self->token_ids, k.data, k.size, &hash) && hash.size == TOKEN_HASH_BYTES) {
            memcpy (hash_copy, hash.data, TOKEN_HASH_BYTES);
            rec = ts_txn_get_msg (txn, self->tokens, hash_copy, TOKEN_HASH_BYTES,
                                  &tashan__gateway__token_record__descriptor, arena);
        }
        if (!rec) {
            ts_txn_abort (&txn);
            ts_arena_destroy (&arena);
            snprintf (message, message_size, "no token %s", id);
            return TS_NOT_FOUND;
        }
        if (!rec->revoked) {
            rec->revoked = true;
            rec->revoked_ms = s_now_ms ();
            ts_txn_put_msg (txn, self->tokens, hash_copy, TOKEN_HASH_BYTES, &rec->base);
        }
        int rc = ts_txn_commit (&txn);
        ts_arena_destroy (&arena);
        if (rc == TS_STORE_MAP_FULL && ts_store_grow (self->store) == 0)
            continue;
        if (rc != 0) {
            snprintf (message, message_size, "storage error");
            return TS_INTERNAL;
        }
        ts_log_info ("token_revoked", "id=%s", id);
        return TS_OK;
    }
    snprintf (message, message_size, "storage full");
    return TS_INTERNAL;
}
