//! The subset of CEL (the Common Expression Language, <https://github.com/google/cel-spec>)
//! that pipeline conditions and input selectors are written in.
//!
//! Kubeflow Pipelines writes a task's `triggerPolicy.condition` in CEL over
//! the task's inputs (`inputs.parameter_values['x'] == 'heads'`,
//! `int(inputs.parameter_values['n']) > 5`) and an input's
//! `parameterExpressionSelector` in CEL over the value
//! (`parseJson(string_value)["key"]`). This module reads those: literals
//! (strings, integers, doubles, `true`, `false`, `null`, lists), variables,
//! field access and indexing, `!`, unary `-`, `* / % + -`, the comparisons
//! `== != < <= > >=`, `in`, `&&`, `||`, and the functions `int`, `double`,
//! `string`, `bool`, `size` and `parseJson`. Values are JSON values.
//!
//! Evaluation fails (rather than guessing) when a referenced value is absent
//! or has the wrong type: a condition that fails is *undecidable*, and the
//! DAG reports it instead of picking a branch.
//!
//! ```
//! use keelson_sched::cel::Expr;
//! use serde_json::json;
//!
//! let cond = Expr::parse("int(inputs.parameter_values['n']) > 5 && inputs.parameter_values['coin'] != 'tails'")?;
//! let env = json!({"inputs": {"parameter_values": {"n": "7", "coin": "heads"}}});
//! assert_eq!(cond.eval(&env)?, json!(true));
//! let missing = json!({"inputs": {"parameter_values": {"coin": "heads"}}});
//! assert!(cond.eval(&missing).unwrap_err().to_string().contains("'n'"));
//! # Ok::<(), keelson_sched::Error>(())
//! ```

use std::cmp::Ordering;
use std::fmt;

use serde_json::Value as Json;

use crate::{Error, Result};

/// Deepest nesting of parentheses, brackets and operators accepted; deeper
/// input is refused so that parsing cannot exhaust the stack.
const MAX_DEPTH: usize = 64;

/// A parsed expression, with the text it was read from.
#[derive(Clone, Debug, PartialEq)]
pub struct Expr {
    source: String,
    root: Node,
}

#[derive(Clone, Debug, PartialEq)]
enum Node {
    Literal(Json),
    List(Vec<Node>),
    Var(String),
    Field(Box<Node>, String),
    Index(Box<Node>, Box<Node>),
    Call(String, Vec<Node>),
    Not(Box<Node>),
    Neg(Box<Node>),
    Binary(Op, Box<Node>, Box<Node>),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Op {
    Or,
    And,
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    In,
    Add,
    Sub,
    Mul,
    Div,
    Rem,
}

impl Expr {
    /// Parses `text`. Anything outside the subset (macros, method calls,
    /// the ternary operator, bytes literals) is an error naming the
    /// expression and where it stopped.
    pub fn parse(text: &str) -> Result<Expr> {
        let tokens = lex(text).map_err(|reason| bad(text, reason))?;
        let mut parser = Parser {
            tokens,
            pos: 0,
            depth: 0,
        };
        let root = parser.expr().map_err(|reason| bad(text, reason))?;
        if let Some(tok) = parser.tokens.get(parser.pos) {
            return Err(bad(text, format!("unexpected {tok} after the expression")));
        }
        Ok(Expr {
            source: text.to_owned(),
            root,
        })
    }

    /// The text the expression was parsed from.
    pub fn source(&self) -> &str {
        &self.source
    }

    /// Evaluates the expression with the variables of `env` (a JSON
    /// object). An absent variable, field or key, a type mismatch, an
    /// overflow or a division by zero is an error naming the expression and
    /// the cause.
    pub fn eval(&self, env: &Json) -> Result<Json> {
        eval(&self.root, env, 0).map_err(|reason| bad(&self.source, reason))
    }
}

impl fmt::Display for Expr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.source)
    }
}

fn bad(text: &str, reason: impl Into<String>) -> Error {
    let shown: String = text.chars().take(120).collect();
    Error::invalid(format!("expression `{shown}`"), reason)
}

#[derive(Clone, Debug, PartialEq)]
enum Tok {
    Int(i64),
    Double(f64),
    Str(String),
    Ident(String),
    Sym(&'static str),
}

impl fmt::Display for Tok {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Tok::Int(i) => write!(f, "{i}"),
            Tok::Double(d) => write!(f, "{d}"),
            Tok::Str(s) => write!(f, "{s:?}"),
            Tok::Ident(s) => write!(f, "`{s}`"),
            Tok::Sym(s) => write!(f, "`{s}`"),
        }
    }
}

