use super::*;
use proptest::prelude::*;

/// The guide's own text (its section on partitions), Cyrillic: 2 bytes a letter.
const GUIDE: &str = "Партиции — это фундаментальный механизм хранения данных в Apache Kafka. \
    Каждый топик в Kafka разделен на одну или несколько партиций.";

const LIMITS: Limits = Limits {
    max_pending_bytes: 1 << 20,
    max_age: Duration::from_secs(60),
};

fn records(id: &str, value: &[u8], chunk: usize, partition: i32, first: i64) -> Vec<Record<()>> {
    let pieces = split(value, chunk);
    let count = pieces.len() as u32;
    pieces
        .into_iter()
        .enumerate()
        .map(|(i, piece)| Record {
            segment: Some(Ok(SegmentHeader {
                msg_id: id.to_string(),
                index: i as u32,
                count,
            })),
            value: piece.to_vec(),
            position: Position {
                partition,
                offset: first + i as i64,
            },
            meta: (),
        })
        .collect()
}

fn plain(value: &str, offset: i64) -> Record<()> {
    Record {
        segment: None,
        value: value.as_bytes().to_vec(),
        position: Position {
            partition: 0,
            offset,
        },
        meta: (),
    }
}

fn values(events: &[Event<()>]) -> Vec<Vec<u8>> {
    events
        .iter()
        .filter_map(|e| match e {
            Event::Message(m) => Some(m.value.clone()),
            _ => None,
        })
        .collect()
}

fn feed_all(r: &mut Reassembler<()>, records: Vec<Record<()>>, now: Instant) -> Vec<Event<()>> {
    records
        .into_iter()
        .flat_map(|rec| r.feed(rec, now))
        .collect()
}

#[test]
fn split_never_cuts_a_character() {
    for chunk in 4..40 {
        for text in [GUIDE, "🚀🚀🚀 emoji 🎉 and ü", "   \t\n  ", "x"] {
            let pieces = split(text.as_bytes(), chunk);
            assert_eq!(pieces.concat(), text.as_bytes(), "chunk {chunk}");
            for piece in &pieces {
                assert!(piece.len() <= chunk);
                assert!(
                    std::str::from_utf8(piece).is_ok(),
                    "chunk {chunk}: {piece:?}"
                );
                assert!(!piece.is_empty());
            }
        }
    }
}

#[test]
fn split_backs_off_inside_a_multibyte_character() {
    // "Пр" is 4 bytes: a 3-byte chunk limit is below the minimum, 5 cuts after "Пр".
    assert_eq!(
        split("Привет".as_bytes(), 5),
        ["Пр".as_bytes(), "ив".as_bytes(), "ет".as_bytes()]
    );
    // 4-byte emoji with chunk 6: "a🚀" (5 bytes) then "🚀".
    assert_eq!(
        split("a🚀🚀".as_bytes(), 6),
        ["a🚀".as_bytes(), "🚀".as_bytes()]
    );
}

#[test]
fn split_edge_cases() {
    assert_eq!(split(b"", 10), [b"".as_slice()]);
    assert_eq!(split(b"exactly10!", 10), [b"exactly10!".as_slice()]);
    assert_eq!(split(b"   ", 4), [b"   ".as_slice()]);
    // Not UTF-8 (a run of continuation bytes): still cut, still lossless, still bounded.
    let junk = [0x80u8; 13];
    let pieces = split(&junk, 4);
    assert_eq!(pieces.concat(), junk);
    assert!(pieces.iter().all(|p| p.len() <= 4));
    let long = GUIDE.repeat(2000);
    let pieces = split(long.as_bytes(), 100);
    assert_eq!(pieces.concat(), long.as_bytes());
    assert!(pieces.len() > long.len() / 100);
}

