#!/usr/bin/env python3
"""Corpus-scale encoding on GPUs: JSONL in, pre-encoded JSONL out for `spladex index --input`.

Reads a BEIR corpus.jsonl (or any JSONL of {_id|id, title, text, metadata}) and writes one line per document with
the same fields plus `vector` ({indices, values}, sparse kinds) or `dense` (kind dense), computed with torch +
transformers from the Hugging Face weights of an spladex encoder directory. The rules are the TS pipeline's for
that directory (src/encoders/pipeline.ts, sequences.ts, pooling.ts), read from its encoder.json:
  - text = "title text" (either alone when the other is empty), tokenised with its tokenizer.json (`tokenizers`),
    content ids without specials, truncated to maxLength - #specials (the post-processor's prefix/suffix found by
    the same probe as tokenizer.ts), or cut into windows when `chunking` (at most maxChunks, max-pooled);
  - splade: w_j = log1p(relu(max_i logit_ij)) over the window's positions; echo (Mistral-style): the prompt
    [specials] tok(prefix) c tok(separator) c [specials], pooled over the second copy only;
  - zeroSpecialTokens zeroes the columns of the tokenizer's special tokens; documents keep weights > 0 and
    >= minWeight, at most maxTerms of them (largest first); `--as query` skips pruning, as the pipeline does;
  - dense: mean over the real tokens (or the [CLS] row), L2-normalised when `normalize`.
Pooling in the ONNX graph (`pooled`, `pair` outputs) is the same function of the same weights, so those directories
are encoded from the MLM logits here (a `pair` graph's top-K cut is not applied).

Weights: `--model DIR` (default ENCODER/hf when present, else the encoder directory itself: a Hub checkpoint with
config.json + *.safetensors). Precision: bf16 (default on CUDA), fp16, or fp32 (parity: max abs error <= 1e-3 against
the ONNX pipeline). Batches are length-bucketed: windows sorted by length, a batch grows while rows x longest <=
--batch-tokens. `--gpus N` starts N worker processes (one per GPU); worker g encodes the lines i with i mod N == g
into OUTPUT.part-g and the parent merges the parts back into input order.

  python scripts/encode-corpus.py --encoder encoders/splade-pp --input corpus.jsonl --output enc.jsonl --gpus 8
  npx spladex index scifact --input enc.jsonl --encoder splade-pp     # queries still encoded by the collection

A summary line of JSON goes to stderr: documents, seconds, docs/s, max GPU memory per process.
"""
import argparse
import json
import math
import os
import sys
import time

import numpy as np


def log(*a):
    print(*a, file=sys.stderr, flush=True)


# ---------------------------------------------------------------------------------------------------------------
# Encoder directory: manifest and tokenizer rules (mirrors manifest.ts defaults and tokenizer.ts)
# ---------------------------------------------------------------------------------------------------------------

def load_manifest(enc_dir):
    with open(os.path.join(enc_dir, "encoder.json"), encoding="utf8") as f:
        m = json.load(f)
    m.setdefault("maxLength", 256)
    m.setdefault("normalize", False)
    m.setdefault("zeroSpecialTokens", True)
    m.setdefault("minWeight", 0)
    m.setdefault("chunking", False)
    m.setdefault("maxChunks", 64)
    if "pooling" not in m:
        m["pooling"] = "mean" if m["kind"] == "dense" else "max"
    if m["kind"] not in ("splade", "echo", "dense"):
        raise SystemExit(f"encoder kind {m['kind']!r}: only splade, echo and dense are encoded here (idf needs no model)")
    return m


