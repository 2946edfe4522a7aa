# shellcheck shell=bash
# Sourced by scripts that need a Debian package: installs it when it is
# missing, so the scripts run on a fresh machine. Idempotent: nothing is
# fetched (not even `apt-get update`) when everything is already there.
#   ensure_commands COMMAND:PACKAGE...   apt-installs PACKAGE for each COMMAND not on PATH
#   apt_install PACKAGE...               apt-get update, then install (as root, or with sudo -n)

ensure_commands() {
    local missing=() pair
    for pair in "$@"; do
        command -v "${pair%%:*}" >/dev/null 2>&1 || missing+=("${pair#*:}")
    done
    if ((${#missing[@]} == 0)); then return 0; fi
    apt_install "${missing[@]}"
}

apt_install() {
    local as_root=()
    if ! command -v apt-get >/dev/null 2>&1; then
        echo "missing: $*; this is not a Debian-like system (no apt-get): install them and try again" >&2
        return 1
    fi
    if ((EUID != 0)); then
        if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
            as_root=(sudo -n)
        else
            echo "missing: $*; run as root, or install them first: apt-get install -y $*" >&2
            return 1
        fi
    fi
    echo "installing with apt-get: $*"
    "${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq &&
        "${as_root[@]}" env DEBIAN_FRONTEND=noninteractive \
            apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}
