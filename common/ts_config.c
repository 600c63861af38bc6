/*  ts_config - settings from defaults, a config file and flags.
    See ts_config.h. */
#include "ts_config.h"

#include <assert.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ts_log.h"
#include "ts_reqlog.h"

//  The names come from services/services.list, through ts_services.h.
#define S_NAME(svc) #svc,
const char *const ts_service_names [TS_SERVICE_COUNT] = { TS_SERVICES (S_NAME) };
#undef S_NAME

#define CONFIG_FILE_MAX_BYTES (64 * 1024)
#define CONFIG_LINES_MAX 1000

int
ts_mkdir_p (const char *path)
{
    char tmp [TS_PATH_MAX];
    if (snprintf (tmp, sizeof tmp, "%s", path) >= (int) sizeof tmp) {
        errno = ENAMETOOLONG;
        return -1;
    }
    for (char *p = tmp + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = 0;
        if (mkdir (tmp, 0700) != 0 && errno != EEXIST)
            return -1;
        *p = '/';
    }
    if (mkdir (tmp, 0700) != 0 && errno != EEXIST)
        return -1;
    return 0;
}

static int
s_service_index (const char *name)
{
    for (int i = 0; i < TS_SERVICE_COUNT; i++)
        if (strcmp (ts_service_names [i], name) == 0)
            return i;
    return -1;
}

const char *
ts_config_endpoint (const ts_config *self, const char *service)
{
    int i = s_service_index (service);
    return i < 0 ? NULL : self->endpoints [i];
}

static int
s_copy (char *dst, size_t size, const char *value, const char *what,
        char *err, size_t err_size)
{
    if (strlen (value) >= size) {
        snprintf (err, err_size, "%s is longer than %zu characters", what, size - 1);
        return -1;
    }
    memcpy (dst, value, strlen (value) + 1);
    return 0;
}

static int
s_check_listen (const char *value, char *err, size_t err_size)
{
    const char *colon = strrchr (value, ':');
    char *end;
    long port = colon ? strtol (colon + 1, &end, 10) : -1;
    if (!colon || colon == value || colon [1] == 0 || *end || port < 0 || port > 65535) {
        snprintf (err, err_size, "listen must be HOST:PORT, got '%s'", value);
        return -1;
    }
    return 0;
}

static int
s_check_endpoint (const char *value, char *err, size_t err_size)
{
    if (strncmp (value, "tcp://", 6) && strncmp (value, "ipc://", 6)) {
        snprintf (err, err_size, "endpoint must start with tcp:// or ipc://, got '%s'", value);
        return -1;
    }
    //  A Unix socket path is limited by sun_path (108 bytes).
    if (strncmp (value, "ipc://", 6) == 0 && strlen (value + 6) > 100) {
        snprintf (err, err_size, "ipc endpoint path is longer than 100 bytes: '%s' "
                  "(use a shorter --data-dir or tcp endpoints)", value);
        return -1;
    }
    return 0;
}

bool
ts_config_endpoint_loopback (const char *endpoint)
{
    assert (endpoint);
    if (strncmp (endpoint, "ipc://", 6) == 0)
        return true;
    if (strncmp (endpoint, "tcp://", 6) != 0)
        return false;
    const char *host = endpoint + 6;
    const char *colon = strrchr (host, ':');
    size_t len = colon ? (size_t) (colon - host) : strlen (host);
    char name [TS_ENDPOINT_MAX];
    if (len >= sizeof name)
        return false;
    memcpy (name, host, len);
    name [len] = 0;
    if (!strcmp (name, "localhost") || !strcmp (name, "[::1]") || !strcmp (name, "::1"))
        return true;
    //  127.a.b.c, each part a decimal number
    unsigned a, b, c, d;
    char tail;
    return sscanf (name, "%u.%u.%u.%u%c", &a, &b, &c, &d, &tail) == 4 && a == 127
        && b < 256 && c < 256 && d < 256;
}

