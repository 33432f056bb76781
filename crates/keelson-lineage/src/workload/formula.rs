//! The workload's formula language: arithmetic expressions over the run,
//! step and output indexes, and text templates with `{...}` fields.
//!
//! Each formula is parsed once into a postfix program whose operand types
//! are fixed at compile time (an integer stays exact, anything touched by a
//! decimal literal or `/` is a double), so evaluating it for millions of
//! nodes is a loop over a few instructions on a fixed-size stack: no
//! parsing, no allocation.

use std::fmt::{self, Write as _};

/// Deepest parenthesis nesting accepted; the parser recurses once per
/// level, so untrusted input must not choose the depth.
pub const MAX_FORMULA_NESTING: usize = 32;

/// Most operands an expression may hold on the evaluation stack at once.
const MAX_STACK: usize = 64;

/// Longest expression accepted, in characters: the tree is walked
/// recursively, so untrusted input must not choose its size.
pub const MAX_FORMULA_LEN: usize = 4096;

/// Widest zero padding a template field may ask for (`{i:064d}`).
pub const MAX_PAD_WIDTH: usize = 64;

/// The variables of a formula: run `i`, step `s`, output `j`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Var {
    /// `i`, the run index.
    I,
    /// `s`, the step index.
    S,
    /// `j`, the output index within its step.
    J,
}

impl Var {
    fn from_name(name: &str) -> Option<Var> {
        match name {
            "i" => Some(Var::I),
            "s" => Some(Var::S),
            "j" => Some(Var::J),
            _ => None,
        }
    }
}

/// The text fields a template may name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NameField {
    /// `{step}`, the step name.
    Step,
    /// `{key}`, the output key.
    Key,
    /// `{type_name}`, the type of the node being made.
    TypeName,
    /// `{type_name_lowercase}`.
    TypeNameLowercase,
}

impl NameField {
    fn from_name(name: &str) -> Option<NameField> {
        match name {
            "step" => Some(NameField::Step),
            "key" => Some(NameField::Key),
            "type_name" => Some(NameField::TypeName),
            "type_name_lowercase" => Some(NameField::TypeNameLowercase),
            _ => None,
        }
    }
}

/// What a formula of one node kind may read: the context sees `i`; an
/// execution `i`, `s`, `{step}` and its type; an artifact all of them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Scope {
    /// The numeric variables in scope.
    pub vars: &'static [Var],
    /// The text fields in scope.
    pub names: &'static [NameField],
}

impl Scope {
    /// A context: `i` only.
    pub const CONTEXT: Scope = Scope {
        vars: &[Var::I],
        names: &[],
    };
    /// An execution: `i`, `s`, `{step}`, `{type_name}`, `{type_name_lowercase}`.
    pub const EXECUTION: Scope = Scope {
        vars: &[Var::I, Var::S],
        names: &[
            NameField::Step,
            NameField::TypeName,
            NameField::TypeNameLowercase,
        ],
    };
    /// An artifact: everything, `j` and `{key}` included.
    pub const ARTIFACT: Scope = Scope {
        vars: &[Var::I, Var::S, Var::J],
        names: &[
            NameField::Step,
            NameField::Key,
            NameField::TypeName,
            NameField::TypeNameLowercase,
        ],
    };
}

/// The values a formula is evaluated at.
#[derive(Debug, Clone, Copy, Default)]
pub struct Env<'a> {
    /// The run index.
    pub i: i64,
    /// The step index.
    pub s: i64,
    /// The output index within its step.
    pub j: i64,
    /// The step name.
    pub step: &'a str,
    /// The output key.
    pub key: &'a str,
    /// The type name of the node being made.
    pub type_name: &'a str,
    /// The same, lowercased.
    pub type_name_lowercase: &'a str,
}

