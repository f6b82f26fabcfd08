//! Segmented messages, byte-exact: `split` cuts a value into segments on UTF-8 character
//! boundaries, and a [`Reassembler`], fed messages one by one, gives each message back once
//! all its segments arrived. Pure logic: no I/O, the caller passes the clock.
//!
//! Every segment carries the headers `kafkup-msg-id`, `kafkup-seg` (0-based index) and
//! `kafkup-segs` (count), and the message id as its key, so a message's segments share a
//! partition and arrive in order — but the reassembler does not rely on that order.

use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};
use std::time::{Duration, Instant};

pub const MSG_ID_HEADER: &str = "kafkup-msg-id";
pub const SEG_HEADER: &str = "kafkup-seg";
pub const SEGS_HEADER: &str = "kafkup-segs";

/// A UTF-8 character is at most 4 bytes: with smaller segments one might not fit.
pub const MIN_CHUNK_SIZE: usize = 4;

/// Cuts `value` into pieces of at most `chunk_size` bytes, never inside a UTF-8 character
/// (bytes that are not UTF-8 are cut anywhere). The pieces, joined, are `value`; an empty
/// value is one empty piece.
pub fn split(value: &[u8], chunk_size: usize) -> Vec<&[u8]> {
    assert!(
        chunk_size >= MIN_CHUNK_SIZE,
        "chunk size below {MIN_CHUNK_SIZE}"
    );
    let mut pieces = Vec::with_capacity(value.len() / chunk_size + 1);
    let mut rest = value;
    while rest.len() > chunk_size {
        let mut cut = chunk_size;
        // Back off a continuation byte (10xxxxxx) so the cut falls before its lead byte;
        // more than three in a row is not UTF-8, and then any cut will do.
        while cut > chunk_size - 3 && is_continuation(rest[cut]) {
            cut -= 1;
        }
        if is_continuation(rest[cut]) {
            cut = chunk_size;
        }
        let (piece, tail) = rest.split_at(cut);
        pieces.push(piece);
        rest = tail;
    }
    pieces.push(rest);
    pieces
}

fn is_continuation(byte: u8) -> bool {
    byte & 0b1100_0000 == 0b1000_0000
}

/// What a segment's headers say.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SegmentHeader {
    pub msg_id: String,
    pub index: u32,
    pub count: u32,
}

impl SegmentHeader {
    /// The three headers, as (name, value) pairs.
    pub fn to_headers(&self) -> [(&'static str, String); 3] {
        [
            (MSG_ID_HEADER, self.msg_id.clone()),
            (SEG_HEADER, self.index.to_string()),
            (SEGS_HEADER, self.count.to_string()),
        ]
    }

    /// `None` for a plain message (no kafkup header at all); an error for a message that has
    /// some of them, or values that make no sense.
    pub fn from_headers<'a>(
        headers: impl IntoIterator<Item = (&'a str, Option<&'a [u8]>)>,
    ) -> Option<Result<Self, String>> {
        let (mut id, mut index, mut count) = (None, None, None);
        for (name, value) in headers {
            let slot = match name {
                MSG_ID_HEADER => &mut id,
                SEG_HEADER => &mut index,
                SEGS_HEADER => &mut count,
                _ => continue,
            };
            *slot = Some(
                value
                    .and_then(|v| std::str::from_utf8(v).ok())
                    .unwrap_or(""),
            );
        }
        if id.is_none() && index.is_none() && count.is_none() {
            return None;
        }
        Some(Self::parse(id, index, count))
    }

    fn parse(id: Option<&str>, index: Option<&str>, count: Option<&str>) -> Result<Self, String> {
        let number = |name: &str, value: Option<&str>| -> Result<u32, String> {
            let value = value.ok_or_else(|| format!("header {name} is missing"))?;
            value
                .parse()
                .map_err(|_| format!("header {name} is not a number: {value:?}"))
        };
        let msg_id = id
            .filter(|id| !id.is_empty())
            .ok_or_else(|| format!("header {MSG_ID_HEADER} is missing or empty"))?;
        let header = SegmentHeader {
            msg_id: msg_id.to_string(),
            index: number(SEG_HEADER, index)?,
            count: number(SEGS_HEADER, count)?,
        };
        if header.index >= header.count {
            return Err(format!(
                "segment {} of a message of {} segments",
                header.index, header.count
            ));
        }
        Ok(header)
    }
}

