# A node whose data directory is wiped and re-created (initdb, CREATE
# EXTENSION, the same init_cluster) has forgotten its promises and
# acceptances: it must not vote until it has heard from every other member
# and caught up.  While another member is down it catches up but does not
# vote (cluster_status, paxos_prepare refused), so no quorum counts it;
# once every member answers it votes, has the full log and converges.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/../perl";
use File::Path qw(rmtree);
use PostgreSQL::Test::Utils;
use Test::More;
use SchemaevoTest;

my @n = make_cluster(3);
my ($n1, $n2, $n3) = @n;
register_versions($n1, 'orders', 3);

# a log written by every node, n3 included (so it promised and accepted)
my @clients = map { SchemaevoTest::Client->new($n[$_ - 1], name => "n$_") } 1 .. 3;
for my $k (1 .. 40)
{
	my $i = $k % 3 + 1;
	$clients[$i - 1]->call("CALL schemaevo.promote_schema(ARRAY['acme', 'k$k'], 'orders@" . ($k % 3 + 1) . "')");
}
drive_clients(\@clients);
is(scalar(grep { $_->{status} eq 'ok' } map { $_->results } @clients), 40, '40 promotions from all nodes');
$_->quit for @clients;
ok(wait_converged(@n), 'converged before the wipe');
my $slot = applied_slot($n1);

# wipe n3 and build it again from scratch, with n2 down
$n3->stop;
rmtree($n3->data_dir);
$n3->init;
SchemaevoTest::configure_node($n3, 3);
$n3->start;
SchemaevoTest::create_extension($n3);
is(applied_slot($n3), '0', 'the wiped node starts with an empty log');
$n2->stop;
my $digest = init_members(3, @n);
is($digest, $n1->safe_psql('postgres', 'SELECT digest FROM schemaevo.cluster_self'),
	'the same membership digest as before');

# it catches up from n1, but without word from n2 it must not vote
$n3->poll_query_until('postgres', "SELECT applied_slot = $slot FROM schemaevo.node_state")
  or die 'n3 does not catch up from n1';
pass("the wiped node caught up to slot $slot from n1");
$n3->poll_query_until('postgres',
	q{SELECT string_agg(node_name || '=' || reachable, ',' ORDER BY node_name) FROM schemaevo.cluster_status},
	'n1=true,n2=false,n3=true')
  or die 'n3 does not see n1';
is($n3->safe_psql('postgres',
	q{SELECT voting FROM schemaevo.cluster_status WHERE node_name = 'n3'}),
	'f', 'cluster_status on the wiped node: not voting');
is($n3->safe_psql('postgres', q{SELECT voting FROM schemaevo.cluster_self}),
	'f', 'no durable voting flag on the wiped node');
$n1->poll_query_until('postgres',
	q{SELECT reachable AND NOT voting FROM schemaevo.cluster_status WHERE node_name = 'n3'})
  or die 'n1 does not see n3 as a non-voter';
pass('n1 sees the wiped node reachable but not voting');

my ($ret, $out, $err) = psql_result($n3,
	"SELECT schemaevo.paxos_prepare('$digest', 1000000, 1, false)");
like($err, qr/ERROR:  55000: this node does not vote yet/, 'paxos_prepare is refused on the wiped node');
($ret, $out, $err) = psql_result($n3,
	"SELECT schemaevo.paxos_accept('$digest', 1000000, " . ($slot + 1) . ", '{\"commands\": []}', false, 0)");
like($err, qr/ERROR:  55000: this node does not vote yet/, 'paxos_accept is refused on the wiped node');
is($n3->safe_psql('postgres', q{SELECT promised FROM schemaevo.acceptor_state}),
	'0', 'the refused calls left no promise');

# n1 and a non-voter are no majority
($ret, $out, $err) = psql_result($n1,
	q{SET schemaevo.request_timeout = '2s'; CALL schemaevo.promote_schema('acme', 'orders@1')});
like($err, qr/ERROR:  08006: the log did not choose the command/,
	'n1 cannot choose with n2 down and n3 not voting');
like($err, qr/DETAIL:  2 of 3 nodes are reachable, 1 of them voting \(a node that is catching up does not vote\); a majority of 2 is needed\./,
	'the error says the reachable n3 does not vote');
is(applied_slot($n1), $slot, 'nothing was chosen');

# with every member answering, n3 adopts their promises and votes
my $promised = $n1->safe_psql('postgres', 'SELECT promised FROM schemaevo.acceptor_state');
$n2->start;
wait_voting($n2, $n3);
pass('the wiped node votes once every member answered');
cmp_ok($n3->safe_psql('postgres', 'SELECT promised FROM schemaevo.acceptor_state'), '>=',
	$promised, "it adopted a promise at least as high as n1's ($promised)");
promote_ok($n3, 'acme', 'orders@2', 'the wiped node proposes');
promote_ok($n2, 'globex', 'orders@3');
ok(wait_converged(@n), 'all three converge');
is($n3->safe_psql('postgres', 'SELECT count(*) = max(slot) AND min(slot) = 1 FROM schemaevo.log'),
	't', 'the wiped node holds the full log from slot 1');
is($n3->safe_psql('postgres', q{SELECT count(*) FROM schemaevo.promotion_history WHERE tenant_id ~ '^k'}),
	'40', 'and every promotion made before the wipe');
is($n3->safe_psql('postgres', q{SELECT schema_id FROM schemaevo.active_schemas WHERE tenant_id = 'acme'}),
	'orders@2', 'acme is on orders@2 on the wiped node');

logs_clean(@n);
$_->stop for @n;
done_testing();
