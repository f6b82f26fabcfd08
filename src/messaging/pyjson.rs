//! JSON text byte for byte as Python's `json.dumps` writes it with its defaults, which is
//! what the guide's `value_serializer=lambda v: json.dumps(v).encode('utf-8')` puts on the
//! topic: every non-ASCII character escaped as `\uXXXX` (lowercase hex, surrogate pairs above
//! U+FFFF), `", "` and `": "` as separators, object keys in the order they came, floats as
//! Python's `repr`. serde_json writes it through a [`Formatter`] of Python's ways.

use serde::de::{Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::ser::{Serialize, SerializeMap, SerializeSeq, Serializer};
use serde_json::ser::Formatter;
use std::fmt;
use std::io::{self, Write};

/// A JSON value as Python's `json.loads` holds it: objects keep their key order, and a key
/// given twice keeps its first place with its last value (as a `dict` does).
#[derive(Debug, Clone, PartialEq)]
pub enum PyValue {
    Null,
    Bool(bool),
    /// Integers within 64 bits stay integers; anything else is a float (Python keeps bigger
    /// integers exact, and reads `-0` as the integer 0: both differ here).
    Number(serde_json::Number),
    String(String),
    Array(Vec<PyValue>),
    Object(Vec<(String, PyValue)>),
}

impl PyValue {
    /// Python's truthiness would also reject `0` and `false`; a message is "empty" only when
    /// it holds nothing: `null`, `""`, `[]` or `{}`.
    pub fn is_empty(&self) -> bool {
        match self {
            PyValue::Null => true,
            PyValue::String(s) => s.is_empty(),
            PyValue::Array(a) => a.is_empty(),
            PyValue::Object(o) => o.is_empty(),
            PyValue::Bool(_) | PyValue::Number(_) => false,
        }
    }
}

/// `json.dumps(value)`.
pub fn dumps(value: &(impl Serialize + ?Sized)) -> String {
    let mut out = Vec::new();
    let mut serializer = serde_json::Serializer::with_formatter(&mut out, Python);
    value
        .serialize(&mut serializer)
        .expect("writing JSON to memory cannot fail");
    String::from_utf8(out).expect("the formatter writes ASCII")
}

/// `json.dumps(text)` for a string.
pub fn dumps_str(text: &str) -> String {
    dumps(text)
}

/// Python's separators, `ensure_ascii` and float `repr`; serde_json does the rest.
struct Python;

impl Formatter for Python {
    fn begin_array_value<W: ?Sized + Write>(&mut self, w: &mut W, first: bool) -> io::Result<()> {
        w.write_all(if first { b"" } else { b", " })
    }

    fn begin_object_key<W: ?Sized + Write>(&mut self, w: &mut W, first: bool) -> io::Result<()> {
        w.write_all(if first { b"" } else { b", " })
    }

    fn begin_object_value<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        w.write_all(b": ")
    }

    fn write_f64<W: ?Sized + Write>(&mut self, w: &mut W, value: f64) -> io::Result<()> {
        w.write_all(float_repr(value).as_bytes())
    }

    /// serde_json escapes quotes, backslashes and control characters itself; everything else
    /// outside printable ASCII becomes `\uXXXX`, as with `ensure_ascii=True`.
    fn write_string_fragment<W: ?Sized + Write>(
        &mut self,
        w: &mut W,
        text: &str,
    ) -> io::Result<()> {
        for c in text.chars() {
            if (' '..='~').contains(&c) {
                w.write_all(&[c as u8])?;
            } else {
                for unit in c.encode_utf16(&mut [0u16; 2]) {
                    write!(w, "\\u{unit:04x}")?;
                }
            }
        }
        Ok(())
    }
}

impl Serialize for PyValue {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            PyValue::Null => s.serialize_unit(),
            PyValue::Bool(b) => s.serialize_bool(*b),
            PyValue::Number(n) => n.serialize(s),
            PyValue::String(text) => s.serialize_str(text),
            PyValue::Array(items) => {
                let mut seq = s.serialize_seq(Some(items.len()))?;
                items
                    .iter()
                    .try_for_each(|item| seq.serialize_element(item))?;
                seq.end()
            }
            PyValue::Object(entries) => {
                let mut map = s.serialize_map(Some(entries.len()))?;
                for (key, item) in entries {
                    map.serialize_entry(key, item)?;
                }
                map.end()
            }
        }
    }
}

/// Python's `repr(float)`: the shortest digits that read back as the same number (Rust finds
/// the same ones), written positionally for exponents -4..=15, else as `1.5e-05`, `1e+16`.
pub fn float_repr(f: f64) -> String {
    if f.is_nan() {
        return "NaN".into();
    }
    if f.is_infinite() {
        return if f > 0.0 { "Infinity" } else { "-Infinity" }.into();
    }
    let sci = format!("{:e}", f.abs());
    let (mantissa, exp) = sci.split_once('e').expect("{:e} always writes an exponent");
    let exp: i32 = exp.parse().expect("{:e} writes an integer exponent");
    let digits: String = mantissa.chars().filter(char::is_ascii_digit).collect();
    let sign = if f.is_sign_negative() { "-" } else { "" };
    if !(-4..16).contains(&exp) {
        let (first, rest) = digits.split_at(1);
        let fraction = if rest.is_empty() {
            String::new()
        } else {
            format!(".{rest}")
        };
        let exp_sign = if exp < 0 { '-' } else { '+' };
        return format!("{sign}{first}{fraction}e{exp_sign}{:02}", exp.abs());
    }
    if exp < 0 {
        let zeros = "0".repeat((-exp - 1) as usize);
        return format!("{sign}0.{zeros}{digits}");
    }
    let int_len = exp as usize + 1;
    if digits.len() <= int_len {
        let zeros = "0".repeat(int_len - digits.len());
        format!("{sign}{digits}{zeros}.0")
    } else {
        let (int, fraction) = digits.split_at(int_len);
        format!("{sign}{int}.{fraction}")
    }
}

