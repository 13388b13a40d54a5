//! A struct's fields as a JSON object, leaving some out *without serializing them*.
//!
//! Items with a history (firearms, lots, containers, scenes) carry every log entry that concerns
//! them, so serializing one whole and then dropping its history costs in proportion to the log.
//! The projection rows (an item without its history) and the compact `/api/state` are built
//! with [`fields_except`] instead, which never touches the skipped fields.

use serde::Serialize;
use serde::ser::{self, Impossible};
use serde_json::{Map, Value};

/// The fields of `item` (a struct with named fields) but those named in `skip`, as JSON.
pub fn fields_except<T: Serialize>(
    item: &T,
    skip: &'static [&'static str],
) -> Result<Map<String, Value>, serde_json::Error> {
    item.serialize(Fields { skip })
}

struct Fields {
    skip: &'static [&'static str],
}

/// The object being collected.
struct Collect {
    skip: &'static [&'static str],
    map: Map<String, Value>,
}

impl ser::SerializeStruct for Collect {
    type Ok = Map<String, Value>;
    type Error = serde_json::Error;

    fn serialize_field<T: ?Sized + Serialize>(
        &mut self,
        key: &'static str,
        value: &T,
    ) -> Result<(), Self::Error> {
        if !self.skip.contains(&key) {
            self.map
                .insert(key.to_owned(), serde_json::to_value(value)?);
        }
        Ok(())
    }

    fn end(self) -> Result<Self::Ok, Self::Error> {
        Ok(self.map)
    }
}

fn not_a_struct() -> serde_json::Error {
    ser::Error::custom("fields_except takes a struct with named fields")
}

/// Every other shape is refused: only `serialize_struct` is meaningful here.
macro_rules! refuse {
    ($($name:ident($($t:ty),*);)*) => {
        $(fn $name(self, $(_: $t),*) -> Result<Self::Ok, Self::Error> { Err(not_a_struct()) })*
    };
}

impl ser::Serializer for Fields {
    type Ok = Map<String, Value>;
    type Error = serde_json::Error;
    type SerializeSeq = Impossible<Self::Ok, Self::Error>;
    type SerializeTuple = Impossible<Self::Ok, Self::Error>;
    type SerializeTupleStruct = Impossible<Self::Ok, Self::Error>;
    type SerializeTupleVariant = Impossible<Self::Ok, Self::Error>;
    type SerializeMap = Impossible<Self::Ok, Self::Error>;
    type SerializeStruct = Collect;
    type SerializeStructVariant = Impossible<Self::Ok, Self::Error>;

    fn serialize_struct(self, _: &'static str, len: usize) -> Result<Collect, Self::Error> {
        Ok(Collect {
            skip: self.skip,
            map: Map::with_capacity(len),
        })
    }

    refuse! {
        serialize_bool(bool); serialize_i8(i8); serialize_i16(i16); serialize_i32(i32);
        serialize_i64(i64); serialize_u8(u8); serialize_u16(u16); serialize_u32(u32);
        serialize_u64(u64); serialize_f32(f32); serialize_f64(f64); serialize_char(char);
        serialize_str(&str); serialize_bytes(&[u8]); serialize_none(); serialize_unit();
        serialize_unit_struct(&'static str);
        serialize_unit_variant(&'static str, u32, &'static str);
    }

    fn serialize_some<T: ?Sized + Serialize>(self, _: &T) -> Result<Self::Ok, Self::Error> {
        Err(not_a_struct())
    }
    fn serialize_newtype_struct<T: ?Sized + Serialize>(
        self,
        _: &'static str,
        _: &T,
    ) -> Result<Self::Ok, Self::Error> {
        Err(not_a_struct())
    }
    fn serialize_newtype_variant<T: ?Sized + Serialize>(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: &T,
    ) -> Result<Self::Ok, Self::Error> {
        Err(not_a_struct())
    }
    fn serialize_seq(self, _: Option<usize>) -> Result<Self::SerializeSeq, Self::Error> {
        Err(not_a_struct())
    }
    fn serialize_tuple(self, _: usize) -> Result<Self::SerializeTuple, Self::Error> {
        Err(not_a_struct())
    }
    fn serialize_tuple_struct(
        self,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeTupleStruct, Self::Error> {
        Err(not_a_struct())
    }
    fn serialize_tuple_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeTupleVariant, Self::Error> {
        Err(not_a_struct())
    }
    fn serialize_map(self, _: Option<usize>) -> Result<Self::SerializeMap, Self::Error> {
        Err(not_a_struct())
    }
    fn serialize_struct_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeStructVariant, Self::Error> {
        Err(not_a_struct())
    }
}
