/*  ts_config - settings from defaults, a config file and flags.
    See ts_config.h. */
#include "ts_config.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ts_log.h"

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

//  Apply one key = value setting (from the file or a flag).
static int
s_set (ts_config *self, const char *key, const char *value, char *err, size_t err_size)
{
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
s_usage (FILE *out, const char *program, const char *summary, const char *extra)
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
        program, extra ? " COMMAND" : "", summary);
    if (extra)
        fprintf (out, "\n%s", extra);
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
    char err [512];
    //  Flags first into a side table, so the config file (which may be
    //  named by a flag) loads before them and flags win.
    const char *flag_keys [64];
    const char *flag_values [64];
    int flag_count = 0;
    int i = 1;
    for (; i < argc; i++) {
        const char *arg = argv [i];
        if (strcmp (arg, "--help") == 0 || strcmp (arg, "-h") == 0) {
            s_usage (stdout, program, summary, extra_usage);
            return TS_CONFIG_EXIT_OK;
        }
        if (strcmp (arg, "--version") == 0) {
            printf ("%s %s\n", program, TASHAN_VERSION);
            return TS_CONFIG_EXIT_OK;
        }
        if (strncmp (arg, "--", 2) != 0) {
            if (allow_positional)
                break;
            fprintf (stderr, "%s: unexpected argument '%s' (see --help)\n", program, arg);
            return TS_CONFIG_EXIT_USAGE;
        }
        //  --flag=value or --flag value
        char name [64];
        const char *value = NULL;
        const char *eq = strchr (arg, '=');
        size_t name_len = eq ? (size_t) (eq - arg) : strlen (arg);
        if (name_len >= sizeof name) {
            fprintf (stderr, "%s: unknown option '%s' (see --help)\n", program, arg);
            return TS_CONFIG_EXIT_USAGE;
        }
        memcpy (name, arg, name_len);
        name [name_len] = 0;
        if (eq)
            value = eq + 1;
        else
        if (i + 1 < argc)
            value = argv [++i];
        const char *key = NULL;
        if (strcmp (name, "--data-dir") == 0) key = "data_dir";
        else if (strcmp (name, "--config") == 0) key = "config";
        else if (strcmp (name, "--log-level") == 0) key = "log_level";
        else if (strcmp (name, "--listen") == 0) key = "listen";
        else if (strcmp (name, "--endpoint") == 0) key = "endpoint";
        else {
            fprintf (stderr, "%s: unknown option '%s' (see --help)\n", program, name);
            return TS_CONFIG_EXIT_USAGE;
        }
        if (!value) {
            fprintf (stderr, "%s: %s needs a value (see --help)\n", program, name);
            return TS_CONFIG_EXIT_USAGE;
        }
        if (flag_count == 64) {
            fprintf (stderr, "%s: too many options\n", program);
            return TS_CONFIG_EXIT_USAGE;
        }
        flag_keys [flag_count] = key;
        flag_values [flag_count++] = value;
    }
    self->argc = argc - i;
    self->argv = argv + i;
    for (int f = 0; f < flag_count; f++)
        if (strcmp (flag_keys [f], "config") == 0) {
            if (s_copy (self->config_file, sizeof self->config_file, flag_values [f],
                        "--config", err, sizeof err)
            ||  s_load_file (self, self->config_file, err, sizeof err)) {
                fprintf (stderr, "%s: %s\n", program, err);
                return TS_CONFIG_EXIT_USAGE;
            }
        }
    for (int f = 0; f < flag_count; f++) {
        const char *key = flag_keys [f], *value = flag_values [f];
        char ep_key [64];
        if (strcmp (key, "config") == 0)
            continue;
        if (strcmp (key, "endpoint") == 0) {
            const char *eq = strchr (value, '=');
            if (!eq || (size_t) (eq - value) > 32) {
                fprintf (stderr, "%s: --endpoint needs SERVICE=ENDPOINT, got '%s'\n", program, value);
                return TS_CONFIG_EXIT_USAGE;
            }
            snprintf (ep_key, sizeof ep_key, "endpoint.%.*s", (int) (eq - value), value);
            key = ep_key;
            value = eq + 1;
        }
        if (s_set (self, key, value, err, sizeof err)) {
            fprintf (stderr, "%s: %s\n", program, err);
            return TS_CONFIG_EXIT_USAGE;
        }
    }
    //  Absolute data dir: daemons may chdir, and ipc endpoints need it.
    if (self->data_dir [0] != '/') {
        char cwd [TS_PATH_MAX], abs [TS_PATH_MAX];
        if (!getcwd (cwd, sizeof cwd)) {
            fprintf (stderr, "%s: cannot read the current directory\n", program);
            return TS_CONFIG_EXIT_USAGE;
        }
        const char *rel = self->data_dir;
        if (strncmp (rel, "./", 2) == 0)
            rel += 2;
        if (snprintf (abs, sizeof abs, "%s/%s", cwd, rel) >= (int) sizeof abs) {
            fprintf (stderr, "%s: data dir path too long\n", program);
            return TS_CONFIG_EXIT_USAGE;
        }
        memcpy (self->data_dir, abs, sizeof abs);
    }
    for (int s = 0; s < TS_SERVICE_COUNT; s++) {
        if (self->endpoints [s][0])
            continue;
        char ep [TS_ENDPOINT_MAX + TS_PATH_MAX];
        snprintf (ep, sizeof ep, "ipc://%s/run/%s.sock", self->data_dir, ts_service_names [s]);
        if (s_check_endpoint (ep, err, sizeof err)
        ||  s_copy (self->endpoints [s], sizeof self->endpoints [s], ep, "endpoint", err, sizeof err)) {
            fprintf (stderr, "%s: %s\n", program, err);
            return TS_CONFIG_EXIT_USAGE;
        }
    }
    return TS_CONFIG_RUN;
}
