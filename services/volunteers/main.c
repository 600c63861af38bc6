/*  tashan-volunteers - the volunteers daemon: its service table on the shared runtime. */
#include "volunteers_service.h"

int
main (int argc, char **argv)
{
    return ts_daemon_main (&volunteers_service, argc, argv);
}
