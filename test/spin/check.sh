#!/usr/bin/env bash
# test/spin/check.sh: model-checks the Multi-Paxos log as built
# (test/spin/paxos.pml) with SPIN, exhaustively, in a temporary directory.
#
#   test/spin/check.sh          the quick suite, the fenced rejoin of a
#                               wiped node (pw_try_recover) included
#                               (about 1 min, 1.2 GB)
#   test/spin/check.sh --deep   also larger configurations (about 6 min,
#                               6 GB)
#
# Each configuration is "clean" (must verify with no error) or a
# "demo" of a deliberately broken variant (SPIN must find the violation;
# its counterexample is printed).  Exits non-zero if a clean
# configuration has any error (assertion violated, invalid end state, search
# depth too small, out of memory) or a demo finds none.
# Needs spin (6.x) and a C compiler.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
deep=0
case "${1:-}" in
	"") ;;
	--deep) deep=1 ;;
	*) echo "usage: $0 [--deep]" >&2; exit 2 ;;
esac

for tool in spin "${CC:-cc}"; do
	command -v "$tool" >/dev/null || { echo "check.sh: $tool not found" >&2; exit 2; }
done

work=$(mktemp -d "${TMPDIR:-/tmp}/schemaevo-spin.XXXXXX")
trap 'rm -rf "$work"' EXIT

# run NAME clean|demo "SPIN -D flags" [extra cc flags]
# Leaves NAME.result ("ok ..." or "FAIL ...") and NAME.log in $work.
run()
{
	local name=$1 expect=$2 defs=$3 ccflags=${4:-}
	local dir=$work/$name
	local t0 t1 errors states depth verdict

	mkdir -p "$dir"
	cp "$here/paxos.pml" "$dir/"
	t0=$(date +%s.%N)
	(
		cd "$dir"
		# shellcheck disable=SC2086
		spin -a $defs paxos.pml >spin.out 2>&1 &&
		${CC:-cc} -O2 -DSAFETY -DNOBOUNDCHECK -DNOREDUCE $ccflags -o pan pan.c >cc.out 2>&1 &&
		./pan -m10000 -w24 >pan.out 2>&1
	) || true
	t1=$(date +%s.%N)

	errors=$(sed -n 's/.*errors: \([0-9][0-9]*\).*/\1/p' "$dir/pan.out" 2>/dev/null | head -n1)
	states=$(awk '/states, stored/ { print $1; exit }' "$dir/pan.out" 2>/dev/null)
	depth=$(sed -n 's/.*depth reached \([0-9][0-9]*\).*/\1/p' "$dir/pan.out" 2>/dev/null | head -n1)
	{
		printf '%-26s %-5s %s\n' "$name" "$expect" "$defs"
		if [ -z "$errors" ]; then
			cat "$dir/spin.out" "$dir/cc.out" "$dir/pan.out" 2>/dev/null | tail -n 20
		fi
	} >"$work/$name.log"

	if [ -z "$errors" ]; then
		verdict="FAIL (no result: spin, cc or pan failed)"
	elif grep -q -e 'max search depth too small' -e 'out of memory' "$dir/pan.out"; then
		verdict="FAIL (search incomplete)"
	elif [ "$expect" = clean ]; then
		if [ "$errors" -eq 0 ]; then
			verdict="ok, verified"
		else
			verdict="FAIL ($errors error(s))"
		fi
	else
		if [ "$errors" -gt 0 ] && [ -f "$dir/paxos.pml.trail" ]; then
			verdict="ok, violation found as expected"
		else
			verdict="FAIL (the broken variant was not caught)"
		fi
	fi
	printf '%s: %s states, depth %s, %s s\n' "$verdict" "${states:-?}" \
		"${depth:-?}" "$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }')" \
		>"$work/$name.result"

	# the counterexample of a failure, or of a demo, as the model prints it
	if [ -f "$dir/paxos.pml.trail" ]; then
		(
			cd "$dir"
			# shellcheck disable=SC2086
			spin -t $defs paxos.pml 2>&1 |
				grep -e '^ *P[0-9]' -e '^ *node' -e 'assertion violated' |
				sed 's/^ */    /'
		) >>"$work/$name.log" || true
	fi
}

report()
{
	local name
	for name in "$@"; do
		head -n1 "$work/$name.log"
		printf '    %s\n' "$(cat "$work/$name.result")"
		tail -n +2 "$work/$name.log"
	done
}

start=$(date +%s)
echo "SPIN model of the schemaevo Multi-Paxos log ($(spin -V | head -n1))"

# clean: the protocol as built must verify (beside the demos: two cores),
# the fenced rejoin of a node that forgot its votes (pw_try_recover)
# included: 17 million states, about a minute and 1.2 GB
(
	run two-slots clean "-DNS=2 -DROUNDS=2 -DMAXRESTART=0"
	run three-ballots clean "-DNS=1 -DROUNDS=3 -DMAXRESTART=1"
	run fenced-rejoin clean "-DAMNESIA=3 -DNS=1 -DROUNDS=2 -DMAXRESTART=0" "-DCOLLAPSE"
) &
clean_pid=$!
names="two-slots three-ballots fenced-rejoin"

# demo: deliberately broken variants, and the two amnesia cases of the C
# code, must be caught.  (-DREVERSE: SPIN tries the processes in reverse
# order and meets this counterexample after 1.7 instead of 7.6 million
# states.)
run demo-decide-from-promises demo \
	"-DDECIDE_FROM_PROMISES -DNS=1 -DROUNDS=6 -DMAXATT=3 -DMAXRESTART=0" "-DREVERSE"
run demo-no-chosen-max-check demo "-DNO_CHOSEN_MAX_CHECK -DNS=2 -DROUNDS=2 -DMAXRESTART=0"
run demo-grant-equal-ballot demo "-DGRANT_EQUAL_BALLOT -DNS=1 -DROUNDS=3 -DMAXRESTART=1"
run demo-wiped-node demo "-DAMNESIA=1 -DNS=1 -DROUNDS=2 -DMAXRESTART=0"
run demo-old-backup demo "-DAMNESIA=2 -DNS=1 -DROUNDS=2 -DMAXRESTART=0"

# sanity: the model is not vacuous (the last slot is decided; a value one
# proposer proposed is decided by the other, through phase 1)
run sanity-full-log demo "-DSANITY=1"
run sanity-carried-over demo "-DSANITY=2"
wait "$clean_pid"

if [ "$deep" -eq 1 ]; then
	run deep-two-slots-restart clean "-DNS=2 -DROUNDS=2 -DMAXRESTART=1"
	run deep-four-ballots clean "-DNS=1 -DROUNDS=4 -DMAXRESTART=1" "-DCOLLAPSE"
	names="$names deep-two-slots-restart deep-four-ballots"
fi

report $names demo-decide-from-promises demo-no-chosen-max-check demo-grant-equal-ballot \
	demo-wiped-node demo-old-backup sanity-full-log sanity-carried-over

echo "total $(($(date +%s) - start)) s"
if grep -q '^FAIL' "$work"/*.result; then
	echo "check.sh: FAILED"
	exit 1
fi
echo "check.sh: all configurations behave as expected"