const SYMBOLS: [&str; 21] = [
    "==", "!=", "<=", ">=", "&&", "||", "<", ">", "!", "+", "-", "*", "/", "%", "(", ")", "[", "]",
    ".", ",", "?",
];

fn lex(text: &str) -> std::result::Result<Vec<Tok>, String> {
    let chars: Vec<char> = text.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while let Some(&c) = chars.get(i) {
        if c.is_whitespace() {
            i += 1;
        } else if c == '\'' || c == '"' {
            let (s, next) = lex_string(&chars, i)?;
            out.push(Tok::Str(s));
            i = next;
        } else if c.is_ascii_digit() {
            let start = i;
            while chars
                .get(i)
                .is_some_and(|c| c.is_ascii_alphanumeric() || *c == '.')
            {
                i += 1;
            }
            let word: String = chars.get(start..i).unwrap_or_default().iter().collect();
            out.push(number(&word)?);
        } else if c.is_ascii_alphabetic() || c == '_' {
            let start = i;
            while chars
                .get(i)
                .is_some_and(|c| c.is_ascii_alphanumeric() || *c == '_')
            {
                i += 1;
            }
            out.push(Tok::Ident(
                chars.get(start..i).unwrap_or_default().iter().collect(),
            ));
        } else {
            let sym = SYMBOLS.iter().find(|s| {
                s.chars()
                    .enumerate()
                    .all(|(k, sc)| chars.get(i + k) == Some(&sc))
            });
            match sym {
                Some(s) => {
                    out.push(Tok::Sym(s));
                    i += s.len();
                }
                None => return Err(format!("unexpected character {c:?}")),
            }
        }
    }
    Ok(out)
}

fn number(word: &str) -> std::result::Result<Tok, String> {
    let unsigned = word.strip_suffix(['u', 'U']).unwrap_or(word);
    if let Some(hex) = unsigned
        .strip_prefix("0x")
        .or_else(|| unsigned.strip_prefix("0X"))
    {
        return i64::from_str_radix(hex, 16)
            .map(Tok::Int)
            .map_err(|_| format!("bad number {word:?}"));
    }
    if let Ok(i) = unsigned.parse::<i64>() {
        return Ok(Tok::Int(i));
    }
    match word.parse::<f64>() {
        Ok(d) if d.is_finite() => Ok(Tok::Double(d)),
        _ => Err(format!("bad number {word:?}")),
    }
}

fn lex_string(chars: &[char], start: usize) -> std::result::Result<(String, usize), String> {
    let quote = chars.get(start).copied().unwrap_or('\'');
    let mut s = String::new();
    let mut i = start + 1;
    loop {
        match chars.get(i) {
            None => return Err("unterminated string".to_owned()),
            Some(&c) if c == quote => return Ok((s, i + 1)),
            Some('\\') => {
                let esc = chars
                    .get(i + 1)
                    .ok_or_else(|| "unterminated string".to_owned())?;
                s.push(match esc {
                    'n' => '\n',
                    't' => '\t',
                    'r' => '\r',
                    '\\' | '\'' | '"' => *esc,
                    other => return Err(format!("unknown escape \\{other}")),
                });
                i += 2;
            }
            Some(&c) => {
                s.push(c);
                i += 1;
            }
        }
    }
}

struct Parser {
    tokens: Vec<Tok>,
    pos: usize,
    depth: usize,
}

type Parsed = std::result::Result<Node, String>;

