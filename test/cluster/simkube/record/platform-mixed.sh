# A small platform: a storefront Deployment (init container, native sidecar, HPA 3 → 6 → 5), a StatefulSet
# database, a CronJob and a DaemonSet, in four namespaces on 3 nodes of 8 CPU.
NAMESPACES=(rec-store rec-db rec-jobs rec-agents)
TARGET_NS=rec-store TARGET_NAME=storefront TARGET=4 PROBLEM=composite
POOL='{"count": 3, "cpu": "8", "memory": "16Gi", "pods": 110}'
DESCRIPTION="storefront (HPA 3 → 6 → 5) × (init 1 CPU, app 2500m / 1Gi, native sidecar 500m / 512Mi) beside StatefulSet pg, CronJob, DaemonSet, on 3 × 8 CPU / 16Gi; target 4"
HARD="everything at once: HPA history, an init container and a native sidecar in the effective request, and a DaemonSet, a database and a CronJob taking room; too many replicas and too much CPU"
storefront() {
  rec_workload Deployment rec-store storefront 3 \
    "$(rec_container storefront 2500m 1Gi)" \
    "$(rec_container assets 1 256Mi; rec_container proxy 500m 512Mi; echo '  restartPolicy: Always')"
}
plan() {
  rec_daemonset rec-agents log-shipper 500m 1Gi
  rec_workload StatefulSet rec-db pg 1 "$(rec_container pg 2 4Gi ghcr.io/example/postgres:16)"
  rec_cronjob rec-jobs cleanup 1 512Mi
  storefront
  rec_hpa rec-store storefront 3 8
  sleep 6
  rec_hpa rec-store storefront 6 8
  rec_wait_replicas rec-store storefront 6
  sleep 6
  rec_hpa rec-store storefront 3 5
  rec_wait_replicas rec-store storefront 5
  rec_wait_cron rec-jobs cleanup
  sleep 5
}
