//! What a file is, by its first bytes (never by its name or the client's word): the types a case
//! holds are PDF (scans, letters), JPEG and PNG (photos, screenshots), HEIC/HEIF (what iPhones
//! and many Android phones save photos as) and WebP (Android screenshots and browsers' saves).
//! Anything else (office files, archives, executables, HTML) is refused with a Polish message.

pub use sync_core::model::case::SNIFF_BYTES;

/// What a refused type is told.
pub const REFUSED: &str = "Nieobsługiwany rodzaj pliku. Załącznik może być plikiem PDF albo \
    zdjęciem JPEG, PNG, HEIC/HEIF lub WebP.";

/// The MIME type of a file starting with `head`, or `None` for a type not allowed (the model's
/// [`sync_core::model::case::sniff_mime`], which tablets use too).
pub fn sniff(head: &[u8]) -> Option<&'static str> {
    sync_core::model::case::sniff_mime(head)
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
