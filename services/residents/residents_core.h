/*  =========================================================================
    residents_core - the residents domain: community layout, household
    files, persons, needs, resources and the match between them

    Every function here is pure over one LMDB transaction (a ts_ctx): no
    sockets, no state outside the store but the read-only keys loaded at
    open. The handler table (residents_service.c) maps protobuf requests to
    the functions declared here; unit tests drive them through ts_dispatch.

    Files, each calling only those above it:
        residents_audit.c      the read audit: journal, fold, retention
        residents_core.c       data layout, open, records, references,
                               validation, the household file, versions,
                               events
        residents_needs.c      needs, resources, ranking and assignment;
                               resources following their providers
        residents_person.c     persons: claims, create, leave; handlers
        residents_household.c  the household handlers
        residents_lookup.c     who lives where, names masked (Lookup)
        residents_school.c     is a school known (GetSchool)
        residents_layout.c     compounds and buildings
        residents_match.c      the batch match of every open need (MatchAll)
        residents_demo.c       the deterministic demo community (SeedDemo)
    =========================================================================
*/
#ifndef RESIDENTS_CORE_H
#define RESIDENTS_CORE_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include "ts_service.h"
#include "ts_id.h"
#include "ts_page.h"
#include "ts_time.h"
#include "residents.pb-c.h"
#include "events.pb-c.h"

//  Short names for the generated types.
typedef Tashan__Residents__Compound res_compound;
typedef Tashan__Residents__Building res_building;
typedef Tashan__Residents__MemberInput res_member_input;
typedef Tashan__Residents__Member res_member;
typedef Tashan__Residents__Need res_need;
typedef Tashan__Residents__Household res_household;
typedef Tashan__Residents__Resource res_resource;
typedef Tashan__Residents__PersonRec res_person_rec;
typedef Tashan__Residents__HouseholdRec res_household_rec;

//  Limits (SPEC section 4 and our own).
#define RES_MEMBERS_MAX 50          //  persons in one household
#define RES_NEEDS_PER_HOUSEHOLD_MAX 1000
#define RES_TAGS_MAX 16
#define RES_SKILLS_MAX 16
#define RES_CODE_MAX_CHARS 32       //  building number, unit, room, grid, school, pupil no
#define RES_PHONE_MAX_CHARS 20
#define RES_CAPACITY_MAX 10000      //  bookings per resource per week
#define RES_SCAN_MAX 1000000        //  rows any one request may scan
#define RES_ID_HASH_BYTES 32
#define RES_ID_KEY_BYTES 32

#define RES_PATH_MAX 1024           //  the audit journal's path

//  Open tables and keys: the service's state (ctx->state).
typedef struct {
    uint32_t magic;                 //  RES_STATE_MAGIC
    ts_table compounds;             //  see the layout in residents_core.c
    ts_table compound_names;
    ts_table buildings;
    ts_table building_nos;
    ts_table households;
    ts_table bld_households;
    ts_table persons;
    ts_table id_hashes;
    ts_table pupils;
    ts_table versions;
    ts_table audit;
    ts_table audit_seq;
    ts_table audit_days;
    ts_table audit_meta;
    ts_table needs;
    ts_table resources;
    ts_table res_by_cat;
    ts_table res_by_provider;
    ts_table merchants;
    ts_table demo;
    uint8_t id_key [RES_ID_KEY_BYTES];  //  key of the ID-number hash
    int journal_fd;                 //  the audit journal (residents_audit.c)
    //  The tick folds on a worker thread (tick_off_loop) while the loop
    //  appends: an append and a new generation never interleave.
    pthread_mutex_t journal_lock;
    bool journal_lock_ready;
    char journal_path [RES_PATH_MAX];   //  its path
    uint8_t *fold_buf;              //  RES_AUDIT_FOLD_MAX_BYTES, for folds
    uint8_t *audit_buf;             //  RES_AUDIT_BATCH_BYTES: this batch's records
    size_t audit_used;              //  bytes of them queued
    bool audit_failed;              //  an append of this batch failed
} res_state;
#define RES_STATE_MAGIC 0x52455344u

