//! Search spaces: Katib's parameter kinds and distributions, conditional
//! parameters, validation, the JSON/YAML document format, and the unit-cube
//! representation the samplers work in.
//!
//! # The document format
//!
//! A space is a list of parameters in the shape of a Katib Experiment's
//! `spec.parameters`, so a Katib user can paste theirs. Numbers may be JSON/YAML
//! numbers or numeric strings (Katib writes strings). One field is new:
//! `condition`, which makes a parameter active only while a categorical parent
//! takes one of the listed values.
//!
//! ```yaml
//! parameters:
//!   - name: lr
//!     parameterType: double
//!     feasibleSpace: { min: "1e-5", max: "1e-1", distribution: logUniform }
//!   - name: layers
//!     parameterType: int
//!     feasibleSpace: { min: 1, max: 8 }
//!   - name: batch_size
//!     parameterType: discrete
//!     feasibleSpace: { list: [16, 32, 64] }
//!   - name: optimizer
//!     parameterType: categorical
//!     feasibleSpace: { list: [sgd, adam] }
//!   - name: momentum
//!     parameterType: double
//!     feasibleSpace: { min: 0.5, max: 0.99, step: 0.01 }
//!     condition: { parent: optimizer, values: [sgd] }
//! ```
//!
//! Unknown fields are errors, so a typo does not silently widen a space.
//!
//! # Distributions
//!
//! `uniform` (default) and `logUniform` are uniform in the value or in its
//! logarithm on `[min, max]`. `normal` and `logNormal` follow Katib: the mean
//! is the middle of `[min, max]` (of `[ln min, ln max]` for `logNormal`) and
//! the standard deviation a sixth of its width, so `[min, max]` spans ±3σ.
//! Unlike Katib's hyperopt service, which can return values outside the
//! feasible space for these two, the normal is truncated to `[min, max]`:
//! every suggestion lies inside the space.
//!
//! # Steps and integers
//!
//! A `step` makes the values `min, min + step, ...` up to `max` (`max` itself
//! only when the range is a multiple of the step). Integers are the same with
//! step 1 by default. Each such value owns a cell around it — half way to its
//! neighbours, measured in the log for log distributions — and a continuous
//! draw from the distribution picks the value whose cell it falls in, so the
//! end values are as likely as the inner ones under `uniform`.
//!
//! # The unit cube
//!
//! Every parameter owns one coordinate of `[0, 1]^d`, in declaration order.
//! For a numeric parameter the coordinate is the parameter's prior CDF, so a
//! uniform point of the cube is a draw from every distribution; for
//! `discrete` and `categorical` it selects the list entry `floor(u * n)`.
//! Coordinates of inactive parameters are ignored. [`SearchSpace::decode`]
//! and [`SearchSpace::encode`] convert both ways.

use std::collections::BTreeMap;
use std::fmt;

use serde::de::{self, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::normal;
use crate::{Error, Result};

/// The smallest step relative to the bounds' magnitude (2^-40): 2^12 ulps,
/// so that rounding never moves a grid value to its neighbour's cell.
const MIN_RELATIVE_STEP: f64 = 9.094_947_017_729_282e-13;

// ---------------------------------------------------------------------------
// The document types.

/// How a numeric parameter's values are distributed (Katib's
/// `feasibleSpace.distribution`).
///
/// ```
/// use keelson_hpo::Distribution;
///
/// let d: Distribution = serde_json::from_str("\"logUniform\"").unwrap();
/// assert_eq!(d, Distribution::LogUniform);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Distribution {
    /// Uniform on `[min, max]`.
    #[default]
    Uniform,
    /// Uniform in the logarithm; needs `min > 0`.
    LogUniform,
    /// Normal with mean `(min + max) / 2` and σ = `(max - min) / 6`,
    /// truncated to `[min, max]`.
    Normal,
    /// Log-normal: the normal of [`Distribution::Normal`] on `[ln min, ln max]`;
    /// needs `min > 0`.
    LogNormal,
}

impl Distribution {
    fn is_log(self) -> bool {
        matches!(self, Distribution::LogUniform | Distribution::LogNormal)
    }

    fn is_normal(self) -> bool {
        matches!(self, Distribution::Normal | Distribution::LogNormal)
    }
}

/// Katib's `parameterType`.
///
/// ```
/// use keelson_hpo::ParameterType;
///
/// let t: ParameterType = serde_json::from_str("\"categorical\"").unwrap();
/// assert_eq!(t, ParameterType::Categorical);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ParameterType {
    /// A real number in `[min, max]`.
    Double,
    /// An integer in `[min, max]`.
    Int,
    /// One of a list of numbers.
    Discrete,
    /// One of a list of strings.
    Categorical,
}

/// A number in a space document: an integer, a float, or a string holding
/// either (Katib writes `min: "0.01"`).
///
/// ```
/// use keelson_hpo::Number;
///
/// let n: Number = serde_json::from_str("\"1e-3\"").unwrap();
/// assert_eq!(n, Number::Float(1e-3));
/// let n: Number = serde_json::from_str("8").unwrap();
/// assert_eq!(n, Number::Int(8));
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Number {
    /// An integer, kept exact.
    Int(i64),
    /// Anything else.
    Float(f64),
}

impl Number {
    /// The number as a float (integers beyond 2^53 round).
    ///
    /// ```
    /// assert_eq!(keelson_hpo::Number::Int(3).as_f64(), 3.0);
    /// ```
    pub fn as_f64(self) -> f64 {
        match self {
            Number::Int(i) => i as f64,
            Number::Float(f) => f,
        }
    }

    /// The number as an integer, if it is one exactly.
    fn as_i64(self) -> Option<i64> {
        match self {
            Number::Int(i) => Some(i),
            // 2^63 as f64 is out of range; -2^63 is in.
            Number::Float(f)
                if f.fract() == 0.0 && (i64::MIN as f64..-(i64::MIN as f64)).contains(&f) =>
            {
                Some(f as i64)
            }
            Number::Float(_) => None,
        }
    }

    fn parse(text: &str) -> Option<Number> {
        let text = text.trim();
        if let Ok(i) = text.parse::<i64>() {
            return Some(Number::Int(i));
        }
        text.parse::<f64>().ok().map(Number::Float)
    }
}

impl From<f64> for Number {
    fn from(f: f64) -> Self {
        Number::Float(f)
    }
}

impl From<i64> for Number {
    fn from(i: i64) -> Self {
        Number::Int(i)
    }
}

impl fmt::Display for Number {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Number::Int(i) => write!(f, "{i}"),
            Number::Float(x) => write!(f, "{x}"),
        }
    }
}

impl Serialize for Number {
    fn serialize<S: Serializer>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error> {
        match *self {
            Number::Int(i) => serializer.serialize_i64(i),
            Number::Float(f) => serializer.serialize_f64(f),
        }
    }
}

impl<'de> Deserialize<'de> for Number {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> std::result::Result<Self, D::Error> {
        struct NumberVisitor;
        impl Visitor<'_> for NumberVisitor {
            type Value = Number;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a number or a string holding a number")
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> std::result::Result<Number, E> {
                Ok(Number::Int(v))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> std::result::Result<Number, E> {
                Ok(i64::try_from(v).map_or(Number::Float(v as f64), Number::Int))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> std::result::Result<Number, E> {
                Ok(Number::Float(v))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> std::result::Result<Number, E> {
                Number::parse(v).ok_or_else(|| E::custom(format!("{v:?} is not a number")))
            }
        }
        deserializer.deserialize_any(NumberVisitor)
    }
}

/// One entry of `feasibleSpace.list`: a number or a string (a YAML `true`
/// is read as the string `"true"`).
///
/// ```
/// use keelson_hpo::ListItem;
///
/// let items: Vec<ListItem> = serde_json::from_str(r#"[16, "adam", 0.5]"#).unwrap();
/// assert_eq!(items[1], ListItem::Text("adam".into()));
/// ```
#[derive(Clone, Debug, PartialEq)]
pub enum ListItem {
    /// A number.
    Number(Number),
    /// A string.
    Text(String),
}

impl ListItem {
    fn as_text(&self) -> String {
        match self {
            ListItem::Number(n) => n.to_string(),
            ListItem::Text(t) => t.clone(),
        }
    }

