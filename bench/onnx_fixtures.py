#!/usr/bin/python3
"""Writes the ONNX import fixtures under tests/fixtures/onnx/ (run from the repository root with
Debian's /usr/bin/python3, which has torch; the onnx package is not needed).

For each model: NAME.onnx, exported by torch.onnx.export (batch dimension dynamic), and NAME.json
with an input batch ("input", float32, row-major, "shape"), PyTorch's outputs on it ("output",
row-major, "outputShape") and, for labels ("labels") under the softmax cross-entropy (batch mean),
PyTorch's loss ("loss"), gradient ("gradient") and the Hessian times a direction ("v", "hvp";
double backward), each over the parameters in the order of the imported network (the graph's
node order), whose PyTorch names and shapes are "parameters"; the values are computed in float64
from the float32 weights, input and direction, and written with 9 significant digits;
"training": whether they are in training mode (batch norm with the batch's statistics);
"statistics": the batch norm running statistics the file holds (per layer: mean, then var), in
the imported network's layout.

  mlp, convnet        chains, opset 13, eval mode
  resnet_eval         a small residual CNN (conv-BN-relu stem, a conv-BN-relu-conv-BN block with
                      the shortcut added, a 1x1 conv branch concatenated along the channels, BN,
                      global average pool, Linear), opset 13, eval mode: torch folds each BN that
                      follows a conv into the conv (a conv with a bias, named onnx::Conv_N), so the
                      values are computed on the model with those BNs fused (torch's own
                      fuse_conv_bn_eval), over its parameters; the BN after the concat stays
  resnet_train        the same model exported in training mode (opset 15, training_mode = 1,
                      no constant folding); the values in training mode
  mlp_ln_gelu         Linear-LayerNorm-GELU-Dropout(0.25)-Linear, opset 17, eval mode (GELU is
                      exported as x * 0.5 * (1 + Erf(x / sqrt 2)); the dropout is dropped)
  mlp_ln_gelu_train   the same model and weights exported in training mode (only the .onnx: the
                      dropout mask is PyTorch's own; its evaluation-mode outputs are mlp_ln_gelu's)
  fmnist_resnet_train the residual CNN for 1 x 28 x 28 images and 10 classes (stem stride 2, 4
                      channels), training mode, opset 15: only the .onnx, for the CLI's
                      --model-file test on the bundled Fashion-MNIST subset
"""
import copy
import json
import os
import warnings

import torch
from torch import nn
from torch.nn.utils.fusion import fuse_conv_bn_eval

OUT = os.path.join("tests", "fixtures", "onnx")
warnings.filterwarnings("ignore")  # torch's notes on training-mode export


def g9(ts):
    """Float32 values with the 9 significant digits that round-trip a float32."""
    return [float("%.9g" % float(e)) for t in ts for e in t.detach().flatten()]


def values(model, params, x, labels, v, training):
    """PyTorch's outputs, loss, gradient and HVP (double backward) over params, in the mode given."""
    model.train(training)
    y = model(x)
    loss = nn.functional.cross_entropy(y, labels)
    grads = torch.autograd.grad(loss, params, create_graph=True)
    hv = torch.autograd.grad(sum((g * d).sum() for g, d in zip(grads, v)), params)
    return y, loss, grads, hv


def statistics(model):
    return [t for name, t in model.state_dict().items() if name.endswith("running_mean") or name.endswith("running_var")]


def write(name, model, shape, opset, training, grads_of=None):
    """Exports model and writes NAME.onnx and NAME.json for a batch of this shape; grads_of: the model whose parameters the values are
    over (default: model)."""
    torch.manual_seed(7)
    grads_of = grads_of or model
    x = torch.rand(*shape) * 2 - 1
    before = copy.deepcopy(model.state_dict())
    with torch.no_grad():
        y = model.train(training)(x)
    labels = torch.randint(0, y.shape[1], (x.shape[0],))
    named = list(grads_of.named_parameters())
    v = [torch.rand_like(p) * 2 - 1 for _, p in named]
    # in float64 from the float32 weights, inputs and direction: the expected values carry no float32 rounding of their own
    ref = copy.deepcopy(grads_of).double()
    y, loss, grads, hv = values(ref, list(ref.parameters()), x.double(), labels, [d.double() for d in v], training)
    model.load_state_dict(before)  # a training-mode forward moves the running statistics: the file gets those before it
    stats = statistics(grads_of)  # those of the BNs the file holds (the folded ones are gone)
    path = export(name, model, x, opset, training)
    doc = {"shape": list(x.shape), "input": g9([x]), "outputShape": list(y.shape), "output": g9([y]), "labels": [int(e) for e in labels],
           "training": training, "parameters": [[n, list(p.shape)] for n, p in named], "statistics": g9(stats),
           "loss": float("%.9g" % float(loss)), "gradient": g9(grads), "v": g9(v), "hvp": g9(hv)}
    with open(os.path.join(OUT, name + ".json"), "w") as f:
        json.dump(doc, f, separators=(",", ":"))
    with open(path, "rb") as f:  # the file holds the statistics written above
        data = f.read()
    assert all(t.float().numpy().tobytes() in data for t in stats), name + ": the exported running statistics differ from the recorded ones"
    print(path, os.path.getsize(path), "bytes;", name + ".json", os.path.getsize(os.path.join(OUT, name + ".json")), "bytes")


