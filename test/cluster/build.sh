#!/usr/bin/env bash
# Builds the test control plane binaries from the pins in go.mod/go.sum and kwok/go.mod/go.sum:
#   etcd kube-apiserver kube-controller-manager kube-scheduler kubectl kwok kwokctl
# into ${SIM_ARENA_CACHE_DIR:-~/.cache/sim-arena}/cluster-bin/<key>/, where <key> is a hash of the
# go.mod/go.sum files.  Nothing is rebuilt while the key's stamp exists.
#
#   build.sh              build if needed, print progress and timing on stderr
#   build.sh --print-dir  print the binary folder on stdout (does not build)
#   build.sh --force      rebuild even if the stamp exists
#
# Uses Go's default caches (GOMODCACHE, GOCACHE); go1.24+ (GOTOOLCHAIN=local, no toolchain download).
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

force=0
case "${1:-}" in
  --print-dir) cluster_bin_dir; exit 0 ;;
  --force) force=1 ;;
  "") ;;
  *) die "usage: build.sh [--print-dir|--force]" ;;
esac

key="$(cluster_bin_key)"
out="$CLUSTER_BIN_ROOT/$key"
t0="$(now_s)"

if (( !force )) && cluster_bin_ok "$out"; then
  log "binaries up to date: $out ($(elapsed "$t0"))"
  exit 0
fi

mkdir -p "$CLUSTER_BIN_ROOT"
# One build at a time per machine (parallel CI jobs / two clones starting up at once).
exec 9>"$CLUSTER_BIN_ROOT/.lock"
if ! flock -n 9; then
  log "another build holds $CLUSTER_BIN_ROOT/.lock; waiting"
  flock 9
fi
if (( !force )) && cluster_bin_ok "$out"; then
  log "binaries up to date (built by another process): $out"
  exit 0
fi

command -v go >/dev/null || die "go is not on PATH (need go >= 1.24; the Go module proxy must be reachable for a cold build)"
export GOTOOLCHAIN=local CGO_ENABLED=0
export GOFLAGS="${GOFLAGS:+$GOFLAGS }-mod=readonly -trimpath"
go_version="$(go env GOVERSION)"

k8s_version="$(pinned_version "$CLUSTER_DIR" k8s.io/kubernetes)"
etcd_version="$(pinned_version "$CLUSTER_DIR" go.etcd.io/etcd/server/v3)"
kwok_version="$(pinned_version "$CLUSTER_DIR/kwok" sigs.k8s.io/kwok)"
[[ -n "$k8s_version" && -n "$etcd_version" && -n "$kwok_version" ]] ||
  die "cannot read pinned versions from go.mod files (k8s='$k8s_version' etcd='$etcd_version' kwok='$kwok_version')"

avail_kb="$(df -Pk "$(go env GOCACHE)" 2>/dev/null | awk 'NR == 2 { print $4 }' || echo 0)"
if [[ -n "$avail_kb" ]] && (( avail_kb < 6 * 1024 * 1024 )); then
  log "warning: only $((avail_kb / 1024)) MiB free for the Go caches; a cold build needs about 5 GiB"
fi

log "building kubernetes $k8s_version, etcd $etcd_version, kwok $kwok_version with $go_version into $out"
log "(a cold build takes about 9 min on 2 cores; GOMODCACHE=$(go env GOMODCACHE) GOCACHE=$(go env GOCACHE))"

tmp="$CLUSTER_BIN_ROOT/.tmp-$key-$$"
rm -rf "$tmp"
mkdir -p "$tmp"
trap 'rm -rf "$tmp"' EXIT

# Same -X variables as kubernetes' hack/lib/version.sh, so `--version`, /version and kwokctl's
# version detection see the real release.
[[ "$k8s_version" =~ ^v([0-9]+)\.([0-9]+)\. ]] || die "unexpected kubernetes version $k8s_version"
k8s_major="${BASH_REMATCH[1]}" k8s_minor="${BASH_REMATCH[2]}"
build_date="$(date -u -d "@${SOURCE_DATE_EPOCH:-$(date +%s)}" +%Y-%m-%dT%H:%M:%SZ)"
k8s_ldflags="-s -w"
for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
  k8s_ldflags+=" -X $pkg.gitVersion=$k8s_version -X $pkg.gitMajor=$k8s_major -X $pkg.gitMinor=$k8s_minor"
  k8s_ldflags+=" -X $pkg.gitTreeState=clean -X $pkg.buildDate=$build_date"
done
k8s_ldflags+=" -X go.etcd.io/etcd/api/v3/version.GitSHA=gomod-$etcd_version"

t="$(now_s)"
log "[1/3] go mod download"
(cd "$CLUSTER_DIR" && go mod download) || die "go mod download failed (is the Go module proxy reachable?)"
(cd "$CLUSTER_DIR/kwok" && go mod download) || die "go mod download failed for kwok"
log "[1/3] done in $(elapsed "$t")"

t="$(now_s)"
log "[2/3] go build kube-apiserver kube-controller-manager kube-scheduler kubectl etcd"
(cd "$CLUSTER_DIR" && go build -ldflags "$k8s_ldflags" -o "$tmp/" \
  k8s.io/kubernetes/cmd/kube-apiserver \
  k8s.io/kubernetes/cmd/kube-controller-manager \
  k8s.io/kubernetes/cmd/kube-scheduler \
  k8s.io/kubernetes/cmd/kubectl \
  go.etcd.io/etcd/server/v3) || die "building kubernetes/etcd failed"
# `go build -o dir/` names the etcd main package (go.etcd.io/etcd/server/v3) "server".
mv "$tmp/server" "$tmp/etcd"
log "[2/3] done in $(elapsed "$t")"

t="$(now_s)"
log "[3/3] go build kwok kwokctl"
kwok_ldflags="-s -w -X sigs.k8s.io/kwok/pkg/consts.Version=$kwok_version -X sigs.k8s.io/kwok/pkg/consts.KubeVersion=$k8s_version"
(cd "$CLUSTER_DIR/kwok" && go build -ldflags "$kwok_ldflags" -o "$tmp/" \
  sigs.k8s.io/kwok/cmd/kwok sigs.k8s.io/kwok/cmd/kwokctl) || die "building kwok failed"
log "[3/3] done in $(elapsed "$t")"

for b in "${CLUSTER_BINARIES[@]}"; do
  [[ -x "$tmp/$b" ]] || die "missing binary after build: $b"
done
[[ "$("$tmp/kube-apiserver" --version)" == *"$k8s_version"* ]] || die "kube-apiserver --version does not report $k8s_version"
[[ "$("$tmp/etcd" --version)" == *"${etcd_version#v}"* ]] || die "etcd --version does not report $etcd_version"

{
  echo "key=$key"
  echo "kubernetes=$k8s_version"
  echo "etcd=$etcd_version"
  echo "kwok=$kwok_version"
  echo "go=$go_version"
  echo "built=$(date -u +%Y-%m-%dT%H:%M:%SZ)"
  echo "seconds=$(elapsed "$t0")"
} > "$tmp/.stamp"

rm -rf "$out"
mv "$tmp" "$out"
trap - EXIT
log "built in $(elapsed "$t0"): $out ($(du -sh "$out" | cut -f1))"
