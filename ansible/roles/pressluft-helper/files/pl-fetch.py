#!/usr/bin/python3
"""Pressluft download of an import archive that cannot be pointed at the node's own services (SSRF defence).

  pl-fetch.py --url URL --dest FILE --max-bytes N [--refuse-address IP ...] [--allow HOSTS-AND-RANGES]
  pl-fetch.py --check-only --url URL [--refuse-address IP ...] [--allow HOSTS-AND-RANGES]

--check-only resolves and checks the URL's host the same way without downloading and prints
{"ok": true, "host": name, "port": n, "address": ip}, so another client (git) can be pinned to that address.

Every hop (the URL and each redirect, at most 5) is resolved here; if any address of the host is refused, the download
is refused. Otherwise curl --fail is pinned to the checked address with --resolve, follows no redirect by itself, and
the address it actually connected to (%{remote_ip}) must be the pinned one.

Always refused: loopback, "this network", link-local (cloud metadata 169.254.169.254 among them), the metadata
addresses fd00:ec2::254 and 100.100.100.200, every address configured on this node and the --refuse-address ones.
Refused unless --allow names the hop's host name or a range holding the address: RFC 1918 private, shared/CGNAT
100.64/10, IETF, documentation, benchmarking (198.18.0.0/15) and 6to4 relay ranges, multicast, reserved and broadcast;
IPv6 unique-local, site-local, discard, IETF/Teredo, documentation, 6to4 and multicast. IPv4-mapped and NAT64 forms
are judged as the IPv4 address. --allow is the operator setting import_allowed_sources: comma-separated host names
(matched exactly) and CIDR ranges (a bare address is a single host); the same rules as the control plane's
runtime/contracts/archive-url.ts.

Prints one JSON line {"ok": true, "url": final URL, "address": ip, "bytes": n} (exit 0) or {"ok": false, "error": "..."}
(exit 1). Managed by Pressluft (pressluft-helper role).
"""
import argparse
import ipaddress
import json
import os
import socket
import subprocess
import sys
import urllib.parse

ALWAYS = [ipaddress.ip_network(n) for n in (
    "0.0.0.0/8", "127.0.0.0/8", "169.254.0.0/16", "100.100.100.200/32",
    "::/128", "::1/128", "fe80::/10", "fd00:ec2::254/128",
)]
REFUSED = [ipaddress.ip_network(n) for n in (
    "10.0.0.0/8", "100.64.0.0/10", "172.16.0.0/12", "192.0.0.0/24", "192.0.2.0/24", "192.88.99.0/24", "192.168.0.0/16",
    "198.18.0.0/15", "198.51.100.0/24", "203.0.113.0/24", "224.0.0.0/4", "240.0.0.0/4",
    "100::/64", "2001::/23", "2001:db8::/32", "2002::/16", "fc00::/7", "fec0::/10", "ff00::/8",
)]
MAX_HOPS = 5


class Refused(Exception):
    pass


def own_addresses():
    found = set()
    try:
        out = subprocess.run(["ip", "-j", "address", "show"], capture_output=True, text=True, check=True).stdout
        for link in json.loads(out):
            for info in link.get("addr_info", []):
                found.add(ipaddress.ip_address(info["local"].split("%")[0]))
    except (OSError, subprocess.CalledProcessError, ValueError, KeyError):
        pass
    return found


def parse_allow(value):
    """(host names, networks) of an import_allowed_sources value; entries that are neither are ignored."""
    hosts, networks = set(), []
    for entry in (value or "").split(","):
        entry = entry.strip()
        if not entry:
            continue
        try:
            networks.append(ipaddress.ip_network(entry, strict=True))
        except ValueError:
            if "/" not in entry and ":" not in entry:
                hosts.add(entry.lower())
    return hosts, networks


