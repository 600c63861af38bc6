/*  crash_daemon producer|consumer [daemon flags] - run one of the crash
    test's services on the shared runtime. */
#include <stdio.h>
#include <string.h>

#include "crash_services.h"

int
main (int argc, char **argv)
{
    if (argc < 2 || (strcmp (argv [1], "producer") && strcmp (argv [1], "consumer"))) {
        fprintf (stderr, "usage: crash_daemon producer|consumer [flags]\n");
        return 2;
    }
    const ts_service *svc = strcmp (argv [1], "producer") == 0
                          ? &crash_producer_service : &crash_consumer_service;
    argv [1] = argv [0];
    return ts_daemon_main (svc, argc - 1, argv + 1);
}