class Rules:
    """Tokenisation and window layout of one encoder directory (tokenizer.ts + sequences.ts)."""

    def __init__(self, enc_dir, m):
        from tokenizers import Tokenizer

        path = os.path.join(enc_dir, m["files"]["tokenizer"])
        self.tok = Tokenizer.from_file(path)
        self.tok.no_truncation()
        self.tok.no_padding()
        with open(path, encoding="utf8") as f:
            j = json.load(f)
        self.special_ids = sorted({a["id"] for a in j.get("added_tokens") or [] if a.get("special") is True})
        pad = (j.get("padding") or {}).get("pad_id")
        for t in ("[PAD]", "<pad>", "<|pad|>"):
            if pad is None:
                pad = self.tok.token_to_id(t)
        self.pad_id = pad if pad is not None else 0
        self.prefix, self.suffix = self._layout()
        self.m = m
        self.echo_prefix = self.content(m["echo"].get("prefix", "")) if m.get("echo") and m["echo"].get("prefix") else []
        self.echo_sep = self.content(m["echo"].get("separator", "")) if m.get("echo") and m["echo"].get("separator") else []
        specials = len(self.prefix) + len(self.suffix)
        if m["kind"] == "echo":
            self.room = (m["maxLength"] - specials - len(self.echo_prefix) - len(self.echo_sep)) // 2
        else:
            self.room = m["maxLength"] - specials
        if self.room < 1:
            raise SystemExit(f"maxLength {m['maxLength']} leaves no room for text after special tokens and prompt")

    def content(self, text):
        return self.tok.encode(text, add_special_tokens=False).ids

    def _layout(self):
        for probe in ("hello", "a", "x", "1"):
            full = self.tok.encode(probe, add_special_tokens=True).ids
            c = self.content(probe)
            if not c:
                continue
            for s in range(0, len(full) - len(c) + 1):
                if full[s:s + len(c)] == c:
                    return full[:s], full[s + len(c):]
        return [], []

    def windows(self, content):
        """[(ids, pool_start, pool_end)] for one text's content ids."""
        m, room = self.m, self.room
        chunking = m["chunking"] and m["kind"] != "dense"
        n = min(m["maxChunks"], max(1, math.ceil(len(content) / room))) if chunking else 1
        out = []
        for w in range(n):
            c = content[w * room:(w + 1) * room]
            if m["kind"] == "echo":
                head = self.prefix + self.echo_prefix + c + self.echo_sep
                out.append((head + c + self.suffix, len(head), len(head) + len(c)))
            else:
                ids = self.prefix + c + self.suffix
                out.append((ids, 0, len(ids)))
        return out


def doc_text(d):
    title, text = d.get("title") or "", d.get("text") or ""
    if title and text:
        return f"{title} {text}"
    return title or text


# ---------------------------------------------------------------------------------------------------------------
# Model and batched encoding
# ---------------------------------------------------------------------------------------------------------------

DTYPES = {"bf16": "bfloat16", "fp16": "float16", "fp32": "float32"}


def load_model(model_dir, m, device, dtype):
    import torch
    import transformers

    transformers.logging.set_verbosity_error()
    cls = {"splade": transformers.AutoModelForMaskedLM, "echo": transformers.AutoModelForCausalLM,
           "dense": transformers.AutoModel}[m["kind"]]
    extra = {}
    if m["kind"] == "dense" and transformers.AutoConfig.from_pretrained(model_dir).model_type == "bert":
        extra["add_pooling_layer"] = False  # only the hidden states are used
    model = cls.from_pretrained(model_dir, attn_implementation="sdpa", **extra)
    model = model.to(device=device, dtype=getattr(torch, DTYPES[dtype])).eval()
    return model


