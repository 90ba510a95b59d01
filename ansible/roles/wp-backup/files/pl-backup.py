#!/usr/bin/python3
"""Pressluft backup objects on a node (backup-create, env-restore), run as root.

  pl-backup.py create   --remote s3://BUCKET/PREFIX/ --scope db|files|full --db NAME --release DIR --uploads DIR
                        --backup-id ID --environment-id ID --created-at ISO --site-url URL   (storage JSON on stdin)
  pl-backup.py rclone -- ARGS…   runs rclone with the remote pls3: configured from the storage JSON on stdin
  pl-backup.py verify   --workdir DIR [--checksum sha256:HEX]
  pl-backup.py import-db --workdir DIR --db NAME
  pl-backup.py swap-db  --live NAME --incoming NAME --outgoing NAME

Objects (docs: ansible/README.md "Backups and restore"): db.sql.gz (mariadb-dump, its completion
trailer checked), files.tar.gz (release/ = the current release without the shared links, uploads/
= shared uploads; caches excluded), manifest.json {backup_id, scope, environment_id, created_at,
table_prefix, site_url, objects: {name: {sha256, size}}}. The backup's checksum is
sha256:<hex of manifest.json>, its size the sum of the objects' sizes.

create streams: the dump and the archive are written at the same time, each through pigz straight into
`rclone rcat` (nothing is stored on the node), and their SHA-256, MD5 and per-part MD5s are computed from
the bytes as they pass. A stage that fails (dump, tar, pigz, rclone) or a dump without its completion
trailer fails the backup, and rclone is stopped before it completes that object. manifest.json is uploaded
last. Then every object is read back from the store with a signed HEAD request: its size, and its ETag
compared with the MD5 of what was written (single-part form, or the multipart form
md5(part MD5s)-N); an ETag in neither form (a store that does not use MD5 ETags) is checked by reading
the object back and comparing its SHA-256. The storage settings (key, secret, endpoint, region) come on
stdin as JSON, never in argv (nor in Ansible's `environment:`, which the node's shell receives in its
command line); rclone gets them in its environment only.

Every command prints one JSON line; a failure prints {"ok": false, "code", "message"} (create adds
"rclone": the tail of rclone's own error output, which never holds credentials) and exits 1 (3 for a
checksum mismatch). Compression: pigz (parallel gzip, same .gz format) when installed, else gzip.
Managed by Pressluft (wp-backup role).
"""
import argparse
import datetime
import hashlib
import hmac
import http.client
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import urllib.parse

CHUNK = 1024 * 1024
DUMP_TRAILER = b"-- Dump completed"
# rclone's part size for uploads of unknown length (rcat): every part but the last has exactly this size,
# which is what makes the store's multipart ETag predictable.
PART_MIB = 8
PART = PART_MIB * 1024 * 1024
PHP_HELPER = "/usr/local/lib/pressluft/pl-wp.php"


class Failure(Exception):
    def __init__(self, code, message, exit_code=1, rclone=""):
        super().__init__(message)
        self.code, self.message, self.exit_code, self.rclone = code, message, exit_code, rclone


def out(obj):
    sys.stdout.write(json.dumps(obj, sort_keys=True) + "\n")


def gzip_cmd(decompress=False):
    tool = shutil.which("pigz") or "gzip"
    return [tool, "-dc"] if decompress else [tool, "-c", "-6"]


# ---- storage access: rclone for writing, a signed HEAD request for reading back ----

