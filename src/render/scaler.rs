//! Render phase: the scaling CronJobs of `scheduled` and `scheduled_hpa` pipelines and their
//! least-privilege RBAC (SPEC §6.3).
//!
//! In: a checked pipeline whose schedule entries were lowered by validate. Out: a
//! ServiceAccount, a Role allowing only `get` and `patch` on the one object it scales (by
//! `resourceNames`), a RoleBinding, and one CronJob per lowered schedule. Each CronJob runs
//! `sh -c` with its whole script inline: for `guarded`, a guard that reads the scheduled minute
//! from the Job's name and checks it against the zone's embedded offset table, then an idempotent
//! `kubectl patch … --type merge`.
//!
//! SPEC §16: a pipeline whose entries are all weekly also gets `<pipeline>-scaling-reconcile`,
//! a CronJob every 5 minutes whose script works out the entry in force now from the clock, the
//! entries' weekday/hour/minute sets and the zone's embedded offset table (the guard's row
//! format), reads the live object with `kubectl get` and patches it only when it differs.

use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};

use super::{Resource, metadata, object, pipeline_labels};
use crate::model::{Pipeline, Project, ScalingMode, ScheduleEntry, ScheduleStrategy};
use crate::schedule::{Cron, OffsetChange, RECONCILE_SUFFIX, RECONCILE_WINDOW_MINUTES};

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

/// `<pipeline>-scaling-reconcile`, shortened like every CronJob name.
pub fn reconcile_cronjob_name(p: &Pipeline) -> String {
    shorten(&format!("{}-{RECONCILE_SUFFIX}", p.name), MAX_CRONJOB_NAME)
}

/// What the scaling CronJobs of a pipeline patch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScaleTarget {
    /// `scheduled_hpa`: the HPA's `spec.minReplicas` and `spec.maxReplicas`.
    Hpa,
    /// `scheduled`: the FlinkDeployment's `spec.taskManager.replicas`.
    FlinkDeployment,
}

impl ScaleTarget {
    /// The target of a pipeline's scaling CronJobs.
    pub fn of(p: &Pipeline) -> ScaleTarget {
        if p.autoscaling.mode == ScalingMode::ScheduledHpa { ScaleTarget::Hpa } else { ScaleTarget::FlinkDeployment }
    }
    /// (kind for kubectl, API group, resource).
    fn api(self) -> (&'static str, &'static str, &'static str) {
        match self {
            ScaleTarget::Hpa => ("horizontalpodautoscaler", "autoscaling", "horizontalpodautoscalers"),
            ScaleTarget::FlinkDeployment => ("flinkdeployment", "flink.apache.org", "flinkdeployments"),
        }
    }
    /// The JSON merge patch that applies an entry.
    pub fn patch(self, e: &ScheduleEntry) -> String {
        match self {
            ScaleTarget::Hpa => json!({ "spec": { "minReplicas": e.min_replicas, "maxReplicas": e.max_replicas } }).to_string(),
            ScaleTarget::FlinkDeployment => json!({ "spec": { "taskManager": { "replicas": e.replicas } } }).to_string(),
        }
    }
    /// The fields the reconcile job reads back, as a `kubectl get -o jsonpath` template, in the
    /// order [`ScaleTarget::live`] prints them.
    fn jsonpath(self) -> &'static str {
        match self {
            ScaleTarget::Hpa => "{.spec.minReplicas} {.spec.maxReplicas}",
            ScaleTarget::FlinkDeployment => "{.spec.taskManager.replicas}",
        }
    }
    /// What that jsonpath prints when the object already carries the entry's values.
    pub fn live(self, e: &ScheduleEntry) -> String {
        match self {
            ScaleTarget::Hpa => format!("{} {}", e.min_replicas, e.max_replicas),
            ScaleTarget::FlinkDeployment => e.replicas.to_string(),
        }
    }
    fn fields(self) -> &'static str {
        match self {
            ScaleTarget::Hpa => "minReplicas maxReplicas",
            ScaleTarget::FlinkDeployment => "taskManager.replicas",
        }
    }
}

/// What a firing patches: (kind for kubectl, API group, resource, JSON merge patch).
fn target(p: &Pipeline, e: &ScheduleEntry) -> (&'static str, &'static str, &'static str, String) {
    let t = ScaleTarget::of(p);
    let (kind, group, plural) = t.api();
    (kind, group, plural, t.patch(e))
}

fn set_list(bits: u64, lo: u32, hi: u32) -> String {
    (lo..=hi).filter(|v| bits & (1u64 << v) != 0).map(|v| v.to_string()).collect::<Vec<_>>().join(" ")
}

