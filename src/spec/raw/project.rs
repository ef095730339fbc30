//! Spec phase: the raw types of `flinkops.toml` (SPEC §3, §13.2, §14).
//!
//! In: the project's spanned table. Out: [`ProjectFile`].

use super::{DNS_LABEL, FORM_DATE, FORM_MEMORY, FORM_ZONE, Raw, Sp, section, words};

section! {
    /// Project settings (SPEC §3), at the repository root. Unknown keys are errors.
    #[schemars(title = "`flinkops.toml`")]
    pub struct ProjectFile {
        /// The project: its name and Git repository. Required.
        pub project: Option<Sp<Project>>,
        /// The operator and Kubernetes versions the output is for.
        pub target: Option<Target>,
        /// Defaults every pipeline inherits.
        pub defaults: Option<Defaults>,
        /// The schedule horizon.
        pub schedule: Option<Schedule>,
        /// The scaling CronJobs' image.
        pub scaler: Option<Scaler>,
        /// How Argo CD or Flux apply `out/`.
        pub delivery: Option<Delivery>,
        /// A capacity budget per environment. Default: no budget.
        pub cluster: Option<Sp<Cluster>>,
    }
}
section! {
    /// The project: its name and the Git repository Argo CD or Flux pull.
    #[schemars(title = "`[project]`")]
    pub struct Project {
        /// Project name, used in labels (`app.kubernetes.io/part-of`) and in Argo CD / Flux object names. Required.
        #[schemars(extend("pattern" = DNS_LABEL, "maxLength" = 63, "x-form" = "DNS-1123 label, at most 63 characters"))]
        pub name: Option<Sp<String>>,
        /// URL of this Git repository, which Argo CD / Flux pull. Required unless `[delivery] tool = "none"`.
        pub repo_url: Option<Sp<String>>,
        /// Git revision (branch, tag or commit) Argo CD / Flux sync. Default: "main".
        pub revision: Option<Sp<String>>,
    }
}
section! {
    /// What the output must run on.
    #[schemars(title = "`[target]`")]
    pub struct Target {
        /// Flink Kubernetes Operator version: "1.15" (the newest release; `resource: {cpu, memory}`) or "1.16" (operator main, unreleased: requests = limits, memory as a Kubernetes quantity). Default: "1.15".
        #[schemars(schema_with = "operator_schema")]
        pub operator: Option<Sp<String>>,
        /// Oldest Kubernetes version the clusters run, 1.23 or newer (the HPAs are `autoscaling/v2`); `native` schedules need 1.27 or newer, and CronJobs get `timeZone: Etc/UTC` from 1.27 on. Default: "1.30".
        #[schemars(extend("pattern" = r"^1\.[0-9]+$", "x-form" = "\"1.MINOR\""))]
        pub kubernetes: Option<Sp<String>>,
    }
}
section! {
    /// What every pipeline inherits unless the overlay's `[env]` or the pipeline itself says otherwise (SPEC §3 precedence: built-in default, `[defaults]`, overlay `[env]`, pipeline file, overlay `[pipelines.<name>]`).
    #[schemars(title = "`[defaults]`")]
    pub struct Defaults {
        /// Namespace of the pipelines' objects. Default: "flink-jobs".
        #[schemars(extend("pattern" = DNS_LABEL, "maxLength" = 63, "x-form" = "DNS-1123 label, at most 63 characters"))]
        pub namespace: Option<Sp<String>>,
        /// IANA time zone the schedule crons are written in. Default: "UTC".
        #[schemars(extend("x-form" = FORM_ZONE))]
        pub timezone: Option<Sp<String>>,
        /// How a schedule becomes CronJobs (SPEC §6.3): `utc` (exact UTC expressions, an error when none exist), `native` (`spec.timeZone`, Kubernetes 1.27+) or `guarded` (UTC superset with a guard in the pod). Default: "utc".
        pub schedule_strategy: Option<Sp<ScheduleStrategy>>,
        /// Registry the bundle images (SPEC §9) are pushed to: images are `<registry>/<bundle>:<tag>`. Required as soon as a bundle image is emitted.
        pub registry: Option<Sp<String>>,
        /// Kubernetes service account of the Flink pods. Default: "flink".
        #[schemars(extend("pattern" = DNS_LABEL, "maxLength" = 63, "x-form" = "DNS-1123 label, at most 63 characters"))]
        pub service_account: Option<Sp<String>>,
        /// Emit, per environment, every namespace holding a FlinkDeployment (with `Prune=false`) and the Flink service account, Role and RoleBinding in it (the `_namespaces` unit, SPEC §13.2); `false` when a platform team provides them. An overlay's `[env]` may override it. Default: true.
        pub manage_namespaces: Option<Sp<bool>>,
    }
}
section! {
    /// The horizon over which schedules are converted (SPEC §6.3).
    #[schemars(title = "`[schedule]`")]
    pub struct Schedule {
        /// Start of the horizon (00:00 UTC); the horizon ends 2100-01-01. A fixed date, never "today", so the output does not depend on the day it is generated. Default: 2026-01-01.
        #[schemars(extend("format" = "date", "x-form" = FORM_DATE))]
        pub valid_from: Option<Raw<String>>,
    }
}
section! {
    /// The scaling CronJobs of `scheduled` and `scheduled_hpa` pipelines.
    #[schemars(title = "`[scaler]`")]
    pub struct Scaler {
        /// Image the scaling CronJobs run: must contain `sh`, `date` and `kubectl`, and be pinned (a version tag or an `@sha256:` digest). Required as soon as a pipeline uses `scheduled` or `scheduled_hpa`.
        pub image: Option<Sp<String>>,
    }
}
section! {
    /// How Argo CD or Flux apply `out/` (SPEC §10, §14): one unit per pipeline per environment.
    #[schemars(title = "`[delivery]`")]
    pub struct Delivery {
        /// What applies `out/`: Argo CD Applications, Flux Kustomizations, or `none` (only the kustomizations are written). Default: "argocd".
        pub tool: Option<Sp<DeliveryTool>>,
        /// Namespace of the Argo CD Applications. Default: "argocd".
        pub argocd_namespace: Option<Sp<String>>,
        /// Argo CD project of the Applications. Default: "default".
        pub argocd_project: Option<Sp<String>>,
        /// The Applications' `destination.server`: the API server of the cluster they deploy to. Default: "https://kubernetes.default.svc".
        pub argocd_server: Option<Sp<String>>,
        /// Namespace of the Flux Kustomizations. Default: "flux-system".
        pub flux_namespace: Option<Sp<String>>,
        /// Name of the GitRepository Flux already has (the Kustomizations' `sourceRef`). Default: "flux-system".
        pub flux_source: Option<Sp<String>>,
        /// Oldest Flux the clusters run. Below 2.9 Flux cannot ignore run-time replica changes, so `hpa`, `hpa_reactive`, `keda`, `scheduled` and `scheduled_hpa` are errors (SPEC §6.4). Default: "2.9".
        #[schemars(extend("pattern" = r"^[0-9]+\.[0-9]+$", "x-form" = "\"MAJOR.MINOR\""))]
        pub flux_version: Option<Sp<String>>,
        /// How often Flux reconciles each Kustomization (`spec.interval`). Default: "10m".
        #[schemars(extend("pattern" = r"^([0-9.]+(ms|h|m|s))+$", "x-form" = "a Go duration such as \"10m\" or \"1h30m\""))]
        pub flux_interval: Option<Sp<String>>,
        /// Argo CD automated sync's `selfHeal`: revert changes made in the cluster by hand. Default: true.
        pub self_heal: Option<Sp<bool>>,
        /// Delete from the cluster what was removed from `out/` (Argo CD automated `prune`, Flux `prune`). Default: true.
        pub prune: Option<Sp<bool>>,
        /// Flux controller sharding (SPEC §14): label every per-pipeline Kustomization `sharding.fluxcd.io/key: shard<k>`, k = the first 4 bytes of sha256(pipeline name), big-endian, mod this number; 0 turns it off. Default: 0.
        #[schemars(range(min = 0, max = 1024))]
        pub flux_shards: Option<Sp<i64>>,
    }
}
section! {
    /// A capacity budget: the JobManager plus max TaskManagers of every pipeline of an environment must fit, or it is an error naming the biggest consumers (SPEC §7). In `flinkops.toml` it applies to every environment; an overlay's `[cluster]` replaces it for that environment.
    #[schemars(title = "`[cluster]`")]
    pub struct Cluster {
        /// CPU cores the environment's pipelines may use. Required.
        #[schemars(extend("exclusiveMinimum" = 0))]
        pub cpu: Option<Sp<f64>>,
        /// Memory the environment's pipelines may use, e.g. "128Gi". Required.
        #[schemars(extend("x-form" = FORM_MEMORY))]
        pub memory: Option<Sp<String>>,
    }
}

words! {
    /// `schedule_strategy`: how a schedule becomes CronJobs (SPEC §6.3).
    pub enum ScheduleStrategy {
        Utc = "utc",
        Native = "native",
        Guarded = "guarded",
    }
}

words! {
    /// `[delivery] tool`: what applies `out/`.
    pub enum DeliveryTool {
        ArgoCd = "argocd",
        Flux = "flux",
        None = "none",
    }
}

/// `[target] operator`: the words are the operator versions `crate::versions` knows (it owns
/// them, with what each version changes); the validator reads them from there too.
fn operator_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
    let words: Vec<&str> = crate::versions::Operator::ALL.iter().map(|(w, _)| *w).collect();
    schemars::json_schema!({ "type": "string", "enum": words })
}
