"""PyTorch reference for bench/pointnet.mjs: gorilla3d's vanilla PointNetCls trained on the CPU.

    python3 bench/pointnet_torch.py --threads 2 --batch 32 --points 1024 --steps 10 --warmup 3

The model is gorilla3d's `PointNetCls` (the layout `@gorilla-ts/models-pointnet` reproduces):
a shared per-point MLP of 1x1 Conv1d 3 -> 64 -> 128 -> 1024, each with BatchNorm and ReLU except
no ReLU after the last, a max pool over the points, Linear 1024 -> 512 + BatchNorm + ReLU,
Linear 512 -> 256 + Dropout(0.4) + BatchNorm + ReLU, Linear 256 -> 40; cross-entropy loss and
torch.optim.Adam (lr 1e-3), in training mode. One step = zero_grad + forward + backward + Adam
step on one fixed random batch `[B, 3, N]` (Conv1d layout) and its labels, with `loss.item()`
read back every step (what a training loop logs).

Prints one JSON line: median / best step time, samples/s (batch / median), the peak resident
memory of the process (resource.getrusage ru_maxrss), the torch version and thread settings.
"""

import argparse
import json
import resource
import statistics
import sys
import time


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--interop-threads", type=int, default=1)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--points", type=int, default=1024)
    parser.add_argument("--classes", type=int, default=40)
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--warmup", type=int, default=3)
    args = parser.parse_args()

    import torch
    from torch import nn

    torch.set_num_threads(args.threads)
    torch.set_num_interop_threads(args.interop_threads)
    torch.manual_seed(0)

    from torch_pointnet import PointNetCls

    model = PointNetCls(num_classes=args.classes)
    model.train()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    criterion = nn.CrossEntropyLoss()
    points = torch.randn(args.batch, 3, args.points)
    labels = torch.randint(0, args.classes, (args.batch,))

    times = []
    for step in range(args.warmup + args.steps):
        start = time.perf_counter()
        optimizer.zero_grad(set_to_none=True)
        loss = criterion(model(points), labels)
        loss.backward()
        optimizer.step()
        loss.item()
        elapsed = time.perf_counter() - start
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
            }
        )
    )
    sys.stdout.flush()


if __name__ == "__main__":
    main()
