//! The example kind of docs/KINDS.md (`engine/examples/word_count`), added to a real server: it
//! is described from its parameter struct, validated with the server's data folder, runs, and
//! reports what the guide says it does.

#[path = "../../../engine/examples/word_count/kind.rs"]
mod word_count;

use crate::harness::app;
use serde_json::json;
use word_count::WordCount;

#[tokio::test]
async fn the_example_kind_is_described_validated_and_run() {
    let app = app().kind::<WordCount>().start().await;
    let s = app.session();

    let (_, kinds) = s.get("/api/v1/kinds").await;
    let kind = kinds
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["name"] == "word_count")
        .expect("listed");
    assert_eq!(kind["title"], "Word count");
    assert_eq!(
        kind["description"],
        "Counts the lines and words of a text file in the data folder."
    );
    assert_eq!(
        kind["params"],
        json!([
            {"name": "file", "label": "File", "description": "The text file, relative to the data folder.",
             "type": "string", "required": true, "default": null, "min": null, "max": null},
            {"name": "chunk_kib", "label": "Chunk (KiB)", "description": "How much of the file is read at a time, in KiB.",
             "type": "integer", "required": false, "default": 64, "min": 1, "max": 4096},
        ])
    );

    let (status, err) = s
        .create("word_count", json!({"file": "../escape.txt"}))
        .await;
    assert_eq!(status, 422, "{err}");
    assert_eq!(err["fields"][0]["field"], "file");
    let (status, err) = s
        .create("word_count", json!({"file": "x", "chunk_kib": 0}))
        .await;
    assert_eq!(status, 422, "{err}");
    let fields: Vec<&str> = err["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, ["file", "chunk_kib"]);
    assert_eq!(err["fields"][1]["message"], "must be from 1 to 4096");

    // Several chunks, and words that straddle their edges.
    let text: String = (0..3000)
        .map(|i| format!("word{i} and more{}", if i % 7 == 0 { "\n" } else { " " }))
        .collect();
    std::fs::write(app.data_root().join("words.txt"), &text).unwrap();
    let (status, job) = s
        .create("word_count", json!({"file": "words.txt", "chunk_kib": 1}))
        .await;
    assert_eq!(status, 201, "{job}");
    let done = s.wait_finished(job["id"].as_str().unwrap()).await;
    let (lines, words) = (text.matches('\n').count(), text.split_whitespace().count());
    assert_eq!(done["status"], "succeeded");
    assert_eq!(
        done["progress"]["message"],
        format!("{lines} lines, {words} words")
    );
    assert_eq!(
        (
            done["progress"]["current"].as_u64(),
            done["progress"]["total"].as_u64()
        ),
        (Some(text.len() as u64), Some(text.len() as u64))
    );
    let log = s.log(job["id"].as_str().unwrap()).await;
    assert_eq!(
        log.last().unwrap()["line"],
        format!("words.txt: {lines} lines, {words} words")
    );
}
