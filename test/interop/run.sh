#!/usr/bin/env bash
# Interoperability check of test/interop/encoder.py (written from
# docs/wire-format.md alone) against the reference codec CLI.
#
# Kinds of cases in test/interop/cases.json:
#   * positive case: the bytes of encoder.py must equal those of
#     `schemaevo-codec encode`, and `schemaevo-codec decode` of encoder.py's
#     bytes must give (semantically) the input document with defaults/nulls
#     applied and deprecated fields removed;
#   * "reject": "schema" / "value": both must refuse, at the same stage
#     (the schema definition, or the document);
#   * "malformed": both decoders must refuse the message bytes;
#   * "cli_limited": the input holds numbers that the CLI's JSON reader
#     (jansson) cannot pass on exactly (docs/wire-format.md section 14), so
#     the CLI's encoder is not compared.  encoder.py must produce
#     "expect_hex" (the bytes the spec defines; "verified" says how they
#     were checked against the reference, normally encode_message in SQL,
#     which converts the number text exactly) or refuse the document, and
#     `schemaevo-codec decode` of expect_hex must give the expected
#     document.  They are counted apart; a disagreement fails the run.
# The last line counts only the cases compared with schemaevo-codec.
# Run from the repository root:  test/interop/run.sh
set -u

here=test/interop
py=${PYTHON:-python3}
codec=${SCHEMAEVO_CODEC:-src/codec/schemaevo-codec}

if [ ! -f "$here/encoder.py" ]; then
    echo "run.sh: run me from the repository root" >&2
    exit 2
fi
# `make` is a no-op when the CLI is up to date, and rebuilds it when it is
# missing or older than its sources (a stale binary would test old code).
# The Makefile rule does not list codec_internal.h among the sources:
# when that header is newer, -B forces the rebuild.
if [ -z "${SCHEMAEVO_CODEC:-}" ]; then
    mkflags=()
    if [ -e "$codec" ] && [ src/codec/codec_internal.h -nt "$codec" ]; then
        mkflags=(-B)
    fi
    make -s "${mkflags[@]}" codec-cli || { echo "run.sh: cannot build $codec" >&2; exit 2; }
fi
if [ ! -x "$codec" ]; then
    echo "run.sh: $codec is missing" >&2
    exit 2
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# Own consistency first (spec worked examples + own round trips).
selftest_ok=1
if "$py" "$here/encoder.py" selftest "$here/cases.json" > "$tmp/selftest.out" 2>&1; then
    echo "encoder.py $(tail -n 1 "$tmp/selftest.out")"
else
    selftest_ok=0
    echo "FAIL encoder.py selftest:"
    grep -v '^ok' "$tmp/selftest.out"
fi

# Split cases.json into one directory per case.  The JSON is re-serialized
# with the exact number text (Decimal), since e.g. 1e2, 1.0, 1.230 or
# 3.4028234663852886e38 must reach both encoders as written.
"$py" - "$here/cases.json" "$tmp" <<'EOF' > "$tmp/list" || exit 2
import os, sys
sys.dont_write_bytecode = True
sys.path.insert(0, "test/interop")
import encoder
cases = encoder.json_loads(open(sys.argv[1], "rb").read().decode("utf-8"))
for i, c in enumerate(cases):
    d = os.path.join(sys.argv[2], "%03d" % i)
    os.mkdir(d)
    for key, fn in (("schema", "schema.json"), ("document", "doc.json")):
        if key in c:
            with open(os.path.join(d, fn), "w", encoding="utf-8") as f:
                f.write(encoder.json_dumps(c[key]) + "\n")
    for key, fn in (("malformed", "msg.bin"), ("expect_hex", "expect.bin")):
        if key in c:
            with open(os.path.join(d, fn), "wb") as f:
                f.write(bytes.fromhex(c[key]))
    if "malformed" in c:
        kind = "malformed"
    elif c.get("reject"):
        if c["reject"] not in ("schema", "value"):
            sys.exit("case %s: \"reject\" must be \"schema\" or \"value\""
                     % c["name"])
        kind = "reject-" + c["reject"]
    else:
        kind = "encode"
    if "cli_limited" in c:
        if kind == "encode" and "expect_hex" not in c:
            sys.exit("case %s: a cli_limited case needs expect_hex" % c["name"])
        kind = "spec-" + kind
    print("%s %s %s" % (d, kind, c["name"]))
EOF

hex() { od -An -tx1 -v "$1" | tr -d ' \n'; }
oneline() { head -c "${2:-200}" "$1" | tr '\n' ' '; }

