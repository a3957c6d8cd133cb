//! Runs the example kind on Headway's engine, outside any server:
//!
//! ```sh
//! cargo run -p engine --example word_count -- README.md
//! ```
//!
//! The engine keeps its database in a temporary folder and the file's folder is the data
//! folder. It prints the job's stream events as they are published, then the job as stored.

mod kind;

use engine::kinds::Registry;
use engine::store::{Access, Store};
use engine::{Caller, Engine, EngineConfig};
use model::EventType;
use std::path::Path;

#[tokio::main]
async fn main() {
    let Some(file) = std::env::args().nth(1) else {
        eprintln!("usage: word_count <text file>");
        std::process::exit(2);
    };
    let file = Path::new(&file).canonicalize().unwrap_or_else(|e| {
        eprintln!("word_count: {file}: {e}");
        std::process::exit(1);
    });
    let scratch = tempfile::tempdir().expect("a scratch folder");
    let url = format!("sqlite://{}/h.db", scratch.path().display());
    let store = Store::open(&url, Access::Exclusive)
        .await
        .expect("a scratch database");
    let config = EngineConfig {
        kinds: Registry::builtin().with::<kind::WordCount>(),
        data_root: file.parent().expect("a file has a folder").to_path_buf(),
        ..EngineConfig::default()
    };
    let engine = Engine::start(store, config)
        .await
        .expect("the engine starts");

    let me = Caller::new(model::UserId::parse("example").expect("`example` is a user id"));
    let mut events = engine.jobs().bus().subscribe(me.user());
    let name = file.file_name().unwrap().to_string_lossy();
    let job = match engine
        .jobs()
        .create_job(
            &me,
            "word_count",
            serde_json::json!({ "file": name, "chunk_kib": 4 }),
        )
        .await
    {
        Ok(job) => job,
        Err(e) => {
            eprintln!("word_count: {e}");
            std::process::exit(1);
        }
    };
    while let Ok(event) = events.recv().await {
        println!("{} {}", event.kind.as_str(), event.data());
        if event.kind == EventType::Done {
            break;
        }
    }
    let job = engine
        .jobs()
        .job(&me, &job.id)
        .await
        .expect("the job is stored");
    println!("{} {}: {}", job.status, job.id, job.progress.message);
    engine.shutdown().await;
}
