//! Tests of the schema oracle itself (tests/support/schemas.rs): it must accept real, valid
//! manifests and reject what a real cluster would reject or silently prune. The manifests below
//! are written by hand from the Flink Kubernetes operator, KEDA, Argo CD, Flux and Kubernetes
//! documentation; none is produced by flinkops, so this file does not depend on the crate.

#[path = "support/schemas.rs"]
mod schemas;

use schemas::Operator::{self, V1_15, V1_16};
use serde_json::{Value, json};

// ----------------------------------------------------------------------------------- helpers

fn yaml(text: &str) -> Value {
    schemas::parse_yaml(text).unwrap_or_else(|e| panic!("test manifest is not YAML: {e}\n{text}"))
}

#[track_caller]
fn assert_valid(doc: &Value, operator: Operator) {
    if let Err(errors) = schemas::validate(doc, operator) {
        panic!(
            "expected valid for {operator:?}, got:\n  {}\nmanifest:\n{}",
            errors.join("\n  "),
            serde_json::to_string_pretty(doc).unwrap()
        );
    }
}

/// Asserts the document is rejected and that some error is reported at `pointer`
/// (an error string starts with the JSON pointer of the offending location).
#[track_caller]
fn assert_rejected_at(doc: &Value, operator: Operator, pointer: &str) -> Vec<String> {
    match schemas::validate(doc, operator) {
        Ok(()) => panic!(
            "expected a schema error at {pointer} for {operator:?}, but it validated:\n{}",
            serde_json::to_string_pretty(doc).unwrap()
        ),
        Err(errors) => {
            assert!(
                errors.iter().any(|e| e.starts_with(&format!("{pointer}: "))),
                "expected an error at {pointer}, got:\n  {}",
                errors.join("\n  ")
            );
            errors
        }
    }
}

/// `doc` with `value` set at the JSON pointer `pointer` (parents must exist).
fn with(doc: &Value, pointer: &str, value: Value) -> Value {
    let mut doc = doc.clone();
    let (parent, key) = pointer.rsplit_once('/').expect("pointer");
    let target = doc.pointer_mut(parent).unwrap_or_else(|| panic!("no parent {parent}"));
    match target {
        Value::Object(map) => {
            map.insert(key.to_owned(), value);
        }
        Value::Array(items) => items[key.parse::<usize>().unwrap()] = value,
        _ => panic!("{parent} is not a container"),
    }
    doc
}

/// `doc` without the member at `pointer`.
fn without(doc: &Value, pointer: &str) -> Value {
    let mut doc = doc.clone();
    let (parent, key) = pointer.rsplit_once('/').expect("pointer");
    doc.pointer_mut(parent).and_then(Value::as_object_mut).unwrap().remove(key).expect("member");
    doc
}

// ------------------------------------------------------------------ hand-written manifests

/// Operator 1.15 shape: `resource: {cpu, memory}`, flinkVersion v2_2.
const FLINK_DEPLOYMENT_1_15: &str = r#"
# A minimal application deployment, after the operator's basic.yaml example.
apiVersion: flink.apache.org/v1beta1
kind: FlinkDeployment
metadata:
  name: orders-enrichment
  namespace: flink
  labels:
    app.kubernetes.io/managed-by: flinkops
spec:
  image: flink:2.2
  flinkVersion: v2_2
  flinkConfiguration:
    taskmanager.numberOfTaskSlots: "2"
    state.checkpoints.dir: s3://bucket/checkpoints
  serviceAccount: flink
  jobManager:
    resource:
      cpu: 1
      memory: 2048m
  taskManager:
    replicas: 2
    resource:
      cpu: 0.5
      memory: 2048m
  job:
    jarURI: local:///opt/flink/usrlib/orders.jar
    entryClass: com.example.Orders
    args: ["--topic", "orders"]
    parallelism: 2
    upgradeMode: savepoint
    state: running
"#;

/// Operator 1.16 (main) shape: Kubernetes-style `resources: {requests, limits}`.
const FLINK_DEPLOYMENT_1_16: &str = r#"
apiVersion: flink.apache.org/v1beta1
kind: FlinkDeployment
metadata:
  name: orders-enrichment
