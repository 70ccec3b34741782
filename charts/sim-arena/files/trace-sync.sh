#!/usr/bin/env bash
# trace-sync, kubectl flavour (chart value traceSync.mode=kubectl).
#
# Every RESYNC seconds: copy each ConfigMap labelled $SELECTOR in $POD_NAMESPACE to $DIR/<name>.sktrace
# (decoding binaryData[$KEY], or data[$KEY] as base64), atomically and with mode 0644; then annotate the ConfigMap
# with simarena.io/synced-<node>=<sha256 of the file>; finally delete *.sktrace files whose ConfigMap is gone.
# Same contract as `sim-arena trace-sync`.
set -uo pipefail

DIR="${1:-/host-traces}"
NS="${POD_NAMESPACE:?POD_NAMESPACE must be set}"
NODE="${NODE_NAME:?NODE_NAME must be set}"
SELECTOR="${SIM_ARENA_TRACE_SELECTOR:-simarena.io/trace=true}"
KEY="${SIM_ARENA_TRACE_KEY:-trace.msgpack}"
RESYNC="${SIM_ARENA_RESYNC_SECONDS:-10}"
HEARTBEAT=/tmp/trace-sync.heartbeat
READY=/tmp/trace-sync.ready

# Annotation name part: at most 63 characters, otherwise a digest of the node name.
ann_name="synced-$NODE"
if (( ${#ann_name} > 63 )); then
  ann_name="synced-$(printf '%s' "$NODE" | sha256sum | cut -c1-56)"
fi
ANN="simarena.io/$ann_name"

log() { printf '%s trace-sync[%s] %s\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$NODE" "$*" >&2; }

# One line per ConfigMap: name|annotation|binaryData[KEY]|data[KEY]. None of the fields can contain "|".
TEMPLATE='{{range .items}}{{.metadata.name}}|{{with .metadata.annotations}}{{with index . "'"$ANN"'"}}{{.}}{{end}}{{end}}|{{with .binaryData}}{{with index . "'"$KEY"'"}}{{.}}{{end}}{{end}}|{{with .data}}{{with index . "'"$KEY"'"}}{{.}}{{end}}{{end}}{{"\n"}}{{end}}'

sync_once() {
  local listing
  if ! listing="$(kubectl get configmaps --request-timeout=30s -n "$NS" -l "$SELECTOR" -o go-template="$TEMPLATE")"; then
    log "listing ConfigMaps failed"
    return 1
  fi
  local -A keep=()
  local name synced bin txt tmp sum ok=0
  while IFS='|' read -r name synced bin txt; do
    [[ -n "$name" ]] || continue
    keep["$name.sktrace"]=1
    local payload="${bin:-$txt}"
    if [[ -z "$payload" ]]; then
      log "ConfigMap $name has no key $KEY; skipped"
      continue
    fi
    tmp="$DIR/.$name.sktrace.tmp"
    if ! printf '%s' "$payload" | base64 -d >"$tmp" 2>/dev/null; then
      log "ConfigMap $name: $KEY is not valid base64; skipped"
      rm -f "$tmp"
      ok=1
      continue
    fi
    sum="$(sha256sum "$tmp" | cut -d' ' -f1)"
    if [[ -f "$DIR/$name.sktrace" ]] && [[ "$(sha256sum "$DIR/$name.sktrace" | cut -d' ' -f1)" == "$sum" ]]; then
      rm -f "$tmp"
    else
      chmod 0644 "$tmp" && mv -f "$tmp" "$DIR/$name.sktrace" || { log "writing $DIR/$name.sktrace failed"; rm -f "$tmp"; ok=1; continue; }
      log "wrote $DIR/$name.sktrace ($sum)"
    fi
    if [[ "$synced" != "$sum" ]]; then
      if kubectl annotate configmap --request-timeout=30s "$name" -n "$NS" --overwrite "$ANN=$sum" >/dev/null; then
        log "annotated $name $ANN=$sum"
      else
        log "annotating $name failed"
        ok=1
      fi
    fi
  done <<<"$listing"
  # Remove traces whose ConfigMap was deleted (or unlabelled), and stale temporary files.
  local f base
  for f in "$DIR"/*.sktrace "$DIR"/.*.sktrace.tmp; do
    [[ -e "$f" ]] || continue
    base="${f##*/}"
    if [[ "$base" == .*.tmp || -z "${keep[$base]:-}" ]]; then
      rm -f "$f" && log "removed $f"
    fi
  done
  return "$ok"
}

trap 'log "stopping"; exit 0' TERM INT
log "syncing ConfigMaps ($SELECTOR) in $NS to $DIR every ${RESYNC}s as $ANN"
while true; do
  if sync_once; then
    touch "$READY"
  fi
  touch "$HEARTBEAT"
  sleep "$RESYNC" &
  wait $!
done
