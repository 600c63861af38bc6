/*  tashan-ledger - the ledger daemon: its service table on the shared runtime. */
#include "ledger_service.h"

int
main (int argc, char **argv)
{
    return ts_daemon_main (&ledger_service, argc, argv);
}
