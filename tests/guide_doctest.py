#!/usr/bin/env python3
"""Runs every ```sh block of docs/GUIDE.md, in order, as one bash -Eeuo pipefail script.

Usage: guide_doctest.py GUIDE.md BIN_DIR

The script runs in a fresh temporary directory that holds the guide's example data, made here without numpy:
  data/source  48 grey 28x28 PNGs: disc_00..23 (filled discs) and square_00..23 (hollow squares)
  data/target  48 grey 28x28 PNGs: bar_00..23 (vertical bars) and cross_00..23 (diagonal crosses)
  data/new      6 grey 28x28 PNGs: 3 discs and 3 squares the project never saw
BIN_DIR (the build's bin directory, holding otcs and otcs-workbench) comes first on PATH; the settings, state and
pack cache of otcs and the workbench go to the temporary directory too. A line that starts with `xvfb-run` is
skipped (and said so) when xvfb-run is not installed or BIN_DIR has no otcs-workbench.

The process is pinned to one CPU, so otcs uses one LibTorch thread: on a 2-core machine that other jobs share,
one thread trains the guide's small UNet several times faster than two busy-waiting OpenMP threads
(docs/PERFORMANCE.md, "Shared cores break OpenMP").

A failing command fails the test with the guide's line number and the command. The temporary directory is removed
after a pass (unless OTCS_GUIDE_KEEP is set) and kept, its path printed, after a failure.
"""
import os
import random
import re
import shlex
import shutil
import struct
import subprocess
import sys
import tempfile
import time
import zlib


def write_png(path, rows):
    """8-bit greyscale PNG from a list of rows of ints 0..255."""
    height, width = len(rows), len(rows[0])
    raw = b"".join(b"\x00" + bytes(r) for r in rows)

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    with open(path, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0))
                + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b""))


def shape(kind, rng, size=28):
    """One shape, centred within a pixel, of a random size and brightness. The two kinds of a side have nearly
    disjoint supports (a filled centre against a frame near the border; a vertical bar against two diagonals), so
    pixel distances separate them and keypoint pairs can steer the coupling."""
    cx, cy = size // 2 + rng.randint(-1, 1), size // 2 + rng.randint(-1, 1)
    r = rng.randint(9, 11) if kind == "square" else rng.randint(5, 7)
    value = rng.randint(200, 255)
    rows = [[0] * size for _ in range(size)]
    for y in range(size):
        for x in range(size):
            dx, dy = x - cx, y - cy
            if kind == "disc":
                on = dx * dx + dy * dy <= r * r
            elif kind == "square":
                on = r - 2 <= max(abs(dx), abs(dy)) <= r
            elif kind == "bar":
                on = abs(dx) <= 2 and abs(dy) <= r + 3
            else:  # cross
                on = (abs(dx - dy) <= 1 or abs(dx + dy) <= 1) and max(abs(dx), abs(dy)) <= r
            if on:
                rows[y][x] = value
    return rows


def make_folder(path, kinds, per_kind, seed):
    os.makedirs(path)
    rng = random.Random(seed)
    for kind in kinds:
        for i in range(per_kind):
            write_png(os.path.join(path, f"{kind}_{i:02d}.png"), shape(kind, rng))


