#!/usr/bin/python3
"""Writes the ONNX import fixtures under tests/fixtures/onnx/ (run from the repository root with
Debian's /usr/bin/python3, which has torch; the onnx package is not needed).

For each model: NAME.onnx, exported by torch.onnx.export (opset 13, eval mode, batch dimension
dynamic), and NAME.json with an input batch ("input", row-major, "shape"), PyTorch's outputs on it
("output", row-major, "outputShape"), float32, and, for labels ("labels") under the softmax
cross-entropy (batch mean), PyTorch's loss ("loss"), gradient ("gradient") and the Hessian times a
direction ("v", "hvp"; double backward), each over the parameters in state_dict order."""
import json
import os

import torch
from torch import nn

OUT = os.path.join("tests", "fixtures", "onnx")


def export(name, model, shape):
    torch.manual_seed(7)
    model.eval()
    x = torch.rand(*shape) * 2 - 1
    with torch.no_grad():
        y = model(x)
    labels = torch.randint(0, y.shape[1], (x.shape[0],))
    params = list(model.parameters())
    loss = nn.functional.cross_entropy(model(x), labels)
    grads = torch.autograd.grad(loss, params, create_graph=True)
    v = [torch.rand_like(p) * 2 - 1 for p in params]
    hv = torch.autograd.grad(sum((g * d).sum() for g, d in zip(grads, v)), params)
    flat = lambda ts: [float(e) for t in ts for e in t.detach().flatten()]
    path = os.path.join(OUT, name + ".onnx")
    torch.onnx.export(model, x, path, opset_version=13, input_names=["input"], output_names=["output"],
                      dynamic_axes={"input": {0: "N"}, "output": {0: "N"}}, do_constant_folding=True)
    with open(os.path.join(OUT, name + ".json"), "w") as f:
        json.dump({"shape": list(x.shape), "input": [float(v) for v in x.flatten()],
                   "outputShape": list(y.shape), "output": [float(e) for e in y.flatten()],
                   "labels": [int(e) for e in labels], "loss": float(loss), "gradient": flat(grads), "v": flat(v),
                   "hvp": flat(hv)}, f)
    print(path, os.path.getsize(path), "bytes")


def main():
    os.makedirs(OUT, exist_ok=True)
    torch.manual_seed(1)
    export("mlp", nn.Sequential(nn.Linear(6, 5), nn.Tanh(), nn.Linear(5, 3)), (4, 6))
    torch.manual_seed(2)
    export("convnet", nn.Sequential(nn.Conv2d(2, 3, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                                    nn.Linear(3 * 3 * 3, 4)), (3, 2, 6, 6))


if __name__ == "__main__":
    main()
