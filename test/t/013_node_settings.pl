# Nodes whose sessions format and read dates differently still record the
# same instants.  A value carries its proposal time as text, which the
# leader, the acceptors (peer backends) and the log workers each read back
# under their server's DateStyle and TimeZone; here every node has another
# pair, among them field orders that read 12/03 as two different days and
# a zone abbreviation (IST) that PostgreSQL reads as another zone.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/../perl";
use PostgreSQL::Test::Utils;
use Test::More;
use SchemaevoTest;

my @n = make_cluster(3);
my ($n1, $n2, $n3) = @n;
my %settings = (
	n1 => [ 'SQL, MDY',      'America/New_York' ],
	n2 => [ 'SQL, DMY',      'Asia/Kolkata' ],
	n3 => [ 'Postgres, DMY', 'Pacific/Chatham' ]);
for my $node (@n)
{
	my ($style, $zone) = @{ $settings{ $node->name } };
	$node->append_conf('postgresql.conf', "datestyle = '$style'\ntimezone = '$zone'\n");
	$node->reload;
	$node->poll_query_until('postgres', "SELECT current_setting('DateStyle') = '$style'")
	  or die $node->name . ' does not take its DateStyle';
}

# proposals by whichever node leads, and forwarded ones
register_versions($n1, 'orders', 2);
promote_ok($n1, 'acme', 'orders@1');
promote_ok($n2, 'globex', 'orders@2');
promote_ok($n3, 'initech', 'orders@1');
ok(wait_converged(@n), 'the three nodes converge');

# every time as seconds since the epoch: text free of any session setting
my $times = q{
SELECT (SELECT string_agg(slot || '@' || extract(epoch FROM chosen_at), ',' ORDER BY slot)
          FROM schemaevo.log) || ' / ' ||
       (SELECT string_agg(tenant_id || '@' || extract(epoch FROM promoted_at), ',' ORDER BY slot, tenant_id)
          FROM schemaevo.promotions)};
my $first = $n1->safe_psql('postgres', $times);
is($n2->safe_psql('postgres', $times), $first, 'n2 recorded the same instants as n1');
is($n3->safe_psql('postgres', $times), $first, 'and so did n3');

# and they are the proposals' real times, not another day's or zone's
for my $node (@n)
{
	is($node->safe_psql('postgres', q{
SELECT count(*) FROM schemaevo.log
 WHERE chosen_at NOT BETWEEN now() - interval '10 minutes' AND now() + interval '1 minute'}),
		'0', 'every chosen_at on ' . $node->name . ' is within the last minutes');
}

logs_clean(@n);
$_->stop for @n;
done_testing();