//  log.requests and log.requests_sample (ts_reqlog.h). Returns 1 when key
//  is not one of them, else 0 or -1 with err filled.
static int
s_set_log_requests (ts_config *self, const char *key, const char *value, char *err,
                    size_t err_size)
{
    if (strcmp (key, "log.requests") == 0) {
        int mode = ts_reqlog_mode_parse (value);
        if (mode < 0) {
            snprintf (err, err_size, "log.requests must be all, errors or off, got '%s'", value);
            return -1;
        }
        self->log_requests = mode;
        return 0;
    }
    if (strcmp (key, "log.requests_sample") == 0) {
        char *end;
        unsigned long n = strtoul (value, &end, 10);
        if (!*value || *end || value [0] == '-' || n < 1 || n > TS_REQLOG_SAMPLE_MAX) {
            snprintf (err, err_size, "log.requests_sample must be a number from 1 to %d "
                      "(log one successful request in N)", TS_REQLOG_SAMPLE_MAX);
            return -1;
        }
        self->log_requests_sample = (unsigned) n;
        return 0;
    }
    return 1;
}

//  The gateway's http.* settings.
static int
s_set_http (ts_config *self, const char *key, const char *value, char *err, size_t err_size)
{
    if (strcmp (key, "http.cors_origins") == 0)
        return s_copy (self->cors_origins, sizeof self->cors_origins, value, key, err, err_size);
    unsigned *dst = strcmp (key, "http.max_connections") == 0 ? &self->http_max_connections
                  : strcmp (key, "http.max_connections_per_address") == 0 ? &self->http_max_per_address
                  : strcmp (key, "http.first_byte_timeout_ms") == 0 ? &self->http_first_byte_ms
                  : NULL;
    if (!dst) {
        snprintf (err, err_size, "unknown key '%s'", key);
        return -1;
    }
    char *end;
    unsigned long v = strtoul (value, &end, 10);
    if (!*value || *end || value [0] == '-' || v < 1 || v > 1000000) {
        snprintf (err, err_size, "%s must be a number from 1 to 1000000", key);
        return -1;
    }
    *dst = (unsigned) v;
    return 0;
}

//  store.map_resident_mib: a whole number of MiB, 0 for no bound.
static int
s_set_map_resident (ts_config *self, const char *value, char *err, size_t err_size)
{
    char *end;
    unsigned long v = strtoul (value, &end, 10);
    if (!*value || *end || value [0] == '-' || v > TS_CONFIG_MAP_RESIDENT_MIB_MAX) {
        snprintf (err, err_size, "store.map_resident_mib must be a number of MiB from 0 "
                  "(no bound) to %d, got '%s'", TS_CONFIG_MAP_RESIDENT_MIB_MAX, value);
        return -1;
    }
    self->store_map_resident_mib = (unsigned) v;
    return 0;
}

//  Apply one key = value setting (from the file or a flag).
static int
s_set (ts_config *self, const char *key, const char *value, char *err, size_t err_size)
{
    int log_rc = s_set_log_requests (self, key, value, err, err_size);
    if (log_rc <= 0)
        return log_rc;
    if (strcmp (key, "data_dir") == 0)
        return s_copy (self->data_dir, sizeof self->data_dir, value, "data_dir", err, err_size);
    if (strcmp (key, "log_level") == 0) {
        int level = ts_log_level_parse (value);
        if (level < 0) {
            snprintf (err, err_size, "log_level must be debug, info, warn or error, got '%s'", value);
            return -1;
        }
        self->log_level = level;
        return 0;
    }
    if (strcmp (key, "listen") == 0) {
        if (s_check_listen (value, err, err_size))
            return -1;
        return s_copy (self->listen, sizeof self->listen, value, "listen", err, err_size);
    }
    if (strncmp (key, "endpoint.", 9) == 0) {
        int i = s_service_index (key + 9);
        if (i < 0) {
            snprintf (err, err_size, "unknown service in '%s'", key);
            return -1;
        }
        if (s_check_endpoint (value, err, err_size))
            return -1;
        return s_copy (self->endpoints [i], sizeof self->endpoints [i], value, key, err, err_size);
    }
    if (strcmp (key, "rate_limit.token_per_s") == 0 || strcmp (key, "rate_limit.public_per_s") == 0) {
        char *end;
        unsigned long v = strtoul (value, &end, 10);
        if (!*value || *end || value [0] == '-' || v > 10000000) {
            snprintf (err, err_size, "%s must be a number of requests per second "
                      "(0 = no limit, at most 10000000)", key);
            return -1;
        }
        if (key [11] == 't')
            self->rate_token_per_s = (unsigned) v;
        else
            self->rate_public_per_s = (unsigned) v;
        return 0;
    }
    if (strcmp (key, "store.map_resident_mib") == 0)
        return s_set_map_resident (self, value, err, err_size);
    if (strcmp (key, "curve.clients_file") == 0)
        return s_copy (self->clients_file, sizeof self->clients_file, value, key, err, err_size);
    if (strcmp (key, "backup.root") == 0)
        return s_copy (self->backup_root, sizeof self->backup_root, value, key, err, err_size);
    if (strncmp (key, "http.", 5) == 0)
        return s_set_http (self, key, value, err, err_size);
    char *dst = NULL;
    if (strcmp (key, "curve.secret_key") == 0) dst = self->curve_secret;
    else if (strcmp (key, "curve.public_key") == 0) dst = self->curve_public;
    else if (strcmp (key, "curve.server_key") == 0) dst = self->curve_server;
    if (dst) {
        if (strlen (value) != 40) {
            snprintf (err, err_size, "%s must be a 40-character Z85 key", key);
            return -1;
        }
        memcpy (dst, value, 41);
        return 0;
    }
    snprintf (err, err_size, "unknown key '%s'", key);
    return -1;
}

