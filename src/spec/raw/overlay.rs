//! Spec phase: the raw types of `overlays/<env>/overlay.toml` (SPEC §8, §13.5).
//!
//! In: the overlay's spanned table. Out: [`OverlayFile`]. `[env]` and `[cluster]` are read
//! here; `[pipelines.<name>]` is merged over the pipeline's tree and read with it, and the
//! patches are read by the patch phase: those stay [`Raw`] trees, described to the schema by
//! their types below.

use indexmap::IndexMap;

use super::pipeline::*;
use super::{Cluster, DNS_LABEL, FORM_PATH, FORM_ZONE, List, Raw, RawTable, Sp, section, words};

section! {
    /// One environment per folder `overlays/<env>/overlay.toml` (SPEC §8); patch files live beside it. Unknown keys are errors.
    #[schemars(title = "Overlays")]
    pub struct OverlayFile {
        /// Settings of the environment.
        pub env: Option<Env>,
        /// The environment's capacity budget; replaces `flinkops.toml`'s. Default: `flinkops.toml [cluster]`.
        pub cluster: Option<Sp<Cluster>>,
        /// Per pipeline name, a partial pipeline deep-merged over that pipeline (the last layer of SPEC §3's precedence); it may only name pipelines that exist.
        pub pipelines: Option<RawTable<IndexMap<String, OverlayPipeline>>>,
        /// RFC 6902 JSON Patches for generated objects.
        pub patches: Option<Raw<Vec<Patch>>>,
        /// RFC 7396 JSON Merge Patches for generated objects.
        pub merge_patches: Option<Raw<Vec<MergePatch>>>,
    }
}
section! {
    /// Settings of the environment, between `flinkops.toml [defaults]` and the pipeline files in precedence.
    #[schemars(title = "`[env]`")]
    pub struct Env {
        /// Namespace of the environment's pipelines (a pipeline's own `namespace` wins). Default: `[defaults] namespace`.
        #[schemars(extend("pattern" = DNS_LABEL, "maxLength" = 63, "x-form" = "DNS-1123 label, at most 63 characters"))]
        pub namespace: Option<Sp<String>>,
        /// IANA time zone of the environment's schedules. Default: `[defaults] timezone`.
        #[schemars(extend("x-form" = FORM_ZONE))]
        pub timezone: Option<Sp<String>>,
        /// Labels on every object of the environment.
        pub labels: Option<RawTable<IndexMap<String, String>>>,
        /// Emit the environment's namespaces and Flink service accounts (SPEC §13.2). Default: `[defaults] manage_namespaces`.
        pub manage_namespaces: Option<Sp<bool>>,
    }
}
pipeline! {
    /// Deep-merged over the pipeline's spec (with its templates) before compiling; it has every key of a pipeline file except `extends` and `name` (a pipeline's name and templates are the same in every environment), and `tasks` is a table keyed by task name.
    #[schemars(title = "`[pipelines.<name>]`")]
    pub struct OverlayPipeline {
        ;
        /// Per task name, changes merged into the pipeline's task of that name.
        pub tasks: Option<RawTable<IndexMap<String, OverlayTask>>>,
    }
}
section! {
    /// Changes to the pipeline's task of that name (SPEC §13.5); naming a task the pipeline does not have is an error.
    #[schemars(title = "`[pipelines.<name>.tasks.<task>]`")]
    pub struct OverlayTask {
        /// Replaces the task's `enabled`. Default: the pipeline's.
        pub enabled: Option<Sp<bool>>,
        /// Merged into the task's `params`: tables key by key, arrays and scalars replace; a `{ secret, key }` may replace a plain value and the other way round. Default: the pipeline's.
        pub params: Option<RawTable<IndexMap<String, serde_json::Value>>>,
    }
}
section! {
    /// An RFC 6902 JSON Patch applied to generated objects after compiling; `[[patches]]` apply in file order, before `[[merge_patches]]`. A failing operation is an error naming the patch, the operation index and the pointer; a patch may not change an object's identity (apiVersion, kind, name, namespace).
    #[schemars(title = "`[[patches]]`")]
    #[schemars(extend("oneOf" = [{ "required": ["ops"] }, { "required": ["file"] }]))]
    pub struct Patch {
        /// Which objects to patch. Required.
        pub target: Option<PatchTarget>,
        /// The operations, inline. Give `ops` or `file`, not both.
        pub ops: Option<List<PatchOp>>,
        /// A JSON or YAML file holding a list of operations, relative to the overlay's folder.
        #[schemars(extend("x-form" = FORM_PATH))]
        pub file: Option<Sp<String>>,
    }
}
section! {
    /// Which generated objects a patch applies to: every given field must match. A patch that matches no object is an error.
    #[schemars(title = "`target` of `[[patches]]` and `[[merge_patches]]`")]
    pub struct PatchTarget {
        /// Object kind, e.g. "FlinkDeployment". Default: any.
        pub kind: Option<Sp<String>>,
        /// Object name (`metadata.name`). Default: any.
        pub name: Option<Sp<String>>,
        /// API group, e.g. "flink.apache.org" ("" for the core group). Default: any.
        pub group: Option<Sp<String>>,
        /// API version, e.g. "v1beta1". Default: any.
        pub version: Option<Sp<String>>,
        /// Object namespace (`metadata.namespace`). Default: any.
        pub namespace: Option<Sp<String>>,
        /// Labels the object must carry, all of them. Default: any.
        pub labels: Option<RawTable<IndexMap<String, String>>>,
    }
}
/// One JSON Patch operation (RFC 6902); other members are ignored, as the RFC says.
#[derive(Debug, Clone, Default, serde::Deserialize, schemars::JsonSchema)]
#[schemars(title = "RFC 6902 operation")]
pub struct PatchOp {
    /// The operation. Required.
    #[serde(default, deserialize_with = "super::de::lenient")]
    pub op: Option<Sp<PatchOpKind>>,
    /// JSON pointer of the target location, e.g. "/spec/podTemplate/spec/nodeSelector". Required.
    #[serde(default, deserialize_with = "super::de::lenient")]
    pub path: Option<Sp<String>>,
    /// The value (add, replace, test).
    #[serde(default, deserialize_with = "super::de::lenient")]
    pub value: Option<Raw<serde_json::Value>>,
    /// JSON pointer of the source (move, copy).
    #[serde(default, deserialize_with = "super::de::lenient")]
    pub from: Option<Sp<String>>,
}
section! {
    /// An RFC 7396 JSON Merge Patch applied to generated objects after every `[[patches]]`.
    #[schemars(title = "`[[merge_patches]]`")]
    pub struct MergePatch {
        /// Which objects to patch. Required.
        pub target: Option<PatchTarget>,
        /// The merge patch, e.g. `{ spec = { suspend = true } }`. Required.
        pub patch: Option<RawTable<IndexMap<String, serde_json::Value>>>,
    }
}

words! {
    /// `op` of an RFC 6902 operation.
    pub enum PatchOpKind {
        Add = "add",
        Remove = "remove",
        Replace = "replace",
        Move = "move",
        Copy = "copy",
        Test = "test",
    }
}
