//! Basic data nodes: pass-through, arithmetic, buffering.

mod buffer;
mod calculator;
mod elementwise;
mod passthrough;

use remotemedia_core::{Registry, Result};

pub(crate) fn register(registry: &mut Registry) -> Result<()> {
    registry.register(passthrough::descriptor(), passthrough::create)?;
    registry.register(calculator::descriptor(), calculator::create)?;
    registry.register(elementwise::multiply_descriptor(), elementwise::create_multiply)?;
    registry.register(elementwise::add_descriptor(), elementwise::create_add)?;
    registry.register(buffer::descriptor(), buffer::create)?;
    Ok(())
}
