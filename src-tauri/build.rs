//! Tauri's build step: reads `tauri.conf.json` at the repository root (the crate root).

fn main() {
    tauri_build::build();
}
