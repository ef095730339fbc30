//! Change impact (SPEC §15): what applying a change to a FlinkDeployment makes the Flink
//! Kubernetes Operator 1.15 do to the running job.
//!
//! Runs after the sync phase: in, the [`Change`]s of a run (old and new bytes of each file that
//! differs); out, for every FlinkDeployment that changes, an [`Impact`] word and the sorted JSON
//! pointers that decided it. FlinkDeployments are found by their `kind`, never by their path, and
//! an object whose file moved is paired with itself by (env label, namespace, name).
//!
//! [`classify`] walks SPEC §15's table in its order (first matching row wins). Which spec changes
//! count, and how, comes from the operator's own rules (release-1.15.0):
//! - `DefaultValidator.validateSpecChange` / `validateFlinkVersion`
//!   (flink-kubernetes-operator/.../validation/DefaultValidator.java) reject a mode switch and a
//!   `flinkVersion` change after a last-state suspend;
//! - `ReflectiveDiffBuilder` (flink-kubernetes-operator/.../reconciler/diff/ReflectiveDiffBuilder.java)
//!   with the `@SpecDiff` annotations on `JobSpec`, `AbstractFlinkSpec` and `TaskManagerSpec`
//!   (flink-kubernetes-operator-api/.../api/spec/) and `DiffType` (IGNORE < SCALE < UPGRADE <
//!   SAVEPOINT_REDEPLOY) decide which changes the reconciler ignores ([`operator_ignores`]);
//! - `StandaloneFlinkService.scale` scales in place only with `scheduler-mode: reactive`.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::sync::Change;

/// What the operator does when a FlinkDeployment change is applied (SPEC §15).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Impact {
    Create,
    Delete,
    Rejected,
    Rerun,
    StateIncompatible,
    UpgradeStateless,
    Suspend,
    Resume,
    Restore,
    Savepoint,
    Restart,
    Rescale,
    Upgrade,
    None,
}

impl Impact {
    /// Every impact, in the order of SPEC §15's table.
    pub const ALL: [Impact; 14] = [
        Impact::Create,
        Impact::Delete,
        Impact::Rejected,
        Impact::Rerun,
        Impact::StateIncompatible,
        Impact::UpgradeStateless,
        Impact::Suspend,
        Impact::Resume,
        Impact::Restore,
        Impact::Savepoint,
        Impact::Restart,
        Impact::Rescale,
        Impact::Upgrade,
        Impact::None,
    ];

    /// The word SPEC §15 uses (`state-incompatible`, `upgrade-stateless`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            Impact::Create => "create",
            Impact::Delete => "delete",
            Impact::Rejected => "rejected",
            Impact::Rerun => "rerun",
            Impact::StateIncompatible => "state-incompatible",
            Impact::UpgradeStateless => "upgrade-stateless",
            Impact::Suspend => "suspend",
            Impact::Resume => "resume",
            Impact::Restore => "restore",
            Impact::Savepoint => "savepoint",
            Impact::Restart => "restart",
            Impact::Rescale => "rescale",
            Impact::Upgrade => "upgrade",
            Impact::None => "none",
        }
    }

    /// The impact a word names, if any.
    pub fn parse(word: &str) -> Option<Impact> {
        Impact::ALL.into_iter().find(|i| i.as_str() == word)
    }
}

impl std::fmt::Display for Impact {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An impact and the changed JSON pointers (under the FlinkDeployment, sorted) that decided it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verdict {
    pub impact: Impact,
    pub reasons: Vec<String>,
}

/// The annotation that marks a bounded job (SPEC §13.4).
pub const BOUNDED_ANNOTATION: &str = "flinkops.dev/bounded";

const MODE: &str = "/spec/mode";
const FLINK_VERSION: &str = "/spec/flinkVersion";
const MAX_PARALLELISM: &str = "/spec/flinkConfiguration/pipeline.max-parallelism";
const JOB_STATE: &str = "/spec/job/state";
const REDEPLOY_NONCE: &str = "/spec/job/savepointRedeployNonce";
const SAVEPOINT_NONCE: &str = "/spec/job/savepointTriggerNonce";
const RESTART_NONCE: &str = "/spec/restartNonce";
const TM_REPLICAS: &str = "/spec/taskManager/replicas";
const JOB_PARALLELISM: &str = "/spec/job/parallelism";

/// Escapes one JSON pointer token (RFC 6901: `~` → `~0`, `/` → `~1`).
fn token(key: &str) -> String {
    key.replace('~', "~0").replace('/', "~1")
}

/// The pointers of every leaf that differs between `a` and `b`, `at` being their own pointer.
/// Objects are compared key by key; arrays and scalars as wholes — as the operator's
/// `ReflectiveDiffBuilder` compares a field that is not `Diffable` with `equals` (and
/// `flinkConfiguration` key by key).
fn changed_pointers(at: &str, a: Option<&Value>, b: Option<&Value>, out: &mut Vec<String>) {
    match (a, b) {
        (Some(Value::Object(x)), Some(Value::Object(y))) => {
            let keys: std::collections::BTreeSet<&String> = x.keys().chain(y.keys()).collect();
            for k in keys {
                changed_pointers(&format!("{at}/{}", token(k)), x.get(k), y.get(k), out);
            }
        }
        (a, b) if a == b => {}
        _ => out.push(at.to_string()),
    }
}

fn get<'a>(v: &'a Value, pointer: &str) -> Option<&'a Value> {
    v.pointer(pointer).filter(|x| !x.is_null())
}

