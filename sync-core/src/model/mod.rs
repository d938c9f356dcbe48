//! Typed documents.