    fn as_number(&self) -> Option<f64> {
        match self {
            ListItem::Number(n) => Some(n.as_f64()),
            ListItem::Text(t) => Number::parse(t).map(Number::as_f64),
        }
    }
}

impl Serialize for ListItem {
    fn serialize<S: Serializer>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error> {
        match self {
            ListItem::Number(n) => n.serialize(serializer),
            ListItem::Text(t) => serializer.serialize_str(t),
        }
    }
}

impl<'de> Deserialize<'de> for ListItem {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> std::result::Result<Self, D::Error> {
        struct ItemVisitor;
        impl Visitor<'_> for ItemVisitor {
            type Value = ListItem;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a number or a string")
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> std::result::Result<ListItem, E> {
                Ok(ListItem::Text(v.to_string()))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> std::result::Result<ListItem, E> {
                Ok(ListItem::Number(Number::Int(v)))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> std::result::Result<ListItem, E> {
                Ok(ListItem::Number(
                    i64::try_from(v).map_or(Number::Float(v as f64), Number::Int),
                ))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> std::result::Result<ListItem, E> {
                Ok(ListItem::Number(Number::Float(v)))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> std::result::Result<ListItem, E> {
                Ok(ListItem::Text(v.to_owned()))
            }
        }
        deserializer.deserialize_any(ItemVisitor)
    }
}

/// Katib's `feasibleSpace`: `min`/`max`/`step`/`distribution` for `double`
/// and `int`, `list` for `discrete` and `categorical`.
///
/// ```
/// use keelson_hpo::{FeasibleSpace, Number};
///
/// let fs: FeasibleSpace = serde_json::from_str(r#"{"min": "0.1", "max": 1}"#).unwrap();
/// assert_eq!(fs.min, Some(Number::Float(0.1)));
/// ```
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct FeasibleSpace {
    /// Lower bound, inclusive.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min: Option<Number>,
    /// Upper bound, inclusive.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max: Option<Number>,
    /// Spacing of the allowed values, from `min`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub step: Option<Number>,
    /// The allowed values of a `discrete` or `categorical` parameter.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub list: Option<Vec<ListItem>>,
    /// The distribution of a `double` or `int` parameter; `uniform` if absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub distribution: Option<Distribution>,
}

/// Makes a parameter active only while the categorical `parent` takes one of
/// `values` (and the parent is itself active).
///
/// ```
/// use keelson_hpo::Condition;
///
/// let c: Condition = serde_yaml_ng::from_str("{parent: optimizer, values: [sgd]}").unwrap();
/// assert_eq!(c.parent, "optimizer");
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Condition {
    /// The name of a categorical parameter.
    pub parent: String,
    /// The parent's values under which the parameter is active.
    pub values: Vec<String>,
}

/// One parameter as written in a space document, before validation; the
/// constructors build the same thing in code.
///
/// ```
/// use keelson_hpo::{Distribution, ParamSpec, SearchSpace};
///
/// let space = SearchSpace::new([
///     ParamSpec::double("lr", 1e-5, 1e-1).distribution(Distribution::LogUniform),
///     ParamSpec::int("layers", 1, 8).step(1.0),
///     ParamSpec::categorical("optimizer", ["sgd", "adam"]),
///     ParamSpec::double("momentum", 0.5, 0.99).active_when("optimizer", ["sgd"]),
/// ])?;
/// assert_eq!(space.dims(), 4);
/// # Ok::<(), keelson_hpo::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ParamSpec {
    /// The parameter's name, unique in its space.
    pub name: String,
    /// Its kind.
    pub parameter_type: ParameterType,
    /// Its bounds or list.
    #[serde(default)]
    pub feasible_space: FeasibleSpace,
    /// When it is active; always if absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub condition: Option<Condition>,
}

impl ParamSpec {
    fn numeric(name: &str, parameter_type: ParameterType, min: Number, max: Number) -> Self {
        ParamSpec {
            name: name.to_owned(),
            parameter_type,
            feasible_space: FeasibleSpace {
                min: Some(min),
                max: Some(max),
                ..FeasibleSpace::default()
            },
            condition: None,
        }
    }

    /// A real number in `[min, max]`.
    ///
    /// ```
    /// let p = keelson_hpo::ParamSpec::double("dropout", 0.0, 0.8);
    /// assert_eq!(p.name, "dropout");
    /// ```
    pub fn double(name: &str, min: f64, max: f64) -> Self {
        Self::numeric(
            name,
            ParameterType::Double,
            Number::Float(min),
            Number::Float(max),
        )
    }

    /// An integer in `[min, max]`.
    ///
    /// ```
    /// let p = keelson_hpo::ParamSpec::int("layers", 1, 8);
    /// assert_eq!(p.feasible_space.max, Some(keelson_hpo::Number::Int(8)));
    /// ```
    pub fn int(name: &str, min: i64, max: i64) -> Self {
        Self::numeric(name, ParameterType::Int, Number::Int(min), Number::Int(max))
    }

    /// One of a list of numbers.
    ///
    /// ```
    /// let p = keelson_hpo::ParamSpec::discrete("batch_size", [16.0, 32.0, 64.0]);
    /// assert_eq!(p.feasible_space.list.unwrap().len(), 3);
    /// ```
    pub fn discrete(name: &str, values: impl IntoIterator<Item = f64>) -> Self {
        ParamSpec {
            name: name.to_owned(),
            parameter_type: ParameterType::Discrete,
            feasible_space: FeasibleSpace {
                list: Some(
                    values
                        .into_iter()
                        .map(|v| ListItem::Number(Number::Float(v)))
                        .collect(),
                ),
                ..FeasibleSpace::default()
            },
            condition: None,
        }
    }

    /// One of a list of strings.
    ///
    /// ```
    /// let p = keelson_hpo::ParamSpec::categorical("optimizer", ["sgd", "adam"]);
    /// assert_eq!(p.parameter_type, keelson_hpo::ParameterType::Categorical);
    /// ```
    pub fn categorical<S: Into<String>>(name: &str, choices: impl IntoIterator<Item = S>) -> Self {
        ParamSpec {
            name: name.to_owned(),
            parameter_type: ParameterType::Categorical,
            feasible_space: FeasibleSpace {
                list: Some(
                    choices
                        .into_iter()
                        .map(|c| ListItem::Text(c.into()))
                        .collect(),
                ),
                ..FeasibleSpace::default()
            },
            condition: None,
        }
    }

    /// Sets the step (an integer for `int` parameters).
    ///
    /// ```
    /// let p = keelson_hpo::ParamSpec::double("momentum", 0.5, 0.9).step(0.1);
    /// assert!(p.feasible_space.step.is_some());
    /// ```
    pub fn step(mut self, step: f64) -> Self {
        self.feasible_space.step = Some(Number::Float(step));
        self
    }

    /// Sets the distribution.
    ///
    /// ```
    /// use keelson_hpo::{Distribution, ParamSpec};
    /// let p = ParamSpec::double("lr", 1e-5, 1e-1).distribution(Distribution::LogUniform);
    /// assert_eq!(p.feasible_space.distribution, Some(Distribution::LogUniform));
    /// ```
    pub fn distribution(mut self, distribution: Distribution) -> Self {
        self.feasible_space.distribution = Some(distribution);
        self
    }

    /// Makes the parameter active only while the categorical `parent` takes
    /// one of `values`.
    ///
    /// ```
    /// let p = keelson_hpo::ParamSpec::double("momentum", 0.5, 0.9).active_when("optimizer", ["sgd"]);
    /// assert_eq!(p.condition.unwrap().values, ["sgd"]);
    /// ```
    pub fn active_when<S: Into<String>>(
        mut self,
        parent: &str,
        values: impl IntoIterator<Item = S>,
    ) -> Self {
        self.condition = Some(Condition {
            parent: parent.to_owned(),
            values: values.into_iter().map(Into::into).collect(),
        });
        self
    }
}

/// A whole space document: `{"parameters": [...]}`.
///
/// ```
/// use keelson_hpo::{SearchSpace, SpaceSpec};
///
/// let spec: SpaceSpec = serde_json::from_str(r#"{"parameters": [
///     {"name": "x", "parameterType": "int", "feasibleSpace": {"min": "0", "max": "3"}}
/// ]}"#).unwrap();
/// let space = SearchSpace::try_from(spec)?;
/// assert_eq!(space.to_spec().parameters[0].name, "x");
/// # Ok::<(), keelson_hpo::Error>(())
/// ```
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SpaceSpec {
    /// The parameters, in order.
    pub parameters: Vec<ParamSpec>,
}

// ---------------------------------------------------------------------------
// Values and assignments.

/// The value of one parameter in an assignment.
///
/// It serializes tagged (`{"double": 0.1}`) so that a saved study reads back
/// exactly, `discrete` apart from `double`; [`Value`]'s `Display` gives the
/// plain text Katib puts in a trial's assignments.
///
/// ```
/// use keelson_hpo::Value;
///
/// assert_eq!(Value::Int(4).to_string(), "4");
/// assert_eq!(Value::Categorical("adam".into()).as_str(), Some("adam"));
/// assert_eq!(Value::Discrete(64.0).as_f64(), Some(64.0));
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Value {
    /// The value of a `double` parameter.
    Double(f64),
    /// The value of an `int` parameter.
    Int(i64),
    /// The value of a `discrete` parameter.
    Discrete(f64),
    /// The value of a `categorical` parameter.
    Categorical(String),
}

impl Value {
    /// The value as a number; `None` for a categorical value.
    ///
    /// ```
    /// assert_eq!(keelson_hpo::Value::Int(3).as_f64(), Some(3.0));
    /// ```
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Value::Double(x) | Value::Discrete(x) => Some(*x),
            Value::Int(i) => Some(*i as f64),
            Value::Categorical(_) => None,
        }
    }

