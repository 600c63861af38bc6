/*  test_residents_core - the residents domain core through ts_dispatch (no
    sockets): layout, household files, personal data, versions, audit,
    persons, needs, resources, ranking, booking, the batch match, the demo
    community and restart. One behaviour per test. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include "test_fixture.h"

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ts_dispatch.h"
#include "residents_core.h"
#include "residents_service.h"

#define NOW_MS 1741572000000LL      //  2025-03-10 10:00 Asia/Shanghai (a Monday)
#define WEEK_MS (7LL * 86400 * 1000)
#define ID_A "371002198001010010"
#define ID_B "371002199002020020"
#define ID_C "11010519491231002X"
#define ID_BAD "371002198001010011"

typedef struct {
    char dir [64];
    ts_dispatch *d;
    ts_arena *arena;
    Tashan__Caller ops, sys, panel;
    char message [256];
} fixture;


static int
s_setup (void **state)
{
    fixture *f = calloc (1, sizeof *f);
    assert_int_equal (test_dir_make (f->dir, sizeof f->dir, "residents"), 0);
    char err [256];
    f->d = ts_dispatch_new (&residents_service, f->dir, err, sizeof err);
    assert_non_null (f->d);
    ts_dispatch_set_now (f->d, NOW_MS);
    f->arena = ts_arena_new ();
    f->ops = ts_caller ("ops", "", "tok-ops");
    f->sys = ts_caller ("system", "", "ledger");
    f->panel = ts_caller ("panel", "", "tok-panel");
    *state = f;
    return 0;
}

static int
s_teardown (void **state)
{
    fixture *f = *state;
    ts_dispatch_destroy (&f->d);
    ts_arena_destroy (&f->arena);
    test_dir_remove (f->dir);
    free (f);
    return 0;
}

static unsigned
s_call (fixture *f, const char *method, const Tashan__Caller *caller, const void *req, void *reply)
{
    ProtobufCMessage *rep = NULL;
    unsigned code = ts_dispatch_call (f->d, method, caller, (const ProtobufCMessage *) req,
                                      f->arena, &rep, f->message, sizeof f->message);
    if (reply)
        *(ProtobufCMessage **) reply = rep;
    return code;
}

//  --------------------------------------------------------------------
//  Builders

static res_building *
s_building (fixture *f, const char *number, const char *grid)
{
    Tashan__Residents__CreateBuildingRequest req = TASHAN__RESIDENTS__CREATE_BUILDING_REQUEST__INIT;
    req.number = (char *) number;
    req.grid = (char *) grid;
    res_building *b;
    assert_int_equal (s_call (f, "residents.CreateBuilding", &f->ops, &req, &b), 201);
    return b;
}

static res_member_input *
s_member (fixture *f, const char *name, const char *id_number, const char *phone)
{
    res_member_input *m = ts_arena_alloc (f->arena, sizeof *m);
    tashan__residents__member_input__init (m);
    m->name = (char *) name;
    m->birth_year = 1980;
    m->id_number = (char *) (id_number ? id_number : "");
    m->phone = (char *) (phone ? phone : "");
    return m;
}

static unsigned
s_household_try (fixture *f, const char *building, res_member_input **members, size_t n,
                 res_household **out)
{
    Tashan__Residents__CreateHouseholdRequest req = TASHAN__RESIDENTS__CREATE_HOUSEHOLD_REQUEST__INIT;
    req.building = (char *) building;
    req.room = "301";
    req.members = members;
    req.n_members = n;
    return s_call (f, "residents.CreateHousehold", &f->ops, &req, out);
}

static res_household *
s_household (fixture *f, const char *building, const char *name, const char *id_number)
{
    res_member_input *m [1] = { s_member (f, name, id_number, "13812341234") };
    res_household *h;
    assert_int_equal (s_household_try (f, building, m, 1, &h), 201);
    return h;
}

static res_household *
s_get_household (fixture *f, const char *id, const Tashan__Caller *caller)
{
    Tashan__Residents__GetRequest req = TASHAN__RESIDENTS__GET_REQUEST__INIT;
    req.id = (char *) id;
    res_household *h;
    assert_int_equal (s_call (f, "residents.GetHousehold", caller, &req, &h), 200);
    return h;
}

static size_t
s_household_count (fixture *f)
{
    Tashan__Residents__ListHouseholdsRequest req = TASHAN__RESIDENTS__LIST_HOUSEHOLDS_REQUEST__INIT;
    req.include_archived = true;
    Tashan__Residents__ListHouseholdsReply *rep;
    assert_int_equal (s_call (f, "residents.ListHouseholds", &f->ops, &req, &rep), 200);
    return rep->n_households;
}

static res_need *
s_need (fixture *f, const char *household, const char *person, const char *category,
        uint32_t urgency)
{
    Tashan__Residents__OpenNeedRequest req = TASHAN__RESIDENTS__OPEN_NEED_REQUEST__INIT;
    req.household_id = (char *) household;
    req.person_id = (char *) person;
    req.category = (char *) category;
    req.detail = "help";
    req.urgency = urgency;
    res_need *n;
    assert_int_equal (s_call (f, "residents.OpenNeed", &f->ops, &req, &n), 201);
    return n;
}

static unsigned
s_resource_try (fixture *f, const char *kind, const char *provider, const char *category,
                uint32_t capacity, res_resource **out)
{
    Tashan__Residents__AddResourceRequest req = TASHAN__RESIDENTS__ADD_RESOURCE_REQUEST__INIT;
    req.provider_kind = (char *) kind;
    req.provider_id = (char *) provider;
    req.title = "offer";
    req.category = (char *) category;
    req.capacity_per_week = capacity;
    return s_call (f, "residents.AddResource", &f->ops, &req, out);
}

static res_resource *
s_resource (fixture *f, const char *provider, const char *category, uint32_t capacity)
{
    res_resource *r;
    assert_int_equal (s_resource_try (f, "resident", provider, category, capacity, &r), 201);
    return r;
}

//  Events emitted after seq, with the topic of each.
static size_t
s_events (fixture *f, uint64_t after, Tashan__Event ***out)
{
    return ts_dispatch_events (f->d, after, 1000, f->arena, out);
}

static uint64_t
s_head (fixture *f)
{
    Tashan__Event **ev;
    size_t n = s_events (f, 0, &ev);
    return n ? ev [n - 1]->seq : 0;
}

//  --------------------------------------------------------------------
//  Pure helpers

static void
test_id_number_check_digit (void **state)
{
    (void) state;
    char out [19];
    assert_true (residents_id_number_valid (ID_A, out));
    assert_string_equal (out, ID_A);
    assert_true (residents_id_number_valid (ID_C, out));
    assert_true (residents_id_number_valid ("11010519491231002x", out));
    assert_string_equal (out, ID_C);     //  normalised to upper case
    assert_false (residents_id_number_valid (ID_BAD, out));
    assert_false (residents_id_number_valid ("37100219800101001", out));
    assert_false (residents_id_number_valid ("3710021980010100100", out));
    assert_false (residents_id_number_valid ("37100219800101A010", out));
    assert_false (residents_id_number_valid ("", out));
}

static void
test_phone_mask (void **state)
{
    (void) state;
    char out [32];
    residents_phone_mask ("13812341234", out, sizeof out);
    assert_string_equal (out, "138****1234");
    residents_phone_mask ("+8613812341234", out, sizeof out);
    assert_string_equal (out, "+86*******1234");
    residents_phone_mask ("12345", out, sizeof out);
    assert_string_equal (out, "***45");
    residents_phone_mask ("", out, sizeof out);
    assert_string_equal (out, "");
}

static void
test_ids_and_weeks (void **state)
{
    (void) state;
    uint64_t id;
    assert_true (ts_id_parse ("h12", 'h', &id));
    assert_int_equal (id, 12);
    assert_false (ts_id_parse ("p12", 'h', &id));
    assert_false (ts_id_parse ("h012", 'h', &id));
    assert_false (ts_id_parse ("h", 'h', &id));
    assert_false (ts_id_parse ("h1x", 'h', &id));
    assert_false (ts_id_parse ("h99999999999999999999", 'h', &id));
    //  Monday 00:00 Shanghai starts a week; Sunday 23:59 is the week before.
    int64_t monday = NOW_MS - 10LL * 3600 * 1000;
    assert_int_equal (ts_week_of (monday), ts_week_of (NOW_MS));
    assert_int_equal (ts_week_of (monday - 60000) + 1, ts_week_of (monday));
    assert_int_equal (ts_week_of (NOW_MS + WEEK_MS), ts_week_of (NOW_MS) + 1);
}

//  --------------------------------------------------------------------
//  Layout

static void
test_building_create_and_rules (void **state)
{
    fixture *f = *state;
    res_building *b = s_building (f, "12", "G3");
    assert_string_equal (b->id, "b1");
    assert_string_equal (b->number, "12");
    Tashan__Residents__CreateBuildingRequest req = TASHAN__RESIDENTS__CREATE_BUILDING_REQUEST__INIT;
    req.number = "12";
    req.grid = "G1";
    assert_int_equal (s_call (f, "residents.CreateBuilding", &f->ops, &req, NULL), 409);
    req.number = "";
    assert_int_equal (s_call (f, "residents.CreateBuilding", &f->ops, &req, NULL), 400);
    assert_non_null (strstr (f->message, "number"));
    req.number = "13";
    req.grid = "";
    assert_int_equal (s_call (f, "residents.CreateBuilding", &f->ops, &req, NULL), 400);
    assert_non_null (strstr (f->message, "grid"));
    req.grid = "G1";
    req.compound = "c9";
    assert_int_equal (s_call (f, "residents.CreateBuilding", &f->ops, &req, NULL), 422);
    req.compound = "";
    req.head_person_id = "p77";
    assert_int_equal (s_call (f, "residents.CreateBuilding", &f->ops, &req, NULL), 422);
    req.head_person_id = "";
    char long_number [40];
    memset (long_number, '9', 39);
    long_number [39] = 0;
    req.number = long_number;
    assert_int_equal (s_call (f, "residents.CreateBuilding", &f->ops, &req, NULL), 400);
    assert_int_equal (s_call (f, "residents.CreateBuilding", &f->panel, &req, NULL), 403);
    //  Nothing was written by the failures.
    Tashan__Residents__ListBuildingsRequest lr = TASHAN__RESIDENTS__LIST_BUILDINGS_REQUEST__INIT;
    Tashan__Residents__ListBuildingsReply *list;
    assert_int_equal (s_call (f, "residents.ListBuildings", &f->ops, &lr, &list), 200);
    assert_int_equal (list->n_buildings, 1);
    assert_string_equal (list->next_page_token, "");
}

static void
test_compounds_and_archiving (void **state)
{
    fixture *f = *state;
    Tashan__Residents__CreateCompoundRequest cr = TASHAN__RESIDENTS__CREATE_COMPOUND_REQUEST__INIT;
    cr.name = "翠竹园";
    cr.kind = "closed";
    res_compound *c;
    assert_int_equal (s_call (f, "residents.CreateCompound", &f->ops, &cr, &c), 201);
    assert_string_equal (c->id, "c1");
    assert_int_equal (s_call (f, "residents.CreateCompound", &f->ops, &cr, NULL), 409);
    cr.name = "other";
    cr.kind = "gated";
    assert_int_equal (s_call (f, "residents.CreateCompound", &f->ops, &cr, NULL), 400);

    Tashan__Residents__CreateBuildingRequest br = TASHAN__RESIDENTS__CREATE_BUILDING_REQUEST__INIT;
    br.number = "5";
    br.grid = "G1";
    br.compound = "c1";
    res_building *b;
    assert_int_equal (s_call (f, "residents.CreateBuilding", &f->ops, &br, &b), 201);
    assert_string_equal (b->compound, "c1");

    Tashan__Residents__UpdateCompoundRequest ur = TASHAN__RESIDENTS__UPDATE_COMPOUND_REQUEST__INIT;
    ur.id = "c1";
    ur.kind = "open";
    assert_int_equal (s_call (f, "residents.UpdateCompound", &f->ops, &ur, &c), 200);
    assert_string_equal (c->kind, "open");
    assert_string_equal (c->name, "翠竹园");

    //  Archiving: refused while something active is inside.
    s_household (f, "5", "王伟", NULL);
    Tashan__Residents__ArchiveRequest ar = TASHAN__RESIDENTS__ARCHIVE_REQUEST__INIT;
    ar.id = "c1";
    assert_int_equal (s_call (f, "residents.ArchiveCompound", &f->ops, &ar, NULL), 409);
    ar.id = "b1";
    assert_int_equal (s_call (f, "residents.ArchiveBuilding", &f->ops, &ar, NULL), 409);
    ar.id = "h1";
    assert_int_equal (s_call (f, "residents.MoveOutHousehold", &f->ops, &ar, NULL), 200);
    ar.id = "b1";
    assert_int_equal (s_call (f, "residents.ArchiveBuilding", &f->ops, &ar, &b), 200);
    assert_true (b->archived);
    ar.id = "c1";
    assert_int_equal (s_call (f, "residents.ArchiveCompound", &f->ops, &ar, &c), 200);
    assert_true (c->archived);
    //  Archived, not deleted: still readable, hidden from default lists.
    Tashan__Residents__GetRequest gr = TASHAN__RESIDENTS__GET_REQUEST__INIT;
    gr.id = "b1";
    assert_int_equal (s_call (f, "residents.GetBuilding", &f->ops, &gr, &b), 200);
    Tashan__Residents__ListCompoundsRequest lr = TASHAN__RESIDENTS__LIST_COMPOUNDS_REQUEST__INIT;
    Tashan__Residents__ListCompoundsReply *list;
    assert_int_equal (s_call (f, "residents.ListCompounds", &f->ops, &lr, &list), 200);
    assert_int_equal (list->n_compounds, 0);
    lr.include_archived = true;
    assert_int_equal (s_call (f, "residents.ListCompounds", &f->ops, &lr, &list), 200);
    assert_int_equal (list->n_compounds, 1);
    //  A household cannot be created in an archived building.
    res_household *h;
    assert_int_equal (s_household_try (f, "5", NULL, 0, &h), 422);
}

static void
test_list_paging (void **state)
{
    fixture *f = *state;
    s_building (f, "1", "G1");
    s_building (f, "2", "G1");
    s_building (f, "3", "G2");
    Tashan__Residents__ListBuildingsRequest req = TASHAN__RESIDENTS__LIST_BUILDINGS_REQUEST__INIT;
    req.page_size = 2;
    Tashan__Residents__ListBuildingsReply *rep;
    assert_int_equal (s_call (f, "residents.ListBuildings", &f->ops, &req, &rep), 200);
    assert_int_equal (rep->n_buildings, 2);
    assert_string_not_equal (rep->next_page_token, "");
    req.page_token = rep->next_page_token;
    assert_int_equal (s_call (f, "residents.ListBuildings", &f->ops, &req, &rep), 200);
    assert_int_equal (rep->n_buildings, 1);
    assert_string_equal (rep->buildings [0]->number, "3");
    assert_string_equal (rep->next_page_token, "");
    req.page_token = "zz";
    assert_int_equal (s_call (f, "residents.ListBuildings", &f->ops, &req, NULL), 400);
    req.page_token = "";
    req.page_size = 1001;
    assert_int_equal (s_call (f, "residents.ListBuildings", &f->ops, &req, NULL), 400);
    req.page_size = 0;
    req.grid = "G1";
    assert_int_equal (s_call (f, "residents.ListBuildings", &f->ops, &req, &rep), 200);
    assert_int_equal (rep->n_buildings, 2);
}

//  --------------------------------------------------------------------
//  Household files and personal data

static void
test_household_create_contract (void **state)
{
    fixture *f = *state;
    s_building (f, "12", "G3");
    res_member_input *m [2] = { s_member (f, "王秀英", ID_A, "13812341234"),
                                s_member (f, "王子涵", NULL, NULL) };
    m [1]->birth_year = 2015;
    char *tags [] = { "pupil" };
    m [1]->tags = tags;
    m [1]->n_tags = 1;
    m [1]->school_id = "S1";
    m [1]->pupil_no = "P001";
    res_household *h;
    assert_int_equal (s_household_try (f, "12", m, 2, &h), 201);
    assert_string_equal (h->id, "h1");
    assert_string_equal (h->building, "12");
    assert_string_equal (h->grid, "G3");            //  from the building
    assert_string_equal (h->room, "301");
    assert_int_equal (h->version, 1);
    assert_int_equal (h->n_members, 2);
    assert_string_equal (h->members [0]->id, "p1");
    assert_string_equal (h->members [1]->id, "p2");
    assert_true (h->members [0]->has_id_number);
    assert_false (h->members [1]->has_id_number);
    assert_string_equal (h->members [0]->phone, "13812341234");   //  ops sees it
    assert_string_equal (h->members [1]->pupil_no, "P001");
    //  The raw ID number is nowhere in the packed reply.
    size_t size = protobuf_c_message_get_packed_size (&h->base);
    uint8_t *buf = ts_arena_alloc (f->arena, size);
    protobuf_c_message_pack (&h->base, buf);
    assert_null (memmem (buf, size, ID_A, 18));
    assert_null (memmem (buf, size, "19800101", 8));
}

static void
test_household_bad_input_writes_nothing (void **state)
{
    fixture *f = *state;
    s_building (f, "12", "G3");
    res_household *h;
    res_member_input *m [1] = { s_member (f, "王伟", ID_BAD, NULL) };
    assert_int_equal (s_household_try (f, "12", m, 1, &h), 400);
    assert_non_null (strstr (f->message, "members[0].id_number"));
    m [0]->id_number = "";
    assert_int_equal (s_household_try (f, "99", m, 1, &h), 422);      //  unknown building
    assert_non_null (strstr (f->message, "building"));
    assert_int_equal (s_household_try (f, "", m, 1, &h), 400);
    m [0]->name = "";
    assert_int_equal (s_household_try (f, "12", m, 1, &h), 400);
    assert_non_null (strstr (f->message, "members[0].name"));
    char long_name [200];
    memset (long_name, 'a', 65);
    long_name [65] = 0;
    m [0]->name = long_name;
    assert_int_equal (s_household_try (f, "12", m, 1, &h), 400);
    m [0]->name = "王伟";
    char *bad_tag [] = { "vip" };
    m [0]->tags = bad_tag;
    m [0]->n_tags = 1;
    assert_int_equal (s_household_try (f, "12", m, 1, &h), 400);
    char *pupil [] = { "pupil" };
    m [0]->tags = pupil;                               //  a pupil needs school and number
    assert_int_equal (s_household_try (f, "12", m, 1, &h), 400);
    m [0]->n_tags = 0;
    m [0]->school_id = "S1";                           //  not a pupil: no school
    assert_int_equal (s_household_try (f, "12", m, 1, &h), 400);
    m [0]->school_id = "";
    m [0]->birth_year = 1800;
    assert_int_equal (s_household_try (f, "12", m, 1, &h), 400);
    m [0]->birth_year = 1980;
    m [0]->phone = "138-abc";
    assert_int_equal (s_household_try (f, "12", m, 1, &h), 400);
    assert_int_equal (s_household_count (f), 0);
    assert_int_equal (s_head (f), 1);                 //  no event but building.created
}

static void
test_duplicate_id_number_refused (void **state)
{
    fixture *f = *state;
    s_building (f, "12", "G3");
    s_household (f, "12", "王伟", ID_A);
    res_household *h;
    res_member_input *m [1] = { s_member (f, "李娜", ID_A, NULL) };
    assert_int_equal (s_household_try (f, "12", m, 1, &h), 409);
    assert_non_null (strstr (f->message, "h1"));
    //  Twice in one request, lower-case x against upper-case X: same person.
    res_member_input *two [2] = { s_member (f, "张三", ID_C, NULL),
                                  s_member (f, "张三", "11010519491231002x", NULL) };
    assert_int_equal (s_household_try (f, "12", two, 2, &h), 409);
    assert_int_equal (s_household_count (f), 1);
}

//  A member tagged pupil, of school_id with pupil_no.
static res_member_input *
s_pupil (fixture *f, const char *school_id, const char *pupil_no)
{
    static char *pupil [] = { "pupil" };
    res_member_input *a = s_member (f, "小明", NULL, NULL);
    a->tags = pupil;
    a->n_tags = 1;
    a->school_id = (char *) school_id;
    a->pupil_no = (char *) pupil_no;
    return a;
}

static void
test_pupil_number_unique_per_school (void **state)
{
    fixture *f = *state;
    s_building (f, "12", "G3");
    res_member_input *a = s_pupil (f, "S1", "007");
    res_household *h;
    assert_int_equal (s_household_try (f, "12", &a, 1, &h), 201);
    assert_int_equal (s_household_try (f, "12", &a, 1, &h), 409);
    a->school_id = "S2";
    assert_int_equal (s_household_try (f, "12", &a, 1, &h), 201);
}

//  residents.GetSchool: a school is known while a current pupil has its
//  school_id; ids that only share a prefix are other schools.
static unsigned
s_get_school (fixture *f, const Tashan__Caller *caller, const char *school_id)
{
    Tashan__Residents__GetSchoolRequest req = TASHAN__RESIDENTS__GET_SCHOOL_REQUEST__INIT;
    req.school_id = (char *) school_id;
    Tashan__Residents__School *rep = NULL;
    unsigned code = s_call (f, "residents.GetSchool", caller, &req, &rep);
    if (code == 200)
        assert_string_equal (rep->school_id, school_id);
    return code;
}

static void
test_school_known_by_its_pupils (void **state)
{
    fixture *f = *state;
    s_building (f, "12", "G3");
    assert_int_equal (s_get_school (f, &f->sys, "S1"), 404);
    assert_non_null (strstr (f->message, "no school S1"));
    res_member_input *a = s_pupil (f, "S1", "007");
    res_household *h;
    assert_int_equal (s_household_try (f, "12", &a, 1, &h), 201);
    a->school_id = "S3";
    assert_int_equal (s_household_try (f, "12", &a, 1, &h), 201);
    assert_int_equal (s_get_school (f, &f->sys, "S1"), 200);
    assert_int_equal (s_get_school (f, &f->ops, "S3"), 200);
    //  Neighbours in key order are not the school: S lies before S1, S2
    //  between S1 and S3, S10 and S1x after S1.
    const char *unknown [] = { "S", "S2", "S10", "S1x", "S4", "s1" };
    for (size_t i = 0; i < sizeof unknown / sizeof unknown [0]; i++)
        assert_int_equal (s_get_school (f, &f->sys, unknown [i]), 404);
    //  Bad ids and other roles.
    assert_int_equal (s_get_school (f, &f->sys, ""), 400);
    assert_int_equal (s_get_school (f, &f->sys, "S123456789012345678901234567890123"), 400);
    assert_int_equal (s_get_school (f, &f->panel, "S1"), 403);
    Tashan__Caller school = ts_caller ("school", "S1", "tok-s1");
    assert_int_equal (s_get_school (f, &school, "S1"), 403);
    //  The last pupil archived: the school is no longer known.
    Tashan__Residents__ArchiveRequest ar = TASHAN__RESIDENTS__ARCHIVE_REQUEST__INIT;
    ar.id = "p1";
    ar.reason = "left school";
    assert_int_equal (s_call (f, "residents.ArchivePerson", &f->ops, &ar, NULL), 200);
    assert_int_equal (s_get_school (f, &f->sys, "S1"), 404);
    assert_int_equal (s_get_school (f, &f->sys, "S3"), 200);
}

static void
test_phones_masked_but_to_ops (void **state)
{
    fixture *f = *state;
    s_building (f, "12", "G3");
    s_household (f, "12", "王伟", NULL);
    res_household *h = s_get_household (f, "h1", &f->sys);
    assert_string_equal (h->members [0]->phone, "138****1234");
    h = s_get_household (f, "h1", &f->ops);
    assert_string_equal (h->members [0]->phone, "13812341234");
    Tashan__Residents__GetRequest req = TASHAN__RESIDENTS__GET_REQUEST__INIT;
    req.id = "p1";
    res_member *m;
    assert_int_equal (s_call (f, "residents.GetPerson", &f->sys, &req, &m), 200);
    assert_string_equal (m->phone, "138****1234");
    assert_int_equal (s_call (f, "residents.GetHousehold", &f->panel, &req, NULL), 403);
    req.id = "h9";
    assert_int_equal (s_call (f, "residents.GetHousehold", &f->ops, &req, NULL), 404);
    req.id = "nonsense";
    assert_int_equal (s_call (f, "residents.GetHousehold", &f->ops, &req, NULL), 404);
}

static void
test_every_read_is_audited (void **state)
{
    fixture *f = *state;
    s_building (f, "12", "G3");
    s_household (f, "12", "王伟", NULL);
    s_get_household (f, "h1", &f->ops);
    s_get_household (f, "h1", &f->sys);
    Tashan__Residents__PageRequest pr = TASHAN__RESIDENTS__PAGE_REQUEST__INIT;
    pr.id = "h1";
    assert_int_equal (s_call (f, "residents.GetHistory", &f->ops, &pr, NULL), 200);
    Tashan__Residents__GetRequest gr = TASHAN__RESIDENTS__GET_REQUEST__INIT;
    gr.id = "p1";
    assert_int_equal (s_call (f, "residents.GetPerson", &f->sys, &gr, NULL), 200);
    Tashan__Residents__AuditReply *a;
    assert_int_equal (s_call (f, "residents.ListAudit", &f->ops, &pr, &a), 200);
    assert_int_equal (a->n_entries, 4);
    assert_string_equal (a->entries [0]->role, "ops");
    assert_string_equal (a->entries [0]->principal, "tok-ops");
    assert_string_equal (a->entries [0]->action, "read");
    assert_int_equal (a->entries [0]->at_ms, NOW_MS);
    assert_string_equal (a->entries [1]->role, "system");
    assert_string_equal (a->entries [2]->action, "history");
    assert_string_equal (a->entries [3]->action, "read_person");
    assert_int_equal (s_call (f, "residents.ListAudit", &f->sys, &pr, NULL), 403);
    //  Paged.
    pr.page_size = 3;
    assert_int_equal (s_call (f, "residents.ListAudit", &f->ops, &pr, &a), 200);
    assert_int_equal (a->n_entries, 3);
    pr.page_token = a->next_page_token;
    assert_int_equal (s_call (f, "residents.ListAudit", &f->ops, &pr, &a), 200);
    assert_int_equal (a->n_entries, 1);
    assert_string_equal (a->next_page_token, "");
}

static void
test_history_versions_who_and_when (void **state)
{
    fixture *f = *state;
    s_building (f, "12", "G3");
    s_household (f, "12", "王伟", NULL);
    ts_dispatch_set_now (f->d, NOW_MS + 1000);
    Tashan__Residents__AddMemberRequest ar = TASHAN__RESIDENTS__ADD_MEMBER_REQUEST__INIT;
    ar.id = "h1";
    ar.name = "李娜";
    ar.birth_year = 1982;
    res_member *m;
    assert_int_equal (s_call (f, "residents.AddMember", &f->ops, &ar, &m), 201);
    assert_string_equal (m->id, "p2");
    ts_dispatch_set_now (f->d, NOW_MS + 2000);
    Tashan__Residents__UpdatePersonRequest ur = TASHAN__RESIDENTS__UPDATE_PERSON_REQUEST__INIT;
    ur.id = "p2";
    ur.name = "李娜娜";
    ur.birth_year = 1982;
    Tashan__Caller other = ts_caller ("ops", "", "tok-other");
    assert_int_equal (s_call (f, "residents.UpdatePerson", &other, &ur, &m), 200);
    assert_string_equal (m->name, "李娜娜");

    Tashan__Residents__PageRequest pr = TASHAN__RESIDENTS__PAGE_REQUEST__INIT;
    pr.id = "h1";
    Tashan__Residents__HistoryReply *hist;
    assert_int_equal (s_call (f, "residents.GetHistory", &f->ops, &pr, &hist), 200);
    assert_int_equal (hist->n_versions, 3);
    assert_int_equal (hist->versions [0]->version, 1);
    assert_string_equal (hist->versions [0]->action, "household.created");
    assert_int_equal (hist->versions [0]->at_ms, NOW_MS);
    assert_int_equal (hist->versions [0]->household->n_members, 1);
    assert_string_equal (hist->versions [1]->action, "person.added");
    assert_int_equal (hist->versions [1]->household->n_members, 2);
    assert_string_equal (hist->versions [1]->household->members [1]->name, "李娜");
    assert_string_equal (hist->versions [2]->by_principal, "tok-other");
    assert_int_equal (hist->versions [2]->at_ms, NOW_MS + 2000);
    assert_string_equal (hist->versions [2]->household->members [1]->name, "李娜娜");
    pr.page_size = 2;
    assert_int_equal (s_call (f, "residents.GetHistory", &f->ops, &pr, &hist), 200);
    assert_int_equal (hist->n_versions, 2);
    pr.page_token = hist->next_page_token;
    assert_int_equal (s_call (f, "residents.GetHistory", &f->ops, &pr, &hist), 200);
    assert_int_equal (hist->n_versions, 1);
    assert_int_equal (hist->versions [0]->version, 3);
}

static void
test_person_events_full_state (void **state)
{
    fixture *f = *state;
    s_building (f, "12", "G3");
    //  The ledger ranks every building: a building's creation is an event.
    Tashan__Event **ev;
    assert_int_equal (s_events (f, 0, &ev), 1);
    assert_string_equal (ev [0]->topic, "building.created");
    Tashan__Events__Building *b = tashan__events__building__unpack (
        ts_arena_pb (f->arena), ev [0]->payload.len, ev [0]->payload.data);
    assert_non_null (b);
    assert_string_equal (b->number, "12");
    assert_string_equal (b->building_id, "b1");
    assert_false (b->archived);
    uint64_t head = s_head (f);
    s_household (f, "12", "王伟", NULL);
    size_t n = s_events (f, head, &ev);
    assert_int_equal (n, 1);
    assert_string_equal (ev [0]->topic, "person.created");
    Tashan__Events__Person *p = tashan__events__person__unpack (
        ts_arena_pb (f->arena), ev [0]->payload.len, ev [0]->payload.data);
    assert_non_null (p);
    assert_string_equal (p->person_id, "p1");
    assert_string_equal (p->household_id, "h1");
    assert_string_equal (p->building_number, "12");
    assert_string_equal (p->grid, "G3");
    assert_string_equal (p->name, "王伟");
    assert_true (p->credit_consent);
    assert_false (p->archived);
}

static void
test_update_person_replaces_and_keeps_id (void **state)
{
    fixture *f = *state;
    s_building (f, "12", "G3");
    s_household (f, "12", "王伟", ID_A);
    s_household (f, "12", "李娜", ID_B);
    Tashan__Residents__UpdatePersonRequest ur = TASHAN__RESIDENTS__UPDATE_PERSON_REQUEST__INIT;
    ur.id = "p1";
    ur.name = "王伟";
    ur.birth_year = 1981;
    ur.phone = "";
    ur.credit_opt_out = true;
    res_member *m;
    assert_int_equal (s_call (f, "residents.UpdatePerson", &f->ops, &ur, &m), 200);
    assert_true (m->has_id_number);                 //  empty keeps it
    assert_string_equal (m->phone, "");
    assert_false (m->credit_consent);
    ur.id_number = ID_B;                            //  belongs to p2
    assert_int_equal (s_call (f, "residents.UpdatePerson", &f->ops, &ur, NULL), 409);
    //  The failure changed nothing: A is still p1's (refused for a third).
    res_household *h;
    res_member_input *m3 [1] = { s_member (f, "张三", ID_A, NULL) };
    assert_int_equal (s_household_try (f, "12", m3, 1, &h), 409);
    ur.id_number = ID_C;                            //  a new number frees A
    assert_int_equal (s_call (f, "residents.UpdatePerson", &f->ops, &ur, NULL), 200);
    assert_int_equal (s_household_try (f, "12", m3, 1, &h), 201);
    ur.id = "p404";
    assert_int_equal (s_call (f, "residents.UpdatePerson", &f->ops, &ur, NULL), 404);
}

static void
test_move_person_keeps_history (void **state)
{
    fixture *f = *state;
    s_building (f, "12", "G3");
    s_building (f, "7", "G1");
    s_household (f, "12", "王伟", NULL);
    Tashan__Residents__CreateHouseholdRequest cr = TASHAN__RESIDENTS__CREATE_HOUSEHOLD_REQUEST__INIT;
    cr.building = "7";
    cr.room = "101";
    res_household *h2;
    assert_int_equal (s_call (f, "residents.CreateHousehold", &f->ops, &cr, &h2), 201);
    uint64_t head = s_head (f);
    s_resource (f, "p1", "repair", 3);
    Tashan__Residents__MovePersonRequest mr = TASHAN__RESIDENTS__MOVE_PERSON_REQUEST__INIT;
    mr.id = "p1";
    mr.household_id = "h2";
    res_member *m;
    assert_int_equal (s_call (f, "residents.MovePerson", &f->ops, &mr, &m), 200);
    assert_string_equal (m->household_id, "h2");
    assert_int_equal (s_get_household (f, "h1", &f->ops)->n_members, 0);
    res_household *to = s_get_household (f, "h2", &f->ops);
    assert_int_equal (to->n_members, 1);
    assert_int_equal (to->version, 2);
    //  The old file's history still shows them.
    Tashan__Residents__PageRequest pr = TASHAN__RESIDENTS__PAGE_REQUEST__INIT;
    pr.id = "h1";
    Tashan__Residents__HistoryReply *hist;
    assert_int_equal (s_call (f, "residents.GetHistory", &f->ops, &pr, &hist), 200);
    assert_int_equal (hist->n_versions, 2);
    assert_int_equal (hist->versions [0]->household->n_members, 1);
    assert_string_equal (hist->versions [1]->action, "person.moved_out");
    //  person.moved with the new place.
    Tashan__Event **ev;
    size_t n = s_events (f, head, &ev);
    assert_int_equal (n, 1);
    assert_string_equal (ev [0]->topic, "person.moved");
    Tashan__Events__Person *p = tashan__events__person__unpack (
        ts_arena_pb (f->arena), ev [0]->payload.len, ev [0]->payload.data);
    assert_string_equal (p->building_number, "7");
    assert_string_equal (p->grid, "G1");
    //  The resource they offer moved with them.
    Tashan__Residents__GetRequest gr = TASHAN__RESIDENTS__GET_REQUEST__INIT;
    gr.id = "r1";
    res_resource *r;
    assert_int_equal (s_call (f, "residents.GetResource", &f->ops, &gr, &r), 200);
    assert_string_equal (r->building, "7");
    //  Bad moves.
    assert_int_equal (s_call (f, "residents.MovePerson", &f->ops, &mr, NULL), 409);
    mr.household_id = "h77";
    assert_int_equal (s_call (f, "residents.MovePerson", &f->ops, &mr, NULL), 422);
    mr.household_id = "";
    assert_int_equal (s_call (f, "residents.MovePerson", &f->ops, &mr, NULL), 400);
}

static void
test_archive_person_releases_id (void **state)
{
    fixture *f = *state;
    s_building (f, "12", "G3");
    s_household (f, "12", "王伟", ID_A);
    s_resource (f, "p1", "repair", 3);
    uint64_t head = s_head (f);
    Tashan__Residents__ArchiveRequest ar = TASHAN__RESIDENTS__ARCHIVE_REQUEST__INIT;
    ar.id = "p1";
    ar.reason = "moved to Qingdao";
    res_member *m;
    assert_int_equal (s_call (f, "residents.ArchivePerson", &f->ops, &ar, &m), 200);
    assert_true (m->archived);
    assert_string_equal (m->archived_reason, "moved to Qingdao");
    assert_int_equal (s_call (f, "residents.ArchivePerson", &f->ops, &ar, NULL), 409);
    Tashan__Event **ev;
    assert_int_equal (s_events (f, head, &ev), 1);
    assert_string_equal (ev [0]->topic, "person.archived");
    //  Still readable; the number may be registered again.
    Tashan__Residents__GetRequest gr = TASHAN__RESIDENTS__GET_REQUEST__INIT;
    gr.id = "p1";
    assert_int_equal (s_call (f, "residents.GetPerson", &f->ops, &gr, &m), 200);
    assert_true (m->archived);
    s_household (f, "12", "王伟", ID_A);
    //  Their resource is withdrawn.
    gr.id = "r1";
    res_resource *r;
    assert_int_equal (s_call (f, "residents.GetResource", &f->ops, &gr, &r), 200);
    assert_true (r->archived);
}

static void
test_move_out_household (void **state)
{
    fixture *f = *state;
    s_building (f, "12", "G3");
    res_member_input *m [2] = { s_member (f, "王伟", ID_A, NULL), s_member (f, "李娜", NULL, NULL) };
    res_household *h;
    assert_int_equal (s_household_try (f, "12", m, 2, &h), 201);
    s_need (f, "h1", "p1", "repair", 2);
    uint64_t head = s_head (f);
    Tashan__Residents__ArchiveRequest ar = TASHAN__RESIDENTS__ARCHIVE_REQUEST__INIT;
    ar.id = "h1";
    ar.reason = "sold the flat";
    assert_int_equal (s_call (f, "residents.MoveOutHousehold", &f->ops, &ar, &h), 200);
    assert_true (h->archived);
    assert_int_equal (h->n_members, 2);
    assert_true (h->members [0]->archived);
    assert_true (h->members [1]->archived);
    assert_string_equal (h->needs [0]->status, "closed");
    Tashan__Event **ev;
    size_t n = s_events (f, head, &ev);
    assert_int_equal (n, 3);
    assert_string_equal (ev [0]->topic, "need.closed");
    assert_string_equal (ev [1]->topic, "person.archived");
    assert_string_equal (ev [2]->topic, "person.archived");
    assert_int_equal (s_call (f, "residents.MoveOutHousehold", &f->ops, &ar, NULL), 409);
    Tashan__Residents__AddMemberRequest add = TASHAN__RESIDENTS__ADD_MEMBER_REQUEST__INIT;
    add.id = "h1";
    add.name = "张三";
    assert_int_equal (s_call (f, "residents.AddMember", &f->ops, &add, NULL), 409);
    //  Still on file, with its whole history.
    h = s_get_household (f, "h1", &f->ops);
    assert_true (h->archived);
    assert_int_equal (h->version, 3);
    assert_int_equal (s_household_count (f), 1);
    //  The ID number is free again.
    s_household (f, "12", "王伟", ID_A);
}

static void
test_update_household_moves_grid (void **state)
{
    fixture *f = *state;
    s_building (f, "12", "G3");
    s_household (f, "12", "王伟", NULL);
    res_need *n = s_need (f, "h1", "p1", "repair", 1);
    uint64_t head = s_head (f);
    Tashan__Residents__UpdateHouseholdRequest ur = TASHAN__RESIDENTS__UPDATE_HOUSEHOLD_REQUEST__INIT;
    ur.id = "h1";
    ur.grid = "G9";
    res_household *h;
    assert_int_equal (s_call (f, "residents.UpdateHousehold", &f->ops, &ur, &h), 200);
    assert_string_equal (h->grid, "G9");
    assert_string_equal (h->room, "301");
    assert_string_equal (h->needs [0]->grid, "G9");
    Tashan__Event **ev;
    assert_int_equal (s_events (f, head, &ev), 1);
    assert_string_equal (ev [0]->topic, "person.updated");
    assert_int_equal (h->version, 3);
    //  The same values again: no change, no new version, no event.
    assert_int_equal (s_call (f, "residents.UpdateHousehold", &f->ops, &ur, &h), 200);
    assert_int_equal (h->version, 3);
    assert_int_equal (s_events (f, head, &ev), 1);
    ur.room = "r23456789012345678901234567890123";
    assert_int_equal (s_call (f, "residents.UpdateHousehold", &f->ops, &ur, NULL), 400);
    ur.id = "h2";
    ur.room = "";
    assert_int_equal (s_call (f, "residents.UpdateHousehold", &f->ops, &ur, NULL), 404);
    (void) n;
}

//  --------------------------------------------------------------------
//  Needs and resources

static void
test_need_rules_and_events (void **state)
{
    fixture *f = *state;
    s_building (f, "12", "G3");
    s_household (f, "12", "王伟", NULL);
    s_household (f, "12", "李娜", NULL);
    Tashan__Residents__OpenNeedRequest req = TASHAN__RESIDENTS__OPEN_NEED_REQUEST__INIT;
    req.household_id = "h1";
    req.category = "repair";
    req.urgency = 0;
    assert_int_equal (s_call (f, "residents.OpenNeed", &f->ops, &req, NULL), 400);
    req.urgency = 4;
    assert_int_equal (s_call (f, "residents.OpenNeed", &f->ops, &req, NULL), 400);
    req.urgency = 2;
    req.category = "magic";
    assert_int_equal (s_call (f, "residents.OpenNeed", &f->ops, &req, NULL), 400);
    req.category = "repair";
    req.household_id = "h44";
    assert_int_equal (s_call (f, "residents.OpenNeed", &f->ops, &req, NULL), 422);
    req.household_id = "h1";
    req.person_id = "p2";                           //  lives in h2
    assert_int_equal (s_call (f, "residents.OpenNeed", &f->ops, &req, NULL), 422);
    assert_int_equal (s_head (f), 3);               //  building.created, two person.created
    req.person_id = "p1";
    res_need *n;
    assert_int_equal (s_call (f, "residents.OpenNeed", &f->ops, &req, &n), 201);
    assert_string_equal (n->status, "open");
    assert_string_equal (n->building, "12");
    Tashan__Event **ev;
    assert_int_equal (s_events (f, 3, &ev), 1);
    assert_string_equal (ev [0]->topic, "need.opened");
    Tashan__Events__Need *en = tashan__events__need__unpack (
        ts_arena_pb (f->arena), ev [0]->payload.len, ev [0]->payload.data);
    assert_string_equal (en->need_id, "n1");
    assert_int_equal (en->urgency, 2);
    //  served only once matched; closing emits need.closed.
    Tashan__Residents__SetNeedStatusRequest sr = TASHAN__RESIDENTS__SET_NEED_STATUS_REQUEST__INIT;
    sr.id = "n1";
    sr.status = "served";
    assert_int_equal (s_call (f, "residents.SetNeedStatus", &f->ops, &sr, NULL), 409);
    sr.status = "open";
    assert_int_equal (s_call (f, "residents.SetNeedStatus", &f->ops, &sr, NULL), 400);
    sr.status = "closed";
    assert_int_equal (s_call (f, "residents.SetNeedStatus", &f->ops, &sr, &n), 200);
    assert_string_equal (n->status, "closed");
    assert_int_equal (s_events (f, 4, &ev), 1);
    assert_string_equal (ev [0]->topic, "need.closed");
    assert_int_equal (s_call (f, "residents.SetNeedStatus", &f->ops, &sr, NULL), 409);
    //  The household file lists its needs and has a version per change.
    res_household *h = s_get_household (f, "h1", &f->ops);
    assert_int_equal (h->n_needs, 1);
    assert_int_equal (h->version, 3);
    Tashan__Residents__ListNeedsRequest lr = TASHAN__RESIDENTS__LIST_NEEDS_REQUEST__INIT;
    lr.status = "closed";
    Tashan__Residents__ListNeedsReply *list;
    assert_int_equal (s_call (f, "residents.ListNeeds", &f->ops, &lr, &list), 200);
    assert_int_equal (list->n_needs, 1);
    lr.status = "open";
    assert_int_equal (s_call (f, "residents.ListNeeds", &f->ops, &lr, &list), 200);
    assert_int_equal (list->n_needs, 0);
}

static void
test_resource_rules (void **state)
{
    fixture *f = *state;
    s_building (f, "12", "G3");
    s_household (f, "12", "王伟", NULL);
    res_resource *r = s_resource (f, "p1", "repair", 3);
    assert_string_equal (r->id, "r1");
    assert_string_equal (r->building, "12");
    assert_string_equal (r->grid, "G3");
    assert_int_equal (r->capacity_left, 3);
    assert_int_equal (s_resource_try (f, "resident", "p1", "repair", 3, NULL), 409);
    assert_int_equal (s_resource_try (f, "resident", "p9", "repair", 3, NULL), 422);
    assert_int_equal (s_resource_try (f, "resident", "p1", "cleaning", 0, NULL), 400);
    assert_int_equal (s_resource_try (f, "resident", "p1", "cleaning", 10001, NULL), 400);
    assert_int_equal (s_resource_try (f, "alien", "p1", "cleaning", 1, NULL), 400);
    assert_int_equal (s_resource_try (f, "merchant", "m1", "haircut", 5, NULL), 422);
    //  A merchant known through merchants' events may offer a service.
    Tashan__Events__Merchant m = TASHAN__EVENTS__MERCHANT__INIT;
    m.merchant_id = "m1";
    m.name = "老街理发";
    m.category = "haircut";
    size_t size = protobuf_c_message_get_packed_size (&m.base);
    uint8_t *buf = ts_arena_alloc (f->arena, size);
    protobuf_c_message_pack (&m.base, buf);
    Tashan__Event ev = TASHAN__EVENT__INIT;
    ev.seq = 1;
    ev.topic = "merchant.registered";
    ev.payload.data = buf;
    ev.payload.len = size;
    assert_int_equal (ts_dispatch_apply (f->d, "merchants", &ev), 200);
    assert_int_equal (s_resource_try (f, "merchant", "m1", "haircut", 5, &r), 201);
    assert_string_equal (r->building, "");
    assert_int_equal (s_resource_try (f, "co_building", "m1", "repair", 5, NULL), 422);
    //  Archive removes it from matching but keeps it.
    Tashan__Residents__ArchiveRequest ar = TASHAN__RESIDENTS__ARCHIVE_REQUEST__INIT;
    ar.id = "r1";
    assert_int_equal (s_call (f, "residents.ArchiveResource", &f->ops, &ar, &r), 200);
    assert_true (r->archived);
    assert_int_equal (s_resource_try (f, "resident", "p1", "repair", 3, NULL), 201);
    Tashan__Residents__ListResourcesRequest lr = TASHAN__RESIDENTS__LIST_RESOURCES_REQUEST__INIT;
    Tashan__Residents__ListResourcesReply *list;
    assert_int_equal (s_call (f, "residents.ListResources", &f->ops, &lr, &list), 200);
    assert_int_equal (list->n_resources, 2);
    lr.include_archived = true;
    assert_int_equal (s_call (f, "residents.ListResources", &f->ops, &lr, &list), 200);
    assert_int_equal (list->n_resources, 3);
}

//  Three buildings: 1 and 2 in grid G1, 3 in G2. The need is in building 1.
static void
s_match_world (fixture *f)
{
    s_building (f, "1", "G1");
    s_building (f, "2", "G1");
    s_building (f, "3", "G2");
    s_household (f, "1", "需要帮助", NULL);         //  p1 h1
    s_household (f, "1", "同楼", NULL);             //  p2 h2
    s_household (f, "2", "同网格", NULL);           //  p3 h3
    s_household (f, "3", "远处", NULL);             //  p4 h4
    s_resource (f, "p4", "repair", 9);              //  r1 community
    s_resource (f, "p3", "repair", 2);              //  r2 same grid
    s_resource (f, "p2", "repair", 1);              //  r3 same building
    s_resource (f, "p1", "repair", 5);              //  r4 their own: never offered
    s_resource (f, "p2", "cleaning", 5);            //  r5 other category
}

static void
test_matches_ranked_with_reasons (void **state)
{
    fixture *f = *state;
    s_match_world (f);
    Tashan__Residents__OpenNeedRequest nr = TASHAN__RESIDENTS__OPEN_NEED_REQUEST__INIT;
    nr.household_id = "h1";
    nr.person_id = "p1";
    nr.category = "repair";
    nr.urgency = 3;
    res_need *n;
    assert_int_equal (s_call (f, "residents.OpenNeed", &f->ops, &nr, &n), 201);
    Tashan__Residents__PageRequest pr = TASHAN__RESIDENTS__PAGE_REQUEST__INIT;
    pr.id = n->id;
    Tashan__Residents__MatchesReply *rep;
    assert_int_equal (s_call (f, "residents.ListMatches", &f->ops, &pr, &rep), 200);
    assert_int_equal (rep->n_matches, 3);
    assert_string_equal (rep->matches [0]->resource_id, "r3");
    assert_string_equal (rep->matches [0]->distance, "same_building");
    assert_int_equal (rep->matches [0]->rank, 1);
    assert_non_null (strstr (rep->matches [0]->reason, "same building 1"));
    assert_non_null (strstr (rep->matches [0]->reason, "1 of 1 left"));
    assert_string_equal (rep->matches [1]->resource_id, "r2");
    assert_string_equal (rep->matches [1]->distance, "same_grid");
    assert_string_equal (rep->matches [2]->resource_id, "r1");
    assert_string_equal (rep->matches [2]->distance, "community");
    assert_true (rep->matches [0]->score > rep->matches [1]->score);
    assert_true (rep->matches [1]->score > rep->matches [2]->score);
    //  Paged.
    pr.page_size = 2;
    assert_int_equal (s_call (f, "residents.ListMatches", &f->ops, &pr, &rep), 200);
    assert_int_equal (rep->n_matches, 2);
    pr.page_token = rep->next_page_token;
    assert_int_equal (s_call (f, "residents.ListMatches", &f->ops, &pr, &rep), 200);
    assert_int_equal (rep->n_matches, 1);
    assert_int_equal (rep->matches [0]->rank, 3);
    assert_string_equal (rep->next_page_token, "");
    pr.page_token = "x";
    assert_int_equal (s_call (f, "residents.ListMatches", &f->ops, &pr, NULL), 400);
    pr.id = "n99";
    pr.page_token = "";
    assert_int_equal (s_call (f, "residents.ListMatches", &f->ops, &pr, NULL), 404);
}

static void
test_capacity_breaks_ties_by_urgency (void **state)
{
    fixture *f = *state;
    s_building (f, "1", "G1");
    s_household (f, "1", "a", NULL);
    s_household (f, "1", "b", NULL);
    s_household (f, "1", "c", NULL);
    s_resource (f, "p2", "repair", 2);              //  r1
    s_resource (f, "p3", "repair", 12);             //  r2 more capacity left
    res_need *n = s_need (f, "h1", "p1", "repair", 1);
    Tashan__Residents__PageRequest pr = TASHAN__RESIDENTS__PAGE_REQUEST__INIT;
    pr.id = n->id;
    Tashan__Residents__MatchesReply *rep;
    assert_int_equal (s_call (f, "residents.ListMatches", &f->ops, &pr, &rep), 200);
    assert_string_equal (rep->matches [0]->resource_id, "r2");
    uint32_t gap_low = rep->matches [0]->score - rep->matches [1]->score;
    res_need *urgent = s_need (f, "h1", "p1", "repair", 3);
    pr.id = urgent->id;
    assert_int_equal (s_call (f, "residents.ListMatches", &f->ops, &pr, &rep), 200);
    uint32_t gap_high = rep->matches [0]->score - rep->matches [1]->score;
    assert_int_equal (gap_high, 3 * gap_low);        //  urgency weighs capacity
}

static void
test_assign_books_capacity (void **state)
{
    fixture *f = *state;
    s_match_world (f);
    res_need *n1 = s_need (f, "h1", "p1", "repair", 2);
    res_need *n2 = s_need (f, "h1", "p1", "repair", 2);
    Tashan__Residents__AssignRequest req = TASHAN__RESIDENTS__ASSIGN_REQUEST__INIT;
    req.id = n1->id;
    req.resource_id = "r3";
    Tashan__Residents__AssignReply *rep;
    assert_int_equal (s_call (f, "residents.AssignNeed", &f->ops, &req, &rep), 200);
    assert_string_equal (rep->need->status, "matched");
    assert_string_equal (rep->need->resource_id, "r3");
    assert_int_equal (rep->resource->capacity_left, 0);
    assert_string_equal (rep->distance, "same_building");
    assert_int_equal (s_call (f, "residents.AssignNeed", &f->ops, &req, NULL), 409);  //  not open
    req.id = n2->id;
    assert_int_equal (s_call (f, "residents.AssignNeed", &f->ops, &req, NULL), 409);  //  none left
    assert_non_null (strstr (f->message, "capacity"));
    req.resource_id = "r5";
    assert_int_equal (s_call (f, "residents.AssignNeed", &f->ops, &req, NULL), 422);  //  category
    req.resource_id = "r404";
    assert_int_equal (s_call (f, "residents.AssignNeed", &f->ops, &req, NULL), 422);
    req.resource_id = "";                           //  the best match left: r2
    assert_int_equal (s_call (f, "residents.AssignNeed", &f->ops, &req, &rep), 200);
    assert_string_equal (rep->need->resource_id, "r2");
    assert_string_equal (rep->distance, "same_grid");
    //  Next week the capacity is back.
    ts_dispatch_set_now (f->d, NOW_MS + WEEK_MS);
    Tashan__Residents__GetRequest gr = TASHAN__RESIDENTS__GET_REQUEST__INIT;
    gr.id = "r3";
    res_resource *r;
    assert_int_equal (s_call (f, "residents.GetResource", &f->ops, &gr, &r), 200);
    assert_int_equal (r->capacity_left, 1);
    //  Served after matched; the file has a version per step.
    Tashan__Residents__SetNeedStatusRequest sr = TASHAN__RESIDENTS__SET_NEED_STATUS_REQUEST__INIT;
    sr.id = n1->id;
    sr.status = "served";
    res_need *n;
    assert_int_equal (s_call (f, "residents.SetNeedStatus", &f->ops, &sr, &n), 200);
    assert_string_equal (n->status, "served");
}

static void
test_closing_a_matched_need_gives_the_booking_back (void **state)
{
    fixture *f = *state;
    s_match_world (f);
    res_need *n1 = s_need (f, "h1", "p1", "repair", 2);
    res_need *n2 = s_need (f, "h1", "p1", "repair", 2);
    Tashan__Residents__AssignRequest req = TASHAN__RESIDENTS__ASSIGN_REQUEST__INIT;
    req.id = n1->id;
    req.resource_id = "r3";                         //  capacity 1 a week
    assert_int_equal (s_call (f, "residents.AssignNeed", &f->ops, &req, NULL), 200);
    req.id = n2->id;
    assert_int_equal (s_call (f, "residents.AssignNeed", &f->ops, &req, NULL), 409);
    //  n1 is cancelled before it is served: r3 is free again this week.
    Tashan__Residents__SetNeedStatusRequest sr = TASHAN__RESIDENTS__SET_NEED_STATUS_REQUEST__INIT;
    sr.id = n1->id;
    sr.status = "closed";
    assert_int_equal (s_call (f, "residents.SetNeedStatus", &f->ops, &sr, NULL), 200);
    Tashan__Residents__GetRequest gr = TASHAN__RESIDENTS__GET_REQUEST__INIT;
    gr.id = "r3";
    res_resource *r;
    assert_int_equal (s_call (f, "residents.GetResource", &f->ops, &gr, &r), 200);
    assert_int_equal (r->capacity_left, 1);
    assert_int_equal (s_call (f, "residents.AssignNeed", &f->ops, &req, NULL), 200);
    //  Served needs keep their booking: closing a served need frees nothing.
    sr.id = n2->id;
    sr.status = "served";
    assert_int_equal (s_call (f, "residents.SetNeedStatus", &f->ops, &sr, NULL), 200);
    sr.status = "closed";
    assert_int_equal (s_call (f, "residents.SetNeedStatus", &f->ops, &sr, NULL), 200);
    assert_int_equal (s_call (f, "residents.GetResource", &f->ops, &gr, &r), 200);
    assert_int_equal (r->capacity_left, 0);
}

static void
test_match_all_batch (void **state)
{
    fixture *f = *state;
    s_match_world (f);
    s_need (f, "h1", "p1", "repair", 1);                  //  n1
    s_need (f, "h1", "p1", "repair", 3);                  //  n2: most urgent goes first
    s_need (f, "h1", "p1", "repair", 2);                  //  n3
    s_need (f, "h3", "p3", "cleaning", 1);                //  n4
    s_need (f, "h4", "p4", "legal", 1);                   //  n5: nobody offers it
    Tashan__Residents__MatchAllRequest req = TASHAN__RESIDENTS__MATCH_ALL_REQUEST__INIT;
    Tashan__Residents__MatchAllReply *rep;
    assert_int_equal (s_call (f, "residents.MatchAll", &f->sys, &req, &rep), 200);
    assert_int_equal (rep->open_needs, 5);
    assert_int_equal (rep->matched, 4);
    assert_int_equal (rep->unmatched, 1);
    assert_false (rep->assigned);
    assert_string_equal (rep->proposals [0]->need_id, "n2");
    assert_string_equal (rep->proposals [0]->resource_id, "r3");
    assert_string_equal (rep->proposals [0]->distance, "same_building");
    assert_string_equal (rep->proposals [1]->need_id, "n3");
    assert_string_equal (rep->proposals [1]->resource_id, "r2");
    assert_string_equal (rep->proposals [2]->need_id, "n1");
    assert_string_equal (rep->proposals [2]->resource_id, "r2");
    assert_int_equal (rep->same_building, 1);       //  n2 -> r3
    assert_int_equal (rep->same_grid, 3);           //  n3, n1 -> r2; n4 -> r5
    assert_int_equal (rep->community, 0);
    //  A dry run changes nothing; assign books.
    assert_int_equal (s_call (f, "residents.MatchAll", &f->sys, &req, &rep), 200);
    assert_int_equal (rep->matched, 4);
    req.assign = true;
    assert_int_equal (s_call (f, "residents.MatchAll", &f->ops, &req, &rep), 200);
    assert_true (rep->assigned);
    Tashan__Residents__GetRequest gr = TASHAN__RESIDENTS__GET_REQUEST__INIT;
    gr.id = "n2";
    res_need *n;
    assert_int_equal (s_call (f, "residents.GetNeed", &f->ops, &gr, &n), 200);
    assert_string_equal (n->status, "matched");
    gr.id = "r2";
    res_resource *r;
    assert_int_equal (s_call (f, "residents.GetResource", &f->ops, &gr, &r), 200);
    assert_int_equal (r->capacity_left, 0);
    req.assign = false;
    assert_int_equal (s_call (f, "residents.MatchAll", &f->sys, &req, &rep), 200);
    assert_int_equal (rep->open_needs, 1);
    assert_int_equal (rep->matched, 0);
    assert_int_equal (s_call (f, "residents.MatchAll", &f->panel, &req, NULL), 403);
    req.sample_size = 1001;
    assert_int_equal (s_call (f, "residents.MatchAll", &f->sys, &req, NULL), 400);
}

//  --------------------------------------------------------------------
//  Demo community and restart

static void
test_seed_demo_deterministic (void **state)
{
    fixture *f = *state;
    Tashan__Residents__SeedDemoRequest req = TASHAN__RESIDENTS__SEED_DEMO_REQUEST__INIT;
    req.seed = 42;
    Tashan__Residents__SeedDemoReply *rep;
    assert_int_equal (s_call (f, "residents.SeedDemo", &f->ops, &req, NULL), 403);
    uint32_t buildings = 0, households = 0, persons = 0, pupils = 0, needs = 0, resources = 0;
    for (uint32_t c = 0; c < 4; c++) {
        req.compound = c;
        assert_int_equal (s_call (f, "residents.SeedDemo", &f->sys, &req, &rep), 201);
        assert_false (rep->already_seeded);
        buildings += rep->buildings;
        households += rep->households;
        persons += rep->persons;
        pupils += rep->pupils;
        needs += rep->needs;
        resources += rep->resources;
    }
    assert_int_equal (buildings, 61);
    assert_int_equal (households, 1075);
    assert_true (persons > 2000);
    assert_true (pupils > 50);
    assert_true (needs > 30);
    assert_true (resources > 30);
    uint64_t head = s_head (f);
    req.compound = 1;
    assert_int_equal (s_call (f, "residents.SeedDemo", &f->sys, &req, &rep), 200);
    assert_true (rep->already_seeded);
    assert_int_equal (s_head (f), head);            //  no second effect
    req.compound = 400;             //  copies 0..99 of the 4 compounds (--scale)
    assert_int_equal (s_call (f, "residents.SeedDemo", &f->sys, &req, NULL), 400);
    assert_int_equal (s_head (f), head);
    //  Compound 4: the second copy of the first compound, its own names.
    req.compound = 4;
    assert_int_equal (s_call (f, "residents.SeedDemo", &f->sys, &req, &rep), 201);
    assert_false (rep->already_seeded);
    assert_int_equal (rep->buildings, 13);
    assert_true (rep->households >= 13 * 17);
    res_household *h = s_get_household (f, "h1", &f->ops);
    char *first_name = ts_arena_strdup (f->arena, h->members [0]->name);
    uint32_t first_year = (uint32_t) h->members [0]->birth_year;

    //  Same seed, fresh store: the same community.
    char dir [64];
    assert_int_equal (test_dir_make (dir, sizeof dir, "residents"), 0);
    char err [256];
    ts_dispatch *other = ts_dispatch_new (&residents_service, dir, err, sizeof err);
    assert_non_null (other);
    ts_dispatch_set_now (other, NOW_MS);
    req.compound = 0;
    ProtobufCMessage *out;
    assert_int_equal (ts_dispatch_call (other, "residents.SeedDemo", &f->sys, &req.base, f->arena,
                                        &out, NULL, 0), 201);
    Tashan__Residents__GetRequest gr = TASHAN__RESIDENTS__GET_REQUEST__INIT;
    gr.id = "h1";
    assert_int_equal (ts_dispatch_call (other, "residents.GetHousehold", &f->ops, &gr.base,
                                        f->arena, &out, NULL, 0), 200);
    res_household *h2 = (res_household *) out;
    assert_string_equal (h2->members [0]->name, first_name);
    assert_int_equal (h2->members [0]->birth_year, first_year);
    ts_dispatch_destroy (&other);
    test_dir_remove (dir);
}

static void
test_restart_keeps_data_and_key (void **state)
{
    fixture *f = *state;
    s_building (f, "12", "G3");
    s_household (f, "12", "王伟", ID_A);
    char path [128];
    snprintf (path, sizeof path, "%s/residents/id_hash.key", f->dir);
    struct stat st;
    assert_int_equal (stat (path, &st), 0);
    assert_int_equal (st.st_mode & 0777, 0600);
    assert_int_equal (st.st_size, 32);
    ts_dispatch_destroy (&f->d);
    char err [256];
    f->d = ts_dispatch_new (&residents_service, f->dir, err, sizeof err);
    assert_non_null (f->d);
    ts_dispatch_set_now (f->d, NOW_MS);
    res_household *h = s_get_household (f, "h1", &f->ops);
    assert_string_equal (h->members [0]->name, "王伟");
    //  The same key: the same number is still recognised.
    res_member_input *m [1] = { s_member (f, "冒名", ID_A, NULL) };
    assert_int_equal (s_household_try (f, "12", m, 1, &h), 409);
    //  A corrupt key file stops the daemon rather than hashing with another key.
    ts_dispatch_destroy (&f->d);
    assert_int_equal (truncate (path, 5), 0);
    assert_null (ts_dispatch_new (&residents_service, f->dir, err, sizeof err));
    assert_non_null (strstr (err, "id_hash.key"));
    f->d = NULL;
}

int
main (void)
{
#define T(name) cmocka_unit_test_setup_teardown (name, s_setup, s_teardown)
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (test_id_number_check_digit),
        cmocka_unit_test (test_phone_mask),
        cmocka_unit_test (test_ids_and_weeks),
        T (test_building_create_and_rules),
        T (test_compounds_and_archiving),
        T (test_list_paging),
        T (test_household_create_contract),
        T (test_household_bad_input_writes_nothing),
        T (test_duplicate_id_number_refused),
        T (test_pupil_number_unique_per_school),
        T (test_school_known_by_its_pupils),
        T (test_phones_masked_but_to_ops),
        T (test_every_read_is_audited),
        T (test_history_versions_who_and_when),
        T (test_person_events_full_state),
        T (test_update_person_replaces_and_keeps_id),
        T (test_move_person_keeps_history),
        T (test_archive_person_releases_id),
        T (test_move_out_household),
        T (test_update_household_moves_grid),
        T (test_need_rules_and_events),
        T (test_resource_rules),
        T (test_matches_ranked_with_reasons),
        T (test_capacity_breaks_ties_by_urgency),
        T (test_assign_books_capacity),
        T (test_closing_a_matched_need_gives_the_booking_back),
        T (test_match_all_batch),
        T (test_seed_demo_deterministic),
        T (test_restart_keeps_data_and_key),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
