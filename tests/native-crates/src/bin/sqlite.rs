//! A bundled SQLite: each invocation stores the event's lines in an in-memory table and counts
//! them back.
use lambda_blocking_rt::{Context, Error};

fn count_lines(event: &[u8], _ctx: &Context) -> Result<String, Error> {
    let sqlite = |error: rusqlite::Error| Error::new("SQLite", error.to_string());
    let db = rusqlite::Connection::open_in_memory().map_err(sqlite)?;
    db.execute("CREATE TABLE line (text TEXT NOT NULL)", [])
        .map_err(sqlite)?;
    for line in String::from_utf8_lossy(event).lines() {
        db.execute("INSERT INTO line (text) VALUES (?1)", [line])
            .map_err(sqlite)?;
    }
    let (version, count): (String, i64) = db
        .query_row("SELECT sqlite_version(), count(*) FROM line", [], |row| {
            Ok((row.get(0)?, row.get(1)?))
        })
        .map_err(sqlite)?;
    Ok(format!("sqlite={version} lines={count}"))
}

fn main() -> std::process::ExitCode {
    lambda_blocking_rt::run(count_lines)
}