    /// The value as an integer; only for `int` values.
    ///
    /// ```
    /// assert_eq!(keelson_hpo::Value::Int(3).as_i64(), Some(3));
    /// assert_eq!(keelson_hpo::Value::Double(3.0).as_i64(), None);
    /// ```
    pub fn as_i64(&self) -> Option<i64> {
        match self {
            Value::Int(i) => Some(*i),
            _ => None,
        }
    }

    /// The value as a string; only for categorical values.
    ///
    /// ```
    /// assert_eq!(keelson_hpo::Value::Double(1.0).as_str(), None);
    /// ```
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::Categorical(s) => Some(s),
            _ => None,
        }
    }

    fn kind_name(&self) -> &'static str {
        match self {
            Value::Double(_) => "double",
            Value::Int(_) => "int",
            Value::Discrete(_) => "discrete",
            Value::Categorical(_) => "categorical",
        }
    }
}

impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Double(x) | Value::Discrete(x) => write!(f, "{x}"),
            Value::Int(i) => write!(f, "{i}"),
            Value::Categorical(s) => f.write_str(s),
        }
    }
}

/// An assignment: the value of every active parameter, by name (ordered by
/// name). Inactive parameters are absent.
///
/// ```
/// use keelson_hpo::{Params, Value};
///
/// let mut p = Params::new();
/// p.insert("lr", Value::Double(0.01));
/// p.insert("optimizer", Value::Categorical("adam".into()));
/// assert_eq!(p.f64("lr")?, 0.01);
/// assert_eq!(p.str("optimizer")?, "adam");
/// assert!(p.f64("optimizer").is_err());
/// # Ok::<(), keelson_hpo::Error>(())
/// ```
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Params(BTreeMap<String, Value>);

impl Params {
    /// An empty assignment.
    ///
    /// ```
    /// assert!(keelson_hpo::Params::new().is_empty());
    /// ```
    pub fn new() -> Self {
        Params::default()
    }

    /// Sets a parameter's value, returning the previous one.
    ///
    /// ```
    /// let mut p = keelson_hpo::Params::new();
    /// assert!(p.insert("x", keelson_hpo::Value::Int(1)).is_none());
    /// ```
    pub fn insert(&mut self, name: impl Into<String>, value: Value) -> Option<Value> {
        self.0.insert(name.into(), value)
    }

    /// A parameter's value, if the parameter is active.
    ///
    /// ```
    /// let p = keelson_hpo::Params::new();
    /// assert!(p.get("x").is_none());
    /// ```
    pub fn get(&self, name: &str) -> Option<&Value> {
        self.0.get(name)
    }

    /// The (name, value) pairs in name order.
    ///
    /// ```
    /// let mut p = keelson_hpo::Params::new();
    /// p.insert("b", keelson_hpo::Value::Int(2));
    /// p.insert("a", keelson_hpo::Value::Int(1));
    /// assert_eq!(p.iter().map(|(n, _)| n).collect::<Vec<_>>(), ["a", "b"]);
    /// ```
    pub fn iter(&self) -> impl Iterator<Item = (&str, &Value)> {
        self.0.iter().map(|(k, v)| (k.as_str(), v))
    }

    /// How many parameters are set.
    ///
    /// ```
    /// assert_eq!(keelson_hpo::Params::new().len(), 0);
    /// ```
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether no parameter is set.
    ///
    /// ```
    /// assert!(keelson_hpo::Params::new().is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    fn required(&self, name: &str) -> Result<&Value> {
        self.0
            .get(name)
            .ok_or_else(|| Error::params(name, "is not set (unknown or inactive)"))
    }

    /// A numeric parameter's value (`double`, `int` or `discrete`); an error
    /// naming the parameter if it is absent or categorical.
    ///
    /// ```
    /// let mut p = keelson_hpo::Params::new();
    /// p.insert("n", keelson_hpo::Value::Int(3));
    /// assert_eq!(p.f64("n")?, 3.0);
    /// # Ok::<(), keelson_hpo::Error>(())
    /// ```
    pub fn f64(&self, name: &str) -> Result<f64> {
        let value = self.required(name)?;
        value
            .as_f64()
            .ok_or_else(|| Error::params(name, format!("is {}, not a number", value.kind_name())))
    }

    /// An `int` parameter's value; an error naming the parameter otherwise.
    ///
    /// ```
    /// let mut p = keelson_hpo::Params::new();
    /// p.insert("n", keelson_hpo::Value::Int(3));
    /// assert_eq!(p.i64("n")?, 3);
    /// # Ok::<(), keelson_hpo::Error>(())
    /// ```
    pub fn i64(&self, name: &str) -> Result<i64> {
        let value = self.required(name)?;
        value
            .as_i64()
            .ok_or_else(|| Error::params(name, format!("is {}, not int", value.kind_name())))
    }

    /// A `categorical` parameter's value; an error naming the parameter
    /// otherwise.
    ///
    /// ```
    /// let mut p = keelson_hpo::Params::new();
    /// p.insert("opt", keelson_hpo::Value::Categorical("adam".into()));
    /// assert_eq!(p.str("opt")?, "adam");
    /// # Ok::<(), keelson_hpo::Error>(())
    /// ```
    pub fn str(&self, name: &str) -> Result<&str> {
        let value = self.required(name)?;
        value.as_str().ok_or_else(|| {
            Error::params(name, format!("is {}, not categorical", value.kind_name()))
        })
    }
}

impl fmt::Display for Params {
    /// `name=value` pairs separated by `, `.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, (name, value)) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            write!(f, "{name}={value}")?;
        }
        Ok(())
    }
}

// ---------------------------------------------------------------------------
// The validated space.

/// A validated parameter's kind and bounds.
///
/// ```
/// use keelson_hpo::{ParamKind, ParamSpec, SearchSpace};
///
/// let space = SearchSpace::new([ParamSpec::int("layers", 1, 8)])?;
/// assert!(matches!(space.params()[0].kind(), ParamKind::Int { min: 1, max: 8, step: 1, .. }));
/// # Ok::<(), keelson_hpo::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq)]
pub enum ParamKind {
    /// A real number.
    Double {
        /// Lower bound, inclusive.
        min: f64,
        /// Upper bound, inclusive.
        max: f64,
        /// Spacing of the allowed values, if any.
        step: Option<f64>,
        /// The prior distribution.
        distribution: Distribution,
    },
    /// An integer.
    Int {
        /// Lower bound, inclusive.
        min: i64,
        /// Upper bound, inclusive.
        max: i64,
        /// Spacing of the allowed values (1 unless given).
        step: i64,
        /// The prior distribution.
        distribution: Distribution,
    },
    /// One of a list of numbers.
    Discrete {
        /// The allowed values, in the document's order, distinct.
        values: Vec<f64>,
    },
    /// One of a list of strings.
    Categorical {
        /// The allowed values, in the document's order, distinct.
        choices: Vec<String>,
    },
}

/// A validated parameter of a [`SearchSpace`].
///
/// ```
/// use keelson_hpo::{ParamSpec, SearchSpace, Value};
///
/// let space = SearchSpace::new([ParamSpec::double("x", 0.0, 10.0).step(2.5)])?;
/// let x = &space.params()[0];
/// assert_eq!(x.cardinality(), Some(5));
/// assert_eq!(x.decode(0.99)?, Value::Double(10.0));
/// assert_eq!(x.decode(x.encode(&Value::Double(5.0))?)?, Value::Double(5.0));
/// # Ok::<(), keelson_hpo::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct Param {
    name: String,
    kind: ParamKind,
    condition: Option<Condition>,
    axis: Option<Axis>,
}

/// The numbers allowed on a stepped or integer axis: `min + k * step` for
/// `k = 0..=n`.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Lattice {
    Double {
        min: f64,
        max: f64,
        step: f64,
        n: u64,
    },
    Int {
        min: i64,
        step: i64,
        n: u64,
    },
}

