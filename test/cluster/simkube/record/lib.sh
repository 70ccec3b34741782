# Helpers for the recording scenarios under record/ (sourced by record.sh before a scenario).  A scenario file sets
#   NAMESPACES=(…)      the namespaces it records (created before the tracer starts, exported together)
#   TARGET_KIND TARGET_NS TARGET_NAME TARGET PROBLEM DESCRIPTION HARD   the index entry and its README line
#   POOL                the node pool (JSON, written as NAME.nodepool.json; never Node objects in the trace)
# and defines plan(): the workload plan, a fixed list of kubectl changes with fixed waits (no randomness: the same
# plan records the same objects in the same order; only the timestamps differ between recordings).
# shellcheck shell=bash

# Pods run on SimKube-style virtual nodes (label type=virtual, taint kwok-provider).
REC_PLACEMENT='nodeSelector: {type: virtual}
      tolerations: [{key: kwok-provider, operator: Exists, effect: NoSchedule}]'

# A container: NAME CPU MEM [IMAGE]
rec_container() {
  printf -- '- name: %s\n  image: %s\n  resources: {requests: {cpu: "%s", memory: "%s"}}\n' "$1" "${4:-ghcr.io/example/$1:1.0}" "$2" "$3"
}

# Indent stdin by N spaces.
rec_indent() { sed "s/^/$(printf '%*s' "$1" '')/"; }

# A Deployment or StatefulSet: KIND NS NAME REPLICAS CONTAINERS_YAML [INIT_CONTAINERS_YAML]
rec_workload() {
  local kind="$1" ns="$2" name="$3" replicas="$4" containers="$5" inits="${6:-}" extra=""
  [[ "$kind" == StatefulSet ]] && extra="serviceName: $name"
  kc apply -f - <<YAML
apiVersion: apps/v1
kind: $kind
metadata: {name: $name, namespace: $ns, labels: {app: $name}}
spec:
  $extra
  replicas: $replicas
  selector: {matchLabels: {app: $name}}
  template:
    metadata: {labels: {app: $name}}
    spec:
      $REC_PLACEMENT
$( [[ -n "$inits" ]] && { echo "      initContainers:"; echo "$inits" | rec_indent 8; } )
      containers:
$(echo "$containers" | rec_indent 8)
YAML
}

# A Deployment with one container: NS NAME REPLICAS CPU MEM
rec_deploy() { rec_workload Deployment "$1" "$2" "$3" "$(rec_container "$2" "$4" "$5")"; }

# Scale a workload: KIND NS NAME REPLICAS
rec_scale() { kc -n "$2" scale "$1/$3" --replicas "$4"; }

# An autoscaling/v2 HPA on a Deployment: NS NAME MIN MAX
rec_hpa() {
  kc apply -f - <<YAML
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata: {name: $2, namespace: $1}
spec:
  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: $2}
  minReplicas: $3
  maxReplicas: $4
  metrics:
    - type: Resource
      resource: {name: cpu, target: {type: Utilization, averageUtilization: 60}}
YAML
}

# Wait until a Deployment has N replicas in its spec (an HPA scaling it): NS NAME N
rec_wait_replicas() {
  local i
  for i in $(seq 1 60); do
    [[ "$(kc -n "$1" get deployment "$2" -o jsonpath='{.spec.replicas}')" == "$3" ]] && return 0
    sleep 1
  done
  echo "deployment $1/$2 did not reach $3 replicas" >&2
  return 1
}

# A CronJob every minute whose pods ask CPU MEM: NS NAME CPU MEM
rec_cronjob() {
  kc apply -f - <<YAML
apiVersion: batch/v1
kind: CronJob
metadata: {name: $2, namespace: $1}
spec:
  schedule: "*/1 * * * *"
  concurrencyPolicy: Forbid
  jobTemplate:
    spec:
      template:
        spec:
          restartPolicy: Never
          $(echo "$REC_PLACEMENT" | sed '2s/^ */          /')
          containers:
$(rec_container "$2" "$3" "$4" | rec_indent 12)
YAML
}

# A Job: NS NAME PARALLELISM COMPLETIONS CPU MEM
rec_job() {
  kc apply -f - <<YAML
apiVersion: batch/v1
kind: Job
metadata: {name: $2, namespace: $1}
spec:
  parallelism: $3
  completions: $4
  template:
    spec:
      restartPolicy: Never
      $REC_PLACEMENT
      containers:
$(rec_container "$2" "$5" "$6" | rec_indent 8)
YAML
}

# A DaemonSet: NS NAME CPU MEM
rec_daemonset() {
  kc apply -f - <<YAML
apiVersion: apps/v1
kind: DaemonSet
metadata: {name: $2, namespace: $1, labels: {app: $2}}
spec:
  selector: {matchLabels: {app: $2}}
  template:
    metadata: {labels: {app: $2}}
    spec:
      $REC_PLACEMENT
      containers:
$(rec_container "$2" "$3" "$4" | rec_indent 8)
YAML
}

# Wait until a CronJob has started a Job (it runs at the next minute boundary): NS NAME
rec_wait_cron() {
  local i
  for i in $(seq 1 75); do
    [[ -n "$(kc -n "$1" get cronjob "$2" -o jsonpath='{.status.lastScheduleTime}')" ]] && return 0
    sleep 1
  done
  echo "cronjob $1/$2 did not run within 75 s" >&2
  return 1
}
