#!/usr/bin/env python3
"""Offline validation of the ArenaEpisode CRD, its defaults, deploy/examples and the rendered install manifest.

Usage: validate-deploy.py CRD RENDERED_MANIFEST EXAMPLES_DIR   (run by scripts/render-deploy.sh)

Checks that the CRD is structural, every default is valid, the defaults are exactly those of docs/design.md, the
examples are valid after defaulting, and a list of invalid episodes is rejected (the CRD's CEL rules are emulated).
Needs PyYAML and jsonschema (scripts/validate-deploy-venv.sh provides them); exits 1 on any problem.
"""
import copy, glob, json, os, re, sys

import jsonschema
import yaml

if len(sys.argv) != 4:
    sys.exit("usage: validate-deploy.py CRD RENDERED_MANIFEST EXAMPLES_DIR")
crd_path, rendered_path, examples_dir = sys.argv[1:4]
errors = []


def err(msg):
    errors.append(msg)


crd = yaml.safe_load(open(crd_path))

# -- identity ----------------------------------------------------------------------------------------------------------
spec = crd["spec"]
expect = {
    "apiVersion": (crd["apiVersion"], "apiextensions.k8s.io/v1"),
    "metadata.name": (crd["metadata"]["name"], "arenaepisodes.simarena.io"),
    "group": (spec["group"], "simarena.io"),
    "scope": (spec["scope"], "Namespaced"),
    "kind": (spec["names"]["kind"], "ArenaEpisode"),
    "plural": (spec["names"]["plural"], "arenaepisodes"),
    "singular": (spec["names"]["singular"], "arenaepisode"),
    "shortNames": (spec["names"].get("shortNames"), ["ae"]),
}
for k, (got, want) in expect.items():
    if got != want:
        err(f"CRD {k} is {got!r}, expected {want!r}")
versions = spec["versions"]
if [v["name"] for v in versions] != ["v1alpha1"] or not versions[0]["served"] or not versions[0]["storage"]:
    err("CRD must have exactly v1alpha1, served and storage")
version = versions[0]
if version.get("subresources") != {"status": {}}:
    err("CRD must enable exactly the status subresource")
schema = version["schema"]["openAPIV3Schema"]

# -- printer columns ---------------------------------------------------------------------------------------------------
cols = {c["name"].upper(): c for c in version.get("additionalPrinterColumns", [])}
for name, typ, path in [("PHASE", "string", ".status.phase"), ("STEP", "integer", ".status.step"),
                        ("POLICY", "string", ".spec.policy.name"), ("REWARD", "number", ".status.totalReward"),
                        ("SOLVED", "boolean", ".status.solved"), ("AGE", "date", ".metadata.creationTimestamp")]:
    c = cols.get(name)
    if not c or c["type"] != typ or c["jsonPath"] != path or c.get("priority", 0) != 0:
        err(f"printer column {name} must be type {typ}, jsonPath {path}, priority 0; got {c}")


def schema_at(path):
    node = schema
    for part in path.strip(".").split("."):
        if part == "metadata":
            return {"type": "object"}
        node = node.get("properties", {}).get(part)
        if node is None:
            return None
    return node


for c in cols.values():
    node = schema_at(c["jsonPath"])
    if node is None:
        err(f"printer column {c['name']}: {c['jsonPath']} is not in the schema")

# -- structural schema rules -------------------------------------------------------------------------------------------
VALIDATION_ONLY = {"type", "enum", "pattern", "minimum", "maximum", "minLength", "maxLength", "format", "required",
                   "minItems", "maxItems", "uniqueItems", "multipleOf", "exclusiveMinimum", "exclusiveMaximum",
                   "minProperties", "maxProperties", "properties", "items", "anyOf", "allOf", "oneOf", "not"}