impl Lattice {
    fn n(self) -> u64 {
        match self {
            Lattice::Double { n, .. } | Lattice::Int { n, .. } => n,
        }
    }

    fn point(self, k: u64) -> f64 {
        match self {
            Lattice::Double { min, max, step, .. } => (min + k as f64 * step).min(max),
            Lattice::Int { min, step, .. } => {
                (i128::from(min) + i128::from(k) * i128::from(step)) as f64
            }
        }
    }

    /// The index of the point nearest to `x` (the lower one among equals).
    fn nearest(self, x: f64) -> u64 {
        let (min, step) = match self {
            Lattice::Double { min, step, .. } => (min, step),
            Lattice::Int { min, step, .. } => (min as f64, step as f64),
        };
        // `as` saturates (a NaN lands on 0); the neighbours settle rounding
        // and the last point, which `max` may have clipped.
        let guess = (((x - min) / step).round().max(0.0) as u64).min(self.n());
        [
            guess.saturating_sub(1),
            guess,
            guess.saturating_add(1).min(self.n()),
        ]
        .into_iter()
        .min_by(|&a, &b| {
            (self.point(a) - x)
                .abs()
                .total_cmp(&(self.point(b) - x).abs())
        })
        .unwrap_or(guess)
    }

    fn value(self, k: u64) -> Value {
        match self {
            Lattice::Double { .. } => Value::Double(self.point(k)),
            Lattice::Int { min, step, .. } => {
                let v = i128::from(min) + i128::from(k.min(self.n())) * i128::from(step);
                // In range by construction: k <= n and min + n * step <= max.
                Value::Int(i64::try_from(v).unwrap_or(i64::MAX))
            }
        }
    }
}

/// The truncated normal of a `normal` / `logNormal` axis, in the axis's
/// transformed coordinate.
#[derive(Clone, Copy, Debug, PartialEq)]
struct Truncated {
    mu: f64,
    sigma: f64,
    za: f64,
    zb: f64,
    pa: f64,
    pb: f64,
}

/// How a numeric parameter maps to and from its unit coordinate. `t` is the
/// value itself, or its logarithm for log distributions; the prior is
/// uniform or truncated-normal in `t` on `[lo, hi]`.
#[derive(Clone, Copy, Debug, PartialEq)]
struct Axis {
    log: bool,
    lo: f64,
    hi: f64,
    normal: Option<Truncated>,
    lattice: Option<Lattice>,
    /// Continuous values are clamped into `[min, max]` against rounding in exp/ln.
    min: f64,
    max: f64,
}

impl Axis {
    fn new(min: f64, max: f64, distribution: Distribution, lattice: Option<Lattice>) -> Axis {
        let log = distribution.is_log();
        let t = |x: f64| if log { x.ln() } else { x };
        let (lo, hi) = match lattice {
            Some(l) if l.n() > 0 => {
                let (t0, t1) = (t(l.point(0)), t(l.point(1)));
                let (tm, tn) = (t(l.point(l.n() - 1)), t(l.point(l.n())));
                (t0 - 0.5 * (t1 - t0), tn + 0.5 * (tn - tm))
            }
            _ => (t(min), t(max)),
        };
        let (a, b) = (t(min), t(max));
        let mu = 0.5 * (a + b);
        let sigma = (b - a) / 6.0;
        let (za, zb) = ((lo - mu) / sigma, (hi - mu) / sigma);
        let (pa, pb) = (normal::cdf(za), normal::cdf(zb));
        // A range so narrow that σ underflows is as good as a point: keep it uniform.
        let normal = (distribution.is_normal()
            && sigma.is_normal()
            && za.is_finite()
            && zb.is_finite()
            && pb > pa)
            .then_some(Truncated {
                mu,
                sigma,
                za,
                zb,
                pa,
                pb,
            });
        Axis {
            log,
            lo,
            hi,
            normal,
            lattice,
            min,
            max,
        }
    }

    fn t(&self, x: f64) -> f64 {
        if self.log { x.ln() } else { x }
    }

    fn cdf(&self, t: f64) -> f64 {
        let u = match self.normal {
            Some(n) => (normal::cdf((t - n.mu) / n.sigma) - n.pa) / (n.pb - n.pa),
            None if self.hi > self.lo => (t - self.lo) / (self.hi - self.lo),
            None => 0.5,
        };
        u.clamp(0.0, 1.0)
    }

    fn quantile(&self, u: f64) -> f64 {
        match self.normal {
            Some(n) => n.mu + n.sigma * normal::quantile_in(n.pa + u * (n.pb - n.pa), n.za, n.zb),
            None => self.lo + u * (self.hi - self.lo),
        }
    }

    /// The lattice index whose cell holds `t`: the largest k whose lower
    /// cell boundary, half way (in t) to point k - 1, is <= t.
    fn cell(&self, lattice: Lattice, t: f64) -> u64 {
        let (mut lo, mut hi) = (0_u64, lattice.n());
        while lo < hi {
            let mid = lo + (hi - lo).div_ceil(2);
            let boundary = 0.5 * (self.t(lattice.point(mid - 1)) + self.t(lattice.point(mid)));
            if boundary <= t {
                lo = mid;
            } else {
                hi = mid - 1;
            }
        }
        lo
    }

    fn decode(&self, u: f64) -> Value {
        let t = self.quantile(u);
        match self.lattice {
            Some(l) => l.value(self.cell(l, t)),
            None => {
                let x = if self.log { t.exp() } else { t };
                Value::Double(x.clamp(self.min, self.max))
            }
        }
    }
}

impl Param {
    /// The parameter's name.
    ///
    /// ```
    /// let space = keelson_hpo::SearchSpace::new([keelson_hpo::ParamSpec::int("n", 0, 1)])?;
    /// assert_eq!(space.params()[0].name(), "n");
    /// # Ok::<(), keelson_hpo::Error>(())
    /// ```
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The parameter's kind and bounds.
    ///
    /// ```
    /// use keelson_hpo::{ParamKind, ParamSpec, SearchSpace};
    /// let space = SearchSpace::new([ParamSpec::categorical("c", ["a", "b"])])?;
    /// assert!(matches!(space.params()[0].kind(), ParamKind::Categorical { .. }));
    /// # Ok::<(), keelson_hpo::Error>(())
    /// ```
    pub fn kind(&self) -> &ParamKind {
        &self.kind
    }

    /// When the parameter is active; `None` for always.
    ///
    /// ```
    /// use keelson_hpo::{ParamSpec, SearchSpace};
    /// let space = SearchSpace::new([
    ///     ParamSpec::categorical("opt", ["sgd", "adam"]),
    ///     ParamSpec::double("momentum", 0.0, 1.0).active_when("opt", ["sgd"]),
    /// ])?;
    /// assert_eq!(space.params()[1].condition().unwrap().parent, "opt");
    /// # Ok::<(), keelson_hpo::Error>(())
    /// ```
    pub fn condition(&self) -> Option<&Condition> {
        self.condition.as_ref()
    }

    /// How many distinct values the parameter can take: `None` for a
    /// continuous `double`.
    ///
    /// ```
    /// use keelson_hpo::{ParamSpec, SearchSpace};
    /// let space = SearchSpace::new([ParamSpec::int("n", 1, 10).step(3.0), ParamSpec::double("x", 0.0, 1.0)])?;
    /// assert_eq!(space.params()[0].cardinality(), Some(4)); // 1, 4, 7, 10
    /// assert_eq!(space.params()[1].cardinality(), None);
    /// # Ok::<(), keelson_hpo::Error>(())
    /// ```
    pub fn cardinality(&self) -> Option<u64> {
        match &self.kind {
            ParamKind::Discrete { values } => Some(values.len() as u64),
            ParamKind::Categorical { choices } => Some(choices.len() as u64),
            ParamKind::Double { min, max, .. } if min == max => Some(1),
            ParamKind::Double { .. } | ParamKind::Int { .. } => self
                .axis
                .and_then(|a| a.lattice)
                .map(|l| l.n().saturating_add(1)),
        }
    }

