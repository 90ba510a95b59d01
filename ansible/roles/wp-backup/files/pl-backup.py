#!/usr/bin/python3
"""Pressluft backup objects on a node (backup-create, env-restore), run as root.

  pl-backup.py create   --workdir DIR --scope db|files|full --db NAME --release DIR --uploads DIR
                        --backup-id ID --environment-id ID --created-at ISO --site-url URL --table-prefix P
  pl-backup.py readback --workdir DIR            (rclone lsjson --hash of the uploaded objects on stdin, JSON or base64)
  pl-backup.py verify   --workdir DIR [--checksum sha256:HEX]
  pl-backup.py import-db --workdir DIR --db NAME
  pl-backup.py swap-db  --live NAME --incoming NAME --outgoing NAME

Objects (docs: ansible/README.md "Backups and restore"): db.sql.gz (mariadb-dump, its completion
trailer checked), files.tar.gz (release/ = the current release without the shared links, uploads/
= shared uploads; caches excluded), manifest.json {backup_id, scope, environment_id, created_at,
table_prefix, site_url, objects: {name: {sha256, size}}}. The SHA-256 (and MD5, to compare with
what the store reports) of each object is computed from the bytes as they are written. The
backup's checksum is sha256:<hex of manifest.json>, its size the sum of the objects' sizes.

Every command prints one JSON line; a failure prints {"ok": false, "code", "message"} and exits 1
(3 for a checksum mismatch). Compression: pigz (parallel gzip, same .gz format) when installed,
else gzip. Managed by Pressluft (wp-backup role).
"""
import argparse
import base64
import hashlib
import json
import os
import shutil
import subprocess
import sys
import threading

CHUNK = 1024 * 1024
DUMP_TRAILER = b"-- Dump completed"
LOCAL_SUMS = ".pl-local-sums.json"


class Failure(Exception):
    def __init__(self, code, message, exit_code=1):
        super().__init__(message)
        self.code, self.message, self.exit_code = code, message, exit_code


def out(obj):
    sys.stdout.write(json.dumps(obj, sort_keys=True) + "\n")


def gzip_cmd(decompress=False):
    tool = shutil.which("pigz") or "gzip"
    return [tool, "-dc"] if decompress else [tool, "-c", "-6"]


def hashed_write(source, path):
    """Copies a byte stream into path, hashing what is written; returns (sha256, md5, size)."""
    sha, md5, size = hashlib.sha256(), hashlib.md5(), 0
    with open(path, "wb") as target:
        while True:
            block = source.read(CHUNK)
            if not block:
                break
            target.write(block)
            sha.update(block)
            md5.update(block)
            size += len(block)
        target.flush()
        os.fsync(target.fileno())
    return sha.hexdigest(), md5.hexdigest(), size


