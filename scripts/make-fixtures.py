#!/usr/bin/env python3
"""Builds the tiny ONNX encoder fixtures under test/fixtures/models/ and their PyTorch reference vectors.

Not run in CI: it needs torch, transformers, tokenizers, onnx and onnxruntime (a GPU `device` machine has
them; the GPU itself is not used, everything runs on CPU in float32 so references are exact-ish).

Writes, under OUT (argv[1]):
  fixtures.tar.gz   models/<name>/{model.onnx,tokenizer.json,idf.json,encoder.json}, models/references.json,
                    models/<name>/hf/{config.json,model.safetensors} (the same weights in Hugging Face format,
                    for scripts/encode-corpus.py's parity test; not listed in encoder.json),
                    models/tokenizers/{bytelevel.json,bytelevel-ids.json}
  bertbase.tar.gz   (optional, argv[2] == "--bertbase") BERT-base-shaped random MLM graphs whose large
                    initialisers are stripped to external data (weights.bin, regenerated locally with random
                    values by scripts/bench-encoders.ts) so the files stay small; layout in *.layout.json.

Models (all randomly initialised, seeded):
  bert-splade-{logits,pooled,pair}  BertForMaskedLM, small WordPiece vocab built here. `logits` outputs
                                     [B,S,V]; `pooled` appends log1p(relu)*mask -> max in the graph ([B,V]);
                                     `pair` outputs (output_idx, output_weights) top-K with input names
                                     input_ids/input_mask/segment_ids.
  mistral-echo-{logits,pooled}       MistralForCausalLM, Mistral-style BPE (Metaspace + byte fallback) trained
                                     here; echo prompt, pooling over the second copy. `pooled` takes an extra
                                     `pooling_mask` input.
  bert-dense-{mean,mean-pooled,cls}  BertModel; mean (+L2) or CLS pooling.
  bert-idf                           tokenizer + idf.json (inference-free queries).

Reference pooling (the definition the TS pipeline must reproduce, per text, batch of one, no padding):
  sparse: w_j = max_i mask_i * log1p(relu(logit_ij)), special-token columns zeroed when zeroSpecialTokens.
  token ids: content = tokenizer(text, add_special_tokens=False) truncated to maxLength - #specials, wrapped in
  the post-processor's specials. Chunking: windows of (maxLength - #specials) content tokens, max-pooled.
  echo: [bos] + tok(prefix) + tok(text)[:L] + tok(separator) + tok(text)[:L]; pooling over the second copy.
"""
import hashlib
import json
import math
import os
import random
import shutil
import sys
import tarfile
import time
import traceback

import numpy as np
import torch
from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers, processors, trainers

OUT = sys.argv[1] if len(sys.argv) > 1 else "out"
DO_BERTBASE = "--bertbase" in sys.argv
WORK = os.path.join(OUT, "work")
FIX = os.path.join(WORK, "models")
MAX_LEN = 256
OPSET = 17
LOG = []


def log(*a):
    s = " ".join(str(x) for x in a)
    print(s, flush=True)
    LOG.append(s)


torch.manual_seed(0)
random.seed(0)
np.random.seed(0)
torch.set_num_threads(8)

CORPUS_WORDS = """
the a an of to in and or for with on at by from as is are was were be been it this that these those which who
what when where why how search engine rank document documents query queries relevance retrieval sparse dense
vector vectors index inverted posting list lists block blocks summary summaries token tokens term terms weight
weights model models learned expansion lexical neural network networks train training data set sets score
scores top result results fast slow approximate exact recall precision latency memory disk server request
response user users text texts word words sentence sentences language languages english french german city
cities river mountain forest ocean music song songs book books read write reading writing quick brown fox
jumps over lazy dog cat cats house houses car cars road roads time times year years day days night light dark
water fire earth air science scientific paper papers study studies result evidence claim claims true false
protein cell cells gene genes disease patient patients treatment effect effects risk increase decrease high low
large small new old first last long short good bad many few more most other some any all each every same
different number numbers one two three four five six seven eight nine ten hundred thousand million
run running runs ran walk walking talk talking speak speaking think thinking know knowing make making
""".split()

CORPUS = []
rng = random.Random(1)
for _ in range(400):
    n = rng.randint(5, 15)
    CORPUS.append(" ".join(rng.choice(CORPUS_WORDS) for _ in range(n)))
CORPUS += [
    "The quick brown fox jumps over the lazy dog.",
    "Search engines rank documents by relevance to a query.",
    "Learned sparse retrieval expands queries and documents with weighted terms.",
]

