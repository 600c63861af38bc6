/*  tashan-residents - the residents daemon: its service table on the shared runtime. */
#include "residents_service.h"

int
main (int argc, char **argv)
{
    return ts_daemon_main (&residents_service, argc, argv);
}