impl Parser {
    fn peek_sym(&self) -> Option<&'static str> {
        match self.tokens.get(self.pos) {
            Some(Tok::Sym(s)) => Some(s),
            _ => None,
        }
    }

    fn eat(&mut self, sym: &str) -> bool {
        if self.peek_sym() == Some(sym) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    fn expect(&mut self, sym: &str) -> std::result::Result<(), String> {
        if self.eat(sym) {
            Ok(())
        } else {
            Err(match self.tokens.get(self.pos) {
                Some(tok) => format!("expected `{sym}`, found {tok}"),
                None => format!("expected `{sym}` at the end"),
            })
        }
    }

    fn enter(&mut self) -> std::result::Result<(), String> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            Err(format!("nested deeper than {MAX_DEPTH}"))
        } else {
            Ok(())
        }
    }

    fn expr(&mut self) -> Parsed {
        self.enter()?;
        let node = self.or();
        self.depth -= 1;
        if self.peek_sym() == Some("?") {
            return Err("the ternary operator is not supported".to_owned());
        }
        node
    }

    fn or(&mut self) -> Parsed {
        let mut left = self.and()?;
        while self.eat("||") {
            left = Node::Binary(Op::Or, Box::new(left), Box::new(self.and()?));
        }
        Ok(left)
    }

    fn and(&mut self) -> Parsed {
        let mut left = self.relation()?;
        while self.eat("&&") {
            left = Node::Binary(Op::And, Box::new(left), Box::new(self.relation()?));
        }
        Ok(left)
    }

    fn relation(&mut self) -> Parsed {
        let left = self.sum()?;
        let op = match self.tokens.get(self.pos) {
            Some(Tok::Sym("==")) => Op::Eq,
            Some(Tok::Sym("!=")) => Op::Ne,
            Some(Tok::Sym("<")) => Op::Lt,
            Some(Tok::Sym("<=")) => Op::Le,
            Some(Tok::Sym(">")) => Op::Gt,
            Some(Tok::Sym(">=")) => Op::Ge,
            Some(Tok::Ident(w)) if w == "in" => Op::In,
            _ => return Ok(left),
        };
        self.pos += 1;
        let right = self.sum()?;
        Ok(Node::Binary(op, Box::new(left), Box::new(right)))
    }

    fn sum(&mut self) -> Parsed {
        let mut left = self.product()?;
        loop {
            let op = if self.eat("+") {
                Op::Add
            } else if self.eat("-") {
                Op::Sub
            } else {
                return Ok(left);
            };
            left = Node::Binary(op, Box::new(left), Box::new(self.product()?));
        }
    }

    fn product(&mut self) -> Parsed {
        let mut left = self.unary()?;
        loop {
            let op = if self.eat("*") {
                Op::Mul
            } else if self.eat("/") {
                Op::Div
            } else if self.eat("%") {
                Op::Rem
            } else {
                return Ok(left);
            };
            left = Node::Binary(op, Box::new(left), Box::new(self.unary()?));
        }
    }

    fn unary(&mut self) -> Parsed {
        self.enter()?;
        let node = if self.eat("!") {
            self.unary().map(|n| Node::Not(Box::new(n)))
        } else if self.eat("-") {
            self.unary().map(|n| Node::Neg(Box::new(n)))
        } else {
            self.postfix()
        };
        self.depth -= 1;
        node
    }

    fn postfix(&mut self) -> Parsed {
        let mut node = self.primary()?;
        loop {
            if self.eat(".") {
                match self.tokens.get(self.pos) {
                    Some(Tok::Ident(name)) => {
                        let name = name.clone();
                        self.pos += 1;
                        if self.peek_sym() == Some("(") {
                            return Err(format!("method calls (`.{name}(…)`) are not supported"));
                        }
                        node = Node::Field(Box::new(node), name);
                    }
                    _ => return Err("expected a field name after `.`".to_owned()),
                }
            } else if self.eat("[") {
                let index = self.expr()?;
                self.expect("]")?;
                node = Node::Index(Box::new(node), Box::new(index));
            } else {
                return Ok(node);
            }
        }
    }

    fn primary(&mut self) -> Parsed {
        let tok = self
            .tokens
            .get(self.pos)
            .cloned()
            .ok_or_else(|| "unexpected end of the expression".to_owned())?;
        self.pos += 1;
        match tok {
            Tok::Int(i) => Ok(Node::Literal(Json::from(i))),
            Tok::Double(d) => Ok(Node::Literal(Json::from(d))),
            Tok::Str(s) => Ok(Node::Literal(Json::String(s))),
            Tok::Sym("(") => {
                let inner = self.expr()?;
                self.expect(")")?;
                Ok(inner)
            }
            Tok::Sym("[") => {
                let mut items = Vec::new();
                if !self.eat("]") {
                    loop {
                        items.push(self.expr()?);
                        if self.eat("]") {
                            break;
                        }
                        self.expect(",")?;
                    }
                }
                Ok(Node::List(items))
            }
            Tok::Ident(name) => match name.as_str() {
                "true" => Ok(Node::Literal(Json::Bool(true))),
                "false" => Ok(Node::Literal(Json::Bool(false))),
                "null" => Ok(Node::Literal(Json::Null)),
                _ if self.eat("(") => {
                    if !FUNCTIONS.contains(&name.as_str()) {
                        return Err(format!("function `{name}` is not supported"));
                    }
                    let mut args = Vec::new();
                    if !self.eat(")") {
                        loop {
                            args.push(self.expr()?);
                            if self.eat(")") {
                                break;
                            }
                            self.expect(",")?;
                        }
                    }
                    if args.len() != 1 {
                        return Err(format!("`{name}` takes one argument, not {}", args.len()));
                    }
                    Ok(Node::Call(name, args))
                }
                _ => Ok(Node::Var(name)),
            },
            other => Err(format!("unexpected {other}")),
        }
    }
}