class Storage:
    def __init__(self, settings, remote=None):
        self.key = settings["access_key_id"]
        self.secret = settings["secret_access_key"]
        self.endpoint = (settings.get("endpoint") or "").rstrip("/")
        self.region = settings.get("region") or "us-east-1"
        if remote is not None:
            parsed = urllib.parse.urlparse(remote)
            if parsed.scheme != "s3" or not parsed.netloc or not remote.endswith("/"):
                raise Failure("usage", f"--remote must be s3://<bucket>/<prefix>/, not {remote}")
            self.bucket, self.prefix = parsed.netloc, parsed.path.lstrip("/")
        self.env = dict(os.environ)
        self.env.update({
            "RCLONE_CONFIG": "/dev/null",
            "RCLONE_CONFIG_PLS3_TYPE": "s3",
            "RCLONE_CONFIG_PLS3_PROVIDER": "Other" if self.endpoint else "AWS",
            "RCLONE_CONFIG_PLS3_ENV_AUTH": "false",
            "RCLONE_CONFIG_PLS3_ACCESS_KEY_ID": self.key,
            "RCLONE_CONFIG_PLS3_SECRET_ACCESS_KEY": self.secret,
            "RCLONE_CONFIG_PLS3_ENDPOINT": self.endpoint,
            "RCLONE_CONFIG_PLS3_REGION": self.region,
            "RCLONE_CONFIG_PLS3_FORCE_PATH_STYLE": "true" if self.endpoint else "false",
            # The bucket is the operator's; never try to create it.
            "RCLONE_CONFIG_PLS3_NO_CHECK_BUCKET": "true",
            "RCLONE_CONFIG_PLS3_CHUNK_SIZE": f"{PART_MIB}M",
            "RCLONE_RETRIES": "2",
            "RCLONE_LOW_LEVEL_RETRIES": "3",
            "RCLONE_STATS_LOG_LEVEL": "DEBUG",
        })

    def rclone_path(self, name):
        return f"pls3:{self.bucket}/{self.prefix}{name}"

    def _target(self, name):
        key = urllib.parse.quote(self.prefix + name, safe="/-_.~")
        if self.endpoint:
            url = urllib.parse.urlparse(self.endpoint)
            return url.scheme, url.netloc, f"{url.path.rstrip('/')}/{self.bucket}/{key}"
        return "https", f"{self.bucket}.s3.{self.region}.amazonaws.com", f"/{key}"

    def signed_head(self, name, now=None):
        """A HEAD request for one object signed with AWS Signature V4: (scheme, host, path, headers)."""
        scheme, host, path = self._target(name)
        now = now or datetime.datetime.now(datetime.timezone.utc)
        amz_date, day = now.strftime("%Y%m%dT%H%M%SZ"), now.strftime("%Y%m%d")
        payload = hashlib.sha256(b"").hexdigest()
        headers = {"host": host, "x-amz-content-sha256": payload, "x-amz-date": amz_date}
        signed = ";".join(sorted(headers))
        canonical = "\n".join(["HEAD", path, "", "".join(f"{k}:{headers[k]}\n" for k in sorted(headers)), signed, payload])
        scope = f"{day}/{self.region}/s3/aws4_request"
        to_sign = "\n".join(["AWS4-HMAC-SHA256", amz_date, scope, hashlib.sha256(canonical.encode()).hexdigest()])
        key = ("AWS4" + self.secret).encode()
        for part in (day, self.region, "s3", "aws4_request"):
            key = hmac.new(key, part.encode(), hashlib.sha256).digest()
        signature = hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()
        headers["authorization"] = f"AWS4-HMAC-SHA256 Credential={self.key}/{scope}, SignedHeaders={signed}, Signature={signature}"
        return scheme, host, path, headers

    def head(self, name):
        """HEAD of one object: (status, Content-Length, ETag without quotes)."""
        scheme, host, path, headers = self.signed_head(name)
        conn_class = http.client.HTTPSConnection if scheme == "https" else http.client.HTTPConnection
        conn = conn_class(host, timeout=60)
        try:
            # The Host header exactly as signed (http.client would drop a default port).
            conn.request("HEAD", path, headers=headers)
            res = conn.getresponse()
            res.read()
            return res.status, int(res.getheader("Content-Length") or -1), (res.getheader("ETag") or "").strip('"')
        finally:
            conn.close()


class Sums:
    """SHA-256, MD5 and the MD5 of every PART-sized part of a byte stream, fed as it passes."""

    def __init__(self):
        self.sha, self.md5, self.size = hashlib.sha256(), hashlib.md5(), 0
        self.parts, self.part, self.part_left = [], hashlib.md5(), PART

    def update(self, block):
        self.sha.update(block)
        self.md5.update(block)
        self.size += len(block)
        view = memoryview(block)
        while len(view):
            take = min(self.part_left, len(view))
            self.part.update(view[:take])
            view, self.part_left = view[take:], self.part_left - take
            if self.part_left == 0:
                self.parts.append(self.part.digest())
                self.part, self.part_left = hashlib.md5(), PART

    def etags(self):
        """The ETags a store that uses MD5 ETags can report: single-part, and the multipart form."""
        parts = self.parts + ([self.part.digest()] if self.part_left != PART or not self.parts else [])
        return {self.md5.hexdigest(), hashlib.md5(b"".join(parts)).hexdigest() + f"-{len(parts)}"}


def stop(proc):
    if proc and proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def tail(handle):
    handle.seek(0)
    return handle.read().decode(errors="replace").strip()[-800:]


