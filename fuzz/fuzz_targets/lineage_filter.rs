//! Arbitrary bytes read by keelson-lineage as an MLMD filter query; an
//! accepted query must print back to itself, and compile and run on SQLite
//! (the lineage schema, in memory) for every node kind it is valid for.
//! Any panic, or a broken invariant reported by
//! `keelson_lineage::filter::fuzz::query` (an SQL error included), is a
//! crash.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rusqlite::Connection;

thread_local! {
    static DB: Connection = {
        let db = Connection::open_in_memory().expect("an in-memory database");
        db.execute_batch(include_str!(
            "../../crates/keelson-lineage/tests/common/contract_schema.sql"
        ))
        .expect("the lineage schema");
        db
    };
}

fuzz_target!(|data: &[u8]| {
    if let Err(bug) = DB.with(|db| keelson_lineage::filter::fuzz::query(data, db)) {
        panic!("{bug}");
    }
});
