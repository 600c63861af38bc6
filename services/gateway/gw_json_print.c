/*  =========================================================================
    gw_json_print - protobuf messages as JSON: gw_json_print of gw_json.h

    Printing does not use jansson: it writes the text itself so that it
    controls number formatting (shortest round-trip floats, exact 64-bit
    integers), and writes integers without printf (every reply has some;
    printf's format parsing showed in the gateway's profile). The text
    grows in one malloc'd buffer, which gw_json_print_to leaves to the
    caller to reuse; on any failure (memory, nesting) gw_json_print
    returns NULL.
    =========================================================================
*/
#include "gw_json.h"
#include "gw_json_internal.h"

#include <assert.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gw_text.h"
#include "ts_valid.h"

//  --------------------------------------------------------------------------
//  Printing: a growing malloc'd buffer, and the chain of message types
//  being printed (to stop default expansion of recursive types).

typedef struct {
    char *data;                         //  NUL-terminated at the end
    size_t len;                         //  bytes used, without the NUL
    size_t capacity;                    //  bytes allocated
    size_t limit;                       //  capacity, or 0 once failed
    bool failed;                        //  out of memory or too deep
    const ProtobufCMessageDescriptor *chain [GW_JSON_MAX_PRINT_DEPTH];
    int depth;                          //  entries used in chain
} printer_t;

//  Room for len more bytes and the final NUL, the buffer grown by
//  doubling; NULL once out of memory (then nothing more is written).
static char * __attribute__ ((noinline))
s_grow (printer_t *self, size_t len)
{
    if (self->failed)
        return NULL;
    size_t capacity = self->capacity? self->capacity: 256;
    while (capacity < self->len + len + 1)
        capacity *= 2;
    char *data = realloc (self->data, capacity);
    if (!data) {
        self->failed = true;
        self->limit = 0;
        return NULL;
    }
    self->data = data;
    self->capacity = capacity;
    self->limit = capacity;
    return self->data + self->len;
}

//  Where len more bytes go (the caller then adds them to self->len), or
//  NULL once failed. The fast path is one compare: every value of every
//  reply passes here (a call per piece showed in the gateway's profile).
static inline char *
s_reserve (printer_t *self, size_t len)
{
    //  Strictly less: one byte always stays free for the final NUL.
    if (self->len + len < self->limit)
        return self->data + self->len;
    return s_grow (self, len);
}

static inline void
s_put (printer_t *self, const char *text, size_t len)
{
    char *at = s_reserve (self, len);
    if (!at)
        return;
    memcpy (at, text, len);
    self->len += len;
}

static inline void
s_putc (printer_t *self, char c)
{
    char *at = s_reserve (self, 1);
    if (!at)
        return;
    *at = c;
    self->len++;
}

static void
s_puts (printer_t *self, const char *text)
{
    s_put (self, text, strlen (text));
}

static void
s_printf (printer_t *self, const char *format, ...)
    __attribute__ ((format (printf, 2, 3)));

static void
s_printf (printer_t *self, const char *format, ...)
{
    char text [64];                     //  numbers only: always fits
    va_list args;
    va_start (args, format);
    int len = vsnprintf (text, sizeof (text), format, args);
    va_end (args);
    assert (len >= 0 && (size_t) len < sizeof (text));
    s_put (self, text, (size_t) len);
}

//  Integers in decimal, written in place (gw_text_* need 21 bytes).
static void
s_print_int (printer_t *self, int64_t value)
{
    char *at = s_reserve (self, 21);
    if (at)
        self->len += gw_text_i64 (at, value);
}

static void
s_print_uint (printer_t *self, uint64_t value)
{
    char *at = s_reserve (self, 21);
    if (at)
        self->len += gw_text_u64 (at, value);
}

//  Bytes a JSON string holds as they are: printable ASCII but the quote
//  and the backslash. The others are escaped, or (from 0x80) checked as
//  UTF-8. A table, so the common byte costs one load and one branch.
#define P1(c) ((c) >= 0x20 && (c) < 0x7f && (c) != '"' && (c) != '\\')
#define P4(c) P1 (c), P1 ((c) + 1), P1 ((c) + 2), P1 ((c) + 3)
#define P16(c) P4 (c), P4 ((c) + 4), P4 ((c) + 8), P4 ((c) + 12)
#define P64(c) P16 (c), P16 ((c) + 16), P16 ((c) + 32), P16 ((c) + 48)
static const bool s_plain [256] = {
    P64 (0), P64 (64), P64 (128), P64 (192)
};
#undef P64
#undef P16
#undef P4
#undef P1

