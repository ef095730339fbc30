//! Version facts: the one table of what exists for each Flink minor.
//!
//! Used by validate (is this version/java/connector offered?) and render (flinkVersion, config
//! key names, base image, connector URLs). Update this table when Flink, the operator or a
//! connector ships a release; nothing else in the code hard-codes a version.
//!
//! Sources: the official `flink` Docker images (tags `X.Y.Z-scala_2.12-javaNN`), the Flink
//! Kubernetes Operator CRDs (release-1.15.0 allows flinkVersion up to `v2_2`, operator main up
//! to `v2_4`), and the flink-connector-kafka release scripts (artifact versions per Flink minor).

/// The Flink Kubernetes Operator release a project targets (`target.operator`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Operator {
    /// 1.15, the newest release: `resource: {cpu, memory}`, flinkVersion up to v2_2.
    V1_15,
    /// 1.16 (operator main, unreleased): `resources` requests/limits, flinkVersion up to v2_4.
    V1_16,
}

impl Operator {
    pub const ALL: &[(&str, Operator)] = &[("1.15", Operator::V1_15), ("1.16", Operator::V1_16)];

    pub fn as_str(self) -> &'static str {
        match self {
            Operator::V1_15 => "1.15",
            Operator::V1_16 => "1.16",
        }
    }
}

/// Names of configuration keys that changed between Flink minors.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConfigKeys {
    pub checkpoint_dir: &'static str,
    pub savepoint_dir: &'static str,
    pub incremental: &'static str,
    /// Adaptive-scheduler keys that reactive deployments set, with their values.
    pub adaptive_scheduler: &'static [(&'static str, &'static str)],
}

const KEYS_1_19: ConfigKeys = ConfigKeys {
    checkpoint_dir: "state.checkpoints.dir",
    savepoint_dir: "state.savepoints.dir",
    incremental: "state.backend.incremental",
    adaptive_scheduler: &[
        ("jobmanager.adaptive-scheduler.min-parallelism-increase", "1"),
        ("jobmanager.adaptive-scheduler.resource-stabilization-timeout", "10s"),
    ],
};

const KEYS_1_20: ConfigKeys = ConfigKeys {
    checkpoint_dir: "execution.checkpointing.dir",
    savepoint_dir: "execution.checkpointing.savepoint-dir",
    incremental: "execution.checkpointing.incremental",
    adaptive_scheduler: KEYS_1_19.adaptive_scheduler,
};

/// 2.0 renamed the stabilization timeout and made min-parallelism-increase a no-op.
const KEYS_2: ConfigKeys =
    ConfigKeys { adaptive_scheduler: &[("jobmanager.adaptive-scheduler.submission.resource-stabilization-timeout", "10s")], ..KEYS_1_20 };

/// A connector artifact built for one Flink minor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConnectorBuild {
    /// The name users write in `job.connectors`.
    pub name: &'static str,
    /// Maven artifact id under `org.apache.flink`.
    pub artifact: &'static str,
    pub version: &'static str,
}

impl ConnectorBuild {
    /// The canonical Maven Central URL of the jar.
    pub fn url(&self) -> String {
        format!("https://repo.maven.apache.org/maven2/org/apache/flink/{a}/{v}/{a}-{v}.jar", a = self.artifact, v = self.version)
    }
}

/// Every connector name flinkops knows, whether or not a minor has a build of it.
pub const CONNECTOR_NAMES: &[&str] = &["kafka"];

/// What exists for one Flink minor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FlinkMinor {
    pub major: u32,
    pub minor: u32,
    /// Newest released patch (the base image and PyFlink exist for 0..=newest_patch).
    pub newest_patch: u32,
    /// The FlinkDeployment `flinkVersion` value.
    pub crd_version: &'static str,
    /// Oldest operator whose CRD accepts `crd_version`.
    pub min_operator: Operator,
    /// Java versions of the official images, and the default.
    pub java: &'static [u32],
    pub default_java: u32,
    /// Still maintained upstream (an unmaintained minor gets a warning).
    pub maintained: bool,
    pub keys: ConfigKeys,
    pub connectors: &'static [ConnectorBuild],
}

const fn kafka(version: &'static str) -> ConnectorBuild {
    ConnectorBuild { name: "kafka", artifact: "flink-sql-connector-kafka", version }
}

