#!/usr/bin/env bash
# GPU acceptance of scripts/encode-corpus.py (issue 15), for a machine with CUDA, torch, transformers and
# tokenizers but no Node:
#  1. throughput: a BERT-base-shaped randomly initialised MLM (BertConfig() defaults: 12 layers, hidden 768,
#     vocab 30,522), a WordPiece tokenizer over a synthetic 30,522-token vocabulary, and a synthetic corpus of
#     DOCS documents that all fill maxLength = 256 tokens; encoded in bf16 on one GPU (documents/s and
#     torch.cuda.max_memory_allocated), at two batch sizes, then the same corpus on every GPU (--gpus N);
#  2. parity: each fixture encoder directory of bench/parity/encoders.sh encoded in fp32 on the GPU and compared
#     with the TS/ONNX pipeline's output committed in bench/parity/refs (bench/parity/make-refs.sh): same non-zero
#     set, max abs error <= 1e-3.
# Output: $OUT/gpu-encode.txt (committed as bench/results/gpu-encode.txt). Usage: OUT=dir bash scripts/gpu-acceptance.sh
set -uo pipefail
cd "$(dirname "$0")/.."
OUT=${OUT:-/tmp/gpu-acceptance}
DOCS=${DOCS:-50000}
mkdir -p "$OUT"
work=$(mktemp -d)
report="$OUT/gpu-encode.txt"
exec > >(tee "$report") 2>&1

echo "# scripts/gpu-acceptance.sh, $(date -u +%Y-%m-%dT%H:%M:%SZ), DOCS=$DOCS"
python3 - <<'PY'
import torch, transformers, tokenizers
print("torch", torch.__version__, "transformers", transformers.__version__, "tokenizers", tokenizers.__version__)
print("cuda", torch.version.cuda, "gpus", torch.cuda.device_count(), [torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count())])
PY
nvidia-smi --query-gpu=name,memory.total,clocks.max.sm --format=csv,noheader 2>/dev/null | head -2

echo "## building the BERT-base-shaped encoder directory and the corpus"
python3 - "$work" "$DOCS" <<'PY'
import json, os, random, sys, time
import torch
from tokenizers import Tokenizer, models, normalizers, pre_tokenizers, processors
from transformers import BertConfig, BertForMaskedLM
work, n_docs = sys.argv[1], int(sys.argv[2])
d = os.path.join(work, "bert-base-random")
os.makedirs(d, exist_ok=True)
t0 = time.time()
specials = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
vocab = {t: i for i, t in enumerate(specials)}
words = [f"w{i}" for i in range(30522 - len(specials))]
for w in words:
    vocab[w] = len(vocab)
tok = Tokenizer(models.WordPiece(vocab, unk_token="[UNK]"))
tok.normalizer = normalizers.BertNormalizer(lowercase=True)
tok.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
tok.post_processor = processors.BertProcessing(("[SEP]", vocab["[SEP]"]), ("[CLS]", vocab["[CLS]"]))
tok.add_special_tokens(specials)
tok.save(os.path.join(d, "tokenizer.json"))
torch.manual_seed(0)
mlm = BertForMaskedLM(BertConfig())
# A random MLM's logits are ~N(0, 0.55): nearly every term would be non-zero after max-pooling (30,000 per document,
# measured). A negative output bias leaves a SPLADE-like ~100-300 terms, so the run measures encoding, not JSON.
with torch.no_grad():
    mlm.cls.predictions.bias.fill_(-2.0)
mlm.save_pretrained(os.path.join(d, "hf"), safe_serialization=True)
json.dump({"kind": "splade", "dim": 30522, "maxLength": 256, "pooling": "max", "maxTerms": 512,
           "files": {"model": "model.onnx", "tokenizer": "tokenizer.json"}}, open(os.path.join(d, "encoder.json"), "w"))
rng = random.Random(1)
with open(os.path.join(work, "corpus.jsonl"), "w") as f:
    for i in range(n_docs):  # 300 words of one token each: truncated to 254 + [CLS] + [SEP] = 256 tokens
        f.write(json.dumps({"_id": str(i), "title": "", "text": " ".join(rng.choice(words) for _ in range(300))}) + "\n")
print("built in", round(time.time() - t0, 1), "s; params", sum(p.numel() for p in mlm.parameters()))
PY

enc() { python3 scripts/encode-corpus.py --encoder "$work/bert-base-random" --input "$work/corpus.jsonl" --drop-text "$@"; }
echo "## bf16, one GPU, --batch-tokens 65536 (256 rows x 256)"
enc --output "$work/enc.jsonl" --dtype bf16 --batch-tokens 65536 --stats "$work/s1.json"
echo "## bf16, one GPU, --batch-tokens 32768 (128 rows x 256)"
enc --output "$work/enc2.jsonl" --dtype bf16 --batch-tokens 32768
head -c 300 "$work/enc.jsonl"; echo
python3 - "$work/enc.jsonl" <<'PY'
import json, sys
n = 0; nnz = 0
for line in open(sys.argv[1]):
    n += 1; nnz += len(json.loads(line)["vector"]["indices"])
print("lines", n, "mean non-zeros per document", round(nnz / max(1, n), 1))
PY
ngpu=$(python3 -c "import torch; print(torch.cuda.device_count())")
if [ "$ngpu" -gt 1 ]; then
  echo "## bf16, --gpus $ngpu"
  enc --output "$work/encN.jsonl" --dtype bf16 --gpus "$ngpu"
  cmp -s "$work/encN.jsonl" "$work/enc.jsonl" && echo "multi-GPU output identical to one GPU's" || echo "multi-GPU output differs from one GPU's (bf16 batch composition)"
fi

echo "## parity, fp32 on the GPU, against the TS/ONNX pipeline (bench/parity/refs)"
source bench/parity/encoders.sh
make_variant "$work"
fail=0
for name in $PARITY_ENCODERS splade-chunked-pruned; do
  dir="test/fixtures/models/$name"; [ "$name" = splade-chunked-pruned ] && dir="$work/$name"
  python3 scripts/encode-corpus.py --encoder "$dir" --input bench/parity/texts.jsonl --output "$work/p-$name.jsonl" --dtype fp32 2>/dev/null
  python3 scripts/compare-encoded.py "$work/p-$name.jsonl" "bench/parity/refs/$name.jsonl" --label "$name" || fail=1
done
echo "parity: $([ $fail -eq 0 ] && echo PASS || echo FAIL)"
rm -rf "$work"
