# shellcheck shell=bash source-path=SCRIPTDIR
# Sourced by the scripts/test-*.sh scripts: one venv under target/ holds the
# PyPI tools they need, because CI starts from a clean checkout.
#   ensure_venv PACKAGE...   creates target/venv if needed (apt-installing
#                            python3-venv when python3 cannot make one),
#                            pip-installs what is missing
#   free_port                prints a free TCP port on 127.0.0.1

VENV="${VENV:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/target/venv}"
source "$(dirname "${BASH_SOURCE[0]}")/lib-install.sh"

ensure_venv() {
    # A venv without pip is one whose creation failed half-way: start again.
    if [[ ! -x "$VENV/bin/pip" ]]; then
        rm -rf "$VENV"
        if ! python3 -m venv "$VENV" >/dev/null 2>&1; then
            # Debian's python3 needs python3-venv (ensurepip) to make venvs.
            rm -rf "$VENV"
            apt_install python3-venv || return 1
            python3 -m venv "$VENV" || {
                echo "python3 -m venv $VENV fails even with python3-venv installed" >&2
                return 1
            }
        fi
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
