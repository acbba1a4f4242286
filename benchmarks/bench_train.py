"""Training-step throughput (forward, Chamfer loss, backward, Adam) against a plain eager baseline.

    python benchmarks/bench_train.py           # 64, 128, 224 px; the paper's model (decoder width 512)
    python benchmarks/bench_train.py --quick   # smoke mode (the test suite runs it)
    python benchmarks/bench_train.py --levers --threads 1   # the levers, as one run of a sweep

Both steps run the same float32 model in eager mode; the baseline computes the Chamfer loss the
plain way (a dense ``torch.cdist`` and two mins), svrlens with ``chamfer_distance`` (fused
nearest-neighbour kernel, distances recomputed under autograd). Also reported: the laptop
preset's decoder width (128), which the laptop preset trains with.

Second table: the decoder alone (forward + backward, 1024 points), FoldingNet's literal fold — a
Conv1d over concat(grid, codeword repeated per point) — against svrlens's split projection
(codeword term once per cloud). The baseline has one normalisation, svrlens two; same widths.

Third table: the speed levers on the laptop preset's model (64 px, decoder 128, 256 training
points), each against float32 eager in the same run: ``channels_last``, svrlens's
``precision="bfloat16"`` (bfloat16 autocast in the hidden layers, float32 output layers;
labelled "emulated" where the CPU has neither avx512_bf16 nor AMX) and, in the full mode,
``torch.compile``. The header names the CPU, its flags, torch's ISA level and the thread count,
since the answer differs between machines. ``--threads 1`` measures what one run of a sweep gets.
"""

from __future__ import annotations

import argparse
import time

import torch

from svrlens._machine import RELEVANT_FLAGS, cpu_flags, cpu_model
from svrlens.geometry import chamfer_distance
from svrlens.models import ModelConfig, build_model
from svrlens.models.folding import FoldingDecoder


def dense_chamfer(x, y):
    d = torch.cdist(x, y)
    return d.min(2).values.mean(1) + d.min(1).values.mean(1)


def step_rate(model, images, targets, loss_fn, steps):
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)

    def step():
        points, _ = model(images)
        loss = loss_fn(points, targets).mean()
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()

    step()  # warm-up (kernel compilation, allocator)
    start = time.perf_counter()
    for _ in range(steps):
        step()
    return steps * images.shape[0] / (time.perf_counter() - start)


def literal_fold(fold, features, codewords):
    """FoldingNet's form: the codeword repeated at every point, concatenated, one Conv1d."""
    x = torch.cat([features, codewords[:, :, None].expand(-1, -1, features.shape[2])], 1)
    return fold.out(fold.blocks(fold.norm_point(fold.project(x))))


def decoder_rate(decoder, codewords, fold, steps):
    def step():
        grid = decoder.grid[None].expand(codewords.shape[0], -1, -1)
        points = fold(decoder.fold1, grid, codewords)
        points = points + fold(decoder.fold2, points, codewords)
        points.square().mean().backward()

    step()
    start = time.perf_counter()
    for _ in range(steps):
        step()
    return steps * codewords.shape[0] / (time.perf_counter() - start)


def main():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--steps", type=int, default=3)
    parser.add_argument(
        "--threads", type=int, default=None, help="torch threads (default: torch's; sweeps use 1 per run)"
    )
    parser.add_argument("--levers", action="store_true", help="only the third table (the speed levers)")
    args = parser.parse_args()
    if args.threads is not None:
        torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    steps = 1 if args.quick else args.steps
    flags = cpu_flags()
    print(f"CPU: {cpu_model()}; flags: {' '.join(flags) or 'none of ' + ', '.join(RELEVANT_FLAGS)}")
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, ISA {_capability()}, float32 eager")
    if not args.levers:
        step_and_decoder_tables(args, steps)
    levers(args.quick, args.batch_size, steps, flags)


