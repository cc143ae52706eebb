#!/usr/bin/env bash
# Builds bench/gpu/bundle/: everything bench/gpu/run.sh needs on a GPU machine that has no
# Maven and maybe no Java (see bench/gpu/README.md).
#
# Usage (from anywhere): bench/gpu/prepare.sh
#
# Needs here: Maven, a JDK 17 with jlink, and nvcc at /usr/local/cuda/bin/nvcc (the pom's cuda
# profile, activated by that file, links the CUDA kernels into the JNI library; without it the
# jar would carry the "built without CUDA" stub and the bundle would be useless on the GPU).
# Fails if the bundle is larger than 64 MiB (what the device tool carries at most).
#
# Bundle contents:
#   adanewton-all.jar     the runnable jar (all dependencies, JNI library built with nvcc)
#   test-classes/         the compiled tests (mvn test-compile)
#   test-lib/             the test-scope JUnit jars (junit-*, opentest4j, apiguardian only;
#                         everything else is already inside adanewton-all.jar)
#   junit-platform-console-standalone-1.14.1.jar
#   torch_reference.py    the PyTorch peer (bench/torch_reference.py)
#   run.sh                bench/gpu/run.sh
#   jre.tar.xz            a jlinked Java 17 runtime (directory jre/), xz-packed to fit the limit
#   MANIFEST.txt          what was built from what (git revision, dirty files, sizes)
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
cd "$root"

LIMIT_MIB=64
CONSOLE_VERSION=1.14.1
NVCC=/usr/local/cuda/bin/nvcc
bundle="$root/bench/gpu/bundle"
# A long job may share this machine: build at low priority.
NICE=(nice -n 10)
# Maven 3.8's -q still prints ANSI resets; strip them (pipefail keeps Maven's exit status).
mvnq() { "${NICE[@]}" mvn -B -q "$@" 2>&1 | sed -e 's/\x1b\[[0-9;]*m//g' -e '/^$/d'; }
MVN=(mvnq)

say() { printf '\n== prepare: %s\n' "$*"; }
die() { printf 'prepare.sh: %s\n' "$*" >&2; exit 1; }

for tool in mvn java jlink xz; do
    command -v "$tool" >/dev/null 2>&1 || die "$tool not found"
done
[[ -x "$NVCC" ]] || die "$NVCC not found: the jar would carry the CUDA stub, not the CUDA kernels"

say "mvn package -DskipTests (the cuda profile compiles the kernels with $NVCC)"
"${MVN[@]}" package -DskipTests -Dmaven.javadoc.skip=true -Dmaven.source.skip=true -pl cli -am
say "mvn test-compile (the library's tests)"
"${MVN[@]}" test-compile -pl core

jar=target/adanewton-all.jar
[[ -f "$jar" ]] || die "$jar was not built"
[[ -d core/target/test-classes ]] || die "core/target/test-classes was not built"

# The JNI library inside the jar must be the nvcc build: its cuBLAS loader names libcublas.so.13.
python3 - "$jar" <<'EOF' || die "$jar: no JNI library with the CUDA kernels inside (was the cuda profile active?)"
import sys, zipfile
with zipfile.ZipFile(sys.argv[1]) as z:
    libs = [n for n in z.namelist() if n.endswith(".so") and "adanewton" in n]
    for n in libs:
        if b"libcublas.so.13" in z.read(n):
            print("prepare: CUDA kernels found in " + n)
            sys.exit(0)
print("prepare: JNI libraries looked at: %s" % (libs or "none"), file=sys.stderr)
sys.exit(1)
EOF

say "assembling $bundle"
rm -rf "$bundle"
mkdir -p "$bundle/test-lib"
cp "$jar" "$bundle/adanewton-all.jar"
cp -r core/target/test-classes "$bundle/test-classes"

# Test-scope jars: only JUnit's own (the rest of the test classpath is inside adanewton-all.jar).
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"${MVN[@]}" dependency:copy-dependencies -pl core -DincludeScope=test -DoutputDirectory="$tmp/deps"
n=0
for f in "$tmp"/deps/*.jar; do
    case "$(basename "$f")" in
        junit-*|opentest4j-*|apiguardian-*) cp "$f" "$bundle/test-lib/"; n=$((n + 1)) ;;
    esac
done
(( n > 0 )) || die "no JUnit jars among the test-scope dependencies"
echo "prepare: $n test-scope jars: $(cd "$bundle/test-lib" && echo *.jar)"

"${MVN[@]}" -N dependency:copy \
    -Dartifact=org.junit.platform:junit-platform-console-standalone:$CONSOLE_VERSION \
    -DoutputDirectory="$bundle"
[[ -f "$bundle/junit-platform-console-standalone-$CONSOLE_VERSION.jar" ]] \
    || die "junit-platform-console-standalone-$CONSOLE_VERSION.jar was not fetched"

cp bench/torch_reference.py "$bundle/torch_reference.py"
cp bench/gpu/run.sh "$bundle/run.sh"
chmod +x "$bundle/run.sh"

# jlink's own --compress=2 (zip per resource) leaves a 49 MiB runtime, which with the 28 MiB jar
# is over the limit; an uncompressed image packed with xz is about 17 MiB. run.sh unpacks
# jre.tar.xz into bundle/jre (or a temporary directory) on first use.
say "jlink (java.base, java.logging, jdk.unsupported, java.management, java.xml, java.desktop, jdk.management) + xz"
"${NICE[@]}" jlink \
    --add-modules java.base,java.logging,jdk.unsupported,java.management,java.xml,java.desktop,jdk.management \
    --strip-debug --no-header-files --no-man-pages --compress=0 \
    --output "$tmp/jre"
"$tmp/jre/bin/java" -version 2>&1 | head -1
tar -C "$tmp" -cf - jre | "${NICE[@]}" xz -T1 -9 >"$bundle/jre.tar.xz"
echo "prepare: jre $(du -sh "$tmp/jre" | cut -f1) unpacked, $(du -sh "$bundle/jre.tar.xz" | cut -f1) as jre.tar.xz"

{
    echo "built: $(date -u +%Y-%m-%dT%H:%M:%SZ) on $(hostname)"
    echo "git: $(git rev-parse HEAD 2>/dev/null || echo '?')"
    echo "dirty files:"
    git status --short 2>/dev/null | sed 's/^/  /'
    echo "java: $(java -version 2>&1 | head -1)"
    echo "nvcc: $("$NVCC" --version | tail -1)"
    echo "sizes:"
    (cd "$bundle" && du -sh -- * | sed 's/^/  /')
} >"$bundle/MANIFEST.txt"

say "bundle size"
(cd "$bundle" && du -sh -- * | sort -h)
du -sh "$bundle"
bytes=$(du -sb "$bundle" | cut -f1)
limit=$((LIMIT_MIB * 1024 * 1024))
printf 'prepare: bundle %d bytes = %.1f MiB (limit %d MiB)\n' "$bytes" "$(awk -v b="$bytes" 'BEGIN { print b / 1048576 }')" "$LIMIT_MIB"
if (( bytes > limit )); then
    die "the bundle ($bytes bytes) exceeds $LIMIT_MIB MiB, more than the device tool carries"
fi
echo "prepare: done; run on the GPU machine with the bundle carried: bash bench/gpu/run.sh"
