//! Render phase: the scaling CronJobs of `scheduled` and `scheduled_hpa` pipelines and their
//! least-privilege RBAC (SPEC §6.3).
//!
//! In: a checked pipeline whose schedule entries were lowered by validate. Out: a
//! ServiceAccount, a Role allowing only `get` and `patch` on the one object it scales (by
//! `resourceNames`), a RoleBinding, and one CronJob per lowered schedule. Each CronJob runs
//! `sh -c` with its whole script inline: for `guarded`, a guard that reads the scheduled minute
//! from the Job's name and checks it against the zone's embedded offset table, then an idempotent
//! `kubectl patch … --type merge`.

use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};

use super::{Resource, metadata, object, pipeline_labels};
use crate::model::{Pipeline, Project, ScalingMode, ScheduleEntry, ScheduleStrategy};
use crate::schedule::{Cron, OffsetChange};

/// Longest CronJob name: the controller appends `-<11 digits>` to name its Jobs (63 max).
pub const MAX_CRONJOB_NAME: usize = 52;

/// `<pipeline>-scaler`
pub fn scaler_name(p: &Pipeline) -> String {
    format!("{}-scaler", p.name)
}

/// Shortens `full` to `max` characters deterministically: a prefix, `-`, and 8 hex digits of
/// the sha256 of the full name (so two long names never shorten to the same one in practice).
pub fn shorten(full: &str, max: usize) -> String {
    if full.len() <= max {
        return full.to_string();
    }
    let hash: String = Sha256::digest(full.as_bytes()).iter().take(4).map(|b| format!("{b:02x}")).collect();
    let prefix = full[..max - 9].trim_end_matches('-');
    format!("{prefix}-{hash}")
}

/// `<pipeline>-<entry>`, with `-<n>` when the entry needs several CronJobs.
pub fn cronjob_names(p: &Pipeline, e: &ScheduleEntry) -> Vec<String> {
    let n = e.schedules.len();
    (1..=n)
        .map(|i| {
            let full = if n == 1 { format!("{}-{}", p.name, e.name) } else { format!("{}-{}-{i}", p.name, e.name) };
            shorten(&full, MAX_CRONJOB_NAME)
        })
        .collect()
}

/// What a firing patches: (kind for kubectl, API group, resource, JSON merge patch).
fn target(p: &Pipeline, e: &ScheduleEntry) -> (&'static str, &'static str, &'static str, String) {
    match p.autoscaling.mode {
        ScalingMode::ScheduledHpa => (
            "horizontalpodautoscaler",
            "autoscaling",
            "horizontalpodautoscalers",
            json!({ "spec": { "minReplicas": e.min_replicas, "maxReplicas": e.max_replicas } }).to_string(),
        ),
        _ => (
            "flinkdeployment",
            "flink.apache.org",
            "flinkdeployments",
            json!({ "spec": { "taskManager": { "replicas": e.replicas } } }).to_string(),
        ),
    }
}

fn set_list(bits: u64, lo: u32, hi: u32) -> String {
    (lo..=hi).filter(|v| bits & (1u64 << v) != 0).map(|v| v.to_string()).collect::<Vec<_>>().join(" ")
}