def structural(node, path):
    if not isinstance(node, dict):
        err(f"{path}: schema is not an object")
        return
    for junction in ("anyOf", "allOf", "oneOf"):
        for i, sub in enumerate(node.get(junction, [])):
            bad = set(sub) - VALIDATION_ONLY - {"type"}
            if bad or any(k in sub for k in ("default", "description", "nullable", "x-kubernetes-int-or-string")):
                err(f"{path}.{junction}[{i}]: only value validations are allowed inside {junction}")
    if node.get("x-kubernetes-int-or-string"):
        if "type" in node:
            err(f"{path}: int-or-string must not set type")
        if node.get("anyOf") != [{"type": "integer"}, {"type": "string"}]:
            err(f"{path}: int-or-string must have anyOf [integer, string]")
    elif node.get("x-kubernetes-preserve-unknown-fields"):
        pass
    elif "type" not in node:
        err(f"{path}: missing type (not structural)")
    t = node.get("type")
    if t == "object":
        if "properties" in node and "additionalProperties" in node:
            err(f"{path}: properties and additionalProperties are mutually exclusive")
        for k, sub in node.get("properties", {}).items():
            if path == "" and k == "metadata" and set(sub) - {"type"}:
                err("metadata may only be {type: object}")
            structural(sub, f"{path}.{k}")
        if isinstance(node.get("additionalProperties"), dict):
            structural(node["additionalProperties"], f"{path}[*]")
        for r in node.get("required", []):
            if r not in node.get("properties", {}):
                err(f"{path}: required field {r} is not a property")
    if t == "array":
        if "items" not in node:
            err(f"{path}: array without items")
        else:
            structural(node["items"], f"{path}[]")
        if node.get("x-kubernetes-list-type") == "map":
            item = node["items"]
            for key in node.get("x-kubernetes-list-map-keys", []):
                if key not in item.get("required", []) and "default" not in item["properties"].get(key, {}):
                    err(f"{path}: list-map key {key} must be required or defaulted")
    if "default" in node and node.get("type") == "object" and node["default"] is None:
        err(f"{path}: null default")


structural(schema, "")

# -- defaulting (the API server's algorithm: set missing defaulted properties, then recurse) -----------------------


def apply_defaults(value, node):
    if isinstance(value, dict) and node.get("type") == "object":
        for k, sub in node.get("properties", {}).items():
            if k not in value and "default" in sub:
                value[k] = copy.deepcopy(sub["default"])
        for k, sub in node.get("properties", {}).items():
            if k in value:
                value[k] = apply_defaults(value[k], sub)
        if isinstance(node.get("additionalProperties"), dict):
            for k in list(value):
                value[k] = apply_defaults(value[k], node["additionalProperties"])
    elif isinstance(value, list) and node.get("type") == "array":
        return [apply_defaults(v, node["items"]) for v in value]
    return value


def prune_check(value, node, path):
    """Fields a default or example carries that the schema does not know would be pruned silently."""
    if isinstance(value, dict) and node.get("type") == "object" and not node.get("x-kubernetes-preserve-unknown-fields"):
        props = node.get("properties")
        if props is not None:
            for k, v in value.items():
                if k not in props:
                    err(f"{path}.{k}: unknown field (would be pruned)")
                else:
                    prune_check(v, props[k], f"{path}.{k}")
        elif isinstance(node.get("additionalProperties"), dict):
            for k, v in value.items():
                prune_check(v, node["additionalProperties"], f"{path}.{k}")
    elif isinstance(value, list) and node.get("type") == "array":
        for i, v in enumerate(value):
            prune_check(v, node["items"], f"{path}[{i}]")


# OpenAPI v3.0 keywords map onto JSON Schema draft 4 (boolean exclusiveMinimum); x-kubernetes-* are ignored.
Validator = jsonschema.Draft4Validator


def validate(value, node):
    return [f"{'.'.join(str(p) for p in e.absolute_path) or '<root>'}: {e.message}"
            for e in Validator(node).iter_errors(value)]


def walk_defaults(node, path):
    if "default" in node:
        d = apply_defaults(copy.deepcopy(node["default"]), node)
        prune_check(d, node, path + "(default)")
        for e in validate(d, node):
            err(f"{path}: default {node['default']!r} is invalid: {e}")
        for e in cel_errors(d, path):
            err(f"{path}: default violates a CEL rule: {e}")
    for k, sub in node.get("properties", {}).items():
        walk_defaults(sub, f"{path}.{k}")
    if isinstance(node.get("items"), dict):
        walk_defaults(node["items"], f"{path}[]")


# -- CEL rules, emulated ---------------------------------------------------------------------------------------------
QUANTITY_RE = re.compile(r"^[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)(([KMGTPE]i)|[numkMGTPE]|[eE][-+]?[0-9]+)?$")
QUANTITY_RULE = ("type(self) == int || isQuantity(self)",
                 lambda v: isinstance(v, int) or (isinstance(v, str) and bool(QUANTITY_RE.match(v))))
QUANTITY_FIELDS = [".spec.actions.cpuStep", ".spec.actions.memoryStep", ".spec.safeguards.maxCpu",
                   ".spec.safeguards.maxMemory", ".spec.safeguards.minCpu", ".spec.safeguards.minMemory",
                   ".spec.nodePool.cpu", ".spec.nodePool.memory"]