fn str_at<'a>(v: &'a Value, pointer: &str) -> Option<&'a str> {
    get(v, pointer).and_then(Value::as_str)
}

/// `spec.mode`; an absent mode is native (`DefaultValidator.validateSpecChange`).
fn mode(v: &Value) -> &str {
    str_at(v, MODE).unwrap_or("native")
}

/// `spec.job.upgradeMode`; absent means stateless (`JobSpec.upgradeMode` defaults to
/// `UpgradeMode.STATELESS`).
fn upgrade_mode(v: &Value) -> &str {
    str_at(v, "/spec/job/upgradeMode").unwrap_or("stateless")
}

/// `spec.job.state`; absent means running (`JobSpec.state` defaults to `JobState.RUNNING`).
fn job_state(v: &Value) -> &str {
    str_at(v, JOB_STATE).unwrap_or("running")
}

fn is_bounded(v: &Value) -> bool {
    v.pointer("/metadata/annotations").and_then(|a| a.get(BOUNDED_ANNOTATION)).and_then(Value::as_str) == Some("true")
}

/// The reactive scheduler: `scheduler-mode: reactive` (Flink then uses the adaptive scheduler
/// whatever `jobmanager.scheduler` says; flinkops emits only `scheduler-mode` for its reactive
/// modes). `StandaloneFlinkService.scale` checks exactly this option.
fn is_reactive(v: &Value) -> bool {
    v.pointer("/spec/flinkConfiguration").and_then(|c| c.get("scheduler-mode")).and_then(Value::as_str) == Some("reactive")
}

/// Whether the operator's spec diff ignores a change at `pointer` (`DiffType.IGNORE`), with
/// the new object `new`:
/// - `JobSpec`: `upgradeMode`, `allowNonRestoredState`, `initialSavepointPath`,
///   `savepointTriggerNonce`, `checkpointTriggerNonce`, `autoscalerResetNonce` are
///   `@SpecDiff(DiffType.IGNORE)` (the savepoint nonce is acted on by the observer, not the
///   reconciler: the `savepoint` row catches it first);
/// - `AbstractFlinkSpec.flinkConfiguration`: keys starting `job.autoscaler`, `parallelism.default`
///   and `kubernetes.operator` are `@SpecDiff.Entry(type = IGNORE)`;
/// - `AbstractFlinkSpec.restartNonce` and `JobSpec.savepointRedeployNonce` are
///   `@SpecDiff(onNullIgnore = true)`: removing them does nothing.
fn operator_ignores(pointer: &str, new: &Value) -> bool {
    const JOB_IGNORED: [&str; 6] = [
        "upgradeMode",
        "allowNonRestoredState",
        "initialSavepointPath",
        "savepointTriggerNonce",
        "checkpointTriggerNonce",
        "autoscalerResetNonce",
    ];
    const CONF_IGNORED: [&str; 3] = ["job.autoscaler", "parallelism.default", "kubernetes.operator"];
    if let Some(field) = pointer.strip_prefix("/spec/job/")
        && JOB_IGNORED.contains(&field)
    {
        return true;
    }
    if let Some(key) = pointer.strip_prefix("/spec/flinkConfiguration/")
        && CONF_IGNORED.iter().any(|p| key.replace("~1", "/").replace("~0", "~").starts_with(p))
    {
        return true;
    }
    (pointer == RESTART_NONCE || pointer == REDEPLOY_NONCE) && get(new, pointer).is_none()
}

/// One row of SPEC §15's table: its impact and, when it matches, the pointers that decided it.
struct Row {
    impact: Impact,
    matches: fn(&Facts) -> Option<Vec<String>>,
}

/// What the rows look at, computed once per pair.
struct Facts<'a> {
    old: &'a Value,
    new: &'a Value,
    /// Every changed pointer, metadata included.
    all: Vec<String>,
    /// Changed pointers under `/spec` that the operator does not ignore.
    effective: Vec<String>,
}

impl Facts<'_> {
    fn changed(&self, pointer: &str) -> bool {
        self.all.iter().any(|p| p == pointer)
    }

    /// The changed pointers under `/spec`, ignored ones included.
    fn spec_changes(&self) -> Vec<String> {
        self.all.iter().filter(|p| p.starts_with("/spec/") || *p == "/spec").cloned().collect()
    }

    /// `Some(effective)` when a non-ignored spec change exists.
    fn effective_change(&self) -> Option<Vec<String>> {
        (!self.effective.is_empty()).then(|| self.effective.clone())
    }
}

