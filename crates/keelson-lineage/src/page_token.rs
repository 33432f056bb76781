//! The page tokens of list calls, the same in every backend: the ordering
//! a token was made for, and the sort key and id of the last row it
//! returned (keyset pagination).

use crate::error::{Error, Result};
use crate::store::OrderBy;

/// The token after a row with sort key `value` and id `id`.
pub(crate) fn encode(order: OrderBy, ascending: bool, value: i64, id: i64) -> String {
    let o = match order {
        OrderBy::CreateTime => 'c',
        OrderBy::LastUpdateTime => 'u',
        OrderBy::Id => 'i',
    };
    format!("{o}{}.{value}.{id}", u8::from(ascending))
}

/// The `(value, id)` of a token, which must be one of this ordering.
pub(crate) fn decode(token: &str, order: OrderBy, ascending: bool) -> Result<(i64, i64)> {
    let bad = || {
        Error::invalid(
            "list_options.page_token",
            "not a page token of this ordering",
        )
    };
    let prefix = encode(order, ascending, 0, 0);
    let head = prefix.get(..2).ok_or_else(bad)?;
    let rest = token
        .strip_prefix(head)
        .and_then(|r| r.strip_prefix('.'))
        .ok_or_else(bad)?;
    let (value, id) = rest.split_once('.').ok_or_else(bad)?;
    Ok((
        value.parse().map_err(|_| bad())?,
        id.parse().map_err(|_| bad())?,
    ))
}