/// How much the reassembler may hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Bytes of all incomplete messages together; past it the oldest is dropped.
    pub max_pending_bytes: usize,
    /// How long an incomplete message may wait for its other segments.
    pub max_age: Duration,
}

/// Where a record came from: the partition and offset say what is safe to commit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Position {
    pub partition: i32,
    pub offset: i64,
}

/// A record as it arrives, with whatever the caller wants back (`M`) beside it.
#[derive(Debug, Clone, PartialEq)]
pub struct Record<M> {
    /// `None` for a plain message, else its segment headers (or why they are unusable).
    pub segment: Option<Result<SegmentHeader, String>>,
    pub value: Vec<u8>,
    pub position: Position,
    pub meta: M,
}

/// A message that is whole again.
#[derive(Debug, Clone, PartialEq)]
pub struct Whole<M> {
    pub value: Vec<u8>,
    /// The segments' message id; `None` for a plain message.
    pub msg_id: Option<String>,
    /// 0 for a plain message that was passed through.
    pub segments: u32,
    /// Where its last segment was.
    pub position: Position,
    /// The metadata of its first segment.
    pub meta: M,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DropReason {
    /// Its other segments did not come within `max_age`.
    TooOld,
    /// Holding it would exceed `max_pending_bytes`.
    TooMuchPending,
    /// The reader stopped before the message was complete.
    Stopped,
}

/// What feeding a record gives back.
#[derive(Debug, Clone, PartialEq)]
pub enum Event<M> {
    Message(Whole<M>),
    /// A message given up on, with how many of its segments had arrived.
    Incomplete {
        msg_id: String,
        received: u32,
        expected: u32,
        reason: DropReason,
    },
    /// A record with kafkup headers that cannot be a segment; it is dropped.
    Malformed {
        position: Position,
        reason: String,
    },
}

struct Pending<M> {
    parts: Vec<Option<Vec<u8>>>,
    received: u32,
    bytes: usize,
    since: Instant,
    /// Arrival order, for dropping the oldest first.
    seq: u64,
    /// The lowest offset among its segments: committing past it would lose the message.
    first: Position,
    last: Position,
    meta: M,
}

/// How many finished message ids are remembered, to drop their late duplicates quietly.
const REMEMBERED_IDS: usize = 4096;

/// Puts segmented messages back together; plain messages pass straight through.
pub struct Reassembler<M> {
    limits: Limits,
    pending: HashMap<String, Pending<M>>,
    by_age: BTreeMap<u64, String>,
    next_seq: u64,
    pending_bytes: usize,
    finished: HashSet<String>,
    finished_order: VecDeque<String>,
    /// Segments dropped as duplicates so far.
    pub duplicates: u64,
}

impl<M> Reassembler<M> {
    pub fn new(limits: Limits) -> Self {
        Reassembler {
            limits,
            pending: HashMap::new(),
            by_age: BTreeMap::new(),
            next_seq: 0,
            pending_bytes: 0,
            finished: HashSet::new(),
            finished_order: VecDeque::new(),
            duplicates: 0,
        }
    }

    /// Takes one record; returns what is now complete or given up on, in that order.
    pub fn feed(&mut self, record: Record<M>, now: Instant) -> Vec<Event<M>> {
        let mut events = self.expire(now);
        let header = match record.segment {
            None => {
                events.push(Event::Message(Whole {
                    value: record.value,
                    msg_id: None,
                    segments: 0,
                    position: record.position,
                    meta: record.meta,
                }));
                return events;
            }
            Some(Err(reason)) => {
                events.push(Event::Malformed {
                    position: record.position,
                    reason,
                });
                return events;
            }
            Some(Ok(header)) => header,
        };
        if self.finished.contains(&header.msg_id) {
            self.duplicates += 1;
            return events;
        }
        match self.store(header, record.value, record.position, record.meta, now) {
            Stored::Complete(whole) => events.push(Event::Message(whole)),
            Stored::Duplicate => self.duplicates += 1,
            Stored::Mismatch(reason) => events.push(Event::Malformed {
                position: record.position,
                reason,
            }),
            Stored::Held => events.extend(self.shed()),
        }
        events
    }