//  A JSON string. Bad UTF-8 (not from our parser, but a daemon could send
//  it) becomes U+FFFD, so the reply is always valid JSON. Runs of bytes
//  that need nothing are copied in one go.
static void
s_print_string (printer_t *self, const char *text, size_t len)
{
    const unsigned char *s = (const unsigned char *) text;
    s_putc (self, '"');
    size_t start = 0;               //  first byte not yet written
    size_t index = 0;
    while (index < len) {
        unsigned char c = s [index];
        if (s_plain [c]) {
            index++;
            continue;
        }
        const char *escape = NULL;
        char unicode [8];
        size_t skip = 1;
        if (c >= 0x80) {
            skip = ts_utf8_sequence_len (s + index, len - index);
            if (skip > 0) {
                index += skip;      //  valid UTF-8: as it is
                continue;
            }
            escape = "\xef\xbf\xbd";
            skip = 1;
        }
        else
        if (c == '"')
            escape = "\\\"";
        else
        if (c == '\\')
            escape = "\\\\";
        else
        if (c == '\n')
            escape = "\\n";
        else
        if (c == '\r')
            escape = "\\r";
        else
        if (c == '\t')
            escape = "\\t";
        else {
            assert (c < 0x20 || c == 0x7f);
            snprintf (unicode, sizeof (unicode), "\\u%04x", c);
            escape = unicode;
        }
        s_put (self, text + start, index - start);
        s_puts (self, escape);
        index += skip;
        start = index;
    }
    s_put (self, text + start, len - start);
    s_putc (self, '"');
}

//  A field's name and the colon. Names are protobuf identifiers (letters,
//  digits, underscores: protoc allows nothing else), so no escaping.
static void
s_print_key (printer_t *self, const char *name)
{
    size_t len = strlen (name);
    char *at = s_reserve (self, len + 3);
    if (!at)
        return;
    at [0] = '"';
    memcpy (at + 1, name, len);
    at [len + 1] = '"';
    at [len + 2] = ':';
    self->len += len + 3;
}

//  Bytes as standard padded base64 (libsodium's encoder).
static void
s_print_base64 (printer_t *self, const uint8_t *data, size_t len)
{
    size_t size = sodium_base64_ENCODED_LEN (len, sodium_base64_VARIANT_ORIGINAL);
    char *text = malloc (size);
    if (!text) {
        self->failed = true;
        return;
    }
    sodium_bin2base64 (text, size, data, len, sodium_base64_VARIANT_ORIGINAL);
    s_put (self, "\"", 1);
    s_put (self, text, size - 1);
    s_put (self, "\"", 1);
    free (text);
}

//  Shortest text that reads back (through our own parser) to the same
//  value. -0 prints as "-0.0" because jansson reads "-0" as integer 0.
static void
s_print_double (printer_t *self, double value, bool is_float)
{
    if (isnan (value)) {
        s_puts (self, "\"NaN\"");
        return;
    }
    if (isinf (value)) {
        s_puts (self, value > 0? "\"Infinity\"": "\"-Infinity\"");
        return;
    }
    if (value == 0) {
        s_puts (self, signbit (value)? "-0.0": "0");
        return;
    }
    char text [40];
    //  From 1 digit up: a float needs at most 9, a double 17, and the
    //  common values stop after a few tries
    for (int precision = 1; precision <= 17; precision++) {
        snprintf (text, sizeof (text), "%.*g", precision, value);
        double back = strtod (text, NULL);
        if (is_float) {
            float narrowed;
            if (gw_json__double_to_float (back, &narrowed) == 0
            &&  narrowed == (float) value)
                break;
        }
        else
        if (back == value)
            break;
    }
    s_puts (self, text);
}

static void s_print_message (printer_t *self, const ProtobufCMessage *msg);