class Encoder:
    def __init__(self, args, device):
        import torch

        self.torch = torch
        self.m = load_manifest(args.encoder)
        self.rules = Rules(args.encoder, self.m)
        model_dir = args.model or (os.path.join(args.encoder, "hf") if os.path.isdir(os.path.join(args.encoder, "hf"))
                                   else args.encoder)
        self.device = device
        self.model = load_model(model_dir, self.m, device, args.dtype)
        self.dim = self.m["dim"]
        self.batch_tokens = args.batch_tokens
        self.max_rows = args.max_batch
        self.prune = args.kind == "document"
        zero = self.rules.special_ids if self.m["zeroSpecialTokens"] else []
        self.zero_ids = torch.tensor([i for i in zero if i < self.dim], dtype=torch.long, device=device)
        self.uses_types = "token_type_ids" in self.model.forward.__code__.co_varnames
        self.timing = {"tokenize": 0.0, "model": 0.0, "render": 0.0}

    def plan(self, wins_per_text):
        """Length-bucketed batches of whole texts (all windows of a text in one batch, so pooling stays local)."""
        order = sorted(range(len(wins_per_text)), key=lambda t: (max(len(w[0]) for w in wins_per_text[t]), t))
        batches, cur, rows, longest = [], [], 0, 0
        for t in order:
            n = len(wins_per_text[t])
            ln = max(len(w[0]) for w in wins_per_text[t])
            if cur and ((rows + n) * max(longest, ln) > self.batch_tokens or rows + n > self.max_rows):
                batches.append(cur)
                cur, rows, longest = [], 0, 0
            cur.append(t)
            rows += n
            longest = max(longest, ln)
        if cur:
            batches.append(cur)
        return batches

    def encode(self, texts, wins=None):
        """One result per text: (indices int64 array, values float32 array), or a float32 dense row. `wins`: the
        texts' windows when already tokenised (by the CPU worker pool)."""
        torch = self.torch
        t0 = time.perf_counter()
        if wins is None:
            wins = tokenize(self.rules, texts)
        self.timing["tokenize"] += time.perf_counter() - t0
        t0 = time.perf_counter()
        out = [None] * len(texts)
        with torch.inference_mode():
            for batch in self.plan(wins):
                rows = [w for t in batch for w in wins[t]]
                owner = [k for k, t in enumerate(batch) for _ in wins[t]]
                res = self._run(rows, owner, len(batch))
                for k, t in enumerate(batch):
                    out[t] = res[k]
        self.timing["model"] += time.perf_counter() - t0
        return out

    def _run(self, rows, owner, n_texts):
        torch = self.torch
        S = max(len(r[0]) for r in rows)
        B = len(rows)
        ids = np.full((B, S), self.rules.pad_id, dtype=np.int64)
        mask = np.zeros((B, S), dtype=np.int64)
        pool = np.zeros((B, S), dtype=bool)
        for b, (r, s0, s1) in enumerate(rows):
            ids[b, :len(r)] = r
            mask[b, :len(r)] = 1
            pool[b, s0:s1] = True
        ids_t = torch.from_numpy(ids).to(self.device, non_blocking=True)
        mask_t = torch.from_numpy(mask).to(self.device, non_blocking=True)
        # No padding in the batch (e.g. every text fills maxLength): no mask, so SDPA may take its flash kernel.
        feeds = {"input_ids": ids_t, "attention_mask": None if mask.all() else mask_t}
        if self.uses_types and self.m["kind"] != "echo":
            feeds["token_type_ids"] = torch.zeros_like(ids_t)
        if self.m["kind"] == "echo":
            feeds["use_cache"] = False
        o = self.model(**feeds)
        if self.m["kind"] == "dense":
            return self._dense(o.last_hidden_state, mask_t)
        logits = o.logits
        pool_t = torch.from_numpy(pool).to(self.device, non_blocking=True)
        # max over pooled positions first, then log1p(relu(.)): monotonic, so equal to the pipeline's order, and
        # the [B, S, V] tensor is touched once (in place).
        logits.masked_fill_(~pool_t.unsqueeze(-1), float("-inf"))
        w = torch.log1p(torch.relu(logits.amax(dim=1).float()))  # [B, V]
        if n_texts != B:  # chunked: max over the windows of each text
            acc = torch.zeros((n_texts, w.shape[1]), dtype=w.dtype, device=w.device)
            idx = torch.tensor(owner, dtype=torch.long, device=w.device)
            w = acc.index_reduce_(0, idx, w, "amax", include_self=True)
        return self._sparsify(w)

    def _dense(self, h, mask_t):
        torch = self.torch
        h = h.float()
        if self.m["pooling"] == "cls":
            v = h[:, 0]
        else:
            mk = mask_t.unsqueeze(-1).to(h.dtype)
            v = (h * mk).sum(1) / mk.sum(1).clamp(min=1)
        if self.m["normalize"]:
            v = torch.nn.functional.normalize(v, p=2.0, dim=-1)
        return list(v.cpu().numpy().astype(np.float64))

    def _sparsify(self, w):
        torch = self.torch
        w = w[:, :self.dim]
        if self.zero_ids.numel() > 0:
            w[:, self.zero_ids] = 0
        if self.prune:
            if self.m["minWeight"] > 0:
                w = torch.where(w >= self.m["minWeight"], w, torch.zeros_like(w))
            k = self.m.get("maxTerms")
            if k is not None and k < w.shape[1]:
                # keep the k largest (ties: lower id first, as sparsifyRow sorts)
                top = torch.topk(w, k, dim=1, sorted=True)
                kth = top.values[:, -1:].clamp(min=0)
                keep = w > kth
                ties = (w == kth) & (w > 0)
                need = k - keep.sum(1, keepdim=True)
                rank = torch.cumsum(ties.int(), dim=1)
                keep |= ties & (rank <= need)
                w = torch.where(keep, w, torch.zeros_like(w))
        nz = (w > 0).nonzero().cpu().numpy()
        vals = w[w > 0].cpu().numpy().astype(np.float32)
        counts = np.bincount(nz[:, 0], minlength=w.shape[0]) if len(nz) else np.zeros(w.shape[0], dtype=np.int64)
        out, o = [], 0
        for b in range(w.shape[0]):
            c = int(counts[b])
            out.append((nz[o:o + c, 1], vals[o:o + c]))
            o += c
        return out