impl Env<'_> {
    fn var(&self, var: Var) -> i64 {
        match var {
            Var::I => self.i,
            Var::S => self.s,
            Var::J => self.j,
        }
    }

    fn name(&self, field: NameField) -> &str {
        match field {
            NameField::Step => self.step,
            NameField::Key => self.key,
            NameField::TypeName => self.type_name,
            NameField::TypeNameLowercase => self.type_name_lowercase,
        }
    }
}

/// The value of an expression.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Number {
    /// An exact integer.
    Int(i64),
    /// A double.
    Double(f64),
}

impl Number {
    /// The value as a double (integers converted).
    pub fn as_f64(self) -> f64 {
        match self {
            #[allow(clippy::cast_precision_loss)]
            Number::Int(v) => v as f64,
            Number::Double(v) => v,
        }
    }
}

/// Whether an expression gives an integer or a double, for every input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NumberType {
    /// Integer arithmetic only: the value is exact.
    Int,
    /// A decimal literal or `/` somewhere: the value is a double.
    Double,
}

/// A formula that could not be parsed or evaluated; the caller adds which
/// field of the file it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FormulaError(pub String);

impl fmt::Display for FormulaError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum BinOp {
    Add,
    Sub,
    Mul,
    Div,
    Rem,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Op {
    Int(i64),
    Double(f64),
    Var(Var),
    /// Converts the top of the stack from an integer to a double.
    ToDouble,
    IntArith(BinOp),
    DoubleArith(BinOp),
    /// The top of the stack `op` a literal (`i * 7919`): one instruction
    /// instead of two, as most formulas are variables times constants.
    IntArithConst(BinOp, i64),
    DoubleArithConst(BinOp, f64),
}

enum Tree {
    Int(i64),
    Double(f64),
    Var(Var),
    /// The operator, the result type (fixed when built, so typing the
    /// tree is not quadratic), and the operands.
    Bin(BinOp, NumberType, Box<Tree>, Box<Tree>),
}

impl Tree {
    fn bin(op: BinOp, l: Tree, r: Tree) -> Tree {
        let ty = if op != BinOp::Div && l.ty() == NumberType::Int && r.ty() == NumberType::Int {
            NumberType::Int
        } else {
            NumberType::Double
        };
        Tree::Bin(op, ty, Box::new(l), Box::new(r))
    }

    fn ty(&self) -> NumberType {
        match self {
            Tree::Int(_) | Tree::Var(_) => NumberType::Int,
            Tree::Double(_) => NumberType::Double,
            Tree::Bin(_, ty, _, _) => *ty,
        }
    }

    /// Emits postfix code producing a value of type `want`; returns the
    /// stack depth the code needs.
    fn emit(&self, want: NumberType, code: &mut Vec<Op>) -> usize {
        let depth = match self {
            Tree::Int(v) => {
                code.push(Op::Int(*v));
                1
            }
            Tree::Double(v) => {
                code.push(Op::Double(*v));
                1
            }
            Tree::Var(v) => {
                code.push(Op::Var(*v));
                1
            }
            Tree::Bin(op, ty, l, r) => {
                let ty = *ty;
                let left = l.emit(ty, code);
                match (ty, r.as_ref()) {
                    (NumberType::Int, Tree::Int(c)) => {
                        code.push(Op::IntArithConst(*op, *c));
                        left
                    }
                    #[allow(clippy::cast_precision_loss)]
                    (NumberType::Double, Tree::Int(c)) => {
                        code.push(Op::DoubleArithConst(*op, *c as f64));
                        left
                    }
                    (NumberType::Double, Tree::Double(c)) => {
                        code.push(Op::DoubleArithConst(*op, *c));
                        left
                    }
                    _ => {
                        let right = r.emit(ty, code);
                        code.push(match ty {
                            NumberType::Int => Op::IntArith(*op),
                            NumberType::Double => Op::DoubleArith(*op),
                        });
                        left.max(right + 1)
                    }
                }
            }
        };
        if want == NumberType::Double && self.ty() == NumberType::Int {
            code.push(Op::ToDouble);
        }
        depth
    }
}

/// An arithmetic expression over `i`, `s`, `j`, compiled once.
///
/// ```
/// use keelson_lineage::workload::{Env, Expr, Number, Scope};
///
/// let score = Expr::parse("((i * 7919 + s * 104729 + j * 13) % 1000) / 1000.0", Scope::ARTIFACT)?;
/// let env = Env { i: 3, s: 2, j: 0, ..Env::default() };
/// assert_eq!(score.eval(&env)?, Number::Double(0.215));
/// # Ok::<(), keelson_lineage::workload::FormulaError>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Expr {
    code: Vec<Op>,
    ty: NumberType,
    /// Stack slots the program needs; most formulas fit the small stack.
    depth: usize,
}

