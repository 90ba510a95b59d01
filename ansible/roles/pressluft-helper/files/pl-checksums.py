#!/usr/bin/python3
"""Pressluft drift checksums of a production environment (drift baseline and drift checks), run as root on a node.

  pl-checksums.py --wp-config ENV_ROOT/shared/wp-config.php --release ENV_ROOT/current \
                  --protected-paths wp-content/uploads
  (or --database DB --prefix PREFIX instead of --wp-config)

Prints one JSON line {"db_checksums": {...}, "file_checksums": {...}} (ansible/README.md, "Drift"):
- db_checksums: every table of the environment (unprefixed name) -> {"rows": n, "checksum": "sha256:<hex>"}, the
  SHA-256 over the table's rows in primary-key order. Rows WordPress rewrites by itself are left out (SELF_WRITTEN
  below, the one list of them), and so are the Action Scheduler tables. Protected tables are recorded too: the
  control plane decides with the environment's preset which differences are drift and which are information.
- file_checksums: "release" (the whole current release tree, links not followed), its code folders
  wp-content/plugins, wp-content/themes, wp-content/mu-plugins, and each --protected-paths entry (followed through
  the release's link into shared/) -> "sha256:<hex>" of the sorted "path, size, mtime" list. Absent paths are left out.
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

# Rows WordPress rewrites by itself, never counted as drift: (unprefixed table, SQL condition that EXCLUDES them).
SELF_WRITTEN = {
    "options": "NOT (option_name LIKE '\\_transient\\_%' OR option_name LIKE '\\_site\\_transient\\_%'"
               " OR option_name IN ('cron', 'doing_cron'))",
    "usermeta": "meta_key <> 'session_tokens'",
}
# Action Scheduler (WooCommerce's job queue) rewrites its tables all the time.
SELF_WRITTEN_TABLE_PREFIXES = ("actionscheduler_",)

CODE_PATHS = ("wp-content/plugins", "wp-content/themes", "wp-content/mu-plugins")


def read_wp_config(path):
    # Reads the two values without executing PHP; the file is Pressluft's own template.
    with open(path, encoding="utf-8") as handle:
        text = handle.read()
    name, prefix = DEFINE_RE.search(text), PREFIX_RE.search(text)
    if not name or not prefix:
        sys.exit("DB_NAME or $table_prefix not found in " + path)
    unescape = lambda value: re.sub(r"\\(.)", r"\1", value)
    return unescape(name.group(1)), unescape(prefix.group(1))


def quote(name):
    return "`" + name.replace("`", "``") + "`"


def encode(value):
    if value is None:
        return b"\x00"
    data = value if isinstance(value, bytes) else str(value).encode("utf-8", "surrogateescape")
    return b"\x01" + str(len(data)).encode() + b":" + data


def table_checksum(conn, database, table, condition):
    with conn.cursor() as cur:
        cur.execute("SELECT COLUMN_NAME FROM information_schema.KEY_COLUMN_USAGE WHERE TABLE_SCHEMA = %s"
                    " AND TABLE_NAME = %s AND CONSTRAINT_NAME = 'PRIMARY' ORDER BY ORDINAL_POSITION", (database, table))
        key = [quote(row[0]) for row in cur.fetchall()]
        if not key:
            cur.execute("SELECT COLUMN_NAME FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = %s AND TABLE_NAME = %s"
                        " ORDER BY ORDINAL_POSITION", (database, table))
            key = [quote(row[0]) for row in cur.fetchall()]
    sql = "SELECT * FROM " + quote(table) + (" WHERE " + condition if condition else "") + " ORDER BY " + ", ".join(key)
    digest = hashlib.sha256()
    rows = 0
    # Unbuffered: big tables stream through the hash instead of sitting in memory.
    with conn.cursor(pymysql.cursors.SSCursor) as cur:
        cur.execute(sql)
        for row in cur:
            rows += 1
            digest.update(b"".join(encode(v) for v in row) + b"\n")
    return {"rows": rows, "checksum": "sha256:" + digest.hexdigest()}


def db_checksums(database, prefix):
    result = {}
    # conv={}: every value arrives as the server's text (or bytes), so checksums do not depend on Python's conversions.
    conn = pymysql.connect(unix_socket="/run/mysqld/mysqld.sock", user="root", database=database, charset="utf8mb4", conv={})
    try:
        with conn.cursor() as cur:
            cur.execute("SHOW FULL TABLES WHERE Table_type = 'BASE TABLE'")
            tables = sorted(row[0] for row in cur.fetchall())
        for full in tables:
            if not full.startswith(prefix):
                continue
            table = full[len(prefix):]
            if not table or table.startswith(SELF_WRITTEN_TABLE_PREFIXES):
                continue
            result[table] = table_checksum(conn, database, full, SELF_WRITTEN.get(table))
    finally:
        conn.close()
    return result


def path_checksum(base):
    # Links inside the tree are listed with their target, never followed (the release's links into shared/ are not
    # part of the release); the top directory itself may be such a link (wp-content/uploads -> shared/uploads).
    entries = []
    for dirpath, dirnames, filenames in os.walk(base):
        dirnames.sort()
        for name in filenames + [d for d in dirnames if os.path.islink(os.path.join(dirpath, d))]:
            full = os.path.join(dirpath, name)
            st = os.lstat(full)
            rel = os.path.relpath(full, base)
            if os.path.islink(full):
                entries.append("%s\t->%s" % (rel, os.readlink(full)))
            else:
                entries.append("%s\t%d\t%d" % (rel, st.st_size, int(st.st_mtime)))
    entries.sort()
    return "sha256:" + hashlib.sha256("\n".join(entries).encode("utf-8", "surrogateescape")).hexdigest()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--wp-config")
    parser.add_argument("--database")
    parser.add_argument("--prefix")
    parser.add_argument("--release", required=True)
    parser.add_argument("--protected-paths", default="")
    args = parser.parse_args()
    if args.wp_config:
        args.database, args.prefix = read_wp_config(args.wp_config)
    if not args.database or args.prefix is None:
        parser.error("--wp-config or --database and --prefix are required")
    release = os.path.realpath(args.release)
    if not os.path.isdir(release):
        sys.exit("release " + args.release + " does not exist")
    files = {"release": path_checksum(release)}
    for rel in list(CODE_PATHS) + [p for p in args.protected_paths.split(",") if p]:
        full = os.path.join(release, rel)
        if os.path.isdir(full):
            files[rel] = path_checksum(full)
    json.dump({"db_checksums": db_checksums(args.database, args.prefix), "file_checksums": files}, sys.stdout, sort_keys=True)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
