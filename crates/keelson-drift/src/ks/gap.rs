//! The largest positive and negative gaps between two empirical CDFs, found
//! in one merge-like pass over the sorted samples.
//!
//! After `i` reference and `j` current values the gap is `i/n1 - j/n2`; we
//! track it as the exact integer `num = i n2 - j n1` and do scipy's
//! floating-point division only near the running extremes. The pass runs in
//! blocks: a branch-free sweep finds each block's extreme `num` among valid
//! positions (those after the last copy of a value), and only a block that
//! can improve the result is replayed to evaluate its near-extreme
//! positions. The samples are cut at value boundaries into pieces; four
//! pieces are swept in lockstep (independent dependency chains keep the
//! core busy) and groups of four run on separate threads. Pieces are
//! combined in order, so the answer does not depend on the thread count.

use super::pieces::{self, Piece};

/// Steps per block of the branch-free sweep.
const BLOCK: usize = 512;
/// Pieces swept in lockstep by one thread.
const LANES: usize = 4;
/// Below this many values the lockstep sweep is not worth its setup.
const LANES_MIN: usize = 1 << 14;

/// A candidate extreme of `F_ref(x) - F_cur(x)`.
#[derive(Debug, Clone, Copy)]
pub(super) struct Candidate {
    /// The gap as scipy computes it, `i/n1 - j/n2` in floating point.
    pub(super) diff: f64,
    /// Where it is attained.
    pub(super) value: f64,
    /// Whether `value` occurs in the reference sample (scipy's argmax
    /// returns the first index of the concatenation `[reference, current]`,
    /// so reference occurrences win ties).
    in_reference: bool,
}

impl Candidate {
    pub(super) fn new(diff: f64, value: f64, in_reference: bool) -> Self {
        Candidate {
            diff,
            value,
            in_reference,
        }
    }

    /// Whether `self`, found later in the ascending scan, replaces `best`
    /// for a maximum (`sign = 1`) or minimum (`sign = -1`) of the gap.
    pub(super) fn beats(&self, best: &Candidate, sign: f64) -> bool {
        let (new, old) = (sign * self.diff, sign * best.diff);
        new > old || (new == old && self.in_reference && !best.in_reference)
    }
}

/// The largest and smallest gap.
pub(super) struct Extremes {
    pub(super) max: Candidate,
    pub(super) min: Candidate,
}

/// What every piece's scan shares.
struct Ctx<'a> {
    a: &'a [f64],
    b: &'a [f64],
    n1: i64,
    n2: i64,
    /// `n1 + n2`: the change of `num` is `take n12 - n1`.
    n12: i64,
    f1: f64,
    f2: f64,
    /// Distinct exact gaps differ by at least `1/(n1 n2)` and the rounding
    /// of `i/n1 - j/n2` is below `2^-51`, so two positions can compare
    /// differently in floating point than in `num` only if their `num`
    /// differ by at most `slack = ⌊n1 n2 / 2^50⌋` (0 below `n1 n2 = 2^50`);
    /// such near-ties are compared in floating point.
    slack: i64,
}

/// Best candidates of one piece, and the integer thresholds from which a
/// position is worth evaluating.
#[derive(Clone, Copy)]
struct Best {
    max: Option<Candidate>,
    min: Option<Candidate>,
    hi: i64,
    lo: i64,
    /// The best maximum (minimum) is a reference value with gap exactly 0:
    /// a later position with `num <= 0` (`>= 0`) has a floating-point gap
    /// `<= 0` (`>= 0`), as rounding is monotone, so it cannot replace it
    /// (this keeps identical samples cheap).
    max_settled_at_zero: bool,
    min_settled_at_zero: bool,
}

impl Best {
    const NEW: Best = Best {
        max: None,
        min: None,
        hi: i64::MIN,
        lo: i64::MAX,
        max_settled_at_zero: false,
        min_settled_at_zero: false,
    };

    #[inline]
    fn wants_max(&self, num: i64) -> bool {
        num >= self.hi && !(num <= 0 && self.max_settled_at_zero)
    }

    #[inline]
    fn wants_min(&self, num: i64) -> bool {
        num <= self.lo && !(num >= 0 && self.min_settled_at_zero)
    }

