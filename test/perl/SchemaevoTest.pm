# SchemaevoTest.pm: builds schemaevo clusters of PostgreSQL::Test::Cluster
# nodes for the TAP tests in test/t.  No fixed ports or paths: every node
# comes from PostgreSQL::Test::Cluster; no fixed sleeps: waits poll.
package SchemaevoTest;

use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Exporter 'import';

our @EXPORT = qw(make_cluster wait_voting wait_applied all_equal
  promote_ok psql_ok psql_result node_state);

# make_cluster($n, %opts): $n started nodes named n1..n$n, each with
# schemaevo preloaded, fsync on, the extension created, the peer role able
# to log in, and init_cluster run identically on every node.
sub make_cluster
{
	my ($n, %opts) = @_;
	my @nodes;
	for my $i (1 .. $n)
	{
		my $node = PostgreSQL::Test::Cluster->new("n$i");
		$node->init;
		$node->append_conf('postgresql.conf', qq{
shared_preload_libraries = 'schemaevo'
schemaevo.database = 'postgres'
schemaevo.node_name = 'n$i'
schemaevo.peer_timeout = '500ms'
schemaevo.connect_timeout = '1s'
schemaevo.catchup_interval = '100ms'
schemaevo.request_timeout = '@{[ $opts{request_timeout} // '20s' ]}'
fsync = on
max_connections = 40
log_min_messages = warning
});
		$node->start;
		$node->safe_psql('postgres', q{
CREATE EXTENSION schemaevo;
ALTER ROLE schemaevo_peer LOGIN;
});
		push @nodes, $node;
	}
	my $members = '{' . join(', ',
		map {
			my $nd = $nodes[$_ - 1];
			sprintf('"n%d": "host=%s port=%d dbname=postgres user=schemaevo_peer"',
				$_, $nd->host, $nd->port)
		} 1 .. $n) . '}';
	for my $i (1 .. $n)
	{
		$nodes[$i - 1]->safe_psql('postgres',
			"SELECT schemaevo.init_cluster('n$i', '$members')");
	}
	wait_voting(@nodes);
	return @nodes;
}

# Waits until every given node votes.
sub wait_voting
{
	my @nodes = @_;
	for my $node (@nodes)
	{
		$node->poll_query_until('postgres',
			q{SELECT voting FROM schemaevo.cluster_status WHERE node_name = current_setting('schemaevo.node_name')})
		  or die "node " . $node->name . " does not vote";
	}
}

# Waits until every node has applied at least $slot.
sub wait_applied
{
	my ($slot, @nodes) = @_;
	for my $node (@nodes)
	{
		$node->poll_query_until('postgres',
			"SELECT applied_slot >= $slot FROM schemaevo.node_state")
		  or die "node " . $node->name . " did not apply slot $slot";
	}
}

# What a node applied: the log with outcomes, and the registry tables.
sub node_state
{
	my ($node) = @_;
	return $node->safe_psql('postgres', q{
SELECT 'log', slot, value::text, outcome::text FROM schemaevo.log ORDER BY slot;
SELECT 'schemas', schema_id, offset_map::text, fallback_offset_maps::text, log_slot FROM schemaevo.schemas ORDER BY schema_id;
SELECT 'active', tenant_id, schema_id, log_slot FROM schemaevo.active_schemas ORDER BY tenant_id;
SELECT 'node', applied_slot, digest FROM schemaevo.node_state;
});
}

# True when every node applied the same log and has the same tables.
sub all_equal
{
	my @nodes = @_;
	my $first = node_state($nodes[0]);
	for my $node (@nodes[1 .. $#nodes])
	{
		return 0 if node_state($node) ne $first;
	}
	return 1;
}

1;