//  Vocabularies (NULL-terminated).
extern const char *const residents_tags [];
extern const char *const residents_categories [];
extern const char *const residents_provider_kinds [];

//  --------------------------------------------------------------------
//  Service lifecycle

unsigned residents_open (ts_ctx *ctx, void **state);
void residents_close (void *state);
res_state *residents_state (ts_ctx *ctx);

//  --------------------------------------------------------------------
//  Small pure helpers (no transaction)

//  GB 11643-1999: 17 digits and a check character (0-9 or X, x accepted).
//  On success writes the normalised 18 characters (upper-case X) to out.
bool residents_id_number_valid (const char *s, char out [19]);
//  "13812341234" -> "138****1234": the first 3 and last 4 characters
//  kept, the rest starred; shorter numbers keep only their last 2.
void residents_phone_mask (const char *phone, char *out, size_t out_size);
//  Is the caller ops (the only role that sees phones unmasked)?
bool residents_caller_is_ops (const ts_ctx *ctx);

//  --------------------------------------------------------------------
//  Lookups and records (residents_core.c)

//  Resolve an id given by the client. A malformed or unknown id fails
//  with code (404 for path ids, 422 for references in a body).
unsigned residents_ref_building (ts_ctx *ctx, const char *field, const char *id,
                                 unsigned code, res_building **out);
unsigned residents_ref_household (ts_ctx *ctx, const char *field, const char *id,
                                  unsigned code, bool active, res_household_rec **out);
unsigned residents_ref_person (ts_ctx *ctx, const char *field, const char *id,
                               unsigned code, bool active, res_person_rec **out);

res_building *residents_building_load (ts_ctx *ctx, uint64_t id);
res_household_rec *residents_household_load (ts_ctx *ctx, uint64_t id);
res_person_rec *residents_person_load (ts_ctx *ctx, uint64_t id);
res_need *residents_need_load (ts_ctx *ctx, uint64_t id);
void residents_need_save (ts_ctx *ctx, const res_need *need);
res_resource *residents_resource_load (ts_ctx *ctx, uint64_t id);
void residents_resource_save (ts_ctx *ctx, const res_resource *resource);
void residents_person_save (ts_ctx *ctx, const res_person_rec *p);
//  A code given by a client (building number, unit, room, grid...): at
//  most RES_CODE_MAX_CHARS characters (400 naming field).
unsigned residents_check_code (ts_ctx *ctx, const char *field, const char *s,
                               bool required);

//  The household file as returned (phones masked unless unmasked).
res_household *residents_household_file (ts_ctx *ctx, const res_household_rec *rec,
                                          bool unmasked);
//  Record a change of the household file: bump the version, save the
//  record and write the new version (who, when, what, the file after).
void residents_household_commit (ts_ctx *ctx, res_household_rec *rec,
                                 const char *action);
//  The read audit (residents_audit.c, where the policy is written).
#define RES_AUDIT_TICK_MS 100       //  how often the journal is folded
#define RES_AUDIT_FOLD_MAX_BYTES (1u << 20)     //  journal bytes per fold chunk
#define RES_AUDIT_FOLD_CHUNKS_MAX 1024    //  bounds a whole fold (1 GiB of journal)
#define RES_AUDIT_RAW_DAYS 180      //  raw rows kept; then daily counts
#define RES_AUDIT_ROLLUP_MAX 1000   //  raw rows rolled up per tick
#define RES_AUDIT_BATCH_BYTES (64u * 1024)  //  records queued for one append
//  Open the journal in dir (the store's), repairing a cut end; 0 or -1.
int residents_audit_open (res_state *self, ts_txn *txn, const char *dir, char *err,
                          size_t err_size);
