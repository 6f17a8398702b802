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

# venv_install VENV REQUIREMENTS: a Python virtual environment at VENV with exactly the hashed
# pins of REQUIREMENTS (pip --require-hashes --no-deps); nothing is done when the venv was made
# from the same file (a stamp of its SHA-256 in the venv).
venv_install() {
    local venv=${1:?VENV} lock=${2:?REQUIREMENTS} want python=${PYTHON:-python3}
    want=$(sha256sum "$lock" | cut -d' ' -f1)
    if [[ -f $venv/.installed && $(cat "$venv/.installed") == "$want" ]]; then
        return 0
    fi
    rm -rf "$venv"
    "$python" -m venv "$venv"
    "$venv/bin/pip" install --quiet --disable-pip-version-check --no-deps --require-hashes -r "$lock"
    echo "$want" > "$venv/.installed"
}

# launch STATE_DIR COMMAND...: starts COMMAND as the leader of its own process group (setsid,
# so that stop_group ends all of it), its output in STATE_DIR/server.log, its pid in
# STATE_DIR/pid.
launch() {
    local state=${1:?STATE_DIR}
    shift
    mkdir -p "$state"
    setsid "$@" >> "$state/server.log" 2>&1 < /dev/null &
    echo $! > "$state/pid"
}

# await_url NAME STATE_DIR URL PATH: waits (20 s at most) until URL+PATH answers, then prints
# URL; if the server exits or never answers, shows its log, stops it and fails.
await_url() {
    local name=${1:?NAME} state=${2:?STATE_DIR} url=${3:?URL} path=${4:?PATH}
    for _ in $(seq 1 200); do
        if curl -fsS --max-time 1 -o /dev/null "$url$path" 2> /dev/null; then
            echo "$url"
            return 0
        fi
        kill -0 "$(cat "$state/pid")" 2> /dev/null || break
        sleep 0.1
    done
    cat "$state/server.log" >&2
    stop_group "$state"
    echo "$name did not answer on $url$path" >&2
    return 1
}

# dispatch SUBCOMMAND ARGS...: runs the launcher's own install, start, stop or version.
dispatch() {
    local cmd=${1:-}
    shift || true
    case $cmd in
        install | start | stop | version) "$cmd" "$@" ;;
        *) echo "usage: $0 install | start PORT STATE_DIR [CONFIG] | stop STATE_DIR | version" >&2; exit 2 ;;
    esac
}

# state_dir STATE_DIR: makes STATE_DIR, refuses one whose server is still running, and prints
# its absolute path (servers change their working directory).
state_dir() {
    local state=${1:?STATE_DIR}
    mkdir -p "$state"
    state=$(cd "$state" && pwd)
    if [[ -f $state/pid ]] && kill -0 "$(cat "$state/pid")" 2> /dev/null; then
        echo "$0: already running in $state (pid $(cat "$state/pid")); stop it first" >&2
        return 1
    fi
    echo "$state"
}
