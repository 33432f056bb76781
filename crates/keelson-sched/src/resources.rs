//! Resource lists: how much of each named resource (`cpu`, `memory`,
//! `nvidia.com/gpu`, any extended resource) a pod asks for or a node or a
//! quota holds.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};

use crate::quantity::Quantity;
use crate::{Error, Result};

/// The longest resource name accepted (a Kubernetes qualified name's prefix
/// and name together).
const MAX_NAME: usize = 316;

/// Amounts by resource name; absent resources count as zero, and zero
/// amounts are not stored, so two lists that mean the same compare equal.
///
/// Every amount is non-negative: the constructors refuse negative
/// quantities (naming the resource), and subtraction that would go below
/// zero is an error.
///
/// ```
/// use keelson_sched::{Quantity, Resources};
///
/// let pod = Resources::parse([("cpu", "500m"), ("memory", "2Gi"), ("nvidia.com/gpu", "1")])?;
/// let node = Resources::parse([("cpu", "8"), ("memory", "64Gi"), ("nvidia.com/gpu", "4")])?;
/// let eight = pod.checked_mul(8)?;
/// assert_eq!(eight.get("nvidia.com/gpu"), Quantity::from_units(8));
/// let short = eight.shortfall(&node).unwrap();
/// assert_eq!(short.resource, "nvidia.com/gpu");
/// assert!(pod.checked_mul(4)?.fits(&node));
/// # Ok::<(), keelson_sched::Error>(())
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(
    try_from = "BTreeMap<String, Quantity>",
    into = "BTreeMap<String, Quantity>"
)]
pub struct Resources {
    amounts: BTreeMap<String, Quantity>,
}

/// What is missing for one list to fit in another: the first resource (by
/// name) that does not fit.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Shortfall {
    /// The resource.
    pub resource: String,
    /// How much is asked for.
    pub needed: Quantity,
    /// How much there is.
    pub available: Quantity,
}

impl fmt::Display for Shortfall {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} needs {}, {} available",
            self.resource, self.needed, self.available
        )
    }
}

impl Resources {
    /// An empty list.
    pub fn new() -> Resources {
        Resources::default()
    }

    /// A list from (name, quantity string) pairs; the error names the
    /// resource whose name or quantity is bad, negative, or repeated.
    ///
    /// ```
    /// use keelson_sched::Resources;
    /// let err = Resources::parse([("cpu", "-1")]).unwrap_err();
    /// assert!(err.to_string().contains("cpu"));
    /// ```
    pub fn parse<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> Result<Resources> {
        let mut out = Resources::new();
        for (name, text) in pairs {
            let quantity =
                Quantity::parse(text).map_err(|e| Error::invalid(name, e.to_string()))?;
            if out.amounts.contains_key(name) {
                return Err(Error::invalid(name, "given twice"));
            }
            out.set(name, quantity)?;
        }
        Ok(out)
    }

    /// The list with `name` set to `quantity` (replacing any amount).
    ///
    /// ```
    /// use keelson_sched::{Quantity, Resources};
    /// let r = Resources::new().with("cpu", Quantity::from_units(2))?;
    /// assert_eq!(r.get("cpu").milli(), 2000);
    /// # Ok::<(), keelson_sched::Error>(())
    /// ```
    pub fn with(mut self, name: &str, quantity: Quantity) -> Result<Resources> {
        self.set(name, quantity)?;
        Ok(self)
    }

    /// Sets `name` to `quantity`; an error for a bad name or a negative
    /// quantity.
    pub fn set(&mut self, name: &str, quantity: Quantity) -> Result<()> {
        check_name(name)?;
        if quantity.is_negative() {
            return Err(Error::invalid(
                name,
                format!("negative quantity {quantity}"),
            ));
        }
        if quantity.is_zero() {
            self.amounts.remove(name);
        } else {
            self.amounts.insert(name.to_owned(), quantity);
        }
        Ok(())
    }

