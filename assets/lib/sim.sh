# sim.sh: shared helpers for flightdeck's simulated agents (sourced, POSIX sh).
#
# The simulated agents stand in for coding agents so that a plan can be watched end to
# end offline in about a minute: they print what an agent prints (what it reads, the
# tools it calls, progress) and write real, deterministic data. Needs only a POSIX
# shell, coreutils and awk.
#
# SIM_PACE scales every pause (default 1; 0 = no pauses, e.g. in CI).

SIM_PACE=${SIM_PACE:-1}

if [ -n "${NO_COLOR:-}" ]; then
    C_RESET='' C_BOLD='' C_DIM='' C_RED='' C_GREEN='' C_YELLOW='' C_BLUE='' C_MAGENTA='' C_CYAN=''
else
    C_RESET=$(printf '\033[0m') C_BOLD=$(printf '\033[1m') C_DIM=$(printf '\033[2m')
    C_RED=$(printf '\033[31m') C_GREEN=$(printf '\033[32m') C_YELLOW=$(printf '\033[33m')
    C_BLUE=$(printf '\033[34m') C_MAGENTA=$(printf '\033[35m') C_CYAN=$(printf '\033[36m')
fi

# pause SECONDS: sleep SECONDS x SIM_PACE (fractions allowed).
pause() {
    _d=$(awk -v s="$1" -v p="$SIM_PACE" 'BEGIN { printf "%.2f", s * p }')
    case $_d in 0.00) ;; *) sleep "$_d" ;; esac
}

# banner TITLE [SUBTITLE]: the agent's first lines.
banner() {
    printf '%s%s╭─ %s%s\n' "$C_BOLD" "$C_MAGENTA" "$1" "$C_RESET"
    [ -n "${2:-}" ] && printf '%s│  %s%s\n' "$C_MAGENTA" "$2" "$C_RESET"
    printf '%s╰─ run %s · session %s · attempt %s%s\n' "$C_DIM" \
        "${FLIGHTDECK_RUN_ID:-local}" "${FLIGHTDECK_SESSION:-?}" "${FLIGHTDECK_ATTEMPT:-1}" "$C_RESET"
}

# say TEXT: what the agent thinks.
say() { printf '%s●%s %s\n' "$C_BLUE" "$C_RESET" "$*"; pause 0.4; }

# tool NAME ARG [RESULT]: a tool call and its result, the way agent CLIs show them.
tool() {
    printf '%s⏺ %s%s(%s)\n' "$C_CYAN" "$1" "$C_RESET" "$2"
    pause 0.3
    [ -n "${3:-}" ] && printf '  %s⎿  %s%s\n' "$C_DIM" "$3" "$C_RESET"
    pause 0.2
}

ok()   { printf '%s✔%s %s\n' "$C_GREEN" "$C_RESET" "$*"; }
warn() { printf '%s⚠ %s%s\n' "$C_YELLOW" "$*" "$C_RESET"; }
err()  { printf '%s✘ %s%s\n' "$C_RED" "$*" "$C_RESET" >&2; }

# progress LABEL SECONDS: a progress bar redrawn in place with \r over SECONDS.
progress() {
    _label=$1 _secs=$2 _i=0
    # Fit the terminal: a bar wider than the pane wraps, and \r then redraws on a new line.
    _cols=$(stty size 2>/dev/null </dev/tty | awk '{ print $2 }')
    [ -n "$_cols" ] || _cols=80
    _avail=$((_cols - 9)); [ "$_avail" -lt 12 ] && _avail=12
    _n=20; [ "$_avail" -lt 48 ] && _n=$((_avail / 3))
    _w=$((_avail - _n)); [ "$_w" -gt 28 ] && _w=28
    _label=$(printf '%s' "$_label" | cut -c1-"$_w")
    _step=$(awk -v s="$_secs" -v n="$_n" 'BEGIN { printf "%.3f", s / n }')
    while [ "$_i" -le "$_n" ]; do
        _bar=$(awk -v i="$_i" -v n="$_n" 'BEGIN { for (k = 0; k < n; k++) printf (k < i ? "█" : "░") }')
        printf "\\r  %s%-${_w}s%s %s%s%s %3d%%" "$C_DIM" "$_label" "$C_RESET" "$C_GREEN" "$_bar" "$C_RESET" $((_i * 100 / _n))
        [ "$_i" -lt "$_n" ] && pause "$_step"
        _i=$((_i + 1))
    done
    printf '\n'
}

# wrote FILE: report a written file with its rows (data lines of a CSV) and size.
wrote() {
    _rows=$(awk 'END { print NR - 1 }' "$1")
    _bytes=$(wc -c < "$1" | tr -d ' ')
    case $1 in
        *.csv) ok "wrote $1 ${C_DIM}($_rows rows, $_bytes bytes)${C_RESET}" ;;
        *)     ok "wrote $1 ${C_DIM}($_bytes bytes)${C_RESET}" ;;
    esac
}

# rows FILE: data rows of a CSV (header excluded).
rows() { awk 'END { print NR - 1 }' "$1"; }

# parquet CSV PARQUET: convert with flightdeck's helper (FLIGHTDECK_EXE is set by flightdeck).
parquet() {
    if [ -z "${FLIGHTDECK_EXE:-}" ]; then
        err "FLIGHTDECK_EXE is not set: run this agent through flightdeck"
        return 1
    fi
    "$FLIGHTDECK_EXE" sim csv2parquet "$1" "$2"
}

# finish TEXT: the last line an agent prints.
# It also tells flightdeck the agent finished its turn (idle), as a real agent's hook does.
finish() { printf '\n%s%s✔ %s%s\n' "$C_BOLD" "$C_GREEN" "$*" "$C_RESET"; tell idle "$*"; }

# tell STATE [MESSAGE]: tell flightdeck what this agent is doing (needs-input, working,
# idle), as a real agent's hooks do. Outside flightdeck it does nothing.
tell() {
    [ -n "${FLIGHTDECK_SOCKET:-}" ] && [ -n "${FLIGHTDECK_EXE:-}" ] || return 0
    "$FLIGHTDECK_EXE" notify "$@" 2>/dev/null || true
}

# ask QUESTION SECONDS: ask the user, tell flightdeck the agent needs input, and wait
# up to SECONDS x SIM_PACE for an answer (Enter in the pane); prints the answer.
ask() {
    printf '%s? %s%s [Y/n] ' "$C_YELLOW" "$1" "$C_RESET" >&2
    tell needs-input "$1"
    _secs=$(awk -v s="$2" -v p="$SIM_PACE" 'BEGIN { printf "%d", s * p + 0.5 }')
    _answer=
    if [ "$_secs" -gt 0 ] && [ -t 0 ]; then
        _answer=$(timeout "$_secs" sh -c 'read a && echo "$a"' 2>/dev/null) || true
    fi
    [ -n "$_answer" ] || { _answer=y; printf '(no answer: going ahead)\n' >&2; }
    tell working
    printf '%s\n' "$_answer"
}
