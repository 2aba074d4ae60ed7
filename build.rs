//! Records the target triple for `pollux -vv`.
fn main() {
    let target = std::env::var("TARGET").unwrap_or_else(|_| "unknown".into());
    println!("cargo:rustc-env=POLLUX_TARGET={target}");
    println!("cargo:rerun-if-changed=build.rs");
}
