#!/usr/bin/env bash
# Validates template.yaml (AWS SAM): cfn-lint accepts it, it declares one
# function per shipped handler with the settings deploy.sh uses, and cfn-lint
# does reject a broken copy (so a green run means something). Then the same
# for the README's SAM snippets, for a user's own function (the yaml block after
# the `<!-- sam-snippet: ... -->` marker) and for a function with the shipped
# extension's layer (`<!-- sam-layer-snippet: ... -->`), so the README cannot
# drift. No AWS call.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
source scripts/lib-check.sh
source scripts/lib-venv.sh
ensure_venv cfn-lint

work="$(mktemp -d "${TMPDIR:-/tmp}/test-template.XXXXXX")"
trap 'rm -rf "$work"' EXIT

# tally FILE: one ok/not_ok per line "ok|FAIL<TAB>description" that the Python checks print.
tally() {
    while IFS=$'\t' read -r verdict what; do
        if [[ "$verdict" == ok ]]; then ok "$what"; else not_ok "$what"; fi
    done <"$1"
}

if "$VENV/bin/cfn-lint" template.yaml >"$work/lint.out" 2>&1; then
    ok "cfn-lint accepts template.yaml"
else
    not_ok "cfn-lint accepts template.yaml:"; sed 's/^/    /' "$work/lint.out"
fi

# The structure, read with the YAML parser cfn-lint brings along; one line
# per check, "ok|FAIL<TAB>description".
"$VENV/bin/python" - template.yaml >"$work/checks" <<'EOF'
import pathlib
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
    if props["Type"] == "AWS::Serverless::Function" and not props["Properties"].get("Layers")
}
# The shipped functions: one per file of bootstrap/src/bin/, their one list.
shipped = sorted(f.name.removesuffix(".rs") for f in pathlib.Path("bootstrap/src/bin").glob("*.rs"))
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
# The shipped extension: a layer of its build output, and a function that uses it.
resources = template["Resources"]
layers = {n: r["Properties"] for n, r in resources.items() if r["Type"] == "AWS::Serverless::LayerVersion"}
summary = layers.get("InvocationSummaryLayer", {})
check(summary.get("ContentUri") == "target/lambda/arm64/invocation-summary/extension.zip",
      f"InvocationSummaryLayer: ContentUri is the arm64 layer zip build.sh writes (got {summary.get('ContentUri')})")
check(summary.get("CompatibleRuntimes") == ["provided.al2023"] and summary.get("CompatibleArchitectures") == ["arm64"],
      "InvocationSummaryLayer: compatible with provided.al2023 on arm64")
users = [n for n, r in resources.items() if r["Type"] == "AWS::Serverless::Function"
         and {"Ref": "InvocationSummaryLayer"} in r["Properties"].get("Layers", [])]
check(len(users) == 1, f"one function uses InvocationSummaryLayer through Layers: !Ref (got {users})")
hello = functions.get("hello", (None, {"Properties": {}}))[1]["Properties"]
events = [e.get("Type") for e in hello.get("Events", {}).values()]
check("HttpApi" in events or "FunctionUrlConfig" in hello, "hello: reachable over HTTP (HttpApi event or function URL)")
for fn in ["stream", "http-stream"]:
    url = functions.get(fn, (None, {"Properties": {}}))[1]["Properties"].get("FunctionUrlConfig", {})
    check(url.get("InvokeMode") == "RESPONSE_STREAM", f"{fn}: function URL in RESPONSE_STREAM mode")
EOF
tally "$work/checks"

# A function whose Layers names a layer that is not in the template must be
# rejected too.
sed 's/- !Ref InvocationSummaryLayer/- !Ref NoSuchLayer/' template.yaml >"$work/broken-layer.yaml"
if "$VENV/bin/cfn-lint" "$work/broken-layer.yaml" >/dev/null 2>&1; then
    not_ok "cfn-lint rejects a function whose Layers has a dangling !Ref"
else
    ok "cfn-lint rejects a function whose Layers has a dangling !Ref"
fi

# A copy whose output points at a resource that does not exist must be
# rejected. (cfn-lint does not check Runtime against a list, so a made-up
# runtime would not do as the broken case.)
sed 's/!GetAtt HelloFunctionUrl.FunctionUrl/!GetAtt NoSuchFunctionUrl.FunctionUrl/' template.yaml >"$work/broken.yaml"
if "$VENV/bin/cfn-lint" "$work/broken.yaml" >"$work/broken.out" 2>&1; then
    not_ok "cfn-lint rejects a template with a dangling !GetAtt"
