#!/usr/bin/env bash
# Interoperability check of test/interop/encoder.py (written from
# docs/wire-format.md alone) against the reference codec CLI.
#
# For every case of test/interop/cases.json:
#   * positive case: the bytes of encoder.py must equal those of
#     `schemaevo-codec encode`, and `schemaevo-codec decode` of encoder.py's
#     bytes must give (semantically) the input document with defaults/nulls
#     applied and deprecated fields removed;
#   * "reject" case: both encoders must refuse the document.
# Run from the repository root:  test/interop/run.sh
set -u

here=test/interop
py=${PYTHON:-python3}
codec=src/codec/schemaevo-codec

if [ ! -f "$here/encoder.py" ]; then
    echo "run.sh: run me from the repository root" >&2
    exit 2
fi
if [ ! -x "$codec" ]; then
    make -s codec-cli || { echo "run.sh: cannot build $codec" >&2; exit 2; }
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# Own consistency first (spec worked examples + own round trips); report only.
if ! "$py" "$here/encoder.py" selftest "$here/cases.json" > "$tmp/selftest.out" 2>&1; then
    echo "warning: encoder.py selftest failed:"
    grep -v '^ok' "$tmp/selftest.out"
fi

# Split cases.json into one directory per case.  The JSON is re-serialized
# with the exact number text (Decimal), since e.g. 1e2, 1.0, 1.230 or
# 3.4028234663852886e38 must reach both encoders as written.
"$py" - "$here/cases.json" "$tmp" <<'EOF' > "$tmp/list" || exit 2
import os, sys
sys.path.insert(0, "test/interop")
import encoder
cases = encoder.json_loads(open(sys.argv[1], "rb").read().decode("utf-8"))
for i, c in enumerate(cases):
    d = os.path.join(sys.argv[2], "%03d" % i)
    os.mkdir(d)
    for key, fn in (("schema", "schema.json"), ("document", "doc.json")):
        with open(os.path.join(d, fn), "w", encoding="utf-8") as f:
            f.write(encoder.json_dumps(c[key]) + "\n")
    print("%s %s %s" % (d, "reject" if c.get("reject") else "encode", c["name"]))
EOF

passed=0
failed=0
while read -r dir kind name; do
    s="$dir/schema.json"
    d="$dir/doc.json"
    if [ "$kind" = reject ]; then
        "$py" "$here/encoder.py" encode "$s" < "$d" > "$dir/mine.bin" 2> "$dir/mine.err"
        rc_mine=$?
        "$codec" encode "$s" < "$d" > "$dir/ref.bin" 2> "$dir/ref.err"
        rc_ref=$?
        if [ $rc_mine -ne 0 ] && [ $rc_ref -ne 0 ]; then
            echo "PASS $name (both refuse: $(head -c 200 "$dir/ref.err" | tr '\n' ' '))"
            passed=$((passed + 1))
        else
            echo "FAIL $name (encoder.py rc=$rc_mine: $(head -c 200 "$dir/mine.err" | tr '\n' ' ');" \
                 "schemaevo-codec rc=$rc_ref: $(head -c 200 "$dir/ref.err" | tr '\n' ' ')" \
                 "$( [ $rc_ref -eq 0 ] && od -An -tx1 -v "$dir/ref.bin" | tr -d ' \n'))"
            failed=$((failed + 1))
        fi
        continue
    fi

    problems=()
    mine_ok=1
    if ! "$py" "$here/encoder.py" encode "$s" < "$d" > "$dir/mine.bin" 2> "$dir/mine.err"; then
        problems+=("encoder.py refused: $(tr '\n' ' ' < "$dir/mine.err")")
        mine_ok=0
    fi
    if ! "$codec" encode "$s" < "$d" > "$dir/ref.bin" 2> "$dir/ref.err"; then
        problems+=("schemaevo-codec encode refused: $(tr '\n' ' ' < "$dir/ref.err")")
    fi
    if [ ${#problems[@]} -eq 0 ] && ! cmp -s "$dir/mine.bin" "$dir/ref.bin"; then
        problems+=("bytes differ: encoder.py $(od -An -tx1 -v "$dir/mine.bin" | tr -d ' \n')" \
                   "reference $(od -An -tx1 -v "$dir/ref.bin" | tr -d ' \n')")
    fi
    if [ $mine_ok -eq 1 ]; then
        if "$codec" decode "$s" < "$dir/mine.bin" > "$dir/decoded.json" 2> "$dir/dec.err"; then
            if ! "$py" "$here/encoder.py" check "$s" "$d" "$dir/decoded.json" > "$dir/check.out" 2>&1; then
                problems+=("decoded JSON differs: $(tr '\n' ' ' < "$dir/check.out")")
            fi
        else
            problems+=("schemaevo-codec decode refused encoder.py's bytes: $(tr '\n' ' ' < "$dir/dec.err")")
        fi
    fi
    if [ ${#problems[@]} -eq 0 ]; then
        echo "PASS $name ($(stat -c %s "$dir/mine.bin") bytes)"
        passed=$((passed + 1))
    else
        echo "FAIL $name: ${problems[*]}"
        failed=$((failed + 1))
    fi
done < "$tmp/list"

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
