/*  =========================================================================
    tashanctl - the operator's command-line client

    Talks to the daemons over ZeroMQ as role "system" (so it runs on the
    host, with access to the data dir's ipc sockets or the configured
    endpoints). The commands are one table (s_commands): a row gives the
    name, the arguments, a summary and the help text; the top-level
    --help is made from it, and every command takes --help.

    Options work before or after the command: the global ones (--data-dir,
    --config, --log-level, --listen, --endpoint) are moved in front of the
    command before the flags are parsed; the command gets the rest.
    Argument errors exit 2 with one line on stderr.
    =========================================================================
*/
#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"

#define ARGS_MAX 256

typedef struct {
    const char *name;               //  the word typed
    const char *args;               //  its arguments, for the help line
    const char *summary;            //  one line in the top-level help
    const char *help;               //  `tashanctl CMD --help`, after usage
    int (*run) (ctl_t *ctl, int argc, char **argv);
} ctl_command;

//  keygen: the daemons' pair, or with options a client's (ctl_keys.c).
static int
s_keygen (ctl_t *ctl, int argc, char **argv)
{
    return argc > 0 ? ctl_keygen_client (ctl, argc, argv) : ctl_keygen (ctl, argc, argv);
}

static const ctl_command s_commands [] = {
    { "status", "", "health of every daemon and the gateway (exit 0 when all are up)",
      "Asks every daemon (sys.Health) and the gateway (GET /healthz on --listen)\n"
      "and prints one row each; a daemon that is down says why (socket missing,\n"
      "connection refused, timeout). Exit 0 when all are up, 1 otherwise.\n",
      ctl_status },
    { "backup", "DIR", "a consistent copy of every store into DIR (while running)",
      "Copies every daemon's store (compacted, consumers before producers, so the\n"
      "copy is a consistent cut) and the gateway's token store into DIR, with a\n"
      "manifest written last (DIR/MANIFEST). DIR must not exist or be empty and\n"
      "must not be inside the data dir's stores. Files 0600, dirs 0700.\n",
      ctl_backup },
    { "restore", "DIR", "check the backup in DIR, then put it in place (all stopped)",
      "Checks every store of the backup first (complete manifest, checksums,\n"
      "opens read-only, schema version, key files) and refuses while up.sh, the\n"
      "gateway or any daemon runs; only then moves the live data aside into\n"
      "DATA-DIR/before-restore-<time>/ (or -<time>-<n>/ when that exists) and\n"
      "puts the backup in place.\n",
      ctl_restore },
    { "verify", "", "check consumer positions and derived balances (exit 1: findings)",
      "Checks every consumer position against its producer (same outbox\n"
      "generation, not ahead of its head) and asks every daemon to check its\n"
      "derived records against their entries (sys.Verify). Exit 0 when clean,\n"
      "1 with a list of findings.\n",
      ctl_verify },
    { "demo", "[--seed N] [--months 1..24] [--scale K] [--quiet] [--check]",
      "create the demo community through the daemons (only into empty stores)",
      "  --seed N      the random seed (same seed, same community)\n"
      "  --months M    months of history (default 12)\n"
      "  --scale K     K times the community (1..100), for load tests\n"
      "  --quiet       no progress lines\n"
      "  --check       only ask: exit 0 when every store is empty, 1 otherwise\n",
      ctl_demo },
    { "match", "--all [--assign] [--sample N]", "match every open need against the resources",
      "  --all         every open need (required)\n"
      "  --assign      assign each need its best match\n"
      "  --sample N    print N needs with their matches (at most 1000)\n",
      ctl_match },
    { "keygen", "[--client NAME --role ROLE [--binding ID]]",
      "a new CURVE key pair: the daemons', or a client's added to the keys file",
      "Without options: prints curve.public_key, curve.secret_key and\n"
      "curve.server_key lines for the daemons' tashan.conf.\n"
      "  --client NAME   a client's key pair instead: prints its config lines and\n"
      "                  adds it to the keys file (curve.clients_file)\n"
      "  --role ROLE     gateway, ops, system, panel, school or merchant\n"
      "  --binding ID    the school or merchant id a school/merchant key is bound to\n",
      s_keygen },
    { "keys", "list | revoke NAME", "the client keys the daemons accept; revoke one",
      "  list            the client keys in curve.clients_file, with their roles\n"
      "  revoke NAME     refuse that client from its next request on (no restart)\n",
      ctl_keys },
    { "token", "create --role ROLE [--binding ID] [--note T] [--expires-at T]",
      "make a gateway token while the gateway is stopped (recovery)",
      "Writes a new token into the gateway's store and prints it once. The\n"
      "gateway must be stopped (it holds gateway/gateway.lock while it runs):\n"
      "use it to get back in after the last ops token was lost.\n",
      ctl_token },
};
#define COMMAND_COUNT (sizeof s_commands / sizeof s_commands [0])

//  Global options that take a value, as they may follow the command.
static const char *const s_global_options [] = {
    "--data-dir", "--config", "--log-level", "--listen", "--endpoint",
};