    /// Evaluate the valid position after `i` reference and `j` current
    /// values, `value` being the last value taken.
    fn visit(&mut self, ctx: &Ctx<'_>, i: usize, j: usize, num: i64, value: f64) {
        // num = 0 means i/n1 = j/n2 exactly, so both round alike.
        let diff = if num == 0 {
            0.0
        } else {
            i as f64 / ctx.f1 - j as f64 / ctx.f2
        };
        let in_reference = i > 0 && ctx.a.get(i - 1) == Some(&value);
        let candidate = Candidate {
            diff,
            value,
            in_reference,
        };
        if num >= self.hi {
            if self.max.is_none_or(|best| candidate.beats(&best, 1.0)) {
                self.max = Some(candidate);
                self.max_settled_at_zero = num == 0 && in_reference;
            }
            self.hi = self.hi.max(num.saturating_sub(ctx.slack));
        }
        if num <= self.lo {
            if self.min.is_none_or(|best| candidate.beats(&best, -1.0)) {
                self.min = Some(candidate);
                self.min_settled_at_zero = num == 0 && in_reference;
            }
            self.lo = self.lo.min(num.saturating_add(ctx.slack));
        }
    }

    /// Fold in the result of the next piece (larger values).
    fn then(mut self, next: &Best) -> Best {
        if let Some(c) = next.max
            && self.max.is_none_or(|best| c.beats(&best, 1.0))
        {
            self.max = Some(c);
        }
        if let Some(c) = next.min
            && self.min.is_none_or(|best| c.beats(&best, -1.0))
        {
            self.min = Some(c);
        }
        self
    }
}

/// Position of a sweep through one piece.
#[derive(Clone, Copy)]
struct Cursor {
    i: usize,
    j: usize,
    num: i64,
    /// The value taken last; NaN before the first step (the piece's start
    /// belongs to the previous piece, or is the origin).
    cur: f64,
    end: (usize, usize),
}

impl Cursor {
    fn new(piece: Piece, ctx: &Ctx<'_>) -> Self {
        let ((i, j), end) = piece;
        Cursor {
            i,
            j,
            num: i as i64 * ctx.n2 - j as i64 * ctx.n1,
            cur: f64::NAN,
            end,
        }
    }

    /// Steps that can be taken before either sample's part runs out.
    fn safe_steps(&self) -> usize {
        (self.end.0 - self.i).min(self.end.1 - self.j)
    }

    /// Take the next value; returns whether the position before the step
    /// was valid (the value taken then was the last of its copies) and its
    /// `num`. Written without data-dependent branches or selects on
    /// floats, so the compiler emits straight-line code.
    #[inline(always)]
    fn step(&mut self, ctx: &Ctx<'_>) -> (bool, i64) {
        let (x, y) = (ctx.a[self.i], ctx.b[self.j]);
        let m = x.min(y);
        let valid = m > self.cur;
        let num = self.num;
        let take = usize::from(x <= y);
        self.cur = m;
        self.i += take;
        self.j += 1 - take;
        self.num += take as i64 * ctx.n12 - ctx.n1;
        (valid, num)
    }
}

/// Extremes of `F_a - F_b` for non-empty sorted `a` and `b`.
pub(super) fn ecdf_extremes(a: &[f64], b: &[f64]) -> Extremes {
    let (n1, n2) = (a.len(), b.len());
    let ctx = Ctx {
        a,
        b,
        n1: n1 as i64,
        n2: n2 as i64,
        n12: (n1 + n2) as i64,
        f1: n1 as f64,
        f2: n2 as f64,
        slack: ((n1 as u128 * n2 as u128) >> 50) as i64,
    };
    let total = n1 + n2;
    let best = if total < LANES_MIN {
        scan_lanes(&ctx, [((0, 0), (n1, n2))])[0]
    } else {
        let threads = pieces::thread_count(total);
        let all = pieces::split(a, b, threads * LANES);
        let groups: Vec<&[Piece]> = all.chunks(LANES).collect();
        let results = pieces::map_groups(&groups, |group| scan_group(&ctx, group));
        results
            .iter()
            .flatten()
            .fold(Best::NEW, |acc, piece| acc.then(piece))
    };
    let fallback = Candidate {
        diff: 0.0,
        value: a.first().copied().unwrap_or(0.0),
        in_reference: true,
    };
    Extremes {
        max: best.max.unwrap_or(fallback),
        min: best.min.unwrap_or(fallback),
    }
}

