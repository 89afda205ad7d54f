# bench/etcd.sh: a 3-member etcd cluster on loopback beside the consensus
# part's PostgreSQL cluster, as the separate coordination service schemaevo
# is compared with (sourced by bench/run; uses its BASE, PORT, SUITE_DIR,
# PGB_SECONDS, log, record and proc_ticks).  Each member fsyncs its
# write-ahead log before it acknowledges, etcd's default (--unsafe-no-fsync
# is left off), like the acceptors' synchronous_commit = on.  Needs
# Debian's etcd-server, etcd-client and python3-grpcio
# (scripts/install-deps --bench); without them the part runs without the
# comparison and says so.

ETCD_PIDS=()
ETCD_LEADER=

etcd_available() {
    command -v etcd >/dev/null && command -v etcdctl >/dev/null &&
        /usr/bin/python3 -c 'import grpc' 2>/dev/null
}

# etcd_start: members e1..e3, client ports PORT+11..13, peer ports
# PORT+21..23; sets ETCD_LEADER to the leader's client endpoint
etcd_start() {
    local i cluster= endpoints= r
    for i in 1 2 3; do
        cluster+="${cluster:+,}e$i=http://127.0.0.1:$((PORT + 20 + i))"
        endpoints+="${endpoints:+,}127.0.0.1:$((PORT + 10 + i))"
    done
    for i in 1 2 3; do
        etcd --name "e$i" --data-dir "$BASE/e$i" \
            --listen-client-urls "http://127.0.0.1:$((PORT + 10 + i))" \
            --advertise-client-urls "http://127.0.0.1:$((PORT + 10 + i))" \
            --listen-peer-urls "http://127.0.0.1:$((PORT + 20 + i))" \
            --initial-advertise-peer-urls "http://127.0.0.1:$((PORT + 20 + i))" \
            --initial-cluster "$cluster" --initial-cluster-state new \
            --initial-cluster-token sevo-bench \
            --logger zap --log-level warn > "$BASE/e$i.log" 2>&1 &
        ETCD_PIDS+=($!)
    done
    for r in $(seq 1 300); do
        ETCD_LEADER=$(ETCDCTL_API=3 etcdctl --endpoints "$endpoints" endpoint status -w json 2>/dev/null |
            /usr/bin/python3 -c 'import json, sys
for s in json.load(sys.stdin):
    if s["Status"]["leader"] == s["Status"]["header"]["member_id"]:
        print(s["Endpoint"])' 2>/dev/null) || true
        [ -n "$ETCD_LEADER" ] && break
        sleep 0.1
    done
    if [ -z "$ETCD_LEADER" ]; then
        echo "bench/run: the etcd cluster elects no leader; see $BASE/e*.log" >&2
        exit 1
    fi
    log "consensus: etcd $(etcd --version | sed -n 's/^etcd Version: //p'), 3 members, leader $ETCD_LEADER"
}

etcd_stop() {
    [ "${#ETCD_PIDS[@]}" -gt 0 ] || return 0
    kill "${ETCD_PIDS[@]}" 2>/dev/null || true
    wait "${ETCD_PIDS[@]}" 2>/dev/null || true
    ETCD_PIDS=()
}

# etcd_run NAME ROUND CLIENTS: puts to the leader for PGB_SECONDS, recorded
# as NAME.tps, .p50_ms, .p99_ms, .client_cpu_ms_per_tx (the Python load
# generator's own CPU) and .cluster_cpu_ms_per_tx (the three members')
etcd_run() {
    local name=$1 round=$2 clients=$3 c0 c1 out
    c0=$(proc_ticks "${ETCD_PIDS[@]}")
    out=$("$SUITE_DIR/etcd-load" "$ETCD_LEADER" "$clients" "$PGB_SECONDS") || {
        echo "bench/run: etcd-load $name failed" >&2; exit 1; }
    c1=$(proc_ticks "${ETCD_PIDS[@]}")
    set -- $out
    record "$name.tps" "$round" "$2"
    record "$name.p50_ms" "$round" "$3"
    record "$name.p99_ms" "$round" "$4"
    record "$name.client_cpu_ms_per_tx" "$round" "$5"
    record "$name.cluster_cpu_ms_per_tx" "$round" \
        "$(awk -v t=$((c1 - c0)) -v n="$1" -v hz="$(getconf CLK_TCK)" 'BEGIN { printf "%.3f", t * 1000 / hz / n }')"
}
