# Shared shell helpers of scripts/up, scripts/test and scripts/bench.
# shellcheck shell=bash

CRM_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
CRM_PACKAGES=(
  libgrpc++-dev protobuf-compiler-grpc libprotobuf-dev protobuf-compiler
  libabsl-dev libpqxx-dev prometheus-cpp-dev catch2 libssl-dev zlib1g-dev
  nlohmann-json3-dev libgoogle-perftools-dev libgmime-3.0-dev
  libcurl4-openssl-dev libcpp-httplib-dev libkainjow-mustache-dev python3-aiosmtpd libgsl-dev
  python3 python3-grpcio python3-protobuf grpc-proto
  postgresql-15 postgresql-client-15
  pkg-config cmake ninja-build ccache g++ gzip
)

crm_log() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }
crm_die() { printf 'error: %s\n' "$*" >&2; exit 1; }

# Runs a command as root: directly when we are root, else through sudo.
crm_as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

# Installs the Debian packages that are missing; does nothing when all are
# present, so a second run costs a second.
crm_install_deps() {
  local missing=() p
  for p in "${CRM_PACKAGES[@]}" "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  # Node.js (for buf and the manifest validator) may come from elsewhere than
  # Debian; ask for Debian's packages only when the commands are missing.
  command -v node >/dev/null 2>&1 || missing+=(nodejs)
  command -v npm >/dev/null 2>&1 || missing+=(npm)
  if [ "${#missing[@]}" -eq 0 ]; then return 0; fi
  crm_log "installing: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  local i
  for i in $(seq 30); do crm_as_root apt-get update -qq && break; sleep 3; done
  crm_as_root apt-get install -y -qq --no-install-recommends --no-upgrade \
    -o DPkg::Lock::Timeout=600 "${missing[@]}" >/dev/null
}

crm_jobs() { echo "${CRM_JOBS:-2}"; }

# crm_build <Debug|Release> <build dir>
crm_build() {
  local type="$1" dir="$2"
  export CCACHE_BASEDIR="$CRM_ROOT" CCACHE_NOHASHDIR=true
  export CCACHE_DIR="${CCACHE_DIR:-$HOME/.cache/ccache}"
  # Release serves scripts/up and scripts/bench, which run no test binary:
  # building them there only slowed a first ./scripts/up.
  local tests=ON
  [ "$type" = Release ] && tests=OFF
  if [ ! -f "$dir/build.ninja" ] || ! grep -q "^CRM_BUILD_TESTS:BOOL=$tests\$" "$dir/CMakeCache.txt"; then
    cmake -S "$CRM_ROOT" -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE="$type" -DCRM_BUILD_TESTS="$tests" \
      >/dev/null
  fi
  crm_log "building ($type) in ${dir#"$CRM_ROOT"/}"
  cmake --build "$dir" -j "$(crm_jobs)"
}

crm_pg_bin() { ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n1; }

