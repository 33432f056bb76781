//! Open string enums: the Rust enum for an upstream `enum:` list of strings.
//!
//! Upstream projects add enum values between releases. A closed Rust enum would make a
//! manifest written for a newer upstream release fail to parse, so every enum generated
//! from a schema carries an `Other(String)` variant that keeps an unknown value
//! verbatim: reading and writing back never changes it, and the schema still lists only
//! the values upstream documents, so validation reports it.

/// Declares an open string enum with serde, schemars and `Display` implementations.
macro_rules! string_enum {
    (
        $(#[$meta:meta])*
        $vis:vis enum $name:ident {
            $( $(#[$vmeta:meta])* $variant:ident = $value:literal, )*
        }
    ) => {
        $(#[$meta])*
        #[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        $vis enum $name {
            $( $(#[$vmeta])* $variant, )*
            /// A value not listed by the upstream schema this type was generated from,
            /// kept verbatim so that a round trip never changes it.
            Other(String),
        }

        impl $name {
            /// The values the upstream schema lists, in its order.
            pub const VALUES: &'static [&'static str] = &[$($value),*];

            /// The wire form of this value.
            pub fn as_str(&self) -> &str {
                match self {
                    $( Self::$variant => $value, )*
                    Self::Other(other) => other.as_str(),
                }
            }
        }

        /// The empty [`Other`](Self::Other) value: what a required field the
        /// input left out reads as, so that reading never fails on it.
        impl ::core::default::Default for $name {
            fn default() -> Self {
                Self::Other(String::new())
            }
        }

        impl ::core::convert::From<&str> for $name {
            fn from(value: &str) -> Self {
                match value {
                    $( $value => Self::$variant, )*
                    other => Self::Other(other.to_owned()),
                }
            }
        }

        impl ::core::fmt::Display for $name {
            fn fmt(&self, f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl ::serde::Serialize for $name {
            fn serialize<S: ::serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(self.as_str())
            }
        }

        impl<'de> ::serde::Deserialize<'de> for $name {
            fn deserialize<D: ::serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                struct Visitor;
                impl ::serde::de::Visitor<'_> for Visitor {
                    type Value = $name;
                    fn expecting(&self, f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
                        write!(f, "one of {:?}", $name::VALUES)
                    }
                    fn visit_str<E: ::serde::de::Error>(self, value: &str) -> Result<$name, E> {
                        Ok($name::from(value))
                    }
                }
                deserializer.deserialize_str(Visitor)
            }
        }

        impl ::schemars::JsonSchema for $name {
            fn schema_name() -> ::std::borrow::Cow<'static, str> {
                ::std::borrow::Cow::Borrowed(stringify!($name))
            }
            fn inline_schema() -> bool {
                true
            }
            fn json_schema(_: &mut ::schemars::SchemaGenerator) -> ::schemars::Schema {
                ::schemars::json_schema!({ "type": "string", "enum": [$($value),*] })
            }
        }
    };
}

pub(crate) use string_enum;
