/*  =========================================================================
    tashanctl - the operator's command-line client

    Talks to the daemons over ZeroMQ as role "system" (so it runs on the
    host, with access to the data dir's ipc sockets or the configured
    endpoints):
        status            health of every daemon
        backup DIR        consistent compacted LMDB copies of every daemon
        restore DIR       put a backup in place (daemons stopped)
        demo, match       the demo community; the batch needs match
        keygen, keys      CURVE key pairs; the clients the daemons accept
    =========================================================================
*/
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "ctl.h"

static const char *s_usage =
    "Commands:\n"
    "  status              health of every daemon (exit 0 when all are up)\n"
    "  backup DIR          copy every daemon's LMDB (compacted, consistent,\n"
    "                      while running) into DIR/<service>/data.mdb\n"
    "  restore DIR         put the backup in DIR in place; every daemon must\n"
    "                      be stopped; the current data is moved aside\n"
    "  demo [--seed N]     create the demo community through the daemons\n"
    "  match --all         match every open need against the resources\n"
    "  keygen              print a new CURVE key pair for the daemons' config\n"
    "  keygen --client NAME --role ROLE [--binding ID]\n"
    "                      a client's key pair: prints its config lines and adds\n"
    "                      it to the keys file (curve.clients_file); ROLE is\n"
    "                      gateway, ops, system, panel, school or merchant\n"
    "  keys list           the client keys the daemons accept\n"
    "  keys revoke NAME    refuse that client from its next request on\n";

int
main (int argc, char **argv)
{
    ctl_t ctl;
    switch (ts_config_parse (&ctl.cfg, argc, argv, "tashanctl",
                             "tashan operator client: status, backup, restore, demo",
                             s_usage, true)) {
        case TS_CONFIG_EXIT_OK: return 0;
        case TS_CONFIG_EXIT_USAGE: return 2;
        case TS_CONFIG_RUN: break;
    }
    ts_log_init ("tashanctl", ctl.cfg.log_level);
    if (ctl.cfg.argc < 1) {
        fprintf (stderr, "tashanctl: a command is needed (see --help)\n");
        return 2;
    }
    const char *cmd = ctl.cfg.argv [0];
    int rc;
    if (strcmp (cmd, "status") == 0)
        rc = ctl_status (&ctl, ctl.cfg.argc - 1, ctl.cfg.argv + 1);
    else
    if (strcmp (cmd, "backup") == 0)
        rc = ctl_backup (&ctl, ctl.cfg.argc - 1, ctl.cfg.argv + 1);
    else
    if (strcmp (cmd, "restore") == 0)
        rc = ctl_restore (&ctl, ctl.cfg.argc - 1, ctl.cfg.argv + 1);
    else
    if (strcmp (cmd, "demo") == 0)
        rc = ctl_demo (&ctl, ctl.cfg.argc - 1, ctl.cfg.argv + 1);
    else
    if (strcmp (cmd, "match") == 0)
        rc = ctl_match (&ctl, ctl.cfg.argc - 1, ctl.cfg.argv + 1);
    else
    if (strcmp (cmd, "keygen") == 0 && ctl.cfg.argc > 1)
        rc = ctl_keygen_client (&ctl, ctl.cfg.argc - 1, ctl.cfg.argv + 1);
    else
    if (strcmp (cmd, "keygen") == 0)
        rc = ctl_keygen (&ctl, ctl.cfg.argc - 1, ctl.cfg.argv + 1);
    else
    if (strcmp (cmd, "keys") == 0)
        rc = ctl_keys (&ctl, ctl.cfg.argc - 1, ctl.cfg.argv + 1);
    else {
        fprintf (stderr, "tashanctl: unknown command '%s' (see --help)\n", cmd);
        rc = 2;
    }
    ts_zmq_term ();
    return rc;
}