#[test]
fn headers_parse_and_reject() {
    let h = |pairs: &[(&'static str, &'static str)]| {
        SegmentHeader::from_headers(pairs.iter().map(|(k, v)| (*k, Some(v.as_bytes()))))
    };
    assert_eq!(h(&[("other", "x")]), None);
    let good = SegmentHeader {
        msg_id: "m".into(),
        index: 1,
        count: 3,
    };
    let pairs: Vec<(&str, String)> = good.to_headers().to_vec();
    let parsed = SegmentHeader::from_headers(pairs.iter().map(|(k, v)| (*k, Some(v.as_bytes()))));
    assert_eq!(parsed, Some(Ok(good)));
    assert!(h(&[(MSG_ID_HEADER, "m")]).unwrap().is_err());
    assert!(
        h(&[(MSG_ID_HEADER, "m"), (SEG_HEADER, "3"), (SEGS_HEADER, "3")])
            .unwrap()
            .is_err()
    );
    assert!(
        h(&[(MSG_ID_HEADER, ""), (SEG_HEADER, "0"), (SEGS_HEADER, "1")])
            .unwrap()
            .is_err()
    );
    assert!(
        h(&[(MSG_ID_HEADER, "m"), (SEG_HEADER, "x"), (SEGS_HEADER, "1")])
            .unwrap()
            .unwrap_err()
            .contains("not a number")
    );
}

#[test]
fn reassembles_in_order_and_passes_plain_messages() {
    let mut r = Reassembler::new(LIMITS);
    let now = Instant::now();
    let mut input = vec![plain("before", 0)];
    input.extend(records("a", GUIDE.as_bytes(), 16, 0, 1));
    input.push(plain("after", 100));
    let events = feed_all(&mut r, input, now);
    assert_eq!(
        values(&events),
        [
            b"before".to_vec(),
            GUIDE.as_bytes().to_vec(),
            b"after".to_vec()
        ]
    );
    let Event::Message(whole) = &events[1] else {
        panic!("{events:?}")
    };
    assert!(whole.segments > 1);
    assert_eq!(r.pending_messages(), 0);
}

#[test]
fn interleaved_messages_stay_apart_and_duplicates_are_dropped() {
    let mut r = Reassembler::new(LIMITS);
    let now = Instant::now();
    let a = records("a", "первое сообщение, длинное".as_bytes(), 8, 0, 0);
    let b = records("b", "second message 🚀 long".as_bytes(), 8, 0, 100);
    let mut mixed = Vec::new();
    for i in 0..a.len().max(b.len()) {
        mixed.extend(a.get(i).cloned());
        mixed.extend(b.get(i).cloned());
        mixed.extend(a.get(i).cloned()); // every segment of `a` twice
    }
    mixed.push(a[0].clone()); // and once more after `a` completed
    let events = feed_all(&mut r, mixed, now);
    let mut got = values(&events);
    got.sort();
    let mut want = vec![
        "первое сообщение, длинное".as_bytes().to_vec(),
        "second message 🚀 long".as_bytes().to_vec(),
    ];
    want.sort();
    assert_eq!(got, want);
    assert_eq!(r.duplicates, a.len() as u64 + 1);
    assert!(events.iter().all(|e| matches!(e, Event::Message(_))));
}

#[test]
fn a_missing_segment_is_reported_once_it_is_too_old() {
    let mut r = Reassembler::new(LIMITS);
    let t0 = Instant::now();
    let mut segs = records("gap", GUIDE.as_bytes(), 20, 0, 10);
    segs.remove(2);
    assert!(feed_all(&mut r, segs.clone(), t0).is_empty());
    assert_eq!(r.first_needed_offset(0), Some(10));
    assert_eq!(r.first_needed_offset(1), None);
    assert!(r.expire(t0 + Duration::from_secs(59)).is_empty());
    let events = r.expire(t0 + Duration::from_secs(61));
    assert_eq!(
        events,
        [Event::Incomplete {
            msg_id: "gap".into(),
            received: segs.len() as u32,
            expected: segs.len() as u32 + 1,
            reason: DropReason::TooOld,
        }]
    );
    assert_eq!(r.first_needed_offset(0), None);
    // Its stragglers are dropped quietly.
    assert!(feed_all(&mut r, segs, t0 + Duration::from_secs(62)).is_empty());
}

