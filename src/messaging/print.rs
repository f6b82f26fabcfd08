//! How `kafkup consume` writes a message: its value and a newline, like kcat and Kafka's
//! console consumer, or with `--json` one object a line. Pure formatting, into any writer.

use super::segment::{Whole, MSG_ID_HEADER, SEGS_HEADER, SEG_HEADER};
use base64::Engine as _;
use serde::ser::{Serialize, SerializeMap, Serializer};
use std::io::{self, Write};

/// What `--json` shows besides the value; collected only when it is shown.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Meta {
    pub key: Option<Vec<u8>>,
    pub headers: Vec<(String, Option<Vec<u8>>)>,
    /// Milliseconds since the epoch (the producer's or the broker's, as the topic keeps it).
    pub timestamp: Option<i64>,
}

pub fn write_plain(out: &mut impl Write, value: &[u8]) -> io::Result<()> {
    out.write_all(value)?;
    out.write_all(b"\n")
}

/// `{"key", "value", "partition", "offset", "timestamp", "headers"}`, plus `message_id` and
/// `segments` for a reassembled message (whose own headers are left out, and whose key — the
/// message id — is not the message's).
pub fn write_json(out: &mut impl Write, message: &Whole<Meta>) -> io::Result<()> {
    serde_json::to_writer(&mut *out, &JsonMessage(message))?;
    out.write_all(b"\n")
}

struct JsonMessage<'a>(&'a Whole<Meta>);

impl Serialize for JsonMessage<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let m = self.0;
        let reassembled = m.msg_id.is_some();
        let key = if reassembled {
            None
        } else {
            m.meta.key.as_deref()
        };
        let headers: Vec<HeaderJson> = m
            .meta
            .headers
            .iter()
            .filter(|(k, _)| !(reassembled && is_segment_header(k)))
            .map(|(k, v)| HeaderJson(k, v.as_deref()))
            .collect();
        let mut map = serializer.serialize_map(None)?;
        map.serialize_entry("key", &key.map(Bytes))?;
        map.serialize_entry("value", &Bytes(&m.value))?;
        map.serialize_entry("partition", &m.position.partition)?;
        map.serialize_entry("offset", &m.position.offset)?;
        map.serialize_entry("timestamp", &m.meta.timestamp)?;
        map.serialize_entry("headers", &headers)?;
        if let Some(id) = &m.msg_id {
            map.serialize_entry("message_id", id)?;
            map.serialize_entry("segments", &m.segments)?;
        }
        map.end()
    }
}

fn is_segment_header(name: &str) -> bool {
    [MSG_ID_HEADER, SEG_HEADER, SEGS_HEADER].contains(&name)
}

/// Bytes as a JSON string when they are UTF-8 text, else as `{"base64": "..."}`.
struct Bytes<'a>(&'a [u8]);

impl Serialize for Bytes<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match std::str::from_utf8(self.0) {
            Ok(text) => serializer.serialize_str(text),
            Err(_) => {
                let mut map = serializer.serialize_map(Some(1))?;
                let encoded = base64::engine::general_purpose::STANDARD.encode(self.0);
                map.serialize_entry("base64", &encoded)?;
                map.end()
            }
        }
    }
}

struct HeaderJson<'a>(&'a str, Option<&'a [u8]>);

impl Serialize for HeaderJson<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(2))?;
        map.serialize_entry("key", self.0)?;
        map.serialize_entry("value", &self.1.map(Bytes))?;
        map.end()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::messaging::segment::Position;

    fn whole(msg_id: Option<&str>) -> Whole<Meta> {
        Whole {
            value: "тело".as_bytes().to_vec(),
            msg_id: msg_id.map(str::to_string),
            segments: if msg_id.is_some() { 2 } else { 0 },
            position: Position {
                partition: 1,
                offset: 42,
            },
            meta: Meta {
                key: Some(vec![0xff, 0x00]),
                headers: vec![
                    ("trace".into(), Some(b"abc".to_vec())),
                    ("empty".into(), None),
                    (MSG_ID_HEADER.into(), Some(b"id".to_vec())),
                ],
                timestamp: Some(1_700_000_000_000),
            },
        }
    }

    fn json(message: &Whole<Meta>) -> String {
        let mut out = Vec::new();
        write_json(&mut out, message).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn plain_is_the_value_and_a_newline() {
        let mut out = Vec::new();
        write_plain(&mut out, b"  spaced  ").unwrap();
        assert_eq!(out, b"  spaced  \n");
    }

    #[test]
    fn json_has_every_field() {
        assert_eq!(
            json(&whole(None)),
            "{\"key\":{\"base64\":\"/wA=\"},\"value\":\"тело\",\"partition\":1,\"offset\":42,\
             \"timestamp\":1700000000000,\"headers\":[{\"key\":\"trace\",\"value\":\"abc\"},\
             {\"key\":\"empty\",\"value\":null},{\"key\":\"kafkup-msg-id\",\"value\":\"id\"}]}\n"
        );
    }

    #[test]
    fn reassembled_json_hides_segment_plumbing() {
        let text = json(&whole(Some("id")));
        let value: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(value["key"], serde_json::Value::Null);
        assert_eq!(value["message_id"], "id");
        assert_eq!(value["segments"], 2);
        assert_eq!(value["headers"].as_array().unwrap().len(), 2);
    }
}
