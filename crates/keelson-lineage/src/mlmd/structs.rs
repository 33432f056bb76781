//! Decoding MLMD's struct property values: `mlmd-struct::` followed by the
//! base64 of a serialized `google.protobuf.Struct`, read into JSON with a
//! small protobuf wire-format reader (only `Struct`, `Value` and
//! `ListValue` are ever stored there).

use base64::Engine as _;
use serde_json::{Map, Value as Json};

/// The prefix MLMD's SQLite backend writes before a struct value.
pub(crate) const PREFIX: &str = "mlmd-struct::";

/// How deep structs and lists may nest: the decoder recurses.
const MAX_DEPTH: usize = 64;

/// Decodes the text after [`PREFIX`] into a JSON object.
pub(crate) fn decode(encoded: &str) -> Result<Json, String> {
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .map_err(|e| format!("struct value is not base64: {e}"))?;
    decode_struct(&bytes, 0)
}

struct Wire<'a> {
    bytes: &'a [u8],
    pos: usize,
}

enum Field<'a> {
    Varint(u64),
    Fixed64(u64),
    Bytes(&'a [u8]),
    Fixed32,
}

impl<'a> Wire<'a> {
    fn new(bytes: &'a [u8]) -> Self {
        Wire { bytes, pos: 0 }
    }

    fn varint(&mut self) -> Result<u64, String> {
        let mut value = 0u64;
        for shift in (0..64).step_by(7) {
            let byte = *self
                .bytes
                .get(self.pos)
                .ok_or("struct value: truncated varint")?;
            self.pos += 1;
            value |= u64::from(byte & 0x7f) << shift;
            if byte & 0x80 == 0 {
                return Ok(value);
            }
        }
        Err("struct value: varint longer than 10 bytes".to_owned())
    }

    fn take(&mut self, n: usize) -> Result<&'a [u8], String> {
        let end = self
            .pos
            .checked_add(n)
            .ok_or("struct value: length overflow")?;
        let slice = self
            .bytes
            .get(self.pos..end)
            .ok_or("struct value: truncated field")?;
        self.pos = end;
        Ok(slice)
    }

    /// The next field number and its payload, or `None` at the end.
    fn next(&mut self) -> Result<Option<(u64, Field<'a>)>, String> {
        if self.pos >= self.bytes.len() {
            return Ok(None);
        }
        let key = self.varint()?;
        let field = match key & 7 {
            0 => Field::Varint(self.varint()?),
            1 => {
                let raw = self.take(8)?;
                let mut array = [0u8; 8];
                array.copy_from_slice(raw);
                Field::Fixed64(u64::from_le_bytes(array))
            }
            2 => {
                let len = usize::try_from(self.varint()?)
                    .map_err(|_| "struct value: length overflow".to_owned())?;
                Field::Bytes(self.take(len)?)
            }
            5 => {
                self.take(4)?;
                Field::Fixed32
            }
            other => return Err(format!("struct value: unsupported wire type {other}")),
        };
        Ok(Some((key >> 3, field)))
    }
}

fn text(bytes: &[u8]) -> Result<String, String> {
    String::from_utf8(bytes.to_vec()).map_err(|_| "struct value: a string is not UTF-8".to_owned())
}

fn decode_struct(bytes: &[u8], depth: usize) -> Result<Json, String> {
    if depth > MAX_DEPTH {
        return Err(format!("struct value nests deeper than {MAX_DEPTH} levels"));
    }
    let mut map = Map::new();
    let mut wire = Wire::new(bytes);
    while let Some((number, field)) = wire.next()? {
        let (1, Field::Bytes(entry)) = (number, field) else {
            continue;
        };
        let mut key = String::new();
        let mut value = Json::Null;
        let mut entry = Wire::new(entry);
        while let Some((number, field)) = entry.next()? {
            match (number, field) {
                (1, Field::Bytes(k)) => key = text(k)?,
                (2, Field::Bytes(v)) => value = decode_value(v, depth + 1)?,
                _ => {}
            }
        }
        map.insert(key, value);
    }
    Ok(Json::Object(map))
}

fn decode_value(bytes: &[u8], depth: usize) -> Result<Json, String> {
    if depth > MAX_DEPTH {
        return Err(format!("struct value nests deeper than {MAX_DEPTH} levels"));
    }
    let mut value = Json::Null;
    let mut wire = Wire::new(bytes);
    while let Some((number, field)) = wire.next()? {
        value = match (number, field) {
            (1, Field::Varint(_)) => Json::Null,
            (2, Field::Fixed64(bits)) => {
                let number = f64::from_bits(bits);
                serde_json::Number::from_f64(number)
                    .map(Json::Number)
                    .ok_or_else(|| format!("struct value: {number} has no JSON form"))?
            }
            (3, Field::Bytes(s)) => Json::String(text(s)?),
            (4, Field::Varint(b)) => Json::Bool(b != 0),
            (5, Field::Bytes(s)) => decode_struct(s, depth + 1)?,
            (6, Field::Bytes(list)) => {
                let mut items = Vec::new();
                let mut list = Wire::new(list);
                while let Some((number, field)) = list.next()? {
                    if let (1, Field::Bytes(item)) = (number, field) {
                        items.push(decode_value(item, depth + 1)?);
                    }
                }
                Json::Array(items)
            }
            _ => continue,
        };
    }
    Ok(value)
}
