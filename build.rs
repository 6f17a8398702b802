//! Rebuilds when the shipped suite changes: `include_dir!` embeds these directories, and cargo
//! only notices edits to files it was told about.
fn main() {
    for dir in ["scenarios", "profiles", "load", "fixtures/metadata", "fixtures/scenarios", "snapshots"] {
        println!("cargo:rerun-if-changed={dir}");
    }
}
