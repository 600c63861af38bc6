/*  =========================================================================
    fuzz_gw_json - libFuzzer target for the gateway's JSON transcoder

    Parses arbitrary bytes as a tashan.test.AllTypes body (every field type,
    oneof, maps, recursion). When the parse succeeds, the message must print,
    survive protobuf pack/unpack unchanged, and its printed text must parse
    again and print identically (the printer's output is canonical). Also
    feeds "name=value" inputs to gw_json_set_field_from_string.
    Any failed check aborts, which libFuzzer reports as a crash.
    =========================================================================
*/
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gw_json.h"
#include "testmsg.pb-c.h"

#define CHECK(condition) \
    do { \
        if (!(condition)) { \
            fprintf (stderr, "check failed: %s (line %d)\n", #condition, __LINE__); \
            abort (); \
        } \
    } while (0)

static const ProtobufCMessageDescriptor *s_desc =
    &tashan__test__all_types__descriptor;

//  Print, pack, unpack, print again: the same text both times.
static char *
s_print_via_wire (const ProtobufCMessage *msg)
{
    size_t size = protobuf_c_message_get_packed_size (msg);
    uint8_t *wire = malloc (size? size: 1);
    CHECK (wire);
    CHECK (protobuf_c_message_pack (msg, wire) == size);
    ProtobufCMessage *back = protobuf_c_message_unpack (s_desc, NULL, size, wire);
    CHECK (back);
    char *text = gw_json_print (back);
    CHECK (text);
    protobuf_c_message_free_unpacked (back, NULL);
    free (wire);
    return text;
}

static void
s_fuzz_parse (const uint8_t *data, size_t size)
{
    char err [GW_JSON_ERR_SIZE];
    ProtobufCMessage *msg = gw_json_parse (s_desc, (const char *) data, size,
                                           NULL, err, sizeof (err));
    if (!msg) {
        CHECK (err [0]);            //  every failure says why
        CHECK (strchr (err, '\n') == NULL);
        return;
    }
    char *text = gw_json_print (msg);
    CHECK (text);
    char *wire_text = s_print_via_wire (msg);
    if (strcmp (text, wire_text)) {
        fprintf (stderr, "printed:  %s\nvia wire: %s\n", text, wire_text);
        CHECK (false);
    }
    ProtobufCMessage *again = gw_json_parse (s_desc, text, strlen (text),
                                             NULL, err, sizeof (err));
    if (!again) {
        fprintf (stderr, "printed %s\ndoes not parse: %s\n", text, err);
        CHECK (false);
    }
    char *text_again = gw_json_print (again);
    CHECK (text_again);
    if (strcmp (text, text_again)) {
        fprintf (stderr, "printed:   %s\nreprinted: %s\n", text, text_again);
        CHECK (false);
    }
    free (text_again);
    protobuf_c_message_free_unpacked (again, NULL);
    free (wire_text);
    free (text);
    protobuf_c_message_free_unpacked (msg, NULL);
}

//  "name=value": set that field of a fresh message, twice (replace or
//  append), then print.
static void
s_fuzz_set_field (const uint8_t *data, size_t size)
{
    const uint8_t *equals = memchr (data, '=', size < 64? size: 64);
    if (!equals || memchr (data, 0, size))
        return;
    size_t name_len = (size_t) (equals - data);
    char *name = strndup ((const char *) data, name_len);
    char *value = strndup ((const char *) equals + 1, size - name_len - 1);
    CHECK (name && value);
    Tashan__Test__AllTypes *msg = malloc (sizeof (*msg));
    CHECK (msg);
    tashan__test__all_types__init (msg);
    char err [GW_JSON_ERR_SIZE];
    for (int round = 0; round < 2; round++)
        if (gw_json_set_field_from_string (&msg->base, name, value, NULL, err,
                                           sizeof (err)))
            CHECK (err [0]);
    char *text = gw_json_print (&msg->base);
    CHECK (text);
    ProtobufCMessage *again = gw_json_parse (s_desc, text, strlen (text), NULL,
                                             err, sizeof (err));
    CHECK (again);
    protobuf_c_message_free_unpacked (again, NULL);
    free (text);
    protobuf_c_message_free_unpacked (&msg->base, NULL);
    free (name);
    free (value);
}

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    s_fuzz_parse (data, size);
    s_fuzz_set_field (data, size);
    return 0;
}
