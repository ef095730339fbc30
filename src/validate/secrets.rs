//! Validate phase: the secret-key rule of SPEC §7 and the names of secret environment variables.
//!
//! In: configuration/environment/parameter keys. Out: whether a key is secret-looking (so its
//! value must be a `{ secret, key }` reference), and the `FLINKOPS_SECRET_…` variable names.

/// Endings that make a key secret-looking (compared case-insensitively on the last segment).
const SECRET_SUFFIXES: &[&str] = &["password", "passwd", "secret", "secret-key", "secret_key", "token", "api-key", "api_key", "apikey"];

/// True when the key's last `.`-separated segment ends with a secret-looking word.
pub fn is_secret_looking(key: &str) -> bool {
    let last = key.rsplit('.').next().unwrap_or(key).to_ascii_lowercase();
    SECRET_SUFFIXES.iter().any(|s| last.ends_with(s))
}

/// `FLINKOPS_SECRET_<TASK>_<PATH>`: upper case, path keys joined by `_`, every character that
/// cannot appear in an environment variable name (`-`, `.`, …) turned into `_`.
pub fn secret_env_name(task: &str, path: &[String]) -> String {
    let mut s = String::from("FLINKOPS_SECRET_");
    s.push_str(task);
    for p in path {
        s.push('_');
        s.push_str(p);
    }
    s.chars().map(|c| if c.is_ascii_alphanumeric() { c.to_ascii_uppercase() } else { '_' }).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_looking_keys_follow_the_spec_examples() {
        for k in ["s3.secret-key", "redis_password", "auth-token", "REDIS_PASSWORD", "x.ApiKey", "db.passwd", "client_secret"] {
            assert!(is_secret_looking(k), "{k}");
        }
        for k in ["security.delegation.tokens.enabled", "max_tokens", "fs.s3a.aws.credentials.provider", "password.policy"] {
            assert!(!is_secret_looking(k), "{k}");
        }
    }

    #[test]
    fn secret_env_names_join_the_path_in_upper_case() {
        assert_eq!(secret_env_name("item-hot-score", &["redis_password".into()]), "FLINKOPS_SECRET_ITEM_HOT_SCORE_REDIS_PASSWORD");
        assert_eq!(
            secret_env_name("behavior-etl", &["sink".into(), "clickhouse".into(), "pass-word".into()]),
            "FLINKOPS_SECRET_BEHAVIOR_ETL_SINK_CLICKHOUSE_PASS_WORD"
        );
    }
}