LONG_WORDS = [rng.choice(CORPUS_WORDS) for _ in range(420)]
LONG_TEXT = " ".join(LONG_WORDS)
VERY_LONG_TEXT = " ".join(rng.choice(CORPUS_WORDS) for _ in range(1100))

TEXTS = [
    "",
    "hello",
    "a",
    "Retrieval",
    "The quick brown fox jumps over the lazy dog.",
    "SPLADE sparse LEXICAL and expansion model",
    "MiXeD CaSe WoRdS In A SeNtEnCe",
    "café naïve résumé façade",
    "Straße München Zürich",
    "東京 タワー 北京",
    "emoji 😀 and symbols ∑ ≥ ©",
    "repeated repeated repeated repeated words words words",
    "the the the the the the the the",
    "numbers 12345 and 3.14159 and 2026-11-28",
    "punctuation!!! ??? ... ,,, ;;",
    "   leading and trailing spaces   ",
    "tabs\tand\nnewlines\r\nin text",
    "search engines rank documents by relevance to a query",
    "hyphen-ated words and under_scores",
    "UPPERCASE ONLY TEXT",
    "supercalifragilisticexpialidocious antidisestablishmentarianism",
    "protein cell gene disease patient treatment effect",
    LONG_TEXT,
    VERY_LONG_TEXT,
]


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


# ----------------------------------------------------------------------------------------------------------
# Tokenizers
# ----------------------------------------------------------------------------------------------------------

def build_wordpiece(extra_words=(), vocab_target=None, use_bert_processing=False):
    specials = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    chars = list("abcdefghijklmnopqrstuvwxyz0123456789") + list(".,;:!?-_'\"()[]/&%$#@*+=<>")
    vocab = []
    seen = set()
    pieces = ["##" + c for c in "abcdefghijklmnopqrstuvwxyz0123456789"]
    pieces += ["##s", "##ing", "##ed", "##ly", "##er", "##es", "##ion", "##al", "##ity", "##ous"]
    for w in specials + chars + pieces + list(CORPUS_WORDS) + list(extra_words):
        if w not in seen:
            vocab.append(w)
            seen.add(w)
    if vocab_target is not None:
        i = 0
        while len(vocab) < vocab_target:
            t = f"tok{i}"
            if t not in seen:
                vocab.append(t)
                seen.add(t)
            i += 1
    v = {t: i for i, t in enumerate(vocab)}
    tok = Tokenizer(models.WordPiece(v, unk_token="[UNK]", max_input_chars_per_word=100))
    tok.normalizer = normalizers.BertNormalizer(clean_text=True, handle_chinese_chars=True, strip_accents=None,
                                                lowercase=True)
    tok.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    cls, sep = v["[CLS]"], v["[SEP]"]
    if use_bert_processing:
        tok.post_processor = processors.BertProcessing(("[SEP]", sep), ("[CLS]", cls))
    else:
        tok.post_processor = processors.TemplateProcessing(
            single="[CLS] $A [SEP]", pair="[CLS] $A [SEP] $B:1 [SEP]:1",
            special_tokens=[("[CLS]", cls), ("[SEP]", sep)])
    tok.decoder = decoders.WordPiece(prefix="##")
    tok.add_special_tokens(specials)
    return tok


def build_mistral_bpe():
    tok = Tokenizer(models.BPE(unk_token="<unk>", byte_fallback=True, fuse_unk=True))
    tok.pre_tokenizer = pre_tokenizers.Metaspace(replacement="\u2581", prepend_scheme="always", split=True)
    trainer = trainers.BpeTrainer(vocab_size=360, special_tokens=["<unk>", "<s>", "</s>"],
                                  limit_alphabet=60, show_progress=False)
    tok.train_from_iterator(CORPUS, trainer=trainer)
    j = json.loads(tok.to_str())
    old = j["model"]["vocab"]
    specials = ["<unk>", "<s>", "</s>"]
    new = {}
    for s in specials:
        new[s] = len(new)
    for b in range(256):
        new[f"<0x{b:02X}>"] = len(new)
    for t, _ in sorted(old.items(), key=lambda kv: kv[1]):
        if t not in new:
            new[t] = len(new)
    j["model"]["vocab"] = new
    j["model"]["byte_fallback"] = True
    for at in j["added_tokens"]:
        at["id"] = new[at["content"]]
    j["decoder"] = {"type": "Sequence", "decoders": [
        {"type": "Replace", "pattern": {"String": "\u2581"}, "content": " "},
        {"type": "ByteFallback"}, {"type": "Fuse"}, {"type": "Strip", "content": " ", "start": 1, "stop": 0}]}
    j["post_processor"] = {
        "type": "TemplateProcessing",
        "single": [{"SpecialToken": {"id": "<s>", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}}],
        "pair": [{"SpecialToken": {"id": "<s>", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}},
                 {"SpecialToken": {"id": "<s>", "type_id": 1}}, {"Sequence": {"id": "B", "type_id": 1}}],
        "special_tokens": {"<s>": {"id": "<s>", "ids": [new["<s>"]], "tokens": ["<s>"]}},
    }
    return Tokenizer.from_str(json.dumps(j))