/// The stack of the common small formulas: cheaper to set up per call.
const SMALL_STACK: usize = 8;

impl Expr {
    /// Parses `text`, reading only the variables of `scope`.
    pub fn parse(text: &str, scope: Scope) -> Result<Expr, FormulaError> {
        if text.chars().count() > MAX_FORMULA_LEN {
            return Err(FormulaError(format!(
                "expression longer than {MAX_FORMULA_LEN} characters"
            )));
        }
        let mut parser = ExprParser {
            text,
            chars: text.char_indices().collect(),
            at: 0,
            scope,
        };
        let tree = parser.sum(0)?;
        parser.skip_space();
        if let Some(c) = parser.peek() {
            return Err(parser.error(&format!("expected an operator, found `{c}`")));
        }
        let ty = tree.ty();
        let mut code = Vec::new();
        let depth = tree.emit(ty, &mut code);
        if depth > MAX_STACK {
            return Err(FormulaError(format!(
                "expression {text:?}: too complex (needs {depth} stack slots, at most {MAX_STACK})"
            )));
        }
        Ok(Expr { code, ty, depth })
    }

    /// Whether the value is an integer or a double, whatever the input.
    pub fn number_type(&self) -> NumberType {
        self.ty
    }

    /// Evaluates the expression at `env`. Integer overflow, and division
    /// or remainder by zero, are errors.
    pub fn eval(&self, env: &Env<'_>) -> Result<Number, FormulaError> {
        let result = if self.depth <= SMALL_STACK {
            self.run::<SMALL_STACK>(env)
        } else {
            self.run::<MAX_STACK>(env)
        };
        result.map_err(Fault::into_error)
    }

    fn run<const N: usize>(&self, env: &Env<'_>) -> Result<Number, Fault> {
        let mut stack = [Number::Int(0); N];
        let mut len = 0usize;
        for op in &self.code {
            let value = match *op {
                Op::Int(v) => Number::Int(v),
                Op::Double(v) => Number::Double(v),
                Op::Var(v) => Number::Int(env.var(v)),
                Op::ToDouble => Number::Double(pop(&stack, &mut len)?.as_f64()),
                Op::IntArith(op) => {
                    let r = pop(&stack, &mut len)?;
                    let l = pop(&stack, &mut len)?;
                    match (l, r) {
                        (Number::Int(l), Number::Int(r)) => Number::Int(int_op(op, l, r)?),
                        _ => return Err(Fault::Internal),
                    }
                }
                Op::DoubleArith(op) => {
                    let r = pop(&stack, &mut len)?.as_f64();
                    let l = pop(&stack, &mut len)?.as_f64();
                    Number::Double(double_op(op, l, r)?)
                }
                Op::IntArithConst(op, r) => match pop(&stack, &mut len)? {
                    Number::Int(l) => Number::Int(int_op(op, l, r)?),
                    Number::Double(_) => return Err(Fault::Internal),
                },
                Op::DoubleArithConst(op, r) => {
                    let l = pop(&stack, &mut len)?.as_f64();
                    Number::Double(double_op(op, l, r)?)
                }
            };
            *stack.get_mut(len).ok_or(Fault::Internal)? = value;
            len += 1;
        }
        match (len, stack.first()) {
            (1, Some(value)) => Ok(*value),
            _ => Err(Fault::Internal),
        }
    }
}

