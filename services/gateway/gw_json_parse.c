/*  =========================================================================
    gw_json_parse - JSON (and path/query strings) into protobuf messages:
    gw_json_parse and gw_json_set_field_from_string of gw_json.h

    Parsing reads the text with jansson (strict: duplicate keys, NUL in
    strings, trailing garbage and bad UTF-8 are all rejected there) and then
    walks the JSON tree and the message descriptor side by side. (Printing,
    in gw_json_print.c, does not use jansson.)

    A partly built message is always consistent for free_unpacked: every
    pointer is a default or a block from the allocator, repeated counts
    cover only filled elements and a oneof case is set only once its member
    holds a value. So any error simply frees the top message.
    =========================================================================
*/
#include "gw_json.h"
#include "gw_json_internal.h"

#include <assert.h>
#include <errno.h>
#include <float.h>
#include <inttypes.h>
#include <jansson.h>
#include <sodium.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include "ts_valid.h"

#define PATH_MAX_BYTES 160              //  longer paths end with "..."
#define MAX_EXACT_REAL 9007199254740992.0   //  2^53: reals exact up to here

//  --------------------------------------------------------------------------
//  Default allocator: plain malloc/free, which is also what protobuf-c's
//  own default uses, so free_unpacked (msg, NULL) releases our blocks.

static void *
s_sys_alloc (void *allocator_data, size_t size_bytes)
{
    (void) allocator_data;
    return malloc (size_bytes);
}

static void
s_sys_free (void *allocator_data, void *pointer)
{
    (void) allocator_data;
    free (pointer);
}

static ProtobufCAllocator s_sys_allocator = {
    .alloc = s_sys_alloc, .free = s_sys_free, .allocator_data = NULL
};


//  --------------------------------------------------------------------------
//  Parser state: the allocator, where errors go, and the path of the field
//  being read ("members[2].birth_year") for error messages.

typedef struct {
    ProtobufCAllocator *alloc;          //  every block of the message
    char *err;                          //  caller's error buffer, or NULL
    size_t err_size;                    //  its size in bytes
    bool failed;                        //  an error has been written
    char path [PATH_MAX_BYTES];         //  field path, NUL-terminated
    size_t path_len;                    //  strlen (path)
} parser_t;

static void
s_parser_init (parser_t *self, ProtobufCAllocator *alloc, char *err,
               size_t err_size)
{
    assert (err || err_size == 0);
    memset (self, 0, sizeof (*self));
    self->alloc = alloc? alloc: &s_sys_allocator;
    self->err = err;
    self->err_size = err_size;
    if (err && err_size > 0)
        err [0] = 0;
}

//  Error messages end up in JSON replies and logs: keep them one line and
//  valid UTF-8 whatever the client sent (keys, jansson's "near '...'").
//  Control characters and bytes that are not part of a complete UTF-8
//  sequence (including one cut by truncation) become '?'.

static void
s_sanitize (char *text)
{
    unsigned char *s = (unsigned char *) text;
    size_t len = strlen (text);
    size_t i = 0;
    while (i < len) {
        if (s [i] < 0x80) {
            if (s [i] < 0x20 || s [i] == 0x7f)
                s [i] = '?';
            i++;
        }
        else {
            size_t n = ts_utf8_sequence_len (s + i, len - i);
            if (n == 0) {
                s [i] = '?';
                i++;
            }
            else
                i += n;
        }
    }
}

//  Record an error: "field '<path>': <text>", or just <text> at the top.
//  Only the first error counts: it is the innermost one, the real cause.
static void
s_fail (parser_t *self, const char *format, ...)
    __attribute__ ((format (printf, 2, 3)));

static void
s_fail (parser_t *self, const char *format, ...)
{
    if (self->failed)
        return;
    self->failed = true;
    if (!self->err || self->err_size == 0)
        return;
    char text [GW_JSON_ERR_SIZE];
    va_list args;
    va_start (args, format);
    vsnprintf (text, sizeof (text), format, args);
    va_end (args);
    if (self->path_len > 0)
        snprintf (self->err, self->err_size, "field '%s': %s", self->path, text);
    else
        snprintf (self->err, self->err_size, "%s", text);
    s_sanitize (self->err);
}

//  Unknown fields are reported by name first, as clients look for that.
//  The name may be empty: {"": 1} is valid JSON.
static void
s_fail_unknown_field (parser_t *self)
{
    if (self->failed)
        return;
    self->failed = true;
    if (!self->err || self->err_size == 0)
        return;
    snprintf (self->err, self->err_size, "unknown field '%s'", self->path);
    s_sanitize (self->err);
}

//  Append to the path; returns the previous length, for s_path_pop.
static size_t
s_path_push (parser_t *self, const char *format, ...)
    __attribute__ ((format (printf, 2, 3)));

static size_t
s_path_push (parser_t *self, const char *format, ...)
{
    size_t mark = self->path_len;
    assert (mark < sizeof (self->path));
    size_t room = sizeof (self->path) - mark;
    va_list args;
    va_start (args, format);
    int written = vsnprintf (self->path + mark, room, format, args);
    va_end (args);
    if (written < 0 || (size_t) written >= room) {
        //  Too long to name in full: end with "..." so nobody takes the
        //  cut name for the real one.
        memcpy (self->path + sizeof (self->path) - 4, "...", 4);
        self->path_len = sizeof (self->path) - 1;
    }
    else
        self->path_len = mark + (size_t) written;
    return mark;
}

