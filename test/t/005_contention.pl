# Five nodes propose promotions of the same tenant at once, three clients
# per node, each client to a target version of its own (the third promotes
# "hot" and "shared" together): every call returns success, every node
# ends with the same log and the same active schema, and promotion_history
# has exactly one row per successful call.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/../perl";
use PostgreSQL::Test::Utils;
use Test::More;
use SchemaevoTest;

my $nnodes = 5;
my $per_client = 12;
my @n = make_cluster($nnodes);
register_versions($n[0], 'orders', 3 * $nnodes);
wait_applied(applied_slot($n[0]), @n);

# client j (1, 2, 3) of node i promotes "hot" to orders@(3(i-1)+j); the
# third client promotes "hot" and "shared" in one command
my @clients;
for my $i (1 .. $nnodes)
{
	for my $j (1 .. 3)
	{
		my $target = 'orders@' . (3 * ($i - 1) + $j);
		my $tenants = $j == 3 ? q{ARRAY['hot', 'shared']} : q{'hot'};
		my $c = SchemaevoTest::Client->new($n[$i - 1], name => "n$i.$j");
		$c->call("CALL schemaevo.promote_schema($tenants, '$target')",
			target => $target, node => "n$i", shared => $j == 3) for 1 .. $per_client;
		push @clients, $c;
	}
}
my $t0 = time();
drive_clients(\@clients, undef, 'the contending promotions');
note(sprintf('%d promotions in %d s', scalar(@clients) * $per_client, time() - $t0));
$_->quit for @clients;

my @all = map { $_->results } @clients;
my @ok = grep { $_->{status} eq 'ok' } @all;
is(scalar(@ok), scalar(@all), 'every contending call returned success')
  or diag(join("\n", map { "$_->{tag}: $_->{status} " . ($_->{message} // '') }
			grep { $_->{status} ne 'ok' } @all));

ok(wait_converged(@n), 'every node has the same log and registry');

my %expected;
$expected{"$_->{target} $_->{node}"}++ for @ok;
for my $node (@n)
{
	my %got;
	my @rows = grep { (split /\|/)[1] eq 'hot' } history_rows($node);
	$got{ (split /\|/)[3] . ' ' . (split /\|/)[4] }++ for @rows;
	is(scalar(@rows), scalar(@ok), 'one history row per successful call on ' . $node->name);
	is_deeply(\%got, \%expected,
		'each target promoted as often as its client succeeded, proposed by its node, on ' . $node->name);

	# the history is a chain: each promotion starts where the previous ended
	my $prev = '-';
	my $broken = 0;
	for my $row (@rows)
	{
		my (undef, undef, $from, $to) = split /\|/, $row;
		$broken++ if $from ne $prev;
		$prev = $to;
	}
	is($broken, 0, 'the history of "hot" is a chain on ' . $node->name);
	is($node->safe_psql('postgres', q{SELECT schema_id FROM schemaevo.active_schemas WHERE tenant_id = 'hot'}),
		$prev, 'the active schema is the last promoted one on ' . $node->name);

	my %shared_expected;
	$shared_expected{$_->{target}}++ for grep { $_->{shared} } @ok;
	my %shared;
	$shared{ (split /\|/)[3] }++ for grep { (split /\|/)[1] eq 'shared' } history_rows($node);
	is_deeply(\%shared, \%shared_expected,
		'"shared" has one history row per successful call that promoted it, on ' . $node->name);
}

logs_clean(@n);
$_->stop for @n;
done_testing();
