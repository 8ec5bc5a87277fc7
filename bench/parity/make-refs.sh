#!/usr/bin/env bash
# Writes the TS/ONNX-pipeline outputs that scripts/gpu-acceptance.sh compares scripts/encode-corpus.py against on
# a machine without Node: bench/parity/refs/NAME.jsonl for each fixture encoder directory in PARITY_ENCODERS and
# the variant `splade-chunked-pruned` (bert-splade-logits with the manifest edits in variant_manifest). Run from
# the repository root after the fixtures change: bash bench/parity/make-refs.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
source bench/parity/encoders.sh
out=bench/parity/refs
mkdir -p "$out"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
make_variant "$work"
for name in $PARITY_ENCODERS; do
  npx tsx scripts/encode-jsonl.ts --encoders test/fixtures/models --encoder "$name" --input bench/parity/texts.jsonl --output "$out/$name.jsonl"
done
npx tsx scripts/encode-jsonl.ts --encoders "$work" --encoder splade-chunked-pruned --input bench/parity/texts.jsonl \
  --output "$out/splade-chunked-pruned.jsonl"
ls -l "$out"