def build_bytelevel_bpe():
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=400, initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
                                  special_tokens=["<|endoftext|>"], show_progress=False)
    tok.train_from_iterator(CORPUS, trainer=trainer)
    return tok


def special_ids(tok):
    j = json.loads(tok.to_str())
    return sorted(a["id"] for a in j.get("added_tokens", []) if a.get("special"))


def specials_layout(tok):
    """(prefix ids, suffix ids) the post-processor wraps a single sequence in."""
    with_sp = tok.encode("hello", add_special_tokens=True).ids
    without = tok.encode("hello", add_special_tokens=False).ids
    n = len(without)
    for start in range(len(with_sp) - n + 1):
        if with_sp[start:start + n] == without:
            return with_sp[:start], with_sp[start + n:]
    raise RuntimeError("cannot locate content inside special-token template")


def token_windows(tok, text, max_len, chunking):
    pre, suf = specials_layout(tok)
    content = tok.encode(text, add_special_tokens=False).ids
    room = max_len - len(pre) - len(suf)
    if not chunking:
        return [pre + content[:room] + suf]
    wins = []
    for s in range(0, max(1, len(content)), room):
        wins.append(pre + content[s:s + room] + suf)
    return wins


# ----------------------------------------------------------------------------------------------------------
# Export wrappers
# ----------------------------------------------------------------------------------------------------------

class BertLogits(torch.nn.Module):
    def __init__(self, m):
        super().__init__()
        self.m = m

    def forward(self, input_ids, attention_mask, token_type_ids):
        return self.m(input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids).logits


class BertPooled(torch.nn.Module):
    def __init__(self, m):
        super().__init__()
        self.m = m

    def forward(self, input_ids, attention_mask, token_type_ids):
        logits = self.m(input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids).logits
        w = torch.log1p(torch.relu(logits)) * attention_mask.unsqueeze(-1).to(logits.dtype)
        return torch.amax(w, dim=1)


class BertPair(torch.nn.Module):
    def __init__(self, m, k):
        super().__init__()
        self.m = m
        self.k = k

    def forward(self, input_ids, input_mask, segment_ids):
        logits = self.m(input_ids=input_ids, attention_mask=input_mask, token_type_ids=segment_ids).logits
        w = torch.log1p(torch.relu(logits)) * input_mask.unsqueeze(-1).to(logits.dtype)
        pooled = torch.amax(w, dim=1)
        vals, idx = torch.topk(pooled, self.k, dim=-1)
        return idx, vals


class CausalLogits(torch.nn.Module):
    def __init__(self, m):
        super().__init__()
        self.m = m

    def forward(self, input_ids, attention_mask):
        return self.m(input_ids=input_ids, attention_mask=attention_mask, use_cache=False).logits


class CausalPooled(torch.nn.Module):
    def __init__(self, m):
        super().__init__()
        self.m = m

    def forward(self, input_ids, attention_mask, pooling_mask):
        logits = self.m(input_ids=input_ids, attention_mask=attention_mask, use_cache=False).logits
        w = torch.log1p(torch.relu(logits)) * pooling_mask.unsqueeze(-1).to(logits.dtype)
        return torch.amax(w, dim=1)


class DenseHidden(torch.nn.Module):
    def __init__(self, m):
        super().__init__()
        self.m = m

    def forward(self, input_ids, attention_mask, token_type_ids):
        return self.m(input_ids=input_ids, attention_mask=attention_mask,
                      token_type_ids=token_type_ids).last_hidden_state


class DenseMeanPooled(torch.nn.Module):
    def __init__(self, m):
        super().__init__()
        self.m = m

    def forward(self, input_ids, attention_mask, token_type_ids):
        h = self.m(input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids).last_hidden_state
        mask = attention_mask.unsqueeze(-1).to(h.dtype)
        mean = (h * mask).sum(dim=1) / mask.sum(dim=1).clamp(min=1e-9)
        return torch.nn.functional.normalize(mean, p=2.0, dim=-1)


