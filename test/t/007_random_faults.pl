# A randomized fault schedule (fixed seed): five nodes, two clients on
# each running promotions and registrations, while random nodes (often the
# leader) are killed (immediate stop or SIGKILL of the postmaster) and
# restarted, or paused (SIGSTOP) and resumed, never more than two at once.  At the end every node is restarted and must hold the
# same log and registry; every call that returned success is there with
# its result, every call in doubt at most once, and no call failed for a
# reason other than the missing quorum.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/../perl";
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(time);
use SchemaevoTest;

srand($ENV{SCHEMAEVO_SEED} // 12345);    # fixed; another seed explores other schedules
my $nnodes = 5;
my $max_down = int(($nnodes - 1) / 2);
my $nops = 800;
my $per_node = 2;				# clients
my $fault_every = 8;			# calls issued between two fault actions

my @n = make_cluster($nnodes, request_timeout => '10s');
my @targets = register_versions($n[0], 'orders', 4);
wait_applied(applied_slot($n[0]), @n);

my @up = (1) x $nnodes;
# $clients[$i] holds node i's current sessions
my @clients = map { my $i = $_; [ map { SchemaevoTest::Client->new($n[$i], name => 'n' . ($i + 1) . ".$_") } 1 .. $per_node ] } 0 .. $nnodes - 1;
my @all_clients = map { @$_ } @clients;
my $issued = 0;
my ($kills, $crashes, $restarts, $pauses) = (0, 0, 0, 0);
my @paused = (0) x $nnodes;
my $t0 = time();

sub pick { return $_[ int(rand(scalar @_)) ]; }

# the next operation for a client
sub issue
{
	my ($c) = @_;
	my $k = ++$issued;
	my $r = rand();
	if ($r < 0.70)
	{
		my $target = pick(@targets);
		my $tenants = rand() < 0.3 ? "ARRAY['hot', 't$k']" : "'t$k'";
		$c->call("CALL schemaevo.promote_schema($tenants, '$target')",
			op => 'promote', tenant => "t$k", target => $target);
	}
	elsif ($r < 0.85)
	{
		$c->call(qq{SELECT schemaevo.register_schema('{"name": "r$k", "fields": [{"name": "id", "type": "int64"}]}')},
			op => 'register', name => "r$k", expect => "r$k\@1");
	}
	else
	{
		my @fields = map { qq({"name": "$_", "type": "int32", "default": 0}) } ('id', "g$k");
		$c->call(qq{SELECT schemaevo.register_schema('{"name": "orders", "fields": [@{[ join(', ', @fields) ]}]}')},
			op => 'version', field => "g$k");
	}
	return;
}

sub fault
{
	my @running = grep { $up[$_] } 0 .. $nnodes - 1;
	my @down = grep { !$up[$_] } 0 .. $nnodes - 1;
	if (@down < $max_down && (!@down || rand() < 0.6))
	{
		my $i = pick(@running);
		if (rand() < 0.4)
		{
			# the leader, as the running nodes see it
			my $leader = $n[ $running[0] ]->safe_psql('postgres',
				q{SELECT node_name FROM schemaevo.cluster_status WHERE role = 'leader'});
			$i = $1 - 1 if $leader =~ /^n(\d+)$/ && $up[ $1 - 1 ];
		}
		my $how = rand();
		if ($how < 0.25)
		{
			pause_node($n[$i]);
			$paused[$i] = 1;
			$pauses++;
		}
		elsif ($how < 0.45)
		{
			crash_node($n[$i]);
			$crashes++;
		}
		else
		{
			$n[$i]->stop('immediate');
			$kills++;
		}
		$up[$i] = 0;
	}
	elsif (@down)
	{
		my $i = pick(@down);
		$up[$i] = 1;
		if ($paused[$i])
		{
			# its sessions live on, and so do their calls
			resume_node($n[$i]);
			$paused[$i] = 0;
			return;
		}
		$n[$i]->start;
		$restarts++;
		$clients[$i] = [ map { SchemaevoTest::Client->new($n[$i], name => 'n' . ($i + 1) . ".$_") } 1 .. $per_node ];
		push @all_clients, @{ $clients[$i] };
	}
	return;
}

# successful registrations become promotion targets: a promotion to them
# must never find them missing
sub learn_targets
{
	for my $r (map { $_->results } @all_clients)
	{
		next if $r->{learned} || $r->{status} ne 'ok' || $r->{op} eq 'promote';
		$r->{learned} = 1;
		push @targets, $r->{output}[0];
	}
	return;
}

my $next_fault = $fault_every;
while ($issued < $nops)
{
	my @idle;
	drive_clients(\@all_clients,
		sub { @idle = grep { $up[$_->[0]] && $_->[1]->idle } map { my $i = $_; map { [ $i, $_ ] } @{ $clients[$i] } } 0 .. $nnodes - 1 },
		'an idle client');
	learn_targets();
	for my $c (@idle)
	{
		issue($c->[1]) if $issued < $nops;
	}
	if ($issued >= $next_fault)
	{
		fault();
		$next_fault += $fault_every;
	}
}
for my $i (grep { $paused[$_] } 0 .. $nnodes - 1)
{
	resume_node($n[$i]);
	($paused[$i], $up[$i]) = (0, 1);
}
drive_clients(\@all_clients, sub { !grep { $_->busy } @all_clients }, 'the last calls');
note(sprintf('%d calls, %d immediate stops, %d SIGKILLs, %d restarts, %d pauses in %.0f s',
		$issued, $kills, $crashes, $restarts, $pauses, time() - $t0));

# restart everything and let it settle
$_->quit for @all_clients;
for my $i (0 .. $nnodes - 1)
{
	$n[$i]->stop('immediate') if $up[$i];
	$n[$i]->start;
}
wait_voting(@n);
promote_ok($n[$_], 'final', $targets[0], "promote on n" . ($_ + 1) . " after the restart") for 0 .. $nnodes - 1;
ok(wait_converged(@n), 'every node holds the same log and registry');

my @results = map { $_->results } @all_clients;
my @ok = grep { $_->{status} eq 'ok' } @results;
my @errors = grep { $_->{status} eq 'error' } @results;
note(sprintf('%d succeeded, %d failed, %d in doubt (session killed)',
		scalar(@ok), scalar(@errors), scalar(grep { $_->{status} eq 'unknown' } @results)));
cmp_ok(scalar(@ok), '>=', $nops * 0.6, 'most calls succeeded');
my @unexpected = grep { ($_->{sqlstate} // '') ne '08006' } @errors;
is(scalar(@unexpected), 0, 'every failed call failed for want of a quorum (08006)')
  or diag(join("\n", map { "$_->{tag} $_->{sql}: $_->{sqlstate} $_->{message}" } @unexpected));

# the history and the registry, as every node has them
my $n1 = $n[0];
my %hist;
for my $row (history_rows($n1))
{
	my ($slot, $tenant, $from, $to) = split /\|/, $row;
	push @{ $hist{$tenant} }, $to;
}
my %schemas = map { $_ => 1 } split /\n/, $n1->safe_psql('postgres', 'SELECT schema_id FROM schemaevo.schemas');
my %field_version = map { split /\|/ } split /\n/, $n1->safe_psql('postgres',
	q{SELECT f->>'name', s.schema_id FROM schemaevo.schemas s, jsonb_array_elements(s.definition->'fields') f
	   WHERE s.name = 'orders' AND f->>'name' LIKE 'g%'});

my (@lost, @twice, @wrong);
for my $r (grep { $_->{op} } @results)
{
	my $ok = $r->{status} eq 'ok';
	if ($r->{op} eq 'promote')
	{
		my @rows = @{ $hist{ $r->{tenant} } // [] };
		push @lost, $r if $ok && !@rows;
		push @twice, $r if @rows > 1;
		push @wrong, $r if @rows && $rows[0] ne $r->{target};
	}
	elsif ($r->{op} eq 'register')
	{
		push @lost, $r if $ok && !$schemas{ $r->{expect} };
		push @wrong, $r if $ok && $r->{output}[0] ne $r->{expect};
	}
	else
	{
		push @lost, $r if $ok && !$field_version{ $r->{field} };
		push @wrong, $r if $ok && ($field_version{ $r->{field} } // '') ne $r->{output}[0];
	}
}
my $show = sub { join("\n", map { "$_->{tag} $_->{status}: $_->{sql}" } @_) };
is(scalar(@lost), 0, 'every call that returned success is in the log') or diag($show->(@lost));
is(scalar(@twice), 0, 'no call was applied twice') or diag($show->(@twice));
is(scalar(@wrong), 0, 'every applied call has the result its caller saw') or diag($show->(@wrong));
my $versions = $n1->safe_psql('postgres',
	q{SELECT count(*) = max(version) AND min(version) = 1 FROM schemaevo.schemas WHERE name = 'orders'});
is($versions, 't', 'the versions of "orders" are numbered without gaps');

# the history of "hot" is a chain, ending at its active schema
my $prev = '-';
my $broken = 0;
for my $row (grep { (split /\|/)[1] eq 'hot' } history_rows($n1))
{
	my (undef, undef, $from, $to) = split /\|/, $row;
	$broken++ if $from ne $prev;
	$prev = $to;
}
is($broken, 0, 'the history of "hot" is a chain');
is($n1->safe_psql('postgres', q{SELECT coalesce(schema_id, '-') FROM schemaevo.active_schemas RIGHT JOIN (SELECT 'hot' AS tenant_id) t USING (tenant_id)}),
	$prev, '"hot" is on its last promoted version');
$n1->poll_query_until('postgres',
	q{SELECT bool_and(reachable AND voting AND lag_slots = 0 AND NOT diverged) FROM schemaevo.cluster_status})
  or die 'cluster_status does not settle';
pass('cluster_status: every node reachable, voting, no lag, no divergence');

logs_clean(@n);
$_->stop for @n;
done_testing();
