#!/usr/bin/python3
"""Pressluft archive validator and extractor for imports (Python stdlib tarfile only), run as the environment user.

  pl-archive.py ARCHIVE --max-archive-bytes N --max-unpacked-bytes N --max-entries N [--require db.sql,files/] [--extract DIR]

Rules (ansible/README.md, "Import"): the compressed file and the sum of the unpacked sizes stay within their limits,
and so does the number of entries; entries are regular files, directories or symlinks only (no hard links, devices,
FIFOs); no absolute names, no ".." components, no entry below a symlink, no name twice; a symlink's target is relative
and stays inside the extraction root. With --extract, DIR must be an empty directory: the archive is read a second
time and written member by member (no owners, no permissions kept: files 0644, directories 0755), each file created
with O_EXCL|O_NOFOLLOW below a directory whose real path is checked to be inside DIR.

Prints one JSON line: {"ok": true, "entries": n, "unpacked_bytes": n} (exit 0) or {"ok": false, "error": "..."} (exit 1).
Managed by Pressluft (pressluft-helper role).
"""
import argparse
import json
import os
import posixpath
import stat
import sys
import tarfile


class Invalid(Exception):
    pass


def clean_name(raw):
    if raw.startswith("/") or raw.startswith("\\"):
        raise Invalid("absolute path: %r" % raw)
    parts = [p for p in raw.split("/") if p not in ("", ".")]
    if any(p == ".." for p in parts):
        raise Invalid("'..' in path: %r" % raw)
    if any("\x00" in p for p in parts):
        raise Invalid("NUL in path: %r" % raw)
    return "/".join(parts)


def check_members(archive, max_unpacked, max_entries):
    """Yields (member, clean name) after checking every rule that can be decided from the headers."""
    names = set()
    links = set()
    total = 0
    count = 0
    with tarfile.open(archive, mode="r|gz") as tar:
        for member in tar:
            count += 1
            if count > max_entries:
                raise Invalid("more than %d entries" % max_entries)
            name = clean_name(member.name)
            if not name:
                if member.isdir():
                    continue
                raise Invalid("entry without a name")
            if name in names:
                raise Invalid("entry twice: %r" % name)
            parents = name.split("/")[:-1]
            for i in range(1, len(parents) + 1):
                if "/".join(parents[:i]) in links:
                    raise Invalid("entry below a symlink: %r" % name)
            if member.islnk():
                raise Invalid("hard link: %r" % name)
            if member.issym():
                target = member.linkname
                if target.startswith("/") or not target:
                    raise Invalid("symlink with an absolute or empty target: %r -> %r" % (name, target))
                resolved = posixpath.normpath(posixpath.join(posixpath.dirname(name), target))
                if resolved == ".." or resolved.startswith("../") or resolved.startswith("/"):
                    raise Invalid("symlink pointing outside the archive: %r -> %r" % (name, target))
                links.add(name)
            elif not (member.isreg() or member.isdir()):
                raise Invalid("not a regular file, directory or symlink (device, FIFO or other): %r" % name)
            if member.isreg():
                total += member.size
                if total > max_unpacked:
                    raise Invalid("unpacked size over %d bytes" % max_unpacked)
            names.add(name)
            yield tar, member, name
    if count == 0:
        raise Invalid("empty archive")


def inside(root, path):
    return path == root or path.startswith(root + os.sep)


def safe_dir(root, rel_dir):
    """Creates rel_dir below root one component at a time, never through a symlink; returns its real path."""
    current = root
    for part in [p for p in rel_dir.split("/") if p]:
        nxt = os.path.join(current, part)
        try:
            st = os.lstat(nxt)
        except FileNotFoundError:
            os.mkdir(nxt, 0o755)
            st = os.lstat(nxt)
        if not stat.S_ISDIR(st.st_mode):
            raise Invalid("path component is not a directory: %r" % rel_dir)
        current = nxt
    real = os.path.realpath(current)
    if not inside(root, real):
        raise Invalid("directory outside the extraction root: %r" % rel_dir)
    return current


def extract(archive, dest, max_unpacked, max_entries):
    root = os.path.realpath(dest)
    if os.listdir(root):
        raise Invalid("extraction directory is not empty")
    symlinks = []
    for tar, member, name in check_members(archive, max_unpacked, max_entries):
        parent = safe_dir(root, posixpath.dirname(name))
        path = os.path.join(parent, posixpath.basename(name))
        if member.isdir():
            safe_dir(root, name)
        elif member.issym():
            # Created after every file, so no file is ever written through a link made by the archive.
            symlinks.append((path, member.linkname))
        else:
            source = tar.extractfile(member)
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o644)
            with os.fdopen(fd, "wb") as out:
                while True:
                    chunk = source.read(1 << 20)
                    if not chunk:
                        break
                    out.write(chunk)
    for path, target in symlinks:
        if os.path.lexists(path):
            raise Invalid("symlink over an existing entry: %r" % path)
        os.symlink(target, path)
        if not inside(root, os.path.realpath(path)):
            os.unlink(path)
            raise Invalid("symlink resolving outside the extraction root: %r -> %r" % (path, target))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("archive")
    parser.add_argument("--max-archive-bytes", type=int, required=True)
    parser.add_argument("--max-unpacked-bytes", type=int, required=True)
    parser.add_argument("--max-entries", type=int, required=True)
    parser.add_argument("--require", default="", help="comma-separated names that must be present; a trailing / means a directory")
    parser.add_argument("--extract")
    args = parser.parse_args()
    try:
        size = os.path.getsize(args.archive)
        if size > args.max_archive_bytes:
            raise Invalid("archive is %d bytes, over the limit of %d" % (size, args.max_archive_bytes))
        entries = 0
        unpacked = 0
        found = set()
        try:
            for _tar, member, name in check_members(args.archive, args.max_unpacked_bytes, args.max_entries):
                entries += 1
                unpacked += member.size if member.isreg() else 0
                found.add(name + ("/" if member.isdir() else ""))
                if "/" in name:
                    found.add(name.split("/")[0] + "/")
        except (tarfile.TarError, EOFError, OSError) as err:
            raise Invalid("not a readable .tar.gz: %s" % err)
        for required in [r for r in args.require.split(",") if r]:
            if required not in found:
                raise Invalid("required entry missing: %s" % required)
        if args.extract:
            try:
                extract(args.archive, args.extract, args.max_unpacked_bytes, args.max_entries)
            except (tarfile.TarError, EOFError) as err:
                raise Invalid("not a readable .tar.gz: %s" % err)
    except Invalid as err:
        print(json.dumps({"ok": False, "error": str(err)}))
        return 1
    print(json.dumps({"ok": True, "entries": entries, "unpacked_bytes": unpacked}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
