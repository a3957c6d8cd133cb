//! The SQLite files `import_csv` writes its tables into (never Headway's own database).
//!
//! A table is created and filled inside one transaction ([`TableImport`]): nothing is visible
//! until [`TableImport::commit`], and dropping or rolling it back leaves no table and no rows.
//! Table and column names come from the user, so they are always quoted.

use sqlx::sqlite::{SqliteConnectOptions, SqliteConnection};
use sqlx::{Connection, Sqlite, Transaction};
use std::path::Path;
use std::time::Duration;

/// Why a table could not be created or filled.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ImportError {
    #[error("a table, view, index or trigger with that name exists")]
    TableExists,
    #[error("{0}")]
    Database(String),
}

fn db(e: sqlx::Error) -> ImportError {
    ImportError::Database(e.to_string())
}

/// An open import database.
pub struct ImportDb {
    conn: SqliteConnection,
}

impl ImportDb {
    /// Opens the file, creating it when missing.
    pub async fn open(path: &Path) -> Result<ImportDb, ImportError> {
        let options = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true)
            .busy_timeout(Duration::from_secs(30));
        Ok(ImportDb {
            conn: SqliteConnection::connect_with(&options).await.map_err(db)?,
        })
    }

    /// Starts creating `table` with `columns` (all text). Fails with [`ImportError::TableExists`]
    /// if the name is taken, ignoring ASCII case as SQLite does.
    pub async fn begin(
        &mut self,
        table: &str,
        columns: &[String],
    ) -> Result<TableImport<'_>, ImportError> {
        let mut tx = self.conn.begin().await.map_err(db)?;
        let taken = sqlx::query_scalar!(
            r#"SELECT count(*) AS "n!: i64" FROM sqlite_master WHERE lower(name) = lower(?)"#,
            table
        )
        .fetch_one(&mut *tx)
        .await
        .map_err(db)?;
        if taken > 0 {
            return Err(ImportError::TableExists);
        }
        let quoted: Vec<String> = columns.iter().map(|c| quote(c)).collect();
        let create = format!(
            "CREATE TABLE {} ({})",
            quote(table),
            quoted
                .iter()
                .map(|c| format!("{c} TEXT"))
                .collect::<Vec<_>>()
                .join(", ")
        );
        sqlx::query(&create)
            .execute(&mut *tx)
            .await
            .map_err(|e| match &e {
                sqlx::Error::Database(d) if d.message().contains("already exists") => {
                    ImportError::TableExists
                }
                _ => db(e),
            })?;
        let insert = format!(
            "INSERT INTO {} ({}) VALUES ({})",
            quote(table),
            quoted.join(", "),
            vec!["?"; columns.len()].join(", ")
        );
        Ok(TableImport { tx, insert })
    }

    pub async fn close(self) {
        let _ = self.conn.close().await;
    }
}

/// A table being created and filled; nothing of it exists for anyone else until committed.
pub struct TableImport<'c> {
    tx: Transaction<'c, Sqlite>,
    insert: String,
}

impl TableImport<'_> {
    pub async fn insert(&mut self, values: Vec<String>) -> Result<(), ImportError> {
        let mut query = sqlx::query(&self.insert);
        for value in values {
            query = query.bind(value);
        }
        query.execute(&mut *self.tx).await.map(drop).map_err(db)
    }

    pub async fn commit(self) -> Result<(), ImportError> {
        self.tx.commit().await.map_err(db)
    }

    /// Undoes everything (dropping it does too; saying it keeps the promise visible).
    pub async fn rollback(self) -> Result<(), ImportError> {
        self.tx.rollback().await.map_err(db)
    }
}

/// `"name"` with inner quotes doubled: a safe SQL identifier for any header text.
fn quote(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}