const FUNCTIONS: [&str; 6] = ["int", "double", "string", "bool", "size", "parseJson"];

type Evaluated = std::result::Result<Json, String>;

fn eval(node: &Node, env: &Json, depth: usize) -> Evaluated {
    if depth > MAX_DEPTH * 4 {
        return Err("expression too deep".to_owned());
    }
    let sub = |n: &Node| eval(n, env, depth + 1);
    match node {
        Node::Literal(v) => Ok(v.clone()),
        Node::List(items) => items
            .iter()
            .map(sub)
            .collect::<Result<_, _>>()
            .map(Json::Array),
        Node::Var(name) => env
            .get(name)
            .cloned()
            .ok_or_else(|| format!("`{name}` is not set")),
        Node::Field(base, field) => {
            let base = sub(base)?;
            base.get(field)
                .cloned()
                .ok_or_else(|| format!("no field `{field}`"))
        }
        Node::Index(base, index) => {
            let base = sub(base)?;
            let index = sub(index)?;
            match (&base, &index) {
                (Json::Object(map), Json::String(key)) => map
                    .get(key)
                    .cloned()
                    .ok_or_else(|| format!("no key '{key}'")),
                (Json::Array(items), Json::Number(n)) => n
                    .as_u64()
                    .and_then(|i| usize::try_from(i).ok())
                    .and_then(|i| items.get(i))
                    .cloned()
                    .ok_or_else(|| format!("index {n} out of range")),
                _ => Err(format!(
                    "cannot index {} with {}",
                    kind(&base),
                    kind(&index)
                )),
            }
        }
        Node::Call(name, args) => {
            let arg = args.first().map(sub).transpose()?.unwrap_or(Json::Null);
            call(name, arg)
        }
        Node::Not(inner) => match sub(inner)? {
            Json::Bool(b) => Ok(Json::Bool(!b)),
            other => Err(format!("`!` needs a bool, not {}", kind(&other))),
        },
        Node::Neg(inner) => match sub(inner)? {
            Json::Number(n) if n.is_i64() => n
                .as_i64()
                .and_then(i64::checked_neg)
                .map(Json::from)
                .ok_or_else(|| "integer overflow".to_owned()),
            Json::Number(n) => Ok(Json::from(-n.as_f64().unwrap_or(f64::NAN))),
            other => Err(format!("`-` needs a number, not {}", kind(&other))),
        },
        Node::Binary(Op::And, l, r) => match sub(l)? {
            Json::Bool(false) => Ok(Json::Bool(false)),
            Json::Bool(true) => truth(sub(r)?, "&&"),
            other => Err(format!("`&&` needs bools, not {}", kind(&other))),
        },
        Node::Binary(Op::Or, l, r) => match sub(l)? {
            Json::Bool(true) => Ok(Json::Bool(true)),
            Json::Bool(false) => truth(sub(r)?, "||"),
            other => Err(format!("`||` needs bools, not {}", kind(&other))),
        },
        Node::Binary(op, l, r) => binary(*op, sub(l)?, sub(r)?),
    }
}

fn truth(v: Json, op: &str) -> Evaluated {
    match v {
        Json::Bool(_) => Ok(v),
        other => Err(format!("`{op}` needs bools, not {}", kind(&other))),
    }
}

fn kind(v: &Json) -> &'static str {
    match v {
        Json::Null => "null",
        Json::Bool(_) => "a bool",
        Json::Number(n) if n.is_f64() => "a double",
        Json::Number(_) => "an int",
        Json::String(_) => "a string",
        Json::Array(_) => "a list",
        Json::Object(_) => "a map",
    }
}

