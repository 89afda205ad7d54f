# Without a majority nothing is chosen: with 2 of 3 nodes (and 3 of 5)
# stopped, register and promote fail within schemaevo.request_timeout with
# an error that counts the reachable nodes, and nothing is applied; once a
# majority is back, promotions succeed again and every node converges.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/../perl";
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(time);
use SchemaevoTest;

# Runs $sql on $node with a 2 s request timeout: (elapsed seconds, stderr).
sub timed_failure
{
	my ($node, $sql) = @_;
	my $t0 = time();
	my ($ret, $out, $err) = psql_result($node,
		"SET schemaevo.request_timeout = '2s'; $sql");
	return (time() - $t0, $ret, $err);
}

sub refused_ok
{
	my ($node, $sql, $reachable, $total, $label) = @_;
	my $majority = int($total / 2) + 1;
	my ($elapsed, $ret, $err) = timed_failure($node, $sql);
	isnt($ret, 0, "$label fails");
	like($err, qr/ERROR:  08006: the log did not choose the command within schemaevo.request_timeout \(2000 ms\)/,
		"$label: timeout error with SQLSTATE 08006");
	like($err, qr/DETAIL:  $reachable of $total nodes are reachable; a majority of $majority is needed\./,
		"$label: says $reachable of $total nodes are reachable");
	cmp_ok($elapsed, '>=', 1.9, sprintf('%s: waited the request timeout (%.1f s)', $label, $elapsed));
	cmp_ok($elapsed, '<', 5, sprintf('%s: gave up soon after it (%.1f s)', $label, $elapsed));
	return;
}

# What a node has applied, for "nothing changed" checks.
sub applied_state
{
	my ($node) = @_;
	return $node->safe_psql('postgres', q{
SELECT applied_slot FROM schemaevo.node_state;
SELECT count(*) FROM schemaevo.promotion_history;
SELECT count(*) FROM schemaevo.schemas;
SELECT string_agg(tenant_id || '=' || schema_id, ',' ORDER BY tenant_id) FROM schemaevo.active_schemas});
}

# ---- three nodes, two stopped ----
{
	my @n = make_cluster(3);
	my ($n1, $n2, $n3) = @n;
	register_versions($n1, 'orders', 2);
	promote_ok($n1, 'acme', 'orders@1');
	wait_applied(applied_slot($n1), @n);
	my $before = applied_state($n1);

	$n2->stop;
	$n3->stop;
	refused_ok($n1, q{CALL schemaevo.promote_schema('acme', 'orders@2')}, 1, 3,
		'promote on the survivor of 3');
	refused_ok($n1, q{SELECT schemaevo.register_schema('{"name": "invoices", "fields": [{"name": "id", "type": "int64"}]}')},
		1, 3, 'register on the survivor of 3');
	is(applied_state($n1), $before, 'nothing was applied on the survivor');
	is($n1->safe_psql('postgres', q{SELECT string_agg(node_name || '=' || reachable, ',' ORDER BY node_name) FROM schemaevo.cluster_status}),
		'n1=true,n2=false,n3=false', 'cluster_status on the survivor');

	# a majority again: the refused commands are in doubt (the survivor
	# may have accepted them, so the next leader may choose them), new
	# ones succeed
	$n2->start;
	wait_voting($n2);
	promote_ok($n1, 'globex', 'orders@2', 'promote on n1 with n2 back');
	promote_ok($n2, 'initech', 'orders@2', 'promote on n2 with n1');
	$n3->start;
	wait_voting($n3);
	ok(wait_converged(@n), 'all three converge');
	my @doubt = grep { /\|acme\|orders\@1\|orders\@2\|/ } history_rows($n1);
	cmp_ok(scalar(@doubt), '<=', 1, 'the timed-out promotion was chosen at most once');
	note('the timed-out promotion was ' . (@doubt ? '' : 'not ') . 'chosen after recovery');
	# running the timed-out command again is harmless: one more promotion
	promote_ok($n1, 'acme', 'orders@2', 'the timed-out promotion run again');
	ok(wait_converged(@n), 'and every node applies it');
	is($n3->safe_psql('postgres', q{SELECT schema_id FROM schemaevo.active_schemas WHERE tenant_id = 'acme'}),
		'orders@2', 'acme is on orders@2 everywhere');
	cmp_ok(scalar(grep { /\|acme\|orders\@\d\|orders\@2\|/ } history_rows($n1)), '==',
		scalar(@doubt) + 1, 'the history shows the retry as a promotion of its own');
	is($n3->safe_psql('postgres', q{SELECT count(*) FROM schemaevo.schemas WHERE name = 'invoices'}),
		$n1->safe_psql('postgres', q{SELECT count(*) FROM schemaevo.schemas WHERE name = 'invoices'}),
		'the timed-out registration is in the same state everywhere');
	is($n3->safe_psql('postgres', q{SELECT string_agg(tenant_id || '=' || schema_id, ',' ORDER BY tenant_id) FROM schemaevo.active_schemas WHERE tenant_id <> 'acme'}),
		'globex=orders@2,initech=orders@2', 'the promotions made after recovery are everywhere');
	logs_clean(@n);
	$_->stop for @n;
}

# ---- five nodes: three stopped refuse, two stopped work ----
{
	my @n = make_cluster(5, prefix => 'five_');
	my ($n1, $n2, $n3, $n4, $n5) = @n;
	register_versions($n1, 'orders', 2);
	promote_ok($n2, 'acme', 'orders@1');
	wait_applied(applied_slot($n2), @n);
	my $before = applied_state($n1);

	$_->stop for ($n3, $n4, $n5);
	refused_ok($n1, q{CALL schemaevo.promote_schema('acme', 'orders@2')}, 2, 5,
		'promote with 2 of 5 up (on n1)');
	refused_ok($n2, q{CALL schemaevo.promote_schema(ARRAY['x', 'y'], 'orders@2')}, 2, 5,
		'promote with 2 of 5 up (on n2)');
	is(applied_state($n1), $before, 'nothing was applied on n1');
	is(applied_state($n2), $before, 'nothing was applied on n2');

	$n4->start;
	wait_voting($n4);
	promote_ok($n1, 'globex', 'orders@2', 'promote on n1 with 3 of 5 up');
	promote_ok($n4, 'initech', 'orders@2', 'promote on n4 with 3 of 5 up');
	psql_ok($n2, q{SELECT schemaevo.register_schema('{"name": "invoices", "fields": [{"name": "id", "type": "int64"}]}')},
		'register on n2 with 3 of 5 up');
	ok(wait_converged($n1, $n2, $n4), 'the three running nodes converge');

	$_->start for ($n3, $n5);
	wait_voting($n3, $n5);
	ok(wait_converged(@n), 'all five converge');
	is($n5->safe_psql('postgres', q{SELECT string_agg(tenant_id || '=' || schema_id, ',' ORDER BY tenant_id) FROM schemaevo.active_schemas WHERE tenant_id IN ('globex', 'initech')}),
		'globex=orders@2,initech=orders@2', 'n5 has the promotions made while it was down');
	is($n5->safe_psql('postgres', q{SELECT count(*) FROM schemaevo.schemas WHERE name = 'invoices'}),
		'1', 'n5 has the registration made while it was down');
	logs_clean(@n);
	$_->stop for @n;
}

done_testing();
