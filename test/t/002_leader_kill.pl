# The leader's postmaster is killed (SIGKILL) in the middle of a stream of
# promotions, with one of them in flight (accepted by n1 alone: n2 and n3
# are paused until the kill): every promotion that returned success
# survives on the other nodes, the one in doubt is applied at most once,
# promotions from n2 keep working while n1 is down, and after its restart
# n1 (whose acceptance of the value in doubt is stale) converges to the
# same log and registry.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/../perl";
use PostgreSQL::Test::Utils;
use Test::More;
use SchemaevoTest;

my @n = make_cluster(3);
my ($n1, $n2, $n3) = @n;
my @ids = register_versions($n1, 'orders', 3);
is_deeply(\@ids, [qw(orders@1 orders@2 orders@3)], 'three versions registered');

# a stream of promotions from n1: each moves "acme" and a tenant of its own,
# in one log entry, to one of the three versions
my $c1 = SchemaevoTest::Client->new($n1);
for my $k (1 .. 400)
{
	my $target = 'orders@' . ($k % 3 + 1);
	$c1->call("CALL schemaevo.promote_schema(ARRAY['acme', 'k$k'], '$target')",
		tenant => "k$k", target => $target);
}
drive_clients([$c1], sub { (grep { $_->{status} eq 'ok' } $c1->results) >= 25 },
	'promotions from n1');

# n1 leads (every promotion so far came from it); with n2 and n3 paused,
# its next promotion stays in flight until n1 is killed
is($n1->safe_psql('postgres',
	q{SELECT role FROM schemaevo.cluster_status WHERE node_name = 'n1'}),
	'leader', 'n1 leads');
pause_node($n2);
pause_node($n3);
wait_until('a promotion in flight on n1', sub {
	$c1->pump;
	return $n1->safe_psql('postgres', q{
SELECT count(*) FROM pg_stat_activity
 WHERE state = 'active' AND query LIKE 'CALL schemaevo.promote_schema%'}) eq '1';
});
crash_node($n1);
resume_node($n2);
resume_node($n3);
drive_clients([$c1], sub { $c1->dead }, 'the n1 session to end');

my @ok = grep { $_->{status} eq 'ok' } $c1->results;
my @failed = grep { $_->{status} eq 'error' } $c1->results;
my @unknown = grep { $_->{status} eq 'unknown' } $c1->results;
cmp_ok(scalar(@ok), '>=', 25, scalar(@ok) . ' promotions from n1 returned success before the kill');
is(scalar(@failed), 0, 'no promotion from n1 failed before the kill')
  or diag(join("\n", map { "$_->{tag}: $_->{message}" } @failed));
is(scalar(@unknown), 1, 'one promotion was in flight at the kill');

# n2 takes over while n1 is down
my $c2 = SchemaevoTest::Client->new($n2);
for my $k (1 .. 20)
{
	my $target = 'orders@' . ($k % 3 + 1);
	$c2->call("CALL schemaevo.promote_schema(ARRAY['acme', 'm$k'], '$target')",
		tenant => "m$k", target => $target);
}
drive_clients([$c2], undef, 'promotions from n2');
my @ok2 = grep { $_->{status} eq 'ok' } $c2->results;
is(scalar(@ok2), 20, 'every promotion from n2 succeeded while n1 was down')
  or diag(join("\n", map { "$_->{tag}: $_->{status} " . ($_->{message} // '') } $c2->results));
$c2->quit;
is($n3->safe_psql('postgres',
	q{SELECT count(*) FROM schemaevo.cluster_status WHERE node_name = 'n1' AND NOT reachable}),
	'1', 'n3 sees n1 unreachable');

# the survivors agree, and already hold every promotion n1 confirmed
ok(wait_converged($n2, $n3), 'n2 and n3 converge without n1');

# every confirmed promotion is in the history of each node given, once,
# with its target; a promotion in doubt is there at most once
sub check_promotions
{
	my ($label, @nodes) = @_;
	for my $node (@nodes)
	{
		my %hist;
		for my $row (history_rows($node))
		{
			my ($slot, $tenant, $from, $to) = split /\|/, $row;
			push @{ $hist{$tenant} }, $to;
		}
		my @missing = grep {
			!$hist{ $_->{tenant} } || "@{ $hist{ $_->{tenant} } }" ne $_->{target}
		} (@ok, @ok2);
		is(scalar(@missing), 0,
			"$label: every confirmed promotion is on " . $node->name . ' once, with its target')
		  or diag(join("\n", map { "$_->{tenant} -> $_->{target}: "
				  . join(',', @{ $hist{ $_->{tenant} } // [] }) } @missing));
		my @twice = grep { @{ $hist{$_} } > 1 && $_ ne 'acme' } keys %hist;
		is(scalar(@twice), 0, "$label: no tenant promoted twice on " . $node->name);
		my @ghost = grep { $_ ne 'acme' && !/^[km]\d+$/ } keys %hist;
		is(scalar(@ghost), 0, "$label: nothing else in the history of " . $node->name);
	}
	return;
}
check_promotions('n1 down', $n2, $n3);

# n1 comes back, votes again and catches up
$n1->start;
wait_voting($n1);
ok(wait_converged(@n), 'all three nodes converge after n1 restarts');
check_promotions('after restart', @n);

# acme ends on the version of its last promotion, the same everywhere
my $last = $n1->safe_psql('postgres',
	q{SELECT to_schema_id FROM schemaevo.promotion_history WHERE tenant_id = 'acme' ORDER BY slot DESC LIMIT 1});
for my $node (@n)
{
	is($node->safe_psql('postgres',
		q{SELECT schema_id FROM schemaevo.active_schemas WHERE tenant_id = 'acme'}),
		$last, 'acme is on its last promoted version on ' . $node->name);
}

# and n1 proposes again
promote_ok($n1, 'after', 'orders@2');
wait_applied(applied_slot($n1), @n);
ok(wait_converged(@n), 'converged after a promotion from the restarted n1');
is($n3->safe_psql('postgres',
	q{SELECT count(*) FROM schemaevo.cluster_status WHERE diverged}), '0',
	'no node reports a diverged log');

logs_clean(@n);
$_->stop for @n;
done_testing();