class Upload:
    """One object: bytes from `source` (a pipe) through the hashes into `rclone rcat`."""

    def __init__(self, storage, name, abort):
        self.storage, self.name, self.abort = storage, name, abort
        self.sums = Sums()
        self.err = tempfile.TemporaryFile()
        self.rcat = subprocess.Popen(["rclone", "rcat", storage.rclone_path(name)], stdin=subprocess.PIPE,
                                     stdout=subprocess.DEVNULL, stderr=self.err, env=storage.env)

    def pump(self, source):
        """Copies until EOF; False when the upload (or the other object's pipeline) failed meanwhile."""
        while not self.abort.is_set():
            block = source.read(CHUNK)
            if not block:
                return True
            self.sums.update(block)
            try:
                self.rcat.stdin.write(block)
            except (BrokenPipeError, OSError):
                return False
        return False

    def cancel(self):
        # rclone stopped by a signal aborts its multipart upload: the object is never completed.
        stop(self.rcat)

    def finish(self):
        self.rcat.stdin.close()
        if self.rcat.wait() != 0:
            raise Failure("upload_failed", f"uploading {self.name} failed (rclone exited {self.rcat.returncode})",
                          rclone=tail(self.err))

    def failed(self, code, message):
        self.cancel()
        rclone = tail(self.err) if self.rcat.returncode not in (None, 0, -signal.SIGTERM, -signal.SIGKILL) else ""
        if rclone:
            return Failure("upload_failed", f"uploading {self.name} failed (rclone exited {self.rcat.returncode})", rclone=rclone)
        return Failure(code, message)


