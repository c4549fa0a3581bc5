"""gorilla3d's PointNetCls in PyTorch (vanilla, or the full model with both T-Nets), shared by
bench/pointnet_torch.py (speed) and
bench/modelnet_torch.py (accuracy): the layout @gorilla-ts/models-pointnet reproduces.

A shared per-point MLP of 1x1 Conv1d in_channels -> 64 -> 128 -> feat_size, each with BatchNorm
and ReLU except no ReLU after the last, a max pool over the points, Linear feat_size -> 512 +
BatchNorm + ReLU, Linear 512 -> 256 + Dropout + BatchNorm + ReLU (gorilla3d puts the dropout
before the last hidden BatchNorm), Linear 256 -> num_classes. Input [B, C, N] (Conv1d layout).

With ``input_transform`` / ``feature_transform`` (the paper's full PointNet), a T-Net (``TNet``:
the same per-point stack k -> 64 -> 128 -> 1024 with BatchNorm and ReLU, max pool, Linear
1024 -> 512 -> 256 with BatchNorm and ReLU, Linear 256 -> k*k initialised to the identity)
predicts a [k, k] matrix that multiplies the raw points (k = 3) and the first layer's 64
features (k = 64); ``forward`` then returns ``(logits, regularization)``, the orthogonality term
``weight * mean_b ||I - A A^T||_F^2`` of the feature transform, as @gorilla-ts/models-pointnet.
"""

import torch
from torch import nn


class TNet(nn.Module):
    """Predicts a [k, k] transform from [B, k, N] points (identity at initialisation)."""

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

    def forward(self, x):  # x: [B, k, N]
        for conv, bn in zip(self.conv_layers, self.bn_layers):
            x = torch.relu(bn(conv(x)))
        x = torch.max(x, 2)[0]
        for fc, bn in zip(self.linear_layers, self.linear_bn_layers):
            x = torch.relu(bn(fc(x)))
        return self.last_linear_layer(x).view(-1, self.k, self.k)


def transform_points(x, transform):  # [B, k, N] x [B, k, k] -> [B, k, N]: rows (x^T) @ A
    return torch.bmm(x.transpose(1, 2), transform).transpose(1, 2)


class PointNetCls(nn.Module):
    def __init__(
        self,
        num_classes=40,
        in_channels=3,
        feat_size=1024,
        dropout=0.4,
        input_transform=False,
        feature_transform=False,
        regularization_weight=0.001,
    ):
        super().__init__()
        self.input_transform = TNet(in_channels) if input_transform else None
        self.feature_transform = TNet(64) if feature_transform else None
        self.regularization_weight = regularization_weight
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
        if self.input_transform is not None:
            x = transform_points(x, self.input_transform(x))
        last = len(self.conv_layers) - 1
        feature = None
        for i, (conv, bn) in enumerate(zip(self.conv_layers, self.bn_layers)):
            x = bn(conv(x))
            if i != last:
                x = torch.relu(x)
            if i == 0 and self.feature_transform is not None:
                feature = self.feature_transform(x)
                x = transform_points(x, feature)
        x = torch.max(x, 2)[0]  # [B, feat_size]
        for i, (fc, bn) in enumerate(zip(self.linear_layers, self.linear_bn_layers)):
            x = fc(x)
            if i == len(self.linear_layers) - 1:
                x = self.dropout(x)
            x = torch.relu(bn(x))
        logits = self.last_linear_layer(x)
        if feature is None:
            return logits
        eye = torch.eye(feature.shape[1], device=feature.device)
        difference = eye - torch.bmm(feature, feature.transpose(1, 2))
        regularization = difference.square().sum((1, 2)).mean() * self.regularization_weight
        return logits, regularization