def refusal(address, own, hostname="", allow=(set(), [])):
    ip = ipaddress.ip_address(address.split("%")[0])
    if ip.version == 6:
        if ip.ipv4_mapped:
            ip = ip.ipv4_mapped
        elif ip in ipaddress.ip_network("64:ff9b::/96"):
            ip = ipaddress.ip_address(int(ip) & 0xFFFFFFFF)
    if ip in own:
        return "%s is an address of this server" % ip
    for net in ALWAYS:
        if ip.version == net.version and ip in net:
            return "%s is in the always refused range %s (loopback, link-local or metadata)" % (ip, net)
    hosts, networks = allow
    for net in REFUSED:
        if ip.version == net.version and ip in net:
            if hostname.lower() in hosts:
                return None
            if any(ip.version == a.version and ip in a for a in networks):
                return None
            return "%s is in the refused range %s (not in import_allowed_sources)" % (ip, net)
    return None


def checked_hop(url, own, allow):
    """(host, port, address) of one URL whose every address passed the checks; raises Refused otherwise."""
    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise Refused("only http and https URLs with a host are allowed: %s" % url)
    if parts.username or parts.password:
        raise Refused("URLs with credentials are not allowed")
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        infos = socket.getaddrinfo(parts.hostname, port, type=socket.SOCK_STREAM)
    except socket.gaierror as err:
        raise Refused("cannot resolve %s: %s" % (parts.hostname, err))
    addresses = sorted({info[4][0] for info in infos})
    for address in addresses:
        reason = refusal(address, own, parts.hostname, allow)
        if reason:
            raise Refused("refusing %s: %s" % (parts.hostname, reason))
    return parts.hostname, port, addresses[0]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", required=True)
    parser.add_argument("--check-only", action="store_true")
    parser.add_argument("--dest")
    parser.add_argument("--max-bytes", type=int)
    parser.add_argument("--refuse-address", action="append", default=[])
    parser.add_argument("--allow", default="")
    args = parser.parse_args()
    if not args.check_only and (args.dest is None or args.max_bytes is None):
        parser.error("--dest and --max-bytes are required unless --check-only")
    allow = parse_allow(args.allow)
    own = own_addresses()
    for extra in args.refuse_address:
        if extra:
            own.add(ipaddress.ip_address(extra))
    url = args.url
    if args.check_only:
        try:
            host, port, address = checked_hop(url, own, allow)
        except Refused as err:
            print(json.dumps({"ok": False, "error": str(err)}))
            return 1
        print(json.dumps({"ok": True, "host": host, "port": port, "address": address}))
        return 0
    # Written under a temporary name and renamed when complete, so an interrupted download never looks finished.
    part = args.dest + ".part"
    try:
        for _hop in range(MAX_HOPS + 1):
            host, port, address = checked_hop(url, own, allow)
            pin = "[%s]" % address if ":" in address else address
            result = subprocess.run([
                "curl", "--fail", "--silent", "--show-error", "--proto", "=http,https", "--max-redirs", "0",
                "--max-filesize", str(args.max_bytes), "--connect-timeout", "10", "--max-time", "1800",
                "--resolve", "%s:%d:%s" % (host, port, pin), "--output", part,
                "--write-out", "%{http_code}\n%{redirect_url}\n%{remote_ip}", "--", url,
            ], capture_output=True, text=True)
            lines = (result.stdout.splitlines() + ["", "", ""])[:3]
            code, redirect, remote = lines
            if remote and remote.strip("[]") != address:
                raise Refused("connected to %s instead of the checked %s" % (remote, address))
            if result.returncode != 0:
                raise Refused("curl failed (exit %d, HTTP %s): %s" % (result.returncode, code or "-", result.stderr.strip()[-300:]))
            if code.startswith("3") and redirect:
                url = redirect
                continue
            if code != "200":
                raise Refused("HTTP %s from %s" % (code, url))
            size = os.path.getsize(part)
            if size > args.max_bytes:
                raise Refused("archive is %d bytes, over the limit of %d" % (size, args.max_bytes))
            os.rename(part, args.dest)
            print(json.dumps({"ok": True, "url": url, "address": address, "bytes": size}))
            return 0
        raise Refused("more than %d redirects" % MAX_HOPS)
    except Refused as err:
        if os.path.exists(part):
            os.unlink(part)
        print(json.dumps({"ok": False, "error": str(err)}))
        return 1


if __name__ == "__main__":
    sys.exit(main())
