/*  gw_console - the ops web console: one self-contained HTML page served
    at / that talks to the /v1 API with the ops token the user pastes (kept
    in the browser's sessionStorage, never in the page). */
#ifndef GW_CONSOLE_H
#define GW_CONSOLE_H

#include <stddef.h>

const char *gw_console_html (size_t *len);

#endif