def export(wrapper, example, input_names, output_names, path):
    wrapper.eval()
    dyn = {n: {0: "batch", 1: "seq"} for n in input_names}
    for n in output_names:
        dyn[n] = {0: "batch", 1: "seq"} if n in ("logits", "last_hidden_state") else {0: "batch"}
    with torch.no_grad():
        torch.onnx.export(wrapper, example, path, input_names=input_names, output_names=output_names,
                          dynamic_axes=dyn, opset_version=OPSET, dynamo=False, do_constant_folding=True)
    # torch.onnx.export restores the module's training mode: make sure references are computed in eval mode.
    wrapper.eval()


def set_eager(cfg):
    try:
        cfg._attn_implementation = "eager"
    except Exception as e:  # noqa: BLE001
        log("could not set eager attention:", e)


# ----------------------------------------------------------------------------------------------------------
# Reference pooling
# ----------------------------------------------------------------------------------------------------------

def splade_pool(logits, pool_mask):
    w = torch.log1p(torch.relu(logits)) * pool_mask.unsqueeze(-1).to(logits.dtype)
    return torch.amax(w, dim=1)


def to_sparse(vec, zero_ids):
    v = vec.detach().cpu().numpy().astype(np.float32).copy()
    if zero_ids is not None:
        v[zero_ids] = 0.0
    idx = np.nonzero(v > 0)[0]
    return {"indices": [int(i) for i in idx], "values": [float(v[i]) for i in idx]}


def bert_ref_vector(mlm, tok, text, max_len, chunking, zero_ids):
    wins = token_windows(tok, text, max_len, chunking)
    pooled = None
    for ids in wins:
        t = torch.tensor([ids], dtype=torch.long)
        mask = torch.ones_like(t)
        with torch.no_grad():
            logits = mlm(input_ids=t, attention_mask=mask, token_type_ids=torch.zeros_like(t)).logits
        p = splade_pool(logits, mask)[0]
        pooled = p if pooled is None else torch.maximum(pooled, p)
    return to_sparse(pooled, zero_ids), wins


def padded_batch(seqs, pad_id=0):
    L = max(len(s) for s in seqs)
    ids = np.full((len(seqs), L), pad_id, dtype=np.int64)
    mask = np.zeros((len(seqs), L), dtype=np.int64)
    for i, s in enumerate(seqs):
        ids[i, :len(s)] = s
        mask[i, :len(s)] = 1
    return ids, mask


def ort_session(path):
    import onnxruntime as ort
    so = ort.SessionOptions()
    so.intra_op_num_threads = 4
    return ort.InferenceSession(path, so, providers=["CPUExecutionProvider"])


def dense_of(sp, dim):
    v = np.zeros(dim, dtype=np.float32)
    v[sp["indices"]] = sp["values"]
    return v


def save_hf(model, d):
    """Writes the torch model's weights and config next to its ONNX export (d/hf/), fp32 safetensors."""
    model.save_pretrained(os.path.join(d, "hf"), safe_serialization=True)


def write_manifest(d, manifest, files):
    manifest = dict(manifest)
    manifest["sha256"] = {f: sha256(os.path.join(d, f)) for f in files}
    with open(os.path.join(d, "encoder.json"), "w") as f:
        json.dump(manifest, f, indent=2)
        f.write("\n")


# ----------------------------------------------------------------------------------------------------------
# Fixture builders
# ----------------------------------------------------------------------------------------------------------

REFS = {"texts": TEXTS, "maxLength": MAX_LEN, "encoders": {}}


