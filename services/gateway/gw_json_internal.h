/*  =========================================================================
    gw_json_internal - what the parser and the printer of gw_json share
    (not for use outside gw_json_*.c): field slots, descriptor helpers and
    the float narrowing both directions agree on. See gw_json.h for the
    mapping itself.
    =========================================================================
*/
#ifndef GW_JSON_INTERNAL_H
#define GW_JSON_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <protobuf-c/protobuf-c.h>

//  The slot of a field (or its quantifier) inside a message.
#define MEMBER_P(msg, offset) ((void *) ((char *) (msg) + (offset)))
#define CONST_MEMBER_P(msg, offset) ((const void *) ((const char *) (msg) + (offset)))

//  Bytes one element of a repeated field takes, as protobuf-c lays it out.
size_t gw_json__element_size (ProtobufCType type);

//  Does text start with the camelCase of snake ("birth_year" ->
//  "birthYear"; upper_first: "BirthYear")? Returns what follows in text,
//  or NULL.
const char *gw_json__camel_prefix (const char *snake, const char *text, bool upper_first);

//  The entry type when field is a map<K,V> of parent, else NULL.
const ProtobufCMessageDescriptor *
    gw_json__map_entry (const ProtobufCMessageDescriptor *parent,
                        const ProtobufCFieldDescriptor *field);

//  Narrow a double for a float field: 0, or -1 when out of float range.
int gw_json__double_to_float (double value, float *out);

#endif
