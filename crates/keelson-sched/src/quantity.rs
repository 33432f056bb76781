//! Kubernetes resource quantities (`500m`, `16Gi`, `1.5e3`), held exactly.
//!
//! The grammar is Kubernetes' (`k8s.io/apimachinery/pkg/api/resource`): a
//! signed decimal number, then a binary suffix (`Ki` … `Ei`), a decimal
//! suffix (`n`, `u`, `m`, none, `k`, `M`, `G`, `T`, `P`, `E`) or a decimal
//! exponent (`e3`, `E-2`). A [`Quantity`] holds the value in thousandths
//! (milli-units) as an `i128`, so every quantity Kubernetes accepts for a
//! request, up to exabytes of memory, is exact down to `1m`; finer values
//! round up to the next thousandth, as Kubernetes does when it reads a
//! request in milli-units (`1n` of CPU counts as `1m`).

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::{Error, Result};

/// A resource amount in thousandths of a unit (milli-CPU, milli-bytes, …).
///
/// ```
/// use keelson_sched::Quantity;
///
/// assert_eq!("500m".parse::<Quantity>()?.milli(), 500);
/// assert_eq!("2".parse::<Quantity>()?, Quantity::from_units(2));
/// assert_eq!("1Gi".parse::<Quantity>()?.units_ceil(), 1 << 30);
/// assert_eq!("1.5e3".parse::<Quantity>()?.units_ceil(), 1500);
/// assert_eq!(Quantity::from_milli(2500).to_string(), "2500m");
/// assert!("1.5.2".parse::<Quantity>().is_err());
/// # Ok::<(), keelson_sched::Error>(())
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Quantity {
    milli: i128,
}

/// Quantities beyond this many thousandths are refused, so that sums of a
/// few million of them cannot overflow `i128`.
const MAX_MILLI: i128 = 1 << 100;

impl Quantity {
    /// Zero.
    pub const ZERO: Quantity = Quantity { milli: 0 };

    /// A quantity of `milli` thousandths.
    ///
    /// ```
    /// assert_eq!(keelson_sched::Quantity::from_milli(1500).units_ceil(), 2);
    /// ```
    pub const fn from_milli(milli: i128) -> Quantity {
        Quantity { milli }
    }

    /// A whole number of units.
    ///
    /// ```
    /// assert_eq!(keelson_sched::Quantity::from_units(3).milli(), 3000);
    /// ```
    pub const fn from_units(units: i64) -> Quantity {
        Quantity {
            milli: units as i128 * 1000,
        }
    }

    /// Parses a Kubernetes quantity string; the error quotes it.
    ///
    /// ```
    /// use keelson_sched::Quantity;
    /// assert_eq!(Quantity::parse("+1k")?.units_ceil(), 1000);
    /// assert_eq!(Quantity::parse("-250m")?.milli(), -250);
    /// assert_eq!(Quantity::parse("1n")?.milli(), 1); // rounds up, as Kubernetes
    /// assert!(Quantity::parse("12 Gi").is_err());
    /// # Ok::<(), keelson_sched::Error>(())
    /// ```
    pub fn parse(text: &str) -> Result<Quantity> {
        parse(text).map_err(|reason| Error::Quantity {
            input: text.chars().take(64).collect(),
            reason,
        })
    }

    /// The value in thousandths.
    pub const fn milli(self) -> i128 {
        self.milli
    }

    /// The value in whole units, rounded up (`1500m` is 2).
    pub const fn units_ceil(self) -> i128 {
        self.milli.div_euclid(1000) + (self.milli.rem_euclid(1000) != 0) as i128
    }

    /// Whether the quantity is below zero.
    pub const fn is_negative(self) -> bool {
        self.milli < 0
    }

    /// Whether the quantity is zero.
    pub const fn is_zero(self) -> bool {
        self.milli == 0
    }

    /// `self + other`, or `None` on overflow.
    ///
    /// ```
    /// use keelson_sched::Quantity;
    /// assert_eq!(Quantity::from_milli(1).checked_add(Quantity::from_milli(2)), Some(Quantity::from_milli(3)));
    /// ```
    pub fn checked_add(self, other: Quantity) -> Option<Quantity> {
        self.milli
            .checked_add(other.milli)
            .map(Quantity::from_milli)
    }