spec:
  image: flink:2.3
  flinkVersion: v2_3
  serviceAccount: flink
  jobManager:
    resources:
      requests: {cpu: 500m, memory: 2Gi}
      limits: {cpu: 1, memory: 2Gi}
  taskManager:
    resources:
      requests:
        cpu: "1"
        memory: 4Gi
      limits:
        memory: 4Gi
  job:
    jarURI: local:///opt/flink/usrlib/orders.jar
    upgradeMode: last-state
"#;

const FLINK_SESSION_JOB: &str = r#"
apiVersion: flink.apache.org/v1beta1
kind: FlinkSessionJob
metadata:
  name: orders-session-job
spec:
  deploymentName: session-cluster
  job:
    jarURI: https://repo.example.com/orders.jar
    parallelism: 4
    upgradeMode: stateless
"#;

const CRONJOB: &str = r#"
# Triggers a savepoint every night.
apiVersion: batch/v1
kind: CronJob
metadata:
  name: orders-savepoint
  namespace: flink
spec:
  schedule: "0 2 * * *"
  timeZone: Europe/Paris
  concurrencyPolicy: Forbid
  successfulJobsHistoryLimit: 3
  jobTemplate:
    spec:
      backoffLimit: 2
      template:
        spec:
          serviceAccountName: flink-savepointer
          restartPolicy: OnFailure
          containers:
            - name: kubectl
              image: bitnami/kubectl:1.30
              command: ["kubectl", "patch", "flinkdeployment/orders", "--type=merge"]
              resources:
                requests: {cpu: 10m, memory: 32Mi}
"#;

const HPA: &str = r#"
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata:
  name: orders
spec:
  scaleTargetRef:
    apiVersion: flink.apache.org/v1beta1
    kind: FlinkDeployment
    name: orders
  minReplicas: 1
  maxReplicas: 8
  metrics:
    - type: Resource
      resource:
        name: cpu
        target:
          type: Utilization
          averageUtilization: 70
  behavior:
    scaleDown:
      stabilizationWindowSeconds: 300
"#;

const CONFIGMAP: &str = r#"
apiVersion: v1
kind: ConfigMap
metadata:
  name: orders-config
  annotations:
    flinkops.io/source: pipelines/orders.toml
data:
  log4j-console.properties: |
    rootLogger.level = INFO
  enabled: "true"
"#;

const ROLE: &str = r#"
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata:
  name: flink-savepointer
  namespace: flink
rules:
  - apiGroups: ["flink.apache.org"]
    resources: ["flinkdeployments"]
    verbs: ["get", "patch"]
"#;

const ROLEBINDING: &str = r#"
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata:
  name: flink-savepointer
  namespace: flink
subjects:
  - kind: ServiceAccount
    name: flink-savepointer
    namespace: flink
roleRef:
  apiGroup: rbac.authorization.k8s.io
  kind: Role
  name: flink-savepointer
"#;

const SERVICEACCOUNT: &str = r#"
apiVersion: v1
kind: ServiceAccount
metadata:
  name: flink-savepointer
  namespace: flink
automountServiceAccountToken: true
"#;

const NAMESPACE: &str = r#"
apiVersion: v1
kind: Namespace
metadata:
  name: flink
  labels:
    kubernetes.io/metadata.name: flink
"#;

const SECRET: &str = r#"
apiVersion: v1
kind: Secret
metadata:
  name: kafka-credentials
type: Opaque
stringData:
  username: orders
"#;

const SCALED_OBJECT: &str = r#"
apiVersion: keda.sh/v1alpha1
kind: ScaledObject
metadata:
  name: orders
spec:
  scaleTargetRef:
    apiVersion: flink.apache.org/v1beta1
    kind: FlinkDeployment
    name: orders
  minReplicaCount: 1
  maxReplicaCount: 8
  pollingInterval: 30
  triggers:
    - type: kafka
      metadata:
        bootstrapServers: kafka:9092
        consumerGroup: orders
        topic: orders
        lagThreshold: "1000"
"#;

const ARGO_APPLICATION: &str = r#"
apiVersion: argoproj.io/v1alpha1
kind: Application
metadata:
  name: flink-orders
  namespace: argocd
