"""PyTorch reference for the ModelNet recipe of apps/modelnet-demo (configs/modelnet10.yaml).

    python3 bench/modelnet_torch.py --data ../shared/data/modelnet10_ply_hdf5_1024 --seeds 0 1 2 --epochs 20

Trains gorilla3d's vanilla PointNetCls (the same layout as bench/pointnet_torch.py and
@gorilla-ts/models-pointnet) with the seed's recipe: Adam lr 1e-3, weight decay 1e-4 (coupled,
torch.optim.Adam), StepLR 20 epochs x 0.7 stepped per epoch, batch 32 shuffled with drop_last,
1,024 points, per-shape augmentation: isotropic scale U(0.8, 1.25) and a shift U(-0.1, 0.1) per
axis (the demo's `augment: { scale: [0.8, 1.25], shift: 0.1 }`). After every epoch it evaluates the
whole test split in eval mode.

Prints one JSON line per seed and epoch ({"seed", "epoch", "trainLoss", "testAccuracy",
"meanClassAccuracy", "lr", "seconds"}), then one summary line per epoch across the seeds (mean,
min, max accuracy). With several seeds on a GPU, --parallel runs them as separate processes.
"""

import argparse
import glob
import json
import os
import statistics
import subprocess
import sys
import time


def load_split(root: str, split: str, num_points: int):
    import h5py
    import numpy as np

    points, labels = [], []
    for path in sorted(glob.glob(os.path.join(root, f"ply_data_{split}*.h5"))):
        with h5py.File(path, "r") as f:
            points.append(f["data"][:, :num_points, :3].astype(np.float32))
            labels.append(f["label"][:].reshape(-1).astype(np.int64))
    if not points:
        sys.exit(f"modelnet_torch.py: no ply_data_{split}*.h5 files in {root}")
    return np.concatenate(points), np.concatenate(labels)


def train_one(args, seed: int) -> list:
    import numpy as np
    import torch
    from torch import nn

    torch.manual_seed(seed)
    np.random.seed(seed)
    device = torch.device(args.device)
    if device.type == "cpu":
        torch.set_num_threads(args.threads)

    from torch_pointnet import PointNetCls

    train_x, train_y = load_split(args.data, "train", args.points)
    test_x, test_y = load_split(args.data, "test", args.points)
    num_classes = int(max(train_y.max(), test_y.max()) + 1)
    train_x = torch.from_numpy(train_x).to(device)
    train_y = torch.from_numpy(train_y).to(device)
    test_x = torch.from_numpy(test_x).to(device).transpose(1, 2).contiguous()
    test_y = torch.from_numpy(test_y).to(device)

    model = PointNetCls(num_classes).to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3, weight_decay=1e-4)
    scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=20, gamma=0.7)
    criterion = nn.CrossEntropyLoss()
    generator = torch.Generator(device="cpu").manual_seed(seed)
    batch = args.batch
    rows = []
    for epoch in range(1, args.epochs + 1):
        start = time.perf_counter()
        model.train()
        order = torch.randperm(len(train_y), generator=generator).to(device)
        losses = []
        for step in range(len(order) // batch):  # drop_last
            index = order[step * batch : (step + 1) * batch]
            points = train_x[index]
            scale = torch.empty(batch, 1, 1, device=device).uniform_(0.8, 1.25)
            shift = torch.empty(batch, 1, 3, device=device).uniform_(-0.1, 0.1)
            points = (points * scale + shift).transpose(1, 2)
            optimizer.zero_grad(set_to_none=True)
            loss = criterion(model(points), train_y[index])
            loss.backward()
            optimizer.step()
            losses.append(loss.detach())
        lr = optimizer.param_groups[0]["lr"]
        scheduler.step()
        model.eval()
        with torch.no_grad():
            predictions = torch.cat(
                [model(test_x[i : i + 128]).argmax(1) for i in range(0, len(test_y), 128)]
            )
        correct = predictions == test_y
        per_class = [
            correct[test_y == c].float().mean().item() for c in range(num_classes) if (test_y == c).any()
        ]
        row = {
            "seed": seed,
            "epoch": epoch,
            "trainLoss": round(torch.stack(losses).mean().item(), 4),
            "testAccuracy": round(correct.float().mean().item() * 100, 2),
            "meanClassAccuracy": round(statistics.mean(per_class) * 100, 2),
            "lr": lr,
            "seconds": round(time.perf_counter() - start, 2),
        }
        print(json.dumps(row), flush=True)
        rows.append(row)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--data", required=True, help="folder with ply_data_{train,test}*.h5")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--points", type=int, default=1024)
    parser.add_argument("--device", default="cuda" if _cuda() else "cpu")
    parser.add_argument("--threads", type=int, default=2, help="CPU threads (cpu device only)")
    parser.add_argument("--parallel", type=int, default=1, help="seeds run at once (processes)")
    args = parser.parse_args()

    rows = []
    if args.parallel > 1 and len(args.seeds) > 1:
        pending = list(args.seeds)
        running = []
        while pending or running:
            while pending and len(running) < args.parallel:
                seed = pending.pop(0)
                command = [sys.executable, __file__, *_forward(args), "--seeds", str(seed)]
                running.append(subprocess.Popen(command, stdout=subprocess.PIPE, text=True))
            process = running.pop(0)
            out, _ = process.communicate()
            for line in out.splitlines():
                print(line, flush=True)
                rows.append(json.loads(line))
    else:
        for seed in args.seeds:
            rows.extend(train_one(args, seed))

    if len(args.seeds) > 1:
        for epoch in range(1, args.epochs + 1):
            accuracies = [r["testAccuracy"] for r in rows if r["epoch"] == epoch]
            print(
                json.dumps(
                    {
                        "summary": "pytorch",
                        "epoch": epoch,
                        "seeds": len(accuracies),
                        "meanAccuracy": round(statistics.mean(accuracies), 2),
                        "minAccuracy": min(accuracies),
                        "maxAccuracy": max(accuracies),
                    }
                ),
                flush=True,
            )


def _cuda() -> bool:
    try:
        import torch

        return torch.cuda.is_available()
    except ImportError:
        return False


def _forward(args) -> list:
    return [
        "--data", args.data, "--epochs", str(args.epochs), "--batch", str(args.batch),
        "--points", str(args.points), "--device", args.device, "--threads", str(args.threads),
    ]


if __name__ == "__main__":
    main()