//  Is arg a global option? *with_value: its value is the next argument.
static bool
s_is_global (const char *arg, bool *with_value)
{
    for (size_t i = 0; i < sizeof s_global_options / sizeof s_global_options [0]; i++) {
        size_t len = strlen (s_global_options [i]);
        if (strncmp (arg, s_global_options [i], len) != 0)
            continue;
        if (arg [len] == '\0' || arg [len] == '=') {
            *with_value = arg [len] == '\0';
            return true;
        }
    }
    return false;
}

//  Move the global options after the command in front of it, so
//  ts_config_parse sees them ("tashanctl status --data-dir X"). "--" ends
//  the options. out must hold argc + 1 pointers.
static void
s_reorder (int argc, char **argv, char **out)
{
    assert (argc >= 1);
    int n = 0, rest = 0;
    char *tail [ARGS_MAX];
    out [n++] = argv [0];
    bool seen_command = false, ended = false;
    for (int i = 1; i < argc; i++) {
        bool with_value = false;
        bool global = !ended && s_is_global (argv [i], &with_value);
        if (!ended && strcmp (argv [i], "--") == 0 && seen_command)
            ended = true;
        if (global) {
            out [n++] = argv [i];
            if (with_value && i + 1 < argc)
                out [n++] = argv [++i];
            continue;
        }
        if (!seen_command && argv [i][0] != '-')
            seen_command = true;
        if (seen_command)
            tail [rest++] = argv [i];
        else
            out [n++] = argv [i];
    }
    for (int i = 0; i < rest; i++)
        out [n++] = tail [i];
    out [n] = NULL;
    assert (n == argc);
}

//  The top-level help's list of commands, made from the table.
static char *
s_usage_text (void)
{
    size_t size = 4096, used = 0;
    char *text = malloc (size);
    assert (text);
    used += (size_t) snprintf (text, size, "Commands (each takes --help):\n");
    for (size_t i = 0; i < COMMAND_COUNT && used < size; i++) {
        char head [96];
        snprintf (head, sizeof head, "%s %s", s_commands [i].name, s_commands [i].args);
        used += (size_t) snprintf (text + used, size - used, "  %-38s %s\n", head,
                                   s_commands [i].summary);
    }
    if (used < size)
        snprintf (text + used, size - used, "\nExit codes: 0 done, 1 failed "
                  "(or findings), 2 bad arguments.\n");
    return text;
}

static const ctl_command *
s_find (const char *name)
{
    for (size_t i = 0; i < COMMAND_COUNT; i++)
        if (strcmp (s_commands [i].name, name) == 0)
            return &s_commands [i];
    return NULL;
}

//  `tashanctl CMD --help` (or -h) anywhere among the command's arguments,
//  before a "--": print the command's help. It is never taken as a path.
static bool
s_wants_help (int argc, char **argv)
{
    for (int i = 0; i < argc && strcmp (argv [i], "--") != 0; i++)
        if (strcmp (argv [i], "--help") == 0 || strcmp (argv [i], "-h") == 0)
            return true;
    return false;
}

static int
s_run (ctl_t *ctl)
{
    if (ctl->cfg.argc < 1) {
        fprintf (stderr, "tashanctl: a command is needed (see tashanctl --help)\n");
        return 2;
    }
    const ctl_command *command = s_find (ctl->cfg.argv [0]);
    if (!command) {
        fprintf (stderr, "tashanctl: unknown command '%s' (see tashanctl --help)\n",
                 ctl->cfg.argv [0]);
        return 2;
    }
    int argc = ctl->cfg.argc - 1;
    char **argv = ctl->cfg.argv + 1;
    if (s_wants_help (argc, argv)) {
        printf ("Usage: tashanctl [options] %s %s\n%s.\n\n%s\nGlobal options "
                "(--data-dir, --config, ...): tashanctl --help.\n", command->name,
                command->args, command->summary, command->help);
        return 0;
    }
    if (argc > 0 && strcmp (argv [0], "--") == 0) {
        argc--;
        argv++;
    }
    return command->run (ctl, argc, argv);
}

int
main (int argc, char **argv)
{
    if (argc > ARGS_MAX) {
        fprintf (stderr, "tashanctl: too many arguments (at most %d)\n", ARGS_MAX - 1);
        return 2;
    }
    char *ordered [ARGS_MAX + 1];
    s_reorder (argc, argv, ordered);
    ctl_t ctl;
    char *usage = s_usage_text ();
    ts_config_result parsed = ts_config_parse (&ctl.cfg, argc, ordered, "tashanctl",
                                               "tashan operator client", usage, true);
    free (usage);
    if (parsed == TS_CONFIG_EXIT_OK)
        return 0;
    if (parsed == TS_CONFIG_EXIT_USAGE)
        return 2;
    ts_log_init ("tashanctl", ctl.cfg.log_level);
    int rc = s_run (&ctl);
    ts_zmq_term ();
    return rc;
}