spec:
  project: default
  source:
    repoURL: https://git.example.com/platform/flink.git
    targetRevision: main
    path: out/prod
  destination:
    server: https://kubernetes.default.svc
    namespace: flink
  syncPolicy:
    automated:
      prune: true
      selfHeal: true
    syncOptions:
      - CreateNamespace=true
"#;

const FLUX_KUSTOMIZATION: &str = r#"
apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata:
  name: flink-orders
  namespace: flux-system
spec:
  interval: 10m
  path: ./out/prod
  prune: true
  sourceRef:
    kind: GitRepository
    name: platform
  targetNamespace: flink
  timeout: 2m
"#;

// ------------------------------------------------------------------------- FlinkDeployment

#[test]
fn minimal_flinkdeployment_for_operator_1_15_is_valid() {
    assert_valid(&yaml(FLINK_DEPLOYMENT_1_15), V1_15);
}

#[test]
fn operator_1_15_shape_is_still_valid_against_operator_1_16() {
    assert_valid(&yaml(FLINK_DEPLOYMENT_1_15), V1_16);
}

#[test]
fn taskmanager_resources_is_rejected_by_operator_1_15() {
    let doc = with(&yaml(FLINK_DEPLOYMENT_1_15), "/spec/taskManager/resources", json!({"requests": {"cpu": "1", "memory": "4Gi"}}));
    assert_rejected_at(&doc, V1_15, "/spec/taskManager/resources");
}

#[test]
fn resources_requests_limits_shape_is_valid_for_operator_1_16_only() {
    let doc = yaml(FLINK_DEPLOYMENT_1_16);
    assert_valid(&doc, V1_16);
    assert_rejected_at(&doc, V1_15, "/spec/jobManager/resources");
    assert_rejected_at(&doc, V1_15, "/spec/taskManager/resources");
}

#[test]
fn flink_version_v2_3_is_rejected_by_operator_1_15_and_accepted_by_1_16() {
    let doc = with(&yaml(FLINK_DEPLOYMENT_1_15), "/spec/flinkVersion", json!("v2_3"));
    assert_rejected_at(&doc, V1_15, "/spec/flinkVersion");
    assert_valid(&doc, V1_16);
    let doc = with(&doc, "/spec/flinkVersion", json!("v2_5"));
    assert_rejected_at(&doc, V1_16, "/spec/flinkVersion");
}

#[test]
fn unknown_field_in_spec_is_rejected() {
    let doc = with(&yaml(FLINK_DEPLOYMENT_1_15), "/spec/serviceAcount", json!("flink"));
    let errors = assert_rejected_at(&doc, V1_15, "/spec/serviceAcount");
    assert!(errors[0].contains("unknown field \"serviceAcount\""), "{errors:?}");
}

#[test]
fn unknown_field_deep_in_job_or_resource_is_rejected() {
    let base = yaml(FLINK_DEPLOYMENT_1_15);
    assert_rejected_at(&with(&base, "/spec/job/jarUri", json!("x")), V1_15, "/spec/job/jarUri");
    assert_rejected_at(&with(&base, "/spec/jobManager/resource/memmory", json!("1g")), V1_15, "/spec/jobManager/resource/memmory");
}

#[test]
fn unknown_top_level_field_is_rejected() {
    let doc = with(&yaml(FLINK_DEPLOYMENT_1_15), "/sepc", json!({}));
    assert_rejected_at(&doc, V1_15, "/sepc");
}

#[test]
fn typo_in_metadata_is_rejected() {
    let doc = with(&yaml(FLINK_DEPLOYMENT_1_15), "/metadata/lables", json!({"a": "b"}));
    assert_rejected_at(&doc, V1_15, "/metadata/lables");
    assert_rejected_at(&doc, V1_16, "/metadata/lables");
}

#[test]
fn non_string_label_value_is_rejected() {
    let doc = with(&yaml(FLINK_DEPLOYMENT_1_15), "/metadata/labels/replicas", json!(2));
    assert_rejected_at(&doc, V1_15, "/metadata/labels/replicas");
}

#[test]
fn missing_metadata_name_is_rejected() {
    let doc = without(&yaml(FLINK_DEPLOYMENT_1_15), "/metadata/name");
    assert_rejected_at(&doc, V1_15, "/metadata/name");
    let doc = without(&yaml(CONFIGMAP), "/metadata/name");
    assert_rejected_at(&doc, V1_15, "/metadata/name");
}