    /// The `k`-th of the parameter's distinct values in increasing order (in
    /// list order for `discrete` and `categorical`); `None` when `k` is out
    /// of range or the parameter is a continuous `double`.
    ///
    /// ```
    /// use keelson_hpo::{ParamSpec, SearchSpace, Value};
    /// let space = SearchSpace::new([ParamSpec::int("n", 1, 10).step(3.0)])?;
    /// assert_eq!(space.params()[0].nth_value(2), Some(Value::Int(7)));
    /// assert_eq!(space.params()[0].nth_value(4), None);
    /// # Ok::<(), keelson_hpo::Error>(())
    /// ```
    pub fn nth_value(&self, k: u64) -> Option<Value> {
        let index = usize::try_from(k).ok();
        match &self.kind {
            ParamKind::Discrete { values } => index
                .and_then(|i| values.get(i))
                .map(|v| Value::Discrete(*v)),
            ParamKind::Categorical { choices } => index
                .and_then(|i| choices.get(i))
                .map(|c| Value::Categorical(c.clone())),
            ParamKind::Double { min, max, .. } if min == max => {
                (k == 0).then_some(Value::Double(*min))
            }
            ParamKind::Double { .. } | ParamKind::Int { .. } => {
                let lattice = self.axis.and_then(|a| a.lattice)?;
                (k <= lattice.n()).then(|| lattice.value(k))
            }
        }
    }

    /// The parameter's value nearest to the number `x`: clamped into the
    /// bounds, on the step of an `int` or stepped `double`, the closest list
    /// entry of a `discrete` (the earliest in the list among equals). An
    /// error naming the parameter for a `categorical` one or a NaN `x`.
    ///
    /// ```
    /// use keelson_hpo::{ParamSpec, SearchSpace, Value};
    /// let space = SearchSpace::new([
    ///     ParamSpec::int("epochs", 1, 81),
    ///     ParamSpec::double("x", 0.0, 1.0).step(0.25),
    ///     ParamSpec::discrete("bs", [16.0, 64.0, 32.0]),
    /// ])?;
    /// let [epochs, x, bs] = space.params() else { unreachable!() };
    /// assert_eq!(epochs.nearest(3.4)?, Value::Int(3));
    /// assert_eq!(epochs.nearest(1000.0)?, Value::Int(81));
    /// assert_eq!(x.nearest(0.6)?, Value::Double(0.5));
    /// assert_eq!(bs.nearest(40.0)?, Value::Discrete(32.0));
    /// # Ok::<(), keelson_hpo::Error>(())
    /// ```
    pub fn nearest(&self, x: f64) -> Result<Value> {
        if x.is_nan() {
            return Err(Error::params(&self.name, "has no value nearest to NaN"));
        }
        let distance = |v: &f64| (v - x).abs();
        match &self.kind {
            ParamKind::Categorical { .. } => Err(Error::params(
                &self.name,
                "is categorical: no value is nearest to a number",
            )),
            ParamKind::Discrete { values } => values
                .iter()
                .min_by(|a, b| distance(a).total_cmp(&distance(b)))
                .map(|v| Value::Discrete(*v))
                .ok_or_else(|| Error::params(&self.name, "has an empty list")),
            ParamKind::Double { min, max, .. } if min == max => Ok(Value::Double(*min)),
            ParamKind::Int { min, max, .. } if min == max => Ok(Value::Int(*min)),
            ParamKind::Double {
                min,
                max,
                step: None,
                ..
            } => Ok(Value::Double(x.clamp(*min, *max))),
            ParamKind::Double { .. } | ParamKind::Int { .. } => {
                match self.axis.and_then(|a| a.lattice) {
                    Some(l) => Ok(l.value(l.nearest(x))),
                    None => Err(Error::params(&self.name, "has no numeric axis")),
                }
            }
        }
    }

    /// For an `int` or stepped `double` with at least two values: the index
    /// `k` (as in [`Param::nth_value`]) of the value whose cell holds unit
    /// coordinate `u` (clamped into `[0, 1]`), and that cell's bounds in
    /// unit coordinates. `None` for other parameters and NaN.
    pub(crate) fn lattice_cell(&self, u: f64) -> Option<(u64, f64, f64)> {
        let axis = self.axis?;
        let lattice = axis.lattice.filter(|l| l.n() > 0)?;
        if u.is_nan() {
            return None;
        }
        let k = axis.cell(lattice, axis.quantile(u.clamp(0.0, 1.0)));
        // The lower bound of cell j > 0, half way (in t) to value j - 1.
        let boundary =
            |j: u64| axis.cdf(0.5 * (axis.t(lattice.point(j - 1)) + axis.t(lattice.point(j))));
        let lo = if k == 0 { 0.0 } else { boundary(k) };
        let hi = if k >= lattice.n() {
            1.0
        } else {
            boundary(k + 1)
        };
        Some((k, lo, hi))
    }

    /// The value at unit coordinate `u` in `[0, 1]` (see the [module
    /// docs](self)); an error naming the parameter if `u` is NaN or outside.
    ///
    /// ```
    /// use keelson_hpo::{Distribution, ParamSpec, SearchSpace, Value};
    /// let space = SearchSpace::new([
    ///     ParamSpec::double("lr", 1e-4, 1e-2).distribution(Distribution::LogUniform),
    /// ])?;
    /// let Value::Double(mid) = space.params()[0].decode(0.5)? else { unreachable!() };
    /// assert!((mid - 1e-3).abs() < 1e-12); // the geometric middle
    /// assert!(space.params()[0].decode(1.5).is_err());
    /// # Ok::<(), keelson_hpo::Error>(())
    /// ```
    pub fn decode(&self, u: f64) -> Result<Value> {
        if !(0.0..=1.0).contains(&u) {
            return Err(Error::params(
                &self.name,
                format!("unit coordinate {u} is outside [0, 1]"),
            ));
        }
        let pick = |n: usize| ((u * n as f64) as usize).min(n.saturating_sub(1));
        let empty = || Error::params(&self.name, "has an empty list");
        Ok(match &self.kind {
            ParamKind::Discrete { values } => {
                Value::Discrete(*values.get(pick(values.len())).ok_or_else(empty)?)
            }
            ParamKind::Categorical { choices } => {
                Value::Categorical(choices.get(pick(choices.len())).ok_or_else(empty)?.clone())
            }
            ParamKind::Double { min, max, .. } if min == max => Value::Double(*min),
            ParamKind::Int { min, max, .. } if min == max => Value::Int(*min),
            ParamKind::Double { .. } | ParamKind::Int { .. } => match &self.axis {
                Some(axis) => axis.decode(u),
                None => return Err(Error::params(&self.name, "has no numeric axis")),
            },
        })
    }

    /// The unit coordinate of `value`, the inverse of [`Param::decode`]
    /// (for a `discrete`/`categorical` value, the middle of its slot); an
    /// error naming the parameter if the value does not belong to it.
    ///
    /// ```
    /// use keelson_hpo::{ParamSpec, SearchSpace, Value};
    /// let space = SearchSpace::new([ParamSpec::categorical("c", ["a", "b"])])?;
    /// assert_eq!(space.params()[0].encode(&Value::Categorical("b".into()))?, 0.75);
    /// # Ok::<(), keelson_hpo::Error>(())
    /// ```
    pub fn encode(&self, value: &Value) -> Result<f64> {
        self.check(value)?;
        let slot = |i: usize, n: usize| (i as f64 + 0.5) / n as f64;
        Ok(match (&self.kind, value) {
            (ParamKind::Discrete { values }, Value::Discrete(x)) => {
                let i = values.iter().position(|v| v == x).unwrap_or(0);
                slot(i, values.len())
            }
            (ParamKind::Categorical { choices }, Value::Categorical(c)) => {
                let i = choices.iter().position(|v| v == c).unwrap_or(0);
                slot(i, choices.len())
            }
            _ => match (&self.axis, value.as_f64()) {
                (Some(axis), Some(x)) => axis.cdf(axis.t(x)),
                _ => 0.5,
            },
        })
    }