def write_db(args, path):
    dump = subprocess.Popen(
        ["mariadb-dump", "--single-transaction", "--quick", "--routines", "--triggers",
         "--default-character-set=utf8mb4", args.db],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    gz = subprocess.Popen(gzip_cmd(), stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    tail = bytearray()
    errors = []

    def pump():
        # The dump goes through this process so its last bytes can be checked for the trailer.
        try:
            while True:
                block = dump.stdout.read(CHUNK)
                if not block:
                    break
                gz.stdin.write(block)
                tail.extend(block)
                del tail[:-512]
        except OSError as exc:  # pigz gone: reported through its exit status
            errors.append(str(exc))
        finally:
            try:
                gz.stdin.close()
            except OSError:
                pass

    thread = threading.Thread(target=pump)
    thread.start()
    sums = hashed_write(gz.stdout, path)
    thread.join()
    dump_err = dump.stderr.read().decode(errors="replace").strip()
    # Every stage of the pipe must succeed (the pipefail rule), and the dump must have reached its end.
    if dump.wait() != 0:
        raise Failure("dump_failed", f"mariadb-dump exited {dump.returncode}: {dump_err[-500:]}")
    if gz.wait() != 0 or errors:
        raise Failure("compress_failed", f"{gz.args[0]} exited {gz.returncode} {' '.join(errors)}")
    if DUMP_TRAILER not in bytes(tail):
        raise Failure("dump_incomplete", "the dump does not end with its completion trailer (-- Dump completed)")
    return sums


def write_files(args, path):
    release = os.path.realpath(args.release)
    parent, stamp = os.path.dirname(release), os.path.basename(release)
    uploads = os.path.realpath(args.uploads)
    excluded = [f"{stamp}/{p}" for p in ("wp-config.php", "wp-content/uploads", "wp-content/object-cache.php",
                                         "wp-content/cache", "wp-content/upgrade", ".pressluft-release")]
    excluded.append("uploads/cache")
    tar_cmd = ["tar", "--create", "--file=-", "--sort=name", "--numeric-owner", "--anchored"]
    tar_cmd += [f"--exclude={p}" for p in excluded]
    # Member names release/… and uploads/…: the release directory's own name is replaced (S: never in link targets).
    if os.path.basename(uploads) != "uploads":
        raise Failure("usage", f"the uploads directory must be named uploads, not {uploads}")
    tar_cmd += [f"--transform=s,^{stamp},release,S", "-C", parent, stamp, "-C", os.path.dirname(uploads), "uploads"]
    tar = subprocess.Popen(tar_cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    gz = subprocess.Popen(gzip_cmd(), stdin=tar.stdout, stdout=subprocess.PIPE)
    tar.stdout.close()
    sums = hashed_write(gz.stdout, path)
    tar_err = tar.stderr.read().decode(errors="replace").strip()
    # tar exits 1 when a file changed while it was read (an upload in progress); the archive is still whole.
    if tar.wait() not in (0, 1):
        raise Failure("archive_failed", f"tar exited {tar.returncode}: {tar_err[-500:]}")
    if gz.wait() != 0:
        raise Failure("compress_failed", f"{gz.args[0]} exited {gz.returncode}")
    return sums


def cmd_create(args):
    work = args.workdir
    os.makedirs(work, mode=0o700, exist_ok=True)
    objects, local = {}, {}
    plan = []
    if args.scope in ("db", "full"):
        plan.append(("db.sql.gz", write_db))
    if args.scope in ("files", "full"):
        plan.append(("files.tar.gz", write_files))
    for name, writer in plan:
        sha, md5, size = writer(args, os.path.join(work, name))
        objects[name] = {"sha256": sha, "size": size}
        local[name] = {"md5": md5, "size": size}
    manifest = {
        "backup_id": args.backup_id, "scope": args.scope, "environment_id": args.environment_id,
        "created_at": args.created_at, "table_prefix": args.table_prefix, "site_url": args.site_url,
        "objects": objects,
    }
    data = (json.dumps(manifest, indent=2, sort_keys=True) + "\n").encode()
    with open(os.path.join(work, "manifest.json"), "wb") as handle:
        handle.write(data)
    local["manifest.json"] = {"md5": hashlib.md5(data).hexdigest(), "size": len(data)}
    with open(os.path.join(work, LOCAL_SUMS), "w", encoding="utf-8") as handle:
        json.dump(local, handle)
    out({"ok": True, "checksum": "sha256:" + hashlib.sha256(data).hexdigest(),
         "size_bytes": sum(o["size"] for o in objects.values()), "objects": sorted(local)})


def cmd_readback(args):
    """Compares what the store lists (size, MD5 where it reports one) with what was written."""
    with open(os.path.join(args.workdir, LOCAL_SUMS), encoding="utf-8") as handle:
        local = json.load(handle)
    raw = sys.stdin.read().strip()
    # The playbook passes the listing base64-encoded; plain JSON is accepted too (runs by hand).
    listing = {e["Path"]: e for e in json.loads(raw if raw.startswith("[") else base64.b64decode(raw))}
    problems, hashes_compared = [], 0
    for name, want in sorted(local.items()):
        got = listing.get(name)
        if got is None:
            problems.append(f"{name} is missing in the store")
            continue
        if got.get("Size") != want["size"]:
            problems.append(f"{name}: store has {got.get('Size')} bytes, {want['size']} were written")
        md5 = (got.get("Hashes") or {}).get("md5") or (got.get("Hashes") or {}).get("MD5")
        if md5:
            hashes_compared += 1
            if md5 != want["md5"]:
                problems.append(f"{name}: store reports MD5 {md5}, {want['md5']} was written")
    if problems:
        raise Failure("readback_mismatch", "; ".join(problems))
    out({"ok": True, "objects": len(local), "md5_compared": hashes_compared})


def file_sums(path):
    sha, size = hashlib.sha256(), 0
    with open(path, "rb") as handle:
        while True:
            block = handle.read(CHUNK)
            if not block:
                break
            sha.update(block)
            size += len(block)
    return sha.hexdigest(), size


def cmd_verify(args):
    """Manifest against the backup row's checksum, then every object against the manifest."""
    path = os.path.join(args.workdir, "manifest.json")
    if not os.path.exists(path):
        raise Failure("checksum_mismatch", "manifest.json was not downloaded", 3)
    with open(path, "rb") as handle:
        data = handle.read()
    actual = "sha256:" + hashlib.sha256(data).hexdigest()
    if args.checksum and actual != args.checksum:
        raise Failure("checksum_mismatch", f"manifest.json has {actual}, the backup record says {args.checksum}", 3)
    manifest = json.loads(data)
    expected = {"db": {"db.sql.gz"}, "files": {"files.tar.gz"}, "full": {"db.sql.gz", "files.tar.gz"}}.get(manifest.get("scope"))
    if expected is None or set(manifest.get("objects", {})) != expected:
        raise Failure("checksum_mismatch", f"manifest scope {manifest.get('scope')!r} does not match its objects", 3)
    for name, want in sorted(manifest["objects"].items()):
        object_path = os.path.join(args.workdir, name)
        if not os.path.exists(object_path):
            raise Failure("checksum_mismatch", f"{name} is missing", 3)
        sha, size = file_sums(object_path)
        if size != want["size"] or sha != want["sha256"]:
            raise Failure("checksum_mismatch", f"{name}: SHA-256 {sha} / {size} bytes, the manifest says {want['sha256']} / {want['size']} bytes", 3)
    out({"ok": True, "manifest": manifest, "checksum": actual})


def cmd_import_db(args):
    """Loads db.sql.gz into a (fresh, empty) database; every stage must succeed."""
    gz = subprocess.Popen(gzip_cmd(decompress=True) + [os.path.join(args.workdir, "db.sql.gz")], stdout=subprocess.PIPE)
    client = subprocess.Popen(["mariadb", "--default-character-set=utf8mb4", args.db], stdin=gz.stdout,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    gz.stdout.close()
    _, err = client.communicate()
    if gz.wait() != 0:
        raise Failure("import_failed", f"decompressing db.sql.gz failed ({gz.returncode})")
    if client.returncode != 0:
        raise Failure("import_failed", f"mariadb exited {client.returncode}: {err.decode(errors='replace')[-500:]}")
    out({"ok": True, "tables": len(tables_of(args.db))})


def mariadb_query(sql):
    result = subprocess.run(["mariadb", "--batch", "--skip-column-names", "-e", sql], capture_output=True, text=True)
    if result.returncode != 0:
        raise Failure("db_error", result.stderr.strip()[-500:])
    return result.stdout


def quote(name):
    return "`" + name.replace("`", "``") + "`"


def tables_of(db):
    rows = mariadb_query(f"SELECT table_name FROM information_schema.tables WHERE table_schema = '{db}' AND table_type = 'BASE TABLE' ORDER BY table_name")
    return [line for line in rows.splitlines() if line]


def cmd_swap_db(args):
    """One RENAME TABLE: every live table → outgoing, every incoming table → live (atomic for readers)."""
    for name in (args.live, args.incoming, args.outgoing):
        if not name.replace("_", "").isalnum():
            raise Failure("usage", f"invalid database name {name!r}")
    live, incoming, outgoing = tables_of(args.live), tables_of(args.incoming), tables_of(args.outgoing)
    if outgoing:
        raise Failure("db_error", f"database {args.outgoing} is not empty")
    if not incoming:
        raise Failure("db_error", f"database {args.incoming} has no tables to switch in")
    pairs = [f"{quote(args.live)}.{quote(t)} TO {quote(args.outgoing)}.{quote(t)}" for t in live]
    pairs += [f"{quote(args.incoming)}.{quote(t)} TO {quote(args.live)}.{quote(t)}" for t in incoming]
    mariadb_query("RENAME TABLE " + ", ".join(pairs))
    out({"ok": True, "switched_out": len(live), "switched_in": len(incoming)})


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    create = sub.add_parser("create")
    for opt in ("workdir", "scope", "db", "release", "uploads", "backup-id", "environment-id", "created-at", "site-url", "table-prefix"):
        create.add_argument("--" + opt, required=True)
    sub.add_parser("readback").add_argument("--workdir", required=True)
    verify = sub.add_parser("verify")
    verify.add_argument("--workdir", required=True)
    verify.add_argument("--checksum", default="")
    imp = sub.add_parser("import-db")
    imp.add_argument("--workdir", required=True)
    imp.add_argument("--db", required=True)
    swap = sub.add_parser("swap-db")
    for opt in ("live", "incoming", "outgoing"):
        swap.add_argument("--" + opt, required=True)
    args = parser.parse_args()
    if getattr(args, "scope", "full") not in ("db", "files", "full"):
        parser.error("--scope must be db, files or full")
    try:
        {"create": cmd_create, "readback": cmd_readback, "verify": cmd_verify,
         "import-db": cmd_import_db, "swap-db": cmd_swap_db}[args.command](args)
    except Failure as failure:
        out({"ok": False, "code": failure.code, "message": failure.message})
        sys.exit(failure.exit_code)


if __name__ == "__main__":
    main()