#[test]
fn wrong_enum_value_is_rejected() {
    let doc = with(&yaml(FLINK_DEPLOYMENT_1_15), "/spec/job/upgradeMode", json!("last_state"));
    assert_rejected_at(&doc, V1_15, "/spec/job/upgradeMode");
}

#[test]
fn wrong_scalar_type_is_rejected() {
    let base = yaml(FLINK_DEPLOYMENT_1_15);
    // cpu is a number in the CRD; a Kubernetes quantity string is not accepted there.
    assert_rejected_at(&with(&base, "/spec/taskManager/resource/cpu", json!("500m")), V1_15, "/spec/taskManager/resource/cpu");
    assert_rejected_at(&with(&base, "/spec/job/parallelism", json!("2")), V1_15, "/spec/job/parallelism");
}

#[test]
fn null_is_rejected_where_the_crd_does_not_say_nullable() {
    let doc = with(&yaml(FLINK_DEPLOYMENT_1_15), "/spec/image", Value::Null);
    assert_rejected_at(&doc, V1_15, "/spec/image");
}

#[test]
fn int_or_string_quantities_accept_integers_and_strings_but_nothing_else() {
    let base = yaml(FLINK_DEPLOYMENT_1_16);
    assert_valid(&with(&base, "/spec/taskManager/resources/requests/cpu", json!(2)), V1_16);
    assert_valid(&with(&base, "/spec/taskManager/resources/requests/cpu", json!("250m")), V1_16);
    let doc = with(&base, "/spec/taskManager/resources/requests/cpu", json!(true));
    assert_rejected_at(&doc, V1_16, "/spec/taskManager/resources/requests/cpu");
}

#[test]
fn flink_configuration_preserves_unknown_fields_and_any_value_shape() {
    let doc = with(
        &yaml(FLINK_DEPLOYMENT_1_15),
        "/spec/flinkConfiguration",
        json!({
            "any.key.at.all": "x",
            "parallelism.default": 4,
            "nested": {"kubernetes": {"operator": {"periodic": true}}},
        }),
    );
    assert_valid(&doc, V1_15);
    assert_valid(&doc, V1_16);
}

#[test]
fn only_flink_configuration_preserves_unknown_fields_in_the_flinkdeployment_crds() {
    // Guards the "strict" claim: if a future CRD opened more of the tree, typos there would
    // stop failing, and this test says where.
    fn open_paths(node: &Value, path: String, out: &mut Vec<String>) {
        let Some(object) = node.as_object() else {
            return;
        };
        if object.get("x-kubernetes-preserve-unknown-fields") == Some(&json!(true)) {
            out.push(path.clone());
        }
        if object.get("type") == Some(&json!("object"))
            && !object.contains_key("properties")
            && !object.contains_key("additionalProperties")
            && !object.contains_key("$ref")
        {
            out.push(format!("{path} (bare object)"));
        }
        if let Some(Value::Object(properties)) = object.get("properties") {
            for (key, child) in properties {
                open_paths(child, format!("{path}/{key}"), out);
            }
        }
        if let Some(items) = object.get("items") {
            open_paths(items, format!("{path}/*"), out);
        }
        if let Some(additional) = object.get("additionalProperties") {
            open_paths(additional, format!("{path}/{{}}"), out);
        }
    }
    for operator in [V1_15, V1_16] {
        let schema = schemas::effective_schema("flink.apache.org/v1beta1", "FlinkDeployment", operator).unwrap();
        let mut open = Vec::new();
        open_paths(&schema, String::new(), &mut open);
        // managedFields[].fieldsV1 is a bare `type: object` in Kubernetes' own ObjectMeta too.
        open.retain(|p| !p.ends_with("/fieldsV1 (bare object)"));
        assert_eq!(open, ["/spec/flinkConfiguration"], "{operator:?}");
    }
}

