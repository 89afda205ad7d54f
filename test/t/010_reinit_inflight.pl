# init_cluster run again on every node while a value is in flight: a
# majority (n1, n2) accepted it for the next slot, so it may already count
# as chosen, but no node has it in its log.  Every node then stops voting
# and must fence its way back: non-voters grant fences, and the first fence
# finishes the slot with the value the grants report, counting only the
# other members' acceptances.  The cluster votes again, the slot holds that
# value on every node, and promotions go on.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/../perl";
use PostgreSQL::Test::Utils;
use Test::More;
use SchemaevoTest;

my @n = make_cluster(3);
my ($n1, $n2, $n3) = @n;
register_versions($n1, 'orders', 2);
promote_ok($n1, 'acme', 'orders@1');
ok(wait_converged(@n), 'converged before the value in flight');
my $slot = applied_slot($n1);
my $next = $slot + 1;
my $digest = $n1->safe_psql('postgres', 'SELECT digest FROM schemaevo.cluster_self');

# a value accepted by n1 and n2 for the next slot, as a leader of a
# higher ballot would have sent it just before dying.  Not in the ballot
# they promised: that is n1's own, and n1's worker, still leading it, may
# fill the slot with a no-op in it (a repair) before init_cluster runs; a
# leader never proposes two values in one ballot, so only this test could
# make it.  Above their promise, n1's next proposal is refused and its
# phase 1 finds the value.
my $value = '{"proposed_by": "crafted", "proposed_at": "2026-01-01 00:00:00+00", "commands": []}';
for my $node ($n1, $n2)
{
	my $r = $node->safe_psql('postgres', qq{
SELECT r->>'ok'
  FROM schemaevo.acceptor_state a,
       schemaevo.paxos_accept('$digest', a.promised + 256, $next, '$value', false, 0) r});
	is($r, 'true', $node->name . " accepted the value for slot $next");
}

# init_cluster again on every node, one right after the other; each stops
# voting at once (it cannot fence before every member has the new digest)
my $members = members_json(@n);
for my $node (@n)
{
	my @out = split /\n/, $node->safe_psql('postgres',
		"SELECT schemaevo.init_cluster('" . $node->name . "', '$members');
SELECT voting FROM schemaevo.cluster_self");
	is($out[-1], 'f', $node->name . ' stops voting');
}

wait_voting(@n);
for my $node (@n)
{
	$node->poll_query_until('postgres',
		q{SELECT count(*) = 3 FROM schemaevo.cluster_status WHERE voting})
	  or die $node->name . ' does not see every node voting';
}
pass('every node votes again after init_cluster with a value in flight');

wait_applied($next, @n);
for my $node (@n)
{
	is($node->safe_psql('postgres', "SELECT value->>'proposed_by' FROM schemaevo.log WHERE slot = $next"),
		'crafted', "slot $next holds the value a majority had accepted, on " . $node->name);
}

promote_ok($n3, 'acme', 'orders@2');
ok(wait_converged(@n), 'promotions go on and every node converges');
is($n1->safe_psql('postgres', q{SELECT schema_id FROM schemaevo.active_schemas WHERE tenant_id = 'acme'}),
	'orders@2', 'the promotion after the fence is applied');

logs_clean(@n);
$_->stop for @n;
done_testing();
