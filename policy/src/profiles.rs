//! Built-in profiles, embedded in the binary.

pub const NAMES: &[&str] = &["default", "strict", "unrestricted"];

pub fn get(name: &str) -> Option<&'static str> {
    match name {
        "default" => Some(include_str!("profiles/default.json")),
        "strict" => Some(include_str!("profiles/strict.json")),
        "unrestricted" => Some(include_str!("profiles/unrestricted.json")),
        _ => None,
    }
}
