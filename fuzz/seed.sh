#!/usr/bin/env bash
# Seeds fuzz/corpus/<target>/ from the project's own inputs: the example cases and the
# legal team's corpus (YAML as written, and as JSON for case_json), and the rule files.
set -euo pipefail
cd "$(dirname "$0")"
root=..
mkdir -p corpus/case_yaml corpus/case_json corpus/rule_file
find "$root/examples" "$root/tests/cases" -name '*.yaml' | while read -r file; do
    name=$(echo "$file" | sed 's|^\.\./||; s|/|_|g')
    cp "$file" "corpus/case_yaml/$name"
done
# YAML to JSON needs a YAML reader: python3 with PyYAML, if present.
if python3 -c 'import yaml' 2>/dev/null; then
    for file in corpus/case_yaml/*.yaml; do
        python3 - "$file" > "corpus/case_json/$(basename "$file" .yaml).json" <<'PY'
import json, sys, yaml
print(json.dumps(yaml.safe_load(open(sys.argv[1])), default=str))
PY
    done
else
    echo "python3 with PyYAML not found: corpus/case_json is seeded from case_yaml's JSON-looking files only" >&2
fi
cp "$root"/rules/iij-secure-access/*.yaml corpus/rule_file/
echo "seeded: $(ls corpus/case_yaml | wc -l) YAML cases, $(ls corpus/case_json | wc -l) JSON cases, $(ls corpus/rule_file | wc -l) rule files"
