//! [`Buffer`]: shared, immutable, typed-or-raw memory behind audio samples and arrays.

use bytemuck::Pod;
use bytes::Bytes;

/// Shared immutable memory. Cloning is an `Arc` increment; the bytes are never copied.
///
/// A buffer built from a typed `Vec<T>` ([`Buffer::from_vec`]) keeps that vector's allocation (no
/// copy) and its alignment, so [`Buffer::as_slice`] views it as `&[T]` again for free. A buffer can
/// also wrap memory owned by someone else ([`Buffer::from_owner`]), for example a numpy array kept
/// alive by the Python extension: nothing is copied there either. Only [`Buffer::to_vec`] copies.
#[derive(Clone, Default)]
pub struct Buffer {
    bytes: Bytes,
}

/// A `Vec<T>` seen as bytes, so that [`Bytes::from_owner`] can hold it without copying.
struct PodVec<T>(Vec<T>);

impl<T: Pod> AsRef<[u8]> for PodVec<T> {
    fn as_ref(&self) -> &[u8] {
        bytemuck::cast_slice(&self.0)
    }
}

impl Buffer {
    /// Takes ownership of `values` without copying them.
    pub fn from_vec<T: Pod + Send + Sync>(values: Vec<T>) -> Self {
        Self {
            bytes: Bytes::from_owner(PodVec(values)),
        }
    }

    /// Copies `values` into a new buffer.
    pub fn copy_from_slice<T: Pod + Send + Sync>(values: &[T]) -> Self {
        Self::from_vec(values.to_vec())
    }

    /// Wraps memory owned by `owner` (kept alive as long as any clone of the buffer lives).
    pub fn from_owner<O: AsRef<[u8]> + Send + 'static>(owner: O) -> Self {
        Self {
            bytes: Bytes::from_owner(owner),
        }
    }

    /// The raw bytes, in native byte order.
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// Length in bytes.
    pub fn len(&self) -> usize {
        self.bytes.len()
    }

    /// Whether the buffer holds no bytes.
    pub fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }

    /// A typed view without copying; `None` when the length is not a multiple of `size_of::<T>()`
    /// or the memory is not aligned for `T` (possible only for foreign memory; use [`Buffer::to_vec`]).
    pub fn as_slice<T: Pod>(&self) -> Option<&[T]> {
        bytemuck::try_cast_slice(&self.bytes).ok()
    }

    /// A typed copy; works for any alignment. `None` when the length does not fit `T`.
    pub fn to_vec<T: Pod>(&self) -> Option<Vec<T>> {
        let size = std::mem::size_of::<T>();
        if size == 0 || !self.bytes.len().is_multiple_of(size) {
            return None;
        }
        Some(
            self.bytes
                .chunks_exact(size)
                .map(bytemuck::pod_read_unaligned)
                .collect(),
        )
    }

    /// Whether two buffers share the same memory (used to prove that no copy happened).
    pub fn shares_memory_with(&self, other: &Buffer) -> bool {
        self.bytes.as_ptr() == other.bytes.as_ptr() && self.bytes.len() == other.bytes.len()
    }
}

impl PartialEq for Buffer {
    fn eq(&self, other: &Self) -> bool {
        self.bytes == other.bytes
    }
}

impl std::fmt::Debug for Buffer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Buffer({} bytes)", self.bytes.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn from_vec_keeps_the_allocation() {
        let v = vec![1.5f32, -2.0, 3.25];
        let ptr = v.as_ptr() as *const u8;
        let buf = Buffer::from_vec(v);
        assert_eq!(buf.as_bytes().as_ptr(), ptr);
        assert_eq!(buf.as_slice::<f32>(), Some(&[1.5f32, -2.0, 3.25][..]));
        let clone = buf.clone();
        assert!(clone.shares_memory_with(&buf));
    }

    #[test]
    fn typed_views_check_length() {
        let buf = Buffer::from_vec(vec![1u8, 2, 3]);
        assert_eq!(buf.as_slice::<u16>(), None);
        assert_eq!(buf.to_vec::<u16>(), None);
        assert_eq!(buf.to_vec::<u8>(), Some(vec![1, 2, 3]));
    }
}