static size_t
s_path_push_field (parser_t *self, const char *name)
{
    return s_path_push (self, self->path_len? ".%s": "%s", name);
}

static void
s_path_pop (parser_t *self, size_t mark)
{
    assert (mark <= self->path_len);
    self->path_len = mark;
    self->path [mark] = 0;
}

//  Every block goes through the caller's allocator; zero-size requests
//  become one byte as malloc (0) may legally return NULL.
static void *
s_alloc (parser_t *self, size_t size_bytes)
{
    void *block = self->alloc->alloc (self->alloc->allocator_data,
                                      size_bytes? size_bytes: 1);
    if (!block) {
        //  Not the client's fault, so no field named: drop the path (the
        //  parse stops here, nobody pops it)
        self->path_len = 0;
        self->path [0] = 0;
        s_fail (self, "out of memory");
    }
    return block;
}

static void
s_free (ProtobufCAllocator *alloc, void *block)
{
    if (block)
        alloc->free (alloc->allocator_data, block);
}


//  --------------------------------------------------------------------------
//  Descriptor helpers

static const char *
s_type_name (ProtobufCType type)
{
    switch (type) {
        case PROTOBUF_C_TYPE_INT32: return "int32";
        case PROTOBUF_C_TYPE_SINT32: return "sint32";
        case PROTOBUF_C_TYPE_SFIXED32: return "sfixed32";
        case PROTOBUF_C_TYPE_UINT32: return "uint32";
        case PROTOBUF_C_TYPE_FIXED32: return "fixed32";
        case PROTOBUF_C_TYPE_INT64: return "int64";
        case PROTOBUF_C_TYPE_SINT64: return "sint64";
        case PROTOBUF_C_TYPE_SFIXED64: return "sfixed64";
        case PROTOBUF_C_TYPE_UINT64: return "uint64";
        case PROTOBUF_C_TYPE_FIXED64: return "fixed64";
        case PROTOBUF_C_TYPE_FLOAT: return "float";
        case PROTOBUF_C_TYPE_DOUBLE: return "double";
        case PROTOBUF_C_TYPE_BOOL: return "bool";
        case PROTOBUF_C_TYPE_ENUM: return "enum";
        case PROTOBUF_C_TYPE_STRING: return "string";
        case PROTOBUF_C_TYPE_BYTES: return "bytes";
        case PROTOBUF_C_TYPE_MESSAGE: return "message";
    }
    return "?";
}

//  proto2 and proto3-optional scalars carry a has_ flag at the quantifier
//  offset; strings and messages show presence by their pointer instead,
//  and a oneof member's quantifier is the oneof's case.
static bool
s_has_presence_flag (const ProtobufCFieldDescriptor *field)
{
    return field->label == PROTOBUF_C_LABEL_OPTIONAL
        && !(field->flags & PROTOBUF_C_FIELD_FLAG_ONEOF)
        && field->type != PROTOBUF_C_TYPE_STRING
        && field->type != PROTOBUF_C_TYPE_MESSAGE;
}

//  Does name (snake_case) turn into key under protobuf's JSON naming?
//  "birth_year" -> "birthYear": drop each '_' and upper-case what follows.
static bool
s_json_name_equals (const char *name, const char *key)
{
    const char *rest = gw_json__camel_prefix (name, key, false);
    return rest && *rest == 0;
}

static const ProtobufCFieldDescriptor *
s_find_field (const ProtobufCMessageDescriptor *desc, const char *key)
{
    const ProtobufCFieldDescriptor *field =
        protobuf_c_message_descriptor_get_field_by_name (desc, key);
    if (field)
        return field;
    for (unsigned index = 0; index < desc->n_fields; index++)
        if (s_json_name_equals (desc->fields [index].name, key))
            return &desc->fields [index];
    return NULL;
}


//  --------------------------------------------------------------------------
//  Text checks and conversions shared by JSON values, map keys and the
//  strings of path and query parameters.

//  An integer as sign and magnitude: holds every int64 and uint64 value.
typedef struct {
    bool negative;                      //  never true with magnitude 0
    uint64_t magnitude;                 //  absolute value
} s_integer_t;

//  Canonical decimal: -?(0|[1-9][0-9]*) but not "-0", at most UINT64_MAX
//  in magnitude. One spelling per value keeps map keys distinct. Returns
//  0, -1 when not an integer, -2 when too large.
static int
s_decimal_parse (const char *text, size_t len, s_integer_t *out)
{
    size_t index = 0;
    out->negative = false;
    out->magnitude = 0;
    if (index < len && text [index] == '-') {
        out->negative = true;
        index++;
    }
    if (index == len)
        return -1;
    if (text [index] == '0' && (len - index > 1 || out->negative))
        return -1;
    for (; index < len; index++) {
        if (text [index] < '0' || text [index] > '9')
            return -1;
        unsigned digit = (unsigned) (text [index] - '0');
        if (out->magnitude > (UINT64_MAX - digit) / 10)
            return -2;
        out->magnitude = out->magnitude * 10 + digit;
    }
    return 0;
}

