#!/usr/bin/python3
"""Pressluft database steps of imports and promotions, run as root on a node (ansible/README.md, "Import", "Promotion").

  pl-db.py import --dump FILE --wp-config ENV_ROOT/shared/wp-config.php [--prefix P]
      Imports an archive's db.sql into the environment's database AS THE ENVIRONMENT'S DATABASE USER (a dump is
      untrusted SQL: that user has privileges on its own database only, and local_infile is off). MySQL 8 collations
      (utf8mb4_0900_*) are mapped to utf8mb4_unicode_ci and DEFINER clauses dropped on the way; the environment's
      tables are dropped first. The table prefix is --prefix (meta.json) or the one of the dump's <prefix>options and
      <prefix>posts tables. Prints {"ok", "table_prefix", "tables", "home"}.
  pl-db.py promote-copy --source-db S --target-db T --prefix P --protected a,b
      Copies every table of S with the prefix that is not protected (unprefixed names) into shadow tables
      T._pln_<table>, from one consistent snapshot; the options in KEEP_OPTIONS keep the target's values (or its lack of
      them) in the shadow options table. Prints {"ok", "tables": [<table>…]}.
  pl-db.py promote-swap --target-db T --prefix P --tables t1,t2 --protected a,b
      One RENAME TABLE: each live table becomes _plo_<table> (kept for switching back), each shadow table the live
      one. Protected tables are not touched; their AUTO_INCREMENT values are read before and checked after (a
      promotion must never let order or user ids be issued twice). A second run finds no shadow tables and does nothing.
  pl-db.py promote-revert --target-db T --tables t1,t2
      Switches back: the promoted tables are set aside and dropped, the _plo_ ones become live again (one RENAME).
  pl-db.py promote-finish --target-db T
      Drops the _plo_ and _pln_ tables once the promoted site passed its health check.
Prints one JSON line; {"ok": false, "error": "..."} and exit 1 on failure. Managed by Pressluft (pressluft-helper role).
"""
import argparse
import json
import os
import re
import subprocess
import sys

import pymysql

SHADOW = "_pln_"
PREVIOUS = "_plo_"
FAILED = "_plf_"
PREFIX_RE = re.compile(r"^[A-Za-z0-9_]{1,32}$")
COLLATION_RE = re.compile(rb"\butf8mb4_0900_[a-z_]+\b")
DEFINER_RE = re.compile(rb"\s*(/\*!\d+\s*)?DEFINER\s*=\s*(`[^`]*`|'[^']*'|\S+)@(`[^`]*`|'[^']*'|\S+)(\s*SQL SECURITY \w+)?(\s*\*/)?")
CREATE_RE = re.compile(rb"CREATE TABLE (?:IF NOT EXISTS )?`([^`]+)`")
# Options a promotion never takes from the source: a staging or clone environment has blog_public = 0 (it must not be
# indexed, docs/decisions.md "Staging protection"); production keeps whatever its operator set.
KEEP_OPTIONS = ("blog_public",)


class Failure(Exception):
    pass


def q(name):
    return "`" + name.replace("`", "``") + "`"


def root_connect(database=None):
    return pymysql.connect(unix_socket="/run/mysqld/mysqld.sock", user="root", database=database, charset="utf8mb4", autocommit=True)


def read_wp_config(path):
    with open(path, encoding="utf-8") as handle:
        text = handle.read()
    values = {}
    for name in ("DB_NAME", "DB_USER", "DB_PASSWORD"):
        m = re.search(r"""define\(\s*['"]%s['"]\s*,\s*'((?:[^'\\]|\\.)*)'\s*\)""" % name, text)
        if not m:
            raise Failure("%s not found in %s" % (name, path))
        values[name] = re.sub(r"\\(.)", r"\1", m.group(1))
    return values


def base_tables(cur, database):
    cur.execute("SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = %s AND TABLE_TYPE = 'BASE TABLE'", (database,))
    return sorted(row[0] for row in cur.fetchall())


def detect_prefix(dump):
    names = set()
    with open(dump, "rb") as handle:
        for line in handle:
            if line.startswith(b"CREATE TABLE"):
                m = CREATE_RE.match(line)
                if m:
                    names.add(m.group(1).decode("utf-8", "replace"))
    for name in sorted(names):
        if name.endswith("options") and name[:-len("options")] + "posts" in names:
            return name[:-len("options")]
    raise Failure("no <prefix>options and <prefix>posts tables in the dump")


