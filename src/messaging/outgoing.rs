//! What goes on the topic for one message: its value in the chosen format, then one record,
//! or one record per segment. Pure; `produce` and `serve` both build their records here.

use super::pyjson::{self, PyValue};
use super::segment::{self, SegmentHeader};

/// How a message's value is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ValueFormat {
    /// The bytes as they are.
    Raw,
    /// JSON, exactly as Python's `json.dumps` writes it (the guide's serializer).
    Json,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the message is not UTF-8 text, which --value-format json needs")]
pub struct NotText;

/// A line of input as the value to send: as is, or as a JSON string.
pub fn encode_text(format: ValueFormat, bytes: Vec<u8>) -> Result<Vec<u8>, NotText> {
    match format {
        ValueFormat::Raw => Ok(bytes),
        ValueFormat::Json => {
            let text = std::str::from_utf8(&bytes).map_err(|_| NotText)?;
            Ok(pyjson::dumps_str(text).into_bytes())
        }
    }
}

/// A JSON value (the HTTP API's `message`) as the value to send: `raw` sends a string's
/// text as it is and anything else as JSON.
pub fn encode_value(format: ValueFormat, value: &PyValue) -> Vec<u8> {
    match (format, value) {
        (ValueFormat::Raw, PyValue::String(text)) => text.as_bytes().to_vec(),
        _ => pyjson::dumps(value).into_bytes(),
    }
}

/// One Kafka record to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutRecord {
    pub key: Option<Vec<u8>>,
    pub value: Vec<u8>,
    pub headers: Vec<(String, Vec<u8>)>,
}

/// A record batch's own header: base offset, length, leader epoch, magic, CRC, attributes,
/// last offset delta, two timestamps, producer id and epoch, base sequence, record count.
const BATCH_HEADER: usize = 61;
/// The most one varint takes (a length, a delta).
const VARINT: usize = 5;

impl OutRecord {
    /// The size of a record batch holding only this record, at most.
    pub fn batch_bytes(&self) -> usize {
        let key = self.key.as_ref().map_or(0, Vec::len);
        let headers: usize = self
            .headers
            .iter()
            .map(|(k, v)| 2 * VARINT + k.len() + v.len())
            .sum();
        // Its length, attributes, timestamp and offset deltas, key and value lengths, and
        // the header count.
        BATCH_HEADER + 1 + 6 * VARINT + key + self.value.len() + headers
    }

    /// Whether a broker with Kafka's default limit takes it.
    pub fn fits(&self) -> bool {
        self.batch_bytes() <= crate::defaults::KAFKA_MAX_BATCH_BYTES
    }
}

/// What to do about a message too large for one record.
pub fn too_large_help(chunked: bool) -> String {
    match chunked {
        true => "use a smaller --chunk-size (e.g. --chunk-size 100000)".into(),
        false => "send it in segments with --chunk-size (e.g. --chunk-size 100000), and read it back whole with `kafkup consume --reassemble`".into(),
    }
}

/// How every message is sent.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Shape {
    /// Not allowed together with `chunk_size`: segments are keyed by their message id.
    pub key: Option<Vec<u8>>,
    pub headers: Vec<(String, String)>,
    /// Segments of at most this many bytes (at least [`segment::MIN_CHUNK_SIZE`]).
    pub chunk_size: Option<usize>,
}

/// The records for one message value; `new_id` names a segmented message.
pub fn records(shape: &Shape, value: &[u8], new_id: impl FnOnce() -> String) -> Vec<OutRecord> {
    let headers: Vec<(String, Vec<u8>)> = shape
        .headers
        .iter()
        .map(|(k, v)| (k.clone(), v.as_bytes().to_vec()))
        .collect();
    let Some(chunk_size) = shape.chunk_size else {
        return vec![OutRecord {
            key: shape.key.clone(),
            value: value.to_vec(),
            headers,
        }];
    };
    let pieces = segment::split(value, chunk_size);
    let msg_id = new_id();
    let count = pieces.len() as u32;
    pieces
        .into_iter()
        .enumerate()
        .map(|(index, piece)| {
            let segment = SegmentHeader {
                msg_id: msg_id.clone(),
                index: index as u32,
                count,
            };
            let mut headers = headers.clone();
            headers.extend(
                segment
                    .to_headers()
                    .map(|(k, v)| (k.to_string(), v.into_bytes())),
            );
            OutRecord {
                key: Some(msg_id.clone().into_bytes()),
                value: piece.to_vec(),
                headers,
            }
        })
        .collect()
}

