//! Concurrent values of one key, reported instead of hidden.
//!
//! When two replicas set the same map key without seeing each other's change, Automerge keeps
//! both values. [`automerge::ReadDoc::get`] returns a deterministic winner (the same on every
//! replica, whatever order the changes arrived in) and [`automerge::ReadDoc::get_all`] returns
//! every concurrent value. For status fields the model reports both through [`Conflict`], so a
//! user sees the disagreement and settles it by setting the field again.

/// The value of a key together with the values written concurrently with it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Conflict<T> {
    /// The value every replica shows: Automerge's deterministic winner, except for the case
    /// stage, which shows the value furthest along the workflow
    /// ([`super::case::workflow::resolve`]).
    pub value: T,
    /// The other concurrent values, each once, never equal to `value`, in Automerge's op order
    /// (for the case stage: furthest along the workflow first).
    pub alternatives: Vec<T>,
}

impl<T: PartialEq> Conflict<T> {
    /// Builds a report from the winner and the other concurrent values, dropping repeats.
    pub fn new(value: T, others: impl IntoIterator<Item = T>) -> Self {
        let mut alternatives: Vec<T> = Vec::new();
        for other in others {
            if other != value && !alternatives.contains(&other) {
                alternatives.push(other);
            }
        }
        Self {
            value,
            alternatives,
        }
    }
}

impl<T> Conflict<T> {
    /// A value nobody disagrees with.
    pub fn settled(value: T) -> Self {
        Self {
            value,
            alternatives: Vec::new(),
        }
    }

    /// Whether concurrent writers left different values that a user must settle.
    pub fn is_conflicted(&self) -> bool {
        !self.alternatives.is_empty()
    }

    /// Every value: the winner first, then the alternatives.
    pub fn all(&self) -> impl Iterator<Item = &T> {
        std::iter::once(&self.value).chain(self.alternatives.iter())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repeats_and_the_winner_are_not_alternatives() {
        let report = Conflict::new("a", ["a", "b", "b", "c"]);
        assert_eq!(report.alternatives, vec!["b", "c"]);
        assert!(report.is_conflicted());
        assert_eq!(report.all().count(), 3);
        assert!(!Conflict::new("a", ["a"]).is_conflicted());
    }
}