void residents_audit_close (res_state *self);
//  Record a read of a household's personal data (queued; the batch's
//  records are appended to the journal at once, before its replies).
//  Returns 0, or 500 when it cannot be recorded: the read must then fail.
unsigned residents_audit (ts_ctx *ctx, uint64_t household_id, const char *action);
//  The service's batch_done: append the batch's queued records in one
//  write; 500 when that (or an append during the batch) failed.
unsigned residents_audit_batch_done (void *state, char *why, size_t why_size);
//  Fold up to max_chunks chunks of the journal into the audit table
//  (write transaction).
unsigned residents_audit_fold (ts_ctx *ctx, size_t max_chunks);
//  Roll up to max_rows raw rows older than RES_AUDIT_RAW_DAYS into daily counts.
unsigned residents_audit_rollup (ts_ctx *ctx, size_t max_rows);
//  The service's tick: fold, new journal generation, roll-up.
unsigned residents_tick (ts_ctx *ctx);
//  Emit a person.* event with the person's full state.
void residents_person_emit (ts_ctx *ctx, const char *topic, const res_person_rec *p);
//  Emit need.opened / need.closed.
void residents_need_emit (ts_ctx *ctx, const char *topic, const res_need *need);
//  building.created / building.archived (the ledger ranks every building).
void residents_building_emit (ts_ctx *ctx, const char *topic, const res_building *b);
//  Validate one member as given by a client (400 naming field).
unsigned residents_member_check (ts_ctx *ctx, const char *field,
                                 const res_member_input *in, bool name_required);
//  Fill a reply member from a record.
void residents_member_out (ts_ctx *ctx, const res_person_rec *p, bool unmasked,
                           res_member *out);

//  --------------------------------------------------------------------
//  Persons (residents_person.c)

//  Create a person in household hh from a validated input (checks the
//  ID-number and pupil uniqueness: 409). On success *out is the record.
unsigned residents_person_create (ts_ctx *ctx, const char *field,
                                  const res_member_input *in,
                                  res_household_rec *hh, res_person_rec **out);
//  A person leaves the community: claims released, archived with reason
//  and saved (the caller commits the household record and emits).
void residents_person_leave (ts_ctx *ctx, res_person_rec *p, const char *reason);

//  --------------------------------------------------------------------
//  Handlers: households (residents_household.c) and persons
//  (residents_person.c)

unsigned residents_household_create (ts_ctx *ctx,
    const Tashan__Residents__CreateHouseholdRequest *req, res_household *rep);
unsigned residents_household_get (ts_ctx *ctx,
    const Tashan__Residents__GetRequest *req, res_household *rep);
unsigned residents_lookup (ts_ctx *ctx, const Tashan__Residents__LookupRequest *req,
                           Tashan__Residents__LookupReply *rep);
//  residents.GetSchool (residents_school.c): 404 unless a current pupil
//  has this school_id.
unsigned residents_school_get (ts_ctx *ctx, const Tashan__Residents__GetSchoolRequest *req,
                               Tashan__Residents__School *rep);
//  The households of building (its number; "" for all): the table to page
//  and the key prefix of its rows. 0, or 422 for an unknown building.
unsigned residents_households_of (ts_ctx *ctx, const char *building, ts_table *table,
                                  ts_key *prefix);
unsigned residents_household_list (ts_ctx *ctx,
    const Tashan__Residents__ListHouseholdsRequest *req,
    Tashan__Residents__ListHouseholdsReply *rep);
unsigned residents_household_update (ts_ctx *ctx,
    const Tashan__Residents__UpdateHouseholdRequest *req, res_household *rep);
unsigned residents_household_move_out (ts_ctx *ctx,
    const Tashan__Residents__ArchiveRequest *req, res_household *rep);
unsigned residents_household_history (ts_ctx *ctx,
    const Tashan__Residents__PageRequest *req, Tashan__Residents__HistoryReply *rep);
unsigned residents_household_audit (ts_ctx *ctx,
    const Tashan__Residents__PageRequest *req, Tashan__Residents__AuditReply *rep);
unsigned residents_member_add (ts_ctx *ctx,
    const Tashan__Residents__AddMemberRequest *req, res_member *rep);
unsigned residents_person_get (ts_ctx *ctx,
    const Tashan__Residents__GetRequest *req, res_member *rep);
unsigned residents_person_update (ts_ctx *ctx,
    const Tashan__Residents__UpdatePersonRequest *req, res_member *rep);
unsigned residents_person_move (ts_ctx *ctx,
    const Tashan__Residents__MovePersonRequest *req, res_member *rep);
unsigned residents_person_archive (ts_ctx *ctx,
    const Tashan__Residents__ArchiveRequest *req, res_member *rep);

