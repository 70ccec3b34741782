# Scenario for record.sh: a Deployment `web` (3 × 500m / 512Mi) that scales to 5 replicas after 20 s and gets a
# CPU bump to 1 core 20 s later.  Sourced by record.sh with $NS (the namespace recorded) and kc (kubectl) defined.
web() { # REPLICAS CPU
  kc apply -f - <<YAML
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: $NS, labels: {app: web}}
spec:
  replicas: $1
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      nodeSelector: {type: virtual}
      tolerations: [{key: kwok-provider, operator: Exists, effect: NoSchedule}]
      containers:
        - name: web
          image: ghcr.io/example/web:1.0
          resources: {requests: {cpu: "$2", memory: 512Mi}}
YAML
}
web 3 500m
sleep 20
web 5 500m
sleep 20
web 5 "1"
sleep 10
