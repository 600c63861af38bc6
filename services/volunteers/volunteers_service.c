/*  volunteers_service - the volunteers daemon's declaration. Its domain (SPEC §2
    "volunteers") is a later issue: today the daemon runs on the shared runtime
    with its own LMDB, answers health and backup, and keeps an outbox. */
#include "volunteers_service.h"

const ts_service volunteers_service = {
    .name = "volunteers",
    .summary = "tashan volunteers daemon (SPEC §2 volunteers)",
    .schema_version = 1,
};