    /// Checks that `value` is one of this parameter's values: the right kind,
    /// inside the bounds, on the step (within 1e-9 of a step), in the list.
    ///
    /// ```
    /// use keelson_hpo::{ParamSpec, SearchSpace, Value};
    /// let space = SearchSpace::new([ParamSpec::int("n", 0, 10).step(5.0)])?;
    /// assert!(space.params()[0].check(&Value::Int(5)).is_ok());
    /// assert!(space.params()[0].check(&Value::Int(3)).is_err());
    /// assert!(space.params()[0].check(&Value::Double(5.0)).is_err());
    /// # Ok::<(), keelson_hpo::Error>(())
    /// ```
    pub fn check(&self, value: &Value) -> Result<()> {
        let bad = |reason: String| Err(Error::params(&self.name, reason));
        match (&self.kind, value) {
            (ParamKind::Double { min, max, step, .. }, Value::Double(x)) => {
                if !(x >= min && x <= max) {
                    return bad(format!("{x} is outside [{min}, {max}]"));
                }
                if let Some(step) = step {
                    let k = ((x - min) / step).round();
                    let on_grid = (min + k * step).min(*max);
                    if (x - on_grid).abs() > 1e-9 * step {
                        return bad(format!(
                            "{x} is not min {min} plus a multiple of step {step}"
                        ));
                    }
                }
                Ok(())
            }
            (ParamKind::Int { min, max, step, .. }, Value::Int(x)) => {
                if x < min || x > max {
                    return bad(format!("{x} is outside [{min}, {max}]"));
                }
                if (i128::from(*x) - i128::from(*min)) % i128::from(*step) != 0 {
                    return bad(format!(
                        "{x} is not min {min} plus a multiple of step {step}"
                    ));
                }
                Ok(())
            }
            (ParamKind::Discrete { values }, Value::Discrete(x)) => {
                if values.contains(x) {
                    Ok(())
                } else {
                    bad(format!("{x} is not in the list"))
                }
            }
            (ParamKind::Categorical { choices }, Value::Categorical(c)) => {
                if choices.contains(c) {
                    Ok(())
                } else {
                    bad(format!("{c:?} is not in the list"))
                }
            }
            (kind, value) => bad(format!(
                "a {} value cannot be assigned to a {} parameter",
                value.kind_name(),
                kind_name(kind)
            )),
        }
    }

    fn is_active(&self, params: &Params) -> bool {
        match &self.condition {
            None => true,
            Some(c) => {
                matches!(params.get(&c.parent), Some(Value::Categorical(v)) if c.values.contains(v))
            }
        }
    }

    fn to_spec(&self) -> ParamSpec {
        let mut fs = FeasibleSpace::default();
        let distribution = |d: Distribution| (d != Distribution::Uniform).then_some(d);
        let parameter_type = match &self.kind {
            ParamKind::Double {
                min,
                max,
                step,
                distribution: d,
            } => {
                fs.min = Some(Number::Float(*min));
                fs.max = Some(Number::Float(*max));
                fs.step = step.map(Number::Float);
                fs.distribution = distribution(*d);
                ParameterType::Double
            }
            ParamKind::Int {
                min,
                max,
                step,
                distribution: d,
            } => {
                fs.min = Some(Number::Int(*min));
                fs.max = Some(Number::Int(*max));
                fs.step = (*step != 1).then_some(Number::Int(*step));
                fs.distribution = distribution(*d);
                ParameterType::Int
            }
            ParamKind::Discrete { values } => {
                fs.list = Some(
                    values
                        .iter()
                        .map(|v| ListItem::Number(Number::Float(*v)))
                        .collect(),
                );
                ParameterType::Discrete
            }
            ParamKind::Categorical { choices } => {
                fs.list = Some(choices.iter().map(|c| ListItem::Text(c.clone())).collect());
                ParameterType::Categorical
            }
        };
        ParamSpec {
            name: self.name.clone(),
            parameter_type,
            feasible_space: fs,
            condition: self.condition.clone(),
        }
    }
}

fn kind_name(kind: &ParamKind) -> &'static str {
    match kind {
        ParamKind::Double { .. } => "double",
        ParamKind::Int { .. } => "int",
        ParamKind::Discrete { .. } => "discrete",
        ParamKind::Categorical { .. } => "categorical",
    }
}

/// A validated search space: parameters with unique names, sound bounds and
/// conditions that form no cycle.
///
/// It serializes as its [`SpaceSpec`] document and validates when
/// deserialized, so a space read from any serde format is a valid one.
///
/// ```
/// use keelson_hpo::SearchSpace;
///
/// let space = SearchSpace::from_yaml(r#"
/// parameters:
///   - {name: lr, parameterType: double, feasibleSpace: {min: "0.0001", max: "0.1", distribution: logUniform}}
///   - {name: optimizer, parameterType: categorical, feasibleSpace: {list: [sgd, adam]}}
///   - name: momentum
///     parameterType: double
///     feasibleSpace: {min: 0.5, max: 0.99}
///     condition: {parent: optimizer, values: [sgd]}
/// "#)?;
/// let params = space.decode(&[0.5, 0.9, 0.1])?; // 0.9 picks "adam": no momentum
/// assert_eq!(params.str("optimizer")?, "adam");
/// assert!(params.get("momentum").is_none());
///
/// let err = SearchSpace::from_json(r#"{"parameters": [
///   {"name": "x", "parameterType": "double", "feasibleSpace": {"min": 2, "max": 1}}
/// ]}"#).unwrap_err();
/// assert_eq!(err.to_string(), r#"parameter "x": min 2 is greater than max 1"#);
/// # Ok::<(), keelson_hpo::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "SpaceSpec", into = "SpaceSpec")]
pub struct SearchSpace {
    params: Vec<Param>,
    /// Indices into `params`, parents before their children.
    order: Vec<usize>,
}

impl SearchSpace {
    /// Validates parameter specs into a space; an error names the first
    /// offending parameter.
    ///
    /// ```
    /// use keelson_hpo::{ParamSpec, SearchSpace};
    /// let err = SearchSpace::new([ParamSpec::int("n", 0, 3), ParamSpec::int("n", 0, 5)]).unwrap_err();
    /// assert!(err.to_string().contains("duplicate"));
    /// ```
    pub fn new(specs: impl IntoIterator<Item = ParamSpec>) -> Result<SearchSpace> {
        let specs: Vec<ParamSpec> = specs.into_iter().collect();
        if specs.is_empty() {
            return Err(Error::space("parameters", "the space has no parameters"));
        }
        let mut params: Vec<Param> = Vec::with_capacity(specs.len());
        for spec in &specs {
            if params.iter().any(|p| p.name == spec.name) {
                return Err(Error::space(&spec.name, "duplicate parameter name"));
            }
            params.push(validate_param(spec)?);
        }
        for param in &params {
            if let Some(c) = &param.condition {
                check_condition(param, c, &params)?;
            }
        }
        let order = topological_order(&params)?;
        Ok(SearchSpace { params, order })
    }

    /// Parses and validates a JSON space document.
    ///
    /// ```
    /// let space = keelson_hpo::SearchSpace::from_json(
    ///     r#"{"parameters": [{"name": "c", "parameterType": "categorical", "feasibleSpace": {"list": ["a"]}}]}"#,
    /// )?;
    /// assert_eq!(space.dims(), 1);
    /// # Ok::<(), keelson_hpo::Error>(())
    /// ```
    pub fn from_json(text: &str) -> Result<SearchSpace> {
        let spec: SpaceSpec = serde_json::from_str(text).map_err(|e| Error::Parse {
            format: "JSON",
            message: e.to_string(),
        })?;
        SearchSpace::try_from(spec)
    }

    /// Parses and validates a YAML space document.
    ///
    /// ```
    /// let err = keelson_hpo::SearchSpace::from_yaml("parameters: [{name: x, parameterType: int, feasibleSpace: {min: 0, mx: 3}}]")
    ///     .unwrap_err();
    /// assert!(err.to_string().contains("unknown field `mx`"));
    /// ```
    pub fn from_yaml(text: &str) -> Result<SearchSpace> {
        let spec: SpaceSpec = serde_yaml_ng::from_str(text).map_err(|e| Error::Parse {
            format: "YAML",
            message: e.to_string(),
        })?;
        SearchSpace::try_from(spec)
    }

    /// The space as a document, ready to serialize.
    ///
    /// ```
    /// use keelson_hpo::{ParamSpec, SearchSpace};
    /// let space = SearchSpace::new([ParamSpec::int("n", 0, 3)])?;
    /// assert_eq!(SearchSpace::try_from(space.to_spec())?, space);
    /// # Ok::<(), keelson_hpo::Error>(())
    /// ```
    pub fn to_spec(&self) -> SpaceSpec {
        SpaceSpec {
            parameters: self.params.iter().map(Param::to_spec).collect(),
        }
    }

    /// The parameters in declaration order; parameter `i` owns coordinate `i`
    /// of the unit cube.
    ///
    /// ```
    /// use keelson_hpo::{ParamSpec, SearchSpace};
    /// let space = SearchSpace::new([ParamSpec::int("b", 0, 1), ParamSpec::int("a", 0, 1)])?;
    /// assert_eq!(space.params()[0].name(), "b");
    /// # Ok::<(), keelson_hpo::Error>(())
    /// ```
    pub fn params(&self) -> &[Param] {
        &self.params
    }

    /// A parameter by name.
    ///
    /// ```
    /// use keelson_hpo::{ParamSpec, SearchSpace};
    /// let space = SearchSpace::new([ParamSpec::int("n", 0, 1)])?;
    /// assert!(space.param("n").is_some() && space.param("m").is_none());
    /// # Ok::<(), keelson_hpo::Error>(())
    /// ```
    pub fn param(&self, name: &str) -> Option<&Param> {
        self.params.iter().find(|p| p.name == name)
    }