def make_bert_splade():
    from transformers import BertConfig, BertForMaskedLM
    tok = build_wordpiece()
    V = tok.get_vocab_size()
    cfg = BertConfig(vocab_size=V, hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
                     intermediate_size=64, max_position_embeddings=512, initializer_range=0.2,
                     hidden_dropout_prob=0.1, attention_probs_dropout_prob=0.1)
    set_eager(cfg)
    mlm = BertForMaskedLM(cfg)
    with torch.no_grad():
        mlm.cls.predictions.bias.copy_(torch.randn(V) * 0.5 - 1.5)
        if hasattr(mlm.cls.predictions.decoder, "bias") and mlm.cls.predictions.decoder.bias is not None:
            mlm.cls.predictions.decoder.bias.copy_(mlm.cls.predictions.bias)
    mlm.eval()
    zero = special_ids(tok)
    log("bert-splade vocab", V, "specials", zero)

    # references (batch of one, eval mode)
    vecs, ids_list, chunk_vecs, raw_vecs = [], [], [], []
    for t in TEXTS:
        v, wins = bert_ref_vector(mlm, tok, t, MAX_LEN, False, zero)
        vecs.append(v)
        ids_list.append(wins[0])
        raw, _ = bert_ref_vector(mlm, tok, t, MAX_LEN, False, None)
        raw_vecs.append(raw)
        cv, _ = bert_ref_vector(mlm, tok, t, 32, True, zero)
        chunk_vecs.append(cv)
    # cross-check our truncation against the tokenizers library's own
    tt = Tokenizer.from_str(tok.to_str())
    tt.enable_truncation(MAX_LEN)
    for t, ids in zip(TEXTS, ids_list):
        assert tt.encode(t).ids == ids, "truncation mismatch"

    ex = torch.tensor([ids_list[4]], dtype=torch.long)
    example = (ex, torch.ones_like(ex), torch.zeros_like(ex))
    K = 64
    variants = {
        "bert-splade-logits": (BertLogits(mlm), ["input_ids", "attention_mask", "token_type_ids"], ["logits"]),
        "bert-splade-pooled": (BertPooled(mlm), ["input_ids", "attention_mask", "token_type_ids"], ["pooled"]),
        "bert-splade-pair": (BertPair(mlm, K), ["input_ids", "input_mask", "segment_ids"],
                             ["output_idx", "output_weights"]),
    }
    for name, (wrapper, ins, outs) in variants.items():
        d = os.path.join(FIX, name)
        os.makedirs(d, exist_ok=True)
        tok.save(os.path.join(d, "tokenizer.json"))
        export(wrapper, example, ins, outs, os.path.join(d, "model.onnx"))
        mlm.eval()
        save_hf(mlm, d)
        write_manifest(d, {"kind": "splade", "dim": V, "maxLength": MAX_LEN, "pooling": "max",
                           "zeroSpecialTokens": True, "files": {"model": "model.onnx", "tokenizer": "tokenizer.json"}},
                       ["model.onnx", "tokenizer.json"])
        # verify with onnxruntime on a padded batch
        sess = ort_session(os.path.join(d, "model.onnx"))
        ids, mask = padded_batch(ids_list)
        feeds = {ins[0]: ids, ins[1]: mask, ins[2]: np.zeros_like(ids)}
        out = sess.run(None, feeds)
        if name == "bert-splade-logits":
            lg = torch.from_numpy(out[0])
            pooled = splade_pool(lg, torch.from_numpy(mask)).numpy()
        elif name == "bert-splade-pooled":
            pooled = out[0]
        else:
            pooled = np.zeros((len(TEXTS), V), dtype=np.float32)
            for b in range(len(TEXTS)):
                pooled[b, out[0][b]] = out[1][b]
        err = 0.0
        for b in range(len(TEXTS)):
            ref = dense_of(raw_vecs[b], V)
            if name == "bert-splade-pair":
                top = np.argsort(-ref, kind="stable")[:K]
                r2 = np.zeros_like(ref)
                r2[top] = ref[top]
                ref = r2
            err = max(err, float(np.abs(pooled[b] - ref).max()))
        log(name, "ORT (padded batch) vs torch max abs err", err)
        entry = {"kind": "splade", "dim": V, "specialIds": zero, "tokenIds": ids_list, "ortMaxAbsErr": err}
        if name == "bert-splade-pair":
            pv = []
            for b in range(len(TEXTS)):
                ref = dense_of(raw_vecs[b], V)
                top = np.argsort(-ref, kind="stable")[:K]
                r2 = np.zeros_like(ref)
                r2[top] = ref[top]
                r2[zero] = 0
                pv.append({"indices": [int(i) for i in np.nonzero(r2 > 0)[0]],
                           "values": [float(r2[i]) for i in np.nonzero(r2 > 0)[0]]})
            entry["vectors"] = pv
            entry["topK"] = K
        else:
            entry["vectors"] = vecs
        if name == "bert-splade-logits":
            entry["rawVectors"] = raw_vecs
            entry["chunked32"] = chunk_vecs
        REFS["encoders"][name] = entry
    return tok, mlm


