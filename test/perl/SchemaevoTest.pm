# SchemaevoTest.pm: builds schemaevo clusters of PostgreSQL::Test::Cluster
# nodes for the TAP tests in test/t, and drives them: crashes, restarts,
# concurrent clients, convergence checks.
#
# No fixed ports or paths: every node comes from PostgreSQL::Test::Cluster.
# No fixed sleeps: every wait polls for the state it waits for, with the
# harness's default timeout ($PostgreSQL::Test::Utils::timeout_default).
package SchemaevoTest;

use strict;
use warnings;
use IPC::Run;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(usleep time);
use Exporter 'import';

our @EXPORT = qw(make_cluster make_node configure_node init_members
  members_json wait_voting wait_applied wait_until all_equal wait_converged
  node_state psql_ok psql_result promote_ok register_versions crash_node
  history_rows applied_slot drive_clients logs_clean pause_node resume_node);

# The installed library, to notice a `make install` during the test: a
# node restarted after it runs other code than the ones started before.
my $library = `pg_config --pkglibdir`;
chomp $library;
$library .= '/schemaevo.so';
my $library_mtime = (stat($library))[9] // 0;

# Settings of every node: short peer timeouts so that a dead peer is
# noticed quickly, fsync on (an acceptor refuses to vote without it).
sub configure_node
{
	my ($node, $i, %opts) = @_;
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
@{[ $opts{conf} // '' ]}
});
	return;
}