/// The guard: exits 0 without acting unless the scheduled minute is a firing of the entry's
/// cron in its zone. POSIX sh arithmetic only: no clock, no time-zone database.
pub fn guard_script(cron: &Cron, zone: &str, offsets: &[OffsetChange]) -> String {
    let mut s = String::new();
    s.push_str(&format!("# Guard: act only if the scheduled minute is a firing of `{cron}` in {zone}.\n"));
    s.push_str("# The minute comes from the Job name (<cronjob>-<minutes since 1970-01-01 UTC>), never the clock.\n");
    s.push_str("t=${JOB_NAME##*-}\n");
    s.push_str("case $t in ''|*[!0-9]*) echo \"flinkops guard: no scheduled minute in job name '$JOB_NAME'\" >&2; exit 1 ;; esac\n");
    s.push_str(&format!("# UTC offset of {zone} in minutes, from each change on (embedded: no tz database needed).\n"));
    let (first, rest) = offsets.split_first().expect("the offset table has a first row");
    s.push_str(&format!("o={}\n", first.offset_minutes));
    for c in rest {
        s.push_str(&format!("if [ \"$t\" -ge {} ]; then o={}; fi\n", c.at_epoch_minute, c.offset_minutes));
    }
    // Local wall-clock fields from epoch minutes; the date is Howard Hinnant's civil_from_days.
    s.push_str("l=$((t + o)); mi=$((l % 60)); h=$((l / 60 % 24)); days=$((l / 1440)); dw=$(((days + 4) % 7))\n");
    s.push_str("z=$((days + 719468)); era=$((z / 146097)); doe=$((z - era * 146097))\n");
    s.push_str("yoe=$(((doe - doe / 1460 + doe / 36524 - doe / 146096) / 365)); doy=$((doe - (365 * yoe + yoe / 4 - yoe / 100)))\n");
    s.push_str("mp=$(((5 * doy + 2) / 153)); dm=$((doy - (153 * mp + 2) / 5 + 1)); mo=$((mp + 3 - 12 * (mp >= 10)))\n");
    s.push_str("has() { case \" $2 \" in *\" $1 \"*) return 0 ;; esac; return 1; }\n");
    let mut conds = vec![];
    if cron.minute_bits() != (1u64 << 60) - 1 {
        conds.push(format!("has \"$mi\" \"{}\"", set_list(cron.minute_bits(), 0, 59)));
    }
    if cron.hour_bits() != (1u32 << 24) - 1 {
        conds.push(format!("has \"$h\" \"{}\"", set_list(u64::from(cron.hour_bits()), 0, 23)));
    }
    if cron.month_bits() != 0b1_1111_1111_1110 {
        conds.push(format!("has \"$mo\" \"{}\"", set_list(u64::from(cron.month_bits()), 1, 12)));
    }
    let dom = format!("has \"$dm\" \"{}\"", set_list(u64::from(cron.dom_bits()), 1, 31));
    let dow = format!("has \"$dw\" \"{}\"", set_list(u64::from(cron.dow_bits()), 0, 6));
    match (cron.dom_restricted(), cron.dow_restricted()) {
        (true, true) => conds.push(format!("{{ {dom} || {dow}; }}")),
        (true, false) => conds.push(dom),
        (false, true) => conds.push(dow),
        (false, false) => {}
    }
    if !conds.is_empty() {
        s.push_str(&format!(
            "if {}; then :; else echo \"flinkops guard: minute $t is not a firing in {zone}; nothing to do\"; exit 0; fi\n",
            conds.join(" && ")
        ));
    }
    s
}

/// The CronJob's whole `sh -c` script.
pub fn script(p: &Pipeline, e: &ScheduleEntry) -> String {
    let (kind, _, _, patch) = target(p, e);
    let mut s = String::from("set -eu\n");
    if p.autoscaling.strategy == ScheduleStrategy::Guarded {
        let cron = e.parsed.as_ref().expect("validated entries are parsed");
        s.push_str(&guard_script(cron, &p.autoscaling.timezone, &e.guard_offsets));
    }
    s.push_str(&format!("kubectl patch {kind} {} -n {} --type merge -p '{patch}'\n", p.name, p.namespace));
    s
}