def make_idf(tok):
    d = os.path.join(FIX, "bert-idf")
    os.makedirs(d, exist_ok=True)
    tok.save(os.path.join(d, "tokenizer.json"))
    r = random.Random(7)
    vocab = tok.get_vocab()
    zero = special_ids(tok)
    idf = {t: round(r.uniform(0.5, 8.0), 4) for t, i in sorted(vocab.items(), key=lambda kv: kv[1])
           if i not in zero and r.random() < 0.9}
    with open(os.path.join(d, "idf.json"), "w") as f:
        json.dump(idf, f)
    write_manifest(d, {"kind": "idf", "dim": tok.get_vocab_size(), "maxLength": MAX_LEN, "zeroSpecialTokens": True,
                       "files": {"tokenizer": "tokenizer.json", "idf": "idf.json"}}, ["tokenizer.json", "idf.json"])
    inv = {i: t for t, i in vocab.items()}
    vecs = []
    for t in TEXTS:
        ids = token_windows(tok, t, MAX_LEN, False)[0]
        s = sorted(set(i for i in ids if i not in zero and inv[i] in idf))
        vecs.append({"indices": s, "values": [float(np.float32(idf[inv[i]])) for i in s]})
    REFS["encoders"]["bert-idf"] = {"kind": "idf", "dim": tok.get_vocab_size(), "vectors": vecs}


def make_mistral():
    from transformers import MistralConfig, MistralForCausalLM
    tok = build_mistral_bpe()
    V = tok.get_vocab_size()
    cfg = MistralConfig(vocab_size=V, hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                        num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=1024,
                        initializer_range=0.2, sliding_window=None, tie_word_embeddings=False,
                        bos_token_id=1, eos_token_id=2, pad_token_id=0)
    set_eager(cfg)
    lm = MistralForCausalLM(cfg)
    lm.eval()
    zero = special_ids(tok)
    log("mistral vocab", V, "specials", zero)
    prefix, sep = "Passage:", "Passage again:"
    pre, suf = specials_layout(tok)
    p_ids = tok.encode(prefix, add_special_tokens=False).ids
    s_ids = tok.encode(sep, add_special_tokens=False).ids
    L = (MAX_LEN - len(pre) - len(suf) - len(p_ids) - len(s_ids)) // 2
    seqs, pmasks, vecs = [], [], []
    for t in TEXTS:
        c = tok.encode(t, add_special_tokens=False).ids[:L]
        ids = pre + p_ids + c + s_ids + c + suf
        pm = [0] * (len(pre) + len(p_ids) + len(c) + len(s_ids)) + [1] * len(c) + [0] * len(suf)
        seqs.append(ids)
        pmasks.append(pm)
        ti = torch.tensor([ids], dtype=torch.long)
        with torch.no_grad():
            logits = lm(input_ids=ti, attention_mask=torch.ones_like(ti), use_cache=False).logits
        p = splade_pool(logits, torch.tensor([pm]))[0]
        vecs.append(to_sparse(p, zero))
    ex = torch.tensor([seqs[4]], dtype=torch.long)
    variants = {
        "mistral-echo-logits": (CausalLogits(lm), ["input_ids", "attention_mask"], ["logits"],
                                (ex, torch.ones_like(ex))),
        "mistral-echo-pooled": (CausalPooled(lm), ["input_ids", "attention_mask", "pooling_mask"], ["pooled"],
                                (ex, torch.ones_like(ex), torch.tensor([pmasks[4]]))),
    }
    for name, (wrapper, ins, outs, example) in variants.items():
        d = os.path.join(FIX, name)
        os.makedirs(d, exist_ok=True)
        tok.save(os.path.join(d, "tokenizer.json"))
        export(wrapper, example, ins, outs, os.path.join(d, "model.onnx"))
        lm.eval()
        save_hf(lm, d)
        write_manifest(d, {"kind": "echo", "dim": V, "maxLength": MAX_LEN, "pooling": "max",
                           "zeroSpecialTokens": True, "echo": {"prefix": prefix, "separator": sep},
                           "files": {"model": "model.onnx", "tokenizer": "tokenizer.json"}},
                       ["model.onnx", "tokenizer.json"])
        sess = ort_session(os.path.join(d, "model.onnx"))
        ids, mask = padded_batch(seqs)
        pm, _ = padded_batch(pmasks)
        feeds = {"input_ids": ids, "attention_mask": mask}
        if "pooling_mask" in ins:
            feeds["pooling_mask"] = pm
        out = sess.run(None, feeds)[0]
        pooled = out if out.ndim == 2 else splade_pool(torch.from_numpy(out), torch.from_numpy(pm)).numpy()
        err = 0.0
        for b in range(len(TEXTS)):
            ref = dense_of(vecs[b], V)
            got = pooled[b].copy()
            got[zero] = 0
            err = max(err, float(np.abs(got - ref).max()))
        log(name, "ORT (padded batch) vs torch max abs err", err)
        REFS["encoders"][name] = {"kind": "echo", "dim": V, "specialIds": zero, "tokenIds": seqs,
                                  "poolingMasks": pmasks, "vectors": vecs, "ortMaxAbsErr": err}


