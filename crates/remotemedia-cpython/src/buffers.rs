//! Zero-copy numpy interop: numpy memory held by the engine, and engine memory seen by numpy.
//!
//! This module and `thread_state` are the only ones with `unsafe` code.
#![allow(unsafe_code)]

use numpy::ndarray::{ArrayViewD, IxDyn};
use numpy::{
    Element as NumpyElement, PyArray1, PyArrayDyn, PyArrayMethods, PyUntypedArray, PyUntypedArrayMethods,
};
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict};
use remotemedia_core::Buffer;

/// A frozen numpy array's memory (see [`wrap_numpy`]), kept alive by a reference to the array.
struct NumpyMemory {
    _array: Py<PyAny>,
    ptr: *const u8,
    len: usize,
}

// SAFETY: `Py<PyAny>` is `Send`; `ptr` points into memory owned by that array object (or what it
// views), which the reference keeps alive: numpy never frees or moves the data of a live array.
// Nothing writes that memory while the engine holds it, because `wrap_numpy` only takes arrays
// that cannot be written (checked down their whole chain of bases).
unsafe impl Send for NumpyMemory {}

impl AsRef<[u8]> for NumpyMemory {
    fn as_ref(&self) -> &[u8] {
        if self.len == 0 {
            return &[];
        }
        // SAFETY: `ptr..ptr+len` is the C-contiguous data of the live array held in `_array`
        // (checked in `wrap_numpy`), which nothing writes (see `unsafe impl Send` above); numpy
        // data pointers are non-null for non-empty arrays.
        unsafe { std::slice::from_raw_parts(self.ptr, self.len) }
    }
}

/// Whether nothing can write `array`'s memory: the array is read-only, and so is every array it
/// views, down to memory that cannot change (an array that owns its data, `bytes`, or engine
/// memory). Views of writable arrays and of other buffers (bytearray, mmap) are not frozen.
fn is_frozen(array: &Bound<'_, PyUntypedArray>) -> PyResult<bool> {
    let mut current = array.clone().into_any();
    loop {
        let Ok(arr) = current.cast::<PyUntypedArray>() else {
            return Ok(current.is_instance_of::<PyBytes>() || current.is_instance_of::<BufferKeeper>());
        };
        if arr.getattr("flags")?.getattr("writeable")?.extract::<bool>()? {
            return Ok(false);
        }
        let base = arr.getattr("base")?;
        if base.is_none() {
            return Ok(true);
        }
        current = base;
    }
}

/// The memory of a frozen (see `is_frozen`), C-contiguous, aligned numpy array, shared without
/// copying; `None` if the array is not such an array (the caller copies it instead).
///
/// Only read-only memory is shared because the engine reads it from its own threads without the
/// GIL: memory Python code could write meanwhile would be a data race. (An array that owns its
/// data can be made writable again with `setflags(write=True)`; doing that while a run holds it
/// breaks this contract, as writing to a buffer lent to C code does.)
pub fn wrap_numpy(array: &Bound<'_, PyUntypedArray>, itemsize: usize) -> PyResult<Option<Buffer>> {
    if !array.is_c_contiguous() || !array.getattr("flags")?.getattr("aligned")?.extract::<bool>()? {
        return Ok(None);
    }
    if !is_frozen(array)? {
        return Ok(None);
    }
    let len = array.len() * itemsize;
    // SAFETY: reading the data pointer of a live array is sound; it is only dereferenced through
    // `NumpyMemory`, which keeps the array alive.
    let ptr = unsafe { (*array.as_array_ptr()).fields.data as *const u8 };
    Ok(Some(Buffer::from_owner(NumpyMemory {
        _array: array.clone().into_any().unbind(),
        ptr,
        len,
    })))
}

/// A private, C-ordered copy of `array`'s memory (for arrays [`wrap_numpy`] cannot share), made
/// while the caller holds the GIL: a straight copy for C-contiguous arrays, numpy's for others.
pub fn copy_numpy(array: &Bound<'_, PyUntypedArray>, itemsize: usize) -> PyResult<Buffer> {
    let len = array.len() * itemsize;
    if array.is_c_contiguous() && len > 0 {
        // SAFETY: the data pointer of a live C-contiguous array covers `len` bytes; the GIL is held
        // and the array referenced for the whole copy, so it is neither freed nor moved meanwhile.
        let bytes =
            unsafe { std::slice::from_raw_parts((*array.as_array_ptr()).fields.data as *const u8, len) };
        return Ok(Buffer::from_owner(AlignedBytes::copy_of(bytes)));
    }
    let kwargs = PyDict::new(array.py());
    kwargs.set_item("order", "C")?;
    kwargs.set_item("copy", true)?;
    let copy = array
        .py()
        .import("numpy")?
        .call_method("array", (array,), Some(&kwargs))?;
    let write = PyDict::new(array.py());
    write.set_item("write", false)?;
    copy.call_method("setflags", (), Some(&write))?;
    wrap_numpy(copy.cast::<PyUntypedArray>()?, itemsize)?
        .ok_or_else(|| pyo3::exceptions::PyValueError::new_err("could not copy the numpy array into C order"))
}

/// Bytes in memory aligned for every numpy element type (16 bytes).
struct AlignedBytes {
    words: Vec<u128>,
    len: usize,
}

impl AlignedBytes {
    fn copy_of(bytes: &[u8]) -> Self {
        let mut words = vec![0u128; bytes.len().div_ceil(16)];
        bytemuck::cast_slice_mut::<u128, u8>(&mut words)[..bytes.len()].copy_from_slice(bytes);
        Self {
            words,
            len: bytes.len(),
        }
    }
}