//  Is text a JSON number: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
//  strtod alone would also take " 1", "0x1p3", "inf" and "nan(...)".
static bool
s_is_json_number (const char *text, size_t len)
{
    size_t index = 0;
    if (index < len && text [index] == '-')
        index++;
    if (index < len && text [index] == '0')
        index++;
    else {
        if (index == len || text [index] < '1' || text [index] > '9')
            return false;
        while (index < len && text [index] >= '0' && text [index] <= '9')
            index++;
    }
    if (index < len && text [index] == '.') {
        index++;
        if (index == len || text [index] < '0' || text [index] > '9')
            return false;
        while (index < len && text [index] >= '0' && text [index] <= '9')
            index++;
    }
    if (index < len && (text [index] == 'e' || text [index] == 'E')) {
        index++;
        if (index < len && (text [index] == '+' || text [index] == '-'))
            index++;
        if (index == len || text [index] < '0' || text [index] > '9')
            return false;
        while (index < len && text [index] >= '0' && text [index] <= '9')
            index++;
    }
    return index == len;
}

//  Decode base64 with libsodium: standard or URL-safe alphabet (either,
//  even mixed: '-' and '_' are read as '+' and '/'), padding optional but
//  complete when present. out must hold len / 4 * 3 + 2 bytes. Returns
//  the decoded length or -1.
static ssize_t
s_base64_decode (const char *text, size_t len, uint8_t *out)
{
    char *standard = malloc (len + 1);
    if (!standard)
        return -1;
    for (size_t index = 0; index < len; index++)
        standard [index] = text [index] == '-' ? '+' : text [index] == '_' ? '/' : text [index];
    bool padded = len > 0 && text [len - 1] == '=';
    size_t out_len = 0;
    int rc = sodium_base642bin (out, len / 4 * 3 + 2, standard, len, NULL, &out_len, NULL,
                                padded ? sodium_base64_VARIANT_ORIGINAL
                                       : sodium_base64_VARIANT_ORIGINAL_NO_PADDING);
    free (standard);
    return rc == 0 ? (ssize_t) out_len : -1;
}


//  --------------------------------------------------------------------------
//  Storing one value into a field's slot (a singular field, an array
//  element, a map key or value). The slot holds a default on entry: these
//  never free what was there.

//  Check an integer against the field type's range and store it.
static int
s_store_integer (parser_t *self, const ProtobufCFieldDescriptor *field,
                 s_integer_t value, void *slot)
{
    int64_t min = 0;
    uint64_t max = 0;
    switch (field->type) {
        case PROTOBUF_C_TYPE_INT32:
        case PROTOBUF_C_TYPE_SINT32:
        case PROTOBUF_C_TYPE_SFIXED32:
            min = INT32_MIN;
            max = INT32_MAX;
            break;
        case PROTOBUF_C_TYPE_UINT32:
        case PROTOBUF_C_TYPE_FIXED32:
            max = UINT32_MAX;
            break;
        case PROTOBUF_C_TYPE_INT64:
        case PROTOBUF_C_TYPE_SINT64:
        case PROTOBUF_C_TYPE_SFIXED64:
            min = INT64_MIN;
            max = INT64_MAX;
            break;
        case PROTOBUF_C_TYPE_UINT64:
        case PROTOBUF_C_TYPE_FIXED64:
            max = UINT64_MAX;
            break;
        default:
            assert (false);
    }
    //  -(min + 1) + 1 is |min| without overflowing int64
    uint64_t max_negative = min < 0? (uint64_t) (-(min + 1)) + 1: 0;
    if (value.negative? value.magnitude > max_negative
                      : value.magnitude > max) {
        s_fail (self, "value out of range for %s", s_type_name (field->type));
        return -1;
    }
    int64_t as_signed = value.negative
                      ? -(int64_t) (value.magnitude - 1) - 1
                      : (int64_t) value.magnitude;
    switch (field->type) {
        case PROTOBUF_C_TYPE_INT32:
        case PROTOBUF_C_TYPE_SINT32:
        case PROTOBUF_C_TYPE_SFIXED32:
            *(int32_t *) slot = (int32_t) as_signed;
            break;
        case PROTOBUF_C_TYPE_UINT32:
        case PROTOBUF_C_TYPE_FIXED32:
            *(uint32_t *) slot = (uint32_t) value.magnitude;
            break;
        case PROTOBUF_C_TYPE_INT64:
        case PROTOBUF_C_TYPE_SINT64:
        case PROTOBUF_C_TYPE_SFIXED64:
            *(int64_t *) slot = as_signed;
            break;
        default:
            *(uint64_t *) slot = value.magnitude;
    }
    return 0;
}

static int
s_store_double (parser_t *self, const ProtobufCFieldDescriptor *field,
                double value, void *slot)
{
    if (field->type == PROTOBUF_C_TYPE_DOUBLE) {
        *(double *) slot = value;
        return 0;
    }
    assert (field->type == PROTOBUF_C_TYPE_FLOAT);
    if (gw_json__double_to_float (value, (float *) slot)) {
        s_fail (self, "value out of range for float");
        return -1;
    }
    return 0;
}