else
    ok "cfn-lint rejects a template with a dangling !GetAtt"
fi

# lint_snippet MARKER FILE WHAT: the README's yaml block after the line <!-- MARKER: ... -->
# into FILE, linted by cfn-lint; returns 1 when there is no such block.
lint_snippet() {
    local marker=$1 file=$2 what=$3
    awk -v marker="<!-- $marker:" 'index($0, marker) == 1 { state = 1; next }
         state == 1 && /^```yaml$/ { state = 2; next }
         state == 2 && /^```$/ { exit }
         state == 2 { print }' README.md >"$file"
    if [[ ! -s "$file" ]]; then
        not_ok "README.md has a yaml block after the $marker marker (<!-- $marker: ... --> then \`\`\`yaml)"
        return 1
    fi
    ok "README.md has a yaml block after the $marker marker"
    if "$VENV/bin/cfn-lint" "$file" >"$file.out" 2>&1; then
        ok "cfn-lint accepts the README's $what"
    else
        not_ok "cfn-lint accepts the README's $what:"; sed 's/^/    /' "$file.out"
    fi
}

# --- the README's SAM snippet for a function using the extension's layer ----------
if lint_snippet sam-layer-snippet "$work/layer-snippet.yaml" "SAM snippet with the extension's layer"; then
    "$VENV/bin/python" - "$work/layer-snippet.yaml" >"$work/layer-checks" <<'EOF'
import sys
from cfnlint.decode import decode

template, errors = decode(sys.argv[1])
resources = (template or {}).get("Resources", {})
layers = {n: r.get("Properties", {}) for n, r in resources.items() if r.get("Type") == "AWS::Serverless::LayerVersion"}
uri = [p.get("ContentUri") for p in layers.values()]
ok = uri == ["target/lambda/arm64/invocation-summary/extension.zip"]
print(f"{'ok' if ok else 'FAIL'}\tlayer snippet: one LayerVersion of the arm64 extension.zip build.sh writes (got {uri})")
users = [n for n, r in resources.items() if r.get("Type") == "AWS::Serverless::Function"
         and any({"Ref": l} in r.get("Properties", {}).get("Layers", []) for l in layers)]
print(f"{'ok' if len(users) == 1 else 'FAIL'}\tlayer snippet: a function uses it through Layers: !Ref (got {users})")
EOF
    tally "$work/layer-checks"
fi

# --- the README's SAM snippet for a user's own function ---------------------------
if lint_snippet sam-snippet "$work/snippet.yaml" "SAM snippet"; then
    # cfn-lint lets a made-up Runtime or architecture through: check the settings themselves.
    "$VENV/bin/python" - "$work/snippet.yaml" >"$work/snippet-checks" <<'EOF'
import re, sys
from cfnlint.decode import decode

template, errors = decode(sys.argv[1])
if errors:
    print(f"FAIL\tthe snippet parses: {errors}")
    sys.exit()
functions = [r for r in template.get("Resources", {}).values() if r.get("Type") == "AWS::Serverless::Function"]
print(f"{'ok' if len(functions) == 1 else 'FAIL'}\tthe snippet declares one AWS::Serverless::Function (got {len(functions)})")
p = functions[0].get("Properties", {}) if functions else {}
for key, want in [("Runtime", "provided.al2023"), ("Handler", "bootstrap"), ("Architectures", ["arm64"])]:
    print(f"{'ok' if p.get(key) == want else 'FAIL'}\tsnippet: {key} is {want} (got {p.get(key)})")
uri = p.get("CodeUri")
good = isinstance(uri, str) and re.fullmatch(r"target/lambda/arm64/[^/]+/bootstrap\.zip", uri)
print(f"{'ok' if good else 'FAIL'}\tsnippet: CodeUri is the arm64 zip build.sh writes, target/lambda/arm64/<bin>/bootstrap.zip (got {uri})")
EOF
    tally "$work/snippet-checks"
    # A misspelt property in it must be caught: the lint of the snippet means something.
    sed 's/Handler:/Handlr:/' "$work/snippet.yaml" >"$work/snippet-broken.yaml"
    if "$VENV/bin/cfn-lint" "$work/snippet-broken.yaml" >/dev/null 2>&1; then
        not_ok "cfn-lint rejects the snippet with Handler misspelt"
    else
        ok "cfn-lint rejects the snippet with Handler misspelt"
    fi
fi

finish
