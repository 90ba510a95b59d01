#!/usr/bin/python3
"""Pressluft protected-data checksums (drift baseline and drift checks), run as root on a node.

  pl-checksums.py --wp-config ENV_ROOT/shared/wp-config.php --tables posts,postmeta \
                  --root ENV_ROOT/current --paths wp-content/uploads
  (or --database DB --prefix PREFIX instead of --wp-config)

Prints one JSON line {"db_checksums": {...}, "file_checksums": {...}} (spec/ansible.md "Drift and
promotion"): per table (unprefixed name) the row count and CHECKSUM TABLE; per path the SHA-256 of
the sorted "path, size, mtime" list of the files below it. Absent tables and paths are left out.
Managed by Pressluft (pressluft-helper role).
"""
import argparse
import hashlib
import json
import os
import re
import sys

import pymysql

DEFINE_RE = re.compile(r"""define\(\s*['"]DB_NAME['"]\s*,\s*'((?:[^'\\]|\\.)*)'\s*\)""")
PREFIX_RE = re.compile(r"""^\s*\$table_prefix\s*=\s*'((?:[^'\\]|\\.)*)'\s*;""", re.M)


def read_wp_config(path):
    # Reads the two values without executing PHP; the file is Pressluft's own template.
    with open(path, encoding="utf-8") as handle:
        text = handle.read()
    name, prefix = DEFINE_RE.search(text), PREFIX_RE.search(text)
    if not name or not prefix:
        sys.exit("DB_NAME or $table_prefix not found in " + path)
    unescape = lambda value: re.sub(r"\\(.)", r"\1", value)
    return unescape(name.group(1)), unescape(prefix.group(1))


def db_checksums(database, prefix, tables):
    result = {}
    conn = pymysql.connect(unix_socket="/run/mysqld/mysqld.sock", user="root", database=database, charset="utf8mb4")
    try:
        with conn.cursor() as cur:
            cur.execute("SHOW TABLES")
            existing = {row[0] for row in cur.fetchall()}
            for table in tables:
                full = prefix + table
                if full not in existing:
                    continue
                quoted = "`" + full.replace("`", "``") + "`"
                cur.execute("SELECT COUNT(*) FROM " + quoted)
                rows = cur.fetchone()[0]
                cur.execute("CHECKSUM TABLE " + quoted)
                checksum = cur.fetchone()[1]
                result[table] = {"rows": int(rows), "checksum": str(checksum)}
    finally:
        conn.close()
    return result


def path_checksum(base):
    # Follows the release's symlink (wp-content/uploads -> shared/uploads) but not links inside it.
    entries = []
    for dirpath, dirnames, filenames in os.walk(base):
        dirnames.sort()
        for name in filenames:
            full = os.path.join(dirpath, name)
            st = os.lstat(full)
            entries.append("%s\t%d\t%d" % (os.path.relpath(full, base), st.st_size, int(st.st_mtime)))
    entries.sort()
    return "sha256:" + hashlib.sha256("\n".join(entries).encode("utf-8", "surrogateescape")).hexdigest()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--wp-config")
    parser.add_argument("--database")
    parser.add_argument("--prefix")
    parser.add_argument("--tables", default="")
    parser.add_argument("--root", required=True)
    parser.add_argument("--paths", default="")
    args = parser.parse_args()
    if args.wp_config:
        args.database, args.prefix = read_wp_config(args.wp_config)
    if not args.database or args.prefix is None:
        parser.error("--wp-config or --database and --prefix are required")
    tables = [t for t in args.tables.split(",") if t]
    paths = [p for p in args.paths.split(",") if p]
    files = {}
    for rel in paths:
        full = os.path.join(args.root, rel)
        if os.path.isdir(full):
            files[rel] = path_checksum(full)
    json.dump({"db_checksums": db_checksums(args.database, args.prefix, tables), "file_checksums": files}, sys.stdout, sort_keys=True)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