static char *
s_trim (char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    size_t n = strlen (s);
    while (n && (s [n - 1] == ' ' || s [n - 1] == '\t' || s [n - 1] == '\r'))
        s [--n] = 0;
    return s;
}

int
ts_config_load_text (ts_config *self, const char *text, char *err, size_t err_size)
{
    const char *p = text;
    for (int line_no = 1; *p; line_no++) {
        if (line_no > CONFIG_LINES_MAX) {
            snprintf (err, err_size, "more than %d lines", CONFIG_LINES_MAX);
            return -1;
        }
        const char *eol = strchr (p, '\n');
        size_t len = eol ? (size_t) (eol - p) : strlen (p);
        char line [1024];
        if (len >= sizeof line) {
            snprintf (err, err_size, "line %d: longer than %zu bytes", line_no, sizeof line - 1);
            return -1;
        }
        memcpy (line, p, len);
        line [len] = 0;
        p = eol ? eol + 1 : p + len;
        //  A comment starts at a '#' that begins the line or follows a
        //  blank: Z85 keys contain '#' but never blanks.
        for (char *c = line; *c; c++)
            if (*c == '#' && (c == line || c [-1] == ' ' || c [-1] == '\t')) {
                *c = 0;
                break;
            }
        char *s = s_trim (line);
        if (!*s)
            continue;
        char *eq = strchr (s, '=');
        if (!eq) {
            snprintf (err, err_size, "line %d: expected 'key = value'", line_no);
            return -1;
        }
        *eq = 0;
        char *key = s_trim (s), *value = s_trim (eq + 1);
        char why [256];
        if (s_set (self, key, value, why, sizeof why)) {
            snprintf (err, err_size, "line %d: %s", line_no, why);
            return -1;
        }
    }
    return 0;
}

static int
s_load_file (ts_config *self, const char *path, char *err, size_t err_size)
{
    FILE *f = fopen (path, "r");
    if (!f) {
        snprintf (err, err_size, "cannot read %s: %s", path, strerror (errno));
        return -1;
    }
    char *text = malloc (CONFIG_FILE_MAX_BYTES + 1);
    size_t n = fread (text, 1, CONFIG_FILE_MAX_BYTES + 1, f);
    fclose (f);
    if (n > CONFIG_FILE_MAX_BYTES) {
        free (text);
        snprintf (err, err_size, "%s is larger than %d bytes", path, CONFIG_FILE_MAX_BYTES);
        return -1;
    }
    text [n] = 0;
    if (memchr (text, 0, n)) {
        free (text);
        snprintf (err, err_size, "%s contains a NUL byte", path);
        return -1;
    }
    char why [300];
    int rc = ts_config_load_text (self, text, why, sizeof why);
    free (text);
    if (rc)
        snprintf (err, err_size, "%s: %s", path, why);
    return rc;
}

static void
s_usage (FILE *out, const char *program, const char *summary, const char *extra,
         bool takes_command)
{
    fprintf (out,
        "Usage: %s [options]%s\n"
        "%s\n\n"
        "Options:\n"
        "  --data-dir DIR          where data lives (default ./var)\n"
        "  --config FILE           read settings from FILE (key = value lines)\n"
        "  --log-level LEVEL       debug, info, warn or error (default info)\n"
        "  --listen HOST:PORT      gateway HTTP address (default 127.0.0.1:8080)\n"
        "  --endpoint SVC=ENDPOINT ZeroMQ endpoint of a daemon (repeatable;\n"
        "                          default ipc://DIR/run/SVC.sock)\n"
        "  --help                  print this and exit\n"
        "  --version               print the version and exit\n",
        program, takes_command ? " COMMAND" : "", summary);
    if (extra)
        fprintf (out, "\n%s", extra);
}