static int
s_store_enum (parser_t *self, const ProtobufCFieldDescriptor *field,
              const ProtobufCEnumValue *value, void *slot)
{
    if (!value) {
        const ProtobufCEnumDescriptor *enum_desc = field->descriptor;
        s_fail (self, "not a value of enum %s", enum_desc->name);
        return -1;
    }
    *(int *) slot = value->value;
    return 0;
}

//  Text to an integer field: canonical decimal, range-checked.
static int
s_text_integer (parser_t *self, const ProtobufCFieldDescriptor *field,
                const char *text, size_t len, void *slot)
{
    s_integer_t value;
    int rc = s_decimal_parse (text, len, &value);
    if (rc == -2) {
        s_fail (self, "value out of range for %s", s_type_name (field->type));
        return -1;
    }
    if (rc) {
        s_fail (self, "expected an integer");
        return -1;
    }
    return s_store_integer (self, field, value, slot);
}

//  Text to a float or double field: a JSON number, "NaN", "Infinity" or
//  "-Infinity".
static int
s_text_double (parser_t *self, const ProtobufCFieldDescriptor *field,
               const char *text, size_t len, void *slot)
{
    double value;
    if (len == 3 && memcmp (text, "NaN", 3) == 0)
        value = NAN;
    else
    if (len == 8 && memcmp (text, "Infinity", 8) == 0)
        value = INFINITY;
    else
    if (len == 9 && memcmp (text, "-Infinity", 9) == 0)
        value = -INFINITY;
    else
    if (s_is_json_number (text, len)) {
        //  text ends at len (see s_store_from_text) and the grammar leaves
        //  strtod no room to read less or more
        errno = 0;
        value = strtod (text, NULL);
        if (errno == ERANGE && isinf (value)) {
            s_fail (self, "value out of range for %s", s_type_name (field->type));
            return -1;
        }
    }
    else {
        s_fail (self, "expected a number");
        return -1;
    }
    return s_store_double (self, field, value, slot);
}

//  Text to a bool field: "true" or "false".
static int
s_text_bool (parser_t *self, const char *text, size_t len, void *slot)
{
    if (len == 4 && memcmp (text, "true", 4) == 0)
        *(protobuf_c_boolean *) slot = 1;
    else
    if (len == 5 && memcmp (text, "false", 5) == 0)
        *(protobuf_c_boolean *) slot = 0;
    else {
        s_fail (self, "expected true or false");
        return -1;
    }
    return 0;
}

//  Text to an enum field: a value's name, or its number.
static int
s_text_enum (parser_t *self, const ProtobufCFieldDescriptor *field,
             const char *text, size_t len, void *slot)
{
    const ProtobufCEnumDescriptor *enum_desc = field->descriptor;
    const ProtobufCEnumValue *value = NULL;
    s_integer_t number;
    if (memchr (text, 0, len) == NULL)
        value = protobuf_c_enum_descriptor_get_value_by_name (enum_desc, text);
    if (!value && s_decimal_parse (text, len, &number) == 0
    &&  number.magnitude <= INT32_MAX) {
        int as_int = number.negative? -(int) number.magnitude: (int) number.magnitude;
        value = protobuf_c_enum_descriptor_get_value (enum_desc, as_int);
    }
    return s_store_enum (self, field, value, slot);
}

//  Text to a string field: UTF-8 without NUL, copied.
static int
s_text_string (parser_t *self, const char *text, size_t len, void *slot)
{
    //  jansson checked JSON strings already; parameters it did not
    if (!ts_utf8_valid (text, len) || memchr (text, 0, len)) {
        s_fail (self, "expected a UTF-8 string without NUL");
        return -1;
    }
    //  Always a block of our own, even for "": free_unpacked frees
    //  every element of a repeated string field unconditionally.
    char *copy = s_alloc (self, len + 1);
    if (!copy)
        return -1;
    memcpy (copy, text, len);
    copy [len] = 0;
    *(char **) slot = copy;
    return 0;
}

//  Text to a bytes field: base64, decoded into a block of our own.
static int
s_text_bytes (parser_t *self, const char *text, size_t len, void *slot)
{
    ProtobufCBinaryData *binary = slot;
    if (len == 0) {
        binary->len = 0;
        binary->data = NULL;
        return 0;
    }
    uint8_t *data = s_alloc (self, len / 4 * 3 + 2);
    if (!data)
        return -1;
    ssize_t data_len = s_base64_decode (text, len, data);
    if (data_len < 0) {
        s_free (self->alloc, data);
        s_fail (self, "expected base64");
        return -1;
    }
    if (data_len == 0) {        //  "=" and the like
        s_free (self->alloc, data);
        data = NULL;
    }
    binary->len = (size_t) data_len;
    binary->data = data;
    return 0;
}

