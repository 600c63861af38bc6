/*  ts_keys - the CURVE client keys file. See ts_keys.h. */
#include "ts_keys.h"

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zmq.h>

#include "ts_config.h"

#define KEYS_MAGIC 0x4b455953u

struct ts_keys {
    uint32_t magic;                 //  KEYS_MAGIC
    ts_key_entry *entries;          //  count used, TS_KEYS_MAX + 1 room
    size_t count;                   //  the daemon's key included
};

//  What each key-file role may claim (ts_role_bit order: public, ops,
//  panel, school, merchant, system), and whether it carries a binding.
typedef struct {
    const char *name;
    const char *claims [6];         //  NULL-terminated role names
    bool bound;                     //  BINDING required (and claimed exactly)
} role_rule_t;

static const role_rule_t s_rules [] = {
    { "gateway", { "public", "ops", "panel", "school", "merchant", NULL }, false },
    { "ops", { "ops", "system", NULL }, false },
    { "system", { "system", NULL }, false },
    { "panel", { "panel", NULL }, false },
    { "school", { "school", NULL }, true },
    { "merchant", { "merchant", NULL }, true },
    { TS_KEYS_DAEMON_ROLE, { "public", "ops", "panel", "school", "merchant", "system" }, false },
};
#define RULES_FILE_COUNT 6          //  the last rule is never in a file

static const role_rule_t *
s_rule (const char *role, bool in_file)
{
    size_t count = in_file ? RULES_FILE_COUNT : sizeof s_rules / sizeof s_rules [0];
    for (size_t i = 0; i < count; i++)
        if (strcmp (s_rules [i].name, role) == 0)
            return &s_rules [i];
    return NULL;
}

ts_keys *
ts_keys_new (void)
{
    ts_keys *self = calloc (1, sizeof (ts_keys));
    assert (self);
    self->magic = KEYS_MAGIC;
    self->entries = calloc (TS_KEYS_MAX + 1, sizeof (ts_key_entry));
    assert (self->entries);
    return self;
}

void
ts_keys_destroy (ts_keys **self_p)
{
    assert (self_p);
    ts_keys *self = *self_p;
    if (!self)
        return;
    assert (self->magic == KEYS_MAGIC);
    self->magic = 0;
    free (self->entries);
    free (self);
    *self_p = NULL;
}

//  --------------------------------------------------------------------
//  Checking fields

static bool
s_name_ok (const char *name, size_t max_chars, bool upper_ok)
{
    size_t n = strlen (name);
    if (n < 1 || n > max_chars)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = name [i];
        bool alnum = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')
                  || (upper_ok && c >= 'A' && c <= 'Z');
        if (!alnum && (i == 0 || (c != '.' && c != '_' && c != '-')))
            return false;
    }
    return true;
}

int
ts_keys_check_fields (const char *public_z85, const char *name, const char *role,
                      const char *binding, char *err, size_t err_size)
{
    uint8_t raw [32];
    if (strlen (public_z85) != TS_KEYS_Z85_CHARS || !zmq_z85_decode (raw, public_z85)) {
        snprintf (err, err_size, "'%.48s' is not a 40-character Z85 public key", public_z85);
        return -1;
    }
    if (!s_name_ok (name, TS_KEYS_NAME_MAX_CHARS, false)) {
        snprintf (err, err_size, "name '%.80s' must be 1..64 of a-z 0-9 . _ - "
                  "starting with a letter or digit", name);
        return -1;
    }
    const role_rule_t *rule = s_rule (role, true);
    if (!rule) {
        snprintf (err, err_size, "role '%.32s' must be gateway, ops, system, panel, "
                  "school or merchant", role);
        return -1;
    }
    bool has_binding = binding && binding [0];
    if (rule->bound && !has_binding) {
        snprintf (err, err_size, "role %s needs a binding (the %s id)", role, role);
        return -1;
    }
    if (!rule->bound && has_binding) {
        snprintf (err, err_size, "role %s takes no binding", role);
        return -1;
    }
    if (has_binding && !s_name_ok (binding, TS_KEYS_BINDING_MAX_CHARS, true)) {
        snprintf (err, err_size, "binding '%.80s' must be 1..64 of A-Z a-z 0-9 . _ - "
                  "starting with a letter or digit", binding);
        return -1;
    }
    return 0;
}

//  --------------------------------------------------------------------
//  Parsing

