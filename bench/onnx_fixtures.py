#!/usr/bin/python3
"""Writes the ONNX import fixtures under tests/fixtures/onnx/ (run from the repository root with
Debian's /usr/bin/python3, which has torch; the onnx package is not needed).

For each model: NAME.onnx, exported by torch.onnx.export (opset 13, eval mode, batch dimension
dynamic), and NAME.json with an input batch ("input", row-major, "shape") and PyTorch's outputs on it
("output", row-major, "outputShape"), float32."""
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
    path = os.path.join(OUT, name + ".onnx")
    torch.onnx.export(model, x, path, opset_version=13, input_names=["input"], output_names=["output"],
                      dynamic_axes={"input": {0: "N"}, "output": {0: "N"}}, do_constant_folding=True)
    with open(os.path.join(OUT, name + ".json"), "w") as f:
        json.dump({"shape": list(x.shape), "input": [float(v) for v in x.flatten()],
                   "outputShape": list(y.shape), "output": [float(v) for v in y.flatten()]}, f)
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
