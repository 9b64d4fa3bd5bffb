//! [`NdArray`]: an n-dimensional numeric array (dtype + shape + shared row-major data).

use super::Buffer;
use crate::error::{Error, Result};

/// Element type of an [`NdArray`]. Names follow numpy (`float32`, `int16`, ...).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DType {
    /// `bool`, one byte per element (0 or 1).
    Bool,
    /// `int8`
    I8,
    /// `int16`
    I16,
    /// `int32`
    I32,
    /// `int64`
    I64,
    /// `uint8`
    U8,
    /// `uint16`
    U16,
    /// `uint32`
    U32,
    /// `uint64`
    U64,
    /// `float32`
    F32,
    /// `float64`
    F64,
}

impl DType {
    /// Every supported dtype.
    pub const ALL: [DType; 11] = [
        DType::Bool,
        DType::I8,
        DType::I16,
        DType::I32,
        DType::I64,
        DType::U8,
        DType::U16,
        DType::U32,
        DType::U64,
        DType::F32,
        DType::F64,
    ];

    /// Bytes per element.
    pub fn size(self) -> usize {
        match self {
            DType::Bool | DType::I8 | DType::U8 => 1,
            DType::I16 | DType::U16 => 2,
            DType::I32 | DType::U32 | DType::F32 => 4,
            DType::I64 | DType::U64 | DType::F64 => 8,
        }
    }

    /// The numpy name (`float32`, `uint8`, ...).
    pub fn name(self) -> &'static str {
        match self {
            DType::Bool => "bool",
            DType::I8 => "int8",
            DType::I16 => "int16",
            DType::I32 => "int32",
            DType::I64 => "int64",
            DType::U8 => "uint8",
            DType::U16 => "uint16",
            DType::U32 => "uint32",
            DType::U64 => "uint64",
            DType::F32 => "float32",
            DType::F64 => "float64",
        }
    }

    /// Parses a numpy name.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|d| d.name() == name)
    }
}

/// An n-dimensional array of numbers, stored row-major (C order) in a shared [`Buffer`].
///
/// Cloning never copies the elements.
#[derive(Debug, Clone, PartialEq)]
pub struct NdArray {
    dtype: DType,
    shape: Vec<usize>,
    data: Buffer,
}

impl NdArray {
    /// Builds an array, checking that `data` holds exactly `product(shape)` elements of `dtype`.
    pub fn new(dtype: DType, shape: Vec<usize>, data: Buffer) -> Result<Self> {
        let elements = shape
            .iter()
            .try_fold(1usize, |acc, &d| acc.checked_mul(d))
            .ok_or_else(|| Error::invalid_value(format!("array shape {shape:?} is too large")))?;
        let expected = elements.saturating_mul(dtype.size());
        if data.len() != expected {
            return Err(Error::invalid_value(format!(
                "array of shape {shape:?} and dtype `{}` needs {expected} bytes, found {}",
                dtype.name(),
                data.len()
            )));
        }
        Ok(Self { dtype, shape, data })
    }

    /// Builds an array from typed elements without copying them.
    pub fn from_vec<T: Element>(shape: Vec<usize>, values: Vec<T>) -> Result<Self> {
        Self::new(T::DTYPE, shape, Buffer::from_vec(values))
    }

    /// Element type.
    pub fn dtype(&self) -> DType {
        self.dtype
    }

    /// Dimensions, outermost first.
    pub fn shape(&self) -> &[usize] {
        &self.shape
    }

    /// Total number of elements.
    pub fn len(&self) -> usize {
        self.shape.iter().product()
    }

    /// Whether the array has no elements.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The shared element memory.
    pub fn data(&self) -> &Buffer {
        &self.data
    }

    /// A typed view of the elements without copying; `None` if `T` is not the array's dtype.
    pub fn as_slice<T: Element>(&self) -> Option<&[T]> {
        (T::DTYPE == self.dtype).then(|| self.data.as_slice()).flatten()
    }

    /// Every element converted to `f64` (a copy), for generic numeric code.
    pub fn to_f64_vec(&self) -> Vec<f64> {
        fn conv<T: bytemuck::Pod + Copy>(b: &Buffer, f: impl Fn(T) -> f64) -> Vec<f64> {
            b.to_vec::<T>().unwrap_or_default().into_iter().map(f).collect()
        }
        let d = &self.data;
        match self.dtype {
            DType::Bool | DType::U8 => conv::<u8>(d, f64::from),
            DType::I8 => conv::<i8>(d, f64::from),
            DType::I16 => conv::<i16>(d, f64::from),
            DType::I32 => conv::<i32>(d, f64::from),
            DType::I64 => conv::<i64>(d, |v| v as f64),
            DType::U16 => conv::<u16>(d, f64::from),
            DType::U32 => conv::<u32>(d, f64::from),
            DType::U64 => conv::<u64>(d, |v| v as f64),
            DType::F32 => conv::<f32>(d, f64::from),
            DType::F64 => conv::<f64>(d, |v| v),
        }
    }
}

/// A Rust element type with a [`DType`].
pub trait Element: bytemuck::Pod + Send + Sync {
    /// The matching dtype.
    const DTYPE: DType;
}

macro_rules! element {
    ($($t:ty => $d:ident),*) => { $(impl Element for $t { const DTYPE: DType = DType::$d; })* };
}
element!(i8 => I8, i16 => I16, i32 => I32, i64 => I64, u8 => U8, u16 => U16, u32 => U32, u64 => U64, f32 => F32, f64 => F64);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shape_must_match_data() {
        let ok = NdArray::from_vec(vec![2, 3], vec![0i32; 6]).expect("2x3");
        assert_eq!(ok.len(), 6);
        assert_eq!(ok.as_slice::<i32>().map(<[i32]>::len), Some(6));
        assert_eq!(ok.as_slice::<f32>(), None);
        let err = NdArray::from_vec(vec![2, 2], vec![0i32; 6]).expect_err("wrong size");
        assert!(err.to_string().contains("needs 16 bytes, found 24"), "{err}");
    }

    #[test]
    fn dtype_names_round_trip() {
        for d in DType::ALL {
            assert_eq!(DType::from_name(d.name()), Some(d));
        }
        assert_eq!(DType::from_name("complex64"), None);
    }

    #[test]
    fn to_f64_converts_every_dtype() {
        let a = NdArray::from_vec(vec![3], vec![1u16, 2, 65535]).expect("u16");
        assert_eq!(a.to_f64_vec(), vec![1.0, 2.0, 65535.0]);
    }
}
