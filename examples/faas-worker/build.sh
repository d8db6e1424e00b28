#!/usr/bin/env bash
# Builds the FaaS worker example: libcljit (release), the C worker against
# it (build/worker), the Rust twin (build/worker-rs), and each function's
# code.c for wasm32-wasi (functions/NAME/code.wasm).
#
# Needs cc, and clang with wasi-libc for the functions (Debian: clang lld
# wasi-libc libclang-rt-dev-wasm32; ../../scripts/install-deps installs
# them).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
target="${CARGO_TARGET_DIR:-$repo/target}"

cargo build --release --locked --manifest-path "$repo/Cargo.toml" -p cljit-c-api
cargo build --release --locked --manifest-path "$repo/Cargo.toml" -p cljit --example faas-worker
mkdir -p "$here/build"
cc -std=c11 -O2 -Wall -Wextra -Werror -I "$repo/c-api/include" "$here/worker.c" \
    -o "$here/build/worker" -L "$target/release" -Wl,-rpath,"$target/release" -lcljit -lpthread
cp "$target/release/examples/faas-worker" "$here/build/worker-rs"

for src in "$here"/functions/*/code.c; do
    "${CLJIT_WASI_CC:-clang}" --target=wasm32-wasi -O2 -Wall -Werror "$src" -o "${src%.c}.wasm"
done
echo "built: $here/build/worker, $here/build/worker-rs, functions/*/code.wasm"
