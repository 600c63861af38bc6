/*  tashan-gateway - the HTTP/JSON entrance in front of the daemons. */
#include "gw_gateway.h"

int
main (int argc, char **argv)
{
    return gw_gateway_main (argc, argv);
}
