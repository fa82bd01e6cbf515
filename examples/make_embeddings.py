"""Make a small embeddings file for `genebench evaluate --embeddings FILE.parquet --task A2` (issue 20).

Stands in for a foundation model run on your own GPU: it reads the rank tokens written by
`genebench export-tokens --task A2 --out tokens/` and writes one embedding row per sample id
(parquet: `sample_id` + `dim_0 .. dim_{k-1}`):

- `--mode tokens` (default): a toy "model": each gene gets a fixed random vector (seeded by its id), a
  sample's embedding is the rank-weighted mean of its tokens' vectors (weight 1 / log2(rank + 1)),
  taken from the fold in which the sample is a test sample (so no training-fold median shaped it);
- `--mode random`: Gaussian noise (a probe on it should score near chance, AUROC ~ 0.5).

    python examples/make_embeddings.py --tokens tokens/A2 --out emb.parquet --dims 32

Only numpy and pandas (+ pyarrow); no genebench import, so it can be copied next to a model.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd


def _gene_vector(gene_id: str, dims: int) -> np.ndarray:
    seed = int.from_bytes(hashlib.sha256(gene_id.encode()).digest()[:8], "little")
    return np.random.default_rng(seed).standard_normal(dims)


def sample_ids(task_dir: Path) -> dict[str, str]:
    """sample id -> the fold whose tokens represent it (its test fold, else the first fold it is in)."""
    manifest = json.loads((task_dir / "manifest.json").read_text())
    owner: dict[str, str] = {}
    for fold in manifest["folds"]:
        for s in fold["test_ids"]:
            owner.setdefault(s, fold["fold_id"])
    for fold in manifest["folds"]:
        for s in fold["train_ids"]:
            owner.setdefault(s, fold["fold_id"])
    return owner


def make_embeddings(task_dir: Path, *, dims: int = 32, mode: str = "tokens", seed: int = 42) -> pd.DataFrame:
    owner = sample_ids(task_dir)
    ids = sorted(owner)
    if mode == "random":
        values = np.random.default_rng(seed).standard_normal((len(ids), dims))
    else:
        rows, cache = {}, {}
        for fold_id in sorted(set(owner.values())):
            tokens = pd.read_parquet(task_dir / fold_id / "tokens.parquet")
            mine = tokens[tokens["sample_id"].map(owner) == fold_id]
            for sid, g in mine.groupby("sample_id", sort=False):
                w = 1.0 / np.log2(g["rank"].to_numpy(dtype=float) + 1.0)
                vecs = np.stack([cache.setdefault(gid, _gene_vector(gid, dims)) for gid in g["gene_id"]])
                rows[sid] = (w[:, None] * vecs).sum(axis=0) / w.sum()
        values = np.stack([rows.get(s, np.zeros(dims)) for s in ids])
    frame = pd.DataFrame(values.astype(np.float32), columns=[f"dim_{i}" for i in range(dims)])
    frame.insert(0, "sample_id", ids)
    return frame


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--tokens", required=True, help="a task folder written by genebench export-tokens (OUT/<task>)")
    p.add_argument("--out", required=True, help="the embeddings parquet to write")
    p.add_argument("--dims", type=int, default=32)
    p.add_argument("--mode", choices=["tokens", "random"], default="tokens")
    p.add_argument("--seed", type=int, default=42)
    args = p.parse_args(argv)
    task_dir = Path(args.tokens)
    if not (task_dir / "manifest.json").is_file():
        print(f"make_embeddings: {task_dir / 'manifest.json'} not found (run genebench export-tokens first)", file=sys.stderr)
        return 2
    frame = make_embeddings(task_dir, dims=args.dims, mode=args.mode, seed=args.seed)
    frame.to_parquet(args.out, index=False)
    print(f"wrote {args.out}: {len(frame)} samples x {args.dims} dims ({args.mode})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