/// The zone's offset table as shell: `o` = the offset (minutes) in force at epoch minute `$var`,
/// one `if` per change. With `since`, each row also sets `c` = the minute that offset took
/// effect (0 before the table's first change, where the first row's offset is extrapolated).
fn offset_rows(var: &str, offsets: &[OffsetChange], since: bool) -> String {
    let mut s = String::new();
    let (first, rest) = offsets.split_first().expect("the offset table has a first row");
    s.push_str(&format!("o={}{}\n", first.offset_minutes, if since { "; c=0" } else { "" }));
    for c in rest {
        let set_since = if since { format!(" c={};", c.at_epoch_minute) } else { String::new() };
        s.push_str(&format!("if [ \"${var}\" -ge {} ]; then o={};{set_since} fi\n", c.at_epoch_minute, c.offset_minutes));
    }
    s
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
    s.push_str(&offset_rows("t", offsets, false));
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

/// Values listed in descending order, space-separated (the reconcile scan tries the latest first).
fn desc_list(bits: u64, lo: u32, hi: u32) -> String {
    (lo..=hi).rev().filter(|v| bits & (1u64 << v) != 0).map(|v| v.to_string()).collect::<Vec<_>>().join(" ")
}

/// The reconcile job's scan: `f` = the latest local minute in `[$1, $2]` (minutes since
/// 1970-01-01 in local time) on weekdays `$3` at hours `$4` and minutes `$5` (both descending),
/// else -1. Day by day from the latest: the first candidate not after `$2` is the day's latest,
/// and if it is before `$1` so is everything earlier.
const SCAN: &str = r#"scan() {
  f=-1; d=$(($2 / 1440))
  while [ $((d * 1440 + 1439)) -ge "$1" ]; do
    case " $3 " in *" $(((d + 4) % 7)) "*)
      for h in $4; do for m in $5; do
        x=$((d * 1440 + h * 60 + m))
        if [ "$x" -le "$2" ]; then
          if [ "$x" -ge "$1" ]; then f=$x; fi
          return 0
        fi
      done; done ;;
    esac
    d=$((d - 1))
  done
}
"#;

/// The reconcile job's whole `sh -c` script (SPEC §16) for `entries`, which must all be parsed
/// and weekly ([`Cron::weekly_days`]). It reads the clock (`date +%s`: unlike the guard it wants
/// *now*, not a scheduled minute), finds the latest firing at or before the current minute within
/// the last 7 days, reads the live `object` in `namespace` with `kubectl get` and patches it only
/// when it differs. POSIX `sh` arithmetic, `date` and `kubectl` only: no time-zone database.
///
/// How: the window `[now − 7 days + 1 min, now]` is walked back one offset period at a time (the
/// offset table's rows give each period's offset `o` and start `c`); inside a period local time
/// is UTC + o, so the latest local minute matching an entry gives the period's latest firing, and
/// the latest period holding one holds the answer. Local minutes skipped by a spring-forward
/// change belong to no period, and those repeated by a fall-back change belong to two: exactly
/// §6.3's meaning of a schedule.
pub fn reconcile_script(
    target: ScaleTarget,
    object: &str,
    namespace: &str,
    zone: &str,
    offsets: &[OffsetChange],
    entries: &[ScheduleEntry],
) -> String {
    let (kind, _, _) = target.api();
    let mut s = String::from("set -eu\n");
    s.push_str(&format!(
        "# Reconcile (SPEC §16): apply the schedule entry in force now, the latest firing in {zone} at or before\n\
         # this minute within the last 7 days; patch {kind} {object} only if it differs.\n"
    ));
    s.push_str(&format!(
        "# off T: o = UTC offset of {zone} in minutes at epoch minute T, in force since minute c (embedded: no tz database needed).\n"
    ));
    s.push_str("off() {\n");
    s.push_str(&offset_rows("1", offsets, true));
    s.push_str("}\n");
    s.push_str("# scan LO HI DAYS HOURS MINUTES: f = the latest local minute in [LO, HI] (minutes since 1970-01-01, local) on\n");
    s.push_str("# weekdays DAYS (0 = Sunday) at HOURS and MINUTES (both descending), else -1. Day 0 was a Thursday.\n");
    s.push_str(SCAN);
    s.push_str("# latest LO HI: w = the latest local minute in [LO, HI] at which an entry fires and e = that entry, else w = -1.\n");
    s.push_str("latest() {\n  w=-1\n");
    for (i, e) in entries.iter().enumerate() {
        let cron = e.cron.cron();
        let days = cron.weekly_days().expect("the reconcile job is rendered for weekly entries only");
        s.push_str(&format!(
            "  scan \"$1\" \"$2\" \"{}\" \"{}\" \"{}\"; if [ \"$f\" -gt \"$w\" ]; then w=$f; e={}; fi # {}: {}\n",
            set_list(u64::from(days), 0, 6),
            desc_list(u64::from(cron.hour_bits()), 0, 23),
            desc_list(cron.minute_bits(), 0, 59),
            i + 1,
            e.name,
            e.cron
        ));
    }
    s.push_str("}\n");
    s.push_str("now=$(date +%s)\n");
    s.push_str("case $now in ''|*[!0-9]*) echo \"flinkops reconcile: cannot read the clock: '$now'\" >&2; exit 1 ;; esac\n");
    s.push_str("# Walk the window back one offset period at a time; the latest period with a firing holds the latest one.\n");
    s.push_str(&format!("now=$((now / 60)); lo=$((now - {})); t=$now; at=-1\n", RECONCILE_WINDOW_MINUTES - 1));
    s.push_str("while [ \"$at\" -lt 0 ] && [ \"$t\" -ge \"$lo\" ]; do\n");
    s.push_str("  off \"$t\"; if [ \"$c\" -gt \"$lo\" ]; then a=$c; else a=$lo; fi\n");
    s.push_str("  latest $((a + o)) $((t + o)); if [ \"$w\" -ge 0 ]; then at=$((w - o)); fi\n");
    s.push_str("  t=$((a - 1))\n");
    s.push_str("done\n");
    s.push_str(
        "if [ \"$at\" -lt 0 ]; then echo \"flinkops reconcile: no schedule entry fired in the last 7 days; nothing to do\"; exit 0; fi\n",
    );
    s.push_str("case $e in\n");
    for (i, e) in entries.iter().enumerate() {
        s.push_str(&format!("{}) n={}; want='{}'; p='{}' ;;\n", i + 1, e.name, target.live(e), target.patch(e)));
    }
    s.push_str("esac\n");
    s.push_str(&format!("live=$(kubectl get {kind} {object} -n {namespace} -o jsonpath='{}')\n", target.jsonpath()));
    let fields = target.fields();
    s.push_str(&format!(
        "if [ \"$live\" = \"$want\" ]; then echo \"flinkops reconcile: $n in force since minute $at; {fields} already $want\"; exit 0; fi\n"
    ));
    s.push_str(&format!("echo \"flinkops reconcile: $n in force since minute $at; {fields} '$live', setting $want\"\n"));
    s.push_str(&format!("kubectl patch {kind} {object} -n {namespace} --type merge -p \"$p\"\n"));
    s
}

