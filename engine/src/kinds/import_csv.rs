//! `import_csv`: loads a CSV file, uploaded or in the data folder, into a new table of a SQLite
//! database file (in the data folder; never Headway's own store). Rows it skips are written to
//! the output `rejected.csv` (their line, why, and their fields); its counts are its result. Both are in the part of the data
//! folder the job's owner may use (see [`super::files`]): a member reads and writes only their
//! own folder (and reads the shared one).
//!
//! The import is all or nothing. A first pass reads the whole file: it counts the rows (the
//! progress total), checks the header and refuses the file if any byte is not UTF-8, before the
//! database is even opened. The second pass creates the table and inserts every row in ONE
//! transaction, committed only at the end: a failure or a cancel part-way leaves no table and
//! no rows. Rows with the wrong number of fields are the one problem that is not fatal: they are
//! skipped, logged with their line number, and the job ends with a warning.
//!
//! Reading is blocking IO, so both passes run on tokio's blocking pool; the second hands rows
//! to the async side, which owns the database connection, through a small bounded channel.

use super::refuse;
use super::{Csv, JobContext, Kind, KindEnv, Retry, RunResult, UploadRef};
use crate::files::Files;
use model::words::kinds;
use model::{JobError, Level, LogLevel, Words};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;
use store_sqlite::import::{ImportDb, ImportError};
use tokio::sync::mpsc;

pub struct ImportCsv;

/// SQLite's default limit on the columns of a table.
pub const MAX_COLUMNS: usize = 2000;

/// The longest row, in bytes of its fields.
pub const MAX_ROW_BYTES: usize = 1 << 20;

/// Rows sent to the database side at a time.
const BATCH_ROWS: usize = 256;

/// Imports a CSV file into a new SQLite table, all or nothing: the header row names the columns,
/// rows with the wrong number of fields are skipped and logged.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema, garde::Validate)]
#[serde(deny_unknown_fields)]
#[schemars(title = "Import CSV")]
#[garde(context(KindEnv))]
pub struct ImportCsvParams {
    /// The CSV file to import, uploaded from your computer (UTF-8 text, a header row first).
    #[schemars(title = "CSV upload")]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[garde(custom(csv_upload(&self.file)))]
    pub upload: Option<UploadRef<Csv>>,
    /// Or: a CSV file already in the data folder, by its path there.
    #[schemars(title = "Or a file in the data folder")]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[garde(custom(csv_file))]
    pub file: Option<String>,
    /// The table to create: letters, digits and _, not starting with a digit.
    #[schemars(title = "Table")]
    #[garde(custom(|table: &str, _: &KindEnv| check_table_name(table).map_err(super::refuse)))]
    pub table: String,
    /// The SQLite database file, relative to the data folder; created if missing.
    #[schemars(title = "Database")]
    #[serde(default = "default_database")]
    #[garde(custom(database_file(&self.file)))]
    pub database: String,
}

fn default_database() -> String {
    "imports.db".into()
}

/// How much of a file validation reads to catch a wrong encoding early (the run checks all).
const ENCODING_SNIFF_BYTES: usize = 64 * 1024;

/// Refuses, at request time, a file whose beginning is not UTF-8, naming the line. A bad byte
/// further on is found by the run, which then imports nothing.
fn check_start_is_utf8(file: File) -> Result<(), Words> {
    use std::io::Read;
    let mut head = Vec::with_capacity(ENCODING_SNIFF_BYTES);
    file.take(ENCODING_SNIFF_BYTES as u64)
        .read_to_end(&mut head)
        .map_err(model::words::files::cannot_read)?;
    match std::str::from_utf8(&head) {
        Ok(_) => Ok(()),
        // A character cut in half by the end of the sample is not an error.
        Err(e) if e.error_len().is_none() => Ok(()),
        Err(e) => {
            let line = 1 + head[..e.valid_up_to()]
                .iter()
                .filter(|b| **b == b'\n')
                .count();
            Err(kinds::not_utf8(line))
        }
    }
}

/// A path given must be a regular file the caller may read, and its beginning UTF-8 text.
fn csv_file(file: &Option<String>, env: &KindEnv) -> garde::Result {
    let Some(file) = file else { return Ok(()) };
    let opened = env.files.open_file(file).map_err(refuse)?;
    check_start_is_utf8(opened).map_err(refuse)
}

/// Exactly one source; an upload must be the caller's, a CSV, and begin with UTF-8 text.
fn csv_upload(
    file: &Option<String>,
) -> impl FnOnce(&Option<UploadRef<Csv>>, &KindEnv) -> garde::Result + '_ {
    move |upload, env| {
        let upload = match (upload, file) {
            (Some(_), Some(_)) => return Err(refuse(kinds::csv_both_sources())),
            (None, None) => return Err(refuse(kinds::csv_no_source())),
            (None, Some(_)) => return Ok(()),
            (Some(upload), None) => upload,
        };
        let mut report = garde::Report::new();
        garde::Validate::validate_into(upload, env, &mut garde::Path::empty, &mut report);
        if let Some((_, error)) = report.iter().next() {
            return Err(error.clone());
        }
        let Some(id) = upload.id() else {
            return Err(refuse(kinds::not_your_upload(upload)));
        };
        let opened = env
            .uploads
            .open(id)
            .map_err(|e| refuse(kinds::upload_unreadable(e)))?;
        check_start_is_utf8(opened).map_err(refuse)
    }
}