//  --------------------------------------------------------------------
//  Handlers: layout (residents_layout.c)

unsigned residents_compound_create (ts_ctx *ctx,
    const Tashan__Residents__CreateCompoundRequest *req, res_compound *rep);
unsigned residents_compound_get (ts_ctx *ctx,
    const Tashan__Residents__GetRequest *req, res_compound *rep);
unsigned residents_compound_list (ts_ctx *ctx,
    const Tashan__Residents__ListCompoundsRequest *req,
    Tashan__Residents__ListCompoundsReply *rep);
unsigned residents_compound_update (ts_ctx *ctx,
    const Tashan__Residents__UpdateCompoundRequest *req, res_compound *rep);
unsigned residents_compound_archive (ts_ctx *ctx,
    const Tashan__Residents__ArchiveRequest *req, res_compound *rep);
unsigned residents_building_create (ts_ctx *ctx,
    const Tashan__Residents__CreateBuildingRequest *req, res_building *rep);
unsigned residents_building_get (ts_ctx *ctx,
    const Tashan__Residents__GetRequest *req, res_building *rep);
unsigned residents_building_list (ts_ctx *ctx,
    const Tashan__Residents__ListBuildingsRequest *req,
    Tashan__Residents__ListBuildingsReply *rep);
unsigned residents_building_update (ts_ctx *ctx,
    const Tashan__Residents__UpdateBuildingRequest *req, res_building *rep);
unsigned residents_building_archive (ts_ctx *ctx,
    const Tashan__Residents__ArchiveRequest *req, res_building *rep);

//  --------------------------------------------------------------------
//  Handlers: needs and resources (residents_needs.c)

unsigned residents_need_open (ts_ctx *ctx,
    const Tashan__Residents__OpenNeedRequest *req, res_need *rep);
unsigned residents_need_get (ts_ctx *ctx,
    const Tashan__Residents__GetRequest *req, res_need *rep);
unsigned residents_need_list (ts_ctx *ctx,
    const Tashan__Residents__ListNeedsRequest *req,
    Tashan__Residents__ListNeedsReply *rep);
unsigned residents_need_set_status (ts_ctx *ctx,
    const Tashan__Residents__SetNeedStatusRequest *req, res_need *rep);
unsigned residents_need_matches (ts_ctx *ctx,
    const Tashan__Residents__PageRequest *req, Tashan__Residents__MatchesReply *rep);
unsigned residents_need_assign (ts_ctx *ctx,
    const Tashan__Residents__AssignRequest *req, Tashan__Residents__AssignReply *rep);
unsigned residents_resource_add (ts_ctx *ctx,
    const Tashan__Residents__AddResourceRequest *req, res_resource *rep);
unsigned residents_resource_get (ts_ctx *ctx,
    const Tashan__Residents__GetRequest *req, res_resource *rep);
unsigned residents_resource_list (ts_ctx *ctx,
    const Tashan__Residents__ListResourcesRequest *req,
    Tashan__Residents__ListResourcesReply *rep);
unsigned residents_resource_archive (ts_ctx *ctx,
    const Tashan__Residents__ArchiveRequest *req, res_resource *rep);
//  Capacity left this week (the stored count belongs to booked_week).
uint32_t residents_resource_left (const res_resource *r, uint32_t week);
//  Move the resources a person offers to their current household's place
//  (after a move or a grid change); archive them when the person is.
void residents_person_resources_follow (ts_ctx *ctx, const res_person_rec *p);
//  Close every open or matched need of a household (moving out).
void residents_needs_close_all (ts_ctx *ctx, res_household_rec *hh, const char *note);
//  Apply merchant.registered / merchant.updated from the merchants daemon.
unsigned residents_merchant_apply (ts_ctx *ctx, const void *payload,
                                   const Tashan__Event *event);

//  --------------------------------------------------------------------
//  System methods

unsigned residents_match_all (ts_ctx *ctx,
    const Tashan__Residents__MatchAllRequest *req,
    Tashan__Residents__MatchAllReply *rep);
unsigned residents_seed_demo (ts_ctx *ctx,
    const Tashan__Residents__SeedDemoRequest *req,
    Tashan__Residents__SeedDemoReply *rep);

#endif
