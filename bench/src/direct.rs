//! The SQLite C API on the calling thread, through the connection sqlx opened: the throughput
//! reference without sqlx's hop to a worker thread for every statement.

use crate::Res;
use libsqlite3_sys as ffi;
use std::ffi::{CStr, CString};
use std::os::raw::c_int;

pub struct Db(*mut ffi::sqlite3);

pub struct Stmt {
    db: *mut ffi::sqlite3,
    raw: *mut ffi::sqlite3_stmt,
}

impl Db {
    /// # Safety
    /// `raw` must be an open connection that nothing else uses while this value lives.
    pub unsafe fn new(raw: *mut ffi::sqlite3) -> Db {
        Db(raw)
    }

    fn error(&self) -> String {
        // SAFETY: the connection is open; the message is a NUL-terminated string it owns.
        unsafe {
            CStr::from_ptr(ffi::sqlite3_errmsg(self.0))
                .to_string_lossy()
                .into_owned()
        }
    }

    pub fn exec(&self, sql: &str) -> Res<()> {
        let c = CString::new(sql).map_err(|e| e.to_string())?;
        // SAFETY: valid connection and NUL-terminated SQL; no callback.
        let rc = unsafe {
            ffi::sqlite3_exec(
                self.0,
                c.as_ptr(),
                None,
                std::ptr::null_mut(),
                std::ptr::null_mut(),
            )
        };
        if rc != ffi::SQLITE_OK {
            return Err(format!("{sql}: {}", self.error()));
        }
        Ok(())
    }

    pub fn prepare(&self, sql: &str) -> Res<Stmt> {
        let c = CString::new(sql).map_err(|e| e.to_string())?;
        let mut raw = std::ptr::null_mut();
        // SAFETY: valid connection, NUL-terminated SQL, out-pointer to a local.
        let rc = unsafe {
            ffi::sqlite3_prepare_v2(self.0, c.as_ptr(), -1, &mut raw, std::ptr::null_mut())
        };
        if rc != ffi::SQLITE_OK {
            return Err(format!("{sql}: {}", self.error()));
        }
        Ok(Stmt { db: self.0, raw })
    }
}

impl Stmt {
    fn check(&self, rc: c_int) -> Res<()> {
        if rc == ffi::SQLITE_OK {
            Ok(())
        } else {
            Err(Db(self.db).error())
        }
    }

    pub fn text(&mut self, i: c_int, v: &str) -> Res<&mut Self> {
        // SAFETY: SQLITE_TRANSIENT makes SQLite copy the bytes before this call returns.
        let rc = unsafe {
            ffi::sqlite3_bind_text(
                self.raw,
                i,
                v.as_ptr().cast(),
                v.len() as c_int,
                ffi::SQLITE_TRANSIENT(),
            )
        };
        self.check(rc)?;
        Ok(self)
    }

    pub fn int(&mut self, i: c_int, v: i64) -> Res<&mut Self> {
        // SAFETY: a prepared statement owned by this value.
        let rc = unsafe { ffi::sqlite3_bind_int64(self.raw, i, v) };
        self.check(rc)?;
        Ok(self)
    }

    pub fn null(&mut self, i: c_int) -> Res<&mut Self> {
        // SAFETY: as above.
        let rc = unsafe { ffi::sqlite3_bind_null(self.raw, i) };
        self.check(rc)?;
        Ok(self)
    }

    /// Runs the statement to its end and resets it; returns how many rows it produced. The
    /// first column of each row is read, as a caller decoding it would.
    pub fn run(&mut self) -> Res<u64> {
        let mut rows = 0;
        loop {
            // SAFETY: a prepared statement owned by this value.
            match unsafe { ffi::sqlite3_step(self.raw) } {
                ffi::SQLITE_ROW => {
                    rows += 1;
                    // SAFETY: column 0 exists in every RETURNING row read here.
                    unsafe { ffi::sqlite3_column_text(self.raw, 0) };
                }
                ffi::SQLITE_DONE => break,
                _ => {
                    let e = Db(self.db).error();
                    // SAFETY: as above.
                    unsafe { ffi::sqlite3_reset(self.raw) };
                    return Err(e);
                }
            }
        }
        // SAFETY: as above.
        unsafe {
            ffi::sqlite3_reset(self.raw);
            ffi::sqlite3_clear_bindings(self.raw);
        }
        Ok(rows)
    }
}

impl Drop for Stmt {
    fn drop(&mut self) {
        // SAFETY: finalizing the statement this value prepared, once.
        unsafe { ffi::sqlite3_finalize(self.raw) };
    }
}
