/*  =========================================================================
    gw_json_desc - descriptor helpers shared by the parser and the printer:
    repeated element sizes, map detection, float narrowing.
    See gw_json_internal.h.
    =========================================================================
*/
#include "gw_json_internal.h"

#include <assert.h>
#include <float.h>
#include <math.h>
#include <stdbool.h>
#include <string.h>

//  The first double that rounds to infinity as a float (FLT_MAX + half an
//  ulp, ties go to even and FLT_MAX is odd); below it we round to FLT_MAX.
#define FLOAT_OVERFLOW_AT 0x1.ffffffp+127

//  Bytes one element of a repeated field takes, as protobuf-c lays it out.
size_t
gw_json__element_size (ProtobufCType type)
{
    switch (type) {
        case PROTOBUF_C_TYPE_INT32:
        case PROTOBUF_C_TYPE_SINT32:
        case PROTOBUF_C_TYPE_SFIXED32:
        case PROTOBUF_C_TYPE_UINT32:
        case PROTOBUF_C_TYPE_FIXED32:
        case PROTOBUF_C_TYPE_FLOAT:
        case PROTOBUF_C_TYPE_ENUM:
            return 4;
        case PROTOBUF_C_TYPE_INT64:
        case PROTOBUF_C_TYPE_SINT64:
        case PROTOBUF_C_TYPE_SFIXED64:
        case PROTOBUF_C_TYPE_UINT64:
        case PROTOBUF_C_TYPE_FIXED64:
        case PROTOBUF_C_TYPE_DOUBLE:
            return 8;
        case PROTOBUF_C_TYPE_BOOL:
            return sizeof (protobuf_c_boolean);
        case PROTOBUF_C_TYPE_STRING:
            return sizeof (char *);
        case PROTOBUF_C_TYPE_BYTES:
            return sizeof (ProtobufCBinaryData);
        case PROTOBUF_C_TYPE_MESSAGE:
            return sizeof (ProtobufCMessage *);
    }
    assert (false);
    return 0;
}

const char *
gw_json__camel_prefix (const char *snake, const char *text, bool upper_first)
{
    bool upper_next = upper_first;
    for (; *snake; snake++) {
        if (*snake == '_') {
            upper_next = true;
            continue;
        }
        char c = *snake;
        if (upper_next && c >= 'a' && c <= 'z')
            c = (char) (c - 'a' + 'A');
        upper_next = false;
        if (*text++ != c)
            return NULL;
    }
    return text;
}

//  protobuf-c 1.4 has no map flag: a map<K,V> field is a repeated message
//  of a type protoc synthesises, nested in the parent, named after the
//  field in UpperCamel plus "Entry", with key = 1 and value = 2. protoc
//  refuses a hand-written message of that name next to the map, so this
//  test cannot mistake an ordinary field for a map. Returns the entry type.
const ProtobufCMessageDescriptor *
gw_json__map_entry (const ProtobufCMessageDescriptor *parent,
             const ProtobufCFieldDescriptor *field)
{
    if (field->label != PROTOBUF_C_LABEL_REPEATED
    ||  field->type != PROTOBUF_C_TYPE_MESSAGE)
        return NULL;
    const ProtobufCMessageDescriptor *entry = field->descriptor;
    if (entry->n_fields != 2
    ||  entry->fields [0].id != 1 || strcmp (entry->fields [0].name, "key")
    ||  entry->fields [1].id != 2 || strcmp (entry->fields [1].name, "value")
    ||  entry->fields [0].label == PROTOBUF_C_LABEL_REPEATED
    ||  entry->fields [1].label == PROTOBUF_C_LABEL_REPEATED)
        return NULL;

    //  Full name must be "<parent full name>.<short name>"
    size_t parent_len = strlen (parent->name);
    if (strncmp (entry->name, parent->name, parent_len)
    ||  entry->name [parent_len] != '.'
    ||  strcmp (entry->name + parent_len + 1, entry->short_name))
        return NULL;

    //  Short name must be UpperCamel (field name) + "Entry"
    const char *rest = gw_json__camel_prefix (field->name, entry->short_name, true);
    return rest && strcmp (rest, "Entry") == 0? entry: NULL;
}

//  Narrow a double for a float field. Values just past FLT_MAX round to it;
//  beyond that it is an error, never a silent infinity. We never convert
//  an out-of-range double to float, which C leaves undefined.
int
gw_json__double_to_float (double value, float *out)
{
    if (isfinite (value) && fabs (value) > FLT_MAX) {
        if (fabs (value) >= FLOAT_OVERFLOW_AT)
            return -1;
        *out = value > 0? FLT_MAX: -FLT_MAX;
        return 0;
    }
    *out = (float) value;
    return 0;
}