/// The table. Minors below the first row are rejected.
pub const FLINK_MINORS: &[FlinkMinor] = &[
    FlinkMinor {
        major: 1,
        minor: 19,
        newest_patch: 3,
        crd_version: "v1_19",
        min_operator: Operator::V1_15,
        java: &[8, 11, 17],
        default_java: 11,
        maintained: false,
        keys: KEYS_1_19,
        connectors: &[kafka("3.3.0-1.19")],
    },
    FlinkMinor {
        major: 1,
        minor: 20,
        newest_patch: 5,
        crd_version: "v1_20",
        min_operator: Operator::V1_15,
        java: &[8, 11, 17],
        default_java: 11,
        maintained: true,
        keys: KEYS_1_20,
        connectors: &[kafka("3.4.0-1.20")],
    },
    FlinkMinor {
        major: 2,
        minor: 0,
        newest_patch: 2,
        crd_version: "v2_0",
        min_operator: Operator::V1_15,
        java: &[11, 17, 21],
        default_java: 17,
        maintained: true,
        keys: KEYS_2,
        connectors: &[kafka("4.0.1-2.0")],
    },
    FlinkMinor {
        major: 2,
        minor: 1,
        newest_patch: 3,
        crd_version: "v2_1",
        min_operator: Operator::V1_15,
        java: &[11, 17, 21],
        default_java: 17,
        maintained: true,
        keys: KEYS_2,
        connectors: &[kafka("5.0.0-2.1")],
    },
    FlinkMinor {
        major: 2,
        minor: 2,
        newest_patch: 1,
        crd_version: "v2_2",
        min_operator: Operator::V1_15,
        java: &[11, 17, 21],
        default_java: 17,
        maintained: true,
        keys: KEYS_2,
        connectors: &[kafka("5.0.0-2.2")],
    },
    FlinkMinor {
        major: 2,
        minor: 3,
        newest_patch: 0,
        crd_version: "v2_3",
        min_operator: Operator::V1_16,
        java: &[11, 17, 21],
        default_java: 17,
        maintained: true,
        keys: KEYS_2,
        connectors: &[],
    },
];

impl FlinkMinor {
    pub fn find(major: u32, minor: u32) -> Option<&'static FlinkMinor> {
        FLINK_MINORS.iter().find(|m| m.major == major && m.minor == minor)
    }

    pub fn connector(&self, name: &str) -> Option<&'static ConnectorBuild> {
        self.connectors.iter().find(|c| c.name == name)
    }

    pub fn is_2x(&self) -> bool {
        self.major >= 2
    }

    /// "1.20"
    pub fn label(&self) -> String {
        format!("{}.{}", self.major, self.minor)
    }
}

/// A full `X.Y.Z` Flink version that the table knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FlinkVersion {
    pub patch: u32,
    pub minor: &'static FlinkMinor,
}

impl std::fmt::Display for FlinkVersion {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}.{}.{}", self.minor.major, self.minor.minor, self.patch)
    }
}

impl FlinkVersion {
    /// The official base image for this version and Java.
    pub fn base_image(&self, java: u32) -> String {
        format!("flink:{self}-scala_2.12-java{java}")
    }

    /// The flink-python jar that PyFlink jobs run through.
    pub fn python_jar_uri(&self) -> String {
        format!("local:///opt/flink/opt/flink-python-{self}.jar")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kafka_connector_builds_match_the_connector_release_table() {
        let v = |maj, min| FlinkMinor::find(maj, min).unwrap().connector("kafka").map(|c| c.version);
        assert_eq!(v(1, 19), Some("3.3.0-1.19"));
        assert_eq!(v(1, 20), Some("3.4.0-1.20"));
        assert_eq!(v(2, 0), Some("4.0.1-2.0"));
        assert_eq!(v(2, 1), Some("5.0.0-2.1"));
        assert_eq!(v(2, 2), Some("5.0.0-2.2"));
        assert_eq!(v(2, 3), None, "2.3 has no Kafka connector yet");
    }

    #[test]
    fn connector_url_is_the_canonical_maven_central_path() {
        let c = FlinkMinor::find(2, 2).unwrap().connector("kafka").unwrap();
        assert_eq!(
            c.url(),
            "https://repo.maven.apache.org/maven2/org/apache/flink/flink-sql-connector-kafka/5.0.0-2.2/flink-sql-connector-kafka-5.0.0-2.2.jar"
        );
    }

    #[test]
    fn checkpoint_keys_changed_in_1_20() {
        assert_eq!(FlinkMinor::find(1, 19).unwrap().keys.checkpoint_dir, "state.checkpoints.dir");
        assert_eq!(FlinkMinor::find(1, 20).unwrap().keys.checkpoint_dir, "execution.checkpointing.dir");
        assert_eq!(FlinkMinor::find(2, 2).unwrap().keys.savepoint_dir, "execution.checkpointing.savepoint-dir");
    }

    #[test]
    fn base_image_tag_follows_the_official_scheme() {
        let v = FlinkVersion { patch: 1, minor: FlinkMinor::find(2, 2).unwrap() };
        assert_eq!(v.base_image(17), "flink:2.2.1-scala_2.12-java17");
        assert_eq!(v.python_jar_uri(), "local:///opt/flink/opt/flink-python-2.2.1.jar");
    }
}
