//! Closed sets of values stored as strings (stages, statuses, modes, sectors).
//!
//! Each set is a Rust enum with English variant names and a doc comment giving the Polish
//! term; in the document it is the snake_case wire string, e.g. `in_progress`.

/// An enum stored in a document as one of a fixed set of strings.
pub trait WireEnum: Sized + Copy + PartialEq + 'static {
    /// Every value, in declaration order.
    const ALL: &'static [Self];

    /// The string stored in the document.
    fn wire(self) -> &'static str;

    /// The value a stored string names, or `None` for a string this build does not know.
    fn from_wire(text: &str) -> Option<Self>;

    /// The accepted strings, for error messages: `one of "a", "b"`.
    fn expected() -> String {
        let names: Vec<String> = Self::ALL
            .iter()
            .map(|v| format!("{:?}", v.wire()))
            .collect();
        format!("one of {}", names.join(", "))
    }
}

/// Declares a [`WireEnum`] with its variants and wire strings, plus `as_str`, `parse` and
/// `Display`.
macro_rules! wire_enum {
    (
        $(#[$meta:meta])*
        $name:ident {
            $( $(#[$variant_meta:meta])* $variant:ident = $wire:literal, )+
        }
    ) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum $name {
            $( $(#[$variant_meta])* $variant, )+
        }

        impl $name {
            /// Every value, in declaration order.
            pub const ALL: &'static [Self] = &[$(Self::$variant,)+];

            /// The string stored in the document.
            pub fn as_str(self) -> &'static str {
                match self {
                    $(Self::$variant => $wire,)+
                }
            }

            /// The value a stored string names, or `None` for a string this build does not know.
            pub fn parse(text: &str) -> Option<Self> {
                match text {
                    $($wire => Some(Self::$variant),)+
                    _ => None,
                }
            }
        }

        impl $crate::model::WireEnum for $name {
            const ALL: &'static [Self] = $name::ALL;

            fn wire(self) -> &'static str {
                self.as_str()
            }

            fn from_wire(text: &str) -> Option<Self> {
                $name::parse(text)
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}
