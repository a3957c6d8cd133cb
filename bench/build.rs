// `sqlx::migrate!` embeds the migrations at compile time: rebuild when they change, so that the
// baselines always run on Headway's current schema.
fn main() {
    println!("cargo:rerun-if-changed=../migrations");
}
