#!/usr/bin/env bash
# The main job on the demo corpus: ingest corpora/demo into demo.synth, discover themes, show them,
# and write the exports. Safe to run again: unchanged sources and cached embeddings are reused.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh
export HF_HUB_OFFLINE=1
SYNTH=.venv/bin/synth
PROJECT=${1:-demo.synth}
OUT=${2:-demo-output}
mkdir -p "$OUT"
$SYNTH ingest "$PROJECT" corpora/demo
$SYNTH discover "$PROJECT" --seed 42
$SYNTH themes "$PROJECT"
$SYNTH export "$PROJECT" assignments -o "$OUT/assignments.csv"
# Before review nothing is accepted yet, so the demo's codebook and report include the suggestions.
$SYNTH export "$PROJECT" matrix --include-suggested --by kind -o "$OUT/matrix.xlsx"
$SYNTH export "$PROJECT" codebook --include-suggested -o "$OUT/codebook.qdc"
$SYNTH report "$PROJECT" --include-suggested --by kind -o "$OUT/report.html"
echo
echo "Project file:      $PROJECT   (review it in a browser: .venv/bin/synth review $PROJECT)"
echo "Passage table:     $OUT/assignments.csv"
echo "Framework matrix:  $OUT/matrix.xlsx"
echo "Draft codebook:    $OUT/codebook.qdc   (REFI-QDA: NVivo, ATLAS.ti, MAXQDA)"
echo "Report:            $OUT/report.html"