def cmd_import(args):
    if not os.path.isfile(args.dump):
        raise Failure("dump %s does not exist" % args.dump)
    prefix = args.prefix or detect_prefix(args.dump)
    if not PREFIX_RE.match(prefix):
        raise Failure("invalid table prefix %r" % prefix)
    cfg = read_wp_config(args.wp_config)
    conn = root_connect(cfg["DB_NAME"])
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT TABLE_NAME, TABLE_TYPE FROM information_schema.TABLES WHERE TABLE_SCHEMA = %s", (cfg["DB_NAME"],))
            for name, kind in cur.fetchall():
                cur.execute(("DROP VIEW IF EXISTS " if kind == "VIEW" else "DROP TABLE IF EXISTS ") + q(name))
    finally:
        conn.close()
    env = dict(os.environ, MYSQL_PWD=cfg["DB_PASSWORD"])
    proc = subprocess.Popen(["mariadb", "--batch", "--user", cfg["DB_USER"], "--default-character-set=utf8mb4", cfg["DB_NAME"]],
                            stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
    try:
        with open(args.dump, "rb") as handle:
            for line in handle:
                line = COLLATION_RE.sub(b"utf8mb4_unicode_ci", line)
                if b"DEFINER" in line:
                    line = DEFINER_RE.sub(b" ", line)
                proc.stdin.write(line)
        proc.stdin.close()
    except BrokenPipeError:
        pass
    err = proc.stderr.read().decode("utf-8", "replace")
    if proc.wait() != 0:
        raise Failure("import failed: " + err.strip()[-500:])
    conn = root_connect(cfg["DB_NAME"])
    try:
        with conn.cursor() as cur:
            tables = base_tables(cur, cfg["DB_NAME"])
            if prefix + "options" not in tables:
                raise Failure("the dump has no %soptions table" % prefix)
            cur.execute("SELECT option_value FROM " + q(prefix + "options") + " WHERE option_name = 'home'")
            row = cur.fetchone()
    finally:
        conn.close()
    return {"table_prefix": prefix, "tables": len(tables), "home": row[0] if row else None}


def cmd_promote_copy(args):
    protected = {t for t in args.protected.split(",") if t}
    conn = root_connect()
    try:
        with conn.cursor() as cur:
            source = [t for t in base_tables(cur, args.source_db)
                      if t.startswith(args.prefix) and t[len(args.prefix):] not in protected]
            for table in source:
                if len(SHADOW + table) > 64:
                    raise Failure("table name too long for a shadow copy: %s" % table)
            # One snapshot of the source for every table (InnoDB), so the copied tables agree with each other.
            cur.execute("SET SESSION TRANSACTION ISOLATION LEVEL REPEATABLE READ")
            for table in source:
                cur.execute("DROP TABLE IF EXISTS %s.%s" % (q(args.target_db), q(SHADOW + table)))
                cur.execute("CREATE TABLE %s.%s LIKE %s.%s" % (q(args.target_db), q(SHADOW + table), q(args.source_db), q(table)))
            cur.execute("START TRANSACTION WITH CONSISTENT SNAPSHOT")
            for table in source:
                cur.execute("INSERT INTO %s.%s SELECT * FROM %s.%s" % (q(args.target_db), q(SHADOW + table), q(args.source_db), q(table)))
            cur.execute("COMMIT")
            options = args.prefix + "options"
            if options in source:
                keep_target_options(cur, args.target_db, options)
    finally:
        conn.close()
    return {"tables": source}


def keep_target_options(cur, target_db, options):
    live = "%s.%s" % (q(target_db), q(options))
    shadow = "%s.%s" % (q(target_db), q(SHADOW + options))
    for name in KEEP_OPTIONS:
        cur.execute("DELETE FROM " + shadow + " WHERE option_name = %s", (name,))
        cur.execute("INSERT INTO " + shadow + " (option_name, option_value, autoload) SELECT option_name, option_value, autoload FROM "
                    + live + " WHERE option_name = %s", (name,))


def auto_increments(cur, database, tables):
    if not tables:
        return {}
    cur.execute("SELECT TABLE_NAME, AUTO_INCREMENT FROM information_schema.TABLES WHERE TABLE_SCHEMA = %s AND TABLE_NAME IN ("
                + ",".join(["%s"] * len(tables)) + ")", [database] + tables)
    return {name: value for name, value in cur.fetchall() if value is not None}


def cmd_promote_swap(args):
    tables = [t for t in args.tables.split(",") if t]
    protected = [args.prefix + t for t in args.protected.split(",") if t]
    conn = root_connect(args.target_db)
    try:
        with conn.cursor() as cur:
            existing = set(base_tables(cur, args.target_db))
            pending = [t for t in tables if SHADOW + t in existing]
            if not pending:
                return {"changed": False, "swapped": []}
            if len(pending) != len(tables):
                raise Failure("shadow tables missing for: %s" % ", ".join(sorted(set(tables) - set(pending))))
            before = auto_increments(cur, args.target_db, protected)
            for table in tables:
                if PREVIOUS + table in existing:
                    cur.execute("DROP TABLE " + q(PREVIOUS + table))
            renames = []
            for table in tables:
                if table in existing:
                    renames.append("%s TO %s" % (q(table), q(PREVIOUS + table)))
                renames.append("%s TO %s" % (q(SHADOW + table), q(table)))
            # One statement: every table switches at once, and requests see either the old set or the new one.
            cur.execute("RENAME TABLE " + ", ".join(renames))
            after = auto_increments(cur, args.target_db, protected)
            lowered = {t: [before[t], after.get(t)] for t in before if (after.get(t) or 0) < before[t]}
            for table, (value, _now) in lowered.items():
                cur.execute("ALTER TABLE %s AUTO_INCREMENT = %d" % (q(table), int(value)))
    finally:
        conn.close()
    return {"changed": True, "swapped": tables, "protected_auto_increment": before, "restored_auto_increment": lowered}


def cmd_promote_revert(args):
    tables = [t for t in args.tables.split(",") if t]
    conn = root_connect(args.target_db)
    try:
        with conn.cursor() as cur:
            existing = set(base_tables(cur, args.target_db))
            renames = []
            for table in tables:
                if table in existing and (PREVIOUS + table in existing or SHADOW + table not in existing):
                    renames.append("%s TO %s" % (q(table), q(FAILED + table)))
                    if PREVIOUS + table in existing:
                        renames.append("%s TO %s" % (q(PREVIOUS + table), q(table)))
            if renames:
                for table in tables:
                    if FAILED + table in existing:
                        cur.execute("DROP TABLE " + q(FAILED + table))
                cur.execute("RENAME TABLE " + ", ".join(renames))
            for table in base_tables(cur, args.target_db):
                if table.startswith(FAILED) or table.startswith(SHADOW):
                    cur.execute("DROP TABLE " + q(table))
    finally:
        conn.close()
    return {"changed": bool(renames), "reverted": len(renames)}


def cmd_promote_finish(args):
    conn = root_connect(args.target_db)
    dropped = []
    try:
        with conn.cursor() as cur:
            for table in base_tables(cur, args.target_db):
                if table.startswith((PREVIOUS, SHADOW, FAILED)):
                    cur.execute("DROP TABLE " + q(table))
                    dropped.append(table)
    finally:
        conn.close()
    return {"changed": bool(dropped), "dropped": dropped}


def main():
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("import")
    p.add_argument("--dump", required=True)
    p.add_argument("--wp-config", required=True)
    p.add_argument("--prefix", default="")
    p = sub.add_parser("promote-copy")
    p.add_argument("--source-db", required=True)
    p.add_argument("--target-db", required=True)
    p.add_argument("--prefix", required=True)
    p.add_argument("--protected", default="")
    p = sub.add_parser("promote-swap")
    p.add_argument("--target-db", required=True)
    p.add_argument("--prefix", required=True)
    p.add_argument("--tables", required=True)
    p.add_argument("--protected", default="")
    p = sub.add_parser("promote-revert")
    p.add_argument("--target-db", required=True)
    p.add_argument("--tables", required=True)
    p = sub.add_parser("promote-finish")
    p.add_argument("--target-db", required=True)
    args = parser.parse_args()
    handlers = {"import": cmd_import, "promote-copy": cmd_promote_copy, "promote-swap": cmd_promote_swap,
                "promote-revert": cmd_promote_revert, "promote-finish": cmd_promote_finish}
    try:
        result = handlers[args.command](args)
    except (Failure, pymysql.MySQLError, OSError) as err:
        print(json.dumps({"ok": False, "error": str(err)}))
        return 1
    print(json.dumps(dict(ok=True, **result)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
