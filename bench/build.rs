//! Links the bench binaries as waligate's (see the root build.rs), so the
//! wasmtime-wasi reference starts up under the same conditions.

fn main() {
    println!("cargo:rustc-link-arg-bins=-Wl,-z,pack-relative-relocs");
}