fn call(name: &str, arg: Json) -> Evaluated {
    match (name, &arg) {
        ("int", Json::Number(n)) if !n.is_f64() => Ok(arg),
        ("int", Json::Number(n)) => {
            let d = n.as_f64().unwrap_or(f64::NAN);
            if d.is_finite() && d.abs() < 9.2e18 {
                Ok(Json::from(d.trunc() as i64))
            } else {
                Err(format!("int({d}) is out of range"))
            }
        }
        ("int", Json::String(s)) => s
            .trim()
            .parse::<i64>()
            .map(Json::from)
            .map_err(|_| format!("int({s:?}): not an integer")),
        ("double", Json::Number(n)) => Ok(Json::from(n.as_f64().unwrap_or(f64::NAN))),
        ("double", Json::String(s)) => match s.trim().parse::<f64>() {
            Ok(d) if d.is_finite() => Ok(Json::from(d)),
            _ => Err(format!("double({s:?}): not a number")),
        },
        ("string", Json::String(_)) => Ok(arg),
        ("string", Json::Number(_) | Json::Bool(_)) => Ok(Json::String(arg.to_string())),
        ("bool", Json::Bool(_)) => Ok(arg),
        ("bool", Json::String(s)) => match s.as_str() {
            "true" | "True" | "TRUE" | "t" | "1" => Ok(Json::Bool(true)),
            "false" | "False" | "FALSE" | "f" | "0" => Ok(Json::Bool(false)),
            _ => Err(format!("bool({s:?}): not a bool")),
        },
        ("size", Json::String(s)) => Ok(Json::from(s.chars().count())),
        ("size", Json::Array(a)) => Ok(Json::from(a.len())),
        ("size", Json::Object(m)) => Ok(Json::from(m.len())),
        ("parseJson", Json::String(s)) => {
            serde_json::from_str(s).map_err(|e| format!("parseJson: {e}"))
        }
        _ => Err(format!("`{name}` does not take {}", kind(&arg))),
    }
}

fn binary(op: Op, l: Json, r: Json) -> Evaluated {
    match op {
        Op::Eq => Ok(Json::Bool(equal(&l, &r))),
        Op::Ne => Ok(Json::Bool(!equal(&l, &r))),
        Op::Lt | Op::Le | Op::Gt | Op::Ge => {
            let ord = order(&l, &r)?;
            Ok(Json::Bool(match op {
                Op::Lt => ord == Ordering::Less,
                Op::Le => ord != Ordering::Greater,
                Op::Gt => ord == Ordering::Greater,
                _ => ord != Ordering::Less,
            }))
        }
        Op::In => match &r {
            Json::Array(items) => Ok(Json::Bool(items.iter().any(|i| equal(i, &l)))),
            Json::Object(map) => match &l {
                Json::String(k) => Ok(Json::Bool(map.contains_key(k))),
                other => Err(format!(
                    "`in` a map needs a string key, not {}",
                    kind(other)
                )),
            },
            other => Err(format!("`in` needs a list or a map, not {}", kind(other))),
        },
        Op::Add => match (&l, &r) {
            (Json::String(a), Json::String(b)) => Ok(Json::String(format!("{a}{b}"))),
            (Json::Array(a), Json::Array(b)) => {
                Ok(Json::Array(a.iter().chain(b).cloned().collect()))
            }
            _ => arithmetic(op, &l, &r),
        },
        _ => arithmetic(op, &l, &r),
    }
}

fn equal(l: &Json, r: &Json) -> bool {
    match (l, r) {
        (Json::Number(a), Json::Number(b)) => match (a.as_i64(), b.as_i64()) {
            (Some(x), Some(y)) => x == y,
            _ => a.as_f64() == b.as_f64(),
        },
        _ => l == r,
    }
}

fn order(l: &Json, r: &Json) -> std::result::Result<Ordering, String> {
    match (l, r) {
        (Json::Number(a), Json::Number(b)) => match (a.as_i64(), b.as_i64()) {
            (Some(x), Some(y)) => Ok(x.cmp(&y)),
            _ => a
                .as_f64()
                .zip(b.as_f64())
                .and_then(|(x, y)| x.partial_cmp(&y))
                .ok_or_else(|| "numbers that do not compare".to_owned()),
        },
        (Json::String(a), Json::String(b)) => Ok(a.cmp(b)),
        (Json::Bool(a), Json::Bool(b)) => Ok(a.cmp(b)),
        _ => Err(format!("cannot compare {} with {}", kind(l), kind(r))),
    }
}