/// The database must be a file (new or existing) the caller may write, and not the CSV itself.
fn database_file(file: &Option<String>) -> impl FnOnce(&str, &KindEnv) -> garde::Result + '_ {
    move |database, env| {
        let path = env.files.database(database).map_err(refuse)?;
        if file
            .as_deref()
            .and_then(|f| env.files.open_file(f).ok())
            .is_some_and(|csv| same_file(&csv, &path))
        {
            return Err(refuse(kinds::csv_into_itself()));
        }
        Ok(())
    }
}

impl Kind for ImportCsv {
    type Params = ImportCsvParams;
    const NAME: &'static str = "import_csv";
    /// Bad files, tables and encodings are not tried again; a database or read failure is.
    const RETRY: Retry = Retry {
        max_attempts: 3,
        base: Duration::from_secs(30),
        cap: Duration::from_secs(600),
        permanent: &[
            "bad_path",
            "bad_table",
            "bad_encoding",
            "empty_file",
            "bad_header",
            "line_too_long",
            "upload_gone",
            "file_changed",
            "table_exists",
            "cancelled",
        ],
    };

    async fn run(p: ImportCsvParams, ctx: &mut JobContext) -> RunResult {
        let source = match (&p.upload, &p.file) {
            (Some(upload), _) => match upload.id() {
                Some(id) => Source::Upload(ctx.file_path(id)),
                None => {
                    return Err(JobError::new(
                        "upload_gone",
                        format!("{upload} names no file: upload the file again"),
                    ))
                }
            },
            (None, Some(file)) => Source::Path(file.clone()),
            (None, None) => {
                return Err(JobError::new("bad_path", "the job names no file to import"))
            }
        };
        // Checked again: files may have changed since the job was validated.
        let paths = {
            let (files, p, source) = (ctx.files().clone(), p.clone(), source.clone());
            tokio::task::spawn_blocking(move || resolve(&p, &source, &files))
                .await
                .map_err(crashed)?
                .map_err(|message| JobError::new("bad_path", message))?
        };
        check_table_name(&p.table).map_err(|m| JobError::new("bad_table", format!("table {m}")))?;

        ctx.set_total(None, "rows").await;
        ctx.say(model::words::jobs::checking_the_file()).await;
        let survey = {
            let stop = Arc::new(AtomicBool::new(false));
            let (file, flag) = (paths.file, Arc::clone(&stop));
            let pass = tokio::task::spawn_blocking(move || survey(file, &flag));
            tokio::select! {
                biased;
                _ = ctx.cancelled() => {
                    stop.store(true, Ordering::Relaxed);
                    return Err(cancelled());
                }
                result = pass => result.map_err(crashed)??,
            }
        };
        ctx.set_total(Some(survey.rows), "rows").await;

        let mut db = ImportDb::open(&paths.database)
            .await
            .map_err(|e| db_error(&p.database, e))?;
        let (tx, rx) = mpsc::channel(4);
        let (files, columns) = (ctx.files().clone(), survey.columns.clone());
        tokio::task::spawn_blocking(move || match source.open(&files) {
            // Opened again for the second pass, as safely as the first time.
            Ok(file) => read_rows(file, &columns, tx),
            Err(message) => {
                let _ = tx.blocking_send(Chunk::Failed(JobError::new(
                    "bad_path",
                    format!("file: {message}"),
                )));
            }
        });
        let mut rejected = Rejected::new(ctx, &survey.columns).await?;
        let result = write_rows(
            ctx,
            &mut db,
            &p.table,
            &p.database,
            &survey.columns,
            rx,
            &mut rejected,
        )
        .await;
        db.close().await;
        let counts = result?;
        if counts.skipped > 0 {
            rejected.finish().await?;
        }
        ctx.set_result(serde_json::json!({
            "imported": counts.imported,
            "skipped": counts.skipped,
            "table": p.table,
            "database": p.database,
        }))
        .await?;

        let summary = model::words::jobs::rows_imported(counts.imported, counts.skipped);
        if counts.skipped > 0 {
            ctx.set_level(Level::Warning).await;
        }
        ctx.log(
            LogLevel::Info,
            format!(
                "imported {} rows into table {} of {}",
                counts.imported, p.table, p.database
            ),
        )
        .await;
        ctx.say(summary).await;
        Ok(())
    }
}

/// The file to read, open, and the database to write, inside what the job may use.
#[derive(Debug)]
struct Paths {
    file: File,
    database: PathBuf,
}

/// Where the CSV comes from: a path in the data folder, or an upload's bytes.
#[derive(Debug, Clone)]
enum Source {
    Path(String),
    Upload(PathBuf),
}

