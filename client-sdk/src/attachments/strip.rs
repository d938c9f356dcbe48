//! Photos lose their metadata before they are stored: EXIF (with its GPS position, the camera's
//! serial number, the time), XMP, IPTC, comments and text chunks. A photo of a family's kitchen
//! must not tell where the family lives or which phone took it.
//!
//! The containers are rewritten with `img-parts` (JPEG, PNG, WebP), without decoding or
//! re-encoding the pixels: the image is the camera's, byte for byte. Kept: what draws the image
//! right (JFIF, the ICC colour profile, Adobe's colour transform). HEIC/HEIF cannot be rewritten
//! by a maintained Rust library yet, so such photos are refused ([`SdkError::PhotoMetadata`]):
//! the app asks the camera for JPEG. A photo is parsed in memory, so images up to the
//! attachment limit are held once; PDFs and other files never pass here and are streamed.

use img_parts::jpeg::{markers, Jpeg, JpegSegment};
use img_parts::png::Png;
use img_parts::webp::WebP;
use img_parts::{Bytes, ImageEXIF};

use crate::error::SdkError;

/// JPEG application segments kept: APP0 (JFIF), APP2 when it is the ICC profile, and APP14
/// (Adobe's colour transform, needed to draw CMYK/YCCK images).
const KEPT_APP: [u8; 3] = [markers::APP0, markers::APP2, markers::APP14];
/// The start of an APP2 segment holding an ICC profile (others are the multi-picture index).
const ICC: &[u8] = b"ICC_PROFILE\0";
/// PNG chunks of text and time (tEXt, zTXt, iTXt may carry XMP or a location).
const PNG_TEXT: [[u8; 4]; 4] = [*b"tEXt", *b"zTXt", *b"iTXt", *b"tIME"];
/// WebP's XMP chunk.
const WEBP_XMP: [u8; 4] = *b"XMP ";

/// Whether a JPEG segment stays: not EXIF, XMP, IPTC, comments or a multi-picture index.
fn keep_jpeg_segment(segment: &JpegSegment) -> bool {
    let marker = segment.marker();
    if marker == markers::COM {
        return false;
    }
    if !(markers::APP0..=markers::APP15).contains(&marker) {
        return true;
    }
    KEPT_APP.contains(&marker) && (marker != markers::APP2 || segment.contents().starts_with(ICC))
}

/// The scan's data up to the image's end marker: what phones append after it (a second
/// image with its own EXIF, vendors' trailers) is dropped.
fn end_at_first_image(segment: &JpegSegment) -> JpegSegment {
    if segment.marker() != markers::SOS {
        return segment.clone();
    }
    // The entropy-coded data never holds 0xFF 0xD9 but as the end marker (0xFF is stuffed).
    let encoded = segment.clone().encoder().bytes();
    let header = 2 + 2 + segment.contents().len();
    let Some(scan) = encoded.get(header..) else {
        return segment.clone();
    };
    match scan.windows(2).position(|w| w == [0xFF, markers::EOI]) {
        Some(end) => JpegSegment::new_with_entropy(
            markers::SOS,
            segment.contents().clone(),
            encoded.slice(header..header + end + 2),
        ),
        None => segment.clone(),
    }
}

/// Whether files of `mime` are images whose metadata is removed before they are stored.
pub fn is_photo(mime: &str) -> bool {
    mime.starts_with("image/")
}

/// The image without its metadata. `mime` is the sniffed type.
pub fn strip(mime: &str, bytes: Vec<u8>) -> Result<Vec<u8>, SdkError> {
    let damaged = |e: img_parts::Error| SdkError::PhotoMetadata(format!("{mime}: {e}"));
    let bytes = Bytes::from(bytes);
    let out = match mime {
        "image/jpeg" => {
            let mut jpeg = Jpeg::from_bytes(bytes).map_err(damaged)?;
            jpeg.set_exif(None);
            let kept: Vec<JpegSegment> = jpeg
                .segments()
                .iter()
                .filter(|segment| keep_jpeg_segment(segment))
                .map(end_at_first_image)
                .collect();
            *jpeg.segments_mut() = kept;
            jpeg.encoder().bytes()
        }
        "image/png" => {
            let mut png = Png::from_bytes(bytes).map_err(damaged)?;
            png.set_exif(None);
            for kind in PNG_TEXT {
                png.remove_chunks_by_type(kind);
            }
            png.encoder().bytes()
        }
        "image/webp" => {
            let mut webp = WebP::from_bytes(bytes).map_err(damaged)?;
            // Removing the EXIF chunk last sets the extended header's flags for what is left.
            webp.remove_chunks_by_id(WEBP_XMP);
            webp.set_exif(None);
            webp.encoder().bytes()
        }
        other => {
            return Err(SdkError::PhotoMetadata(format!(
                "{other}: metadata of this format cannot be removed on the device"
            )))
        }
    };
    Ok(out.to_vec())
}
