# The extension dropped and created again on a member while the leader
# keeps its connection to that member open.  The leader's peer statements
# are prepared once per connection (transport.c) and name functions that
# the drop removed: the member's plan cache must re-analyse them against
# the new functions, on the same connection.  The re-created member has
# forgotten its promises and its log, like a wiped one: it catches up and
# votes once every member answered.  Then, with the third member down,
# every promotion needs its acceptance, sent over the connection the
# leader opened before the drop.  n3's own log worker sees the drop, says
# so and restarts, to wait for the extension to exist again: without an
# error, whatever it was doing (DROP EXTENSION waits for its transaction).
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/../perl";
use PostgreSQL::Test::Utils;
use Test::More;
use SchemaevoTest;

my @n = make_cluster(3);
my ($n1, $n2, $n3) = @n;
register_versions($n1, 'orders', 3);
promote_ok($n1, 'acme', 'orders@1');
promote_ok($n1, 'globex', 'orders@2');
ok(wait_converged(@n), 'converged before the drop');
my $slot = applied_slot($n1);

# the peer backends the other members' workers opened on n3
my $peers_sql = q{SELECT string_agg(pid::text, ',' ORDER BY pid) FROM pg_stat_activity
 WHERE usename = 'schemaevo_peer' AND backend_type = 'client backend'};
my $peers = $n3->safe_psql('postgres', $peers_sql);
like($peers, qr/^\d+,\d+$/, 'n1 and n2 hold a connection to n3 each');

$n3->safe_psql('postgres', 'DROP EXTENSION schemaevo CASCADE');
SchemaevoTest::create_extension($n3);
init_members(3, @n);
is(applied_slot($n3), '0', 'the re-created extension starts with an empty log');

# it hears from both members, adopts their promises, catches up and votes
wait_voting($n3);
$n3->poll_query_until('postgres', "SELECT applied_slot >= $slot FROM schemaevo.node_state")
  or die 'n3 does not catch up';
pass("n3 caught up to slot $slot and votes");

# n1 and n3 alone: each promotion needs n3's acceptance
$n2->stop;
promote_ok($n1, 'acme', 'orders@3', 'a promotion with n2 down');
promote_ok($n1, 'initech', 'orders@1', 'and another');
is($n3->safe_psql('postgres', q{SELECT schema_id FROM schemaevo.active_schemas WHERE tenant_id = 'acme'}),
	'orders@3', 'n3 applied it');

# n2's peer backend on n3 ends with n2; the one left must be n1's from
# before the drop (a reconnect would have given it another pid)
$n3->poll_query_until('postgres',
	q{SELECT count(*) = 1 FROM pg_stat_activity
	   WHERE usename = 'schemaevo_peer' AND backend_type = 'client backend'})
  or die "n2's peer backend on n3 does not end";
my %before = map { $_ => 1 } split /,/, $peers;
ok($before{ $n3->safe_psql('postgres', $peers_sql) },
	"n1's peer calls went over its connection from before the drop");
is($n1->safe_psql('postgres',
	q{SELECT reachable AND voting FROM schemaevo.cluster_status WHERE node_name = 'n3'}),
	't', 'and n1 sees n3 through it, reachable and voting');

$n2->start;
ok(wait_converged(@n), 'all three converge');
is($n3->safe_psql('postgres', 'SELECT count(*) = max(slot) AND min(slot) = 1 FROM schemaevo.log'),
	't', 'n3 holds the full log from slot 1');

logs_clean($n1, $n2);
my @log = split /\n/, PostgreSQL::Test::Utils::slurp_file($n3->logfile);
my @restarts = map { /background worker "schemaevo log worker" \(PID (\d+)\) exited with exit code 1/ ? $1 : () } @log;
is(scalar(@restarts), 1, "n3's log worker restarted once");
my $gone = $restarts[0] // 0;
ok((grep { /\[$gone\] LOG:  schemaevo: extension "schemaevo" was dropped, the log worker restarts/ } @log),
	'because it saw the extension dropped');
my @bad = grep { /\[$gone\] ERROR:|exited with exit code [1-9]|terminated by signal|PANIC|TRAP:|two different values chosen|applied a different log|schemaevo: could not/ }
  grep { !/background worker "schemaevo log worker" \(PID $gone\) exited with exit code 1/ } @log;
is(scalar(@bad), 0, 'on n3, no error of that worker, no crash, no safety violation')
  or diag(join("\n", @bad));
$_->stop for @n;
done_testing();