/// Results of a group of consecutive pieces, in order.
fn scan_group(ctx: &Ctx<'_>, group: &[Piece]) -> Vec<Best> {
    match <[Piece; LANES]>::try_from(group) {
        Ok(lanes) => scan_lanes(ctx, lanes).to_vec(),
        Err(_) => group.iter().map(|&p| scan_lanes(ctx, [p])[0]).collect(),
    }
}

/// Sweep `L` pieces in lockstep while all can step, then finish each alone.
fn scan_lanes<const L: usize>(ctx: &Ctx<'_>, pieces: [Piece; L]) -> [Best; L] {
    let mut cursors = pieces.map(|p| Cursor::new(p, ctx));
    let mut bests = [Best::NEW; L];
    loop {
        let steps = cursors
            .iter()
            .map(Cursor::safe_steps)
            .min()
            .unwrap_or(0)
            .min(BLOCK);
        if steps == 0 {
            break;
        }
        run_block(ctx, &mut cursors, &mut bests, steps);
    }
    for (cursor, best) in cursors.iter_mut().zip(bests.iter_mut()) {
        let mut one = [*cursor];
        let mut best_one = [*best];
        loop {
            let steps = one[0].safe_steps().min(BLOCK);
            if steps == 0 {
                break;
            }
            run_block(ctx, &mut one, &mut best_one, steps);
        }
        *best = best_one[0];
        finish(ctx, &one[0], best);
    }
    bests
}

/// `steps` branch-free steps of every cursor, then a replay of the cursors
/// whose block could improve their piece's extremes.
fn run_block<const L: usize>(
    ctx: &Ctx<'_>,
    cursors: &mut [Cursor; L],
    bests: &mut [Best; L],
    steps: usize,
) {
    let start = *cursors;
    let mut bmax = [i64::MIN; L];
    let mut bmin = [i64::MAX; L];
    for _ in 0..steps {
        for k in 0..L {
            let (valid, num) = cursors[k].step(ctx);
            bmax[k] = bmax[k].max(if valid { num } else { i64::MIN });
            bmin[k] = bmin[k].min(if valid { num } else { i64::MAX });
        }
    }
    let slack = ctx.slack;
    for k in 0..L {
        let best = &mut bests[k];
        if !best.wants_max(bmax[k]) && !best.wants_min(bmin[k]) {
            continue;
        }
        // Only positions within `slack` of the block's extreme can win.
        let tmax = bmax[k].saturating_sub(slack).max(best.hi);
        let tmin = bmin[k].saturating_add(slack).min(best.lo);
        let mut c = start[k];
        for _ in 0..steps {
            let (i, j, cur) = (c.i, c.j, c.cur);
            let (valid, num) = c.step(ctx);
            if valid
                && ((num >= tmax && best.wants_max(num)) || (num <= tmin && best.wants_min(num)))
            {
                best.visit(ctx, i, j, num, cur);
            }
        }
    }
}

/// The position a cursor stopped at, then whichever sample has values left
/// in the piece: along such a tail the gap is monotone, so only its first
/// valid position and its end can be extremes.
fn finish(ctx: &Ctx<'_>, c: &Cursor, best: &mut Best) {
    let (i1, j1) = c.end;
    let (i, j, num) = (c.i, c.j, c.num);
    let next = if i < i1 {
        ctx.a[i]
    } else if j < j1 {
        ctx.b[j]
    } else {
        f64::INFINITY
    };
    if next > c.cur {
        best.visit(ctx, i, j, num, c.cur);
    }
    if i < i1 {
        let v = ctx.a[i];
        let k = i + ctx.a[i..i1].partition_point(|&x| x <= v);
        best.visit(ctx, k, j, num + (k - i) as i64 * ctx.n2, v);
        if k < i1 {
            best.visit(ctx, i1, j, num + (i1 - i) as i64 * ctx.n2, ctx.a[i1 - 1]);
        }
    } else if j < j1 {
        let v = ctx.b[j];
        let k = j + ctx.b[j..j1].partition_point(|&y| y <= v);
        best.visit(ctx, i, k, num - (k - j) as i64 * ctx.n1, v);
        if k < j1 {
            best.visit(ctx, i, j1, num - (j1 - j) as i64 * ctx.n1, ctx.b[j1 - 1]);
        }
    }
}