impl Source {
    fn open(&self, files: &Files) -> Result<File, String> {
        match self {
            Source::Path(path) => files.open_file(path).map_err(|m| format!("file: {m}")),
            Source::Upload(path) => File::open(path).map_err(|e| {
                format!(
                    "the uploaded file cannot be read ({e}); it may have expired: upload it again"
                )
            }),
        }
    }
}

fn resolve(p: &ImportCsvParams, source: &Source, files: &Files) -> Result<Paths, String> {
    let file = source.open(files)?;
    let database = files
        .database(&p.database)
        .map_err(|m| format!("database: {m}"))?;
    if same_file(&file, &database) {
        return Err("database: must not be the CSV file itself".into());
    }
    Ok(Paths { file, database })
}

/// Whether `path` is the file `opened` is.
fn same_file(opened: &File, path: &Path) -> bool {
    use std::os::unix::fs::MetadataExt;
    match (opened.metadata(), std::fs::metadata(path)) {
        (Ok(a), Ok(b)) => a.dev() == b.dev() && a.ino() == b.ino(),
        _ => false,
    }
}

/// Table names are plain identifiers (`^[A-Za-z_][A-Za-z0-9_]{0,62}$`), so that they can be
/// written in SQL and typed in a query without surprises.
pub fn check_table_name(name: &str) -> Result<(), Words> {
    let mut chars = name.chars();
    let starts_well = chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_');
    if !starts_well || !chars.all(|c| c.is_ascii_alphanumeric() || c == '_') {
        return Err(kinds::table_name());
    }
    if name.len() > 63 {
        return Err(kinds::table_length(63));
    }
    if name.to_ascii_lowercase().starts_with("sqlite_") {
        return Err(kinds::table_sqlite());
    }
    Ok(())
}

/// What the first pass learns.
#[derive(Debug)]
struct Survey {
    columns: Vec<String>,
    /// Data rows, the header not included.
    rows: u64,
}

/// One data row of the second pass.
#[derive(Debug)]
enum Row {
    Values(Vec<String>),
    WrongWidth { line: u64, fields: Vec<String> },
}

/// What the reading side sends. The import commits only after [`Chunk::End`]: if the reader
/// stops without saying so (it panicked, say), the rows so far are rolled back.
#[derive(Debug)]
enum Chunk {
    Rows(Vec<Row>),
    End,
    Failed(JobError),
}

/// The CSV reader's buffer, in bytes.
const READ_BUFFER: usize = 64 * 1024;

/// The file as the CSV reader reads it: it hands over no more than a row's bound (and a
/// buffer) past the end of the last row read, so that a row that never ends (an unclosed
/// quote) fails as soon as it passes the bound, instead of being held whole in memory first.
struct RowBound {
    file: File,
    /// Bytes handed over since the last row ended.
    since_row: std::cell::Cell<usize>,
}

/// What [`RowBound`] fails a read with.
#[derive(Debug)]
struct RowTooLong;

impl std::fmt::Display for RowTooLong {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "a row longer than {MAX_ROW_BYTES} bytes")
    }
}

impl std::error::Error for RowTooLong {}

impl std::io::Read for RowBound {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        // What the reader holds of the row is at most what it was handed since the last row
        // ended plus one buffer of what it had read ahead.
        if self.since_row.get() > MAX_ROW_BYTES + READ_BUFFER {
            return Err(std::io::Error::other(RowTooLong));
        }
        let n = std::io::Read::read(&mut self.file, buf)?;
        self.since_row.set(self.since_row.get() + n);
        Ok(n)
    }
}

fn reader(file: File) -> Result<csv::Reader<RowBound>, JobError> {
    // Every record is read as bytes (so that bad UTF-8 is found with its line) and of any width
    // (so that a short row is skipped, not fatal).
    Ok(csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .buffer_capacity(READ_BUFFER)
        .from_reader(RowBound {
            file,
            since_row: Default::default(),
        }))
}

/// What a row longer than [`MAX_ROW_BYTES`] fails the import with.
fn row_too_long(line: u64, size: Option<usize>) -> JobError {
    let size = size.map_or_else(
        || format!("more than {MAX_ROW_BYTES} bytes long (an unclosed quote?)"),
        |size| format!("{size} bytes long"),
    );
    JobError::new(
        "line_too_long",
        format!(
            "the row on line {line} is {size}; a row may be at most 1 MiB \
             (is this a CSV file?); nothing was imported"
        ),
    )
}

/// Reads the next record; `Ok(None)` at the end of the file.
fn next_record(
    reader: &mut csv::Reader<RowBound>,
    record: &mut csv::ByteRecord,
) -> Result<Option<u64>, JobError> {
    let read = reader.read_byte_record(record);
    reader.get_ref().since_row.set(0);
    match read {
        Ok(true) => {
            let line = record.position().map_or(0, |p| p.line());
            let size = record.as_slice().len();
            if size > MAX_ROW_BYTES {
                return Err(row_too_long(line, Some(size)));
            }
            Ok(Some(line))
        }
        Ok(false) => Ok(None),
        Err(e) => {
            let line = e.position().map_or(0, |p| p.line());
            let too_long = matches!(e.kind(), csv::ErrorKind::Io(io)
                if io.get_ref().is_some_and(|inner| inner.is::<RowTooLong>()));
            if too_long {
                // The row being read is dropped with the reader: its memory goes at once.
                *record = csv::ByteRecord::new();
                let started = reader.position().line();
                return Err(row_too_long(started, None));
            }
            Err(read_failed(line, e.to_string()))
        }
    }
}