//  A message field's value. Absent: print the defaults, unless this type
//  is already being printed further out (a recursive type), where
//  defaults would nest forever: then null.
static void
s_print_sub_message (printer_t *self, const ProtobufCFieldDescriptor *field,
                     const ProtobufCMessage *sub)
{
    if (sub) {
        s_print_message (self, sub);
        return;
    }
    const ProtobufCMessageDescriptor *desc = field->descriptor;
    for (int index = 0; index < self->depth; index++)
        if (self->chain [index] == desc) {
            s_puts (self, "null");
            return;
        }
    //  Most messages fit on the stack; a large one is malloc'd.
    max_align_t local [64];
    ProtobufCMessage *defaults = desc->sizeof_message <= sizeof local
                               ? (ProtobufCMessage *) local: malloc (desc->sizeof_message);
    if (!defaults) {
        self->failed = true;
        return;
    }
    protobuf_c_message_init (desc, defaults);
    s_print_message (self, defaults);
    if (defaults != (ProtobufCMessage *) local)
        free (defaults);        //  holds nothing but defaults
}

//  One value of a field (singular, array element, map value).
static void
s_print_value (printer_t *self, const ProtobufCFieldDescriptor *field,
               const void *slot)
{
    switch (field->type) {
        case PROTOBUF_C_TYPE_INT32:
        case PROTOBUF_C_TYPE_SINT32:
        case PROTOBUF_C_TYPE_SFIXED32:
            s_print_int (self, *(const int32_t *) slot);
            break;
        case PROTOBUF_C_TYPE_UINT32:
        case PROTOBUF_C_TYPE_FIXED32:
            s_print_uint (self, *(const uint32_t *) slot);
            break;
        case PROTOBUF_C_TYPE_INT64:
        case PROTOBUF_C_TYPE_SINT64:
        case PROTOBUF_C_TYPE_SFIXED64:
            s_print_int (self, *(const int64_t *) slot);
            break;
        case PROTOBUF_C_TYPE_UINT64:
        case PROTOBUF_C_TYPE_FIXED64: {
            uint64_t value = *(const uint64_t *) slot;
            //  Past INT64_MAX a JSON number would not read back (jansson
            //  and most readers hold integers in int64): print a string.
            if (value > INT64_MAX)
                s_put (self, "\"", 1);
            s_print_uint (self, value);
            if (value > INT64_MAX)
                s_put (self, "\"", 1);
            break;
        }
        case PROTOBUF_C_TYPE_FLOAT:
            s_print_double (self, *(const float *) slot, true);
            break;
        case PROTOBUF_C_TYPE_DOUBLE:
            s_print_double (self, *(const double *) slot, false);
            break;
        case PROTOBUF_C_TYPE_BOOL:
            s_puts (self, *(const protobuf_c_boolean *) slot? "true": "false");
            break;
        case PROTOBUF_C_TYPE_ENUM: {
            int value = *(const int *) slot;
            const ProtobufCEnumValue *enum_value =
                protobuf_c_enum_descriptor_get_value (field->descriptor, value);
            if (enum_value)
                s_print_string (self, enum_value->name,
                                strlen (enum_value->name));
            else
                s_printf (self, "%d", value);
            break;
        }
        case PROTOBUF_C_TYPE_STRING: {
            const char *text = *(char * const *) slot;
            if (!text)
                text = "";
            s_print_string (self, text, strlen (text));
            break;
        }
        case PROTOBUF_C_TYPE_BYTES: {
            const ProtobufCBinaryData *binary = slot;
            s_print_base64 (self, binary->data, binary->data? binary->len: 0);
            break;
        }
        case PROTOBUF_C_TYPE_MESSAGE:
            s_print_sub_message (self, field, *(ProtobufCMessage * const *) slot);
            break;
    }
}

//  Map keys are JSON strings whatever their type.
static void
s_print_map_key (printer_t *self, const ProtobufCFieldDescriptor *field,
                 const void *slot)
{
    if (field->type == PROTOBUF_C_TYPE_STRING) {
        s_print_value (self, field, slot);
        return;
    }
    s_put (self, "\"", 1);
    if (field->type == PROTOBUF_C_TYPE_UINT64
    ||  field->type == PROTOBUF_C_TYPE_FIXED64)
        s_print_uint (self, *(const uint64_t *) slot);   //  no quotes
    else
        s_print_value (self, field, slot);
    s_put (self, "\"", 1);
}

