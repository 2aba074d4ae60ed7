# bench/lib.sh: what bench/run and bench/tls share, sourced after ROOT is set:
# logging, the processes started (by PID, stopped in the EXIT trap), CPU pinning,
# free ports below 32768, the fd limit and the results file in $WORK.
log() { printf '[bench %s] %s\n' "$(date +%T)" "$*" >&2; }

# --- processes: every one we start is recorded by PID and stopped in the trap ---------
WORK=$(mktemp -d /tmp/pollux-bench.XXXXXX)
chmod 755 "$WORK"
declare -A PIDS=()
stop() {   # stop NAME: TERM, then KILL after 5 s, by recorded PID only
    local name=$1 pid=${PIDS[$1]:-} i
    [ -n "$pid" ] || return 0
    unset "PIDS[$name]"
    kill -TERM "$pid" 2>/dev/null || true
    for ((i = 0; i < 50; i++)); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
}
CLEANUP_TREE=""
cleanup() {
    local rc=$? name
    for name in "${!PIDS[@]}"; do stop "$name"; done
    if [ -n "$CLEANUP_TREE" ]; then
        (cd "$ROOT" && git worktree remove --force "$CLEANUP_TREE") 2>/dev/null || true
    fi
    if [ "$rc" -ne 0 ]; then
        log "failed (exit $rc); logs kept in $WORK"
    else
        rm -rf "$WORK"
    fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# --- CPUs: load generator on the first allowed CPU, proxy alone on the second -------
# Prefixes, not functions, so that `"${PROXY_PIN[@]}" cmd &` leaves $! = cmd's PID
# (taskset execs the command).
read -r -a CPUS <<<"$(python3 -c 'import os; print(*sorted(os.sched_getaffinity(0)))')"
if [ "${#CPUS[@]}" -ge 2 ]; then
    LOAD_PIN=(taskset -c "${CPUS[0]}")
    PROXY_PIN=(taskset -c "${CPUS[1]}")
    BACKEND_PIN=(taskset -c "${CPUS[2]:-${CPUS[0]}}")
    PINNING="taskset -c: proxy alone on CPU ${CPUS[1]}; wrk and idle.py on CPU ${CPUS[0]}; nginx on CPU ${CPUS[2]:-${CPUS[0]}}"
else
    log "only one CPU: nothing pinned, figures are indicative only"
    LOAD_PIN=() PROXY_PIN=() BACKEND_PIN=()
    PINNING="none (one CPU)"
fi

# --- ports below 32768 (outside Linux's ephemeral range), probed free --------------
TAKEN=()
STARTUP_ERROR=""
free_port() {
    local p
    p=$(python3 - "${TAKEN[@]}" <<'EOF'
import random, socket, sys
taken = {int(a) for a in sys.argv[1:]}
start = random.randrange(20000, 32768)
for i in range(32768 - 20000):
    p = 20000 + (start - 20000 + i) % (32768 - 20000)
    if p in taken:
        continue
    s = socket.socket()
    try:
        s.bind(("127.0.0.1", p))
    except OSError:
        continue
    finally:
        s.close()
    print(p)
    break
else:
    sys.exit("no free port in 20000-32767")
EOF
)
    TAKEN+=("$p")
    echo "$p"
}
wait_port() {   # wait_port NAME PORT: until it accepts, 10 s at most, while NAME lives
    local name=$1 port=$2 i
    for ((i = 0; i < 100; i++)); do
        if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then return 0; fi
        if ! kill -0 "${PIDS[$name]}" 2>/dev/null; then
            local rc=0
            wait "${PIDS[$name]}" || rc=$?
            STARTUP_ERROR="exited with status $rc before listening on $port; last output: $(tail -n 1 "$WORK/$name.log")"
            log "$name $STARTUP_ERROR"; tail -n 20 "$WORK/$name.log" >&2
            return 1
        fi
        sleep 0.1
    done
    STARTUP_ERROR="not listening on $port after 10 s"
    log "$name $STARTUP_ERROR:"; tail -n 20 "$WORK/$name.log" >&2
    return 1
}

# --- file descriptors: every child inherits the hard limit ---------------------------
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
NOFILE=$(ulimit -n)

LOADAVG_START=$(cut -d' ' -f1-3 /proc/loadavg)
RESULTS="$WORK/results"
put() { echo "$*" >>"$RESULTS"; }
: >"$RESULTS"

cpu_ticks() {   # utime+stime of PID, in clock ticks
    [ -n "${1:-}" ] || { echo 0; return; }
    awk '{print $14 + $15}' "/proc/$1/stat"
}
meta_common() {   # the machine and run lines every report starts with
    echo "meta.date $(date -u '+%Y-%m-%d %H:%M UTC')"
    echo "meta.args $ARGS"
    echo "meta.nproc $(nproc)"
    echo "meta.cpu $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)"
    echo "meta.kernel $(uname -r)"
    echo "meta.loadavg $LOADAVG_START"
    echo "meta.os $(sed -n 's/^PRETTY_NAME="\{0,1\}\([^"]*\)"\{0,1\}$/\1/p' /etc/os-release)"
    echo "meta.pinning $PINNING"
    echo "meta.haproxy $(haproxy -v | head -n 1 | cut -d' ' -f1-3)"
}
start_backend() {   # nginx serving small.html (1 KiB) and big.bin (100 MiB) from $WORK/www; sets BACK_PORT
    mkdir -p "$WORK/www" "$WORK/tmp"
    head -c 1024 /dev/zero | tr '\0' x >"$WORK/www/small.html"
    truncate -s 100M "$WORK/www/big.bin"
    BACK_PORT=$(free_port)
    USER_LINE=""
    [ "$(id -u)" -eq 0 ] && USER_LINE="user root;"
    sed -e "s|@DIR@|$WORK|g" -e "s|@PORT@|$BACK_PORT|g" -e "s|@USER@|$USER_LINE|" \
        -e "s|@NOFILE@|$NOFILE|" -e "s|@WORKER_CONNECTIONS@|$((NOFILE - 100))|" \
        "$BENCH/nginx.conf.in" >"$WORK/nginx.conf"
    "${BACKEND_PIN[@]}" nginx -p "$WORK" -e "$WORK/nginx-error.log" -c "$WORK/nginx.conf" \
        >"$WORK/nginx.log" 2>&1 &
    PIDS[nginx]=$!
    wait_port nginx "$BACK_PORT"
    log "nginx (pid ${PIDS[nginx]}) on 127.0.0.1:$BACK_PORT"
}
wrk_mib_per_sec() {   # wrk's output on stdin -> its Transfer/sec in MiB/s
    awk '/^Transfer\/sec:/ {
        v = $2; u = v; sub(/[0-9.]+/, "", u); sub(/[A-Za-z]+$/, "", v)
        m = (u == "GB") ? 1024 : (u == "MB") ? 1 : (u == "KB") ? 1 / 1024 : (u == "TB") ? 1048576 : 1 / 1048576
        printf "%.1f", v * m }'
}
cpu_ns() {   # time on CPU of PID's threads, kernel included, in ns (schedstat: finer than ticks)
    cat /proc/"$1"/task/*/schedstat 2>/dev/null | awk '{ s += $1 } END { printf "%.0f", s }'
}