//  Split line (comment already cut) into at most 5 blank-separated words.
static int
s_words (char *line, char **words, int max_words)
{
    int count = 0;
    for (char *tok = strtok (line, " \t\r"); tok; tok = strtok (NULL, " \t\r")) {
        if (count == max_words)
            return max_words + 1;
        words [count++] = tok;
    }
    return count;
}

static void
s_cut_comment (char *line)
{
    for (char *c = line; *c; c++)
        if (*c == '#' && (c == line || c [-1] == ' ' || c [-1] == '\t')) {
            *c = 0;
            return;
        }
}

//  Parse one line into self (appending); returns 0 or -1 with why.
static int
s_parse_line (ts_keys *self, char *line, char *why, size_t why_size)
{
    s_cut_comment (line);
    char *w [4];
    int n = s_words (line, w, 4);
    if (n == 0)
        return 0;
    if (n < 3 || n > 4) {
        snprintf (why, why_size, "expected 'PUBLIC-KEY NAME ROLE [BINDING]'");
        return -1;
    }
    const char *binding = n == 4 ? w [3] : "";
    if (ts_keys_check_fields (w [0], w [1], w [2], binding, why, why_size))
        return -1;
    if (ts_keys_find_key (self, w [0])) {
        snprintf (why, why_size, "key of '%s' listed twice", w [1]);
        return -1;
    }
    if (ts_keys_find_name (self, w [1])) {
        snprintf (why, why_size, "name '%s' listed twice", w [1]);
        return -1;
    }
    if (self->count == TS_KEYS_MAX) {
        snprintf (why, why_size, "more than %d keys", TS_KEYS_MAX);
        return -1;
    }
    ts_key_entry *e = &self->entries [self->count++];
    snprintf (e->public_key, sizeof e->public_key, "%s", w [0]);
    snprintf (e->name, sizeof e->name, "%s", w [1]);
    snprintf (e->role, sizeof e->role, "%s", w [2]);
    snprintf (e->binding, sizeof e->binding, "%s", binding);
    return 0;
}

int
ts_keys_parse (ts_keys *self, const char *text, char *err, size_t err_size)
{
    assert (self && self->magic == KEYS_MAGIC && text);
    self->count = 0;
    const char *p = text;
    for (int line_no = 1; *p; line_no++) {
        assert (line_no <= TS_KEYS_FILE_MAX_BYTES + 1);
        const char *eol = strchr (p, '\n');
        size_t len = eol ? (size_t) (eol - p) : strlen (p);
        char line [TS_KEYS_LINE_MAX_BYTES + 1];
        char why [200];
        int rc = 0;
        if (len > TS_KEYS_LINE_MAX_BYTES) {
            snprintf (why, sizeof why, "longer than %d bytes", TS_KEYS_LINE_MAX_BYTES);
            rc = -1;
        }
        else {
            memcpy (line, p, len);
            line [len] = 0;
            rc = s_parse_line (self, line, why, sizeof why);
        }
        if (rc) {
            snprintf (err, err_size, "line %d: %s", line_no, why);
            self->count = 0;
            return -1;
        }
        p = eol ? eol + 1 : p + len;
    }
    return 0;
}

int
ts_keys_load (ts_keys *self, const char *path, char *err, size_t err_size)
{
    assert (self && self->magic == KEYS_MAGIC && path);
    self->count = 0;
    FILE *f = fopen (path, "r");
    if (!f && errno == ENOENT)
        return 0;
    if (!f) {
        snprintf (err, err_size, "cannot read %s: %s", path, strerror (errno));
        return -1;
    }
    //  Whoever may write the file may let any key in.
    struct stat st;
    if (fstat (fileno (f), &st) != 0 || (st.st_mode & 022) != 0) {
        snprintf (err, err_size, "%s must not be writable by group or others (chmod 600)",
                  path);
        fclose (f);
        return -1;
    }
    char *text = malloc (TS_KEYS_FILE_MAX_BYTES + 1);
    assert (text);
    size_t n = fread (text, 1, TS_KEYS_FILE_MAX_BYTES + 1, f);
    fclose (f);
    int rc = -1;
    char why [256];
    if (n > TS_KEYS_FILE_MAX_BYTES)
        snprintf (err, err_size, "%s is larger than %d bytes", path, TS_KEYS_FILE_MAX_BYTES);
    else
    if (text [n] = 0, memchr (text, 0, n))
        snprintf (err, err_size, "%s contains a NUL byte", path);
    else
    if (ts_keys_parse (self, text, why, sizeof why))
        snprintf (err, err_size, "%s: %s", path, why);
    else
        rc = 0;
    free (text);
    return rc;
}