def stream_db(args, upload):
    err = tempfile.TemporaryFile()
    dump = subprocess.Popen(
        ["mariadb-dump", "--single-transaction", "--quick", "--routines", "--triggers",
         "--default-character-set=utf8mb4", args.db],
        stdout=subprocess.PIPE, stderr=err)
    gz = subprocess.Popen(gzip_cmd(), stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    last = bytearray()
    errors = []

    def feed():
        # The dump passes through this process so its last bytes can be checked for the trailer.
        try:
            while True:
                block = dump.stdout.read(CHUNK)
                if not block:
                    break
                gz.stdin.write(block)
                last.extend(block)
                del last[:-512]
        except OSError as exc:  # pigz gone: reported through its exit status
            errors.append(str(exc))
        finally:
            try:
                gz.stdin.close()
            except OSError:
                pass

    feeder = threading.Thread(target=feed)
    feeder.start()
    complete = upload.pump(gz.stdout)
    if not complete:
        stop(dump)
        stop(gz)
    feeder.join()
    dump.wait()
    gz.wait()
    if not complete:
        raise upload.failed("aborted", "stopped because the other backup object failed")
    # Every stage of the pipe must succeed (the pipefail rule), and the dump must have reached its end.
    if dump.returncode != 0:
        raise upload.failed("dump_failed", f"mariadb-dump exited {dump.returncode}: {tail(err)[-500:]}")
    if gz.returncode != 0 or errors:
        raise upload.failed("compress_failed", f"{gz.args[0]} exited {gz.returncode} {' '.join(errors)}")
    if DUMP_TRAILER not in bytes(last):
        raise upload.failed("dump_incomplete", "the dump does not end with its completion trailer (-- Dump completed)")
    upload.finish()


def stream_files(args, upload):
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
        raise upload.failed("usage", f"the uploads directory must be named uploads, not {uploads}")
    tar_cmd += [f"--transform=s,^{stamp},release,S", "-C", parent, stamp, "-C", os.path.dirname(uploads), "uploads"]
    err = tempfile.TemporaryFile()
    tar = subprocess.Popen(tar_cmd, stdout=subprocess.PIPE, stderr=err)
    gz = subprocess.Popen(gzip_cmd(), stdin=tar.stdout, stdout=subprocess.PIPE)
    tar.stdout.close()
    complete = upload.pump(gz.stdout)
    if not complete:
        stop(tar)
        stop(gz)
    tar.wait()
    gz.wait()
    if not complete:
        raise upload.failed("aborted", "stopped because the other backup object failed")
    # tar exits 1 when a file changed while it was read (an upload in progress); the archive is still whole.
    if tar.returncode not in (0, 1):
        raise upload.failed("archive_failed", f"tar exited {tar.returncode}: {tail(err)[-500:]}")
    if gz.returncode != 0:
        raise upload.failed("compress_failed", f"{gz.args[0]} exited {gz.returncode}")
    upload.finish()


def read_back(storage, name, sums):
    """What the store holds for one object, compared with what was written."""
    try:
        status, size, etag = storage.head(name)
    except OSError as exc:
        raise Failure("readback_failed", f"reading back {name} failed: {exc}") from exc
    if status in (401, 403):
        raise Failure("readback_failed", f"reading back {name} was refused", rclone=f"HEAD {name}: status code: {status}")
    if status != 200:
        raise Failure("readback_mismatch", f"{name}: the store answered HTTP {status} to a HEAD request after the upload")
    if size != sums.size:
        raise Failure("readback_mismatch", f"{name}: the store has {size} bytes, {sums.size} were written")
    if etag in sums.etags():
        return "etag"
    # Not an MD5 ETag of these bytes: read the object back and compare its SHA-256.
    err = tempfile.TemporaryFile()
    cat = subprocess.Popen(["rclone", "cat", storage.rclone_path(name)], stdout=subprocess.PIPE, stderr=err, env=storage.env)
    sha, count = hashlib.sha256(), 0
    for block in iter(lambda: cat.stdout.read(CHUNK), b""):
        sha.update(block)
        count += len(block)
    if cat.wait() != 0:
        raise Failure("readback_failed", f"reading back {name} failed (rclone exited {cat.returncode})", rclone=tail(err))
    if count != sums.size or sha.hexdigest() != sums.sha.hexdigest():
        raise Failure("readback_mismatch", f"{name}: the store returns SHA-256 {sha.hexdigest()} / {count} bytes, "
                                           f"{sums.sha.hexdigest()} / {sums.size} bytes were written")
    return "sha256"


def table_prefix(release):
    if not os.path.exists(os.path.join(release, "wp-load.php")):
        raise Failure("no_release", f"the environment has no current release at {release}")
    result = subprocess.run(["php", PHP_HELPER, f"--root={release}", "table-prefix"], capture_output=True, text=True)
    if result.returncode != 0:
        raise Failure("table_prefix", f"reading the table prefix failed: {(result.stdout + result.stderr).strip()[-300:]}")
    return json.loads(result.stdout)["table_prefix"]


def read_settings():
    try:
        settings = json.loads(sys.stdin.read())
        if not settings.get("access_key_id") or "secret_access_key" not in settings:
            raise ValueError("no key")
        return settings
    except (ValueError, AttributeError) as exc:
        raise Failure("usage", "the storage settings are read as JSON on stdin") from exc


def cmd_rclone(args):
    """rclone with the storage's credentials in its environment only (the s3-transfer role's tasks)."""
    storage = Storage(read_settings())
    argv = args.rclone_args[1:] if args.rclone_args[:1] == ["--"] else args.rclone_args
    sys.stdout.flush()
    os.execvpe("rclone", ["rclone"] + argv, storage.env)


def cmd_create(args):
    storage = Storage(read_settings(), args.remote)
    prefix = table_prefix(args.release)
    plan = []
    if args.scope in ("db", "full"):
        plan.append(("db.sql.gz", stream_db))
    if args.scope in ("files", "full"):
        plan.append(("files.tar.gz", stream_files))
    abort = threading.Event()
    uploads, failures = {}, []

    def run(name, writer):
        upload = uploads[name]
        try:
            writer(args, upload)
        except Failure as failure:
            failures.append(failure)
            abort.set()
        except Exception as exc:  # noqa: BLE001 - reported like any other failure
            upload.cancel()
            failures.append(Failure("internal", f"{name}: {exc}"))
            abort.set()

    try:
        for name, _ in plan:
            uploads[name] = Upload(storage, name, abort)
    except OSError as exc:
        raise Failure("upload_failed", f"rclone could not be started: {exc}") from exc
    threads = [threading.Thread(target=run, args=item) for item in plan]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if failures:
        # The first real cause, not the other object's "stopped because …".
        raise sorted(failures, key=lambda f: f.code == "aborted")[0]

    objects = {name: {"sha256": u.sums.sha.hexdigest(), "size": u.sums.size} for name, u in uploads.items()}
    manifest = {
        "backup_id": args.backup_id, "scope": args.scope, "environment_id": args.environment_id,
        "created_at": args.created_at, "table_prefix": prefix, "site_url": args.site_url,
        "objects": objects,
    }
    data = (json.dumps(manifest, indent=2, sort_keys=True) + "\n").encode()
    upload = Upload(storage, "manifest.json", abort)
    upload.sums.update(data)
    try:
        upload.rcat.stdin.write(data)
    except OSError:
        pass
    upload.finish()
    uploads["manifest.json"] = upload

    checked = {name: read_back(storage, name, u.sums) for name, u in sorted(uploads.items())}
    out({"ok": True, "checksum": "sha256:" + hashlib.sha256(data).hexdigest(),
         "size_bytes": sum(o["size"] for o in objects.values()), "objects": sorted(uploads), "read_back": checked})


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
    for opt in ("remote", "scope", "db", "release", "uploads", "backup-id", "environment-id", "created-at", "site-url"):
        create.add_argument("--" + opt, required=True)
    sub.add_parser("rclone").add_argument("rclone_args", nargs=argparse.REMAINDER)
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
        {"create": cmd_create, "rclone": cmd_rclone, "verify": cmd_verify,
         "import-db": cmd_import_db, "swap-db": cmd_swap_db}[args.command](args)
    except Failure as failure:
        result = {"ok": False, "code": failure.code, "message": failure.message}
        if failure.rclone:
            result["rclone"] = failure.rclone
        out(result)
        sys.exit(failure.exit_code)


if __name__ == "__main__":
    main()
