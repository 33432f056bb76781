//! Entry points for the `sched_quantity` fuzz target under `fuzz/`, public
//! so that an ordinary test replays the checked-in seeds through exactly the
//! code the fuzzer runs.

use crate::Quantity;

/// Reads arbitrary bytes (lossily as UTF-8) as quantity strings, one per
/// line. Rejections are fine; `Err` reports a broken invariant (a bug): an
/// accepted quantity whose canonical text does not parse back to it. It
/// must never panic, whatever the input.
///
/// ```
/// keelson_sched::fuzz::quantity(b"500m\n16Gi\n1.5e3\nnot a quantity").unwrap();
/// ```
pub fn quantity(data: &[u8]) -> Result<(), String> {
    let text = String::from_utf8_lossy(data.get(..4096).unwrap_or(data));
    for line in text.lines() {
        if let Ok(q) = Quantity::parse(line) {
            let canonical = q.to_string();
            match Quantity::parse(&canonical) {
                Ok(back) if back == q => {}
                other => {
                    return Err(format!(
                        "{line:?} parsed as {q:?}, whose text {canonical:?} reads back as {other:?}"
                    ));
                }
            }
            let _ = q.checked_mul(u64::MAX).map(|m| m.checked_add(q));
            let _ = q.units_ceil();
        }
    }
    Ok(())
}