    /// The amount of `name` (zero when absent).
    pub fn get(&self, name: &str) -> Quantity {
        self.amounts.get(name).copied().unwrap_or(Quantity::ZERO)
    }

    /// The non-zero amounts, by name.
    pub fn iter(&self) -> impl Iterator<Item = (&str, Quantity)> {
        self.amounts.iter().map(|(k, v)| (k.as_str(), *v))
    }

    /// The names with a non-zero amount.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.amounts.keys().map(String::as_str)
    }

    /// Whether every amount is zero.
    pub fn is_empty(&self) -> bool {
        self.amounts.is_empty()
    }

    /// The sum of two lists; an error naming the resource on overflow.
    pub fn checked_add(&self, other: &Resources) -> Result<Resources> {
        let mut out = self.clone();
        for (name, q) in other.iter() {
            let sum = out
                .get(name)
                .checked_add(q)
                .ok_or_else(|| Error::invalid(name, "sum overflows"))?;
            out.amounts.insert(name.to_owned(), sum);
        }
        Ok(out)
    }

    /// `self - other`; an error naming the first resource that would go
    /// below zero.
    ///
    /// ```
    /// use keelson_sched::Resources;
    /// let a = Resources::parse([("cpu", "1")])?;
    /// let b = Resources::parse([("cpu", "2")])?;
    /// assert!(a.checked_sub(&b).unwrap_err().to_string().contains("cpu"));
    /// assert!(b.checked_sub(&a)?.get("cpu").milli() == 1000);
    /// # Ok::<(), keelson_sched::Error>(())
    /// ```
    pub fn checked_sub(&self, other: &Resources) -> Result<Resources> {
        let mut out = self.clone();
        for (name, q) in other.iter() {
            let have = out.get(name);
            match have.checked_sub(q) {
                Some(rest) if !rest.is_negative() => out.set(name, rest)?,
                _ => {
                    return Err(Error::invalid(name, format!("cannot take {q} from {have}")));
                }
            }
        }
        Ok(out)
    }

    /// The list times `n` (a pod's requests × its count); an error naming
    /// the resource on overflow.
    pub fn checked_mul(&self, n: u64) -> Result<Resources> {
        if n == 0 {
            return Ok(Resources::new());
        }
        // Names are already valid and non-zero amounts stay non-zero, so
        // scaling a copy in place beats rebuilding the map entry by entry.
        let mut out = self.clone();
        for (name, q) in out.amounts.iter_mut() {
            *q = q
                .checked_mul(n)
                .ok_or_else(|| Error::invalid(name, format!("{q} × {n} overflows")))?;
        }
        Ok(out)
    }

    /// Whether every amount is at most `capacity`'s.
    pub fn fits(&self, capacity: &Resources) -> bool {
        self.shortfall(capacity).is_none()
    }

    /// The first resource (by name) of which `capacity` has too little.
    pub fn shortfall(&self, capacity: &Resources) -> Option<Shortfall> {
        self.iter().find_map(|(name, needed)| {
            let available = capacity.get(name);
            (needed > available).then(|| Shortfall {
                resource: name.to_owned(),
                needed,
                available,
            })
        })
    }
}

impl TryFrom<BTreeMap<String, Quantity>> for Resources {
    type Error = Error;

    fn try_from(map: BTreeMap<String, Quantity>) -> Result<Resources> {
        let mut out = Resources::new();
        for (name, q) in map {
            out.set(&name, q)?;
        }
        Ok(out)
    }
}

impl From<Resources> for BTreeMap<String, Quantity> {
    fn from(r: Resources) -> Self {
        r.amounts
    }
}

fn check_name(name: &str) -> Result<()> {
    let ok = !name.is_empty()
        && name.len() <= MAX_NAME
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'/'));
    if ok {
        Ok(())
    } else {
        Err(Error::invalid(
            name.chars().take(64).collect::<String>(),
            "not a resource name (letters, digits, '-', '_', '.', '/')",
        ))
    }
}