def export(name, model, x, opset, training):
    path = os.path.join(OUT, name + ".onnx")
    model.train(training)
    torch.onnx.export(model, x, path, opset_version=opset, input_names=["input"], output_names=["output"],
                      dynamic_axes={"input": {0: "N"}, "output": {0: "N"}},
                      training=torch.onnx.TrainingMode.TRAINING if training else torch.onnx.TrainingMode.EVAL,
                      do_constant_folding=not training)
    return path


class ResidualNet(nn.Module):
    """conv-BN-relu, then relu(BN(conv(relu(BN(conv(x))))) + x), a 1x1 conv branch concatenated, BN-relu, global average pool, Linear."""

    def __init__(self, inputs=2, c=3, classes=3, stride=1):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(inputs, c, 3, stride=stride, padding=1, bias=False), nn.BatchNorm2d(c), nn.ReLU())
        self.conv1 = nn.Conv2d(c, c, 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(c)
        self.conv2 = nn.Conv2d(c, c, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(c)
        self.side = nn.Conv2d(c, 2, 1)
        self.bn3 = nn.BatchNorm2d(c + 2)
        self.fc = nn.Linear(c + 2, classes)

    def forward(self, x):
        x = self.stem(x)
        y = torch.relu(self.bn2(self.conv2(torch.relu(self.bn1(self.conv1(x))))) + x)
        h = torch.relu(self.bn3(torch.cat([y, torch.relu(self.side(y))], 1)))
        return self.fc(torch.flatten(nn.functional.adaptive_avg_pool2d(h, 1), 1))


def residual():
    torch.manual_seed(3)
    m = ResidualNet()
    for bn in [m.stem[1], m.bn1, m.bn2, m.bn3]:  # scales and shifts away from 1 and 0
        nn.init.uniform_(bn.weight, 0.5, 1.5)
        nn.init.uniform_(bn.bias, -0.5, 0.5)
    with torch.no_grad():  # running statistics away from 0 and 1
        for _ in range(3):
            m.train()(torch.rand(8, 2, 5, 5) * 3 - 1)
    # eval: the exporter folds each conv's BN into it; the values are over the fused model's parameters
    fused = copy.deepcopy(m).eval()
    fused.stem[0], fused.stem[1] = fuse_conv_bn_eval(fused.stem[0], fused.stem[1]), nn.Identity()
    fused.conv1, fused.bn1 = fuse_conv_bn_eval(fused.conv1, fused.bn1), nn.Identity()
    fused.conv2, fused.bn2 = fuse_conv_bn_eval(fused.conv2, fused.bn2), nn.Identity()
    write("resnet_eval", m, (4, 2, 5, 5), 13, False, grads_of=fused)
    write("resnet_train", m, (4, 2, 5, 5), 15, True)
    torch.manual_seed(5)
    f = ResidualNet(inputs=1, c=4, classes=10, stride=2)
    with torch.no_grad():
        for _ in range(3):
            f.train()(torch.rand(16, 1, 28, 28))
    print(export("fmnist_resnet_train", f, torch.rand(2, 1, 28, 28), 15, True))


def main():
    os.makedirs(OUT, exist_ok=True)
    torch.manual_seed(1)
    write("mlp", nn.Sequential(nn.Linear(6, 5), nn.Tanh(), nn.Linear(5, 3)), (4, 6), 13, False)
    torch.manual_seed(2)
    write("convnet", nn.Sequential(nn.Conv2d(2, 3, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(), nn.Linear(3 * 3 * 3, 4)),
          (3, 2, 6, 6), 13, False)
    residual()
    torch.manual_seed(4)
    mlp = nn.Sequential(nn.Linear(5, 6), nn.LayerNorm(6), nn.GELU(), nn.Dropout(0.25), nn.Linear(6, 3))
    with torch.no_grad():
        nn.init.uniform_(mlp[1].weight, 0.5, 1.5)
        nn.init.uniform_(mlp[1].bias, -0.5, 0.5)
    write("mlp_ln_gelu", mlp, (4, 5), 17, False)
    print(export("mlp_ln_gelu_train", mlp, torch.rand(4, 5), 17, True))


if __name__ == "__main__":
    main()
