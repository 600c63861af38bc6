#!/usr/bin/env python3
"""proto_openapi - the OpenAPI meaning of the protos, from their comments.

The comments in proto/*.proto are the one source: this script (run at
build time) reads them and writes a C file holding one JSON document,
gw_openapi_notes, that gw_openapi.c merges into the generated OpenAPI:

    // A household: the people living at one address.   -> the message's
    message Household {                                     description
      string kind = 3;   // open | closed                -> enum [open, closed]
      string note = 4;   // required: why                -> required, description
    }

- A message's description: the comment lines right above it.
- A field's description: its trailing comment, else the lines above it.
- enum: a string field whose comment is a list "a | b | c" (words of
  [a-z_], "" for empty; "x or y" also separates; a "(...)" remark after a
  word is dropped; an "optional:" or "required:" prefix is allowed). The first non-empty
  value becomes the field's example.
- required: a field whose comment starts with "required" (unqualified:
  "required for role school" is a condition, not a rule).
- "e.g. VALUE" or "e.g. "VALUE"" in a comment: the field's example.
- otherwise an example from the field's name (NAMED_EXAMPLES, ID_KINDS):
  "person_id" -> "p12", a Household's "id" -> "h12", "month" ->
  "2026-11", "created_at" -> an RFC 3339 time, "points" -> 5...

Usage: proto_openapi.py OUT.c PROTO...
"""
import json
import os
import re
import sys

FIELD = re.compile(r'^\s*(repeated\s+|optional\s+)?(map\s*<[^>]*>|[\w.]+)\s+(\w+)\s*=\s*\d+'
                   r'[^;]*;\s*(?://\s*(.*))?$')
OPEN = re.compile(r'^\s*(message|enum|oneof)\s+(\w+)\s*\{\s*(?://.*)?$')
PACKAGE = re.compile(r'^\s*package\s+([\w.]+)\s*;')
WORD = re.compile(r'^(""|[a-z_][a-z0-9_]*)$')
EXAMPLE = re.compile(r'e\.g\.\s+("([^"]+)"|([^\s,;)]+))')
REQUIRED = re.compile(r'^required\s*($|[:,(]|\s*-)')


def enum_of(comment):
    text = re.sub(r'^(optional|required):\s*', '', comment.strip())
    text = re.sub(r'\s+or\s+', ' | ', text)
    if ' | ' not in text:
        return None
    values = []
    for word in text.split('|'):
        word = re.sub(r'\s*\(.*?\)\s*$', '', word.strip()).strip()
        word = re.sub(r'\s*\(.*$', '', word).strip()
        if not WORD.match(word):
            return None
        values.append('' if word == '""' else word)
    return values if len(values) >= 2 else None


#  ts_id's kinds (common/ts_id.h): the word in a field or message name
#  that says which record an id names, and that record's letter.
ID_KINDS = [('person', 'p'), ('pupil', None), ('household', 'h'), ('building', 'b'),
            ('compound', 'c'), ('need', 'n'), ('resource', 'r'),
            ('merchant', 'm'), ('market', 'k'), ('entry', 'e'), ('circle', 'q'),
            ('order', 'o'), ('project', 'j'), ('session', 's'), ('proposal', 'x'),
            ('bid', 'd'), ('problem', 'y'), ('survey', 'v'), ('offer', 'f')]
#  (pattern on the field name, example) for strings, first match wins.
NAMED_STRINGS = [
    (r'(^|_)month$', '2026-11'), (r'^(date|observed_on|starts_on|ends_on)$', '2026-11-27'),
    (r'(^|_)at$|^deadline$', '2026-11-27T09:30:00+08:00'), (r'^masked_name$', '王*'),
    (r'(^|_)name$', '王伟'), (r'^(building|building_number)$', '12'), (r'^room$', '101'),
    (r'^grid$', 'G3'), (r'^school_id$', 'S1'), (r'^pupil_no$', '2026001'),
    (r'^phone$', '13800000000'), (r'(^|_)page_token$', ''), (r'^title$', 'Fix the lift'),
]
#  (pattern, example) for integers.
NAMED_INTEGERS = [
    (r'(^|_)points$', 5), (r'_cents$', 50000), (r'^int64:.*(^|_)ms$', 1795770000000),
    (r'^birth_year$', 1980), (r'^page_size$', 50), (r'minutes$', 60),
]


