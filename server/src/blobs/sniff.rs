//! What a file is, by its first bytes (never by its name or the client's word): the types a case
//! holds are PDF (scans, letters), JPEG and PNG (photos, screenshots), HEIC/HEIF (what iPhones
//! and many Android phones save photos as) and WebP (Android screenshots and browsers' saves).
//! Anything else (office files, archives, executables, HTML) is refused with a Polish message.

/// How many first bytes [`sniff`] needs (fewer only when the whole file is shorter).
pub const SNIFF_BYTES: usize = 16;

/// What a refused type is told.
pub const REFUSED: &str = "Nieobsługiwany rodzaj pliku. Załącznik może być plikiem PDF albo \
    zdjęciem JPEG, PNG, HEIC/HEIF lub WebP.";

/// The MIME type of a file starting with `head`, or `None` for a type not allowed.
pub fn sniff(head: &[u8]) -> Option<&'static str> {
    const PNG: &[u8] = b"\x89PNG\r\n\x1a\n";
    if head.starts_with(b"%PDF-") {
        return Some("application/pdf");
    }
    if head.starts_with(&[0xFF, 0xD8, 0xFF]) {
        return Some("image/jpeg");
    }
    if head.starts_with(PNG) {
        return Some("image/png");
    }
    if head.len() >= 12 && &head[..4] == b"RIFF" && &head[8..12] == b"WEBP" {
        return Some("image/webp");
    }
    if head.len() >= 12 && &head[4..8] == b"ftyp" {
        return match &head[8..12] {
            b"heic" | b"heix" | b"heim" | b"heis" | b"hevc" | b"hevx" => Some("image/heic"),
            b"mif1" | b"msf1" => Some("image/heif"),
            _ => None,
        };
    }
    None
}

#[cfg(test)]
mod tests {
    use super::sniff;

    #[test]
    fn allowed_types_are_told_by_their_first_bytes() {
        let table: &[(&[u8], Option<&str>)] = &[
            (b"%PDF-1.7\n%\xe2\xe3", Some("application/pdf")),
            (b"\xFF\xD8\xFF\xE0\x00\x10JFIF", Some("image/jpeg")),
            (b"\x89PNG\r\n\x1a\n\x00\x00\x00\x0dIHDR", Some("image/png")),
            (b"RIFF\x24\x00\x00\x00WEBPVP8 ", Some("image/webp")),
            (
                b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00",
                Some("image/heic"),
            ),
            (
                b"\x00\x00\x00\x18ftypmif1\x00\x00\x00\x00",
                Some("image/heif"),
            ),
            (b"\x00\x00\x00\x18ftypisom\x00\x00\x00\x00", None),
            (b"PK\x03\x04\x14\x00\x06\x00", None),
            (b"<!DOCTYPE html>", None),
            (b"MZ\x90\x00", None),
            (b"", None),
        ];
        for (head, expected) in table {
            assert_eq!(sniff(head), *expected, "{head:?}");
        }
    }
}