def make_dense(tok):
    from transformers import BertConfig, BertModel
    V = tok.get_vocab_size()
    cfg = BertConfig(vocab_size=V, hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
                     intermediate_size=64, max_position_embeddings=512, initializer_range=0.2)
    set_eager(cfg)
    bm = BertModel(cfg, add_pooling_layer=False)
    bm.eval()
    ids_list, mean_vecs, cls_vecs = [], [], []
    for t in TEXTS:
        ids = token_windows(tok, t, MAX_LEN, False)[0]
        ids_list.append(ids)
        ti = torch.tensor([ids], dtype=torch.long)
        with torch.no_grad():
            h = bm(input_ids=ti, attention_mask=torch.ones_like(ti), token_type_ids=torch.zeros_like(ti)).last_hidden_state
        mean = torch.nn.functional.normalize(h.mean(dim=1), p=2.0, dim=-1)[0]
        mean_vecs.append([float(x) for x in mean.numpy()])
        cls_vecs.append([float(x) for x in h[0, 0].numpy()])
    ex = torch.tensor([ids_list[4]], dtype=torch.long)
    example = (ex, torch.ones_like(ex), torch.zeros_like(ex))
    ins = ["input_ids", "attention_mask", "token_type_ids"]
    variants = {
        "bert-dense-mean": (DenseHidden(bm), ["last_hidden_state"], "mean", True, mean_vecs),
        "bert-dense-mean-pooled": (DenseMeanPooled(bm), ["sentence_embedding"], "mean", True, mean_vecs),
        "bert-dense-cls": (DenseHidden(bm), ["last_hidden_state"], "cls", False, cls_vecs),
    }
    for name, (wrapper, outs, pooling, norm, refs) in variants.items():
        d = os.path.join(FIX, name)
        os.makedirs(d, exist_ok=True)
        tok.save(os.path.join(d, "tokenizer.json"))
        export(wrapper, example, ins, outs, os.path.join(d, "model.onnx"))
        bm.eval()
        save_hf(bm, d)
        write_manifest(d, {"kind": "dense", "dim": 32, "maxLength": MAX_LEN, "pooling": pooling, "normalize": norm,
                           "files": {"model": "model.onnx", "tokenizer": "tokenizer.json"}},
                       ["model.onnx", "tokenizer.json"])
        sess = ort_session(os.path.join(d, "model.onnx"))
        ids, mask = padded_batch(ids_list)
        out = sess.run(None, {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)})[0]
        cmin = 1.0
        for b in range(len(TEXTS)):
            if out.ndim == 3:
                if pooling == "cls":
                    v = out[b, 0]
                else:
                    m = mask[b][:, None].astype(np.float32)
                    v = (out[b] * m).sum(0) / m.sum()
            else:
                v = out[b]
            if norm:
                v = v / np.linalg.norm(v)
            r = np.array(refs[b], dtype=np.float32)
            cmin = min(cmin, float(v @ r / (np.linalg.norm(v) * np.linalg.norm(r))))
        log(name, "ORT (padded batch) vs torch min cosine", cmin)
        REFS["encoders"][name] = {"kind": "dense", "dim": 32, "tokenIds": ids_list, "vectors": refs,
                                  "ortMinCosine": cmin}


def make_bytelevel():
    tok = build_bytelevel_bpe()
    d = os.path.join(FIX, "tokenizers")
    os.makedirs(d, exist_ok=True)
    tok.save(os.path.join(d, "bytelevel.json"))
    ids = [tok.encode(t, add_special_tokens=True).ids for t in TEXTS]
    with open(os.path.join(d, "bytelevel-ids.json"), "w") as f:
        json.dump({"texts": TEXTS, "ids": ids}, f)


# ----------------------------------------------------------------------------------------------------------
# BERT-base-shaped model for the throughput benchmark (weights stripped, regenerated locally)
# ----------------------------------------------------------------------------------------------------------

def strip_weights(src, dst_graph, dst_layout):
    import onnx
    from onnx import TensorProto, numpy_helper
    m = onnx.load(src, load_external_data=True)
    layout, offset = [], 0
    keep_types = {TensorProto.FLOAT: "float32", TensorProto.INT8: "int8", TensorProto.UINT8: "uint8"}
    for t in m.graph.initializer:
        n = int(np.prod(t.dims)) if len(t.dims) else 1
        if t.data_type not in keep_types or n < 4096:
            continue
        arr = numpy_helper.to_array(t)
        nbytes = arr.nbytes
        offset = (offset + 63) // 64 * 64
        layout.append({"name": t.name, "dtype": keep_types[t.data_type], "offset": offset, "length": nbytes,
                       "dims": list(t.dims), "mean": float(arr.astype(np.float64).mean()),
                       "std": float(arr.astype(np.float64).std())})
        t.ClearField("raw_data")
        t.ClearField("float_data")
        t.ClearField("int32_data")
        del t.external_data[:]
        t.data_location = TensorProto.EXTERNAL
        for k, v in (("location", "weights.bin"), ("offset", str(offset)), ("length", str(nbytes))):
            e = t.external_data.add()
            e.key = k
            e.value = v
        offset += nbytes
    onnx.save(m, dst_graph)
    with open(dst_layout, "w") as f:
        json.dump({"totalBytes": offset, "tensors": layout}, f)
    log("stripped", src, "->", os.path.getsize(dst_graph), "bytes graph,", offset, "bytes external")


