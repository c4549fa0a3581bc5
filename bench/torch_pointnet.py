"""gorilla3d's vanilla PointNetCls in PyTorch, shared by bench/pointnet_torch.py (speed),
bench/modelnet_torch.py (accuracy) and the export test of apps/modelnet-demo (a gorilla-ts
checkpoint exported with `modelnet-demo export --to pytorch` loads into it with
`load_state_dict(strict=True)`): the layout and state names @gorilla-ts/models-pointnet reproduces.

A feature extractor, a shared per-point MLP of 1x1 Conv1d in_channels -> 64 -> 128 -> feat_size,
each with BatchNorm and ReLU except no ReLU after the last, then a max pool over the points;
a classifier of Linear feat_size -> 512 + BatchNorm + ReLU, Linear 512 -> 256 + Dropout +
BatchNorm + ReLU (gorilla3d puts the dropout before the last hidden BatchNorm), Linear 256 ->
num_classes. Input [B, C, N] (Conv1d layout). State names as gorilla3d's:
feature_extractor.conv_layers.0.weight, feature_extractor.bn_layers.0.running_mean,
linear_layers.0.weight, bn_layers.0.num_batches_tracked, last_linear_layer.bias, ...

With input_transform / feature_transform, the paper's T-Nets (off by default, as in the bench):
feature_extractor.input_transform.* (k = in_channels) applied to the points and
feature_extractor.feature_transform.* (k = 64) applied after the first layer, each predicting a
k x k matrix that multiplies the points' rows, starting as the identity.
"""

import torch
from torch import nn


class TNet(nn.Module):
    """The paper's transform network: k -> 64 -> 128 -> 1024, max pool, 512 -> 256 -> k*k."""

    def __init__(self, k):
        super().__init__()
        self.k = k
        dims = [k, 64, 128, 1024]
        self.conv_layers = nn.ModuleList(nn.Conv1d(dims[i], dims[i + 1], 1) for i in range(3))
        self.bn_layers = nn.ModuleList(nn.BatchNorm1d(d) for d in dims[1:])
        self.linear_layers = nn.ModuleList([nn.Linear(1024, 512), nn.Linear(512, 256)])
        self.linear_bn_layers = nn.ModuleList([nn.BatchNorm1d(512), nn.BatchNorm1d(256)])
        self.last_linear_layer = nn.Linear(256, k * k)
        nn.init.zeros_(self.last_linear_layer.weight)
        with torch.no_grad():
            self.last_linear_layer.bias.copy_(torch.eye(k).flatten())

    def forward(self, x):  # x: [B, k, N] -> [B, k, k]
        for conv, bn in zip(self.conv_layers, self.bn_layers):
            x = torch.relu(bn(conv(x)))
        x = torch.max(x, 2)[0]
        for fc, bn in zip(self.linear_layers, self.linear_bn_layers):
            x = torch.relu(bn(fc(x)))
        return self.last_linear_layer(x).view(-1, self.k, self.k)


def transform(x, matrix):  # x: [B, k, N], matrix: [B, k, k] -> each point's row times matrix
    return torch.bmm(x.transpose(2, 1), matrix).transpose(2, 1)


class PointNetFeatExt(nn.Module):
    def __init__(
        self, in_channels=3, feat_size=1024, input_transform=False, feature_transform=False
    ):
        super().__init__()
        dims = [in_channels, 64, 128, feat_size]
        self.conv_layers = nn.ModuleList(
            nn.Conv1d(dims[i], dims[i + 1], 1) for i in range(len(dims) - 1)
        )
        self.bn_layers = nn.ModuleList(nn.BatchNorm1d(d) for d in dims[1:])
        if input_transform:
            self.input_transform = TNet(in_channels)
        if feature_transform:
            self.feature_transform = TNet(dims[1])

    def forward(self, x):  # x: [B, C, N] -> [B, feat_size]
        if hasattr(self, "input_transform"):
            x = transform(x, self.input_transform(x))
        last = len(self.conv_layers) - 1
        for i, (conv, bn) in enumerate(zip(self.conv_layers, self.bn_layers)):
            x = bn(conv(x))
            if i != last:
                x = torch.relu(x)
            if i == 0 and hasattr(self, "feature_transform"):
                x = transform(x, self.feature_transform(x))
        return torch.max(x, 2)[0]


class PointNetCls(nn.Module):
    def __init__(
        self,
        num_classes=40,
        in_channels=3,
        feat_size=1024,
        dropout=0.4,
        input_transform=False,
        feature_transform=False,
    ):
        super().__init__()
        self.feature_extractor = PointNetFeatExt(
            in_channels, feat_size, input_transform, feature_transform
        )
        self.linear_layers = nn.ModuleList([nn.Linear(feat_size, 512), nn.Linear(512, 256)])
        self.bn_layers = nn.ModuleList([nn.BatchNorm1d(512), nn.BatchNorm1d(256)])
        self.dropout = nn.Dropout(p=dropout)
        self.last_linear_layer = nn.Linear(256, num_classes)

    def forward(self, x):  # x: [B, C, N]
        x = self.feature_extractor(x)  # [B, feat_size]
        for i, (fc, bn) in enumerate(zip(self.linear_layers, self.bn_layers)):
            x = fc(x)
            if i == len(self.linear_layers) - 1:
                x = self.dropout(x)
            x = torch.relu(bn(x))
        return self.last_linear_layer(x)
