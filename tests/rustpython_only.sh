#!/usr/bin/env bash
# The RustPython-only build: the `remotemedia-runtime` binary (crate remotemedia-cli) without the `cpython` feature links no libpython
# and runs the stateful Counter node from its .py file with no Python installation in reach.
#
#   tests/rustpython_only.sh        (run by `make test`)
set -euo pipefail
cd "$(dirname "$0")/.."
target_dir="${CARGO_TARGET_DIR:-target}"
echo "building remotemedia-runtime without the cpython feature (a different feature set: the first build recompiles RustPython, several minutes)"
cargo build -q -p remotemedia-cli --no-default-features --features rustpython,models
bin="$target_dir/debug/remotemedia-runtime"

if readelf -d "$bin" | grep -i 'NEEDED.*libpython'; then
    echo "FAIL: the RustPython-only binary links libpython" >&2
    exit 1
fi

expected='[{"item":"a","count":1},{"item":"b","count":2},{"item":"c","count":3},{"total":3}]'
actual="$(env -i PATH=/nonexistent "$bin" run manifests/python_counter.yaml --input manifests/python_counter.input.json)"
if [[ "$actual" != "$expected" ]]; then
    echo "FAIL: expected $expected, got $actual" >&2
    exit 1
fi

# The main job (Silero VAD, run natively) needs no Python either.
expected='[{"start":0.386,"end":3.55}]'
actual="$(env -i PATH=/nonexistent "$bin" run manifests/voice_activity.yaml --input manifests/data/arctic_a0007.wav)"
if [[ "$actual" != "$expected" ]]; then
    echo "FAIL: the main job printed $actual, expected $expected" >&2
    exit 1
fi

# It says clearly that CPython is not in this build.
if env -i PATH=/nonexistent REMOTEMEDIA_PYTHON_INTERPRETER=cpython "$bin" validate manifests/python_counter.yaml 2>/tmp/rm-rpo.err; then
    echo "FAIL: a CPython-only request succeeded without CPython" >&2
    exit 1
fi
grep -q 'REMOTEMEDIA_PYTHON_INTERPRETER=cpython is not available in this build; available: rustpython' /tmp/rm-rpo.err || {
    cat /tmp/rm-rpo.err >&2
    exit 1
}
echo "RustPython-only build: no libpython, Counter counts and Silero finds the speech with no Python on PATH"
