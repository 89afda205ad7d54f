# An acceptor may take a slot again, in a higher ballot, while its node is
# applying that slot: a new leader re-proposes what it learned in phase 1
# before the old leader's apply step has committed, so the acceptor does
# not see the slot chosen yet.  The apply step then drops the slot's
# acceptances; it must not fail on the one taken meanwhile (it used to
# end the log worker with "tuple concurrently updated", which the random
# faults of 007 ran into), and the newer acceptance is dropped by the next
# apply.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/../perl";
use PostgreSQL::Test::Utils;
use Test::More;
use SchemaevoTest;

my ($n1) = make_cluster(1);
my ($v1) = register_versions($n1, 'orders', 1);
promote_ok($n1, 'acme', $v1);
my $worker = $n1->safe_psql('postgres',
	q{SELECT pid FROM pg_stat_activity WHERE backend_type = 'schemaevo log worker'});
like($worker, qr/^\d+$/, 'the log worker runs');
my $digest = $n1->safe_psql('postgres', 'SELECT digest FROM schemaevo.cluster_self');
my $log_offset = -s $n1->logfile;

# hold the worker inside the transaction that records and applies the
# next slot: after its own acceptance committed, before the apply step
# can open the history table
my $blocker = $n1->background_psql('postgres');
$blocker->query_safe('BEGIN; LOCK TABLE schemaevo.promotions IN SHARE MODE');
my $client = SchemaevoTest::Client->new($n1);
$client->call("CALL schemaevo.promote_schema('globex', '$v1')");
wait_until('the worker waits in its apply step', sub {
	$client->pump;
	return $n1->safe_psql('postgres', qq{
SELECT count(*) FROM pg_locks
 WHERE pid = $worker AND NOT granted AND relation = 'schemaevo.promotions'::regclass}) == 1;
});
my ($slot, $ballot) = split /\|/, $n1->safe_psql('postgres',
	'SELECT slot, ballot FROM schemaevo.acceptor_slots ORDER BY slot DESC LIMIT 1');
is($slot, applied_slot($n1) + 1, 'the slot being applied is accepted');

# a leader of a higher ballot has the same value accepted again
my $acceptor = $n1->background_psql('postgres');
my $higher = $ballot + 256;
is($acceptor->query_safe(qq{
BEGIN;
SELECT r->>'ok' FROM schemaevo.paxos_accept('$digest', $higher, $slot,
    (SELECT value FROM schemaevo.acceptor_slots WHERE slot = $slot), false, 0) r}),
	'true', 'the acceptor takes the slot again in a higher ballot: it does not see it chosen yet');

# the apply step reaches the slot's acceptance while that transaction holds it
$blocker->query_safe('COMMIT');
wait_until('the worker waits for the new acceptance', sub {
	$client->pump;
	return $n1->safe_psql('postgres', qq{
SELECT count(*) FROM pg_locks
 WHERE pid = $worker AND NOT granted AND locktype IN ('transactionid', 'tuple')}) == 1;
});
$acceptor->query_safe('COMMIT');
drive_clients([$client], undef, 'the promotion');
is(($client->results)[0]{status}, 'ok', 'the promotion is applied and answered');
is($n1->safe_psql('postgres',
	q{SELECT pid FROM pg_stat_activity WHERE backend_type = 'schemaevo log worker'}),
	$worker, 'the log worker did not fail');
unlike(substr(PostgreSQL::Test::Utils::slurp_file($n1->logfile), $log_offset),
	qr/tuple concurrently/, 'no concurrent-update error in the log');
is($n1->safe_psql('postgres', "SELECT count(*) FROM schemaevo.acceptor_slots WHERE slot = $slot"),
	'1', 'the acceptance taken meanwhile is left');

# the worker's own ballot is now below its promise: it runs phase 1 again,
# and the next apply drops what is left
promote_ok($n1, 'initech', $v1);
is($n1->safe_psql('postgres', q{
SELECT count(*) FROM schemaevo.acceptor_slots
 WHERE slot <= (SELECT applied_slot FROM schemaevo.node_state)}),
	'0', 'the next apply drops the acceptances of applied slots');
is($n1->safe_psql('postgres', q{SELECT string_agg(tenant_id || '=' || schema_id, ',' ORDER BY tenant_id) FROM schemaevo.active_schemas}),
	"acme=$v1,globex=$v1,initech=$v1", 'every promotion took effect');

$blocker->quit;
$acceptor->quit;
logs_clean($n1);
$n1->stop;
done_testing();
