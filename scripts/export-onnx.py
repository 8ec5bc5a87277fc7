#!/usr/bin/env python3
"""Exports a Hugging Face checkpoint to an spladex encoder directory (model.onnx + tokenizer.json + encoder.json).

For users with Hugging Face access (or a local checkpoint); not run in CI. Needs torch, transformers, onnx,
onnxruntime (for the check and for --quantize).

  # SPLADE (MLM head), pooling appended to the graph: log1p(relu(logits)) * mask -> max over positions
  python scripts/export-onnx.py --model naver/splade-cocondenser-ensembledistil --kind splade --out encoders/splade-pp
  # same, int8 dynamic quantisation (about 2-3x faster on CPU, 4x smaller)
  python scripts/export-onnx.py --model naver/splade-v3 --kind splade --quantize int8 --out encoders/splade-v3-int8
  # Mistral-SPLADE style decoder (echo prompt; the graph takes a pooling_mask input marking the second copy)
  python scripts/export-onnx.py --model PATH --kind echo --echo-prefix "Passage:" --echo-separator "Passage again:" --out encoders/echo
  # dense (mean pooling + L2 normalisation in the graph)
  python scripts/export-onnx.py --model BAAI/bge-small-en-v1.5 --kind dense --pooling cls --normalize --out encoders/bge-small
  # OpenSearch inference-free model: the doc-side MLM to OUT (kind splade, queryEncoder OUT-query) and the
  # query side, token weights from query_token_weights.txt (a sentence-transformers module folder) or idf.json,
  # to OUT-query (kind idf: tokenizer.json + idf.json, no model)
  python scripts/export-onnx.py --model opensearch-project/opensearch-neural-sparse-encoding-doc-v3-distill --kind idf --out encoders/os-doc-v3
  # keep the raw [B,S,V] logits output instead (pooling in TypeScript; slower, for comparison)
  python scripts/export-onnx.py ... --logits

After export the script runs onnxruntime on a few texts and prints the max abs difference against PyTorch.
`--self-test OUTDIR` builds tiny random BERT-MLM / Mistral / BERT checkpoints and exports each (no download).
Models over 2 GB are written with external data next to model.onnx (only model.onnx is hashed in encoder.json).
"""
import argparse
import hashlib
import json
import math
import os
import sys
import tempfile

import numpy as np
import torch

OPSET = 17


class SpladePooled(torch.nn.Module):
    def __init__(self, m, use_types):
        super().__init__()
        self.m = m
        self.use_types = use_types

    def forward(self, input_ids, attention_mask, token_type_ids=None):
        kw = {"input_ids": input_ids, "attention_mask": attention_mask}
        if self.use_types:
            kw["token_type_ids"] = token_type_ids
        logits = self.m(**kw).logits
        return torch.amax(torch.log1p(torch.relu(logits)) * attention_mask.unsqueeze(-1).to(logits.dtype), dim=1)


class Logits(torch.nn.Module):
    def __init__(self, m, use_types):
        super().__init__()
        self.m = m
        self.use_types = use_types

    def forward(self, input_ids, attention_mask, token_type_ids=None):
        kw = {"input_ids": input_ids, "attention_mask": attention_mask}
        if self.use_types:
            kw["token_type_ids"] = token_type_ids
        return self.m(**kw).logits


class EchoPooled(torch.nn.Module):
    def __init__(self, m):
        super().__init__()
        self.m = m

    def forward(self, input_ids, attention_mask, pooling_mask):
        logits = self.m(input_ids=input_ids, attention_mask=attention_mask, use_cache=False).logits
        return torch.amax(torch.log1p(torch.relu(logits)) * pooling_mask.unsqueeze(-1).to(logits.dtype), dim=1)


class EchoLogits(torch.nn.Module):
    def __init__(self, m):
        super().__init__()
        self.m = m

    def forward(self, input_ids, attention_mask):
        return self.m(input_ids=input_ids, attention_mask=attention_mask, use_cache=False).logits


class DensePooled(torch.nn.Module):
    def __init__(self, m, pooling, normalize, use_types):
        super().__init__()
        self.m = m
        self.pooling = pooling
        self.normalize = normalize
        self.use_types = use_types

    def forward(self, input_ids, attention_mask, token_type_ids=None):
        kw = {"input_ids": input_ids, "attention_mask": attention_mask}
        if self.use_types:
            kw["token_type_ids"] = token_type_ids
        h = self.m(**kw).last_hidden_state
        if self.pooling == "cls":
            v = h[:, 0]
        else:
            mask = attention_mask.unsqueeze(-1).to(h.dtype)
            v = (h * mask).sum(dim=1) / mask.sum(dim=1).clamp(min=1e-9)
        if self.normalize:
            v = torch.nn.functional.normalize(v, p=2.0, dim=-1)
        return v


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def specials(tok):
    pre_post = tok("hello", add_special_tokens=True)["input_ids"]
    content = tok("hello", add_special_tokens=False)["input_ids"]
    for s in range(len(pre_post) - len(content) + 1):
        if pre_post[s:s + len(content)] == content:
            return pre_post[:s], pre_post[s + len(content):]
    return [], []


