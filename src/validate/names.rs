//! Validate phase: the one error for a name that must be a DNS-1123 label and is not.
//!
//! In: user-written names. Out: the diagnostic (callers locate it and say where the name is
//! used). The rules themselves are [`crate::names`], which the spec phase shares.

use crate::diag::{Code, Diagnostic};
pub use crate::names::{is_dns1123_label, is_dns1123_subdomain, is_label_key, is_label_value};

/// The error for `value`, the `what` of a spec ("namespace", "task name"), that is not a
/// DNS-1123 label.
pub fn not_a_label(what: &str, value: &str) -> Diagnostic {
    Diagnostic::error(Code::InvalidName, format!("{what} {value:?} is not a DNS-1123 label"))
}
