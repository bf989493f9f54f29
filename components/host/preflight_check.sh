#!/bin/sh
# sandbox-fleet host preflight. Runs on the fleet's host (pulumi-command, as `/bin/sh -s` with this
# file on stdin) before anything that depends on the host is created. Read-only and idempotent: it
# only asks the host questions. Every failing check prints one "preflight FAILED:" line saying
# what to do, then the script exits 1 so Pulumi stops the dependents.
#
# Inputs, all from the environment (components/preflight.py sets them):
#   PREFLIGHT_ENGINE                  docker | podman
#   PREFLIGHT_REQUESTED_MEMORY_BYTES  sum of the fleet's memory limits, bytes
#   PREFLIGHT_REQUESTED_MILLICPUS     sum of the fleet's CPU limits, thousandths of a CPU
#   PREFLIGHT_RATIO_MILLI             over-commit ratio, thousandths (1000 = no over-commit)
#   PREFLIGHT_CPU_RATIO_MILLI         the same for CPUs (limits are caps); default: the above
#   PREFLIGHT_TIMEOUT                 seconds allowed for each probe
#   PREFLIGHT_EXPECTED_ADDRESS        optional: the tailnet IPv4 the fleet binds its ports to
#   PREFLIGHT_DAYTONA_URL             optional: a URL of the Daytona server that must answer
#   PREFLIGHT_MEMINFO                 optional: meminfo file to read (tests); default /proc/meminfo
# The capacity arithmetic and wording mirror tests/support/capacity_reference.py exactly (integers only).
set -u

failures=0
capacity_failed=0
nl='
'

fail() { printf 'preflight FAILED: %s\n' "$*" >&2; failures=$((failures + 1)); }
ok() { printf 'preflight ok: %s\n' "$*"; }
first_line() { printf '%s' "${1%%"$nl"*}"; }

need_int() {
  case "$2" in
    '' | *[!0-9]*) printf 'preflight: %s must be a non-negative integer, got "%s"\n' "$1" "$2" >&2
      exit 2 ;;
  esac
}

engine=${PREFLIGHT_ENGINE:-docker}
requested_bytes=${PREFLIGHT_REQUESTED_MEMORY_BYTES:-}
requested_milli=${PREFLIGHT_REQUESTED_MILLICPUS:-}
ratio_milli=${PREFLIGHT_RATIO_MILLI:-1000}
cpu_ratio_milli=${PREFLIGHT_CPU_RATIO_MILLI:-$ratio_milli}
probe_timeout=${PREFLIGHT_TIMEOUT:-10}
expected=${PREFLIGHT_EXPECTED_ADDRESS:-}
daytona=${PREFLIGHT_DAYTONA_URL:-}
meminfo=${PREFLIGHT_MEMINFO:-/proc/meminfo}
need_int PREFLIGHT_REQUESTED_MEMORY_BYTES "$requested_bytes"
need_int PREFLIGHT_REQUESTED_MILLICPUS "$requested_milli"
need_int PREFLIGHT_RATIO_MILLI "$ratio_milli"
need_int PREFLIGHT_CPU_RATIO_MILLI "$cpu_ratio_milli"
need_int PREFLIGHT_TIMEOUT "$probe_timeout"
case "$engine" in
  docker | podman) ;;
  *) printf 'preflight: PREFLIGHT_ENGINE must be docker or podman, got "%s"\n' "$engine" >&2
    exit 2 ;;
esac

with_timeout() {
  if command -v timeout >/dev/null 2>&1; then timeout "$probe_timeout" "$@"; else "$@"; fi
}

user=$(id -un 2>/dev/null || echo "this user")

# 1. The container engine answers.
if ! command -v "$engine" >/dev/null 2>&1; then
  fail "engine: '$engine' is not installed or not on PATH for $user on this host; install it" \
    "or set the stack's host engine to the one the host runs"
elif err=$(with_timeout "$engine" info 2>&1 >/dev/null); then
  ok "engine: '$engine info' answered"
else
  rc=$?
  fail "engine: '$engine info' failed (exit $rc): $(first_line "$err"). Start the engine" \
    "(systemctl start $engine, or systemctl --user start podman.socket for rootless Podman)" \
    "and make sure $user may use it (docker group or rootless Podman)"
fi

