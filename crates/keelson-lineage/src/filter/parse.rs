//! The lexer and the recursive-descent parser of filter text.

use super::FilterError;
use super::ast::{
    Attribute, CompareOp, EventField, Field, Filter, Join, JoinKind, Literal, Predicate, Target,
    Test, ValueKind, ValueType,
};

/// How deep parentheses and `NOT` may nest: the tree is walked recursively
/// (printing, compiling, dropping), so input must not choose the depth.
pub const MAX_NESTING: usize = 64;

/// Parses filter text into a [`Filter`]. The error names the 1-based
/// column (in characters) where parsing failed and what was expected there.
pub fn parse(text: &str) -> Result<Filter, FilterError> {
    let tokens = lex(text)?;
    let mut parser = Parser {
        tokens,
        pos: 0,
        depth: 0,
    };
    let filter = parser.expression()?;
    let next = parser.peek();
    if next.kind != Tok::End {
        return Err(next.error(format!(
            "expected AND, OR or the end of the query, found {}",
            next.kind.describe()
        )));
    }
    Ok(filter)
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    /// An identifier or keyword: `[A-Za-z_][A-Za-z0-9_]*`.
    Word(String),
    /// Digits, optionally with a fraction and an exponent, as written.
    Number(String),
    /// A quoted string, unescaped.
    Str(String),
    /// A backquoted name, unescaped.
    Quoted(String),
    Dot,
    Comma,
    Open,
    Close,
    Minus,
    Op(CompareOp),
    End,
}

impl Tok {
    fn describe(&self) -> String {
        match self {
            Tok::Word(w) => format!("`{w}`"),
            Tok::Number(n) => format!("number {n}"),
            Tok::Str(_) => "a string".to_owned(),
            Tok::Quoted(q) => format!("`{q}`"),
            Tok::Dot => "`.`".to_owned(),
            Tok::Comma => "`,`".to_owned(),
            Tok::Open => "`(`".to_owned(),
            Tok::Close => "`)`".to_owned(),
            Tok::Minus => "`-`".to_owned(),
            Tok::Op(op) => format!("`{}`", op.symbol()),
            Tok::End => "the end of the query".to_owned(),
        }
    }

    fn is_keyword(&self, keyword: &str) -> bool {
        matches!(self, Tok::Word(w) if w.eq_ignore_ascii_case(keyword))
    }
}

#[derive(Debug, Clone)]
struct Token {
    kind: Tok,
    /// 1-based column of the token's first character.
    column: usize,
}

impl Token {
    fn error(&self, message: String) -> FilterError {
        FilterError {
            column: Some(self.column),
            message,
        }
    }
}

