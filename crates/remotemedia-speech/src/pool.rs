//! Loaded models and helper processes kept for the next node instance: every run of a pipeline
//! creates fresh nodes, and a voice takes most of a second to load, so a node leases what it needs
//! and gives it back when it is dropped. At most [`KEPT`] idle items are kept per key.

use std::collections::HashMap;
use std::ops::{Deref, DerefMut};
use std::sync::Mutex;

/// Idle items kept per key.
pub const KEPT: usize = 4;

/// Idle items by key (a model's path, a voice's name).
pub struct Pool<T> {
    idle: Mutex<HashMap<String, Vec<T>>>,
}

impl<T> Default for Pool<T> {
    fn default() -> Self {
        Self {
            idle: Mutex::new(HashMap::new()),
        }
    }
}

impl<T: Send + 'static> Pool<T> {
    /// An idle item for `key`, or a new one from `make`.
    pub fn lease<E>(&'static self, key: &str, make: impl FnOnce() -> Result<T, E>) -> Result<Lease<T>, E> {
        let idle = self
            .idle
            .lock()
            .ok()
            .and_then(|mut idle| idle.get_mut(key)?.pop());
        let item = match idle {
            Some(item) => item,
            None => make()?,
        };
        Ok(Lease {
            key: key.to_string(),
            item: Some(item),
            pool: self,
        })
    }
}

/// An item on lease: back to its pool when dropped.
pub struct Lease<T: Send + 'static> {
    key: String,
    item: Option<T>,
    pool: &'static Pool<T>,
}

impl<T: Send + 'static> Lease<T> {
    /// Drops the item instead of giving it back (it is broken).
    pub fn discard(mut self) {
        self.item = None;
    }
}

impl<T: Send + 'static> Deref for Lease<T> {
    type Target = T;
    fn deref(&self) -> &T {
        self.item.as_ref().expect("leased until dropped")
    }
}

impl<T: Send + 'static> DerefMut for Lease<T> {
    fn deref_mut(&mut self) -> &mut T {
        self.item.as_mut().expect("leased until dropped")
    }
}

impl<T: Send + 'static> Drop for Lease<T> {
    fn drop(&mut self) {
        let Some(item) = self.item.take() else { return };
        if let Ok(mut idle) = self.pool.idle.lock() {
            let kept = idle.entry(std::mem::take(&mut self.key)).or_default();
            if kept.len() < KEPT {
                kept.push(item);
            }
        }
    }
}