# 2. The Daytona server answers (only when the stack enables Daytona).
if [ -n "$daytona" ]; then
  if command -v curl >/dev/null 2>&1; then
    err=$(curl -fsS -o /dev/null --max-time "$probe_timeout" "$daytona" 2>&1)
    rc=$?
  elif command -v wget >/dev/null 2>&1; then
    err=$(wget -q -O /dev/null -T "$probe_timeout" "$daytona" 2>&1)
    rc=$?
  else
    err="neither curl nor wget is installed on the host"
    rc=127
  fi
  if [ "$rc" -eq 0 ]; then
    ok "daytona: $daytona answered"
  else
    fail "daytona: $daytona did not answer (exit $rc): $(first_line "$err"). Start the Daytona" \
      "server or fix daytona settings in the stack"
  fi
fi

# 3. The tailnet is up and this host owns the address the fleet binds to.
if [ -n "$expected" ]; then
  if ! command -v tailscale >/dev/null 2>&1; then
    fail "tailnet: the tailscale CLI is not installed on this host; install Tailscale and join" \
      "the tailnet (tailscale up --auth-key with the stack's host key)"
  elif ips=$(with_timeout tailscale ip -4 2>&1); then
    found=0
    for ip in $ips; do
      if [ "$ip" = "$expected" ]; then found=1; fi
    done
    if [ "$found" -eq 1 ]; then
      ok "tailnet: up, $expected is this host's tailnet address"
    else
      fail "tailnet: the stack binds published ports to $expected but this host's tailnet" \
        "IPv4 is '$(echo $ips)'; set sandbox-fleet:tailnetAddress to it (or sandbox-fleet:tailnetDiscoverAddress: true)"
    fi
  else
    fail "tailnet: 'tailscale ip -4' failed: $(first_line "$ips"). The host is not on the" \
      "tailnet: run 'sudo tailscale up' (see docs/tailnet.md)"
  fi
fi

# 4. Memory and CPUs against the fleet's requests, with the over-commit ratio.
gib() {
  h=$(($1 * 100 / 1073741824))
  printf '%d.%02d GiB' $((h / 100)) $((h % 100))
}
cpus() {
  h=$(($1 / 10))
  printf '%d.%02d CPUs' $((h / 100)) $((h % 100))
}
ratio_of() { printf '%d.%03d' $(($1 / 1000)) $(($1 % 1000)); }
ratio_text=$(ratio_of "$ratio_milli")
over() {  # kind requested available limit ratio
  fail "$1: the fleet requests $2 but the host has $3; over-commit ratio $5" \
    "allows at most $4"
  capacity_failed=1
}

mem_kb=''
if [ -r "$meminfo" ]; then
  while read -r key value _unit; do
    if [ "$key" = "MemTotal:" ]; then mem_kb=$value; break; fi
  done <"$meminfo"
fi
host_cpus=$(nproc 2>/dev/null || getconf _NPROCESSORS_ONLN 2>/dev/null || echo '')
case "$mem_kb" in '' | *[!0-9]*) mem_kb='' ;; esac
case "$host_cpus" in '' | *[!0-9]*) host_cpus='' ;; esac
if [ -z "$mem_kb" ] || [ -z "$host_cpus" ]; then
  fail "capacity: could not read MemTotal from $meminfo or the CPU count (nproc) on this host"
else
  host_bytes=$((mem_kb * 1024))
  host_milli=$((host_cpus * 1000))
  mem_limit=$((host_bytes * ratio_milli / 1000))
  cpu_limit=$((host_milli * cpu_ratio_milli / 1000))
  if [ "$requested_bytes" -gt "$mem_limit" ]; then
    over memory "$(gib "$requested_bytes")" "$(gib "$host_bytes")" "$(gib "$mem_limit")" \
      "$ratio_text"
  fi
  if [ "$requested_milli" -gt "$cpu_limit" ]; then
    over cpu "$(cpus "$requested_milli")" "$(cpus "$host_milli")" "$(cpus "$cpu_limit")" \
      "$(ratio_of "$cpu_ratio_milli")"
  fi
  if [ "$capacity_failed" -eq 0 ]; then
    ok "capacity: fleet requests $(gib "$requested_bytes") and $(cpus "$requested_milli");" \
      "host has $(gib "$host_bytes") and $(cpus "$host_milli"), ratio $ratio_text"
  else
    advice="Remove sandboxes or lower their memory/cpus in sandboxes.yaml, or raise"
    printf '%s %s %s\n' "$advice" "sandbox-fleet:preflightOvercommitRatio (memory) or" \
      "sandbox-fleet:preflightCpuOvercommitRatio (CPUs) in the stack settings." >&2
  fi
fi

if [ "$failures" -gt 0 ]; then
  printf 'preflight: %d check(s) failed on %s; nothing that depends on the host was created\n' \
    "$failures" "$(hostname 2>/dev/null || echo the host)" >&2
  exit 1
fi
echo "preflight: all checks passed"