/// The record's fields as text, or `bad_encoding` naming its line.
fn fields(record: &csv::ByteRecord, line: u64) -> Result<Vec<String>, JobError> {
    record
        .iter()
        .map(|field| {
            std::str::from_utf8(field).map(str::to_owned).map_err(|_| {
                JobError::new(
                    "bad_encoding",
                    format!("line {line} is not valid UTF-8; nothing was imported"),
                )
            })
        })
        .collect()
}

/// The first pass: the header's columns and the number of data rows. Fails on the first byte
/// that is not UTF-8. Returns early (with an error nobody sees) once `stop` is set.
fn survey(file: File, stop: &AtomicBool) -> Result<Survey, JobError> {
    let mut reader = reader(file)?;
    let mut record = csv::ByteRecord::new();
    let Some(line) = next_record(&mut reader, &mut record)? else {
        return Err(JobError::new(
            "empty_file",
            "the file is empty; its first row must name the columns",
        ));
    };
    let columns = header(fields(&record, line)?)?;
    let mut rows = 0;
    while let Some(line) = next_record(&mut reader, &mut record)? {
        if stop.load(Ordering::Relaxed) {
            return Err(cancelled());
        }
        fields(&record, line)?;
        rows += 1;
    }
    Ok(Survey { columns, rows })
}

/// Checks the header row and returns the column names.
fn header(mut names: Vec<String>) -> Result<Vec<String>, JobError> {
    let bad = |message: String| JobError::new("bad_header", message);
    if let Some(first) = names.first_mut() {
        // A byte order mark is an encoding marker, not part of the first column's name.
        if let Some(rest) = first.strip_prefix('\u{feff}') {
            *first = rest.to_string();
        }
    }
    if names.len() > MAX_COLUMNS {
        return Err(bad(format!(
            "the header has {} columns; SQLite allows at most {MAX_COLUMNS}",
            names.len()
        )));
    }
    let mut seen = std::collections::HashSet::new();
    for (i, name) in names.iter().enumerate() {
        if name.trim().is_empty() {
            return Err(bad(format!("column {} of the header has no name", i + 1)));
        }
        if name.contains('\0') {
            return Err(bad(format!(
                "column {} of the header contains a NUL character",
                i + 1
            )));
        }
        // SQLite compares column names without regard to ASCII case.
        if !seen.insert(name.to_ascii_lowercase()) {
            return Err(bad(format!("column {name:?} appears twice in the header")));
        }
    }
    Ok(names)
}

/// The second pass: sends the data rows in batches, then `End`; or `Failed` when something is
/// wrong. Stops early when the receiver goes away (the import stopped).
fn read_rows(file: File, columns: &[String], tx: mpsc::Sender<Chunk>) {
    let result = (|| {
        let mut reader = reader(file)?;
        let mut record = csv::ByteRecord::new();
        let line = next_record(&mut reader, &mut record)?.unwrap_or(0);
        if header(fields(&record, line)?)? != columns {
            return Err(JobError::new(
                "file_changed",
                "the file's header changed during the import; nothing was imported",
            ));
        }
        let mut batch = Vec::with_capacity(BATCH_ROWS);
        while let Some(line) = next_record(&mut reader, &mut record)? {
            let values = fields(&record, line)?;
            batch.push(if values.len() == columns.len() {
                Row::Values(values)
            } else {
                Row::WrongWidth {
                    line,
                    fields: values,
                }
            });
            if batch.len() == BATCH_ROWS
                && tx
                    .blocking_send(Chunk::Rows(std::mem::take(&mut batch)))
                    .is_err()
            {
                return Ok(());
            }
        }
        if !batch.is_empty() && tx.blocking_send(Chunk::Rows(batch)).is_err() {
            return Ok(());
        }
        Ok(())
    })();
    let last = match result {
        Ok(()) => Chunk::End,
        Err(e) => Chunk::Failed(e),
    };
    let _ = tx.blocking_send(last);
}

#[derive(Debug, Default, PartialEq)]
struct Counts {
    imported: u64,
    skipped: u64,
}

