/*  ctl_demo - tashanctl demo and match: drive the residents daemon. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"

int
ctl_demo (ctl_t *ctl, int argc, char **argv)
{
    (void) ctl; (void) argc; (void) argv;
    fprintf (stderr, "tashanctl: demo: the residents daemon does not offer a demo yet\n");
    return 1;
}

int
ctl_match (ctl_t *ctl, int argc, char **argv)
{
    (void) ctl; (void) argc; (void) argv;
    fprintf (stderr, "tashanctl: match: the residents daemon does not offer matching yet\n");
    return 1;
}
