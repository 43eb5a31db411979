#!/usr/bin/env python3
"""Writes the Jinja templates of llama.cpp's tests/test-chat-template.cpp,
one file each, for chatref to detect and render.

usage: extract_tests.py test-chat-template.cpp OUTDIR
"""
import os
import re
import sys

ESCAPES = {'n': '\n', 't': '\t', 'r': '\r', '\\': '\\', '"': '"', "'": "'", '0': '\0'}


def c_string(line):
    """Decodes the C++ string literal(s) on line: "..." or U8C("...")."""
    out, i = [], 0
    while True:
        i = line.find('"', i)
        if i < 0:
            break
        i += 1
        while line[i] != '"':
            if line[i] == '\\':
                out.append(ESCAPES[line[i + 1]])
                i += 2
            else:
                out.append(line[i])
                i += 1
        i += 1
    return ''.join(out)


def main():
    src, outdir = sys.argv[1], sys.argv[2]
    os.makedirs(outdir, exist_ok=True)
    name, n = None, 0
    with open(src, encoding='utf-8') as f:
        for line in f:
            m = re.search(r'/\* \.name= \*/ (.*)', line)
            if m:
                name = c_string(m.group(1))
                continue
            m = re.search(r'/\* \.template_str=? \*/ (.*)', line)
            if m and name is not None:
                n += 1
                slug = re.sub(r'[^A-Za-z0-9.]+', '-', name).strip('-')[:60]
                path = os.path.join(outdir, 'test-%02d-%s.jinja' % (n, slug))
                with open(path, 'w', encoding='utf-8', newline='') as out:
                    out.write(c_string(m.group(1)))
                name = None
    print(n, 'templates', file=sys.stderr)


main()
