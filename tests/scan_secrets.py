#!/usr/bin/env python3
"""After the whole test suite: no file Switchboard wrote holds a secret value a test used.

Usage: scan_secrets.py HOMES_DIR [SECRETS_FILE]

HOMES_DIR holds the SWITCHBOARD_HOMEs the tests kept (testkit `temp_home` and the e2e
`scratch` fixture keep them there when SWITCHBOARD_TEST_KEEP_HOMES is set; `./x test` sets it).
In each home (or its `home/` folder, the e2e layout), every file under `config/`, `data/`, `logs/`
and `run/` is read (logs, the gateway's audit log, pins, install records, uninstall history,
the hosts' ledger, journal and backups, the catalog cache, `servers.json`, `settings.json`,
`run/`) and searched for each value of SECRETS_FILE (default tests/test-secrets.txt) and for
anything of the form `sb-test-secret-…`.

Not searched: the secret store itself (`data/secrets/`), third-party code Switchboard installed
(`data/packages/`, `data/bundles/`), the knowledge base's index (`data/kb/`), and files the tests
themselves wrote beside the state folders (a user's home with the hosts' own files, fixtures).

Allowed, and listed in docs/security.md (6) as not defended:
- a value given with `add --env` / `--header` lives in `servers.json` by design, and
  `hosts apply` (direct mode) copies it into the host's file and so into the hosts' ledger,
  journal and backups: such a value (in that home's `servers.json`, not in its secret store) is
  allowed in `servers.json` and `data/hosts/`;
- what a host's file held before Switchboard wrote it (a user's own entry with its secret, which
  `hosts import` then moves to the store) stays in that file's backups and in the receipts'
  `lead`/`trail` context of the ledger and journal: a value found in a backup
  (`data/hosts/backups/`) is allowed in `data/hosts/`.
Anywhere else (logs, pins, install records, history, the catalog cache, `run/`) nothing is
allowed, and a value from the secret store is allowed nowhere but the store.

Prints one line per finding, `secret-scan: FOUND <value> in <file>`, and a last line
`secret-scan: ok: N homes, N files` or `secret-scan: FAIL: N findings`; exits 1 on a finding.
"""

import re
import sys
from pathlib import Path

STATE = ("config", "data", "logs", "run")
SKIPPED = ("data/secrets", "data/packages", "data/bundles", "data/kb")
BY_DESIGN = ("config/servers.json", "data/hosts/")
PATTERN = re.compile(rb"sb-test-secret-[A-Za-z0-9_-]+")
MAX_BYTES = 64 << 20


def values(path: Path) -> list:
    lines = (line.split("#", 1)[0].strip() for line in path.read_text().splitlines())
    return sorted({line.encode() for line in lines if line})


def homes(root: Path):
    for home in sorted(p for p in root.iterdir() if p.is_dir()):
        if (home / "home").is_dir():
            home = home / "home"
        if any((home / d).is_dir() for d in STATE):
            yield home


def read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError:
        return b""


def scan(root: Path, secrets: list):
    findings, homes_seen, files_seen = [], 0, 0
    for home in homes(root):
        homes_seen += 1
        registry = read(home / "config" / "servers.json")
        store = read(home / "data" / "secrets" / "secrets.json")
        backups = b"\n".join(read(p) for p in (home / "data/hosts/backups").rglob("*") if p.is_file())
        for state in STATE:
            for path in sorted((home / state).rglob("*")):
                rel = path.relative_to(home).as_posix()
                if not path.is_file() or path.is_symlink() or rel.startswith(SKIPPED):
                    continue
                if path.stat().st_size > MAX_BYTES:
                    continue
                files_seen += 1
                data = read(path)
                found = {s for s in secrets if s in data} | set(PATTERN.findall(data))
                for value in sorted(found):
                    by_design = value in registry and value not in store
                    if by_design and rel.startswith(BY_DESIGN):
                        continue
                    if rel.startswith("data/hosts/") and value in backups:
                        continue
                    findings.append((value.decode(errors="replace"), path))
    return findings, homes_seen, files_seen


def main() -> int:
    if len(sys.argv) < 2:
        print(__doc__.splitlines()[2], file=sys.stderr)
        return 2
    root = Path(sys.argv[1])
    secrets_file = Path(sys.argv[2]) if len(sys.argv) > 2 else Path(__file__).with_name("test-secrets.txt")
    secrets = values(secrets_file)
    if not root.is_dir():
        print(f"secret-scan: FAIL: {root} does not exist (no test kept its home)")
        return 1
    findings, homes_seen, files_seen = scan(root, secrets)
    for value, path in findings:
        print(f"secret-scan: FOUND {value} in {path}")
    if findings:
        print(f"secret-scan: FAIL: {len(findings)} findings in {homes_seen} homes, {files_seen} files")
        return 1
    if homes_seen == 0:
        print(f"secret-scan: FAIL: no home under {root} to scan")
        return 1
    print(f"secret-scan: ok: {homes_seen} homes, {files_seen} files, {len(secrets)} listed values")
    return 0


if __name__ == "__main__":
    sys.exit(main())
