# An idle log worker sleeps until its next status round.  A worker that
# owed its peers a learn it could not send (a cluster of one has no peers)
# once woke every millisecond after its first promotion, for ever, taking
# CPU from every other process of the server.  Counted here as context
# switches of the worker process, which do not depend on the machine's
# speed: a sleeping worker switches a few times per status round.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/../perl";
use PostgreSQL::Test::Utils;
use Test::More;
use SchemaevoTest;

# the worker's voluntary plus involuntary context switches so far
sub switches
{
	my ($pid) = @_;
	open(my $f, '<', "/proc/$pid/status") or die "cannot read /proc/$pid/status: $!";
	my $n = 0;
	while (<$f>)
	{
		$n += $1 if /^(?:non)?voluntary_ctxt_switches:\s+(\d+)/;
	}
	close($f);
	return $n;
}

# switches of the worker of $node during $seconds of idleness
sub idle_switches
{
	my ($node, $seconds) = @_;
	my $pid = $node->safe_psql('postgres',
		q{SELECT pid FROM pg_stat_activity WHERE backend_type = 'schemaevo log worker'});
	die 'no log worker' unless $pid =~ /^\d+$/;
	my $before = switches($pid);
	sleep($seconds);
	return switches($pid) - $before;
}

SKIP:
{
	skip 'needs /proc', 4 unless -r "/proc/$$/status";

	# a cluster of one (no init_cluster): status rounds every 100 ms
	my $n1 = make_node(1);
	my ($v1) = register_versions($n1, 'idle', 1);
	promote_ok($n1, 'a', $v1);
	promote_ok($n1, 'b', $v1);

	# 2 s hold 20 status rounds; the old bug made about 1,700 switches
	my $n = idle_switches($n1, 2);
	cmp_ok($n, '<', 400,
		"an idle cluster of one sleeps between status rounds ($n context switches in 2 s)");

	# and it still answers at once
	promote_ok($n1, 'c', $v1, 'a promotion after the idle period succeeds');
}

done_testing();