/// A fresh message id: 32 hex digits.
pub fn new_message_id() -> String {
    uuid::Uuid::new_v4().simple().to_string()
}

/// `k=v` from the command line.
pub fn parse_header(text: &str) -> Result<(String, String), String> {
    match text.split_once('=') {
        Some((k, v)) if !k.is_empty() => Ok((k.to_string(), v.to_string())),
        _ => Err(format!("expected NAME=VALUE, got {text:?}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_message_is_one_record_with_key_and_headers() {
        let shape = Shape {
            key: Some(b"k".to_vec()),
            headers: vec![("h".into(), "v=1".into())],
            chunk_size: None,
        };
        let out = records(&shape, "значение".as_bytes(), || unreachable!());
        assert_eq!(
            out,
            [OutRecord {
                key: Some(b"k".to_vec()),
                value: "значение".as_bytes().to_vec(),
                headers: vec![("h".into(), b"v=1".to_vec())],
            }]
        );
    }

    #[test]
    fn segments_carry_id_index_count_and_the_id_as_key() {
        let shape = Shape {
            headers: vec![("trace".into(), "t".into())],
            chunk_size: Some(4),
            ..Shape::default()
        };
        let out = records(&shape, "абвгд".as_bytes(), || "id1".into());
        assert_eq!(out.len(), 3);
        for (i, r) in out.iter().enumerate() {
            assert_eq!(r.key.as_deref(), Some(&b"id1"[..]));
            let names: Vec<&str> = r.headers.iter().map(|(k, _)| k.as_str()).collect();
            assert_eq!(
                names,
                ["trace", "kafkup-msg-id", "kafkup-seg", "kafkup-segs"]
            );
            assert_eq!(r.headers[2].1, i.to_string().into_bytes());
            assert_eq!(r.headers[3].1, b"3");
        }
        let joined: Vec<u8> = out.into_iter().flat_map(|r| r.value).collect();
        assert_eq!(joined, "абвгд".as_bytes());
        assert_eq!(records(&shape, b"", || "e".into()).len(), 1);
    }

    #[test]
    fn a_record_fits_a_default_broker_up_to_its_batch_limit() {
        let limit = crate::defaults::KAFKA_MAX_BATCH_BYTES;
        let record = |len: usize| OutRecord {
            key: None,
            value: vec![b'x'; len],
            headers: vec![],
        };
        assert!(record(1_040_000).fits());
        assert!(!record(limit - 80).fits(), "the batch header counts");
        assert!(record(limit - 100).fits());
        let segmented = records(
            &Shape {
                chunk_size: Some(100_000),
                ..Shape::default()
            },
            &vec![b'x'; 1_500_000],
            || "id".into(),
        );
        assert!(segmented.iter().all(OutRecord::fits));
    }

    #[test]
    fn encoding() {
        assert_eq!(encode_text(ValueFormat::Raw, vec![0xff]).unwrap(), [0xff]);
        assert_eq!(encode_text(ValueFormat::Json, vec![0xff]), Err(NotText));
        assert_eq!(
            encode_text(ValueFormat::Json, "ё \"q\"".as_bytes().to_vec()).unwrap(),
            br#""\u0451 \"q\"""#
        );
        let obj: PyValue = serde_json::from_str(r#"{"a": "б"}"#).unwrap();
        assert_eq!(encode_value(ValueFormat::Raw, &obj), br#"{"a": "\u0431"}"#);
        assert_eq!(encode_value(ValueFormat::Json, &obj), br#"{"a": "\u0431"}"#);
        let text = PyValue::String("б".into());
        assert_eq!(encode_value(ValueFormat::Raw, &text), "б".as_bytes());
        assert_eq!(encode_value(ValueFormat::Json, &text), br#""\u0431""#);
    }

    #[test]
    fn headers_from_the_command_line() {
        assert_eq!(parse_header("a=b=c"), Ok(("a".into(), "b=c".into())));
        assert_eq!(parse_header("a="), Ok(("a".into(), "".into())));
        assert!(parse_header("=b").is_err());
        assert!(parse_header("ab").is_err());
    }
}
