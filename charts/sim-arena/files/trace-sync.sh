#!/usr/bin/env bash
# trace-sync, kubectl flavour (chart value traceSync.mode=kubectl): a shell version of `sim-arena trace-sync`
# following the same contract (src/sim/simkube/contract.ts), for clusters without the sim-arena image.
#
# Every RESYNC seconds, for each ConfigMap labelled $SELECTOR in $POD_NAMESPACE:
#   - decode binaryData[$KEY] (or data[$KEY], base64) and write it to $DIR/<name>.sktrace, atomically, mode 0644;
#   - annotate the ConfigMap simarena.io/synced.<node>=<sha256 hex of the bytes> and remove
#     simarena.io/sync-error.<node>; on failure set sync-error.<node> and remove synced.<node>.
# Then delete *.sktrace files whose ConfigMap is gone, and stale temporary files.
# Unlike the Node version this one does not decode the msgpack, so an invalid trace is copied as it is.
set -uo pipefail

DIR="${1:-/host-traces}"
NS="${POD_NAMESPACE:?POD_NAMESPACE must be set}"
NODE="${NODE_NAME:?NODE_NAME must be set}"
SELECTOR="${SIM_ARENA_TRACE_SELECTOR:-simarena.io/trace=true}"
KEY="${SIM_ARENA_TRACE_KEY:-trace.msgpack}"
RESYNC="${SIM_ARENA_RESYNC_SECONDS:-10}"
HEARTBEAT=/tmp/trace-sync.heartbeat
READY=/tmp/trace-sync.ready
INVALID="invalid trace: "

# Annotation name part "<kind>.<node>", at most 63 characters; a long (or odd) node name becomes
# "<kind>.<head>-<first 8 hex of sha256(node)>", exactly like nodeKeyPart() in contract.ts.
node_key_part() {
  local kind="$1" max=$((63 - ${#1} - 1)) clean head hash
  clean="$(printf '%s' "$NODE" | LC_ALL=C sed 's/[^A-Za-z0-9._-]/-/g')"
  if [[ "$clean" == "$NODE" ]] && (( ${#clean} <= max )); then
    printf '%s.%s' "$kind" "$NODE"
    return
  fi
  hash="$(printf '%s' "$NODE" | sha256sum | cut -c1-8)"
  head="$(printf '%s' "${clean:0:max-9}" | LC_ALL=C sed 's/[^A-Za-z0-9]*$//')"
  printf '%s.%s-%s' "$kind" "$head" "$hash"
}
SYNCED="simarena.io/$(node_key_part synced)"
ERRKEY="simarena.io/$(node_key_part sync-error)"

log() { printf '%s trace-sync[%s] %s\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$NODE" "$*" >&2; }

json_string() { # minimal JSON string encoding for our own messages
  local s="${1//\\/\\\\}"
  s="${s//\"/\\\"}"
  printf '"%s"' "$s"
}

# Merge-patch the annotations: report NAME SYNCED_VALUE|- ERROR_MESSAGE|-  ("-" removes the annotation).
report() {
  local name="$1" synced="$2" error="$3" sv ev
  if [[ "$synced" == "-" ]]; then sv=null; else sv="$(json_string "$synced")"; fi
  if [[ "$error" == "-" ]]; then ev=null; else ev="$(json_string "${error:0:1000}")"; fi
  kubectl patch configmap "$name" -n "$NS" --request-timeout=30s --type=merge \
    -p "{\"metadata\":{\"annotations\":{\"$SYNCED\":$sv,\"$ERRKEY\":$ev}}}" >/dev/null
}

# One line per ConfigMap: name|synced value|1 if an error annotation exists|binaryData[KEY]|data[KEY].
# Names, sha256 hex and base64 cannot contain "|".
TEMPLATE='{{range .items}}{{.metadata.name}}|{{with .metadata.annotations}}{{with index . "'"$SYNCED"'"}}{{.}}{{end}}{{end}}|{{with .metadata.annotations}}{{with index . "'"$ERRKEY"'"}}1{{end}}{{end}}|{{with .binaryData}}{{with index . "'"$KEY"'"}}{{.}}{{end}}{{end}}|{{with .data}}{{with index . "'"$KEY"'"}}{{.}}{{end}}{{end}}{{"\n"}}{{end}}'

sync_once() {
  local listing
  if ! listing="$(kubectl get configmaps --request-timeout=30s -n "$NS" -l "$SELECTOR" -o go-template="$TEMPLATE")"; then
    log "listing ConfigMaps failed"
    return 1
  fi
  local -A keep=()
  local name synced has_error bin txt payload tmp final sum ok=0
  while IFS='|' read -r name synced has_error bin txt; do
    [[ "$name" =~ ^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$ ]] || continue
    keep["$name.sktrace"]=1
    final="$DIR/$name.sktrace"
    payload="${bin:-$txt}"
    if [[ -z "$payload" ]]; then
      if [[ -n "$synced" || -z "$has_error" ]]; then
        log "ConfigMap $name has no key $KEY"
        report "$name" - "${INVALID}the ConfigMap has no binaryData key \"$KEY\"" || ok=1
      fi
      continue
    fi
    tmp="$DIR/.$name.sktrace.tmp-$$"
    if ! printf '%s' "$payload" | base64 -d >"$tmp" 2>/dev/null; then
      rm -f "$tmp" "$final"
      if [[ -n "$synced" || -z "$has_error" ]]; then
        log "ConfigMap $name: $KEY is not valid base64"
        report "$name" - "${INVALID}$KEY is not valid base64" || ok=1
      fi
      continue
    fi
    sum="$(sha256sum "$tmp" | cut -d' ' -f1)"
    if [[ -f "$final" ]] && [[ "$(sha256sum "$final" | cut -d' ' -f1)" == "$sum" ]]; then
      rm -f "$tmp"
    elif chmod 0644 "$tmp" && mv -f "$tmp" "$final"; then
      log "wrote $final ($sum)"
    else
      rm -f "$tmp"
      log "writing $final failed"
      report "$name" - "write $final failed" || true
      ok=1
      continue
    fi
    if [[ "$synced" != "$sum" || -n "$has_error" ]]; then
      if report "$name" "$sum" -; then log "annotated $name $SYNCED=$sum"; else log "annotating $name failed"; ok=1; fi
    fi
  done <<<"$listing"
  # Remove traces whose ConfigMap was deleted (or unlabelled), and temporary files of earlier processes.
  local f base
  for f in "$DIR"/*.sktrace "$DIR"/.*.sktrace.tmp-*; do
    [[ -e "$f" ]] || continue
    base="${f##*/}"
    if [[ "$base" == .*.sktrace.tmp-* || -z "${keep[$base]:-}" ]]; then
      rm -f "$f" && log "removed $f"
    fi
  done
  return "$ok"
}

trap 'log "stopping"; exit 0' TERM INT
log "syncing ConfigMaps ($SELECTOR) in $NS to $DIR every ${RESYNC}s as $SYNCED"
while true; do
  if sync_once; then
    touch "$READY"
  fi
  touch "$HEARTBEAT"
  sleep "$RESYNC" &
  wait $!
done