# Runs a Postgres server program as the right user: as root the server must
# run as 'postgres'.
crm_pg_run() {
  if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

# crm_pg_start <base dir> <port> <durable: yes|no>
# Creates the cluster on first use; the socket lives in <base dir>/run.
crm_pg_start() {
  local base="$1" port="$2" durable="$3" bin
  bin="$(crm_pg_bin)"
  mkdir -p "$base/run"
  if [ "$(id -u)" -eq 0 ]; then chown -R postgres: "$base"; fi
  if [ ! -f "$base/data/PG_VERSION" ]; then
    crm_pg_run "$bin/initdb" -D "$base/data" -U postgres --auth-local=trust \
      --auth-host=scram-sha-256 -E UTF8 --locale=C.UTF-8 >/dev/null
  fi
  local opts="-p $port -k $base/run -c listen_addresses=127.0.0.1 -c max_connections=200"
  # A working set of a million customers fits (the default 128MB does not);
  # CRM_PG_SHARED_BUFFERS overrides it on small machines.
  opts="$opts -c shared_buffers=${CRM_PG_SHARED_BUFFERS:-1GB}"
  # Writes spread over a million customers touch a new page each: compressed
  # full-page images and fewer checkpoints keep the WAL from dominating.
  opts="$opts -c wal_compression=lz4 -c max_wal_size=8GB -c checkpoint_timeout=15min"
  if [ "$durable" = no ]; then
    opts="$opts -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
  fi
  opts="$opts ${CRM_PG_EXTRA_OPTS:-}"
  if crm_pg_run "$bin/pg_ctl" -D "$base/data" status >/dev/null 2>&1; then
    return 0
  fi
  crm_pg_run "$bin/pg_ctl" -D "$base/data" -l "$base/server.log" -w -t 60 -o "$opts" start \
    >/dev/null || { cat "$base/server.log" >&2; crm_die "postgres did not start"; }
}

crm_pg_stop() {
  local base="$1" bin
  bin="$(crm_pg_bin)"
  [ -f "$base/data/PG_VERSION" ] || return 0
  crm_pg_run "$bin/pg_ctl" -D "$base/data" -m fast -w stop >/dev/null 2>&1 || true
}

# crm_psql <base dir> <port> [psql args...] — as the superuser, over the socket.
crm_psql() {
  local base="$1" port="$2"
  shift 2
  PGOPTIONS="-c client_min_messages=warning" \
    psql -X -q -v ON_ERROR_STOP=1 -h "$base/run" -p "$port" -U postgres "$@"
}

# Picks a free TCP port on 127.0.0.1 starting at $1.
crm_free_port() {
  local p="$1"
  while (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; do p=$((p + 1)); done
  echo "$p"
}

# Pinned Node tools (buf, manifest validation) in an ignored folder.
CRM_NODE_TOOLS=("@bufbuild/buf@1.75.0" "kubernetes-models@4.5.1" "yaml@2.6.1")
crm_node_tools() {
  local dir="$CRM_ROOT/.cache/node" stamp
  stamp="$(printf '%s\n' "${CRM_NODE_TOOLS[@]}")"
  if [ -f "$dir/.stamp" ] && [ "$(cat "$dir/.stamp")" = "$stamp" ]; then return 0; fi
  crm_log "installing node tools: ${CRM_NODE_TOOLS[*]}"
  mkdir -p "$dir"
  # Installed from inside the folder (not with --prefix, which would also
  # move npm's global config and lose a machine-wide cafile or registry).
  printf '{"name": "crm-tools", "private": true}\n' > "$dir/package.json"
  (cd "$dir" && npm install --no-audit --no-fund --silent --no-save "${CRM_NODE_TOOLS[@]}" >/dev/null)
  printf '%s' "$stamp" > "$dir/.stamp"
}

# --- the service table (deploy/services.tsv) ---------------------------------
CRM_SERVICE_TABLE="$CRM_ROOT/deploy/services.tsv"
# Rows without comments: name grpc_port metrics_port schema routes extensions
crm_services() { grep -v '^[[:space:]]*#' "$CRM_SERVICE_TABLE" | awk 'NF'; }
crm_service_names() { crm_services | awk '{print $1}'; }
# Services behind the gateway (those with routes), in table order.
crm_backends() { crm_services | awk '$5 != "-" {print $1}'; }
# crm_service_col <name> <column number>
crm_service_col() { crm_services | awk -v n="$1" -v c="$2" '$1 == n {print $c}'; }
# The effective ports: CRM_<NAME>_PORT / CRM_<NAME>_METRICS_PORT, else the table's.
crm_port() { local v="CRM_${1^^}_PORT"; echo "${!v:-$(crm_service_col "$1" 2)}"; }
crm_metrics_port() { local v="CRM_${1^^}_METRICS_PORT"; echo "${!v:-$(crm_service_col "$1" 3)}"; }
# crm_gateway_routes <address template>: "pkg=address,..." for every routed
# package; {name} and {port} in the template become the service's name and
# effective gRPC port, e.g. '127.0.0.1:{port}' or 'dns:///{name}:8080'.
crm_gateway_routes() {
  local svc pkg addr out=""
  for svc in $(crm_backends); do
    addr="${1//\{name\}/$svc}"
    addr="${addr//\{port\}/$(crm_port "$svc")}"
    for pkg in $(crm_service_col "$svc" 5 | tr ',' ' '); do
      out="${out:+$out,}$pkg=$addr"
    done
  done
  echo "$out"
}
# crm_service_directory <address template>: "name=address,..." for every
# service behind the gateway, what each backend gets as --services (the
# services it may call); the template as for crm_gateway_routes.
crm_service_directory() {
  local svc addr out=""
  for svc in $(crm_backends); do
    addr="${1//\{name\}/$svc}"
    addr="${addr//\{port\}/$(crm_port "$svc")}"
    out="${out:+$out,}$svc=$addr"
  done
  echo "$out"
}
# crm_service_database <pg base> <port> <database> <service>: the service's
# role, schema and extensions (scripts/lib/service_database.sql).
crm_service_database() {
  crm_psql "$1" "$2" -d "$3" -v svc="$4" -v schema="$(crm_service_col "$4" 4)" \
    -v extensions="$(crm_service_col "$4" 6)" \
    -f "$CRM_ROOT/scripts/lib/service_database.sql" >/dev/null
}