/// ServiceAccount, Role, RoleBinding and the CronJobs; empty for modes without CronJobs.
pub fn render(project: &Project, p: &Pipeline) -> Vec<Resource> {
    if !matches!(p.autoscaling.mode, ScalingMode::Scheduled | ScalingMode::ScheduledHpa) {
        return vec![];
    }
    let labels = pipeline_labels(project, p);
    let sa = scaler_name(p);
    let (_, group, plural, _) = match p.autoscaling.schedule.first() {
        Some(e) => target(p, e),
        None => return vec![],
    };
    let mut out = vec![
        Resource::for_pipeline(
            p,
            object([
                ("apiVersion", "v1".into()),
                ("kind", "ServiceAccount".into()),
                ("metadata", metadata(&sa, Some(&p.namespace), labels.clone(), Map::new())),
                // Only the scaler pods mount a token, and they say so themselves.
                ("automountServiceAccountToken", false.into()),
            ]),
        ),
        Resource::for_pipeline(
            p,
            object([
                ("apiVersion", "rbac.authorization.k8s.io/v1".into()),
                ("kind", "Role".into()),
                ("metadata", metadata(&sa, Some(&p.namespace), labels.clone(), Map::new())),
                ("rules", json!([{ "apiGroups": [group], "resources": [plural], "resourceNames": [p.name], "verbs": ["get", "patch"] }])),
            ]),
        ),
        Resource::for_pipeline(
            p,
            object([
                ("apiVersion", "rbac.authorization.k8s.io/v1".into()),
                ("kind", "RoleBinding".into()),
                ("metadata", metadata(&sa, Some(&p.namespace), labels.clone(), Map::new())),
                ("subjects", json!([{ "kind": "ServiceAccount", "name": sa, "namespace": p.namespace }])),
                ("roleRef", json!({ "apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": sa })),
            ]),
        ),
    ];
    let image = project.scaler_image.clone().unwrap_or_default();
    let job_name_label = if project.kubernetes >= (1, 27) { "batch.kubernetes.io/job-name" } else { "job-name" };
    for e in &p.autoscaling.schedule {
        let script = script(p, e);
        let mut pod_labels = labels.clone();
        pod_labels.insert("flinkops.dev/schedule-entry".into(), json!(e.name));
        pod_labels.sort_keys();
        for (name, schedule) in cronjob_names(p, e).into_iter().zip(&e.schedules) {
            let mut env = vec![json!({ "name": "HOME", "value": "/tmp" })];
            if p.autoscaling.strategy == ScheduleStrategy::Guarded {
                env.push(json!({
                    "name": "JOB_NAME",
                    "valueFrom": { "fieldRef": { "fieldPath": format!("metadata.labels['{job_name_label}']") } },
                }));
            }
            let mut spec = Map::new();
            spec.insert("schedule".into(), json!(schedule));
            if let Some(tz) = &p.autoscaling.cronjob_time_zone {
                spec.insert("timeZone".into(), json!(tz));
            }
            spec.insert("concurrencyPolicy".into(), json!("Forbid"));
            spec.insert("startingDeadlineSeconds".into(), json!(300));
            spec.insert("successfulJobsHistoryLimit".into(), json!(3));
            spec.insert("failedJobsHistoryLimit".into(), json!(3));
            // The labels and env are moved in below (`json!` would copy them).
            let mut job = json!({
                "metadata": { "labels": null },
                "spec": {
                    "backoffLimit": 3,
                    "activeDeadlineSeconds": 600,
                    "ttlSecondsAfterFinished": 86400,
                    "template": {
                        "metadata": { "labels": null },
                        "spec": {
                            "serviceAccountName": sa,
                            // No automounted long-lived token: the projected volume below gives
                            // kubectl the same in-cluster files with a 10-minute token.
                            "automountServiceAccountToken": false,
                            "restartPolicy": "Never",
                            "securityContext": {
                                "runAsNonRoot": true,
                                "runAsUser": 65532,
                                "runAsGroup": 65532,
                                "seccompProfile": { "type": "RuntimeDefault" },
                            },
                            "containers": [{
                                "name": "scaler",
                                "image": image,
                                "imagePullPolicy": "IfNotPresent",
                                "command": ["sh", "-c", script],
                                "env": null,
                                "resources": {
                                    "requests": { "cpu": "50m", "memory": "64Mi" },
                                    "limits": { "cpu": "200m", "memory": "128Mi" },
                                },
                                "securityContext": {
                                    "allowPrivilegeEscalation": false,
                                    "privileged": false,
                                    "readOnlyRootFilesystem": true,
                                    "runAsNonRoot": true,
                                    "capabilities": { "drop": ["ALL"] },
                                },
                                // kubectl writes its discovery cache under $HOME.
                                "volumeMounts": [
                                    { "name": "tmp", "mountPath": "/tmp" },
                                    { "name": "kube-api-access", "mountPath": "/var/run/secrets/kubernetes.io/serviceaccount", "readOnly": true },
                                ],
                            }],
                            "volumes": [
                                { "name": "tmp", "emptyDir": { "sizeLimit": "16Mi" } },
                                {
                                    "name": "kube-api-access",
                                    "projected": {
                                        "sources": [
                                            { "serviceAccountToken": { "path": "token", "expirationSeconds": 600 } },
                                            { "configMap": { "name": "kube-root-ca.crt", "items": [{ "key": "ca.crt", "path": "ca.crt" }] } },
                                            { "downwardAPI": { "items": [{ "path": "namespace", "fieldRef": { "fieldPath": "metadata.namespace" } }] } },
                                        ],
                                    },
                                },
                            ],
                        },
                    },
                },
            });
            job["metadata"]["labels"] = Value::Object(pod_labels.clone());
            job["spec"]["template"]["metadata"]["labels"] = Value::Object(pod_labels.clone());
            job["spec"]["template"]["spec"]["containers"][0]["env"] = Value::Array(env);
            spec.insert("jobTemplate".into(), job);
            out.push(Resource::for_pipeline(
                p,
                object([
                    ("apiVersion", "batch/v1".into()),
                    ("kind", "CronJob".into()),
                    ("metadata", metadata(&name, Some(&p.namespace), pod_labels.clone(), Map::new())),
                    ("spec", Value::Object(spec)),
                ]),
            ));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_names_are_shortened_deterministically_with_a_hash() {
        let full = format!("{}-{}", "a".repeat(45), "workday-morning-scale-up");
        let s = shorten(&full, MAX_CRONJOB_NAME);
        assert_eq!(s.len(), MAX_CRONJOB_NAME);
        assert_eq!(s, shorten(&full, MAX_CRONJOB_NAME));
        assert_ne!(s, shorten(&format!("{full}-2"), MAX_CRONJOB_NAME), "different full names stay different");
        assert!(s[..43].chars().all(|c| c == 'a' || c == '-'));
        assert_eq!(shorten("short-name", 52), "short-name");
    }
}