def echo_inputs(tok, text, prefix, sep, max_len):
    pre, suf = specials(tok)
    p = tok(prefix, add_special_tokens=False)["input_ids"] if prefix else []
    s = tok(sep, add_special_tokens=False)["input_ids"] if sep else []
    room = (max_len - len(pre) - len(suf) - len(p) - len(s)) // 2
    c = tok(text, add_special_tokens=False)["input_ids"][:room]
    ids = pre + p + c + s + c + suf
    pm = [0] * (len(pre) + len(p) + len(c) + len(s)) + [1] * len(c) + [0] * len(suf)
    return ids, pm


def export(args, model_id, out):
    from transformers import AutoModel, AutoModelForCausalLM, AutoModelForMaskedLM, AutoTokenizer

    os.makedirs(out, exist_ok=True)
    tok = AutoTokenizer.from_pretrained(model_id)
    if not getattr(tok, "is_fast", False):
        sys.exit("a fast tokenizer (tokenizer.json) is required")
    tok.backend_tokenizer.save(os.path.join(out, "tokenizer.json"))
    texts = ["The quick brown fox jumps over the lazy dog.", "sparse retrieval", "café 東京 😀"]

    cls = {"splade": AutoModelForMaskedLM, "echo": AutoModelForCausalLM, "dense": AutoModel}[args.kind]
    try:  # float32 for ONNX Runtime on CPU (7B checkpoints are often stored in bf16); `dtype` since transformers 5
        m = cls.from_pretrained(model_id, attn_implementation="eager", dtype=torch.float32)
    except TypeError:
        m = cls.from_pretrained(model_id, attn_implementation="eager", torch_dtype=torch.float32)
    m.eval()
    probe = tok(texts[0], return_tensors="pt")
    use_types = "token_type_ids" in probe and args.kind != "echo"

    if args.kind == "echo":
        ids, pm = echo_inputs(tok, texts[0], args.echo_prefix, args.echo_separator, args.max_length)
        t = torch.tensor([ids])
        if args.logits:
            wrapper, ins, outs, example = EchoLogits(m), ["input_ids", "attention_mask"], ["logits"], (t, torch.ones_like(t))
        else:
            wrapper, ins, outs = EchoPooled(m), ["input_ids", "attention_mask", "pooling_mask"], ["pooled"]
            example = (t, torch.ones_like(t), torch.tensor([pm]))
    else:
        t = probe["input_ids"]
        ins = ["input_ids", "attention_mask"] + (["token_type_ids"] if use_types else [])
        example = (t, torch.ones_like(t)) + ((torch.zeros_like(t),) if use_types else ())
        if args.kind == "splade":
            wrapper, outs = (Logits(m, use_types), ["logits"]) if args.logits else (SpladePooled(m, use_types), ["pooled"])
        else:
            wrapper, outs = DensePooled(m, args.pooling, args.normalize, use_types), ["embedding"]
    wrapper.eval()
    dyn = {n: {0: "batch", 1: "seq"} for n in ins}
    for n in outs:
        dyn[n] = {0: "batch", 1: "seq"} if n == "logits" else {0: "batch"}
    path = os.path.join(out, "model.onnx")
    with torch.no_grad():
        torch.onnx.export(wrapper, example, path, input_names=ins, output_names=outs, dynamic_axes=dyn,
                          opset_version=OPSET, dynamo=False, do_constant_folding=True)
    wrapper.eval()  # export restores training mode: references must be computed in eval mode

    # check against PyTorch
    import onnxruntime as ort
    sess = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
    with torch.no_grad():
        ref = wrapper(*example).numpy()
    got = sess.run(None, {n: e.numpy() for n, e in zip(ins, example)})[0]
    print(f"{out}: ONNX vs PyTorch max abs diff {float(np.abs(ref - got).max()):.3g}")

    if args.quantize == "int8":
        from onnxruntime.quantization import QuantType, quantize_dynamic
        qpath = os.path.join(out, "model.int8.onnx")
        quantize_dynamic(path, qpath, weight_type=QuantType.QInt8)
        os.replace(qpath, path)
        got = ort.InferenceSession(path, providers=["CPUExecutionProvider"]).run(None, {n: e.numpy() for n, e in zip(ins, example)})[0]
        print(f"{out}: int8 vs PyTorch max abs diff {float(np.abs(ref - got).max()):.3g}")

    dim = int(got.shape[-1])
    manifest = {"kind": args.kind, "dim": dim, "maxLength": args.max_length,
                "files": {"model": "model.onnx", "tokenizer": "tokenizer.json"}}
    if args.kind == "dense":
        manifest.update({"pooling": args.pooling, "normalize": args.normalize})
    else:
        manifest.update({"pooling": "max", "zeroSpecialTokens": not args.keep_special_tokens})
    if args.kind == "echo":
        manifest["echo"] = {"prefix": args.echo_prefix, "separator": args.echo_separator}
    manifest["sha256"] = {f: sha256(os.path.join(out, f)) for f in ("model.onnx", "tokenizer.json")}
    with open(os.path.join(out, "encoder.json"), "w") as f:
        json.dump(manifest, f, indent=2)
        f.write("\n")
    print(f"{out}: wrote encoder.json (kind {args.kind}, dim {dim})")


