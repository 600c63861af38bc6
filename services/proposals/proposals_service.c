/*  proposals_service - the proposals daemon's declaration. Its domain (SPEC §2
    "proposals") is a later issue: today the daemon runs on the shared runtime
    with its own LMDB, answers health and backup, and keeps an outbox. */
#include "proposals_service.h"

const ts_service proposals_service = {
    .name = "proposals",
    .summary = "tashan proposals daemon (SPEC §2 proposals)",
    .schema_version = 1,
};
