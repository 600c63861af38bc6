#!/usr/bin/env python3
"""check_function_length - no function longer than a screen.

usage: check_function_length.py [--max N] FILE_OR_DIR ...

Counts the lines of every function in the .c files given (directories:
their .c files, not recursive), from the line of its opening brace to its
closing brace, both at column 0 as the house style writes them. Prints
every function over the limit (default 70) as "path:line name lines", then
"N functions, M over N lines"; exits 1 when any is over."""
import os
import re
import sys

NAME = re.compile(r'^(?:[A-Za-z_][\w \*]*?[ \*])?([A-Za-z_]\w*) \(')


def functions(path):
    """(name, first_line, lines) of each function of a C file."""
    with open(path, encoding='utf-8') as f:
        lines = f.read().split('\n')
    found = []
    signature = None                #  (name, line) of the last declarator
    start = 0                       #  line of the open brace, 0 outside
    for i, line in enumerate(lines, 1):
        if start:
            if line.startswith('}'):
                found.append((signature[0], signature[1], i - start + 1))
                signature, start = None, 0
            continue
        m = NAME.match(line)
        if m and not line.startswith(('#', '/')):
            signature = (m.group(1), i)
        elif line.startswith('{') and signature:
            start = i
        elif line.endswith(';'):
            signature = None        #  a prototype, not a definition
    return found


def main(argv):
    limit = 70
    if len(argv) > 2 and argv[1] == '--max':
        limit = int(argv[2])
        argv = argv[2:]
    paths = []
    for arg in argv[1:]:
        if os.path.isdir(arg):
            paths += sorted(os.path.join(arg, n) for n in os.listdir(arg) if n.endswith('.c'))
        else:
            paths.append(arg)
    total = over = 0
    for path in paths:
        for name, line, count in functions(path):
            total += 1
            if count > limit:
                over += 1
                print('%s:%d %s %d' % (path, line, name, count))
    print('%d functions, %d over %d lines' % (total, over, limit))
    return 1 if over else 0


if __name__ == '__main__':
    sys.exit(main(sys.argv))
