# A node acts as a Paxos acceptor only where its promises are the node's
# promises: in the database its log worker runs in, with fsync on, and
# with the caller's membership.  The same extension in another database of
# a member (a conninfo naming the wrong database, init_cluster run there
# too) must not answer as a second acceptor of the same node, or two
# quorums could promise conflicting ballots through one node.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/../perl";
use PostgreSQL::Test::Utils;
use Test::More;
use SchemaevoTest;

my ($n1) = make_cluster(1);
my $members = members_json($n1);
my $digest = $n1->safe_psql('postgres', 'SELECT digest FROM schemaevo.cluster_self');

# the worker's database: the acceptor answers
my $r = $n1->safe_psql('postgres',
	"SELECT r->>'ok', r->>'promised' FROM schemaevo.paxos_prepare('$digest', 1000, 1, false) r");
is($r, 'true|1000', 'the acceptor grants a prepare in the log worker\'s database');

# a second database with the extension and the same membership
$n1->safe_psql('postgres', 'CREATE DATABASE other');
$n1->safe_psql('other', "CREATE EXTENSION schemaevo; SELECT schemaevo.init_cluster('n1', '$members')");
is($n1->safe_psql('other', 'SELECT digest FROM schemaevo.cluster_self'), $digest,
	'the other database has the same membership digest');
for my $call (
	[ 'paxos_prepare', "schemaevo.paxos_prepare('$digest', 2000, 1, false)" ],
	[ 'paxos_accept', "schemaevo.paxos_accept('$digest', 2000, 1, '{\"commands\": []}', false, 0)" ])
{
	my ($ret, $out, $err) = $n1->psql('other', "SELECT $call->[1]",
		extra_params => ['-v', 'VERBOSITY=verbose']);
	like($err, qr/ERROR:  55000: this database is not the one the schemaevo log worker of this node runs in/,
		"$call->[0] is refused in another database");
	like($err, qr/DETAIL:  schemaevo.database is "postgres"; this is "other"\./,
		"$call->[0]: the error names both databases");
}
is($n1->safe_psql('other', 'SELECT promised FROM schemaevo.acceptor_state'), '0',
	'no promise was recorded in the other database');

# the node's one acceptor still refuses a lower ballot than it promised
$r = $n1->safe_psql('postgres',
	"SELECT r->>'ok', r->>'promised' FROM schemaevo.paxos_prepare('$digest', 500, 1, false) r");
is($r, 'false|1000', 'a lower ballot is refused by the node\'s acceptor');

# fsync off: no acceptor at all
$n1->append_conf('postgresql.conf', 'fsync = off');
$n1->reload;
$n1->poll_query_until('postgres', q{SELECT current_setting('fsync') = 'off'})
  or die 'fsync is still on';
my ($ret, $out, $err) = $n1->psql('postgres',
	"SELECT schemaevo.paxos_prepare('$digest', 3000, 1, false)",
	extra_params => ['-v', 'VERBOSITY=verbose']);
like($err, qr/ERROR:  55000: this node refuses to act as a Paxos acceptor with fsync off/,
	'with fsync off the node refuses to act as acceptor');

# another membership: refused before anything is read
($ret, $out, $err) = $n1->psql('postgres',
	"SELECT schemaevo.paxos_prepare('0000', 4000, 1, false)",
	extra_params => ['-v', 'VERBOSITY=verbose']);
like($err, qr/ERROR:  08P01: cluster membership digest mismatch/, 'another membership is refused');

logs_clean($n1);
$n1->stop;
done_testing();
