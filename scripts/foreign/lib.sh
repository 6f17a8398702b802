# What every launcher of scripts/foreign/ shares; sourced, never run.

# stop_group STATE_DIR: ends the process group whose leader's pid is in STATE_DIR/pid (each
# launcher starts its server under setsid), TERM first, KILL after 5 s; then forgets the pid,
# so that a later stop never signals a pid the system gave to something else.
stop_group() {
    local state=${1:?STATE_DIR} pid
    [[ -f $state/pid ]] || return 0
    pid=$(cat "$state/pid")
    kill -TERM -- "-$pid" 2> /dev/null || kill -TERM "$pid" 2> /dev/null || true
    for _ in $(seq 1 50); do
        kill -0 -- "-$pid" 2> /dev/null || break
        sleep 0.1
    done
    kill -KILL -- "-$pid" 2> /dev/null || true
    rm -f "$state/pid"
}