impl AsRef<[u8]> for AlignedBytes {
    fn as_ref(&self) -> &[u8] {
        &bytemuck::cast_slice::<u128, u8>(&self.words)[..self.len]
    }
}

/// Keeps engine memory alive for as long as numpy arrays view it.
#[pyclass(frozen, name = "_BufferKeeper", module = "remotemedia_engine")]
pub struct BufferKeeper {
    _buffer: Buffer,
}

/// A read-only numpy array of `shape` viewing `buffer` without copying (or a copy, if the buffer is
/// not aligned for `T`, which only foreign memory can be).
pub fn numpy_view<'py, T: NumpyElement + bytemuck::Pod>(
    py: Python<'py>,
    buffer: &Buffer,
    shape: &[usize],
) -> PyResult<Bound<'py, PyAny>> {
    let array = match buffer.as_slice::<T>() {
        Some(slice) => {
            let view = ArrayViewD::from_shape(IxDyn(shape), slice)
                .map_err(|e| pyo3::exceptions::PyValueError::new_err(format!("bad array shape: {e}")))?;
            let keeper = Bound::new(
                py,
                BufferKeeper {
                    _buffer: buffer.clone(),
                },
            )?;
            // SAFETY: `view` borrows `buffer`'s memory; `keeper` holds a clone of that buffer (the
            // same memory, reference-counted) and becomes the array's base, so the memory lives as
            // long as the array. The array is made read-only below, so nothing writes through it.
            let array = unsafe { PyArrayDyn::<T>::borrow_from_array(&view, keeper.into_any()) };
            array.into_any()
        }
        None => {
            let values: Vec<T> = buffer.to_vec::<T>().unwrap_or_default();
            PyArray1::from_vec(py, values).reshape(shape.to_vec())?.into_any()
        }
    };
    let kwargs = PyDict::new(py);
    kwargs.set_item("write", false)?;
    array.call_method("setflags", (), Some(&kwargs))?;
    Ok(array)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn eval<'py>(py: Python<'py>, code: &std::ffi::CStr) -> Bound<'py, PyUntypedArray> {
        let numpy = pyo3::types::PyDict::new(py);
        numpy
            .set_item("np", py.import("numpy").expect("numpy"))
            .expect("set");
        py.eval(code, Some(&numpy), None)
            .expect("eval")
            .cast_into::<PyUntypedArray>()
            .expect("an array")
    }

    #[test]
    fn only_frozen_arrays_are_shared_and_others_are_copied() {
        Python::initialize();
        Python::attach(|py| {
            // Writable: never shared.
            let writable = eval(py, c"np.arange(4, dtype=np.int32)");
            assert!(wrap_numpy(&writable, 4).expect("wrap").is_none());
            // Read-only, owning its data: shared, the very memory.
            let frozen = eval(
                py,
                c"(lambda a: (a.setflags(write=False), a)[1])(np.arange(4, dtype=np.int32))",
            );
            let shared = wrap_numpy(&frozen, 4).expect("wrap").expect("shared");
            assert_eq!(shared.as_slice::<i32>(), Some(&[0, 1, 2, 3][..]));
            // SAFETY: reading the data pointer of a live array.
            let data = unsafe { (*frozen.as_array_ptr()).fields.data } as usize;
            assert_eq!(shared.as_bytes().as_ptr() as usize, data);
            // A read-only view of a writable array: its base can still change it, so not shared.
            let view = eval(
                py,
                c"(lambda a: (a.setflags(write=False), a)[1])(np.arange(4, dtype=np.int32)[:])",
            );
            assert!(wrap_numpy(&view, 4).expect("wrap").is_none());
            // Read-only over immutable bytes: shared.
            let over_bytes = eval(py, c"np.frombuffer(bytes([1, 0, 2, 0]), dtype=np.int16)");
            assert!(wrap_numpy(&over_bytes, 2).expect("wrap").is_some());
            // Read-only over a bytearray (writable through the bytearray): not shared.
            let over_bytearray = eval(
                py,
                c"(lambda a: (a.setflags(write=False), a)[1])(np.frombuffer(bytearray(4), dtype=np.int16))",
            );
            assert!(wrap_numpy(&over_bytearray, 2).expect("wrap").is_none());
            // A copy is private: later writes to the original do not reach it.
            let copied = copy_numpy(&writable, 4).expect("copy");
            writable
                .call_method1("__setitem__", (0, 99))
                .expect("write the original");
            assert_eq!(copied.as_slice::<i32>(), Some(&[0, 1, 2, 3][..]));
            // A strided array copies into C order.
            let strided = eval(py, c"np.arange(8, dtype=np.int32)[::2]");
            assert!(wrap_numpy(&strided, 4).expect("wrap").is_none());
            assert_eq!(
                copy_numpy(&strided, 4).expect("copy").as_slice::<i32>(),
                Some(&[0, 2, 4, 6][..])
            );
        });
    }

    #[test]
    fn engine_memory_comes_back_read_only_and_shares_its_buffer() {
        Python::initialize();
        Python::attach(|py| {
            let buffer = Buffer::from_vec(vec![1.5f32, -2.0, 3.25]);
            let array = numpy_view::<f32>(py, &buffer, &[3]).expect("view");
            let array = array.cast::<PyUntypedArray>().expect("array");
            assert!(
                !array
                    .getattr("flags")
                    .and_then(|f| f.getattr("writeable"))
                    .and_then(|w| w.extract::<bool>())
                    .expect("flags")
            );
            // Handing it back to the engine shares the same memory again (its base is engine memory).
            let again = wrap_numpy(array, 4).expect("wrap").expect("shared");
            assert_eq!(again.as_bytes().as_ptr(), buffer.as_bytes().as_ptr());
            assert!(array.call_method1("__setitem__", (0, 0.0)).is_err(), "read-only");
        });
    }
}
