//! Fixed-size buffers (`tune.bufsize`) from a pool. A connection takes one only
//! while bytes are in flight and gives it back once drained, so an idle
//! connection holds no buffer.

/// A byte buffer with a read cursor (`start`) and a fill cursor (`end`).
pub struct Buffer {
    data: Box<[u8]>,
    start: usize,
    end: usize,
}

impl Buffer {
    pub fn is_empty(&self) -> bool {
        self.start == self.end
    }
    pub fn len(&self) -> usize {
        self.end - self.start
    }
    pub fn is_full(&self) -> bool {
        self.len() == self.data.len()
    }
    /// Bytes waiting to be sent.
    pub fn pending(&self) -> &[u8] {
        &self.data[self.start..self.end]
    }
    /// Mark `n` pending bytes as sent.
    pub fn consume(&mut self, n: usize) {
        self.start += n;
        debug_assert!(self.start <= self.end);
        if self.start == self.end {
            self.start = 0;
            self.end = 0;
        }
    }
    /// Drop `n` pending bytes at offset `at` (not sent, ever): the bytes before
    /// them move up, so offsets below `at` stay valid.
    pub fn cut(&mut self, at: usize, n: usize) {
        let at = at.min(self.len());
        let n = n.min(self.len() - at);
        let s = self.start;
        self.data.copy_within(s..s + at, s + n);
        self.consume(n);
    }
    /// Free space to read into, compacting first if the tail is exhausted.
    pub fn space(&mut self) -> &mut [u8] {
        if self.end == self.data.len() && self.start > 0 {
            self.data.copy_within(self.start..self.end, 0);
            self.end -= self.start;
            self.start = 0;
        }
        &mut self.data[self.end..]
    }
    /// Mark `n` bytes of `space()` as filled.
    pub fn fill(&mut self, n: usize) {
        self.end += n;
        debug_assert!(self.end <= self.data.len());
    }
}

/// Pool of equally sized buffers; keeps at most `keep` spares for reuse.
pub struct BufferPool {
    size: usize,
    free: Vec<Box<[u8]>>,
    keep: usize,
    in_use: usize,
}

impl BufferPool {
    pub fn new(size: usize, keep: usize) -> BufferPool {
        BufferPool {
            size,
            free: Vec::new(),
            keep,
            in_use: 0,
        }
    }
    pub fn bufsize(&self) -> usize {
        self.size
    }
    /// Buffers currently held by connections.
    pub fn in_use(&self) -> usize {
        self.in_use
    }
    pub fn get(&mut self) -> Buffer {
        self.in_use += 1;
        let data = self
            .free
            .pop()
            .unwrap_or_else(|| vec![0u8; self.size].into_boxed_slice());
        Buffer {
            data,
            start: 0,
            end: 0,
        }
    }
    pub fn put(&mut self, buf: Buffer) {
        self.in_use -= 1;
        if self.free.len() < self.keep {
            self.free.push(buf.data);
        }
    }
    /// Return `slot`'s buffer to the pool if it holds no data.
    pub fn release_if_empty(&mut self, slot: &mut Option<Buffer>) {
        if slot.as_ref().is_some_and(Buffer::is_empty) {
            if let Some(b) = slot.take() {
                self.put(b);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn drained_buffer_returns_to_pool() {
        let mut pool = BufferPool::new(8, 4);
        let mut slot = Some(pool.get());
        let b = slot.as_mut().unwrap();
        b.space()[..3].copy_from_slice(b"abc");
        b.fill(3);
        pool.release_if_empty(&mut slot);
        assert!(slot.is_some(), "a buffer with data is kept");
        slot.as_mut().unwrap().consume(3);
        pool.release_if_empty(&mut slot);
        assert!(slot.is_none());
        assert_eq!(pool.in_use(), 0);
    }

    #[test]
    fn full_tail_is_compacted_before_reading() {
        let mut pool = BufferPool::new(4, 1);
        let mut b = pool.get();
        b.space().copy_from_slice(b"wxyz");
        b.fill(4);
        assert!(b.is_full());
        b.consume(2);
        assert_eq!(b.space().len(), 2);
        assert_eq!(b.pending(), b"yz");
        pool.put(b);
    }
}
