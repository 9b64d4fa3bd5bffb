//! Zero-copy numpy interop: numpy memory held by the engine, and engine memory seen by numpy.
//!
//! This module and `thread_state` are the only ones with `unsafe` code.
#![allow(unsafe_code)]

use numpy::ndarray::{ArrayViewD, IxDyn};
use numpy::{
    Element as NumpyElement, PyArray1, PyArrayDyn, PyArrayMethods, PyUntypedArray, PyUntypedArrayMethods,
};
use pyo3::prelude::*;
use pyo3::types::PyDict;
use remotemedia_core::Buffer;

/// A C-contiguous numpy array's memory, kept alive by a reference to the array.
struct NumpyMemory {
    _array: Py<PyAny>,
    ptr: *const u8,
    len: usize,
}

// SAFETY: `Py<PyAny>` is `Send`; `ptr` points into memory owned by that array object, which the
// reference keeps alive (numpy never frees or moves the data of a live array that owns or
// borrows it). The engine only reads it.
unsafe impl Send for NumpyMemory {}

impl AsRef<[u8]> for NumpyMemory {
    fn as_ref(&self) -> &[u8] {
        if self.len == 0 {
            return &[];
        }
        // SAFETY: `ptr..ptr+len` is the C-contiguous data of the live array held in `_array`
        // (checked in `wrap_numpy`); numpy data pointers are non-null for non-empty arrays.
        unsafe { std::slice::from_raw_parts(self.ptr, self.len) }
    }
}

/// The memory of a C-contiguous, aligned numpy array, shared without copying; `None` if the array
/// is not laid out that way (the caller copies instead).
pub fn wrap_numpy(array: &Bound<'_, PyUntypedArray>, itemsize: usize) -> Option<Buffer> {
    if !array.is_c_contiguous() {
        return None;
    }
    let flags = array.getattr("flags").ok()?;
    if !flags.getattr("aligned").ok()?.extract::<bool>().ok()? {
        return None;
    }
    let len = array.len() * itemsize;
    // SAFETY: reading the data pointer of a live array is sound; it is only dereferenced through
    // `NumpyMemory`, which keeps the array alive.
    let ptr = unsafe { (*array.as_array_ptr()).fields.data as *const u8 };
    Some(Buffer::from_owner(NumpyMemory {
        _array: array.clone().into_any().unbind(),
        ptr,
        len,
    }))
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