//  Convert text to the field's type: the reading of path and query
//  parameters, map keys, and JSON strings given for any type. Every caller
//  has a NUL at text [len] (C strings, jansson strings and keys).
static int
s_store_from_text (parser_t *self, const ProtobufCFieldDescriptor *field,
                   const char *text, size_t len, void *slot)
{
    assert (text [len] == 0);
    switch (field->type) {
        case PROTOBUF_C_TYPE_INT32:
        case PROTOBUF_C_TYPE_SINT32:
        case PROTOBUF_C_TYPE_SFIXED32:
        case PROTOBUF_C_TYPE_UINT32:
        case PROTOBUF_C_TYPE_FIXED32:
        case PROTOBUF_C_TYPE_INT64:
        case PROTOBUF_C_TYPE_SINT64:
        case PROTOBUF_C_TYPE_SFIXED64:
        case PROTOBUF_C_TYPE_UINT64:
        case PROTOBUF_C_TYPE_FIXED64:
            return s_text_integer (self, field, text, len, slot);
        case PROTOBUF_C_TYPE_FLOAT:
        case PROTOBUF_C_TYPE_DOUBLE:
            return s_text_double (self, field, text, len, slot);
        case PROTOBUF_C_TYPE_BOOL:
            return s_text_bool (self, text, len, slot);
        case PROTOBUF_C_TYPE_ENUM:
            return s_text_enum (self, field, text, len, slot);
        case PROTOBUF_C_TYPE_STRING:
            return s_text_string (self, text, len, slot);
        case PROTOBUF_C_TYPE_BYTES:
            return s_text_bytes (self, text, len, slot);
        case PROTOBUF_C_TYPE_MESSAGE:
            s_fail (self, "a message cannot be given as a string");
            return -1;
    }
    assert (false);
    return -1;
}

static ProtobufCMessage *
    s_parse_message (parser_t *self, const ProtobufCMessageDescriptor *desc,
                     json_t *object, int depth);

//  A JSON number to an integer field: an integer, or an integral real
//  up to 2^53, range-checked.
static int
s_json_integer (parser_t *self, const ProtobufCFieldDescriptor *field,
                json_t *value, void *slot)
{
    s_integer_t number;
    if (json_is_integer (value)) {
        json_int_t as_int = json_integer_value (value);
        number.negative = as_int < 0;
        number.magnitude = as_int < 0
                         ? (uint64_t) (-(as_int + 1)) + 1
                         : (uint64_t) as_int;
    }
    else
    if (json_is_real (value)) {
        //  1e3 or 5.0 are integers too, if exact; past 2^53 the
        //  text was already rounded by the reader, so refuse it.
        double real = json_real_value (value);
        if (real != trunc (real) || fabs (real) > MAX_EXACT_REAL) {
            s_fail (self, "expected an integer");
            return -1;
        }
        number.negative = real < 0;
        number.magnitude = (uint64_t) fabs (real);
        if (number.magnitude == 0)
            number.negative = false;
    }
    else {
        s_fail (self, "expected an integer");
        return -1;
    }
    return s_store_integer (self, field, number, slot);
}

//  Convert one non-null JSON value to the field's type and store it.
//  depth is the JSON depth of the container holding value.
static int
s_store_from_json (parser_t *self, const ProtobufCFieldDescriptor *field,
                   json_t *value, void *slot, int depth)
{
    assert (!json_is_null (value));
    //  A JSON string means the same as a parameter's text, except that
    //  proto3 JSON wants real true/false for bools
    if (json_is_string (value)
    &&  field->type != PROTOBUF_C_TYPE_MESSAGE
    &&  field->type != PROTOBUF_C_TYPE_BOOL)
        return s_store_from_text (self, field, json_string_value (value),
                                  json_string_length (value), slot);

    switch (field->type) {
        case PROTOBUF_C_TYPE_INT32:
        case PROTOBUF_C_TYPE_SINT32:
        case PROTOBUF_C_TYPE_SFIXED32:
        case PROTOBUF_C_TYPE_UINT32:
        case PROTOBUF_C_TYPE_FIXED32:
        case PROTOBUF_C_TYPE_INT64:
        case PROTOBUF_C_TYPE_SINT64:
        case PROTOBUF_C_TYPE_SFIXED64:
        case PROTOBUF_C_TYPE_UINT64:
        case PROTOBUF_C_TYPE_FIXED64:
            return s_json_integer (self, field, value, slot);
        case PROTOBUF_C_TYPE_FLOAT:
        case PROTOBUF_C_TYPE_DOUBLE:
            if (!json_is_number (value)) {
                s_fail (self, "expected a number");
                return -1;
            }
            return s_store_double (self, field, json_number_value (value),
                                   slot);
        case PROTOBUF_C_TYPE_BOOL:
            if (!json_is_boolean (value)) {
                s_fail (self, "expected true or false");
                return -1;
            }
            *(protobuf_c_boolean *) slot = json_is_true (value);
            return 0;
        case PROTOBUF_C_TYPE_ENUM: {
            if (!json_is_integer (value)) {
                s_fail (self, "expected an enum name or number");
                return -1;
            }
            json_int_t number = json_integer_value (value);
            const ProtobufCEnumValue *enum_value = NULL;
            if (number >= INT32_MIN && number <= INT32_MAX)
                enum_value = protobuf_c_enum_descriptor_get_value (
                    field->descriptor, (int) number);
            return s_store_enum (self, field, enum_value, slot);
        }
        case PROTOBUF_C_TYPE_STRING:
            s_fail (self, "expected a string");
            return -1;
        case PROTOBUF_C_TYPE_BYTES:
            s_fail (self, "expected a base64 string");
            return -1;
        case PROTOBUF_C_TYPE_MESSAGE: {
            ProtobufCMessage *sub = s_parse_message (self, field->descriptor,
                                                     value, depth + 1);
            if (!sub)
                return -1;
            *(ProtobufCMessage **) slot = sub;
            return 0;
        }
    }
    assert (false);
    return -1;
}


