#!/usr/bin/env bash
# bench/million.sh: the million-connection run, end to end, on loopback.
#
# Run as root from a checkout (it builds the binaries itself):
#
#   bench/million.sh                              # 1,000,000 idle connections, then a broadcast to all
#   bench/million.sh --conns 20000 --workers 2    # the same at small scale
#   bench/million.sh --cluster-overhead --subs 19000 --rounds 3
#
# Main mode: applies the host settings the run needs (printing every sysctl
# it changes; nothing is restored afterwards), starts `myriad --workers`
# (N worker processes sharing one port through SO_REUSEPORT, with the
# embedded NATS broker), opens --conns idle upgraded connections with
# `myriad-loadgen idle --procs auto --sources auto`, holds them --hold while
# it samples the workers' RSS, their CPU time and the kernel's slab, then
# runs a broadcast from one publish to --conns subscribers on one topic and
# prints a summary table (also written to OUT/summary.txt).
#
# --cluster-overhead: a broadcast to --subs subscribers on one process
# without a broker (A) against --workers 4 with the embedded NATS (B), run
# A/B/A/B... for --rounds rounds, and the medians of each side.
#
# Everything it starts is stopped by PID on exit. Loopback only.
set -euo pipefail

usage() {
	cat <<'EOF'
usage: bench/million.sh [flags]
  --conns N            idle connections, and broadcast subscribers (default 1000000)
  --rate R             new connections per second (default 5000)
  --workers W          server worker processes; 0 derives them from --max-conns and the
                       descriptor limit (default 0)
  --max-conns M        the servers' connection bound over all workers (default conns + 10%, or
                       more with many small workers, so SO_REUSEPORT's uneven spread never
                       meets a worker's share)
  --settle D           wait after connecting before measuring (default 30s; keep it over the
                       server's --memory-release, 10s, so the hold sees memory after release)
  --hold D             idle hold after settling, measured (default 60s)
  --pub-rate F         broadcast messages per second (default 1)
  --pub-duration D     broadcast publishing time (default 10s)
  --straggle D         broadcast: wait this long after publishing for every subscriber to have
                       every message before counting losses (default 120s; ends early when all have)
  --procs P            loadgen processes (default auto)
  --server-flags F     more flags for myriad in the main run, one string (for example
                       "--ping-interval 2m --idle-timeout 5m")
  --loadgen-flags F    more flags for both myriad-loadgen runs, one string (for example
                       "--handshake-timeout 30s")
  --port P             WebSocket port; the API listens on P+1 (default 18080)
  --out DIR            reports, logs and the summary (default ./million-YYYYmmdd-HHMMSS)
  --no-tune            do not change any sysctl (only print what myriad tune finds)
  --no-build           use the binaries already in OUT/bin
  --cluster-overhead   run the cluster-overhead comparison instead of the main run
  --subs N             cluster-overhead: subscribers (default 19000)
  --rounds K           cluster-overhead: A/B rounds (default 3)
EOF
}

CONNS=1000000
RATE=5000
WORKERS=0
MAX_CONNS=""
SETTLE=30s
HOLD=60s
PUB_RATE=1
PUB_DURATION=10s
STRAGGLE=120s
PROCS=auto
SERVER_FLAGS=""
LOADGEN_FLAGS=""
PORT=18080
OUT=""
TUNE=1
BUILD=1
MODE=million
SUBS=19000
ROUNDS=3

while [[ $# -gt 0 ]]; do
	case "$1" in
	--conns) CONNS=$2; shift 2 ;;
	--rate) RATE=$2; shift 2 ;;
	--workers) WORKERS=$2; shift 2 ;;
	--max-conns) MAX_CONNS=$2; shift 2 ;;
	--settle) SETTLE=$2; shift 2 ;;
	--hold) HOLD=$2; shift 2 ;;
	--pub-rate) PUB_RATE=$2; shift 2 ;;
	--pub-duration) PUB_DURATION=$2; shift 2 ;;
	--straggle) STRAGGLE=$2; shift 2 ;;
	--procs) PROCS=$2; shift 2 ;;
	--server-flags) SERVER_FLAGS=$2; shift 2 ;;
	--loadgen-flags) LOADGEN_FLAGS=$2; shift 2 ;;
	--port) PORT=$2; shift 2 ;;
	--out) OUT=$2; shift 2 ;;
	--no-tune) TUNE=0; shift ;;
	--no-build) BUILD=0; shift ;;
	--cluster-overhead) MODE=overhead; shift ;;
	--subs) SUBS=$2; shift 2 ;;
	--rounds) ROUNDS=$2; shift 2 ;;
	-h | --help) usage; exit 0 ;;
	*) echo "million.sh: unknown flag $1" >&2; usage >&2; exit 2 ;;
	esac
