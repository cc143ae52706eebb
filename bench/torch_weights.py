#!/usr/bin/python3
"""adanewton's weights and PyTorch's nn.Sequential: the same tensors, the same names.

Needs torch only (Debian's python3-torch; no safetensors package: the format is
read and written here, as safetensors.torch.save_file / load_file do).

  torch_weights.py fixture DIR
      writes DIR/torch-sequential.safetensors, the state_dict of a small
      Sequential (Conv2d, ReLU, MaxPool2d, Conv2d, Tanh, Flatten, Linear,
      Sigmoid, Linear on 1x8x8 inputs) from torch.manual_seed(0), and
      DIR/torch-sequential.json: its keys and shapes, two seeded inputs and the
      model's outputs on them (float64). TorchFixtureTest loads the file with
      Weights.load into Network.builder(1, 8, 8).conv2d(1, 2, 3, 1, 1).relu()
      .maxPool2d(2).conv2d(2, 3, 3).tanh().flatten().dense(5).sigmoid().dense(3)
      and checks that the network computes the same outputs.
  torch_weights.py resnet20 DIR
      writes DIR/torch-resnet20.json: the state_dict keys and shapes of
      torch_resnet.ResNet20 (the cifar-resnet20 preset's network), two inputs
      and its outputs on them in evaluation mode (running statistics) and in
      training mode (batch statistics), float64, at values given by formula
      (resnet20_values, no file of weights): Resnet20PresetTest fills the
      preset's tensors by the same formula and compares.
  torch_weights.py check FILE.safetensors [--preset fmnist-mlp|fmnist-conv|cifar-resnet20]
      loads a weights.safetensors that adanewton wrote into the preset's
      model with load_state_dict(strict=True) and prints the keys.
"""
import json
import struct
import sys

import math

import torch
from torch import nn

import torch_resnet

DTYPES = {"F32": torch.float32, "F64": torch.float64, "I64": torch.int64}
NAMES = {v: k for k, v in DTYPES.items()}


