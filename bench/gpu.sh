#!/usr/bin/env bash
# GPU checks in one go, under 8 minutes on an H100: bash bench/gpu.sh (from anywhere; OUT=DIR also writes the output
# to DIR/gpu-bench.log).
#
#   1. the GPU (nvidia-smi -L) and the versions of torch, CUDA, cuDNN;
#   2. the models' training tests, which Lightning runs on the GPU when there is one (accelerator "auto"):
#      bf16-mixed and channels-last, torch.compile against eager, resuming, devices and strategy;
#   3. bench/models.py on the GPU: DyRCNNx4 (full recurrence) and AlexNet, ResNet18, CorNetRT, channels-last,
#      fp32 and bf16-mixed at 32 and 224 px, then bf16-mixed at 32 px compiled (compile time in its own column);
#      img x steps/s and the share of this GPU's bf16 conv peak measured in the same run;
#   4. make experiment EXP=contrast with devices=1 and the tests' smallest settings, in a scratch folder (the
#      repository stays as it is), with its wall time.
#
# Each step runs under `timeout`: at most its own limit, and never past BUDGET_S seconds from the start less the
# minimum kept for the steps after it (a step with under 10 s left is skipped). A failing step prints its status
# and the next one runs; the script exits 1 at the end if any failed. Without a CUDA device it prints one line and
# exits 0. VENV (default .venv) names the environment, as in the Makefile.
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$REPO"
VENV="${VENV:-.venv}"
PY="$VENV/bin/python"
BUDGET_S=450 # all steps together: 7.5 minutes, so that kill grace and clean-up stay under 8
# The tests' smallest training and test settings (packages/dynvision-workflow/tests/test_experiments.py); the Makefile
# writes EXP after `--config experiment=`, so the words after the name are further config entries.
EXPERIMENT_CONFIG="devices=1 epochs=1 train_images=32 test_images=16 batch_size=16 test_batch_size=16"
MODELS=DyRCNNx4:full,AlexNet,ResNet18,CorNetRT # the reference models with their own recurrence
export PYTHONUNBUFFERED=1

failed=()
scratch=

# step NAME LIMIT_S RESERVE_S LOG COMMAND...: COMMAND under `timeout`, for at most LIMIT_S seconds and at most the
# budget left less RESERVE_S (kept for the steps after it); LOG "-" prints its output, else it goes to that file.
step() {
    local name=$1 limit=$2 reserve=$3 log=$4
    shift 4
    local left=$((BUDGET_S - SECONDS - reserve))
    if ((left < limit)); then
        limit=$left
    fi
    if ((limit < 10)); then
        echo "-- $name: SKIPPED (${left} s left of the ${BUDGET_S} s budget)"
        failed+=("$name")
        return 0
    fi
    echo "== $name (limit ${limit} s)"
    local begin=$SECONDS rc=0
    if [[ $log == - ]]; then
        timeout -k 5 "$limit" "$@" </dev/null || rc=$?
    else
        timeout -k 5 "$limit" "$@" </dev/null >"$log" 2>&1 || rc=$?
    fi
    local took=$((SECONDS - begin))
    if ((rc == 0)); then
        echo "-- $name: ok in ${took} s"
    elif ((rc == 124 || rc == 137)); then
        echo "-- $name: TIMED OUT after ${took} s (limit ${limit} s)"
        failed+=("$name")
    else
        echo "-- $name: FAILED with exit status $rc after ${took} s"
        failed+=("$name")
    fi
    return 0
}

main() {
    local cuda
    if ! cuda=$(timeout -k 5 60 "$PY" -c "import torch; print(torch.cuda.is_available())" 2>/dev/null); then
        echo "cannot import torch with $PY (make install, or VENV=...): bench/gpu.sh failed"
        return 1
    fi
    if [[ $cuda != True ]]; then
        echo "no CUDA device: bench/gpu.sh skipped"
        return 0
    fi

    # minimum seconds kept for the steps after each one: 20 per eager benchmark, 40 compiled, 90 the experiment
    step "GPU" 15 210 - nvidia-smi -L
    step "versions" 30 210 - "$PY" -c '
import torch
print(f"torch {torch.__version__}, CUDA {torch.version.cuda}, cuDNN {torch.backends.cudnn.version()}")
p = torch.cuda.get_device_properties(0)
print(f"{p.name}: compute capability {p.major}.{p.minor}, {p.total_memory / 2**30:.0f} GiB, "
      f"{p.multi_processor_count} SMs, bf16 {torch.cuda.is_bf16_supported()}")'

    # Lightning trains on the GPU in these (accelerator "auto"); the other model tests build CPU tensors.
    step "model tests on the GPU (-k test_training)" 100 210 - \
        "$VENV/bin/pytest" packages/dynvision-models/tests -q -x -k test_training -p no:cacheprovider

    local bench=("$PY" bench/models.py --device cuda --models "$MODELS" --channels-last --repeats 2)
    local large=(--size 224 --batch 16 --steps 10)
    step "models fp32 32 px" 40 190 - "${bench[@]}" --precision 32 --size 32
    step "models bf16-mixed 32 px" 40 170 - "${bench[@]}" --precision bf16-mixed --size 32
    step "models fp32 224 px" 45 150 - "${bench[@]}" --precision 32 "${large[@]}"
    step "models bf16-mixed 224 px" 45 130 - "${bench[@]}" --precision bf16-mixed "${large[@]}"
    step "models bf16-mixed 32 px compiled" 180 90 - "${bench[@]}" --precision bf16-mixed --size 32 --steps 8 --compile

    # The Makefile's own target in a scratch folder: its relative Snakefile is a copy, the configs are the repository's
    # ($DYNVISION_CONFIG_DIR) and data, models, reports, logs and .snakemake land in the scratch folder.
    local venv
    scratch=$(mktemp -d "${TMPDIR:-/tmp}/dynvision-gpu.XXXXXX")
    trap 'rm -rf "$scratch"' EXIT # a global: the trap may run after main has returned
    venv=$(cd "$VENV" && pwd)
    cp Snakefile "$scratch/"
    local before=${#failed[@]} begin=$SECONDS
    step "make experiment EXP=contrast ($EXPERIMENT_CONFIG)" 240 0 "$scratch/experiment.log" \
        env DYNVISION_CONFIG_DIR="$REPO/configs" make --no-print-directory -f "$REPO/Makefile" -C "$scratch" \
        VENV="$venv" experiment EXP="contrast $EXPERIMENT_CONFIG"
    echo "make experiment EXP=contrast: wall $((SECONDS - begin)) s"
    grep -h -m 2 -E "GPU available|steps \(100%\) done" "$scratch/experiment.log" || true
    grep -h -E "^(val_accuracy|chance):" "$scratch"/models/*/*_trained*.config.yaml 2>/dev/null || true
    if ((${#failed[@]} > before)); then
        echo "last lines of its log:"
        tail -n 20 "$scratch/experiment.log" || true
    fi
    if [[ -n ${OUT:-} ]]; then
        cp "$scratch/experiment.log" "$OUT/gpu-bench-experiment.log" || true
    fi

    echo "total wall $SECONDS s"
    if ((${#failed[@]})); then
        echo "failed steps: $(printf '%s; ' "${failed[@]}")"
        return 1
    fi
    echo "all steps passed"
}

if [[ -n ${OUT:-} ]]; then
    mkdir -p "$OUT"
    main 2>&1 | tee "$OUT/gpu-bench.log"
else
    main
fi