passed=0
failed=0
spec_ok=0
spec_bad=0
while read -r dir kind name; do
    s="$dir/schema.json"
    d="$dir/doc.json"
    problems=()
    case $kind in
    reject-*|spec-reject-*)
        stage=${kind##*-}
        "$py" "$here/encoder.py" encode "$s" < "$d" > "$dir/mine.bin" 2> "$dir/mine.err"
        rc_mine=$?
        "$codec" encode "$s" < "$d" > "$dir/ref.bin" 2> "$dir/ref.err"
        rc_ref=$?
        # the stage of a refusal: the definition, or the document
        mine_stage=value; grep -q '^encoder.py: schema error' "$dir/mine.err" && mine_stage=schema
        ref_stage=value; grep -qF "schemaevo-codec: $s:" "$dir/ref.err" && ref_stage=schema
        if [ $rc_mine -eq 0 ]; then
            problems+=("encoder.py accepted it: $(hex "$dir/mine.bin")")
        elif [ "$mine_stage" != "$stage" ]; then
            problems+=("encoder.py refused the $mine_stage, not the $stage: $(oneline "$dir/mine.err")")
        fi
        if [ "${kind#spec-}" != "$kind" ]; then
            if [ $rc_ref -eq 0 ]; then
                info="schemaevo-codec accepts it through its JSON reader: $(hex "$dir/ref.bin")"
            else
                info="schemaevo-codec: $(oneline "$dir/ref.err")"
            fi
            if [ ${#problems[@]} -eq 0 ]; then
                echo "SPEC $name (encoder.py refuses: $(oneline "$dir/mine.err"); not compared, $info)"
                spec_ok=$((spec_ok + 1))
            else
                echo "SPEC-FAIL $name: ${problems[*]}"
                spec_bad=$((spec_bad + 1))
            fi
            continue
        fi
        if [ $rc_ref -eq 0 ]; then
            problems+=("schemaevo-codec accepted it: $(hex "$dir/ref.bin")")
        elif [ "$ref_stage" != "$stage" ]; then
            problems+=("schemaevo-codec refused the $ref_stage, not the $stage: $(oneline "$dir/ref.err")")
        fi
        if [ ${#problems[@]} -eq 0 ]; then
            echo "PASS $name (both refuse the $stage: $(oneline "$dir/ref.err"))"
            passed=$((passed + 1))
        else
            echo "FAIL $name: ${problems[*]} (encoder.py: $(oneline "$dir/mine.err"); schemaevo-codec: $(oneline "$dir/ref.err"))"
            failed=$((failed + 1))
        fi
        continue
        ;;
    malformed)
        if "$py" "$here/encoder.py" decode "$s" < "$dir/msg.bin" > "$dir/mine.json" 2> "$dir/mine.err"; then
            problems+=("encoder.py decoded it: $(oneline "$dir/mine.json")")
        fi
        if "$codec" decode "$s" < "$dir/msg.bin" > "$dir/ref.json" 2> "$dir/ref.err"; then
            problems+=("schemaevo-codec decoded it: $(oneline "$dir/ref.json")")
        elif ! grep -q 'malformed error' "$dir/ref.err"; then
            problems+=("schemaevo-codec refused it for another reason: $(oneline "$dir/ref.err")")
        fi
        if [ ${#problems[@]} -eq 0 ]; then
            echo "PASS $name (both refuse the message: $(oneline "$dir/ref.err"))"
            passed=$((passed + 1))
        else
            echo "FAIL $name: ${problems[*]}"
            failed=$((failed + 1))
        fi
        continue
        ;;
    esac

    # positive cases: encode, then decode with schemaevo-codec and compare
    mine_ok=1
    if ! "$py" "$here/encoder.py" encode "$s" < "$d" > "$dir/mine.bin" 2> "$dir/mine.err"; then
        problems+=("encoder.py refused: $(tr '\n' ' ' < "$dir/mine.err")")
        mine_ok=0
    fi
    if [ "$kind" = spec-encode ]; then
        # the CLI cannot be given this document exactly: compare with the
        # bytes the spec defines, and decode those with the CLI
        if [ $mine_ok -eq 1 ] && ! cmp -s "$dir/mine.bin" "$dir/expect.bin"; then
            problems+=("bytes differ: encoder.py $(hex "$dir/mine.bin") expected $(hex "$dir/expect.bin")")
        fi
        bin="$dir/expect.bin"
        if "$codec" encode "$s" < "$d" > "$dir/ref.bin" 2> "$dir/ref.err"; then
            if cmp -s "$dir/ref.bin" "$bin"; then
                info="schemaevo-codec encode happens to agree"
            else
                info="schemaevo-codec encode, through its JSON reader, writes $(hex "$dir/ref.bin")"
            fi
        else
            info="schemaevo-codec encode: $(oneline "$dir/ref.err")"
        fi
    else
        if ! "$codec" encode "$s" < "$d" > "$dir/ref.bin" 2> "$dir/ref.err"; then
            problems+=("schemaevo-codec encode refused: $(tr '\n' ' ' < "$dir/ref.err")")
        elif [ $mine_ok -eq 1 ] && ! cmp -s "$dir/mine.bin" "$dir/ref.bin"; then
            problems+=("bytes differ: encoder.py $(hex "$dir/mine.bin")" \
                       "reference $(hex "$dir/ref.bin")")
        fi
        bin="$dir/mine.bin"
    fi
    if [ $mine_ok -eq 1 ] || [ "$kind" = spec-encode ]; then
        if "$codec" decode "$s" < "$bin" > "$dir/decoded.json" 2> "$dir/dec.err"; then
            if ! "$py" "$here/encoder.py" check "$s" "$d" "$dir/decoded.json" > "$dir/check.out" 2>&1; then
                problems+=("decoded JSON differs: $(tr '\n' ' ' < "$dir/check.out")")
            fi
        else
            problems+=("schemaevo-codec decode refused $bin: $(tr '\n' ' ' < "$dir/dec.err")")
        fi
    fi
    if [ "$kind" = spec-encode ]; then
        if [ ${#problems[@]} -eq 0 ]; then
            echo "SPEC $name (encoder.py writes the expected $(stat -c %s "$bin") bytes, schemaevo-codec decodes them; not compared: $info)"
            spec_ok=$((spec_ok + 1))
        else
            echo "SPEC-FAIL $name: ${problems[*]}"
            spec_bad=$((spec_bad + 1))
        fi
    elif [ ${#problems[@]} -eq 0 ]; then
        echo "PASS $name ($(stat -c %s "$dir/mine.bin") bytes)"
        passed=$((passed + 1))
    else
        echo "FAIL $name: ${problems[*]}"
        failed=$((failed + 1))
    fi
done < "$tmp/list"

echo "CLI-limited cases (checked against the spec's bytes, not compared with schemaevo-codec encode): $spec_ok agree, $spec_bad disagree"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ] && [ "$spec_bad" -eq 0 ] && [ "$selftest_ok" -eq 1 ]