/// Why an evaluation failed; small and `Copy` so the evaluation loop
/// carries no string, turned into a [`FormulaError`] at the end.
#[derive(Debug, Clone, Copy)]
enum Fault {
    Overflow(BinOp, i64, i64),
    IntByZero(BinOp, i64),
    DoubleByZero(BinOp, f64),
    /// A malformed program: a bug of the compiler, not of the input.
    Internal,
}

impl Fault {
    fn into_error(self) -> FormulaError {
        FormulaError(match self {
            Fault::Overflow(op, l, r) => {
                format!("{l} {} {r} overflows a 64-bit integer", op.symbol())
            }
            Fault::IntByZero(op, l) => format!("{l} {} 0: division by zero", op.symbol()),
            Fault::DoubleByZero(op, l) => format!("{l} {} 0.0: division by zero", op.symbol()),
            Fault::Internal => "internal: malformed formula program".into(),
        })
    }
}

impl BinOp {
    fn symbol(self) -> &'static str {
        match self {
            BinOp::Add => "+",
            BinOp::Sub => "-",
            BinOp::Mul => "*",
            BinOp::Div => "/",
            BinOp::Rem => "%",
        }
    }
}

fn pop(stack: &[Number], len: &mut usize) -> Result<Number, Fault> {
    *len = len.checked_sub(1).ok_or(Fault::Internal)?;
    stack.get(*len).copied().ok_or(Fault::Internal)
}

fn int_op(op: BinOp, l: i64, r: i64) -> Result<i64, Fault> {
    let result = match op {
        BinOp::Add => l.checked_add(r),
        BinOp::Sub => l.checked_sub(r),
        BinOp::Mul => l.checked_mul(r),
        // Never emitted: `/` always makes a double.
        BinOp::Div => return Err(Fault::Internal),
        BinOp::Rem if r == 0 => return Err(Fault::IntByZero(op, l)),
        // Floored, as in Python (the reference runner): the sign follows
        // the divisor.
        BinOp::Rem => l.checked_rem(r).map(|m| {
            if m != 0 && ((m < 0) != (r < 0)) {
                m + r
            } else {
                m
            }
        }),
    };
    result.ok_or(Fault::Overflow(op, l, r))
}

fn double_op(op: BinOp, l: f64, r: f64) -> Result<f64, Fault> {
    Ok(match op {
        BinOp::Add => l + r,
        BinOp::Sub => l - r,
        BinOp::Mul => l * r,
        BinOp::Div | BinOp::Rem if r == 0.0 => return Err(Fault::DoubleByZero(op, l)),
        BinOp::Div => l / r,
        BinOp::Rem => {
            let m = l % r;
            if m == 0.0 {
                0.0f64.copysign(r)
            } else if (m < 0.0) != (r < 0.0) {
                m + r
            } else {
                m
            }
        }
    })
}

struct ExprParser<'t> {
    text: &'t str,
    chars: Vec<(usize, char)>,
    at: usize,
    scope: Scope,
}

