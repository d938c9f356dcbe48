//! A cursor over a fuzz input that reads zeros past its end, shared by the targets that read
//! their input as a script.

/// A cursor over the fuzz input; past the end it reads zeros.
#[derive(Debug)]
pub(super) struct Bytes<'a> {
    data: &'a [u8],
}

impl<'a> Bytes<'a> {
    pub(super) fn new(data: &'a [u8]) -> Self {
        Self { data }
    }

    pub(super) fn is_empty(&self) -> bool {
        self.data.is_empty()
    }

    pub(super) fn byte(&mut self) -> u8 {
        match self.data.split_first() {
            Some((b, rest)) => {
                self.data = rest;
                *b
            }
            None => 0,
        }
    }

    pub(super) fn take(&mut self, n: usize) -> &'a [u8] {
        let (head, rest) = self.data.split_at(n.min(self.data.len()));
        self.data = rest;
        head
    }

    pub(super) fn u64(&mut self) -> u64 {
        let mut buf = [0u8; 8];
        let got = self.take(8);
        buf[..got.len()].copy_from_slice(got);
        u64::from_le_bytes(buf)
    }

    /// A length-prefixed (two bytes, little endian) piece of the input.
    pub(super) fn chunk(&mut self) -> &'a [u8] {
        let len = usize::from(u16::from_le_bytes([self.byte(), self.byte()]));
        self.take(len)
    }
}
