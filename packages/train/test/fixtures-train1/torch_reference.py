"""PyTorch's results for the cases of torch-parity.test.ts: reads the inputs (JSON) on stdin, prints JSON."""
import json
import sys

import numpy as np
import torch
from torch import nn, optim
from torch.optim import lr_scheduler as L

d = json.load(sys.stdin)
ref = {"optim": {}, "sched": {}, "loss": {}, "bn": {}}
cases = {
    "sgd": lambda p: optim.SGD([p], lr=0.1, momentum=0.9, dampening=0.1, weight_decay=0.01),
    "nesterov": lambda p: optim.SGD([p], lr=0.1, momentum=0.9, nesterov=True, weight_decay=0.01),
    "adam": lambda p: optim.Adam([p], lr=0.01, betas=(0.8, 0.99), weight_decay=0.1, amsgrad=True),
    "adamw": lambda p: optim.AdamW([p], lr=0.01, weight_decay=0.3),
    "rmsprop": lambda p: optim.RMSprop([p], lr=0.01, alpha=0.9, momentum=0.5, centered=True, weight_decay=0.05),
}
for name, make in cases.items():
    p = torch.tensor(d["p0"], dtype=torch.float32, requires_grad=True)
    o = make(p)
    for g in d["grads"]:
        p.grad = torch.tensor(g, dtype=torch.float32)
        o.step()
    ref["optim"][name] = p.detach().tolist()


def sched(make, steps=29):
    p = torch.zeros(1, requires_grad=True)
    o = optim.SGD([p], lr=0.1, momentum=0.9)
    s = make(o)
    lrs, moms = [o.param_groups[0]["lr"]], [o.param_groups[0]["momentum"]]
    for _ in range(steps):
        o.step()
        s.step()
        lrs.append(o.param_groups[0]["lr"])
        moms.append(o.param_groups[0]["momentum"])
    return {"lrs": lrs, "moms": moms}


ref["sched"] = {
    "step": sched(lambda o: L.StepLR(o, 4, 0.5)),
    "multistep": sched(lambda o: L.MultiStepLR(o, [3, 7, 7, 12], 0.3)),
    "exp": sched(lambda o: L.ExponentialLR(o, 0.9)),
    "cosine": sched(lambda o: L.CosineAnnealingLR(o, 8, 0.01)),
    "linear": sched(lambda o: L.LinearLR(o, 0.2, 0.9, 6)),
    "constant": sched(lambda o: L.ConstantLR(o, 0.25, 4)),
    "onecycle": sched(lambda o: L.OneCycleLR(o, 1, total_steps=30, pct_start=0.2, three_phase=True)),
    "onecycle2": sched(lambda o: L.OneCycleLR(o, 0.5, total_steps=30, anneal_strategy="linear")),
    "sequential": sched(lambda o: L.SequentialLR(o, [L.LinearLR(o, 0.1, total_iters=5), L.CosineAnnealingLR(o, 10)], [5])),
}
p = torch.zeros(1, requires_grad=True)
o = optim.SGD([p], lr=0.1)
s = L.ReduceLROnPlateau(o, patience=1, factor=0.5, cooldown=1, threshold=0.01, min_lr=0.004)
lrs = []
for m in d["metrics"]:
    s.step(m)
    lrs.append(o.param_groups[0]["lr"])
ref["sched"]["plateau"] = {"lrs": lrs}
x = torch.tensor(d["logits"])
y = torch.tensor(d["labels"])
w = torch.tensor([1, 2, 0.5, 1.5])
losses = {
    "plain": {}, "w": {"weight": w}, "ls": {"label_smoothing": 0.2}, "wls": {"weight": w, "label_smoothing": 0.2},
    "wlssum": {"weight": w, "label_smoothing": 0.2, "reduction": "sum"}, "none": {"label_smoothing": 0.2, "reduction": "none"},
}
for name, kw in losses.items():
    ref["loss"][name] = np.atleast_1d(nn.functional.cross_entropy(x, y, **kw).numpy()).tolist()
ref["loss"]["sl1"] = [nn.functional.smooth_l1_loss(x, torch.ones_like(x), beta=0.5).item()]
bn = nn.BatchNorm1d(3)
y1 = bn(torch.tensor(d["bn_x1"], dtype=torch.float32))
bn(torch.tensor(d["bn_x2"], dtype=torch.float32))
ref["bn"] = {"y1": y1.detach().flatten().tolist(), "rm": bn.running_mean.tolist(), "rv": bn.running_var.tolist()}
bn.eval()
ref["bn"]["eval"] = bn(torch.tensor(d["bn_x1"], dtype=torch.float32)).detach().flatten().tolist()
print(json.dumps(ref))
