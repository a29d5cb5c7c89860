//! waligate's syscall policy, independent of the engine: the policy file
//! model, validation with precise errors, compilation to a decision table,
//! path and network grants, and built-in profiles.

pub mod access;
pub mod constants;
pub mod engine;
pub mod fds;
pub mod landlock;
pub mod load;
pub mod model;
pub mod net;
pub mod paths;
pub mod profiles;
pub mod seccomp;
pub mod seccomp_tree;
pub mod spans;
pub mod syscalls;

pub use engine::{By, Decision, Effect, PathAccess, Policy, Request};
pub use load::{Context, Loaded, Problem, load, load_str};