# ---------------------------------------------------------------------------------------------------------------
# I/O, sharding, merge
# ---------------------------------------------------------------------------------------------------------------

def read_docs(path, shard, shards):
    """(line number, doc) of the lines i with i mod shards == shard; blank lines are skipped."""
    with open(path, encoding="utf8") as f:
        for i, line in enumerate(f, start=1):
            if (i - 1) % shards != shard or not line.strip():
                continue
            try:
                d = json.loads(line)
            except json.JSONDecodeError as e:
                raise SystemExit(f"{path}:{i}: not JSON ({e})")
            yield i, d


def render(d, r, dense, keep_text):
    o = {}
    if "_id" in d:
        o["_id"] = d["_id"]
    elif "id" in d:
        o["id"] = d["id"]
    if keep_text:
        for k in ("title", "text"):
            if k in d:
                o[k] = d[k]
    if "metadata" in d:
        o["metadata"] = d["metadata"]
    # tolist() and json's C float repr: iterating numpy scalars cost ~25 s per 50k documents of 500 terms.
    if dense:
        o["dense"] = r.tolist()
    else:
        o["vector"] = {"indices": r[0].tolist(), "values": r[1].astype(np.float64).tolist()}
    return json.dumps(o, ensure_ascii=False)


def tokenize(rules, texts):
    return [rules.windows(c.ids) for c in rules.tok.encode_batch(texts, add_special_tokens=False)]


# CPU worker pool: tokenising and JSON rendering cost more than the GPU's forward pass (measured on an H200 with a
# BERT-base MLM, 50k documents of 256 tokens: tokenise 7.7 s, model 12.0 s, render 19.2 s in one process), so with
# CUDA they run in forked processes, overlapped with the GPU: chunk k+1 is tokenised and chunk k-1 rendered while
# chunk k is on the device.
_POOL = {}


def _pool_init(enc_dir, keep_text, dense, numbered):
    _POOL.update(rules=Rules(enc_dir, load_manifest(enc_dir)), keep=keep_text, dense=dense, numbered=numbered)


