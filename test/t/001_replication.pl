# Registrations and promotions replicate across a 3-node cluster; the
# membership digest is checked; cluster_status shows every node.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/../perl";
use PostgreSQL::Test::Utils;
use Test::More;
use SchemaevoTest;

# secrets in the conninfo (trust authentication ignores them), and a value
# that needs quoting
$SchemaevoTest::conninfo_extra =
  q{ password=pw-secret sslpassword=ssl-secret options='-c work_mem=4MB'};
my @n = make_cluster(3);
my ($n1, $n2, $n3) = @n;

my $id = $n1->safe_psql('postgres', q{
SELECT schemaevo.register_schema('{"name": "orders", "fields": [{"name": "id", "type": "int64"}, {"name": "note", "type": "string"}]}')});
is($id, 'orders@1', 'registered on n1');

# the leader chose the registration; every node comes to know which it is
my $leader = $n1->safe_psql('postgres',
	q{SELECT l.value->>'proposed_by' FROM schemaevo.log l ORDER BY slot DESC LIMIT 1});
my ($follower) = grep { $_->name ne $leader } @n;
$follower->poll_query_until('postgres',
	"SELECT role = 'leader' FROM schemaevo.cluster_status WHERE node_name = '$leader'")
  or die $follower->name . " does not see $leader lead";

# promote from a follower: it forwards to the leader
$follower->safe_psql('postgres', q{CALL schemaevo.promote_schema('acme', 'orders@1')});
$n3->safe_psql('postgres', q{SELECT schemaevo.register_schema('{"name": "orders", "fields": [{"name": "id", "type": "int64"}, {"name": "note", "type": "string"}, {"name": "x", "type": "int8", "default": 0}]}')});
$n3->safe_psql('postgres', q{CALL schemaevo.promote_schema(ARRAY['globex', 'initech'], 'orders@2')});

my $slot = $n3->safe_psql('postgres', 'SELECT applied_slot FROM schemaevo.node_state');
wait_applied($slot, @n);
ok(all_equal(@n), 'every node applied the same log and has the same registry');

for my $node (@n)
{
	is($node->safe_psql('postgres',
		q{SELECT string_agg(tenant_id || '=' || schema_id, ',' ORDER BY tenant_id) FROM schemaevo.active_schemas}),
		'acme=orders@1,globex=orders@2,initech=orders@2',
		'active schemas on ' . $node->name);
	is($node->safe_psql('postgres',
		q{SELECT schemaevo.decode_message(schemaevo.encode_message('{"id": 7, "note": "hi"}', 'orders@1'), 'globex')::text}),
		'{"x": 0, "id": 7, "note": "hi"}', 'decodes on ' . $node->name);
}

# the follower forwarded its promotion to the leader: the leader proposed
# the slot, the history names the node the promotion was submitted on
is($n1->safe_psql('postgres', q{
SELECT l.value->>'proposed_by' || ' ' || h.proposed_by
  FROM schemaevo.promotion_history h JOIN schemaevo.log l USING (slot)
 WHERE h.tenant_id = 'acme'}),
	"$leader " . $follower->name, 'a follower forwards to the leader; the history keeps the origin');

# every node sees the others
$n1->poll_query_until('postgres',
	q{SELECT count(*) = 3 AND bool_and(reachable) FROM schemaevo.cluster_status})
  or die 'cluster_status';
is($n1->safe_psql('postgres', q{SELECT count(*) FROM schemaevo.cluster_status WHERE role = 'leader'}),
	'1', 'one leader in cluster_status');
my $shown = $n1->safe_psql('postgres',
	q{SELECT string_agg(conninfo, ' ') FROM schemaevo.cluster_status});
unlike($shown, qr/secret|password/, 'no password or sslpassword in cluster_status');
like($shown, qr/options='-c work_mem=4MB'/, 'values that need quotes are quoted');

# a caller with another membership is refused
my ($ret, $out, $err) = $n1->psql('postgres',
	q{SELECT schemaevo.paxos_status('0000')});
like($err, qr/membership digest mismatch/, 'digest mismatch refused');

# the peer role may call the acceptor functions and nothing else
($ret, $out, $err) = $n1->psql('postgres',
	q{SELECT count(*) FROM schemaevo.schemas}, extra_params => ['-U', 'schemaevo_peer']);
like($err, qr/permission denied/, 'peer role cannot read the registry');
($ret, $out, $err) = $n1->psql('postgres',
	q{CALL schemaevo.promote_schema('acme', 'orders@2')}, extra_params => ['-U', 'schemaevo_peer']);
like($err, qr/permission denied/, 'peer role cannot promote');

# a node whose log digest differs at the same applied slot is reported (the
# digest is changed by hand here; every later slot chains on from it)
logs_clean(@n);
$n3->safe_psql('postgres', q{UPDATE schemaevo.node_state SET digest = md5('another log')});
ok($n1->poll_query_until('postgres',
	q{SELECT diverged FROM schemaevo.cluster_status WHERE node_name = 'n3'}),
	'n1 sees n3 diverged in cluster_status');
is($n1->safe_psql('postgres',
	q{SELECT count(*) FROM schemaevo.cluster_status WHERE diverged}), '1', 'and only n3');
ok($n1->log_contains(qr/WARNING:  schemaevo: node "n3" applied a different log up to slot \d+/),
	'and logs a warning');

$_->stop for @n;
done_testing();