//  --------------------------------------------------------------------
//  ts_config_parse, in steps: the flags are collected first (getopt_long)
//  into a side table, so the config file, which a flag may name, loads
//  before them and the flags win; then the data dir is made absolute and
//  the endpoints get their defaults.

#define FLAGS_MAX 64

//  The flags as given, in order: config keys ("data_dir", "config",
//  "endpoint"...) and their values.
typedef struct {
    const char *keys [FLAGS_MAX];
    const char *values [FLAGS_MAX];
    int count;
} flags_t;

//  The long options, and the config key each one sets.
static const struct option s_options [] = {
    { "data-dir", required_argument, NULL, 'd' },
    { "config", required_argument, NULL, 'c' },
    { "log-level", required_argument, NULL, 'l' },
    { "listen", required_argument, NULL, 'L' },
    { "endpoint", required_argument, NULL, 'e' },
    { "help", no_argument, NULL, 'h' },
    { "version", no_argument, NULL, 'V' },
    { NULL, 0, NULL, 0 },
};

static const char *
s_option_key (int opt)
{
    switch (opt) {
        case 'd': return "data_dir";
        case 'c': return "config";
        case 'l': return "log_level";
        case 'L': return "listen";
        case 'e': return "endpoint";
        default: return NULL;
    }
}

//  The option getopt_long just refused, as the user wrote it ("--bogus"
//  of "--bogus=1").
static void
s_print_refused (const char *program, char **argv, const char *fmt)
{
    const char *arg = argv [optind - 1];
    int len = (int) strcspn (arg, "=");
    fprintf (stderr, fmt, program, len, arg);
}

//  Collect the flags into flags (getopt_long; "+": stop at the first
//  argument that is not an option, the command of a tool). --help and
//  --version print and end here. Sets self->argc/argv to what is left.
static ts_config_result
s_collect_flags (ts_config *self, int argc, char **argv, const char *program,
                 const char *summary, const char *extra_usage,
                 bool allow_positional, flags_t *flags)
{
    optind = 0;                     //  glibc: start afresh (tests parse often)
    opterr = 0;                     //  our own messages below
    int opt;
    while ((opt = getopt_long (argc, argv, "+:h", s_options, NULL)) != -1) {
        if (opt == 'h') {
            s_usage (stdout, program, summary, extra_usage, allow_positional);
            return TS_CONFIG_EXIT_OK;
        }
        if (opt == 'V') {
            printf ("%s %s\n", program, TASHAN_VERSION);
            return TS_CONFIG_EXIT_OK;
        }
        if (opt == ':') {
            s_print_refused (program, argv, "%s: %.*s needs a value (see --help)\n");
            return TS_CONFIG_EXIT_USAGE;
        }
        if (opt == '?') {
            s_print_refused (program, argv, "%s: unknown option '%.*s' (see --help)\n");
            return TS_CONFIG_EXIT_USAGE;
        }
        if (flags->count == FLAGS_MAX) {
            fprintf (stderr, "%s: too many options\n", program);
            return TS_CONFIG_EXIT_USAGE;
        }
        flags->keys [flags->count] = s_option_key (opt);
        flags->values [flags->count++] = optarg;
        assert (flags->keys [flags->count - 1]);
    }
    if (optind < argc && !allow_positional) {
        fprintf (stderr, "%s: unexpected argument '%s' (see --help)\n", program, argv [optind]);
        return TS_CONFIG_EXIT_USAGE;
    }
    self->argc = argc - optind;
    self->argv = argv + optind;
    return TS_CONFIG_RUN;
}

//  Apply the collected flags: the config files they name first, then
//  every other flag over it. Returns 0, or -1 with err filled.
static int
s_apply_flags (ts_config *self, const flags_t *flags, char *err, size_t err_size)
{
    for (int f = 0; f < flags->count; f++)
        if (strcmp (flags->keys [f], "config") == 0
        && (s_copy (self->config_file, sizeof self->config_file, flags->values [f],
                    "--config", err, err_size)
        ||  s_load_file (self, self->config_file, err, err_size)))
            return -1;
    for (int f = 0; f < flags->count; f++) {
        const char *key = flags->keys [f], *value = flags->values [f];
        char ep_key [64];
        if (strcmp (key, "config") == 0)
            continue;
        if (strcmp (key, "endpoint") == 0) {
            //  --endpoint SERVICE=ENDPOINT is the key endpoint.SERVICE
            const char *eq = strchr (value, '=');
            if (!eq || (size_t) (eq - value) > 32) {
                snprintf (err, err_size, "--endpoint needs SERVICE=ENDPOINT, got '%s'", value);
                return -1;
            }
            snprintf (ep_key, sizeof ep_key, "endpoint.%.*s", (int) (eq - value), value);
            key = ep_key;
            value = eq + 1;
        }
        if (s_set (self, key, value, err, err_size))
            return -1;
    }
    return 0;
}

