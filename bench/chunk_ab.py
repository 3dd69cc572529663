"""CPU per line of `pipeline.process_chunk`, old code against new, in alternating processes.

    python bench/chunk_ab.py OLD_TREE NEW_TREE [PATH...] [--rounds N] [--repeat K]

Each tree is a checkout of logkit (a git worktree of the commit to compare, say); each
measurement is a fresh process with that tree first on PYTHONPATH, which cuts PATHs (default:
the `logkit sample` files in /tmp/s3) into 2 MB blocks as the ingest does, runs every block once
to warm the per-shape caches, then times K passes over all blocks with
`resource.getrusage` (user + system CPU of the process: on a machine other work keeps busy,
CPU time is steadier than wall time). Two modes: `unmasked` (no masker) and `masked` (the
default masker and, in trees that had one, its block scanner). The processes run
old, new, new, old, ... so drift in the machine's load falls on both alike; the medians over
N rounds and their ratio are printed.

    python bench/chunk_ab.py --stage normalize OLD NEW ...

times only the Normalize stage over records parsed beforehand (one pass: it consumes them).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import blocks_of

DEFAULT_PATHS = sorted(str(p) for p in Path("/tmp/s3").glob("*.log"))


def cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def child(mode: str, stage: str, repeat: int, paths: list[str]) -> None:
    import logkit
    from logkit.pipeline import Normalize, build_stages, make_masker, parse_json, process_chunk

    assert Path(logkit.__file__).resolve().is_relative_to(Path.cwd().resolve()), logkit.__file__
    masker = make_masker({}, None) if mode == "masked" else None
    stages = build_stages(None, masker)
    # Trees before the native masker had a Hyperscan block scan (logkit/blockscan.py) too.
    extra = {}
    if masker is not None:
        try:
            from logkit.blockscan import BlockScanner  # type: ignore[import-not-found]

            extra["scanner"] = BlockScanner.for_masker(masker)
        except ImportError:
            pass
    blocks = [(path, block) for path in paths for block in blocks_of(Path(path))]
    lines = sum(block.count(b"\n") + (not block.endswith(b"\n")) for _, block in blocks)
    for path, block in blocks:  # warm-up: plans and decisions cached, as in a long ingest
        process_chunk(stages, masker, path, block, 1, 0, **extra)
    if stage == "normalize":
        normalize = next(s for s in stages if isinstance(s, Normalize))
        records = []
        for _, block in blocks:
            for raw in block.splitlines():
                try:
                    records.append((raw, parse_json(raw)))
                except Exception:  # a line the stage would never see (rejected)
                    continue
        start = cpu()
        for raw, record in records:
            normalize(raw, record)
        spent, lines = cpu() - start, len(records)
    else:
        start = cpu()
        for _ in range(repeat):
            for path, block in blocks:
                process_chunk(stages, masker, path, block, 1, 0, **extra)
        spent, lines = cpu() - start, lines * repeat
    print(json.dumps({"lines": lines, "cpu": spent}))


def measure(tree: str, mode: str, stage: str, repeat: int, paths: list[str]) -> float:
    env = {**os.environ, "PYTHONPATH": tree}
    command = [sys.executable, str(Path(__file__).resolve()), "--child", mode, "--stage", stage,
               "--repeat", str(repeat), *paths]  # fmt: skip
    out = subprocess.run(command, env=env, check=True, capture_output=True, text=True, cwd=tree)
    result = json.loads(out.stdout)
    return result["cpu"] / result["lines"] * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("trees", nargs="*")
    parser.add_argument("--child", choices=["masked", "unmasked"])
    parser.add_argument("--stage", choices=["chunk", "normalize"], default="chunk")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--modes", default="unmasked,masked")
    args = parser.parse_args()
    if args.child:
        child(args.child, args.stage, args.repeat, args.trees)
        return
    old, new, *paths = args.trees
    paths = [str(Path(p).resolve()) for p in paths or DEFAULT_PATHS]
    print(f"{args.stage}: {', '.join(Path(p).name for p in paths)}; {args.rounds} rounds,"
          f" {args.repeat} pass(es) each; µs CPU per line")  # fmt: skip
    for mode in args.modes.split(","):
        times: dict[str, list[float]] = {"old": [], "new": []}
        for round_ in range(args.rounds):
            order = [("old", old), ("new", new)]
            for label, tree in order if round_ % 2 == 0 else order[::-1]:
                times[label].append(measure(tree, mode, args.stage, args.repeat, paths))
        o, n = statistics.median(times["old"]), statistics.median(times["new"])
        each = ", ".join(f"{b / a:.3f}" for a, b in zip(times["old"], times["new"], strict=True))
        print(f"{mode:9} old {o:6.2f}  new {n:6.2f}  new/old {n / o:.3f}  (per round: {each})")


if __name__ == "__main__":
    main()
