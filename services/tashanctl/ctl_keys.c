/*  ctl_keys - CURVE keys: tashanctl keygen and tashanctl keys list|revoke

    keygen --client NAME --role ROLE [--binding ID]
                                a client's key pair: its config lines on
                                stdout, its line added to the keys file
    keys list                   the clients the keys file allows
    keys revoke NAME            comment the client's line out; daemons
                                refuse its next request (ts_zap re-reads
                                the file within a second)

    The keys file is curve.clients_file (default <data-dir>/keys/clients).
    Every change is written whole to a temporary file, fsynced, renamed
    over the old one (mode 0600, dir 0700): a daemon reading it sees the
    old list or the new one, never half of one. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <zmq.h>

#include "ctl.h"
#include "ts_keys.h"

//  The keys file's text (empty when absent) into a malloc'd buffer, and
//  checked: a file the daemons would refuse is not edited further.
static char *
s_read_keys (ctl_t *ctl, const char *path)
{
    ts_keys *keys = ts_keys_new ();
    char err [512];
    int rc = ts_keys_load (keys, path, err, sizeof err);
    ts_keys_destroy (&keys);
    if (rc) {
        fprintf (stderr, "tashanctl: %s\n", err);
        return NULL;
    }
    char *text = calloc (1, TS_KEYS_FILE_MAX_BYTES + 1);
    FILE *f = fopen (path, "r");
    if (f) {
        size_t n = fread (text, 1, TS_KEYS_FILE_MAX_BYTES, f);
        text [n] = 0;
        fclose (f);
    }
    (void) ctl;
    return text;
}

//  Replace the file with text (ts_keys_save); prints why it failed.
static int
s_write_keys (const char *path, const char *text)
{
    char err [TS_PATH_MAX + 128];
    if (ts_keys_save (path, text, err, sizeof err) == 0)
        return 0;
    fprintf (stderr, "tashanctl: %s\n", err);
    return -1;
}

//  --------------------------------------------------------------------
//  keygen

typedef struct {
    const char *name, *role, *binding;
} client_args_t;

static int
s_client_args (int argc, char **argv, client_args_t *a)
{
    memset (a, 0, sizeof *a);
    a->binding = "";
    for (int i = 0; i + 1 < argc; i += 2) {
        const char **dst = !strcmp (argv [i], "--client") ? &a->name
                         : !strcmp (argv [i], "--role") ? &a->role
                         : !strcmp (argv [i], "--binding") ? &a->binding : NULL;
        if (!dst) {
            fprintf (stderr, "tashanctl: keygen: unknown option '%s'\n", argv [i]);
            return -1;
        }
        *dst = argv [i + 1];
    }
    if (argc % 2 || !a->name || !a->role) {
        fprintf (stderr, "tashanctl: keygen --client NAME --role ROLE [--binding ID]\n");
        return -1;
    }
    return 0;
}

int
ctl_keygen_client (ctl_t *ctl, int argc, char **argv)
{
    client_args_t a;
    if (s_client_args (argc, argv, &a))
        return 2;
    char public_key [41], secret_key [41], err [256];
    if (zmq_curve_keypair (public_key, secret_key) != 0) {
        fprintf (stderr, "tashanctl: this libzmq has no CURVE support\n");
        return 1;
    }
    if (ts_keys_check_fields (public_key, a.name, a.role, a.binding, err, sizeof err)) {
        fprintf (stderr, "tashanctl: keygen: %s\n", err);
        return 2;
    }
    const char *path = ctl->cfg.clients_file;
    char *text = s_read_keys (ctl, path);
    if (!text)
        return 1;
    ts_keys *keys = ts_keys_new ();
    ts_keys_parse (keys, text, err, sizeof err);
    bool taken = ts_keys_find_name (keys, a.name) != NULL;
    ts_keys_destroy (&keys);
    size_t len = strlen (text);
    int rc = 1;
    if (taken)
        fprintf (stderr, "tashanctl: %s already lists a client '%s' (revoke it first)\n",
                 path, a.name);
    else
    if (len + 256 > TS_KEYS_FILE_MAX_BYTES)
        fprintf (stderr, "tashanctl: %s is full\n", path);
    else {
        snprintf (text + len, TS_KEYS_FILE_MAX_BYTES + 1 - len, "%s%s %s %s%s%s\n",
                  len && text [len - 1] != '\n' ? "\n" : "", public_key, a.name, a.role,
                  a.binding [0] ? " " : "", a.binding);
        rc = s_write_keys (path, text) ? 1 : 0;
    }
    free (text);
    if (rc)
        return rc;
    const char *server = ctl->cfg.curve_server [0] ? ctl->cfg.curve_server : ctl->cfg.curve_public;
    printf ("# client '%s' (%s%s%s): its tashan.conf lines (keep it private: mode 0600)\n"
            "curve.public_key = %s\n"
            "curve.secret_key = %s\n"
            "%scurve.server_key = %s\n"
            "# added to %s:\n# %s %s %s%s%s\n",
            a.name, a.role, a.binding [0] ? " " : "", a.binding, public_key, secret_key,
            server [0] ? "" : "# ", server [0] ? server : "<the daemons' curve.public_key>",
            path, public_key, a.name, a.role, a.binding [0] ? " " : "", a.binding);
    return 0;
}

//  --------------------------------------------------------------------
//  keys list | revoke

static int
s_keys_list (ctl_t *ctl)
{
    ts_keys *keys = ts_keys_new ();
    char err [512];
    if (ts_keys_load (keys, ctl->cfg.clients_file, err, sizeof err)) {
        fprintf (stderr, "tashanctl: %s\n", err);
        ts_keys_destroy (&keys);
        return 1;
    }
    printf ("%-24s %-9s %-16s %s\n", "name", "role", "binding", "public key");
    for (size_t i = 0; i < ts_keys_count (keys); i++) {
        const ts_key_entry *e = ts_keys_at (keys, i);
        printf ("%-24s %-9s %-16s %s\n", e->name, e->role, e->binding [0] ? e->binding : "-",
                e->public_key);
    }
    ts_keys_destroy (&keys);
    return 0;
}

//  The line of text (a keys file) naming name: its start and length.
static const char *
s_find_line (const char *text, const char *name, size_t *len)
{
    for (const char *p = text; *p; ) {
        const char *eol = strchr (p, '\n');
        *len = eol ? (size_t) (eol - p) : strlen (p);
        char line [TS_KEYS_LINE_MAX_BYTES + 1], key [64], word [80];
        snprintf (line, sizeof line, "%.*s", (int) *len, p);
        if (line [0] != '#' && sscanf (line, "%63s %79s", key, word) == 2
        &&  strcmp (word, name) == 0)
            return p;
        p = eol ? eol + 1 : p + *len;
    }
    return NULL;
}

static int
s_keys_revoke (ctl_t *ctl, const char *name)
{
    const char *path = ctl->cfg.clients_file;
    char *text = s_read_keys (ctl, path);
    if (!text)
        return 1;
    size_t len;
    const char *line = s_find_line (text, name, &len);
    if (!line) {
        fprintf (stderr, "tashanctl: %s lists no client '%s'\n", path, name);
        free (text);
        return 1;
    }
    char stamp [32];
    time_t now = time (NULL);
    strftime (stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%SZ", gmtime (&now));
    size_t out_size = strlen (text) + 64;
    char *out = malloc (out_size);
    snprintf (out, out_size, "%.*s# revoked %s: %s", (int) (line - text), text, stamp,
              line);
    int rc = s_write_keys (path, out);
    if (rc == 0)
        printf ("revoked '%s' in %s; daemons refuse its next request\n", name, path);
    free (out);
    free (text);
    return rc ? 1 : 0;
}

int
ctl_keys (ctl_t *ctl, int argc, char **argv)
{
    if (argc == 1 && strcmp (argv [0], "list") == 0)
        return s_keys_list (ctl);
    if (argc == 2 && strcmp (argv [0], "revoke") == 0)
        return s_keys_revoke (ctl, argv [1]);
    fprintf (stderr, "tashanctl: keys list | keys revoke NAME\n");
    return 2;
}