def step_and_decoder_tables(args, steps: int) -> None:
    """The first two tables: whole training steps and the decoder alone, against plain forms."""
    settings = (
        [(32, 32, 4)]
        if args.quick
        else [
            (64, 512, args.batch_size),
            (128, 512, args.batch_size),
            (224, 512, args.batch_size),
            (64, 128, args.batch_size),
        ]
    )
    print(
        f"{'image':>6s} {'decoder':>8s} {'batch':>6s} "
        f"{'plain baseline':>15s} {'svrlens':>12s} {'speed-up':>9s}"
    )
    for size, width, batch in settings:
        model = build_model(ModelConfig(decoder_width=width))
        images = torch.randn(batch, 3, size, size)
        targets = torch.randn(batch, 1024, 3)
        base = step_rate(model, images, targets, dense_chamfer, steps)
        ours = step_rate(model, images, targets, chamfer_distance, steps)
        print(f"{size:5d}px {width:8d} {batch:6d} {base:10.1f} smp/s {ours:6.1f} smp/s {ours / base:8.2f}x")
    print(
        f"\n{'decoder':>8s} {'points':>7s} {'batch':>6s} "
        f"{'concat baseline':>16s} {'split (svrlens)':>16s} {'speed-up':>9s}"
    )
    for width in [16] if args.quick else [128, 512]:
        grid = 4 if args.quick else 32
        decoder = FoldingDecoder(grid_size=grid, width=width)
        codewords = torch.randn(4 if args.quick else 20, 512, requires_grad=True)
        base = decoder_rate(decoder, codewords, literal_fold, steps)
        ours = decoder_rate(decoder, codewords, lambda fold, f, c: fold(f, c), steps)
        print(
            f"{width:8d} {grid * grid:7d} {codewords.shape[0]:6d} "
            f"{base:11.1f} smp/s {ours:11.1f} smp/s {ours / base:8.2f}x"
        )


def _capability() -> str:
    return torch.backends.cpu.get_cpu_capability() if hasattr(torch.backends, "cpu") else "?"


def levers(quick: bool, batch: int, steps: int, flags) -> None:
    """The laptop model's training step under each speed lever, against float32 eager."""
    size, width = (32, 16) if quick else (64, 128)
    batch = 4 if quick else batch
    print(
        f"\nlevers on the laptop model ({size} px, decoder {width}, batch {batch}), vs float32 eager baseline"
    )
    bf16 = bool({"avx512_bf16", "amx_bf16", "bf16"} & set(flags))
    # (name, channels_last, ModelConfig.precision, torch.compile)
    variants = [("float32 eager (baseline)", False, "float32", False)]
    variants.append(("channels_last", True, "float32", False))
    # Measured on every CPU: where bfloat16 is emulated (no avx512_bf16 / amx_bf16) the row says
    # so, since that is what the `seeds` preset costs there.
    emulated = "" if bf16 else " (emulated)"
    variants.append((f"precision bfloat16{emulated} (hidden layers)", False, "bfloat16", False))
    variants.append((f"precision bfloat16{emulated} + channels_last", True, "bfloat16", False))
    if quick:
        print("  torch.compile: measured in the full mode only (its compilation takes minutes)")
    else:
        variants.append(("torch.compile (inductor), float32", False, "float32", True))
    base = None
    for name, channels_last, precision, compiled in variants:
        torch.manual_seed(0)
        model = build_model(ModelConfig(decoder_width=width, grid_size=16, precision=precision))
        images = torch.randn(batch, 3, size, size)
        if channels_last:
            model = model.to(memory_format=torch.channels_last)
            images = images.contiguous(memory_format=torch.channels_last)
        start = time.perf_counter()
        if compiled:
            model = torch.compile(model)
        rate = step_rate(model, images, torch.randn(batch, 256, 3), chamfer_distance, steps)
        base = base or rate
        extra = f"   (compilation and warm-up {time.perf_counter() - start - steps * batch / rate:.0f} s)"
        print(f"  {name:44s} {rate:8.1f} smp/s {rate / base:6.2f}x{extra if compiled else ''}")


if __name__ == "__main__":
    main()