fn lex(text: &str) -> Result<Vec<Token>, FilterError> {
    let chars: Vec<char> = text.chars().collect();
    let mut tokens = Vec::new();
    let mut i = 0;
    let error = |column: usize, message: &str| FilterError {
        column: Some(column),
        message: message.to_owned(),
    };
    while let Some(&c) = chars.get(i) {
        let column = i + 1;
        let at = |j: usize| chars.get(j).copied();
        let kind = match c {
            c if c.is_whitespace() => {
                i += 1;
                continue;
            }
            c if c.is_ascii_alphabetic() || c == '_' => {
                let start = i;
                while at(i).is_some_and(|c| c.is_ascii_alphanumeric() || c == '_') {
                    i += 1;
                }
                Tok::Word(chars.get(start..i).unwrap_or_default().iter().collect())
            }
            c if c.is_ascii_digit() => {
                let start = i;
                let digits = |i: &mut usize| {
                    while at(*i).is_some_and(|c| c.is_ascii_digit()) {
                        *i += 1;
                    }
                };
                digits(&mut i);
                if at(i) == Some('.') && at(i + 1).is_some_and(|c| c.is_ascii_digit()) {
                    i += 1;
                    digits(&mut i);
                }
                if matches!(at(i), Some('e' | 'E')) {
                    let sign = usize::from(matches!(at(i + 1), Some('+' | '-')));
                    if at(i + 1 + sign).is_some_and(|c| c.is_ascii_digit()) {
                        i += 1 + sign;
                        digits(&mut i);
                    }
                }
                if at(i).is_some_and(|c| c.is_ascii_alphabetic() || c == '_') {
                    return Err(error(i + 1, "expected an operator after a number"));
                }
                Tok::Number(chars.get(start..i).unwrap_or_default().iter().collect())
            }
            '\'' | '"' | '`' => {
                let mut value = String::new();
                i += 1;
                loop {
                    match at(i) {
                        None => {
                            return Err(error(
                                column,
                                "unterminated quote: expected a closing quote",
                            ));
                        }
                        Some(q) if q == c && at(i + 1) == Some(c) => {
                            value.push(c);
                            i += 2;
                        }
                        Some(q) if q == c => {
                            i += 1;
                            break;
                        }
                        Some(other) => {
                            value.push(other);
                            i += 1;
                        }
                    }
                }
                if c == '`' {
                    Tok::Quoted(value)
                } else {
                    Tok::Str(value)
                }
            }
            '.' => {
                i += 1;
                Tok::Dot
            }
            ',' => {
                i += 1;
                Tok::Comma
            }
            '(' => {
                i += 1;
                Tok::Open
            }
            ')' => {
                i += 1;
                Tok::Close
            }
            '-' => {
                i += 1;
                Tok::Minus
            }
            '=' => {
                i += 1;
                Tok::Op(CompareOp::Eq)
            }
            '!' if at(i + 1) == Some('=') => {
                i += 2;
                Tok::Op(CompareOp::Ne)
            }
            '<' => match at(i + 1) {
                Some('=') => {
                    i += 2;
                    Tok::Op(CompareOp::Le)
                }
                Some('>') => {
                    i += 2;
                    Tok::Op(CompareOp::Ne)
                }
                _ => {
                    i += 1;
                    Tok::Op(CompareOp::Lt)
                }
            },
            '>' => {
                if at(i + 1) == Some('=') {
                    i += 2;
                    Tok::Op(CompareOp::Ge)
                } else {
                    i += 1;
                    Tok::Op(CompareOp::Gt)
                }
            }
            other => {
                return Err(error(column, &format!("unexpected character {other:?}")));
            }
        };
        tokens.push(Token { kind, column });
    }
    tokens.push(Token {
        kind: Tok::End,
        column: chars.len() + 1,
    });
    Ok(tokens)
}

struct Parser {
    tokens: Vec<Token>,
    pos: usize,
    depth: usize,
}

const END: Token = Token {
    kind: Tok::End,
    column: 0,
};

impl Parser {
    fn peek(&self) -> &Token {
        self.tokens
            .get(self.pos)
            .or_else(|| self.tokens.last())
            .unwrap_or(&END)
    }

    fn next(&mut self) -> Token {
        let token = self.peek().clone();
        if self.pos < self.tokens.len() {
            self.pos += 1;
        }
        token
    }