def save_file(tensors, path, metadata=None):
    header, offset, blobs = {}, 0, []
    if metadata:
        header["__metadata__"] = metadata
    for name, t in tensors.items():
        t = t.detach().contiguous()
        data = t.numpy().tobytes()  # little-endian on x86-64
        header[name] = {"dtype": NAMES[t.dtype], "shape": list(t.shape), "data_offsets": [offset, offset + len(data)]}
        offset += len(data)
        blobs.append(data)
    text = json.dumps(header, separators=(",", ":")).encode("utf-8")
    text += b" " * ((8 - len(text) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for b in blobs:
            f.write(b)


def load_file(path):
    with open(path, "rb") as f:
        raw = f.read()
    n = struct.unpack("<Q", raw[:8])[0]
    header = json.loads(raw[8:8 + n])
    header.pop("__metadata__", None)
    out = {}
    for name, e in header.items():
        begin, end = e["data_offsets"]
        buf = bytearray(raw[8 + n + begin:8 + n + end])
        out[name] = torch.frombuffer(buf, dtype=DTYPES[e["dtype"]]).reshape(e["shape"]).clone()
    return out


def small_model():
    return nn.Sequential(nn.Conv2d(1, 2, 3, stride=1, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(2, 3, 3), nn.Tanh(), nn.Flatten(),
                         nn.Linear(12, 5), nn.Sigmoid(), nn.Linear(5, 3))


def preset_model(name):
    if name == "fmnist-mlp":
        return nn.Sequential(nn.Linear(784, 128), nn.Tanh(), nn.Linear(128, 10))
    if name == "fmnist-conv":
        return nn.Sequential(nn.Conv2d(1, 20, 5), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(20, 50, 5), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                             nn.Linear(800, 500), nn.ReLU(), nn.Linear(500, 10))
    if name == "cifar-resnet20":
        return torch_resnet.resnet20()
    raise SystemExit("--preset " + name + ": fmnist-mlp, fmnist-conv or cifar-resnet20")


def fixture(out_dir):
    torch.manual_seed(0)
    model = small_model()
    sd = model.state_dict()
    save_file(sd, out_dir + "/torch-sequential.safetensors", {"format": "pt"})
    x = torch.rand(2, 1, 8, 8, generator=torch.Generator().manual_seed(1), dtype=torch.float64).float().double()
    with torch.no_grad():
        y = model.double()(x)
    expected = {"torch": torch.__version__, "keys": list(sd.keys()), "shapes": [list(t.shape) for t in sd.values()],
                "input": x.flatten().tolist(), "output": y.flatten().tolist()}
    with open(out_dir + "/torch-sequential.json", "w") as f:
        json.dump(expected, f, indent=1)
        f.write("\n")
    print("wrote", out_dir + "/torch-sequential.safetensors", list(sd.keys()))


def resnet20_value(name, shape, k, j):
    """Element j (row-major) of tensor k (its index in the state_dict, num_batches_tracked skipped) named name:
    b = sin(0.7 j + 1.3 k + 1); running_var 1 + b^2 / 2, running_mean and biases b / 10, batch norm weights
    1 + b / 10, conv and linear weights b / sqrt(fan_in). The Java test computes the same."""
    b = math.sin(0.7 * j + 1.3 * k + 1)
    if name.endswith("running_var"):
        return 1 + 0.5 * b * b
    if name.endswith("running_mean") or name.endswith("bias"):
        return 0.1 * b
    if len(shape) == 1:  # a batch norm's weight
        return 1 + 0.1 * b
    return b / math.sqrt(math.prod(shape[1:]))


def resnet20_fixture(out_dir):
    model = torch_resnet.resnet20().double()
    sd = model.state_dict()
    values, k = {}, 0
    for name, t in sd.items():
        if name.endswith("num_batches_tracked"):
            values[name] = torch.tensor(0, dtype=torch.int64)
            continue
        shape = list(t.shape)
        flat = [resnet20_value(name, shape, k, j) for j in range(t.numel())]
        values[name] = torch.tensor(flat, dtype=torch.float64).reshape(shape)
        k += 1
    model.load_state_dict(values, strict=True)
    # float32 values (adanewton's batches hold float32 inputs), computed in float64
    x = torch.tensor([math.sin(0.3 * i) for i in range(2 * 3 * 32 * 32)], dtype=torch.float32).double().reshape(2, 3, 32, 32)
    with torch.no_grad():
        model.eval()
        evaluation = model(x)
        model.train()
        training = model(x)
    expected = {"torch": torch.__version__, "keys": list(sd.keys()), "shapes": [list(t.shape) for t in sd.values()],
                "input": "x[i] = float32(sin(0.3 i)), 2 x 3 x 32 x 32", "evaluation": evaluation.flatten().tolist(),
                "training": training.flatten().tolist()}
    with open(out_dir + "/torch-resnet20.json", "w") as f:
        json.dump(expected, f, indent=1)
        f.write("\n")
    print("wrote", out_dir + "/torch-resnet20.json", len(sd), "tensors")


def check(path, preset):
    model = preset_model(preset)
    model.load_state_dict(load_file(path), strict=True)
    print("loaded with strict=True:", [k + " " + str(list(v.shape)) for k, v in model.state_dict().items()])


if __name__ == "__main__":
    if len(sys.argv) >= 3 and sys.argv[1] == "fixture":
        fixture(sys.argv[2])
    elif len(sys.argv) >= 3 and sys.argv[1] == "resnet20":
        resnet20_fixture(sys.argv[2])
    elif len(sys.argv) >= 3 and sys.argv[1] == "check":
        check(sys.argv[2], sys.argv[4] if len(sys.argv) >= 5 and sys.argv[3] == "--preset" else "fmnist-mlp")
    else:
        raise SystemExit(__doc__)
