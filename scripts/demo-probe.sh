#!/usr/bin/env bash
# Live-probe demo: start nginx on 127.0.0.1 with fixtures/probe/nginx.conf (PKI minted into a
# temporary folder), run `mtlslint probe` against its four servers, stop nginx by its pid.
#
#   scripts/demo-probe.sh                 the demo (text report); extra arguments go to mtlslint
#   scripts/demo-probe.sh --format json   the same, as JSON
#   scripts/demo-probe.sh --bench 50      time a full probe of 1 target, then of 50 at once
#
# Needs nginx (Debian: nginx-light) and the project's virtualenv (make demo-probe creates it).
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-.venv/bin/python}
MTLSLINT=${MTLSLINT:-.venv/bin/mtlslint}
NGINX=${NGINX:-$(command -v nginx || echo /usr/sbin/nginx)}
[ -x "$NGINX" ] || { echo "demo-probe: nginx not found (apt-get install nginx-light)" >&2; exit 2; }

bench=0
if [ "${1:-}" = "--bench" ]; then bench=${2:?--bench N}; shift 2; fi

work=$(mktemp -d "${TMPDIR:-/tmp}/mtlslint-demo-probe.XXXXXX")
pid=""
cleanup() {
    if [ -n "$pid" ]; then kill -TERM "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi
    rm -rf "$work"
}
trap cleanup EXIT

"$PYTHON" scripts/probe_demo_setup.py "$work" --many "$bench" >"$work/targets"
"$NGINX" -p "$work/" -c nginx.conf -e stderr 2>"$work/nginx.log" &
pid=$!

# Wait (at most 5 s) until every port accepts connections.
for port in $(awk '{split($2, a, ":"); print a[2]}' "$work/targets"); do
    for _ in $(seq 50); do
        if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then continue 2; fi
        kill -0 "$pid" 2>/dev/null || { cat "$work/nginx.log" >&2; exit 2; }
        sleep 0.1
    done
    echo "demo-probe: nginx is not listening on $port" >&2; cat "$work/nginx.log" >&2; exit 2
done

pki="$work/pki"
material=(--ca "$pki/ca.pem" --cert "$pki/client.pem" --key "$pki/client.key"
          --ca-key "$pki/ca.key" --revoked-cert "$pki/revoked.pem" --revoked-key "$pki/revoked.key")

status=0
if [ "$bench" -gt 0 ]; then
    mapfile -t targets < <(awk '$1 == "bench" {print $2}' "$work/targets")
    seconds() { local start=$EPOCHREALTIME; "$@" --format json --output /dev/null || true; \
                awk -v s="$start" -v e="$EPOCHREALTIME" 'BEGIN {printf "%.2f", e - s}'; }
    one=$(seconds "$MTLSLINT" probe "${targets[0]}" "${material[@]}")
    all=$(seconds "$MTLSLINT" probe "${targets[@]}" "${material[@]}" "$@")
    echo "full probe of 1 target: ${one} s; of ${#targets[@]} targets at once: ${all} s" \
         "(wall clock, process start included)"
else
    mapfile -t targets < <(awk '{print $2}' "$work/targets")
    echo "nginx (pid $pid) serves: $(awk '{printf "%s=%s  ", $1, $2}' "$work/targets")" >&2
    "$MTLSLINT" probe "${targets[@]}" "${material[@]}" "$@" || status=$?
    # 1 = findings at or above --fail-on, which the demo servers are built to show.
    if [ "$status" -le 1 ]; then status=0; fi
fi
exit "$status"