//  --------------------------------------------------------------------------
//  Fields: singular, repeated (JSON array) and map (JSON object)

static int
s_parse_repeated (parser_t *self, ProtobufCMessage *msg,
                  const ProtobufCFieldDescriptor *field, json_t *array,
                  int depth)
{
    if (!json_is_array (array)) {
        s_fail (self, "expected an array");
        return -1;
    }
    size_t count = json_array_size (array);
    if (count > GW_JSON_MAX_ELEMENTS) {
        s_fail (self, "more than %d elements", GW_JSON_MAX_ELEMENTS);
        return -1;
    }
    if (count == 0)
        return 0;
    size_t element_size = gw_json__element_size (field->type);
    char *elements = s_alloc (self, count * element_size);
    if (!elements)
        return -1;
    memset (elements, 0, count * element_size);

    //  Hand the array to the message now, counting only filled elements,
    //  so an error part way leaves free_unpacked a consistent message.
    size_t *count_p = MEMBER_P (msg, field->quantifier_offset);
    *count_p = 0;
    *(void **) MEMBER_P (msg, field->offset) = elements;

    for (size_t index = 0; index < count; index++) {
        json_t *item = json_array_get (array, index);
        size_t mark = s_path_push (self, "[%zu]", index);
        if (json_is_null (item)) {
            s_fail (self, "null is not allowed in an array");
            return -1;
        }
        if (s_store_from_json (self, field, item,
                               elements + index * element_size, depth + 1))
            return -1;
        s_path_pop (self, mark);
        (*count_p)++;
    }
    assert (*count_p == count);
    return 0;
}

static int
s_parse_map (parser_t *self, ProtobufCMessage *msg,
             const ProtobufCFieldDescriptor *field,
             const ProtobufCMessageDescriptor *entry_desc, json_t *object,
             int depth)
{
    if (!json_is_object (object)) {
        s_fail (self, "expected an object");
        return -1;
    }
    size_t count = json_object_size (object);
    if (count > GW_JSON_MAX_ELEMENTS) {
        s_fail (self, "more than %d entries", GW_JSON_MAX_ELEMENTS);
        return -1;
    }
    if (count == 0)
        return 0;
    ProtobufCMessage **entries = s_alloc (self, count * sizeof (*entries));
    if (!entries)
        return -1;
    memset (entries, 0, count * sizeof (*entries));
    size_t *count_p = MEMBER_P (msg, field->quantifier_offset);
    *count_p = 0;
    *(void **) MEMBER_P (msg, field->offset) = entries;

    const ProtobufCFieldDescriptor *key_field = &entry_desc->fields [0];
    const ProtobufCFieldDescriptor *value_field = &entry_desc->fields [1];
    const char *key;
    json_t *value;
    json_object_foreach (object, key, value) {
        assert (*count_p < count);
        size_t mark = s_path_push (self, "[\"%s\"]", key);
        if (json_is_null (value)) {
            s_fail (self, "null is not allowed as a map value");
            return -1;
        }
        ProtobufCMessage *entry = s_alloc (self, entry_desc->sizeof_message);
        if (!entry)
            return -1;
        protobuf_c_message_init (entry_desc, entry);
        entries [(*count_p)++] = entry;
        if (s_store_from_text (self, key_field, key, strlen (key),
                               MEMBER_P (entry, key_field->offset))
        ||  s_store_from_json (self, value_field, value,
                               MEMBER_P (entry, value_field->offset),
                               depth + 1))
            return -1;
        s_path_pop (self, mark);
    }
    return 0;
}

//  Read one JSON member into its field. The path names the field already.
static int
s_parse_field (parser_t *self, ProtobufCMessage *msg,
               const ProtobufCFieldDescriptor *field, json_t *value,
               int depth)
{
    if (json_is_null (value))
        return 0;                       //  the default stays
    if (field->label == PROTOBUF_C_LABEL_REPEATED) {
        const ProtobufCMessageDescriptor *entry_desc =
            gw_json__map_entry (msg->descriptor, field);
        if (entry_desc)
            return s_parse_map (self, msg, field, entry_desc, value, depth);
        return s_parse_repeated (self, msg, field, value, depth);
    }
    void *slot = MEMBER_P (msg, field->offset);
    if (field->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) {
        uint32_t *case_p = MEMBER_P (msg, field->quantifier_offset);
        if (*case_p != 0) {
            assert (*case_p != field->id);  //  duplicates are caught before
            const ProtobufCFieldDescriptor *other =
                protobuf_c_message_descriptor_get_field (msg->descriptor,
                                                         *case_p);
            s_fail (self, "its oneof is already set by '%s'",
                    other? other->name: "?");
            return -1;
        }
        if (s_store_from_json (self, field, value, slot, depth))
            return -1;
        *case_p = field->id;            //  only now: free_unpacked reads it
        return 0;
    }
    if (s_store_from_json (self, field, value, slot, depth))
        return -1;
    if (s_has_presence_flag (field))
        *(protobuf_c_boolean *) MEMBER_P (msg, field->quantifier_offset) = 1;
    return 0;
}