def sh_blocks(guide):
    """[(line number of the block's first command, [lines])] of every ```sh block, in order."""
    blocks, current, start = [], None, 0
    with open(guide, encoding="utf-8") as f:
        for number, line in enumerate(f, 1):
            line = line.rstrip("\n")
            if current is None:
                if re.fullmatch(r"```sh\s*", line):
                    current, start = [], number + 1
            elif re.fullmatch(r"```\s*", line):
                blocks.append((start, current))
                current = None
            else:
                current.append(line)
    if current is not None:
        sys.exit(f"{guide}:{start - 1}: a ```sh block is not closed")
    return blocks


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    guide, bin_dir = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
    if not os.access(os.path.join(bin_dir, "otcs"), os.X_OK):
        sys.exit(f"{bin_dir}/otcs: not found (build the otcs target)")
    blocks = sh_blocks(guide)
    if not blocks:
        sys.exit(f"{guide}: no ```sh block")
    # The display lines need xvfb-run and the workbench (a build with -DOTCS_BUILD_GUI=OFF has none).
    no_display = ("xvfb-run not found" if shutil.which("xvfb-run") is None else
                  "no otcs-workbench in " + bin_dir if not os.access(os.path.join(bin_dir, "otcs-workbench"), os.X_OK)
                  else "")

    tmp = tempfile.mkdtemp(prefix="otcs-guide-")
    work, home = os.path.join(tmp, "work"), os.path.join(tmp, "env")
    for d in ("config", "state", "cache", "runtime"):
        os.makedirs(os.path.join(home, d))
    os.chmod(os.path.join(home, "runtime"), 0o700)
    make_folder(os.path.join(work, "data", "source"), ["disc", "square"], 24, 1)
    make_folder(os.path.join(work, "data", "target"), ["bar", "cross"], 24, 2)
    make_folder(os.path.join(work, "data", "new"), ["disc", "square"], 3, 3)

    # The script: each block's lines in order; script_line -> guide_line for the failure report.
    fail_file = os.path.join(tmp, "failed")
    lines = ['trap \'__status=$?; printf "%s\\t%s\\t%s\\n" "$__status" "$LINENO" "$BASH_COMMAND" > "$GUIDE_FAIL_FILE"\' ERR']
    origin = {}
    rel = os.path.relpath(guide)
    if rel.startswith(".."):
        rel = guide
    for n, (start, body) in enumerate(blocks, 1):
        lines.append(f"printf '\\n=== %s:%d (block %d of %d, %ds)\\n' {shlex.quote(rel)} {start} {n} {len(blocks)} $SECONDS")
        for k, text in enumerate(body):
            if no_display and re.match(r"\s*xvfb-run\b", text):
                text = f": skipped, {no_display}: {shlex.quote(text.strip())}"
                print(f"{rel}:{start + k}: skipped ({no_display}): {body[k].strip()}")
            lines.append(text)
            origin[len(lines)] = start + k
    script = os.path.join(tmp, "guide.sh")
    with open(script, "w", encoding="utf-8") as f:
        f.write("\n".join(lines) + "\n")

    env = dict(os.environ)
    env.update(PATH=bin_dir + os.pathsep + env.get("PATH", ""), GUIDE_FAIL_FILE=fail_file,
               XDG_CONFIG_HOME=os.path.join(home, "config"), XDG_STATE_HOME=os.path.join(home, "state"),
               XDG_CACHE_HOME=os.path.join(home, "cache"), XDG_RUNTIME_DIR=os.path.join(home, "runtime"),
               OTCS_CACHE_DIR=os.path.join(home, "cache", "otcs"))
    env.pop("QT_QPA_PLATFORM", None)  # the workbench lines run under xvfb-run
    try:
        allowed = os.sched_getaffinity(0)
        os.sched_setaffinity(0, {max(allowed)})
    except (AttributeError, OSError):
        pass

    t0 = time.monotonic()
    sys.stdout.flush()
    result = subprocess.run(["bash", "-Eeuo", "pipefail", script], cwd=work, env=env)
    seconds = time.monotonic() - t0
    if result.returncode == 0:
        print(f"\nguide doctest: {len(blocks)} sh blocks of {rel} passed in {seconds:.0f} s")
        if os.environ.get("OTCS_GUIDE_KEEP"):
            print(f"(kept: {work})")
        else:
            shutil.rmtree(tmp, ignore_errors=True)
        return 0
    where = f"{rel}: the script"
    command = "?"
    status = result.returncode
    if os.path.exists(fail_file):
        with open(fail_file, encoding="utf-8") as f:
            parts = f.read().rstrip("\n").split("\t", 2)
        if len(parts) == 3:
            status, script_line, command = parts[0], int(parts[1]), parts[2]
            where = f"{rel}:{origin.get(script_line, '?')}"
    print(f"\nguide doctest FAILED after {seconds:.0f} s: {where}: `{command}` exited with status {status}\n"
          f"(its working directory is kept: {work})", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