/// Creates `table` and inserts the rows from `rx`, all in one transaction that is committed
/// only when the rows end without error or cancel. Whatever happens before that is rolled back.
async fn write_rows(
    ctx: &mut JobContext,
    db: &mut ImportDb,
    table: &str,
    database: &str,
    columns: &[String],
    mut rx: mpsc::Receiver<Chunk>,
    rejected: &mut Rejected,
) -> Result<Counts, JobError> {
    let failed = |e: ImportError| db_error(database, e);
    let mut import = db.begin(table, columns).await.map_err(|e| match e {
        ImportError::TableExists => table_exists(table, database),
        other => failed(other),
    })?;
    let mut counts = Counts::default();
    loop {
        let chunk = tokio::select! {
            biased;
            _ = ctx.cancelled() => {
                import.rollback().await.map_err(failed)?;
                return Err(cancelled());
            }
            chunk = rx.recv() => chunk,
        };
        let rows = match chunk {
            Some(Chunk::Rows(rows)) => rows,
            Some(Chunk::End) => break,
            Some(Chunk::Failed(e)) => {
                import.rollback().await.map_err(failed)?;
                return Err(e);
            }
            None => {
                import.rollback().await.map_err(failed)?;
                return Err(JobError::new(
                    "crashed",
                    "reading the file stopped before its end; nothing was imported",
                ));
            }
        };
        for row in rows {
            match row {
                Row::Values(values) => {
                    import.insert(values).await.map_err(failed)?;
                    counts.imported += 1;
                }
                Row::WrongWidth { line, fields } => {
                    counts.skipped += 1;
                    ctx.set_level(Level::Warning).await;
                    let (found, expected) = (fields.len(), columns.len());
                    let why = format!("{found} fields instead of {expected}");
                    ctx.log(LogLevel::Warn, format!("line {line}: {why}; row skipped"))
                        .await;
                    rejected.add(line, &why, fields).await?;
                }
            }
            ctx.advance(1).await;
        }
        ctx.say(model::words::jobs::rows_imported(
            counts.imported,
            counts.skipped,
        ))
        .await;
    }
    import.commit().await.map_err(failed)?;
    Ok(counts)
}

/// The output `rejected.csv`: a header (`line`, `reason`, then the file's columns) and one
/// row per skipped row, as it was. Written as rows are skipped; listed with the job only if
/// one was.
struct Rejected {
    out: crate::context::OutputFile,
    buffer: Vec<u8>,
}

/// Appends one CSV record to `buffer`.
fn record(buffer: &mut Vec<u8>, fields: &[String]) -> Result<(), JobError> {
    let mut writer = csv::Writer::from_writer(buffer);
    writer.write_record(fields).map_err(write_failed)?;
    writer.flush().map_err(|e| write_failed(e.into()))
}

/// The name of the output of skipped rows.
pub const REJECTED: &str = "rejected.csv";

impl Rejected {
    async fn new(ctx: &JobContext, columns: &[String]) -> Result<Rejected, JobError> {
        let out = ctx
            .create_output(REJECTED, "text/csv; charset=utf-8")
            .await?;
        let mut buffer = Vec::new();
        let mut head = vec!["line".to_string(), "reason".to_string()];
        head.extend(columns.iter().cloned());
        record(&mut buffer, &head)?;
        Ok(Rejected { out, buffer })
    }

    async fn add(&mut self, line: u64, why: &str, fields: Vec<String>) -> Result<(), JobError> {
        let mut row = vec![line.to_string(), why.to_string()];
        row.extend(fields);
        record(&mut self.buffer, &row)?;
        if self.buffer.len() >= 64 * 1024 {
            self.spill().await?;
        }
        Ok(())
    }

    async fn spill(&mut self) -> Result<(), JobError> {
        let bytes = std::mem::take(&mut self.buffer);
        self.out.write(&bytes).await
    }

    async fn finish(mut self) -> Result<(), JobError> {
        self.spill().await?;
        self.out.finish().await.map(|_| ())
    }
}

fn write_failed(e: csv::Error) -> JobError {
    JobError::new(
        "output_failed",
        format!("the rejected rows could not be written: {e}"),
    )
}

fn table_exists(table: &str, database: &str) -> JobError {
    JobError::new(
        "table_exists",
        format!(
            "{database} already has a table named {table}; choose another name or drop it first"
        ),
    )
}

fn cancelled() -> JobError {
    JobError::new(
        "cancelled",
        "the import was cancelled; nothing was imported",
    )
}

fn read_failed(line: u64, reason: String) -> JobError {
    let at = if line > 0 {
        format!(" at line {line}")
    } else {
        String::new()
    };
    JobError::new("read_failed", format!("cannot read the file{at}: {reason}"))
}

fn db_error(database: &str, e: ImportError) -> JobError {
    JobError::new("database_error", format!("cannot write to {database}: {e}"))
}

