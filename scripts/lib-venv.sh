# shellcheck shell=bash
# Sourced by the scripts/test-*.sh scripts: one venv under target/ holds the
# PyPI tools they need, because CI starts from a clean checkout.
#   ensure_venv PACKAGE...   creates target/venv if needed, pip-installs what is missing
#   free_port                prints a free TCP port on 127.0.0.1

VENV="${VENV:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/target/venv}"

ensure_venv() {
    if [[ ! -x "$VENV/bin/python" ]]; then
        python3 -m venv "$VENV"
    fi
    local missing=()
    local pkg
    for pkg in "$@"; do
        # pip show wants the bare name, without extras such as [server].
        "$VENV/bin/pip" show -q "${pkg%%[*}" >/dev/null 2>&1 || missing+=("$pkg")
    done
    if [[ ${#missing[@]} -gt 0 ]]; then
        echo "installing into $VENV: ${missing[*]}"
        "$VENV/bin/pip" install -q --disable-pip-version-check "${missing[@]}"
    fi
}

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}
