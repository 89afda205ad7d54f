# Learning never leaves a gap in the log.  A node's last log slot is the
# chosen_max it reports, and proposers fetch the slots at or below a
# peer's chosen_max instead of proposing them: a learned slot above a
# missing one would hide the missing one from every later leader, and if
# only the acceptors still held it no majority could choose past it.
# Here the acceptor's calls are made by hand on one node: it accepts slot
# L+2 of a ballot but not L+1, then hears that the ballot's leader had
# both chosen.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/../perl";
use PostgreSQL::Test::Utils;
use Test::More;
use SchemaevoTest;

# no status rounds during the test: the worker must not repair the slots
my ($n1) = make_cluster(1, conf => "schemaevo.catchup_interval = '10min'");
my $digest = $n1->safe_psql('postgres', 'SELECT digest FROM schemaevo.cluster_self');
my $last = $n1->safe_psql('postgres', 'SELECT coalesce(max(slot), 0) FROM schemaevo.log');
my $ballot = 1 << 40;
my $value = '{"proposed_by": "n1", "proposed_at": "2026-01-01 00:00:00+00", "commands": []}';

sub call
{
	my ($sql) = @_;
	return $n1->safe_psql('postgres', "SELECT $sql");
}

is(call("schemaevo.paxos_prepare('$digest', $ballot, " . ($last + 1) . ", false)->>'ok'"),
	'true', 'the acceptor promises the test ballot');
is(call("schemaevo.paxos_accept('$digest', $ballot, " . ($last + 2) . ", '$value', false, 0)->>'ok'"),
	'true', 'slot L+2 is accepted, L+1 is not');

is(call("schemaevo.paxos_learn('$digest', $ballot, " . ($last + 2) . ")->>'learned'"),
	'0', 'learning stops at the slot this acceptor did not accept');
is($n1->safe_psql('postgres', 'SELECT coalesce(max(slot), 0) FROM schemaevo.log'),
	$last, 'the log has no entry above the gap');

# an accept that carries chosen_through learns the same way
is(call("schemaevo.paxos_accept('$digest', $ballot, " . ($last + 3) . ", '$value', false, " . ($last + 2) . ")->>'chosen_max'"),
	$last, 'an accept with chosen_through leaves no gap either');

# once the missing slot is accepted, every slot of the ballot is learned
is(call("schemaevo.paxos_accept('$digest', $ballot, " . ($last + 1) . ", '$value', false, 0)->>'ok'"),
	'true', 'slot L+1 is accepted');
is(call("schemaevo.paxos_learn('$digest', $ballot, " . ($last + 3) . ")->>'learned'"),
	'3', 'the three slots are learned in order');
is($n1->safe_psql('postgres',
		"SELECT string_agg(slot::text, ',' ORDER BY slot) FROM schemaevo.log WHERE slot > $last"),
	join(',', $last + 1, $last + 2, $last + 3), 'the log holds L+1 .. L+3 without a gap');
wait_applied($last + 3, $n1);
is(applied_slot($n1), $last + 3, 'the worker applies them');

logs_clean($n1);
$n1->stop;
done_testing();
