"""Check (and, as root, install) the Debian packages the test suite needs.

``make test`` runs this before it installs the ``reader`` extra, because pyscard is built from
source against ``libpcsclite-dev`` with ``swig``. The e2e tests drive Debian's Chromium and the
card tests run ``pcscd`` with the ``vsmartcard-vpcd`` virtual reader driver.

- Everything present: prints one line and exits 0.
- Something missing and running as root: ``apt-get install -y`` the missing packages; only when
  that fails for want of package lists (none yet, or stale ones) does it run ``apt-get update``
  and try once more.
- Something missing otherwise: prints exactly which packages to install, and the command, and
  exits 1.

Only the standard library is used, so it runs before anything else is installed:
``python -m onshi.devtools.test_prerequisites`` (``--check`` never installs).
"""

from __future__ import annotations

import argparse
import glob
import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Requirement:
    package: str
    why: str
    probes: tuple[str, ...]
    """Files (glob patterns) of which at least one must exist, or commands on PATH (``cmd:``)."""

    def present(self) -> bool:
        return _dpkg_installed(self.package) and any(_probe(p) for p in self.probes)


REQUIREMENTS: tuple[Requirement, ...] = (
    Requirement(
        "chromium",
        "the browser the e2e tests drive (Playwright cannot download its own here)",
        ("/usr/bin/chromium",),
    ),
    Requirement(
        "pcscd", "the PC/SC daemon between pyscard and the card reader", ("/usr/sbin/pcscd",)
    ),
    Requirement(
        "vsmartcard-vpcd",
        "the virtual reader driver the virtual card speaks to",
        ("/usr/lib/pcsc/drivers/serial/libifdvpcd.so*",),
    ),
    Requirement(
        "libpcsclite-dev",
        "headers pyscard is compiled against",
        ("/usr/include/PCSC/winscard.h",),
    ),
    Requirement("swig", "generates pyscard's C wrapper at build time", ("cmd:swig",)),
    Requirement(
        "opensc",
        "standard PC/SC middleware (pkcs11-tool, the jpki driver) that must bind to the "
        "virtual My Number card",
        ("cmd:pkcs11-tool",),
    ),
    Requirement(
        "opensc-pkcs11",
        "OpenSC's PKCS#11 module, through which pkcs11-tool signs with the card",
        ("/usr/lib/*/opensc-pkcs11.so", "/usr/lib/opensc-pkcs11.so"),
    ),
)

PCSCD_RUNTIME_DIR = Path("/run/pcscd")
"""pcscd refuses to start without it; systemd makes it at boot, containers often lack it."""

_MISSING_LISTS_MARKERS = (
    "Unable to locate package",
    "has no installation candidate",
    "Failed to fetch",
    "404  Not Found",
    "404 Not Found",
)

Runner = Callable[[Sequence[str]], "subprocess.CompletedProcess[str]"]


def _dpkg_installed(package: str) -> bool:
    """True when dpkg says the package is installed; without dpkg (not Debian) only the probes
    decide."""
    dpkg_query = shutil.which("dpkg-query")
    if dpkg_query is None:
        return True
    result = subprocess.run(  # noqa: S603 - fixed argv, no shell
        [dpkg_query, "-W", "-f=${Status}", package],
        capture_output=True,
        text=True,
        check=False,
    )
    return (
        result.returncode == 0
        and result.stdout.strip().endswith("installed")
        and ("not-installed" not in result.stdout)
    )


def _probe(pattern: str) -> bool:
    if pattern.startswith("cmd:"):
        return shutil.which(pattern.removeprefix("cmd:")) is not None
    return bool(glob.glob(pattern))


def missing_packages(requirements: Sequence[Requirement] = REQUIREMENTS) -> list[Requirement]:
    return [req for req in requirements if not req.present()]


def _run(argv: Sequence[str]) -> subprocess.CompletedProcess[str]:
    """Run a command, showing its output as it comes (an install can take minutes) and keeping
    it to look for apt's messages."""
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    print("+ " + " ".join(argv), flush=True)
    lines: list[str] = []
    with subprocess.Popen(  # noqa: S603 - fixed argv, no shell
        list(argv),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        text=True,
        env=env,
    ) as process:
        for line in process.stdout or ():
            if not line.startswith("(Reading database ..."):
                sys.stdout.write(line)
                sys.stdout.flush()
            lines.append(line)
    return subprocess.CompletedProcess(list(argv), process.returncode, "".join(lines), "")


def needs_package_lists(result: subprocess.CompletedProcess[str]) -> bool:
    output = result.stdout + result.stderr
    return any(marker in output for marker in _MISSING_LISTS_MARKERS)


def apt_install(packages: Sequence[str], run: Runner = _run) -> bool:
    """``apt-get install -y``; ``apt-get update`` and one retry only when the lists are missing
    or stale. Returns whether the packages are now installed."""
    install = ["apt-get", "install", "-y", *packages]
    result = run(install)
    if result.returncode == 0:
        return True
    if not needs_package_lists(result):
        return False
    if run(["apt-get", "update"]).returncode != 0:
        return False
    return run(install).returncode == 0


def _is_root() -> bool:
    return hasattr(os, "geteuid") and os.geteuid() == 0


def _install_command(packages: Sequence[str]) -> str:
    sudo = "" if _is_root() else "sudo "
    return f"{sudo}apt-get install -y {' '.join(packages)}"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m onshi.devtools.test_prerequisites",
        description="Check (as root: install) the Debian packages the test suite needs.",
    )
    parser.add_argument("--check", action="store_true", help="only check, never install")
    args = parser.parse_args(argv)

    missing = missing_packages()
    if missing and _is_root() and not args.check and shutil.which("apt-get"):
        names = [req.package for req in missing]
        print(f"test prerequisites: installing {' '.join(names)}", flush=True)
        if not apt_install(names):
            print("test prerequisites: apt-get could not install them (see above)", file=sys.stderr)
        missing = missing_packages()

    if _is_root() and not args.check and not PCSCD_RUNTIME_DIR.is_dir():
        PCSCD_RUNTIME_DIR.mkdir(parents=True, exist_ok=True)

    problems: list[str] = []
    if missing:
        names = [req.package for req in missing]
        lines = [f"  {req.package:<17} {req.why}" for req in missing]
        problems.append(
            "The tests need these Debian packages, which are not installed:\n"
            + "\n".join(lines)
            + f"\nInstall them with:\n  {_install_command(names)}"
        )
    if not PCSCD_RUNTIME_DIR.is_dir():
        problems.append(
            f"pcscd needs the directory {PCSCD_RUNTIME_DIR}; create it with:\n"
            f"  {'' if _is_root() else 'sudo '}mkdir -p {PCSCD_RUNTIME_DIR}"
        )
    if problems:
        print("\n\n".join(problems), file=sys.stderr)
        return 1
    print(
        "test prerequisites: all present ("
        + ", ".join(req.package for req in REQUIREMENTS)
        + f", {PCSCD_RUNTIME_DIR})"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