#[test]
fn pod_template_is_fully_typed_in_the_crd_so_valid_pod_fields_pass() {
    let doc = with(
        &yaml(FLINK_DEPLOYMENT_1_15),
        "/spec/podTemplate",
        yaml(
            r#"
apiVersion: v1
kind: Pod
metadata:
  labels: {team: data}
  annotations: {prometheus.io/scrape: "true"}
spec:
  securityContext: {runAsUser: 9999, fsGroup: 9999}
  containers:
    - name: flink-main-container
      env:
        - name: KAFKA_PASSWORD
          valueFrom:
            secretKeyRef: {name: kafka-credentials, key: password}
      ports:
        - name: metrics
          containerPort: 9249
      volumeMounts:
        - name: data
          mountPath: /data
  volumes:
    - name: data
      emptyDir: {}
  tolerations:
    - key: dedicated
      operator: Equal
      value: flink
      effect: NoSchedule
"#,
        ),
    );
    assert_valid(&doc, V1_15);
    assert_valid(&doc, V1_16);
    let tm = with(&yaml(FLINK_DEPLOYMENT_1_15), "/spec/taskManager/podTemplate", doc["spec"]["podTemplate"].clone());
    assert_valid(&tm, V1_15);
}

#[test]
fn pod_template_does_not_preserve_unknown_fields_so_typos_there_fail() {
    let base = with(&yaml(FLINK_DEPLOYMENT_1_15), "/spec/podTemplate", json!({"spec": {"containers": [{"name": "flink-main-container"}]}}));
    assert_valid(&base, V1_15);
    assert_rejected_at(
        &with(&base, "/spec/podTemplate/spec/containers/0/volumeMount", json!([])),
        V1_15,
        "/spec/podTemplate/spec/containers/0/volumeMount",
    );
    assert_rejected_at(&with(&base, "/spec/podTemplate/spec/nodeSelecter", json!({})), V1_16, "/spec/podTemplate/spec/nodeSelecter");
    assert_rejected_at(&with(&base, "/spec/podTemplate/metadata", json!({"lables": {}})), V1_15, "/spec/podTemplate/metadata/lables");
    // port is int-or-string inside the pod template.
    let probe =
        |port: Value| with(&base, "/spec/podTemplate/spec/containers/0/livenessProbe", json!({"httpGet": {"path": "/", "port": port}}));
    assert_valid(&probe(json!(8081)), V1_15);
    assert_valid(&probe(json!("rest")), V1_15);
    assert_rejected_at(&probe(json!(1.5)), V1_15, "/spec/podTemplate/spec/containers/0/livenessProbe/httpGet/port");
}

#[test]
fn flinksessionjob_is_validated_against_operator_main_and_has_no_1_15_schema() {
    let doc = yaml(FLINK_SESSION_JOB);
    assert_valid(&doc, V1_16);
    assert_rejected_at(&with(&doc, "/spec/deploymentNmae", json!("x")), V1_16, "/spec/deploymentNmae");
    // No release-1.15.0 FlinkSessionJob CRD is vendored: refuse rather than guess.
    let errors = schemas::validate(&doc, V1_15).unwrap_err();
    assert!(errors[0].contains("no schema"), "{errors:?}");
}

// --------------------------------------------------------------------- Kubernetes built-ins

/// (manifest, a JSON pointer under which an unknown field is added)
const BUILT_INS: &[(&str, &str)] = &[
    (CRONJOB, "/spec/jobTemplate/spec/template/spec/containers/0/imagePullPolicyy"),
    (HPA, "/spec/scaleTargetRef/namespace"),
    (CONFIGMAP, "/spec"),
    (ROLE, "/rules/0/namespaces"),
    (ROLEBINDING, "/roleRef/namespace"),
    (SERVICEACCOUNT, "/automountToken"),
    (NAMESPACE, "/metadata/lables"),
    (SECRET, "/stringdata"),
];

#[test]
fn valid_built_in_kinds_pass() {
    for (manifest, _) in BUILT_INS {
        assert_valid(&yaml(manifest), V1_15);
        assert_valid(&yaml(manifest), V1_16);
    }
}

#[test]
fn each_built_in_kind_rejects_an_unknown_field() {
    for (manifest, pointer) in BUILT_INS {
        let doc = with(&yaml(manifest), pointer, json!("x"));
        assert_rejected_at(&doc, V1_15, pointer);
    }
}