def id_example(message, name):
    """"h12" for a Household's id or a household_id; None when the name
    names no record of ours."""
    if name == 'id' and message.endswith('Request'):
        return None             # a path id: of the record the route names
    if name == 'id':
        word = re.sub(r'(Request|Reply)$', '', message.rsplit('.', 1)[-1]).lower()
    elif name.endswith('_id'):
        word = name[:-3]
    else:
        return None
    for kind, letter in ID_KINDS:
        if word.endswith(kind) or word.startswith(kind):
            return letter and letter + '12'
    return None


def named_example(message, ftype, name):
    if ftype == 'string':
        example = id_example(message, name)
        if example:
            return example
        for pattern, value in NAMED_STRINGS:
            if re.search(pattern, name):
                return value
    elif re.match(r'u?int(32|64)$|s?fixed(32|64)$|sint(32|64)$', ftype):
        for pattern, value in NAMED_INTEGERS:     # a time in ms: 64-bit only
            if re.search(pattern, name) or re.search(pattern, ftype.lstrip('us') + ':' + name):
                return value
    return None


def field_note(ftype, comment, leading, message='', name=''):
    note = {}
    text = comment or ' '.join(leading)
    if text:
        note['description'] = text
    values = enum_of(comment) if comment and ftype == 'string' else None
    if values:
        note['enum'] = values
        first = [v for v in values if v]
        if first:
            note['example'] = first[0]
    m = EXAMPLE.search(text or '')
    if m and 'example' not in note and ftype == 'string':
        note['example'] = m.group(2) or m.group(3)
    if 'example' not in note:
        example = named_example(message, ftype, name)
        if example is not None:
            note['example'] = example
    return note


def parse(path, schemas):
    package = ''
    stack = []                  # (kind, name)
    leading = []
    with open(path, encoding='utf-8') as f:
        lines = f.read().splitlines()
    for line in lines[:100000]:
        stripped = line.strip()
        m = PACKAGE.match(line)
        if m:
            package = m.group(1)
            continue
        if stripped.startswith('//'):
            leading.append(stripped[2:].strip())
            continue
        m = OPEN.match(line)
        if m:
            kind, name = m.group(1), m.group(2)
            if kind == 'message':
                outer = [n for k, n in stack if k == 'message']
                full = '.'.join([package] + outer + [name]).strip('.')
                schema = schemas.setdefault(full, {'properties': {}})
                if leading:
                    schema['description'] = ' '.join(leading)
            stack.append((kind, name))
            leading = []
            continue
        if stripped.startswith('}'):
            if stack:
                stack.pop()
            leading = []
            continue
        m = FIELD.match(line)
        messages = [n for k, n in stack if k == 'message']
        if m and messages and (not stack or stack[-1][0] != 'enum'):
            full = '.'.join([package] + messages).strip('.')
            schema = schemas.setdefault(full, {'properties': {}})
            ftype, name, comment = m.group(2), m.group(3), (m.group(4) or '').strip()
            note = field_note(ftype, comment, leading, full, name)
            if note:
                schema['properties'][name] = note
            if comment and REQUIRED.match(comment):
                schema.setdefault('required', []).append(name)
        if not stripped:
            leading = []
        elif not stripped.startswith('//'):
            leading = []


#  "kind: a | b | c." in a message's comment: that field's values.
INLINE_ENUM = re.compile(r'\b(\w+): ((?:""|[a-z_]+)(?: \| (?:""|[a-z_]+))+)')


def inline_enums(schemas):
    for schema in schemas.values():
        for m in INLINE_ENUM.finditer(schema.get('description', '')):
            prop = schema['properties'].setdefault(m.group(1), {})
            if 'enum' not in prop:
                prop['enum'] = enum_of(m.group(2))
                prop.setdefault('example', [v for v in prop['enum'] if v][0])


def main():
    out, protos = sys.argv[1], sys.argv[2:]
    schemas = {}
    for path in sorted(protos):
        parse(path, schemas)
    inline_enums(schemas)
    text = json.dumps({'schemas': schemas}, sort_keys=True, ensure_ascii=False)
    data = text.encode('utf-8')
    body = ','.join(str(b) for b in data)
    with open(out + '.tmp', 'w') as f:
        f.write('/* generated by cmake/proto_openapi.py from the .proto files: do not edit */\n'
                '#include <stddef.h>\n'
                'const char gw_openapi_notes [] = {%s,0};\n'
                'const size_t gw_openapi_notes_size = %d;\n' % (body, len(data)))
    os.replace(out + '.tmp', out)


if __name__ == '__main__':
    main()