fn one(p: &str) -> Option<Vec<String>> {
    Some(vec![p.to_string()])
}

/// SPEC §15's table in its order; `create` and `delete` (one side absent) are decided before.
const ROWS: &[Row] = &[
    Row {
        impact: Impact::Rejected,
        matches: |f| {
            // DefaultValidator.validateSpecChange: "Cannot switch from native kubernetes to
            // standalone kubernetes cluster" (and back); an absent mode is native.
            if mode(f.old) != mode(f.new) {
                return one(MODE);
            }
            // DefaultValidator.validateFlinkVersion: "Changing flinkVersion after last-state
            // suspend is not allowed" — checked only when the new upgrade mode is not stateless.
            let version_changed = get(f.old, FLINK_VERSION) != get(f.new, FLINK_VERSION);
            (version_changed
                && job_state(f.old) == "suspended"
                && upgrade_mode(f.old) == "last-state"
                && upgrade_mode(f.new) != "stateless")
                .then(|| vec![FLINK_VERSION.to_string()])
        },
    },
    Row {
        impact: Impact::Rerun,
        // The operator redeploys a finished job on any spec change it does not ignore
        // (AbstractJobReconciler): a bounded job runs again from the start.
        matches: |f| if is_bounded(f.old) || is_bounded(f.new) { f.effective_change() } else { None },
    },
    Row {
        impact: Impact::StateIncompatible,
        matches: |f| {
            // AbstractJobReconciler suspends with the *new* spec's upgrade mode; a savepoint or
            // last-state taken with the old key groups cannot be restored with the new ones.
            let stateful = matches!(upgrade_mode(f.new), "savepoint" | "last-state");
            (stateful && f.changed(MAX_PARALLELISM)).then(|| vec![MAX_PARALLELISM.to_string()])
        },
    },
    Row { impact: Impact::UpgradeStateless, matches: |f| if upgrade_mode(f.new) == "stateless" { f.effective_change() } else { None } },
    Row {
        impact: Impact::Suspend,
        matches: |f| (job_state(f.old) == "running" && job_state(f.new) == "suspended").then(|| vec![JOB_STATE.into()]),
    },
    Row {
        impact: Impact::Resume,
        matches: |f| (job_state(f.old) == "suspended" && job_state(f.new) == "running").then(|| vec![JOB_STATE.into()]),
    },
    Row {
        impact: Impact::Restore,
        // DiffType.SAVEPOINT_REDEPLOY, onNullIgnore: only a change to a non-null nonce.
        matches: |f| (f.changed(REDEPLOY_NONCE) && get(f.new, REDEPLOY_NONCE).is_some()).then(|| vec![REDEPLOY_NONCE.into()]),
    },
    Row {
        impact: Impact::Savepoint,
        // The observer triggers a savepoint when the nonce changes to a non-null value; the spec
        // diff ignores it, so "only this changes" means no other effective change.
        matches: |f| {
            (f.changed(SAVEPOINT_NONCE) && get(f.new, SAVEPOINT_NONCE).is_some() && f.effective.is_empty())
                .then(|| vec![SAVEPOINT_NONCE.into()])
        },
    },
    Row {
        impact: Impact::Restart,
        // "Only restartNonce": a savepoint nonce changing with it is not "only" either way.
        matches: |f| (f.effective == [RESTART_NONCE] && !f.changed(SAVEPOINT_NONCE)).then(|| vec![RESTART_NONCE.into()]),
    },
    Row {
        impact: Impact::Rescale,
        // TaskManagerSpec.replicas and JobSpec.parallelism are DiffType.SCALE in standalone mode
        // only, and StandaloneFlinkService.scale refuses without the reactive scheduler.
        matches: |f| {
            let only_scale = f.effective.iter().all(|p| p == TM_REPLICAS || p == JOB_PARALLELISM);
            (!f.effective.is_empty() && only_scale && mode(f.new) == "standalone" && is_reactive(f.new)).then(|| f.effective.clone())
        },
    },
    Row { impact: Impact::Upgrade, matches: |f| f.effective_change() },
];

/// Classifies one FlinkDeployment change (`None` = absent on that side) by SPEC §15's table.
pub fn classify(old: Option<&Value>, new: Option<&Value>) -> Verdict {
    let (old, new) = match (old, new) {
        (None, None) => return Verdict { impact: Impact::None, reasons: vec![] },
        (None, Some(_)) => return Verdict { impact: Impact::Create, reasons: vec![] },
        (Some(_), None) => return Verdict { impact: Impact::Delete, reasons: vec![] },
        (Some(o), Some(n)) => (o, n),
    };
    let mut all = vec![];
    changed_pointers("", Some(old), Some(new), &mut all);
    all.sort();
    let mut facts = Facts { old, new, all, effective: vec![] };
    facts.effective = facts.spec_changes().into_iter().filter(|p| !operator_ignores(p, new)).collect();
    for row in ROWS {
        if let Some(mut reasons) = (row.matches)(&facts) {
            reasons.sort();
            return Verdict { impact: row.impact, reasons };
        }
    }
    // `none`: only metadata, or only changes the operator's spec diff ignores.
    Verdict { impact: Impact::None, reasons: facts.all }
}

