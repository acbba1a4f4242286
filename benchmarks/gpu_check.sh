#!/usr/bin/env bash
# Prove the CUDA path on a machine with an NVIDIA GPU, in about 10 minutes, and write what was
# measured to OUT (default gpu_check/): the GPU, the CUDA-only tests, one `paper`-preset 1.2.7
# model trained and diagnosed on the GPU, and pairwise_chamfer timed at ShapeNet scale
# (10^4 test x 3*10^4 training clouds of 1024 points, What3D's order of magnitude).
#
#   bash benchmarks/gpu_check.sh [OUT]         # needs svrlens installed with a CUDA build of torch
#   GPU_CHECK_EPOCHS=3000 bash benchmarks/gpu_check.sh   # the whole paper schedule (longer)
#
# The paper trains 1.2.n for 3000 epochs; by default this trains the first 300 with the paper's
# model and images (128 px, decoder width 512) and records the per-epoch time, so the full run's
# time is a stated extrapolation, never presented as measured. Nothing here runs in CI.
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-gpu_check}
epochs=${GPU_CHECK_EPOCHS:-300}
mkdir -p "$out"
python -c "import sys, torch; sys.exit(0 if torch.cuda.is_available() else 'gpu_check: no CUDA device')"
{
  date -u +"%Y-%m-%dT%H:%M:%SZ"
  nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader || true
  python -c "import torch, svrlens; print('torch', torch.__version__, 'CUDA', torch.version.cuda, \
'svrlens', svrlens.__version__, torch.cuda.get_device_name(0))"
} | tee "$out/machine.txt"

echo "== CUDA-only tests (the 'cuda' parameters of the geometry, training and tendency tests)"
python -m pytest -q -k cuda tests 2>&1 | tee "$out/cuda_tests.txt" | tail -3

echo "== one paper-preset 1.2.7 model on the GPU ($epochs epochs)"
svrlens data synth cube-sphere --out "$out/base1" --image-size 128 --quiet --force
svrlens data subsample "$out/base1" --family 1.2 --out "$out/sets" --force > /dev/null
start=$(date +%s)
svrlens train "$out/sets/1.2.7" --out "$out/run-1.2.7" --preset paper --epochs "$epochs" \
  --device cuda --force --quiet
trained=$(($(date +%s) - start))
svrlens evaluate "$out/run-1.2.7" --out "$out/eval-1.2.7" --quiet > "$out/eval-1.2.7.txt"
echo "trained $epochs epochs in $trained s ($(python -c "print(f'{$trained / $epochs:.2f}')") s/epoch;" \
  "3000 epochs extrapolated: $(python -c "print(f'{$trained / $epochs * 3000 / 60:.0f}')") min)" \
  | tee "$out/train.txt"
cat "$out/eval-1.2.7.txt"

echo "== pairwise_chamfer at 10^4 x 3*10^4 clouds of 1024 points"
python - "$out" <<'EOF' | tee "$out/pairwise.txt"
import sys, time
import torch
from svrlens.geometry import pairwise_chamfer

gen = torch.Generator(device="cuda").manual_seed(0)
test = torch.randn(10_000, 1024, 3, device="cuda", generator=gen)
train = torch.randn(30_000, 1024, 3, device="cuda", generator=gen)
pairwise_chamfer(test[:8], train[:8])  # warm-up
torch.cuda.synchronize()
start = time.perf_counter()
block = pairwise_chamfer(test[:500], train)
torch.cuda.synchronize()
seconds = time.perf_counter() - start
projected = seconds * len(test) / 500
print(f"block 500 x 30000: {seconds:.1f} s; whole 10000 x 30000 projected {projected:.0f} s")
if projected < 300:  # measure the whole matrix when it fits the script's ten minutes
    start = time.perf_counter()
    matrix = pairwise_chamfer(test, train)
    torch.cuda.synchronize()
    print(f"whole 10000 x 30000 measured: {time.perf_counter() - start:.1f} s, {tuple(matrix.shape)}")
print(f"peak GPU memory {torch.cuda.max_memory_allocated() / 2**30:.1f} GiB")
EOF
echo "wrote $out/"