fn arithmetic(op: Op, l: &Json, r: &Json) -> Evaluated {
    let (Json::Number(a), Json::Number(b)) = (l, r) else {
        return Err(format!(
            "arithmetic needs numbers, not {} and {}",
            kind(l),
            kind(r)
        ));
    };
    if let (Some(x), Some(y)) = (a.as_i64(), b.as_i64()) {
        let v = match op {
            Op::Add => x.checked_add(y),
            Op::Sub => x.checked_sub(y),
            Op::Mul => x.checked_mul(y),
            Op::Div => x.checked_div(y),
            _ => x.checked_rem(y),
        };
        return v
            .map(Json::from)
            .ok_or_else(|| "integer overflow or division by zero".to_owned());
    }
    let (x, y) = (
        a.as_f64().unwrap_or(f64::NAN),
        b.as_f64().unwrap_or(f64::NAN),
    );
    let v = match op {
        Op::Add => x + y,
        Op::Sub => x - y,
        Op::Mul => x * y,
        Op::Div => x / y,
        _ => x % y,
    };
    if v.is_finite() {
        Ok(Json::from(v))
    } else {
        Err("the result is not a finite number".to_owned())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use serde_json::json;

    fn run(text: &str, env: Json) -> std::result::Result<Json, String> {
        Expr::parse(text)
            .and_then(|e| e.eval(&env))
            .map_err(|e| e.to_string())
    }

    #[test]
    fn kfp_conditions() {
        let env = json!({"inputs": {"parameter_values": {"coin": "heads", "n": "7", "t": 2}}});
        let cases = [
            ("inputs.parameter_values['coin'] == 'heads'", true),
            (
                "!(inputs.parameter_values['coin'] == 'heads') && inputs.parameter_values['coin'] == 'tails'",
                false,
            ),
            ("int(inputs.parameter_values['n']) > 5", true),
            ("int(inputs.parameter_values['n']) <= 5", false),
            (
                "int(inputs.parameter_values['n']) >= int(inputs.parameter_values['t'])",
                true,
            ),
            ("inputs.parameter_values['t'] == 2.0", true),
            ("'a' in ['b', 'a'] || false", true),
            ("1 + 2 * 3 == 7 && 7 % 4 == 3 && -2 < 0", true),
        ];
        for (text, want) in cases {
            assert_eq!(run(text, env.clone()), Ok(Json::Bool(want)), "{text}");
        }
    }

    #[test]
    fn selectors_parse_json() {
        let env = json!({"string_value": "{\"A_a\": \"heads\", \"B_b\": [\"X\", \"Y\"]}"});
        assert_eq!(
            run("parseJson(string_value)[\"B_b\"]", env.clone()),
            Ok(json!(["X", "Y"]))
        );
        assert_eq!(
            run("parseJson(string_value)['B_b'][1]", env),
            Ok(json!("Y"))
        );
    }

    #[test]
    fn absent_values_and_type_errors_are_errors() {
        let env = json!({"inputs": {"parameter_values": {"n": "seven"}}});
        let e = run("inputs.parameter_values['x'] == 'a'", env.clone()).unwrap_err();
        assert!(e.contains("no key 'x'"), "{e}");
        let e = run("int(inputs.parameter_values['n']) > 1", env.clone()).unwrap_err();
        assert!(e.contains("not an integer"), "{e}");
        assert!(run("1 / 0", env.clone()).is_err());
        assert!(run("'a' < 1", env).is_err());
    }

    #[test]
    fn unsupported_syntax_is_refused_with_the_expression() {
        for text in [
            "a ? b : c",
            "x.size()",
            "has(x)",
            "a ==",
            "'open",
            "1 @ 2",
            "f(1, 2)",
        ] {
            let e = Expr::parse(text).unwrap_err().to_string();
            assert!(e.contains("expression"), "{text}: {e}");
        }
        let deep = format!("{}1{}", "(".repeat(200), ")".repeat(200));
        assert!(Expr::parse(&deep).is_err());
        let negs = format!("{}1", "!".repeat(500));
        assert!(Expr::parse(&negs).is_err());
    }
}