/// Whether file bytes hold a FlinkDeployment: a cheap test on the top-level `kind` line the
/// emitter writes, confirmed by [`parse_flink_deployment`].
pub fn looks_like_flink_deployment(bytes: &[u8]) -> bool {
    const KIND: &[u8] = b"\nkind: FlinkDeployment\n";
    bytes.starts_with(&KIND[1..]) || bytes.windows(KIND.len()).any(|w| w == KIND)
}

/// Parses YAML bytes into the object when its `kind` is `FlinkDeployment`.
pub fn parse_flink_deployment(bytes: &[u8]) -> Option<Value> {
    if !looks_like_flink_deployment(bytes) {
        return None;
    }
    let text = std::str::from_utf8(bytes).ok()?;
    let v: Value = serde_saphyr::from_str(text).ok()?;
    (v.get("kind").and_then(Value::as_str) == Some("FlinkDeployment")).then_some(v)
}

/// One FlinkDeployment that changed, with its verdict.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectImpact {
    /// The `flinkops.dev/env` label (new side, else old side).
    pub env: Option<String>,
    pub namespace: Option<String>,
    pub name: String,
    /// Indexes into the changes this object's files are at (two when its file moved).
    pub changes: Vec<usize>,
    pub verdict: Verdict,
}

/// The impacts of a run's changes.
#[derive(Debug, Clone, Default)]
pub struct Assessment {
    /// One entry per changed FlinkDeployment, sorted by (env, namespace, name).
    pub objects: Vec<ObjectImpact>,
    /// For each change (same index), the object it belongs to, if it is a FlinkDeployment.
    pub by_change: Vec<Option<usize>>,
}

impl Assessment {
    /// The verdict of the FlinkDeployment at change `i`, if it is one.
    pub fn verdict(&self, i: usize) -> Option<&Verdict> {
        self.by_change.get(i).copied().flatten().map(|o| &self.objects[o].verdict)
    }

    /// How many FlinkDeployments have each impact (an object counts once, even when its file
    /// moved).
    pub fn counts(&self) -> BTreeMap<Impact, usize> {
        let mut m = BTreeMap::new();
        for o in &self.objects {
            *m.entry(o.verdict.impact).or_insert(0) += 1;
        }
        m
    }

    /// Counts per env label (objects without one under `None`).
    pub fn counts_by_env(&self) -> BTreeMap<Option<String>, BTreeMap<Impact, usize>> {
        let mut m: BTreeMap<Option<String>, BTreeMap<Impact, usize>> = BTreeMap::new();
        for o in &self.objects {
            *m.entry(o.env.clone()).or_default().entry(o.verdict.impact).or_insert(0) += 1;
        }
        m
    }
}

fn label<'a>(v: &'a Value, key: &str) -> Option<&'a str> {
    v.pointer("/metadata/labels").and_then(|l| l.get(key)).and_then(Value::as_str)
}

