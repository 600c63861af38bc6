/*  tashan-merchants - the merchants daemon: its service table on the shared runtime. */
#include "merchants_service.h"

int
main (int argc, char **argv)
{
    return ts_daemon_main (&merchants_service, argc, argv);
}