#[test]
fn hpa_targets_a_flinkdeployment_and_requires_max_replicas() {
    let doc = yaml(HPA);
    assert_eq!(doc["spec"]["scaleTargetRef"]["kind"], "FlinkDeployment");
    assert_valid(&doc, V1_15);
    let errors = schemas::validate(&without(&doc, "/spec/maxReplicas"), V1_15).unwrap_err();
    assert!(errors.iter().any(|e| e.starts_with("/spec: ") && e.contains("maxReplicas")), "{errors:?}");
}

#[test]
fn built_in_kind_rejects_wrong_types_and_enums() {
    assert_rejected_at(&with(&yaml(CONFIGMAP), "/data/enabled", json!(true)), V1_15, "/data/enabled");
    assert_rejected_at(&with(&yaml(CRONJOB), "/spec/concurrencyPolicy", json!(true)), V1_15, "/spec/concurrencyPolicy");
    assert_rejected_at(&with(&yaml(ROLE), "/rules/0/verbs", json!("get")), V1_15, "/rules/0/verbs");
}

#[test]
fn built_in_kind_under_another_api_version_is_rejected() {
    for (api_version, manifest) in [("autoscaling/v1", HPA), ("batch/v1beta1", CRONJOB), ("v2", CONFIGMAP)] {
        let doc = with(&yaml(manifest), "/apiVersion", json!(api_version));
        let errors = schemas::validate(&doc, V1_15).unwrap_err();
        assert!(errors[0].starts_with("(root): no schema for apiVersion"), "{errors:?}");
    }
}

// --------------------------------------------------------------------------- KEDA / GitOps

#[test]
fn valid_scaledobject_passes() {
    assert_valid(&yaml(SCALED_OBJECT), V1_15);
}

#[test]
fn scaledobject_trigger_metadata_value_must_be_a_string() {
    let doc = with(&yaml(SCALED_OBJECT), "/spec/triggers/0/metadata/lagThreshold", json!(1000));
    assert_rejected_at(&doc, V1_15, "/spec/triggers/0/metadata/lagThreshold");
    let doc = with(&yaml(SCALED_OBJECT), "/spec/triggers/0/metadata/activation", json!(false));
    assert_rejected_at(&doc, V1_15, "/spec/triggers/0/metadata/activation");
}

#[test]
fn scaledobject_typo_and_missing_triggers_are_rejected() {
    let doc = with(&yaml(SCALED_OBJECT), "/spec/minReplicas", json!(1));
    assert_rejected_at(&doc, V1_15, "/spec/minReplicas");
    let doc = with(&yaml(SCALED_OBJECT), "/metadata/lables", json!({}));
    assert_rejected_at(&doc, V1_15, "/metadata/lables");
    let doc = without(&yaml(SCALED_OBJECT), "/spec/triggers");
    assert_rejected_at(&doc, V1_15, "/spec");
}

#[test]
fn valid_argocd_application_passes() {
    assert_valid(&yaml(ARGO_APPLICATION), V1_15);
}

#[test]
fn argocd_application_typo_is_rejected() {
    let doc = with(&yaml(ARGO_APPLICATION), "/spec/source/targetRevison", json!("main"));
    assert_rejected_at(&doc, V1_15, "/spec/source/targetRevison");
    let doc = with(&yaml(ARGO_APPLICATION), "/spec/syncPolicy/automated/selfheal", json!(true));
    assert_rejected_at(&doc, V1_15, "/spec/syncPolicy/automated/selfheal");
    let doc = without(&yaml(ARGO_APPLICATION), "/spec/destination");
    assert_rejected_at(&doc, V1_15, "/spec");
}

#[test]
fn valid_flux_kustomization_passes() {
    assert_valid(&yaml(FLUX_KUSTOMIZATION), V1_15);
}

#[test]
fn flux_kustomization_typo_and_bad_interval_are_rejected() {
    let doc = with(&yaml(FLUX_KUSTOMIZATION), "/spec/sourceRef/nmae", json!("platform"));
    assert_rejected_at(&doc, V1_15, "/spec/sourceRef/nmae");
    let doc = with(&yaml(FLUX_KUSTOMIZATION), "/spec/interval", json!("10 minutes"));
    assert_rejected_at(&doc, V1_15, "/spec/interval");
    let doc = with(&yaml(FLUX_KUSTOMIZATION), "/apiVersion", json!("kustomize.toolkit.fluxcd.io/v1beta2"));
    assert_rejected_at(&doc, V1_15, "(root)");
}

