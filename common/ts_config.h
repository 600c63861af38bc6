/*  =========================================================================
    ts_config - settings from flags and an optional config file

    Precedence: built-in defaults < config file (--config FILE) < flags.
    The file is "key = value" lines; '#' at the start of a line or after a
    blank starts a comment (Z85 keys may contain '#'). Keys:
        data_dir = ./var
        log_level = info                # debug | info | warn | error
        listen = 127.0.0.1:8080         # gateway only
        endpoint.<service> = tcp://127.0.0.1:7101   # one per daemon of
                                                    # services/services.list
        curve.secret_key / curve.public_key / curve.server_key  (Z85, 40 chars)
        curve.clients_file = <data-dir>/keys/clients   # daemons with CURVE:
                                        # the client keys they accept (ts_keys.h)
        backup.root = <data-dir>/backups  # daemons: sys.Backup writes only
                                          # under it (created 0700)
        rate_limit.token_per_s = 20000  # gateway: requests/s per token (0 off)
        rate_limit.public_per_s = 2000  # gateway: requests/s per client
                                        # address without a token, failed
                                        # authentications included (0 off)
        log.requests = all              # one info line per request served:
                                        # all | errors (>= 400) | off
        log.requests_sample = 1         # with all: log one success in N
        http.max_connections = 10000    # gateway: open HTTP connections
        http.max_connections_per_address = 64   # gateway: from one IP
        http.first_byte_timeout_ms = 5000       # gateway: a new connection
                                        # must begin a request this soon
        http.cors_origins = https://portal.school.example https://b.example
                                        # gateway: origins whose pages may
                                        # call the API (CORS); none by default
        store.map_resident_mib = 8      # daemons: pages of the store's map
                                        # (data.mdb) kept mapped, at most;
                                        # above it they are dropped (they
                                        # stay in the page cache). 0 = no
                                        # bound, at most 1048576 (ts_memory.h)
    Flags (getopt_long: "--flag value" or "--flag=value", unambiguous
    prefixes accepted; parsing stops at the first argument that is not a
    flag): --data-dir DIR, --config FILE, --log-level L, --listen HOST:PORT,
    --endpoint SERVICE=ENDPOINT (repeatable), --help (-h), --version.

    Endpoints default to ipc://<data-dir>/run/<service>.sock: loopback only,
    no port to choose, and two data dirs never collide. Set tcp:// endpoints
    to run daemons on separate hosts (then set CURVE keys).
    =========================================================================
*/
#ifndef TS_CONFIG_H
#define TS_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

#include "ts_services.h"

//  The domain daemons, in start order: generated from
//  services/services.list (TS_SERVICES, TS_SERVICE_COUNT in ts_services.h).
extern const char *const ts_service_names [TS_SERVICE_COUNT];

#define TS_PATH_MAX 512
#define TS_CONFIG_MAP_RESIDENT_MIB 8        //  store.map_resident_mib default
#define TS_CONFIG_MAP_RESIDENT_MIB_MAX 1048576
#define TS_ENDPOINT_MAX 256

typedef struct {
    char data_dir [TS_PATH_MAX];    //  absolute path after ts_config_parse
    char config_file [TS_PATH_MAX]; //  "" when none
    int log_level;                  //  ts_log_level
    char listen [TS_ENDPOINT_MAX];  //  gateway HTTP address HOST:PORT
    char endpoints [TS_SERVICE_COUNT][TS_ENDPOINT_MAX];
    char curve_secret [41];         //  Z85 keys, "" when CURVE is off
    char curve_public [41];
    char curve_server [41];         //  the daemons' public key (clients)
    char clients_file [TS_PATH_MAX];//  CURVE client keys file (absolute)
    char backup_root [TS_PATH_MAX]; //  where sys.Backup may write (absolute)
    unsigned rate_token_per_s;      //  gateway: per token, 0 = no limit
    unsigned rate_public_per_s;     //  gateway: per address, no token, 0 = none
    int log_requests;               //  ts_reqlog_mode: all, errors, off
    unsigned log_requests_sample;   //  with all: one success in N is logged
    unsigned http_max_connections;  //  gateway: 0 = gw_http's default
    unsigned http_max_per_address;  //  gateway: 0 = gw_http's default
    unsigned http_first_byte_ms;    //  gateway: 0 = gw_http's default
    char cors_origins [1024];       //  gateway: blank-separated, "" = none
    unsigned store_map_resident_mib;//  daemons: map budget, 0 = unbounded
    //  Positional arguments left after the flags (tashanctl commands).
    int argc;
    char **argv;
} ts_config;

typedef enum {
    TS_CONFIG_RUN = 0,              //  go on
    TS_CONFIG_EXIT_OK,              //  --help / --version printed
    TS_CONFIG_EXIT_USAGE,           //  bad flags: message printed, exit 2
} ts_config_result;

//  Parse flags and the config file. program and summary are used by
//  --help; extra_usage (may be NULL) is appended to it. Prints errors
//  to stderr. allow_positional: tashanctl takes commands after the flags.
ts_config_result ts_config_parse (ts_config *self, int argc, char **argv,
                                  const char *program, const char *summary,
                                  const char *extra_usage,
                                  bool allow_positional);

//  Endpoint of a domain daemon by name; NULL when unknown.
const char *ts_config_endpoint (const ts_config *self, const char *service);

//  Whether a daemon may serve endpoint without CURVE: ipc (file
//  permissions guard it) or tcp on a loopback address (127.0.0.0/8,
//  localhost, ::1). Wildcards, other addresses and interface names are
//  not loopback.
bool ts_config_endpoint_loopback (const char *endpoint);

//  Parse a config file's text into self (for tests); returns 0 or -1 with
//  err filled ("line 3: unknown key 'foo'").
int ts_config_load_text (ts_config *self, const char *text, char *err,
                         size_t err_size);

//  mkdir -p with mode 0700.
int ts_mkdir_p (const char *path);

#endif
