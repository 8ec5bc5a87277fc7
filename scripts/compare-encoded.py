#!/usr/bin/env python3
"""Compares two pre-encoded JSONL files line by line (same ids in the same order): for sparse lines the non-zero
sets must be equal and the weights within --tol; for dense lines every component within --tol. Used by
scripts/gpu-acceptance.sh to check scripts/encode-corpus.py against the TS/ONNX pipeline's output
(scripts/encode-jsonl.ts); prints one JSON line and exits 1 on a mismatch.

  python3 scripts/compare-encoded.py GOT.jsonl REF.jsonl [--tol 1e-3] [--label NAME]
"""
import argparse
import json
import sys


def main():
    p = argparse.ArgumentParser()
    p.add_argument("got")
    p.add_argument("ref")
    p.add_argument("--tol", type=float, default=1e-3)
    p.add_argument("--label", default="")
    a = p.parse_args()
    got = [json.loads(l) for l in open(a.got, encoding="utf8") if l.strip()]
    ref = [json.loads(l) for l in open(a.ref, encoding="utf8") if l.strip()]
    problems, max_err, nnz = [], 0.0, 0
    if len(got) != len(ref):
        problems.append(f"{len(got)} lines vs {len(ref)}")
    for g, r in zip(got, ref):
        gid, rid = g.get("_id", g.get("id")), r.get("_id", r.get("id"))
        if gid != rid:
            problems.append(f"id {gid!r} vs {rid!r}")
            continue
        if "dense" in r:
            gd = g.get("dense") or []
            if len(gd) != len(r["dense"]):
                problems.append(f"{rid}: dense length {len(gd)} vs {len(r['dense'])}")
                continue
            max_err = max([max_err] + [abs(x - y) for x, y in zip(gd, r["dense"])])
            continue
        gv, rv = g.get("vector") or {}, r["vector"]
        if gv.get("indices") != rv["indices"]:
            gs, rs = set(gv.get("indices") or []), set(rv["indices"])
            problems.append(f"{rid}: ids only here {sorted(gs - rs)[:5]}, only in ref {sorted(rs - gs)[:5]}")
            continue
        nnz += len(rv["indices"])
        max_err = max([max_err] + [abs(x - y) for x, y in zip(gv["values"], rv["values"])])
    ok = not problems and max_err <= a.tol
    print(json.dumps({"label": a.label, "ok": ok, "lines": len(ref), "nnz": nnz, "maxAbsErr": max_err, "tol": a.tol,
                      "problems": problems[:10]}))
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
