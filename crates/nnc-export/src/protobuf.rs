//! The protocol-buffers wire format, as much as ONNX needs: varints, length-delimited
//! fields and packed repeated numbers. Fields are written in the order the caller gives.

/// One message being written.
#[derive(Default)]
pub struct Message {
    bytes: Vec<u8>,
}

const VARINT: u64 = 0;
const LENGTH_DELIMITED: u64 = 2;
const FIXED32: u64 = 5;

impl Message {
    pub fn new() -> Message {
        Message::default()
    }

    fn varint(&mut self, mut value: u64) {
        while value >= 0x80 {
            self.bytes.push((value as u8) | 0x80);
            value >>= 7;
        }
        self.bytes.push(value as u8);
    }

    fn key(&mut self, field: u64, wire: u64) {
        self.varint((field << 3) | wire);
    }

    pub fn int(&mut self, field: u64, value: i64) -> &mut Message {
        self.key(field, VARINT);
        self.varint(value as u64);
        self
    }

    pub fn float(&mut self, field: u64, value: f32) -> &mut Message {
        self.key(field, FIXED32);
        self.bytes.extend_from_slice(&value.to_le_bytes());
        self
    }

    pub fn bytes(&mut self, field: u64, value: &[u8]) -> &mut Message {
        self.key(field, LENGTH_DELIMITED);
        self.varint(value.len() as u64);
        self.bytes.extend_from_slice(value);
        self
    }

    pub fn string(&mut self, field: u64, value: &str) -> &mut Message {
        self.bytes(field, value.as_bytes())
    }

    pub fn message(&mut self, field: u64, value: &Message) -> &mut Message {
        self.bytes(field, &value.bytes)
    }

    /// A packed repeated int64 field.
    pub fn packed_ints(&mut self, field: u64, values: &[i64]) -> &mut Message {
        let mut packed = Message::new();
        for &v in values {
            packed.varint(v as u64);
        }
        self.bytes(field, &packed.bytes)
    }

    pub fn into_bytes(self) -> Vec<u8> {
        self.bytes
    }
}

#[cfg(test)]
mod tests {
    use super::Message;

    /// The examples of the protocol-buffers encoding guide.
    #[test]
    fn encodes_as_the_specification_shows() {
        let mut m = Message::new();
        m.int(1, 150);
        assert_eq!(m.into_bytes(), [0x08, 0x96, 0x01]);
        let mut m = Message::new();
        m.string(2, "testing");
        assert_eq!(m.into_bytes(), [0x12, 0x07, b't', b'e', b's', b't', b'i', b'n', b'g']);
        let mut m = Message::new();
        m.packed_ints(4, &[3, 270, 86942]);
        assert_eq!(m.into_bytes(), [0x22, 0x06, 0x03, 0x8E, 0x02, 0x9E, 0xA7, 0x05]);
    }
}