impl ExprParser<'_> {
    fn peek(&self) -> Option<char> {
        self.chars.get(self.at).map(|&(_, c)| c)
    }

    fn skip_space(&mut self) {
        while self.peek().is_some_and(char::is_whitespace) {
            self.at += 1;
        }
    }

    fn error(&self, what: &str) -> FormulaError {
        FormulaError(format!(
            "expression {:?}, column {}: {what}",
            self.text,
            self.at + 1
        ))
    }

    fn sum(&mut self, depth: usize) -> Result<Tree, FormulaError> {
        let mut left = self.product(depth)?;
        loop {
            self.skip_space();
            let op = match self.peek() {
                Some('+') => BinOp::Add,
                Some('-') => BinOp::Sub,
                _ => return Ok(left),
            };
            self.at += 1;
            let right = self.product(depth)?;
            left = Tree::bin(op, left, right);
        }
    }

    fn product(&mut self, depth: usize) -> Result<Tree, FormulaError> {
        let mut left = self.atom(depth)?;
        loop {
            self.skip_space();
            let op = match self.peek() {
                Some('*') => BinOp::Mul,
                Some('/') => BinOp::Div,
                Some('%') => BinOp::Rem,
                _ => return Ok(left),
            };
            self.at += 1;
            let right = self.atom(depth)?;
            left = Tree::bin(op, left, right);
        }
    }

    fn atom(&mut self, depth: usize) -> Result<Tree, FormulaError> {
        self.skip_space();
        match self.peek() {
            Some('(') => {
                if depth >= MAX_FORMULA_NESTING {
                    return Err(self.error(&format!(
                        "parentheses nested deeper than {MAX_FORMULA_NESTING}"
                    )));
                }
                self.at += 1;
                let inner = self.sum(depth + 1)?;
                self.skip_space();
                if self.peek() != Some(')') {
                    return Err(self.error("expected `)`"));
                }
                self.at += 1;
                Ok(inner)
            }
            Some(c) if c.is_ascii_digit() || c == '.' => self.number(),
            Some(c) if c.is_alphabetic() || c == '_' => {
                let start = self.at;
                while self.peek().is_some_and(|c| c.is_alphanumeric() || c == '_') {
                    self.at += 1;
                }
                let name = self.slice(start);
                let var = Var::from_name(name)
                    .filter(|v| self.scope.vars.contains(v))
                    .ok_or_else(|| {
                        self.column_error(start, &format!("unknown variable `{name}`"))
                    })?;
                Ok(Tree::Var(var))
            }
            Some(c) => Err(self.error(&format!(
                "expected a number, a variable or `(`, found `{c}`"
            ))),
            None => Err(self.error("expected a number, a variable or `(`, found the end")),
        }
    }

    fn number(&mut self) -> Result<Tree, FormulaError> {
        let start = self.at;
        while self.peek().is_some_and(|c| c.is_ascii_digit()) {
            self.at += 1;
        }
        let decimal = self.peek() == Some('.');
        if decimal {
            self.at += 1;
            while self.peek().is_some_and(|c| c.is_ascii_digit()) {
                self.at += 1;
            }
        }
        let literal = self.slice(start);
        if literal == "." {
            return Err(self.column_error(start, "expected digits around `.`"));
        }
        if self
            .peek()
            .is_some_and(|c| c.is_alphanumeric() || c == '_' || c == '.')
        {
            return Err(self.error("expected an operator after a number"));
        }
        if decimal {
            literal
                .parse::<f64>()
                .map(Tree::Double)
                .map_err(|_| self.column_error(start, "bad decimal literal"))
        } else {
            literal
                .parse::<i64>()
                .map(Tree::Int)
                .map_err(|_| self.column_error(start, "integer literal does not fit in 64 bits"))
        }
    }

    fn slice(&self, start: usize) -> &str {
        let from = self.chars.get(start).map_or(self.text.len(), |&(b, _)| b);
        let to = self.chars.get(self.at).map_or(self.text.len(), |&(b, _)| b);
        self.text.get(from..to).unwrap_or_default()
    }

    fn column_error(&self, at: usize, what: &str) -> FormulaError {
        FormulaError(format!(
            "expression {:?}, column {}: {what}",
            self.text,
            at + 1
        ))
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Part {
    Text(String),
    Name(NameField),
    Int { expr: Expr, width: usize },
}

/// A text template: literal text with `{step}`, `{key}`, `{type_name}`,
/// `{type_name_lowercase}` and integer `{expr}` / `{expr:07d}` fields,
/// compiled once.
///
/// As in the reference runner, a `{` without a matching `}` before the
/// next `{` is literal text.
///
/// ```
/// use keelson_lineage::workload::{Env, Scope, Template};
///
/// let uri = Template::parse("mem://run-{i:07d}/{step}/{key}", Scope::ARTIFACT)?;
/// let env = Env { i: 42, step: "train", key: "model", ..Env::default() };
/// let mut out = String::new();
/// uri.render(&env, &mut out)?;
/// assert_eq!(out, "mem://run-0000042/train/model");
/// # Ok::<(), keelson_lineage::workload::FormulaError>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Template {
    parts: Vec<Part>,
}