    /// The number of parameters, active or not: the unit cube's dimension.
    ///
    /// ```
    /// use keelson_hpo::{ParamSpec, SearchSpace};
    /// assert_eq!(SearchSpace::new([ParamSpec::int("n", 0, 1)])?.dims(), 1);
    /// # Ok::<(), keelson_hpo::Error>(())
    /// ```
    pub fn dims(&self) -> usize {
        self.params.len()
    }

    /// Parameter indices with every condition's parent before the parameter.
    pub(crate) fn order(&self) -> &[usize] {
        &self.order
    }

    /// The assignment at a point of the unit cube (one coordinate per
    /// parameter, see the [module docs](self)); inactive parameters are left
    /// out. An error if the point has the wrong length or a coordinate is
    /// outside `[0, 1]`.
    ///
    /// ```
    /// use keelson_hpo::{ParamSpec, SearchSpace};
    /// let space = SearchSpace::new([ParamSpec::int("n", 1, 4), ParamSpec::discrete("bs", [16.0, 32.0])])?;
    /// let p = space.decode(&[0.0, 0.99])?;
    /// assert_eq!((p.i64("n")?, p.f64("bs")?), (1, 32.0));
    /// assert!(space.decode(&[0.5]).is_err());
    /// # Ok::<(), keelson_hpo::Error>(())
    /// ```
    pub fn decode(&self, point: &[f64]) -> Result<Params> {
        if point.len() != self.params.len() {
            return Err(Error::params(
                "parameters",
                format!(
                    "a point of the unit cube needs {} coordinates, got {}",
                    self.params.len(),
                    point.len()
                ),
            ));
        }
        let mut params = Params::new();
        for &i in &self.order {
            let (Some(param), Some(&u)) = (self.params.get(i), point.get(i)) else {
                continue;
            };
            if param.is_active(&params) {
                params.insert(param.name.clone(), param.decode(u)?);
            }
        }
        Ok(params)
    }

    /// The unit-cube coordinates of an assignment (`None` for inactive
    /// parameters), after checking it with [`SearchSpace::check`].
    ///
    /// ```
    /// use keelson_hpo::{ParamSpec, SearchSpace};
    /// let space = SearchSpace::new([ParamSpec::double("x", 0.0, 4.0)])?;
    /// let p = space.decode(&[0.25])?;
    /// assert_eq!(p.f64("x")?, 1.0);
    /// assert_eq!(space.encode(&p)?, [Some(0.25)]);
    /// # Ok::<(), keelson_hpo::Error>(())
    /// ```
    pub fn encode(&self, params: &Params) -> Result<Vec<Option<f64>>> {
        self.check(params)?;
        self.params
            .iter()
            .map(|p| params.get(&p.name).map(|v| p.encode(v)).transpose())
            .collect()
    }

    /// Checks an assignment against the space: every active parameter set to
    /// one of its values, no inactive or unknown parameter set. The error
    /// names the first offending parameter.
    ///
    /// ```
    /// use keelson_hpo::{ParamSpec, Params, SearchSpace, Value};
    /// let space = SearchSpace::new([
    ///     ParamSpec::categorical("opt", ["sgd", "adam"]),
    ///     ParamSpec::double("momentum", 0.0, 1.0).active_when("opt", ["sgd"]),
    /// ])?;
    /// let mut p = Params::new();
    /// p.insert("opt", Value::Categorical("adam".into()));
    /// assert!(space.check(&p).is_ok());
    /// p.insert("momentum", Value::Double(0.5));
    /// assert!(space.check(&p).unwrap_err().to_string().contains("inactive"));
    /// # Ok::<(), keelson_hpo::Error>(())
    /// ```
    pub fn check(&self, params: &Params) -> Result<()> {
        for (name, _) in params.iter() {
            if self.param(name).is_none() {
                return Err(Error::params(name, "is not a parameter of the space"));
            }
        }
        let mut seen = Params::new();
        for &i in &self.order {
            let Some(param) = self.params.get(i) else {
                continue;
            };
            let active = param.is_active(&seen);
            match (active, params.get(&param.name)) {
                (true, Some(value)) => {
                    param.check(value)?;
                    seen.insert(param.name.clone(), value.clone());
                }
                (true, None) => return Err(Error::params(&param.name, "is active but not set")),
                (false, Some(_)) => {
                    return Err(Error::params(
                        &param.name,
                        "is set but inactive (its condition does not hold)",
                    ));
                }
                (false, None) => {}
            }
        }
        Ok(())
    }
}

impl TryFrom<SpaceSpec> for SearchSpace {
    type Error = Error;

    fn try_from(spec: SpaceSpec) -> Result<SearchSpace> {
        SearchSpace::new(spec.parameters)
    }
}

impl From<SearchSpace> for SpaceSpec {
    fn from(space: SearchSpace) -> SpaceSpec {
        space.to_spec()
    }
}

// ---------------------------------------------------------------------------
// Validation.

fn validate_param(spec: &ParamSpec) -> Result<Param> {
    let name = spec.name.as_str();
    if name.is_empty() {
        return Err(Error::space(name, "the name is empty"));
    }
    let fs = &spec.feasible_space;
    let (kind, axis) = match spec.parameter_type {
        ParameterType::Double => validate_double(name, fs)?,
        ParameterType::Int => validate_int(name, fs)?,
        ParameterType::Discrete => {
            reject_bounds(name, fs, "discrete")?;
            let items = list(name, fs)?;
            let mut values = Vec::with_capacity(items.len());
            for item in items {
                let v = item.as_number().filter(|v| v.is_finite()).ok_or_else(|| {
                    Error::space(
                        name,
                        format!("list entry {:?} is not a finite number", item.as_text()),
                    )
                })?;
                if values.contains(&v) {
                    return Err(Error::space(name, format!("list entry {v} appears twice")));
                }
                values.push(v);
            }
            (ParamKind::Discrete { values }, None)
        }
        ParameterType::Categorical => {
            reject_bounds(name, fs, "categorical")?;
            let items = list(name, fs)?;
            let mut choices: Vec<String> = Vec::with_capacity(items.len());
            for item in items {
                let c = item.as_text();
                if choices.contains(&c) {
                    return Err(Error::space(
                        name,
                        format!("list entry {c:?} appears twice"),
                    ));
                }
                choices.push(c);
            }
            (ParamKind::Categorical { choices }, None)
        }
    };
    Ok(Param {
        name: name.to_owned(),
        kind,
        condition: spec.condition.clone(),
        axis,
    })
}

fn list<'a>(name: &str, fs: &'a FeasibleSpace) -> Result<&'a [ListItem]> {
    match fs.list.as_deref() {
        None => Err(Error::space(name, "feasibleSpace.list is required")),
        Some([]) => Err(Error::space(name, "feasibleSpace.list is empty")),
        Some(items) => Ok(items),
    }
}

fn reject_bounds(name: &str, fs: &FeasibleSpace, kind: &str) -> Result<()> {
    let present = [
        ("min", fs.min.is_some()),
        ("max", fs.max.is_some()),
        ("step", fs.step.is_some()),
        ("distribution", fs.distribution.is_some()),
    ];
    match present.iter().find(|(_, set)| *set) {
        Some((field, _)) => Err(Error::space(
            name,
            format!("feasibleSpace.{field} is not allowed for a {kind} parameter (use list)"),
        )),
        None => Ok(()),
    }
}

fn bound(name: &str, value: Option<Number>, field: &str) -> Result<Number> {
    value.ok_or_else(|| Error::space(name, format!("feasibleSpace.{field} is required")))
}

fn check_log_and_order(name: &str, min: f64, max: f64, distribution: Distribution) -> Result<()> {
    if min > max {
        return Err(Error::space(
            name,
            format!("min {min} is greater than max {max}"),
        ));
    }
    if distribution.is_log() && min <= 0.0 {
        return Err(Error::space(
            name,
            format!(
                "{distribution:?} needs min > 0, got min {min} (the log of a non-positive bound)"
            ),
        ));
    }
    Ok(())
}

