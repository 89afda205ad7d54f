# A follower is stopped while the majority keeps choosing entries (more
# than one catch-up batch of them); the leader's cluster_status shows it
# unreachable; restarted, it catches up to an identical log, digest and
# registry, and the leader reports it with no lag.
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
wait_applied(applied_slot($n1), @n);
is($n1->safe_psql('postgres', q{SELECT role FROM schemaevo.cluster_status WHERE node_name = 'n1'}),
	'leader', 'n1 leads');

$n3->stop;
$n1->poll_query_until('postgres',
	q{SELECT NOT reachable AND applied_slot IS NULL AND lag_slots IS NULL FROM schemaevo.cluster_status WHERE node_name = 'n3'})
  or die 'n1 does not report n3 unreachable';
pass('the leader reports the stopped follower unreachable');
is($n1->safe_psql('postgres',
	q{SELECT string_agg(node_name, ',' ORDER BY node_name) FROM schemaevo.cluster_status WHERE reachable}),
	'n1,n2', 'n1 and n2 are reachable');

# more than one catch-up batch (500 entries) of promotions while n3 is
# down, one entry each; and a new schema version
my $c1 = SchemaevoTest::Client->new($n1);
$c1->call("CALL schemaevo.promote_schema('t$_', 'orders@" . ($_ % 2 + 1) . "')") for 1 .. 520;
drive_clients([$c1]);
is(scalar(grep { $_->{status} eq 'ok' } $c1->results), 520, '520 promotions on the majority');
$c1->quit;
register_versions($n2, 'orders', 3);
promote_ok($n2, 'acme', 'orders@3');
my $slot = applied_slot($n2);
cmp_ok($slot, '>', 520, "the log reached slot $slot");
wait_applied($slot, $n1);
is($n1->safe_psql('postgres', q{SELECT reachable FROM schemaevo.cluster_status WHERE node_name = 'n3'}),
	'f', 'n3 still unreachable from n1');

# n3 comes back and catches up
$n3->start;
wait_voting($n3);
ok(wait_converged(@n), 'n3 caught up: identical log, digest and registry');
is(applied_slot($n3), $slot, "n3 applied up to slot $slot");
for my $node (@n)
{
	is($node->safe_psql('postgres', q{SELECT digest FROM schemaevo.node_state}),
		$n1->safe_psql('postgres', q{SELECT digest FROM schemaevo.node_state}),
		'same log digest on ' . $node->name);
}
is($n3->safe_psql('postgres',
	q{SELECT schemaevo.decode_message(schemaevo.encode_message('{"id": 1}', 'orders@1'), 'acme')::text}),
	'{"f2": 2, "f3": 3, "id": 1}', 'n3 decodes with the version promoted while it was down');

# the leader sees every node reachable, voting and without lag
$n1->poll_query_until('postgres',
	q{SELECT count(*) = 3 AND bool_and(reachable) AND bool_and(voting) AND bool_and(lag_slots = 0) AND NOT bool_or(diverged)
	    FROM schemaevo.cluster_status})
  or die 'cluster_status on n1 does not settle';
pass('cluster_status on n1: every node reachable, voting, lag 0');
is($n1->safe_psql('postgres',
	q{SELECT string_agg(node_name || ':' || applied_slot, ',' ORDER BY node_name) FROM schemaevo.cluster_status}),
	"n1:$slot,n2:$slot,n3:$slot", 'cluster_status shows the same applied slot for every node');

# n3 takes part again
promote_ok($n3, 'acme', 'orders@2');
ok(wait_converged(@n), 'converged after a promotion from n3');

logs_clean(@n);
$_->stop for @n;
done_testing();
