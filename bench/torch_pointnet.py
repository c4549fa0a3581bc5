"""gorilla3d's vanilla PointNetCls in PyTorch, shared by bench/pointnet_torch.py (speed) and
bench/modelnet_torch.py (accuracy): the layout @gorilla-ts/models-pointnet reproduces.

A shared per-point MLP of 1x1 Conv1d in_channels -> 64 -> 128 -> feat_size, each with BatchNorm
and ReLU except no ReLU after the last, a max pool over the points, Linear feat_size -> 512 +
BatchNorm + ReLU, Linear 512 -> 256 + Dropout + BatchNorm + ReLU (gorilla3d puts the dropout
before the last hidden BatchNorm), Linear 256 -> num_classes. Input [B, C, N] (Conv1d layout).
"""

import torch
from torch import nn


class PointNetCls(nn.Module):
    def __init__(self, num_classes=40, in_channels=3, feat_size=1024, dropout=0.4):
        super().__init__()
        dims = [in_channels, 64, 128, feat_size]
        self.conv_layers = nn.ModuleList(
            nn.Conv1d(dims[i], dims[i + 1], 1) for i in range(len(dims) - 1)
        )
        self.bn_layers = nn.ModuleList(nn.BatchNorm1d(d) for d in dims[1:])
        self.linear_layers = nn.ModuleList([nn.Linear(feat_size, 512), nn.Linear(512, 256)])
        self.linear_bn_layers = nn.ModuleList([nn.BatchNorm1d(512), nn.BatchNorm1d(256)])
        self.dropout = nn.Dropout(p=dropout)
        self.last_linear_layer = nn.Linear(256, num_classes)

    def forward(self, x):  # x: [B, C, N]
        last = len(self.conv_layers) - 1
        for i, (conv, bn) in enumerate(zip(self.conv_layers, self.bn_layers)):
            x = bn(conv(x))
            if i != last:
                x = torch.relu(x)
        x = torch.max(x, 2)[0]  # [B, feat_size]
        for i, (fc, bn) in enumerate(zip(self.linear_layers, self.linear_bn_layers)):
            x = fc(x)
            if i == len(self.linear_layers) - 1:
                x = self.dropout(x)
            x = torch.relu(bn(x))
        return self.last_linear_layer(x)