    /// `self - other`, or `None` on overflow.
    pub fn checked_sub(self, other: Quantity) -> Option<Quantity> {
        self.milli
            .checked_sub(other.milli)
            .map(Quantity::from_milli)
    }

    /// `self × n`, or `None` on overflow.
    ///
    /// ```
    /// use keelson_sched::Quantity;
    /// assert_eq!(Quantity::from_units(2).checked_mul(4), Some(Quantity::from_units(8)));
    /// ```
    pub fn checked_mul(self, n: u64) -> Option<Quantity> {
        self.milli
            .checked_mul(i128::from(n))
            .map(Quantity::from_milli)
    }

    /// `self / other` as a float (0 when `other` is zero), for shares and
    /// utilizations.
    ///
    /// ```
    /// use keelson_sched::Quantity;
    /// assert_eq!(Quantity::from_units(1).ratio(Quantity::from_units(4)), 0.25);
    /// ```
    pub fn ratio(self, other: Quantity) -> f64 {
        if other.milli == 0 {
            0.0
        } else {
            self.milli as f64 / other.milli as f64
        }
    }
}

impl FromStr for Quantity {
    type Err = Error;

    fn from_str(s: &str) -> Result<Quantity> {
        Quantity::parse(s)
    }
}

/// The canonical text: whole units when exact (`2`), else thousandths
/// (`2500m`). It parses back to the same quantity.
impl fmt::Display for Quantity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.milli % 1000 == 0 {
            write!(f, "{}", self.milli / 1000)
        } else {
            write!(f, "{}m", self.milli)
        }
    }
}

impl Serialize for Quantity {
    fn serialize<S: Serializer>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

/// From a quantity string (`"500m"`) or a plain number (`2`, `0.5`), as
/// Kubernetes manifests write them.
impl<'de> Deserialize<'de> for Quantity {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> std::result::Result<Self, D::Error> {
        struct Visitor;
        impl serde::de::Visitor<'_> for Visitor {
            type Value = Quantity;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a Kubernetes quantity such as \"500m\" or \"16Gi\"")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> std::result::Result<Quantity, E> {
                Quantity::parse(v).map_err(E::custom)
            }
            fn visit_i64<E: serde::de::Error>(self, v: i64) -> std::result::Result<Quantity, E> {
                Ok(Quantity::from_units(v))
            }
            fn visit_u64<E: serde::de::Error>(self, v: u64) -> std::result::Result<Quantity, E> {
                Ok(Quantity::from_milli(i128::from(v) * 1000))
            }
            fn visit_f64<E: serde::de::Error>(self, v: f64) -> std::result::Result<Quantity, E> {
                Quantity::parse(&v.to_string()).map_err(E::custom)
            }
        }
        deserializer.deserialize_any(Visitor)
    }
}