    fn eat_keyword(&mut self, keyword: &str) -> bool {
        if self.peek().kind.is_keyword(keyword) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    fn expect(&mut self, kind: &Tok, what: &str) -> Result<Token, FilterError> {
        let token = self.next();
        if &token.kind == kind {
            Ok(token)
        } else {
            Err(token.error(format!("expected {what}, found {}", token.kind.describe())))
        }
    }

    fn expression(&mut self) -> Result<Filter, FilterError> {
        let mut operands = vec![self.conjunction()?];
        while self.eat_keyword("OR") {
            operands.push(self.conjunction()?);
        }
        Ok(if operands.len() == 1 {
            operands.pop().unwrap_or(Filter::Or(Vec::new()))
        } else {
            Filter::Or(operands)
        })
    }

    fn conjunction(&mut self) -> Result<Filter, FilterError> {
        let mut operands = vec![self.unary()?];
        while self.eat_keyword("AND") {
            operands.push(self.unary()?);
        }
        Ok(if operands.len() == 1 {
            operands.pop().unwrap_or(Filter::And(Vec::new()))
        } else {
            Filter::And(operands)
        })
    }

    fn nested<T>(
        &mut self,
        inner: impl FnOnce(&mut Self) -> Result<T, FilterError>,
    ) -> Result<T, FilterError> {
        if self.depth >= MAX_NESTING {
            return Err(self.peek().error(format!(
                "parentheses and NOT nest deeper than {MAX_NESTING} levels"
            )));
        }
        self.depth += 1;
        let result = inner(self);
        self.depth -= 1;
        result
    }

    fn unary(&mut self) -> Result<Filter, FilterError> {
        if self.eat_keyword("NOT") {
            return self.nested(|p| Ok(Filter::Not(Box::new(p.unary()?))));
        }
        if self.peek().kind == Tok::Open {
            self.pos += 1;
            let inner = self.nested(Self::expression)?;
            self.expect(&Tok::Close, "`)`")?;
            return Ok(inner);
        }
        let attribute = self.attribute()?;
        let test = self.test(&attribute)?;
        Ok(Filter::Predicate(Predicate { attribute, test }))
    }

    fn word(&mut self, what: &str) -> Result<(String, Token), FilterError> {
        let token = self.next();
        match &token.kind {
            Tok::Word(w) => Ok((w.clone(), token)),
            other => Err(token.error(format!("expected {what}, found {}", other.describe()))),
        }
    }

    fn attribute(&mut self) -> Result<Attribute, FilterError> {
        let (first, token) = self.word("an attribute, `(` or NOT")?;
        let join = JoinKind::ALL.iter().find_map(|kind| {
            first
                .strip_prefix(kind.prefix())
                .map(|alias| (*kind, alias.to_owned()))
        });
        match join {
            Some((kind, alias)) => {
                if alias.is_empty() {
                    return Err(token.error(format!(
                        "expected an alias after `{}` (e.g. `{}a`)",
                        kind.prefix(),
                        kind.prefix()
                    )));
                }
                self.expect(&Tok::Dot, &format!("`.` after `{first}`"))?;
                let target = if kind == JoinKind::Events {
                    self.event_field()?
                } else {
                    let (name, token) = self.word("a field or properties")?;
                    self.node_target(&name, &token)?
                };
                Ok(Attribute {
                    join: Some(Join { kind, alias }),
                    target,
                })
            }
            None => Ok(Attribute {
                join: None,
                target: self.node_target(&first, &token)?,
            }),
        }
    }

    fn event_field(&mut self) -> Result<Target, FilterError> {
        let (name, token) = self.word("an event field")?;
        EventField::ALL
            .iter()
            .find(|f| f.name() == name)
            .map(|f| Target::Event(*f))
            .ok_or_else(|| {
                token.error(format!(
                    "unknown event field `{name}`: expected type, artifact_id, execution_id or milliseconds_since_epoch"
                ))
            })
    }

    fn node_target(&mut self, name: &str, token: &Token) -> Result<Target, FilterError> {
        if let Some(field) = Field::ALL.iter().find(|f| f.name() == name) {
            return Ok(Target::Field(*field));
        }
        let custom = match name {
            "properties" => false,
            "custom_properties" => true,
            _ => {
                return Err(token.error(format!(
                    "unknown attribute `{name}`: expected id, type_id, type, uri, name, external_id, create_time_since_epoch, last_update_time_since_epoch, state, last_known_state, properties, custom_properties or a join such as contexts_a"
                )));
            }
        };
        self.expect(&Tok::Dot, &format!("`.` after `{name}`"))?;
        let token = self.next();
        let property = match &token.kind {
            Tok::Word(w) | Tok::Quoted(w) => w.clone(),
            Tok::Number(n) if n.chars().all(|c| c.is_ascii_digit()) => n.clone(),
            other => {
                return Err(token.error(format!(
                    "expected a property name (backquote names with other characters), found {}",
                    other.describe()
                )));
            }
        };
        self.expect(&Tok::Dot, "`.` after the property name")?;
        let (value, token) = self.word("int_value, double_value, string_value or bool_value")?;
        let value = ValueKind::ALL
            .iter()
            .find(|v| v.name() == value)
            .copied()
            .ok_or_else(|| {
                token.error(format!(
                    "unknown value `{value}`: expected int_value, double_value, string_value or bool_value"
                ))
            })?;
        Ok(Target::Property {
            custom,
            name: property,
            value,
        })
    }

    fn test(&mut self, attribute: &Attribute) -> Result<Test, FilterError> {
        let value_type = attribute.target.value_type();
        let token = self.next();
        match &token.kind {
            Tok::Op(op) => {
                if !op.is_equality() && matches!(value_type, ValueType::Bool | ValueType::Enum(_))
                {
                    return Err(token.error(format!(
                        "`{}` cannot order {attribute}: expected =, != or IN",
                        op.symbol()
                    )));
                }
                Ok(Test::Compare(*op, self.literal(attribute, value_type)?))
            }
            Tok::Word(w) if w.eq_ignore_ascii_case("IS") => {
                let negated = self.eat_keyword("NOT");
                let (null, token) = self.word("NULL")?;
                if !null.eq_ignore_ascii_case("NULL") {
                    return Err(token.error(format!("expected NULL, found `{null}`")));
                }
                Ok(Test::IsNull { negated })
            }
            Tok::Word(w) if w.eq_ignore_ascii_case("NOT") => {
                let (next, token) = self.word("IN or LIKE")?;
                self.in_or_like(attribute, value_type, &next, &token, true)
            }
            Tok::Word(w) => {
                let w = w.clone();
                self.in_or_like(attribute, value_type, &w, &token, false)
            }
            other => Err(token.error(format!(
                "expected an operator (=, !=, <, >, <=, >=, IN, NOT IN, LIKE, IS NULL) after {attribute}, found {}",
                other.describe()
            ))),
        }
    }

    fn in_or_like(
        &mut self,
        attribute: &Attribute,
        value_type: ValueType,
        word: &str,
        token: &Token,
        negated: bool,
    ) -> Result<Test, FilterError> {
        if word.eq_ignore_ascii_case("IN") {
            self.expect(&Tok::Open, "`(` and a list of values after IN")?;
            let mut values = vec![self.literal(attribute, value_type)?];
            while self.peek().kind == Tok::Comma {
                self.pos += 1;
                values.push(self.literal(attribute, value_type)?);
            }
            self.expect(&Tok::Close, "`,` or `)`")?;
            Ok(Test::In { negated, values })
        } else if word.eq_ignore_ascii_case("LIKE") {
            if value_type != ValueType::Text {
                return Err(token.error(format!("LIKE needs a string attribute, not {attribute}")));
            }
            let token = self.next();
            match &token.kind {
                Tok::Str(pattern) => Ok(Test::Like {
                    negated,
                    pattern: pattern.clone(),
                }),
                other => Err(token.error(format!(
                    "expected a quoted pattern after LIKE, found {}",
                    other.describe()
                ))),
            }
        } else {
            Err(token.error(format!(
                "expected an operator (=, !=, <, >, <=, >=, IN, NOT IN, LIKE, IS NULL) after {attribute}, found `{word}`"
            )))
        }
    }

    fn literal(
        &mut self,
        attribute: &Attribute,
        value_type: ValueType,
    ) -> Result<Literal, FilterError> {
        let token = self.next();
        let mismatch = |expected: &str, token: &Token| {
            token.error(format!(
                "{attribute} takes {expected}, found {}",
                token.kind.describe()
            ))
        };
        match value_type {
            ValueType::Text => match token.kind {
                Tok::Str(text) => Ok(Literal::Text(text)),
                _ => Err(mismatch("a quoted string", &token)),
            },
            ValueType::Bool => {
                if token.kind.is_keyword("TRUE") {
                    Ok(Literal::Bool(true))
                } else if token.kind.is_keyword("FALSE") {
                    Ok(Literal::Bool(false))
                } else {
                    Err(mismatch("TRUE or FALSE", &token))
                }
            }
            ValueType::Int | ValueType::Double => {
                let (negative, number) = if token.kind == Tok::Minus {
                    (true, self.next())
                } else {
                    (false, token.clone())
                };
                let Tok::Number(digits) = &number.kind else {
                    return Err(mismatch("a number", &number));
                };
                let text = if negative {
                    format!("-{digits}")
                } else {
                    digits.clone()
                };
                let integral = digits.chars().all(|c| c.is_ascii_digit());
                if value_type == ValueType::Int {
                    if !integral {
                        return Err(mismatch("an integer", &number));
                    }
                    text.parse::<i64>().map(Literal::Int).map_err(|_| {
                        number.error(format!("{text} does not fit in a 64-bit integer"))
                    })
                } else {
                    match text.parse::<f64>() {
                        Ok(value) if value.is_finite() => Ok(Literal::Double(value)),
                        _ => Err(number.error(format!("{text} is not a finite double"))),
                    }
                }
            }
            ValueType::Enum(names) => {
                let code = match &token.kind {
                    Tok::Word(name) | Tok::Str(name) => names
                        .iter()
                        .position(|n| n.eq_ignore_ascii_case(name))
                        .and_then(|i| i64::try_from(i).ok()),
                    Tok::Number(digits) => digits
                        .parse::<i64>()
                        .ok()
                        .filter(|code| usize::try_from(*code).is_ok_and(|i| i < names.len())),
                    _ => None,
                };
                code.map(Literal::Enum)
                    .ok_or_else(|| mismatch(&format!("one of {}", names.join(", ")), &token))
            }
        }
    }
}
