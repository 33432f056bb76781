//! The page tokens of list calls, the same in every backend: the ordering
//! a token was made for, and the sort key and id of the last row it
//! returned (keyset pagination).

use crate::error::{Error, Result};
use crate::filter::Dialect;
use crate::store::{ListOptions, OrderBy};

/// The column a list sorts by, on the node table aliased `t`.
pub(crate) fn sort_column(order: OrderBy) -> &'static str {
    match order {
        OrderBy::CreateTime => "t.create_time_since_epoch",
        OrderBy::LastUpdateTime => "t.last_update_time_since_epoch",
        OrderBy::Id => "t.id",
    }
}

/// The keyset tail of a list query `SELECT t.id, <sort column> FROM <table>
/// t WHERE …`: the same SQL in every backend but for the placeholders.
#[derive(Debug)]
pub(crate) struct Keyset {
    /// ` AND (<sort column>, t.id) > (…)` (`<` descending, `t.id` alone
    /// for id order) when `options` has a token, then ` ORDER BY … LIMIT
    /// <page size + 1>` (the extra row tells whether a next page exists).
    pub(crate) sql: String,
    /// The values of its placeholders, numbered from `first_param`.
    pub(crate) params: Vec<i64>,
}

/// The [`Keyset`] tail for `options` (pages of `size` rows) in `dialect`,
/// its placeholders numbered from `first_param`; fails on a token of
/// another ordering.
pub(crate) fn keyset(
    options: &ListOptions,
    size: u32,
    dialect: Dialect,
    first_param: usize,
) -> Result<Keyset> {
    let column = sort_column(options.order_by);
    let cmp = if options.ascending { ">" } else { "<" };
    let mut sql = String::new();
    let mut params = Vec::new();
    if let Some(token) = &options.page_token {
        let (value, id) = decode(token, options.order_by, options.ascending)?;
        let p = |i: usize| dialect.placeholder(first_param + i);
        if options.order_by == OrderBy::Id {
            sql.push_str(&format!(" AND t.id {cmp} {}", p(0)));
            params.push(id);
        } else {
            sql.push_str(&format!(" AND ({column}, t.id) {cmp} ({}, {})", p(0), p(1)));
            params.extend([value, id]);
        }
    }
    sql.push_str(&order_clause(options));
    sql.push_str(&format!(" LIMIT {}", u64::from(size) + 1));
    Ok(Keyset { sql, params })
}

/// ` ORDER BY …`: the list order of `options`, ties broken by id.
pub(crate) fn order_clause(options: &ListOptions) -> String {
    let dir = if options.ascending { "ASC" } else { "DESC" };
    match options.order_by {
        OrderBy::Id => format!(" ORDER BY t.id {dir}"),
        order => format!(" ORDER BY {} {dir}, t.id {dir}", sort_column(order)),
    }
}

/// What a [`Keyset`] query returns, taken from `rows`, the whole list
/// (`(id, sort key)` in the order of `options`): the rows after the token's
/// row, at most `size + 1`.
pub(crate) fn page_of(
    rows: &[(i64, i64)],
    options: &ListOptions,
    size: u32,
) -> Result<Vec<(i64, i64)>> {
    let start = match &options.page_token {
        None => 0,
        Some(token) => {
            let (value, id) = decode(token, options.order_by, options.ascending)?;
            // Id order compares the id alone, as its SQL does.
            let cursor = if options.order_by == OrderBy::Id {
                (id, id)
            } else {
                (value, id)
            };
            let id_order = options.order_by == OrderBy::Id;
            rows.partition_point(|&(row_id, key)| {
                let row = if id_order {
                    (row_id, row_id)
                } else {
                    (key, row_id)
                };
                if options.ascending {
                    row <= cursor
                } else {
                    row >= cursor
                }
            })
        }
    };
    let end = start.saturating_add(size as usize + 1).min(rows.len());
    Ok(rows.get(start..end).map(<[_]>::to_vec).unwrap_or_default())
}

/// Splits the `(id, sort key)` rows a [`Keyset`] query returned into the
/// page's ids and the token of the next page, if there is one.
pub(crate) fn split_page(
    options: &ListOptions,
    size: u32,
    mut keys: Vec<(i64, i64)>,
) -> (Vec<i64>, Option<String>) {
    let more = keys.len() > size as usize;
    keys.truncate(size as usize);
    let next = match keys.last() {
        Some(&(id, value)) if more => Some(encode(options.order_by, options.ascending, value, id)),
        _ => None,
    };
    (keys.into_iter().map(|k| k.0).collect(), next)
}

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

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;

    /// Reads `rows` (a whole list in the order of `order`/`ascending`) page
    /// by page through [`page_of`] and [`split_page`].
    fn pages(rows: &[(i64, i64)], order: OrderBy, ascending: bool, size: u32) -> Vec<Vec<i64>> {
        let mut options = ListOptions {
            order_by: order,
            ascending,
            ..ListOptions::default()
        };
        let mut out = Vec::new();
        loop {
            let keys = page_of(rows, &options, size).unwrap();
            let (ids, next) = split_page(&options, size, keys);
            out.push(ids);
            match next {
                Some(token) => options.page_token = Some(token),
                None => return out,
            }
        }
    }

    #[test]
    fn pages_cut_from_a_whole_list_cover_it_once_in_order() {
        // Equal sort keys are ordered by id, as the SQL orders them.
        let up = [(3, 10), (5, 10), (1, 20), (2, 30), (4, 30)];
        assert_eq!(
            pages(&up, OrderBy::CreateTime, true, 2),
            [vec![3, 5], vec![1, 2], vec![4]]
        );
        let down: Vec<(i64, i64)> = up.iter().rev().copied().collect();
        assert_eq!(
            pages(&down, OrderBy::CreateTime, false, 2),
            [vec![4, 2], vec![1, 5], vec![3]]
        );
        let by_id = [(1, 1), (2, 2), (7, 7)];
        assert_eq!(
            pages(&by_id, OrderBy::Id, true, 1),
            [vec![1], vec![2], vec![7]]
        );
        assert_eq!(pages(&[], OrderBy::Id, true, 3), [Vec::<i64>::new()]);
    }

    #[test]
    fn a_page_starts_after_the_tokens_row_even_when_it_is_gone() {
        let options = ListOptions {
            order_by: OrderBy::CreateTime,
            ascending: true,
            page_token: Some(encode(OrderBy::CreateTime, true, 15, 9)),
            ..ListOptions::default()
        };
        let rows = [(3, 10), (1, 20), (2, 30)];
        assert_eq!(page_of(&rows, &options, 5).unwrap(), [(1, 20), (2, 30)]);
        let other = ListOptions {
            ascending: false,
            ..options
        };
        assert!(page_of(&rows, &other, 5).is_err());
    }

    #[test]
    fn the_keyset_sql_differs_only_in_placeholders() {
        let options = ListOptions {
            order_by: OrderBy::CreateTime,
            ascending: false,
            page_token: Some(encode(OrderBy::CreateTime, false, 15, 9)),
            ..ListOptions::default()
        };
        let sqlite = keyset(&options, 10, Dialect::Sqlite, 3).unwrap();
        let postgres = keyset(&options, 10, Dialect::Postgres, 3).unwrap();
        assert_eq!(
            sqlite.sql,
            " AND (t.create_time_since_epoch, t.id) < (?3, ?4) \
             ORDER BY t.create_time_since_epoch DESC, t.id DESC LIMIT 11"
        );
        assert_eq!(postgres.sql, sqlite.sql.replace('?', "$"));
        assert_eq!(sqlite.params, [15, 9]);
    }
}