/// Parses into thousandths; the reason on failure.
fn parse(text: &str) -> std::result::Result<Quantity, String> {
    if text.is_empty() {
        return Err("empty".into());
    }
    if text.len() > 64 {
        return Err("longer than 64 characters".into());
    }
    let bytes = text.as_bytes();
    let (negative, rest) = match bytes.first() {
        Some(b'-') => (true, &text[1..]),
        Some(b'+') => (false, &text[1..]),
        _ => (false, text),
    };
    let number_len = rest
        .bytes()
        .position(|b| !(b.is_ascii_digit() || b == b'.'))
        .unwrap_or(rest.len());
    let (number, suffix) = rest.split_at(number_len);
    let (int_part, frac_part) = match number.split_once('.') {
        Some((i, f)) => (i, f),
        None => (number, ""),
    };
    if int_part.is_empty() && frac_part.is_empty() {
        return Err("no digits".into());
    }
    if frac_part.contains('.') {
        return Err("more than one decimal point".into());
    }
    // The value is digits × 10^exp10 × 2^exp2.
    let (exp10, exp2): (i64, u32) = match suffix {
        "" => (0, 0),
        "n" => (-9, 0),
        "u" => (-6, 0),
        "m" => (-3, 0),
        "k" => (3, 0),
        "M" => (6, 0),
        "G" => (9, 0),
        "T" => (12, 0),
        "P" => (15, 0),
        "E" => (18, 0),
        "Ki" => (0, 10),
        "Mi" => (0, 20),
        "Gi" => (0, 30),
        "Ti" => (0, 40),
        "Pi" => (0, 50),
        "Ei" => (0, 60),
        s if s.starts_with(['e', 'E']) => {
            let exp = &s[1..];
            let digits = exp.strip_prefix(['+', '-']).unwrap_or(exp);
            if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) || digits.len() > 4
            {
                return Err(format!("bad exponent {s:?}"));
            }
            let value: i64 = exp.parse().map_err(|_| format!("bad exponent {s:?}"))?;
            (value, 0)
        }
        s => return Err(format!("unknown suffix {s:?}")),
    };
    // Significant digits as an integer, and the power of ten that scales
    // them to thousandths.
    let digits: String = format!("{int_part}{frac_part}")
        .trim_start_matches('0')
        .to_owned();
    let scale = exp10 + 3 - frac_part.len() as i64;
    let too_large = || "too large".to_string();
    if digits.len() > 36 {
        return Err(too_large());
    }
    let mut value: i128 = if digits.is_empty() {
        0
    } else {
        digits.parse().map_err(|_| too_large())?
    };
    value = value.checked_mul(1i128 << exp2).ok_or_else(too_large)?;
    if scale >= 0 {
        let factor = 10i128.checked_pow(u32::try_from(scale).map_err(|_| too_large())?);
        value = factor
            .and_then(|f| value.checked_mul(f))
            .ok_or_else(too_large)?;
    } else if value != 0 {
        let divisor = u32::try_from(-scale)
            .ok()
            .and_then(|s| 10i128.checked_pow(s));
        value = match divisor {
            // Rounds up, as Kubernetes does when it reads milli-units.
            Some(d) => value / d + i128::from(value % d != 0),
            None => 1,
        };
    }
    if value > MAX_MILLI {
        return Err(too_large());
    }
    Ok(Quantity::from_milli(if negative { -value } else { value }))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn q(s: &str) -> i128 {
        Quantity::parse(s)
            .unwrap_or_else(|e| panic!("{s}: {e}"))
            .milli()
    }

    #[test]
    fn parses_kubernetes_examples() {
        assert_eq!(q("1"), 1000);
        assert_eq!(q("0.1"), 100);
        assert_eq!(q(".5"), 500);
        assert_eq!(q("5."), 5000);
        assert_eq!(q("100m"), 100);
        assert_eq!(q("129e6"), 129_000_000_000);
        assert_eq!(q("129M"), 129_000_000_000);
        assert_eq!(q("128974848"), 128_974_848_000);
        assert_eq!(q("123Mi"), 123 * (1 << 20) * 1000);
        assert_eq!(q("1Ei"), (1i128 << 60) * 1000);
        assert_eq!(q("1.5Gi"), 3 * (1i128 << 29) * 1000);
        assert_eq!(q("0"), 0);
        assert_eq!(q("-0"), 0);
        assert_eq!(q("1u"), 1);
        assert_eq!(q("1500u"), 2);
        assert_eq!(q("12E-3"), 12);
        assert_eq!(q("1e-9"), 1);
        assert_eq!(q("0.0001"), 1);
    }

    #[test]
    fn rejects_malformed_text() {
        for bad in [
            "", "-", ".", "1..2", "1.2.3", "1Q", "Gi", "1 Gi", "1e", "1e+", "1ee3", "1e99999",
            "1e40", "--1", "1Gi2", "0x10",
        ] {
            assert!(Quantity::parse(bad).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn display_round_trips() {
        for s in ["0", "1", "2500m", "-7m", "1073741824"] {
            let v = Quantity::parse(s).unwrap();
            assert_eq!(v.to_string(), s);
            assert_eq!(Quantity::parse(&v.to_string()).unwrap(), v);
        }
    }
}