#[test]
fn holding_too_much_drops_the_oldest() {
    let limits = Limits {
        max_pending_bytes: 60,
        max_age: Duration::from_secs(60),
    };
    let mut r = Reassembler::new(limits);
    let now = Instant::now();
    let mut old = records("old", &[b'o'; 80], 40, 0, 0);
    old.pop();
    let mut new = records("new", &[b'n'; 80], 40, 0, 10);
    new.pop();
    assert!(feed_all(&mut r, old, now).is_empty());
    let events = feed_all(&mut r, new, now);
    assert!(
        matches!(&events[..], [Event::Incomplete { msg_id, reason: DropReason::TooMuchPending, received: 1, expected: 2 }] if msg_id == "old"),
        "{events:?}"
    );
    assert_eq!(r.pending_messages(), 1);
    // A message bigger than the whole budget goes as soon as it exceeds it, after the older one.
    let huge = records("huge", &[b'h'; 300], 60, 0, 20);
    let dropped: Vec<String> = feed_all(&mut r, huge, now)
        .into_iter()
        .map(|e| match e {
            Event::Incomplete { msg_id, .. } => msg_id,
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(dropped, ["new", "huge"]);
    assert_eq!(r.pending_messages(), 0);
    let mut last = records("last", b"0123456789", 5, 1, 0);
    last.pop();
    assert!(feed_all(&mut r, last, now).is_empty());
    let events = r.finish();
    assert!(
        matches!(&events[..], [Event::Incomplete { msg_id, reason: DropReason::Stopped, .. }] if msg_id == "last"),
        "{events:?}"
    );
}

#[test]
fn malformed_segments_are_reported_not_glued() {
    let mut r = Reassembler::new(LIMITS);
    let now = Instant::now();
    let mut bad = plain("x", 5);
    bad.segment = Some(Err("header kafkup-segs is missing".into()));
    let events = r.feed(bad, now);
    assert!(matches!(&events[..], [Event::Malformed { reason, .. }] if reason.contains("missing")));
    let mut segs = records("m", b"0123456789", 4, 0, 0);
    let mut liar = segs[1].clone();
    if let Some(Ok(h)) = &mut liar.segment {
        h.count = 7;
        h.index = 5;
    }
    assert!(r.feed(segs.remove(0), now).is_empty());
    assert!(matches!(&r.feed(liar, now)[..], [Event::Malformed { .. }]));
    assert_eq!(
        values(&feed_all(&mut r, segs, now)),
        [b"0123456789".to_vec()]
    );
}

proptest! {
    /// Split, then feed every message's segments in any interleaving, with duplicates: each
    /// message comes out exactly once, byte for byte.
    #[test]
    fn split_then_reassemble_in_any_order(
        texts in prop::collection::vec(any::<String>(), 1..6),
        chunk in 4usize..40,
        order in prop::collection::vec(any::<prop::sample::Index>(), 0..400),
        dups in prop::collection::vec(any::<prop::sample::Index>(), 0..20),
    ) {
        let mut all: Vec<Record<()>> = texts
            .iter()
            .enumerate()
            .flat_map(|(i, t)| records(&format!("id-{i}"), t.as_bytes(), chunk, 0, i as i64 * 1000))
            .collect();
        for d in &dups {
            let copy = all[d.index(all.len())].clone();
            all.push(copy);
        }
        // A shuffle driven by the generated indexes.
        for (i, o) in order.iter().enumerate() {
            let len = all.len();
            all.swap(i % len, o.index(len));
        }
        let mut r = Reassembler::new(LIMITS);
        let events = feed_all(&mut r, all, Instant::now());
        let mut got = values(&events);
        let mut want: Vec<Vec<u8>> = texts.iter().map(|t| t.as_bytes().to_vec()).collect();
        got.sort();
        want.sort();
        prop_assert_eq!(got, want);
        prop_assert_eq!(r.pending_messages(), 0);
    }

    #[test]
    fn split_is_lossless_and_bounded(bytes in prop::collection::vec(any::<u8>(), 0..600), chunk in 4usize..64) {
        let pieces = split(&bytes, chunk);
        prop_assert_eq!(pieces.concat(), bytes.clone());
        prop_assert!(pieces.iter().all(|p| p.len() <= chunk));
        if let Ok(text) = std::str::from_utf8(&bytes) {
            let _ = text;
            prop_assert!(pieces.iter().all(|p| std::str::from_utf8(p).is_ok()));
        }
    }
}