done

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
OUT=${OUT:-$PWD/million-$(date +%Y%m%d-%H%M%S)}
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
BIN=$OUT/bin
API_PORT=$((PORT + 1))
WS_URL=ws://127.0.0.1:$PORT
API_URL=http://127.0.0.1:$API_PORT
CLK_TCK=$(getconf CLK_TCK)

# secs turns a Go-style duration of whole seconds or minutes (30s, 2m) into seconds.
secs() {
	case "$1" in
	*m) echo $((${1%m} * 60)) ;;
	*s) echo "${1%s}" ;;
	*) echo "$1" ;;
	esac
}

log() { printf '%s %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "error: $*"; exit 1; }

for tool in jq curl go bc; do
	command -v "$tool" >/dev/null || die "$tool is needed"
done

# --- processes: every PID started is remembered and stopped on exit ------

SERVER_PID=""
LOADGEN_PID=""

# stop_server sends SIGTERM to the supervisor (it drains every worker),
# waits for it, and kills it and any worker left after the grace time.
stop_server() {
	[[ -n $SERVER_PID ]] || return 0
	local workers pid i
	workers=$(worker_pids "$SERVER_PID" || true)
	kill -TERM "$SERVER_PID" 2>/dev/null || true
	for ((i = 0; i < 150; i++)); do
		kill -0 "$SERVER_PID" 2>/dev/null || break
		sleep 0.2
	done
	kill -KILL "$SERVER_PID" 2>/dev/null || true
	for pid in $workers; do
		kill -KILL "$pid" 2>/dev/null || true
	done
	wait "$SERVER_PID" 2>/dev/null || true
	SERVER_PID=""
}

cleanup() {
	if [[ -n $LOADGEN_PID ]]; then
		kill -TERM "$LOADGEN_PID" 2>/dev/null || true
		sleep 1
		kill -KILL "$LOADGEN_PID" 2>/dev/null || true
	fi
	stop_server
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# worker_pids prints the PIDs of the supervisor's children (the workers).
worker_pids() {
	cat /proc/"$1"/task/*/children 2>/dev/null | tr ' ' '\n' | sed '/^$/d'
}

# --- host -------------------------------------------------------------------

# set_sysctl KEY VALUE writes VALUE when the kernel holds something else,
# and says so.
set_sysctl() {
	local key=$1 want=$2 old
	old=$(sysctl -n "$key" 2>/dev/null | tr '\t' ' ') || { log "sysctl $key: not present, skipped"; return 0; }
	if [[ $old == "$want" ]]; then
		log "sysctl $key = $old (unchanged)"
		return 0
	fi
	if ((TUNE == 0)); then
		log "sysctl $key = $old (want $want; --no-tune: left alone)"
		return 0
	fi
	sysctl -q -w "$key=$want" >/dev/null
	log "sysctl $key: $old -> $(sysctl -n "$key" | tr '\t' ' ') (changed, not restored)"
	echo "$key: $old -> $want" >>"$OUT/sysctl-changes.txt"
}

# raise_sysctl KEY MIN writes MIN when the kernel holds less.
raise_sysctl() {
	local key=$1 min=$2 old
	old=$(sysctl -n "$key" 2>/dev/null) || { log "sysctl $key: not present, skipped"; return 0; }
	if ((old >= min)); then
		log "sysctl $key = $old (>= $min, unchanged)"
		return 0
	fi
	set_sysctl "$key" "$min"
}

# tune_host runs `myriad tune` for both roles (with --apply unless
# --no-tune) and then the settings this script depends on itself.
tune_host() {
	local conns=$1 sources=$2 apply=()
	((TUNE == 1)) && apply=(--apply)
	if ((TUNE == 1)) && [[ $(id -u) != 0 ]]; then
		die "changing sysctls needs root (or pass --no-tune on a host already set up)"
	fi
	log "myriad tune --role server --conns $conns ${apply[*]}"
	"$BIN/myriad" tune --role server --conns "$conns" --port "$PORT" "${apply[@]}" | tee -a "$OUT/tune.txt" | grep -E '^(fail|warn)|^applied|^  .*->|no shortfalls|still short' >&2 || true
	log "myriad tune --role loadgen --conns $conns --sources $sources ${apply[*]}"
	"$BIN/myriad" tune --role loadgen --conns "$conns" --sources "$sources" --port "$PORT" "${apply[@]}" | tee -a "$OUT/tune.txt" | grep -E '^(fail|warn)|^applied|^  .*->|no shortfalls|still short' >&2 || true
	log "(RLIMIT_NOFILE is judged per process: the workers and loadgen processes divide the connections under it)"
	set_sysctl net.ipv4.ip_local_port_range "1024 65535"
	set_sysctl net.ipv4.tcp_tw_reuse 1
	raise_sysctl net.core.somaxconn 65535
	raise_sysctl fs.file-max $((conns * 2 + 200000))
	raise_sysctl fs.nr_open 1048576
	if [[ -e /proc/sys/net/netfilter/nf_conntrack_max ]]; then
		raise_sysctl net.netfilter.nf_conntrack_max $((conns * 2 + 65536))
	else
		log "conntrack not loaded: nothing to raise"
	fi
	# Idle sockets hold no buffers; the minimums must stay one page so a
	# million of them never pin memory under pressure.
	local rmem wmem
	read -r -a rmem <<<"$(sysctl -n net.ipv4.tcp_rmem)"
	read -r -a wmem <<<"$(sysctl -n net.ipv4.tcp_wmem)"
	((rmem[0] <= 4096)) || set_sysctl net.ipv4.tcp_rmem "4096 ${rmem[1]} ${rmem[2]}"
	((wmem[0] <= 4096)) || set_sysctl net.ipv4.tcp_wmem "4096 ${wmem[1]} ${wmem[2]}"
	log "net.ipv4.tcp_mem = $(sysctl -n net.ipv4.tcp_mem | tr '\t' ' ') (pages; see tune.txt)"
	[[ -s $OUT/sysctl-changes.txt ]] && log "changed sysctls are listed in $OUT/sysctl-changes.txt"
	return 0
}

build() {
	if ((BUILD == 0)); then
		[[ -x $BIN/myriad && -x $BIN/myriad-loadgen ]] || die "--no-build but no binaries in $BIN"
		return 0
	fi
	log "building into $BIN"
	(cd "$REPO" && go build -o "$BIN/" ./cmd/myriad ./cmd/myriad-loadgen)
}

# --- measuring ---------------------------------------------------------------

meminfo_kb() { awk -v k="$1:" '$1 == k { print $2 }' /proc/meminfo; }

# cpu_ticks PID... sums utime+stime (fields 14 and 15 of /proc/PID/stat;
# the command name in field 2 may hold spaces, so count from its ')').
cpu_ticks() {
	local pid total=0 t
	for pid in "$@"; do
		t=$(sed 's/^.*) //' /proc/"$pid"/stat 2>/dev/null | awk '{ print $12 + $13 }') || t=0
		total=$((total + ${t:-0}))
	done
	echo "$total"
}

# mem_kb FIELD PID... sums a field of /proc/PID/status (VmRSS, RssAnon).
# Pss, from /proc/PID/smaps_rollup, splits each shared page between the
# processes mapping it: summed over workers of one binary it counts the
# binary's pages once, where VmRSS counts them once per worker.
mem_kb() {
	local field=$1 pid total=0 v file
	shift
	file=status
	[[ $field == Pss ]] && file=smaps_rollup
	for pid in "$@"; do
		v=$(awk -v f="$field:" '$1 == f { print $2 }' /proc/"$pid"/"$file" 2>/dev/null) || v=0
		total=$((total + ${v:-0}))
	done
	echo "$total"
}

rss_kb() { mem_kb VmRSS "$@"; }

# stats_open prints the cluster-wide count of open connections (the
# single process's own count without a cluster).
stats_open() {
	curl -s --max-time 5 "$API_URL/stats" | jq -r '.cluster.totals.open // .open // 0' 2>/dev/null || echo 0
}

# start_server LABEL WORKERS ARGS... starts myriad with --workers WORKERS
# and waits until its API answers and, with workers, until every worker
# the supervisor started answers the cluster-wide /stats as a node.
start_server() {
	local label=$1 workers=$2 i nodes n0 n1
	shift 2
	log "starting: myriad --workers $workers $*"
	"$BIN/myriad" --addr "127.0.0.1:$PORT" --api-addr "127.0.0.1:$API_PORT" --log-level warn \
		--demo=false --drain-timeout 5s --workers "$workers" "$@" >"$OUT/$label-server.log" 2>&1 &
	SERVER_PID=$!
	for ((i = 0; i < 300; i++)); do
		kill -0 "$SERVER_PID" 2>/dev/null || die "myriad exited; see $OUT/$label-server.log"
		n0=$(worker_pids "$SERVER_PID" | wc -l)
		# Workers start one at a time (each listens before the next starts),
		# so count only a complete answer: every worker is told the worker
		# count, and /stats is partial until all of them answered.
		nodes=$(curl -s --max-time 2 "$API_URL/stats" | jq -r 'if .cluster.partial then empty else (.cluster.nodes // 1) end' 2>/dev/null || true)
		n1=$(worker_pids "$SERVER_PID" | wc -l)
		if [[ -n $nodes ]] && { ((workers < 0)) || ((n0 > 0 && n0 == n1 && nodes == n1)); }; then
			log "server up: supervisor/process $SERVER_PID, $n1 workers, $nodes node(s)"
			return 0
		fi
		sleep 0.5
	done
	die "myriad did not come up in 150 s; see $OUT/$label-server.log"
}

# server_pids prints the processes that hold client sockets: the workers,
# or the single process itself.
server_pids() {
	local w
	w=$(worker_pids "$SERVER_PID")
	if [[ -n $w ]]; then echo "$w"; else echo "$SERVER_PID"; fi
}

# broadcast LABEL SUBS runs the broadcast scenario against the running
# server and leaves its report in OUT/LABEL-broadcast.json.
broadcast() {
	local label=$1 subs=$2 extra=()
	read -r -a extra <<<"$LOADGEN_FLAGS"
	log "broadcast to $subs subscribers ($label)"
	"$BIN/myriad-loadgen" broadcast --url "$WS_URL/ws" --api "$API_URL/publish" --topic million \
		--conns "$subs" --procs "$PROCS" --sources auto --rate "$RATE" --settle "$SETTLE" "${extra[@]}" \
		--duration "$PUB_DURATION" --pub-rate "$PUB_RATE" --close-timeout "$STRAGGLE" --quiet \
		--json "$OUT/$label-broadcast.json" >"$OUT/$label-broadcast.txt" 2>"$OUT/$label-broadcast.log" &
	LOADGEN_PID=$!
	wait "$LOADGEN_PID" || log "loadgen broadcast exited non-zero; see $OUT/$label-broadcast.log"
	LOADGEN_PID=""
	[[ -s $OUT/$label-broadcast.json ]] || die "no broadcast report; see $OUT/$label-broadcast.log"
}

# bcast_field FILE JQ prints one figure of a broadcast report.
bcast_field() { jq -r "$2" "$1"; }

# --- main mode -----------------------------------------------------------------

run_million() {
	# SO_REUSEPORT spreads connections by a hash: a worker's count varies
	# by about the square root of its mean. Its bound must sit well above
	# that: 10% over the mean, or six of those deviations where workers
	# are many and hold few connections each.
	local max=$MAX_CONNS
	if [[ -z $max ]]; then
		max=$((CONNS + CONNS / 10))
		if ((WORKERS > 0)); then
			max=$(awk -v n="$CONNS" -v w="$WORKERS" -v m="$max" \
				'BEGIN { s = n + 6 * w * sqrt(n / w); printf "%d", (s > m ? s : m) }')
		fi
	fi
	local hold sources pids i
	hold=$(secs "$HOLD")
	# What tune's loadgen role is told: 29,000 ports per source address (half
	# the range: see loadgen.FastPortsPerPair);
	# the loadgen's --sources auto picks its own.
	sources=$(((CONNS + 28999) / 29000))
	tune_host "$CONNS" "$sources"
	local extra=()
	read -r -a extra <<<"$SERVER_FLAGS"
	start_server million "$WORKERS" --max-conns "$max" "${extra[@]}"
	mapfile -t pids < <(server_pids)
	local pid_flags=()
	for i in "${pids[@]}"; do pid_flags+=(--server-pid "$i"); done

	local slab0 sunr0 rss0 anon0 pss0
	slab0=$(meminfo_kb Slab)
	sunr0=$(meminfo_kb SUnreclaim)
	rss0=$(rss_kb "${pids[@]}")
	anon0=$(mem_kb RssAnon "${pids[@]}")
	pss0=$(mem_kb Pss "${pids[@]}")
	log "before: Slab ${slab0} kB, SUnreclaim ${sunr0} kB, server RSS ${rss0} kB over ${#pids[@]} process(es)"

	log "idle: $CONNS connections at $RATE/s, settle $SETTLE, hold $HOLD"
	local lg_extra=()
	read -r -a lg_extra <<<"$LOADGEN_FLAGS"
	"$BIN/myriad-loadgen" idle --url "$WS_URL/echo" --conns "$CONNS" --procs "$PROCS" --sources auto \
		--rate "$RATE" --settle "$SETTLE" --duration "$HOLD" "${pid_flags[@]}" "${lg_extra[@]}" \
		--json "$OUT/idle.json" >"$OUT/idle.txt" 2>"$OUT/idle.log" &
	LOADGEN_PID=$!
	local t0
	t0=$(date +%s)
	# The load generator's progress (one line a second, not a terminal)
	# names its phase: the hold starts after its connect phase and its
	# settle, and the measured window must lie inside it.
	while ! grep -q ' holding ' "$OUT/idle.log" 2>/dev/null; do
		kill -0 "$LOADGEN_PID" 2>/dev/null || die "the load generator ended before holding; see $OUT/idle.log"
		sleep 0.5
	done
	log "holding: $(stats_open) open on the servers, $(($(date +%s) - t0)) s after the first dial"
	# The measured window sits inside the hold, 5 s short of its end.
	local window=$((hold > 10 ? hold - 5 : hold / 2))
	local c0 c1 w0 w1 sup0 sup1
	c0=$(cpu_ticks "${pids[@]}")
	sup0=$(cpu_ticks "$SERVER_PID")
	w0=$(date +%s.%N)
	sleep "$window"
	c1=$(cpu_ticks "${pids[@]}")
	sup1=$(cpu_ticks "$SERVER_PID")
	w1=$(date +%s.%N)
	local slab1 sunr1 rss1 anon1 pss1 sockets suprss
	slab1=$(meminfo_kb Slab)
	sunr1=$(meminfo_kb SUnreclaim)
	rss1=$(rss_kb "${pids[@]}")
	anon1=$(mem_kb RssAnon "${pids[@]}")
	pss1=$(mem_kb Pss "${pids[@]}")
	suprss=0
	if [[ ${pids[0]} != "$SERVER_PID" ]]; then suprss=$(rss_kb "$SERVER_PID"); fi
	sockets=$(awk '/^TCP:/ { print $3 }' /proc/net/sockstat)
	log "held: Slab ${slab1} kB, SUnreclaim ${sunr1} kB, server RSS ${rss1} kB, TCP sockets in use ${sockets}"
	wait "$LOADGEN_PID" || log "loadgen idle exited non-zero; see $OUT/idle.log"
	LOADGEN_PID=""
	[[ -s $OUT/idle.json ]] || die "no idle report; see $OUT/idle.log"

	# The idle sockets must be gone before the broadcast opens as many again.
	for ((i = 0; i < 120; i++)); do
		(($(stats_open) == 0)) && break
		sleep 1
	done
	broadcast million "$CONNS"
	stop_server

	summarize_million
}

# summarize_million prints the table from the sampled figures (the
# caller's locals) and the two reports.
summarize_million() {
	local idle=$OUT/idle.json bc=$OUT/million-broadcast.json
	local held failed connect_s ups cpu_s elapsed cpu_pct sup_pct rss_per anon_per slab_per
	held=$(jq -r '.counters.conns_open_at_end // 0' "$idle")
	failed=$(jq -r '.counters.conns_failed // 0' "$idle")
	connect_s=$(jq -r '.connect_phase.seconds' "$idle")
	ups=$(jq -r '.connect_phase.upgrades_per_s | floor' "$idle")
	elapsed=$(echo "$w1 - $w0" | bc -l)
	cpu_s=$(echo "($c1 - $c0) / $CLK_TCK" | bc -l)
	cpu_pct=$(printf '%.2f' "$(echo "100 * $cpu_s / $elapsed" | bc -l)")
	sup_pct=$(printf '%.2f' "$(echo "100 * ($sup1 - $sup0) / $CLK_TCK / $elapsed" | bc -l)")
	if ((held > 0)); then
		rss_per=$(((rss1 - rss0) * 1024 / held))
		anon_per=$(((anon1 - anon0) * 1024 / held))
		slab_per=$(((slab1 - slab0) * 1024 / (2 * held)))
	else
		rss_per=n/a
		anon_per=n/a
		slab_per=n/a
	fi
	{
		echo "myriad: $CONNS idle connections, $(jq -r '.procs' "$idle") loadgen processes, ${#pids[@]} server process(es), $(nproc) cores"
		printf '%-44s %s\n' "connections held (loadgen, at end of hold)" "$held"
		printf '%-44s %s\n' "failed upgrades (every attempt)" "$failed $(jq -c '.failures' "$idle")"
		printf '%-44s %s\n' "dropped while held" "$(jq -r '.counters.conns_dropped // 0' "$idle")"
		printf '%-44s %s\n' "time to connect" "$(printf '%.1f' "$connect_s") s (${ups} upgrades/s)"
		printf '%-44s %s\n' "server RSS total (all workers, held)" "$((rss1 / 1024)) MiB (before: $((rss0 / 1024)) MiB)"
		printf '%-44s %s\n' "server PSS total (shared pages counted once)" "$((pss1 / 1024)) MiB (before: $((pss0 / 1024)) MiB)"
		printf '%-44s %s\n' "server private memory (RssAnon) total" "$((anon1 / 1024)) MiB (before: $((anon0 / 1024)) MiB)"
		printf '%-44s %s\n' "server growth per connection: RSS / RssAnon" "$rss_per B / $anon_per B"
		printf '%-44s %s\n' "supervisor + embedded NATS RSS" "$((suprss / 1024)) MiB"
		printf '%-44s %s\n' "kernel Slab before -> held" "$((slab0 / 1024)) -> $((slab1 / 1024)) MiB (SUnreclaim $((sunr0 / 1024)) -> $((sunr1 / 1024)) MiB)"
		printf '%-44s %s\n' "kernel slab growth per socket (2 per conn)" "$slab_per B"
		printf '%-44s %s\n' "server CPU while idle (all workers)" "${cpu_pct}% of one core over $(printf '%.0f' "$elapsed") s"
		printf '%-44s %s\n' "supervisor + embedded NATS CPU while idle" "${sup_pct}% of one core"
		printf '%-44s %s\n' "broadcast subscribers" "$(bcast_field "$bc" '.counters.broadcast_subscribers // 0') of $CONNS"
		printf '%-44s %s\n' "broadcast messages published" "$(bcast_field "$bc" '.counters.broadcast_published // 0')"
		printf '%-44s %s\n' "last subscriber has it: p50 / max" "$(bcast_field "$bc" '.latency.last_subscriber.summary | "\(.p50_us / 1000) ms / \(.max_us / 1000) ms"')"
		printf '%-44s %s\n' "lost / duplicated / out of order" "$(bcast_field "$bc" '.counters | "\(.broadcast_lost // 0) / \(.broadcast_duplicated // 0) / \(.broadcast_out_of_order // 0)"')"
	} | tee "$OUT/summary.txt"
	log "reports, logs and summary in $OUT"
}

# --- cluster overhead ------------------------------------------------------------

run_overhead() {
	local r side
	tune_host "$SUBS" 1
	: >"$OUT/overhead.tsv"
	for ((r = 1; r <= ROUNDS; r++)); do
		for side in single workers4; do
			if [[ $side == single ]]; then
				start_server "r$r-$side" -1
			else
				start_server "r$r-$side" 4 --max-conns $((SUBS + SUBS / 5))
			fi
			broadcast "r$r-$side" "$SUBS"
			stop_server
			jq -r --arg side "$side" --arg r "$r" \
				'[$side, $r, .latency.last_subscriber.summary.p50_us, .latency.last_subscriber.summary.max_us,
				  .counters.broadcast_subscribers // 0, .counters.broadcast_lost // 0,
				  .counters.broadcast_duplicated // 0, .counters.broadcast_out_of_order // 0] | @tsv' \
				"$OUT/r$r-$side-broadcast.json" >>"$OUT/overhead.tsv"
			sleep 2
		done
	done
	summarize_overhead
}

# median reads numbers, one a line, and prints their median.
median() { sort -n | awk '{ v[NR] = $1 } END { if (NR == 0) print "n/a"; else if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

summarize_overhead() {
	local side p50 mx lost dup ooo subs label
	{
		echo "broadcast to $SUBS subscribers on one topic, $ROUNDS interleaved rounds, $PUB_RATE msg/s for $PUB_DURATION"
		printf '%-36s %14s %14s %12s %s\n' "server" "last p50 (ms)" "last max (ms)" "subscribers" "lost/dup/ooo (sum)"
		for side in single workers4; do
			p50=$(awk -v s="$side" '$1 == s { print $3 / 1000 }' "$OUT/overhead.tsv" | median)
			mx=$(awk -v s="$side" '$1 == s { print $4 / 1000 }' "$OUT/overhead.tsv" | median)
			subs=$(awk -v s="$side" '$1 == s { print $5 }' "$OUT/overhead.tsv" | median)
			lost=$(awk -v s="$side" '$1 == s { n += $6 } END { print n + 0 }' "$OUT/overhead.tsv")
			dup=$(awk -v s="$side" '$1 == s { n += $7 } END { print n + 0 }' "$OUT/overhead.tsv")
			ooo=$(awk -v s="$side" '$1 == s { n += $8 } END { print n + 0 }' "$OUT/overhead.tsv")
			if [[ $side == single ]]; then label="1 process, no broker"; else label="--workers 4, embedded NATS"; fi
			printf '%-36s %14s %14s %12s %s\n' "$label" "$p50" "$mx" "$subs" "$lost/$dup/$ooo"
		done
		echo "medians over rounds; per-round figures in overhead.tsv (side, round, p50 us, max us, subscribers, lost, dup, ooo)"
	} | tee "$OUT/summary.txt"
	log "reports, logs and summary in $OUT"
}

build
if [[ $MODE == overhead ]]; then
	run_overhead
else
	run_million
fi
