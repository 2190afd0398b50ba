//! Names that become file names: a scenario's `name` is the default output directory
//! `out/<name>`, so it must be one plain path component, or `name = "../victim"` would write
//! outside `out/` and `name = ""` would make `out/` itself the output. Checked where the
//! scenario is validated (with its line) and again where the path is built.

/// The longest name accepted in an output path, in bytes: NAME_MAX (255) less what tokenfleet
/// adds around it (`.NAME.partial-PID`, `-sensitivity`, `compare-A-vs-B`).
pub const NAME_MAX_BYTES: usize = 100;

/// Why `name` cannot be one component of an output path, if it cannot.
pub fn name_problem(name: &str) -> Option<String> {
    let why = if name.is_empty() {
        "is empty"
    } else if name == "." || name == ".." {
        "is a relative directory"
    } else if name.contains(['/', '\\']) {
        "contains a path separator"
    } else if name.starts_with('.') {
        "starts with `.` (a hidden file)"
    } else if name.chars().any(char::is_control) {
        "contains a control character"
    } else if name.len() > NAME_MAX_BYTES {
        "is too long"
    } else {
        return None;
    };
    Some(format!(
        "{name:?} {why}; accepted: 1 to {NAME_MAX_BYTES} bytes, no `/`, `\\` or control \
         characters, not starting with `.`"
    ))
}
