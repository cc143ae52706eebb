"""ResNet-20 for CIFAR-10 in PyTorch, as adanewton's cifar-resnet20 preset builds it.

He et al. 2016 (arXiv 1512.03385, section 4.2), in the layout of the common
PyTorch implementation (akamaster/pytorch_resnet_cifar10's resnet.py, shortcut
option 'B'): conv3x3 3->16 without bias, BatchNorm2d, ReLU; three stages of three
BasicBlocks (conv3x3-BN-ReLU-conv3x3-BN plus the shortcut, then ReLU) with 16, 32
and 64 channels, stride 2 in the first block of stages 2 and 3, whose shortcut is
Sequential(Conv2d 1x1 without bias, BatchNorm2d); global average pooling; Linear
64->10. 272,474 parameters. Its state_dict names (conv1.weight, bn1.running_mean,
layer2.0.shortcut.0.weight, linear.bias, ...) are the tensor names adanewton
writes, so each loads the other's file with strict=True.

Imported by torch_reference.py (the benchmark) and torch_weights.py (fixtures).
"""
import torch
from torch import nn
from torch.nn import functional as F

PARAMETERS = 272474


class BasicBlock(nn.Module):
    def __init__(self, in_planes, planes, stride=1):
        super().__init__()
        self.conv1 = nn.Conv2d(in_planes, planes, kernel_size=3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, kernel_size=3, stride=1, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.shortcut = nn.Sequential()
        if stride != 1 or in_planes != planes:
            self.shortcut = nn.Sequential(nn.Conv2d(in_planes, planes, kernel_size=1, stride=stride, bias=False), nn.BatchNorm2d(planes))

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return F.relu(out + self.shortcut(x))


class ResNet20(nn.Module):
    def __init__(self, classes=10):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 16, kernel_size=3, stride=1, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(16)
        self.in_planes = 16
        self.layer1 = self._stage(16, 1)
        self.layer2 = self._stage(32, 2)
        self.layer3 = self._stage(64, 2)
        self.linear = nn.Linear(64, classes)

    def _stage(self, planes, stride):
        blocks = []
        for s in [stride, 1, 1]:
            blocks.append(BasicBlock(self.in_planes, planes, s))
            self.in_planes = planes
        return nn.Sequential(*blocks)

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.layer3(self.layer2(self.layer1(out)))
        out = F.avg_pool2d(out, out.size()[3])
        return self.linear(out.view(out.size(0), -1))


def resnet20():
    model = ResNet20()
    count = sum(p.numel() for p in model.parameters())
    assert count == PARAMETERS, count
    return model
