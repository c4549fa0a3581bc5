"""PyTorch reference for bench/pointnet.mjs: gorilla3d's PointNetCls trained on the CPU.

    python3 bench/pointnet_torch.py --threads 2 --batch 32 --points 1024 --steps 10 --warmup 3
    python3 bench/pointnet_torch.py --model full --compile     # both T-Nets, torch.compile
    python3 bench/pointnet_torch.py --config                   # PyTorch's build configuration

The model is gorilla3d's `PointNetCls` (bench/torch_pointnet.py, the layout
`@gorilla-ts/models-pointnet` reproduces): vanilla (a shared per-point MLP of 1x1 Conv1d
3 -> 64 -> 128 -> 1024 with BatchNorm, max pool, Linear 1024 -> 512 -> 256 -> 40) or, with
`--model full`, the paper's PointNet with the input (3x3) and feature (64x64) T-Nets and the
feature transform's orthogonality term added to the loss. Cross-entropy loss and
torch.optim.Adam (lr 1e-3), in training mode. One step = zero_grad + forward + backward + Adam
step on one fixed random batch `[B, 3, N]` (Conv1d layout) and its labels, with `loss.item()`
read back every step (what a training loop logs).

`--compile` wraps the model in `torch.compile` (TorchInductor, the default backend), which
generates C++ for the CPU and so needs a C++ compiler: without one (`$CXX`, `c++`, `g++`,
`clang++` on PATH) the script prints a JSON line with `skipped` and the reason instead. The
compilation happens in the warm-up steps and is reported separately (`compileSeconds`).

Prints one JSON line: median / best step time, samples/s (batch / median), the peak resident
memory of the process (resource.getrusage ru_maxrss), the torch version and thread settings.
`--config` prints one JSON line with `torch.__config__.show()` (BLAS, oneDNN, OpenMP),
`torch.backends.mkldnn.is_available()`, the CPU capability and the default thread counts.
"""

import argparse
import json
import os
import resource
import shutil
import statistics
import sys
import time


def compiler_missing():
    """The reason torch.compile (inductor) cannot run here, or None when a C++ compiler exists."""
    for name in [os.environ.get("CXX"), "c++", "g++", "clang++"]:
        if name and shutil.which(name):
            return None
    return "torch.compile (inductor) needs a C++ compiler; none of $CXX, c++, g++, clang++ found"


def config():
    import torch

    return {
        "kind": "torch-config",
        "torch": torch.__version__,
        "mkldnnAvailable": torch.backends.mkldnn.is_available(),
        "mklAvailable": torch.backends.mkl.is_available(),
        "openmpAvailable": torch.backends.openmp.is_available(),
        "cpuCapability": torch.backends.cpu.get_cpu_capability(),
        "threads": torch.get_num_threads(),
        "interopThreads": torch.get_num_interop_threads(),
        "parallelInfo": torch.__config__.parallel_info().strip(),
        "config": torch.__config__.show().strip(),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--interop-threads", type=int, default=1)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--points", type=int, default=1024)
    parser.add_argument("--classes", type=int, default=40)
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--model", choices=["vanilla", "full"], default="vanilla")
    parser.add_argument("--compile", action="store_true", help="torch.compile (inductor)")
    parser.add_argument("--config", action="store_true", help="print the build configuration")
    args = parser.parse_args()

    if args.config:
        print(json.dumps(config()))
        return
    mode = "compile" if args.compile else "eager"
    if args.compile and compiler_missing() is not None:
        print(json.dumps({"framework": "pytorch", "mode": mode, "skipped": compiler_missing()}))
        return

    import torch
    from torch import nn

    torch.set_num_threads(args.threads)
    torch.set_num_interop_threads(args.interop_threads)
    torch.manual_seed(0)

    from torch_pointnet import PointNetCls

    full = args.model == "full"
    model = PointNetCls(num_classes=args.classes, input_transform=full, feature_transform=full)
    model.train()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    criterion = nn.CrossEntropyLoss()
    points = torch.randn(args.batch, 3, args.points)
    labels = torch.randint(0, args.classes, (args.batch,))
    forward = torch.compile(model) if args.compile else model

    def loss_of(output):
        if isinstance(output, tuple):
            logits, regularization = output
            return criterion(logits, labels) + regularization
        return criterion(output, labels)

    times = []
    warmup_started = time.perf_counter()
    compile_seconds = None
    for step in range(args.warmup + args.steps):
        start = time.perf_counter()
        optimizer.zero_grad(set_to_none=True)
        loss = loss_of(forward(points))
        loss.backward()
        optimizer.step()
        loss.item()
        elapsed = time.perf_counter() - start
        if step == args.warmup - 1:
            compile_seconds = time.perf_counter() - warmup_started
        if step >= args.warmup:
            times.append(elapsed)

    median = statistics.median(times)
    # ru_maxrss is in KiB on Linux.
    peak_rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        json.dumps(
            {
                "framework": "pytorch",
                "torch": torch.__version__,
                "model": args.model,
                "mode": mode,
                "threads": torch.get_num_threads(),
                "interopThreads": torch.get_num_interop_threads(),
                "batch": args.batch,
                "points": args.points,
                "steps": args.steps,
                "medianMs": round(median * 1000, 1),
                "bestMs": round(min(times) * 1000, 1),
                "samplesPerSecond": round(args.batch / median, 2),
                "peakRssMB": round(peak_rss_mb),
                "parameters": sum(p.numel() for p in model.parameters()),
                **(
                    {"compileSeconds": round(compile_seconds, 1)}
                    if args.compile and compile_seconds is not None
                    else {}
                ),
            }
        )
    )
    sys.stdout.flush()


if __name__ == "__main__":
    main()