//  Absolute data dir: daemons may chdir, and ipc endpoints need it.
static int
s_absolute_data_dir (ts_config *self, char *err, size_t err_size)
{
    if (self->data_dir [0] == '/')
        return 0;
    char cwd [TS_PATH_MAX], abs [TS_PATH_MAX];
    if (!getcwd (cwd, sizeof cwd)) {
        snprintf (err, err_size, "cannot read the current directory");
        return -1;
    }
    const char *rel = self->data_dir;
    if (strncmp (rel, "./", 2) == 0)
        rel += 2;
    if (snprintf (abs, sizeof abs, "%s/%s", cwd, rel) >= (int) sizeof abs) {
        snprintf (err, err_size, "data dir path too long");
        return -1;
    }
    memcpy (self->data_dir, abs, sizeof abs);
    return 0;
}

//  A path setting made absolute against the data dir ("" = default under
//  it): daemons compare paths, so relative ones must not depend on cwd.
static int
s_data_path (ts_config *self, char *path, const char *fallback, char *err, size_t err_size)
{
    char abs [TS_PATH_MAX];
    int n = !path [0] ? snprintf (abs, sizeof abs, "%s/%s", self->data_dir, fallback)
          : path [0] != '/' ? snprintf (abs, sizeof abs, "%s/%s", self->data_dir, path)
          : snprintf (abs, sizeof abs, "%s", path);
    if (n >= (int) sizeof abs) {
        snprintf (err, err_size, "path too long: '%s'", path [0] ? path : fallback);
        return -1;
    }
    memcpy (path, abs, sizeof abs);
    return 0;
}

//  Every endpoint not set: ipc://<data-dir>/run/<service>.sock.
static int
s_default_endpoints (ts_config *self, char *err, size_t err_size)
{
    for (int s = 0; s < TS_SERVICE_COUNT; s++) {
        if (self->endpoints [s][0])
            continue;
        char ep [TS_ENDPOINT_MAX + TS_PATH_MAX];
        snprintf (ep, sizeof ep, "ipc://%s/run/%s.sock", self->data_dir, ts_service_names [s]);
        if (s_check_endpoint (ep, err, err_size)
        ||  s_copy (self->endpoints [s], sizeof self->endpoints [s], ep, "endpoint", err, err_size))
            return -1;
    }
    return 0;
}

ts_config_result
ts_config_parse (ts_config *self, int argc, char **argv, const char *program,
                 const char *summary, const char *extra_usage,
                 bool allow_positional)
{
    memset (self, 0, sizeof *self);
    snprintf (self->data_dir, sizeof self->data_dir, "./var");
    snprintf (self->listen, sizeof self->listen, "127.0.0.1:8080");
    self->log_level = TS_LOG_INFO;
    self->rate_token_per_s = 20000;
    self->rate_public_per_s = 2000;
    self->log_requests = TS_REQLOG_ALL;
    self->log_requests_sample = 1;
    self->store_map_resident_mib = TS_CONFIG_MAP_RESIDENT_MIB;
    flags_t flags = { .count = 0 };
    ts_config_result result = s_collect_flags (self, argc, argv, program, summary,
                                               extra_usage, allow_positional, &flags);
    if (result != TS_CONFIG_RUN)
        return result;
    char err [512];
    if (s_apply_flags (self, &flags, err, sizeof err)
    ||  s_absolute_data_dir (self, err, sizeof err)
    ||  s_default_endpoints (self, err, sizeof err)
    ||  s_data_path (self, self->clients_file, "keys/clients", err, sizeof err)
    ||  s_data_path (self, self->backup_root, "backups", err, sizeof err)) {
        fprintf (stderr, "%s: %s\n", program, err);
        return TS_CONFIG_EXIT_USAGE;
    }
    return TS_CONFIG_RUN;
}
