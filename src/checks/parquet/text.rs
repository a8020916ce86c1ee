//! Arrow values as text: which types a metric can read, and one value written as its
//! text (numbers in their shortest form, dates as YYYY-MM-DD), as the text formats
//! would hold it.

use arrow_array::Array;
use arrow_array::cast::AsArray;
use arrow_array::types::*;
use arrow_schema::{DataType, TimeUnit};
use std::io::Write;

/// Every Arrow type a Parquet column can become that a metric can read.
pub(super) fn supported(t: &DataType) -> bool {
    match t {
        DataType::Dictionary(_, v) => supported(v),
        DataType::Null
        | DataType::Boolean
        | DataType::Int8
        | DataType::Int16
        | DataType::Int32
        | DataType::Int64
        | DataType::UInt8
        | DataType::UInt16
        | DataType::UInt32
        | DataType::UInt64
        | DataType::Float16
        | DataType::Float32
        | DataType::Float64
        | DataType::Decimal32(_, _)
        | DataType::Decimal64(_, _)
        | DataType::Decimal128(_, _)
        | DataType::Decimal256(_, _)
        | DataType::Date32
        | DataType::Date64
        | DataType::Timestamp(_, _)
        | DataType::Utf8
        | DataType::LargeUtf8
        | DataType::Utf8View
        | DataType::Binary
        | DataType::LargeBinary
        | DataType::BinaryView
        | DataType::FixedSizeBinary(_) => true,
        _ => false,
    }
}

/// `YYYY-MM-DD` of a day count since 1970-01-01.
pub(super) fn date_text(days: i32) -> Vec<u8> {
    let d = chrono::NaiveDate::from_num_days_from_ce_opt(days + 719_163);
    d.map(|d| d.format("%Y-%m-%d").to_string().into_bytes())
        .unwrap_or_default()
}

/// Write one Arrow value as text into `out` (numbers in their shortest form, dates as
/// YYYY-MM-DD, timestamps as YYYY-MM-DDTHH:MM:SS); false when it is null.
pub(super) fn write_value(a: &dyn Array, i: usize, out: &mut Vec<u8>) -> Result<bool, String> {
    if a.is_null(i) {
        return Ok(false);
    }
    macro_rules! num {
        ($t:ty) => {{
            let _ = write!(out, "{}", a.as_primitive::<$t>().value(i));
        }};
    }
    macro_rules! dec {
        ($t:ty) => {
            out.extend_from_slice(a.as_primitive::<$t>().value_as_string(i).as_bytes())
        };
    }
    match a.data_type() {
        DataType::Null => return Ok(false),
        DataType::Utf8 => out.extend_from_slice(a.as_string::<i32>().value(i).as_bytes()),
        DataType::LargeUtf8 => out.extend_from_slice(a.as_string::<i64>().value(i).as_bytes()),
        DataType::Utf8View => out.extend_from_slice(a.as_string_view().value(i).as_bytes()),
        DataType::Binary => out.extend_from_slice(a.as_binary::<i32>().value(i)),
        DataType::LargeBinary => out.extend_from_slice(a.as_binary::<i64>().value(i)),
        DataType::BinaryView => out.extend_from_slice(a.as_binary_view().value(i)),
        DataType::FixedSizeBinary(_) => out.extend_from_slice(a.as_fixed_size_binary().value(i)),
        DataType::Boolean => {
            let _ = write!(out, "{}", a.as_boolean().value(i));
        }
        DataType::Int8 => num!(Int8Type),
        DataType::Int16 => num!(Int16Type),
        DataType::Int32 => num!(Int32Type),
        DataType::Int64 => num!(Int64Type),
        DataType::UInt8 => num!(UInt8Type),
        DataType::UInt16 => num!(UInt16Type),
        DataType::UInt32 => num!(UInt32Type),
        DataType::UInt64 => num!(UInt64Type),
        DataType::Float16 => num!(Float16Type),
        DataType::Float32 => num!(Float32Type),
        DataType::Float64 => num!(Float64Type),
        DataType::Decimal32(_, _) => dec!(Decimal32Type),
        DataType::Decimal64(_, _) => dec!(Decimal64Type),
        DataType::Decimal128(_, _) => dec!(Decimal128Type),
        DataType::Decimal256(_, _) => dec!(Decimal256Type),
        DataType::Date32 => {
            out.extend_from_slice(&date_text(a.as_primitive::<Date32Type>().value(i)))
        }
        DataType::Date64 => {
            let ms = a.as_primitive::<Date64Type>().value(i);
            out.extend_from_slice(&date_text(ms.div_euclid(86_400_000) as i32))
        }
        DataType::Timestamp(unit, _) => {
            let dt = match unit {
                TimeUnit::Second => a.as_primitive::<TimestampSecondType>().value_as_datetime(i),
                TimeUnit::Millisecond => a
                    .as_primitive::<TimestampMillisecondType>()
                    .value_as_datetime(i),
                TimeUnit::Microsecond => a
                    .as_primitive::<TimestampMicrosecondType>()
                    .value_as_datetime(i),
                TimeUnit::Nanosecond => a
                    .as_primitive::<TimestampNanosecondType>()
                    .value_as_datetime(i),
            };
            if let Some(d) = dt {
                let _ = write!(out, "{}", d.format("%Y-%m-%dT%H:%M:%S"));
            }
        }
        DataType::Dictionary(_, _) => {
            let d = a.as_any_dictionary();
            let key = d.normalized_keys()[i];
            return write_value(d.values().as_ref(), key, out);
        }
        other => return Err(format!("unsupported Parquet column type {other}")),
    }
    Ok(true)
}