//  Build a message from a JSON object at JSON depth `depth` (top = 1).
static ProtobufCMessage *
s_parse_message (parser_t *self, const ProtobufCMessageDescriptor *desc,
                 json_t *object, int depth)
{
    assert (desc->magic == PROTOBUF_C__MESSAGE_DESCRIPTOR_MAGIC);
    //  The text was checked for depth before jansson read it; this stays
    //  as the walker's own bound.
    if (depth > GW_JSON_MAX_DEPTH) {
        s_fail (self, "nested deeper than %d levels", GW_JSON_MAX_DEPTH);
        return NULL;
    }
    if (!json_is_object (object)) {
        s_fail (self, "expected an object");
        return NULL;
    }
    ProtobufCMessage *msg = s_alloc (self, desc->sizeof_message);
    if (!msg)
        return NULL;
    protobuf_c_message_init (desc, msg);

    //  Which fields were given: "birth_year" and "birthYear" in one object
    //  are different keys to jansson but the same field to us.
    uint8_t seen_small [64];
    uint8_t *seen = seen_small;
    size_t seen_bytes = (desc->n_fields + 7) / 8;
    if (seen_bytes > sizeof (seen_small)) {
        seen = calloc (seen_bytes, 1);
        if (!seen) {
            s_fail (self, "out of memory");
            protobuf_c_message_free_unpacked (msg, self->alloc);
            return NULL;
        }
    }
    else
        memset (seen_small, 0, sizeof (seen_small));

    const char *key;
    json_t *value;
    json_object_foreach (object, key, value) {
        const ProtobufCFieldDescriptor *field = s_find_field (desc, key);
        if (!field) {
            s_path_push_field (self, key);
            s_fail_unknown_field (self);
            goto failed;
        }
        size_t mark = s_path_push_field (self, field->name);
        size_t index = (size_t) (field - desc->fields);
        assert (index < desc->n_fields);
        if (seen [index / 8] & (1u << (index % 8))) {
            s_fail (self, "given twice (as '%s' and as '%s')",
                    field->name, key);
            goto failed;
        }
        seen [index / 8] |= (uint8_t) (1u << (index % 8));
        if (s_parse_field (self, msg, field, value, depth))
            goto failed;
        s_path_pop (self, mark);
    }
    if (seen != seen_small)
        free (seen);
    return msg;

failed:
    assert (self->failed);
    if (seen != seen_small)
        free (seen);
    protobuf_c_message_free_unpacked (msg, self->alloc);
    return NULL;
}

//  Is the text nested deeper than max_depth (objects and arrays)? Checked
//  before jansson reads it, so a hostile body cannot make it build (and
//  recurse over) a deep tree. Brackets inside strings do not count.
static bool
s_too_deep (const char *json, size_t len, int max_depth)
{
    int depth = 0;
    bool in_string = false;
    for (size_t index = 0; index < len; index++) {
        char c = json [index];
        if (in_string) {
            if (c == '\\')
                index++;                //  skip the escaped character
            else
            if (c == '"')
                in_string = false;
        }
        else
        if (c == '"')
            in_string = true;
        else
        if (c == '{' || c == '[') {
            if (++depth > max_depth)
                return true;
        }
        else
        if (c == '}' || c == ']')
            depth--;
    }
    return false;
}

static bool
s_is_blank (const char *json, size_t len)
{
    for (size_t index = 0; index < len; index++)
        if (json [index] != ' ' && json [index] != '\t'
        &&  json [index] != '\r' && json [index] != '\n')
            return false;
    return true;
}


//  --------------------------------------------------------------------------
//  Parse JSON text into a new message of type desc.

ProtobufCMessage *
gw_json_parse (const ProtobufCMessageDescriptor *desc, const char *json,
               size_t len, ProtobufCAllocator *alloc, char *err,
               size_t err_size)
{
    assert (desc);
    assert (desc->magic == PROTOBUF_C__MESSAGE_DESCRIPTOR_MAGIC);
    assert (json || len == 0);
    parser_t parser;
    s_parser_init (&parser, alloc, err, err_size);

    json_t *root;
    if (s_is_blank (json, len))
        root = json_object ();
    else {
        if (s_too_deep (json, len, GW_JSON_MAX_DEPTH)) {
            s_fail (&parser, "JSON nested deeper than %d levels",
                    GW_JSON_MAX_DEPTH);
            return NULL;
        }
        json_error_t error;
        //  No JSON_ALLOW_NUL: "\u0000" is refused, so C strings are whole.
        root = json_loadb (json, len,
                           JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &error);
        if (!root) {
            s_fail (&parser, "malformed JSON (line %d, column %d): %s",
                    error.line, error.column, error.text);
            return NULL;
        }
    }
    if (!root) {
        s_fail (&parser, "out of memory");
        return NULL;
    }
    ProtobufCMessage *msg = NULL;
    if (json_is_object (root))
        msg = s_parse_message (&parser, desc, root, 1);
    else
        s_fail (&parser, "the body must be a JSON object");
    json_decref (root);
    assert (msg || parser.failed);
    assert (!msg || !parser.failed);
    return msg;
}


