//! The ASF's `.sha512` files, in both formats they come in, and SHA-512 helpers.
//!
//! Kafka (`gpg --print-md SHA512`): `file.tgz: 00722AB0 A6B954E0 …` over several indented lines.
//! ZooKeeper (`sha512sum`): `<128 lowercase hex>  file.tar.gz`, without a trailing newline.

use sha2::{Digest, Sha512};

/// Why a `.sha512` file could not be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ChecksumFileError {
    #[error("the file is empty")]
    Empty,
    #[error("it holds {0} hex digits where a SHA-512 has 128")]
    WrongLength(usize),
    #[error("it is not text")]
    NotText,
    #[error("it is the checksum of {named:?}, not of {expected:?}")]
    OtherFile { named: String, expected: String },
}

/// Parse a `.sha512` file for `file_name` into 128 lowercase hex digits.
///
/// One rule for both formats: if a `:` comes before any whitespace, what precedes it is the file
/// name (gpg form); otherwise the text after the digits, if any, is the file name (sha512sum form).
/// Of the rest only hex digits count, and there must be exactly 128.
pub fn parse_sha512_file(content: &[u8], file_name: &str) -> Result<String, ChecksumFileError> {
    let text = std::str::from_utf8(content).map_err(|_| ChecksumFileError::NotText)?;
    let text = text.trim();
    if text.is_empty() {
        return Err(ChecksumFileError::Empty);
    }
    let first_space = text.find(char::is_whitespace).unwrap_or(text.len());
    let (named, digits) = match text.find(':') {
        Some(colon) if colon < first_space => (Some(&text[..colon]), &text[colon + 1..]),
        _ => sha512sum_form(text),
    };
    let hex: String = digits
        .chars()
        .filter(char::is_ascii_hexdigit)
        .map(|c| c.to_ascii_lowercase())
        .collect();
    if hex.len() != 128 {
        return Err(ChecksumFileError::WrongLength(hex.len()));
    }
    if let Some(named) = named {
        check_name(named, file_name)?;
    }
    Ok(hex)
}

/// `<hex>  [*]name`: split the digits from the name that follows them, if any.
fn sha512sum_form(text: &str) -> (Option<&str>, &str) {
    match text.split_once(char::is_whitespace) {
        Some((digits, name)) => (Some(name.trim().trim_start_matches('*')), digits),
        None => (None, text),
    }
}

/// A checksum that names a file must name ours (a path before it is fine).
fn check_name(named: &str, file_name: &str) -> Result<(), ChecksumFileError> {
    let base = named.trim().rsplit('/').next().unwrap_or_default();
    if base == file_name {
        Ok(())
    } else {
        Err(ChecksumFileError::OtherFile {
            named: named.trim().to_string(),
            expected: file_name.to_string(),
        })
    }
}

/// Lowercase hex of a finished SHA-512.
pub fn hex_digest(hasher: Sha512) -> String {
    hex::encode(hasher.finalize())
}

/// SHA-512 of everything `reader` yields, in lowercase hex.
pub fn sha512_of(mut reader: impl std::io::Read) -> std::io::Result<String> {
    let mut hasher = Sha512::new();
    std::io::copy(&mut reader, &mut hasher)?;
    Ok(hex_digest(hasher))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The real `kafka_2.13-4.0.0.tgz.sha512`, as `gpg --print-md` wrote it.
    const KAFKA_FORM: &str =
        "kafka_2.13-4.0.0.tgz: 00722AB0 A6B954E0 006994B8 D589DCD8 F26E1827 C47F70B6
                      E820FB45 AA35945C 19163B0F 188CAF0C AF976C11 F7AB005F
                      D368C54E 5851E899 D2DE687A 804A5EB9
";
    const KAFKA_HEX: &str = "00722ab0a6b954e0006994b8d589dcd8f26e1827c47f70b6e820fb45aa35945c19163b0f188caf0caf976c11f7ab005fd368c54e5851e899d2de687a804a5eb9";

    #[test]
    fn parses_the_gpg_print_md_form() {
        assert_eq!(
            parse_sha512_file(KAFKA_FORM.as_bytes(), "kafka_2.13-4.0.0.tgz").unwrap(),
            KAFKA_HEX
        );
    }

    #[test]
    fn parses_the_sha512sum_form_without_trailing_newline() {
        let content = format!("{KAFKA_HEX}  apache-zookeeper-3.9.3-bin.tar.gz");
        let got =
            parse_sha512_file(content.as_bytes(), "apache-zookeeper-3.9.3-bin.tar.gz").unwrap();
        assert_eq!(got, KAFKA_HEX);
        let binary_mode = format!("{KAFKA_HEX} *apache-zookeeper-3.9.3-bin.tar.gz\n");
        assert!(
            parse_sha512_file(binary_mode.as_bytes(), "apache-zookeeper-3.9.3-bin.tar.gz").is_ok()
        );
    }

    #[test]
    fn accepts_bare_digits_and_crlf() {
        assert_eq!(
            parse_sha512_file(KAFKA_HEX.as_bytes(), "x.tgz").unwrap(),
            KAFKA_HEX
        );
        let crlf = KAFKA_FORM.replace('\n', "\r\n");
        assert_eq!(
            parse_sha512_file(crlf.as_bytes(), "kafka_2.13-4.0.0.tgz").unwrap(),
            KAFKA_HEX
        );
    }

    #[test]
    fn a_path_before_the_name_is_fine() {
        let content = format!("{KAFKA_HEX}  ./dist/x.tgz\n");
        assert!(parse_sha512_file(content.as_bytes(), "x.tgz").is_ok());
    }

    #[test]
    fn rejects_a_checksum_of_another_file() {
        let err = parse_sha512_file(KAFKA_FORM.as_bytes(), "kafka_2.13-3.9.2.tgz").unwrap_err();
        assert!(
            matches!(err, ChecksumFileError::OtherFile { .. }),
            "{err:?}"
        );
        let other = format!("{KAFKA_HEX}  apache-zookeeper-3.9.3.tar.gz");
        assert!(parse_sha512_file(other.as_bytes(), "apache-zookeeper-3.9.3-bin.tar.gz").is_err());
    }

    #[test]
    fn rejects_empty_and_malformed() {
        assert_eq!(parse_sha512_file(b"", "x"), Err(ChecksumFileError::Empty));
        assert_eq!(
            parse_sha512_file(b" \n\t", "x"),
            Err(ChecksumFileError::Empty)
        );
        assert_eq!(
            parse_sha512_file(b"<html>Not Found</html>", "x"),
            Err(ChecksumFileError::WrongLength(0))
        );
        assert_eq!(
            parse_sha512_file(&KAFKA_HEX.as_bytes()[..127], "x"),
            Err(ChecksumFileError::WrongLength(127))
        );
        let too_long = format!("{KAFKA_HEX}a");
        assert_eq!(
            parse_sha512_file(too_long.as_bytes(), "x"),
            Err(ChecksumFileError::WrongLength(129))
        );
        assert_eq!(
            parse_sha512_file(&[0xff, 0xfe], "x"),
            Err(ChecksumFileError::NotText)
        );
    }

    #[test]
    fn hashes_a_reader() {
        // sha512("abc") from FIPS 180-2.
        assert!(sha512_of(&b"abc"[..])
            .unwrap()
            .starts_with("ddaf35a193617aba"));
    }
}