impl<'de> Deserialize<'de> for PyValue {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(PyValueVisitor)
    }
}

struct PyValueVisitor;

impl<'de> Visitor<'de> for PyValueVisitor {
    type Value = PyValue;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_unit<E>(self) -> Result<PyValue, E> {
        Ok(PyValue::Null)
    }
    fn visit_bool<E>(self, b: bool) -> Result<PyValue, E> {
        Ok(PyValue::Bool(b))
    }
    fn visit_i64<E>(self, i: i64) -> Result<PyValue, E> {
        Ok(PyValue::Number(i.into()))
    }
    fn visit_u64<E>(self, u: u64) -> Result<PyValue, E> {
        Ok(PyValue::Number(u.into()))
    }
    fn visit_f64<E: serde::de::Error>(self, f: f64) -> Result<PyValue, E> {
        serde_json::Number::from_f64(f)
            .map(PyValue::Number)
            .ok_or_else(|| E::custom("a number out of range"))
    }
    fn visit_str<E>(self, s: &str) -> Result<PyValue, E> {
        Ok(PyValue::String(s.to_string()))
    }
    fn visit_string<E>(self, s: String) -> Result<PyValue, E> {
        Ok(PyValue::String(s))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<PyValue, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element()? {
            items.push(item);
        }
        Ok(PyValue::Array(items))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<PyValue, A::Error> {
        let mut entries: Vec<(String, PyValue)> = Vec::new();
        while let Some((key, value)) = map.next_entry::<String, PyValue>()? {
            match entries.iter_mut().find(|(k, _)| *k == key) {
                Some(entry) => entry.1 = value,
                None => entries.push((key, value)),
            }
        }
        Ok(PyValue::Object(entries))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn parse(text: &str) -> PyValue {
        serde_json::from_str(text).unwrap()
    }

    #[test]
    fn strings_escape_like_python() {
        // Outputs of CPython 3.11 `json.dumps`.
        assert_eq!(dumps_str("hello"), r#""hello""#);
        assert_eq!(
            dumps_str("Привет"),
            r#""\u041f\u0440\u0438\u0432\u0435\u0442""#
        );
        assert_eq!(dumps_str("🚀"), r#""\ud83d\ude80""#);
        assert_eq!(dumps_str("a\"b\\c/d"), r#""a\"b\\c/d""#);
        assert_eq!(dumps_str("\n\r\t\u{8}\u{c}"), r#""\n\r\t\b\f""#);
        assert_eq!(dumps_str("\u{0}\u{1f}\u{7f}"), r#""\u0000\u001f\u007f""#);
        assert_eq!(dumps_str("\u{e9}\u{ffff}"), r#""\u00e9\uffff""#);
        assert_eq!(dumps_str(""), r#""""#);
    }

    #[test]
    fn values_keep_key_order_and_python_separators() {
        let value = parse(r#"{"b":[1,2.5,true,null],"a":{"x":"й"},"c":{}, "d":[]}"#);
        assert_eq!(
            dumps(&value),
            r#"{"b": [1, 2.5, true, null], "a": {"x": "\u0439"}, "c": {}, "d": []}"#
        );
        // A repeated key keeps its first place and its last value, like a dict.
        assert_eq!(
            dumps(&parse(r#"{"a":1,"b":2,"a":3}"#)),
            r#"{"a": 3, "b": 2}"#
        );
    }

    #[test]
    fn numbers_print_like_python() {
        let cases = [
            ("0", "0"),
            ("-7", "-7"),
            ("18446744073709551615", "18446744073709551615"),
            ("1.0", "1.0"),
            ("-0.0", "-0.0"),
            ("0.1", "0.1"),
            ("1e5", "100000.0"),
            ("1e15", "1000000000000000.0"),
            ("1e16", "1e+16"),
            ("1.5e16", "1.5e+16"),
            ("0.0001", "0.0001"),
            ("0.00001", "1e-05"),
            ("1.25e-7", "1.25e-07"),
            ("123.456", "123.456"),
            ("1e300", "1e+300"),
            ("5e-324", "5e-324"),
            ("12345678901234567.0", "1.2345678901234568e+16"),
        ];
        for (input, python) in cases {
            assert_eq!(dumps(&parse(input)), python, "json.dumps({input})");
        }
    }

    #[test]
    fn emptiness() {
        for empty in ["null", "\"\"", "[]", "{}"] {
            assert!(parse(empty).is_empty(), "{empty}");
        }
        for full in ["0", "false", "\" \"", "[null]", "{\"a\":null}"] {
            assert!(!parse(full).is_empty(), "{full}");
        }
    }

    proptest! {
        /// The escaped text is ASCII and reads back (with any JSON parser) as the same string.
        #[test]
        fn escaped_strings_round_trip(text in any::<String>()) {
            let encoded = dumps_str(&text);
            prop_assert!(encoded.is_ascii());
            let back: String = serde_json::from_str(&encoded).unwrap();
            prop_assert_eq!(back, text);
        }

        /// Floats read back as the very same number.
        #[test]
        fn floats_round_trip(f in any::<f64>().prop_filter("finite", |f| f.is_finite())) {
            let back: f64 = float_repr(f).parse().unwrap();
            prop_assert_eq!(back.to_bits(), f.to_bits());
        }
    }
}
