/*  =========================================================================
    gw_json - JSON <-> protobuf transcoder for the gateway

    Generic over any protobuf-c message descriptor: the gateway turns a
    request body (and path and query parameters) into the route's request
    message, and the daemon's reply message into the response body. The
    mapping is proto3 JSON (https://protobuf.dev/programming-guides/json/)
    with these decisions, which are part of the external contract:

    Parsing
    - The body must be a JSON object; an empty or all-whitespace body is {}.
    - Keys are the field name as declared (snake_case) or its lowerCamelCase
      JSON name ("birth_year" or "birthYear"). Unknown keys, a key given
      twice, or one field given under both spellings are errors.
    - Integers: JSON integers, integral JSON reals up to 2^53, or strings
      in canonical decimal ("-12"; no "+", no leading zeros, no "-0"),
      range-checked for the field's type. A uint64 above 2^63-1 must be a
      string (the JSON reader stops at 2^63-1).
    - float/double: numbers, numeric strings, "NaN", "Infinity",
      "-Infinity". A float field rejects finite values beyond float range.
    - bool: true/false only. string: UTF-8, no NUL. bytes: base64, standard
      or URL-safe alphabet, padding optional.
    - Enums: the value's name (case-sensitive) or its number; numbers the
      enum does not declare are errors (the gateway is the strict edge).
    - null for any field leaves its default (repeated/map: empty; message:
      absent; oneof member: the oneof stays unset). null inside an array or
      as a map value is an error. Two members of one oneof are an error.
    - Maps (map<K,V>, i.e. repeated XxxEntry{key=1,value=2} nested in the
      parent) are JSON objects; integer and bool keys are canonical decimal
      and "true"/"false" strings, so distinct keys stay distinct.
    - Limits: JSON nesting (objects and arrays) at most GW_JSON_MAX_DEPTH,
      at most GW_JSON_MAX_ELEMENTS per array or map.
    - Errors are one line naming the field by its path with declared names,
      e.g. "field 'members[2].birth_year': expected an integer".

    Printing (compact, fields in field-number order, declared snake_case
    names; every field printed, zero values included)
    - 64-bit integers print as JSON numbers (friendlier for clients than
      the proto3 strings, which SPEC section 4 allows), except uint64 values
      above 2^63-1, which print as decimal strings so that our own reader
      (and any reader using signed 64-bit integers) takes them back. Clients
      in JavaScript lose precision above 2^53 either way; IDs are strings.
    - float/double print the shortest text that reads back to the same
      value; non-finite values print as "NaN", "Infinity", "-Infinity".
    - bytes print as standard padded base64; enums by name (an undeclared
      number, which can come off the wire, prints as the number).
    - An absent sub-message prints as its defaults (an object with every
      field), so clients never meet null for a message field, except when
      its type is already being printed further out (a recursive type like
      Member.guardian): then it prints null, which keeps the output finite.
    - proto2/proto3-optional fields print always, set or not. A oneof prints
      only its set member, nothing when unset. Maps print as JSON objects.
    - Strings that are not valid UTF-8 (only possible for messages that did
      not come through gw_json_parse) print with U+FFFD for bad bytes.

    Memory: everything a parsed message holds is allocated through the
    given ProtobufCAllocator, one block per string, bytes value, repeated
    array and sub-message, as protobuf_c_message_unpack does; so
    protobuf_c_message_free_unpacked (msg, alloc) frees it all, and an arena
    allocator (free a no-op) works too. Numbers use the C locale (the
    daemons never call setlocale).
    =========================================================================
*/
#ifndef GW_JSON_H
#define GW_JSON_H

#include <stddef.h>
#include <protobuf-c/protobuf-c.h>

#define GW_JSON_MAX_DEPTH 32            //  nested objects + arrays, top = 1
#define GW_JSON_MAX_ELEMENTS 10000      //  per array or map
#define GW_JSON_ERR_SIZE 256            //  enough for any error message

//  Parse JSON text (len bytes, need not be NUL-terminated) into a new
//  message of type desc, allocated with alloc (NULL: malloc/free, so
//  protobuf_c_message_free_unpacked (msg, NULL) frees it). On error returns
//  NULL and writes a one-line message into err (err_size bytes; err may be
//  NULL when err_size is 0).
ProtobufCMessage *
    gw_json_parse (const ProtobufCMessageDescriptor *desc, const char *json,
                   size_t len, ProtobufCAllocator *alloc, char *err,
                   size_t err_size);

//  Set one field of an initialised message from a string (path and query
//  parameters): integers in canonical decimal, floats as numbers or
//  "NaN"/"Infinity"/"-Infinity", bool "true"/"false", enums by name or
//  number, strings (UTF-8), bytes (base64). The field is named as declared
//  or in lowerCamelCase. A repeated field gets value appended; a singular
//  one is replaced (freeing the old value through alloc, so the message's
//  strings, bytes and arrays must be defaults or come from alloc); setting
//  a oneof member clears the member that was set. Message and map fields
//  cannot be set from a string. Returns 0, or -1 with err filled.
int
    gw_json_set_field_from_string (ProtobufCMessage *msg,
                                   const char *field_name, const char *value,
                                   ProtobufCAllocator *alloc, char *err,
                                   size_t err_size);

//  Print a message as compact JSON (see the rules above). Returns a
//  malloc'd NUL-terminated string the caller frees, or NULL on OOM or when
//  the message nests deeper than GW_JSON_MAX_PRINT_DEPTH messages.
char *
    gw_json_print (const ProtobufCMessage *msg);

//  Print into *buf, a malloc'd buffer of *cap bytes the caller keeps
//  across calls (NULL and 0 at first; grown with realloc; the caller
//  frees it), so a busy caller allocates nothing per message. Returns
//  the length of the NUL-terminated text, or -1 (same failures as
//  gw_json_print; *buf stays valid).
long
    gw_json_print_to (const ProtobufCMessage *msg, char **buf, size_t *cap);

#define GW_JSON_MAX_PRINT_DEPTH 64      //  messages nested when printing

#endif