/// The CronJob's whole `sh -c` script.
pub fn script(p: &Pipeline, e: &ScheduleEntry) -> String {
    let (kind, _, _, patch) = target(p, e);
    let mut s = String::from("set -eu\n");
    if p.autoscaling.strategy == ScheduleStrategy::Guarded {
        let cron = e.cron.cron();
        s.push_str(&guard_script(cron, &p.autoscaling.timezone, &e.guard_offsets));
    }
    s.push_str(&format!("kubectl patch {kind} {} -n {} --type merge -p '{patch}'\n", p.name, p.namespace));
    s
}

/// ServiceAccount, Role, RoleBinding, the entries' CronJobs and the reconcile CronJob (when the
/// entries are all weekly); empty for modes without CronJobs.
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
    let base = CronJobBase { p, image: &image, service_account: &sa };
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
            out.push(base.cronjob(&name, schedule, p.autoscaling.cronjob_time_zone.as_deref(), &script, env, &pod_labels));
        }
    }
    if let Some(offsets) = &p.autoscaling.reconcile_offsets {
        let a = &p.autoscaling;
        let script = reconcile_script(ScaleTarget::of(p), &p.name, &p.namespace, &a.timezone, offsets, &a.schedule);
        // `*/5 * * * *` fires at the same instants in every zone whose offset is a multiple of 5
        // minutes (all of them since 1979), so spec.timeZone only pins it on clusters that have it.
        let tz = (project.kubernetes >= (1, 27)).then_some("Etc/UTC");
        let env = vec![json!({ "name": "HOME", "value": "/tmp" })];
        out.push(base.cronjob(&reconcile_cronjob_name(p), "*/5 * * * *", tz, &script, env, &labels));
    }
    out
}

/// What every scaling CronJob of a pipeline shares: its pipeline, the scaler image and the
/// ServiceAccount whose Role may get and patch the one object it scales.
struct CronJobBase<'a> {
    p: &'a Pipeline,
    image: &'a str,
    service_account: &'a str,
}

impl CronJobBase<'_> {
    /// A CronJob running `script` with `sh -c` in a locked-down pod (SPEC §6.3).
    fn cronjob(
        &self,
        name: &str,
        schedule: &str,
        time_zone: Option<&str>,
        script: &str,
        env: Vec<Value>,
        labels: &Map<String, Value>,
    ) -> Resource {
        let p = self.p;
        let mut spec = Map::new();
        spec.insert("schedule".into(), json!(schedule));
        if let Some(tz) = time_zone {
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
                        "serviceAccountName": self.service_account,
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
                            "image": self.image,
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
        job["metadata"]["labels"] = Value::Object(labels.clone());
        job["spec"]["template"]["metadata"]["labels"] = Value::Object(labels.clone());
        job["spec"]["template"]["spec"]["containers"][0]["env"] = Value::Array(env);
        spec.insert("jobTemplate".into(), job);
        Resource::for_pipeline(
            p,
            object([
                ("apiVersion", "batch/v1".into()),
                ("kind", "CronJob".into()),
                ("metadata", metadata(name, Some(&p.namespace), labels.clone(), Map::new())),
                ("spec", Value::Object(spec)),
            ]),
        )
    }
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