def make_bertbase():
    from transformers import BertConfig, BertForMaskedLM
    bdir = os.path.join(WORK, "bertbase")
    tmp = os.path.join(WORK, "bertbase-full")
    os.makedirs(bdir, exist_ok=True)
    os.makedirs(tmp, exist_ok=True)
    tok = build_wordpiece(vocab_target=30522, use_bert_processing=True)
    tok.save(os.path.join(bdir, "tokenizer.json"))
    cfg = BertConfig(vocab_size=30522)
    set_eager(cfg)
    mlm = BertForMaskedLM(cfg)
    mlm.eval()
    ex = torch.randint(1000, 30000, (2, 128), dtype=torch.long)
    example = (ex, torch.ones_like(ex), torch.zeros_like(ex))
    ins = ["input_ids", "attention_mask", "token_type_ids"]
    for name, wrapper, outs in (("logits", BertLogits(mlm), ["logits"]), ("pooled", BertPooled(mlm), ["pooled"])):
        t0 = time.time()
        p = os.path.join(tmp, f"{name}-fp32.onnx")
        export(wrapper, example, ins, outs, p)
        log("exported bert-base", name, os.path.getsize(p), "bytes", round(time.time() - t0, 1), "s")
        strip_weights(p, os.path.join(bdir, f"{name}-fp32.onnx"), os.path.join(bdir, f"{name}-fp32.layout.json"))
        try:
            from onnxruntime.quantization import QuantType, quantize_dynamic
            q = os.path.join(tmp, f"{name}-int8.onnx")
            t0 = time.time()
            quantize_dynamic(p, q, weight_type=QuantType.QInt8)
            log("quantized", name, os.path.getsize(q), "bytes", round(time.time() - t0, 1), "s")
            strip_weights(q, os.path.join(bdir, f"{name}-int8.onnx"), os.path.join(bdir, f"{name}-int8.layout.json"))
        except Exception:  # noqa: BLE001
            log("quantization failed:", traceback.format_exc())
    shutil.rmtree(tmp, ignore_errors=True)
    with tarfile.open(os.path.join(OUT, "bertbase.tar.gz"), "w:gz") as tf:
        tf.add(bdir, arcname="bertbase")


def main():
    os.makedirs(FIX, exist_ok=True)
    import transformers
    import onnxruntime
    log("torch", torch.__version__, "transformers", transformers.__version__, "onnxruntime", onnxruntime.__version__)
    steps = [("bert-splade", None), ("idf", None), ("mistral", None), ("dense", None), ("bytelevel", None)]
    tok = None
    for name, _ in steps:
        try:
            t0 = time.time()
            if name == "bert-splade":
                tok, _ = make_bert_splade()
            elif name == "idf":
                make_idf(tok)
            elif name == "mistral":
                make_mistral()
            elif name == "dense":
                make_dense(tok)
            elif name == "bytelevel":
                make_bytelevel()
            log("step", name, "ok in", round(time.time() - t0, 1), "s")
        except Exception:  # noqa: BLE001
            log("step", name, "FAILED:", traceback.format_exc())
    with open(os.path.join(FIX, "references.json"), "w") as f:
        json.dump(REFS, f)
    with tarfile.open(os.path.join(OUT, "fixtures.tar.gz"), "w:gz") as tf:
        tf.add(FIX, arcname="models")
    log("fixtures.tar.gz", os.path.getsize(os.path.join(OUT, "fixtures.tar.gz")), "bytes")
    if DO_BERTBASE:
        try:
            make_bertbase()
        except Exception:  # noqa: BLE001
            log("bert-base FAILED:", traceback.format_exc())
    shutil.rmtree(WORK, ignore_errors=True)
    with open(os.path.join(OUT, "log.txt"), "w") as f:
        f.write("\n".join(LOG) + "\n")


if __name__ == "__main__":
    main()