def find_query_weights(model_dir, given):
    """The query-side token weights of an inference-free repo: `given`, else idf.json at the top, else the first
    query_token_weights.txt in a module folder (sentence-transformers SparseStaticEmbedding) or at the top."""
    if given:
        return given
    if os.path.isfile(os.path.join(model_dir, "idf.json")):
        return os.path.join(model_dir, "idf.json")
    for root, dirs, files in sorted(os.walk(model_dir)):
        dirs.sort()
        if "query_token_weights.txt" in files:
            return os.path.join(root, "query_token_weights.txt")
    sys.exit(f"{model_dir}: no idf.json or query_token_weights.txt (pass --query-weights FILE)")


def read_query_weights(path):
    """{token: weight} from idf.json or from `token<TAB>weight` lines (what the `idf` encoder's idf.json holds)."""
    if path.endswith(".json"):
        with open(path, encoding="utf8") as f:
            w = json.load(f)
    else:
        w = {}
        with open(path, encoding="utf8") as f:
            for n, line in enumerate(f, start=1):
                line = line.rstrip("\r\n")
                if not line.strip():
                    continue
                token, sep, value = line.rpartition("\t")
                if not sep:
                    sys.exit(f"{path}:{n}: expected token<TAB>weight")
                w[token] = float(value)
    bad = [t for t, v in w.items() if not isinstance(v, (int, float)) or not math.isfinite(v) or v < 0]
    if bad:
        sys.exit(f"{path}: weights must be finite numbers >= 0 (e.g. {bad[0]!r})")
    return w


def export_idf(args):
    """--kind idf: doc-side SPLADE export to OUT with queryEncoder OUT-query, and the idf query encoder there."""
    model_dir = args.model
    if not os.path.isdir(model_dir):
        from huggingface_hub import snapshot_download
        model_dir = snapshot_download(args.model)
    weights = read_query_weights(find_query_weights(model_dir, args.query_weights))
    doc = argparse.Namespace(**{**vars(args), "kind": "splade"})
    export(doc, model_dir, args.out)
    qname = os.path.basename(os.path.normpath(args.out)) + "-query"
    qdir = os.path.join(os.path.dirname(os.path.normpath(args.out)), qname)
    os.makedirs(qdir, exist_ok=True)
    with open(os.path.join(args.out, "encoder.json")) as f:
        dm = json.load(f)
    from tokenizers import Tokenizer
    tok = Tokenizer.from_file(os.path.join(args.out, "tokenizer.json"))
    known = {t: v for t, v in weights.items() if tok.token_to_id(t) is not None}
    with open(os.path.join(qdir, "tokenizer.json"), "w", encoding="utf8") as f:
        f.write(open(os.path.join(args.out, "tokenizer.json"), encoding="utf8").read())
    with open(os.path.join(qdir, "idf.json"), "w", encoding="utf8") as f:
        json.dump(known, f, ensure_ascii=False)
    qm = {"kind": "idf", "dim": dm["dim"], "maxLength": args.max_length, "zeroSpecialTokens": dm["zeroSpecialTokens"],
          "files": {"tokenizer": "tokenizer.json", "idf": "idf.json"}}
    qm["sha256"] = {f: sha256(os.path.join(qdir, f)) for f in ("tokenizer.json", "idf.json")}
    with open(os.path.join(qdir, "encoder.json"), "w") as f:
        json.dump(qm, f, indent=2)
        f.write("\n")
    dm["queryEncoder"] = qname
    with open(os.path.join(args.out, "encoder.json"), "w") as f:
        json.dump(dm, f, indent=2)
        f.write("\n")
    print(f"{qdir}: wrote the idf query encoder ({len(known)} of {len(weights)} weighted tokens in the vocabulary); "
          f"{args.out}/encoder.json names it as queryEncoder")