/// Pairs the FlinkDeployments among `changes` (old bytes with new bytes, by env label,
/// namespace and name — not by path) and classifies each pair. Parses twice — once for the
/// identities, once per pair to classify — so that only one pair of parsed objects is in memory
/// at a time, whatever the number of changes (a release that changes every FlinkDeployment).
pub fn assess(changes: &[Change]) -> Assessment {
    type Key = (Option<String>, Option<String>, String);
    #[derive(Default)]
    struct Sides {
        /// Index of the change holding the old / new side.
        old: Option<usize>,
        new: Option<usize>,
        changes: Vec<usize>,
    }
    let key = |v: &Value| -> Option<Key> {
        let name = v.pointer("/metadata/name")?.as_str()?.to_string();
        let ns = v.pointer("/metadata/namespace").and_then(Value::as_str).map(str::to_string);
        Some((label(v, "flinkops.dev/env").map(str::to_string), ns, name))
    };
    let mut pairs: BTreeMap<Key, Sides> = BTreeMap::new();
    for (i, c) in changes.iter().enumerate() {
        for (bytes, is_new) in [(c.old.as_deref(), false), (c.new.as_deref(), true)] {
            let Some(k) = bytes.and_then(parse_flink_deployment).as_ref().and_then(key) else { continue };
            let s = pairs.entry(k).or_default();
            if !s.changes.contains(&i) {
                s.changes.push(i);
            }
            if is_new {
                s.new = Some(i);
            } else {
                s.old = Some(i);
            }
        }
    }
    let mut a = Assessment { objects: vec![], by_change: vec![None; changes.len()] };
    for ((env, namespace, name), s) in pairs {
        let old = s.old.and_then(|i| changes[i].old.as_deref()).and_then(parse_flink_deployment);
        let new = s.new.and_then(|i| changes[i].new.as_deref()).and_then(parse_flink_deployment);
        let verdict = classify(old.as_ref(), new.as_ref());
        for &i in &s.changes {
            a.by_change[i] = Some(a.objects.len());
        }
        a.objects.push(ObjectImpact { env, namespace, name, changes: s.changes, verdict });
    }
    a
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// A FlinkDeployment as flinkops emits it for a savepoint-mode, native-mode unbounded job.
    fn base() -> Value {
        json!({
            "apiVersion": "flink.apache.org/v1beta1",
            "kind": "FlinkDeployment",
            "metadata": { "name": "p", "namespace": "ns", "labels": { "flinkops.dev/env": "dev" } },
            "spec": {
                "image": "img:1",
                "flinkVersion": "v2_2",
                "flinkConfiguration": { "pipeline.max-parallelism": "720", "taskmanager.numberOfTaskSlots": "2" },
                "taskManager": { "replicas": 1 },
                "job": { "parallelism": 2, "upgradeMode": "savepoint", "state": "running" }
            }
        })
    }

    fn set(mut v: Value, pointer: &str, x: Value) -> Value {
        let (parent, key) = pointer.rsplit_once('/').unwrap();
        let key = key.replace("~1", "/").replace("~0", "~");
        let mut at = &mut v;
        for t in parent.split('/').skip(1) {
            at = at.as_object_mut().unwrap().entry(t.to_string()).or_insert_with(|| json!({}));
        }
        if x.is_null() {
            at.as_object_mut().unwrap().remove(&key);
        } else {
            at.as_object_mut().unwrap().insert(key, x);
        }
        v
    }

    fn edit(v: &Value, edits: &[(&str, Value)]) -> Value {
        edits.iter().fold(v.clone(), |v, (p, x)| set(v, p, x.clone()))
    }

    fn verdict(old: &Value, new: &Value) -> (Impact, Vec<String>) {
        let v = classify(Some(old), Some(new));
        (v.impact, v.reasons)
    }

    fn reasons(r: &[&str]) -> Vec<String> {
        r.iter().map(|s| s.to_string()).collect()
    }

    fn reactive_standalone() -> Value {
        edit(&base(), &[("/spec/mode", json!("standalone")), ("/spec/flinkConfiguration/scheduler-mode", json!("reactive"))])
    }

    fn bounded(v: &Value) -> Value {
        edit(v, &[("/metadata/annotations", json!({ BOUNDED_ANNOTATION: "true" })), ("/spec/job/upgradeMode", json!("stateless"))])
    }

    #[test]
    fn row_create_an_absent_old_object_is_created() {
        assert_eq!(classify(None, Some(&base())), Verdict { impact: Impact::Create, reasons: vec![] });
    }

    #[test]
    fn row_delete_an_absent_new_object_is_deleted() {
        assert_eq!(classify(Some(&base()), None), Verdict { impact: Impact::Delete, reasons: vec![] });
    }

    #[test]
    fn row_rejected_switching_native_to_standalone_and_back() {
        let standalone = edit(&base(), &[("/spec/mode", json!("standalone"))]);
        assert_eq!(verdict(&base(), &standalone), (Impact::Rejected, reasons(&["/spec/mode"])));
        assert_eq!(verdict(&standalone, &base()), (Impact::Rejected, reasons(&["/spec/mode"])));
    }

    #[test]
    fn row_rejected_an_absent_mode_is_native_so_writing_native_is_no_switch() {
        let native = edit(&base(), &[("/spec/mode", json!("native"))]);
        assert_eq!(verdict(&base(), &native).0, Impact::Upgrade, "absent → native is a spec change, not a switch");
    }

    #[test]
    fn row_rejected_flink_version_change_after_a_last_state_suspend() {
        let old = edit(&base(), &[("/spec/job/state", json!("suspended")), ("/spec/job/upgradeMode", json!("last-state"))]);
        let new = edit(&old, &[("/spec/flinkVersion", json!("v2_1"))]);
        assert_eq!(verdict(&old, &new), (Impact::Rejected, reasons(&["/spec/flinkVersion"])));
    }

    #[test]
    fn row_rejected_not_when_suspended_with_savepoint_mode_or_running() {
        let sp = edit(&base(), &[("/spec/job/state", json!("suspended"))]);
        assert_ne!(verdict(&sp, &edit(&sp, &[("/spec/flinkVersion", json!("v2_1"))])).0, Impact::Rejected);
        let running = edit(&base(), &[("/spec/job/upgradeMode", json!("last-state"))]);
        assert_ne!(verdict(&running, &edit(&running, &[("/spec/flinkVersion", json!("v2_1"))])).0, Impact::Rejected);
    }

    #[test]
    fn row_rejected_the_validator_skips_the_version_check_when_the_new_mode_is_stateless() {
        let old = edit(&base(), &[("/spec/job/state", json!("suspended")), ("/spec/job/upgradeMode", json!("last-state"))]);
        let new = edit(&old, &[("/spec/flinkVersion", json!("v2_1")), ("/spec/job/upgradeMode", json!("stateless"))]);
        assert_eq!(verdict(&old, &new).0, Impact::UpgradeStateless);
    }

    #[test]
    fn row_rerun_any_spec_change_of_a_bounded_job() {
        let old = bounded(&base());
        let new = edit(&old, &[("/spec/image", json!("img:2"))]);
        assert_eq!(verdict(&old, &new), (Impact::Rerun, reasons(&["/spec/image"])));
    }

    #[test]
    fn row_rerun_the_annotation_on_either_side_marks_the_job_bounded() {
        let old = bounded(&base());
        let new = edit(&old, &[("/metadata/annotations", Value::Null), ("/spec/image", json!("img:2"))]);
        assert_eq!(verdict(&old, &new).0, Impact::Rerun);
        assert_eq!(verdict(&new, &old).0, Impact::Rerun);
    }

    #[test]
    fn row_state_incompatible_max_parallelism_with_savepoint_or_last_state() {
        for mode in ["savepoint", "last-state"] {
            let old = edit(&base(), &[("/spec/job/upgradeMode", json!(mode))]);
            let new = edit(&old, &[(MAX_PARALLELISM, json!("1440")), ("/spec/image", json!("img:2"))]);
            assert_eq!(verdict(&old, &new), (Impact::StateIncompatible, reasons(&[MAX_PARALLELISM])), "{mode}");
        }
    }

    #[test]
    fn row_state_incompatible_adding_the_key_counts_as_a_change() {
        let old = edit(&base(), &[(MAX_PARALLELISM, Value::Null)]);
        assert_eq!(verdict(&old, &base()).0, Impact::StateIncompatible);
    }

    #[test]
    fn row_upgrade_stateless_any_other_change_of_a_stateless_job() {
        let old = edit(&base(), &[("/spec/job/upgradeMode", json!("stateless"))]);
        let new = edit(&old, &[(MAX_PARALLELISM, json!("1440")), ("/spec/image", json!("img:2"))]);
        assert_eq!(
            verdict(&old, &new),
            (Impact::UpgradeStateless, reasons(&["/spec/flinkConfiguration/pipeline.max-parallelism", "/spec/image"]))
        );
    }

    #[test]
    fn row_upgrade_stateless_an_absent_upgrade_mode_is_stateless() {
        let old = edit(&base(), &[("/spec/job/upgradeMode", Value::Null)]);
        let new = edit(&old, &[("/spec/image", json!("img:2"))]);
        assert_eq!(verdict(&old, &new).0, Impact::UpgradeStateless);
    }

    #[test]
    fn row_suspend_and_resume() {
        let suspended = edit(&base(), &[("/spec/job/state", json!("suspended"))]);
        assert_eq!(verdict(&base(), &suspended), (Impact::Suspend, reasons(&[JOB_STATE])));
        assert_eq!(verdict(&suspended, &base()), (Impact::Resume, reasons(&[JOB_STATE])));
    }

    #[test]
    fn row_restore_a_new_redeploy_nonce() {
        let new = edit(&base(), &[(REDEPLOY_NONCE, json!(1)), ("/spec/job/initialSavepointPath", json!("s3://b/sp-1"))]);
        assert_eq!(verdict(&base(), &new), (Impact::Restore, reasons(&[REDEPLOY_NONCE])));
    }

    #[test]
    fn row_restore_removing_the_nonce_is_ignored_by_the_operator() {
        let old = edit(&base(), &[(REDEPLOY_NONCE, json!(1))]);
        assert_eq!(verdict(&old, &base()), (Impact::None, reasons(&[REDEPLOY_NONCE])));
    }

    #[test]
    fn row_savepoint_only_the_trigger_nonce() {
        let new = edit(&base(), &[(SAVEPOINT_NONCE, json!(3))]);
        assert_eq!(verdict(&base(), &new), (Impact::Savepoint, reasons(&[SAVEPOINT_NONCE])));
    }

    #[test]
    fn row_restart_only_the_restart_nonce() {
        let new = edit(&base(), &[(RESTART_NONCE, json!(2))]);
        assert_eq!(verdict(&base(), &new), (Impact::Restart, reasons(&[RESTART_NONCE])));
    }

    #[test]
    fn row_rescale_replicas_and_parallelism_in_reactive_standalone_mode() {
        let old = reactive_standalone();
        let new = edit(&old, &[(TM_REPLICAS, json!(3)), (JOB_PARALLELISM, json!(6))]);
        assert_eq!(verdict(&old, &new), (Impact::Rescale, reasons(&[JOB_PARALLELISM, TM_REPLICAS])));
    }

    #[test]
    fn row_rescale_not_in_native_mode_nor_without_the_reactive_scheduler() {
        let native_new = edit(&base(), &[(TM_REPLICAS, json!(3))]);
        assert_eq!(verdict(&base(), &native_new), (Impact::Upgrade, reasons(&[TM_REPLICAS])));
        let plain = edit(&base(), &[("/spec/mode", json!("standalone"))]);
        assert_eq!(verdict(&plain, &edit(&plain, &[(TM_REPLICAS, json!(3))])).0, Impact::Upgrade);
    }

    #[test]
    fn row_upgrade_any_other_spec_change() {
        // A tasks ConfigMap change shows through the pod template's hash annotation.
        let hash = "/spec/podTemplate/metadata/annotations/flinkops.dev~1tasks-sha256";
        let old = edit(&base(), &[(hash, json!("aa"))]);
        let new = edit(&base(), &[(hash, json!("ab"))]);
        assert_eq!(verdict(&old, &new), (Impact::Upgrade, reasons(&["/spec/podTemplate/metadata/annotations/flinkops.dev~1tasks-sha256"])));
    }

    #[test]
    fn an_added_subtree_is_reported_at_its_root() {
        let new = edit(&base(), &[("/spec/podTemplate/metadata/annotations/a", json!("b"))]);
        assert_eq!(verdict(&base(), &new), (Impact::Upgrade, reasons(&["/spec/podTemplate"])));
    }

    #[test]
    fn row_none_only_metadata() {
        let new = edit(&base(), &[("/metadata/labels/team", json!("x"))]);
        assert_eq!(verdict(&base(), &new), (Impact::None, reasons(&["/metadata/labels/team"])));
    }

    #[test]
    fn row_none_changes_the_operator_spec_diff_ignores() {
        let new = edit(
            &base(),
            &[
                ("/spec/flinkConfiguration/kubernetes.operator.periodic.savepoint.interval", json!("1h")),
                ("/spec/flinkConfiguration/job.autoscaler.enabled", json!("true")),
                ("/spec/job/allowNonRestoredState", json!(true)),
            ],
        );
        assert_eq!(verdict(&base(), &new).0, Impact::None);
    }

    #[test]
    fn row_none_upgrade_mode_alone_is_ignored() {
        let new = edit(&base(), &[("/spec/job/upgradeMode", json!("last-state"))]);
        assert_eq!(verdict(&base(), &new), (Impact::None, reasons(&["/spec/job/upgradeMode"])));
    }

    #[test]
    fn tie_rejected_beats_rerun_on_a_bounded_job() {
        let old = bounded(&base());
        let new = edit(&old, &[("/spec/mode", json!("standalone"))]);
        assert_eq!(verdict(&old, &new).0, Impact::Rejected);
    }

    #[test]
    fn tie_rejected_beats_state_incompatible() {
        let new = edit(&base(), &[("/spec/mode", json!("standalone")), (MAX_PARALLELISM, json!("1"))]);
        assert_eq!(verdict(&base(), &new), (Impact::Rejected, reasons(&["/spec/mode"])));
    }

    #[test]
    fn tie_rerun_beats_state_incompatible_and_upgrade_stateless() {
        // A bounded job whose (new) upgrade mode is savepoint: rerun still comes first.
        let old = edit(&bounded(&base()), &[("/spec/job/upgradeMode", json!("savepoint"))]);
        let new = edit(&old, &[(MAX_PARALLELISM, json!("1"))]);
        assert_eq!(verdict(&old, &new).0, Impact::Rerun);
        let stateless = bounded(&base());
        assert_eq!(verdict(&stateless, &edit(&stateless, &[("/spec/image", json!("i"))])).0, Impact::Rerun);
    }

    #[test]
    fn tie_rerun_not_for_changes_the_operator_ignores() {
        let old = bounded(&base());
        let new = edit(&old, &[("/spec/flinkConfiguration/kubernetes.operator.x", json!("1"))]);
        assert_eq!(verdict(&old, &new).0, Impact::None);
    }

    #[test]
    fn tie_state_incompatible_beats_suspend() {
        let new = edit(&base(), &[("/spec/job/state", json!("suspended")), (MAX_PARALLELISM, json!("1"))]);
        assert_eq!(verdict(&base(), &new).0, Impact::StateIncompatible);
    }

    #[test]
    fn tie_upgrade_stateless_beats_suspend_and_rescale() {
        let old = edit(&base(), &[("/spec/job/upgradeMode", json!("stateless"))]);
        assert_eq!(verdict(&old, &edit(&old, &[("/spec/job/state", json!("suspended"))])).0, Impact::UpgradeStateless);
        let old = edit(&reactive_standalone(), &[("/spec/job/upgradeMode", json!("stateless"))]);
        assert_eq!(verdict(&old, &edit(&old, &[(TM_REPLICAS, json!(4))])).0, Impact::UpgradeStateless);
    }

    #[test]
    fn tie_suspend_beats_restore_and_other_changes() {
        let new = edit(&base(), &[("/spec/job/state", json!("suspended")), (REDEPLOY_NONCE, json!(1)), ("/spec/image", json!("i"))]);
        assert_eq!(verdict(&base(), &new), (Impact::Suspend, reasons(&[JOB_STATE])));
    }

    #[test]
    fn tie_restore_beats_savepoint_and_upgrade() {
        let new = edit(&base(), &[(REDEPLOY_NONCE, json!(1)), (SAVEPOINT_NONCE, json!(1)), ("/spec/image", json!("i"))]);
        assert_eq!(verdict(&base(), &new).0, Impact::Restore);
    }

    #[test]
    fn tie_savepoint_and_restart_together_are_an_upgrade() {
        let new = edit(&base(), &[(SAVEPOINT_NONCE, json!(1)), (RESTART_NONCE, json!(1))]);
        assert_eq!(verdict(&base(), &new), (Impact::Upgrade, reasons(&[RESTART_NONCE])));
    }

    #[test]
    fn tie_savepoint_with_another_change_is_an_upgrade() {
        let new = edit(&base(), &[(SAVEPOINT_NONCE, json!(1)), ("/spec/image", json!("i"))]);
        assert_eq!(verdict(&base(), &new), (Impact::Upgrade, reasons(&["/spec/image"])));
    }

    #[test]
    fn tie_rescale_with_another_change_is_an_upgrade_and_with_metadata_a_rescale() {
        let old = reactive_standalone();
        let both = edit(&old, &[(TM_REPLICAS, json!(3)), ("/spec/image", json!("i"))]);
        assert_eq!(verdict(&old, &both).0, Impact::Upgrade);
        let meta = edit(&old, &[(TM_REPLICAS, json!(3)), ("/metadata/labels/x", json!("y"))]);
        assert_eq!(verdict(&old, &meta), (Impact::Rescale, reasons(&[TM_REPLICAS])));
    }

    #[test]
    fn every_word_round_trips_and_follows_the_table_order() {
        let words: Vec<&str> = Impact::ALL.iter().map(|i| i.as_str()).collect();
        assert_eq!(
            words,
            [
                "create",
                "delete",
                "rejected",
                "rerun",
                "state-incompatible",
                "upgrade-stateless",
                "suspend",
                "resume",
                "restore",
                "savepoint",
                "restart",
                "rescale",
                "upgrade",
                "none"
            ]
        );
        for i in Impact::ALL {
            assert_eq!(Impact::parse(i.as_str()), Some(i));
        }
        assert_eq!(Impact::parse("upgrade_stateless"), None);
    }

    fn yaml(v: &Value) -> Vec<u8> {
        let mut s = String::from("# Generated by flinkops from x. Do not edit.\n");
        s.push_str(&crate::emit::yaml(v));
        s.into_bytes()
    }

    #[test]
    fn assess_pairs_a_moved_file_by_identity_not_path_and_counts_it_once() {
        let new = edit(&base(), &[(TM_REPLICAS, json!(2))]);
        let changes = vec![
            Change {
                path: "out/dev/a/flinkdeployment-p.yaml".into(),
                status: crate::sync::Status::Removed,
                old: Some(yaml(&base())),
                new: None,
            },
            Change {
                path: "out/dev/kustomization.yaml".into(),
                status: crate::sync::Status::Modified,
                old: Some(b"a".to_vec()),
                new: Some(b"b".to_vec()),
            },
            Change {
                path: "out/dev/p/flinkdeployment-p.yaml".into(),
                status: crate::sync::Status::Added,
                old: None,
                new: Some(yaml(&new)),
            },
        ];
        let a = assess(&changes);
        assert_eq!(a.objects.len(), 1);
        assert_eq!(a.verdict(0).map(|v| v.impact), Some(Impact::Upgrade));
        assert_eq!(a.verdict(1), None, "a kustomization has no impact");
        assert_eq!(a.verdict(2).map(|v| v.impact), Some(Impact::Upgrade));
        assert_eq!(a.counts(), BTreeMap::from([(Impact::Upgrade, 1)]));
    }

    #[test]
    fn assess_keeps_envs_apart_when_namespace_and_name_agree() {
        let prod = edit(&base(), &[("/metadata/labels/flinkops.dev~1env", json!("prod"))]);
        let changes = vec![
            Change { path: "out/dev/x.yaml".into(), status: crate::sync::Status::Added, old: None, new: Some(yaml(&base())) },
            Change { path: "out/prod/x.yaml".into(), status: crate::sync::Status::Removed, old: Some(yaml(&prod)), new: None },
        ];
        let a = assess(&changes);
        let by_env = a.counts_by_env();
        assert_eq!(by_env[&Some("dev".to_string())], BTreeMap::from([(Impact::Create, 1)]));
        assert_eq!(by_env[&Some("prod".to_string())], BTreeMap::from([(Impact::Delete, 1)]));
    }

    #[test]
    fn other_kinds_are_not_flink_deployments() {
        assert!(looks_like_flink_deployment(b"kind: FlinkDeployment\napiVersion: flink.apache.org/v1beta1\n"), "kind on the first line");
        let cm = json!({ "apiVersion": "v1", "kind": "ConfigMap", "metadata": { "name": "FlinkDeployment" }, "data": { "kind": "FlinkDeployment" } });
        assert_eq!(parse_flink_deployment(&yaml(&cm)), None);
        assert!(parse_flink_deployment(&yaml(&base())).is_some());
    }
}
