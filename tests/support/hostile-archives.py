#!/usr/bin/python3
"""Builds the import archives of the tests (good and hostile) into a directory: python3 hostile-archives.py OUT_DIR.

Each archive is a .tar.gz with the import layout (db.sql, files/, meta.json); the hostile ones add one bad entry.
Writes OUT_DIR/<name>.tar.gz and prints the names as JSON. Used by tests/unit/archive-validator.test.ts and the e2e test.
"""
import io
import json
import os
import sys
import tarfile

OUT = sys.argv[1]
DB = b"-- empty dump\nSELECT 1;\n"


def add_file(tar, name, data, **kw):
    info = tarfile.TarInfo(name)
    info.size = len(data)
    info.mode = 0o644
    for k, v in kw.items():
        setattr(info, k, v)
    tar.addfile(info, io.BytesIO(data))


def add_special(tar, name, kind, **kw):
    info = tarfile.TarInfo(name)
    info.type = kind
    for k, v in kw.items():
        setattr(info, k, v)
    tar.addfile(info)


def build(name, extra, base=True):
    path = os.path.join(OUT, name + ".tar.gz")
    with tarfile.open(path, "w:gz", format=tarfile.GNU_FORMAT) as tar:
        if base:
            add_file(tar, "db.sql", DB)
            add_special(tar, "files", tarfile.DIRTYPE, mode=0o755)
            add_file(tar, "files/themes/x/style.css", b"/* x */\n")
        extra(tar)
    return name


names = [
    build("good", lambda t: add_file(t, "meta.json", b'{"source_url": "http://old.example", "table_prefix": "wp_"}')),
    build("traversal", lambda t: add_file(t, "files/../../pl-escaped.txt", b"escaped\n")),
    build("absolute", lambda t: add_file(t, "/tmp/pl-escaped-absolute.txt", b"escaped\n")),
    build("symlink-escape", lambda t: add_special(t, "files/evil", tarfile.SYMTYPE, linkname="../../../../etc")),
    build("symlink-absolute", lambda t: add_special(t, "files/evil", tarfile.SYMTYPE, linkname="/etc/passwd")),
    build("write-through-symlink", lambda t: (add_special(t, "files/up", tarfile.SYMTYPE, linkname=".."),
                                              add_file(t, "files/up/pl-through.txt", b"x\n"))),
    build("hardlink", lambda t: add_special(t, "files/passwd", tarfile.LNKTYPE, linkname="/etc/passwd")),
    build("device", lambda t: add_special(t, "files/null", tarfile.CHRTYPE, devmajor=1, devminor=3)),
    build("fifo", lambda t: add_special(t, "files/pipe", tarfile.FIFOTYPE)),
    build("too-many-entries", lambda t: [add_file(t, "files/many/%d.txt" % i, b"") for i in range(60)]),
    build("too-large", lambda t: add_file(t, "files/big.bin", b"\0" * (3 * 1024 * 1024))),
    build("no-db", lambda t: add_file(t, "files/only.txt", b"x"), base=False),
]
print(json.dumps(names))