fn crashed(e: tokio::task::JoinError) -> JobError {
    JobError::new(
        "crashed",
        format!("reading the file stopped unexpectedly: {e}"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{Harness, TestJob};
    use serde_json::json;
    use std::os::unix::fs::symlink;

    #[test]
    fn a_row_that_never_ends_is_refused_past_its_bound_not_read_whole() {
        use std::io::Seek;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("unclosed.csv");
        let mut bytes = b"a,b\n1,\"".to_vec();
        bytes.extend(std::iter::repeat_n(b'x', 8 << 20));
        std::fs::write(&path, &bytes).unwrap();
        let mut reader = reader(File::open(&path).unwrap()).unwrap();
        let mut record = csv::ByteRecord::new();
        assert!(next_record(&mut reader, &mut record).unwrap().is_some());
        let refused = next_record(&mut reader, &mut record).unwrap_err();
        assert_eq!(refused.code, "line_too_long");
        assert!(
            refused.message.contains("line 2 is more than"),
            "{}",
            refused.message
        );
        let read = reader.get_mut().file.stream_position().unwrap();
        assert!(
            read <= (MAX_ROW_BYTES + 3 * READ_BUFFER) as u64,
            "{read} bytes read of {}",
            bytes.len()
        );
    }

    fn params(file: &str, table: &str) -> ImportCsvParams {
        serde_json::from_value(json!({"file": file, "table": table})).unwrap()
    }

    async fn import(h: &Harness, file: &str, table: &str) -> (TestJob, RunResult) {
        let mut job = h
            .start("import_csv", json!({"file": file, "table": table}))
            .await;
        let result = ImportCsv::run(params(file, table), &mut job.ctx).await;
        (job, result)
    }

    async fn rows(h: &Harness, table: &str) -> Vec<(String, String, String)> {
        let rows = read_back::rows(&h.data_root.join("imports.db"), table);
        rows.into_iter()
            .map(|r| (r[0].clone(), r[1].clone(), r[2].clone()))
            .collect()
    }

    async fn has_table(h: &Harness, table: &str) -> bool {
        read_back::has_table(&h.data_root.join("imports.db"), table)
    }

    fn owned(rows: &[(&str, &str, &str)]) -> Vec<(String, String, String)> {
        rows.iter()
            .map(|(a, b, c)| (a.to_string(), b.to_string(), c.to_string()))
            .collect()
    }

    #[tokio::test]
    async fn rows_become_a_table_that_any_sqlite_client_can_read() {
        let h = Harness::new().await;
        h.write(
            "people.csv",
            "name,age,city\nAda,36,London\n\"Lee, Jr.\",29,\"New\nYork\"\nBo,41,\"say \"\"hi\"\"\"\n",
        );

        let (mut job, result) = import(&h, "people.csv", "people").await;

        assert_eq!(result, Ok(()));
        assert_eq!(
            rows(&h, "people").await,
            owned(&[
                ("Ada", "36", "London"),
                ("Lee, Jr.", "29", "New\nYork"),
                ("Bo", "41", "say \"hi\""),
            ])
        );
        let stored = h.job(&mut job).await;
        assert_eq!(stored.progress.unit, "rows");
        assert_eq!(
            (stored.progress.current, stored.progress.total),
            (3, Some(3))
        );
        assert_eq!(stored.progress.message, "3 rows imported, 0 skipped");
        assert_eq!(stored.progress.level, Level::Success);
        assert!(h.lines(&mut job, LogLevel::Warn).await.is_empty());
    }

    #[tokio::test]
    async fn the_header_names_the_columns() {
        let h = Harness::new().await;
        h.write(
            "odd.csv",
            "\u{feff}first name,\"a \"\"quoted\"\" one\",Select\nx,y,z\n",
        );
        let (_job, result) = import(&h, "odd.csv", "odd").await;
        assert_eq!(result, Ok(()));
        let names = read_back::column_names(&h.data_root.join("imports.db"), "odd");
        assert_eq!(names, ["first name", "a \"quoted\" one", "Select"]);
    }

    #[tokio::test]
    async fn rows_of_the_wrong_width_are_skipped_and_logged_with_their_line() {
        let h = Harness::new().await;
        h.write(
            "people.csv",
            "name,age,city\nAda,36,London\nBob,41\n\"Lee\",29,\"New\nYork\"\nMax,1,2,3\nEve,22,Paris\n",
        );

        let (mut job, result) = import(&h, "people.csv", "people").await;

        assert_eq!(result, Ok(()));
        assert_eq!(
            h.lines(&mut job, LogLevel::Warn).await,
            [
                "line 3: 2 fields instead of 3; row skipped",
                "line 6: 4 fields instead of 3; row skipped",
            ]
        );
        assert_eq!(
            rows(&h, "people").await,
            owned(&[
                ("Ada", "36", "London"),
                ("Lee", "29", "New\nYork"),
                ("Eve", "22", "Paris"),
            ])
        );
        let stored = h.job(&mut job).await;
        assert_eq!(stored.progress.level, Level::Warning);
        assert_eq!(stored.progress.message, "3 rows imported, 2 skipped");
        assert_eq!(
            (stored.progress.current, stored.progress.total),
            (5, Some(5))
        );
    }

    #[tokio::test]
    async fn invalid_utf8_fails_naming_its_line_and_imports_nothing() {
        let h = Harness::new().await;
        let mut csv = b"name,city\nAda,London\nBob,Paris\nZoe,M".to_vec();
        csv.extend_from_slice(&[0xFF, 0xFE]);
        csv.extend_from_slice(b"nchen\nEve,Rome\n");
        h.write("bad.csv", csv);

        let (_job, result) = import(&h, "bad.csv", "people").await;

        let err = result.unwrap_err();
        assert_eq!(err.code, "bad_encoding");
        assert!(err.message.contains("line 4"), "{}", err.message);
        assert!(
            !h.data_root.join("imports.db").exists(),
            "the database was not even created"
        );
    }

    #[tokio::test]
    async fn an_existing_table_is_never_touched() {
        let h = Harness::new().await;
        h.write("people.csv", "name,age,city\nAda,36,London\n");
        assert_eq!(import(&h, "people.csv", "people").await.1, Ok(()));
        h.write("more.csv", "name,age,city\nBob,41,Oslo\n");

        let err = import(&h, "more.csv", "PEOPLE").await.1.unwrap_err();

        assert_eq!(err.code, "table_exists");
        assert!(
            err.message
                .contains("imports.db already has a table named PEOPLE"),
            "{}",
            err.message
        );
        assert_eq!(rows(&h, "people").await, owned(&[("Ada", "36", "London")]));
    }

    #[tokio::test]
    async fn an_error_part_way_rolls_everything_back() {
        let h = Harness::new().await;
        let mut job = h.start("import_csv", json!({})).await;
        let mut db = open_new(&h).await;
        let (tx, rx) = mpsc::channel(4);
        tx.send(Chunk::Rows(vec![
            Row::Values(vec!["Ada".into()]),
            Row::Values(vec!["Bob".into()]),
        ]))
        .await
        .unwrap();
        tx.send(Chunk::Failed(JobError::new("bad_encoding", "line 4")))
            .await
            .unwrap();

        let mut rejected = Rejected::new(&job.ctx, &[]).await.unwrap();
        let result = write_rows(
            &mut job.ctx,
            &mut db,
            "people",
            "imports.db",
            &["name".into()],
            rx,
            &mut rejected,
        )
        .await;

        assert_eq!(result.unwrap_err().code, "bad_encoding");
        assert!(!has_table(&h, "people").await);
    }

    #[tokio::test]
    async fn a_reader_that_stops_without_reaching_the_end_imports_nothing() {
        let h = Harness::new().await;
        let mut job = h.start("import_csv", json!({})).await;
        let mut db = open_new(&h).await;
        let (tx, rx) = mpsc::channel(4);
        tx.send(Chunk::Rows(vec![Row::Values(vec!["Ada".into()])]))
            .await
            .unwrap();
        drop(tx);

        let mut rejected = Rejected::new(&job.ctx, &[]).await.unwrap();
        let result = write_rows(
            &mut job.ctx,
            &mut db,
            "people",
            "imports.db",
            &["name".into()],
            rx,
            &mut rejected,
        )
        .await;

        assert_eq!(result.unwrap_err().code, "crashed");
        assert!(!has_table(&h, "people").await);
    }

    #[tokio::test]
    async fn a_cancel_part_way_rolls_everything_back() {
        let h = Harness::new().await;
        let mut job = h.start("import_csv", json!({})).await;
        let mut db = open_new(&h).await;
        let (tx, rx) = mpsc::channel(1);
        let stop = job.stop.clone();
        tokio::spawn(async move {
            let row = || Chunk::Rows(vec![Row::Values(vec!["Ada".into()])]);
            tx.send(row()).await.unwrap();
            // Once the second batch is in, the first has been taken: rows are being inserted.
            tx.send(row()).await.unwrap();
            stop.cancel();
            let _ = tx.send(row()).await;
        });

        let mut rejected = Rejected::new(&job.ctx, &[]).await.unwrap();
        let result = write_rows(
            &mut job.ctx,
            &mut db,
            "people",
            "imports.db",
            &["name".into()],
            rx,
            &mut rejected,
        )
        .await;

        assert_eq!(result.unwrap_err().code, "cancelled");
        assert!(!has_table(&h, "people").await);
    }

    #[tokio::test]
    async fn a_job_cancelled_before_it_starts_creates_nothing() {
        let h = Harness::new().await;
        h.write("people.csv", "name\nAda\n");
        let mut job = h.start("import_csv", json!({})).await;
        job.stop.cancel();
        let err = ImportCsv::run(params("people.csv", "people"), &mut job.ctx)
            .await
            .unwrap_err();
        assert_eq!(err.code, "cancelled");
        assert!(!h.data_root.join("imports.db").exists());
    }

    #[tokio::test]
    async fn an_empty_file_or_a_bad_header_fails_clearly() {
        let h = Harness::new().await;
        h.write("empty.csv", "");
        h.write("dup.csv", "id,name,ID\n1,a,2\n");
        h.write("blank.csv", "id,,name\n1,a,2\n");
        assert_eq!(
            import(&h, "empty.csv", "t").await.1.unwrap_err().code,
            "empty_file"
        );
        let dup = import(&h, "dup.csv", "t").await.1.unwrap_err();
        assert_eq!(
            (dup.code.as_str(), dup.message.as_str()),
            ("bad_header", "column \"ID\" appears twice in the header")
        );
        let blank = import(&h, "blank.csv", "t").await.1.unwrap_err();
        assert_eq!(blank.message, "column 2 of the header has no name");
    }

    /// An empty database in the data root, as `write_rows` gets it from `run`.
    async fn open_new(h: &Harness) -> ImportDb {
        ImportDb::open(&h.data_root.join("imports.db"))
            .await
            .unwrap()
    }

    fn problems(h: &Harness, file: &str, table: &str, database: &str) -> Vec<(String, String)> {
        let params = json!({"file": file, "table": table, "database": database});
        match crate::kinds::Registry::builtin().parse("import_csv", params, &h.env()) {
            Ok(_) => Vec::new(),
            Err(e) => e.fields.into_iter().map(|f| (f.field, f.message)).collect(),
        }
    }

    #[tokio::test]
    async fn paths_must_stay_inside_the_data_root() {
        let h = Harness::new().await;
        h.write("in/people.csv", "name\nAda\n");
        std::fs::write(h.outside().join("secret.csv"), "name\nEve\n").unwrap();
        symlink(
            h.outside().join("secret.csv"),
            h.data_root.join("in/link.csv"),
        )
        .unwrap();
        symlink(h.outside(), h.data_root.join("out")).unwrap();

        assert!(problems(&h, "in/people.csv", "people", "imports.db").is_empty());
        assert!(problems(&h, "./in/people.csv", "people", "in/own.db").is_empty());

        let only = |file: &str, database: &str| {
            let mut all = problems(&h, file, "people", database);
            assert_eq!(all.len(), 1, "{file} {database}: {all:?}");
            all.remove(0)
        };
        let (field, message) = only("../outside/secret.csv", "imports.db");
        assert_eq!(field, "file");
        assert!(message.contains("`..`"), "{message}");
        assert!(only(
            h.data_root.join("in/people.csv").to_str().unwrap(),
            "imports.db"
        )
        .1
        .contains("absolute"));
        assert!(only("in/link.csv", "imports.db")
            .1
            .contains("outside the data folder"));
        assert!(only("out/secret.csv", "imports.db")
            .1
            .contains("outside the data folder"));
        assert_eq!(only("in/missing.csv", "imports.db").1, "does not exist");
        assert_eq!(only("in", "imports.db").1, "is not a file");

        assert_eq!(only("in/people.csv", "../x.db").0, "database");
        assert!(only("in/people.csv", "/tmp/x.db").1.contains("absolute"));
        assert!(only("in/people.csv", "out/x.db")
            .1
            .contains("outside the data folder"));
        assert_eq!(
            only("in/people.csv", "in").1,
            "is a folder, not a database file"
        );
        assert_eq!(
            only("in/people.csv", "in/people.csv").1,
            "must not be the CSV file itself"
        );
    }

    #[test]
    fn table_names_are_plain_identifiers() {
        for good in ["people", "_t", "T2", "a_b_c", &"x".repeat(63)] {
            assert_eq!(check_table_name(good), Ok(()), "{good}");
        }
        for bad in [
            "", "2people", "people-2", "pe ople", "\"x\"", "tâble", "a;DROP",
        ] {
            assert!(
                check_table_name(bad)
                    .unwrap_err()
                    .english
                    .contains("letter"),
                "{bad}"
            );
        }
        assert!(check_table_name(&"x".repeat(64))
            .unwrap_err()
            .english
            .contains("63"));
        assert!(check_table_name("sqlite_stat1")
            .unwrap_err()
            .english
            .contains("sqlite_"));
    }

    #[tokio::test]
    async fn a_bad_table_name_is_a_field_error() {
        let h = Harness::new().await;
        let fields: Vec<String> = problems(&h, "missing.csv", "1x", "imports.db")
            .into_iter()
            .map(|f| f.0)
            .collect();
        assert_eq!(fields, ["file", "table"]);
    }

    #[test]
    fn only_file_and_table_are_required() {
        let p = params("a.csv", "t");
        assert_eq!(p.database, "imports.db");
        assert!(serde_json::from_value::<ImportCsvParams>(json!({"file": "a.csv"})).is_err());
        assert!(serde_json::from_value::<ImportCsvParams>(
            json!({"file": "a", "table": "t", "x": 1})
        )
        .is_err());
    }

    /// What an import left, read back as any SQLite client would.
    mod read_back {
        use rusqlite::{Connection, OpenFlags};
        use std::path::Path;

        fn open(path: &Path) -> Connection {
            Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_ONLY).unwrap()
        }

        /// Every row of `table` in insertion order, each value as text.
        pub fn rows(path: &Path, table: &str) -> Vec<Vec<String>> {
            let db = open(path);
            let quoted = format!("\"{}\"", table.replace('"', "\"\""));
            let mut stmt = db
                .prepare(&format!("SELECT * FROM {quoted} ORDER BY rowid"))
                .unwrap();
            let n = stmt.column_count();
            stmt.query_map([], |r| (0..n).map(|i| r.get::<_, String>(i)).collect())
                .unwrap()
                .map(Result::unwrap)
                .collect()
        }

        pub fn has_table(path: &Path, table: &str) -> bool {
            open(path)
                .query_row(
                    "SELECT count(*) FROM sqlite_master WHERE lower(name) = lower(?)",
                    [table],
                    |r| r.get::<_, i64>(0),
                )
                .unwrap()
                > 0
        }

        pub fn column_names(path: &Path, table: &str) -> Vec<String> {
            let db = open(path);
            let mut stmt = db
                .prepare("SELECT name FROM pragma_table_info(?) ORDER BY cid")
                .unwrap();
            stmt.query_map([table], |r| r.get(0))
                .unwrap()
                .map(Result::unwrap)
                .collect()
        }
    }
}
