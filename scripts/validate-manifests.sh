#!/usr/bin/env bash
# The Kubernetes manifests in deploy/, validated offline against the Kubernetes JSON schemas
# (strict: an unknown field is an error). kubernetes-validate carries the schemas itself; it
# and its dependencies come from the hash-pinned .ci/requirements-k8s.txt into a venv under
# target/.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=target/k8s-validate
if [ ! -x "$VENV/bin/kubernetes-validate" ]; then
    python3 -m venv "$VENV"
    "$VENV/bin/pip" install --quiet --require-hashes --no-deps -r .ci/requirements-k8s.txt
fi
"$VENV/bin/kubernetes-validate" --strict --quiet deploy/*.yaml
echo "deploy/: $(ls deploy/*.yaml | wc -l) manifests valid for Kubernetes $("$VENV/bin/kubernetes-validate" --version 2>&1 | tail -1)"
