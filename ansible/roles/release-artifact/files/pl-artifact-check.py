#!/usr/bin/env python3
"""Validate a deploy artifact (a .tar.gz or a checked-out directory) before anything is extracted or copied.

Rules (docs: ansible/README.md "env-deploy"): regular files, directories and symlinks only (no hard links,
devices or FIFOs); no absolute paths and no `..` components; symlink targets must resolve inside the artifact
root; size and entry limits; the artifact holds a `wp-content/` directory at its root.
Prints one JSON line {"ok": true, "entries": N, "bytes": N, "dirs": [...]} (the wp-content subdirectories
present among plugins, themes, mu-plugins) and exits 0, or {"ok": false, "error": "..."} and exits 1.
"""
import json
import os
import posixpath
import stat
import sys
import tarfile

MAX_ARCHIVE_BYTES = 5 * 1024 ** 3
MAX_UNPACKED_BYTES = 20 * 1024 ** 3
MAX_ENTRIES = 1_000_000
CODE_DIRS = ("plugins", "themes", "mu-plugins")


class Invalid(Exception):
    pass


def normalise(name):
    if name.startswith("/"):
        raise Invalid(f"absolute path: {name!r}")
    parts = [p for p in name.split("/") if p not in ("", ".")]
    if ".." in parts:
        raise Invalid(f"'..' in path: {name!r}")
    if any("\x00" in p for p in parts):
        raise Invalid(f"NUL in path: {name!r}")
    return "/".join(parts)


def check_link(path, target):
    if target.startswith("/"):
        raise Invalid(f"symlink {path!r} points to an absolute path")
    resolved = posixpath.normpath(posixpath.join(posixpath.dirname(path), target))
    if resolved == ".." or resolved.startswith("../"):
        raise Invalid(f"symlink {path!r} points outside the artifact")


def check_tar(archive):
    size = os.path.getsize(archive)
    if size > MAX_ARCHIVE_BYTES:
        raise Invalid(f"archive is {size} bytes, more than {MAX_ARCHIVE_BYTES}")
    names, total, count = set(), 0, 0
    try:
        with tarfile.open(archive, "r:gz") as tar:
            for member in tar:
                count += 1
                if count > MAX_ENTRIES:
                    raise Invalid(f"more than {MAX_ENTRIES} entries")
                name = normalise(member.name)
                if member.issym():
                    check_link(name, member.linkname)
                elif member.islnk():
                    raise Invalid(f"hard link: {member.name!r}")
                elif not (member.isfile() or member.isdir()):
                    raise Invalid(f"not a file, directory or symlink: {member.name!r}")
                total += member.size
                if total > MAX_UNPACKED_BYTES:
                    raise Invalid(f"unpacks to more than {MAX_UNPACKED_BYTES} bytes")
                if name:
                    names.add(name + ("/" if member.isdir() else ""))
    except (tarfile.TarError, EOFError, OSError) as error:
        raise Invalid(f"not a readable .tar.gz: {error}")
    return names, total, count


def check_dir(root):
    names, total, count = set(), 0, 0
    for dirpath, dirnames, filenames in os.walk(root):
        rel_dir = os.path.relpath(dirpath, root)
        if rel_dir == ".":
            dirnames[:] = [d for d in dirnames if d != ".git"]
        for entry in dirnames + filenames:
            full = os.path.join(dirpath, entry)
            rel = normalise(os.path.relpath(full, root))
            count += 1
            if count > MAX_ENTRIES:
                raise Invalid(f"more than {MAX_ENTRIES} entries")
            mode = os.lstat(full).st_mode
            if stat.S_ISLNK(mode):
                check_link(rel, os.readlink(full))
                # os.walk does not descend into symlinked directories, so a link is one entry.
                if entry in dirnames:
                    dirnames.remove(entry)
            elif stat.S_ISDIR(mode):
                names.add(rel + "/")
                continue
            elif not stat.S_ISREG(mode):
                raise Invalid(f"not a file, directory or symlink: {rel!r}")
            else:
                total += os.lstat(full).st_size
                if total > MAX_UNPACKED_BYTES:
                    raise Invalid(f"more than {MAX_UNPACKED_BYTES} bytes")
            names.add(rel)
    return names, total, count


def main(argv):
    if len(argv) != 2:
        print(json.dumps({"ok": False, "error": "usage: pl-artifact-check.py <archive.tar.gz | directory>"}))
        return 2
    target = argv[1]
    try:
        names, total, count = check_dir(target) if os.path.isdir(target) else check_tar(target)
        if not any(n == "wp-content/" or n.startswith("wp-content/") for n in names):
            raise Invalid("the artifact has no wp-content/ directory at its root")
        dirs = [d for d in CODE_DIRS if any(n.startswith(f"wp-content/{d}/") for n in names)]
    except Invalid as error:
        print(json.dumps({"ok": False, "error": str(error)}))
        return 1
    print(json.dumps({"ok": True, "entries": count, "bytes": total, "dirs": dirs}))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
