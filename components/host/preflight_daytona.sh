# sandbox-fleet host preflight, the part for a stack that runs Daytona's own server. The fleet
# inserts it into preflight_check.sh before that script's verdict (components/host/preflight.py:
# preflight_script), so it uses that script's helpers (fail, ok, need_int, with_timeout, gib) and
# its counters. Inputs, from the environment:
#   PREFLIGHT_DAYTONA_SERVER_DISK_BYTES  free disk the runner needs where the engine keeps data
#   PREFLIGHT_PROC, PREFLIGHT_SYS        optional: /proc and /sys to read (tests)
warn() { printf 'preflight WARNING: %s\n' "$*"; }

# 5. Daytona's own server. Its runner is a Docker engine inside a privileged container: it
#    needs disk, cgroups and packet filtering from this host's kernel.
server_disk=${PREFLIGHT_DAYTONA_SERVER_DISK_BYTES:-}
proc=${PREFLIGHT_PROC:-/proc}
sys=${PREFLIGHT_SYS:-/sys}
need_int PREFLIGHT_DAYTONA_SERVER_DISK_BYTES "$server_disk"
ok "daytona server: its runner runs privileged (a Docker engine of its own for the" \
  "sandboxes): the fleet's one privileged container, see docs/daytona.md"
if [ "$engine" = podman ]; then
  root_dir=$(with_timeout podman info --format '{{.Store.GraphRoot}}' 2>/dev/null)
  rootless=$(with_timeout podman info --format '{{.Host.Security.Rootless}}' 2>/dev/null)
else
  root_dir=$(with_timeout docker info --format '{{.DockerRootDir}}' 2>/dev/null)
  rootless=$(with_timeout docker info --format '{{.SecurityOptions}}' 2>/dev/null)
fi
case "$rootless" in
  *rootless* | true) warn "daytona server: the $engine engine runs rootless; the runner's" \
    "privileged engine then holds only $user's privileges and its sandboxes may not start." \
    "A rootful engine is the tested path (docs/daytona.md)" ;;
esac
[ -d "${root_dir:-}" ] || root_dir=/
free_kb=$(df -Pk "$root_dir" 2>/dev/null | awk 'NR == 2 { print $4 }')
case "$free_kb" in
  '' | *[!0-9]*) fail "daytona server: could not read the free disk at $root_dir (df -Pk)" ;;
  *) if [ "$((free_kb * 1024))" -lt "$server_disk" ]; then
      fail "daytona server: $(gib "$((free_kb * 1024))") free at $root_dir (the engine's" \
        "data), its runner needs $(gib "$server_disk"): free disk there or lower" \
        "sandbox-fleet:daytonaServerDisk"
    else
      ok "daytona server: $(gib "$((free_kb * 1024))") free at $root_dir"
    fi ;;
esac
if [ -f "$sys/fs/cgroup/cgroup.controllers" ]; then
  controllers=" $(cat "$sys/fs/cgroup/cgroup.controllers") "
  for c in cpu memory pids; do
    case "$controllers" in
      *" $c "*) ;;
      *) fail "daytona server: the cgroup v2 controller '$c' is not enabled on this host;" \
        "the runner's engine limits its sandboxes with it" ;;
    esac
  done
elif [ ! -d "$sys/fs/cgroup/memory" ]; then
  fail "daytona server: no cgroups under $sys/fs/cgroup; the runner's engine needs them"
fi
if [ -e "$proc/net/ip_tables_names" ] || [ -d "$sys/module/nf_tables" ]; then
  ok "daytona server: packet filtering (iptables or nftables) is loaded"
else
  fail "daytona server: neither iptables nor nftables is loaded in this host's kernel" \
    "(modprobe ip_tables or nf_tables); the runner's engine networks its sandboxes with it"
fi
if ! grep -qw overlay "$proc/filesystems" 2>/dev/null; then
  warn "daytona server: the kernel has no overlay filesystem loaded (modprobe overlay):" \
    "the runner's engine falls back to copying every image layer, slow and disk-hungry"
fi