// ---------------------------------------------------------------------- dispatch & plumbing

#[test]
fn unknown_kind_is_rejected() {
    let doc = json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "x"}, "spec": {}});
    let errors = schemas::validate(&doc, V1_15).unwrap_err();
    assert!(errors[0].starts_with("(root): no schema for apiVersion `v1` kind `Service`"), "{errors:?}");
    let doc = json!({"apiVersion": "flink.apache.org/v1beta2", "kind": "FlinkDeployment", "metadata": {"name": "x"}});
    assert!(schemas::validate(&doc, V1_16).is_err());
}

#[test]
fn missing_or_non_string_api_version_or_kind_is_rejected() {
    for doc in [
        json!({"kind": "ConfigMap", "metadata": {"name": "x"}}),
        json!({"apiVersion": "v1", "metadata": {"name": "x"}}),
        json!({"apiVersion": 1, "kind": "ConfigMap", "metadata": {"name": "x"}}),
        json!("apiVersion: v1"),
        Value::Null,
    ] {
        let errors = schemas::validate(&doc, V1_15).unwrap_err();
        assert!(errors[0].starts_with("(root): "), "{errors:?}");
    }
}

#[test]
fn every_vendored_schema_compiles_and_rejects_an_unknown_top_level_field() {
    for operator in [V1_15, V1_16] {
        for (api_version, kind) in schemas::supported_kinds(operator) {
            let doc = json!({
                "apiVersion": api_version,
                "kind": kind,
                "metadata": {"name": "x"},
                "unknownTopLevelField": 1,
            });
            let errors = schemas::validate(&doc, operator).unwrap_err();
            assert!(
                errors.iter().any(|e| e.starts_with("/unknownTopLevelField: unknown field")),
                "{api_version} {kind} {operator:?}: {errors:?}"
            );
            assert!(!errors.iter().any(|e| e.contains("cannot")), "{errors:?}");
        }
    }
}

#[test]
fn crd_version_is_chosen_by_name_not_position() {
    let crd = json!({
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "spec": {
            "group": "example.com",
            "names": {"kind": "Widget"},
            "versions": [
                {"name": "v1alpha1", "served": true, "schema": {"openAPIV3Schema": {"description": "old"}}},
                {"name": "v1", "served": true, "schema": {"openAPIV3Schema": {"description": "new"}}},
                {"name": "v0", "served": false, "schema": {"openAPIV3Schema": {}}},
            ],
        },
    });
    let schema = schemas::crd_version_schema(&crd, "example.com/v1", "Widget").unwrap();
    assert_eq!(schema["description"], "new");
    let schema = schemas::crd_version_schema(&crd, "example.com/v1alpha1", "Widget").unwrap();
    assert_eq!(schema["description"], "old");
    assert!(schemas::crd_version_schema(&crd, "example.com/v2", "Widget").is_err());
    assert!(schemas::crd_version_schema(&crd, "example.com/v0", "Widget").is_err());
    assert!(schemas::crd_version_schema(&crd, "other.com/v1", "Widget").is_err());
    assert!(schemas::crd_version_schema(&crd, "example.com/v1", "Gadget").is_err());
}