impl Template {
    /// Parses `text`, reading only what `scope` has.
    pub fn parse(text: &str, scope: Scope) -> Result<Template, FormulaError> {
        let mut parts = Vec::new();
        let mut literal = String::new();
        let mut rest = text;
        while let Some(open) = rest.find('{') {
            let (before, from_open) = rest.split_at(open);
            literal.push_str(before);
            let body = from_open.get(1..).unwrap_or_default();
            let close = body.find(['{', '}']);
            match close.map(|at| (at, body.as_bytes().get(at))) {
                Some((at, Some(b'}'))) => {
                    let field = body.get(..at).unwrap_or_default();
                    if !literal.is_empty() {
                        parts.push(Part::Text(std::mem::take(&mut literal)));
                    }
                    parts.push(Self::field(text, field, scope)?);
                    rest = body.get(at + 1..).unwrap_or_default();
                }
                _ => {
                    literal.push('{');
                    rest = body;
                }
            }
        }
        literal.push_str(rest);
        if !literal.is_empty() {
            parts.push(Part::Text(literal));
        }
        Ok(Template { parts })
    }

    fn field(text: &str, field: &str, scope: Scope) -> Result<Part, FormulaError> {
        let trimmed = field.trim();
        if let Some(name) = NameField::from_name(trimmed) {
            return if scope.names.contains(&name) {
                Ok(Part::Name(name))
            } else {
                Err(FormulaError(format!(
                    "template {text:?}: field {{{trimmed}}} is not available here"
                )))
            };
        }
        let (expr, spec) = match trimmed.split_once(':') {
            Some((expr, spec)) => (expr, Some(spec.trim())),
            None => (trimmed, None),
        };
        let width = match spec {
            None => 0,
            Some(spec) => spec
                .strip_prefix('0')
                .and_then(|s| s.strip_suffix('d'))
                .filter(|digits| !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()))
                .and_then(|digits| digits.parse::<usize>().ok())
                .filter(|width| *width <= MAX_PAD_WIDTH)
                .ok_or_else(|| {
                    FormulaError(format!(
                        "template {text:?}: format spec {spec:?} is not 0<width>d with a width up to {MAX_PAD_WIDTH}"
                    ))
                })?,
        };
        let expr = Expr::parse(expr, scope)
            .map_err(|e| FormulaError(format!("template {text:?}: {e}")))?;
        if expr.number_type() != NumberType::Int {
            return Err(FormulaError(format!(
                "template {text:?}: field {{{trimmed}}} is not an integer expression"
            )));
        }
        Ok(Part::Int { expr, width })
    }

    /// Appends the template's text at `env` to `out`.
    pub fn render(&self, env: &Env<'_>, out: &mut String) -> Result<(), FormulaError> {
        for part in &self.parts {
            match part {
                Part::Text(text) => out.push_str(text),
                Part::Name(name) => out.push_str(env.name(*name)),
                Part::Int { expr, width } => {
                    let value = match expr.eval(env)? {
                        Number::Int(v) => v,
                        Number::Double(_) => {
                            return Err(FormulaError(
                                "internal: integer field gave a double".into(),
                            ));
                        }
                    };
                    // Writing to a String cannot fail.
                    let _ = write!(out, "{value:0width$}");
                }
            }
        }
        Ok(())
    }

    /// The template's text at `env`, as a new string.
    pub fn to_string_at(&self, env: &Env<'_>) -> Result<String, FormulaError> {
        let mut out = String::new();
        self.render(env, &mut out)?;
        Ok(out)
    }
}