int
ts_keys_save (const char *path, const char *text, char *err, size_t err_size)
{
    assert (path && text);
    char dir [TS_PATH_MAX], tmp [TS_PATH_MAX + 8];
    snprintf (dir, sizeof dir, "%s", path);
    char *slash = strrchr (dir, '/');
    if (slash)
        slash [slash == dir ? 1 : 0] = 0;
    snprintf (tmp, sizeof tmp, "%s.tmp", path);
    size_t size = strlen (text);
    int fd = -1;
    bool ok = (!slash || ts_mkdir_p (dir) == 0)
           && (fd = open (tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600)) >= 0
           && write (fd, text, size) == (ssize_t) size && fsync (fd) == 0;
    if (fd >= 0)
        close (fd);
    if (!ok || rename (tmp, path) != 0) {
        snprintf (err, err_size, "cannot write %s: %s", path, strerror (errno));
        unlink (tmp);
        return -1;
    }
    //  The rename must be durable too, or a crash brings a revoked key back.
    int dfd = slash ? open (dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC) : -1;
    if (dfd >= 0) {
        fsync (dfd);
        close (dfd);
    }
    return 0;
}

void
ts_keys_set_daemon_key (ts_keys *self, const char *public_z85)
{
    assert (self && self->magic == KEYS_MAGIC && public_z85);
    assert (strlen (public_z85) == TS_KEYS_Z85_CHARS);
    //  The room past TS_KEYS_MAX is for this entry. A client listed with
    //  the daemons' key gets the daemon's rights: it holds their secret.
    for (size_t i = 0; i < self->count; i++)
        if (strcmp (self->entries [i].role, TS_KEYS_DAEMON_ROLE) == 0
        ||  strcmp (self->entries [i].public_key, public_z85) == 0) {
            self->entries [i] = self->entries [--self->count];
            break;
        }
    assert (self->count <= TS_KEYS_MAX);
    ts_key_entry *e = &self->entries [self->count++];
    snprintf (e->public_key, sizeof e->public_key, "%s", public_z85);
    snprintf (e->name, sizeof e->name, "%s", TS_KEYS_DAEMON_ROLE);
    snprintf (e->role, sizeof e->role, "%s", TS_KEYS_DAEMON_ROLE);
    e->binding [0] = 0;
}

size_t
ts_keys_count (const ts_keys *self)
{
    assert (self && self->magic == KEYS_MAGIC);
    return self->count;
}

const ts_key_entry *
ts_keys_at (const ts_keys *self, size_t index)
{
    assert (self && self->magic == KEYS_MAGIC);
    assert (index < self->count);
    return &self->entries [index];
}

const ts_key_entry *
ts_keys_find_key (const ts_keys *self, const char *public_z85)
{
    assert (self && self->magic == KEYS_MAGIC);
    for (size_t i = 0; public_z85 && i < self->count; i++)
        if (strcmp (self->entries [i].public_key, public_z85) == 0)
            return &self->entries [i];
    return NULL;
}

const ts_key_entry *
ts_keys_find_name (const ts_keys *self, const char *name)
{
    assert (self && self->magic == KEYS_MAGIC);
    for (size_t i = 0; name && i < self->count; i++)
        if (strcmp (self->entries [i].name, name) == 0)
            return &self->entries [i];
    return NULL;
}

//  --------------------------------------------------------------------
//  Claims

unsigned
ts_keys_check_claim (const ts_key_entry *entry, const char *method,
                     const Tashan__Caller *caller, char *why, size_t why_size)
{
    assert (entry && method && caller);
    if (strcmp (method, "sys.Health") == 0)
        return 0;                   //  carries no data; monitors use it
    const role_rule_t *rule = s_rule (entry->role, false);
    assert (rule);
    const char *role = caller->role ? caller->role : "";
    const char *binding = caller->binding ? caller->binding : "";
    bool allowed = false;
    for (size_t i = 0; i < 6 && rule->claims [i]; i++)
        if (strcmp (rule->claims [i], role) == 0)
            allowed = true;
    if (allowed && rule->bound && strcmp (binding, entry->binding) != 0)
        allowed = false;
    if (!allowed) {
        if (rule->bound)
            snprintf (why, why_size, "client key '%s' is bound to %s %s; "
                      "it may not claim role '%.32s' binding '%.64s'",
                      entry->name, entry->role, entry->binding, role, binding);
        else
            snprintf (why, why_size, "client key '%s' (%s) may not claim role '%.32s'",
                      entry->name, entry->role, role);
        return 403;
    }
    return 0;
}
