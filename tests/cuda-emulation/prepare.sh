#!/usr/bin/env bash
# Builds what the Maven profile cuda-emulation links and loads (see pom.xml and the README's Tests):
# the translated CUDA sources (every native/cuda/*.cu, as one C++ file compiled into the JNI library
# instead of the nvcc object) and the libcublas.so.13 shim the backend dlopens. usage: prepare.sh OUTDIR
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
out=$1
mkdir -p "$out/lib"
g++ -std=c++17 -O2 -o "$out/translate" "$here/translate.cpp"
sources=("$root"/native/cuda/*.cu)  # sorted by the shell; the same rule as native/cuda/build-object.sh
"$out/translate" "$out/cuda_emulated.cpp" "$here/cuda_runtime.h" "${sources[@]}"
g++ -std=c++17 -O2 -shared -fPIC -o "$out/lib/libcublas.so.13" "$here/fake_cublas.cpp"
echo "cuda-emulation: $out/cuda_emulated.cpp and $out/lib/libcublas.so.13"