def self_test(outdir):
    """Builds tiny random checkpoints locally (no download) and exports each kind."""
    from tokenizers import Tokenizer, models, normalizers, pre_tokenizers, processors
    from transformers import (BertConfig, BertForMaskedLM, BertModel, MistralConfig, MistralForCausalLM,
                              PreTrainedTokenizerFast)
    words = "[PAD] [UNK] [CLS] [SEP] [MASK] the quick brown fox jumps over lazy dog sparse retrieval . a b c".split()
    vocab = {w: i for i, w in enumerate(words)}
    wp = Tokenizer(models.WordPiece(vocab, unk_token="[UNK]"))
    wp.normalizer = normalizers.BertNormalizer(lowercase=True)
    wp.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    wp.post_processor = processors.TemplateProcessing(single="[CLS] $A [SEP]", special_tokens=[("[CLS]", 2), ("[SEP]", 3)])
    bert_tok = PreTrainedTokenizerFast(tokenizer_object=wp, unk_token="[UNK]", pad_token="[PAD]", cls_token="[CLS]",
                                       sep_token="[SEP]", mask_token="[MASK]")
    bpe = Tokenizer(models.BPE(vocab={"<unk>": 0, "<s>": 1, "</s>": 2, **{c: i + 3 for i, c in enumerate("▁abcdefghijklmnopqrstuvwxyz.")}},
                               merges=[], unk_token="<unk>"))
    bpe.pre_tokenizer = pre_tokenizers.Metaspace()
    bpe.post_processor = processors.TemplateProcessing(single="<s> $A", special_tokens=[("<s>", 1)])
    mis_tok = PreTrainedTokenizerFast(tokenizer_object=bpe, unk_token="<unk>", bos_token="<s>", eos_token="</s>")
    tmp = tempfile.mkdtemp()
    small = dict(hidden_size=32, num_hidden_layers=2, num_attention_heads=2, intermediate_size=64)
    ckpts = {
        "splade": (BertForMaskedLM(BertConfig(vocab_size=len(words), **small)), bert_tok),
        "dense": (BertModel(BertConfig(vocab_size=len(words), **small)), bert_tok),
        "echo": (MistralForCausalLM(MistralConfig(vocab_size=31, num_key_value_heads=1, **small)), mis_tok),
    }
    for kind, (model, tok) in ckpts.items():
        d = os.path.join(tmp, kind)
        model.save_pretrained(d)
        tok.save_pretrained(d)
        for quant in (None, "int8"):
            a = argparse.Namespace(kind=kind, max_length=64, logits=False, quantize=quant, pooling="mean", normalize=True,
                                   echo_prefix="Passage:", echo_separator="again:", keep_special_tokens=False)
            export(a, d, os.path.join(outdir, f"{kind}{'-int8' if quant else ''}"))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", help="Hugging Face id or local checkpoint directory")
    ap.add_argument("--kind", choices=["splade", "echo", "dense", "idf"], default="splade",
                    help="idf: inference-free (doc-side splade export + idf query encoder OUT-query)")
    ap.add_argument("--query-weights", help="--kind idf: idf.json or query_token_weights.txt (default: found in the repo)")
    ap.add_argument("--out", help="output encoder directory (e.g. encoders/NAME)")
    ap.add_argument("--max-length", type=int, default=256)
    ap.add_argument("--logits", action="store_true", help="export raw logits [B,S,V] (pooling in TypeScript)")
    ap.add_argument("--quantize", choices=["int8"], help="int8 dynamic quantisation with onnxruntime")
    ap.add_argument("--pooling", choices=["mean", "cls"], default="mean", help="dense pooling")
    ap.add_argument("--normalize", action="store_true", help="dense: L2-normalise")
    ap.add_argument("--echo-prefix", default="")
    ap.add_argument("--echo-separator", default="")
    ap.add_argument("--keep-special-tokens", action="store_true", help="zeroSpecialTokens: false (naver/splade style)")
    ap.add_argument("--self-test", metavar="OUTDIR", help="export tiny random checkpoints of every kind into OUTDIR")
    args = ap.parse_args()
    if args.self_test:
        self_test(args.self_test)
        return
    if not args.model or not args.out:
        ap.error("--model and --out are required")
    if args.kind == "idf":
        export_idf(args)
    else:
        export(args, args.model, args.out)


if __name__ == "__main__":
    main()
