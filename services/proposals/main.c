/*  tashan-proposals - the proposals daemon: its service table on the shared runtime. */
#include "proposals_service.h"

int
main (int argc, char **argv)
{
    return ts_daemon_main (&proposals_service, argc, argv);
}