//  --------------------------------------------------------------------------
//  Set one field from a string (path and query parameters).

//  Release a singular field's value if it is ours (not a default), as
//  free_unpacked would, and leave the slot zeroed.
static void
s_release_value (ProtobufCAllocator *alloc,
                 const ProtobufCFieldDescriptor *field, void *slot)
{
    if (field->type == PROTOBUF_C_TYPE_STRING) {
        char *text = *(char **) slot;
        if (text && text != field->default_value
        &&  text != protobuf_c_empty_string)
            s_free (alloc, text);
        *(char **) slot = NULL;
    }
    else
    if (field->type == PROTOBUF_C_TYPE_BYTES) {
        ProtobufCBinaryData *binary = slot;
        const ProtobufCBinaryData *default_binary = field->default_value;
        if (binary->data
        &&  (!default_binary || default_binary->data != binary->data))
            s_free (alloc, binary->data);
        binary->data = NULL;
        binary->len = 0;
    }
    else
    if (field->type == PROTOBUF_C_TYPE_MESSAGE) {
        protobuf_c_message_free_unpacked (*(ProtobufCMessage **) slot, alloc);
        *(ProtobufCMessage **) slot = NULL;
    }
}

//  One more element of a repeated field, from text (a query parameter
//  given again).
static int
s_append_from_text (parser_t *self, ProtobufCMessage *msg,
                    const ProtobufCFieldDescriptor *field, const char *value, size_t len)
{
    size_t *count_p = MEMBER_P (msg, field->quantifier_offset);
    void **array_p = MEMBER_P (msg, field->offset);
    if (*count_p >= GW_JSON_MAX_ELEMENTS) {
        s_fail (self, "more than %d elements", GW_JSON_MAX_ELEMENTS);
        return -1;
    }
    //  The allocator has no realloc: copy into a new array. Fine for
    //  the few values a query string repeats.
    size_t element_size = gw_json__element_size (field->type);
    char *elements = s_alloc (self, (*count_p + 1) * element_size);
    if (!elements)
        return -1;
    memset (elements + *count_p * element_size, 0, element_size);
    if (s_store_from_text (self, field, value, len,
                           elements + *count_p * element_size)) {
        s_free (self->alloc, elements);
        return -1;
    }
    if (*count_p > 0)
        memcpy (elements, *array_p, *count_p * element_size);
    s_free (self->alloc, *array_p);
    *array_p = elements;
    (*count_p)++;
    return 0;
}

int
gw_json_set_field_from_string (ProtobufCMessage *msg, const char *field_name,
                               const char *value, ProtobufCAllocator *alloc,
                               char *err, size_t err_size)
{
    assert (msg);
    assert (msg->descriptor);
    assert (msg->descriptor->magic == PROTOBUF_C__MESSAGE_DESCRIPTOR_MAGIC);
    assert (field_name);
    assert (value);
    parser_t parser;
    s_parser_init (&parser, alloc, err, err_size);
    const ProtobufCMessageDescriptor *desc = msg->descriptor;

    const ProtobufCFieldDescriptor *field = s_find_field (desc, field_name);
    if (!field) {
        s_path_push_field (&parser, field_name);
        s_fail_unknown_field (&parser);
        return -1;
    }
    s_path_push_field (&parser, field->name);
    if (field->type == PROTOBUF_C_TYPE_MESSAGE) {
        s_fail (&parser, "cannot be set from a string");
        return -1;
    }
    size_t len = strlen (value);

    if (field->label == PROTOBUF_C_LABEL_REPEATED)
        return s_append_from_text (&parser, msg, field, value, len);

    //  Read into a scratch slot first: on error the message is untouched.
    union {
        uint64_t integer;
        double real;
        char *text;
        ProtobufCBinaryData binary;
    } scratch;
    memset (&scratch, 0, sizeof (scratch));
    if (s_store_from_text (&parser, field, value, len, &scratch))
        return -1;

    void *slot = MEMBER_P (msg, field->offset);
    if (field->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) {
        uint32_t *case_p = MEMBER_P (msg, field->quantifier_offset);
        const ProtobufCFieldDescriptor *current = *case_p
            ? protobuf_c_message_descriptor_get_field (desc, *case_p)
            : NULL;
        if (current)
            s_release_value (parser.alloc, current, slot);
        *case_p = field->id;
    }
    else {
        s_release_value (parser.alloc, field, slot);
        if (s_has_presence_flag (field))
            *(protobuf_c_boolean *) MEMBER_P (msg, field->quantifier_offset) = 1;
    }
    memcpy (slot, &scratch, gw_json__element_size (field->type));
    return 0;
}