static void
s_print_field (printer_t *self, const ProtobufCMessage *msg,
               const ProtobufCFieldDescriptor *field)
{
    const void *slot = CONST_MEMBER_P (msg, field->offset);
    if (field->label != PROTOBUF_C_LABEL_REPEATED) {
        s_print_value (self, field, slot);
        return;
    }
    size_t count = *(const size_t *) CONST_MEMBER_P (msg,
                                                     field->quantifier_offset);
    const char *elements = *(const char * const *) slot;
    if (!elements)
        count = 0;
    const ProtobufCMessageDescriptor *entry_desc =
        gw_json__map_entry (msg->descriptor, field);
    if (entry_desc) {
        s_put (self, "{", 1);
        const ProtobufCMessage * const *entries = (const void *) elements;
        bool first = true;
        for (size_t index = 0; index < count && !self->failed; index++) {
            if (!entries [index])
                continue;
            if (!first)
                s_put (self, ",", 1);
            first = false;
            const ProtobufCFieldDescriptor *key = &entry_desc->fields [0];
            const ProtobufCFieldDescriptor *value = &entry_desc->fields [1];
            s_print_map_key (self, key,
                             CONST_MEMBER_P (entries [index], key->offset));
            s_put (self, ":", 1);
            s_print_value (self, value,
                           CONST_MEMBER_P (entries [index], value->offset));
        }
        s_put (self, "}", 1);
        return;
    }
    size_t element_size = gw_json__element_size (field->type);
    s_put (self, "[", 1);
    for (size_t index = 0; index < count && !self->failed; index++) {
        if (index > 0)
            s_put (self, ",", 1);
        s_print_value (self, field, elements + index * element_size);
    }
    s_put (self, "]", 1);
}

static void
s_print_message (printer_t *self, const ProtobufCMessage *msg)
{
    const ProtobufCMessageDescriptor *desc = msg->descriptor;
    assert (desc && desc->magic == PROTOBUF_C__MESSAGE_DESCRIPTOR_MAGIC);
    if (self->depth >= GW_JSON_MAX_PRINT_DEPTH) {
        self->failed = true;
        return;
    }
    self->chain [self->depth++] = desc;
    s_put (self, "{", 1);
    bool first = true;
    for (unsigned index = 0; index < desc->n_fields && !self->failed; index++) {
        const ProtobufCFieldDescriptor *field = &desc->fields [index];
        if (field->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) {
            uint32_t oneof_case = *(const uint32_t *)
                CONST_MEMBER_P (msg, field->quantifier_offset);
            if (oneof_case != field->id)
                continue;               //  only the set member prints
        }
        if (!first)
            s_putc (self, ',');
        first = false;
        s_print_key (self, field->name);
        s_print_field (self, msg, field);
    }
    s_put (self, "}", 1);
    self->depth--;
}


//  --------------------------------------------------------------------------
//  Print a message as compact JSON; the caller frees the result.

long
gw_json_print_to (const ProtobufCMessage *msg, char **buf, size_t *cap)
{
    assert (msg);
    assert (msg->descriptor);
    assert (buf && cap && (*buf || *cap == 0));
    printer_t printer;
    memset (&printer, 0, sizeof (printer));
    printer.data = *buf;
    printer.capacity = *cap;
    printer.limit = *cap;
    s_print_message (&printer, msg);
    assert (printer.depth == 0 || printer.failed);
    //  s_reserve kept a byte free for it.
    if (!printer.failed) {
        assert (printer.len < printer.capacity);
        printer.data [printer.len] = 0;
    }
    //  Grown or not, the buffer is the caller's again.
    *buf = printer.data;
    *cap = printer.capacity;
    if (printer.failed)
        return -1;
    assert (printer.data && printer.len > 0 && printer.len < LONG_MAX);
    return (long) printer.len;
}

char *
gw_json_print (const ProtobufCMessage *msg)
{
    char *buf = NULL;
    size_t cap = 0;
    if (gw_json_print_to (msg, &buf, &cap) < 0) {
        free (buf);
        return NULL;
    }
    return buf;
}
