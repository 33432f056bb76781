//! The entry point of the `lineage_filter` fuzz target, also replayed over
//! the seed corpus by an ordinary test.

use super::{Dialect, NodeKind, compile, parse};

/// Longest input looked at: longer queries only slow the fuzzer down.
const MAX_INPUT: usize = 4096;

/// Parses `data` as filter text; when it parses, the printed tree must parse
/// back into the same tree, and every kind it compiles for must run on `db`
/// (a database with the lineage schema) without an SQL error.
///
/// Returns a description of the broken invariant; errors of the query
/// itself are fine.
pub fn query(data: &[u8], db: &rusqlite::Connection) -> Result<(), String> {
    let text = String::from_utf8_lossy(data.get(..MAX_INPUT).unwrap_or(data));
    let Ok(filter) = parse(&text) else {
        return Ok(());
    };
    let printed = filter.to_string();
    match parse(&printed) {
        Ok(back) if back == filter => {}
        Ok(back) => return Err(format!("{printed:?} parses into {back:?}, not {filter:?}")),
        Err(e) => return Err(format!("the printed query {printed:?} is refused: {e}")),
    }
    for kind in NodeKind::ALL {
        if compile(&filter, kind, Dialect::Postgres, 2).is_err() {
            continue;
        }
        let compiled = compile(&filter, kind, Dialect::Sqlite, 2)
            .map_err(|e| format!("compiles for PostgreSQL but not for SQLite: {e}"))?;
        let sql = format!(
            "SELECT t.id FROM {} t WHERE t.namespace = ?1 AND ({})",
            kind.table(),
            compiled.where_sql
        );
        let mut params: Vec<&dyn rusqlite::ToSql> = vec![&""];
        params.extend(compiled.params.iter().map(|p| p as &dyn rusqlite::ToSql));
        let run = || -> rusqlite::Result<usize> {
            let mut statement = db.prepare(&sql)?;
            let mut rows = statement.query(params.as_slice())?;
            let mut n = 0;
            while rows.next()?.is_some() {
                n += 1;
            }
            Ok(n)
        };
        run().map_err(|e| format!("{kind:?}: SQL error {e} in {sql}"))?;
    }
    Ok(())
}
