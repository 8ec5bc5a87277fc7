# Shared by bench/parity/make-refs.sh and scripts/gpu-acceptance.sh (sourced): which fixture encoder directories
# the encode-corpus.py parity covers, and how the chunked + pruned variant is made (a copy of bert-splade-logits
# with maxLength 32, chunking, minWeight 0.3, maxTerms 24), so both sides use the same manifest.
PARITY_ENCODERS="bert-splade-logits bert-splade-pooled mistral-echo-logits mistral-echo-pooled bert-dense-mean bert-dense-mean-pooled bert-dense-cls"

make_variant() { # DIR: writes DIR/splade-chunked-pruned
  local dst="$1/splade-chunked-pruned"
  mkdir -p "$dst"
  cp -r test/fixtures/models/bert-splade-logits/. "$dst/"
  python3 - "$dst/encoder.json" <<'PY'
import json, sys
p = sys.argv[1]
m = json.load(open(p))
m.update({"maxLength": 32, "chunking": True, "maxChunks": 8, "minWeight": 0.3, "maxTerms": 24})
json.dump(m, open(p, "w"), indent=2)
PY
}