#[test]
fn strict_transform_closes_declared_objects_but_respects_preserve_unknown_fields() {
    let schema = schemas::strict_crd_schema(json!({
        "type": "object",
        "properties": {
            "spec": {
                "type": "object",
                "properties": {
                    "closed": {"type": "object", "properties": {"a": {"type": "string"}}},
                    "open": {
                        "type": "object",
                        "x-kubernetes-preserve-unknown-fields": true,
                        "properties": {"a": {"type": "string"}},
                    },
                    "map": {"type": "object", "additionalProperties": {"type": "object", "properties": {"b": {"type": "integer"}}}},
                    "list": {"type": "array", "items": {"type": "object", "properties": {"c": {"type": "boolean"}}}},
                    "port": {"x-kubernetes-int-or-string": true},
                    "maybe": {"type": "string", "nullable": true, "enum": ["x"]},
                    "oneOfBranch": {
                        "type": "object",
                        "properties": {"a": {"type": "string"}, "b": {"type": "string"}},
                        "oneOf": [{"required": ["a"]}, {"required": ["b"], "properties": {"b": {"type": "string"}}}],
                    },
                },
            },
        },
    }));
    let spec = &schema["properties"]["spec"];
    assert_eq!(schema["additionalProperties"], false);
    assert_eq!(schema["properties"]["metadata"]["$ref"], schemas::OBJECT_META_REF);
    assert_eq!(spec["additionalProperties"], false);
    assert_eq!(spec["properties"]["closed"]["additionalProperties"], false);
    assert!(spec["properties"]["open"].get("additionalProperties").is_none());
    assert_eq!(spec["properties"]["map"]["additionalProperties"]["additionalProperties"], false);
    assert_eq!(spec["properties"]["list"]["items"]["additionalProperties"], false);
    assert_eq!(spec["properties"]["port"]["type"], json!(["integer", "string"]));
    assert_eq!(spec["properties"]["maybe"]["type"], json!(["string", "null"]));
    assert_eq!(spec["properties"]["maybe"]["enum"], json!(["x", null]));
    let branch = &spec["properties"]["oneOfBranch"];
    assert_eq!(branch["additionalProperties"], false);
    assert!(branch["oneOf"][1].get("additionalProperties").is_none(), "branches are not closed");
}

#[test]
fn yaml_file_with_leading_comment_is_parsed_and_validated() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("flinkdeployment.yaml");
    std::fs::write(&path, format!("# Generated by flinkops. DO NOT EDIT.\n{}", FLINK_DEPLOYMENT_1_15.trim_start())).unwrap();
    schemas::validate_yaml_file(&path, V1_15).unwrap();
    schemas::validate_yaml_file(&path, V1_16).unwrap();
    let errors = schemas::validate_yaml_file(&dir.path().join("missing.yaml"), V1_15).unwrap_err();
    assert!(errors[0].starts_with("cannot read"), "{errors:?}");
    std::fs::write(&path, "a: [unclosed\n").unwrap();
    assert!(schemas::validate_yaml_file(&path, V1_15).unwrap_err()[0].contains("YAML"));
}

#[test]
fn validate_tree_checks_every_manifest_but_skips_kustomization_yaml() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    std::fs::create_dir_all(root.join("prod/orders")).unwrap();
    std::fs::write(root.join("prod/orders/flinkdeployment.yaml"), FLINK_DEPLOYMENT_1_15).unwrap();
    std::fs::write(root.join("prod/orders/configmap.yaml"), CONFIGMAP).unwrap();
    // kustomize's own config is not a Kubernetes object with a schema here.
    std::fs::write(
        root.join("prod/kustomization.yaml"),
        "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources: [orders]\n",
    )
    .unwrap();
    std::fs::write(root.join("README.md"), "not yaml").unwrap();
    assert_eq!(schemas::manifest_files(root).unwrap().len(), 2);
    assert!(schemas::validate_tree(root, V1_15).is_empty());

    let bad = with(&yaml(CONFIGMAP), "/metadata/lables", json!({}));
    std::fs::write(root.join("prod/orders/bad.yaml"), serde_json::to_string(&bad).unwrap()).unwrap();
    let failures = schemas::validate_tree(root, V1_15);
    assert_eq!(failures.len(), 1, "{}", schemas::report(&failures));
    assert!(failures[0].0.ends_with("prod/orders/bad.yaml"));
    assert!(failures[0].1[0].starts_with("/metadata/lables: "));
}

#[test]
fn validate_tree_fails_on_a_missing_or_empty_directory_instead_of_passing_vacuously() {
    let dir = tempfile::tempdir().unwrap();
    let failures = schemas::validate_tree(dir.path(), V1_15);
    assert_eq!(failures.len(), 1);
    assert!(failures[0].1[0].starts_with("no *.yaml manifests"));
    let failures = schemas::validate_tree(&dir.path().join("nope"), V1_15);
    assert!(failures[0].1[0].starts_with("cannot walk"));
}