fn validate_double(name: &str, fs: &FeasibleSpace) -> Result<(ParamKind, Option<Axis>)> {
    if fs.list.is_some() {
        return Err(Error::space(
            name,
            "feasibleSpace.list is not allowed for a double parameter",
        ));
    }
    let min = bound(name, fs.min, "min")?.as_f64();
    let max = bound(name, fs.max, "max")?.as_f64();
    if !(max - min).is_finite() {
        return Err(Error::space(
            name,
            format!("bounds must be finite and max - min too, got [{min}, {max}]"),
        ));
    }
    let distribution = fs.distribution.unwrap_or_default();
    check_log_and_order(name, min, max, distribution)?;
    let step = match fs.step.map(Number::as_f64) {
        None => None,
        Some(step) => {
            if !(step.is_finite() && step > 0.0) {
                return Err(Error::space(
                    name,
                    format!("step must be a positive number, got {step}"),
                ));
            }
            // The slack forgives a step computed as (max - min) / k and rounded up.
            if max > min && step > (max - min) * (1.0 + 1e-9) {
                return Err(Error::space(
                    name,
                    format!(
                        "step {step} does not fit in [{min}, {max}] (it is wider than the range)"
                    ),
                ));
            }
            // Below this, min + k * step rounds onto a neighbouring k.
            if step < min.abs().max(max.abs()) * MIN_RELATIVE_STEP {
                return Err(Error::space(
                    name,
                    format!("step {step} is below the precision of the bounds [{min}, {max}]"),
                ));
            }
            Some(step)
        }
    };
    let lattice = match step {
        Some(step) if max > min => {
            // The tolerance keeps max on the grid when (max - min) / step is an
            // integer up to rounding, e.g. [0, 1] with step 0.1.
            // At most 2^41 by the precision check above, so it fits u64 exactly.
            let n = ((max - min) / step + 1e-9).floor();
            Some(Lattice::Double {
                min,
                max,
                step,
                n: n as u64,
            })
        }
        _ => None,
    };
    let axis = (max > min).then(|| Axis::new(min, max, distribution, lattice));
    Ok((
        ParamKind::Double {
            min,
            max,
            step,
            distribution,
        },
        axis,
    ))
}

fn validate_int(name: &str, fs: &FeasibleSpace) -> Result<(ParamKind, Option<Axis>)> {
    if fs.list.is_some() {
        return Err(Error::space(
            name,
            "feasibleSpace.list is not allowed for an int parameter",
        ));
    }
    let integer = |field: &str, n: Number| {
        n.as_i64()
            .ok_or_else(|| Error::space(name, format!("{field} {n} is not an integer")))
    };
    let min = integer("min", bound(name, fs.min, "min")?)?;
    let max = integer("max", bound(name, fs.max, "max")?)?;
    let distribution = fs.distribution.unwrap_or_default();
    check_log_and_order(name, min as f64, max as f64, distribution)?;
    let step = match fs.step {
        None => 1,
        Some(n) => {
            let step = integer("step", n)?;
            if step < 1 {
                return Err(Error::space(
                    name,
                    format!("step must be a positive integer, got {step}"),
                ));
            }
            step
        }
    };
    let range = i128::from(max) - i128::from(min);
    if range > 0 && i128::from(step) > range {
        return Err(Error::space(
            name,
            format!("step {step} does not fit in [{min}, {max}] (it is wider than the range)"),
        ));
    }
    let n = u64::try_from(range / i128::from(step))
        .map_err(|_| Error::space(name, "the range is too wide"))?;
    let axis = Some(Axis::new(
        min as f64,
        max as f64,
        distribution,
        Some(Lattice::Int { min, step, n }),
    ));
    Ok((
        ParamKind::Int {
            min,
            max,
            step,
            distribution,
        },
        axis,
    ))
}

fn check_condition(param: &Param, condition: &Condition, params: &[Param]) -> Result<()> {
    let name = &param.name;
    if condition.parent == *name {
        return Err(Error::space(
            name,
            "the condition's parent is the parameter itself",
        ));
    }
    let parent = params
        .iter()
        .find(|p| p.name == condition.parent)
        .ok_or_else(|| {
            Error::space(
                name,
                format!(
                    "the condition's parent {:?} is not a parameter",
                    condition.parent
                ),
            )
        })?;
    let ParamKind::Categorical { choices } = &parent.kind else {
        return Err(Error::space(
            name,
            format!(
                "the condition's parent {:?} is not categorical",
                condition.parent
            ),
        ));
    };
    if condition.values.is_empty() {
        return Err(Error::space(name, "the condition's values are empty"));
    }
    if let Some(v) = condition.values.iter().find(|v| !choices.contains(v)) {
        return Err(Error::space(
            name,
            format!(
                "the condition's value {v:?} is not in the list of {:?}",
                condition.parent
            ),
        ));
    }
    Ok(())
}

/// Parents before children, otherwise declaration order; an error naming a
/// parameter on a cycle.
fn topological_order(params: &[Param]) -> Result<Vec<usize>> {
    let parent_of: Vec<Option<usize>> = params
        .iter()
        .map(|p| {
            p.condition
                .as_ref()
                .and_then(|c| params.iter().position(|q| q.name == c.parent))
        })
        .collect();
    let mut placed = vec![false; params.len()];
    let mut order = Vec::with_capacity(params.len());
    loop {
        let before = order.len();
        for (i, parent) in parent_of.iter().enumerate() {
            let ready = parent.is_none_or(|p| placed.get(p).copied().unwrap_or(false));
            if !placed.get(i).copied().unwrap_or(true) && ready {
                if let Some(slot) = placed.get_mut(i) {
                    *slot = true;
                }
                order.push(i);
            }
        }
        if order.len() == params.len() {
            return Ok(order);
        }
        if order.len() == before {
            let stuck = placed.iter().position(|done| !done).unwrap_or(0);
            let mut cycle = vec![params.get(stuck).map_or("", |p| p.name.as_str())];
            let mut at = parent_of.get(stuck).copied().flatten();
            while let Some(p) = at {
                let name = params.get(p).map_or("", |p| p.name.as_str());
                if cycle.contains(&name) {
                    cycle.push(name);
                    break;
                }
                cycle.push(name);
                at = parent_of.get(p).copied().flatten();
            }
            return Err(Error::space(
                cycle.first().copied().unwrap_or(""),
                format!("conditions form a cycle: {}", cycle.join(" -> ")),
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn space(specs: impl IntoIterator<Item = ParamSpec>) -> SearchSpace {
        match SearchSpace::new(specs) {
            Ok(s) => s,
            Err(e) => panic!("{e}"),
        }
    }

    #[test]
    fn lattice_cells_give_every_value_a_full_share() {
        let s = space([ParamSpec::int("n", 0, 3)]);
        let p = &s.params()[0];
        let picks: Vec<_> = [0.0, 0.24, 0.26, 0.49, 0.51, 0.74, 0.76, 1.0]
            .iter()
            .map(|&u| p.decode(u).ok().and_then(|v| v.as_i64()))
            .collect();
        assert_eq!(
            picks,
            [0, 0, 1, 1, 2, 2, 3, 3].map(Some),
            "uniform ints split [0, 1] into equal cells"
        );
    }

    #[test]
    fn log_lattice_round_trips() {
        let s = space([ParamSpec::int("n", 1, 1000).distribution(Distribution::LogUniform)]);
        let p = &s.params()[0];
        for k in [1, 2, 3, 10, 999, 1000] {
            let u = p.encode(&Value::Int(k)).ok();
            assert_eq!(u.and_then(|u| p.decode(u).ok()), Some(Value::Int(k)));
        }
    }

    #[test]
    fn normal_is_truncated_and_centred() {
        let s = space([ParamSpec::double("x", -3.0, 3.0).distribution(Distribution::Normal)]);
        let p = &s.params()[0];
        let at = |u: f64| {
            p.decode(u)
                .ok()
                .and_then(|v| v.as_f64())
                .unwrap_or(f64::NAN)
        };
        assert!(at(0.5).abs() < 1e-12);
        assert!((at(0.0) + 3.0).abs() < 1e-9 && (at(1.0) - 3.0).abs() < 1e-9);
        // σ = 1 here, so the CDF at 1 is Φ(1) renormalized to ±3σ.
        let u = p.encode(&Value::Double(1.0)).unwrap_or(f64::NAN);
        let expected =
            (normal::cdf(1.0) - normal::cdf(-3.0)) / (normal::cdf(3.0) - normal::cdf(-3.0));
        assert!((u - expected).abs() < 1e-14);
    }

    #[test]
    fn cycles_are_named() {
        let err = SearchSpace::new([
            ParamSpec::categorical("a", ["x", "y"]).active_when("b", ["x"]),
            ParamSpec::categorical("b", ["x", "y"]).active_when("a", ["x"]),
        ])
        .err()
        .map(|e| e.to_string());
        assert_eq!(
            err.as_deref(),
            Some(r#"parameter "a": conditions form a cycle: a -> b -> a"#)
        );
    }
}
