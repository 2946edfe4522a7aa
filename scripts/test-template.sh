#!/usr/bin/env bash
# Validates template.yaml (AWS SAM): cfn-lint accepts it, it declares one
# function per shipped handler with the settings deploy.sh uses, and cfn-lint
# does reject a broken copy (so a green run means something). No AWS call.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
source scripts/lib-check.sh
source scripts/lib-venv.sh
ensure_venv cfn-lint

work="$(mktemp -d "${TMPDIR:-/tmp}/test-template.XXXXXX")"
trap 'rm -rf "$work"' EXIT

if "$VENV/bin/cfn-lint" template.yaml >"$work/lint.out" 2>&1; then
    ok "cfn-lint accepts template.yaml"
else
    not_ok "cfn-lint accepts template.yaml:"; sed 's/^/    /' "$work/lint.out"
fi

# The structure, read with the YAML parser cfn-lint brings along; one line
# per check, "ok|FAIL<TAB>description".
"$VENV/bin/python" - template.yaml >"$work/checks" <<'EOF'
import sys
from cfnlint.decode import decode

template, errors = decode(sys.argv[1])
if errors:
    print(f"FAIL\ttemplate parses: {errors}")
    sys.exit()

def check(ok, what):
    print(f"{'ok' if ok else 'FAIL'}\t{what}")

glob = template.get("Globals", {}).get("Function", {})
functions = {
    props["Properties"].get("Handler"): (name, props)
    for name, props in template["Resources"].items()
    if props["Type"] == "AWS::Serverless::Function"
}
shipped = ["echo", "fibonacci", "error", "panic", "context", "hello"]
check(sorted(functions) == sorted(shipped), f"one function per shipped handler {shipped} (got {sorted(functions)})")
for fn in shipped:
    if fn not in functions:
        continue
    name, res = functions[fn]
    p = res["Properties"]
    runtime = p.get("Runtime", glob.get("Runtime"))
    archs = p.get("Architectures", glob.get("Architectures"))
    check(runtime == "provided.al2023", f"{name}: Runtime provided.al2023 (got {runtime})")
    check(archs == ["arm64"], f"{name}: Architectures [arm64] (got {archs})")
    check(p.get("CodeUri") == f"target/lambda/arm64/{fn}/bootstrap.zip", f"{name}: CodeUri is the arm64 zip of {fn}")
hello = functions.get("hello", (None, {"Properties": {}}))[1]["Properties"]
events = [e.get("Type") for e in hello.get("Events", {}).values()]
check("HttpApi" in events or "FunctionUrlConfig" in hello, "hello: reachable over HTTP (HttpApi event or function URL)")
EOF
while IFS=$'\t' read -r verdict what; do
    if [[ "$verdict" == ok ]]; then ok "$what"; else not_ok "$what"; fi
done <"$work/checks"

# A copy whose output points at a resource that does not exist must be
# rejected. (cfn-lint does not check Runtime against a list, so a made-up
# runtime would not do as the broken case.)
sed 's/!GetAtt HelloFunctionUrl.FunctionUrl/!GetAtt NoSuchFunctionUrl.FunctionUrl/' template.yaml >"$work/broken.yaml"
if "$VENV/bin/cfn-lint" "$work/broken.yaml" >"$work/broken.out" 2>&1; then
    not_ok "cfn-lint rejects a template with a dangling !GetAtt"
else
    ok "cfn-lint rejects a template with a dangling !GetAtt"
fi

finish
