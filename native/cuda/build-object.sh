#!/usr/bin/env bash
# Compiles the CUDA sources (every native/cuda/*.cu) into one relocatable object linked into the JNI
# library.
# usage: build-object.sh NVCC OUTDIR
set -euo pipefail
nvcc=$1
out=$2
here=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$out"
flags=(-std=c++17 -O3 -Xcompiler -fPIC -I"$here/../include" -gencode arch=compute_80,code=sm_80 -gencode 'arch=compute_90,code=[sm_90,compute_90]')
objects=()
for source in "$here"/*.cu; do
    object="$out/$(basename "$source" .cu).o"
    "$nvcc" "${flags[@]}" -c "$source" -o "$object"
    objects+=("$object")
done
ld -r -o "$out/adanewton_cuda.o" "${objects[@]}"
echo "nvcc: built $out/adanewton_cuda.o"