    fn store(
        &mut self,
        header: SegmentHeader,
        value: Vec<u8>,
        position: Position,
        meta: M,
        now: Instant,
    ) -> Stored<M> {
        let SegmentHeader {
            msg_id,
            index,
            count,
        } = header;
        if count == 1 {
            self.remember(msg_id.clone());
            return Stored::Complete(Whole {
                value,
                msg_id: Some(msg_id),
                segments: 1,
                position,
                meta,
            });
        }
        let pending = self.pending.entry(msg_id.clone()).or_insert_with(|| {
            let seq = self.next_seq;
            self.next_seq += 1;
            self.by_age.insert(seq, msg_id.clone());
            Pending {
                parts: vec![None; count as usize],
                received: 0,
                bytes: 0,
                since: now,
                seq,
                first: position,
                last: position,
                meta,
            }
        });
        if pending.parts.len() != count as usize {
            return Stored::Mismatch(format!(
                "segment of message {msg_id} says {count} segments, earlier ones said {}",
                pending.parts.len()
            ));
        }
        let slot = &mut pending.parts[index as usize];
        if slot.is_some() {
            return Stored::Duplicate;
        }
        pending.bytes += value.len();
        self.pending_bytes += value.len();
        *slot = Some(value);
        pending.received += 1;
        if position.offset < pending.first.offset {
            pending.first = position;
        }
        if position.offset > pending.last.offset {
            pending.last = position;
        }
        if pending.received < count {
            return Stored::Held;
        }
        let done = self.take(&msg_id).expect("just stored");
        self.remember(msg_id.clone());
        let value = done.parts.into_iter().flatten().flatten().collect();
        Stored::Complete(Whole {
            value,
            msg_id: Some(msg_id),
            segments: count,
            position: done.last,
            meta: done.meta,
        })
    }

    /// Gives up on messages older than `max_age`.
    pub fn expire(&mut self, now: Instant) -> Vec<Event<M>> {
        let mut events = Vec::new();
        while let Some((_, id)) = self.by_age.first_key_value() {
            let since = self.pending[id].since;
            if now.saturating_duration_since(since) <= self.limits.max_age {
                break;
            }
            let id = id.clone();
            events.push(self.drop_pending(&id, DropReason::TooOld));
        }
        events
    }

    /// Gives up on every message still incomplete (the reader is stopping).
    pub fn finish(&mut self) -> Vec<Event<M>> {
        let ids: Vec<String> = self.by_age.values().cloned().collect();
        ids.iter()
            .map(|id| self.drop_pending(id, DropReason::Stopped))
            .collect()
    }

    /// The lowest offset in `partition` that an incomplete message still needs: a consumer
    /// commits no further, so that after a restart it reads those segments again.
    pub fn first_needed_offset(&self, partition: i32) -> Option<i64> {
        self.pending
            .values()
            .filter(|p| p.first.partition == partition)
            .map(|p| p.first.offset)
            .min()
    }

    /// How many messages are incomplete right now.
    pub fn pending_messages(&self) -> usize {
        self.pending.len()
    }

    /// Drops the oldest messages until what is held fits `max_pending_bytes`.
    fn shed(&mut self) -> Vec<Event<M>> {
        let mut events = Vec::new();
        while self.pending_bytes > self.limits.max_pending_bytes {
            let Some((_, id)) = self.by_age.first_key_value() else {
                break;
            };
            let id = id.clone();
            events.push(self.drop_pending(&id, DropReason::TooMuchPending));
        }
        events
    }

    fn drop_pending(&mut self, id: &str, reason: DropReason) -> Event<M> {
        let dropped = self.take(id).expect("listed ids are pending");
        // Its late segments are not worth another report.
        self.remember(id.to_string());
        Event::Incomplete {
            msg_id: id.to_string(),
            received: dropped.received,
            expected: dropped.parts.len() as u32,
            reason,
        }
    }

    fn take(&mut self, id: &str) -> Option<Pending<M>> {
        let pending = self.pending.remove(id)?;
        self.by_age.remove(&pending.seq);
        self.pending_bytes -= pending.bytes;
        Some(pending)
    }

    fn remember(&mut self, id: String) {
        if self.finished.insert(id.clone()) {
            self.finished_order.push_back(id);
        }
        if self.finished_order.len() > REMEMBERED_IDS {
            if let Some(old) = self.finished_order.pop_front() {
                self.finished.remove(&old);
            }
        }
    }
}

enum Stored<M> {
    Complete(Whole<M>),
    Held,
    Duplicate,
    Mismatch(String),
}

#[cfg(test)]
mod tests;