# make_node($i, %opts): a new node n$i, initialised, configured and
# started, with the extension created and the peer role able to log in.
# Peer calls are not logged (log_statement = all would log every status
# round); the tests' own statements are.
sub make_node
{
	my ($i, %opts) = @_;
	my $node = PostgreSQL::Test::Cluster->new(($opts{prefix} // '') . "n$i");
	$node->init(%{ $opts{init} // {} });
	configure_node($node, $i, %opts);
	$node->start;
	create_extension($node);
	return $node;
}

sub create_extension
{
	my ($node) = @_;
	$node->safe_psql('postgres', q{
CREATE EXTENSION schemaevo;
ALTER ROLE schemaevo_peer LOGIN;
ALTER ROLE schemaevo_peer SET log_statement = 'none';
});
	return;
}

# The members argument of init_cluster for these nodes, named n1..nN;
# $SchemaevoTest::conninfo_extra is appended to every conninfo.
our $conninfo_extra = '';

sub members_json
{
	my @nodes = @_;
	return '{' . join(', ',
		map {
			my $nd = $nodes[$_ - 1];
			sprintf('"n%d": "host=%s port=%d dbname=postgres user=schemaevo_peer%s"',
				$_, $nd->host, $nd->port, $conninfo_extra)
		} 1 .. scalar(@nodes)) . '}';
}

# Runs init_cluster on node n$i with the membership of @nodes.
sub init_members
{
	my ($i, @nodes) = @_;
	my $members = members_json(@nodes);
	$members =~ s/'/''/g;
	return $nodes[$i - 1]->safe_psql('postgres',
		"SELECT schemaevo.init_cluster('n$i', '$members')");
}

# make_cluster($n, %opts): $n started nodes named n1..n$n, each with
# schemaevo preloaded, fsync on, the extension created, the peer role able
# to log in, and init_cluster run identically on every node.  Options:
# request_timeout (default 20s), conf (extra postgresql.conf lines),
# prefix (of the PostgreSQL::Test::Cluster names, for a second cluster in
# the same test; the schemaevo node names stay n1..n$n).
sub make_cluster
{
	my ($n, %opts) = @_;
	my @nodes = map { make_node($_, %opts) } 1 .. $n;
	init_members($_, @nodes) for 1 .. $n;

	# until its worker has loaded the new membership, a node still reports
	# the vote it had as a cluster of one
	for my $node (@nodes)
	{
		$node->poll_query_until('postgres',
			"SELECT count(*) = $n FROM schemaevo.cluster_status")
		  or die "node " . $node->name . " does not load the membership";
	}
	wait_voting(@nodes);
	return @nodes;
}

# wait_until($what, $code): polls $code (every 100 ms) until it returns
# true; dies naming $what after the harness's default timeout.
sub wait_until
{
	my ($what, $code, $timeout) = @_;
	my $deadline = time() + ($timeout // $PostgreSQL::Test::Utils::timeout_default);
	while (1)
	{
		my $r = $code->();
		return $r if $r;
		die "timed out waiting for $what" if time() > $deadline;
		usleep(100_000);
	}
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
	return;
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
	return;
}

sub applied_slot
{
	my ($node) = @_;
	return $node->safe_psql('postgres', 'SELECT applied_slot FROM schemaevo.node_state');
}

# What a node applied: the log with outcomes, and the registry tables,
# as text that does not depend on the node's DateStyle or TimeZone.
sub node_state
{
	my ($node) = @_;
	return $node->safe_psql('postgres', q{
SET datestyle = 'ISO';
SET timezone = 'UTC';
SELECT 'log', slot, value::text, outcome::text FROM schemaevo.log ORDER BY slot;
SELECT 'schemas', schema_id, offset_map::text, fallback_offset_maps::text, log_slot FROM schemaevo.schemas ORDER BY schema_id;
SELECT 'active', tenant_id, schema_id, log_slot FROM schemaevo.active_schemas ORDER BY tenant_id;
SELECT 'history', slot, tenant_id, from_schema_id, to_schema_id, promoted_at, proposed_by FROM schemaevo.promotion_history;
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

# Waits until every node has applied the same, complete log: identical
# state on every node, and no node that knows of a chosen slot beyond it.
# Returns true, or false (with a diagnostic) after the default timeout.
sub wait_converged
{
	my @nodes = @_;
	my $ok = eval {
		wait_until('convergence', sub {
			my $max = 0;
			for my $nd (@nodes)
			{
				my $m = $nd->safe_psql('postgres',
					'SELECT coalesce(max(slot), 0) FROM schemaevo.log');
				$max = $m if $m > $max;
			}
			return 0 if grep { applied_slot($_) < $max } @nodes;
			return all_equal(@nodes);
		});
	};
	if (!$ok)
	{
		diag("nodes did not converge: $@");
		diag($_->name . ": applied " . applied_slot($_)) for @nodes;
	}
	return $ok ? 1 : 0;
}

# psql_ok($node, $sql, $name): $sql succeeds on $node.
sub psql_ok
{
	my ($node, $sql, $name) = @_;
	my ($ret, $out, $err) = $node->psql('postgres', $sql);
	local $Test::Builder::Level = $Test::Builder::Level + 1;
	ok($ret == 0, $name) or diag("$sql: $err");
	return $ret == 0;
}

# psql_result($node, $sql): (exit code, stdout, stderr) of $sql on $node,
# with the SQLSTATE in error messages (VERBOSITY verbose).
sub psql_result
{
	my ($node, $sql, %opts) = @_;
	return $node->psql('postgres', $sql,
		extra_params => ['-v', 'VERBOSITY=verbose', @{ $opts{extra_params} // [] }]);
}

# promote_ok($node, $tenant, $schema_id): CALL promote_schema succeeds.
sub promote_ok
{
	my ($node, $tenant, $schema_id, $name) = @_;
	local $Test::Builder::Level = $Test::Builder::Level + 1;
	return psql_ok($node, "CALL schemaevo.promote_schema('$tenant', '$schema_id')",
		$name // "promote $tenant to $schema_id on " . $node->name);
}

# register_versions($node, $name, $count): registers versions 1..$count of
# schema $name (each appends an int32 field) and returns their ids.
sub register_versions
{
	my ($node, $name, $count) = @_;
	my @ids;
	my @fields = ('{"name": "id", "type": "int64"}');
	for my $v (1 .. $count)
	{
		push @fields, qq({"name": "f$v", "type": "int32", "default": $v}) if $v > 1;
		my $def = qq({"name": "$name", "fields": [@{[ join(', ', @fields) ]}]});
		push @ids, $node->safe_psql('postgres',
			"SELECT schemaevo.register_schema('$def')");
	}
	return @ids;
}

# Every promotion a node has applied: "slot|tenant|from|to|proposed_by".
sub history_rows
{
	my ($node) = @_;
	return split /\n/, $node->safe_psql('postgres', q{
SELECT slot, tenant_id, coalesce(from_schema_id, '-'), to_schema_id, proposed_by
  FROM schemaevo.promotion_history});
}

# crash_node($node): SIGKILL to the postmaster, then waits until every
# process it had started is gone (they exit when they notice the
# postmaster's death), so that the node can be started again on the same
# shared memory key.  The dead postmaster is reparented to init, and some
# container inits reap late: while it is a zombie its PID still exists and
# its lock files (postmaster.pid, the socket's .lock) would make the next
# start refuse, so they go, as they would with a reboot.
sub crash_node
{
	my ($node) = @_;
	my $pm = $node->{_pid};
	die "node " . $node->name . " is not running" unless defined $pm;
	my @children = children_of($pm);
	$node->kill9;
	wait_until('the processes of ' . $node->name . ' to exit',
		sub { return !grep { process_alive($_) } ($pm, @children) });
	if (kill(0, $pm))
	{
		unlink($node->data_dir . '/postmaster.pid');
		unlink($node->host . '/.s.PGSQL.' . $node->port . '.lock')
		  unless $PostgreSQL::Test::Utils::use_unix_sockets == 0;
	}
	return;
}

# pause_node($node): SIGSTOP to the postmaster and every process it
# started, as a long stall (a VM paused, a swap storm) would: its peers
# time out on it and choose without it, and it must find out when it
# resumes (resume_node) that the world moved on.
sub pause_node
{
	my ($node) = @_;
	my $pm = $node->{_pid};
	die "node " . $node->name . " is not running" unless defined $pm;
	$node->{schemaevo_paused} = [ $pm, children_of($pm) ];
	kill('STOP', $pm);		# first, so that it forks no one meanwhile
	kill('STOP', @{ $node->{schemaevo_paused} });
	return;
}

sub resume_node
{
	my ($node) = @_;
	my $pids = delete $node->{schemaevo_paused} or die "node " . $node->name . " is not paused";
	kill('CONT', @$pids);
	return;
}

# Whether $pid runs: a zombie (exited, not yet reaped by whoever inherited
# it) holds no shared memory and counts as gone.
sub process_alive
{
	my ($pid) = @_;
	return 0 unless kill(0, $pid);
	open(my $f, '<', "/proc/$pid/stat") or return 0;
	my $stat = <$f>;
	close($f);
	return !(defined $stat && $stat =~ /\)\s+Z\s/);
}

sub children_of
{
	my ($pid) = @_;
	my @kids;
	opendir(my $d, '/proc') or return ();
	for my $p (grep { /^\d+$/ } readdir($d))
	{
		open(my $f, '<', "/proc/$p/stat") or next;
		my $stat = <$f>;
		close($f);
		# pid (comm) state ppid ...; comm may contain spaces
		push @kids, $p if defined $stat && $stat =~ /\)\s+\S+\s+(\d+)/ && $1 == $pid;
	}
	closedir($d);
	return @kids;
}

# logs_clean(@nodes): a test that no node's log shows a crashed log
# worker or backend, a divergence or a safety violation.  Crashes the
# test caused itself (SIGKILL, immediate stop) leave no such line.
sub logs_clean
{
	my @nodes = @_;
	my @bad;
	for my $node (@nodes)
	{
		my $log = PostgreSQL::Test::Utils::slurp_file($node->logfile);
		my $stopping = 0;
		for my $line (split /\n/, $log)
		{
			# workers exit with code 1 when told to during a shutdown
			$stopping = 1 if $line =~ /received \w+ shutdown request/;
			$stopping = 0 if $line =~ /starting PostgreSQL/;
			next if $stopping && $line =~ /exited with exit code 1/;
			push @bad, $node->name . ": $line"
			  if $line =~ /exited with exit code [1-9]|terminated by signal|PANIC|TRAP:|two different values chosen|applied a different log|schemaevo: could not/;
		}
	}
	diag("$library was reinstalled while the test ran: nodes started after that ran other code")
	  if ((stat($library))[9] // 0) != $library_mtime;
	local $Test::Builder::Level = $Test::Builder::Level + 1;
	is(scalar(@bad), 0, 'no crash, divergence or safety violation in the node logs')
	  or diag(join("\n", @bad[0 .. ($#bad < 30 ? $#bad : 30)]));
	return;
}

# drive_clients(\@clients, $until, $what): pumps the clients until $until
# returns true (or, without $until, until every client is idle or dead).
sub drive_clients
{
	my ($clients, $until, $what, $timeout) = @_;
	$until //= sub { return !grep { $_->busy } @$clients };
	my $deadline = time() + ($timeout // $PostgreSQL::Test::Utils::timeout_default);
	while (1)
	{
		$_->pump for @$clients;
		return 1 if $until->();
		if (time() > $deadline)
		{
			diag($_->describe) for grep { $_->busy } @$clients;
			die "timed out waiting for " . ($what // 'clients');
		}
		usleep(10_000);
	}
}

# A psql session that runs one statement at a time without blocking the
# test: call() queues statements, pump() advances, results() reports each
# statement as ok (with its output), error (with SQLSTATE and message),
# unknown (running when the session died) or unsent.
package SchemaevoTest::Client;

use strict;
use warnings;
use IPC::Run;
use Time::HiRes qw(time);

sub new
{
	my ($class, $node, %opts) = @_;
	my $self = bless {
		node => $node,
		name => $opts{name} // $node->name,
		in => '',
		out => '',
		err => '',
		queue => [],
		inflight => undef,
		results => [],
		dead => 0,
		seq => 0,
	}, $class;
	my @cmd = ($node->installed_command('psql'), '-XAtq', '-v', 'ON_ERROR_STOP=0',
		'-d', $node->connstr('postgres'));
	$self->{h} = IPC::Run::start(\@cmd, '<', \$self->{in}, '>', \$self->{out},
		'2>', \$self->{err});
	$self->{in} .= "SET schemaevo.request_timeout = '$opts{request_timeout}';\n"
	  if defined $opts{request_timeout};
	return $self;
}

# Queues $sql; %info (e.g. tenant, target) is kept with its result.
sub call
{
	my ($self, $sql, %info) = @_;
	my $r = { %info, sql => $sql, client => $self->{name},
		tag => $self->{name} . '-' . ++$self->{seq}, status => 'unsent', output => [] };
	push @{ $self->{queue} }, $r;
	push @{ $self->{results} }, $r;
	return $r;
}

sub busy
{
	my ($self) = @_;
	return !$self->{dead} && ($self->{inflight} || @{ $self->{queue} });
}

sub idle { my ($self) = @_; return !$self->{dead} && !$self->busy; }
sub dead { my ($self) = @_; return $self->{dead}; }
sub results { my ($self) = @_; return @{ $self->{results} }; }

sub pump
{
	my ($self) = @_;
	return if $self->{dead};
	my $alive = eval { $self->{h}->pump_nb if $self->{h}->pumpable; $self->{h}->pumpable };
	$self->parse;
	if (!$alive)
	{
		$self->{dead} = 1;
		eval { $self->{h}->finish };
		$self->{inflight}{status} = 'unknown' if $self->{inflight};
		$self->{inflight} = undef;
		return;
	}
	if (!$self->{inflight} && @{ $self->{queue} })
	{
		my $r = shift @{ $self->{queue} };
		$r->{status} = 'running';
		$r->{started} = time();
		$self->{inflight} = $r;
		$self->{in} .= "$r->{sql};\n\\if :ERROR\n"
		  . "\\echo \@\@ERR $r->{tag} :LAST_ERROR_SQLSTATE :'LAST_ERROR_MESSAGE'\n"
		  . "\\else\n\\echo \@\@OK $r->{tag}\n\\endif\n";
	}
	return;
}

sub parse
{
	my ($self) = @_;
	while ($self->{out} =~ s/^([^\n]*)\n//)
	{
		my $line = $1;
		my $r = $self->{inflight};
		if ($line =~ /^\@\@(OK|ERR) (\S+)(?: (\S*) (.*))?$/ && $r && $2 eq $r->{tag})
		{
			$r->{status} = $1 eq 'OK' ? 'ok' : 'error';
			($r->{sqlstate}, $r->{message}) = ($3, $4) if $1 eq 'ERR';
			$r->{finished} = time();
			$self->{inflight} = undef;

			# no SQLSTATE: psql lost the connection (the server died while
			# the session was idle, and psql only noticed when it sent
			# this statement); the session is over, the statement in doubt
			if ($1 eq 'ERR' && defined $3 && $3 eq '')
			{
				$r->{status} = 'unknown';
				$self->{dead} = 1;
				eval { $self->{h}->kill_kill; $self->{h}->finish };
				return;
			}
		}
		elsif ($r)
		{
			push @{ $r->{output} }, $line;
		}
	}
	return;
}

# The session's state, for a diagnostic.
sub describe
{
	my ($self) = @_;
	my $r = $self->{inflight};
	return sprintf("client %s: %s, %d queued, running: %s, unread output: [%s], stderr: [%s]",
		$self->{name}, $self->{dead} ? 'dead' : 'alive', scalar @{ $self->{queue} },
		$r ? "$r->{tag} $r->{sql}" : '-', $self->{out}, $self->{err});
}

# Ends the session after the queued statements.
sub quit
{
	my ($self) = @_;
	return if $self->{dead};
	$self->{in} .= "\\q\n";
	eval { $self->{h}->finish };
	$self->{dead} = 1;
	$self->parse;
	return;
}

1;