def _pool_tokenize(texts):
    return tokenize(_POOL["rules"], texts)


def _pool_render(items):
    out = []
    for (i, d), r in items:
        line = render(d, r, _POOL["dense"], _POOL["keep"])
        out.append(f"{i}\t{line}\n" if _POOL["numbered"] else f"{line}\n")
    return "".join(out)


def _slices(xs, n):
    step = max(1, math.ceil(len(xs) / n))
    return [xs[k:k + step] for k in range(0, len(xs), step)]


def _chunks(args, shard, shards):
    buf = []
    for item in read_docs(args.input, shard, shards):
        buf.append(item)
        if len(buf) >= args.chunk_docs:
            yield buf
            buf = []
    if buf:
        yield buf


def run_shard(args, shard, shards, device, out_path, numbered):
    import multiprocessing

    import torch

    dense = load_manifest(args.encoder)["kind"] == "dense"
    nw = args.cpu_workers
    if nw is None:
        nw = min(8, max(1, (os.cpu_count() or 2) // max(1, args.gpus) - 1)) if device.startswith("cuda") else 0
    # Forked before CUDA is initialised in this process (the children never touch the GPU).
    pool = (multiprocessing.get_context("fork").Pool(nw, _pool_init, (args.encoder, not args.drop_text, dense, numbered))
            if nw > 0 else None)
    if device.startswith("cuda"):
        torch.cuda.set_device(device)
    enc = Encoder(args, device)
    if pool is None:
        _pool_init(args.encoder, not args.drop_text, dense, numbered)
    t0 = time.time()
    n = 0
    with open(out_path, "w", encoding="utf8") as out:
        chunks = _chunks(args, shard, shards)

        def start_tokenize(chunk):
            if chunk is None or pool is None:
                return None
            return pool.map_async(_pool_tokenize, _slices([doc_text(d) for _, d in chunk], 2 * nw))

        renders = []

        def drain(keep):
            t = time.perf_counter()
            while len(renders) > keep:
                out.write("".join(renders.pop(0).get()) if pool is not None else renders.pop(0))
            enc.timing["render"] += time.perf_counter() - t

        chunk = next(chunks, None)
        pending = start_tokenize(chunk)
        while chunk is not None:
            wins = [w for part in pending.get() for w in part] if pending is not None else None
            nxt = next(chunks, None)
            pending = start_tokenize(nxt)
            res = enc.encode([doc_text(d) for _, d in chunk], wins)
            items = list(zip(chunk, res))
            if pool is not None:
                renders.append(pool.map_async(_pool_render, _slices(items, 2 * nw)))
            else:
                renders.append(_pool_render(items))
            drain(1)
            n += len(chunk)
            chunk = nxt
        drain(0)
    if pool is not None:
        pool.close()
        pool.join()
    if device.startswith("cuda"):
        torch.cuda.synchronize()
    secs = time.time() - t0
    mem = torch.cuda.max_memory_allocated() if device.startswith("cuda") else 0
    return {"shard": shard, "device": device, "documents": n, "seconds": round(secs, 3), "cpuWorkers": nw,
            "maxMemoryAllocatedBytes": int(mem), "timing": {k: round(v, 3) for k, v in enc.timing.items()}}


def _worker(g, args, shards, q):
    try:
        q.put(run_shard(args, g, shards, f"cuda:{g}", f"{args.output}.part-{g}", True))
    except BaseException as e:  # noqa: BLE001
        q.put({"shard": g, "error": repr(e)})
        raise


def merge(output, shards):
    """Merges OUTPUT.part-g (each in increasing line order) into OUTPUT in input order; removes the parts."""
    import heapq

    files = [open(f"{output}.part-{g}", encoding="utf8") for g in range(shards)]

    def lines(f):
        for line in f:
            k, _, rest = line.partition("\t")
            yield int(k), rest

    with open(output, "w", encoding="utf8") as out:
        for _, rest in heapq.merge(*(lines(f) for f in files)):
            out.write(rest)
    for g, f in enumerate(files):
        f.close()
        os.remove(f"{output}.part-{g}")


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--encoder", required=True, help="spladex encoder directory (encoder.json, tokenizer.json)")
    p.add_argument("--model", help="Hugging Face weights (default ENCODER/hf, else ENCODER)")
    p.add_argument("--input", required=True, help="JSONL: BEIR corpus.jsonl or {_id|id, title, text, metadata}")
    p.add_argument("--output", required=True, help="pre-encoded JSONL for spladex index --input")
    p.add_argument("--dtype", choices=sorted(DTYPES), help="default bf16 on CUDA, fp32 on CPU")
    p.add_argument("--device", choices=["cuda", "cpu"], help="default cuda when available")
    p.add_argument("--gpus", type=int, default=1, help="worker processes, one per GPU (lines i mod N)")
    p.add_argument("--batch-tokens", type=int, default=65536, help="padded tokens per batch (rows x longest)")
    p.add_argument("--max-batch", type=int, default=512, help="rows per batch")
    p.add_argument("--chunk-docs", type=int, default=4096, help="documents read, bucketed and written at a time")
    p.add_argument("--as", dest="kind", choices=["document", "query"], default="document",
                   help="document (pruned with minWeight/maxTerms) or query (not pruned)")
    p.add_argument("--drop-text", action="store_true", help="write ids, metadata and vectors only")
    p.add_argument("--cpu-workers", type=int, help="processes tokenising and rendering JSON (default with CUDA: "
                   "min(8, cores per GPU - 1); on CPU: 0, in process)")
    p.add_argument("--stats", help="also write the summary JSON to this file")
    args = p.parse_args(argv)

    import torch

    device = args.device or ("cuda" if torch.cuda.is_available() else "cpu")
    if device == "cuda":
        # fp32 parity means true fp32 matmuls, not TF32.
        torch.backends.cuda.matmul.allow_tf32 = False
        torch.backends.cudnn.allow_tf32 = False
    args.dtype = args.dtype or ("bf16" if device == "cuda" else "fp32")
    if device == "cpu" and args.dtype != "fp32":
        log("note: bf16/fp16 on CPU is slow; use --dtype fp32")
    t0 = time.time()
    if device == "cuda" and args.gpus > 1:
        import torch.multiprocessing as mp

        ctx = mp.get_context("spawn")
        q = ctx.Queue()
        procs = [ctx.Process(target=_worker, args=(g, args, args.gpus, q)) for g in range(args.gpus)]
        for pr in procs:
            pr.start()
        shards = [q.get() for _ in procs]
        for pr in procs:
            pr.join()
        bad = [s for s in shards if "error" in s]
        if bad:
            raise SystemExit(f"worker failed: {bad}")
        merge(args.output, args.gpus)
    else:
        dev = "cuda:0" if device == "cuda" else "cpu"
        if device == "cpu":
            torch.set_num_threads(max(1, os.cpu_count() or 1))
        shards = [run_shard(args, 0, 1, dev, args.output, False)]
    secs = time.time() - t0
    docs = sum(s["documents"] for s in shards)
    summary = {"documents": docs, "seconds": round(secs, 3), "docsPerSecond": round(docs / secs, 1) if secs > 0 else None,
               "encodeSecondsPerShard": [s["seconds"] for s in shards],
               "encodeDocsPerSecond": round(docs / max(s["seconds"] for s in shards), 1),
               "timingPerShard": [s["timing"] for s in shards], "dtype": args.dtype, "device": device,
               "gpus": args.gpus if device == "cuda" else 0,
               "maxMemoryAllocatedBytes": [s["maxMemoryAllocatedBytes"] for s in shards]}
    log(json.dumps(summary))
    if args.stats:
        with open(args.stats, "w") as f:
            json.dump(summary, f)
            f.write("\n")


if __name__ == "__main__":
    main()