SUFFIX = {"": 1, "n": 1e-9, "u": 1e-6, "m": 1e-3, "k": 1e3, "M": 1e6, "G": 1e9, "T": 1e12, "P": 1e15, "E": 1e18,
          "Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40, "Pi": 2**50, "Ei": 2**60}


def qty(v):
    """A quantity's value (float is close enough for comparisons), or None when it is not a quantity."""
    s = str(v)
    if not QUANTITY_RE.match(s):
        return None
    m = re.match(r"^([+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+))(.*)$", s)
    num, suf = m.group(1), m.group(2)
    if suf[:1] in ("e", "E"):
        return float(num) * 10 ** int(suf[1:])
    return float(num) * SUFFIX[suf]


POSITIVE_RULE = ("!isQuantity(string(self)) || quantity(string(self)).isGreaterThan(quantity('0'))",
                 lambda v: qty(v) is None or qty(v) > 0)
POSITIVE_FIELDS = [".spec.actions.cpuStep", ".spec.actions.memoryStep", ".spec.safeguards.maxCpu",
                   ".spec.safeguards.maxMemory", ".spec.nodePool.cpu", ".spec.nodePool.memory"]


def min_le_max(lo, hi):
    rule = (f"!has(self.{lo}) || !has(self.{hi}) || !isQuantity(string(self.{lo})) || !isQuantity(string(self.{hi})) || "
            f"quantity(string(self.{lo})).compareTo(quantity(string(self.{hi}))) <= 0")
    return (".spec.safeguards", rule,
            lambda s: lo not in s or hi not in s or qty(s[lo]) is None or qty(s[hi]) is None or qty(s[lo]) <= qty(s[hi]))


CEL = [
    min_le_max("minCpu", "maxCpu"),
    min_le_max("minMemory", "maxMemory"),
    (".spec.policy", "!has(self.name) || self.name != 'external' || has(self.agentURL)",
     lambda s: s.get("name") != "external" or "agentURL" in s),
    (".spec", "!has(self.hooks) || (has(self.backend) && self.backend in ['kwok', 'simkube'])",
     lambda s: "hooks" not in s or s.get("backend") in ("kwok", "simkube")),
    (".spec.safeguards", "!has(self.minReplicas) || !has(self.maxReplicas) || self.minReplicas <= self.maxReplicas",
     lambda s: "minReplicas" not in s or "maxReplicas" not in s or s["minReplicas"] <= s["maxReplicas"]),
] + [(f, QUANTITY_RULE[0], QUANTITY_RULE[1]) for f in QUANTITY_FIELDS] + [(f, POSITIVE_RULE[0], POSITIVE_RULE[1]) for f in POSITIVE_FIELDS]


def find_rules(node, path, out):
    for r in node.get("x-kubernetes-validations", []):
        out.append((path, r["rule"]))
    for k, sub in node.get("properties", {}).items():
        find_rules(sub, f"{path}.{k}", out)
    return out


rules = find_rules(schema, "", [])
if sorted(rules) != sorted((p, r) for p, r, _ in CEL):
    err(f"CEL rules in the CRD {sorted(rules)} differ from the ones this script emulates; update both")

MISSING = object()


def cel_errors(value, at):
    """Evaluate the emulated rules on `value`, which sits at schema path `at` ("" for the whole object)."""
    out = []
    for path, rule, fn in CEL:
        if path != at and not (at == "" or path.startswith(at + ".")):
            continue
        sub = value
        for part in path[len(at):].strip(".").split(".") if path != at else []:
            sub = sub.get(part, MISSING) if isinstance(sub, dict) else MISSING
        if sub is not MISSING and not fn(sub):
            out.append(f"{path}: {rule}")
    return out


walk_defaults(schema, "")


def admit(obj):
    """Default, then validate like the API server would (schema + CEL). Returns (defaulted, errors)."""
    o = apply_defaults(copy.deepcopy(obj), schema)
    problems = validate(o, schema) + cel_errors(o, "")
    return o, problems


# -- defaults exactly as docs/design.md ------------------------------------------------------------------------------
minimal = {"apiVersion": "simarena.io/v1alpha1", "kind": "ArenaEpisode", "metadata": {"name": "x"},
           "spec": {"trace": {"configMapRef": {"name": "t"}}, "workload": {"name": "web"}, "targetReplicas": 3}}
design_spec = {
    "trace": {"configMapRef": {"name": "t", "key": "trace.msgpack"}},
    "workload": {"kind": "Deployment", "namespace": "default", "name": "web"},
    "targetReplicas": 3,
    "policy": {"name": "heuristic", "seed": 0},
    "reward": {"stepPenalty": 0},
    "maxSteps": 50,
    "stepDuration": "30s",
    "backend": "embedded",
    "actions": {"cpuStep": "500m", "memoryStep": "256Mi", "replicaStep": 1},
    "safeguards": {"maxCpu": "16", "maxMemory": "32Gi", "maxReplicas": 100, "minCpu": "50m", "minMemory": "64Mi",
                   "minReplicas": 1},
    "nodePool": {"count": 3, "cpu": "16", "memory": "32Gi", "pods": 110},
    "simkube": {"driverImage": "quay.io/appliedcomputing/sk-driver:v2.7.0", "driverNamespace": "simkube", "speed": 1,
                "virtualNsPrefix": "virtual", "traceDir": "/var/lib/sim-arena/traces"},
}
defaulted, problems = admit(minimal)
for p in problems:
    err(f"minimal episode rejected: {p}")
if defaulted["spec"] != design_spec:
    err("defaults differ from docs/design.md:\n  got  " + json.dumps(defaulted["spec"], sort_keys=True)
        + "\n  want " + json.dumps(design_spec, sort_keys=True))
enums = {".spec.policy.name": ["noop", "random", "heuristic", "blind", "bump-cpu", "bump-mem", "scale-up", "vpa-like", "q-table",
                               "epsilon-greedy", "external"],
         ".spec.reward.mode": ["binary", "shaped", "scale", "cost-aware", "max-punish", "rightsizing"],
         ".spec.backend": ["embedded", "kwok", "simkube"],
         ".status.phase": ["Pending", "Running", "Waiting", "Succeeded", "Failed"]}
for path, want in enums.items():
    if schema_at(path).get("enum") != want:
        err(f"{path}: enum {schema_at(path).get('enum')} != design {want}")

# -- accepted and rejected variations ------------------------------------------------------------------------------


def variant(mutate):
    o = copy.deepcopy(minimal)
    mutate(o)
    return o


def setp(path, value):
    def f(o):
        node = o
        parts = path.split(".")
        for p in parts[:-1]:
            node = node.setdefault(p, {})
        if value is DELETE:
            node.pop(parts[-1], None)
        else:
            node[parts[-1]] = value
    return f


DELETE = object()
cond = {"type": "Ready", "status": "True", "reason": "StepsCompleted", "message": "",
        "lastTransitionTime": "2025-01-01T00:00:00Z", "observedGeneration": 1}
hist = {"step": 1, "observation": {"ready": 3, "pending": 0, "total": 3},
        "requests": {"cpu": "500m", "memory": "512Mi", "replicas": 3}, "action": "noop", "blocked": False,
        "blockedReason": "", "reward": 1.0, "simulation": "x-1", "startTime": "2025-01-01T00:00:00Z",
        "endTime": "2025-01-01T00:00:30Z"}
accepted = {
    "integer cpuStep": setp("spec.actions.cpuStep", 1),
    "exponent quantity": setp("spec.actions.memoryStep", "1e3"),
    "decimal quantity": setp("spec.safeguards.maxMemory", "1.5Gi"),
    "compound duration": setp("spec.stepDuration", "1m30s"),
    "ms duration": setp("spec.stepDuration", "500ms"),
    "external with agentURL": setp("spec.policy", {"name": "external", "agentURL": "http://agent.default.svc:8080/act"}),
    "parameters": setp("spec.policy.parameters", {"epsilon": "0.1", "alpha": "0.5"}),
    "fractional speed": setp("spec.simkube.speed", 2.5),
    "stepPenalty": setp("spec.reward.stepPenalty", 0.05),
    "targetReplicas 0": setp("spec.targetReplicas", 0),
    "hooks on simkube": lambda o: (setp("spec.backend", "simkube")(o), setp("spec.hooks", {
        "preRun": [{"cmd": "kubectl", "args": ["get", "ns"], "sendSim": True, "ignoreFailure": False}]})(o)),
    "hooks on kwok": lambda o: (setp("spec.backend", "kwok")(o), setp("spec.hooks", {
        "postStop": [{"cmd": "kubectl", "args": ["delete", "ns", "x"], "ignoreFailure": True}]})(o)),
    "full status": setp("status", {"phase": "Running", "step": 1, "stepPhase": "Simulating", "message": "m",
                                   "history": [hist] * 100, "totalReward": -1.5, "solved": False, "stepsToSolve": 1,
                                   "traceConfigMap": "x-trace-1", "observedGeneration": 1,
                                   "conditions": [cond, dict(cond, type="Progressing", status="Unknown")]}),
}
rejected = {
    "unknown policy": setp("spec.policy.name", "greedy"),
    "unknown reward mode": setp("spec.reward.mode", "dense"),
    "unknown backend": setp("spec.backend", "docker"),
    "maxSteps 0": setp("spec.maxSteps", 0),
    "maxSteps 1001": setp("spec.maxSteps", 1001),
    "negative targetReplicas": setp("spec.targetReplicas", -1),
    "missing targetReplicas": setp("spec.targetReplicas", DELETE),
    "missing workload name": setp("spec.workload.name", DELETE),
    "missing trace": setp("spec.trace", DELETE),
    "missing spec": setp("spec", DELETE),
    "bad ConfigMap name": setp("spec.trace.configMapRef.name", "Bad_Name"),
    "duration without unit": setp("spec.stepDuration", "30"),
    "duration in days": setp("spec.stepDuration", "1d"),
    "bad quantity": setp("spec.actions.cpuStep", "abc"),
    "negative quantity": setp("spec.actions.cpuStep", "-1"),
    "lowercase binary suffix": setp("spec.safeguards.maxMemory", "32gi"),
    "replicaStep 0": setp("spec.actions.replicaStep", 0),
    "speed 0": setp("spec.simkube.speed", 0),
    "relative traceDir": setp("spec.simkube.traceDir", "traces"),
    "string seed": setp("spec.policy.seed", "1"),
    "external without agentURL": setp("spec.policy.name", "external"),
    "hooks on embedded": lambda o: (setp("spec.backend", "embedded")(o), setp("spec.hooks", {"preRun": [{"cmd": "kubectl"}]})(o)),
    "hooks without a backend (embedded)": lambda o: (setp("spec.backend", DELETE)(o),
                                                     setp("spec.hooks", {"preRun": [{"cmd": "kubectl"}]})(o)),
    "hook without cmd": lambda o: (setp("spec.backend", "simkube")(o), setp("spec.hooks", {"preRun": [{"args": ["x"]}]})(o)),
    "17 hooks in a stage": lambda o: (setp("spec.backend", "simkube")(o),
                                      setp("spec.hooks", {"postRun": [{"cmd": "x"}] * 17})(o)),
    "minReplicas > maxReplicas": setp("spec.safeguards", {"minReplicas": 5, "maxReplicas": 2}),
    "cpuStep 0": setp("spec.actions.cpuStep", "0"),
    "memoryStep 0 (int)": setp("spec.actions.memoryStep", 0),
    "nodePool.cpu 0m": setp("spec.nodePool.cpu", "0m"),
    "minCpu > maxCpu": setp("spec.safeguards", {"minCpu": "2", "maxCpu": "1500m"}),
    "minMemory > maxMemory": setp("spec.safeguards", {"minMemory": "2Gi", "maxMemory": "1Gi"}),
    "unknown phase": setp("status.phase", "Done"),
    "history of 101": setp("status.history", [hist] * 101),
    "condition without reason": setp("status.conditions", [{k: v for k, v in cond.items() if k != "reason"}]),
    "condition status yes": setp("status.conditions", [dict(cond, status="Yes")]),
}
for name, mutate in accepted.items():
    _, problems = admit(variant(mutate))
    if problems:
        err(f"should be accepted: {name}: {problems}")
for name, mutate in rejected.items():
    _, problems = admit(variant(mutate))
    if not problems:
        err(f"should be rejected: {name}")

# -- examples --------------------------------------------------------------------------------------------------------
scenarios = ["cpu-slight", "cpu-heavy", "mem-slight", "mem-heavy", "cpu-mem", "replicas-over", "replicas-under",
             "composite", "healthy"]
files = sorted(glob.glob(os.path.join(examples_dir, "*.yaml")))
found = {}
for f in files:
    for doc in yaml.safe_load_all(open(f)):
        if not doc:
            continue
        if doc.get("kind") != "ArenaEpisode" or doc.get("apiVersion") != "simarena.io/v1alpha1":
            err(f"{f}: unexpected {doc.get('apiVersion')}/{doc.get('kind')}")
            continue
        prune_check(doc, schema, f)
        o, problems = admit(doc)
        for p in problems:
            err(f"{f}: {p}")
        name = doc["metadata"]["name"]
        found[name] = o
        want_cm = f"{name}-trace"
        if o["spec"]["trace"]["configMapRef"]["name"] != want_cm:
            err(f"{f}: configMapRef.name should be {want_cm}")
        if o["spec"]["backend"] != "kwok" or o["spec"]["workload"] != {"kind": "Deployment", "namespace": "default",
                                                                         "name": "web"}:
            err(f"{f}: examples use backend kwok and workload Deployment default/web")
        want_target = 2 if name == "healthy" else 3
        if o["spec"]["targetReplicas"] != want_target:
            err(f"{f}: targetReplicas should be {want_target}")
        readme = open(os.path.join(examples_dir, "README.md")).read()
        line = f"kubectl create configmap {want_cm} --from-file=trace.msgpack=traces/{name}.msgpack"
        if line not in readme:
            err(f"README.md lacks: {line}")
if sorted(found) != sorted(scenarios):
    err(f"examples {sorted(found)} != scenarios {sorted(scenarios)}")


def check_subfolder(sub, fits, rule):
    """Examples kept in a subfolder (so `kubectl apply -f deploy/examples/` leaves them out): admitted, and `fits`."""
    for f in sorted(glob.glob(os.path.join(examples_dir, sub, "*.yaml"))):
        for doc in yaml.safe_load_all(open(f)):
            if not doc:
                continue
            prune_check(doc, schema, f)
            o, problems = admit(doc)
            for p in problems:
                err(f"{f}: {p}")
            if not fits(o["spec"]):
                err(f"{f}: examples under {sub}/ {rule}")
            found[doc["metadata"]["name"]] = o


# The simkube backend's examples, and hooks on kwok (they need the hook image and RBAC for their commands).
check_subfolder("simkube", lambda spec: spec["backend"] == "simkube", "use backend simkube")
check_subfolder(
    "hooks", lambda spec: spec["backend"] == "kwok" and bool(spec.get("hooks")), "use backend kwok with spec.hooks"
)

# -- rendered manifest -----------------------------------------------------------------------------------------------
docs = [d for d in yaml.safe_load_all(open(rendered_path)) if d]
kinds = sorted(f"{d['kind']}/{d['metadata']['name']}" for d in docs)
for want in ["CustomResourceDefinition/arenaepisodes.simarena.io", "Namespace/sim-arena", "Deployment/sim-arena",
             "DaemonSet/sim-arena-trace-sync", "ServiceAccount/sim-arena", "ServiceAccount/sim-arena-trace-sync",
             "ClusterRole/sim-arena", "ClusterRoleBinding/sim-arena", "Role/sim-arena", "RoleBinding/sim-arena",
             "Role/sim-arena-trace-sync", "RoleBinding/sim-arena-trace-sync"]:
    if want not in kinds:
        err(f"rendered manifest lacks {want}")
rendered_crd = next((d for d in docs if d["kind"] == "CustomResourceDefinition"), None)
if rendered_crd != crd:
    err("the CRD in the rendered manifest differs from crds/")
for d in docs:
    if d["kind"] in ("Deployment", "DaemonSet"):
        pod = d["spec"]["template"]["spec"]
        for c in pod["containers"]:
            sc = c.get("securityContext", {})
            if not (sc.get("runAsNonRoot") and sc.get("readOnlyRootFilesystem") and sc.get("capabilities", {}).get("drop") == ["ALL"]
                    and sc.get("allowPrivilegeEscalation") is False and sc.get("seccompProfile", {}).get("type") == "RuntimeDefault"):
                err(f"{d['kind']}/{d['metadata']['name']} container {c['name']}: not restricted")
            if "resources" not in c:
                err(f"{d['kind']}/{d['metadata']['name']} container {c['name']}: no resources")
    if d["kind"] == "Deployment":
        args = d["spec"]["template"]["spec"]["containers"][0]["args"]
        if args[:5] != ["operator", "--workers", "2", "--health-port", "8081"]:
            err(f"operator args {args}")

if errors:
    print("offline validation FAILED:", file=sys.stderr)
    for e in errors:
        print("  - " + e, file=sys.stderr)
    sys.exit(1)
print(f"    CRD structural; defaults match docs/design.md; {len(accepted)} accepted and {len(rejected)} rejected variants "
      f"behave; {len(found)} examples valid; {len(docs)} rendered objects checked")
