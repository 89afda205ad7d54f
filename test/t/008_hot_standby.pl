# A physical streaming standby of a cluster member decodes with the
# registry it replays (and sees promotions once replayed, even in a session
# that had cached the old version), refuses register, promote, init_cluster
# and the acceptor calls with SQLSTATE 25006, and runs no log worker.
# Promoted after its primary died, it rejoins as a new member.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/../perl";
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use SchemaevoTest;

my @n = make_cluster(3, init => { allows_streaming => 1 });
my ($n1, $n2, $n3) = @n;
register_versions($n1, 'orders', 2);
promote_ok($n2, 'acme', 'orders@1');
wait_applied(applied_slot($n2), $n1);

$n1->backup('bk');
my $standby = PostgreSQL::Test::Cluster->new('standby');
$standby->init_from_backup($n1, 'bk', has_streaming => 1);
$standby->start;
$n1->wait_for_catchup($standby);
is($standby->safe_psql('postgres', 'SELECT pg_is_in_recovery()'), 't', 'the standby is in recovery');

my $msg = q{schemaevo.encode_message('{"id": 7}', 'orders@1')};
is($standby->safe_psql('postgres', "SELECT schemaevo.decode_message($msg, 'acme')::text"),
	'{"id": 7}', 'the standby decodes with the replicated registry');
is($standby->safe_psql('postgres', "SELECT schemaevo.decode_field_int8($msg, 'acme', 'id')"),
	'7', 'and extracts single fields');
is($standby->safe_psql('postgres',
	q{SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'schemaevo log worker'}),
	'0', 'no log worker on the standby');
is($n1->safe_psql('postgres',
	q{SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'schemaevo log worker'}),
	'1', 'while its primary runs one');

# everything that would change the registry or act as a member is refused
for my $case (
	[ q{SELECT schemaevo.register_schema('{"name": "invoices", "fields": [{"name": "id", "type": "int64"}]}')},
		qr/ERROR:  25006: cannot change the schema registry on a hot standby/, 'register_schema' ],
	[ q{CALL schemaevo.promote_schema('acme', 'orders@2')},
		qr/ERROR:  25006: cannot change the schema registry on a hot standby/, 'promote_schema' ],
	[ q{CALL schemaevo.promote_schema(ARRAY['acme', 'globex'], 'orders@2')},
		qr/ERROR:  25006: cannot change the schema registry on a hot standby/, 'promote_schema(text[])' ],
	[ q{SELECT schemaevo.init_cluster('n1', '{"n1": "dbname=postgres"}')},
		qr/ERROR:  25006: cannot initialise a cluster on a hot standby/, 'init_cluster' ],
	[ q{SELECT schemaevo.paxos_prepare(digest, 1000000, 1, false) FROM schemaevo.cluster_self},
		qr/ERROR:  25006: a hot standby is not a member of the cluster/, 'paxos_prepare' ],
	[ q{SELECT schemaevo.paxos_accept(digest, 1000000, 100, '{"commands": []}', false, 0) FROM schemaevo.cluster_self},
		qr/ERROR:  25006: a hot standby is not a member of the cluster/, 'paxos_accept' ],
	[ q{SELECT schemaevo.paxos_learn(digest, 1000000, 100) FROM schemaevo.cluster_self},
		qr/ERROR:  25006: a hot standby is not a member of the cluster/, 'paxos_learn' ])
{
	my ($ret, $out, $err) = psql_result($standby, $case->[0]);
	like($err, $case->[1], "$case->[2] is refused on the standby with SQLSTATE 25006");
}
like((psql_result($standby, q{SELECT schemaevo.register_schema('{"name": "x", "fields": [{"name": "id", "type": "int64"}]}')}))[2],
	qr/HINT:  Register and promote schemas on a primary/, 'the error hints at the primary');

# a session that decoded (and cached) acme's version sees a promotion
# once it is replayed
my $session = $standby->background_psql('postgres');
is($session->query_safe("SELECT schemaevo.decode_message($msg, 'acme')::text"),
	'{"id": 7}', 'a standby session decodes acme with orders@1');
promote_ok($n3, 'acme', 'orders@2');
wait_applied(applied_slot($n3), $n1);
$n1->wait_for_catchup($standby);
is($session->query_safe("SELECT schemaevo.decode_message($msg, 'acme')::text"),
	'{"f2": 2, "id": 7}', 'the same session decodes with orders@2 after replay');
is($session->query_safe(q{SELECT to_schema_id FROM schemaevo.promotion_history WHERE tenant_id = 'acme' ORDER BY slot DESC LIMIT 1}),
	'orders@2', 'the promotion is in the replicated history');
$session->quit;
is($standby->safe_psql('postgres', q{SELECT schemaevo.decode_message(schemaevo.encode_message('{"id": 8, "f2": 5}', 'orders@2'), 'acme')::text}),
	'{"f2": 5, "id": 8}', 'the standby encodes and decodes the new version');
is($standby->safe_psql('postgres', 'SELECT applied_slot FROM schemaevo.node_state'),
	applied_slot($n1), 'the standby replayed the primary\'s applied slot');

# the cluster is undisturbed by the standby
promote_ok($n1, 'globex', 'orders@2');
ok(wait_converged(@n), 'the three members converge');

# failover: n1 dies and its standby is promoted.  It carries n1's voting
# flag but not the promises n1 made after the last replayed record, so it
# must rejoin as a new member (another timeline): fenced by n2 and n3
# before it votes.
$n1->stop('immediate');
$standby->promote;
$standby->poll_query_until('postgres',
	q{SELECT voting FROM schemaevo.cluster_status WHERE node_name = 'n1'})
  or die 'the promoted standby does not vote';
like(PostgreSQL::Test::Utils::slurp_file($standby->logfile),
	qr/schemaevo: node "n1" rejoins as a new member/,
	'the promoted standby saw that its votes were cast by another data directory');
is($standby->safe_psql('postgres', 'SELECT timeline FROM schemaevo.cluster_self'),
	'2', 'its voting flag now names the new timeline');
cmp_ok($standby->safe_psql('postgres', 'SELECT promised FROM schemaevo.acceptor_state'), '>=',
	$n2->safe_psql('postgres', 'SELECT max(ballot) FROM (SELECT promised AS ballot FROM schemaevo.acceptor_state) b'),
	'its promise is at least the fence every other member granted');
promote_ok($standby, 'initech', 'orders@2');
wait_applied(applied_slot($standby), $n2, $n3);
ok(all_equal($standby, $n2, $n3), 'the promoted standby, n2 and n3 agree');

logs_clean($n2, $n3, $standby);
$standby->stop;
$_->stop for ($n2, $n3);
done_testing();
