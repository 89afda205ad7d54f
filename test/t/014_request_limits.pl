# Registrations and promotions a node cannot take: its queue of waiting
# requests is full (64, 53400), and its log worker is not running (55000,
# after schemaevo.request_timeout).  Neither loses a request it took.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/../perl";
use PostgreSQL::Test::Utils;
use Test::More;
use SchemaevoTest;

# a cluster of one whose log worker is stopped (SIGSTOP): requests queue up
my $n1 = make_node(1, conf => 'max_connections = 100');
my ($v1) = register_versions($n1, 'orders', 1);
promote_ok($n1, 'acme', $v1);
my $worker = $n1->safe_psql('postgres',
	q{SELECT pid FROM pg_stat_activity WHERE backend_type = 'schemaevo log worker'});
like($worker, qr/^\d+$/, 'the log worker runs');
kill('STOP', $worker);

my @clients = map { SchemaevoTest::Client->new($n1, name => "c$_") } 0 .. 63;
$clients[$_]->call("CALL schemaevo.promote_schema('t$_', '$v1')", tenant => "t$_")
  for 0 .. 63;
# each waits on its request's condition variable once it is queued
wait_until('64 promotions waiting', sub {
	$_->pump for @clients;
	return $n1->safe_psql('postgres', q{
SELECT count(*) FROM pg_stat_activity
 WHERE state = 'active' AND wait_event_type = 'Extension'
   AND query LIKE 'CALL schemaevo.promote_schema%'}) == 64;
});
my ($ret, $out, $err) = $n1->psql('postgres',
	"CALL schemaevo.promote_schema('t64', '$v1')",
	extra_params => [ '-v', 'VERBOSITY=verbose' ]);
like($err, qr/ERROR:  53400: too many registrations and promotions waiting \(64\)/,
	'a 65th request is refused with 53400');

kill('CONT', $worker);
drive_clients(\@clients, undef, 'the 64 waiting promotions');
is(scalar(grep { $_->{status} eq 'ok' } map { $_->results } @clients), 64,
	'every waiting promotion succeeds once the worker runs again');
$_->quit for @clients;
is($n1->safe_psql('postgres',
	q{SELECT count(*) FROM schemaevo.active_schemas WHERE tenant_id ~ '^t[0-9]+$'}),
	'64', 'and is applied, the refused one is not');
logs_clean($n1);
$n1->stop;

# a node whose log worker cannot start: schemaevo.database names no database
my $n2 = make_node(2, conf => "schemaevo.database = 'nosuchdb'\nschemaevo.request_timeout = '1s'");
($ret, $out, $err) = $n2->psql('postgres',
	q{SELECT schemaevo.register_schema('{"name": "x", "fields": [{"name": "id", "type": "int64"}]}')},
	extra_params => [ '-v', 'VERBOSITY=verbose' ]);
like($err, qr/ERROR:  55000: the schemaevo log worker is not running in this database/,
	'a request to a node without a log worker is refused with 55000');
ok($n2->log_contains(qr/FATAL:  database "nosuchdb" does not exist/),
	'and the server log says why');
$n2->stop;
done_testing();
